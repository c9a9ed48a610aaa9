/* The aws cloud: S3 objects, EC2 build instances and their IAM roles, AMIs,
 * ParallelCluster and ECR logins.  Its capability bits are what planning reads.  The context
 * (aws_ctx.h) resolves region, endpoints and credentials on first use, so
 * an offline `petal plan` that inits the cloud needs none of them. */
#include <stdio.h>

#include <petal/plugin.h>

#include "aws_ctx.h"
#include "ec2.h"
#include "iam.h"
#include "s3.h"

#define CLOUD "aws"

static int cloud_init(const struct petal_host *host, void **ctx)
{
	struct petal_error err = { 0 };
	struct aws_ctx *c;
	int rc = aws_ctx_new(host, NULL, &c, &err);
	if (rc != 0) {
		host->log(host, PETAL_LOG_ERROR, CLOUD, "%s", err.msg);
		return rc;
	}
	*ctx = c;
	return 0;
}

static void cloud_fini(void *ctx)
{
	aws_ctx_free(ctx);
}

static const struct petal_cloud_ops cloud_ops = {
	.size = sizeof(struct petal_cloud_ops),
	/* only what works: no registry op yet (its pointer stays NULL, and a
	   tier that needs it declines) */
	.caps = PETAL_CAP_OBJECTS | PETAL_CAP_COMPUTE | PETAL_CAP_IMAGES | PETAL_CAP_CLUSTER,

	.bucket_ensure = s3_bucket_ensure,
	.object_put = s3_object_put,
	.object_get = s3_object_get,
	.object_head = s3_object_head,
	.object_list = s3_object_list,
	.object_delete = s3_object_delete,
	.instance_launch = aws_instance_launch,
	.instance_describe = aws_instance_describe,
	.instance_list = aws_instance_list,
	.instance_logs = aws_instance_logs,
	.instance_terminate = aws_instance_terminate,
	.image_create = aws_image_create,
	.image_find = aws_image_find,
	.image_list = aws_image_list,
	.image_copy = aws_image_copy,
	.image_delete = aws_image_delete,
	.cluster_create = aws_cluster_create,
	.cluster_describe = aws_cluster_describe,
	.cluster_delete = aws_cluster_delete,
	.cluster_list = aws_cluster_list,
	.cluster_tool = aws_cluster_tool,
	.image_search = aws_image_search,
	.region_list = aws_region_list,
	.image_tag = aws_image_tag,
	.access_create = aws_access_create,
	.access_delete = aws_access_delete,
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
