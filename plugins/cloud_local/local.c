/* The local cloud: this machine as an object store under file:// URLs, and
 * nothing else (no build instances, images, clusters or registries), so the
 * tiers needing those decline and plans fall back to tiers that do not.
 *
 * Objects behave as S3's do: a put replaces the whole object atomically
 * (readers see the old bytes or the new, never a part, even after a crash),
 * a listing walks a prefix as a directory, in S3's byte order, and a delete
 * of a missing object succeeds.  Files named .petal-tmp-* and .petal-probe-* are petal's own
 * work in progress and are never listed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "local_path.h"

static int cloud_init(const struct petal_host *host, void **ctx)
{
	struct local_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void cloud_fini(void *ctx)
{
	struct local_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

/* ---- bucket ---------------------------------------------------------------- */

/* Write, read back and remove a probe file: the directory can hold objects. */
static int probe(const struct petal_host *h, const char *dir, const char *url,
                 struct petal_error *err)
{
	static const char text[] = "petal write probe\n";
	char *p = NULL;
	int rc = 0;
	int fd = local_tmp_open(h, dir, LOCAL_PROBE_PREFIX, &p);
	if (fd < 0)
		return h->fail(err, local_errno_code(errno) == PETAL_EAUTH ? PETAL_EAUTH : PETAL_EIO,
		               "cloud '" CLOUD "': %s: cannot write into %s: %s; choose a directory "
		               "you can write to, or fix its permissions", url, dir, strerror(errno));
	char back[sizeof(text)] = { 0 };
	if (write(fd, text, sizeof(text) - 1) != (ssize_t)(sizeof(text) - 1) || fsync(fd) != 0 ||
	    pread(fd, back, sizeof(back) - 1, 0) != (ssize_t)(sizeof(text) - 1) ||
	    memcmp(back, text, sizeof(text) - 1) != 0)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': %s: a probe file in %s did not read "
		             "back what was written (%s)", url, dir, errno ? strerror(errno) : "short");
	close(fd);
	if (unlink(p) != 0 && !rc)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': %s: cannot remove the probe file "
		             "%s: %s", url, p, strerror(errno));
	h->free(p);
	return rc;
}

/* Create the directory a mirror lives in, or prove that petal can list,
   write and read it.  The region means nothing here. */
static int bucket_ensure(void *ctx, const char *url, const char *region,
                         struct petal_error *err)
{
	(void)region;
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	char *dir;
	int rc = local_url_path(h, url, LOCAL_URL_PREFIX, &dir, err);
	if (rc)
		return rc;
	rc = local_mkdirs(h, dir, err);
	if (rc)
		goto out_dir;
	DIR *d = opendir(dir);
	if (!d) {
		rc = h->fail(err, local_errno_code(errno), "cloud '" CLOUD "': %s: cannot list %s: %s",
		             url, dir, strerror(errno));
		goto out_dir;
	}
	errno = 0;
	while (readdir(d) != NULL)
		;
	if (errno)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': %s: cannot list %s: %s", url, dir,
		             strerror(errno));
	closedir(d);
	if (!rc)
		rc = probe(h, dir, url, err);
out_dir:
	h->free(dir);
	return rc;
}

/* ---- objects ----------------------------------------------------------------- */

static int object_put(void *ctx, const char *url, const char *local_path,
                      struct petal_error *err)
{
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	char *dst, *dir = NULL;
	int rc = local_url_path(h, url, LOCAL_URL_OBJECT, &dst, err);
	if (rc)
		return rc;
	int in = open(local_path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	/* any readable stream will do (a pipe too); a directory will not */
	if (in < 0 || fstat(in, &st) != 0 || S_ISDIR(st.st_mode)) {
		rc = h->fail(err, in < 0 ? local_errno_code(errno) : PETAL_EINVAL,
		             "cloud '" CLOUD "': put %s: cannot read %s: %s", url, local_path,
		             in < 0 ? strerror(errno) : "a directory, not a file");
		goto out_in;
	}
	dir = local_dirname(h, dst);
	rc = local_mkdirs(h, dir, err);
	if (!rc)
		rc = local_copy_atomic(h, in, local_path, dir, dst, 1, err);
out_in:
	if (in >= 0)
		close(in);
	h->free(dir);
	h->free(dst);
	return rc;
}

static int object_get(void *ctx, const char *url, const char *local_path,
                      struct petal_error *err)
{
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	char *src;
	int rc = local_url_path(h, url, LOCAL_URL_OBJECT, &src, err);
	if (rc)
		return rc;
	char *dir = NULL;
	int in = open(src, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (in < 0) {
		rc = h->fail(err, local_errno_code(errno), "cloud '" CLOUD "': get %s: %s", url,
		             errno == ENOENT || errno == ENOTDIR ? "no such object" : strerror(errno));
		goto out_src;
	}
	if (fstat(in, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = h->fail(err, PETAL_ENOENT, "cloud '" CLOUD "': get %s: no such object (%s is "
		             "not a regular file)", url, src);
		goto out_in;
	}
	dir = local_dirname(h, local_path);
	rc = local_copy_atomic(h, in, src, dir, local_path, 0, err);
out_in:
	close(in);
out_src:
	h->free(dir);
	h->free(src);
	return rc;
}

static int object_head(void *ctx, const char *url, struct petal_object_info *info,
                       struct petal_error *err)
{
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	char *p;
	int rc = local_url_path(h, url, LOCAL_URL_OBJECT, &p, err);
	if (rc)
		return rc;
	struct stat st;
	if (stat(p, &st) != 0)
		rc = h->fail(err, local_errno_code(errno), "cloud '" CLOUD "': head %s: %s", url,
		             errno == ENOENT || errno == ENOTDIR ? "no such object" : strerror(errno));
	else if (!S_ISREG(st.st_mode))
		rc = h->fail(err, PETAL_ENOENT, "cloud '" CLOUD "': head %s: no such object (a "
		             "directory)", url);
	h->free(p);
	if (rc)
		return rc;
	/* fill only what the caller's struct has room for */
	if (PETAL_HAS(info, key))
		info->key = NULL;
	if (PETAL_HAS(info, bytes))
		info->bytes = (uint64_t)st.st_size;
	if (PETAL_HAS(info, mtime))
		info->mtime = (int64_t)st.st_mtim.tv_sec;
	if (PETAL_HAS(info, etag))
		info->etag = NULL;
	return 0;
}

/* ---- listing ------------------------------------------------------------------ */

struct dent {
	char *name;
	int is_dir;
	uint64_t bytes;
	int64_t mtime;
};

/* Byte order of the keys: a directory sorts as its name followed by '/', so
   walking directories in this order lists every key in S3's order. */
static int dent_cmp(const void *a, const void *b)
{
	const struct dent *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name;
	const unsigned char *q = (const unsigned char *)y->name;
	for (;; p++, q++) {
		unsigned cp = *p ? *p : x->is_dir ? '/' : 0;
		unsigned cq = *q ? *q : y->is_dir ? '/' : 0;
		if (cp != cq || !*p || !*q)
			return (cp > cq) - (cp < cq);
	}
}

struct walk {
	const struct petal_host *h;
	const char *url;
	petal_object_cb cb;
	void *arg;
	char *key;           /* the key being built, relative to the prefix */
	size_t key_len, key_cap;
	struct petal_error *err;
};

static void key_set(struct walk *w, size_t at, const char *name, int slash)
{
	size_t n = strlen(name);
	size_t need = at + n + 2;
	if (need > w->key_cap) {
		size_t cap = w->key_cap ? w->key_cap : 256;
		while (cap < need)
			cap *= 2;
		char *k = w->h->alloc(cap);
		if (at)
			memcpy(k, w->key, at);
		w->h->free(w->key);
		w->key = k;
		w->key_cap = cap;
	}
	memcpy(w->key + at, name, n);
	w->key_len = at + n;
	if (slash)
		w->key[w->key_len++] = '/';
	w->key[w->key_len] = '\0';
}

static void free_dents(const struct petal_host *h, struct dent *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h->free(v[i].name);
	h->free(v);
}

/* Read a directory's entries, sorted. */
static int read_dir(struct walk *w, const char *dir, struct dent **out, size_t *n_out)
{
	const struct petal_host *h = w->h;
	*out = NULL;
	*n_out = 0;
	DIR *d = opendir(dir);
	if (!d) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0; /* an absent prefix lists nothing, as in S3 */
		return h->fail(w->err, local_errno_code(errno), "cloud '" CLOUD "': list %s: cannot "
		               "read %s: %s", w->url, dir, strerror(errno));
	}
	struct dent *v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		const char *name = de->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || local_is_tmp_name(name))
			continue;
		struct stat st;
		/* a symlink counts as the file it names; directories are walked only
		   when they are real ones, so a link cannot make a loop */
		if (fstatat(dirfd(d), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* vanished while listing */
		int is_dir = S_ISDIR(st.st_mode);
		if (S_ISLNK(st.st_mode) && (fstatat(dirfd(d), name, &st, 0) != 0 ||
		                            !S_ISREG(st.st_mode)))
			continue;
		if (!is_dir && !S_ISREG(st.st_mode))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			struct dent *nv = h->alloc(cap * sizeof(*nv));
			if (n)
				memcpy(nv, v, n * sizeof(*nv));
			h->free(v);
			v = nv;
		}
		v[n++] = (struct dent){
			.name = local_strdup(h, name), .is_dir = is_dir,
			.bytes = (uint64_t)st.st_size, .mtime = (int64_t)st.st_mtim.tv_sec,
		};
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), dent_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/* Walk `dir`, whose entries' keys start at key offset `at`. */
static int walk_dir(struct walk *w, const char *dir, size_t at)
{
	struct dent *v;
	size_t n;
	int rc = read_dir(w, dir, &v, &n);
	if (rc)
		return rc;
	for (size_t i = 0; i < n && !rc; i++) {
		size_t plen = strlen(dir) + strlen(v[i].name) + 2;
		char *path = w->h->alloc(plen);
		snprintf(path, plen, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
		         v[i].name);
		key_set(w, at, v[i].name, v[i].is_dir);
		if (v[i].is_dir) {
			rc = walk_dir(w, path, w->key_len);
		} else {
			struct petal_object_info info = {
				.size = sizeof(info), .key = w->key, .bytes = v[i].bytes,
				.mtime = v[i].mtime, .etag = NULL,
			};
			rc = w->cb(w->arg, &info);
		}
		w->h->free(path);
	}
	free_dents(w->h, v, n);
	return rc;
}

/* Every object under the directory url_prefix names, with or without a
   trailing '/' (as the aws cloud lists "s3://b/dir"), keys relative to it,
   in byte order.  A prefix that is missing or names a file lists nothing. */
static int object_list(void *ctx, const char *url_prefix, petal_object_cb cb, void *arg,
                       struct petal_error *err)
{
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	char *p;
	int rc = local_url_path(h, url_prefix, LOCAL_URL_PREFIX, &p, err);
	if (rc)
		return rc;
	if (!cb) {
		h->free(p);
		return h->fail(err, PETAL_EINVAL, "cloud '" CLOUD "': list %s: no callback",
		               url_prefix);
	}
	struct walk w = { .h = h, .url = url_prefix, .cb = cb, .arg = arg, .err = err };
	rc = walk_dir(&w, p, 0);
	h->free(w.key);
	h->free(p);
	return rc;
}

/* ---- deletion ------------------------------------------------------------------ */

/* Length of the directory all paths share ("/a/b" of /a/b/c and /a/b/d/e). */
static size_t common_dir(char *const *paths, size_t n)
{
	size_t len = (size_t)(strrchr(paths[0], '/') - paths[0]);
	for (size_t i = 1; i < n; i++)
		while (len > 0 && (strncmp(paths[i], paths[0], len) != 0 || paths[i][len] != '/'))
			do
				len--;
			while (len > 0 && paths[0][len] != '/');
	return len;
}

/* Delete objects; one already gone is fine.  Every URL is checked before
   anything is deleted.  Directories the batch emptied are removed, up to
   but not including the directory the batch's objects share: files are
   objects here, directories only a way to store their names, and petal
   never removes a directory that it was not asked to empty. */
static int object_delete(void *ctx, const char *const *urls, size_t n,
                         struct petal_error *err)
{
	const struct petal_host *h = ((struct local_ctx *)ctx)->host;
	if (n == 0)
		return 0;
	char **paths = h->alloc(n * sizeof(*paths));
	size_t got = 0;
	int rc = 0;
	for (; got < n; got++) {
		rc = local_url_path(h, urls[got], LOCAL_URL_OBJECT, &paths[got], err);
		if (rc)
			goto out_paths;
	}
	for (size_t i = 0; i < n; i++) {
		if (unlink(paths[i]) == 0 || errno == ENOENT || errno == ENOTDIR)
			continue;
		int e = errno;
		struct stat st;
		rc = h->fail(err, e == EISDIR || (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode))
		                  ? PETAL_EINVAL : local_errno_code(e),
		             "cloud '" CLOUD "': delete %s: %s%s", urls[i], strerror(e),
		             i ? " (the objects before it in the batch are deleted)" : "");
		goto out_paths;
	}
	size_t keep = common_dir(paths, n);
	for (size_t i = 0; i < n; i++) {
		char *slash;
		while ((slash = strrchr(paths[i], '/')) != NULL && (size_t)(slash - paths[i]) > keep) {
			*slash = '\0';
			if (rmdir(paths[i]) != 0)
				break;
		}
	}
out_paths:
	for (size_t i = 0; i < got; i++)
		h->free(paths[i]);
	h->free(paths);
	return rc;
}

static const struct petal_cloud_ops cloud_ops = {
	.size = sizeof(struct petal_cloud_ops),
	/* objects only: compute, images, cluster and registry ops stay NULL */
	.caps = PETAL_CAP_OBJECTS,
	.bucket_ensure = bucket_ensure,
	.object_put = object_put,
	.object_get = object_get,
	.object_head = object_head,
	.object_list = object_list,
	.object_delete = object_delete,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_CLOUD,
	.name = CLOUD,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "this machine: objects as files under file:// URLs; no instances, images "
	           "or clusters",
	.init = cloud_init,
	.fini = cloud_fini,
	.ops.cloud = &cloud_ops,
};
