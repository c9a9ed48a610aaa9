/* Built for ABI 1, which ABI 2 replaced: refused, with the reason. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = 1,
	.kind = PETAL_KIND_TIER,
	.name = "abi-one",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
