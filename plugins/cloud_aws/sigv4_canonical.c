/* SigV4's canonical forms: the URI (normalised or S3's), the query, the
 * header block, and a loggable copy of what was signed.  sigv4.c signs them. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigv4.h"

#define TOKEN_HEADER "x-amz-security-token"

/* ---- a growing string; a failed allocation sticks so callers check once -- */

struct buf {
	char *p;
	size_t len, cap;
	int oom;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 128;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *p = realloc(b->p, cap);
		if (!p) {
			b->oom = 1;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void buf_puts(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_putc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* The finished string (never NULL unless out of memory); the buf is reset. */
static char *buf_take(struct buf *b)
{
	if (!b->oom && !b->p)
		buf_add(b, "", 0);
	char *p = b->oom ? NULL : b->p;
	if (b->oom)
		free(b->p);
	*b = (struct buf){ 0 };
	return p;
}

/* ---- encoding ------------------------------------------------------------ */

static int unreserved(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' || c == '~';
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

static void encode_byte(struct buf *b, unsigned char c)
{
	static const char hex[] = "0123456789ABCDEF";
	char e[3] = { '%', hex[c >> 4], hex[c & 15] };
	buf_add(b, e, 3);
}

static void encode_into(struct buf *b, const char *s, size_t n, int keep_slash)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (unreserved(c) || (keep_slash && c == '/'))
			buf_putc(b, (char)c);
		else
			encode_byte(b, c);
	}
}

char *sigv4_uri_encode(const char *s, size_t n, int keep_slash)
{
	struct buf b = { 0 };
	encode_into(&b, s, n, keep_slash);
	return buf_take(&b);
}

/* Decode the %XX escapes of s[0..n) and encode the bytes again with the
   unreserved set; a '%' that starts no valid escape is a literal '%', and
   '+' is a plus sign, not a space, in SigV4. */
static void decode_encode(struct buf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			c = (unsigned char)(hexval(s[i + 1]) << 4 | hexval(s[i + 2]));
			i += 2;
		}
		if (unreserved(c))
			buf_putc(b, (char)c);
		else
			encode_byte(b, c);
	}
}

/* ---- canonical URI ----------------------------------------------------- */

/* '.' and '..' segments and empty segments removed (RFC 3986 5.2.4 plus
   AWS's rule on duplicate slashes); a trailing slash is kept. */
static char *normalize_path(const char *path)
{
	size_t n = strlen(path);
	const char **seg = malloc((n + 1) * sizeof(*seg));
	size_t *seglen = malloc((n + 1) * sizeof(*seglen));
	size_t nseg = 0;
	char *out = NULL;
	if (!seg || !seglen)
		goto out_with_arrays;
	for (const char *p = path; *p;) {
		const char *e = strchr(p, '/');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l == 0 || (l == 1 && p[0] == '.')) {
			/* nothing */
		} else if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (nseg)
				nseg--;
		} else {
			seg[nseg] = p;
			seglen[nseg++] = l;
		}
		p += l;
		if (*p == '/')
			p++;
	}
	struct buf b = { 0 };
	buf_putc(&b, '/');
	for (size_t i = 0; i < nseg; i++) {
		if (i)
			buf_putc(&b, '/');
		buf_add(&b, seg[i], seglen[i]);
	}
	if (nseg && path[n - 1] == '/')
		buf_putc(&b, '/');
	out = buf_take(&b);
out_with_arrays:
	free(seg);
	free(seglen);
	return out;
}

char *sigv4_canonical_uri(const char *path, int s3)
{
	if (!path || !*path)
		path = "/";
	struct buf b = { 0 };
	if (s3) {
		/* Keep the caller's escapes: S3 keys are encoded once, not twice. */
		for (size_t i = 0; path[i]; i++) {
			unsigned char c = (unsigned char)path[i];
			if (unreserved(c) || c == '/')
				buf_putc(&b, (char)c);
			else if (c == '%' && hexval(path[i + 1]) >= 0 && hexval(path[i + 2]) >= 0) {
				buf_add(&b, path + i, 3);
				i += 2;
			} else
				encode_byte(&b, c);
		}
		return buf_take(&b);
	}
	char *norm = normalize_path(path);
	if (!norm)
		return NULL;
	encode_into(&b, norm, strlen(norm), 1);
	free(norm);
	return buf_take(&b);
}

/* ---- canonical query ----------------------------------------------------- */

struct param {
	char *key, *value; /* encoded */
};

static int param_cmp(const void *a, const void *b)
{
	const struct param *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	return c ? c : strcmp(x->value, y->value);
}

char *sigv4_canonical_query(const char *query)
{
	if (!query)
		query = "";
	size_t cap = 1;
	for (const char *p = query; *p; p++)
		cap += *p == '&';
	struct param *ps = calloc(cap, sizeof(*ps));
	size_t n = 0;
	char *out = NULL;
	if (!ps)
		return NULL;
	for (const char *p = query; *p;) {
		const char *e = strchr(p, '&');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		if (l) {
			const char *eq = memchr(p, '=', l);
			size_t kl = eq ? (size_t)(eq - p) : l;
			struct buf k = { 0 }, v = { 0 };
			decode_encode(&k, p, kl);
			if (eq)
				decode_encode(&v, eq + 1, l - kl - 1);
			ps[n].key = buf_take(&k);
			ps[n].value = buf_take(&v);
			if (!ps[n].key || !ps[n].value) {
				n++;
				goto out_with_params;
			}
			n++;
		}
		p += l;
		if (*p == '&')
			p++;
	}
	qsort(ps, n, sizeof(*ps), param_cmp);
	struct buf b = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(&b, '&');
		buf_puts(&b, ps[i].key);
		buf_putc(&b, '=');
		buf_puts(&b, ps[i].value);
	}
	out = buf_take(&b);
out_with_params:
	for (size_t i = 0; i < n; i++) {
		free(ps[i].key);
		free(ps[i].value);
	}
	free(ps);
	return out;
}

/* ---- canonical headers --------------------------------------------------- */

struct hdr {
	char *name;  /* lower-case */
	char *value; /* trimmed, spaces collapsed, folded lines joined by ',' */
	size_t order;
};

static int hdr_cmp(const void *a, const void *b)
{
	const struct hdr *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* Hop-by-hop headers a proxy or the HTTP library may change or drop, and
   User-Agent: never signed (the SDKs skip the same list). */
static int unsigned_header(const char *name)
{
	static const char *const skip[] = {
		"connection", "expect", "keep-alive", "proxy-authenticate",
		"proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade",
		"user-agent", "x-amzn-trace-id",
	};
	for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
		if (strcasecmp(name, skip[i]) == 0)
			return 1;
	return 0;
}

static char *lower_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return NULL;
	char *s = malloc(n + 1);
	if (!s)
		return NULL;
	for (size_t i = 0; i <= n; i++)
		s[i] = (char)tolower((unsigned char)name[i]);
	return s;
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* Trim each line, collapse runs of blanks, join non-empty lines with ','. */
char *sigv4_header_value(const char *v)
{
	struct buf b = { 0 };
	int lines = 0;
	for (const char *p = v ? v : ""; ; ) {
		const char *e = strchr(p, '\n');
		const char *end = e ? e : p + strlen(p);
		while (p < end && blank(*p))
			p++;
		while (end > p && blank(end[-1]))
			end--;
		if (p < end) {
			if (lines++)
				buf_putc(&b, ',');
			for (const char *q = p; q < end; q++) {
				if (blank(*q)) {
					if (!blank(q[-1]))
						buf_putc(&b, ' ');
				} else
					buf_putc(&b, *q);
			}
		}
		if (!e)
			break;
		p = e + 1;
	}
	return buf_take(&b);
}

static void hdrs_free(struct hdr *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].name);
		free(h[i].value);
	}
	free(h);
}

int sigv4_canonical_headers(const struct petal_http_header *in, size_t n_in,
                            char **block, char **names)
{
	struct hdr *h = calloc(n_in ? n_in : 1, sizeof(*h));
	size_t n = 0;
	int rc = PETAL_ENOMEM;
	*block = *names = NULL;
	if (!h)
		return rc;
	for (size_t i = 0; i < n_in; i++) {
		if (unsigned_header(in[i].name))
			continue;
		h[n].name = lower_name(in[i].name);
		h[n].value = sigv4_header_value(in[i].value);
		h[n].order = i;
		if (!h[n++].name || !h[n - 1].value)
			goto out_with_headers;
	}
	qsort(h, n, sizeof(*h), hdr_cmp);
	struct buf hb = { 0 }, sh = { 0 };
	for (size_t i = 0; i < n; i++) {
		if (i && strcmp(h[i].name, h[i - 1].name) == 0) {
			buf_putc(&hb, ',');
		} else {
			if (i)
				buf_putc(&sh, ';');
			buf_puts(&sh, h[i].name);
			buf_puts(&hb, h[i].name);
			buf_putc(&hb, ':');
		}
		buf_puts(&hb, h[i].value);
		/* a name's line ends once its repeats are joined */
		if (i + 1 == n || strcmp(h[i + 1].name, h[i].name) != 0)
			buf_putc(&hb, '\n');
	}
	*block = buf_take(&hb);
	*names = buf_take(&sh);
	if (*block && *names)
		rc = 0;
	else {
		free(*block);
		free(*names);
		*block = *names = NULL;
	}
out_with_headers:
	hdrs_free(h, n);
	return rc;
}

char *sigv4_loggable(const struct sigv4_signed *s)
{
	struct buf b = { 0 };
	const char *p = s->canonical_request ? s->canonical_request : "";
	buf_puts(&b, "CanonicalRequest:\n");
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p + 1) : strlen(p);
		if (strncmp(p, TOKEN_HEADER ":", sizeof(TOKEN_HEADER)) == 0) {
			buf_puts(&b, TOKEN_HEADER ":<redacted>");
			if (e)
				buf_putc(&b, '\n');
		} else
			buf_add(&b, p, l);
		p += l;
	}
	buf_puts(&b, "\nStringToSign:\n");
	buf_puts(&b, s->string_to_sign ? s->string_to_sign : "");
	return buf_take(&b);
}
