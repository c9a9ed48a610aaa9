/* One AWS call: locate, sign, send through the host, check the answer. */
#define _GNU_SOURCE /* strcasestr, memmem */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "aws_ctx.h"
#include "sigv4.h"

/* Clock differences smaller than this are not worth a retry (botocore's). */
#define SKEW_TOLERANCE_S 240
/* Whole files at least this big are streamed by the host, not read in memory. */
#define STREAM_MIN (1u << 20)
/* Temporary credentials are refreshed this long before they expire. */
#define REFRESH_MARGIN_S 300

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

/* ---- what the request targets ------------------------------------------- */

struct target {
	const struct aws_endpoint *ep;
	char *url;       /* without the query */
	char *path;      /* signed and sent */
	char host[320];
};

static void target_clear(struct target *t)
{
	free(t->url);
	free(t->path);
	*t = (struct target){ 0 };
}

static int target_locate(const struct aws_config *cfg, const struct aws_call *call,
                         struct target *t, struct petal_error *err)
{
	*t = (struct target){ .ep = aws_endpoint(cfg, call->service) };
	if (!t->ep)
		return failf(err, PETAL_EINVAL, "aws: unknown service %d", (int)call->service);
	if (call->service == AWS_SVC_S3 && call->bucket) {
		struct aws_s3_location loc = { 0 };
		int rc = aws_s3_locate(cfg, call->bucket, call->key, &loc, err);
		if (rc != 0)
			return rc;
		t->url = loc.url;
		t->path = loc.path;
		snprintf(t->host, sizeof(t->host), "%s", loc.host);
		return 0;
	}
	const char *p = call->path && *call->path ? call->path : "/";
	if (*p != '/')
		return failf(err, PETAL_EINVAL, "aws %s: request path '%s' does not start "
		             "with '/'", call->operation, p);
	if (asprintf(&t->path, "%s%s", t->ep->base_path, p) < 0 ||
	    asprintf(&t->url, "%s://%s%s", t->ep->tls ? "https" : "http", t->ep->host,
	             t->path) < 0) {
		target_clear(t);
		return failf(err, PETAL_ENOMEM, "aws: out of memory");
	}
	snprintf(t->host, sizeof(t->host), "%s", t->ep->host);
	return 0;
}

/* ---- the context ------------------------------------------------------------ */

/* "16777216", "16M", "8MiB", "64k": bytes; -1 when not a size. */
static int64_t parse_size(const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -1;
	unsigned shift = 0;
	switch (tolower((unsigned char)*end)) {
	case 'k': shift = 10; end++; break;
	case 'm': shift = 20; end++; break;
	case 'g': shift = 30; end++; break;
	default: break;
	}
	if (shift && (strcasecmp(end, "ib") == 0 || strcasecmp(end, "b") == 0))
		end += strlen(end);
	if (*end || v > (UINT64_MAX >> 1) >> shift)
		return -1;
	return (int64_t)(v << shift);
}

static int tune(struct aws_ctx *c, const char *setting, const char *env, int64_t min,
                int64_t max, uint64_t *out, struct petal_error *err)
{
	const char *from[2] = { NULL, getenv(env) };
	char value[64];
	if (PETAL_HAS(c->host, setting) && c->host->setting) {
		int n = c->host->setting(c->host, setting, value, sizeof(value));
		if (n >= (int)sizeof(value))
			return failf(err, PETAL_EINVAL, "aws: %s is longer than a size can be",
			             setting);
		if (n >= 0)
			from[0] = value;
	}
	for (int i = 0; i < 2; i++) {
		if (!from[i] || !*from[i])
			continue;
		int64_t v = parse_size(from[i]);
		if (v < min || v > max)
			return failf(err, PETAL_EINVAL, "aws: %s '%s' is not a size from %" PRId64
			             " to %" PRId64 " bytes", i ? env : setting, from[i], min, max);
		*out = (uint64_t)v;
	}
	return 0;
}

int aws_ctx_new(const struct petal_host *host, const char *region, struct aws_ctx **out,
                struct petal_error *err)
{
	*out = NULL;
	struct aws_ctx *c = calloc(1, sizeof(*c));
	if (!c)
		return failf(err, PETAL_ENOMEM, "aws: out of memory");
	c->host = host;
	if (region)
		snprintf(c->seed_region, sizeof(c->seed_region), "%s", region);
	c->s3 = (struct aws_s3_tuning){
		.multipart_threshold = AWS_S3_DEFAULT_THRESHOLD,
		.part_size = AWS_S3_DEFAULT_PART_SIZE,
		.part_threads = AWS_S3_DEFAULT_THREADS,
	};
	uint64_t threads = (uint64_t)c->s3.part_threads;
	int rc = tune(c, "aws.s3_multipart_threshold", "PETAL_AWS_S3_MULTIPART_THRESHOLD", 1,
	              INT64_C(5) << 40, &c->s3.multipart_threshold, err);
	if (rc == 0)
		/* S3 refuses parts under 5 MiB but the last; tests go down to 64 KiB to
		   see that refusal handled */
		rc = tune(c, "aws.s3_part_size", "PETAL_AWS_S3_PART_SIZE", 1, INT64_C(5) << 30,
		          &c->s3.part_size, err);
	if (rc == 0)
		rc = tune(c, "aws.s3_part_threads", "PETAL_AWS_S3_PART_THREADS", 1, 64,
		          &threads, err);
	if (rc != 0) {
		free(c);
		return rc;
	}
	c->s3.part_threads = (int)threads;
	pthread_mutex_init(&c->lock, NULL);
	*out = c;
	return 0;
}

void aws_ctx_free(struct aws_ctx *c)
{
	if (!c)
		return;
	aws_credentials_free(c->credentials);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Resolve under c->lock. */
static int ready_locked(struct aws_ctx *c, struct petal_error *err)
{
	const char *region = c->seed_region[0] ? c->seed_region : NULL;
	char bound[64];
	if (!region && PETAL_HAS(c->host, setting) && c->host->setting) {
		int n = c->host->setting(c->host, "region", bound, sizeof(bound));
		if (n >= (int)sizeof(bound))
			return failf(err, PETAL_EINVAL, "aws: the region is longer than any "
			             "region name");
		if (n >= 0)
			region = bound;
	}
	int rc = aws_config_load(&c->config, region, err);
	if (rc != 0)
		return rc;
	struct aws_credentials_options o = {
		.http = PETAL_HAS(c->host, http) ? c->host->http : NULL,
		.free = c->host->free,
	};
	rc = aws_credentials_resolve(&o, &c->credentials, err);
	if (rc != 0)
		return rc;
	c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "region %s (%s); credentials: %s",
	             c->config.region, c->config.region_source, c->credentials->source);
	return 0;
}

int aws_ctx_ready(struct aws_ctx *c, struct petal_error *err)
{
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	if (!c->ready) {
		/* Once: a missing IMDS costs a timeout, and the answer will not change
		   within one run. */
		struct petal_error e = { 0 };
		rc = ready_locked(c, &e);
		c->ready = rc == 0 ? 1 : rc;
		if (rc != 0)
			c->ready_err = e;
	} else if (c->ready < 0) {
		rc = c->ready;
	}
	if (rc != 0)
		*err = c->ready_err;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

/* The secrets for one request, copied so another thread may refresh them. */
struct keys {
	char *id, *secret, *token;
	long skew;
};

static void keys_clear(struct keys *k)
{
	if (k->secret)
		OPENSSL_cleanse(k->secret, strlen(k->secret));
	if (k->token)
		OPENSSL_cleanse(k->token, strlen(k->token));
	free(k->id);
	free(k->secret);
	free(k->token);
	*k = (struct keys){ 0 };
}

static int keys_take(struct aws_ctx *c, struct keys *k, struct petal_error *err)
{
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (aws_credentials_expiring(c->credentials, time(NULL), REFRESH_MARGIN_S)) {
		struct aws_credentials_options o = {
			.http = PETAL_HAS(c->host, http) ? c->host->http : NULL,
			.free = c->host->free,
		};
		struct aws_credentials *fresh = NULL;
		rc = aws_credentials_resolve(&o, &fresh, err);
		if (rc == 0) {
			aws_credentials_free(c->credentials);
			c->credentials = fresh;
		}
	}
	if (rc == 0) {
		const struct aws_credentials *cr = c->credentials;
		k->id = strdup(cr->access_key_id);
		k->secret = strdup(cr->secret_access_key);
		k->token = cr->session_token ? strdup(cr->session_token) : NULL;
		k->skew = c->skew_s;
		if (!k->id || !k->secret || (cr->session_token && !k->token))
			rc = failf(err, PETAL_ENOMEM, "aws: out of memory");
	}
	pthread_mutex_unlock(&c->lock);
	if (rc != 0)
		keys_clear(k);
	return rc;
}

/* ---- one attempt ------------------------------------------------------------ */

/* The sha256 of the first len bytes of a file, in hex; the file must hold
   exactly that many (the host then sends it all). */
static int sha256_file(const char *path, size_t len, char hex[65], struct petal_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(err, PETAL_EIO, "cannot open '%s': %s", path, strerror(errno));
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	char *buf = malloc(1 << 20);
	int rc = 0;
	if (!m || !buf || EVP_DigestInit_ex(m, EVP_sha256(), NULL) != 1) {
		rc = failf(err, PETAL_ENOMEM, "aws: out of memory");
		goto out;
	}
	size_t got = 0;
	for (;;) {
		ssize_t r = read(fd, buf, 1 << 20);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = failf(err, PETAL_EIO, "cannot read '%s': %s", path, strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		EVP_DigestUpdate(m, buf, (size_t)r);
		got += (size_t)r;
	}
	if (got != len) {
		rc = failf(err, PETAL_EIO, "'%s' changed while being sent (%zu bytes, not %zu)",
		           path, got, len);
		goto out;
	}
	unsigned char md[32];
	EVP_DigestFinal_ex(m, md, NULL);
	for (int i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
out:
	EVP_MD_CTX_free(m);
	free(buf);
	close(fd);
	return rc;
}

static int read_range(const char *path, uint64_t off, size_t len, char **out,
                      struct petal_error *err)
{
	*out = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return failf(err, PETAL_EIO, "cannot open '%s': %s", path, strerror(errno));
	char *buf = malloc(len ? len : 1);
	if (!buf) {
		close(fd);
		return failf(err, PETAL_ENOMEM, "aws: out of memory for %zu bytes of '%s'",
		             len, path);
	}
	size_t got = 0;
	while (got < len) {
		ssize_t r = pread(fd, buf + got, len - got, (off_t)(off + got));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			int e = errno;
			free(buf);
			close(fd);
			return failf(err, PETAL_EIO, "cannot read %zu bytes at offset %" PRIu64
			             " of '%s': %s", len, off, path,
			             r < 0 ? strerror(e) : "the file is shorter (did it change?)");
		}
		got += (size_t)r;
	}
	close(fd);
	*out = buf;
	return 0;
}

static int is_skew_code(const char *code)
{
	static const char *const codes[] = {
		"RequestTimeTooSkewed", "RequestExpired", "RequestInTheFuture",
		"InvalidSignatureException", "SignatureDoesNotMatch", "AuthFailure",
	};
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcmp(code, codes[i]) == 0)
			return 1;
	return 0;
}

/* What goes in the request's body: bytes in memory, or a whole file
   streamed by the host (in_path) with its sha256 computed beforehand. */
struct body {
	const void *p;
	size_t len;
	const char *in_path;
	char sha256[65];
};

/* What classify learns of one call's answers. */
struct classify_ctx {
	const struct aws_call *call;
	int failed;               /* the last answer was a 2xx the call's check refused */
	struct petal_error err;   /* why */
};

/* The host's retry rules cover 429 and 5xx; AWS also throttles with 400s
   (Throttling, RequestLimitExceeded), S3 times idle uploads out with a 400
   RequestTimeout and answers BadDigest to a body damaged on the way: those
   are worth repeating too, and so is a 2xx the call's check refuses (a
   damaged download). */
static int classify(void *arg, long status, const char *headers, const char *body,
                    size_t body_len)
{
	struct classify_ctx *cc = arg;
	cc->failed = 0;
	if (status >= 200 && status < 300 && cc->call->check) {
		cc->err = (struct petal_error){ 0 };
		if (cc->call->check(cc->call->check_arg, headers ? headers : "", &cc->err) != 0) {
			cc->failed = 1;
			return PETAL_HTTP_RETRY;
		}
		return PETAL_HTTP_DEFAULT;
	}
	if (status < 400 || status >= 500)
		return PETAL_HTTP_DEFAULT;
	struct aws_error_info info;
	aws_error_parse(status, body, body_len, headers, &info);
	if (strcmp(info.code, "BadDigest") == 0)
		return PETAL_HTTP_RETRY;
	return aws_error_code(info.code, status) == PETAL_ENET ? PETAL_HTTP_RETRY
	                                                       : PETAL_HTTP_DEFAULT;
}

struct attempt {
	long status;
	int skewed;     /* a clock-skew error with a correction worth retrying */
	long skew;      /* the correction */
};

static int attempt(struct aws_ctx *c, const struct aws_call *call,
                   const struct aws_config *cfg, const struct target *t,
                   const struct body *b, struct aws_response *out, struct attempt *a,
                   struct petal_error *err)
{
	const struct petal_host *host = c->host;
	struct keys k = { 0 };
	int rc = keys_take(c, &k, err);
	if (rc != 0)
		return rc;

	size_t nh = call->n_headers + 1;
	struct petal_http_header *h = calloc(nh + 4, sizeof(*h));
	if (!h) {
		keys_clear(&k);
		return failf(err, PETAL_ENOMEM, "aws: out of memory");
	}
	h[0] = (struct petal_http_header){ "Host", t->host };
	for (size_t i = 0; i < call->n_headers; i++)
		h[i + 1] = call->headers[i];

	struct sigv4_request rq = {
		.method = call->method,
		.path = t->path,
		.query = call->query,
		.headers = h,
		.n_headers = nh,
		.payload = b->p,
		.payload_len = b->len,
		.payload_hash = b->in_path ? b->sha256 : NULL,
		.service = t->ep->signing_name,
		.region = t->ep->signing_region[0] ? t->ep->signing_region : cfg->region,
		.when = time(NULL) + k.skew,
		.access_key_id = k.id,
		.secret_access_key = k.secret,
		.session_token = k.token,
		.flags = call->service == AWS_SVC_S3 ? SIGV4_S3 : 0,
	};
	struct sigv4_signed sg = { 0 };
	char *url = NULL;
	struct petal_http_response resp = { .size = sizeof(resp) };
	rc = sigv4_sign(&rq, &sg, err);
	if (rc != 0)
		goto out_signed;
	for (size_t i = 0; i < sg.n_add; i++)
		h[nh++] = sg.add[i];
	if (asprintf(&url, "%s%s%s", t->url, sg.query && *sg.query ? "?" : "",
	             sg.query ? sg.query : "") < 0) {
		url = NULL;
		rc = failf(err, PETAL_ENOMEM, "aws: out of memory");
		goto out_signed;
	}

	struct petal_http_request req = {
		.size = sizeof(req),
		.method = call->method,
		.url = url,
		.headers = h,
		.n_headers = nh,
		.body = b->p,
		.body_len = b->len,
		.idempotent = call->idempotent,
		.timeout_s = call->timeout_s,
		.out_path = call->out_path,
		.retry_classify = classify,
		.in_path = b->in_path,
	};
	struct petal_error herr = { 0 };
	struct classify_ctx cc = { .call = call };
	req.retry_arg = &cc;
	rc = host->http(&req, &resp, &herr);
	if (cc.failed && resp.status >= 200 && resp.status < 300) {
		/* every attempt's answer, the last included, failed the check */
		int tries = PETAL_HAS(&resp, attempts) ? resp.attempts : 1;
		a->status = out->status = resp.status;
		rc = failf(err, cc.err.code ? cc.err.code : PETAL_ECLOUD, "%.900s (after %d "
		           "attempt%s)", cc.err.msg, tries, tries == 1 ? "" : "s");
		goto out_response;
	}
	/* Retries exhausted on an AWS error still leave its answer: read it. */
	if (rc != 0 && resp.status < 300) {
		host->log(host, PETAL_LOG_DEBUG, "aws", "%s %s %s: %s", t->ep->service_id,
		          call->operation, call->method, herr.msg);
		rc = failf(err, rc, "%s %s: %s", t->ep->service_id, call->operation, herr.msg);
		goto out_response;
	}
	a->status = out->status = resp.status;
	char rid[128] = "";
	if (!aws_header_get(resp.headers, "x-amz-request-id", rid, sizeof(rid)))
		aws_header_get(resp.headers, "x-amzn-RequestId", rid, sizeof(rid));
	host->log(host, PETAL_LOG_DEBUG, "aws", "%s %s -> HTTP %ld (%s %s%s%s)", call->method, url,
	          resp.status, t->ep->service_id, call->operation, rid[0] ? ", request id " : "",
	          rid);
	if (resp.status >= 200 && resp.status < 300) {
		*out = (struct aws_response){
			.status = resp.status,
			.body = resp.body,
			.body_len = resp.body_len,
			.headers = resp.headers,
		};
		snprintf(out->request_id, sizeof(out->request_id), "%s", rid);
		out->attempts = PETAL_HAS(&resp, attempts) ? resp.attempts : 0;
		resp.body = resp.headers = NULL;
		goto out_response;
	}

	/* With out_path too, only a 2xx body goes to the file; an error's is here. */
	const char *ebody = resp.body;
	size_t elen = resp.body_len;
	char what[600];
	snprintf(what, sizeof(what), "%s %.500s", call->method, url);
	struct aws_error_info info;
	int http_rc = rc;
	rc = aws_error_from_response(t->ep->service_id, call->operation, resp.status, ebody,
	                             elen, resp.headers, what, &info, err);
	if (http_rc != 0) {
		int tries = PETAL_HAS(&resp, attempts) ? resp.attempts : 0;
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof(err->msg) - l, " after %d attempt%s", tries,
		         tries == 1 ? "" : "s");
		rc = http_rc;
	}
	snprintf(out->error_code, sizeof(out->error_code), "%s", info.code);
	if (is_skew_code(info.code)) {
		char date[128];
		int64_t st = PETAL_HAS(&resp, date) && resp.date > 0 ? resp.date : -1;
		if (st < 0 && aws_header_get(resp.headers, "Date", date, sizeof(date)))
			st = aws_parse_time(date);
		if (st < 0 && info.server_time[0])
			st = aws_parse_time(info.server_time);
		if (st > 0) {
			long skew = (long)(st - (int64_t)time(NULL));
			if (labs(skew - k.skew) > SKEW_TOLERANCE_S) {
				a->skewed = 1;
				a->skew = skew;
			}
		}
	}
	if (rc == PETAL_EAUTH) {
		size_t l = strlen(err->msg);
		snprintf(err->msg + l, sizeof(err->msg) - l, "; credentials: %s",
		         c->credentials->source);
	}
out_response:
	if (resp.body)
		host->free(resp.body);
	if (resp.headers)
		host->free(resp.headers);
	free(url);
out_signed:
	sigv4_signed_clear(&sg);
	free(h);
	keys_clear(&k);
	return rc;
}

int aws_request(struct aws_ctx *c, const struct aws_call *call, struct aws_response *out,
                struct petal_error *err)
{
	*out = (struct aws_response){ 0 };
	int rc = aws_ctx_ready(c, err);
	if (rc != 0)
		return rc;
	const struct aws_config *cfg = call->config ? call->config : &c->config;
	struct target t;
	rc = target_locate(cfg, call, &t, err);
	if (rc != 0)
		return rc;
	char *file_body = NULL;
	struct body b = { .p = call->body, .len = call->body_len };
	struct stat st;
	if (call->body_path && call->body_offset == 0 && stat(call->body_path, &st) == 0 &&
	    (uint64_t)st.st_size == call->body_len && call->body_len > STREAM_MIN) {
		/* a whole file: the host streams it, we only hash it first */
		rc = sha256_file(call->body_path, call->body_len, b.sha256, err);
		if (rc != 0)
			goto out_target;
		b.in_path = call->body_path;
		b.p = NULL;
		b.len = 0;
	} else if (call->body_path) {
		rc = read_range(call->body_path, call->body_offset, call->body_len, &file_body,
		                err);
		if (rc != 0)
			goto out_target;
		b.p = file_body;
	}
	for (int i = 0; i < 2; i++) {
		struct attempt a = { 0 };
		*out = (struct aws_response){ 0 };
		rc = attempt(c, call, cfg, &t, &b, out, &a, err);
		if (rc == 0 || !a.skewed || i == 1)
			break;
		pthread_mutex_lock(&c->lock);
		c->skew_s = a.skew;
		pthread_mutex_unlock(&c->lock);
		c->host->log(c->host, PETAL_LOG_DEBUG, "aws", "clock differs from %s's by %ld s: "
		             "signing again with the server's time", t.ep->service_id, a.skew);
	}
	free(file_body);
out_target:
	target_clear(&t);
	return rc;
}

void aws_response_clear(struct aws_ctx *c, struct aws_response *r)
{
	if (!r)
		return;
	if (r->body)
		c->host->free(r->body);
	if (r->headers)
		c->host->free(r->headers);
	*r = (struct aws_response){ 0 };
}
