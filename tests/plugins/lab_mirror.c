/* A third-party tier, "lab-mirror" (file tier_lab_mirror.so), for
 * tests/test_plan: it knows no other tier, only the stages.  It claims the
 * packages listed under the seed's plugins.lab-mirror.packages (rank 15:
 * before the binary cache) and adds
 *   lab-mirror.sync   stage cache-pull, after node-boot: nodes install from
 *                     the lab's own mirror
 *   lab-mirror.check  stage ready, after cache-pull and source-build: a
 *                     smoke test once everything is installed
 * With plugins.lab-mirror.order: early, the sync waits for source-build
 * instead, which comes after its own stage: the planner must refuse it. */
#include <string.h>

#include <petal/plugin.h>

#define LAB_MIRROR "https://mirror.lab.example/spack"

static const struct petal_host *host;

static int lab_init(const struct petal_host *h, void **ctx)
{
	host = h;
	*ctx = NULL;
	return 0;
}

static int lab_claim(void *ctx, const struct petal_claim_env *env,
                     const struct petal_package *pkg, const char **why)
{
	const struct petal_node *list = host->node_get(env->seed->root,
	                                               "plugins.lab-mirror.packages");
	(void)ctx;
	(void)why;
	for (size_t i = 0; i < host->node_len(list); i++) {
		const char *name = host->node_scalar(host->node_at(list, i));
		if (name && strcmp(name, pkg->name) == 0)
			return PETAL_CLAIM;
	}
	return PETAL_PASS;
}

static int lab_plan(void *ctx, struct petal_planner *pl,
                    const struct petal_package *const *pkgs, size_t n,
                    struct petal_error *err)
{
	const struct petal_seed_info *seed = host->planner_seed(pl);
	const char *order = host->node_scalar(host->node_get(seed->root,
	                                                     "plugins.lab-mirror.order"));
	static const char *const parts[] = { "lab-mirror" };
	static const char *const after_boot[] = { PETAL_STAGE_NODE_BOOT };
	static const char *const too_late[] = { PETAL_STAGE_SOURCE_BUILD };
	static const char *const after_all[] = { PETAL_STAGE_CACHE_PULL,
	                                         PETAL_STAGE_SOURCE_BUILD };
	const char **specs;
	int rc;

	(void)ctx;
	if (n == 0)
		return 0;
	specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;
	struct petal_action sync_action = {
		.size = sizeof(sync_action),
		.kind = PETAL_ACTION_NODE_BOOTSTRAP,
		.parts = parts,
		.n_parts = 1,
		.uses = PETAL_PRODUCT_MIRROR_URL,
		.input = LAB_MIRROR,
	};
	struct petal_step sync = {
		.size = sizeof(sync),
		.id = "lab-mirror.sync",
		.stage = PETAL_STAGE_CACHE_PULL,
		.runs_on = "head node",
		.packages = specs,
		.n_packages = n,
		.after_stages = order && strcmp(order, "early") == 0 ? too_late : after_boot,
		.n_after_stages = 1,
		.est_minutes = 3,
		.est_cost_usd = 0.01,
		.action = &sync_action,
	};
	struct petal_action check_action = {
		.size = sizeof(check_action),
		.kind = PETAL_ACTION_NODE_BOOTSTRAP,
		.parts = parts,
		.n_parts = 1,
	};
	struct petal_step check = {
		.size = sizeof(check),
		.id = "lab-mirror.check",
		.stage = PETAL_STAGE_READY,
		.runs_on = "head node",
		.after_stages = after_all,
		.n_after_stages = 2,
		.est_minutes = 1,
		.action = &check_action,
	};
	rc = host->plan_add_step(pl, &sync, err);
	if (rc == 0)
		rc = host->plan_add_step(pl, &check, err);
	host->free(specs);
	return rc;
}

static const struct petal_tier_ops lab_ops = {
	.size = sizeof(struct petal_tier_ops),
	.claim = lab_claim,
	.plan = lab_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "lab-mirror",
	.version = "1.0",
	.summary = "a third-party tier that takes its place by stage (tests only)",
	.rank = 15,
	.init = lab_init,
	.ops.tier = &lab_ops,
};
