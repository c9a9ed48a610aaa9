/* Tier ops of the right size without a claim function. */
#include "testplug.h"

static const struct petal_tier_ops no_claim_ops = {
	.size = sizeof(struct petal_tier_ops),
	.plan = stub_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "no-claim",
	.version = "1.0",
	.ops.tier = &no_claim_ops,
};
