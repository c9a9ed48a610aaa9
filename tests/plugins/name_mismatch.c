/* Installed as tier_name_mismatch.so, but calls itself something else. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "someone-else",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
