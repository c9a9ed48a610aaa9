/* A `petal_plugin` symbol that is not a petal descriptor. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = 0xdeadbeefu,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "bad-magic",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
