/* core/seed: the example seeds, the schema's diagnostics, hostile input and
   the seed hash. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/seed/seed.h"
#include "../core/util/util.h"

static const char *srcdir;
static char *tmp_root;

/* ---- helpers ------------------------------------------------------------ */

/* Load `text` as "seed.yaml"; the seed or NULL, with d filled. */
static struct petal_seed *load(const char *text, struct petal_diags *d)
{
	struct petal_seed *s = NULL;
	struct petal_error err = { 0 };
	memset(d, 0, sizeof(*d));
	int rc = petal_seed_load_text("seed.yaml", text, strlen(text), &s, d, &err);
	CU_ASSERT_EQUAL(rc == 0, s != NULL);
	CU_ASSERT_EQUAL(rc == 0, d->n == 0);
	if (rc)
		CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	return s;
}

/* Does the formatted output of d hold `want` (a whole line)? */
static int has_line(const struct petal_diags *d, const char *want)
{
	char *all = petal_diags_format(d);
	char *line = petal_xasprintf("%s\n", want);
	int found = strstr(all, line) != NULL;
	if (!found)
		fprintf(stderr, "\n  want: %s\n  got:\n%s", want, all);
	free(line);
	free(all);
	return found;
}

/* Load text expecting exactly one problem, formatted as `want`. */
static void expect_one(const char *text, const char *want)
{
	struct petal_diags d;
	struct petal_seed *s = load(text, &d);
	CU_ASSERT_PTR_NULL(s);
	petal_seed_free(s);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_TRUE(has_line(&d, want));
	petal_diags_release(&d);
}

/* Load text expecting success. */
static struct petal_seed *expect_ok(const char *text)
{
	struct petal_diags d;
	struct petal_seed *s = load(text, &d);
	if (!s) {
		char *all = petal_diags_format(&d);
		fprintf(stderr, "\n  unexpected problems:\n%s", all);
		free(all);
	}
	CU_ASSERT_PTR_NOT_NULL(s);
	petal_diags_release(&d);
	return s;
}

static char *write_tmp(const char *name, const char *data, size_t len)
{
	char *path = petal_xasprintf("%s/%s", tmp_root, name);
	struct petal_error err = { 0 };
	if (petal_write_file(path, data, len, 0644, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	return path;
}

/* Load a file expecting PETAL_EINVAL and one problem containing `want`. */
static void expect_file_problem(const char *path, const char *want)
{
	struct petal_seed *s = (struct petal_seed *)1;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_seed_load(path, &s, &d, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(d.n, 1);
	char *all = petal_diags_format(&d);
	if (!strstr(all, want))
		fprintf(stderr, "\n  want '%s' in:\n%s", want, all);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, want));
	/* the error summarizes, for callers that print only it */
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1 problem"));
	free(all);
	petal_diags_release(&d);
}

#define CLUSTER "cluster:\n  name: t\n  region: us-east-1\n"

/* ---- the example seeds --------------------------------------------------- */

static void test_examples_validate(void)
{
	char *dir = petal_xasprintf("%s/seeds", srcdir);
	DIR *dh = opendir(dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dh);
	struct dirent *de;
	int n = 0, hybrid = 0;
	while ((de = readdir(dh))) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
			continue;
		char *path = petal_xasprintf("%s/%s", dir, de->d_name);
		struct petal_seed *s = NULL;
		struct petal_diags d = { 0 };
		struct petal_error err = { 0 };
		int rc = petal_seed_load(path, &s, &d, &err);
		if (rc) {
			char *all = petal_diags_format(&d);
			fprintf(stderr, "\n  %s: %s\n%s", path, err.msg, all);
			free(all);
		}
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_PTR_NOT_NULL(s);
		if (s) {
			CU_ASSERT_EQUAL(strlen(s->hash), 64);
			CU_ASSERT_TRUE(s->n_queues >= 1);
		}
		hybrid += !strcmp(de->d_name, "hybrid.yaml");
		n++;
		petal_seed_free(s);
		petal_diags_release(&d);
		free(path);
	}
	closedir(dh);
	free(dir);
	CU_ASSERT_TRUE(n >= 6); /* one per tier, hybrid, quickstart */
	CU_ASSERT_EQUAL(hybrid, 1);
}

static void test_hybrid_model(void)
{
	char *path = petal_xasprintf("%s/seeds/hybrid.yaml", srcdir);
	struct petal_seed *s = NULL;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_seed_load(path, &s, &d, &err), 0);
	CU_ASSERT_STRING_EQUAL(s->name, "bio-hybrid");
	CU_ASSERT_STRING_EQUAL(s->region, "us-east-1");
	CU_ASSERT_STRING_EQUAL(s->cloud, "aws");
	CU_ASSERT_STRING_EQUAL(s->head_node, "c5.2xlarge");
	CU_ASSERT_STRING_EQUAL(s->custom_ami, "ami-base-bio-v2");
	CU_ASSERT_EQUAL(s->use_custom_ami, 1);
	CU_ASSERT_STRING_EQUAL(s->build_instance_type, "c5.18xlarge");
	CU_ASSERT_EQUAL(s->build_timeout_s, 12 * 3600);
	CU_ASSERT_STRING_EQUAL(s->cache_bucket, "my-lab-spack-cache");
	CU_ASSERT_STRING_EQUAL(s->cache_prefix, "bio");
	CU_ASSERT_EQUAL_FATAL(s->n_queues, 1);
	CU_ASSERT_EQUAL(s->queues[0].capacity, PETAL_CAPACITY_SPOT);
	CU_ASSERT_EQUAL(s->queues[0].max_count, 20);
	CU_ASSERT_EQUAL_FATAL(s->n_pkgs, 11);
	/* file order: in_ami, spack_packages, build_from_source */
	CU_ASSERT_STRING_EQUAL(s->pkgs[0].text, "gcc@12.3.0");
	CU_ASSERT_EQUAL(s->pkgs[0].section, PETAL_SECTION_IN_AMI);
	CU_ASSERT_EQUAL(s->pkgs[0].line, 29);
	CU_ASSERT_EQUAL(s->pkgs[0].col, 7);
	CU_ASSERT_STRING_EQUAL(s->pkgs[2].text, "samtools@1.17");
	CU_ASSERT_EQUAL(s->pkgs[2].section, PETAL_SECTION_SPACK_PACKAGES);
	CU_ASSERT_STRING_EQUAL(s->pkgs[10].text, "lab-aligner@2.1+openmp");
	CU_ASSERT_EQUAL(s->pkgs[10].section, PETAL_SECTION_BUILD_FROM_SOURCE);
	CU_ASSERT_STRING_EQUAL(petal_seed_pkg_tier(s, &s->pkgs[0]), "ami");
	CU_ASSERT_STRING_EQUAL(petal_seed_pkg_tier(s, &s->pkgs[2]), "binary-cache");
	CU_ASSERT_STRING_EQUAL(petal_seed_pkg_tier(s, &s->pkgs[10]), "source");
	/* the document stays readable for plugins */
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(s->root,
	                       "software.binary_cache.s3_bucket")), "my-lab-spack-cache");
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(s->root,
	                       "compute.queues.0.name")), "compute");
	CU_ASSERT_PTR_NULL(petal_node_path(s->root, "compute.queues.1.name"));
	CU_ASSERT_PTR_NULL(petal_node_path(s->root, "software.nothing"));
	petal_seed_free(s);
	petal_diags_release(&d);
	free(path);
}

static void test_defaults(void)
{
	struct petal_seed *s = expect_ok(CLUSTER);
	if (!s)
		return;
	CU_ASSERT_STRING_EQUAL(s->cloud, "aws");
	CU_ASSERT_STRING_EQUAL(s->os, "alinux2023");
	CU_ASSERT_STRING_EQUAL(s->head_node, "c5.xlarge");
	CU_ASSERT_PTR_NULL(s->custom_ami);
	CU_ASSERT_STRING_EQUAL(s->pcluster_version, "3.11.1");
	CU_ASSERT_PTR_NULL(s->base_ami);
	CU_ASSERT_EQUAL_FATAL(s->n_queues, 1);
	CU_ASSERT_STRING_EQUAL(s->queues[0].name, "compute");
	CU_ASSERT_EQUAL_FATAL(s->queues[0].n_instance_types, 1);
	CU_ASSERT_STRING_EQUAL(s->queues[0].instance_types[0], "c5.xlarge");
	CU_ASSERT_EQUAL(s->queues[0].min_count, 0);
	CU_ASSERT_EQUAL(s->queues[0].max_count, 10);
	CU_ASSERT_EQUAL(s->queues[0].capacity, PETAL_CAPACITY_ONDEMAND);
	CU_ASSERT_EQUAL(s->use_custom_ami, 0);
	CU_ASSERT_PTR_NULL(s->build_instance_type);
	CU_ASSERT_EQUAL(s->build_spot, 1);
	CU_ASSERT_EQUAL(s->build_timeout_s, 43200);
	CU_ASSERT_EQUAL(s->build_parallel, 0);
	CU_ASSERT_STRING_EQUAL(s->spack_version, "1.1.0");
	CU_ASSERT_PTR_NULL(s->cache_bucket);
	CU_ASSERT_STRING_EQUAL(s->cache_prefix, "spack-cache");
	CU_ASSERT_EQUAL(s->n_pkgs, 0); /* a seed without packages is valid */
	petal_seed_free(s);
	petal_seed_free(NULL);
}

static void test_containers(void)
{
	struct petal_seed *s = expect_ok(
		CLUSTER "software:\n  containers:\n"
		"    - name: a\n"
		"      image: 123456789012.dkr.ecr.us-east-1.amazonaws.com/bio/samtools:1.17\n"
		"      modules: [samtools@1.17, htslib@1.17]\n"
		"    - name: b\n"
		"      image: oras://123456789012.dkr.ecr.us-east-1.amazonaws.com/x@sha256:"
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
		"      modules: [bwa@0.7.17]\n");
	if (!s)
		return;
	CU_ASSERT_EQUAL_FATAL(s->n_containers, 2);
	CU_ASSERT_EQUAL_FATAL(s->containers[0].n_modules, 2);
	CU_ASSERT_STRING_EQUAL(s->containers[0].modules[1], "htslib@1.17");
	CU_ASSERT_EQUAL_FATAL(s->n_pkgs, 3);
	CU_ASSERT_EQUAL(s->pkgs[2].section, PETAL_SECTION_CONTAINER);
	CU_ASSERT_EQUAL(s->pkgs[2].container, 1);
	CU_ASSERT_EQUAL(s->pkgs[0].container, 0);
	CU_ASSERT_STRING_EQUAL(petal_seed_pkg_tier(s, &s->pkgs[2]), "container");
	petal_seed_free(s);
}

/* ---- diagnostics ---------------------------------------------------------- */

static void test_all_problems_reported(void)
{
	char *path = petal_xasprintf("%s/tests/seeds/many-problems.yaml", srcdir);
	struct petal_seed *s = NULL;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_seed_load(path, &s, &d, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(d.n, 9);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "9 problems"));
	static const char *const want[] = {
		"4:9: cluster.name: '9lives' is not a valid cluster name; expected a letter "
		"followed by up to 59 letters, digits or hyphens",
		"5:11: cluster.region: 'mars-north-1' is not an AWS region; expected a region "
		"such as us-east-1, eu-west-2 or ap-southeast-1",
		"6:7: cluster.os: 'ubuntu2304' is not a supported operating system; did you "
		"mean 'ubuntu2004'? (expected one of: alinux2, alinux2023, ubuntu2004, "
		"ubuntu2204, ubuntu2404, rhel8, rhel9, rocky8, rocky9)",
		"8:15: compute.custom_ami: ami-0123456789abcdef has 16 hex digits; an AMI id is "
		"ami- followed by 8 or 17 hex digits, e.g. ami-0123456789abcdef0 (copy it from "
		"the EC2 console or 'aws ec2 describe-images'), or give the AMI's name",
		"10:13: compute.queues[0].name: 'default' is reserved by ParallelCluster; "
		"expected another queue name",
		"13:18: compute.queues[0].max_count: 2 is less than min_count 4; expected "
		"max_count >= min_count",
		"15:19: software.use_custom_ami: expected a boolean (true or false), got the "
		"quoted string 'yes' (quoted, so not a boolean)",
		"16:3: software.spak_packages: unknown key; did you mean 'spack_packages'?",
		"18:14: software.build.timeout: '2w' is not a duration; expected a positive "
		"number with a unit (s, m, h, d), e.g. 12h, 90m or 1h30m, at most a year",
	};
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(want); i++)
		petal_strbuf_printf(&sb, "%s:%s\n", path, want[i]);
	char *got = petal_diags_format(&d);
	if (strcmp(got, petal_strbuf_str(&sb)))
		fprintf(stderr, "\n  got:\n%s  want:\n%s", got, petal_strbuf_str(&sb));
	CU_ASSERT_STRING_EQUAL(got, petal_strbuf_str(&sb));
	free(got);
	petal_strbuf_release(&sb);
	petal_diags_release(&d);
	free(path);
}

static void other_hash(const char *a, const char *b);
static void test_spack_sources(void);

static void test_duplicate_across_sections(void)
{
	char *path = petal_xasprintf("%s/tests/seeds/duplicate.yaml", srcdir);
	struct petal_seed *s = NULL;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_seed_load(path, &s, &d, &err), PETAL_EINVAL);
	char *want = petal_xasprintf("%s:9:7: software.spack_packages[1]: 'samtools@1.17' is "
	                             "also listed at software.in_ami[0] (line 6, column 7); "
	                             "list each spec once", path);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_TRUE(has_line(&d, want));
	free(want);
	petal_diags_release(&d);
	free(path);

	/* twice in one section (in another spelling), and in a container too */
	struct petal_seed *t = load(CLUSTER "software:\n  spack_packages:\n    - bwa@0.7.17\n"
	                            "    - 'bwa @0.7.17'\n  containers:\n    - name: c\n"
	                            "      image: 123456789012.dkr.ecr.us-east-1.amazonaws."
	                            "com/c:1\n      modules: [bwa@0.7.17]\n", &d);
	CU_ASSERT_PTR_NULL(t);
	CU_ASSERT_EQUAL(d.n, 2);
	CU_ASSERT_TRUE(has_line(&d, "seed.yaml:7:7: software.spack_packages[1]: 'bwa@0.7.17' is "
	                            "also listed at software.spack_packages[0] (line 6, column 7); "
	                            "list each spec once"));
	CU_ASSERT_TRUE(has_line(&d, "seed.yaml:11:17: software.containers[0].modules[0]: "
	                            "'bwa@0.7.17' is also listed at software.spack_packages[0] "
	                            "(line 6, column 7); list each spec once"));
	petal_diags_release(&d);

	/* a container's module named as a Spack package of the seed, another version */
	struct petal_seed *mt = load(CLUSTER "software:\n  spack_packages: [samtools@1.16]\n"
	                             "  containers:\n    - name: sam\n      image: docker://"
	                             "quay.io/biocontainers/samtools:1.17\n"
	                             "      modules: [samtools@1.17]\n", &d);
	CU_ASSERT_PTR_NULL(mt);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_TRUE(has_line(&d, "seed.yaml:9:17: software.containers[0].modules[0]: module "
	                            "'samtools' of a container is also the Spack package "
	                            "'samtools@1.16' of software.spack_packages[0] (line 5): "
	                            "`module load samtools` could not tell them apart; keep one"));
	petal_diags_release(&d);

	/* several versions of one package are several packages, in one hash */
	static const char *const two = CLUSTER "software:\n  in_ami: [gcc@11.3.0, python@3.10]\n"
	                               "  spack_packages: [gcc@12.3.0, python@3.11]\n";
	struct petal_seed *v = expect_ok(two);
	if (v) {
		CU_ASSERT_EQUAL(v->n_pkgs, 4);
		char *c = petal_seed_canonical(v);
		CU_ASSERT_PTR_NOT_NULL(strstr(c, "pkg=ami gcc@11.3.0\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(c, "pkg=ami python@3.10\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(c, "gcc@12.3.0\n"));
		CU_ASSERT_PTR_NOT_NULL(strstr(c, "python@3.11\n"));
		free(c);
	}
	petal_seed_free(v);
	other_hash(two, CLUSTER "software:\n  in_ami: [gcc@11.3.0, python@3.10]\n"
	           "  spack_packages: [gcc@12.3.0]\n");
}

static void test_did_you_mean(void)
{
	expect_one(CLUSTER "software:\n  spak_packages: [samtools]\n",
	           "seed.yaml:5:3: software.spak_packages: unknown key; did you mean "
	           "'spack_packages'?");
	expect_one(CLUSTER "compte:\n  head_node: c5.xlarge\n",
	           "seed.yaml:4:1: compte: unknown key; did you mean 'compute'?");
	expect_one(CLUSTER "compute:\n  queues:\n    - name: q\n      instance_types: "
	           "[c5.xlarge]\n      capacity: on-demand\n",
	           "seed.yaml:8:17: compute.queues[0].capacity: 'on-demand' is not a capacity "
	           "type; did you mean 'ondemand'? (expected one of: ondemand, spot)");
	/* nothing close: the keys that would do */
	expect_one(CLUSTER "network:\n  vpc: vpc-1\n",
	           "seed.yaml:5:3: network.vpc: unknown key; expected one of: subnet_id, "
	           "key_name");
}

static void test_types(void)
{
	/* YAML 1.1 booleans; a quoted "true" is a string */
	struct petal_seed *s = expect_ok(CLUSTER "software:\n  use_custom_ami: yes\n"
	                                 "  spack_packages: [bwa]\n  build: {spot: no}\n");
	if (s) {
		CU_ASSERT_EQUAL(s->use_custom_ami, 1);
		CU_ASSERT_EQUAL(s->build_spot, 0);
		CU_ASSERT_STRING_EQUAL(petal_seed_pkg_tier(s, &s->pkgs[0]), "ami");
	}
	petal_seed_free(s);
	expect_one(CLUSTER "software:\n  build: {spot: \"true\"}\n",
	           "seed.yaml:5:17: software.build.spot: expected a boolean (true or false), "
	           "got the quoted string 'true' (quoted, so not a boolean)");
	expect_one(CLUSTER "software:\n  build_parallel: [1]\n",
	           "seed.yaml:5:19: software.build_parallel: expected an integer, got a list");
	static const struct { const char *given; int jobs; } parallel[] = {
		{ "true", 0 }, { "false", 1 }, { "yes", 0 }, { "8", 8 }, { "0", 0 },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(parallel); i++) {
		char *text = petal_xasprintf(CLUSTER "software:\n  build_parallel: %s  # Use "
		                             "all head node cores\n", parallel[i].given);
		s = expect_ok(text);
		if (s)
			CU_ASSERT_EQUAL(s->build_parallel, parallel[i].jobs);
		petal_seed_free(s);
		free(text);
	}
	expect_one(CLUSTER "software:\n  build_parallel: all\n",
	           "seed.yaml:5:19: software.build_parallel: 'all' is not a number of jobs; "
	           "expected true (every core), false (one job) or an integer from 1 to 4096 "
	           "that caps the jobs");
	expect_one(CLUSTER "software:\n  build_parallel: -1\n",
	           "seed.yaml:5:19: software.build_parallel: -1 is out of range; expected an "
	           "integer from 0 to 4096");
	expect_one(CLUSTER "software:\n  build_parallel: 010\n",
	           "seed.yaml:5:19: software.build_parallel: '010' has a leading zero (YAML "
	           "1.1 reads it as octal); expected a plain decimal integer");
	expect_one(CLUSTER "software:\n  build_parallel: 1.5\n",
	           "seed.yaml:5:19: software.build_parallel: expected an integer, got the "
	           "number 1.5");
	expect_one(CLUSTER "software:\n  build_parallel: 99999999999999999999\n",
	           "seed.yaml:5:19: software.build_parallel: 99999999999999999999 is out of "
	           "range; expected an integer from 0 to 4096");
	expect_one(CLUSTER "compute: [a]\n",
	           "seed.yaml:4:10: compute: expected a mapping, got a list");
	expect_one(CLUSTER "software:\n  in_ami: gcc@12.3.0\n",
	           "seed.yaml:5:11: software.in_ami: expected a list, got the string "
	           "'gcc@12.3.0'");
	expect_one(CLUSTER "software:\n  in_ami: [{gcc: 12}]\n",
	           "seed.yaml:5:12: software.in_ami[0]: expected a Spack spec such as "
	           "samtools@1.17, got a mapping");
	expect_one("cluster:\n  name: t\n",
	           "seed.yaml:2:3: cluster.region: missing; expected an AWS region, e.g. "
	           "region: us-east-1");
	expect_one("software: {}\n", "seed.yaml:1:1: cluster: missing; expected a cluster "
	           "section with at least name and region");
	expect_one("cluster:\n  name:\n  region: us-east-1\n",
	           "seed.yaml:2:8: cluster.name: missing; expected the cluster's name, e.g. "
	           "name: bio-hybrid");
}

/* cluster.pcluster_version and software.build.base_ami: the base image */
static void test_base_image(void)
{
	struct petal_seed *s = expect_ok(
		"cluster:\n  name: t\n  region: us-east-1\n  pcluster_version: 3.12.0\n"
		"software:\n  build: {base_ami: ami-0123456789abcdef0}\n");
	if (s) {
		CU_ASSERT_STRING_EQUAL(s->pcluster_version, "3.12.0");
		CU_ASSERT_STRING_EQUAL(s->base_ami, "ami-0123456789abcdef0");
	}
	petal_seed_free(s);
	s = expect_ok(CLUSTER "software:\n  build:\n    base_ami: my-lab-base (2025)\n");
	if (s)
		CU_ASSERT_STRING_EQUAL(s->base_ami, "my-lab-base (2025)");
	petal_seed_free(s);
	const char *bad[] = { "3.11", "3.11.1.2", "03.11.1", "3.x.1", "v3.11.1", "3.11.1-beta",
		              "3..1" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(bad); i++) {
		char *text = petal_xasprintf(CLUSTER "  pcluster_version: '%s'\n", bad[i]);
		char *want = petal_xasprintf("seed.yaml:4:21: cluster.pcluster_version: '%s' is "
		                             "not a ParallelCluster version; expected three "
		                             "numbers, e.g. 3.11.1", bad[i]);
		expect_one(text, want);
		free(want);
		free(text);
	}
	expect_one(CLUSTER "software:\n  build:\n    base_ami: ami-123\n",
	           "seed.yaml:6:15: software.build.base_ami: ami-123 has 3 hex digits; an AMI "
	           "id is ami- followed by 8 or 17 hex digits, e.g. ami-0123456789abcdef0 (copy "
	           "it from the EC2 console or 'aws ec2 describe-images'), or give the AMI's "
	           "name");
	expect_one(CLUSTER "software:\n  build:\n    base_ami: a\n",
	           "seed.yaml:6:15: software.build.base_ami: 'a' is neither an AMI id (ami- and "
	           "8 or 17 hex digits) nor an AMI name (3 to 128 letters, digits, spaces and "
	           "( ) [ ] . / ' @ _ -)");
}

/* software.build.tests: shell commands, kept whole and in order; anything else refused */
static void test_build_tests(void)
{
	struct petal_seed *s = expect_ok(CLUSTER "software:\n  build:\n    tests:\n"
	                                 "      - \"module load hello && hello | grep -q 'hi'\"\n"
	                                 "      - true\n");
	if (s) {
		CU_ASSERT_EQUAL_FATAL(s->n_build_tests, 2);
		CU_ASSERT_STRING_EQUAL(s->build_tests[0], "module load hello && hello | grep -q 'hi'");
		CU_ASSERT_STRING_EQUAL(s->build_tests[1], "true");
	}
	petal_seed_free(s);
	s = expect_ok(CLUSTER "software:\n  spack_packages: [zlib]\n");
	if (s)
		CU_ASSERT_EQUAL(s->n_build_tests, 0);
	petal_seed_free(s);
	expect_one(CLUSTER "software:\n  build:\n    tests: 'make check'\n",
	           "seed.yaml:6:12: software.build.tests: expected a list, got the quoted string "
	           "'make check'");
	expect_one(CLUSTER "software:\n  build:\n    tests: [ok, {a: b}]\n",
	           "seed.yaml:6:17: software.build.tests[1]: expected a shell command (a "
	           "non-empty string), e.g. 'hello-app | grep -q hello'; got a mapping");
	expect_one(CLUSTER "software:\n  build:\n    tests: [' ']\n",
	           "seed.yaml:6:13: software.build.tests[0]: expected a shell command (a "
	           "non-empty string), e.g. 'hello-app | grep -q hello'; got the quoted string ' '");
}

static void test_values(void)
{
	struct petal_seed *s = expect_ok(
		"cluster:\n  name: A-1\n  region: us-gov-west-1\n  os: rocky9\n"
		"  cloud: local\n"
		"network:\n  subnet_id: subnet-0123456789abcdef0\n  key_name: my key\n"
		"compute:\n  custom_ami: ami-12345678\n  head_node: hpc7g.16xlarge\n");
	if (s) {
		CU_ASSERT_STRING_EQUAL(s->region, "us-gov-west-1");
		CU_ASSERT_STRING_EQUAL(s->cloud, "local");
		CU_ASSERT_STRING_EQUAL(s->subnet_id, "subnet-0123456789abcdef0");
		CU_ASSERT_STRING_EQUAL(s->custom_ami, "ami-12345678");
	}
	petal_seed_free(s);
	expect_one("cluster:\n  name: a_b\n  region: us-east-1\n",
	           "seed.yaml:2:9: cluster.name: 'a_b' is not a valid cluster name; expected "
	           "a letter followed by up to 59 letters, digits or hyphens");
	expect_one("cluster:\n  name: a234567890123456789012345678901234567890123456789"
	           "012345678901\n  region: us-east-1\n", "seed.yaml:2:9: cluster.name: "
	           "'a234567890123456789012345678901234567890123456789012345678901' is not a valid "
	           "cluster name; expected a letter followed by up to 59 letters, digits or "
	           "hyphens");
	expect_one(CLUSTER "compute:\n  custom_ami: 'x'\n",
	           "seed.yaml:5:15: compute.custom_ami: 'x' is neither an AMI id (ami- and 8 or "
	           "17 hex digits) nor an AMI name (3 to 128 letters, digits, spaces and ( ) [ "
	           "] . / ' @ _ -)");
	expect_one(CLUSTER "compute:\n  queues:\n    - name: abcdefghijklmnopqrstuvwxyz\n"
	           "      instance_types: [c5.xlarge]\n",
	           "seed.yaml:6:13: compute.queues[0].name: 'abcdefghijklmnopqrstuvwxyz' is not "
	           "a valid queue name; expected a lowercase letter followed by lowercase "
	           "letters, digits or hyphens, at most 25 characters");
	expect_one(CLUSTER "compute:\n  queues:\n    - {name: q, instance_types: [c5.xlarge]}\n"
	           "    - {name: q, instance_types: [c5.xlarge]}\n",
	           "seed.yaml:7:14: compute.queues[1].name: queue 'q' is also defined at "
	           "compute.queues[0] (line 6); queue names must be unique");
	expect_one(CLUSTER "compute:\n  queues:\n    - {name: q, instance_types: [c5]}\n",
	           "seed.yaml:6:34: compute.queues[0].instance_types[0]: 'c5' is not an "
	           "instance type; expected family.size, e.g. c5.18xlarge (the size one of "
	           "nano, micro, small, medium, large, xlarge, <N>xlarge, metal, metal-<N>xl)");
	/* a size EC2 does not have cannot be planned either */
	expect_one(CLUSTER "compute:\n  head_node: c5.huge\n",
	           "seed.yaml:5:14: compute.head_node: 'c5.huge' is not an instance type; "
	           "expected family.size, e.g. c5.xlarge (the size one of nano, micro, small, "
	           "medium, large, xlarge, <N>xlarge, metal, metal-<N>xl)");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_bucket: 192.168.1.1}\n",
	           "seed.yaml:5:29: software.binary_cache.s3_bucket: '192.168.1.1' is not a "
	           "valid S3 bucket name: it must not look like an IP address");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_bucket: a..b}\n",
	           "seed.yaml:5:29: software.binary_cache.s3_bucket: 'a..b' is not a valid S3 "
	           "bucket name: it must not hold two adjacent dots");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_prefix: x}\n",
	           "seed.yaml:5:17: software.binary_cache.s3_bucket: missing; expected an S3 "
	           "bucket name, e.g. s3_bucket: my-lab-spack-cache");
	expect_one(CLUSTER "software:\n  containers:\n    - name: c\n      image: "
	           "123456789012.dkr.ecr.us-east-1.amazonaws.com/Bio:1\n      modules: [x]\n",
	           "seed.yaml:7:14: software.containers[0].image: '123456789012.dkr.ecr.us-"
	           "east-1.amazonaws.com/Bio:1' is not a container image reference (a "
	           "repository path is lowercase letters and digits, separated by '/', '.', "
	           "'_' or '-'); expected e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/"
	           "bio/samtools:1.17");
	expect_one(CLUSTER "software:\n  spack_packages: ['samtools@1.17 bwa']\n",
	           "seed.yaml:5:20: software.spack_packages[0]: 'samtools@1.17 bwa' is not a "
	           "valid Spack spec: at character 15: unexpected 'bwa'; a spec names one "
	           "package (expected @version, %compiler, +variant, ~variant, key=value or "
	           "^dependency)");
	expect_one(CLUSTER "software:\n  use_custom_ami: true\n  build_from_source: [x]\n",
	           "seed.yaml:5:19: software.use_custom_ami: use_custom_ami is true but "
	           "nothing goes into the AMI; expected packages under software.in_ami or "
	           "software.spack_packages");
	expect_one(CLUSTER "plugins:\n  eessi: [a]\n",
	           "seed.yaml:5:10: plugins.eessi: expected a mapping of the plugin's "
	           "settings, got a list");
	expect_one(CLUSTER "estimates:\n  instances:\n    c7g.large: {vcpus: 2, arch: arm}\n",
	           "seed.yaml:6:33: estimates.instances[\"c7g.large\"].arch: 'arm' is not an "
	           "architecture; expected x86_64 or arm64");
	expect_one(CLUSTER "estimates:\n  packages:\n    gcc: {serial_fraction: 2}\n",
	           "seed.yaml:6:28: estimates.packages.gcc.serial_fraction: 2 is out of range; "
	           "expected a number from 0 to 1");
	struct petal_seed *e = expect_ok(
		CLUSTER "plugins:\n  eessi: {packages: [anything]}\nestimates:\n"
		"  packages:\n    gcc: {core_minutes: 45, serial_fraction: 0.1, size_mb: 800,"
		" memory_gb: 2}\n  instances:\n    c7g.16xlarge: {vcpus: 64, memory_gb: 128,"
		" ondemand_usd_hour: 2.32, spot_usd_hour: 0.9, arch: arm64}\n"
		"  figures:\n    s3_gb_month: 0.023\n");
	petal_seed_free(e);

	/* Spack: only the releases petal renders for, each with its builtin repository */
	e = expect_ok(CLUSTER "software:\n  spack_version: 1.0.2\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(e->spack_version, "1.0.2");
	petal_seed_free(e);
	CU_ASSERT_STRING_EQUAL(petal_spack_builtin_tag("1.1.0"), "v2025.11.0");
	CU_ASSERT_STRING_EQUAL(petal_spack_builtin_tag("1.1.12"), "v2025.11.0");
	CU_ASSERT_STRING_EQUAL(petal_spack_builtin_tag("1.0.0"), "v2025.07.0");
	CU_ASSERT_PTR_NULL(petal_spack_builtin_tag("1.1"));
	CU_ASSERT_PTR_NULL(petal_spack_builtin_tag("1.1.01"));
	CU_ASSERT_PTR_NULL(petal_spack_builtin_tag("1.1.0rc1"));
	CU_ASSERT_PTR_NULL(petal_spack_builtin_tag("1.2.0"));
	CU_ASSERT_PTR_NULL(petal_spack_builtin_tag(NULL));
	expect_one(CLUSTER "software:\n  spack_version: 0.23.1\n",
	           "seed.yaml:5:18: software.spack_version: '0.23.1' is not a Spack release "
	           "petal supports; expected 1.0.N or 1.1.N (default 1.1.0)");
	expect_one(CLUSTER "software:\n  spack_version: develop\n",
	           "seed.yaml:5:18: software.spack_version: 'develop' is not a Spack release "
	           "petal supports; expected 1.0.N or 1.1.N (default 1.1.0)");

	/* software.spack: where Spack comes from, repositories, a source mirror */
	e = expect_ok(CLUSTER "software:\n  spack:\n    version: 1.0.1\n"
	              "    url: s3://site-bucket/spack-1.0.1.tar.gz\n"
	              "    repos: [file:///site/spack_repo/lab, file:///site/b/builtin]\n"
	              "    source_mirror: https://mirror.example.org/spack\n");
	if (e != NULL) {
		CU_ASSERT_STRING_EQUAL(e->spack_version, "1.0.1");
		CU_ASSERT_STRING_EQUAL(e->spack_url, "s3://site-bucket/spack-1.0.1.tar.gz");
		CU_ASSERT_EQUAL_FATAL(e->n_spack_repos, 2);
		CU_ASSERT_STRING_EQUAL(e->spack_repos[1].path, "file:///site/b/builtin");
		CU_ASSERT_STRING_EQUAL(e->spack_repos[1].name, "builtin");
		CU_ASSERT_STRING_EQUAL(e->spack_repos[0].name, "lab");
		CU_ASSERT_STRING_EQUAL(e->source_mirror, "https://mirror.example.org/spack");
	}
	petal_seed_free(e);
	expect_one(CLUSTER "software:\n  spack:\n    version: 0.23.1\n",
	           "seed.yaml:6:14: software.spack.version: '0.23.1' is not a Spack release "
	           "petal supports; expected 1.0.N or 1.1.N (default 1.1.0)");
	expect_one(CLUSTER "software:\n  spack_version: 1.1.0\n  spack: {version: 1.1.0}\n",
	           "seed.yaml:6:20: software.spack.version: software.spack_version says it "
	           "too; give the version once");
	expect_one(CLUSTER "software:\n  spack: {url: ftp://x/spack.tgz}\n",
	           "software.spack.url: 'ftp://x/spack.tgz' is not a URL of a Spack tarball "
	           "(file://, s3:// or https://) (an unknown scheme or nothing after it)");
	expect_one(CLUSTER "software:\n  spack: {url: \"file:///a b\"}\n",
	           "(a space, a control character, a quote or a backslash)");
	expect_one(CLUSTER "software:\n  spack: {repos: [https://x/repo]}\n",
	           "software.spack.repos[0]: 'https://x/repo' is not a package repository's "
	           "directory (where its repo.yaml is) as a file:/// URL, or a mapping {name, "
	           "git, ref} or {name, url} (an unknown scheme or nothing after it)");
	expect_one(CLUSTER "software:\n  spack: {repos: [file:///site/lab/]}\n",
	           "software.spack.repos[0]: 'file:///site/lab/' does not end in a repository's "
	           "name (its namespace: a lowercase letter, then lowercase letters, digits and "
	           "'_' (no \"__\"), not a Python keyword), e.g. file:///site/spack_repo/lab");
	expect_one(CLUSTER "software:\n  spack: {repos: [file:///site/spack_repo/Lab]}\n",
	           "seed.yaml:5:19: software.spack.repos[0]: 'file:///site/spack_repo/Lab' does "
	           "not end in a repository's name (its namespace: a lowercase letter, then "
	           "lowercase letters, digits and '_' (no \"__\"), not a Python keyword), e.g. "
	           "file:///site/spack_repo/lab");
	test_spack_sources();
	expect_one(CLUSTER "software:\n  spack: {source_mirror: [a]}\n",
	           "software.spack.source_mirror: expected a Spack source mirror URL (file://, "
	           "s3:// or https://), got a list");
	e = expect_ok(CLUSTER "software:\n  spack: {target: x86_64_v4}\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(petal_spack_target(e), "x86_64_v4");
	petal_seed_free(e);
	e = expect_ok(CLUSTER "compute: {head_node: m7g.large}\n"
	              "software:\n  build: {instance_type: c7g.16xlarge}\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(petal_spack_target(e), "aarch64");
	petal_seed_free(e);
	e = expect_ok(CLUSTER "software:\n  spack: {}\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(petal_spack_target(e), "x86_64_v3");
	petal_seed_free(e);
	expect_one(CLUSTER "software:\n  spack: {target: \"x86_64; rm -rf /\"}\n",
	           "seed.yaml:5:19: software.spack.target: 'x86_64; rm -rf /' is not a Spack "
	           "target; expected a word of letters, digits and '_', e.g. x86_64_v3, zen4 or "
	           "neoverse_v1");
	expect_one(CLUSTER "software:\n  spack: {target: x86-64}\n",
	           "seed.yaml:5:19: software.spack.target: 'x86-64' is not a Spack target; "
	           "expected a word of letters, digits and '_', e.g. x86_64_v3, zen4 or "
	           "neoverse_v1");
	expect_one(CLUSTER "software:\n  spack: {target: [zen4]}\n",
	           "software.spack.target: expected a single value, got a list");
	expect_one(CLUSTER "software:\n  spack: {mirror: file:///x}\n",
	           "software.spack.mirror: unknown key; expected one of: version, url, git, ref, "
	           "repos, source_mirror, target");
}

/* software.spack.git and ref, and repositories from git or a tarball. */
static void test_spack_sources(void)
{
	struct petal_seed *e = expect_ok(CLUSTER "software:\n  spack:\n"
	                                 "    git: https://git.example.org/spack.git\n"
	                                 "    ref: 2e907202bcc8\n"
	                                 "    repos:\n"
	                                 "      - {name: lab, git: 'file:///srv/lab.git', ref: v1.0}\n"
	                                 "      - {name: site_pkgs, url: s3://b/repos/site.tar.gz}\n"
	                                 "      - file:///site/spack_repo/local\n");
	if (e != NULL) {
		CU_ASSERT_STRING_EQUAL(e->spack_git, "https://git.example.org/spack.git");
		CU_ASSERT_STRING_EQUAL(e->spack_ref, "2e907202bcc8");
		CU_ASSERT_PTR_NULL(e->spack_url);
		CU_ASSERT_EQUAL_FATAL(e->n_spack_repos, 3);
		CU_ASSERT_STRING_EQUAL(e->spack_repos[0].name, "lab");
		CU_ASSERT_STRING_EQUAL(e->spack_repos[0].git, "file:///srv/lab.git");
		CU_ASSERT_STRING_EQUAL(e->spack_repos[0].ref, "v1.0");
		CU_ASSERT_PTR_NULL(e->spack_repos[0].path);
		CU_ASSERT_STRING_EQUAL(e->spack_repos[1].name, "site_pkgs");
		CU_ASSERT_STRING_EQUAL(e->spack_repos[1].url, "s3://b/repos/site.tar.gz");
		CU_ASSERT_PTR_NULL(e->spack_repos[1].git);
		CU_ASSERT_STRING_EQUAL(e->spack_repos[2].name, "local");
		CU_ASSERT_EQUAL(e->spack_repos[2].line, 11);
	}
	petal_seed_free(e);
	/* no ref: the release tag of the version */
	e = expect_ok(CLUSTER "software:\n  spack: {version: 1.0.2, git: 'file:///srv/spack'}\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(e->spack_ref, "v1.0.2");
	petal_seed_free(e);
	e = expect_ok(CLUSTER "software:\n  spack: {git: ssh://git@example.org/spack.git}\n");
	if (e != NULL)
		CU_ASSERT_STRING_EQUAL(e->spack_ref, "v" PETAL_SPACK_DEFAULT_VERSION);
	petal_seed_free(e);

	expect_one(CLUSTER "software:\n  spack:\n    url: s3://b/spack.tgz\n"
	           "    git: https://x/spack.git\n",
	           "seed.yaml:7:10: software.spack.git: software.spack.url says where Spack comes "
	           "from too; give one of url (a tarball) and git (with ref)");
	expect_one(CLUSTER "software:\n  spack:\n    url: s3://b/spack.tgz\n    ref: v1.1.0\n",
	           "seed.yaml:7:10: software.spack.ref: ref is what to check out of "
	           "software.spack.git, and there is no git; give git: URL with it, or drop ref");
	expect_one(CLUSTER "software:\n  spack: {git: s3://b/spack.git}\n",
	           "seed.yaml:5:16: software.spack.git: 's3://b/spack.git' is not a git URL "
	           "(https://, ssh://, git:// or file://) (an unknown scheme or nothing after it)");
	expect_one(CLUSTER "software:\n  spack: {git: https://x/s.git, ref: \"v1; reboot\"}\n",
	           "seed.yaml:5:38: software.spack.ref: 'v1; reboot' is not a git branch, tag or "
	           "commit, e.g. v1.1.0, releases/v1.1 or a commit id (it may hold only letters, "
	           "digits, '.', '_', '/', '+' and '-')");
	expect_one(CLUSTER "software:\n  spack: {git: https://x/s.git, ref: -x}\n",
	           "software.spack.ref: '-x' is not a git branch, tag or commit, e.g. v1.1.0, "
	           "releases/v1.1 or a commit id (it must start with a letter or digit)");
	expect_one(CLUSTER "software:\n  spack: {git: https://x/s.git, ref: a/../b}\n",
	           "(git refuses '..', '//', a component starting with '.' and a '/' or '.' at "
	           "the end)");
	expect_one(CLUSTER "software:\n  spack: {git: https://x/s.git, ref: [v1]}\n",
	           "software.spack.ref: expected a single value, got a list");
	expect_one(CLUSTER "software:\n  spack: {git: https://x/s.git, branch: v1}\n",
	           "seed.yaml:5:33: software.spack.branch: unknown key; expected one of: version, "
	           "url, git, ref, repos, source_mirror, target");

	/* repositories as mappings */
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{name: lab, git: https://x/l.git}]\n",
	           "seed.yaml:6:30: software.spack.repos[0].ref: missing; a git repository needs a "
	           "git branch, tag or commit, e.g. v1.1.0, releases/v1.1 or a commit id to check "
	           "out");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{name: lab}]\n",
	           "seed.yaml:6:13: software.spack.repos[0]: a repository needs git (with ref) or "
	           "url (a tarball), e.g. {name: lab, git: https://git.example.org/lab.git, ref: "
	           "v1.0}");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{git: https://x/l.git, ref: v1}]\n",
	           "software.spack.repos[0].name: missing; expected the repository's namespace, "
	           "e.g. name: lab");
	expect_one(CLUSTER "software:\n  spack:\n"
	           "    repos: [{name: lab, git: https://x/l.git, ref: v1, url: s3://b/l.tar}]\n",
	           "software.spack.repos[0].url: git says where this repository comes from too; "
	           "give one of git (with ref) and url");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{name: lab, url: s3://b/l.tar, "
	           "ref: v1}]\n",
	           "software.spack.repos[0].ref: ref goes with git; a tarball (url) has no ref");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{name: lab, url: ftp://b/l.tar}]\n",
	           "software.spack.repos[0].url: 'ftp://b/l.tar' is not a URL of the repository's "
	           "tarball (file://, s3:// or https://) (an unknown scheme or nothing after it)");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [{name: lab, url: s3://b/l, "
	           "tag: v1}]\n", "seed.yaml:6:40: software.spack.repos[0].tag: unknown key; "
	           "expected one of: name, git, ref, url");
	expect_one(CLUSTER "software:\n  spack:\n    repos: [[file:///a/lab]]\n",
	           "seed.yaml:6:13: software.spack.repos[0]: expected a file:/// directory or a "
	           "mapping {name, git, ref} or {name, url}, got a list");
	static const char *const bad_names[] = { "Lab", "1lab", "la__b", "import", "_x", "la-b" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(bad_names); i++) {
		char *text = petal_xasprintf(CLUSTER "software:\n  spack:\n"
		                             "    repos: [{name: %s, url: s3://b/l.tar}]\n",
		                             bad_names[i]);
		char *want = petal_xasprintf("seed.yaml:6:20: software.spack.repos[0].name: '%s' "
		                             "is not a repository's namespace; expected a lowercase "
		                             "letter, then lowercase letters, digits and '_' "
		                             "(no \"__\"), not a Python keyword, e.g. lab",
		                             bad_names[i]);
		expect_one(text, want);
		free(text);
		free(want);
	}
	/* names are unique, whichever way each repository is given */
	expect_one(CLUSTER "software:\n  spack:\n    repos:\n      - file:///a/spack_repo/lab\n"
	           "      - {name: lab, url: s3://b/lab.tar}\n",
	           "seed.yaml:8:9: software.spack.repos[1]: a repository named 'lab' is also at "
	           "software.spack.repos[0] (line 7); names (namespaces) must be unique");
}

static void test_diag_limit_and_format(void)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, CLUSTER);
	for (int i = 0; i < 500; i++)
		petal_strbuf_printf(&sb, "zz%d: 1\n", i);
	struct petal_diags d;
	struct petal_seed *s = load(petal_strbuf_str(&sb), &d);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_EQUAL(d.n, 200);
	CU_ASSERT_EQUAL(d.dropped, 300);
	char *all = petal_diags_format(&d);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "seed.yaml: 300 more problems not shown\n"));
	free(all);
	petal_diags_release(&d);
	petal_strbuf_release(&sb);

	/* no position, no path */
	struct petal_diags e = { 0 };
	e.file = petal_xstrdup("f.yaml");
	petal_diags_add(&e, 0, 0, NULL, "whole file: %d", 7);
	petal_diags_add(&e, 3, 4, "a.b", "x");
	all = petal_diags_format(&e);
	CU_ASSERT_STRING_EQUAL(all, "f.yaml: whole file: 7\nf.yaml:3:4: a.b: x\n");
	free(all);
	petal_diags_release(&e);
	petal_diags_release(&e); /* released twice is harmless */
}

/* ---- hostile input ---------------------------------------------------------- */

static void test_hostile_text(void)
{
	expect_one("", "seed.yaml:1:1: empty seed; expected a YAML mapping with at least a "
	           "cluster section");
	expect_one("# nothing\n\n", "seed.yaml:1:1: empty seed; expected a YAML mapping with "
	           "at least a cluster section");
	expect_one("- a\n", "seed.yaml:1:1: the document is a list, not a mapping; a seed is a "
	           "mapping of sections (cluster, compute, software, ...)");
	expect_one("cluster:\n  name: [a\n  region: x\n",
	           "seed.yaml:3:9: malformed YAML: did not find expected ',' or ']' (while "
	           "parsing a flow sequence at line 2, column 9)");
	expect_one("cluster:\n  name: caf\xe9\n",
	           "seed.yaml:2:12: binary data at 2:12, not a YAML seed");
	expect_one(CLUSTER "---\ncluster: {}\n",
	           "seed.yaml:4:1: a second YAML document; a seed is one document (remove the "
	           "'---' and what follows, or merge it)");
	expect_one("cluster:\n  name: a\n  region: us-east-1\n  name: b\n",
	           "seed.yaml:4:3: duplicate key 'name' (first at line 2, column 3); a key may "
	           "appear once in a mapping");
	expect_one("? [a, b]\n: c\n", "seed.yaml:1:3: a mapping key is a list; keys must be "
	           "plain words such as 'name'");
	expect_one(CLUSTER "compute: *x\n", "seed.yaml:4:10: alias '*x': aliases are not "
	           "allowed in a seed; write the value out");
	expect_one(CLUSTER "compute: {head_node: \"c5\\0.xlarge\"}\n",
	           "seed.yaml:4:22: a NUL character (\\0) in a quoted string; a seed holds "
	           "text");
	/* NUL inside the text: the length, not strlen, decides */
	struct petal_seed *s = (struct petal_seed *)1;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_seed_load_text("nul.yaml", "a: b\0c\n", 7, &s, &d, &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(s);
	CU_ASSERT_TRUE(has_line(&d, "nul.yaml:1:5: binary data at 1:5, not a YAML seed"));
	petal_diags_release(&d);
	/* the node parser says the same with the file name in front */
	struct petal_node *n = (struct petal_node *)1;
	CU_ASSERT_EQUAL(petal_node_parse("x.yaml", "[", 1, &n, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(n);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "x.yaml:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "malformed YAML"));
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_hostile_files(void)
{
	/* 10 MB: refused from its size, before reading it */
	size_t big = 10u * 1024 * 1024;
	char *data = petal_xmalloc(big);
	for (size_t i = 0; i < big; i++)
		data[i] = (i % 64 == 63) ? '\n' : 'a';
	char *path = write_tmp("big.yaml", data, big);
	double t0 = now();
	expect_file_problem(path, "file is 10485760 bytes, larger than the 1048576 allowed; "
	                    "a seed is a page of YAML, not a data file");
	CU_ASSERT_TRUE(now() - t0 < 1.0);
	free(path);

	/* binary: NUL bytes */
	path = write_tmp("binary.yaml", "\x7f" "ELF\x02\x01\x01\0\0\0", 10);
	expect_file_problem(path, "binary.yaml:1:1: binary data at 1:1, not a YAML seed");
	free(path);

	/* 10,000-deep nesting, flow and block: stopped at the limit */
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, "cluster: ");
	for (int i = 0; i < 10000; i++)
		petal_strbuf_putc(&sb, '[');
	for (int i = 0; i < 10000; i++)
		petal_strbuf_putc(&sb, ']');
	path = write_tmp("deep.yaml", sb.buf, sb.len);
	t0 = now();
	expect_file_problem(path, "deep.yaml:1:41: nesting deeper than 32 levels; a seed is "
	                    "not that deep");
	CU_ASSERT_TRUE(now() - t0 < 2.0);
	free(path);
	petal_strbuf_release(&sb);
	for (int i = 0; i < 10000; i++)
		petal_strbuf_puts(&sb, "- ");
	petal_strbuf_puts(&sb, "x\n");
	path = write_tmp("deep-block.yaml", sb.buf, sb.len);
	expect_file_problem(path, "nesting deeper than 32 levels; a seed is not that deep");
	free(path);
	petal_strbuf_release(&sb);
	petal_strbuf_puts(&sb, "a: ");
	for (int i = 0; i < 10000; i++)
		petal_strbuf_puts(&sb, "{a: ");
	for (int i = 0; i < 10000; i++)
		petal_strbuf_putc(&sb, '}');
	path = write_tmp("deep-map.yaml", sb.buf, sb.len);
	expect_file_problem(path, "nesting deeper than 32 levels");
	free(path);
	petal_strbuf_release(&sb);

	/* billion laughs: refused at the first anchor, nothing expanded */
	petal_strbuf_puts(&sb, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char c = 'b'; c <= 'j'; c++)
		petal_strbuf_printf(&sb, "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c, c,
		                    c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
	path = write_tmp("bomb.yaml", sb.buf, sb.len);
	expect_file_problem(path, "bomb.yaml:1:4: anchor '&a': anchors and aliases are not "
	                    "allowed in a seed; write the value out");
	free(path);
	petal_strbuf_release(&sb);

	/* a wide mapping just under 1 MiB: parsed (and duplicate-checked) quickly */
	petal_strbuf_puts(&sb, CLUSTER "plugins:\n  wide:\n");
	for (int i = 0; sb.len < PETAL_SEED_MAX_BYTES - 64; i++)
		petal_strbuf_printf(&sb, "    k%d: 1\n", i);
	petal_strbuf_puts(&sb, "    k7: 2\n");
	path = write_tmp("wide.yaml", sb.buf, sb.len);
	t0 = now();
	expect_file_problem(path, "duplicate key 'k7' (first at line 13, column 5)");
	CU_ASSERT_TRUE(now() - t0 < 5.0);
	free(path);
	petal_strbuf_release(&sb);

	/* missing file: an error, not a diagnostic */
	struct petal_seed *s = NULL;
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	char *missing = petal_xasprintf("%s/absent.yaml", tmp_root);
	CU_ASSERT_EQUAL(petal_seed_load(missing, &s, &d, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(d.n, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "absent.yaml"));
	petal_diags_release(&d);
	free(missing);
	/* a directory is not a seed */
	CU_ASSERT_EQUAL(petal_seed_load(tmp_root, &s, &d, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(d.n, 1);
	petal_diags_release(&d);
	/* nor a FIFO, which would block an open() until someone writes */
	char *fifo = petal_xasprintf("%s/fifo.yaml", tmp_root);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	expect_file_problem(fifo, "fifo.yaml: not a regular file; a seed is a page of YAML");
	free(fifo);
	free(data);
}

/* ---- the seed hash --------------------------------------------------------- */

#define HASH_BASE                                                            \
	"cluster:\n  name: one\n  region: us-east-1\n"                       \
	"compute:\n  head_node: c5.2xlarge\n  queues:\n"                     \
	"    - {name: q, instance_types: [c5.xlarge], max_count: 5}\n"       \
	"software:\n  use_custom_ami: true\n  in_ami: [gcc@12.3.0]\n"        \
	"  binary_cache: {s3_bucket: my-cache}\n"                            \
	"  spack_packages:\n    - samtools@1.17 %gcc@12.3.0\n    - bwa@0.7.17\n"

static char *hash_of(const char *text)
{
	struct petal_seed *s = expect_ok(text);
	if (!s)
		return petal_xstrdup("(invalid)");
	char *h = petal_xstrdup(s->hash);
	char check[65];
	petal_seed_hash(s, check);
	CU_ASSERT_STRING_EQUAL(check, h);
	petal_seed_free(s);
	return h;
}

static void same_hash(const char *a, const char *b)
{
	char *ha = hash_of(a), *hb = hash_of(b);
	CU_ASSERT_STRING_EQUAL(ha, hb);
	free(ha);
	free(hb);
}

static void other_hash(const char *a, const char *b)
{
	char *ha = hash_of(a), *hb = hash_of(b);
	CU_ASSERT_STRING_NOT_EQUAL(ha, hb);
	free(ha);
	free(hb);
}

static void test_canonical_form(void)
{
	struct petal_seed *s = expect_ok(HASH_BASE);
	if (!s)
		return;
	char *c = petal_seed_canonical(s);
	CU_ASSERT_STRING_EQUAL(c, "petal-seed-hash v1\n"
	                          "os=alinux2023\n"
	                          "arch=x86_64\n"
	                          "pcluster=3.11.1\n"
	                          "spack=1.1.0\n"
	                          "compilers=gcc@12.3.0\n"
	                          "pkg=ami gcc@12.3.0\n"
	                          "pkg=binary-cache bwa@0.7.17\n"
	                          "pkg=binary-cache samtools@1.17%gcc@12.3.0\n");
	CU_ASSERT_EQUAL(strspn(s->hash, "0123456789abcdef"), 64);
	free(c);
	petal_seed_free(s);
}

static void test_hash_stable(void)
{
	/* key order, comments, cluster name, region, queue sizes, bucket, list order */
	/* the build's tests check what is built; they change none of it */
	same_hash(HASH_BASE, HASH_BASE "  build: {tests: [\"hello | grep -q hi\"]}\n");
	same_hash(HASH_BASE,
	          "# a comment\n"
	          "software:\n  spack_packages:\n    - bwa@0.7.17   # aligner\n"
	          "    - samtools@1.17%gcc@12.3.0\n"
	          "  binary_cache: {s3_prefix: other, s3_bucket: another-cache}\n"
	          "  in_ami: [gcc@12.3.0]\n  use_custom_ami: true\n"
	          "compute:\n  queues:\n"
	          "    - {name: big, instance_types: [c5.18xlarge], min_count: 2, max_count: 50}\n"
	          "  head_node: c5.xlarge\n"
	          "cluster:\n  region: eu-west-1\n  name: two\n");
}

static void test_hash_changes(void)
{
	other_hash(HASH_BASE, CLUSTER "software:\n  use_custom_ami: true\n  in_ami: [gcc@12.3.0]\n"
	           "  binary_cache: {s3_bucket: my-cache}\n  spack_packages:\n"
	           "    - samtools@1.18 %gcc@12.3.0\n    - bwa@0.7.17\n");
	other_hash(HASH_BASE, HASH_BASE "  spack_version: 1.0.2\n");
	/* the base image changes what the packages link against */
	other_hash(HASH_BASE, HASH_BASE "  build: {base_ami: ami-0123456789abcdef0}\n");
	other_hash(HASH_BASE, "cluster:\n  pcluster_version: 3.12.0\n  name: one\n"
	           "  region: us-east-1\n" "compute:\n  head_node: c5.2xlarge\n  queues:\n"
	           "    - {name: q, instance_types: [c5.xlarge], max_count: 5}\n"
	           "software:\n  use_custom_ami: true\n  in_ami: [gcc@12.3.0]\n"
	           "  binary_cache: {s3_bucket: my-cache}\n"
	           "  spack_packages:\n    - samtools@1.17 %gcc@12.3.0\n    - bwa@0.7.17\n");
	same_hash(HASH_BASE, "cluster:\n  pcluster_version: 3.11.1\n  name: one\n"
	          "  region: us-east-1\n" "compute:\n  head_node: c5.2xlarge\n  queues:\n"
	          "    - {name: q, instance_types: [c5.xlarge], max_count: 5}\n"
	          "software:\n  use_custom_ami: true\n  in_ami: [gcc@12.3.0]\n"
	          "  binary_cache: {s3_bucket: my-cache}\n"
	          "  spack_packages:\n    - samtools@1.17 %gcc@12.3.0\n    - bwa@0.7.17\n");
	/* an arm64 build instance for an x86_64 head node is refused (check_arch) */
	struct petal_diags d;
	struct petal_seed *mixed = load(HASH_BASE "  build: {instance_type: c7g.16xlarge}\n", &d);
	CU_ASSERT_PTR_NULL(mixed);
	petal_seed_free(mixed);
	char *all = petal_diags_format(&d);
	CU_ASSERT_EQUAL(d.n, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(all, "software.build.instance_type: c7g.16xlarge is arm64 "
	                                   "but the head node c5.2xlarge is x86_64"));
	free(all);
	petal_diags_release(&d);
	/* an arm64 cluster hashes apart from the x86_64 one */
	other_hash(HASH_BASE,
	           "cluster:\n  name: one\n  region: us-east-1\n"
	           "compute:\n  head_node: c7g.2xlarge\n  queues:\n"
	           "    - {name: q, instance_types: [c7g.xlarge], max_count: 5}\n"
	           "software:\n  use_custom_ami: true\n  in_ami: [gcc@12.3.0]\n"
	           "  binary_cache: {s3_bucket: my-cache}\n"
	           "  spack_packages:\n    - samtools@1.17 %gcc@12.3.0\n    - bwa@0.7.17\n"
	           "  build: {instance_type: c7g.16xlarge}\n");
	/* where Spack and its packages come from changes it; a source mirror does not */
	other_hash(HASH_BASE, HASH_BASE "  spack: {repos: [file:///site/spack_repo/lab]}\n");
	other_hash(HASH_BASE, HASH_BASE "  spack: {target: zen4}\n");
	other_hash(HASH_BASE "  spack: {target: zen3}\n", HASH_BASE "  spack: {target: zen4}\n");
	other_hash(HASH_BASE "  spack: {repos: [file:///site/a/lab]}\n",
	           HASH_BASE "  spack: {repos: [file:///site/b/lab]}\n");
	other_hash(HASH_BASE, HASH_BASE "  spack: {url: file:///site/spack-1.1.0.tar.gz}\n");
	same_hash(HASH_BASE, HASH_BASE "  spack: {source_mirror: file:///site/sources}\n");
	/* Spack from git, at a ref; repositories from git or a tarball */
	other_hash(HASH_BASE, HASH_BASE "  spack: {git: 'file:///srv/spack', ref: v1.1.0}\n");
	other_hash(HASH_BASE "  spack: {git: 'file:///srv/spack', ref: v1.1.0}\n",
	           HASH_BASE "  spack: {git: 'file:///srv/spack', ref: 2e907202bcc8}\n");
	other_hash(HASH_BASE "  spack: {git: 'file:///srv/spack', ref: v1.1.0}\n",
	           HASH_BASE "  spack: {git: 'file:///srv/spack2', ref: v1.1.0}\n");
	same_hash(HASH_BASE "  spack: {git: 'file:///srv/spack'}\n",
	          HASH_BASE "  spack: {git: 'file:///srv/spack', ref: v1.1.0}\n");
	other_hash(HASH_BASE "  spack: {git: 'file:///srv/spack'}\n",
	           HASH_BASE "  spack: {url: 'file:///srv/spack'}\n");
	other_hash(HASH_BASE,
	           HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v1}]}\n");
	other_hash(HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v1}]}\n",
	           HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v2}]}\n");
	other_hash(HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v1}]}\n",
	           HASH_BASE "  spack: {repos: [{name: lab, git: https://y/l.git, ref: v1}]}\n");
	other_hash(HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v1}]}\n",
	           HASH_BASE "  spack: {repos: [{name: lab2, git: https://x/l.git, ref: v1}]}\n");
	other_hash(HASH_BASE "  spack: {repos: [{name: lab, url: s3://b/l.tar}]}\n",
	           HASH_BASE "  spack: {repos: [{name: lab, url: s3://b/l2.tar}]}\n");
	other_hash(HASH_BASE "  spack: {repos: [{name: lab, url: https://x/l.git}]}\n",
	           HASH_BASE "  spack: {repos: [{name: lab, git: https://x/l.git, ref: v1}]}\n");
	/* the same build arch does not change it */
	same_hash(HASH_BASE, HASH_BASE "  build: {instance_type: c5.18xlarge}\n");
	other_hash(CLUSTER "software:\n  spack_packages: [bwa]\n",
	           CLUSTER "compute:\n  head_node: m7g.xlarge\nsoftware:\n  spack_packages: [bwa]\n");
	other_hash(CLUSTER "software:\n  spack_packages: [bwa]\n",
	           "cluster:\n  name: t\n  region: us-east-1\n  os: rocky9\n"
	           "software:\n  spack_packages: [bwa]\n");
	/* moving a package between tiers changes what the AMI or cache holds */
	other_hash(CLUSTER "software:\n  in_ami: [gcc]\n  build_from_source: [bwa]\n",
	           CLUSTER "software:\n  in_ami: [gcc, bwa]\n");
	other_hash(CLUSTER "software:\n  spack_packages: [bwa +x]\n",
	           CLUSTER "software:\n  spack_packages: [bwa ~x]\n");
	other_hash(CLUSTER "software:\n  spack_packages: [bwa %gcc@12]\n",
	           CLUSTER "software:\n  spack_packages: [bwa %gcc@13]\n");
	/* a different image for the same module */
	other_hash(CLUSTER "software:\n  containers:\n    - {name: c, image: "
	           "123456789012.dkr.ecr.us-east-1.amazonaws.com/c:1, modules: [bwa]}\n",
	           CLUSTER "software:\n  containers:\n    - {name: c, image: "
	           "123456789012.dkr.ecr.us-east-1.amazonaws.com/c:2, modules: [bwa]}\n");
	/* spack_packages land in the same tier either way: same hash */
	same_hash(CLUSTER "software:\n  spack_packages: [bwa]\n",
	          CLUSTER "software:\n  build_from_source: [bwa]\n");
}

/* one prefix, however it is written; what cannot be one, refused */
static void test_cache_prefix(void)
{
	static const struct { const char *given, *kept; } ok[] = {
		{ "/caches/bioinformatics", "caches/bioinformatics" },
		{ "caches//bioinformatics/", "caches/bioinformatics" },
		{ "//a///b//", "a/b" },
		{ "/", "" },
		{ "'...'", "..." },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(ok); i++) {
		char *text = petal_xasprintf(CLUSTER "software:\n  binary_cache:\n"
		                             "    s3_bucket: my-spack-cache\n    s3_prefix: %s\n",
		                             ok[i].given);
		struct petal_seed *s = expect_ok(text);
		if (s)
			CU_ASSERT_STRING_EQUAL(s->cache_prefix, ok[i].kept);
		petal_seed_free(s);
		free(text);
	}
	same_hash(CLUSTER "software:\n  spack_packages: [bwa]\n  binary_cache:\n"
	          "    s3_bucket: my-spack-cache\n    s3_prefix: /caches/bio\n",
	          CLUSTER "software:\n  spack_packages: [bwa]\n  binary_cache:\n"
	          "    s3_bucket: my-spack-cache\n    s3_prefix: caches/bio\n");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_bucket: abc, s3_prefix: a/../b}\n",
	           "seed.yaml:5:45: software.binary_cache.s3_prefix: 'a/../b' is not a key "
	           "prefix: a '.' or '..' component names no directory in a bucket; expected a "
	           "path such as caches/bioinformatics");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_bucket: abc, s3_prefix: ./a}\n",
	           "seed.yaml:5:45: software.binary_cache.s3_prefix: './a' is not a key "
	           "prefix: a '.' or '..' component names no directory in a bucket; expected a "
	           "path such as caches/bioinformatics");
	expect_one(CLUSTER "software:\n  binary_cache: {s3_bucket: abc, s3_prefix: \"a\\tb\"}\n",
	           "seed.yaml:5:45: software.binary_cache.s3_prefix: 'a\tb' is not a key "
	           "prefix: it holds a control character; expected a path such as "
	           "caches/bioinformatics");
}

static void test_duration_and_arch(void)
{
	CU_ASSERT_EQUAL(petal_parse_duration("12h"), 43200);
	CU_ASSERT_EQUAL(petal_parse_duration("90m"), 5400);
	CU_ASSERT_EQUAL(petal_parse_duration("90d"), 90 * 86400);
	CU_ASSERT_EQUAL(petal_parse_duration("30s"), 30);
	CU_ASSERT_EQUAL(petal_parse_duration("1h30m"), 5400);
	CU_ASSERT_EQUAL(petal_parse_duration("1d2h3m4s"), 86400 + 7200 + 180 + 4);
	CU_ASSERT_EQUAL(petal_parse_duration("365d"), 365L * 86400);
	CU_ASSERT_EQUAL(petal_parse_duration("366d"), -2); /* over a year: too long, not malformed */
	CU_ASSERT_EQUAL(petal_parse_duration("9000h"), -2);
	CU_ASSERT_EQUAL(petal_parse_duration("2w"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("30m1h"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("1h1h"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("12"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("h"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration(""), -1);
	CU_ASSERT_EQUAL(petal_parse_duration(NULL), -1);
	CU_ASSERT_EQUAL(petal_parse_duration(" 12h"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("-1h"), -1);
	CU_ASSERT_EQUAL(petal_parse_duration("99999999999999h"), -1);

	CU_ASSERT_STRING_EQUAL(petal_instance_arch("c5.18xlarge"), "x86_64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("c7g.16xlarge"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("c6gn.large"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("m6gd.xlarge"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("r6g.large"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("t4g.micro"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("hpc7g.16xlarge"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("a1.large"), "arm64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("g4dn.xlarge"), "x86_64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("g5.xlarge"), "x86_64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("hpc6a.48xlarge"), "x86_64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch("m7i-flex.large"), "x86_64");
	CU_ASSERT_STRING_EQUAL(petal_instance_arch(NULL), "x86_64");
}

/* ---- main ------------------------------------------------------------------ */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	srcdir = getenv("top_srcdir");
	if (!srcdir)
		srcdir = ".";
	char tmpl[] = "/tmp/petal-test-seed.XXXXXX";
	tmp_root = mkdtemp(tmpl);
	if (!tmp_root) {
		perror("mkdtemp");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("seed", NULL, NULL);
	if (!s || !CU_add_test(s, "every example seed validates", test_examples_validate) ||
	    !CU_add_test(s, "the hybrid seed's model", test_hybrid_model) ||
	    !CU_add_test(s, "defaults", test_defaults) ||
	    !CU_add_test(s, "containers become packages", test_containers) ||
	    !CU_add_test(s, "every problem reported, in file order", test_all_problems_reported) ||
	    !CU_add_test(s, "a package in two places", test_duplicate_across_sections) ||
	    !CU_add_test(s, "did you mean", test_did_you_mean) ||
	    !CU_add_test(s, "types", test_types) ||
	    !CU_add_test(s, "values", test_values) ||
	    !CU_add_test(s, "the base image", test_base_image) ||
	    !CU_add_test(s, "the cache prefix normalised", test_cache_prefix) ||
	    !CU_add_test(s, "diagnostics limit and format", test_diag_limit_and_format) ||
	    !CU_add_test(s, "hostile text", test_hostile_text) ||
	    !CU_add_test(s, "hostile files", test_hostile_files) ||
	    !CU_add_test(s, "software.build.tests", test_build_tests) ||
	    !CU_add_test(s, "canonical form", test_canonical_form) ||
	    !CU_add_test(s, "hash unchanged by what does not matter", test_hash_stable) ||
	    !CU_add_test(s, "hash changed by what does", test_hash_changes) ||
	    !CU_add_test(s, "durations and architectures", test_duration_and_arch)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests() == CUE_SUCCESS ? 0 : 2;
	if (!rc && CU_get_number_of_failures() != 0)
		rc = 1;
	CU_cleanup_registry();
	nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
