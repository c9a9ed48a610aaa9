/* The local cloud: objects as files under file:// URLs, and nothing else (no
 * build instances, images or clusters), so tiers needing those decline and
 * plans fall back to tiers that do not.  The object operations come with the
 * network issue; until then each one says so. */
#include <stdio.h>

#include <petal/plugin.h>

#define CLOUD "local"

/* ctx is the host table: all a stub needs. */
static int cloud_init(const struct petal_host *host, void **ctx)
{
	*ctx = (void *)host;
	return 0;
}

static void cloud_fini(void *ctx)
{
	(void)ctx;
}

static int not_yet(struct petal_error *err, const char *op)
{
	if (err) {
		err->code = PETAL_ENOTSUP;
		snprintf(err->msg, sizeof(err->msg),
		         "cloud '" CLOUD "': %s is not implemented yet in this build", op);
	}
	return PETAL_ENOTSUP;
}

static int bucket_ensure(void *ctx, const char *url, const char *region,
                         struct petal_error *err)
{
	(void)ctx;
	(void)url;
	(void)region;
	return not_yet(err, "bucket_ensure");
}

static int object_put(void *ctx, const char *url, const char *local_path,
                      struct petal_error *err)
{
	(void)ctx;
	(void)url;
	(void)local_path;
	return not_yet(err, "object_put");
}

static int object_get(void *ctx, const char *url, const char *local_path,
                      struct petal_error *err)
{
	(void)ctx;
	(void)url;
	(void)local_path;
	return not_yet(err, "object_get");
}

static int object_head(void *ctx, const char *url, struct petal_object_info *info,
                       struct petal_error *err)
{
	(void)ctx;
	(void)url;
	(void)info;
	return not_yet(err, "object_head");
}

static int object_list(void *ctx, const char *url_prefix, petal_object_cb cb, void *arg,
                       struct petal_error *err)
{
	(void)ctx;
	(void)url_prefix;
	(void)cb;
	(void)arg;
	return not_yet(err, "object_list");
}

static int object_delete(void *ctx, const char *const *urls, size_t n,
                         struct petal_error *err)
{
	(void)ctx;
	(void)urls;
	(void)n;
	return not_yet(err, "object_delete");
}

static const struct petal_cloud_ops cloud_ops = {
	.size = sizeof(struct petal_cloud_ops),
	.caps = PETAL_CAP_OBJECTS,

	.bucket_ensure = bucket_ensure,

	.object_put = object_put,

	.object_get = object_get,

	.object_head = object_head,

	.object_list = object_list,

	.object_delete = object_delete,

};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_CLOUD,
	.name = CLOUD,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "this machine: objects as files; no instances, images or clusters",
	.init = cloud_init,
	.fini = cloud_fini,
	.ops.cloud = &cloud_ops,
};
