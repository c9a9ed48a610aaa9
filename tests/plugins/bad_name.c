/* A descriptor name outside [a-z0-9-]. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "Bad Name",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
