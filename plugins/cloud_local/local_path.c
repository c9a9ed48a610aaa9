/* file:// URLs to paths, and the file operations the local cloud's objects
 * are made of (directories, atomic replacement). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "local_path.h"

char *local_strdup(const struct petal_host *h, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = h->alloc(n);
	memcpy(d, s, n);
	return d;
}

char *local_dirname(const struct petal_host *h, const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return local_strdup(h, ".");
	if (slash == path)
		return local_strdup(h, "/");
	size_t n = (size_t)(slash - path);
	char *d = h->alloc(n + 1);
	memcpy(d, path, n);
	d[n] = '\0';
	return d;
}

int local_errno_code(int e)
{
	switch (e) {
	case ENOENT:
	case ENOTDIR:
		return PETAL_ENOENT;
	case EACCES:
	case EPERM:
	case EROFS:
		return PETAL_EAUTH;
	default:
		return PETAL_EIO;
	}
}

int local_is_tmp_name(const char *name)
{
	return !strncmp(name, LOCAL_TMP_PREFIX, strlen(LOCAL_TMP_PREFIX)) ||
	       !strncmp(name, LOCAL_PROBE_PREFIX, strlen(LOCAL_PROBE_PREFIX)) ||
	       /* core/cache's own file:// writer */
	       !strncmp(name, ".petal-put-", strlen(".petal-put-"));
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int bad_url(const struct petal_host *h, struct petal_error *err, const char *url,
                   const char *why)
{
	return h->fail(err, PETAL_EINVAL, "cloud '" CLOUD "': '%s': %s", url, why);
}

int local_url_path(const struct petal_host *h, const char *url, enum local_url_kind kind,
                   char **path, struct petal_error *err)
{
	*path = NULL;
	if (!url || !*url)
		return h->fail(err, PETAL_EINVAL, "cloud '" CLOUD "': no URL given; write file:///abs/path");
	if (strncmp(url, "file://", 7) != 0) {
		const char *colon = strstr(url, "://");
		if (colon)
			return bad_url(h, err, url, "cloud 'local' serves file:// URLs only "
			               "(s3:// URLs belong to the cloud 'aws')");
		return bad_url(h, err, url, "not a URL with an absolute path: write a local path as file:///abs/path");
	}
	const char *p = url + 7;
	if (!strncmp(p, "localhost/", 10))
		p += 9;
	if (*p != '/')
		return bad_url(h, err, url, "a file URL needs an absolute path after file:// "
		               "(three slashes: file:///abs/path); relative paths and other hosts "
		               "are not served");
	if (strpbrk(p, "?#"))
		return bad_url(h, err, url, "'?' and '#' start a query or fragment in a URL; "
		               "percent-encode them (%3F, %23) when they are part of the path");
	size_t len = strlen(p);
	if (len >= PATH_MAX)
		return bad_url(h, err, url, "path too long");
	char *out = h->alloc(len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len; i++) {
		if (p[i] != '%') {
			out[o++] = p[i];
			continue;
		}
		/* p is NUL-terminated: hexval('\0') stops at a short escape */
		int hi = hexval(p[i + 1]);
		int lo = hi < 0 ? -1 : hexval(p[i + 2]);
		int byte = lo < 0 ? -1 : hi * 16 + lo;
		if (byte <= 0) {
			h->free(out);
			return bad_url(h, err, url, byte == 0 ? "'%00' (a NUL byte) cannot be in a path"
			               : "a '%' must start an escape of two hex digits (%20 for a space)");
		}
		out[o++] = (char)byte;
		i += 2;
	}
	out[o] = '\0';

	/* components: no "", ".", ".." (an object store has no aliases) */
	int trailing = o > 1 && out[o - 1] == '/';
	if (trailing && kind == LOCAL_URL_OBJECT) {
		h->free(out);
		return bad_url(h, err, url, "names a directory (ends with '/'), not an object");
	}
	if (o == 1 && kind == LOCAL_URL_OBJECT) {
		h->free(out);
		return bad_url(h, err, url, "names the root directory, not an object");
	}
	for (const char *c = out + 1; *c;) {
		size_t n = strcspn(c, "/");
		int last = c[n] == '\0';
		if ((n == 0 && !(last && trailing)) || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.')) {
			h->free(out);
			return bad_url(h, err, url, "empty, '.' or '..' path components are not "
			               "allowed: write the path in its plain form");
		}
		c += n;
		if (*c == '/')
			c++;
	}
	*path = out;
	return 0;
}

int local_mkdirs(const struct petal_host *h, const char *path, struct petal_error *err)
{
	char *p = local_strdup(h, path);
	int rc = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST) {
			rc = h->fail(err, local_errno_code(errno), "cloud '" CLOUD "': cannot create "
			             "directory %s: %s", p, strerror(errno));
			break;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	if (!rc) {
		struct stat st;
		if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
			rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': %s exists and is not a "
			             "directory", path);
	}
	h->free(p);
	return rc;
}

static int copy_fd(const struct petal_host *h, int in, const char *in_name, int out,
                   const char *out_name, struct petal_error *err)
{
	enum { BUF = 1 << 17 };
	char *buf = h->alloc(BUF);
	int rc = 0;
	for (;;) {
		ssize_t r = read(in, buf, BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': reading %s: %s", in_name,
			             strerror(errno));
			break;
		}
		if (r == 0)
			break;
		for (ssize_t done = 0; done < r;) {
			ssize_t w = write(out, buf + done, (size_t)(r - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': writing %s: %s",
				             out_name, strerror(errno));
				goto out_buf;
			}
			done += w;
		}
	}
out_buf:
	h->free(buf);
	return rc;
}

int local_tmp_open(const struct petal_host *h, const char *dir, const char *prefix,
                   char **path)
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	enum { RANDOM_CHARS = 12, ATTEMPTS = 100 };
	size_t n = strlen(dir) + 1 + strlen(prefix) + RANDOM_CHARS + 1;
	char *p = h->alloc(n);
	int e = EEXIST;
	for (int i = 0; i < ATTEMPTS && e == EEXIST; i++) {
		unsigned char bytes[RANDOM_CHARS];
		if (getrandom(bytes, sizeof(bytes), GRND_NONBLOCK) != (ssize_t)sizeof(bytes)) {
			/* no entropy yet: the clock; O_EXCL still refuses a planted name */
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			unsigned long long x = (unsigned long long)ts.tv_nsec ^
			                       ((unsigned long long)getpid() << 32) ^ (unsigned)i;
			for (size_t k = 0; k < sizeof(bytes); k++) {
				x = x * 6364136223846793005ULL + 1442695040888963407ULL;
				bytes[k] = (unsigned char)(x >> 56);
			}
		}
		char rnd[RANDOM_CHARS + 1];
		for (size_t k = 0; k < RANDOM_CHARS; k++)
			rnd[k] = alphabet[bytes[k] % (sizeof(alphabet) - 1)];
		rnd[RANDOM_CHARS] = '\0';
		snprintf(p, n, "%s/%s%s", dir, prefix, rnd);
		int fd = open(p, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*path = p;
			return fd;
		}
		e = errno;
	}
	h->free(p);
	errno = e;
	return -1;
}

int local_copy_atomic(const struct petal_host *h, int src, const char *src_name,
                      const char *dir, const char *dst, int fsync_dir, struct petal_error *err)
{
	char *tmp = NULL;
	int rc = 0;
	int out = local_tmp_open(h, dir, LOCAL_TMP_PREFIX, &tmp);
	if (out < 0)
		return h->fail(err, local_errno_code(errno) == PETAL_EAUTH ? PETAL_EAUTH : PETAL_EIO,
		               "cloud '" CLOUD "': cannot create a temporary file in %s: %s", dir,
		               strerror(errno));
	rc = copy_fd(h, src, src_name, out, dst, err);
	/* objects are for reading by others (Spack on the nodes): not the temporary 0600 */
	if (!rc && fchmod(out, 0644) != 0)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': chmod %s: %s", tmp, strerror(errno));
	if (!rc && fsync(out) != 0)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': fsync %s: %s", tmp, strerror(errno));
	if (close(out) != 0 && !rc)
		rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': close %s: %s", tmp, strerror(errno));
	if (!rc && rename(tmp, dst) != 0)
		rc = h->fail(err, errno == EISDIR ? PETAL_EINVAL : PETAL_EIO,
		             "cloud '" CLOUD "': cannot move the new object into place at %s: %s",
		             dst, strerror(errno));
	if (rc) {
		unlink(tmp);
		goto out_tmp;
	}
	if (fsync_dir) {
		int d = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (d < 0 || fsync(d) != 0)
			rc = h->fail(err, PETAL_EIO, "cloud '" CLOUD "': fsync directory %s: %s", dir,
			             strerror(errno));
		if (d >= 0)
			close(d);
	}
out_tmp:
	h->free(tmp);
	return rc;
}
