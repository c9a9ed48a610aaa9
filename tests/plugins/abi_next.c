/* Built for the next, incompatible ABI. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI + 1,
	.kind = PETAL_KIND_TIER,
	.name = "abi-next",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
