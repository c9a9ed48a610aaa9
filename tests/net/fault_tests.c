/* tests/test_http: faults at a set rate, and fault_server.py as a proxy in
   front of another server (as integration tests put it before moto). */
#define _GNU_SOURCE
#include "config.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httptest.h"

static long stat_of(const struct faultsrv *s, const char *key)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/stats.json", s->dir);
	json_t *j = json_load_file(p, 0, NULL);
	long n = j ? (long)json_integer_value(json_object_get(j, key)) : -1;
	json_decref(j);
	return n;
}

/* 40 idempotent requests through a server failing 30% of the time in
   every way it knows: all succeed, and faults really happened. */
static void test_rate_faults(void)
{
	struct faultsrv f;
	static const char *const args[] = { "--fail-rate", "0.3", "--mode", "mix", "--seed",
		                            "7", NULL };
	CU_ASSERT_EQUAL_FATAL(faultsrv_start(&f, args), 0);
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	char *url = faultsrv_url(&f, "/bytes/5000?seed=1");
	int ok = 0;
	for (int i = 0; i < 40; i++) {
		struct petal_http_request rq = { .size = sizeof(rq), .method = "GET", .url = url,
			                         .idempotent = 1, .max_attempts = 12 };
		if (petal_http(&rq, &r, &e) == 0 && r.status == 200 && r.body_len == 5000)
			ok++;
		else
			fprintf(stderr, "\n  request %d: %s\n", i, e.msg);
		http_release(&r);
	}
	CU_ASSERT_EQUAL(ok, 40);
	long faults = stat_of(&f, "faults");
	CU_ASSERT_TRUE(faults >= 4); /* 30% of 40+: fewer than 4 is vanishingly rare */
	CU_ASSERT_EQUAL(stat_of(&f, "requests"), 40 + faults);
	free(url);
	faultsrv_stop(&f);
}

/* The proxy passes requests through unchanged (Host as the client sent it,
   bodies byte for byte) and fails a share of them before the upstream. */
static void test_proxy(void)
{
	struct faultsrv up, px;
	CU_ASSERT_EQUAL_FATAL(faultsrv_start(&up, NULL), 0);
	char upstream[64];
	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%d", up.port);
	const char *args[] = { "--upstream", upstream, "--fail-rate", "0.4", "--mode",
		               "slowdown", "--seed", "3", NULL };
	if (faultsrv_start(&px, args) != 0) {
		faultsrv_stop(&up);
		CU_FAIL_FATAL("proxy did not start");
	}
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	char *url = faultsrv_url(&px, "/echo/bucket/key%20with%20space");
	static const char body[] = "0123456789abcdef";
	const struct petal_http_header h[] = { { "Host", "bucket.s3.us-east-1.amazonaws.com" },
		                               { "Content-Type", "application/x-petal" } };
	int ok = 0, slowdowns = 0;
	for (int i = 0; i < 20; i++) {
		struct petal_http_request rq = {
			.size = sizeof(rq), .method = "PUT", .url = url, .headers = h,
			.n_headers = 2, .body = body, .body_len = 16, .idempotent = 1,
			.max_attempts = 12,
		};
		if (petal_http(&rq, &r, &e) != 0 || r.status != 200) {
			fprintf(stderr, "\n  request %d: %s\n", i, e.msg);
			http_release(&r);
			continue;
		}
		slowdowns += r.attempts - 1;
		json_t *doc = json_loads(r.body, 0, NULL);
		size_t j;
		json_t *hv;
		const char *host = NULL, *ctype = NULL;
		json_array_foreach(json_object_get(doc, "headers"), j, hv) {
			const char *k = json_string_value(json_array_get(hv, 0));
			if (strcmp(k, "Host") == 0)
				host = json_string_value(json_array_get(hv, 1));
			if (strcmp(k, "Content-Type") == 0)
				ctype = json_string_value(json_array_get(hv, 1));
		}
		ok += host && strcmp(host, "bucket.s3.us-east-1.amazonaws.com") == 0 && ctype &&
		      strcmp(ctype, "application/x-petal") == 0 &&
		      json_integer_value(json_object_get(doc, "body_len")) == 16 &&
		      strcmp(json_string_value(json_object_get(doc, "path")),
		             "/echo/bucket/key%20with%20space") == 0;
		json_decref(doc);
		http_release(&r);
	}
	CU_ASSERT_EQUAL(ok, 20);
	/* every fault was a retry the client made; the upstream saw only the rest */
	CU_ASSERT_TRUE(slowdowns > 0);
	CU_ASSERT_EQUAL(stat_of(&px, "faults"), slowdowns);
	CU_ASSERT_EQUAL(faultsrv_count(&up, "/echo/bucket/key%20with%20space"), 20);
	CU_ASSERT_EQUAL(stat_of(&up, "requests"), 20);

	/* the upstream's own errors come back as they are */
	free(url);
	url = faultsrv_url(&px, "/status/404?code=NoSuchKey");
	struct petal_http_request rq = { .size = sizeof(rq), .method = "GET", .url = url,
		                         .idempotent = 1, .max_attempts = 12 };
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), 0);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NOT_NULL(r.body ? strstr(r.body, "<Code>NoSuchKey</Code>") : NULL);
	http_release(&r);
	free(url);
	faultsrv_stop(&px);
	faultsrv_stop(&up);
}

/* reset-after: the upstream acts, the client never hears; a
   non-idempotent request is then not repeated, so the upstream acted once. */
static void test_proxy_reset_after(void)
{
	struct faultsrv up, px;
	CU_ASSERT_EQUAL_FATAL(faultsrv_start(&up, NULL), 0);
	char upstream[64];
	snprintf(upstream, sizeof(upstream), "http://127.0.0.1:%d", up.port);
	const char *args[] = { "--upstream", upstream, "--fail-rate", "1", "--mode",
		               "reset-after", NULL };
	if (faultsrv_start(&px, args) != 0) {
		faultsrv_stop(&up);
		CU_FAIL_FATAL("proxy did not start");
	}
	struct petal_http_response r = { .size = sizeof(r) };
	struct petal_error e = { 0 };
	char *url = faultsrv_url(&px, "/echo/once");
	struct petal_http_request rq = { .size = sizeof(rq), .method = "POST", .url = url,
		                         .body = "Action=RunInstances", .body_len = 19 };
	CU_ASSERT_EQUAL(petal_http(&rq, &r, &e), PETAL_ENET);
	CU_ASSERT_EQUAL(faultsrv_count(&up, "/echo/once"), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(e.msg, "not retried"));
	/* a reset is worth trying again later: the caller may, petal did not */
	CU_ASSERT_EQUAL(e.retryable, 1);
	http_release(&r);
	free(url);
	faultsrv_stop(&px);
	faultsrv_stop(&up);
}

int add_fault_tests(CU_pSuite s)
{
	return !CU_add_test(s, "faults at a rate", test_rate_faults) ||
	       !CU_add_test(s, "proxy", test_proxy) ||
	       !CU_add_test(s, "proxy reset after the upstream acts", test_proxy_reset_after);
}
