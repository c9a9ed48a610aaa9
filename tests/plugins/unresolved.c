/* Calls a function nothing defines: dlopen with RTLD_NOW must fail. */
#include "testplug.h"

int petal_test_no_such_function(void);

static int unresolved_claim(void *ctx, const struct petal_claim_env *env,
                            const struct petal_package *pkg, const char **why)
{
	(void)ctx;
	(void)env;
	(void)pkg;
	(void)why;
	return petal_test_no_such_function();
}

static const struct petal_tier_ops unresolved_ops = {
	.size = sizeof(struct petal_tier_ops),
	.claim = unresolved_claim,
	.plan = stub_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "unresolved",
	.version = "1.0",
	.ops.tier = &unresolved_ops,
};
