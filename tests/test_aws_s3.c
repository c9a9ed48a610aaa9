/* The aws plugin's S3 operations against a real moto_server that checks
   every signature, loaded the way petal loads it (the registry over
   PETAL_PLUGIN_PATH, the real host table and its libcurl http).  The aws
   CLI checks what petal wrote and writes what petal must read. */
#define _GNU_SOURCE /* vasprintf */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <time.h>

#include "aws/s3test.h"

#define BUCKET "petal-test-use1"
#define BUCKET_EU "petal-test-euw1"
/* at the bucket's root: moto's signature check fails on a '/' in a query
   value, so a prefix "many/" could not be listed with checking on */
#define BUCKET_MANY "petal-test-many"
#define MANY 2500

static void test_descriptor(void)
{
	CU_ASSERT(T.ops->caps & PETAL_CAP_OBJECTS);
	CU_ASSERT_PTR_NOT_NULL(T.ops->bucket_ensure);
	CU_ASSERT_PTR_NOT_NULL(T.ops->object_put);
	CU_ASSERT_PTR_NOT_NULL(T.ops->object_get);
	CU_ASSERT_PTR_NOT_NULL(T.ops->object_head);
	CU_ASSERT_PTR_NOT_NULL(T.ops->object_list);
	CU_ASSERT_PTR_NOT_NULL(T.ops->object_delete);
}

static int count_cb(void *arg, const struct petal_object_info *o)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

static size_t count(const char *url)
{
	size_t n = 0;
	struct petal_error err = { 0 };
	int rc = T.ops->object_list(T.ctx, url, count_cb, &n, &err);
	if (rc != 0)
		fprintf(stderr, "list %s: %s\n", url, err.msg);
	return rc == 0 ? n : (size_t)-1;
}

static void test_bucket_us_east_1(void)
{
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(s3test_aws("s3api head-bucket --bucket " BUCKET), 255);
	int rc = T.ops->bucket_ensure(T.ctx, "s3://" BUCKET "/cache", NULL, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	/* created where it was asked, with no LocationConstraint */
	CU_ASSERT_EQUAL(s3test_aws("s3api get-bucket-location --bucket " BUCKET
	                           " --output text"), 0);
	char *out = s3test_cli_out();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "None"));
	free(out);
	/* the access probe leaves nothing behind */
	CU_ASSERT_EQUAL(count("s3://" BUCKET "/"), 0);
	CU_ASSERT_EQUAL(s3test_log_count("PUT /" BUCKET "/cache/.petal-probe-", NULL), 1);
	CU_ASSERT_EQUAL(s3test_log_count("DELETE /" BUCKET "/cache/.petal-probe-", NULL), 1);
	/* an existing bucket of ours: proven again, not created again */
	CU_ASSERT_EQUAL(T.ops->bucket_ensure(T.ctx, "s3://" BUCKET "/cache", "us-east-1", &err), 0);
	CU_ASSERT_EQUAL(s3test_log_count("PUT /" BUCKET " HTTP", NULL), 1);
	CU_ASSERT_EQUAL(s3test_log_count("GET /" BUCKET "/cache/.petal-probe-", NULL), 2);
}

static void test_bucket_eu_west_1(void)
{
	struct petal_error err = { 0 };
	int rc = T.ops->bucket_ensure(T.ctx, "s3://" BUCKET_EU, "eu-west-1", &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT_EQUAL(s3test_aws("s3api get-bucket-location --bucket " BUCKET_EU
	                           " --output text"), 0);
	char *out = s3test_cli_out();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "eu-west-1"));
	free(out);
	/* a name S3 cannot take is refused before any request */
	rc = T.ops->bucket_ensure(T.ctx, "s3://No_Such..Bucket", NULL, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	rc = T.ops->bucket_ensure(T.ctx, "https://example/x", NULL, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "s3://bucket/key"));
}

static void test_roundtrip(void)
{
	struct petal_error err = { 0 };
	char *src = s3test_file("small.bin", 300 * 1024 + 7, 1);
	char *dst = petal_xasprintf("%s/small.back", T.dir);
	char md5[33], sha[65];
	s3test_digest(src, EVP_md5(), md5);
	s3test_digest(src, EVP_sha256(), sha);
	time_t before = time(NULL);
	int rc = T.ops->object_put(T.ctx, "s3://" BUCKET "/dir/small.bin", src, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	/* one request: a whole object below the multipart threshold */
	CU_ASSERT_EQUAL(s3test_log_count("PUT /" BUCKET "/dir/small.bin", NULL), 1);

	struct petal_object_info info = { .size = sizeof(info) };
	rc = T.ops->object_head(T.ctx, "s3://" BUCKET "/dir/small.bin", &info, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(info.bytes, 300 * 1024 + 7);
	CU_ASSERT_STRING_EQUAL(info.etag, md5);
	CU_ASSERT_STRING_EQUAL(info.key, "dir/small.bin");
	CU_ASSERT(info.mtime >= before - 120 && info.mtime <= time(NULL) + 120);

	/* the whole file's sha256 travels with it */
	CU_ASSERT_EQUAL(s3test_aws("s3api head-object --bucket " BUCKET " --key dir/small.bin"), 0);
	char *out = s3test_cli_out();
	CU_ASSERT_PTR_NOT_NULL(strstr(out, sha));
	free(out);

	rc = T.ops->object_get(T.ctx, "s3://" BUCKET "/dir/small.bin", dst, &err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(s3test_same(src, dst));
	CU_ASSERT_EQUAL(s3test_count_in_dir(".petal-"), 0);

	/* a missing object: ENOENT that names it, and no file */
	char *none = petal_xasprintf("%s/none.back", T.dir);
	rc = T.ops->object_get(T.ctx, "s3://" BUCKET "/dir/none.bin", none, &err);
	CU_ASSERT_EQUAL(rc, PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NoSuchKey"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "HTTP 404"));
	CU_ASSERT_FALSE(s3test_exists(none));
	CU_ASSERT_EQUAL(s3test_count_in_dir(".petal-"), 0);
	rc = T.ops->object_head(T.ctx, "s3://" BUCKET "/dir/none.bin", &info, &err);
	CU_ASSERT_EQUAL(rc, PETAL_ENOENT);
	rc = T.ops->object_put(T.ctx, "s3://" BUCKET "/dir/", src, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	rc = T.ops->object_put(T.ctx, "s3://" BUCKET "/x", T.dir, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	free(none);
	free(src);
	free(dst);
}

/* An object whose recorded sha256 does not match its bytes is refused and
   leaves no file. */
static void test_get_verifies(void)
{
	struct petal_error err = { 0 };
	char *src = s3test_file("liar.bin", 4096, 2);
	CU_ASSERT_EQUAL(s3test_aws("s3 cp '%s' s3://" BUCKET "/liar.bin --metadata "
	                           "petal-sha256=%064d", src, 0), 0);
	char *dst = petal_xasprintf("%s/liar.back", T.dir);
	int rc = T.ops->object_get(T.ctx, "s3://" BUCKET "/liar.bin", dst, &err);
	CU_ASSERT_EQUAL(rc, PETAL_ECLOUD);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sha256"));
	CU_ASSERT_FALSE(s3test_exists(dst));
	CU_ASSERT_EQUAL(s3test_count_in_dir(".petal-"), 0);
	/* each try is one full download */
	CU_ASSERT_EQUAL(s3test_log_count("GET /" BUCKET "/liar.bin", NULL), 3);
	free(src);
	free(dst);
}

static int no_uploads(const char *bucket)
{
	if (s3test_aws("s3api list-multipart-uploads --bucket %s --output json", bucket) != 0)
		return 0;
	char *out = s3test_cli_out();
	int none = strstr(out, "UploadId") == NULL;
	free(out);
	return none;
}

static void test_multipart(void)
{
	static const char *const env[] = {
		"PETAL_AWS_S3_MULTIPART_THRESHOLD=8M", "PETAL_AWS_S3_PART_SIZE=5MiB",
		"PETAL_AWS_S3_PART_THREADS=3", NULL,
	};
	void *c = s3test_ctx(env);
	s3test_restore();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct petal_error err = { 0 };
	char *src = s3test_file("big.bin", (20u << 20) + 12345, 3);
	int rc = T.ops->object_put(c, "s3://" BUCKET "/big.bin", src, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT_EQUAL(s3test_log_count("PUT /" BUCKET "/big.bin?", "partNumber="), 5);
	CU_ASSERT_EQUAL(s3test_log_count("POST /" BUCKET "/big.bin?uploads", NULL), 1);
	CU_ASSERT(no_uploads(BUCKET));

	struct petal_object_info info = { .size = sizeof(info) };
	CU_ASSERT_EQUAL(T.ops->object_head(c, "s3://" BUCKET "/big.bin", &info, &err), 0);
	CU_ASSERT_EQUAL(info.bytes, (20u << 20) + 12345);
	CU_ASSERT(strlen(info.etag) > 2 && strcmp(info.etag + strlen(info.etag) - 2, "-5") == 0);

	char *dst = petal_xasprintf("%s/big.back", T.dir);
	rc = T.ops->object_get(T.ctx, "s3://" BUCKET "/big.bin", dst, &err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(s3test_same(src, dst));
	/* the aws CLI reads the same bytes */
	char *cli = petal_xasprintf("%s/big.cli", T.dir);
	CU_ASSERT_EQUAL(s3test_aws("s3 cp s3://" BUCKET "/big.bin '%s'", cli), 0);
	CU_ASSERT(s3test_same(src, cli));
	T.desc->fini(c);
	free(src);
	free(dst);
	free(cli);
}

/* Parts S3 refuses (under 5 MiB) fail the upload at completion: it must be
   aborted, leaving neither an upload nor an object. */
static void test_multipart_abort(void)
{
	static const char *const env[] = {
		"PETAL_AWS_S3_MULTIPART_THRESHOLD=100k", "PETAL_AWS_S3_PART_SIZE=64k", NULL,
	};
	void *c = s3test_ctx(env);
	s3test_restore();
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct petal_error err = { 0 };
	char *src = s3test_file("refused.bin", 1 << 20, 4);
	int rc = T.ops->object_put(c, "s3://" BUCKET "/refused.bin", src, &err);
	CU_ASSERT_NOT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "EntityTooSmall"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "aborted"));
	CU_ASSERT_EQUAL(s3test_log_count("PUT /" BUCKET "/refused.bin?", "partNumber="), 16);
	CU_ASSERT_EQUAL(s3test_log_count("DELETE /" BUCKET "/refused.bin?uploadId=", NULL), 1);
	CU_ASSERT(no_uploads(BUCKET));
	struct petal_object_info info = { .size = sizeof(info) };
	CU_ASSERT_EQUAL(T.ops->object_head(c, "s3://" BUCKET "/refused.bin", &info, &err),
	                PETAL_ENOENT);
	T.desc->fini(c);
	free(src);
}

struct listing {
	size_t n, bad;
	uint64_t bytes;
	int stop_at;
};

static int list_cb(void *arg, const struct petal_object_info *o)
{
	struct listing *l = arg;
	unsigned i;
	char tail;
	/* keys relative to the prefix, each f<NNNN>.txt of NNNN % 97 + 1 bytes */
	if (sscanf(o->key, "f%4u.txt%c", &i, &tail) != 1 || o->bytes != i % 97 + 1 ||
	    strlen(o->etag) != 32 || o->mtime <= 0)
		l->bad++;
	l->n++;
	l->bytes += o->bytes;
	return l->stop_at && (int)l->n == l->stop_at ? 42 : 0;
}

static void test_list_many(void)
{
	/* written by the aws CLI, listed by petal */
	char *d = petal_xasprintf("%s/many", T.dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(d, 0755), 0);
	uint64_t total = 0;
	for (unsigned i = 0; i < MANY; i++) {
		char *p = petal_xasprintf("%s/f%04u.txt", d, i);
		FILE *f = fopen(p, "w");
		for (unsigned j = 0; j < i % 97 + 1; j++)
			fputc('a' + (int)(j % 26), f);
		fclose(f);
		total += i % 97 + 1;
		free(p);
	}
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(T.ops->bucket_ensure(T.ctx, "s3://" BUCKET_MANY, NULL, &err), 0);
	CU_ASSERT_EQUAL_FATAL(s3test_aws("s3 sync --quiet '%s' s3://" BUCKET_MANY "/", d), 0);
	size_t pages_before = s3test_log_count("GET /" BUCKET_MANY "?", "list-type=2");
	size_t cont_before = s3test_log_count("GET /" BUCKET_MANY "?", "continuation-token=");
	struct listing l = { 0 };
	int rc = T.ops->object_list(T.ctx, "s3://" BUCKET_MANY, list_cb, &l, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT_EQUAL(l.n, MANY);
	CU_ASSERT_EQUAL(l.bad, 0);
	CU_ASSERT_EQUAL(l.bytes, total);
	/* 1000 a page: three pages, two of them continued */
	CU_ASSERT_EQUAL(s3test_log_count("GET /" BUCKET_MANY "?", "list-type=2") - pages_before, 3);
	CU_ASSERT_EQUAL(s3test_log_count("GET /" BUCKET_MANY "?", "continuation-token=") -
	                cont_before, 2);
	/* the callback stops the listing and its value comes back */
	struct listing s = { .stop_at = 10 };
	CU_ASSERT_EQUAL(T.ops->object_list(T.ctx, "s3://" BUCKET_MANY "/", list_cb, &s, &err), 42);
	CU_ASSERT_EQUAL(s.n, 10);
	free(d);
}

static void test_delete_many(void)
{
	const char **urls = petal_xcalloc(MANY + 1, sizeof(*urls));
	for (unsigned i = 0; i < MANY; i++)
		urls[i] = petal_xasprintf("s3://" BUCKET_MANY "/f%04u.txt", i);
	urls[MANY] = "s3://" BUCKET_MANY "/never-there.txt"; /* not an error */
	struct petal_error err = { 0 };
	size_t before = s3test_log_count("POST /" BUCKET_MANY "?delete", NULL);
	int rc = T.ops->object_delete(T.ctx, urls, MANY + 1, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	/* at most 1000 keys a request */
	CU_ASSERT_EQUAL(s3test_log_count("POST /" BUCKET_MANY "?delete", NULL) - before, 3);
	CU_ASSERT_EQUAL(count("s3://" BUCKET_MANY), 0);
	for (unsigned i = 0; i < MANY; i++)
		free((char *)urls[i]);
	/* a bucket that is not there: the request's error, named */
	const char *gone[] = { "s3://petal-no-such-bucket/a" };
	rc = T.ops->object_delete(T.ctx, gone, 1, &err);
	CU_ASSERT_EQUAL(rc, PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NoSuchBucket"));
	free(urls);
}

/* Wrong keys are refused by moto's signature check; the error names AWS's
   code and holds no secret, and neither does the debug log. */
static void test_wrong_secret(void)
{
	char wrong[128];
	snprintf(wrong, sizeof(wrong), "%.20sWRONGwrongWRONGwrong", T.secret);
	char *src = s3test_file("auth.bin", 1000, 5);
	char *log = petal_xasprintf("%s/debug.log", T.dir);
	fflush(stderr);
	int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
	petal_host_set_verbosity(the_host(), PETAL_LOG_DEBUG);

	char *e1 = petal_xasprintf("AWS_SECRET_ACCESS_KEY=%s", wrong);
	const char *env1[] = { e1, NULL };
	void *c = s3test_ctx(env1);
	struct petal_error err = { 0 }, err2 = { 0 }, err3 = { 0 };
	int rc = c ? T.ops->object_put(c, "s3://" BUCKET "/auth.bin", src, &err) : -100;
	int rc3 = c ? T.ops->bucket_ensure(c, "s3://" BUCKET, NULL, &err3) : -100;
	s3test_restore();
	if (c)
		T.desc->fini(c);
	const char *env2[] = { "AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE", NULL };
	c = s3test_ctx(env2);
	int rc2 = c ? T.ops->object_get(c, "s3://" BUCKET "/dir/small.bin", src, &err2) : -100;
	s3test_restore();
	if (c)
		T.desc->fini(c);

	petal_host_set_verbosity(the_host(), PETAL_LOG_WARN);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);

	CU_ASSERT_EQUAL(rc, PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "SignatureDoesNotMatch"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "HTTP 403"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, wrong));
	CU_ASSERT_PTR_NULL(strstr(err.msg, T.secret));
	CU_ASSERT_EQUAL(rc3, PETAL_EAUTH); /* HEAD: no body, still refused */
	CU_ASSERT_PTR_NULL(strstr(err3.msg, wrong));
	CU_ASSERT_EQUAL(rc2, PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err2.msg, "InvalidAccessKeyId"));
	/* the file to get into was not touched */
	CU_ASSERT(s3test_same(src, src) && s3test_exists(src));

	char *text = NULL;
	size_t len = 0;
	struct petal_error rerr = { 0 };
	CU_ASSERT_EQUAL(petal_read_file(log, 1 << 24, &text, &len, &rerr), 0);
	if (text) {
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "PUT http://127.0.0.1"));
		CU_ASSERT_PTR_NOT_NULL(strstr(text, "HTTP 403"));
		CU_ASSERT_PTR_NULL(strstr(text, wrong));
		CU_ASSERT_PTR_NULL(strstr(text, T.secret));
		CU_ASSERT_PTR_NULL(strstr(text, T.key_id)); /* key ids only redacted */
	}
	free(text);
	free(e1);
	free(log);
	free(src);
}

/* Both ways between petal and the aws CLI, signatures checked (a key with
   spaces: moto's checker cannot take '+', '%' or UTF-8). */
static void test_interop(void)
{
	struct petal_error err = { 0 };
	char *src = s3test_file("interop.bin", 70000, 6);
	CU_ASSERT_EQUAL(T.ops->object_put(T.ctx, "s3://" BUCKET "/by petal/x y.bin", src, &err), 0);
	char *cli = petal_xasprintf("%s/interop.cli", T.dir);
	CU_ASSERT_EQUAL(s3test_aws("s3 cp 's3://" BUCKET "/by petal/x y.bin' '%s'", cli), 0);
	CU_ASSERT(s3test_same(src, cli));

	char *src2 = s3test_file("fromcli.bin", 123457, 7);
	CU_ASSERT_EQUAL(s3test_aws("s3 cp '%s' 's3://" BUCKET "/by cli/x y.bin'", src2), 0);
	char *back = petal_xasprintf("%s/fromcli.back", T.dir);
	int rc = T.ops->object_get(T.ctx, "s3://" BUCKET "/by cli/x y.bin", back, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT(s3test_same(src2, back));
	free(src);
	free(src2);
	free(cli);
	free(back);
}

struct seen {
	size_t n;
	char key[256];
	uint64_t bytes;
};

static int seen_cb(void *arg, const struct petal_object_info *o)
{
	struct seen *sn = arg;
	sn->n++;
	snprintf(sn->key, sizeof(sn->key), "%s", o->key);
	sn->bytes = o->bytes;
	return 0;
}

/* Keys with '+', '#', '%', '&', '=' and UTF-8, prefixes with '/': on the
   server that checks no signature (moto's checker fails on them, also for
   the aws CLI), both ways with the aws CLI. */
static void test_odd_keys(void)
{
	const char *env[] = { NULL, NULL };
	char *e = petal_xasprintf("AWS_ENDPOINT_URL=%s", T.noauth_url);
	env[0] = e;
	/* kept until the first request: the plugin resolves settings then */
	void *c = s3test_ctx(env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(T.ops->bucket_ensure(c, "s3://petal-odd", NULL, &err), 0);
	s3test_restore();
	const char *odd = "odd dir/a+b \xc3\xbc#%&=.bin";
	char *src = s3test_file("odd.bin", 70000, 8);
	char *url = petal_xasprintf("s3://petal-odd/%s", odd);
	CU_ASSERT_EQUAL(T.ops->object_put(c, url, src, &err), 0);
	char *cli = petal_xasprintf("%s/odd.cli", T.dir);
	CU_ASSERT_EQUAL(s3test_aws_at(T.noauth_url, "s3 cp 's3://petal-odd/%s' '%s'", odd, cli), 0);
	CU_ASSERT(s3test_same(src, cli));

	/* listed back decoded, relative to its prefix */
	struct seen sn = { 0 };
	CU_ASSERT_EQUAL(T.ops->object_list(c, "s3://petal-odd/odd dir/", seen_cb, &sn, &err), 0);
	CU_ASSERT_EQUAL(sn.n, 1);
	CU_ASSERT_STRING_EQUAL(sn.key, odd + strlen("odd dir/"));
	CU_ASSERT_EQUAL(sn.bytes, 70000);
	/* "odd dir" without its slash is the same directory */
	sn.n = 0;
	CU_ASSERT_EQUAL(T.ops->object_list(c, "s3://petal-odd/odd dir", seen_cb, &sn, &err), 0);
	CU_ASSERT_EQUAL(sn.n, 1);

	char *src2 = s3test_file("oddcli.bin", 5000, 9);
	CU_ASSERT_EQUAL(s3test_aws_at(T.noauth_url, "s3 cp '%s' 's3://petal-odd/from cli/"
	                              "x y+z%%41\xc3\xa9.bin'", src2), 0);
	char *back = petal_xasprintf("%s/oddcli.back", T.dir);
	int rc = T.ops->object_get(c, "s3://petal-odd/from cli/x y+z%41\xc3\xa9.bin", back, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "%s\n", err.msg);
	CU_ASSERT(s3test_same(src2, back));
	const char *del[] = { url, "s3://petal-odd/from cli/x y+z%41\xc3\xa9.bin" };
	CU_ASSERT_EQUAL(T.ops->object_delete(c, del, 2, &err), 0);
	sn.n = 0;
	CU_ASSERT_EQUAL(T.ops->object_list(c, "s3://petal-odd", seen_cb, &sn, &err), 0);
	CU_ASSERT_EQUAL(sn.n, 0);
	T.desc->fini(c);
	free(e);
	free(src);
	free(src2);
	free(url);
	free(cli);
	free(back);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("aws S3 on moto_server", NULL, NULL);
	if (!s || !CU_add_test(s, "descriptor", test_descriptor) ||
	    !CU_add_test(s, "bucket in us-east-1, probe", test_bucket_us_east_1) ||
	    !CU_add_test(s, "bucket in eu-west-1 (LocationConstraint)", test_bucket_eu_west_1) ||
	    !CU_add_test(s, "put, head, get with checksums", test_roundtrip) ||
	    !CU_add_test(s, "get refuses a corrupt object", test_get_verifies) ||
	    !CU_add_test(s, "multipart upload of 20 MiB", test_multipart) ||
	    !CU_add_test(s, "refused multipart upload is aborted", test_multipart_abort) ||
	    !CU_add_test(s, "list 2,500 objects across pages", test_list_many) ||
	    !CU_add_test(s, "delete 2,500 objects in batches", test_delete_many) ||
	    !CU_add_test(s, "wrong keys refused, no secret shown", test_wrong_secret) ||
	    !CU_add_test(s, "interoperability with the aws CLI", test_interop) ||
	    !CU_add_test(s, "odd keys and prefixes, both ways", test_odd_keys)) {
		CU_cleanup_registry();
		return 1;
	}
	if (s3test_setup("aws-s3", 1) != 0) {
		fprintf(stderr, "test_aws_s3: setup failed\n");
		s3test_teardown();
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	int reg_err = CU_get_error();
	s3test_teardown();
	CU_cleanup_registry();
	return failed || reg_err ? 1 : 0;
}
