/* plugins/cloud_aws/sigv4.c against botocore, the AWS SDK for Python, as an
   independent signer: hand-picked awkward requests and generated ones
   (dot segments, doubled slashes, reserved and UTF-8 characters raw and
   encoded, repeated and untrimmed headers, tokens, S3 and the others).  The
   signer is tests/aws/botocore_sign.py, run with $PYTHON or python3; the
   test fails when it cannot run it. */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../plugins/cloud_aws/sigv4.h"

/* A file of the source tree: under $top_srcdir, else walking up from here. */
static char *find_source_file(const char *rel)
{
	char path[2 * PATH_MAX], dir[PATH_MAX];
	const char *top = getenv("top_srcdir");
	if (top && *top) {
		snprintf(path, sizeof(path), "%s/%s", top, rel);
		return access(path, R_OK) == 0 ? strdup(path) : NULL;
	}
	if (!getcwd(dir, sizeof(dir)))
		return NULL;
	for (;;) {
		snprintf(path, sizeof(path), "%s/%s", dir, rel);
		if (access(path, R_OK) == 0)
			return strdup(path);
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			return NULL;
		*slash = '\0';
	}
}

static void show_diff(const char *name, const char *what, const char *got,
                      const char *want)
{
	fprintf(stderr, "\n  %s: %s differs\n--- got:\n%s\n--- want:\n%s\n", name, what,
	        got ? got : "(null)", want ? want : "(null)");
}

/* ---- botocore as a second, independent signer ------------------------------ */

#define MAX_GEN_HEADERS 8

struct gen {
	const char *method, *path, *query, *body, *service, *region, *token;
	struct petal_http_header h[MAX_GEN_HEADERS];
	size_t n;
	time_t when;
	int s3;
};

/* Hand-picked awkward requests: dot segments, doubled slashes, encoded and
   raw reserved and UTF-8 characters, keys without values, tokens, bodies. */
static const struct gen hand[] = {
	{ "GET", "/a/./b/../c//d/", "z=1&a=2&a=1&flag", "", "ec2", "eu-west-1", NULL,
	  { { "Host", "ec2.eu-west-1.amazonaws.com" } }, 1, 1700000000, 0 },
	{ "GET", "/foo%20bar/%2Fbaz/100%", "", "", "ecr", "us-west-2", NULL,
	  { { "Host", "api.ecr.us-west-2.amazonaws.com" } }, 1, 1700000001, 0 },
	{ "GET", "/\xe1\x88\xb4/\xc3\xbc ber/", "\xc3\xbc=\xc3\xb6&e=%F0%9F%98%80", "", "sts",
	  "ap-southeast-2", NULL, { { "Host", "sts.ap-southeast-2.amazonaws.com" } }, 1,
	  1600000000, 0 },
	{ "POST", "/", "sp=a%20b&eq=%3D&amp=%26&sl=%2F&pl=%2B&raw=a+b&q=%3f", "", "ec2",
	  "us-east-1", NULL, { { "Host", "ec2.us-east-1.amazonaws.com" } }, 1, 1500000000, 0 },
	{ "PUT", "/bucket/my%20file%20%E1%88%B4.txt", "", "hello, world", "s3", "us-east-1",
	  NULL, { { "Host", "127.0.0.1:5000" }, { "Content-Type", "text/plain" } }, 2,
	  1700000000, 1 },
	{ "GET", "/bucket//double//slashes/./dot/../x", "", "", "s3", "eu-central-1", NULL,
	  { { "Host", "s3.eu-central-1.amazonaws.com" } }, 1, 1700000002, 1 },
	{ "GET", "/bucket", "list-type=2&prefix=a%2Fb%20c&continuation-token=abc%3D%3D&"
	  "delimiter=%2F", "", "s3", "us-east-1", "IQoJb3JpZ2luX2VjEBsaCXVzLWVhc3QtMSJ+tok==",
	  { { "Host", "127.0.0.1:5000" } }, 1, 1700000003, 1 },
	{ "POST", "/", "", "Action=DescribeImages&Version=2016-11-15&Filter.1.Name="
	  "tag%3Apetal%3Aseed-hash&Filter.1.Value.1=abc", "ec2", "eu-west-1", NULL,
	  { { "Host", "ec2.eu-west-1.amazonaws.com" },
	    { "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" } }, 2,
	  1700000004, 0 },
	{ "GET", "/", "", "", "ec2", "us-east-1", NULL,
	  { { "Host", "ec2.us-east-1.amazonaws.com" }, { "X-Custom", "  a \t b   c " },
	    { "x-custom", "second" }, { "User-Agent", "petal/0.1 (test)" },
	    { "X-EMPTY", "" } }, 5, 1700000005, 0 },
	{ "POST", "/", "Action=GetCallerIdentity&Version=2011-06-15", "", "sts", "us-east-1",
	  "FwoGZXIvYXdzEBYaDH+secret/token==", { { "Host", "127.0.0.1:4566" } }, 1,
	  1700000006, 0 },
	{ "PUT", "/bucket/", "acl&versioning&x=", "", "s3", "us-east-1", NULL,
	  { { "Host", "bucket.s3.amazonaws.com" } }, 1, 1700000007, 1 },
	{ "DELETE", "/a/b/../../../c", "p=100%&q=%zz", "", "ec2", "us-east-1", NULL,
	  { { "Host", "ec2.us-east-1.amazonaws.com" } }, 1, 4102444800, 0 },
	{ "HEAD", "/bucket/~tilde/-_.", "", "", "s3", "us-east-1", NULL,
	  { { "Host", "s3.us-east-1.amazonaws.com" }, { "Range", "bytes=0-9" } }, 2, 0, 1 },
	{ "POST", "/bucket/k%3Fx", "uploads", "", "s3", "us-east-1", NULL,
	  { { "Host", "s3.us-east-1.amazonaws.com" } }, 1, 1700000008, 1 },
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static const char *pick(const char *const *a, size_t n)
{
	return a[rnd((unsigned)n)];
}
#define PICK(a) pick((a), sizeof(a) / sizeof((a)[0]))

/* Text from awkward pieces; `raw_ok` allows raw characters that a query
   cannot carry raw ('&', '=', '%') to be excluded. */
static void gen_text(char *out, size_t cap, int for_query)
{
	static const char *const any[] = {
		"a", "Z", "0", "-", "_", ".", "~", " ", "+", "/", ":", "@", "!", "*", "'",
		"(", ")", ",", ";", "$", "\xc3\xbc", "\xe1\x88\xb4", "\xf0\x9f\x98\x80", "ab",
	};
	static const char *const query_extra[] = { "&", "=", "%", "?", "#" };
	size_t len = 0, n = rnd(6);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		const char *p = for_query && rnd(5) == 0 ? PICK(query_extra) : PICK(any);
		if (len + strlen(p) + 1 >= cap)
			break;
		strcpy(out + len, p);
		len += strlen(p);
	}
}

/* Encode for a query: '&', '=', '%', '#' always; others at random, with
   upper- or lower-case escapes. */
static void query_encode(const char *s, char *out, size_t cap)
{
	size_t len = 0;
	int utf8_encoded = 0; /* a character's bytes are all encoded or all raw */
	for (; *s && len + 4 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		int must = strchr("&=%#", c) != NULL;
		if ((c & 0xc0) == 0x80)
			must = utf8_encoded;
		else
			utf8_encoded = c >= 0x80 && rnd(2);
		if (must || (c < 0x80 && rnd(2)) || utf8_encoded) {
			snprintf(out + len, 4, rnd(2) ? "%%%02X" : "%%%02x", c);
			len += 3;
		} else
			out[len++] = (char)c;
	}
	out[len] = '\0';
}

/* Storage for generated requests; strings live as long as the test. */
struct gen_store {
	char path[512], query[2048], body[128], host[64], hv[MAX_GEN_HEADERS][64];
};

static void generate(struct gen *g, struct gen_store *st)
{
	static const char *const methods[] = { "GET", "PUT", "POST", "DELETE", "HEAD" };
	static const char *const services[] = { "s3", "ec2", "sts", "ecr", "iam" };
	static const char *const regions[] = { "us-east-1", "eu-west-1", "ap-northeast-3",
		                               "cn-north-1", "us-gov-west-1" };
	static const char *const segs[] = { "a", ".", "..", "", "sp ace", "\xc3\xbc",
		                            "%2F", "a+b", "~x", "=&", "%41", "100%" };
	static const char *const names[] = { "X-Meta", "x-meta", "Content-Type", "Range",
		                             "X-Amz-Meta-Key", "User-Agent", "Accept" };
	static const char *const values[] = { "v", "  padded  ", "a\t\tb", "a   b  c",
		                              "", "bytes=0-1", "text/plain; charset=utf-8" };
	memset(g, 0, sizeof(*g));
	g->s3 = rnd(2);
	g->method = PICK(methods);
	g->service = g->s3 ? "s3" : PICK(services);
	g->region = PICK(regions);
	g->when = (time_t)rnd(4000000000u);
	g->token = rnd(3) == 0 ? "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22==" : NULL;

	size_t len = 0;
	unsigned nseg = 1 + rnd(5);
	for (unsigned i = 0; i < nseg; i++) {
		char raw[64];
		const char *seg = PICK(segs);
		if (g->s3) {
			/* S3 callers send keys encoded once */
			gen_text(raw, sizeof(raw), 0);
			char *e = sigv4_uri_encode(raw, strlen(raw), 0);
			len += (size_t)snprintf(st->path + len, sizeof(st->path) - len, "/%s", e);
			free(e);
		} else
			len += (size_t)snprintf(st->path + len, sizeof(st->path) - len, "/%s", seg);
	}
	if (rnd(3) == 0 && len + 1 < sizeof(st->path))
		strcat(st->path, "/");
	g->path = st->path;

	len = 0;
	unsigned nq = rnd(5);
	for (unsigned i = 0; i < nq; i++) {
		char k[64], v[64], ek[200], ev[200];
		gen_text(k, sizeof(k), 1);
		gen_text(v, sizeof(v), 1);
		query_encode(k, ek, sizeof(ek));
		query_encode(v, ev, sizeof(ev));
		len += (size_t)snprintf(st->query + len, sizeof(st->query) - len, "%s%s=%s",
		                        i ? "&" : "", ek, ev);
	}
	g->query = st->query;

	gen_text(st->body, sizeof(st->body), 1);
	g->body = st->body;
	snprintf(st->host, sizeof(st->host), "%s", rnd(2) ? "127.0.0.1:5000"
	                                                     : "service.example.com");
	g->h[g->n++] = (struct petal_http_header){ "Host", st->host };
	unsigned nh = rnd(4);
	for (unsigned i = 0; i < nh; i++) {
		snprintf(st->hv[i], sizeof(st->hv[i]), "%s", PICK(values));
		g->h[g->n++] = (struct petal_http_header){ PICK(names), st->hv[i] };
	}
}

static int sign_gen(const struct gen *g, struct sigv4_signed *sg, struct petal_error *err)
{
	struct sigv4_request rq = {
		.method = g->method, .path = g->path, .query = g->query,
		.headers = g->h, .n_headers = g->n,
		.payload = g->body, .payload_len = strlen(g->body),
		.service = g->service, .region = g->region, .when = g->when,
		.access_key_id = "AKIAIOSFODNN7EXAMPLE",
		.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.session_token = g->token, .flags = g->s3 ? SIGV4_S3 : 0,
	};
	return sigv4_sign(&rq, sg, err);
}

static json_t *gen_json(const struct gen *g)
{
	json_t *h = json_array();
	for (size_t i = 0; i < g->n; i++)
		json_array_append_new(h, json_pack("[ss]", g->h[i].name, g->h[i].value));
	const char *host = "";
	for (size_t i = 0; i < g->n; i++)
		if (strcasecmp(g->h[i].name, "host") == 0)
			host = g->h[i].value;
	json_error_t e;
	json_t *j = json_pack_ex(&e, 0, "{s:s, s:s, s:s, s:s, s:o, s:s, s:s, s:s, s:I, s:s, s:s, s:s?, s:b}",
	                 "method", g->method,
	                 "host", host, "path", g->path, "query", g->query, "headers", h,
	                 "body", g->body, "service", g->service, "region", g->region,
	                 "time", (json_int_t)g->when, "access_key", "AKIAIOSFODNN7EXAMPLE",
	                 "secret", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
	                 "token", g->token,
	                 "s3", g->s3);
	if (!j)
		fprintf(stderr, "\n  cannot describe %s %s in JSON: %s\n", g->method, g->path,
		        e.text);
	return j;
}

/* Run `python script < in > out`; 0 when it exits 0. */
static int run_python(const char *script, const char *in, const char *out)
{
	const char *py = getenv("PYTHON");
	if (!py || !*py)
		py = "python3";
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fi = open(in, O_RDONLY), fo = open(out, O_WRONLY | O_TRUNC);
		if (fi < 0 || fo < 0 || dup2(fi, 0) < 0 || dup2(fo, 1) < 0)
			_exit(126);
		execlp(py, py, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", py, strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

#define N_GENERATED 48

static void test_botocore(void)
{
	char *script = find_source_file("tests/aws/botocore_sign.py");
	if (!script)
		CU_FAIL_FATAL("tests/aws/botocore_sign.py not found (set top_srcdir)");
	size_t n_hand = sizeof(hand) / sizeof(hand[0]);
	size_t n = n_hand + N_GENERATED;
	struct gen *g = calloc(n, sizeof(*g));
	struct gen_store *st = calloc(N_GENERATED, sizeof(*st));
	memcpy(g, hand, sizeof(hand));
	for (size_t i = 0; i < N_GENERATED; i++)
		generate(&g[n_hand + i], &st[i]);

	json_t *cases = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *c = gen_json(&g[i]);
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		json_array_append_new(cases, c);
	}
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char in[PATH_MAX], out[PATH_MAX];
	snprintf(in, sizeof(in), "%s/petal-sigv4-in-XXXXXX", tmp);
	snprintf(out, sizeof(out), "%s/petal-sigv4-out-XXXXXX", tmp);
	int fi = mkstemp(in), fo = mkstemp(out);
	CU_ASSERT_FATAL(fi >= 0 && fo >= 0);
	close(fo);
	CU_ASSERT_EQUAL_FATAL(json_dumpfd(cases, fi, JSON_COMPACT), 0);
	close(fi);
	json_decref(cases);

	int rc = run_python(script, in, out);
	if (rc != 0)
		fprintf(stderr, "\n  %s %s failed: it needs python3 with botocore "
		        "(set PYTHON to another interpreter)\n",
		        getenv("PYTHON") ? getenv("PYTHON") : "python3", script);
	CU_ASSERT_EQUAL(rc, 0);
	json_error_t jerr;
	json_t *res = rc == 0 ? json_load_file(out, 0, &jerr) : NULL;
	unlink(in);
	unlink(out);
	CU_ASSERT_TRUE(json_is_array(res) && json_array_size(res) == n);

	size_t agree = 0;
	for (size_t i = 0; res && i < json_array_size(res) && i < n; i++) {
		json_t *r = json_array_get(res, i);
		const char *creq = json_string_value(json_object_get(r, "creq"));
		const char *sts = json_string_value(json_object_get(r, "sts"));
		const char *authz = json_string_value(json_object_get(r, "authz"));
		struct sigv4_signed sg;
		struct petal_error err = { 0 };
		char name[64];
		snprintf(name, sizeof(name), "%s request %zu", i < n_hand ? "hand-picked"
		         : "generated", i < n_hand ? i : i - n_hand);
		if (sign_gen(&g[i], &sg, &err) != 0) {
			fprintf(stderr, "\n  %s: %s\n", name, err.msg);
			CU_FAIL("petal refused a request botocore signed");
			continue;
		}
		int same = creq && sts && authz && strcmp(sg.canonical_request, creq) == 0 &&
		           strcmp(sg.string_to_sign, sts) == 0 &&
		           strcmp(sg.authorization, authz) == 0;
		if (!same)
			show_diff(name, "botocore's canonical request", sg.canonical_request, creq);
		CU_ASSERT_TRUE(same);
		agree += same;
		sigv4_signed_clear(&sg);
	}
	fprintf(stderr, "\n  botocore agrees on %zu of %zu requests\n", agree, n);
	CU_ASSERT_EQUAL(agree, n);
	json_decref(res);
	free(st);
	free(g);
	free(script);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("sigv4 and botocore", NULL, NULL);
	if (!s || !CU_add_test(s, "botocore signs alike (hand-picked and generated)", test_botocore)) {
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
