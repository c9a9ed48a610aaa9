/* A cloud that declares images but provides none of their functions. */
#include "testplug.h"

static const struct petal_cloud_ops lying_ops = {
	.size = sizeof(struct petal_cloud_ops),
	.caps = PETAL_CAP_IMAGES,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_CLOUD,
	.name = "lying",
	.version = "0.1",
	.ops.cloud = &lying_ops,
};
