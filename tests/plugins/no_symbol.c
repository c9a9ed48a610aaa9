/* The descriptor is exported under a misspelt name: no `petal_plugin`. */
#include "testplug.h"

const struct petal_plugin petal_plugn = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "no-symbol",
	.version = "1.0",
	.ops.tier = &stub_tier_ops,
};
