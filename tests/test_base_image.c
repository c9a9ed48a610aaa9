/* core/seed/base_image.c: ParallelCluster's base AMI chosen from the images
   of tests/aws/pcluster_amis.json (moto's MOTO_AMIS_PATH format, so the same
   file feeds moto_server), the way DescribeImages would list them. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/seed/base_image.h"
#include "../core/seed/seed.h"
#include "../core/util/util.h"

static json_t *fixture, *deprecated;
static struct petal_image_candidate *imgs;
static size_t n_imgs;

static const char *str(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

/* The fixture's images as EC2 reports them through moto: moto gives every
   image of a MOTO_AMIS_PATH file the owner alias amazon; DescribeImages has
   a DeprecationTime that moto's file cannot hold, so it comes from the
   sibling pcluster_amis_deprecated.json. */
static int load_fixture(void)
{
	const char *top = getenv("top_srcdir");
	char *path = petal_xasprintf("%s/tests/aws/pcluster_amis.json", top ? top : ".");
	char *dpath = petal_xasprintf("%s/tests/aws/pcluster_amis_deprecated.json",
	                              top ? top : ".");
	json_error_t e;
	fixture = json_load_file(path, 0, &e);
	deprecated = json_load_file(dpath, 0, &e);
	free(path);
	free(dpath);
	if (!json_is_array(fixture) || !json_is_object(deprecated))
		return -1;
	n_imgs = json_array_size(fixture);
	imgs = petal_xcalloc(n_imgs + 4, sizeof(*imgs));
	for (size_t i = 0; i < n_imgs; i++) {
		json_t *a = json_array_get(fixture, i);
		imgs[i] = (struct petal_image_candidate){
			.id = str(a, "ami_id"),
			.name = str(a, "name"),
			.owner_id = str(a, "owner_id"),
			.owner_alias = "amazon",
			.state = str(a, "state"),
			.architecture = str(a, "architecture"),
			.creation_date = str(a, "creation_date"),
			.deprecation_time = json_string_value(json_object_get(deprecated,
			                                                      str(a, "ami_id"))),
		};
	}
	return 0;
}

static const char *chosen(size_t n, const char *version, const char *os, const char *arch,
                          const char *now)
{
	long i = petal_pcluster_ami_choose(imgs, n, version, os, arch, now);
	return i < 0 ? NULL : imgs[i].id;
}

/* The id of the one image whose name holds `part`. */
static const char *id_named(const char *part)
{
	const char *id = NULL;
	for (size_t i = 0; i < n_imgs; i++) {
		if (strstr(imgs[i].name, part)) {
			CU_ASSERT_PTR_NULL(id);
			id = imgs[i].id;
		}
	}
	CU_ASSERT_PTR_NOT_NULL(id);
	return id ? id : "(none)";
}

static void test_name_parts(void)
{
	char *p = petal_pcluster_ami_prefix("3.11.1", "alinux2023", "x86_64");
	CU_ASSERT_STRING_EQUAL(p, "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64");
	free(p);
	CU_ASSERT_STRING_EQUAL(petal_pcluster_os_part("alinux2"), "amzn2-hvm");
	CU_ASSERT_STRING_EQUAL(petal_pcluster_os_part("ubuntu2204"), "ubuntu-2204-lts-hvm");
	CU_ASSERT_STRING_EQUAL(petal_pcluster_os_part("ubuntu2004"), "ubuntu-2004-lts-hvm");
	CU_ASSERT_STRING_EQUAL(petal_pcluster_os_part("rhel8"), "rhel8-hvm");
	CU_ASSERT_STRING_EQUAL(petal_pcluster_os_part("rocky9"), "rocky9-hvm");
	CU_ASSERT_PTR_NULL(petal_pcluster_os_part("centos7"));
	CU_ASSERT_PTR_NULL(petal_pcluster_ami_prefix("3.11.1", "windows", "x86_64"));
}

static void test_choose(void)
{
	const char *after = "2025-06-01T00:00:00.000Z", *before = "2025-01-01T00:00:00.000Z";
	const char *rebuilt = id_named("3.11.1-amzn2023-hvm-x86_64-202411191602");
	const char *newest = id_named("3.11.1-amzn2023-hvm-x86_64-202412200845");
	/* the newest is deprecated from 2025-01-15: the rebuild before it wins;
	   the pending build, the arm64 image named x86_64 and 3.11.10 never do */
	CU_ASSERT_STRING_EQUAL(chosen(n_imgs, "3.11.1", "alinux2023", "x86_64", after), rebuilt);
	CU_ASSERT_STRING_EQUAL(chosen(n_imgs, "3.11.1", "alinux2023", "x86_64", before), newest);
	/* every release, OS and architecture of the fixture finds its own */
	const char *versions[] = { "3.10.1", "3.11.1", "3.12.0" };
	const char *oses[] = { "alinux2023", "alinux2", "ubuntu2204", "rhel8", "rhel9" };
	const char *arches[] = { "x86_64", "arm64" };
	for (size_t v = 0; v < 3; v++)
		for (size_t o = 0; o < 5; o++)
			for (size_t a = 0; a < 2; a++) {
				long i = petal_pcluster_ami_choose(imgs, n_imgs, versions[v], oses[o],
				                                   arches[a], after);
				char *prefix = petal_pcluster_ami_prefix(versions[v], oses[o], arches[a]);
				CU_ASSERT_TRUE_FATAL(i >= 0);
				CU_ASSERT_EQUAL(strncmp(imgs[i].name, prefix, strlen(prefix)), 0);
				CU_ASSERT_STRING_EQUAL(imgs[i].architecture, arches[a]);
				free(prefix);
			}
	/* nothing ParallelCluster publishes: none (rocky is built, not published) */
	CU_ASSERT_PTR_NULL(chosen(n_imgs, "3.11.1", "rocky9", "x86_64", after));
	CU_ASSERT_PTR_NULL(chosen(n_imgs, "3.9.0", "alinux2023", "x86_64", after));
	CU_ASSERT_PTR_NULL(chosen(n_imgs, "3.11", "alinux2023", "x86_64", after));
	CU_ASSERT_PTR_NULL(chosen(n_imgs, "3.11.1", "ubuntu2404", "arm64", after));
	CU_ASSERT_PTR_NULL(chosen(0, "3.11.1", "alinux2023", "x86_64", after));
}

/* Someone else's images named like ParallelCluster's, newer than all of them. */
static void test_wrong_owner(void)
{
	const char *rebuilt = id_named("3.11.1-amzn2023-hvm-x86_64-202411191602");
	long i = petal_pcluster_ami_choose(imgs, n_imgs, "3.11.1", "alinux2023", "x86_64",
	                                   "2025-06-01T00:00:00.000Z");
	CU_ASSERT_TRUE_FATAL(i >= 0);
	struct petal_image_candidate fake = imgs[i];
	fake.id = "ami-0000000000000fake";
	fake.owner_id = "123456789012";
	fake.owner_alias = NULL;
	fake.creation_date = "2025-05-01T00:00:00.000Z";
	imgs[n_imgs] = fake;
	fake.id = "ami-0000000000001fake";
	fake.owner_alias = "amazon-impostor";
	imgs[n_imgs + 1] = fake;
	CU_ASSERT_STRING_EQUAL(chosen(n_imgs + 2, "3.11.1", "alinux2023", "x86_64",
	                              "2025-06-01T00:00:00.000Z"), rebuilt);
	/* and the same image with Amazon's alias would have won: the owner is what refused it */
	imgs[n_imgs + 1].owner_alias = "amazon";
	CU_ASSERT_STRING_EQUAL(chosen(n_imgs + 2, "3.11.1", "alinux2023", "x86_64",
	                              "2025-06-01T00:00:00.000Z"), "ami-0000000000001fake");
}

/* What a seed starts from: its base_ami, else the lookup for its release,
   OS and the architecture it builds on. */
static void test_seed_base_image(void)
{
	static const struct {
		const char *yaml, *want;
		int given;
	} cases[] = {
		{ "", "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64", 0 },
		{ "  pcluster_version: 3.12.0\n  os: ubuntu2204\ncompute: {head_node: c7g.xlarge}\n",
		  "aws-parallelcluster-3.12.0-ubuntu-2204-lts-hvm-arm64", 0 },
		{ "  os: rhel9\nsoftware: {build: {instance_type: m7g.16xlarge}}\n"
		  "compute: {head_node: m7g.xlarge}\n",
		  "aws-parallelcluster-3.11.1-rhel9-hvm-arm64", 0 },
		{ "  os: rocky9\n", NULL, 0 },
		{ "  os: rocky9\nsoftware: {build: {base_ami: my-rocky9-pcluster}}\n",
		  "my-rocky9-pcluster", 1 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *text = petal_xasprintf("cluster:\n  name: t\n  region: us-east-1\n%s",
		                             cases[i].yaml);
		struct petal_seed *s = NULL;
		struct petal_diags d = { 0 };
		struct petal_error err = { 0 };
		CU_ASSERT_EQUAL_FATAL(petal_seed_load_text("s.yaml", text, strlen(text), &s, &d,
		                                           &err), 0);
		int given = -1;
		char *got = petal_seed_base_image(s, &given);
		if (cases[i].want) {
			CU_ASSERT_STRING_EQUAL(got ? got : "(null)", cases[i].want);
		} else {
			CU_ASSERT_PTR_NULL(got);
		}
		CU_ASSERT_EQUAL(given, cases[i].given);
		free(got);
		petal_seed_free(s);
		petal_diags_release(&d);
		free(text);
	}
	CU_ASSERT_TRUE(petal_pcluster_publishes("alinux2023"));
	CU_ASSERT_FALSE(petal_pcluster_publishes("rocky8"));
	CU_ASSERT_FALSE(petal_pcluster_publishes("centos7"));
}

int main(void)
{
	if (load_fixture() != 0) {
		fprintf(stderr, "cannot read tests/aws/pcluster_amis*.json\n");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("base image", NULL, NULL);
	if (!s || !CU_add_test(s, "ParallelCluster's image names", test_name_parts) ||
	    !CU_add_test(s, "the newest available, not deprecated", test_choose) ||
	    !CU_add_test(s, "another owner's image is never chosen", test_wrong_owner) ||
	    !CU_add_test(s, "a seed's base image", test_seed_base_image)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests() == CUE_SUCCESS ? 0 : 2;
	if (!rc && CU_get_number_of_failures() != 0)
		rc = 1;
	CU_cleanup_registry();
	free(imgs);
	json_decref(fixture);
	json_decref(deprecated);
	return rc;
}
