/* AWS_MAX_ATTEMPTS is the number of requests an S3 call sends, in all: a
   GET, a PUT and a LIST that always get 503 (tests/net/fault_server.py,
   every request failed) are each sent exactly that many times, with no
   retry loop around the host's own. */
#define _GNU_SOURCE
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/plugin/host.h"
#include "core/plugin/registry.h"
#include "core/util/util.h"
#include "net/faultsrv.h"

/* One host for the whole test (core/plugin/host.h). */
static const struct petal_host *the_host(void)
{
	static struct petal_host *h;
	if (!h)
		h = petal_host_new();
	return h;
}

static struct faultsrv srv;
static struct petal_registry reg;
static const struct petal_plugin *desc;
static char dir[256];

static int no_objects(void *arg, const struct petal_object_info *o)
{
	(void)arg;
	(void)o;
	return 0;
}

/* The requests sent for one op with AWS_MAX_ATTEMPTS=n, and its error. */
static long sent(int n, const char *op, const char *path, char *msg, size_t len)
{
	char v[16];
	snprintf(v, sizeof(v), "%d", n);
	setenv("AWS_MAX_ATTEMPTS", v, 1);
	void *ctx = NULL;
	if (desc->init(reg.host, &ctx) != 0)
		return -1;
	const struct petal_cloud_ops *ops = desc->ops.cloud;
	long before = faultsrv_count(&srv, path);
	struct petal_error err = { 0 };
	char *local = petal_xasprintf("%s/object", dir);
	int rc;
	if (!strcmp(op, "get")) {
		rc = ops->object_get(ctx, "s3://petal-attempts/obj", local, &err);
	} else if (!strcmp(op, "put")) {
		struct petal_error werr = { 0 };
		petal_write_file(local, "payload\n", 8, 0644, &werr);
		rc = ops->object_put(ctx, "s3://petal-attempts/obj", local, &err);
	} else {
		rc = ops->object_list(ctx, "s3://petal-attempts/", no_objects, NULL, &err);
	}
	unlink(local);
	free(local);
	desc->fini(ctx);
	snprintf(msg, len, "%s", err.msg);
	CU_ASSERT_NOT_EQUAL(rc, 0);
	return faultsrv_count(&srv, path) - before;
}

static void check_op(const char *op, const char *path)
{
	static const int counts[] = { 1, 3, 5 };
	for (size_t i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		char msg[1024];
		long got = sent(counts[i], op, path, msg, sizeof(msg));
		if (got != counts[i])
			fprintf(stderr, "\n  %s, AWS_MAX_ATTEMPTS=%d: %ld requests (%s)\n", op,
			        counts[i], got, msg);
		CU_ASSERT_EQUAL(got, counts[i]);
		char want[64];
		snprintf(want, sizeof(want), "after %d attempt%s", counts[i],
		         counts[i] == 1 ? "" : "s");
		CU_ASSERT_PTR_NOT_NULL(strstr(msg, want));
		if (counts[i] == 1)
			CU_ASSERT_PTR_NULL(strstr(msg, "after 1 attempts"));
	}
}

static void test_get(void)
{
	check_op("get", "/petal-attempts/obj");
}

static void test_put(void)
{
	check_op("put", "/petal-attempts/obj");
}

static void test_list(void)
{
	check_op("list", "/petal-attempts");
}

static int setup(void)
{
	static const char *const extra[] = { "--fail-rate", "1", "--mode", "503", NULL };
	if (faultsrv_start(&srv, extra) != 0)
		return -1;
	snprintf(dir, sizeof(dir), "%s/petal-attempts.XXXXXX",
	         getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(dir))
		return -1;
	static const char *const clear[] = {
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION",
		"PETAL_MAX_ATTEMPTS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	};
	for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
		unsetenv(clear[i]);
	char *nofile = petal_xasprintf("%s/no-such-file", dir);
	setenv("AWS_CONFIG_FILE", nofile, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", nofile, 1);
	free(nofile);
	char *ep = faultsrv_url(&srv, "");
	setenv("AWS_ENDPOINT_URL", ep, 1);
	free(ep);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ACCESS_KEY_ID", "minioadmin", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "minioadmin", 1);
	struct petal_error err = { 0 };
	reg.host = the_host();
	petal_registry_default_dirs(&reg);
	if (petal_registry_scan(&reg, &err) != 0)
		return -1;
	struct petal_entry *e = petal_registry_find(&reg, PETAL_KIND_CLOUD, "aws");
	if (!e) {
		fprintf(stderr, "no cloud plugin 'aws' in PETAL_PLUGIN_PATH\n");
		return -1;
	}
	desc = e->desc;
	return 0;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("AWS_MAX_ATTEMPTS is the number of requests", NULL, NULL);
	if (!s || !CU_add_test(s, "GetObject", test_get) || !CU_add_test(s, "PutObject", test_put) ||
	    !CU_add_test(s, "ListObjectsV2", test_list)) {
		CU_cleanup_registry();
		return 1;
	}
	int rc = setup();
	if (rc == 0) {
		CU_basic_set_mode(CU_BRM_VERBOSE);
		CU_basic_run_tests();
	} else {
		fprintf(stderr, "test_aws_attempts: setup failed\n");
	}
	unsigned failed = rc ? 1 : CU_get_number_of_failures();
	petal_registry_release(&reg);
	faultsrv_stop(&srv);
	rmdir(dir);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
