/* A tier without its ops. */
#include "testplug.h"

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "null-ops",
	.version = "1.0",
	.ops.tier = NULL,
};
