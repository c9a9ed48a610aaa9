/* struct petal_mirror_io over a local directory (file:// mirrors), for the
   tests, the benchmark and local use.  Nothing else in core/cache knows that
   objects are files. */
#include "config.h"

#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util/util.h"

#define TMP_PREFIX ".petal-put-"

struct file_mirror {
	char *root;
	char *url;
};

static char *full_path(const struct file_mirror *fm, const char *rel)
{
	return *rel ? petal_xasprintf("%s/%s", fm->root, rel) : petal_xstrdup(fm->root);
}

static int bad_rel(struct petal_error *err, const char *rel)
{
	return petal_fail(err, PETAL_EINVAL, "object path '%s' is not a relative path inside the mirror",
	                  rel ? rel : "(null)");
}

/* Copy the bytes of open file `in` to `out`. */
static int copy_fd(int in, int out, const char *what, struct petal_error *err)
{
	char *buf = petal_xmalloc(1 << 17);
	int rc = 0;
	for (;;) {
		ssize_t r = read(in, buf, 1 << 17);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = petal_fail(err, PETAL_EIO, "%s: read failed: %s", what, strerror(errno));
			break;
		}
		if (r == 0)
			break;
		for (ssize_t done = 0; done < r;) {
			ssize_t w = write(out, buf + done, (size_t)(r - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = petal_fail(err, PETAL_EIO, "%s: write failed: %s", what, strerror(errno));
				goto out_free;
			}
			done += w;
		}
	}
out_free:
	free(buf);
	return rc;
}

static int file_get(void *arg, const char *rel, const char *local_path, struct petal_error *err)
{
	struct file_mirror *fm = arg;
	if (!petal_cache_rel_ok(rel))
		return bad_rel(err, rel);
	char *src = full_path(fm, rel);
	int rc = 0;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = petal_fail(err, errno == ENOENT || errno == ENOTDIR ? PETAL_ENOENT : PETAL_EIO,
		                "file://%s: %s", src, strerror(errno));
		goto out_src;
	}
	struct stat st;
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = petal_fail(err, PETAL_ENOENT, "file://%s: not a regular file", src);
		goto out_in;
	}
	int out = open(local_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot create: %s", local_path, strerror(errno));
		goto out_in;
	}
	rc = copy_fd(in, out, src, err);
	if (close(out) != 0 && !rc)
		rc = petal_fail(err, PETAL_EIO, "%s: close failed: %s", local_path, strerror(errno));
out_in:
	close(in);
out_src:
	free(src);
	return rc;
}

static int file_local_path(void *arg, const char *rel, char **path, struct petal_error *err)
{
	struct file_mirror *fm = arg;
	if (!petal_cache_rel_ok(rel))
		return bad_rel(err, rel);
	char *p = full_path(fm, rel);
	struct stat st;
	int rc = 0;
	if (stat(p, &st) != 0)
		rc = petal_fail(err, errno == ENOENT || errno == ENOTDIR ? PETAL_ENOENT : PETAL_EIO,
		                "file://%s: %s", p, strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = petal_fail(err, PETAL_ENOENT, "file://%s: not a regular file", p);
	if (rc) {
		free(p);
		return rc;
	}
	*path = p;
	return 0;
}

/* Walk dir (path `abs`, key prefix `key`) calling cb for regular files. */
static int walk(const char *abs, struct petal_strbuf *key, petal_object_cb cb, void *cb_arg,
                struct petal_error *err)
{
	DIR *d = opendir(abs);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		return petal_fail(err, PETAL_EIO, "file://%s: cannot list: %s", abs, strerror(errno));
	}
	int rc = 0;
	struct dirent *de;
	size_t keylen = key->len;
	while ((de = readdir(d)) != NULL) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, "..") || !strncmp(n, TMP_PREFIX, strlen(TMP_PREFIX)))
			continue;
		struct stat st;
		if (fstatat(dirfd(d), n, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* vanished while listing */
		key->len = keylen;
		if (keylen)
			petal_strbuf_putc(key, '/');
		petal_strbuf_puts(key, n);
		if (S_ISDIR(st.st_mode)) {
			char *sub = petal_xasprintf("%s/%s", abs, n);
			rc = walk(sub, key, cb, cb_arg, err);
			free(sub);
		} else if (S_ISREG(st.st_mode)) {
			struct petal_object_info info = {
				.size = sizeof(info), .key = key->buf,
				.bytes = (uint64_t)st.st_size, .mtime = (int64_t)st.st_mtim.tv_sec,
				.etag = NULL,
			};
			rc = cb(cb_arg, &info);
		}
		if (rc)
			break;
	}
	key->len = keylen;
	if (key->buf)
		key->buf[keylen] = '\0';
	closedir(d);
	return rc;
}

static int file_list(void *arg, const char *rel_dir, petal_object_cb cb, void *cb_arg,
                     struct petal_error *err)
{
	struct file_mirror *fm = arg;
	if (*rel_dir && !petal_cache_rel_ok(rel_dir))
		return bad_rel(err, rel_dir);
	char *dir = full_path(fm, rel_dir);
	struct petal_strbuf key = PETAL_STRBUF_INIT;
	int rc = walk(dir, &key, cb, cb_arg, err);
	petal_strbuf_release(&key);
	free(dir);
	return rc;
}

static int file_put(void *arg, const char *rel, const char *local_path, struct petal_error *err)
{
	struct file_mirror *fm = arg;
	if (!petal_cache_rel_ok(rel))
		return bad_rel(err, rel);
	char *dst = full_path(fm, rel);
	char *dir = petal_xstrdup(dst);
	*strrchr(dir, '/') = '\0';
	struct petal_tmpfile t;
	int rc = petal_mkdirs(dir, 0755, err);
	if (rc)
		goto out_free;
	int in = open(local_path, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot open: %s", local_path, strerror(errno));
		goto out_free;
	}
	rc = petal_tmpfile_open(&t, dst, TMP_PREFIX, 0644, err);
	if (rc)
		goto out_in;
	rc = copy_fd(in, t.fd, local_path, err);
	/* objects are for reading by others (Spack on the nodes), whatever the umask */
	if (!rc && fchmod(t.fd, 0644) != 0)
		rc = petal_fail(err, PETAL_EIO, "file://%s: chmod: %s", t.path, strerror(errno));
	if (rc)
		petal_tmpfile_discard(&t);
	else
		rc = petal_tmpfile_commit(&t, err);
out_in:
	close(in);
out_free:
	free(dir);
	free(dst);
	return rc;
}

static int file_del(void *arg, const char *const *rels, size_t n, struct petal_error *err)
{
	struct file_mirror *fm = arg;
	for (size_t i = 0; i < n; i++)
		if (!petal_cache_rel_ok(rels[i]))
			return bad_rel(err, rels[i]);
	for (size_t i = 0; i < n; i++) {
		char *p = full_path(fm, rels[i]);
		if (unlink(p) != 0 && errno != ENOENT) {
			int e = errno;
			free(p);
			return petal_fail(err, PETAL_EIO, "file://%s/%s: cannot delete: %s", fm->root,
			                  rels[i], strerror(e));
		}
		/* directories mean nothing to an object store: drop the ones emptied */
		char *slash;
		while ((slash = strrchr(p, '/')) != NULL && (size_t)(slash - p) > strlen(fm->root)) {
			*slash = '\0';
			if (rmdir(p) != 0)
				break;
		}
		free(p);
	}
	return 0;
}

int petal_mirror_file_open(const char *url, struct petal_mirror_io *io, struct petal_error *err)
{
	const char *path = url;
	if (!strncmp(url, "file://", 7)) {
		path = url + 7;
		if (!strncmp(path, "localhost/", 10))
			path += 9;
	}
	if (path[0] != '/')
		return petal_fail(err, PETAL_EINVAL,
		                  "%s: a file:// mirror needs an absolute path (file:///dir)", url);
	struct stat st;
	if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
		return petal_fail(err, PETAL_ENOENT, "%s: no such directory", url);
	struct file_mirror *fm = petal_xcalloc(1, sizeof(*fm));
	fm->root = petal_xstrdup(path);
	size_t l = strlen(fm->root);
	while (l > 1 && fm->root[l - 1] == '/')
		fm->root[--l] = '\0';
	fm->url = petal_xasprintf("file://%s", fm->root);
	*io = (struct petal_mirror_io){
		.arg = fm,
		.url = fm->url,
		.get = file_get,
		.list = file_list,
		.put = file_put,
		.del = file_del,
		.local_path = file_local_path,
	};
	return 0;
}

void petal_mirror_file_close(struct petal_mirror_io *io)
{
	if (!io || !io->arg)
		return;
	struct file_mirror *fm = io->arg;
	free(fm->root);
	free(fm->url);
	free(fm);
	io->arg = NULL;
	io->url = NULL;
}
