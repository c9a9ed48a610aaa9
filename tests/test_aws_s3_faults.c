/* The aws plugin's S3 operations through tests/net/fault_server.py in
   proxy mode in front of a signature-checking moto_server: about 30% of
   requests answered 503, SlowDown, 500 or a reset (and, in a second round,
   carried out but their answer dropped).  Every put, get, list and delete
   must still finish with every object intact. */
#define _GNU_SOURCE /* vasprintf */
#include "config.h"

#include <CUnit/Basic.h>
#include <signal.h>
#include <time.h>

#include "aws/s3test.h"

#define BUCKET "petal-faults"
#define SMALL 24

struct proxy {
	pid_t pid;
	char url[128];
	char stats[PATH_MAX + 32];
};

/* Start fault_server.py in front of moto; 0 or -1. */
static int proxy_start(struct proxy *p, const char *mode, double rate, int seed)
{
	char *portf = petal_xasprintf("%s/proxy-%s.port", T.dir, mode);
	snprintf(p->stats, sizeof(p->stats), "%s/proxy-%s.json", T.dir, mode);
	char *script = petal_xasprintf("%s/tests/net/fault_server.py", s3test_srcdir());
	char rate_s[32], seed_s[32];
	snprintf(rate_s, sizeof(rate_s), "%.2f", rate);
	snprintf(seed_s, sizeof(seed_s), "%d", seed);
	unlink(portf);
	p->pid = fork();
	if (p->pid == 0) {
		execlp("python3", "python3", script, "--port-file", portf, "--upstream", T.url,
		       "--fail-rate", rate_s, "--mode", mode, "--seed", seed_s, "--stats-file",
		       p->stats, (char *)NULL);
		_exit(127);
	}
	int rc = -1;
	for (int i = 0; p->pid > 0 && i < 300; i++) {
		FILE *f = fopen(portf, "r");
		unsigned port = 0;
		if (f && fscanf(f, "%u", &port) == 1 && port) {
			snprintf(p->url, sizeof(p->url), "http://127.0.0.1:%u", port);
			rc = 0;
		}
		if (f)
			fclose(f);
		if (rc == 0)
			break;
		usleep(100 * 1000);
	}
	free(portf);
	free(script);
	return rc;
}

static void proxy_stop(struct proxy *p)
{
	if (p->pid > 0) {
		kill(p->pid, SIGTERM);
		waitpid(p->pid, NULL, 0);
	}
	p->pid = 0;
}

/* The proxy's counters: requests and faults. */
static void proxy_counts(const struct proxy *p, long *requests, long *faults)
{
	*requests = *faults = -1;
	char *data = NULL;
	size_t len;
	struct petal_error err = { 0 };
	if (petal_read_file(p->stats, 1 << 20, &data, &len, &err) != 0)
		return;
	const char *r = strstr(data, "\"requests\":"), *f = strstr(data, "\"faults\":");
	if (r)
		*requests = strtol(r + 11, NULL, 10);
	if (f)
		*faults = strtol(f + 9, NULL, 10);
	free(data);
}

static int count_cb(void *arg, const struct petal_object_info *o)
{
	(void)o;
	(*(size_t *)arg)++;
	return 0;
}

/* Put, get back, list and delete a set of objects through `proxy`. */
static void round_trip(const char *mode, double rate, int seed)
{
	struct proxy p = { 0 };
	CU_ASSERT_EQUAL_FATAL(proxy_start(&p, mode, rate, seed), 0);
	char *ep = petal_xasprintf("AWS_ENDPOINT_URL=%s", p.url);
	/* the AWS SDKs' setting for attempts per request; 3 by default is too
	   few against 30% failures, as it would be for any SDK */
	const char *env[] = { ep, "AWS_MAX_ATTEMPTS=10", "PETAL_AWS_S3_MULTIPART_THRESHOLD=6M",
		              "PETAL_AWS_S3_PART_SIZE=5M", NULL };
	void *c = s3test_ctx(env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);

	struct petal_error err = { 0 };
	char *src[SMALL + 1], *urls[SMALL + 1];
	int failures = 0;
	for (int i = 0; i <= SMALL; i++) {
		char name[64];
		snprintf(name, sizeof(name), "%s-%02d.bin", mode, i);
		/* the last one goes multipart: 3 parts */
		src[i] = s3test_file(name, i < SMALL ? (size_t)(i * 4099 + 1) : (12u << 20) + 99,
		                     (unsigned)(seed + i));
		/* the multipart one at the root: moto's checker cannot take the '/' of
		   the ListMultipartUploads prefix that the lost-answer sweep sends */
		urls[i] = i < SMALL ? petal_xasprintf("s3://" BUCKET "/%s/%s", mode, name)
		                    : petal_xasprintf("s3://" BUCKET "/%s", name);
		int rc = T.ops->object_put(c, urls[i], src[i], &err);
		if (rc != 0) {
			failures++;
			fprintf(stderr, "put %s: %s\n", urls[i], err.msg);
		}
	}
	CU_ASSERT_EQUAL(failures, 0);

	failures = 0;
	for (int i = 0; i <= SMALL; i++) {
		char *back = petal_xasprintf("%s.back", src[i]);
		int rc = T.ops->object_get(c, urls[i], back, &err);
		if (rc != 0)
			fprintf(stderr, "get %s: %s\n", urls[i], err.msg);
		if (rc != 0 || !s3test_same(src[i], back))
			failures++;
		unlink(back);
		free(back);
	}
	CU_ASSERT_EQUAL(failures, 0);

	/* the bucket's root: moto's signature check fails on a '/' in a prefix */
	size_t n = 0;
	int rc = T.ops->object_list(c, "s3://" BUCKET, count_cb, &n, &err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(n, SMALL + 1);
	n = 0;
	struct petal_object_info info = { .size = sizeof(info) };
	for (int i = 0; i <= SMALL; i++)
		if (T.ops->object_head(c, urls[i], &info, &err) == 0 &&
		    info.bytes == (i < SMALL ? (uint64_t)(i * 4099 + 1) : (12u << 20) + 99))
			n++;
	CU_ASSERT_EQUAL(n, SMALL + 1);

	rc = T.ops->object_delete(c, (const char *const *)urls, SMALL + 1, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "delete: %s\n", err.msg);
	s3test_restore();
	T.desc->fini(c);

	/* the faults were there, at about the asked rate */
	long requests, faults;
	proxy_counts(&p, &requests, &faults);
	proxy_stop(&p);
	CU_ASSERT(requests > 50);
	CU_ASSERT(faults > requests / 8);
	fprintf(stderr, "  %s: %ld requests, %ld faults\n", mode, requests, faults);

	/* nothing is left: no object, no upload */
	n = 0;
	CU_ASSERT_EQUAL(s3test_aws("s3api list-objects-v2 --bucket " BUCKET " --output json"), 0);
	char *out = s3test_cli_out();
	CU_ASSERT_PTR_NULL(strstr(out, "\"Key\""));
	free(out);
	CU_ASSERT_EQUAL(s3test_aws("s3api list-multipart-uploads --bucket " BUCKET
	                           " --output json"), 0);
	out = s3test_cli_out();
	if (strstr(out, "UploadId"))
		fprintf(stderr, "  uploads left: %s\n", out);
	CU_ASSERT_PTR_NULL(strstr(out, "UploadId"));
	free(out);
	for (int i = 0; i <= SMALL; i++) {
		unlink(src[i]);
		free(src[i]);
		free(urls[i]);
	}
	free(ep);
}

static void test_mix(void)
{
	round_trip("mix", 0.3, 7);
}

static void test_slowdown(void)
{
	round_trip("slowdown", 0.3, 11);
}

/* Requests carried out whose answers never arrive: repeats must be harmless. */
static void test_reset_after(void)
{
	round_trip("reset-after", 0.3, 13);
}

/* The answer to CreateMultipartUpload lost after the upload was opened:
   the repeat opens a second one, and the first must not be left behind.
   Through this proxy go ListMultipartUploads (what is open before), then
   CreateMultipartUpload: seed 37 at rate 0.5 makes Python's
   random.Random(37) draw no fault, a fault, then five without. */
static void test_lost_create(void)
{
	struct proxy p = { 0 };
	CU_ASSERT_EQUAL_FATAL(proxy_start(&p, "reset-after", 0.5, 37), 0);
	char *ep = petal_xasprintf("AWS_ENDPOINT_URL=%s", p.url);
	const char *env[] = { ep, "AWS_MAX_ATTEMPTS=10", "PETAL_AWS_S3_MULTIPART_THRESHOLD=6M",
		              "PETAL_AWS_S3_PART_SIZE=5M", NULL };
	void *c = s3test_ctx(env);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	char *src = s3test_file("lost-create.bin", (11u << 20) + 5, 99);
	struct petal_error err = { 0 };
	int rc = T.ops->object_put(c, "s3://" BUCKET "/lost-create.bin", src, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "put: %s\n", err.msg);
	char *back = petal_xasprintf("%s.back", src);
	CU_ASSERT_EQUAL(T.ops->object_get(c, "s3://" BUCKET "/lost-create.bin", back, &err), 0);
	CU_ASSERT(s3test_same(src, back));
	s3test_restore();
	T.desc->fini(c);
	proxy_stop(&p);
	/* two uploads were opened; the one whose answer was lost is aborted */
	CU_ASSERT_EQUAL(s3test_log_count("POST /" BUCKET "/lost-create.bin?uploads", NULL), 2);
	CU_ASSERT(s3test_log_count("DELETE /" BUCKET "/lost-create.bin?uploadId=", NULL) >= 1);
	CU_ASSERT_EQUAL(s3test_aws("s3api list-multipart-uploads --bucket " BUCKET
	                           " --output json"), 0);
	char *out = s3test_cli_out();
	CU_ASSERT_PTR_NULL(strstr(out, "UploadId"));
	free(out);
	const char *del[] = { "s3://" BUCKET "/lost-create.bin" };
	CU_ASSERT_EQUAL(T.ops->object_delete(T.ctx, del, 1, &err), 0);
	unlink(src);
	unlink(back);
	free(src);
	free(back);
	free(ep);
}

static int setup(void)
{
	if (s3test_setup("aws-s3-faults", 0) != 0)
		return -1;
	struct petal_error err = { 0 };
	if (T.ops->bucket_ensure(T.ctx, "s3://" BUCKET, NULL, &err) != 0) {
		fprintf(stderr, "bucket: %s\n", err.msg);
		return -1;
	}
	return 0;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("aws S3 through a faulty proxy", NULL, NULL);
	if (!s || !CU_add_test(s, "lost CreateMultipartUpload answer", test_lost_create) ||
	    !CU_add_test(s, "30% 503/SlowDown/500/resets", test_mix) ||
	    !CU_add_test(s, "30% SlowDown", test_slowdown) ||
	    !CU_add_test(s, "30% answers lost after the fact", test_reset_after)) {
		CU_cleanup_registry();
		return 1;
	}
	if (setup() != 0) {
		fprintf(stderr, "test_aws_s3_faults: setup failed\n");
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
