/* S3: URLs, digests, HeadObject and the bucket's creation or proof. */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "aws_ctx.h"
#include "s3.h"
#include "xml.h"

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

/* ---- URLs and digests ------------------------------------------------------- */

int s3_url_parse(const char *url, struct s3_url *out, struct petal_error *err)
{
	*out = (struct s3_url){ 0 };
	if (!url || strncmp(url, "s3://", 5) != 0)
		return failf(err, PETAL_EINVAL, "'%s' is not an S3 URL: write s3://bucket/key",
		             url ? url : "(null)");
	const char *b = url + 5, *slash = strchr(b, '/');
	size_t bl = slash ? (size_t)(slash - b) : strlen(b);
	const char *key = slash ? slash + 1 : "";
	if (bl == 0)
		return failf(err, PETAL_EINVAL, "'%s' names no bucket: write s3://bucket/key", url);
	if (strlen(key) > 1024)
		return failf(err, PETAL_EINVAL, "'%.80s...': S3 keys are at most 1024 bytes", url);
	out->bucket = strndup(b, bl);
	out->key = strdup(key);
	if (!out->bucket || !out->key) {
		s3_url_clear(out);
		return failf(err, PETAL_ENOMEM, "out of memory");
	}
	return 0;
}

void s3_url_clear(struct s3_url *u)
{
	if (!u)
		return;
	free(u->bucket);
	free(u->key);
	*u = (struct s3_url){ 0 };
}

struct hashers {
	EVP_MD_CTX *md5, *sha;
};

static int hashers_init(struct hashers *h)
{
	h->md5 = EVP_MD_CTX_new();
	h->sha = EVP_MD_CTX_new();
	return h->md5 && h->sha && EVP_DigestInit_ex(h->md5, EVP_md5(), NULL) == 1 &&
	       EVP_DigestInit_ex(h->sha, EVP_sha256(), NULL) == 1 ? 0 : -1;
}

static void hashers_update(struct hashers *h, const void *p, size_t n)
{
	EVP_DigestUpdate(h->md5, p, n);
	EVP_DigestUpdate(h->sha, p, n);
}

static void hashers_final(struct hashers *h, struct s3_digest *d)
{
	EVP_DigestFinal_ex(h->md5, d->md5, NULL);
	EVP_DigestFinal_ex(h->sha, d->sha256, NULL);
}

static void hashers_free(struct hashers *h)
{
	EVP_MD_CTX_free(h->md5);
	EVP_MD_CTX_free(h->sha);
}

void s3_digest_mem(const void *p, size_t len, struct s3_digest *d)
{
	struct hashers h;
	if (hashers_init(&h) == 0) {
		hashers_update(&h, p, len);
		hashers_final(&h, d);
	} else {
		memset(d, 0, sizeof(*d)); /* never matches a real digest check */
	}
	hashers_free(&h);
}

int s3_digest_file(const char *path, uint64_t off, uint64_t len, struct s3_digest *d,
                   struct petal_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(err, PETAL_EIO, "cannot open '%s': %s", path, strerror(errno));
	struct hashers h;
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	int rc = 0;
	if (!buf || hashers_init(&h) != 0) {
		rc = failf(err, PETAL_ENOMEM, "out of memory");
		goto out_buf;
	}
	for (uint64_t done = 0; done < len;) {
		size_t want = len - done < cap ? (size_t)(len - done) : cap;
		ssize_t r = pread(fd, buf, want, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			rc = failf(err, PETAL_EIO, "cannot read '%s' at offset %" PRIu64 ": %s", path,
			           off + done, r < 0 ? strerror(errno) : "the file is shorter "
			           "than it was (did it change?)");
			goto out_hash;
		}
		hashers_update(&h, buf, (size_t)r);
		done += (uint64_t)r;
	}
	hashers_final(&h, d);
out_hash:
	hashers_free(&h);
out_buf:
	free(buf);
	close(fd);
	return rc;
}

void s3_base64(const unsigned char *p, size_t n, char *out)
{
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

void s3_hex(const unsigned char *p, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * n] = '\0';
}

const char *s3_etag_clean(const char *etag, char *buf, size_t len)
{
	if (!etag) {
		buf[0] = '\0';
		return buf;
	}
	if (strncmp(etag, "W/", 2) == 0)
		etag += 2;
	size_t n = strlen(etag);
	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
		etag++;
		n -= 2;
	} else if (strncmp(etag, "&quot;", 6) == 0 && n >= 12 &&
	           strcmp(etag + n - 6, "&quot;") == 0) {
		etag += 6;
		n -= 12;
	}
	if (n >= len)
		n = len - 1;
	memcpy(buf, etag, n);
	buf[n] = '\0';
	return buf;
}

/* ---- HeadObject -------------------------------------------------------------- */

int s3_object_head(void *ctx, const char *url, struct petal_object_info *info,
                   struct petal_error *err)
{
	static __thread char key[1025], etag[256];
	struct aws_ctx *c = ctx;
	struct s3_url u;
	int rc = s3_url_parse(url, &u, err);
	if (rc != 0)
		return rc;
	if (!*u.key) {
		s3_url_clear(&u);
		return failf(err, PETAL_EINVAL, "'%s' names a bucket, not an object", url);
	}
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "HeadObject", .method = "HEAD",
		.bucket = u.bucket, .key = u.key, .idempotent = 1,
	};
	struct aws_response r;
	rc = aws_request(c, &call, &r, err);
	if (rc == PETAL_ENOENT) {
		failf(err, rc, "%s: no such object (HeadObject: HTTP %ld)", url, r.status);
		goto out_url;
	}
	if (rc != 0)
		goto out_url;
	char buf[256];
	snprintf(key, sizeof(key), "%s", u.key);
	s3_etag_clean(aws_header_get(r.headers, "ETag", buf, sizeof(buf)), etag, sizeof(etag));
	if (PETAL_HAS(info, key))
		info->key = key;
	if (PETAL_HAS(info, bytes))
		info->bytes = aws_header_get(r.headers, "Content-Length", buf, sizeof(buf)) ?
		              strtoull(buf, NULL, 10) : 0;
	if (PETAL_HAS(info, mtime))
		info->mtime = aws_header_get(r.headers, "Last-Modified", buf, sizeof(buf)) ?
		              aws_parse_time(buf) : 0;
	if (PETAL_HAS(info, etag))
		info->etag = etag;
	aws_response_clear(c, &r);
out_url:
	s3_url_clear(&u);
	return rc;
}

/* ---- the bucket ------------------------------------------------------------- */

/* S3's rules for new buckets (older ones in us-east-1 may break them, so
   only creating checks them). */
static int bucket_name_ok(const char *b)
{
	size_t n = strlen(b);
	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (const char *p = b; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '.' ||
		      *p == '-') || (*p == '.' && p[1] == '.'))
			return 0;
	unsigned ip[4];
	char tail;
	if (sscanf(b, "%u.%u.%u.%u%c", &ip[0], &ip[1], &ip[2], &ip[3], &tail) == 4)
		return 0; /* looks like an IP address */
	return strncmp(b, "xn--", 4) != 0 && (n < 8 || strcmp(b + n - 8, "-s3alias") != 0);
}

static int create_bucket(struct aws_ctx *c, const char *url, const char *bucket,
                         const struct aws_config *cfg, struct petal_error *err)
{
	char body[512] = "";
	/* us-east-1 is S3's default location and refuses to be named */
	if (strcmp(cfg->region, "us-east-1") != 0)
		snprintf(body, sizeof(body), "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws"
		         ".com/doc/2006-03-01/\"><LocationConstraint>%s</LocationConstraint>"
		         "</CreateBucketConfiguration>", cfg->region);
	struct petal_http_header h[] = { { "Content-Type", "application/xml" } };
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "CreateBucket", .method = "PUT",
		.bucket = bucket, .headers = h, .n_headers = body[0] ? 1 : 0,
		.body = body, .body_len = strlen(body), .idempotent = 1, .config = cfg,
	};
	struct aws_response r;
	int rc = aws_request(c, &call, &r, err);
	if (rc == 0) {
		c->host->log(c->host, PETAL_LOG_INFO, "aws", "created bucket %s in %s", bucket, cfg->region);
		aws_response_clear(c, &r);
		return 0;
	}
	/* a repeated request, or a race with another petal: ours either way */
	if (strcmp(r.error_code, "BucketAlreadyOwnedByYou") == 0)
		return 0;
	if (strcmp(r.error_code, "BucketAlreadyExists") == 0) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof(err->msg) - l, "; the name %s belongs to another "
		         "account: choose another bucket for %s", bucket, url);
		return err->code = PETAL_EAUTH;
	}
	return rc;
}

/* Put, read back and delete a small object: access proven, nothing left. */
static int probe(struct aws_ctx *c, const char *bucket, const char *prefix,
                 const struct aws_config *cfg, struct petal_error *err)
{
	unsigned char rnd[12];
	char tag[25], key[1100], body[128], md5[32];
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return failf(err, PETAL_EIO, "no random bytes for the probe's name");
	s3_hex(rnd, sizeof(rnd), tag);
	size_t pl = strlen(prefix);
	snprintf(key, sizeof(key), "%s%s.petal-probe-%s", prefix,
	         pl && prefix[pl - 1] != '/' ? "/" : "", tag);
	snprintf(body, sizeof(body), "petal access probe %s %lld\n", tag, (long long)time(NULL));
	struct s3_digest d;
	s3_digest_mem(body, strlen(body), &d);
	s3_base64(d.md5, sizeof(d.md5), md5);
	struct petal_http_header h[] = { { "Content-MD5", md5 } };
	struct aws_call put = {
		.service = AWS_SVC_S3, .operation = "PutObject (access probe)", .method = "PUT",
		.bucket = bucket, .key = key, .headers = h, .n_headers = 1, .body = body,
		.body_len = strlen(body), .idempotent = 1, .config = cfg,
	};
	struct aws_response r;
	int rc = aws_request(c, &put, &r, err);
	if (rc != 0)
		return rc;
	aws_response_clear(c, &r);

	struct aws_call get = {
		.service = AWS_SVC_S3, .operation = "GetObject (access probe)", .method = "GET",
		.bucket = bucket, .key = key, .idempotent = 1, .config = cfg,
	};
	rc = aws_request(c, &get, &r, err);
	if (rc == 0 && (r.body_len != strlen(body) || memcmp(r.body, body, r.body_len) != 0))
		rc = failf(err, PETAL_ECLOUD, "S3 GetObject (access probe): s3://%s/%s read back "
		           "%zu bytes that differ from the %zu written", bucket, key, r.body_len,
		           strlen(body));
	aws_response_clear(c, &r);

	struct petal_error derr = { 0 };
	struct aws_call del = {
		.service = AWS_SVC_S3, .operation = "DeleteObject (access probe)",
		.method = "DELETE", .bucket = bucket, .key = key, .idempotent = 1, .config = cfg,
	};
	int drc = aws_request(c, &del, &r, &derr);
	aws_response_clear(c, &r);
	if (rc == 0 && drc != 0) {
		*err = derr;
		rc = drc;
	}
	return rc;
}

int s3_bucket_ensure(void *ctx, const char *url, const char *region, struct petal_error *err)
{
	struct aws_ctx *c = ctx;
	struct s3_url u;
	int rc = s3_url_parse(url, &u, err);
	if (rc != 0)
		return rc;
	if (!bucket_name_ok(u.bucket)) {
		rc = failf(err, PETAL_EINVAL, "'%s' is not a valid name for a new S3 bucket: 3 to "
		           "63 lower-case letters, digits, '.' and '-', starting and ending with a "
		           "letter or digit", u.bucket);
		goto out_url;
	}
	rc = aws_ctx_ready(c, err);
	if (rc != 0)
		goto out_url;
	const struct aws_config *cfg = &c->config;
	struct aws_config *other = NULL;
	if (region && *region && strcmp(region, c->config.region) != 0) {
		other = malloc(sizeof(*other));
		if (!other) {
			rc = failf(err, PETAL_ENOMEM, "out of memory");
			goto out_url;
		}
		rc = aws_config_load(other, region, err);
		if (rc != 0)
			goto out_config;
		cfg = other;
	}

	struct aws_call head = {
		.service = AWS_SVC_S3, .operation = "HeadBucket", .method = "HEAD",
		.bucket = u.bucket, .idempotent = 1, .config = cfg,
	};
	struct aws_response r;
	rc = aws_request(c, &head, &r, err);
	long status = r.status;
	aws_response_clear(c, &r);
	if (rc == PETAL_ENOENT)
		rc = create_bucket(c, url, u.bucket, cfg, err);
	else if (rc == PETAL_EAUTH && status == 403) {
		size_t l = strlen(err->msg);
		/* HEAD answers carry no error code: a refused signature looks the same */
		snprintf(err->msg + l, sizeof(err->msg) - l, "; either these credentials are "
		         "refused or bucket %s belongs to an account they may not use (then "
		         "choose another bucket)", u.bucket);
	}
	if (rc == 0)
		rc = probe(c, u.bucket, u.key, cfg, err);
out_config:
	free(other);
out_url:
	s3_url_clear(&u);
	return rc;
}
