/* tests/test_render: the shared volume and the head/compute split
 * (doc/render.md).  A plan that installs at creation gets an EBS volume at
 * /shared sized from its packages; the head node installs there once, with
 * Spack's install tree pointed at it, and marks the end; compute nodes wait
 * for the mark and install nothing.  A plan that installs nothing at creation
 * gets no volume and no waiting. */
#include "config.h"

#include <CUnit/Basic.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/render/render_int.h"
#include "fixture.h"

/* What ParallelCluster does without DevSettings.Timeouts. */
#define DEFAULT_BOOT_S 1800L

/* Occurrences of needle in hay (0 when hay is NULL). */
static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; p != NULL && (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

static size_t count_in(const char *box, const char *needle)
{
	char *calls = slurp(box, "calls");
	size_t n = count(calls, needle);

	free(calls);
	return n;
}

/* Does the plan install at creation (the tiers that build or extract on the
   head node), and how many megabytes by the data files? */
static int creation_mb(const struct petal_plan *plan, const struct petal_estimates *est,
                       double *mb)
{
	const char **names = petal_xcalloc(plan->n_claims + 1, sizeof(*names));
	struct petal_build_estimate out = { .size = sizeof(out) };
	size_t n = 0;

	for (size_t i = 0; i < plan->n_claims; i++)
		if (strcmp(plan->claims[i].tier, "source") == 0 ||
		    strcmp(plan->claims[i].tier, "binary-cache") == 0)
			names[n++] = plan->seed->pkgs[plan->claims[i].pkg].spec.name;
	*mb = 0;
	if (n > 0 && petal_estimates_build(est, names, n, plan->info.head_node, 0, &out) == 0)
		*mb = out.size_mb;
	free(names);
	return n > 0;
}

static long scalar_long(const struct petal_node *n)
{
	const char *s = petal_node_str(n);

	return s != NULL && n->quoted == 0 ? strtol(s, NULL, 10) : -1;
}

/* The compute nodes' wait, as the script says it. */
static long script_wait(const char *script)
{
	const char *p = script != NULL ? strstr(script, "PETAL_WAIT_S=${PETAL_WAIT_S:-") : NULL;

	return p != NULL ? strtol(p + strlen("PETAL_WAIT_S=${PETAL_WAIT_S:-"), NULL, 10) : -1;
}

/* The bootstrap timeouts cover the plan's time to ready, within what
   CloudFormation allows; compute nodes give up on the head node before
   ParallelCluster gives up on them. */
static void check_timeouts(const struct petal_plan *plan, const struct petal_node *cfg,
                           const char *script, int shared)
{
	const struct petal_node *head = petal_node_path(cfg, "DevSettings.Timeouts."
	                                                "HeadNodeBootstrapTimeout");
	const struct petal_node *compute = petal_node_path(cfg, "DevSettings.Timeouts."
	                                                   "ComputeNodeBootstrapTimeout");
	long budget = DEFAULT_BOOT_S;

	if (15 + 2 * plan->ready_minutes <= DEFAULT_BOOT_S / 60) {
		CU_ASSERT_PTR_NULL(petal_node_path(cfg, "DevSettings"));
	} else {
		CU_ASSERT_FATAL(head != NULL && compute != NULL);
		budget = scalar_long(head);
		CU_ASSERT_EQUAL(scalar_long(compute), budget);
		CU_ASSERT(budget > DEFAULT_BOOT_S);
		CU_ASSERT(budget <= 43200);
		CU_ASSERT(budget >= (long)ceil(plan->ready_minutes * 60) || budget == 43200);
	}
	if (shared) {
		long wait = script_wait(script);

		CU_ASSERT(wait > 0 && wait < budget);
	} else {
		CU_ASSERT_EQUAL(script_wait(script), -1);
	}
}

/* One EBS volume at /shared, twice the installs plus 20 GiB, at least 40. */
static void check_volume(const struct petal_node *cfg, double mb)
{
	const struct petal_node *ss = petal_node_path(cfg, "SharedStorage");
	const struct petal_node *v;
	long want = (long)ceil(mb / 1024 * 2 + 20);

	CU_ASSERT_FATAL(ss != NULL && ss->type == PETAL_NODE_LIST && ss->n == 1);
	v = ss->items[0];
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_get(v, "MountDir")) ?: "", "/shared");
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_get(v, "StorageType")) ?: "", "Ebs");
	CU_ASSERT_PTR_NOT_NULL(petal_node_str(petal_node_get(v, "Name")));
	CU_ASSERT_EQUAL(scalar_long(petal_node_path(v, "EbsSettings.Size")), want < 40 ? 40 : want);
	CU_ASSERT(scalar_long(petal_node_path(v, "EbsSettings.Size")) * 1024 >= 2 * mb);
}

/* The head node installs into the shared tree and marks the end; a compute
   node given the head node's /shared installs nothing, and one without it
   gives up. */
static void check_head_compute(const struct petal_plan *plan, const char *dir,
                               int containers)
{
	int rc;
	char *head = sandbox(dir, "node-bootstrap.sh", "", &rc);
	char *root = petal_xasprintf("root: %s/shared/spack/opt\n", head);
	char *tree = petal_xasprintf("TREE<%s/shared/spack/opt>\n", head);
	char *ready = petal_xasprintf("shared/petal/ready-%s", plan->info.hash);
	char *env = petal_xasprintf("PETAL_SANDBOX_NODE=ComputeFleet "
	                            "PETAL_SANDBOX_SHARED='%s/shared'", head);
	char *box, *text;
	size_t installs = count_in(head, "CALL spack\nARG<install>\n");

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(installs > 0);
	CU_ASSERT_EQUAL(count_in(head, tree), installs);
	CU_ASSERT(exists_in(head, ready));
	CU_ASSERT(!exists_in(head, "PWNED"));

	/* the build instance keeps the image's own tree */
	box = sandbox(dir, "build-instance.sh", "all", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(count_in(box, "TREE<>\n"), count_in(box, "CALL spack\nARG<install>\n"));
	free(box);

	box = sandbox_env(env, dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(count_in(box, "CALL spack\nARG<install>\n"), 0);
	CU_ASSERT_EQUAL(count_in(box, "ARG<buildcache>\n"), 0);
	CU_ASSERT_EQUAL(count_in(box, "CALL git\n"), 0);
	CU_ASSERT_EQUAL(count_in(box, "CALL dnf\n"), 0);
	CU_ASSERT_EQUAL(count_in(box, "ARG<mirror>\n"), 0);
	CU_ASSERT(!exists_in(box, "PWNED"));
	/* it still sets up its own environment: Spack's scope and login shells */
	text = slurp(box, "etc/spack/config.yaml");
	CU_ASSERT(text != NULL && strstr(text, root) != NULL);
	free(text);
	CU_ASSERT(exists_in(box, "etc/profile.d/z02-petal-spack.sh"));
	if (containers)
		CU_ASSERT(count_in(box, "CALL apptainer\n") > 0);
	free(box);

	box = sandbox_env("PETAL_SANDBOX_NODE=ComputeFleet PETAL_WAIT_S=0", dir,
	                  "node-bootstrap.sh", "", &rc);
	CU_ASSERT(rc != 0);
	text = slurp(box, "output");
	CU_ASSERT(text != NULL && strstr(text, "the head node has not") != NULL);
	free(text);
	CU_ASSERT_EQUAL(count_in(box, "CALL spack\nARG<install>\n"), 0);
	free(box);

	free(env);
	free(ready);
	free(tree);
	free(root);
	free(head);
}

void check_layout(const struct petal_seed *seed, const char *dir)
{
	struct fixture f;
	struct petal_plan *plan = plan_for(seed, &f);
	struct petal_node *cfg = parse_yaml(dir, "cluster-config.yaml");
	char *script = slurp(dir, "node-bootstrap.sh");
	int containers = 0, shared, rc;
	double mb;

	CU_ASSERT_FATAL(plan != NULL && cfg != NULL && script != NULL);
	for (size_t i = 0; i < seed->n_pkgs; i++)
		containers |= seed->pkgs[i].section == PETAL_SECTION_CONTAINER;
	shared = creation_mb(plan, f.est, &mb);
	check_timeouts(plan, cfg, script, shared);
	if (shared) {
		check_volume(cfg, mb);
		check_head_compute(plan, dir, containers);
	} else {
		/* nothing to share, nothing to wait for */
		char *box = sandbox_env("PETAL_SANDBOX_NODE=ComputeFleet PETAL_WAIT_S=0", dir,
		                        "node-bootstrap.sh", "", &rc);

		CU_ASSERT_PTR_NULL(petal_node_path(cfg, "SharedStorage"));
		CU_ASSERT_PTR_NULL(strstr(script, "/shared/"));
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(count_in(box, "CALL spack\nARG<install>\n"), 0);
		free(box);
	}
	free(script);
	petal_node_free(cfg);
	fixture_release(&f);
}

/* ---- tests ------------------------------------------------------------------ */

/* The volume grows with what is installed, and refuses what EBS cannot hold;
   a build past CloudFormation's 12 hours is said so. */
void test_shared_size(void)
{
	static const char text[] =
		"cluster: {name: big, region: us-east-1}\n"
		"software: {build_from_source: [bigpkg@1.0]}\n"
		"estimates: {packages: {bigpkg: {size_mb: %s, core_minutes: %s}}}\n";
	struct petal_error err;
	struct petal_node *cfg;
	struct petal_seed *seed;
	char *seed_text, *dir, *head;
	int rc;

	seed_text = petal_xasprintf(text, "100000", "60");
	seed = load_text(seed_text);
	free(seed_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(check_config(dir), 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	/* 100000 MB is 97.7 GiB: twice that and room for Spack */
	CU_ASSERT_FATAL(petal_node_path(cfg, "SharedStorage") != NULL);
	CU_ASSERT(scalar_long(petal_node_path(petal_node_path(cfg, "SharedStorage")->items[0],
	                                      "EbsSettings.Size")) >= 196);
	check_layout(seed, dir);
	petal_node_free(cfg);
	free(dir);
	petal_seed_free(seed);

	/* a week of building: the budget stops at CloudFormation's limit */
	seed_text = petal_xasprintf(text, "100", "10000000");
	seed = load_text(seed_text);
	free(seed_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(check_config(dir), 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	CU_ASSERT_EQUAL(scalar_long(petal_node_path(cfg, "DevSettings.Timeouts."
	                                            "HeadNodeBootstrapTimeout")), 43200);
	head = slurp(dir, "cluster-config.yaml");
	CU_ASSERT(head != NULL && strstr(head, "CloudFormation's 12-hour limit") != NULL);
	free(head);
	petal_node_free(cfg);
	free(dir);
	petal_seed_free(seed);

	/* 9 TB twice over is past gp3's 16 TiB: refused, nothing written */
	seed_text = petal_xasprintf(text, "9000000", "60");
	seed = load_text(seed_text);
	free(seed_text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "16384"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "software.in_ami"));
	CU_ASSERT(access(dir, F_OK) != 0);
	free(dir);
	petal_seed_free(seed);
}

/* An AMI-only seed installs nothing at creation: no volume, no waiting. */
void test_nothing_at_creation(void)
{
	struct petal_seed *seed = load_text(
		"cluster: {name: q, region: us-east-1}\n"
		"compute: {custom_ami: ami-0123abcd}\n"
		"software: {use_custom_ami: true, spack_packages: [gcc@12.3.0, zlib]}\n");
	struct petal_error err;
	struct petal_node *cfg;
	char *dir, *box;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(check_config(dir), 0);
	CU_ASSERT_EQUAL(shellcheck(dir, "node-bootstrap.sh"), 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	CU_ASSERT_PTR_NULL(petal_node_path(cfg, "SharedStorage"));
	CU_ASSERT_PTR_NULL(petal_node_path(cfg, "DevSettings"));
	petal_node_free(cfg);
	box = sandbox(dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(count_in(box, "CALL spack\nARG<install>\n"), 0);
	CU_ASSERT(!exists_in(box, "shared/petal"));
	CU_ASSERT(exists_in(box, "etc/profile.d/z02-petal-spack.sh"));
	free(box);
	check_layout(seed, dir);
	free(dir);
	petal_seed_free(seed);
}

/* With Spack baked into the image, the nodes use it and read its tree as an
   upstream of the shared one; without, the head node clones Spack onto the
   shared volume once. */
void test_image_upstream(void)
{
	struct petal_seed *seed = load_text(
		"cluster: {name: q, region: us-east-1}\n"
		"compute: {custom_ami: ami-0123abcd}\n"
		"software:\n"
		"  use_custom_ami: true\n"
		"  in_ami: [gcc@12.3.0]\n"
		"  binary_cache: {s3_bucket: my-lab-spack-cache, s3_prefix: bio}\n"
		"  spack_packages: [samtools@1.17]\n");
	struct petal_error err;
	char *dir, *head, *box, *env, *text, *want;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);

	head = sandbox_env("PETAL_SANDBOX_IMAGE=1", dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(count_in(head, "CALL git\n"), 0);
	text = slurp(head, "etc/spack/upstreams.yaml");
	want = petal_xasprintf("install_tree: %s/opt/spack/opt/spack\n", head);
	CU_ASSERT(text != NULL && strstr(text, want) != NULL);
	free(want);
	/* the image's Lmod modules, for the baked packages */
	want = petal_xasprintf("    modules:\n      lmod: %s/opt/spack/share/spack/lmod\n", head);
	CU_ASSERT(text != NULL && strstr(text, want) != NULL);
	free(want);
	free(text);
	want = petal_xasprintf("TREE<%s/shared/spack/opt>\n", head);
	CU_ASSERT(count_in(head, want) > 0);
	free(want);
	/* the mirror is an unsigned binary cache */
	CU_ASSERT(got_arg(head, "--unsigned"));
	CU_ASSERT(got_arg(head, "binary"));

	env = petal_xasprintf("PETAL_SANDBOX_IMAGE=1 PETAL_SANDBOX_NODE=ComputeFleet "
	                      "PETAL_SANDBOX_SHARED='%s/shared'", head);
	box = sandbox_env(env, dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(exists_in(box, "etc/spack/upstreams.yaml"));
	text = slurp(box, "etc/profile.d/z02-petal-spack.sh");
	want = petal_xasprintf("%s/opt/spack/share/spack/setup-env.sh", box);
	CU_ASSERT(text != NULL && strstr(text, want) != NULL);
	free(want);
	free(text);
	CU_ASSERT_EQUAL(count_in(box, "CALL spack\n"), 0);
	free(box);
	free(env);
	free(head);

	/* no Spack in the image: cloned onto the shared volume, no upstream */
	head = sandbox(dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	want = petal_xasprintf("ARG<%s/shared/spack/spack>\n", head);
	CU_ASSERT_EQUAL(count_in(head, "CALL git\n"), 1);
	CU_ASSERT_EQUAL(count_in(head, want), 1);
	free(want);
	CU_ASSERT(!exists_in(head, "etc/spack/upstreams.yaml"));
	free(head);
	free(dir);
	petal_seed_free(seed);
}

/* A tier's shared size is a number of megabytes, or refused at once. */
void test_shared_fragment(void)
{
	static const char *const bad[] = { "", "abc", "-1", "12x", "1e99", "nan", "inf", " 1" };
	struct petal_seed *seed = load_text("cluster: {name: q, region: us-east-1}\n"
	                                    "software: {build_from_source: [zlib]}\n");
	struct fixture f;
	struct petal_plan *plan;
	struct petal_renderer r = { 0 };
	struct petal_error err = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	plan = plan_for(seed, &f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	r.plan = plan;
	r.tier = "test";
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(bad); i++) {
		CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_SHARED_MB, NULL, bad[i], &err),
		                PETAL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "megabytes"));
	}
	CU_ASSERT_EQUAL(r.n_frags, 0);
	CU_ASSERT_EQUAL(render_layout(&r, &err), 0);
	CU_ASSERT_EQUAL(r.shared, 0);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_SHARED_MB, NULL, "0", &err), 0);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_SHARED_MB, NULL, "30720.5", &err), 0);
	CU_ASSERT_EQUAL(render_layout(&r, &err), 0);
	CU_ASSERT_EQUAL(r.shared, 1);
	CU_ASSERT(fabs(r.shared_mb - 30720.5) < 1e-9);
	CU_ASSERT_EQUAL(r.shared_gib, 81); /* 30 GiB twice, plus 20, rounded up */
	/* each size is valid, their sum is more than EBS holds */
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_SHARED_MB, NULL, "16777216", &err), 0);
	CU_ASSERT_EQUAL(render_layout(&r, &err), PETAL_EINVAL);
	for (size_t i = 0; i < r.n_frags; i++) {
		free(r.frags[i].tier);
		free(r.frags[i].key);
		free(r.frags[i].text);
	}
	free(r.frags);
	fixture_release(&f);
	petal_seed_free(seed);
}
