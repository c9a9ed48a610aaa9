/* The source tier, planning side: `spack install` on the head node at
 * cluster creation.  Slow, but it delivers any package at any version, so it
 * is the universal fallback.
 *
 * Claims: every package it is asked about (software.build_from_source, and
 * whatever the earlier tiers passed or declined).  Needs nothing of the
 * cloud. */
#include <stdio.h>

#include <petal/plugin.h>

#include "../builtin.h"

static int source_init(const struct petal_host *host, void **ctx)
{
	struct tier_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void source_fini(void *ctx)
{
	struct tier_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

static int source_claim(void *ctx, const struct petal_claim_env *env,
                        const struct petal_package *pkg, const char **why)
{
	(void)ctx;
	(void)env;
	(void)pkg;
	(void)why;
	return PETAL_CLAIM;
}

static int source_plan(void *ctx, struct petal_planner *pl,
                       const struct petal_package *const *pkgs, size_t n,
                       struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_instance_type head = { .size = sizeof(head) };
	struct petal_build_estimate est = { .size = sizeof(est) };
	char runs_on[160], note[256];
	int rc;

	if (n == 0)
		return 0;
	if (host->instance_type(host, seed->head_node, &head) != 0)
		return host->fail(err, PETAL_EINVAL, "no figures for instance type '%s'",
		                  seed->head_node);
	rc = host->estimate_build(host, pkgs, n, seed->head_node, seed->build_parallel, &est);
	if (rc != 0)
		return host->fail(err, rc, "cannot estimate the build on %s", seed->head_node);

	const char **specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;
	/* Built after the image boots and the cache is pulled: they may be its
	   compilers and dependencies. */
	static const char *const after[] = { PETAL_STAGE_NODE_BOOT, PETAL_STAGE_CACHE_PULL };
	static const char *const parts[] = { PETAL_TIER_SOURCE };
	struct petal_action action = {
		.size = sizeof(action),
		.kind = PETAL_ACTION_NODE_BOOTSTRAP,
		.parts = parts,
		.n_parts = 1,
	};
	int jobs = seed->build_parallel > 0 && seed->build_parallel < head.vcpus ?
		seed->build_parallel : head.vcpus;
	snprintf(runs_on, sizeof(runs_on), "head node %s", seed->head_node);
	snprintf(note, sizeof(note), "spack install -j %d at cluster creation, %.0f core-minutes "
	         "of work", jobs, est.core_minutes);
	struct petal_step build = {
		.size = sizeof(build),
		.id = PETAL_TIER_SOURCE ".build",
		.stage = PETAL_STAGE_SOURCE_BUILD,
		.runs_on = runs_on,
		.packages = specs,
		.n_packages = n,
		.after_stages = after,
		.n_after_stages = 2,
		.est_minutes = est.minutes,
		.est_cost_usd = est.minutes / 60.0 * head.ondemand_usd_hour,
		.guess = est.guesses > 0,
		.note = note,
		.action = &action,
	};
	rc = host->plan_add_step(pl, &build, err);
	host->free(specs);
	return rc;
}

static const struct petal_tier_ops source_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = 0,
	.claim = source_claim,
	.plan = source_plan,
	.render = source_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = PETAL_TIER_SOURCE,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "spack install on the head node at creation: any package, any version",
	.rank = 40,
	.init = source_init,
	.fini = source_fini,
	.ops.tier = &source_ops,
};
