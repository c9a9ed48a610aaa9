/* tests/test_http: what goes over the wire and where answers land
   (headers sent exactly, bodies from memory and files, downloads written
   atomically, connection reuse, redirects, progress). */
#define _GNU_SOURCE
#include "config.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "httptest.h"
#include "core/util/util.h"

static void sha256_hex(const void *p, size_t n, char out[65])
{
	unsigned char md[32];
	unsigned int len = 0;
	EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* The server's pattern for /bytes/N?seed=S. */
static unsigned char *pattern(size_t n, int seed)
{
	unsigned char *b = malloc(n ? n : 1);
	for (size_t i = 0; i < n; i++)
		b[i] = (unsigned char)((i * 131 + (size_t)seed * 7 + i / 256) % 256);
	return b;
}

/* The value of header `name` as the echo server saw it, or NULL. */
static const char *echoed(json_t *doc, const char *name)
{
	size_t i;
	json_t *h;
	json_array_foreach(json_object_get(doc, "headers"), i, h)
		if (strcasecmp(json_string_value(json_array_get(h, 0)), name) == 0)
			return json_string_value(json_array_get(h, 1));
	return NULL;
}

static json_t *echo(const struct petal_http_request *base, struct petal_error *e)
{
	struct petal_http_response r = { .size = sizeof(r) };
	int rc = petal_http(base, &r, e);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(r.status, 200);
	json_t *doc = rc == 0 && r.body ? json_loads(r.body, 0, NULL) : NULL;
	CU_ASSERT_PTR_NOT_NULL(doc);
	http_release(&r);
	return doc;
}

static void test_headers_exact(void)
{
	struct petal_error e = { 0 };
	char *url = faultsrv_url(&srv, "/echo/up");
	static const char body[] = "hello, bucket";
	const struct petal_http_header h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "X-Amz-Date", "20130524T000000Z" },
		{ "x-amz-content-sha256", "UNSIGNED-PAYLOAD" },
		{ "x-amz-meta-empty", "" },
		{ "Content-Length", "13" }, /* signed by some callers: sent once */
	};
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "PUT", .url = url, .headers = h, .n_headers = 5,
		.body = body, .body_len = strlen(body), .idempotent = 1,
	};
	json_t *doc = echo(&rq, &e);
	if (doc) {
		char sha[65];
		sha256_hex(body, strlen(body), sha);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "method")), "PUT");
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "body_len")), (json_int_t)strlen(body));
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "body_sha256")), sha);
		CU_ASSERT_STRING_EQUAL(echoed(doc, "Host"), "examplebucket.s3.amazonaws.com");
		CU_ASSERT_STRING_EQUAL(echoed(doc, "X-Amz-Date"), "20130524T000000Z");
		CU_ASSERT_STRING_EQUAL(echoed(doc, "x-amz-meta-empty"), "");
		CU_ASSERT_STRING_EQUAL(echoed(doc, "Content-Length"), "13");
		size_t i, n_len = 0;
		json_t *hv;
		json_array_foreach(json_object_get(doc, "headers"), i, hv)
			n_len += strcasecmp(json_string_value(json_array_get(hv, 0)),
			                    "Content-Length") == 0;
		CU_ASSERT_EQUAL(n_len, 1);
		/* nothing libcurl would add on its own */
		CU_ASSERT_PTR_NULL(echoed(doc, "Expect"));
		CU_ASSERT_PTR_NULL(echoed(doc, "Accept"));
		CU_ASSERT_PTR_NULL(echoed(doc, "Transfer-Encoding"));
		CU_ASSERT_PTR_NULL(echoed(doc, "Content-Type"));
		json_decref(doc);
	}
	free(url);

	/* a POST without a body still says Content-Length: 0 */
	url = faultsrv_url(&srv, "/echo/a/../b/./c?uploads");
	rq = (struct petal_http_request){ .size = sizeof(rq), .method = "POST", .url = url };
	doc = echo(&rq, &e);
	if (doc) {
		CU_ASSERT_STRING_EQUAL(echoed(doc, "Content-Length"), "0");
		/* the path as given: S3 keys keep their dot segments */
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "path")),
		                       "/echo/a/../b/./c?uploads");
		json_decref(doc);
	}
	free(url);

	/* a value that would smuggle in a second header is refused */
	url = faultsrv_url(&srv, "/echo");
	const struct petal_http_header bad = { "X-Amz-Date", "x\r\nX-Evil: 1" };
	rq = (struct petal_http_request){ .size = sizeof(rq), .method = "GET", .url = url,
		                          .headers = &bad, .n_headers = 1 };
	struct petal_http_response r = { .size = sizeof(r) };
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_EINVAL);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/echo"), 0);
	http_release(&r);
	free(url);
}

static void test_upload_file(void)
{
	char dir[256], path[512], sha[65];
	struct petal_error e = { 0 };
	size_t n = 3 * 1024 * 1024 + 17; /* past any Expect: 100-continue threshold */
	unsigned char *data = pattern(n, 5);
	temp_dir(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/part", dir);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(data, 1, n, f), n);
	fclose(f);
	sha256_hex(data, n, sha);
	char *url = faultsrv_url(&srv, "/echo/file");
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "PUT", .url = url, .in_path = path,
		.body = "ignored", .body_len = 7, .idempotent = 1,
	};
	json_t *doc = echo(&rq, &e);
	if (doc) {
		CU_ASSERT_EQUAL(json_integer_value(json_object_get(doc, "body_len")), (json_int_t)n);
		CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(doc, "body_sha256")), sha);
		CU_ASSERT_PTR_NULL(echoed(doc, "Expect"));
		json_decref(doc);
	}
	/* a file that is not there: a local error, nothing sent */
	struct petal_http_response r = { .size = sizeof(r) };
	rq.in_path = "/nonexistent/petal/part";
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/nonexistent/petal/part"));
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/echo/file"), 1);
	http_release(&r);
	free(url);
	free(data);
	remove_dir(dir);
}

static int download(const char *path, const char *out, int max, struct petal_http_response *r,
                    struct petal_error *e)
{
	char *url = faultsrv_url(&srv, path);
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "GET", .url = url, .out_path = out,
		.idempotent = 1, .max_attempts = max,
	};
	http_release(r);
	int rc = petal_http(&rq, r, e);
	free(url);
	return rc;
}

static void test_download(void)
{
	char dir[256], out[512];
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	struct stat st;
	temp_dir(dir, sizeof(dir));
	snprintf(out, sizeof(out), "%s/blob", dir);

	/* failures leave nothing behind: no file, no temporary */
	CU_ASSERT_EQUAL(download("/truncate", out, 2, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/truncate"), 2);
	CU_ASSERT_EQUAL(r.status, 0); /* an answer cut short is no answer */
	CU_ASSERT_PTR_NULL(r.body);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "cut short"));
	CU_ASSERT_EQUAL(dir_entries(dir), 0);
	CU_ASSERT_EQUAL(download("/status/404", out, 2, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "<Error>") : NULL);
	CU_ASSERT_EQUAL(dir_entries(dir), 0);

	/* a retried download: the exact bytes, nothing else in the directory */
	size_t n = 300000;
	unsigned char *want = pattern(n, 3);
	CU_ASSERT_EQUAL(download("/flaky/dl?fail=1&with=truncate", out, 3, &r, &e), 0);
	CU_ASSERT_EQUAL(download("/bytes/300000?seed=3", out, 3, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NULL(r.body);
	char *got = NULL;
	size_t len = 0;
	CU_ASSERT_EQUAL_FATAL(petal_read_file(out, 1 << 24, &got, &len, &e), 0);
	CU_ASSERT_EQUAL(len, n);
	CU_ASSERT_TRUE(len == n && memcmp(got, want, n) == 0);
	free(got);
	CU_ASSERT_EQUAL(dir_entries(dir), 1);

	/* a failure after a success keeps the earlier file whole */
	CU_ASSERT_EQUAL(download("/truncate", out, 1, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(stat(out, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, (off_t)n);
	CU_ASSERT_EQUAL(dir_entries(dir), 1);

	/* an empty object is an empty file */
	CU_ASSERT_EQUAL(download("/bytes/0", out, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(stat(out, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 0);

	/* a directory that does not exist: a local error */
	snprintf(out, sizeof(out), "%s/missing/blob", dir);
	CU_ASSERT_EQUAL(download("/bytes/10", out, 1, &r, &e), PETAL_EIO);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "missing/blob"));
	http_release(&r);
	free(want);
	remove_dir(dir);
}

static void test_head_and_redirect(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	char v[32];
	CU_ASSERT_EQUAL(http_call("HEAD", "/bytes/100", 1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, 0);
	CU_ASSERT_EQUAL(petal_http_header_value(r.headers, "Content-Length", v, sizeof(v)), 0);
	CU_ASSERT_STRING_EQUAL(v, "100");
	CU_ASSERT_EQUAL(http_call("GET", "/redirect?to=/bytes/10", 1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 302);

	char *url = faultsrv_url(&srv, "/redirect?to=/bytes/10");
	struct petal_http_request rq = { .size = sizeof(rq), .method = "GET", .url = url,
		                         .follow_redirects = 1 };
	http_release(&r);
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.body_len, 10);
	/* only the final answer's headers */
	CU_ASSERT_PTR_NULL(r.headers ? strstr(r.headers, "302") : "x");
	http_release(&r);
	free(url);
}

static long conns_before, conns_after;

static void *three_requests(void *arg)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	int *ok = arg;
	for (int i = 0; i < 3; i++)
		*ok += http_call("GET", "/ok", 1, 1, &r, &e) == 0 && r.status == 200;
	http_release(&r);
	return NULL;
}

static void test_connection_reuse(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	int ok = 0;
	/* this thread: at most one new connection for three requests */
	conns_before = faultsrv_connections(&srv);
	three_requests(&ok);
	conns_after = faultsrv_connections(&srv);
	CU_ASSERT_EQUAL(ok, 3);
	CU_ASSERT_TRUE(conns_after - conns_before <= 1);
	/* a new thread gets its own handle: exactly one more connection, kept */
	pthread_t t;
	ok = 0;
	conns_before = conns_after;
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, three_requests, &ok), 0);
	pthread_join(t, NULL);
	CU_ASSERT_EQUAL(ok, 3);
	CU_ASSERT_EQUAL(faultsrv_connections(&srv) - conns_before, 1);
	/* a reset kills the connection: the handle opens one more and reuses it */
	CU_ASSERT_EQUAL(http_call("GET", "/reset", 1, 1, &r, &e), PETAL_ENET);
	conns_before = faultsrv_connections(&srv);
	CU_ASSERT_EQUAL(http_call("GET", "/ok", 1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(http_call("GET", "/ok", 1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(faultsrv_connections(&srv) - conns_before, 1);
	/* a request that is not safe to repeat never rides a reused connection
	   (libcurl would silently resend it if that connection died) */
	conns_before = faultsrv_connections(&srv);
	CU_ASSERT_EQUAL(http_call("POST", "/ok", 0, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(faultsrv_connections(&srv) - conns_before, 1);
	http_release(&r);
}

struct seen {
	uint64_t last, total;
	int calls, stop_at, nested, nested_ok;
};

static int on_progress(void *arg, uint64_t done, uint64_t total)
{
	struct seen *s = arg;
	s->calls++;
	s->last = done;
	s->total = total;
	if (s->nested && done > 0) {
		/* a request from inside a transfer: the busy handle is not reused */
		struct petal_http_response r = { .size = sizeof(r) };
		struct petal_error e;
		s->nested = 0;
		s->nested_ok = http_call("GET", "/ok", 1, 1, &r, &e) == 0 && r.status == 200;
		http_release(&r);
	}
	return s->stop_at && done > 0;
}

static void test_progress(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	struct seen s = { 0 };
	char *url = faultsrv_url(&srv, "/bytes/200000");
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "GET", .url = url, .idempotent = 1,
		.progress = on_progress, .progress_arg = &s,
	};
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_TRUE(s.calls > 0);
	CU_ASSERT_EQUAL(s.last, 200000);
	CU_ASSERT_EQUAL(s.total, 200000);
	s = (struct seen){ .nested = 1 };
	http_release(&r);
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_EQUAL(r.body_len, 200000);
	CU_ASSERT_EQUAL(s.nested_ok, 1);
	/* a caller that says stop: no retry, an error that says who stopped */
	s = (struct seen){ .stop_at = 1 };
	long before = faultsrv_count(&srv, "/bytes/200000");
	http_release(&r);
	CU_ASSERT_NOT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "progress"));
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/bytes/200000") - before, 1);
	http_release(&r);
	free(url);
}

static void test_bad_requests(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	struct petal_http_request rq = { .size = sizeof(rq), .method = "GET" };
	CU_ASSERT_EQUAL(petal_http(NULL, &r, &e), PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_EINVAL); /* no URL */
	rq.url = "http://127.0.0.1:1/x";
	CU_ASSERT_EQUAL(petal_http(&rq, NULL, &e), PETAL_EINVAL);
	struct petal_http_response tiny = { .size = 8 };
	CU_ASSERT_EQUAL(petal_http(&rq, &tiny, &e), PETAL_EINVAL);
	rq.method = "GE T";
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "GE T"));
	/* schemes other than http and https are not fetched */
	rq.method = "GET";
	rq.url = "file:///etc/passwd";
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ENET);
	CU_ASSERT_PTR_NULL(r.body);
	http_release(&r);
	/* nobody listening: refused, retried, reported */
	rq.url = "http://127.0.0.1:1/x";
	rq.idempotent = 1;
	rq.max_attempts = 2;
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "127.0.0.1:1/x"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "2 attempts"));
	CU_ASSERT_EQUAL(r.attempts, 2);
	http_release(&r);
}

int add_transfer_tests(CU_pSuite s)
{
	return !CU_add_test(s, "headers sent exactly", test_headers_exact) ||
	       !CU_add_test(s, "upload from a file", test_upload_file) ||
	       !CU_add_test(s, "download to a file", test_download) ||
	       !CU_add_test(s, "HEAD and redirects", test_head_and_redirect) ||
	       !CU_add_test(s, "connection reuse", test_connection_reuse) ||
	       !CU_add_test(s, "progress", test_progress) ||
	       !CU_add_test(s, "bad requests", test_bad_requests);
}
