/* A kind petal does not know. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = 7,
	.name = "unknown-kind",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
