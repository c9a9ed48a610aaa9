/* A well-formed tier whose name and rank come from the build (PLUGIN_NAME,
   PLUGIN_RANK), to check the order tiers are asked in. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = PLUGIN_NAME,
	.version = "1.0",
	.rank = PLUGIN_RANK,
	.ops.tier = &stub_tier_ops,
};
