/* core/plan/compose.c and friends: the seed's packages claimed by the built
   tier plugins (loaded with dlopen from temporary plugin directories), the
   plan's steps and totals, its JSON and text, and the cost comparison. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/plan/estimate.h"
#include "../core/plan/plan.h"
#include "../core/plugin/host.h"
#include "../core/plugin/registry.h"
#include "../core/seed/seed.h"
#include "../core/util/util.h"

/* One host for the whole test (core/plugin/host.h). */
static const struct petal_host *the_host(void)
{
	static struct petal_host *h;
	if (!h)
		h = petal_host_new();
	return h;
}

static const char *plugins_dir; /* the built plugins (PETAL_PLUGIN_PATH) */
static const char *data_dir;
static const char *seeds_dir;
static char *test_plugins_dir;  /* tests/plan/.libs */
static char *lab_plugins_dir;   /* tests/plugins/.libs: tier_lab_mirror.so */
static char *tmp_root;
static int n_tmp;

static const char *const all_plugins[] = {
	"tier_ami.so", "tier_binary_cache.so", "tier_container.so", "tier_source.so",
	"cloud_aws.so", "cloud_local.so", NULL,
};

/* ---- fixtures ---------------------------------------------------------- */

static void install(const char *from, const char *file, const char *dir)
{
	char *src = petal_xasprintf("%s/%s", from, file);
	char *dst = petal_xasprintf("%s/%s", dir, file);
	char *data = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	if (petal_read_file(src, 64u << 20, &data, &len, &err) != 0 ||
	    petal_write_file(dst, data, len, 0755, &err) != 0) {
		fprintf(stderr, "cannot copy %s: %s\n", src, err.msg);
		abort();
	}
	free(data);
	free(src);
	free(dst);
}

/* A plugin directory holding the named built plugins (NULL-terminated),
   plus the misbehaving test tier when asked. */
static char *plugin_dir(const char *const *files, int misbehave)
{
	char *dir = petal_xasprintf("%s/p%d", tmp_root, n_tmp++);
	if (mkdir(dir, 0700) != 0) {
		perror(dir);
		abort();
	}
	for (size_t i = 0; files[i]; i++)
		install(plugins_dir, files[i], dir);
	if (misbehave)
		install(test_plugins_dir, "tier_misbehave.so", dir);
	return dir;
}

static struct petal_seed *seed_text(const char *text)
{
	struct petal_seed *seed = NULL;
	struct petal_diags diags = { 0 };
	struct petal_error err = { 0 };
	if (petal_seed_load_text("test.yaml", text, strlen(text), &seed, &diags, &err) != 0) {
		char *d = petal_diags_format(&diags);
		fprintf(stderr, "seed did not load: %s%s\n", err.msg, d);
		free(d);
	}
	petal_diags_release(&diags);
	return seed;
}

/* The hybrid example, with `extra` appended (more top-level sections) and
   `cloud` set when given. */
static struct petal_seed *hybrid(const char *cloud, const char *extra)
{
	char *path = petal_xasprintf("%s/hybrid.yaml", seeds_dir);
	char *text = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	if (petal_read_file(path, 1 << 20, &text, &len, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	const char *at = strstr(text, "  region: us-east-1\n");
	if (cloud && at) {
		at += strlen("  region: us-east-1\n");
		petal_strbuf_add(&sb, text, (size_t)(at - text));
		petal_strbuf_printf(&sb, "  cloud: %s\n%s", cloud, at);
	} else {
		petal_strbuf_puts(&sb, text);
	}
	if (extra)
		petal_strbuf_puts(&sb, extra);
	struct petal_seed *seed = seed_text(petal_strbuf_str(&sb));
	petal_strbuf_release(&sb);
	free(text);
	free(path);
	return seed;
}

/* Everything one composition needs, released together. */
struct run {
	struct petal_seed *seed;
	struct petal_estimates *est;
	struct petal_registry reg;
	struct petal_plan *plan;
	struct petal_error err;
	int rc;
};

static void compose(struct run *r, struct petal_seed *seed, const char *dir)
{
	memset(r, 0, sizeof(*r));
	r->seed = seed;
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, seed, &r->est, &r->err), 0);
	petal_host_bind_estimates(the_host(), r->est);
	setenv("PETAL_PLUGIN_PATH", dir, 1);
	petal_registry_default_dirs(&r->reg);
	r->reg.host = the_host();
	CU_ASSERT_EQUAL_FATAL(petal_registry_scan(&r->reg, &r->err), 0);
	r->rc = petal_plan_compose(seed, &r->reg, r->est, &r->plan, &r->err);
}

static void release(struct run *r)
{
	petal_plan_free(r->plan);
	petal_registry_release(&r->reg);
	petal_host_bind_estimates(the_host(), NULL);
	petal_estimates_free(r->est);
	petal_seed_free(r->seed);
}

static const struct petal_plan_claim *claim_of(const struct petal_plan *plan,
                                               const char *name)
{
	for (size_t i = 0; i < plan->n_claims; i++)
		if (strcmp(plan->seed->pkgs[plan->claims[i].pkg].spec.name, name) == 0)
			return &plan->claims[i];
	return NULL;
}

static const struct petal_plan_step *step_of(const struct petal_plan *plan, const char *id)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (strcmp(plan->steps[i].id, id) == 0)
			return &plan->steps[i];
	return NULL;
}

static int depends(const struct petal_plan_step *s, const char *id)
{
	for (size_t i = 0; i < s->n_depends_on; i++)
		if (strcmp(s->depends_on[i], id) == 0)
			return 1;
	return 0;
}

static const char *tag_of(const struct petal_plan_action *a, const char *key)
{
	for (size_t i = 0; i < a->n_image_tags; i++)
		if (strcmp(a->image_tags[i].key, key) == 0)
			return a->image_tags[i].value;
	return NULL;
}

/* ---- the hybrid example ------------------------------------------------ */

static void test_hybrid(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan *p = r.plan;

	/* each package by the fastest tier that suits it */
	CU_ASSERT_STRING_EQUAL(claim_of(p, "gcc")->tier, "ami");
	CU_ASSERT_STRING_EQUAL(claim_of(p, "openmpi")->tier, "ami");
	CU_ASSERT_STRING_EQUAL(claim_of(p, "samtools")->tier, "binary-cache");
	CU_ASSERT_STRING_EQUAL(claim_of(p, "blast-plus")->tier, "binary-cache");
	CU_ASSERT_STRING_EQUAL(claim_of(p, "lab-aligner")->tier, "source");
	CU_ASSERT_PTR_NULL(claim_of(p, "gcc")->declined);

	/* the design: about 25 minutes to ready against 4-8 hours from source */
	CU_ASSERT_TRUE(p->ready_minutes >= 18 && p->ready_minutes <= 35);
	CU_ASSERT_TRUE(p->baseline_minutes >= 240 && p->baseline_minutes <= 480);
	CU_ASSERT_STRING_EQUAL(p->baseline_runs_on, "head node c5.2xlarge");
	fprintf(stderr, "\n    hybrid: ready %.1f min ($%.2f), prepare %.1f min ($%.2f), "
	        "baseline %.1f min ($%.2f)\n", p->ready_minutes, p->ready_cost_usd,
	        p->prepare_minutes, p->prepare_cost_usd, p->baseline_minutes,
	        p->baseline_cost_usd);

	/* the DAG: boot, then the cache pull, then the source build */
	const struct petal_plan_step *image = step_of(p, "ami.image-build");
	const struct petal_plan_step *boot = step_of(p, "ami.boot");
	const struct petal_plan_step *fill = step_of(p, "binary-cache.cache-build");
	const struct petal_plan_step *pull = step_of(p, "binary-cache.pull");
	const struct petal_plan_step *src = step_of(p, "source.build");
	CU_ASSERT_PTR_NOT_NULL_FATAL(image);
	CU_ASSERT_PTR_NOT_NULL_FATAL(boot);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fill);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pull);
	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	CU_ASSERT_PTR_NULL(step_of(p, "container.pull")); /* no containers: no step */
	CU_ASSERT_TRUE(image->one_time && fill->one_time);
	CU_ASSERT_FALSE(boot->one_time || pull->one_time || src->one_time);
	CU_ASSERT_TRUE(depends(boot, "ami.image-build"));
	CU_ASSERT_TRUE(depends(pull, "binary-cache.cache-build") && depends(pull, "ami.boot"));
	CU_ASSERT_TRUE(depends(src, "ami.boot") && depends(src, "binary-cache.pull"));
	CU_ASSERT_DOUBLE_EQUAL(p->ready_minutes,
	                       boot->est_minutes + pull->est_minutes + src->est_minutes, 1e-9);
	double longer = image->est_minutes > fill->est_minutes ? image->est_minutes :
		fill->est_minutes;
	CU_ASSERT_DOUBLE_EQUAL(p->prepare_minutes, longer, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(p->prepare_cost_usd, image->est_cost_usd + fill->est_cost_usd,
	                       1e-9);
	CU_ASSERT_EQUAL(image->n_packages, 2);
	CU_ASSERT_EQUAL(pull->n_packages, 8);
	/* named by the seed: no recommendation */
	CU_ASSERT_STRING_EQUAL(p->build_instance, "c5.18xlarge");
	CU_ASSERT_PTR_NULL(p->build_instance_reason);
	CU_ASSERT_PTR_NOT_NULL(strstr(image->runs_on, "c5.18xlarge (spot)"));

	/* what each step does, as data */
	const struct petal_plan_action *a = image->action;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->kind, PETAL_ACTION_IMAGE);
	CU_ASSERT_STRING_EQUAL(a->instance_type, "c5.18xlarge");
	CU_ASSERT_TRUE(a->spot);
	CU_ASSERT_FALSE(a->spot_fallback);
	CU_ASSERT_EQUAL(a->timeout_s, 12 * 3600);
	CU_ASSERT_TRUE(a->volume_gb > 0);
	CU_ASSERT_EQUAL_FATAL(a->n_parts, 1);
	CU_ASSERT_STRING_EQUAL(a->parts[0], "ami");
	CU_ASSERT_STRING_EQUAL(a->image_name, "ami-base-bio-v2"); /* custom_ami, a name */
	CU_ASSERT_EQUAL(a->produces, PETAL_PRODUCT_IMAGE_ID);
	CU_ASSERT_PTR_NULL(a->output); /* only the run learns the id */
	CU_ASSERT_STRING_EQUAL(tag_of(a, "petal:seed-hash"), r.seed->hash);
	CU_ASSERT_STRING_EQUAL(tag_of(a, "petal:seed"), "bio-hybrid");
	CU_ASSERT_STRING_EQUAL(tag_of(a, "Name"), "ami-base-bio-v2");
	CU_ASSERT_STRING_EQUAL(tag_of(a, "petal:packages"), "gcc@12.3.0 openmpi@4.1.6");
	CU_ASSERT_STRING_EQUAL(tag_of(a, "parallelcluster:os"), "alinux2023");
	CU_ASSERT_PTR_NOT_NULL(tag_of(a, "petal:spack-version"));

	a = boot->action;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->kind, PETAL_ACTION_NODE_BOOT);
	CU_ASSERT_EQUAL(a->uses, PETAL_PRODUCT_IMAGE_ID);
	CU_ASSERT_PTR_NULL(a->input); /* the image step's, once made */
	CU_ASSERT_PTR_NULL(a->instance_type);

	a = fill->action;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->kind, PETAL_ACTION_CACHE_FILL);
	CU_ASSERT_STRING_EQUAL(a->instance_type, "c5.18xlarge");
	CU_ASSERT_TRUE(a->spot);
	CU_ASSERT_EQUAL_FATAL(a->n_parts, 1);
	CU_ASSERT_STRING_EQUAL(a->parts[0], "binary-cache");
	CU_ASSERT_EQUAL(a->produces, PETAL_PRODUCT_MIRROR_URL);
	CU_ASSERT_STRING_EQUAL(a->output, "s3://my-lab-spack-cache/bio");
	CU_ASSERT_EQUAL(a->n_image_tags, 0);

	a = pull->action;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->kind, PETAL_ACTION_NODE_BOOTSTRAP);
	CU_ASSERT_EQUAL(a->uses, PETAL_PRODUCT_MIRROR_URL);
	CU_ASSERT_STRING_EQUAL(a->input, "s3://my-lab-spack-cache/bio");
	CU_ASSERT_STRING_EQUAL(a->parts[0], "binary-cache");

	a = src->action;
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->kind, PETAL_ACTION_NODE_BOOTSTRAP);
	CU_ASSERT_STRING_EQUAL(a->parts[0], "source");
	CU_ASSERT_EQUAL(a->produces, PETAL_PRODUCT_NONE);

	/* found by what they produce, not by tier or id */
	CU_ASSERT_PTR_EQUAL(petal_plan_producer(p, PETAL_PRODUCT_IMAGE_ID), image);
	CU_ASSERT_PTR_EQUAL(petal_plan_producer(p, PETAL_PRODUCT_MIRROR_URL), fill);
	CU_ASSERT_PTR_NULL(petal_plan_producer(p, PETAL_PRODUCT_NONE));

	/* stage deps as the tiers named them, resolved into ids */
	CU_ASSERT_EQUAL_FATAL(src->n_after_stages, 2);
	CU_ASSERT_STRING_EQUAL(src->after_stages[0], "node-boot");
	CU_ASSERT_STRING_EQUAL(src->after_stages[1], "cache-pull");
	CU_ASSERT_EQUAL(src->n_depends_on, 2);
	CU_ASSERT_EQUAL(pull->n_depends_on, 2);
	CU_ASSERT_STRING_EQUAL(pull->depends_on[0], "binary-cache.cache-build"); /* its own */
	release(&r);
	free(dir);
}

/* A container step and an image baked before: the pull waits for the boot,
   which waits for nothing and boots the image the cloud named. */
static void test_container_action(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, seed_text("cluster: {name: c, region: us-east-1}\n"
	                      "software:\n  in_ami: [gcc@12.3.0]\n"
	                      "  containers:\n    - name: bio\n"
	                      "      image: docker.io/biocontainers/samtools:1.17\n"
	                      "      modules: [samtools@1.17]\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan_step *pull = step_of(r.plan, "container.pull");
	CU_ASSERT_PTR_NOT_NULL_FATAL(pull);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pull->action);
	CU_ASSERT_EQUAL(pull->action->kind, PETAL_ACTION_CONTAINER_PULL);
	CU_ASSERT_STRING_EQUAL(pull->action->parts[0], "container");
	CU_ASSERT_EQUAL_FATAL(pull->n_depends_on, 1);
	CU_ASSERT_STRING_EQUAL(pull->depends_on[0], "ami.boot");
	/* no custom_ami: the image is named after the seed hash */
	const struct petal_plan_step *image = petal_plan_producer(r.plan, PETAL_PRODUCT_IMAGE_ID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(image);
	char name[32];
	snprintf(name, sizeof(name), "petal-%.16s", r.seed->hash);
	CU_ASSERT_STRING_EQUAL(image->action->image_name, name);
	release(&r);
	free(dir);
}

/* petal:packages fits EC2's 256 characters: whole specs, then "+N" for the rest. */
static void test_packages_tag_cut(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, "cluster: {name: many, region: us-east-1}\nsoftware:\n  in_ami:\n");
	for (int i = 0; i < 30; i++)
		petal_strbuf_printf(&sb, "    - py-long-package-name-%02d@1.0\n", i);
	struct run r;
	compose(&r, seed_text(petal_strbuf_str(&sb)), dir);
	petal_strbuf_release(&sb);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan_step *image = petal_plan_producer(r.plan, PETAL_PRODUCT_IMAGE_ID);
	CU_ASSERT_PTR_NOT_NULL_FATAL(image);
	const char *tag = tag_of(image->action, "petal:packages");
	CU_ASSERT_PTR_NOT_NULL_FATAL(tag);
	CU_ASSERT_TRUE(strlen(tag) <= 256);
	CU_ASSERT_EQUAL(strncmp(tag, "py-long-package-name-00@1.0 py-long-package-name-01@1.0 ",
	                        56), 0);
	/* the words kept and the count left add up to every package */
	const char *plus = strrchr(tag, '+');
	CU_ASSERT_PTR_NOT_NULL_FATAL(plus);
	size_t words = 0;
	for (const char *c = tag; c < plus; c++)
		words += *c == ' ';
	CU_ASSERT_EQUAL(words + (size_t)atoi(plus + 1), 30);
	CU_ASSERT_TRUE(words > 5);
	release(&r);
	free(dir);
}

/* The plan owns its actions: readable after every plugin is unloaded. */
static void test_actions_copied(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	petal_registry_release(&r.reg);
	memset(&r.reg, 0, sizeof(r.reg));
	size_t parts = 0, tags = 0, pcluster = 0;
	for (size_t i = 0; i < r.plan->n_steps; i++) {
		const struct petal_plan_action *a = r.plan->steps[i].action;
		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		for (size_t k = 0; k < a->n_parts; k++)
			parts += strlen(a->parts[k]) > 0;
		for (size_t k = 0; k < a->n_image_tags; k++) {
			const char *key = a->image_tags[k].key, *v = a->image_tags[k].value;

			tags += strlen(key) > 0 && v != NULL;
			/* what ParallelCluster's CustomAmiTagValidator reads */
			pcluster += (strcmp(key, PETAL_TAG_PCLUSTER_VERSION) == 0 && v &&
			             strcmp(v, "3.11.1") == 0) ||
			            (strcmp(key, PETAL_TAG_PCLUSTER_BUILD_STATUS) == 0 && v &&
			             strcmp(v, "available") == 0);
		}
	}
	CU_ASSERT_EQUAL(parts, 4); /* image, fill, pull, source build */
	CU_ASSERT_EQUAL(tags, 8);
	CU_ASSERT_EQUAL(pcluster, 2);
	json_t *j = petal_plan_to_json(r.plan);
	json_t *first = json_array_get(json_object_get(j, "steps"), 0);
	json_t *action = json_object_get(first, "action");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(action, "kind")), "image");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(action, "produces")),
	                       "image-id");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(action,
	                       "image_tags"), "petal:seed-hash")), r.seed->hash);
	json_decref(j);
	release(&r);
	free(dir);
}

/* A third-party tier that knows only the stages takes its place in the order. */
static void test_stage_tier(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	install(lab_plugins_dir, "tier_lab_mirror.so", dir);
	struct run r;
	compose(&r, hybrid(NULL, "plugins:\n  lab-mirror:\n    packages: [bwa, hmmer]\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan *p = r.plan;
	CU_ASSERT_STRING_EQUAL(claim_of(p, "bwa")->tier, "lab-mirror");
	const struct petal_plan_step *sync = step_of(p, "lab-mirror.sync");
	const struct petal_plan_step *check = step_of(p, "lab-mirror.check");
	const struct petal_plan_step *src = step_of(p, "source.build");
	const struct petal_plan_step *pull = step_of(p, "binary-cache.pull");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sync);
	CU_ASSERT_PTR_NOT_NULL_FATAL(check);
	CU_ASSERT_PTR_NOT_NULL_FATAL(src);
	CU_ASSERT_PTR_NOT_NULL_FATAL(pull);
	/* it waits for the boot; the built-in source build waits for it */
	CU_ASSERT_EQUAL(sync->n_depends_on, 1);
	CU_ASSERT_TRUE(depends(sync, "ami.boot"));
	CU_ASSERT_TRUE(depends(src, "lab-mirror.sync"));
	CU_ASSERT_TRUE(depends(src, "binary-cache.pull") && depends(src, "ami.boot"));
	CU_ASSERT_FALSE(depends(pull, "lab-mirror.sync")); /* side by side */
	/* ready: after every pull and the source build */
	CU_ASSERT_EQUAL(check->n_depends_on, 3);
	CU_ASSERT_TRUE(depends(check, "binary-cache.pull") && depends(check, "lab-mirror.sync") &&
	               depends(check, "source.build"));
	CU_ASSERT_DOUBLE_EQUAL(p->ready_minutes, step_of(p, "ami.boot")->est_minutes +
	                       (pull->est_minutes > sync->est_minutes ? pull->est_minutes
	                        : sync->est_minutes) + src->est_minutes + check->est_minutes,
	                       1e-9);
	CU_ASSERT_EQUAL(sync->action->uses, PETAL_PRODUCT_MIRROR_URL);
	release(&r);

	/* without the ami tier there is no node-boot step: nothing to wait for */
	static const char *const no_ami[] = { "tier_binary_cache.so", "tier_source.so",
	                                      "cloud_aws.so", NULL };
	char *dir2 = plugin_dir(no_ami, 0);
	install(lab_plugins_dir, "tier_lab_mirror.so", dir2);
	compose(&r, hybrid(NULL, "plugins:\n  lab-mirror:\n    packages: [bwa]\n"), dir2);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_EQUAL(step_of(r.plan, "lab-mirror.sync")->n_depends_on, 0);
	CU_ASSERT_TRUE(depends(step_of(r.plan, "source.build"), "lab-mirror.sync"));
	release(&r);

	/* waiting for a later stage than its own is refused, naming the tier */
	compose(&r, hybrid(NULL, "plugins:\n  lab-mirror:\n    packages: [bwa]\n"
	                   "    order: early\n"), dir2);
	CU_ASSERT_EQUAL(r.rc, PETAL_EPLUGIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "tier 'lab-mirror'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "waits for stage source-build"));
	release(&r);
	free(dir2);
	free(dir);
}

/* two versions of one package: two claims, both in the step that builds them */
static void test_versions_of_one_name(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, seed_text("cluster: {name: v, region: us-east-1}\n"
	                      "software:\n  spack_packages: [gcc@11.3.0, gcc@12.3.0, "
	                      "python@3.10, python@3.11]\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.plan->n_claims, 4);
	const struct petal_plan_step *b = step_of(r.plan, "source.build");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL_FATAL(b->n_packages, 4);
	CU_ASSERT_STRING_EQUAL(b->packages[0], "gcc@11.3.0");
	CU_ASSERT_STRING_EQUAL(b->packages[1], "gcc@12.3.0");
	CU_ASSERT_STRING_EQUAL(b->packages[2], "python@3.10");
	CU_ASSERT_STRING_EQUAL(b->packages[3], "python@3.11");
	release(&r);
	free(dir);
}

static void test_guesses(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan *p = r.plan;
	/* lab-aligner is nobody's figure: only it, and only its step, is a guess */
	CU_ASSERT_EQUAL(p->n_guess_names, 1);
	CU_ASSERT_STRING_EQUAL(p->guess_names[0], "lab-aligner");
	CU_ASSERT_TRUE(step_of(p, "source.build")->guess);
	CU_ASSERT_FALSE(step_of(p, "ami.image-build")->guess);
	CU_ASSERT_FALSE(step_of(p, "binary-cache.pull")->guess);
	char *text = petal_plan_to_text(p, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "~"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "lab-aligner"));
	CU_ASSERT_PTR_NULL(strstr(text, "\033["));
	free(text);
	text = petal_plan_to_text(p, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "\033["));
	free(text);
	release(&r);

	/* figures given in the seed: no longer a guess */
	compose(&r, hybrid(NULL, "estimates:\n  packages:\n    lab-aligner: "
	                   "{core_minutes: 100}\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_EQUAL(r.plan->n_guess_names, 0);
	CU_ASSERT_FALSE(step_of(r.plan, "source.build")->guess);
	text = petal_plan_to_text(r.plan, 0);
	CU_ASSERT_PTR_NULL(strstr(text, "~"));
	free(text);
	release(&r);
	free(dir);
}

static void test_overrides_change_plan(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run a, b;
	compose(&a, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(a.rc, 0);
	compose(&b, hybrid(NULL, "estimates:\n  figures:\n    boot_minutes: 10\n"
	                   "  instances:\n    c5.2xlarge: {ondemand_usd_hour: 3.4}\n"), dir);
	CU_ASSERT_EQUAL_FATAL(b.rc, 0);
	double boot_a = step_of(a.plan, "ami.boot")->est_minutes;
	double boot_b = step_of(b.plan, "ami.boot")->est_minutes;
	CU_ASSERT_DOUBLE_EQUAL(boot_b, 10, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(b.plan->ready_minutes - a.plan->ready_minutes, boot_b - boot_a,
	                       1e-9);
	/* ten times the head node's price: ten times the baseline's cost */
	CU_ASSERT_DOUBLE_EQUAL(b.plan->baseline_cost_usd, 10 * a.plan->baseline_cost_usd, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(b.plan->baseline_minutes, a.plan->baseline_minutes, 1e-9);
	release(&a);
	release(&b);
	free(dir);
}

/* ---- claims and declines ------------------------------------------------------ */

static void test_cloud_local_declines(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid("local", NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	const struct petal_plan *p = r.plan;
	/* the local cloud cannot build images nor launch build instances */
	const struct petal_plan_claim *gcc = claim_of(p, "gcc");
	CU_ASSERT_STRING_EQUAL(gcc->tier, "source");
	CU_ASSERT_EQUAL_FATAL(gcc->n_declines, 2);
	CU_ASSERT_STRING_EQUAL(gcc->declines[0].tier, "ami"); /* rank order */
	CU_ASSERT_STRING_EQUAL(gcc->declines[1].tier, "binary-cache");
	CU_ASSERT_PTR_NOT_NULL(strstr(gcc->declines[0].reason,
	                              "cloud 'local' cannot build images"));
	CU_ASSERT_PTR_NOT_NULL(strstr(gcc->declined, "ami: cloud 'local'"));
	/* spack_packages: only the cache would have taken them */
	const struct petal_plan_claim *sam = claim_of(p, "samtools");
	CU_ASSERT_STRING_EQUAL(sam->tier, "source");
	CU_ASSERT_EQUAL_FATAL(sam->n_declines, 1);
	CU_ASSERT_STRING_EQUAL(sam->declines[0].tier, "binary-cache");
	/* build_from_source was never the other tiers' */
	CU_ASSERT_EQUAL(claim_of(p, "lab-aligner")->n_declines, 0);
	CU_ASSERT_PTR_NULL(step_of(p, "ami.image-build"));
	CU_ASSERT_PTR_NULL(step_of(p, "binary-cache.pull"));
	/* everything from source: ready is the baseline */
	CU_ASSERT_DOUBLE_EQUAL(p->ready_minutes, p->baseline_minutes, 1e-6);
	CU_ASSERT_DOUBLE_EQUAL(p->prepare_minutes, 0, 1e-12);

	json_t *j = petal_plan_to_json(p);
	json_t *tiers = json_object_get(j, "tiers");
	json_t *source = json_array_get(tiers, json_array_size(tiers) - 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(source, "tier")), "source");
	json_t *declined = json_object_get(source, "declined");
	/* gcc and openmpi declined twice each, the eight cache packages once */
	CU_ASSERT_EQUAL(json_array_size(declined), 2 * 2 + 8);
	json_t *first = json_array_get(declined, 0);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first, "package")),
	                       "gcc@12.3.0");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(first, "tier")), "ami");
	json_decref(j);
	release(&r);
	free(dir);
}

static void test_recommendation_in_plan(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, seed_text("cluster: {name: small, region: us-east-1}\n"
	                      "software:\n"
	                      "  binary_cache: {s3_bucket: lab-cache}\n"
	                      "  spack_packages: [samtools, bcftools, bwa]\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(r.plan->build_instance, "c5.4xlarge");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r.plan->build_instance_reason);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.plan->build_instance_reason, "3 packages"));
	CU_ASSERT_STRING_EQUAL(r.plan->info.build_instance, "c5.4xlarge");
	CU_ASSERT_PTR_NOT_NULL(strstr(step_of(r.plan, "binary-cache.cache-build")->runs_on,
	                              "c5.4xlarge"));
	json_t *j = petal_plan_to_json(r.plan);
	json_t *bi = json_object_get(j, "build_instance");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(bi, "type")), "c5.4xlarge");
	CU_ASSERT_TRUE(json_is_string(json_object_get(bi, "reason")));
	json_decref(j);
	release(&r);
	free(dir);
}

static void test_unclaimed_package(void)
{
	/* no source tier (the universal fallback) and no container tier */
	static const char *const some[] = { "tier_ami.so", "tier_binary_cache.so",
	                                    "cloud_aws.so", NULL };
	char *dir = plugin_dir(some, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL(r.rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(r.plan);
	/* the package, and where the seed lists it */
	char where[64];
	int line = 0;
	for (size_t i = 0; i < r.seed->n_pkgs; i++)
		if (strcmp(r.seed->pkgs[i].spec.name, "lab-aligner") == 0)
			line = r.seed->pkgs[i].line;
	CU_ASSERT_TRUE(line > 0);
	snprintf(where, sizeof(where), "test.yaml:%d:", line);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, where));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "lab-aligner"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "tier_source.so"));
	release(&r);
	free(dir);
}

static void test_missing_cloud(void)
{
	static const char *const no_local[] = { "tier_ami.so", "tier_source.so",
	                                        "cloud_aws.so", NULL };
	char *dir = plugin_dir(no_local, 0);
	struct run r;
	compose(&r, hybrid("local", NULL), dir);
	CU_ASSERT_EQUAL(r.rc, PETAL_EPLUGIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "cloud_local.so"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, dir));
	release(&r);
	free(dir);
}

/* ---- misbehaving plugins ---------------------------------------------------------- */

static void misbehave(const char *mode, int want_rc, const char *want_msg)
{
	char *dir = plugin_dir(all_plugins, 1);
	char *extra = petal_xasprintf("plugins:\n  misbehave:\n    mode: %s\n"
	                              "    packages: [lab-aligner]\n", mode);
	struct run r;
	compose(&r, hybrid(NULL, extra), dir);
	free(extra);
	CU_ASSERT_EQUAL(r.rc, want_rc);
	CU_ASSERT_PTR_NULL(r.plan);
	if (want_msg) {
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, "tier 'misbehave'"));
		CU_ASSERT_PTR_NOT_NULL(strstr(r.err.msg, want_msg));
		if (!strstr(r.err.msg, want_msg))
			fprintf(stderr, "\n    %s: got \"%s\"\n", mode, r.err.msg);
	}
	release(&r);
	free(dir);
}

static void test_misbehaving_plugin(void)
{
	char *dir = plugin_dir(all_plugins, 1);
	struct run r;
	/* well-behaved, it takes lab-aligner before the source tier */
	compose(&r, hybrid(NULL, "plugins:\n  misbehave:\n    mode: ok\n"
	                   "    packages: [lab-aligner]\n"), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	CU_ASSERT_STRING_EQUAL(claim_of(r.plan, "lab-aligner")->tier, "misbehave");
	CU_ASSERT_PTR_NOT_NULL_FATAL(step_of(r.plan, "misbehave.a"));
	CU_ASSERT_PTR_NULL(step_of(r.plan, "source.build")); /* it got nothing */
	/* a step without an action: planned, and its JSON says so */
	CU_ASSERT_PTR_NULL(step_of(r.plan, "misbehave.a")->action);
	json_t *j = petal_plan_to_json(r.plan);
	size_t i;
	json_t *js;
	int seen = 0;
	json_array_foreach(json_object_get(j, "steps"), i, js)
		if (strcmp(json_string_value(json_object_get(js, "id")), "misbehave.a") == 0)
			seen = json_is_null(json_object_get(js, "action"));
	CU_ASSERT_TRUE(seen);
	json_decref(j);
	release(&r);
	free(dir);

	misbehave("duplicate", PETAL_EPLUGIN, "duplicate step id 'misbehave.a'");
	/* refused even when the plugin ignores the refusal */
	misbehave("swallow", PETAL_EPLUGIN, "duplicate step id 'misbehave.a'");
	misbehave("unknown-dep", PETAL_EPLUGIN, "misbehave.ghost");
	misbehave("negative", PETAL_EPLUGIN, "0 or more");
	misbehave("cycle", PETAL_EPLUGIN, "cycle");
	misbehave("fail", PETAL_EIO, "failing on purpose");
	misbehave("bad-stage", PETAL_EPLUGIN, "stage 'compile' is not one of prepare, "
	          "image-build, cache-build, node-boot");
	misbehave("late-stage", PETAL_EPLUGIN, "waits for stage ready, which does not come "
	          "before it");
	misbehave("other-dep", PETAL_EPLUGIN, "a step of tier 'ami': name its stage "
	          "(node-boot) in after_stages");
	misbehave("optional-dep", PETAL_EPLUGIN, "name its stage in after_stages");
	misbehave("bad-part", PETAL_EPLUGIN, "'x; rm -rf /' is not a script part name");
	misbehave("no-type", PETAL_EPLUGIN, "names no instance_type");
	misbehave("not-once", PETAL_EPLUGIN, "stage image-build is one-time preparation, but "
	          "the step says one_time 0");
}

/* ---- critical paths on a hand-made DAG ----------------------------------------------- */

static void add(struct petal_plan *p, const char *id, double minutes, int one_time,
                const char *dep1, const char *dep2)
{
	const char *deps[2] = { dep1, dep2 };
	petal_grow((void **)&p->steps, &p->cap_steps, p->n_steps + 1, sizeof(*p->steps));
	struct petal_plan_step *s = &p->steps[p->n_steps++];
	memset(s, 0, sizeof(*s));
	s->id = petal_xstrdup(id);
	s->tier = petal_xstrdup("t");
	s->stage = petal_xstrdup("x");
	s->runs_on = petal_xstrdup("");
	s->depends_on = petal_xcalloc(2, sizeof(char *));
	for (size_t i = 0; i < 2; i++)
		if (deps[i])
			s->depends_on[s->n_depends_on++] = petal_xstrdup(deps[i]);
	s->est_minutes = minutes;
	s->one_time = one_time;
}

static void test_critical_path(void)
{
	struct petal_plan *p = petal_xcalloc(1, sizeof(*p));
	/* creation: a(10) -> b(5) -> d(1); a -> c(20) -> d; e(40) alone */
	add(p, "d", 1, 0, "b", "c");
	add(p, "b", 5, 0, "a", NULL);
	add(p, "c", 20, 0, "a", NULL);
	add(p, "a", 10, 0, "prep", NULL);
	/* one-time: prep(100) -> bake(30); other(120) */
	add(p, "prep", 100, 1, NULL, NULL);
	add(p, "bake", 30, 1, "prep", NULL);
	add(p, "other", 120, 1, NULL, NULL);
	/* a creation step waiting on a one-time step does not carry its time */
	CU_ASSERT_DOUBLE_EQUAL(petal_plan_critical_path(p, 0), 31, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(petal_plan_critical_path(p, 1), 130, 1e-9);
	add(p, "e", 40, 0, NULL, NULL);
	CU_ASSERT_DOUBLE_EQUAL(petal_plan_critical_path(p, 0), 40, 1e-9);
	/* a cycle: b -> a -> ... -> b */
	free(p->steps[3].depends_on[0]);
	p->steps[3].depends_on[0] = petal_xstrdup("d");
	CU_ASSERT_TRUE(petal_plan_critical_path(p, 0) < 0);
	CU_ASSERT_DOUBLE_EQUAL(petal_plan_critical_path(p, 1), 130, 1e-9);
	petal_plan_free(p);
}

/* ---- JSON ------------------------------------------------------------------------------ */

static void test_json(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	json_t *j = petal_plan_to_json(r.plan);
	CU_ASSERT_EQUAL(json_integer_value(json_object_get(j, "petal_plan_version")), 1);
	json_t *seed = json_object_get(j, "seed");
	static const char *const seed_keys[] = { "path", "hash", "cluster", "region", "cloud",
	                                         "os" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(seed_keys); i++)
		CU_ASSERT_TRUE(json_is_string(json_object_get(seed, seed_keys[i])));
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(seed, "hash")), r.seed->hash);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(seed, "cluster")), "bio-hybrid");

	json_t *steps = json_object_get(j, "steps");
	CU_ASSERT_EQUAL(json_array_size(steps), r.plan->n_steps);
	static const char *const step_keys[] = { "id", "tier", "stage", "packages", "runs_on",
	                                         "est_minutes", "est_cost_usd", "depends_on",
	                                         "one_time", "guess", "note", "after_stages",
	                                         "action" };
	size_t i;
	json_t *s;
	json_array_foreach(steps, i, s) {
		for (size_t k = 0; k < PETAL_ARRAY_SIZE(step_keys); k++)
			CU_ASSERT_PTR_NOT_NULL(json_object_get(s, step_keys[k]));
		/* optional dependencies are resolved: only real ids remain */
		size_t d;
		json_t *dep;
		json_array_foreach(json_object_get(s, "depends_on"), d, dep)
			CU_ASSERT_NOT_EQUAL(json_string_value(dep)[0], '?');
		/* every built-in step says what it does */
		json_t *act = json_object_get(s, "action");
		static const char *const action_keys[] = { "kind", "instance_type", "spot",
		                                           "spot_fallback", "volume_gb",
		                                           "timeout_s", "parts", "image_name",
		                                           "image_tags", "produces", "output",
		                                           "uses", "input" };
		CU_ASSERT_TRUE(json_is_object(act));
		for (size_t k = 0; k < PETAL_ARRAY_SIZE(action_keys); k++)
			CU_ASSERT_PTR_NOT_NULL(json_object_get(act, action_keys[k]));
		CU_ASSERT_TRUE(json_is_string(json_object_get(act, "kind")));
	}
	json_t *src = json_array_get(steps, json_array_size(steps) - 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(src, "id")), "source.build");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(json_object_get(src,
	                       "after_stages"), 1)), "cache-pull");
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(json_object_get(src, "action"),
	                       "kind")), "node-bootstrap");
	json_t *totals = json_object_get(j, "totals");
	static const char *const total_keys[] = { "prepare_minutes", "prepare_cost_usd",
	                                          "ready_minutes", "ready_cost_usd",
	                                          "baseline_minutes", "baseline_cost_usd",
	                                          "speedup" };
	for (size_t k = 0; k < PETAL_ARRAY_SIZE(total_keys); k++)
		CU_ASSERT_TRUE(json_is_number(json_object_get(totals, total_keys[k])));
	CU_ASSERT_DOUBLE_EQUAL(json_number_value(json_object_get(totals, "ready_minutes")),
	                       r.plan->ready_minutes, 0.051);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(totals, "baseline_runs_on")),
	                       "head node c5.2xlarge");
	json_t *guesses = json_object_get(j, "guesses");
	CU_ASSERT_EQUAL(json_array_size(guesses), 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(guesses, 0)), "lab-aligner");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "tiers")), 4);
	json_decref(j);
	release(&r);
	free(dir);
}

/* ---- the cost comparison ------------------------------------------------------------------ */

static const struct petal_cost_option *cheapest(const struct petal_cost_option *o)
{
	const struct petal_cost_option *best = NULL;
	int marked = 0;
	for (size_t i = 0; i < PETAL_COST_OPTIONS; i++) {
		if (o[i].cheapest) {
			marked++;
			best = &o[i];
		}
	}
	CU_ASSERT_EQUAL(marked, 1);
	for (size_t i = 0; best && i < PETAL_COST_OPTIONS; i++)
		CU_ASSERT_TRUE(best->total_usd <= o[i].total_usd);
	return best;
}

static void test_costs(void)
{
	char *dir = plugin_dir(all_plugins, 0);
	struct run r;
	compose(&r, hybrid(NULL, NULL), dir);
	CU_ASSERT_EQUAL_FATAL(r.rc, 0);
	struct petal_cost_option one[PETAL_COST_OPTIONS], fifty[PETAL_COST_OPTIONS];
	struct petal_cost_option decade[PETAL_COST_OPTIONS];
	petal_plan_compare_costs(r.plan, r.est, 1, 1, one);
	petal_plan_compare_costs(r.plan, r.est, 50, 1, fifty);
	petal_plan_compare_costs(r.plan, r.est, 50, 120, decade);
	for (size_t i = 0; i < PETAL_COST_OPTIONS; i++) {
		CU_ASSERT_DOUBLE_EQUAL(fifty[i].total_usd, fifty[i].one_time_usd +
		                       fifty[i].storage_usd + 50 * fifty[i].per_cluster_usd, 1e-9);
		/* building on the head node costs nothing up front, and storage grows
		   with the months */
		CU_ASSERT_TRUE(decade[i].storage_usd >= fifty[i].storage_usd);
	}
	CU_ASSERT_STRING_EQUAL(one[0].key, "head-node-build");
	CU_ASSERT_DOUBLE_EQUAL(one[0].one_time_usd, 0, 1e-12);
	/* the head-node build is as slow as the baseline, the AMI as fast as a boot */
	CU_ASSERT_TRUE(one[0].ready_minutes >= r.plan->baseline_minutes);
	CU_ASSERT_TRUE(one[1].ready_minutes < one[2].ready_minutes);
	CU_ASSERT_TRUE(one[2].ready_minutes < one[0].ready_minutes);

	/* one cluster: nothing to amortise, building where it runs is cheapest;
	   fifty clusters: a one-time build wins; fifty clusters for ten years:
	   AMI storage outweighs the cache's per-cluster transfer */
	CU_ASSERT_STRING_EQUAL(cheapest(one)->key, "head-node-build");
	CU_ASSERT_STRING_EQUAL(cheapest(fifty)->key, "build-instance-ami");
	CU_ASSERT_STRING_EQUAL(cheapest(decade)->key, "binary-cache");

	json_t *j = petal_costs_to_json(fifty, 50, 1);
	CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "cheapest")),
	                       "build-instance-ami");
	CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "options")), PETAL_COST_OPTIONS);
	json_decref(j);
	char *text = petal_costs_to_text(fifty, 50, 1, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "50 clusters"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "cheapest"));
	free(text);
	release(&r);
	free(dir);
}

/* ---- host table --------------------------------------------------------------------------- */

static void test_host(void)
{
	const struct petal_host *h = the_host();
	CU_ASSERT_TRUE(h->size >= sizeof(struct petal_host));
	CU_ASSERT_EQUAL(h->abi, PETAL_PLUGIN_ABI);
	/* every member filled */
	CU_ASSERT_TRUE(h->log && h->progress && h->fail && h->setting && h->alloc && h->free &&
	               h->node_type && h->node_scalar && h->node_len && h->node_at &&
	               h->node_key_at && h->node_get && h->node_where && h->estimate_build &&
	               h->instance_type && h->figure && h->planner_seed && h->plan_add_step &&
	               h->renderer_seed && h->render_add && h->http);
	/* settings are written into the caller's buffer, never a static one */
	char buf[256], tiny[4];
	CU_ASSERT_EQUAL(h->setting(h, "data_dir", buf, sizeof(buf)), (int)strlen(data_dir));
	CU_ASSERT_STRING_EQUAL(buf, data_dir);
	setenv("XDG_STATE_HOME", "/srv/state", 1);
	CU_ASSERT_EQUAL(h->setting(h, "state_dir", buf, sizeof(buf)), 16);
	CU_ASSERT_STRING_EQUAL(buf, "/srv/state/petal");
	/* too small: the length it needs, like snprintf */
	CU_ASSERT_EQUAL(h->setting(h, "state_dir", tiny, sizeof(tiny)), 16);
	unsetenv("XDG_STATE_HOME");
	setenv("HOME", "/home/someone", 1);
	CU_ASSERT(h->setting(h, "state_dir", buf, sizeof(buf)) > 0);
	CU_ASSERT_STRING_EQUAL(buf, "/home/someone/.local/state/petal");
	CU_ASSERT_EQUAL(h->setting(h, "no_such_setting", buf, sizeof(buf)), PETAL_ENOENT);
	CU_ASSERT_EQUAL(h->setting(h, "region", buf, sizeof(buf)), PETAL_ENOENT);
	petal_host_bind_region(h, "eu-west-2");
	CU_ASSERT_EQUAL(h->setting(h, "region", buf, sizeof(buf)), 9);
	CU_ASSERT_STRING_EQUAL(buf, "eu-west-2");
	petal_host_bind_region(h, NULL);
	/* two hosts hold their own state */
	struct petal_host *other = petal_host_new();
	petal_host_bind_region(other, "us-east-1");
	CU_ASSERT_EQUAL(h->setting(h, "region", buf, sizeof(buf)), PETAL_ENOENT);
	CU_ASSERT_EQUAL(other->setting(other, "region", buf, sizeof(buf)), 9);
	petal_host_free(other);

	/* nothing bound: estimates fail instead of inventing figures */
	struct petal_instance_type it = { .size = sizeof(it) };
	petal_host_bind_estimates(the_host(), NULL);
	CU_ASSERT_NOT_EQUAL(h->instance_type(h, "c5.large", &it), 0);
	CU_ASSERT_TRUE(h->figure(h, "boot_minutes") < 0);

	/* a plugin built against a smaller struct gets no more than it has */
	struct petal_estimates *est = NULL;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, NULL, &est, &err), 0);
	petal_host_bind_estimates(the_host(), est);
	struct {
		struct petal_instance_type it;
		char guard[16];
	} small;
	memset(&small, 0x5a, sizeof(small));
	small.it.size = offsetof(struct petal_instance_type, vcpus) + sizeof(int);
	CU_ASSERT_EQUAL(h->instance_type(h, "c5.large", &small.it), 0);
	CU_ASSERT_EQUAL(small.it.vcpus, 2);
	unsigned char *after = (unsigned char *)&small.it.memory_gb;
	CU_ASSERT_EQUAL(after[0], 0x5a); /* untouched past the plugin's size */
	CU_ASSERT_TRUE(h->figure(h, "boot_minutes") > 0);

	/* host->http is the core's client (tests/test_http): here only that the
	   table reaches it, with a request it must refuse before any network use */
	struct petal_http_request req = { .size = sizeof(req), .method = "GE T",
	                                  .url = "http://127.0.0.1:9/" };
	struct petal_http_response resp = { .size = sizeof(resp) };
	CU_ASSERT_EQUAL(h->http(&req, &resp, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an HTTP method"));
	h->free(resp.body);
	h->free(resp.headers);
	petal_host_bind_estimates(the_host(), NULL);
	petal_estimates_free(est);
}

/* ---- main ------------------------------------------------------------------------------------- */

static void remove_tree(const char *dir)
{
	char *cmd = petal_xasprintf("rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	free(cmd);
}

int main(void)
{
	plugins_dir = getenv("PETAL_PLUGIN_PATH");
	data_dir = getenv("PETAL_DATA_DIR");
	seeds_dir = getenv("PETAL_SEEDS");
	const char *top = getenv("top_builddir");
	if (!plugins_dir || !data_dir || !seeds_dir || !top) {
		fprintf(stderr, "PETAL_PLUGIN_PATH, PETAL_DATA_DIR, PETAL_SEEDS and top_builddir "
		        "must be set (run through make check)\n");
		return 1;
	}
	plugins_dir = petal_xstrdup(plugins_dir);
	test_plugins_dir = petal_xasprintf("%s/tests/plan/.libs", top);
	lab_plugins_dir = petal_xasprintf("%s/tests/plugins/.libs", top);
	tmp_root = petal_xstrdup("/tmp/petal-test-plan-XXXXXX");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	petal_host_set_verbosity(the_host(), PETAL_LOG_ERROR);

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("plan", NULL, NULL);
	if (!s ||
	    !CU_add_test(s, "hybrid: ~25 min ready against a 4-8 h baseline", test_hybrid) ||
	    !CU_add_test(s, "container pull after the boot; image named by hash",
	                 test_container_action) ||
	    !CU_add_test(s, "actions are the plan's own copies", test_actions_copied) ||
	    !CU_add_test(s, "petal:packages cut to 256 characters at a spec",
	                 test_packages_tag_cut) ||
	    !CU_add_test(s, "a third-party tier ordered by stage", test_stage_tier) ||
	    !CU_add_test(s, "guesses flagged, and gone with seed figures", test_guesses) ||
	    !CU_add_test(s, "several versions of one package", test_versions_of_one_name) ||
	    !CU_add_test(s, "seed overrides change the plan's figures", test_overrides_change_plan) ||
	    !CU_add_test(s, "cloud local: ami and cache decline, in rank order",
	                 test_cloud_local_declines) ||
	    !CU_add_test(s, "a recommended build instance, with its reason",
	                 test_recommendation_in_plan) ||
	    !CU_add_test(s, "a package no tier claims names itself", test_unclaimed_package) ||
	    !CU_add_test(s, "a missing cloud plugin names the search path", test_missing_cloud) ||
	    !CU_add_test(s, "misbehaving plugins are rejected cleanly", test_misbehaving_plugin) ||
	    !CU_add_test(s, "critical paths over a DAG", test_critical_path) ||
	    !CU_add_test(s, "JSON keys", test_json) ||
	    !CU_add_test(s, "cost comparison: the cheapest flips", test_costs) ||
	    !CU_add_test(s, "host table", test_host)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	CU_cleanup_registry();
	remove_tree(tmp_root);
	free(tmp_root);
	free(test_plugins_dir);
	free(lab_plugins_dir);
	free((char *)plugins_dir);
	return (rc != CUE_SUCCESS || failed) ? 1 : 0;
}
