/* core/cloud: the door's checks, error prefix, journal hook and sink events,
   and its polls (deadline, cancel), against a scripted cloud. */
#define _GNU_SOURCE /* timegm */
#include "config.h"

#include <CUnit/Basic.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../core/cloud/base_image_lookup.h"
#include "../core/cloud/cloud.h"
#include "../core/seed/seed.h"
#include "../core/plugin/host.h"
#include "../core/util/util.h"

static const char *states[8]; /* what describe answers, call by call */
static int n_describe;

static int fake_describe(void *ctx, const char *id, struct petal_instance *out,
                         struct petal_error *err)
{
	(void)ctx;
	const char *st = states[n_describe < 7 ? n_describe : 7];
	n_describe++;
	if (!st)
		return petal_fail(err, PETAL_ENOENT, "no instance %s", id);
	snprintf(out->id, sizeof(out->id), "%s", id);
	snprintf(out->state, sizeof(out->state), "%s", st);
	return 0;
}

static int fake_terminate(void *ctx, const char *id, struct petal_error *err)
{
	(void)ctx;
	petal_fail(err, PETAL_ECLOUD, "refused %s", id);
	err->http_status = 400;
	snprintf(err->request_id, sizeof(err->request_id), "req-1");
	return PETAL_ECLOUD;
}

static const struct petal_cloud_ops fake_ops = {
	.size = sizeof(struct petal_cloud_ops),
	.caps = PETAL_CAP_COMPUTE,
	.instance_describe = fake_describe,
	.instance_terminate = fake_terminate,
};

static char journal[1024];

static void on_journal(void *arg, const char *cloud, const char *op, const char *target,
                       const char *token, enum petal_cloud_phase phase, int rc,
                       const struct petal_error *err)
{
	(void)arg;
	(void)token;
	size_t l = strlen(journal);
	snprintf(journal + l, sizeof(journal) - l, "%s %s %s %s %d%s%.200s\n", cloud, op, target,
	         phase == PETAL_CLOUD_INTENT ? "intent" : "result", rc, err ? " " : "",
	         err ? err->msg : "");
}

static char events[1024];

static void on_cloud(void *arg, const char *cloud, const char *op, const char *phase, int rc,
                     const char *message)
{
	(void)arg;
	size_t l = strlen(events);
	snprintf(events + l, sizeof(events) - l, "%s/%s/%s/%d/%.200s\n", cloud, op, phase, rc,
	         message ? message : "-");
}

static void test_door(void)
{
	struct petal_host *h = petal_host_new();
	struct petal_sink sink = { .cloud = on_cloud };
	petal_host_set_sink(h, &sink);
	struct petal_cloud c = { .name = "fake", .ops = &fake_ops, .host = h,
		                 .journal = on_journal };
	struct petal_error err = PETAL_ERROR_INIT;

	/* a missing op: ENOTSUP naming the op and the cloud, and no call made */
	CU_ASSERT_EQUAL(petal_cloud_image_delete(&c, "ami-1", &err), PETAL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "image_delete"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'fake'"));
	CU_ASSERT_STRING_EQUAL(journal, "");
	CU_ASSERT_FALSE(petal_cloud_has(&c, "image_delete"));
	CU_ASSERT_TRUE(petal_cloud_has(&c, "instance_terminate"));
	CU_ASSERT_FALSE(petal_cloud_has(&c, "no_such_op"));

	/* a failure: the op before the message, the cloud's parts kept, the
	   journal told before and after, the sink told too */
	CU_ASSERT_EQUAL(petal_cloud_instance_terminate(&c, "i-9", &err), PETAL_ECLOUD);
	CU_ASSERT_STRING_EQUAL(err.msg, "fake instance_terminate: refused i-9");
	CU_ASSERT_EQUAL(err.http_status, 400);
	CU_ASSERT_STRING_EQUAL(err.request_id, "req-1");
	CU_ASSERT_STRING_EQUAL(journal, "fake instance_terminate i-9 intent 0\n"
	                       "fake instance_terminate i-9 result -8 fake instance_terminate: "
	                       "refused i-9\n");
	CU_ASSERT_STRING_EQUAL(events, "fake/instance_terminate/start/0/-\n"
	                       "fake/instance_terminate/done/-8/fake instance_terminate: "
	                       "refused i-9\n");

	/* no ops at all */
	struct petal_cloud none = { .name = "nothing" };
	CU_ASSERT_EQUAL(petal_cloud_instance_describe(&none, "i-1", NULL, &err), PETAL_ENOTSUP);
	petal_host_free(h);
}

static void test_wait(void)
{
	struct petal_cloud c = { .name = "fake", .ops = &fake_ops };
	struct petal_error err = PETAL_ERROR_INIT;
	struct petal_instance inst;

	/* pending, pending, running: three looks */
	memset(states, 0, sizeof(states));
	states[0] = states[1] = "pending";
	states[2] = "running";
	n_describe = 0;
	double t0 = petal_cloud_now();
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "running", t0 + 30, NULL, &inst,
	                                          &err), 0);
	CU_ASSERT_EQUAL(n_describe, 3);
	CU_ASSERT_STRING_EQUAL(inst.state, "running");
	CU_ASSERT(petal_cloud_now() - t0 < 10);

	/* terminated cannot become running: at once */
	states[0] = "terminated";
	n_describe = 0;
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "running", petal_cloud_now() + 30,
	                                          NULL, NULL, &err), PETAL_ECLOUD);
	CU_ASSERT_EQUAL(n_describe, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot become running"));

	/* gone counts as terminated */
	memset(states, 0, sizeof(states));
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "terminated", petal_cloud_now(),
	                                          NULL, NULL, &err), 0);

	/* the deadline: still pending */
	for (int i = 0; i < 8; i++)
		states[i] = "pending";
	t0 = petal_cloud_now();
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "running", t0 + 1.5, NULL, NULL,
	                                          &err), PETAL_ETIMEOUT);
	double took = petal_cloud_now() - t0;
	CU_ASSERT(took >= 1.4 && took < 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "still pending"));

	/* cancelled: at once, and says so */
	volatile sig_atomic_t cancel = 1;
	t0 = petal_cloud_now();
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "running", t0 + 60, &cancel, NULL,
	                                          &err), PETAL_ETIMEOUT);
	CU_ASSERT(petal_cloud_now() - t0 < 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cancelled"));

	/* not a state to wait for */
	CU_ASSERT_EQUAL(petal_cloud_wait_instance(&c, "i-1", "sleeping", t0 + 60, NULL, NULL,
	                                          &err), PETAL_EINVAL);
	/* images need image_list, which this cloud lacks */
	CU_ASSERT_EQUAL(petal_cloud_wait_image(&c, "ami-1", t0 + 60, NULL, NULL, &err),
	                PETAL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "image_list"));
}

/* Two images per search, or a refusal for owner "nobody". */
static int fake_search(void *ctx, const char *owner, const char *pattern,
                       int (*cb)(void *arg, const struct petal_image *img), void *arg,
                       struct petal_error *err)
{
	(void)ctx;
	if (strcmp(owner, "nobody") == 0)
		return petal_fail(err, PETAL_EINVAL, "owner '%s' is not an owner", owner);
	for (int i = 0; i < 2; i++) {
		struct petal_image img = { .size = sizeof(img) };
		snprintf(img.id, sizeof(img.id), "ami-%d", i);
		snprintf(img.name, sizeof(img.name), "%s-%d", pattern, i);
		snprintf(img.owner_alias, sizeof(img.owner_alias), "%s", owner);
		img.n_tags = 1;
		snprintf(img.tags[0].key, sizeof(img.tags[0].key), "petal:seed");
		snprintf(img.tags[0].value, sizeof(img.tags[0].value), "s%d", i);
		int rc = cb(arg, &img);
		if (rc != 0)
			return rc;
	}
	return 0;
}

struct seen {
	char names[256];
	int stop_after;
	int n;
};

static int on_image(void *arg, const struct petal_image *img)
{
	struct seen *s = arg;
	size_t l = strlen(s->names);
	snprintf(s->names + l, sizeof(s->names) - l, "%s/%s/%s ", img->name, img->owner_alias,
	         petal_image_tag(img, "petal:seed") ? petal_image_tag(img, "petal:seed") : "-");
	return ++s->n == s->stop_after ? 7 : 0;
}

static void test_image_search(void)
{
	struct petal_cloud_ops ops = {
		.size = sizeof(ops),
		.caps = PETAL_CAP_IMAGES,
		.image_search = fake_search,
	};
	memset(journal, 0, sizeof(journal));
	struct petal_cloud c = { .name = "fake", .ops = &ops, .journal = on_journal };
	struct petal_error err = PETAL_ERROR_INIT;
	struct seen s = { .stop_after = 0 };
	CU_ASSERT_TRUE(petal_cloud_has(&c, "image_search"));
	CU_ASSERT_EQUAL(petal_cloud_image_search(&c, "amazon", "pc-*", on_image, &s, &err), 0);
	CU_ASSERT_STRING_EQUAL(s.names, "pc-*-0/amazon/s0 pc-*-1/amazon/s1 ");
	CU_ASSERT_STRING_EQUAL(journal, "fake image_search pc-* intent 0\n"
	                       "fake image_search pc-* result 0\n");

	/* the callback's non-zero stops the search and is its answer */
	struct seen one = { .stop_after = 1 };
	CU_ASSERT_EQUAL(petal_cloud_image_search(&c, "self", "x*", on_image, &one, &err), 7);
	CU_ASSERT_EQUAL(one.n, 1);

	/* the plugin's refusal, with the op before it */
	CU_ASSERT_EQUAL(petal_cloud_image_search(&c, "nobody", "x*", on_image, &s, &err),
	                PETAL_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "fake image_search: owner 'nobody' is not an owner");

	/* a plugin built before image_search was appended: its ops end earlier,
	   so the pointer behind them is never read */
	ops.size = offsetof(struct petal_cloud_ops, image_search);
	CU_ASSERT_FALSE(petal_cloud_has(&c, "image_search"));
	CU_ASSERT_EQUAL(petal_cloud_image_search(&c, "amazon", "pc-*", on_image, &s, &err),
	                PETAL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "image_search"));

	/* an image struct of the size before the tags: no tag read */
	struct petal_image old = { .size = offsetof(struct petal_image, owner_id) };
	old.n_tags = 1;
	snprintf(old.tags[0].key, sizeof(old.tags[0].key), "petal:seed");
	CU_ASSERT_PTR_NULL(petal_image_tag(&old, "petal:seed"));
	old.size = sizeof(old);
	CU_ASSERT_PTR_NOT_NULL(petal_image_tag(&old, "petal:seed"));
	CU_ASSERT_PTR_NULL(petal_image_tag(&old, "petal:run"));
}

static char access_seen[512];

static int fake_access_create(void *ctx, const char *name, const char *const *prefixes,
                              size_t n_prefixes, const struct petal_tag *tags, size_t n_tags,
                              struct petal_error *err)
{
	(void)ctx;
	if (strchr(name, '/'))
		return petal_fail(err, PETAL_EINVAL, "name '%s' has a '/'", name);
	size_t l = strlen(access_seen);
	l += (size_t)snprintf(access_seen + l, sizeof(access_seen) - l, "create %s", name);
	for (size_t i = 0; i < n_prefixes && l < sizeof(access_seen); i++)
		l += (size_t)snprintf(access_seen + l, sizeof(access_seen) - l, " %s", prefixes[i]);
	for (size_t i = 0; i < n_tags && l < sizeof(access_seen); i++)
		l += (size_t)snprintf(access_seen + l, sizeof(access_seen) - l, " %s=%s",
		                      tags[i].key, tags[i].value);
	if (l < sizeof(access_seen))
		snprintf(access_seen + l, sizeof(access_seen) - l, "\n");
	return 0;
}

static int fake_access_delete(void *ctx, const char *name, struct petal_error *err)
{
	(void)ctx;
	(void)err;
	size_t l = strlen(access_seen);
	snprintf(access_seen + l, sizeof(access_seen) - l, "delete %s\n", name);
	return 0;
}

static void test_access(void)
{
	struct petal_cloud_ops ops = {
		.size = sizeof(ops),
		.caps = PETAL_CAP_COMPUTE,
		.access_create = fake_access_create,
		.access_delete = fake_access_delete,
	};
	memset(journal, 0, sizeof(journal));
	memset(access_seen, 0, sizeof(access_seen));
	struct petal_cloud c = { .name = "fake", .ops = &ops, .journal = on_journal };
	struct petal_error err = { 0 };
	const char *prefixes[] = { "s3://b/runs/r-1/", "s3://cache/m/" };
	const struct petal_tag tags[] = { { "petal:run", "r-1" } };
	CU_ASSERT_TRUE(petal_cloud_has(&c, "access_create"));
	CU_ASSERT_TRUE(petal_cloud_has(&c, "access_delete"));
	CU_ASSERT_EQUAL(petal_cloud_access_create(&c, "petal-build-r-1", prefixes, 2, tags, 1,
	                                          &err), 0);
	CU_ASSERT_EQUAL(petal_cloud_access_delete(&c, "petal-build-r-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(access_seen, "create petal-build-r-1 s3://b/runs/r-1/ "
	                       "s3://cache/m/ petal:run=r-1\ndelete petal-build-r-1\n");
	CU_ASSERT_STRING_EQUAL(journal, "fake access_create petal-build-r-1 intent 0\n"
	                       "fake access_create petal-build-r-1 result 0\n"
	                       "fake access_delete petal-build-r-1 intent 0\n"
	                       "fake access_delete petal-build-r-1 result 0\n");
	/* the plugin's refusal, with the op before it */
	CU_ASSERT_EQUAL(petal_cloud_access_create(&c, "a/b", prefixes, 1, NULL, 0, &err),
	                PETAL_EINVAL);
	CU_ASSERT_STRING_EQUAL(err.msg, "fake access_create: name 'a/b' has a '/'");
	/* a plugin built before the access ops were appended */
	ops.size = offsetof(struct petal_cloud_ops, access_create);
	CU_ASSERT_FALSE(petal_cloud_has(&c, "access_create"));
	CU_ASSERT_FALSE(petal_cloud_has(&c, "access_delete"));
	CU_ASSERT_EQUAL(petal_cloud_access_delete(&c, "petal-build-r-1", &err), PETAL_ENOTSUP);
}

/* Amazon's images as EC2 lists them, deprecation times included (moto keeps
   none, so this is where the lookup's use of them is seen). */
static const struct {
	const char *id, *name, *arch, *state, *alias, *created, *deprecated;
} amazon[] = {
	{ "ami-00000001", "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64-a", "x86_64",
	  "available", "amazon", "2024-10-01T00:00:00.000Z", NULL },
	{ "ami-00000002", "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64-b", "x86_64",
	  "available", "amazon", "2024-12-01T00:00:00.000Z", "2025-01-15T00:00:00.000Z" },
	{ "ami-00000003", "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64-c", "x86_64",
	  "pending", "amazon", "2025-02-01T00:00:00.000Z", NULL },
	{ "ami-00000004", "aws-parallelcluster-3.11.1-amzn2023-hvm-arm64-a", "arm64",
	  "available", "amazon", "2024-10-01T00:00:00.000Z", NULL },
};
static char searched[512];

static int amazon_search(void *ctx, const char *owner, const char *pattern,
                         int (*cb)(void *arg, const struct petal_image *img), void *arg,
                         struct petal_error *err)
{
	(void)ctx;
	(void)err;
	size_t l = strlen(searched);
	snprintf(searched + l, sizeof(searched) - l, "%s:%s ", owner, pattern);
	size_t plen = strcspn(pattern, "*");
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(amazon); i++) {
		if (strcmp(owner, "amazon") || strncmp(amazon[i].name, pattern, plen))
			continue;
		struct petal_image img = { .size = sizeof(img) };
		snprintf(img.id, sizeof(img.id), "%s", amazon[i].id);
		snprintf(img.name, sizeof(img.name), "%s", amazon[i].name);
		snprintf(img.arch, sizeof(img.arch), "%s", amazon[i].arch);
		snprintf(img.state, sizeof(img.state), "%s", amazon[i].state);
		snprintf(img.owner_alias, sizeof(img.owner_alias), "%s", amazon[i].alias);
		snprintf(img.region, sizeof(img.region), "eu-west-1");
		struct tm tm = { 0 };
		sscanf(amazon[i].created, "%d-%d-%dT", &tm.tm_year, &tm.tm_mon, &tm.tm_mday);
		tm.tm_year -= 1900;
		tm.tm_mon -= 1;
		img.created = (int64_t)timegm(&tm);
		snprintf(img.deprecation_time, sizeof(img.deprecation_time), "%s",
		         amazon[i].deprecated ? amazon[i].deprecated : "");
		int rc = cb(arg, &img);
		if (rc)
			return rc;
	}
	return 0;
}

static struct petal_seed *seed_of(const char *yaml)
{
	struct petal_seed *seed = NULL;
	struct petal_diags diags = { 0 };
	struct petal_error err = PETAL_ERROR_INIT;
	if (petal_seed_load_text("lookup.yaml", yaml, strlen(yaml), &seed, &diags, &err) != 0)
		fprintf(stderr, "seed: %s\n", err.msg);
	petal_diags_release(&diags);
	return seed;
}

static void test_base_lookup(void)
{
	struct petal_cloud_ops ops = {
		.size = sizeof(ops), .caps = PETAL_CAP_IMAGES, .image_search = amazon_search,
	};
	struct petal_cloud c = { .name = "fake", .ops = &ops };
	struct petal_error err = PETAL_ERROR_INIT;
	struct petal_image img = { .size = sizeof(img) };
	struct petal_seed *x86 = seed_of("cluster:\n  name: l\n  region: eu-west-1\n  pcluster_version: \"3.11.1\"\n"
	                                 "compute:\n  head_node: c5.large\n"
	                                 "software:\n  spack_packages: [zlib]\n");
	CU_ASSERT_FATAL(x86 != NULL);
	/* before b's deprecation: b, the newest available */
	searched[0] = 0;
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, x86, "2025-01-01T00:00:00.000Z", &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, "ami-00000002");
	CU_ASSERT_STRING_EQUAL(searched, "amazon:aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64* ");
	/* after it: a (c is pending, ami-4 is arm64) */
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, x86, "2025-06-01T00:00:00.000Z", &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, "ami-00000001");
	petal_seed_free(x86);

	/* a release with no image: what was searched and how to fix it */
	struct petal_seed *old = seed_of("cluster:\n  name: l\n  region: eu-west-1\n  pcluster_version: \"3.9.0\"\n"
	                                 "software:\n  spack_packages: [zlib]\n");
	CU_ASSERT_FATAL(old != NULL);
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, old, NULL, &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "aws-parallelcluster-3.9.0-amzn2023-hvm-x86_64*"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "base_ami"));
	petal_seed_free(old);

	/* rocky9: ParallelCluster publishes none, nothing is searched */
	struct petal_seed *rocky = seed_of("cluster:\n  name: l\n  region: eu-west-1\n  os: rocky9\n"
	                                   "software:\n  spack_packages: [zlib]\n");
	CU_ASSERT_FATAL(rocky != NULL);
	searched[0] = 0;
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, rocky, NULL, &img, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "software.build.base_ami"));
	CU_ASSERT_STRING_EQUAL(searched, "");
	petal_seed_free(rocky);

	/* base_ami by name: self first, then amazon; by id: no search */
	struct petal_seed *named = seed_of("cluster:\n  name: l\n  region: eu-west-1\nsoftware:\n  spack_packages: [zlib]\n"
	                                   "  build:\n    base_ami: aws-parallelcluster-3.11.1-amzn2023-hvm-arm64-a\n");
	CU_ASSERT_FATAL(named != NULL);
	searched[0] = 0;
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, named, NULL, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, "ami-00000004");
	CU_ASSERT_STRING_EQUAL(searched, "self:aws-parallelcluster-3.11.1-amzn2023-hvm-arm64-a "
	                       "amazon:aws-parallelcluster-3.11.1-amzn2023-hvm-arm64-a ");
	petal_seed_free(named);
	struct petal_seed *byid = seed_of("cluster:\n  name: l\n  region: eu-west-1\nsoftware:\n  spack_packages: [zlib]\n"
	                                  "  build:\n    base_ami: ami-0123456789abcdef0\n");
	CU_ASSERT_FATAL(byid != NULL);
	searched[0] = 0;
	CU_ASSERT_EQUAL(petal_base_image_lookup(&c, byid, NULL, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, "ami-0123456789abcdef0");
	CU_ASSERT_STRING_EQUAL(searched, "");
	petal_seed_free(byid);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("cloud door", NULL, NULL);
	if (!s || !CU_add_test(s, "checks, prefix, journal, events", test_door) ||
	    !CU_add_test(s, "polls: deadline, final states, cancel", test_wait) ||
	    !CU_add_test(s, "image_search: results, stop, errors, older ops", test_image_search) ||
	    !CU_add_test(s, "access_create, access_delete: through, journal, older ops",
	                 test_access) ||
	    !CU_add_test(s, "base image lookup: deprecation, arch, state, errors", test_base_lookup)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
