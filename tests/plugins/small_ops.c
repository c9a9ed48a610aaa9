/* Tier ops whose size stops before `plan`: as if built against a header
   from before plan existed. */
#include "testplug.h"

static const struct petal_tier_ops small_ops = {
	.size = offsetof(struct petal_tier_ops, plan),
	.claim = stub_claim,
	.plan = stub_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "small-ops",
	.version = "1.0",
	.ops.tier = &small_ops,
};
