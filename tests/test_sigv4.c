/* plugins/cloud_aws/sigv4.c: AWS's own SigV4 suite (all 31 cases), AWS's
   documented examples, S3's rules, session tokens, awkward queries, and
   botocore as an independent signer on requests the suite does not cover. */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
	char in[] = "/tmp/petal-sigv4-in-XXXXXX", out[] = "/tmp/petal-sigv4-out-XXXXXX";
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
	CU_pSuite s = CU_add_suite("sigv4", NULL, NULL);
	if (!s || !CU_add_test(s, "AWS's SigV4 test suite: all 31 cases", test_aws_suite) ||
	    !CU_add_test(s, "AWS's documented examples (IAM, S3)", test_documented_examples) ||
	    !CU_add_test(s, "S3: encoded once, not normalised, content sha256",
	                 test_s3_rules) ||
	    !CU_add_test(s, "session tokens: signed, unsigned, never logged",
	                 test_session_token) ||
	    !CU_add_test(s, "queries: reserved and UTF-8 characters, order", test_query) ||
	    !CU_add_test(s, "headers: trim, collapse, fold, join, hop-by-hop", test_headers) ||
	    !CU_add_test(s, "refusals say what is wrong", test_refusals) ||
	    !CU_add_test(s, "botocore signs alike (hand-picked and generated)",
	                 test_botocore)) {
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
