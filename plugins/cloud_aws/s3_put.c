/* S3: PutObject for small files, multipart uploads in parallel for big ones. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "aws_ctx.h"
#include "s3.h"
#include "xml.h"

#define MAX_PARTS 10000 /* S3's limit per upload */

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

static void append(struct petal_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void append(struct petal_error *err, const char *fmt, ...)
{
	size_t l = strlen(err->msg);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + l, sizeof(err->msg) - l, fmt, ap);
	va_end(ap);
}

static void progress(struct aws_ctx *c, const char *what, uint64_t done, uint64_t total)
{
	if (PETAL_HAS(c->host, progress) && c->host->progress)
		c->host->progress(c->host, what, done, total);
}

/* ---- one request ------------------------------------------------------------ */

static int put_whole(struct aws_ctx *c, const struct s3_url *u, const char *path,
                     uint64_t size, const struct s3_digest *d, struct petal_error *err)
{
	char md5[32], sha_b64[48], sha_hex[65];
	s3_base64(d->md5, sizeof(d->md5), md5);
	s3_base64(d->sha256, sizeof(d->sha256), sha_b64);
	s3_hex(d->sha256, sizeof(d->sha256), sha_hex);
	struct petal_http_header h[] = {
		{ "Content-Type", "application/octet-stream" },
		{ "Content-MD5", md5 },
		{ "x-amz-checksum-sha256", sha_b64 },
		{ "x-amz-meta-petal-sha256", sha_hex },
	};
	/* a whole object put twice is the same object: safe to repeat */
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "PutObject", .method = "PUT",
		.bucket = u->bucket, .key = u->key, .headers = h, .n_headers = 4,
		.body_path = path, .body_len = (size_t)size, .idempotent = 1,
	};
	struct aws_response r;
	int rc = aws_request(c, &call, &r, err);
	aws_response_clear(c, &r);
	return rc;
}

/* ---- multipart ----------------------------------------------------------------- */

struct part {
	uint64_t off, len;
	unsigned char md5[16];
	int done;
};

/* The open uploads of exactly one key, with their Initiated times. */
struct upload_ids {
	char **id;
	int64_t *initiated;
	size_t n;
};

struct upload {
	struct aws_ctx *c;
	const struct s3_url *u;
	const char *url;
	const char *path;
	char *upload_id;
	char *eid;            /* upload_id query-escaped */
	struct part *parts;
	size_t n;
	int create_attempts;  /* > 1: a lost answer may have left another upload */
	struct upload_ids before; /* this key's uploads open before ours */
	int have_before;
	int64_t started;      /* server time before CreateMultipartUpload */
	pthread_mutex_t lock; /* guards next, failed, first, sent */
	size_t next;
	int failed;
	struct petal_error first;
	uint64_t sent, total;
};

struct part_check {
	const char *op, *url, *md5hex;
};

/* aws_call.check: a part whose ETag is not its MD5 arrived damaged; it is
   sent again within the host's attempts. */
static int check_part(void *arg, const char *headers, struct petal_error *err)
{
	struct part_check *pc = arg;
	char raw[128], etag[128], sse[64];
	/* under SSE-KMS an ETag is no MD5 (S3 checked the part's Content-MD5 itself) */
	if (aws_header_get(headers, "x-amz-server-side-encryption", sse, sizeof(sse)) &&
	    strncasecmp(sse, "aws:kms", 7) == 0)
		return 0;
	s3_etag_clean(aws_header_get(headers, "ETag", raw, sizeof(raw)), etag, sizeof(etag));
	if (strcmp(etag, pc->md5hex) == 0)
		return 0;
	return failf(err, PETAL_ECLOUD, "S3 %s: %s: the part's ETag '%s' is not its MD5 %s",
	             pc->op, pc->url, etag, pc->md5hex);
}

/* Read, hash and upload one part: the host's attempts are its tries. */
static int upload_part(struct upload *up, size_t i, struct petal_error *err)
{
	struct aws_ctx *c = up->c;
	struct part *p = &up->parts[i];
	char *buf = malloc(p->len ? p->len : 1);
	if (!buf)
		return failf(err, PETAL_ENOMEM, "out of memory for a part of %" PRIu64 " bytes",
		             p->len);
	int rc = 0, fd = open(up->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = failf(err, PETAL_EIO, "cannot open '%s': %s", up->path, strerror(errno));
		goto out_buf;
	}
	for (uint64_t got = 0; got < p->len;) {
		ssize_t r = pread(fd, buf + got, p->len - got, (off_t)(p->off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = failf(err, PETAL_EIO, "cannot read part %zu of '%s': %s", i + 1, up->path,
			           r < 0 ? strerror(errno) : "the file is shorter (did it change?)");
			goto out_fd;
		}
		got += (uint64_t)r;
	}
	struct s3_digest d;
	s3_digest_mem(buf, p->len, &d);
	char md5[32], md5hex[33], query[512], op[64];
	s3_base64(d.md5, sizeof(d.md5), md5);
	s3_hex(d.md5, sizeof(d.md5), md5hex);
	snprintf(query, sizeof(query), "partNumber=%zu&uploadId=%s", i + 1, up->eid);
	snprintf(op, sizeof(op), "UploadPart %zu/%zu", i + 1, up->n);
	struct petal_http_header h[] = { { "Content-MD5", md5 } };
	struct part_check pc = { .op = op, .url = up->url, .md5hex = md5hex };
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = op, .method = "PUT",
		.bucket = up->u->bucket, .key = up->u->key, .query = query,
		.headers = h, .n_headers = 1, .body = buf, .body_len = p->len,
		.idempotent = 1, /* a part sent again replaces itself */
		.check = check_part, .check_arg = &pc,
	};
	struct aws_response r;
	pthread_mutex_lock(&up->lock);
	int stop = up->failed;
	pthread_mutex_unlock(&up->lock);
	if (stop)
		rc = failf(err, PETAL_ECLOUD, "stopped: another part failed");
	else if ((rc = aws_request(c, &call, &r, err)) == 0)
		aws_response_clear(c, &r);
	if (rc == 0)
		memcpy(p->md5, d.md5, sizeof(p->md5));
out_fd:
	close(fd);
out_buf:
	free(buf);
	return rc;
}

static void *worker(void *arg)
{
	struct upload *up = arg;
	for (;;) {
		pthread_mutex_lock(&up->lock);
		size_t i = up->next;
		int stop = up->failed || i >= up->n;
		if (!stop)
			up->next++;
		pthread_mutex_unlock(&up->lock);
		if (stop)
			break;
		struct petal_error e = { 0 };
		int rc = upload_part(up, i, &e);
		pthread_mutex_lock(&up->lock);
		if (rc != 0 && !up->failed) {
			up->failed = 1;
			up->first = e;
		}
		if (rc == 0) {
			up->parts[i].done = 1;
			up->sent += up->parts[i].len;
			progress(up->c, up->url, up->sent, up->total);
		}
		pthread_mutex_unlock(&up->lock);
	}
	return NULL;
}

static int create_upload(struct upload *up, const struct s3_digest *whole,
                         struct petal_error *err)
{
	char sha_hex[65];
	s3_hex(whole->sha256, sizeof(whole->sha256), sha_hex);
	struct petal_http_header h[] = {
		{ "Content-Type", "application/octet-stream" },
		{ "x-amz-meta-petal-sha256", sha_hex },
	};
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "CreateMultipartUpload", .method = "POST",
		.bucket = up->u->bucket, .key = up->u->key, .query = "uploads",
		.headers = h, .n_headers = 2,
		/* a repeat leaves an unused upload id, never a wrong object */
		.idempotent = 1,
	};
	struct aws_response r;
	pthread_mutex_lock(&up->c->lock);
	up->started = (int64_t)time(NULL) + up->c->skew_s;
	pthread_mutex_unlock(&up->c->lock);
	int rc = aws_request(up->c, &call, &r, err);
	if (rc != 0)
		return rc;
	up->create_attempts = r.attempts;
	struct xml_node *doc = NULL;
	rc = xml_parse(r.body, r.body_len, &doc, err);
	aws_response_clear(up->c, &r);
	if (rc != 0)
		return rc;
	const char *id = xml_text(doc, "UploadId");
	if (!id || !*id)
		rc = failf(err, PETAL_ECLOUD, "S3 CreateMultipartUpload %s: the answer has no "
		           "UploadId", up->url);
	else if (!(up->upload_id = strdup(id)) || !(up->eid = aws_query_escape(id)))
		rc = failf(err, PETAL_ENOMEM, "out of memory");
	xml_free(doc);
	return rc;
}

/* The ETag S3 gives a completed upload: the MD5 of the parts' MD5s, "-n". */
static void expected_etag(const struct upload *up, char *out, size_t len)
{
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	unsigned char md[16];
	char hex[33];
	if (!m || EVP_DigestInit_ex(m, EVP_md5(), NULL) != 1) {
		EVP_MD_CTX_free(m);
		snprintf(out, len, "?");
		return;
	}
	for (size_t i = 0; i < up->n; i++)
		EVP_DigestUpdate(m, up->parts[i].md5, sizeof(up->parts[i].md5));
	EVP_DigestFinal_ex(m, md, NULL);
	EVP_MD_CTX_free(m);
	s3_hex(md, sizeof(md), hex);
	snprintf(out, len, "%s-%zu", hex, up->n);
}

static int complete_upload(struct upload *up, struct petal_error *err)
{
	size_t cap = 200 + up->n * 96, len = 0;
	char *body = malloc(cap);
	if (!body)
		return failf(err, PETAL_ENOMEM, "out of memory");
	len += (size_t)snprintf(body + len, cap - len, "<CompleteMultipartUpload xmlns=\""
	                        "http://s3.amazonaws.com/doc/2006-03-01/\">");
	for (size_t i = 0; i < up->n; i++) {
		char hex[33];
		s3_hex(up->parts[i].md5, sizeof(up->parts[i].md5), hex);
		len += (size_t)snprintf(body + len, cap - len, "<Part><PartNumber>%zu</PartNumber>"
		                        "<ETag>\"%s\"</ETag></Part>", i + 1, hex);
	}
	len += (size_t)snprintf(body + len, cap - len, "</CompleteMultipartUpload>");

	char query[512], want[64];
	snprintf(query, sizeof(query), "uploadId=%s", up->eid);
	expected_etag(up, want, sizeof(want));
	struct petal_http_header h[] = { { "Content-Type", "application/xml" } };
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "CompleteMultipartUpload", .method = "POST",
		.bucket = up->u->bucket, .key = up->u->key, .query = query,
		.headers = h, .n_headers = 1, .body = body, .body_len = len,
		/* completing twice gives the same object or NoSuchUpload, read below */
		.idempotent = 1,
	};
	struct aws_response r;
	int rc = aws_request(up->c, &call, &r, err);
	free(body);
	struct xml_node *doc = NULL;
	if (rc == 0) {
		rc = xml_parse(r.body, r.body_len, &doc, err);
		aws_response_clear(up->c, &r);
	} else if (strcmp(r.error_code, "NoSuchUpload") == 0) {
		/* a repeat after a lost answer: done if the object is ours */
		struct petal_object_info info = { .size = sizeof(info) };
		struct petal_error herr = { 0 };
		if (s3_object_head(up->c, up->url, &info, &herr) == 0 &&
		    strcmp(info.etag, want) == 0)
			return 0;
		return rc;
	}
	if (rc != 0)
		return rc;
	if (strcmp(doc->name, "Error") == 0) {
		/* S3 may answer 200 and report the failure in the body */
		const char *code = xml_text(doc, "Code");
		rc = failf(err, aws_error_code(code, 200), "S3 CompleteMultipartUpload %s: %s: %s "
		           "(request id %s, HTTP 200)", up->url, code ? code : "?",
		           xml_text(doc, "Message") ? xml_text(doc, "Message") : "",
		           xml_text(doc, "RequestId") ? xml_text(doc, "RequestId") : "none");
	} else {
		char etag[128];
		s3_etag_clean(xml_text(doc, "ETag"), etag, sizeof(etag));
		if (strcmp(etag, want) != 0)
			rc = failf(err, PETAL_ECLOUD, "S3 CompleteMultipartUpload %s: the object's ETag "
			           "'%s' is not the one its parts make, '%s'", up->url, etag, want);
	}
	xml_free(doc);
	return rc;
}

static int abort_upload(struct upload *up, struct petal_error *err)
{
	char query[512];
	snprintf(query, sizeof(query), "uploadId=%s", up->eid);
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "AbortMultipartUpload", .method = "DELETE",
		.bucket = up->u->bucket, .key = up->u->key, .query = query, .idempotent = 1,
	};
	struct aws_response r;
	int rc = aws_request(up->c, &call, &r, err);
	/* already gone (a repeated abort): nothing is left, which is the point */
	if (rc != 0 && strcmp(r.error_code, "NoSuchUpload") == 0)
		rc = 0;
	aws_response_clear(up->c, &r);
	return rc;
}

static void upload_ids_clear(struct upload_ids *ids)
{
	for (size_t i = 0; i < ids->n; i++)
		free(ids->id[i]);
	free(ids->id);
	free(ids->initiated);
	*ids = (struct upload_ids){ 0 };
}

static int list_uploads(struct aws_ctx *c, const struct s3_url *u, struct upload_ids *ids,
                        struct petal_error *err)
{
	*ids = (struct upload_ids){ 0 };
	char *ekey = aws_query_escape(u->key), *query = NULL;
	if (!ekey || asprintf(&query, "uploads&prefix=%s", ekey) < 0) {
		free(ekey);
		return failf(err, PETAL_ENOMEM, "out of memory");
	}
	free(ekey);
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "ListMultipartUploads", .method = "GET",
		.bucket = u->bucket, .query = query, .idempotent = 1,
	};
	struct aws_response r;
	struct xml_node *doc = NULL;
	int rc = aws_request(c, &call, &r, err);
	if (rc == 0)
		rc = xml_parse(r.body, r.body_len, &doc, err);
	aws_response_clear(c, &r);
	free(query);
	size_t cap = 0;
	for (const struct xml_node *n = doc ? xml_child(doc, "Upload") : NULL; n && rc == 0;
	     n = xml_next(n)) {
		const char *key = xml_text(n, "Key"), *id = xml_text(n, "UploadId");
		if (!key || !id || strcmp(key, u->key) != 0)
			continue;
		if (ids->n == cap) {
			cap = cap ? 2 * cap : 8;
			char **ni = realloc(ids->id, cap * sizeof(*ni));
			if (ni)
				ids->id = ni;
			int64_t *nt = realloc(ids->initiated, cap * sizeof(*nt));
			if (nt)
				ids->initiated = nt;
			if (!ni || !nt) {
				rc = failf(err, PETAL_ENOMEM, "out of memory");
				break;
			}
		}
		if (!(ids->id[ids->n] = strdup(id))) {
			rc = failf(err, PETAL_ENOMEM, "out of memory");
			break;
		}
		ids->initiated[ids->n++] = aws_parse_time(xml_text(n, "Initiated"));
	}
	xml_free(doc);
	if (rc != 0)
		upload_ids_clear(ids);
	return rc;
}

static int known(const struct upload_ids *ids, const char *id)
{
	for (size_t i = 0; i < ids->n; i++)
		if (strcmp(ids->id[i], id) == 0)
			return 1;
	return 0;
}

/* CreateMultipartUpload was sent more than once: an attempt whose answer was
   lost may have opened an upload nobody will complete.  Abort this key's
   uploads that were not open before ours was asked for (or, when that list
   could not be had, that were opened since), other than ours; best effort. */
static void sweep_orphans(struct upload *up)
{
	struct aws_ctx *c = up->c;
	struct upload_ids now;
	struct petal_error err = { 0 };
	int rc = list_uploads(c, up->u, &now, &err);
	size_t aborted = 0;
	for (size_t i = 0; rc == 0 && i < now.n; i++) {
		if (strcmp(now.id[i], up->upload_id) == 0 ||
		    (up->have_before ? known(&up->before, now.id[i])
		                     : now.initiated[i] < up->started - 60))
			continue;
		char *eid = aws_query_escape(now.id[i]);
		struct upload other = { .c = c, .u = up->u, .url = up->url, .eid = eid };
		struct petal_error aerr = { 0 };
		if (eid && abort_upload(&other, &aerr) == 0) {
			aborted++;
		} else {
			rc = aerr.code ? aerr.code : PETAL_ENOMEM;
			err = aerr;
		}
		free(eid);
	}
	upload_ids_clear(&now);
	if (rc != 0)
		c->host->log(c->host, PETAL_LOG_WARN, "aws", "%s: CreateMultipartUpload was sent more than "
		             "once and uploads it may have opened could not all be checked or "
		             "aborted (%s): see `aws s3api list-multipart-uploads --bucket %s`",
		             up->url, err.msg[0] ? err.msg : "abort failed", up->u->bucket);
	else if (aborted)
		c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "%s: aborted %zu upload(s) left by lost "
		             "answers", up->url, aborted);
}

static int put_multipart(struct aws_ctx *c, const struct s3_url *u, const char *url,
                         const char *path, uint64_t size, struct petal_error *err)
{
	struct s3_digest whole;
	int rc = s3_digest_file(path, 0, size, &whole, err);
	if (rc != 0)
		return rc;
	uint64_t psize = c->s3.part_size;
	if ((size + psize - 1) / psize > MAX_PARTS)
		/* S3 takes at most 10,000 parts: grow them, in whole MiB */
		psize = (((size + MAX_PARTS - 1) / MAX_PARTS + (1 << 20) - 1) >> 20) << 20;
	struct upload up = {
		.c = c, .u = u, .url = url, .path = path, .total = size,
		.n = (size_t)((size + psize - 1) / psize),
	};
	up.parts = calloc(up.n, sizeof(*up.parts));
	if (!up.parts)
		return failf(err, PETAL_ENOMEM, "out of memory");
	for (size_t i = 0; i < up.n; i++) {
		up.parts[i].off = i * psize;
		up.parts[i].len = i + 1 < up.n ? psize : size - i * psize;
	}
	pthread_mutex_init(&up.lock, NULL);
	/* what was open before, to tell an upload a lost answer opened from
	   someone else's (a failure here only makes the sweep rely on times) */
	struct petal_error lerr = { 0 };
	up.have_before = list_uploads(c, u, &up.before, &lerr) == 0;
	rc = create_upload(&up, &whole, err);
	if (rc != 0)
		goto out_parts;
	c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "%s: multipart upload of %" PRIu64 " bytes in %zu "
	             "parts of %" PRIu64, url, size, up.n, psize);

	size_t nt = (size_t)(c->s3.part_threads > 0 ? c->s3.part_threads : 1);
	if (nt > up.n)
		nt = up.n;
	pthread_t tid[64];
	size_t started = 0;
	for (; started < nt && started < 64; started++)
		if (pthread_create(&tid[started], NULL, worker, &up) != 0)
			break;
	if (started == 0)
		worker(&up); /* no thread to be had: upload here */
	for (size_t i = 0; i < started; i++)
		pthread_join(tid[i], NULL);

	if (up.failed) {
		*err = up.first;
		rc = err->code ? err->code : PETAL_ECLOUD;
	} else {
		rc = complete_upload(&up, err);
	}
	if (rc != 0) {
		struct petal_error aerr = { 0 };
		if (abort_upload(&up, &aerr) == 0)
			append(err, "; the upload was aborted, nothing was written");
		else
			append(err, "; aborting the upload failed too (%s): remove it with `aws s3api "
			       "abort-multipart-upload --bucket %s --key %s --upload-id %s`", aerr.msg,
			       u->bucket, u->key, up.upload_id);
	}
	if (up.create_attempts > 1)
		sweep_orphans(&up);
out_parts:
	upload_ids_clear(&up.before);
	pthread_mutex_destroy(&up.lock);
	free(up.upload_id);
	free(up.eid);
	free(up.parts);
	return rc;
}

int s3_object_put(void *ctx, const char *url, const char *local_path,
                  struct petal_error *err)
{
	struct aws_ctx *c = ctx;
	struct s3_url u;
	int rc = s3_url_parse(url, &u, err);
	if (rc != 0)
		return rc;
	if (!*u.key || u.key[strlen(u.key) - 1] == '/') {
		rc = failf(err, PETAL_EINVAL, "'%s' names no object: give a key after the bucket "
		           "that does not end in '/'", url);
		goto out_url;
	}
	struct stat st;
	if (!local_path || stat(local_path, &st) != 0) {
		rc = failf(err, PETAL_EIO, "cannot put '%s' to %s: %s", local_path ? local_path : "",
		           url, local_path ? strerror(errno) : "no file given");
		goto out_url;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = failf(err, PETAL_EINVAL, "cannot put '%s' to %s: not a regular file",
		           local_path, url);
		goto out_url;
	}
	uint64_t size = (uint64_t)st.st_size;
	rc = aws_ctx_ready(c, err);
	if (rc != 0)
		goto out_url;
	if (size >= c->s3.multipart_threshold && size > 0) {
		rc = put_multipart(c, &u, url, local_path, size, err);
	} else {
		struct s3_digest d;
		rc = s3_digest_file(local_path, 0, size, &d, err);
		if (rc == 0)
			rc = put_whole(c, &u, local_path, size, &d, err);
		if (rc == 0)
			progress(c, url, size, size);
	}
	if (rc == 0)
		c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "put %s (%" PRIu64 " bytes)", url, size);
out_url:
	s3_url_clear(&u);
	return rc;
}
