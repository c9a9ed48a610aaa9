/* EC2 for the aws cloud: build instances and machine images (AMIs).
 *
 * The aws_instance_* and aws_image_* functions have exactly the signatures
 * of struct petal_cloud_ops's compute and image members, with ctx a
 * struct aws_ctx *, so aws.c puts them straight into the ops table:
 *
 *	.instance_launch = aws_instance_launch, ... .image_delete = aws_image_delete,
 *
 * Every call is EC2's query API (POST, form-encoded, Version 2016-11-15)
 * through aws_request(); answers are read with xml.h; every call that can
 * page follows nextToken; errors carry AWS's code, message and request id.
 * Output structs are size-prefixed: the caller sets out->size and only
 * members within it are written.
 *
 * Regions: everything runs in the context's region, except image_copy,
 * which is sent to its destination region (CopyImage is a call of the
 * destination with SourceRegion).
 */
#ifndef PETAL_AWS_EC2_H
#define PETAL_AWS_EC2_H

#include <petal/plugin.h>

struct aws_ctx;

#define EC2_HIDDEN __attribute__((visibility("hidden")))

/* ---- compute (ec2.c) -------------------------------------------------------- */

/* RunInstances: one instance of req->instance_type from req->image_id (an
   id, or a name resolved as aws_resolve_ami does), user data base64-encoded
   (at most 16 KiB of script), req->tags on the instance and its volumes,
   the instance profile by name, the root volume (gp3, deleted with the
   instance) sized req->root_volume_gb on the image's root device, subnet,
   key pair, and with req->spot a one-time spot request that terminates on
   interruption.  The instance metadata service answers IMDSv2 only, with
   a hop limit of 2 so that containers on the instance reach it.  A client
   token makes the call safe to retry.  out: the instance as launched
   (state "pending" on real AWS). */
EC2_HIDDEN int aws_instance_launch(void *ctx, const struct petal_instance_request *req,
                                   struct petal_instance *out, struct petal_error *err);

/* DescribeInstances for one id; PETAL_ENOENT when EC2 does not know it. */
EC2_HIDDEN int aws_instance_describe(void *ctx, const char *id, struct petal_instance *out,
                                     struct petal_error *err);

/* Every live instance tagged key=value (DescribeInstances with filters,
   pending to stopped), to cb; its non-zero stops and is returned. */
EC2_HIDDEN int aws_instance_list(void *ctx, const char *tag_key, const char *tag_value,
                                 int (*cb)(void *arg, const struct petal_instance *inst),
                                 void *arg, struct petal_error *err);

/* GetConsoleOutput, base64-decoded, handed to cb in pieces of at most
   4 KiB; cb's non-zero return stops and is returned.  No output yet (a
   fresh instance) calls cb never and returns 0. */
EC2_HIDDEN int aws_instance_logs(void *ctx, const char *id, uint64_t offset,
                                 petal_text_cb cb, void *arg, struct petal_error *err);

/* TerminateInstances for one id (safe to repeat). */
EC2_HIDDEN int aws_instance_terminate(void *ctx, const char *id, struct petal_error *err);

/* ---- images (ec2_images.c) -------------------------------------------------- */

/* CreateImage from an instance without rebooting it, tags on the image. */
EC2_HIDDEN int aws_image_create(void *ctx, const char *instance_id, const char *name,
                                const struct petal_tag *tags, size_t n_tags,
                                struct petal_image *out, struct petal_error *err);

/* The newest image owned by this account with tag tag_key=tag_value
   (tag_value NULL: any value) and/or named `name` (EC2's wildcards * and ?
   allowed), skipping failed ones; PETAL_ENOENT when none. */
EC2_HIDDEN int aws_image_find(void *ctx, const char *tag_key, const char *tag_value,
                              const char *name, struct petal_image *out,
                              struct petal_error *err);

/* Every image owned by this account (with tag tag_key when not NULL),
   page by page; cb's non-zero return stops and is returned. */
EC2_HIDDEN int aws_image_list(void *ctx, const char *tag_key,
                              int (*cb)(void *arg, const struct petal_image *img),
                              void *arg, struct petal_error *err);

/* CopyImage, sent to dst_region with SourceRegion src_region (either NULL:
   the context's region); the copy gets the source's name and its tags
   (CreateTags in dst_region).  out: the copy, in dst_region, usually
   pending: the core polls for it there (core/cloud).  Names are unique per account and
   region, so look for an earlier copy first (image_find in dst_region):
   EC2 refuses a second one (InvalidAMIName.Duplicate). */
EC2_HIDDEN int aws_image_copy(void *ctx, const char *image_id, const char *src_region,
                              const char *dst_region, struct petal_image *out,
                              struct petal_error *err);


/* DeregisterImage, then DeleteSnapshot of every EBS snapshot in its block
   device mappings (a snapshot already gone is not an error).  Refuses
   images owned by Amazon or the Marketplace. */
EC2_HIDDEN int aws_image_delete(void *ctx, const char *image_id, struct petal_error *err);

/* CreateTags of tags on the image and every snapshot its EBS mappings name
   (CreateImage's and CopyImage's tags reach the image only); repeatable. */
EC2_HIDDEN int aws_image_tag(void *ctx, const char *image_id, const struct petal_tag *tags,
                             size_t n_tags, struct petal_error *err);

/* Every image of `owner` (self, amazon, aws-marketplace or a 12-digit
   account id) whose name matches name_pattern (EC2's * and ?), available
   or pending, deprecated ones included (IncludeDeprecated=true), page by
   page; cb's non-zero return stops and is returned. */
EC2_HIDDEN int aws_image_search(void *ctx, const char *owner, const char *name_pattern,
                                int (*cb)(void *arg, const struct petal_image *img),
                                void *arg, struct petal_error *err);

/* DescribeRegions: the regions enabled for this account in the context's
   partition (aws, aws-cn, aws-us-gov), one name to cb at a time; cb's
   non-zero return stops and is returned. */
EC2_HIDDEN int aws_region_list(void *ctx, int (*cb)(void *arg, const char *region),
                               void *arg, struct petal_error *err);

/* ---- clusters (pcluster.c) ------------------------------------------------------ */

/* ParallelCluster's CLI: $PETAL_PCLUSTER, else `pcluster` on PATH, run with
   a fixed argument vector and --region of the context; its JSON read with
   jansson (plugin.h, "cluster"). */
EC2_HIDDEN int aws_cluster_create(void *ctx, const struct petal_cluster_request *req,
                                  petal_message_cb cb, void *arg, struct petal_cluster *out,
                                  struct petal_error *err);
EC2_HIDDEN int aws_cluster_describe(void *ctx, const char *name, struct petal_cluster *out,
                                    struct petal_error *err);
EC2_HIDDEN int aws_cluster_delete(void *ctx, const char *name, struct petal_error *err);
EC2_HIDDEN int aws_cluster_list(void *ctx, int (*cb)(void *arg, const struct petal_cluster *c),
                                void *arg, struct petal_error *err);
EC2_HIDDEN int aws_cluster_tool(void *ctx, char *version, size_t version_len, char *path,
                                size_t path_len, struct petal_error *err);

/* ---- custom_ami ------------------------------------------------------------- */

/* Is s an AMI id (^ami-([0-9a-f]{8}|[0-9a-f]{17})$)?  "ami-base-bio-v2" is
   a name. */
EC2_HIDDEN int aws_ami_id_valid(const char *s);

/* Resolve a seed's custom_ami in the context's region.  An id is looked up
   as is (any owner: it is unambiguous).  A name (wildcards * and ? allowed)
   is looked up among the images this account owns, then among Amazon's;
   images shared by or published by anyone else are never matched by name,
   so nobody can slip an image in under a wanted name: give those by id.
   Several matches: the newest that has not failed.  None: PETAL_ENOENT
   naming the region.  out->arch is EC2's architecture (x86_64, arm64,
   i386, x86_64_mac, arm64_mac) for the planner to check against the
   instance types; out->region is the region searched. */
EC2_HIDDEN int aws_resolve_ami(struct aws_ctx *c, const char *id_or_name,
                               struct petal_image *out, struct petal_error *err);

#endif /* PETAL_AWS_EC2_H */
