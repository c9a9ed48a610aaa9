/* core/net: the HTTP client behind host->http, against a loopback server
   that fails on purpose (tests/net/fault_server.py).  Retry rules, backoff,
   errors and dates here; transfers in tests/net/transfer_tests.c; rate
   faults and the proxy in tests/net/fault_tests.c. */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "net/httptest.h"

struct faultsrv srv;

/* ---- helpers ------------------------------------------------------------------ */

void http_release(struct petal_http_response *resp)
{
	free(resp->body);
	free(resp->headers);
	*resp = (struct petal_http_response){ .size = sizeof(*resp) };
}

int http_call(const char *method, const char *path, int idempotent, int max_attempts,
              struct petal_http_response *resp, struct petal_error *err)
{
	char *url = faultsrv_url(&srv, path);
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = method, .url = url, .idempotent = idempotent,
		.timeout_s = 20, .max_attempts = max_attempts,
	};
	http_release(resp);
	memset(err, 0, sizeof(*err));
	int rc = petal_http(&rq, resp, err);
	free(url);
	return rc;
}

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void temp_dir(char *buf, size_t len)
{
	const char *t = getenv("TMPDIR");
	snprintf(buf, len, "%s/petal-http-dl-XXXXXX", t && *t ? t : "/tmp");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(buf));
}

int dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;
	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];
	if (!d)
		return;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
			snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(dir);
}

/* ---- pure pieces ---------------------------------------------------------------- */

static void test_backoff_formula(void)
{
	CU_ASSERT_EQUAL(petal_http_backoff_ms(1, 0.0), 0);
	CU_ASSERT_EQUAL(petal_http_backoff_ms(1, 0.5), 50);
	CU_ASSERT_EQUAL(petal_http_backoff_ms(2, 0.5), 100);
	CU_ASSERT_EQUAL(petal_http_backoff_ms(3, 0.5), 200);
	CU_ASSERT_TRUE(petal_http_backoff_ms(1, 0.9999) < 100);
	/* the cap: 100 ms * 2^8 = 25.6 s is past 20 s */
	CU_ASSERT_EQUAL(petal_http_backoff_ms(9, 0.5), 10000);
	CU_ASSERT_EQUAL(petal_http_backoff_ms(1000, 0.5), 10000);
	CU_ASSERT_TRUE(petal_http_backoff_ms(40, 1.0) < 20000);
}

static void test_attempts_setting(void)
{
	struct petal_http_request rq = { .size = sizeof(rq) };
	unsetenv("PETAL_MAX_ATTEMPTS");
	unsetenv("AWS_MAX_ATTEMPTS");
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), 3);
	setenv("AWS_MAX_ATTEMPTS", "5", 1);
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), 5);
	setenv("PETAL_MAX_ATTEMPTS", "7", 1);
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), 7);
	setenv("PETAL_MAX_ATTEMPTS", "seven", 1); /* not a number: the next setting */
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), 5);
	setenv("PETAL_MAX_ATTEMPTS", "100000", 1);
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), PETAL_HTTP_MAX_ATTEMPTS);
	rq.max_attempts = 2;
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), 2);
	/* a plugin built before max_attempts existed: its request is shorter */
	rq.size = offsetof(struct petal_http_request, retry_classify);
	CU_ASSERT_EQUAL(petal_http_max_attempts(&rq), PETAL_HTTP_MAX_ATTEMPTS);
	unsetenv("PETAL_MAX_ATTEMPTS");
	unsetenv("AWS_MAX_ATTEMPTS");
}

static void test_dates(void)
{
	CU_ASSERT_EQUAL(petal_http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
	CU_ASSERT_EQUAL(petal_http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
	CU_ASSERT_EQUAL(petal_http_parse_date("Sun Nov  6 08:49:37 1994"), 784111777);
	CU_ASSERT_EQUAL(petal_http_parse_date("Thu, 01 Jan 1970 00:00:00 GMT"), 0);
	CU_ASSERT_EQUAL(petal_http_parse_date("Tue, 29 Feb 2028 23:59:59 GMT"), 1835481599);
	CU_ASSERT_EQUAL(petal_http_parse_date("Sun, 06 Nov 1994 08:49:37 PST"), -1);
	CU_ASSERT_EQUAL(petal_http_parse_date("Sun, 06 Foo 1994 08:49:37 GMT"), -1);
	CU_ASSERT_EQUAL(petal_http_parse_date("Sun, 06 Nov 1994 25:49:37 GMT"), -1);
	CU_ASSERT_EQUAL(petal_http_parse_date("yesterday"), -1);
	CU_ASSERT_EQUAL(petal_http_parse_date(""), -1);
	CU_ASSERT_EQUAL(petal_http_parse_date(NULL), -1);
}

static void test_header_lookup(void)
{
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nx-amz-request-id:  R1 \r\n"
	                "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n";
	char v[64];
	CU_ASSERT_EQUAL(petal_http_header_value(h, "X-Amz-Request-Id", v, sizeof(v)), 0);
	CU_ASSERT_STRING_EQUAL(v, "R1");
	CU_ASSERT_EQUAL(petal_http_header_value(h, "date", v, sizeof(v)), 0);
	CU_ASSERT_STRING_EQUAL(v, "Sun, 06 Nov 1994 08:49:37 GMT");
	CU_ASSERT_EQUAL(petal_http_header_value(h, "Content-Length", v, 3), 0);
	CU_ASSERT_STRING_EQUAL(v, "12");
	CU_ASSERT_EQUAL(petal_http_header_value(h, "Content", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(petal_http_header_value(h, "ETag", v, sizeof(v)), -1);
	CU_ASSERT_EQUAL(petal_http_header_value(NULL, "ETag", v, sizeof(v)), -1);
}

static void test_redaction(void)
{
	char b[512];
	petal_http_redact_url("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	                      "&X-Amz-Credential=AKIDEXAMPLE%2F20150830&x-amz-signature=abc123"
	                      "&X-Amz-Security-Token=FQoGZXIvYXdzE&part=2#frag", b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256"
	                          "&X-Amz-Credential=REDACTED&x-amz-signature=REDACTED"
	                          "&X-Amz-Security-Token=REDACTED&part=2#frag");
	petal_http_redact_url("http://user:pass@127.0.0.1:9/p?a=1", b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "http://127.0.0.1:9/p?a=1");
	petal_http_redact_url("http://h/p?X-Amz-Signature", b, sizeof(b));
	CU_ASSERT_STRING_EQUAL(b, "http://h/p?X-Amz-Signature");
	petal_http_redact_url("http://h/a/b/c/d", b, 10);
	CU_ASSERT_STRING_EQUAL(b, "http:/...");
	CU_ASSERT_EQUAL(strlen(b), 9);
}

/* ---- retries against the server ---------------------------------------------------- */

static void test_retry_until_success(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	CU_ASSERT_EQUAL(http_call("GET", "/flaky/k2?fail=2", 1, 5, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_EQUAL(r.attempts, 3);
	CU_ASSERT_STRING_EQUAL(r.body ? r.body : "", "good k2\n");
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/flaky/k2"), 3);
	/* each retryable status, and a reset, is retried the same way */
	static const char *const kinds[] = { "500", "502", "504", "429", "reset", "truncate" };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		char p[128], key[64];
		snprintf(key, sizeof(key), "/flaky/kind-%s", kinds[i]);
		snprintf(p, sizeof(p), "%s?fail=1&with=%s", key, kinds[i]);
		CU_ASSERT_EQUAL(http_call("GET", p, 1, 3, &r, &e), 0);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_EQUAL(faultsrv_count(&srv, key), 2);
	}
	http_release(&r);
}

static void test_non_idempotent_once(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	CU_ASSERT_EQUAL(http_call("POST", "/status/503", 0, 5, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_EQUAL(r.attempts, 1);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/503"), 1);
	CU_ASSERT_EQUAL(http_call("POST", "/reset", 0, 5, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/reset"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not retried"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "POST http://127.0.0.1:"));
	http_release(&r);
}

static void test_exhausted(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	long before = faultsrv_count(&srv, "/status/503");
	int rc = http_call("GET", "/status/503?X-Amz-Credential=AKIDSECRETISH%2Fx"
	                   "&X-Amz-Signature=deadbeefsig&list-type=2", 1, 3, &r, &e);
	CU_ASSERT_EQUAL(rc, PETAL_ENET);
	CU_ASSERT_EQUAL(e.code, PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/503") - before, 3);
	char want[128];
	snprintf(want, sizeof(want), "GET http://127.0.0.1:%d/status/503?", srv.port);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, want));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "HTTP 503"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "3 attempts"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "list-type=2"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "AKIDSECRETISH"));
	CU_ASSERT_PTR_NULL(strstr(e.msg, "deadbeefsig"));
	/* the last answer stays readable: S3's error code is in it */
	CU_ASSERT_EQUAL(r.status, 503);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "<Code>ServiceUnavailable</Code>") : NULL);
	CU_ASSERT_EQUAL(r.attempts, 3);

	/* no answer at all: libcurl's words, the attempts */
	CU_ASSERT_EQUAL(http_call("GET", "/reset", 1, 2, &r, &e), PETAL_ENET);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "2 attempts"));
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "reset"));
	CU_ASSERT_PTR_NULL(r.body);
	http_release(&r);
}

static void test_not_retried_statuses(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	CU_ASSERT_EQUAL(http_call("GET", "/status/404", 1, 5, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/404"), 1);
	CU_ASSERT_EQUAL(http_call("GET", "/status/400?code=RequestTimeTooSkewed", 1, 5, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 400);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/400"), 1);
	CU_ASSERT_EQUAL(http_call("GET", "/status/501", 1, 5, &r, &e), 0);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/501"), 1);
	http_release(&r);
}

struct verdicts {
	int calls;
	long last_status;
	int verdict;
};

static int classify(void *arg, long status, const char *headers, const char *body, size_t len)
{
	struct verdicts *v = arg;
	v->calls++;
	v->last_status = status;
	if (v->verdict != PETAL_HTTP_RETRY)
		return v->verdict;
	return headers && strstr(headers, "x-amz-request-id") && len && body &&
	       strstr(body, "<Code>ThrottlingException</Code>") ? PETAL_HTTP_RETRY
	                                                          : PETAL_HTTP_DEFAULT;
}

static void test_classifier(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	struct verdicts v = { .verdict = PETAL_HTTP_RETRY };
	char *url = faultsrv_url(&srv, "/status/400?code=ThrottlingException");
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "GET", .url = url, .idempotent = 1,
		.max_attempts = 3, .retry_classify = classify, .retry_arg = &v,
	};
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(v.calls, 3);
	CU_ASSERT_EQUAL(v.last_status, 400);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/400"), 4); /* one earlier */
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "HTTP 400 after 3 attempts"));
	http_release(&r);
	free(url);

	/* the caller may also keep a status the core would retry */
	v = (struct verdicts){ .verdict = PETAL_HTTP_NO_RETRY };
	url = faultsrv_url(&srv, "/status/502");
	rq.url = url;
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 502);
	CU_ASSERT_EQUAL(v.calls, 1);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/status/502"), 1);
	http_release(&r);
	free(url);
}

static void test_backoff_waits(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	double t0 = now_s();
	CU_ASSERT_EQUAL(http_call("GET", "/flaky/bk?fail=4", 1, 5, &r, &e), 0);
	double took = now_s() - t0;
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/flaky/bk"), 5);
	/* four sleeps of up to 100, 200, 400, 800 ms: their sum is below 1.5 s, and
	   below 10 ms only about once in ten million runs */
	CU_ASSERT_TRUE(took >= 0.010);
	CU_ASSERT_TRUE(took < 1.5 + 1.0);
	t0 = now_s();
	CU_ASSERT_EQUAL(http_call("GET", "/flaky/bk0?fail=0", 1, 5, &r, &e), 0);
	CU_ASSERT_TRUE(now_s() - t0 < 0.5); /* no wait without a failure */
	http_release(&r);
}

static void test_env_attempts(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	setenv("PETAL_MAX_ATTEMPTS", "4", 1);
	CU_ASSERT_EQUAL(http_call("GET", "/flaky/env4?fail=9", 1, 0, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/flaky/env4"), 4);
	unsetenv("PETAL_MAX_ATTEMPTS");
	setenv("AWS_MAX_ATTEMPTS", "1", 1);
	CU_ASSERT_EQUAL(http_call("GET", "/flaky/env1?fail=9", 1, 0, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&srv, "/flaky/env1"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "after 1 attempt "));
	unsetenv("AWS_MAX_ATTEMPTS");
	http_release(&r);
}

static void test_date_header(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e;
	CU_ASSERT_EQUAL(http_call("GET", "/date?value=Sun,%2006%20Nov%201994%2008:49:37%20GMT",
	                          1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(r.date, 784111777);
	CU_ASSERT_EQUAL(http_call("GET", "/date?value=not%20a%20date", 1, 1, &r, &e), 0);
	CU_ASSERT_EQUAL(r.date, 0);
	/* the server's own clock, near ours */
	CU_ASSERT_EQUAL(http_call("GET", "/ok", 1, 1, &r, &e), 0);
	CU_ASSERT_TRUE(llabs((long long)(r.date - time(NULL))) < 60);
	http_release(&r);
}

static void test_timeouts(void)
{
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	char *url = faultsrv_url(&srv, "/stall?s=6");
	/* a transfer that stops moving: the stall limit, not the overall one */
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = "GET", .url = url, .stall_timeout_s = 1,
	};
	double t0 = now_s();
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ETIMEOUT);
	CU_ASSERT_TRUE(now_s() - t0 < 4.0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "/stall"));
	http_release(&r);
	free(url);
	url = faultsrv_url(&srv, "/slow?ms=4000");
	rq = (struct petal_http_request){ .size = sizeof(rq), .method = "GET", .url = url,
		                          .timeout_s = 1 };
	t0 = now_s();
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ETIMEOUT);
	CU_ASSERT_TRUE(now_s() - t0 < 3.0);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "timed out"));
	http_release(&r);
	free(url);
}

static int suite_init(void)
{
	return faultsrv_start(&srv, NULL);
}

static int suite_clean(void)
{
	faultsrv_stop(&srv);
	return 0;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite u = CU_add_suite("http pieces", NULL, NULL);
	CU_pSuite s = CU_add_suite("http retries", suite_init, suite_clean);
	CU_pSuite t = CU_add_suite("http transfers", suite_init, suite_clean);
	CU_pSuite f = CU_add_suite("http faults, proxy, TLS", NULL, NULL);
	if (!u || !s || !t || !f ||
	    !CU_add_test(u, "backoff formula", test_backoff_formula) ||
	    !CU_add_test(u, "attempts setting", test_attempts_setting) ||
	    !CU_add_test(u, "dates", test_dates) ||
	    !CU_add_test(u, "header lookup", test_header_lookup) ||
	    !CU_add_test(u, "url redaction", test_redaction) ||
	    !CU_add_test(s, "retry until success", test_retry_until_success) ||
	    !CU_add_test(s, "non-idempotent sent once", test_non_idempotent_once) ||
	    !CU_add_test(s, "attempts exhausted", test_exhausted) ||
	    !CU_add_test(s, "statuses not retried", test_not_retried_statuses) ||
	    !CU_add_test(s, "caller's classifier", test_classifier) ||
	    !CU_add_test(s, "backoff waits", test_backoff_waits) ||
	    !CU_add_test(s, "attempts from the environment", test_env_attempts) ||
	    !CU_add_test(s, "Date header", test_date_header) ||
	    !CU_add_test(s, "timeouts", test_timeouts) ||
	    add_transfer_tests(t) != 0 || add_fault_tests(f) != 0 || add_tls_tests(f) != 0) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	petal_http_thread_cleanup();
	return failed ? 1 : 0;
}
