/* The binary-cache tier, planning side: packages built once on a (spot)
 * build instance and pushed to a Spack buildcache in S3; nodes pull them at
 * cluster creation.
 *
 * Claims: software.spack_packages when the seed has a binary_cache bucket;
 * and software.in_ami packages that reach it (the ami tier declined them,
 * or is absent), since a cache serves them too.  Needs a cloud that stores
 * objects and launches build instances. */
#include <stdio.h>

#include <petal/plugin.h>

#include "../builtin.h"

static int cache_init(const struct petal_host *host, void **ctx)
{
	struct tier_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void cache_fini(void *ctx)
{
	struct tier_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

static int cache_claim(void *ctx, const struct petal_claim_env *env,
                       const struct petal_package *pkg, const char **why)
{
	(void)ctx;
	(void)why;
	if (!env->seed->cache_bucket)
		return PETAL_PASS;
	if (pkg->section == PETAL_SECTION_SPACK_PACKAGES ||
	    pkg->section == PETAL_SECTION_IN_AMI)
		return PETAL_CLAIM;
	return PETAL_PASS;
}

static double figure(const struct petal_host *host, const char *name)
{
	double v = host->figure(name);
	return v > 0 ? v : 0;
}

static int cache_plan(void *ctx, struct petal_planner *pl,
                      const struct petal_package *const *pkgs, size_t n,
                      struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_instance_type build = { .size = sizeof(build) };
	struct petal_instance_type head = { .size = sizeof(head) };
	struct petal_build_estimate est = { .size = sizeof(est) };
	char runs_on[160], head_on[160], fill_note[512], pull_note[512];
	int rc;

	if (n == 0)
		return 0;
	if (host->instance_type(seed->build_instance, &build) != 0 ||
	    host->instance_type(seed->head_node, &head) != 0)
		return host->fail(err, PETAL_EINVAL, "no figures for instance type '%s' or '%s'",
		                  seed->build_instance, seed->head_node);
	rc = host->estimate_build(pkgs, n, seed->build_instance, seed->build_parallel, &est);
	if (rc != 0)
		return host->fail(err, rc, "cannot estimate the cache build on %s",
		                  seed->build_instance);

	const char **specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;

	/* Fill: launch, build, push the tarballs; a month of S3 storage. */
	double size_gb = est.size_mb / 1024.0;
	double launch = figure(host, "build_instance_boot_minutes");
	double push_rate = figure(host, "cache_push_mb_s");
	double push = push_rate > 0 ? est.size_mb / push_rate / 60.0 : 0;
	double fill = launch + est.minutes + push;
	double usd_hour = seed->build_spot ? build.spot_usd_hour : build.ondemand_usd_hour;
	double storage = size_gb * figure(host, "s3_gb_month");
	snprintf(runs_on, sizeof(runs_on), "build instance %s (%s)", seed->build_instance,
	         seed->build_spot ? "spot" : "on demand");
	snprintf(fill_note, sizeof(fill_note), "s3://%s/%s: launch %.0f min, build %.0f min, "
	         "push %.1f GB %.0f min; cost includes a month of S3 storage ($%.2f)",
	         seed->cache_bucket, seed->cache_prefix ? seed->cache_prefix : "", launch,
	         est.minutes, size_gb, push, storage);
	struct petal_step fill_step = {
		.size = sizeof(fill_step),
		.id = "binary-cache.cache-build",
		.stage = "cache-build",
		.runs_on = runs_on,
		.packages = specs,
		.n_packages = n,
		.est_minutes = fill,
		.est_cost_usd = fill / 60.0 * usd_hour + storage,
		.one_time = 1,
		.guess = est.guesses > 0,
		.note = fill_note,
	};
	rc = host->plan_add_step(pl, &fill_step, err);
	if (rc != 0)
		goto out_specs;

	/* Pull: per package (index, signature, relocation) plus the bytes.  It
	   follows the node's boot from a custom image when the plan has one. */
	static const char *const after[] = { "binary-cache.cache-build", "?ami.boot" };
	double pull_rate = figure(host, "cache_pull_mb_s");
	double pull = (double)n * figure(host, "cache_pkg_overhead_minutes") +
		(pull_rate > 0 ? est.size_mb / pull_rate / 60.0 : 0);
	double transfer = size_gb * figure(host, "transfer_gb");
	snprintf(head_on, sizeof(head_on), "head node %s", seed->head_node);
	snprintf(pull_note, sizeof(pull_note), "spack buildcache install of %zu package%s "
	         "(%.1f GB); cost includes transfer ($%.2f)", n, n == 1 ? "" : "s", size_gb,
	         transfer);
	struct petal_step pull_step = {
		.size = sizeof(pull_step),
		.id = "binary-cache.pull",
		.stage = "cache-pull",
		.runs_on = head_on,
		.packages = specs,
		.n_packages = n,
		.depends_on = after,
		.n_depends_on = 2,
		.est_minutes = pull,
		.est_cost_usd = pull / 60.0 * head.ondemand_usd_hour + transfer,
		.guess = est.guesses > 0,
		.note = pull_note,
	};
	rc = host->plan_add_step(pl, &pull_step, err);

out_specs:
	host->free(specs);
	return rc;
}

static const struct petal_tier_ops cache_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = PETAL_CAP_OBJECTS | PETAL_CAP_COMPUTE,
	.claim = cache_claim,
	.plan = cache_plan,
	.render = binary_cache_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "binary-cache",
	.version = PETAL_PLUGIN_VERSION,
	.summary = "build once into a Spack buildcache in S3; nodes pull at creation",
	.rank = 20,
	.init = cache_init,
	.fini = cache_fini,
	.ops.tier = &cache_ops,
};
