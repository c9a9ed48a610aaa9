/* A tier that misbehaves on purpose, for tests/test_plan: it claims the
 * packages listed under the seed's plugins.misbehave.packages (rank 5, before
 * every built-in tier) and then adds steps the way plugins.misbehave.mode
 * says:
 *   ok           one well-formed step
 *   duplicate    two steps with the same id
 *   swallow      two steps with the same id, then reports success anyway
 *   unknown-dep  a step depending on a step nobody adds
 *   negative     a step with negative minutes
 *   cycle        two steps depending on each other
 *   fail         plan returns an error of its own
 *   bad-stage    a stage that is not one of petal's
 *   late-stage   a step waiting for a stage that comes after its own
 *   other-dep    a dependency on another tier's step by id (ami.boot)
 *   optional-dep the same written "?ami.boot", as ABI 1 had it
 *   bad-part     an action naming a script part "x; rm -rf /"
 *   no-type      an image action without an instance type
 *   not-once     an image-build step that says it is not one-time */
#include <string.h>

#include <petal/plugin.h>

static const struct petal_host *host;

static int mb_init(const struct petal_host *h, void **ctx)
{
	host = h;
	*ctx = NULL;
	return 0;
}

static const char *mode(const struct petal_seed_info *seed)
{
	const char *m = host->node_scalar(host->node_get(seed->root, "plugins.misbehave.mode"));
	return m ? m : "ok";
}

static int mb_claim(void *ctx, const struct petal_claim_env *env,
                    const struct petal_package *pkg, const char **why)
{
	const struct petal_node *list = host->node_get(env->seed->root,
	                                               "plugins.misbehave.packages");
	(void)ctx;
	(void)why;
	for (size_t i = 0; i < host->node_len(list); i++) {
		const char *name = host->node_scalar(host->node_at(list, i));
		if (name && strcmp(name, pkg->name) == 0)
			return PETAL_CLAIM;
	}
	return PETAL_PASS;
}

static int mb_plan(void *ctx, struct petal_planner *pl,
                   const struct petal_package *const *pkgs, size_t n,
                   struct petal_error *err)
{
	const char *m = mode(host->planner_seed(pl));
	static const char *const to_a[] = { "misbehave.a" };
	static const char *const to_b[] = { "misbehave.b" };
	static const char *const to_ghost[] = { "misbehave.ghost" };
	static const char *const to_boot[] = { PETAL_TIER_AMI ".boot" };
	static const char *const to_maybe_boot[] = { "?" PETAL_TIER_AMI ".boot" };
	static const char *const ready[] = { PETAL_STAGE_READY };
	static const char *const evil_parts[] = { "x; rm -rf /" };
	static const struct petal_action bad_part = {
		.size = sizeof(bad_part), .kind = PETAL_ACTION_NODE_BOOTSTRAP,
		.parts = evil_parts, .n_parts = 1,
	};
	static const struct petal_action no_type = {
		.size = sizeof(no_type), .kind = PETAL_ACTION_IMAGE, .image_name = "x",
	};
	struct petal_step a = {
		.size = sizeof(a), .id = "misbehave.a", .stage = "source-build",
		.runs_on = "head node", .est_minutes = 5, .est_cost_usd = 0.1,
	};
	struct petal_step b = a;
	int rc;

	(void)ctx;
	(void)pkgs;
	if (n == 0)
		return 0;
	b.id = "misbehave.b";
	if (strcmp(m, "duplicate") == 0 || strcmp(m, "swallow") == 0) {
		if ((rc = host->plan_add_step(pl, &a, err)) != 0)
			return rc;
		rc = host->plan_add_step(pl, &a, err);
		return strcmp(m, "swallow") == 0 ? 0 : rc;
	}
	if (strcmp(m, "unknown-dep") == 0) {
		a.depends_on = to_ghost;
		a.n_depends_on = 1;
	} else if (strcmp(m, "negative") == 0) {
		a.est_minutes = -3;
	} else if (strcmp(m, "cycle") == 0) {
		a.depends_on = to_b;
		a.n_depends_on = 1;
		b.depends_on = to_a;
		b.n_depends_on = 1;
		if ((rc = host->plan_add_step(pl, &b, err)) != 0)
			return rc;
	} else if (strcmp(m, "fail") == 0) {
		return host->fail(err, PETAL_EIO, "misbehave: failing on purpose");
	} else if (strcmp(m, "bad-stage") == 0) {
		a.stage = "compile";
	} else if (strcmp(m, "late-stage") == 0) {
		a.after_stages = ready;
		a.n_after_stages = 1;
	} else if (strcmp(m, "other-dep") == 0) {
		a.depends_on = to_boot;
		a.n_depends_on = 1;
	} else if (strcmp(m, "optional-dep") == 0) {
		a.depends_on = to_maybe_boot;
		a.n_depends_on = 1;
	} else if (strcmp(m, "bad-part") == 0) {
		a.action = &bad_part;
	} else if (strcmp(m, "no-type") == 0) {
		a.action = &no_type;
	} else if (strcmp(m, "not-once") == 0) {
		a.stage = PETAL_STAGE_IMAGE_BUILD;
	}
	return host->plan_add_step(pl, &a, err);
}

static const struct petal_tier_ops mb_ops = {
	.size = sizeof(struct petal_tier_ops),
	.claim = mb_claim,
	.plan = mb_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "misbehave",
	.version = "0",
	.summary = "a tier that breaks the planning rules on purpose (tests only)",
	.rank = 5,
	.init = mb_init,
	.ops.tier = &mb_ops,
};
