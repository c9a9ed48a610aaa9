/* plugins/cloud_aws/sigv4.c: S3's rules (encoded once, no normalisation,
   x-amz-content-sha256), session tokens, queries with reserved and UTF-8
   characters, header canonicalisation, and the requests it refuses. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugins/cloud_aws/sigv4.h"

#define SUITE_KEY "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME 1440938160 /* 20150830T123600Z */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- S3's rules ------------------------------------------------------------ */

static char *line_of(const char *text, int n)
{
	const char *p = text;
	for (int i = 0; i < n && p; i++) {
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	if (!p)
		return strdup("");
	const char *e = strchr(p, '\n');
	return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

static char *canonical_path_of(const char *path, unsigned flags)
{
	struct petal_http_header h[] = { { "Host", "bucket.s3.eu-west-1.amazonaws.com" } };
	struct sigv4_request rq = {
		.method = "GET", .path = path, .headers = h, .n_headers = 1,
		.service = "s3", .region = "eu-west-1", .when = SUITE_TIME,
		.access_key_id = SUITE_KEY, .secret_access_key = SUITE_SECRET, .flags = flags,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	if (sigv4_sign(&rq, &sg, &err) != 0)
		return NULL;
	char *line = line_of(sg.canonical_request, 1);
	sigv4_signed_clear(&sg);
	return line;
}

static void test_s3_rules(void)
{
	const char key[] = "/bucket/my key \xe1\x88\xb4+x.txt";
	char *wire = sigv4_uri_encode(key, strlen(key), 1);
	CU_ASSERT_STRING_EQUAL(wire, "/bucket/my%20key%20%E1%88%B4%2Bx.txt");

	/* encoded once: the wire form as it is, and the raw key alike */
	char *p = canonical_path_of(wire, SIGV4_S3);
	CU_ASSERT_STRING_EQUAL(p, wire);
	free(p);
	p = canonical_path_of(key, SIGV4_S3);
	CU_ASSERT_STRING_EQUAL(p, wire);
	free(p);
	/* other services encode the wire form again */
	p = canonical_path_of(wire, 0);
	CU_ASSERT_STRING_EQUAL(p, "/bucket/my%2520key%2520%25E1%2588%25B4%252Bx.txt");
	free(p);

	/* no normalisation for S3; normalisation for the others */
	p = canonical_path_of("/bucket/a//b/./c/../d/", SIGV4_S3);
	CU_ASSERT_STRING_EQUAL(p, "/bucket/a//b/./c/../d/");
	free(p);
	p = canonical_path_of("/bucket/a//b/./c/../d/", 0);
	CU_ASSERT_STRING_EQUAL(p, "/bucket/a/b/d/");
	free(p);
	p = canonical_path_of("/../..", 0);
	CU_ASSERT_STRING_EQUAL(p, "/");
	free(p);
	p = canonical_path_of("", SIGV4_S3);
	CU_ASSERT_STRING_EQUAL(p, "/");
	free(p);

	/* x-amz-content-sha256 signed and added, with the body's hash */
	struct petal_http_header h[] = { { "Host", "127.0.0.1:5000" } };
	struct sigv4_request rq = {
		.method = "PUT", .path = wire, .headers = h, .n_headers = 1,
		.payload = "hello", .payload_len = 5, .service = "s3", .region = "us-east-1",
		.when = SUITE_TIME, .access_key_id = SUITE_KEY,
		.secret_access_key = SUITE_SECRET, .flags = SIGV4_S3,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&rq, &sg, &err), 0);
	const char *hello = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
	CU_ASSERT_STRING_EQUAL(sg.signed_headers, "host;x-amz-content-sha256;x-amz-date");
	CU_ASSERT_PTR_NOT_NULL(strstr(sg.canonical_request, "\nhost:127.0.0.1:5000\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(sg.canonical_request, "\nx-amz-content-sha256:"));
	CU_ASSERT_STRING_EQUAL(sg.payload_hash, hello);
	CU_ASSERT_EQUAL(sg.n_add, 3);
	CU_ASSERT_STRING_EQUAL(sg.add[1].name, "x-amz-content-sha256");
	CU_ASSERT_STRING_EQUAL(sg.add[1].value, hello);
	sigv4_signed_clear(&sg);

	/* a streamed body: UNSIGNED-PAYLOAD in the hash line and the header */
	rq.payload = NULL;
	rq.payload_len = 0;
	rq.payload_hash = SIGV4_UNSIGNED_PAYLOAD;
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&rq, &sg, &err), 0);
	char *last = strrchr(sg.canonical_request, '\n');
	CU_ASSERT_STRING_EQUAL(last, "\nUNSIGNED-PAYLOAD");
	CU_ASSERT_STRING_EQUAL(sg.add[1].value, "UNSIGNED-PAYLOAD");
	sigv4_signed_clear(&sg);
	free(wire);
}

/* ---- session tokens -------------------------------------------------------- */

static void test_session_token(void)
{
	const char *token = "FwoGZXIvYXdzEBYaDH+secret/token==";
	struct petal_http_header h[] = { { "Host", "sts.eu-west-1.amazonaws.com" } };
	struct sigv4_request rq = {
		.method = "POST", .path = "/", .headers = h, .n_headers = 1,
		.payload = "Action=GetCallerIdentity&Version=2011-06-15", .payload_len = 43,
		.service = "sts", .region = "eu-west-1", .when = SUITE_TIME,
		.access_key_id = "ASIAEXAMPLEKEY123456", .secret_access_key = SUITE_SECRET,
		.session_token = token,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&rq, &sg, &err), 0);
	CU_ASSERT_STRING_EQUAL(sg.signed_headers, "host;x-amz-date;x-amz-security-token");
	CU_ASSERT_EQUAL(sg.n_add, 3);
	CU_ASSERT_STRING_EQUAL(sg.add[1].name, "X-Amz-Security-Token");
	CU_ASSERT_STRING_EQUAL(sg.add[1].value, token);
	CU_ASSERT_PTR_NOT_NULL(strstr(sg.canonical_request, token));
	/* the debug form keeps the shape, not the token */
	char *log = sigv4_loggable(&sg);
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "x-amz-security-token:<redacted>\n"));
	CU_ASSERT_PTR_NULL(strstr(log, token));
	CU_ASSERT_PTR_NULL(strstr(log, SUITE_SECRET));
	CU_ASSERT_PTR_NOT_NULL(strstr(log, "StringToSign:\nAWS4-HMAC-SHA256\n"));
	free(log);
	char with_token[65];
	snprintf(with_token, sizeof(with_token), "%s", sg.signature);
	sigv4_signed_clear(&sg);

	/* added after signing: sent, not signed, and the signature differs */
	rq.flags = SIGV4_TOKEN_UNSIGNED;
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&rq, &sg, &err), 0);
	CU_ASSERT_STRING_EQUAL(sg.signed_headers, "host;x-amz-date");
	CU_ASSERT_PTR_NULL(strstr(sg.canonical_request, token));
	CU_ASSERT_STRING_EQUAL(sg.add[1].name, "X-Amz-Security-Token");
	CU_ASSERT_STRING_NOT_EQUAL(sg.signature, with_token);
	sigv4_signed_clear(&sg);

	/* a token header that is not the one being signed with is refused,
	   and the message does not repeat either token */
	struct petal_http_header h2[] = { { "Host", "sts.eu-west-1.amazonaws.com" },
		                          { "X-Amz-Security-Token", "stale-token-value" } };
	rq.headers = h2;
	rq.n_headers = 2;
	rq.flags = 0;
	CU_ASSERT_EQUAL(sigv4_sign(&rq, &sg, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(strstr(err.msg, "stale-token-value"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, token));
	CU_ASSERT_PTR_NULL(sg.authorization);
}

/* ---- queries and headers ----------------------------------------------------- */

static char *query_of(const char *query)
{
	struct petal_http_header h[] = { { "Host", "ec2.us-east-1.amazonaws.com" } };
	struct sigv4_request rq = {
		.method = "GET", .path = "/", .query = query, .headers = h, .n_headers = 1,
		.service = "ec2", .region = "us-east-1", .when = SUITE_TIME,
		.access_key_id = SUITE_KEY, .secret_access_key = SUITE_SECRET,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	if (sigv4_sign(&rq, &sg, &err) != 0)
		return NULL;
	char *line = line_of(sg.canonical_request, 2);
	/* what is to be sent is what was signed */
	CU_ASSERT_STRING_EQUAL(line, sg.query);
	sigv4_signed_clear(&sg);
	return line;
}

static void check_query(const char *query, const char *want)
{
	char *got = query_of(query);
	if (!got || strcmp(got, want) != 0)
		fprintf(stderr, "\n  query '%s' -> '%s', want '%s'\n", query, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	free(got);
}

static void test_query(void)
{
	/* reserved characters, encoded by the caller, stay encoded; sort order
	   is by encoded name, then value */
	check_query("sp=a%20b&eq=%3D&amp=%26&sl=%2F&pl=%2B&q=%3F",
	            "amp=%26&eq=%3D&pl=%2B&q=%3F&sl=%2F&sp=a%20b");
	/* given raw, they are encoded; '+' is a plus, not a space */
	check_query("k=a+b&s=a/b&c=x:y@z", "c=x%3Ay%40z&k=a%2Bb&s=a%2Fb");
	/* UTF-8, raw or with lower-case escapes, becomes upper-case escapes */
	check_query("\xe2\x82\xac=%e2%82%ac&b=\xc3\xbc", "%E2%82%AC=%E2%82%AC&b=%C3%BC");
	/* names without '=' get an empty value; empty pairs are dropped */
	check_query("acl&versions&&b=", "acl=&b=&versions=");
	/* unreserved characters encoded by someone anyway are decoded */
	check_query("a=%41%7E%2D", "a=A~-");
	/* a '%' that starts no escape is a literal '%' */
	check_query("p=100%&q=%zz&r=%4", "p=100%25&q=%25zz&r=%254");
	/* same name: by value, byte order (upper case first) */
	check_query("k=b&k=B&k=a&K=z", "K=z&k=B&k=a&k=b");
	check_query("", "");
	check_query(NULL, "");
}

static void test_headers(void)
{
	struct petal_http_header h[] = {
		{ "Host", "example.amazonaws.com" },
		{ "X-Custom", "  a \t\t b   c  " },
		{ "User-Agent", "petal/0.1" },          /* not signed */
		{ "x-custom", "second" },
		{ "Expect", "100-continue" },           /* hop-by-hop: not signed */
		{ "X-Folded", "one\r\n   two\n\tthree" },
		{ "X-Empty", "" },
	};
	struct sigv4_request rq = {
		.method = "GET", .path = "/", .headers = h, .n_headers = 7,
		.service = "service", .region = "us-east-1", .when = SUITE_TIME,
		.access_key_id = SUITE_KEY, .secret_access_key = SUITE_SECRET,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&rq, &sg, &err), 0);
	CU_ASSERT_STRING_EQUAL(sg.canonical_request,
	                       "GET\n/\n\nhost:example.amazonaws.com\n"
	                       "x-amz-date:20150830T123600Z\nx-custom:a b c,second\n"
	                       "x-empty:\nx-folded:one,two,three\n\n"
	                       "host;x-amz-date;x-custom;x-empty;x-folded\n" EMPTY_SHA256);
	sigv4_signed_clear(&sg);
}

static void expect_einval(struct sigv4_request *rq, const char *want)
{
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(sigv4_sign(rq, &sg, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(err.code, PETAL_EINVAL);
	if (!strstr(err.msg, want))
		fprintf(stderr, "\n  got '%s', want '%s'\n", err.msg, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	CU_ASSERT_PTR_NULL(strstr(err.msg, SUITE_SECRET));
	CU_ASSERT_PTR_NULL(sg.canonical_request);
	sigv4_signed_clear(&sg);
}

static void test_refusals(void)
{
	struct petal_http_header host[] = { { "Host", "example.amazonaws.com" } };
	struct sigv4_request good = {
		.method = "GET", .path = "/", .headers = host, .n_headers = 1,
		.service = "service", .region = "us-east-1", .when = SUITE_TIME,
		.access_key_id = SUITE_KEY, .secret_access_key = SUITE_SECRET,
	};
	struct sigv4_request rq = good;
	rq.n_headers = 0;
	expect_einval(&rq, "no Host header");

	struct petal_http_header date[] = { { "Host", "h" }, { "X-Amz-Date", "20150830T123601Z" } };
	rq = good;
	rq.headers = date;
	rq.n_headers = 2;
	expect_einval(&rq, "differs from the signing time");

	struct petal_http_header authz[] = { { "Host", "h" }, { "Authorization", "x" } };
	rq.headers = authz;
	expect_einval(&rq, "already has an Authorization");

	struct petal_http_header sha[] = { { "Host", "h" }, { "x-amz-content-sha256", "abc" } };
	rq.headers = sha;
	expect_einval(&rq, "is not the payload's hash");

	struct petal_http_header badname[] = { { "Host", "h" }, { "Bad Name", "v" } };
	rq.headers = badname;
	expect_einval(&rq, "not allowed in HTTP header names");

	rq = good;
	rq.path = "relative/path";
	expect_einval(&rq, "does not start with '/'");
	rq = good;
	rq.payload_hash = "ABCDEF";
	expect_einval(&rq, "payload hash");
	rq = good;
	rq.region = "us-east-1/x";
	expect_einval(&rq, "region");
	rq = good;
	rq.secret_access_key = "";
	expect_einval(&rq, "credentials");
	rq = good;
	rq.method = "GE T";
	expect_einval(&rq, "not an HTTP method");
	rq = good;
	rq.when = (time_t)-100000000000LL;
	expect_einval(&rq, "signing time");

	/* a refused request leaves nothing, and clearing twice is harmless */
	struct sigv4_signed sg = { 0 };
	sigv4_signed_clear(&sg);
	sigv4_signed_clear(&sg);
	sigv4_signed_clear(NULL);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("sigv4 rules", NULL, NULL);
	if (!s || !CU_add_test(s, "S3: encoded once, not normalised, content sha256", test_s3_rules) ||
	    !CU_add_test(s, "session tokens: signed, unsigned, never logged", test_session_token) ||
	    !CU_add_test(s, "queries: reserved and UTF-8 characters, order", test_query) ||
	    !CU_add_test(s, "headers: trim, collapse, fold, join, hop-by-hop", test_headers) ||
	    !CU_add_test(s, "refusals say what is wrong", test_refusals)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 2;
	}
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
