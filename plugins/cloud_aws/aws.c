/* The aws cloud: S3 objects, EC2 build instances, AMIs, ParallelCluster and
 * ECR logins.  Its capability bits are what planning reads.  The context
 * (aws_ctx.h) resolves region, endpoints and credentials on first use, so
 * an offline `petal plan` that inits the cloud needs none of them. */
#include <stdio.h>

#include <petal/plugin.h>

#include "aws_ctx.h"
#include "s3.h"

#define CLOUD "aws"

static int cloud_init(const struct petal_host *host, void **ctx)
{
	struct petal_error err = { 0 };
	struct aws_ctx *c;
	int rc = aws_ctx_new(host, NULL, &c, &err);
	if (rc != 0) {
		host->log(PETAL_LOG_ERROR, CLOUD, "%s", err.msg);
		return rc;
	}
	*ctx = c;
	return 0;
}

static void cloud_fini(void *ctx)
{
	aws_ctx_free(ctx);
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

static int instance_launch(void *ctx, const struct petal_instance_request *req, struct petal_instance *out,
                           struct petal_error *err)
{
	(void)ctx;
	(void)req;
	(void)out;
	return not_yet(err, "instance_launch");
}

static int instance_describe(void *ctx, const char *id, struct petal_instance *out,
                             struct petal_error *err)
{
	(void)ctx;
	(void)id;
	(void)out;
	return not_yet(err, "instance_describe");
}

static int instance_wait(void *ctx, const char *id, const char *state, int timeout_s,
                         struct petal_error *err)
{
	(void)ctx;
	(void)id;
	(void)state;
	(void)timeout_s;
	return not_yet(err, "instance_wait");
}

static int instance_logs(void *ctx, const char *id, petal_text_cb cb, void *arg,
                         struct petal_error *err)
{
	(void)ctx;
	(void)id;
	(void)cb;
	(void)arg;
	return not_yet(err, "instance_logs");
}

static int instance_terminate(void *ctx, const char *id,
                              struct petal_error *err)
{
	(void)ctx;
	(void)id;
	return not_yet(err, "instance_terminate");
}

static int image_create(void *ctx, const char *instance_id, const char *name, const struct petal_tag *tags, size_t n_tags, struct petal_image *out,
                        struct petal_error *err)
{
	(void)ctx;
	(void)instance_id;
	(void)name;
	(void)tags;
	(void)n_tags;
	(void)out;
	return not_yet(err, "image_create");
}

static int image_find(void *ctx, const char *tag_key, const char *tag_value, const char *name, struct petal_image *out,
                      struct petal_error *err)
{
	(void)ctx;
	(void)tag_key;
	(void)tag_value;
	(void)name;
	(void)out;
	return not_yet(err, "image_find");
}

static int image_list(void *ctx, const char *tag_key, int (*cb)(void *arg, const struct petal_image *img), void *arg,
                      struct petal_error *err)
{
	(void)ctx;
	(void)tag_key;
	(void)cb;
	(void)arg;
	return not_yet(err, "image_list");
}

static int image_copy(void *ctx, const char *image_id, const char *src_region, const char *dst_region, struct petal_image *out,
                      struct petal_error *err)
{
	(void)ctx;
	(void)image_id;
	(void)src_region;
	(void)dst_region;
	(void)out;
	return not_yet(err, "image_copy");
}

static int image_wait(void *ctx, const char *image_id, int timeout_s,
                      struct petal_error *err)
{
	(void)ctx;
	(void)image_id;
	(void)timeout_s;
	return not_yet(err, "image_wait");
}

static int image_delete(void *ctx, const char *image_id,
                        struct petal_error *err)
{
	(void)ctx;
	(void)image_id;
	return not_yet(err, "image_delete");
}

static int cluster_create(void *ctx, const char *name, const char *config_path,
                          struct petal_error *err)
{
	(void)ctx;
	(void)name;
	(void)config_path;
	return not_yet(err, "cluster_create");
}

static int cluster_describe(void *ctx, const char *name, char *status, size_t status_len,
                            struct petal_error *err)
{
	(void)ctx;
	(void)name;
	(void)status;
	(void)status_len;
	return not_yet(err, "cluster_describe");
}

static int cluster_delete(void *ctx, const char *name,
                          struct petal_error *err)
{
	(void)ctx;
	(void)name;
	return not_yet(err, "cluster_delete");
}

static int registry_login(void *ctx, const char *registry, const char *auth_path,
                          struct petal_error *err)
{
	(void)ctx;
	(void)registry;
	(void)auth_path;
	return not_yet(err, "registry_login");
}

static const struct petal_cloud_ops cloud_ops = {
	.size = sizeof(struct petal_cloud_ops),
	.caps = PETAL_CAP_OBJECTS | PETAL_CAP_COMPUTE | PETAL_CAP_IMAGES |
	        PETAL_CAP_CLUSTER | PETAL_CAP_REGISTRY,

	.bucket_ensure = s3_bucket_ensure,
	.object_put = s3_object_put,
	.object_get = s3_object_get,
	.object_head = s3_object_head,
	.object_list = s3_object_list,
	.object_delete = s3_object_delete,
	.instance_launch = instance_launch,
	.instance_describe = instance_describe,
	.instance_wait = instance_wait,
	.instance_logs = instance_logs,
	.instance_terminate = instance_terminate,
	.image_create = image_create,
	.image_find = image_find,
	.image_list = image_list,
	.image_copy = image_copy,
	.image_wait = image_wait,
	.image_delete = image_delete,
	.cluster_create = cluster_create,
	.cluster_describe = cluster_describe,
	.cluster_delete = cluster_delete,
	.registry_login = registry_login,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_CLOUD,
	.name = CLOUD,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "Amazon Web Services: S3, EC2, AMIs, ParallelCluster, ECR",
	.init = cloud_init,
	.fini = cloud_fini,
	.ops.cloud = &cloud_ops,
};
