/* S3: ListObjectsV2 through every page, DeleteObjects in batches. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws_ctx.h"
#include "s3.h"
#include "xml.h"

#define DELETE_BATCH 1000 /* S3's limit per DeleteObjects */

static int failf(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int failf(struct petal_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	petal_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = tolower(ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* encoding-type=url answers: %XX and '+' for a space (as the SDKs read
   them); decoded in place.  -1 for a malformed escape. */
static int url_decode(char *s)
{
	char *o = s;
	for (char *p = s; *p; p++) {
		if (*p == '+') {
			*o++ = ' ';
		} else if (*p == '%') {
			int a = hexval((unsigned char)p[1]), b = a < 0 ? -1 : hexval((unsigned char)p[2]);
			if (b < 0)
				return -1;
			*o++ = (char)(a * 16 + b);
			p += 2;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return 0;
}

/* ---- ListObjectsV2 --------------------------------------------------------- */

struct page {
	const char *url;
	const char *prefix;
	size_t strip;         /* bytes of each key that are the prefix */
	int encoded;          /* keys are URL-encoded */
	petal_object_cb cb;
	void *arg;
	size_t listed;
};

static int page_entries(struct page *pg, const struct xml_node *doc, struct petal_error *err)
{
	for (const struct xml_node *o = xml_child(doc, "Contents"); o; o = xml_next(o)) {
		const char *k = xml_text(o, "Key");
		if (!k)
			return failf(err, PETAL_ECLOUD, "S3 ListObjectsV2 %s: an entry without a "
			             "Key", pg->url);
		char *key = strdup(k);
		if (!key)
			return failf(err, PETAL_ENOMEM, "out of memory");
		if (pg->encoded && url_decode(key) != 0) {
			free(key);
			return failf(err, PETAL_ECLOUD, "S3 ListObjectsV2 %s: key '%.200s' is not "
			             "URL-encoded as asked", pg->url, k);
		}
		if (strncmp(key, pg->prefix, pg->strip) != 0) {
			free(key);
			continue; /* a key equal to "dir" when listing "dir/" */
		}
		char etag[256];
		const char *sz = xml_text(o, "Size"), *lm = xml_text(o, "LastModified");
		struct petal_object_info info = {
			.size = sizeof(info),
			.key = key + pg->strip,
			.bytes = sz ? strtoull(sz, NULL, 10) : 0,
			.mtime = lm ? aws_parse_time(lm) : 0,
			.etag = s3_etag_clean(xml_text(o, "ETag"), etag, sizeof(etag)),
		};
		pg->listed++;
		int stop = pg->cb ? pg->cb(pg->arg, &info) : 0;
		free(key);
		if (stop)
			return stop;
	}
	return 0;
}

int s3_object_list(void *ctx, const char *url_prefix, petal_object_cb cb, void *arg,
                   struct petal_error *err)
{
	struct aws_ctx *c = ctx;
	struct s3_url u;
	int rc = s3_url_parse(url_prefix, &u, err);
	if (rc != 0)
		return rc;
	/* "dir" lists the directory dir/, as "dir/" does */
	size_t kl = strlen(u.key);
	char *prefix = malloc(kl + 2);
	if (!prefix) {
		s3_url_clear(&u);
		return failf(err, PETAL_ENOMEM, "out of memory");
	}
	snprintf(prefix, kl + 2, "%s%s", u.key, kl && u.key[kl - 1] != '/' ? "/" : "");
	char *eprefix = aws_query_escape(prefix);
	char *token = NULL, *query = NULL;
	struct page pg = { .url = url_prefix, .prefix = prefix, .strip = strlen(prefix),
		           .cb = cb, .arg = arg };
	if (!eprefix) {
		rc = failf(err, PETAL_ENOMEM, "out of memory");
		goto out_prefix;
	}
	for (int pages = 0;; pages++) {
		char *etoken = token ? aws_query_escape(token) : NULL;
		free(query);
		if (asprintf(&query, "list-type=2&encoding-type=url&prefix=%s%s%s", eprefix,
		             etoken ? "&continuation-token=" : "", etoken ? etoken : "") < 0)
			query = NULL;
		free(etoken);
		if (!query) {
			rc = failf(err, PETAL_ENOMEM, "out of memory");
			break;
		}
		struct aws_call call = {
			.service = AWS_SVC_S3, .operation = "ListObjectsV2", .method = "GET",
			.bucket = u.bucket, .query = query, .idempotent = 1,
		};
		struct aws_response r;
		rc = aws_request(c, &call, &r, err);
		if (rc != 0)
			break;
		struct xml_node *doc = NULL;
		rc = xml_parse(r.body, r.body_len, &doc, err);
		aws_response_clear(c, &r);
		if (rc != 0) {
			size_t l = strlen(err->msg);
			snprintf(err->msg + l, sizeof(err->msg) - l, " (S3 ListObjectsV2 %s, page %d)",
			         url_prefix, pages + 1);
			break;
		}
		const char *et = xml_text(doc, "EncodingType");
		pg.encoded = et && strcmp(et, "url") == 0;
		rc = page_entries(&pg, doc, err);
		const char *trunc = xml_text(doc, "IsTruncated");
		const char *next = xml_text(doc, "NextContinuationToken");
		int more = trunc && strcmp(trunc, "true") == 0;
		if (rc == 0 && more && (!next || !*next || (token && strcmp(next, token) == 0)))
			rc = failf(err, PETAL_ECLOUD, "S3 ListObjectsV2 %s: page %d is truncated but "
			           "gives no new continuation token", url_prefix, pages + 1);
		if (rc == 0 && more) {
			free(token);
			token = strdup(next);
			if (!token)
				rc = failf(err, PETAL_ENOMEM, "out of memory");
		}
		xml_free(doc);
		if (rc != 0 || !more)
			break;
	}
	c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "listed %zu objects under %s", pg.listed,
	             url_prefix);
	free(token);
	free(query);
	free(eprefix);
out_prefix:
	free(prefix);
	s3_url_clear(&u);
	return rc;
}

/* ---- DeleteObjects ------------------------------------------------------------ */

/* Characters XML 1.0 cannot carry, even escaped: such a key cannot be
   named in a DeleteObjects body. */
static int xml_unsafe(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			return 1;
	return 0;
}

struct batch_errors {
	size_t n;
	int code;
	char first[600];
};

static int delete_batch(struct aws_ctx *c, const char *bucket, const char *const *keys,
                        size_t n, struct batch_errors *be, struct petal_error *err)
{
	size_t cap = 128, len = 0;
	char *body = malloc(cap);
	int rc = 0;
	for (size_t i = 0; body && i <= n; i++) {
		char *ek = i < n ? xml_escape(keys[i]) : NULL;
		if (i < n && !ek) {
			free(body);
			body = NULL;
			break;
		}
		const char *fmt = i == 0 ? "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/"
		                           "\"><Quiet>true</Quiet>" : "";
		char *piece = NULL;
		if (asprintf(&piece, "%s%s%s%s", fmt, ek ? "<Object><Key>" : "</Delete>",
		             ek ? ek : "", ek ? "</Key></Object>" : "") < 0)
			piece = NULL;
		free(ek);
		size_t pl = piece ? strlen(piece) : 0;
		if (piece && len + pl + 1 > cap) {
			while (len + pl + 1 > cap)
				cap *= 2;
			char *nb = realloc(body, cap);
			if (!nb) {
				free(piece);
				piece = NULL;
			} else {
				body = nb;
			}
		}
		if (!piece) {
			free(body);
			body = NULL;
			break;
		}
		memcpy(body + len, piece, pl + 1);
		len += pl;
		free(piece);
	}
	if (!body)
		return failf(err, PETAL_ENOMEM, "out of memory");

	struct s3_digest d;
	char md5[32];
	s3_digest_mem(body, len, &d);
	s3_base64(d.md5, sizeof(d.md5), md5);
	struct petal_http_header h[] = {
		{ "Content-MD5", md5 },
		{ "Content-Type", "application/xml" },
	};
	/* deleting twice deletes nothing more: safe to repeat */
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "DeleteObjects", .method = "POST",
		.bucket = bucket, .query = "delete", .headers = h, .n_headers = 2,
		.body = body, .body_len = len, .idempotent = 1,
	};
	struct aws_response r;
	rc = aws_request(c, &call, &r, err);
	free(body);
	if (rc != 0)
		return rc;
	struct xml_node *doc = NULL;
	rc = xml_parse(r.body, r.body_len, &doc, err);
	aws_response_clear(c, &r);
	if (rc != 0)
		return rc;
	if (strcmp(doc->name, "Error") == 0) {
		/* S3 may answer 200 with an error document */
		rc = failf(err, aws_error_code(xml_text(doc, "Code"), 200), "S3 DeleteObjects "
		           "s3://%s: %s: %s", bucket, xml_text(doc, "Code") ? xml_text(doc, "Code") :
		           "?", xml_text(doc, "Message") ? xml_text(doc, "Message") : "");
		xml_free(doc);
		return rc;
	}
	for (const struct xml_node *e = xml_child(doc, "Error"); e; e = xml_next(e)) {
		const char *code = xml_text(e, "Code"), *key = xml_text(e, "Key");
		if (be->n++ == 0) {
			be->code = aws_error_code(code, 0);
			snprintf(be->first, sizeof(be->first), "s3://%s/%.300s: %s: %.200s", bucket,
			         key ? key : "?", code ? code : "?",
			         xml_text(e, "Message") ? xml_text(e, "Message") : "");
		}
	}
	xml_free(doc);
	return 0;
}

int s3_object_delete(void *ctx, const char *const *urls, size_t n, struct petal_error *err)
{
	struct aws_ctx *c = ctx;
	struct s3_url *u = calloc(n ? n : 1, sizeof(*u));
	const char **keys = calloc(n ? n : 1, sizeof(*keys));
	char *done = calloc(n ? n : 1, 1);
	int rc = 0;
	if (!u || !keys || !done) {
		rc = failf(err, PETAL_ENOMEM, "out of memory");
		goto out_arrays;
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		rc = s3_url_parse(urls[i], &u[i], err);
		if (rc == 0 && !*u[i].key)
			rc = failf(err, PETAL_EINVAL, "'%s' names a bucket, not an object: "
			           "nothing deleted", urls[i]);
		if (rc == 0 && xml_unsafe(u[i].key))
			rc = failf(err, PETAL_EINVAL, "'%.300s' holds control characters that "
			           "DeleteObjects cannot name: nothing deleted", urls[i]);
	}
	struct batch_errors be = { 0 };
	size_t deleted = 0;
	/* one bucket at a time, in the order buckets first appear */
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (done[i])
			continue;
		size_t nk = 0;
		for (size_t j = i; j <= n && rc == 0; j++) {
			if (j < n && !done[j] && strcmp(u[j].bucket, u[i].bucket) == 0) {
				keys[nk++] = u[j].key;
				done[j] = 1;
			}
			if (nk == DELETE_BATCH || (j == n && nk)) {
				rc = delete_batch(c, u[i].bucket, keys, nk, &be, err);
				deleted += nk;
				if (PETAL_HAS(c->host, progress) && c->host->progress)
					c->host->progress(c->host, "delete objects", deleted, n);
				nk = 0;
			}
		}
	}
	if (rc == 0 && be.n)
		rc = failf(err, be.code == PETAL_EAUTH ? PETAL_EAUTH : PETAL_ECLOUD,
		           "S3 DeleteObjects: %zu of %zu objects were not deleted; the first: %s",
		           be.n, n, be.first);
out_arrays:
	for (size_t i = 0; u && i < n; i++)
		s3_url_clear(&u[i]);
	free(u);
	free(keys);
	free(done);
	return rc;
}
