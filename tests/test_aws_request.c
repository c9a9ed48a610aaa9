/* plugins/cloud_aws/request.c: what aws_request sends through the host's
   http (endpoint, path-style S3 addressing, signature headers, bodies from
   memory, file ranges and whole files), the clock-skew retry, the retry
   classifier, errors after exhausted retries, tuning, and no secret in any
   message or log line.  The host's http is a recording stand-in here; the
   real one is exercised against moto in test_aws_s3. */
#define _GNU_SOURCE
#include "config.h"

#include <CUnit/Basic.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../plugins/cloud_aws/aws_ctx.h"
#include "../plugins/cloud_aws/sigv4.h"
#include "aws/awstest.h"

#define KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define SECRET "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"

/* ---- a host whose http records requests and plays scripted answers -------- */

struct answer {
	int rc;          /* what http returns */
	long status;
	const char *headers;
	const char *body;
	long date_offset; /* Date header: now + this, when headers is NULL */
};

static struct answer script[8];
static size_t n_script, next_answer;
static struct {
	char method[16];
	char url[1024];
	char headers[4096]; /* "name: value\n" */
	char *body;
	size_t body_len;
	char in_path[512];
	char out_path[512];
	int idempotent;
	int classify_throttle, classify_other; /* the classifier's verdicts */
} sent[8];
static size_t n_sent;
static char logbuf[16384];

static void fake_log(const struct petal_host *h, int level, const char *plugin,
                     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fake_log(const struct petal_host *h, int level, const char *plugin,
                     const char *fmt, ...)
{
	(void)h;
	(void)level;
	size_t l = strlen(logbuf);
	va_list ap;
	va_start(ap, fmt);
	l += (size_t)snprintf(logbuf + l, sizeof(logbuf) - l, "[%s] ", plugin);
	if (l < sizeof(logbuf))
		l += (size_t)vsnprintf(logbuf + l, sizeof(logbuf) - l, fmt, ap);
	va_end(ap);
	if (l + 1 < sizeof(logbuf))
		strcat(logbuf, "\n");
}

static void *fake_alloc(size_t n)
{
	return malloc(n);
}

static const char *setting_region;
static int fake_setting(const struct petal_host *h, const char *key, char *buf, size_t len)
{
	(void)h;
	if (strcmp(key, "region") != 0 || !setting_region)
		return PETAL_ENOENT;
	return snprintf(buf, len, "%s", setting_region);
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int fake_http(const struct petal_http_request *req, struct petal_http_response *resp,
                     struct petal_error *err)
{
	size_t i = n_sent < 8 ? n_sent++ : 7;
	snprintf(sent[i].method, sizeof(sent[i].method), "%s", req->method);
	snprintf(sent[i].url, sizeof(sent[i].url), "%s", req->url);
	sent[i].headers[0] = '\0';
	for (size_t h = 0; h < req->n_headers; h++) {
		size_t l = strlen(sent[i].headers);
		snprintf(sent[i].headers + l, sizeof(sent[i].headers) - l, "%s: %s\n",
		         req->headers[h].name, req->headers[h].value);
	}
	free(sent[i].body);
	sent[i].body = req->body_len ? malloc(req->body_len) : NULL;
	if (sent[i].body)
		memcpy(sent[i].body, req->body, req->body_len);
	sent[i].body_len = req->body ? req->body_len : 0;
	snprintf(sent[i].in_path, sizeof(sent[i].in_path), "%s", req->in_path ? req->in_path : "");
	snprintf(sent[i].out_path, sizeof(sent[i].out_path), "%s",
	         req->out_path ? req->out_path : "");
	sent[i].idempotent = req->idempotent;
	if (req->retry_classify) {
		const char *thr = "<Error><Code>Throttling</Code></Error>";
		const char *oth = "<Error><Code>InvalidArgument</Code></Error>";
		sent[i].classify_throttle = req->retry_classify(req->retry_arg, 400, "", thr,
		                                                strlen(thr));
		sent[i].classify_other = req->retry_classify(req->retry_arg, 400, "", oth,
		                                             strlen(oth));
	}
	const struct answer *a = next_answer < n_script ? &script[next_answer++] : NULL;
	if (!a) {
		snprintf(err->msg, sizeof(err->msg), "no scripted answer");
		return err->code = PETAL_ENET;
	}
	char date[300];
	if (!a->headers) {
		time_t t = time(NULL) + a->date_offset;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(date, sizeof(date), "HTTP/1.1 200 OK\r\nDate: %a, %d %b %Y %H:%M:%S GMT\r\n"
		         "x-amz-request-id: REQ-", &tm);
		snprintf(date + strlen(date), sizeof(date) - strlen(date), "%zu\r\n\r\n", i);
	}
	resp->status = a->status;
	resp->headers = strdup(a->headers ? a->headers : date);
	resp->body = dup_or_null(a->body ? a->body : "");
	resp->body_len = strlen(resp->body);
	if (PETAL_HAS(resp, attempts))
		resp->attempts = a->rc ? 4 : 1;
	if (a->rc) {
		snprintf(err->msg, sizeof(err->msg), "%s %s: retries exhausted", req->method, req->url);
		err->code = a->rc;
	}
	return a->rc;
}

static struct petal_host host = {
	.size = sizeof(struct petal_host),
	.abi = PETAL_PLUGIN_ABI,
	.log = fake_log,
	.setting = fake_setting,
	.alloc = fake_alloc,
	.free = free,
	.http = fake_http,
};

static struct aws_ctx *fresh(void)
{
	awstest_fresh();
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("PETAL_AWS_S3_PART_SIZE");
	unsetenv("PETAL_AWS_S3_MULTIPART_THRESHOLD");
	unsetenv("PETAL_AWS_S3_PART_THREADS");
	n_script = next_answer = n_sent = 0;
	logbuf[0] = '\0';
	setting_region = NULL;
	struct aws_ctx *c = NULL;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_ctx_new(&host, NULL, &c, &err), 0);
	return c;
}

static void play(long status, const char *headers, const char *body)
{
	script[n_script++] = (struct answer){ .status = status, .headers = headers, .body = body };
}

static void assert_no_secret(const char *s)
{
	CU_ASSERT_PTR_NULL(strstr(s, SECRET));
	CU_ASSERT_PTR_NULL(strstr(s, "SECRETzz"));
	CU_ASSERT_PTR_NULL(strstr(s, KEY_ID));
}

/* ---- tests ------------------------------------------------------------------ */

static void test_s3_request(void)
{
	struct aws_ctx *c = fresh();
	play(200, NULL, "<ok/>");
	struct petal_http_header h[] = { { "Content-MD5", "abc==" } };
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "PutObject", .method = "PUT",
		.bucket = "my-bucket", .key = "dir/a b+c.txt", .query = "x-id=PutObject",
		.headers = h, .n_headers = 1, .body = "hello", .body_len = 5, .idempotent = 1,
	};
	struct aws_response r;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_request(c, &call, &r, &err), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_STRING_EQUAL(r.body, "<ok/>");
	CU_ASSERT_STRING_EQUAL(r.request_id, "REQ-0");
	aws_response_clear(c, &r);
	aws_response_clear(c, &r); /* twice is fine */
	CU_ASSERT_EQUAL(n_sent, 1);
	/* path-style on a custom endpoint, the key encoded once */
	CU_ASSERT_STRING_EQUAL(sent[0].url,
	                       "http://127.0.0.1:9/my-bucket/dir/a%20b%2Bc.txt?x-id=PutObject");
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].headers, "Host: 127.0.0.1:9\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].headers, "Content-MD5: abc==\n"));
	char sha[65];
	sigv4_sha256_hex("hello", 5, sha);
	char want[100];
	snprintf(want, sizeof(want), "x-amz-content-sha256: %s\n", sha);
	CU_ASSERT_PTR_NOT_NULL(strcasestr(sent[0].headers, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].headers, "Authorization: AWS4-HMAC-SHA256 "
	                              "Credential=" KEY_ID "/"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].headers, "/us-east-1/s3/aws4_request"));
	CU_ASSERT_EQUAL(sent[0].body_len, 5);
	CU_ASSERT_EQUAL(sent[0].idempotent, 1);
	/* AWS's 400 throttles are retried, other 400s are not */
	CU_ASSERT_EQUAL(sent[0].classify_throttle, PETAL_HTTP_RETRY);
	CU_ASSERT_EQUAL(sent[0].classify_other, PETAL_HTTP_DEFAULT);
	/* -v: method, URL, status; never a secret */
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "PUT http://127.0.0.1:9/my-bucket/"));
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "HTTP 200"));
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "credentials: environment"));
	assert_no_secret(logbuf);
	aws_ctx_free(c);
	aws_ctx_free(NULL);
}

static void test_other_service(void)
{
	struct aws_ctx *c = fresh();
	setenv("AWS_ENDPOINT_URL_EC2", "http://127.0.0.1:7/base", 1);
	play(200, NULL, "<DescribeImagesResponse/>");
	const char *form = "Action=DescribeImages&Version=2016-11-15";
	struct aws_call call = {
		.service = AWS_SVC_EC2, .operation = "DescribeImages", .method = "POST",
		.body = form, .body_len = strlen(form),
	};
	struct aws_response r;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_request(c, &call, &r, &err), 0);
	aws_response_clear(c, &r);
	CU_ASSERT_STRING_EQUAL(sent[0].url, "http://127.0.0.1:7/base/");
	CU_ASSERT_PTR_NOT_NULL(strstr(sent[0].headers, "/us-east-1/ec2/aws4_request"));
	CU_ASSERT_PTR_NULL(strcasestr(sent[0].headers, "x-amz-content-sha256"));
	CU_ASSERT_EQUAL(sent[0].idempotent, 0);
	/* a path that is not absolute is refused before sending */
	call.path = "relative";
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(n_sent, 1);
	unsetenv("AWS_ENDPOINT_URL_EC2");
	aws_ctx_free(c);
}

static void test_skew(void)
{
	struct aws_ctx *c = fresh();
	/* an hour off: corrected from Date, signed again, once */
	script[n_script++] = (struct answer){
		.status = 403, .date_offset = 3600,
		.body = "<Error><Code>RequestTimeTooSkewed</Code><Message>The difference between "
		        "the request time and the current time is too large.</Message></Error>",
	};
	play(200, NULL, "");
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "GetObject", .method = "GET",
		.bucket = "b1b", .key = "k", .idempotent = 1,
	};
	struct aws_response r;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), 0);
	aws_response_clear(c, &r);
	CU_ASSERT_EQUAL(n_sent, 2);
	CU_ASSERT(c->skew_s > 3590 && c->skew_s < 3610);
	/* the second request carries the server's time */
	const char *d = strcasestr(sent[1].headers, "X-Amz-Date: ");
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	struct tm tm = { 0 };
	CU_ASSERT_PTR_NOT_NULL(strptime(d + 12, "%Y%m%dT%H%M%SZ", &tm));
	long off = (long)(timegm(&tm) - time(NULL));
	CU_ASSERT(off > 3590 && off < 3610);
	CU_ASSERT_PTR_NOT_NULL(strstr(logbuf, "clock differs"));

	/* skewed twice: the error, after two requests, not a loop */
	script[n_script++] = (struct answer){
		.status = 403, .date_offset = -7200,
		.body = "<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message></Error>",
	};
	script[n_script++] = (struct answer){
		.status = 403, .date_offset = 7200,
		.body = "<Error><Code>RequestTimeTooSkewed</Code><Message>m</Message></Error>",
	};
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_EAUTH);
	CU_ASSERT_EQUAL(n_sent, 4);
	CU_ASSERT_STRING_EQUAL(r.error_code, "RequestTimeTooSkewed");
	CU_ASSERT_EQUAL(r.status, 403);
	/* a signature error without a clock difference is not retried */
	c->skew_s = 0;
	play(403, NULL, "<Error><Code>SignatureDoesNotMatch</Code><Message>no</Message></Error>");
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_EAUTH);
	CU_ASSERT_EQUAL(n_sent, 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "credentials: environment"));
	assert_no_secret(err.msg);
	assert_no_secret(logbuf);
	aws_ctx_free(c);
}

static void test_exhausted(void)
{
	struct aws_ctx *c = fresh();
	/* retries ran out on a 503: AWS's code and the attempts, PETAL_ENET */
	script[n_script++] = (struct answer){
		.rc = PETAL_ENET, .status = 503, .headers = "HTTP/1.1 503 Slow\r\n\r\n",
		.body = "<Error><Code>SlowDown</Code><Message>Please reduce your request rate."
		        "</Message><RequestId>SD1</RequestId></Error>",
	};
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "PutObject", .method = "PUT",
		.bucket = "b1b", .key = "k", .body = "x", .body_len = 1, .idempotent = 1,
	};
	struct aws_response r;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "S3 PutObject: SlowDown: Please reduce"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id SD1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "after 4 attempts"));
	/* no answer at all: the host's message, named by operation */
	script[n_script++] = (struct answer){ .rc = PETAL_ENET, .status = 0, .headers = "" };
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "S3 PutObject: PUT http://127.0.0.1:9/b1b/k"));
	aws_ctx_free(c);
}

static void test_bodies(void)
{
	struct aws_ctx *c = fresh();
	char path[] = "/tmp/petal-aws-body-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	/* 1.5 MiB: a whole file is streamed (in_path), a range is read */
	size_t n = 3u << 19;
	char *data = malloc(n);
	for (size_t i = 0; i < n; i++)
		data[i] = (char)(i * 7 + i / 251);
	CU_ASSERT_EQUAL(write(fd, data, n), (ssize_t)n);
	close(fd);
	play(200, NULL, "");
	play(200, NULL, "");
	play(200, NULL, "");
	struct aws_call call = {
		.service = AWS_SVC_S3, .operation = "PutObject", .method = "PUT",
		.bucket = "b1b", .key = "k", .body_path = path, .body_len = n, .idempotent = 1,
	};
	struct aws_response r;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), 0);
	aws_response_clear(c, &r);
	CU_ASSERT_STRING_EQUAL(sent[0].in_path, path);
	CU_ASSERT_EQUAL(sent[0].body_len, 0);
	char sha[65], want[100];
	sigv4_sha256_hex(data, n, sha);
	snprintf(want, sizeof(want), "x-amz-content-sha256: %s", sha);
	CU_ASSERT_PTR_NOT_NULL(strcasestr(sent[0].headers, want));

	call.body_offset = 1000;
	call.body_len = 5000;
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), 0);
	aws_response_clear(c, &r);
	CU_ASSERT_STRING_EQUAL(sent[1].in_path, "");
	CU_ASSERT_EQUAL(sent[1].body_len, 5000);
	CU_ASSERT(sent[1].body && memcmp(sent[1].body, data + 1000, 5000) == 0);

	/* a range past the end of the file: refused, nothing sent */
	call.body_offset = n - 10;
	call.body_len = 100;
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_EIO);
	CU_ASSERT_EQUAL(n_sent, 2);
	/* out_path goes to the host as is */
	struct aws_call get = {
		.service = AWS_SVC_S3, .operation = "GetObject", .method = "GET",
		.bucket = "b1b", .key = "k", .out_path = "/tmp/x.part", .idempotent = 1,
	};
	CU_ASSERT_EQUAL(aws_request(c, &get, &r, &err), 0);
	aws_response_clear(c, &r);
	CU_ASSERT_STRING_EQUAL(sent[2].out_path, "/tmp/x.part");
	unlink(path);
	free(data);
	aws_ctx_free(c);
}

static void test_ctx(void)
{
	struct aws_ctx *c = fresh();
	CU_ASSERT_EQUAL(c->s3.multipart_threshold, AWS_S3_DEFAULT_THRESHOLD);
	aws_ctx_free(c);
	setenv("PETAL_AWS_S3_PART_SIZE", "8MiB", 1);
	setenv("PETAL_AWS_S3_MULTIPART_THRESHOLD", "64k", 1);
	setenv("PETAL_AWS_S3_PART_THREADS", "7", 1);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_ctx_new(&host, "eu-west-3", &c, &err), 0);
	CU_ASSERT_EQUAL(c->s3.part_size, 8u << 20);
	CU_ASSERT_EQUAL(c->s3.multipart_threshold, 64u << 10);
	CU_ASSERT_EQUAL(c->s3.part_threads, 7);
	/* the seed's region wins over AWS_REGION, resolved on first use */
	CU_ASSERT_EQUAL(c->ready, 0);
	CU_ASSERT_EQUAL(aws_ctx_ready(c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->config.region, "eu-west-3");
	aws_ctx_free(c);
	setenv("PETAL_AWS_S3_PART_THREADS", "lots", 1);
	c = (struct aws_ctx *)1;
	CU_ASSERT_EQUAL(aws_ctx_new(&host, NULL, &c, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PETAL_AWS_S3_PART_THREADS"));
	unsetenv("PETAL_AWS_S3_PART_THREADS");

	/* the host's region setting comes before AWS_REGION */
	c = fresh();
	setting_region = "ap-south-1";
	CU_ASSERT_EQUAL(aws_ctx_ready(c, &err), 0);
	CU_ASSERT_STRING_EQUAL(c->config.region, "ap-south-1");
	aws_ctx_free(c);

	/* no credentials: EAUTH at first use (init itself succeeds), kept */
	c = fresh();
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	struct aws_call call = { .service = AWS_SVC_S3, .operation = "ListBuckets", .method = "GET" };
	struct aws_response r;
	CU_ASSERT_EQUAL(aws_request(c, &call, &r, &err), PETAL_EAUTH);
	CU_ASSERT_EQUAL(n_sent, 0);
	setenv("AWS_ACCESS_KEY_ID", KEY_ID, 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	CU_ASSERT_EQUAL(aws_ctx_ready(c, &err), PETAL_EAUTH);
	aws_ctx_free(c);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("aws_request", NULL, NULL);
	if (!s || !CU_add_test(s, "S3: path style, signed, logged without secrets",
	                       test_s3_request) ||
	    !CU_add_test(s, "other services: endpoint base path", test_other_service) ||
	    !CU_add_test(s, "clock skew corrected once", test_skew) ||
	    !CU_add_test(s, "retries exhausted, no answer", test_exhausted) ||
	    !CU_add_test(s, "bodies: streamed file, range, out_path", test_bodies) ||
	    !CU_add_test(s, "context: tuning, region, lazy credentials", test_ctx)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	int reg_err = CU_get_error();
	awstest_cleanup();
	CU_cleanup_registry();
	return failed || reg_err ? 1 : 0;
}
