/* AWS Signature Version 4: canonical request, string to sign, signing key
 * and Authorization header, as the spec and AWS's test suite define them.
 * See sigv4.h for what is taken as given and what is normalised. */
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"
#define TOKEN_HEADER "x-amz-security-token"

__attribute__((format(printf, 3, 4)))
static int fail(struct petal_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		err->code = code;
	}
	return code;
}

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

int sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return PETAL_ENOMEM;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
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

static char *canonical_uri(const char *path, int s3)
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

static char *canonical_query(const char *query)
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

static int tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
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
static char *header_value(const char *v)
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

static int hdr_push(struct hdr *h, size_t *n, const char *name, const char *value,
                    int raw)
{
	h[*n].name = lower_name(name);
	h[*n].value = raw ? strdup(value) : header_value(value);
	h[*n].order = *n;
	(*n)++;
	return h[*n - 1].name && h[*n - 1].value ? 0 : PETAL_ENOMEM;
}

static const struct hdr *hdr_find(const struct hdr *h, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(h[i].name, name) == 0)
			return &h[i];
	return NULL;
}

/* Collect the caller's headers and the signer's own; check the ones the
   signer owns.  *added gets bits 1 date, 2 token, 4 content sha256. */
static int collect_headers(const struct sigv4_request *rq, const struct sigv4_signed *s,
                           struct hdr **out, size_t *nout, unsigned *added,
                           struct petal_error *err)
{
	struct hdr *h = calloc(rq->n_headers + 3, sizeof(*h));
	size_t n = 0;
	int rc = 0;
	*added = 0;
	if (!h)
		return fail(err, PETAL_ENOMEM, "sigv4: out of memory");
	for (size_t i = 0; i < rq->n_headers; i++) {
		const char *name = rq->headers[i].name;
		for (const char *c = name ? name : ""; *c; c++)
			if (!tchar((unsigned char)*c)) {
				rc = fail(err, PETAL_EINVAL, "sigv4: header name '%s' has a "
				          "character not allowed in HTTP header names", name);
				goto out_with_headers;
			}
		if (!name || !*name) {
			rc = fail(err, PETAL_EINVAL, "sigv4: header %zu has no name", i);
			goto out_with_headers;
		}
		if (unsigned_header(name))
			continue;
		if ((rc = hdr_push(h, &n, name, rq->headers[i].value, 0)) != 0)
			goto out_with_oom;
	}
	if (!hdr_find(h, n, "host")) {
		rc = fail(err, PETAL_EINVAL, "sigv4: the request has no Host header; "
		          "pass the endpoint's host (with :port when not the default)");
		goto out_with_headers;
	}
	if (hdr_find(h, n, "authorization")) {
		rc = fail(err, PETAL_EINVAL, "sigv4: the request already has an "
		          "Authorization header; sign the unsigned request");
		goto out_with_headers;
	}
	const struct hdr *x;
	if ((x = hdr_find(h, n, "x-amz-date"))) {
		if (strcmp(x->value, s->amz_date) != 0) {
			rc = fail(err, PETAL_EINVAL, "sigv4: X-Amz-Date '%s' differs from "
			          "the signing time %s", x->value, s->amz_date);
			goto out_with_headers;
		}
	} else {
		*added |= 1;
		if ((rc = hdr_push(h, &n, "x-amz-date", s->amz_date, 1)) != 0)
			goto out_with_oom;
	}
	int unsigned_token = (rq->flags & SIGV4_TOKEN_UNSIGNED) != 0;
	if ((x = hdr_find(h, n, TOKEN_HEADER))) {
		/* No value in the message: it is a credential. */
		if (unsigned_token || (rq->session_token &&
		                       strcmp(x->value, rq->session_token) != 0)) {
			rc = fail(err, PETAL_EINVAL, "sigv4: the request's X-Amz-Security-Token "
			          "is not the session token being signed with");
			goto out_with_headers;
		}
	} else if (rq->session_token && *rq->session_token) {
		*added |= 2;
		if (!unsigned_token &&
		    (rc = hdr_push(h, &n, TOKEN_HEADER, rq->session_token, 1)) != 0)
			goto out_with_oom;
	}
	if ((x = hdr_find(h, n, "x-amz-content-sha256"))) {
		if (strcmp(x->value, s->payload_hash) != 0) {
			rc = fail(err, PETAL_EINVAL, "sigv4: x-amz-content-sha256 '%s' is not "
			          "the payload's hash %s", x->value, s->payload_hash);
			goto out_with_headers;
		}
	} else if (rq->flags & SIGV4_S3) {
		*added |= 4;
		if ((rc = hdr_push(h, &n, "x-amz-content-sha256", s->payload_hash, 1)) != 0)
			goto out_with_oom;
	}
	qsort(h, n, sizeof(*h), hdr_cmp);
	*out = h;
	*nout = n;
	return 0;
out_with_oom:
	rc = fail(err, PETAL_ENOMEM, "sigv4: out of memory");
out_with_headers:
	hdrs_free(h, n);
	return rc;
}

/* ---- signing ------------------------------------------------------------- */

static int hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg),
	          out, &len) || len != 32)
		return PETAL_ENOMEM;
	return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
   "aws4_request"), then the signature is HMAC(kSigning, string to sign). */
static int signature(const struct sigv4_request *rq, const char *date,
                     const char *sts, char out[65])
{
	size_t sl = strlen(rq->secret_access_key);
	char *k = malloc(sl + 5);
	unsigned char a[32], b[32];
	int rc = PETAL_ENOMEM;
	if (!k)
		return rc;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, rq->secret_access_key, sl + 1);
	if (hmac(k, sl + 4, date, a) || hmac(a, 32, rq->region, b) ||
	    hmac(b, 32, rq->service, a) || hmac(a, 32, "aws4_request", b) ||
	    hmac(b, 32, sts, a))
		goto out_with_key;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", a[i]);
	rc = 0;
out_with_key:
	/* The derived keys are as good as the secret for a day. */
	OPENSSL_cleanse(k, sl + 5);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(k);
	return rc;
}

static int scope_part_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ',' || *s == '=' || isspace((unsigned char)*s) ||
		    iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

static int check_request(const struct sigv4_request *rq, struct petal_error *err)
{
	if (!rq->method || !*rq->method)
		return fail(err, PETAL_EINVAL, "sigv4: no HTTP method");
	for (const char *c = rq->method; *c; c++)
		if (!tchar((unsigned char)*c))
			return fail(err, PETAL_EINVAL, "sigv4: '%s' is not an HTTP method",
			            rq->method);
	if (rq->path && *rq->path && rq->path[0] != '/')
		return fail(err, PETAL_EINVAL, "sigv4: path '%s' does not start with '/'",
		            rq->path);
	if (!scope_part_ok(rq->service))
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed service name");
	if (!scope_part_ok(rq->region))
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed region");
	if (!scope_part_ok(rq->access_key_id) || !rq->secret_access_key ||
	    !*rq->secret_access_key)
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed credentials");
	if (rq->payload_hash) {
		size_t n = strlen(rq->payload_hash);
		int hex = n == 64;
		for (size_t i = 0; hex && i < n; i++)
			hex = isxdigit((unsigned char)rq->payload_hash[i]) &&
			      !isupper((unsigned char)rq->payload_hash[i]);
		if (!hex && strcmp(rq->payload_hash, SIGV4_UNSIGNED_PAYLOAD) != 0)
			return fail(err, PETAL_EINVAL, "sigv4: payload hash '%s' is neither 64 "
			            "lower-case hex digits nor " SIGV4_UNSIGNED_PAYLOAD,
			            rq->payload_hash);
	}
	return 0;
}

int sigv4_sign(const struct sigv4_request *rq, struct sigv4_signed *s,
               struct petal_error *err)
{
	struct hdr *h = NULL;
	size_t nh = 0;
	unsigned added = 0;
	char *uri = NULL;
	char scope[256];
	int rc;

	*s = (struct sigv4_signed){ 0 };
	if ((rc = check_request(rq, err)) != 0)
		return rc;
	struct tm tm;
	if (!gmtime_r(&rq->when, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
		return fail(err, PETAL_EINVAL, "sigv4: signing time out of range");
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	if (rq->payload_hash)
		snprintf(s->payload_hash, sizeof(s->payload_hash), "%s", rq->payload_hash);
	else if (sigv4_sha256_hex(rq->payload ? rq->payload : "", rq->payload_len,
	                          s->payload_hash) != 0)
		goto out_with_oom;
	if ((rc = collect_headers(rq, s, &h, &nh, &added, err)) != 0)
		goto out_with_signed;

	uri = canonical_uri(rq->path, (rq->flags & SIGV4_S3) != 0);
	s->query = canonical_query(rq->query);
	if (!uri || !s->query)
		goto out_with_oom;

	struct buf hb = { 0 }, sh = { 0 };
	for (size_t i = 0; i < nh; i++) {
		if (i && strcmp(h[i].name, h[i - 1].name) == 0) {
			buf_putc(&hb, ',');
			buf_puts(&hb, h[i].value);
			continue;
		}
		if (i) {
			buf_putc(&hb, '\n');
			buf_putc(&sh, ';');
		}
		buf_puts(&hb, h[i].name);
		buf_putc(&hb, ':');
		buf_puts(&hb, h[i].value);
		buf_puts(&sh, h[i].name);
	}
	char *canon_headers = buf_take(&hb);
	s->signed_headers = buf_take(&sh);
	if (!canon_headers || !s->signed_headers) {
		free(canon_headers);
		goto out_with_oom;
	}

	struct buf cr = { 0 };
	buf_puts(&cr, rq->method);
	buf_putc(&cr, '\n');
	buf_puts(&cr, uri);
	buf_putc(&cr, '\n');
	buf_puts(&cr, s->query);
	buf_putc(&cr, '\n');
	buf_puts(&cr, canon_headers);
	buf_puts(&cr, "\n\n");
	buf_puts(&cr, s->signed_headers);
	buf_putc(&cr, '\n');
	buf_puts(&cr, s->payload_hash);
	free(canon_headers);
	if (!(s->canonical_request = buf_take(&cr)))
		goto out_with_oom;

	char crhash[65];
	if (sigv4_sha256_hex(s->canonical_request, strlen(s->canonical_request), crhash))
		goto out_with_oom;
	snprintf(scope, sizeof(scope), "%.8s/%s/%s/aws4_request", s->amz_date, rq->region,
	         rq->service);
	struct buf st = { 0 };
	buf_puts(&st, ALGORITHM "\n");
	buf_puts(&st, s->amz_date);
	buf_putc(&st, '\n');
	buf_puts(&st, scope);
	buf_putc(&st, '\n');
	buf_puts(&st, crhash);
	if (!(s->string_to_sign = buf_take(&st)))
		goto out_with_oom;

	char date[9];
	snprintf(date, sizeof(date), "%.8s", s->amz_date);
	if (signature(rq, date, s->string_to_sign, s->signature) != 0)
		goto out_with_oom;

	struct buf az = { 0 };
	buf_puts(&az, ALGORITHM " Credential=");
	buf_puts(&az, rq->access_key_id);
	buf_putc(&az, '/');
	buf_puts(&az, scope);
	buf_puts(&az, ", SignedHeaders=");
	buf_puts(&az, s->signed_headers);
	buf_puts(&az, ", Signature=");
	buf_puts(&az, s->signature);
	if (!(s->authorization = buf_take(&az)))
		goto out_with_oom;

	if (added & 1)
		s->add[s->n_add++] = (struct petal_http_header){ "X-Amz-Date", s->amz_date };
	if (added & 2)
		s->add[s->n_add++] = (struct petal_http_header){ "X-Amz-Security-Token",
		                                                 rq->session_token };
	if (added & 4)
		s->add[s->n_add++] = (struct petal_http_header){ "x-amz-content-sha256",
		                                                 s->payload_hash };
	s->add[s->n_add++] = (struct petal_http_header){ "Authorization", s->authorization };
	free(uri);
	hdrs_free(h, nh);
	return 0;

out_with_oom:
	rc = fail(err, PETAL_ENOMEM, "sigv4: out of memory");
out_with_signed:
	free(uri);
	hdrs_free(h, nh);
	sigv4_signed_clear(s);
	return rc;
}

void sigv4_signed_clear(struct sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->authorization);
	free(s->query);
	free(s->signed_headers);
	*s = (struct sigv4_signed){ 0 };
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
