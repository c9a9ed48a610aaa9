#include "config.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void oom(size_t n)
{
	fprintf(stderr, "petal: out of memory (wanted %zu bytes)\n", n);
	abort();
}

void *petal_xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *petal_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom(n * size);
	return p;
}

void *petal_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *petal_xstrdup(const char *s)
{
	return s ? petal_xstrndup(s, strlen(s)) : NULL;
}

char *petal_xstrndup(const char *s, size_t n)
{
	char *p = petal_xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *petal_xasprintf(const char *fmt, ...)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	return petal_strbuf_detach(&sb);
}

void petal_grow(void **items, size_t *cap, size_t need, size_t size)
{
	if (need <= *cap)
		return;
	size_t ncap = *cap ? *cap * 2 : 8;
	while (ncap < need)
		ncap *= 2;
	*items = petal_xrealloc(*items, ncap * size);
	*cap = ncap;
}

int petal_vfail(struct petal_error *err, int code, const char *fmt, va_list ap)
{
	return petal_error_vset(err, code, fmt, ap);
}

int petal_fail(struct petal_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	petal_vfail(err, code, fmt, ap);
	va_end(ap);
	return code;
}

const char *petal_strerror(int code)
{
	switch (code) {
	case PETAL_OK: return "success";
	case PETAL_EINVAL: return "invalid input";
	case PETAL_ENOMEM: return "out of memory";
	case PETAL_EIO: return "input/output error";
	case PETAL_ENOENT: return "not found";
	case PETAL_ENOTSUP: return "not supported";
	case PETAL_ENET: return "network error";
	case PETAL_EAUTH: return "authentication failed";
	case PETAL_ECLOUD: return "cloud error";
	case PETAL_EPLUGIN: return "plugin error";
	case PETAL_ETIMEOUT: return "timed out";
	default: return "unknown error";
	}
}

void petal_strbuf_add(struct petal_strbuf *sb, const char *s, size_t n)
{
	petal_grow((void **)&sb->buf, &sb->cap, sb->len + n + 1, 1);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void petal_strbuf_puts(struct petal_strbuf *sb, const char *s)
{
	petal_strbuf_add(sb, s, strlen(s));
}

void petal_strbuf_putc(struct petal_strbuf *sb, char c)
{
	petal_strbuf_add(sb, &c, 1);
}

void petal_strbuf_vprintf(struct petal_strbuf *sb, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return;
	petal_grow((void **)&sb->buf, &sb->cap, sb->len + (size_t)n + 1, 1);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void petal_strbuf_printf(struct petal_strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	petal_strbuf_vprintf(sb, fmt, ap);
	va_end(ap);
}

const char *petal_strbuf_str(const struct petal_strbuf *sb)
{
	return sb->buf ? sb->buf : "";
}

char *petal_strbuf_detach(struct petal_strbuf *sb)
{
	char *s = sb->buf ? sb->buf : petal_xstrdup("");
	sb->buf = NULL;
	sb->len = sb->cap = 0;
	return s;
}

void petal_strbuf_release(struct petal_strbuf *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

/* Optimal string alignment distance: Levenshtein plus adjacent
   transpositions, the commonest typo ("paln" for "plan"). */
size_t petal_edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1;
	size_t *d = petal_xmalloc((la + 1) * w * sizeof(*d));
	for (size_t i = 0; i <= la; i++)
		d[i * w] = i;
	for (size_t j = 0; j <= lb; j++)
		d[j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = d[(i - 1) * w + j - 1] + cost;
			if (d[(i - 1) * w + j] + 1 < best)
				best = d[(i - 1) * w + j] + 1;
			if (d[i * w + j - 1] + 1 < best)
				best = d[i * w + j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[(i - 2) * w + j - 2] + 1 < best)
				best = d[(i - 2) * w + j - 2] + 1;
			d[i * w + j] = best;
		}
	}
	size_t dist = d[la * w + lb];
	free(d);
	return dist;
}

const char *petal_did_you_mean(const char *word, const char *const *candidates)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(word) / 3 + 1;
	for (size_t i = 0; candidates[i]; i++) {
		size_t d = petal_edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best_d <= limit ? best : NULL;
}

int petal_read_file(const char *path, size_t max_bytes, char **data, size_t *len,
                    struct petal_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return petal_fail(err, errno == ENOENT ? PETAL_ENOENT : PETAL_EIO,
		                  "%s: cannot open: %s", path, strerror(errno));
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return petal_fail(err, PETAL_EINVAL, "%s: not a regular file", path);
	}
	if ((size_t)st.st_size > max_bytes) {
		close(fd);
		return petal_fail(err, PETAL_EINVAL,
		                  "%s: file is %lld bytes, larger than the %zu allowed",
		                  path, (long long)st.st_size, max_bytes);
	}
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	char chunk[65536];
	for (;;) {
		ssize_t r = read(fd, chunk, sizeof(chunk));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			close(fd);
			petal_strbuf_release(&sb);
			return petal_fail(err, PETAL_EIO, "%s: read failed: %s", path, strerror(e));
		}
		if (r == 0)
			break;
		petal_strbuf_add(&sb, chunk, (size_t)r);
		if (sb.len > max_bytes) {
			close(fd);
			petal_strbuf_release(&sb);
			return petal_fail(err, PETAL_EINVAL,
			                  "%s: file is larger than the %zu bytes allowed",
			                  path, max_bytes);
		}
	}
	close(fd);
	*len = sb.len;
	*data = petal_strbuf_detach(&sb);
	return 0;
}

int petal_mkdirs(const char *path, int mode, struct petal_error *err)
{
	char *p = petal_xstrdup(path);
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			int e = errno;
			petal_fail(err, PETAL_EIO, "%s: cannot create directory: %s", p, strerror(e));
			free(p);
			return PETAL_EIO;
		}
		*s = '/';
	}
	int rc = 0;
	if (mkdir(p, mode) != 0 && errno != EEXIST)
		rc = petal_fail(err, PETAL_EIO, "%s: cannot create directory: %s", p,
		                strerror(errno));
	free(p);
	return rc;
}

const char *petal_key_prefix_normalize(const char *in, char **out)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	const char *why = NULL;

	*out = NULL;
	for (const unsigned char *p = (const unsigned char *)in; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return "it holds a control character";
	for (const char *c = in; *c;) {
		size_t n = strcspn(c, "/");
		if ((n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.')) {
			why = "a '.' or '..' component names no directory in a bucket";
			goto out_with_buffer;
		}
		if (n > 0) {
			if (sb.len > 0)
				petal_strbuf_putc(&sb, '/');
			petal_strbuf_add(&sb, c, n);
		}
		c += n;
		c += strspn(c, "/");
	}
	if (sb.len > 512) {
		why = "it is longer than 512 bytes";
		goto out_with_buffer;
	}
	*out = petal_strbuf_detach(&sb);
	return NULL;

out_with_buffer:
	petal_strbuf_release(&sb);
	return why;
}
