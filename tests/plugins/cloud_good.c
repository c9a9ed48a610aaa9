/* A well-formed cloud, "cloudy", offering objects only. */
#include "testplug.h"

static int put(void *ctx, const char *url, const char *local, struct petal_error *err)
{
	(void)ctx; (void)url; (void)local; (void)err;
	return PETAL_ENOTSUP;
}

static int head(void *ctx, const char *url, struct petal_object_info *info,
                struct petal_error *err)
{
	(void)ctx; (void)url; (void)info; (void)err;
	return PETAL_ENOENT;
}

static int list(void *ctx, const char *prefix, petal_object_cb cb, void *arg,
                struct petal_error *err)
{
	(void)ctx; (void)prefix; (void)cb; (void)arg; (void)err;
	return 0;
}

static int delete(void *ctx, const char *const *urls, size_t n, struct petal_error *err)
{
	(void)ctx; (void)urls; (void)n; (void)err;
	return 0;
}

static const struct petal_cloud_ops cloudy_ops = {
	.size = sizeof(struct petal_cloud_ops),
	.caps = PETAL_CAP_OBJECTS,
	.object_put = put,
	.object_get = put,
	.object_head = head,
	.object_list = list,
	.object_delete = delete,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_CLOUD,
	.name = "cloudy",
	.version = "0.1",
	.ops.cloud = &cloudy_ops,
};
