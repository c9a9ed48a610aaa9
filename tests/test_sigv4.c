/* plugins/cloud_aws/sigv4.c: AWS's own SigV4 suite (all 31 cases) and AWS's
   documented examples.  S3's rules, tokens, queries and refusals are in
   test_sigv4_rules.c; botocore as a second signer in test_sigv4_botocore.c. */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../plugins/cloud_aws/sigv4.h"

#define SUITE_CASES 31
#define SUITE_KEY "AKIDEXAMPLE"
#define SUITE_SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
#define SUITE_TIME 1440938160 /* 20150830T123600Z */
#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* ---- files ----------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *p = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			char *q = realloc(p, cap);
			if (!q)
				break;
			p = q;
		}
		size_t r = fread(p + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	fclose(f);
	if (p)
		p[n] = '\0';
	if (len)
		*len = n;
	return p;
}

/* Expected files: strip a final newline some copies of the suite add. */
static char *slurp_expected(const char *dir, const char *name, const char *ext)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.%s", dir, name, ext);
	size_t n = 0;
	char *s = slurp(path, &n);
	while (s && n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

static int is_dir(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* $PETAL_SHARED_TESTDATA, else shared/testdata found walking up from
   $top_srcdir (../shared/testdata of the repository first) or from the
   working directory, else this machine's /work/shared/testdata. */
static char *find_testdata(const char *sub)
{
	char path[2 * PATH_MAX];
	const char *env = getenv("PETAL_SHARED_TESTDATA");
	if (env && *env) {
		snprintf(path, sizeof(path), "%s/%s", env, sub);
		return is_dir(path) ? strdup(path) : NULL;
	}
	char cwd[PATH_MAX];
	const char *starts[2] = { getenv("top_srcdir"), getcwd(cwd, sizeof(cwd)) };
	for (int i = 0; i < 2; i++) {
		char dir[PATH_MAX];
		if (!starts[i] || !realpath(starts[i], dir))
			continue;
		for (;;) {
			snprintf(path, sizeof(path), "%s/../shared/testdata/%s", dir, sub);
			if (is_dir(path))
				return strdup(path);
			snprintf(path, sizeof(path), "%s/shared/testdata/%s", dir, sub);
			if (is_dir(path))
				return strdup(path);
			char *slash = strrchr(dir, '/');
			if (!slash || slash == dir)
				break;
			*slash = '\0';
		}
	}
	snprintf(path, sizeof(path), "/work/shared/testdata/%s", sub);
	return is_dir(path) ? strdup(path) : NULL;
}

/* ---- the suite's HTTP request files ---------------------------------------- */

#define MAX_HEADERS 32

struct http_text {
	char *text; /* owns every string below */
	char *method, *path, *query, *body;
	size_t body_len;
	struct petal_http_header h[MAX_HEADERS];
	size_t n;
};

/* Request line, Name:value headers (continuation lines start with blanks and
   become further lines of the value), a blank line, the body. */
static int parse_http(char *text, size_t len, struct http_text *r)
{
	*r = (struct http_text){ .text = text };
	char *body = strstr(text, "\n\n");
	if (body) {
		*body = '\0';
		r->body = body + 2;
		r->body_len = len - (size_t)(r->body - text);
	} else {
		r->body = text + len;
	}
	char *line = text, *next;
	char *nl = strchr(line, '\n');
	next = nl ? nl + 1 : NULL;
	if (nl)
		*nl = '\0';
	char *sp1 = strchr(line, ' ');
	char *sp2 = strrchr(line, ' ');
	if (!sp1 || sp2 == sp1 || strncmp(sp2, " HTTP/", 6) != 0)
		return -1;
	*sp1 = '\0';
	*sp2 = '\0';
	r->method = line;
	r->path = sp1 + 1;
	char *q = strchr(r->path, '?');
	r->query = "";
	if (q) {
		*q = '\0';
		r->query = q + 1;
	}
	char *last_end = NULL;
	for (line = next; line && *line; line = next) {
		nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		if ((*line == ' ' || *line == '\t') && last_end) {
			/* folded: turn the previous terminator back into a newline */
			*last_end = '\n';
			last_end = nl;
			continue;
		}
		char *colon = strchr(line, ':');
		if (!colon || r->n == MAX_HEADERS)
			return -1;
		*colon = '\0';
		r->h[r->n].name = line;
		r->h[r->n].value = colon + 1;
		r->n++;
		last_end = nl;
	}
	return 0;
}

static const char *header_get(const struct http_text *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcasecmp(r->h[i].name, name) == 0)
			return r->h[i].value;
	return NULL;
}

/* ---- the suite ----------------------------------------------------------- */

struct cases {
	char **dir; /* a case is a directory D holding D/<basename D>.req */
	size_t n, cap;
};

static int str_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void find_cases(const char *dir, struct cases *c)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		char sub[PATH_MAX], req[PATH_MAX + 300];
		snprintf(sub, sizeof(sub), "%s/%s", dir, e->d_name);
		if (!is_dir(sub))
			continue;
		snprintf(req, sizeof(req), "%s/%s.req", sub, e->d_name);
		if (access(req, R_OK) == 0) {
			if (c->n == c->cap) {
				c->cap = c->cap ? 2 * c->cap : 64;
				c->dir = realloc(c->dir, c->cap * sizeof(*c->dir));
			}
			c->dir[c->n++] = strdup(sub);
		}
		find_cases(sub, c);
	}
	closedir(d);
}

static void show_diff(const char *name, const char *what, const char *got,
                      const char *want)
{
	fprintf(stderr, "\n  %s: %s differs\n--- got:\n%s\n--- want:\n%s\n", name, what,
	        got ? got : "(null)", want ? want : "(null)");
}

/* The suite's session token: the last line of post-sts-token/readme.txt. */
static char *suite_token(const char *root)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/post-sts-token/readme.txt", root);
	char *t = slurp(path, NULL);
	if (!t)
		return NULL;
	size_t n = strlen(t);
	while (n && (t[n - 1] == '\n' || t[n - 1] == '\r' || t[n - 1] == ' '))
		t[--n] = '\0';
	char *last = strrchr(t, '\n');
	char *tok = strdup(last ? last + 1 : t);
	free(t);
	return tok;
}

/* The signed request (.sreq) is the request plus exactly the headers the
   signer said to add. */
static int check_sreq(const char *dir, const char *name, const struct http_text *req,
                      const struct sigv4_signed *sg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.sreq", dir, name);
	size_t len;
	char *text = slurp(path, &len);
	struct http_text s;
	if (!text || parse_http(text, len, &s) != 0) {
		free(text);
		return -1;
	}
	int ok = s.n == req->n + sg->n_add;
	for (size_t i = 0; ok && i < sg->n_add; i++) {
		const char *v = header_get(&s, sg->add[i].name);
		while (v && *v == ' ')
			v++;
		ok = v && strcmp(v, sg->add[i].value) == 0;
	}
	free(text);
	return ok ? 0 : -1;
}

static int run_case(const char *dir, const char *token)
{
	const char *name = strrchr(dir, '/') + 1;
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s/%s.req", dir, name);
	size_t len;
	char *text = slurp(path, &len);
	struct http_text req;
	if (!text || parse_http(text, len, &req) != 0) {
		fprintf(stderr, "\n  %s: cannot read or parse %s\n", name, path);
		free(text);
		return -1;
	}
	int in_sts = strstr(dir, "/post-sts-token/") != NULL;
	int token_signed = header_get(&req, "X-Amz-Security-Token") != NULL;
	struct sigv4_request rq = {
		.method = req.method, .path = req.path, .query = req.query,
		.headers = req.h, .n_headers = req.n,
		.payload = req.body, .payload_len = req.body_len,
		.service = "service", .region = "us-east-1", .when = SUITE_TIME,
		.access_key_id = SUITE_KEY, .secret_access_key = SUITE_SECRET,
		.session_token = in_sts ? token : NULL,
		.flags = in_sts && !token_signed ? SIGV4_TOKEN_UNSIGNED : 0,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	int rc = sigv4_sign(&rq, &sg, &err);
	if (rc != 0) {
		fprintf(stderr, "\n  %s: sign failed: %s\n", name, err.msg);
		free(text);
		return -1;
	}
	char *creq = slurp_expected(dir, name, "creq");
	char *sts = slurp_expected(dir, name, "sts");
	char *authz = slurp_expected(dir, name, "authz");
	int bad = 0;
	if (!creq || strcmp(sg.canonical_request, creq) != 0)
		bad = 1, show_diff(name, "canonical request", sg.canonical_request, creq);
	if (!sts || strcmp(sg.string_to_sign, sts) != 0)
		bad = 1, show_diff(name, "string to sign", sg.string_to_sign, sts);
	if (!authz || strcmp(sg.authorization, authz) != 0)
		bad = 1, show_diff(name, "authorization", sg.authorization, authz);
	if (check_sreq(dir, name, &req, &sg) != 0)
		bad = 1, fprintf(stderr, "\n  %s: .sreq is not .req plus the added headers\n",
		                 name);
	free(creq);
	free(sts);
	free(authz);
	sigv4_signed_clear(&sg);
	free(text);
	return bad ? -1 : 0;
}

static void test_aws_suite(void)
{
	char *root = find_testdata("sigv4");
	if (!root) {
		fprintf(stderr, "\n  AWS SigV4 suite not found: set PETAL_SHARED_TESTDATA to "
		        "the shared testdata directory (the one holding sigv4/)\n");
		CU_FAIL_FATAL("sigv4 test data not found");
	}
	struct cases c = { 0 };
	find_cases(root, &c);
	qsort(c.dir, c.n, sizeof(*c.dir), str_cmp);
	char *token = suite_token(root);
	CU_ASSERT_PTR_NOT_NULL(token);
	CU_ASSERT_TRUE(token && strncmp(token, "AQoDYXdz", 8) == 0);
	size_t passed = 0;
	for (size_t i = 0; i < c.n; i++) {
		if (run_case(c.dir[i], token) == 0)
			passed++;
		else
			CU_FAIL("a case of AWS's SigV4 suite failed (see above)");
		free(c.dir[i]);
	}
	fprintf(stderr, "\n  AWS SigV4 suite: %zu of %zu cases pass (%s)\n", passed, c.n, root);
	CU_ASSERT_EQUAL(c.n, SUITE_CASES);
	CU_ASSERT_EQUAL(passed, SUITE_CASES);
	free(c.dir);
	free(token);
	free(root);
}

/* ---- AWS's documented examples ------------------------------------------- */

/* "Create a canonical request for Signature Version 4" (IAM ListUsers) and
   the S3 API reference's GET Object example; botocore agrees on both. */
static void test_documented_examples(void)
{
	struct petal_http_header iam_h[] = {
		{ "Host", "iam.amazonaws.com" },
		{ "Content-Type", "application/x-www-form-urlencoded; charset=utf-8" },
	};
	struct sigv4_request iam = {
		.method = "GET", .path = "/", .query = "Action=ListUsers&Version=2010-05-08",
		.headers = iam_h, .n_headers = 2, .service = "iam", .region = "us-east-1",
		.when = SUITE_TIME, .access_key_id = SUITE_KEY,
		.secret_access_key = SUITE_SECRET,
	};
	struct sigv4_signed sg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&iam, &sg, &err), 0);
	CU_ASSERT_STRING_EQUAL(sg.canonical_request,
	                       "GET\n/\nAction=ListUsers&Version=2010-05-08\n"
	                       "content-type:application/x-www-form-urlencoded; charset=utf-8\n"
	                       "host:iam.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
	                       "content-type;host;x-amz-date\n" EMPTY_SHA256);
	CU_ASSERT_PTR_NOT_NULL(strstr(sg.string_to_sign, "\nf536975d06c0309214f805bb90ccff08"
	                              "9219ecd68b2577efef23edd43b7e1a59"));
	CU_ASSERT_STRING_EQUAL(sg.signature, "5d672d79c15b13162d9279b0855cfba6"
	                                     "789a8edb4c82c400e06b5924a6f2b5d7");
	/* X-Amz-Date was not given, so it is to be added, Authorization last */
	CU_ASSERT_EQUAL(sg.n_add, 2);
	CU_ASSERT_STRING_EQUAL(sg.add[0].name, "X-Amz-Date");
	CU_ASSERT_STRING_EQUAL(sg.add[0].value, "20150830T123600Z");
	CU_ASSERT_STRING_EQUAL(sg.add[1].name, "Authorization");
	CU_ASSERT_PTR_EQUAL(sg.add[1].value, sg.authorization);
	sigv4_signed_clear(&sg);

	struct petal_http_header s3_h[] = {
		{ "Host", "examplebucket.s3.amazonaws.com" },
		{ "Range", "bytes=0-9" },
	};
	struct sigv4_request s3 = {
		.method = "GET", .path = "/test.txt", .headers = s3_h, .n_headers = 2,
		.service = "s3", .region = "us-east-1", .when = 1369353600,
		.access_key_id = "AKIAIOSFODNN7EXAMPLE",
		.secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		.flags = SIGV4_S3,
	};
	CU_ASSERT_EQUAL_FATAL(sigv4_sign(&s3, &sg, &err), 0);
	CU_ASSERT_STRING_EQUAL(sg.authorization,
	                       "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/"
	                       "us-east-1/s3/aws4_request, SignedHeaders=host;range;"
	                       "x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857"
	                       "bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
	CU_ASSERT_PTR_NOT_NULL(strstr(sg.string_to_sign, "7344ae5b7ee6c3e7e6b0fe0640412a37"
	                              "625d1fbfff95c48bbb2dc43964946972"));
	sigv4_signed_clear(&sg);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("sigv4", NULL, NULL);
	if (!s || !CU_add_test(s, "AWS's SigV4 test suite: all 31 cases", test_aws_suite) ||
	    !CU_add_test(s, "AWS's documented examples (IAM, S3)", test_documented_examples)) {
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
