/* IAM for the aws cloud: the identity a build instance carries.
 *
 * aws_access_create and aws_access_delete have exactly the signatures of
 * struct petal_cloud_ops's access_create and access_delete, with ctx a
 * struct aws_ctx *.  IAM is a query API like EC2's (POST, form-encoded,
 * Version 2010-05-08, XML answers, errors as <ErrorResponse>), sent through
 * ec2_call to IAM's one global endpoint (AWS_SVC_IAM in aws_config.c).
 */
#ifndef PETAL_AWS_IAM_H
#define PETAL_AWS_IAM_H

#include <stddef.h>

#include <petal/plugin.h>

#include "ec2.h"

#define IAM_API_VERSION "2010-05-08"
#define IAM_NAME_MAX 64 /* a role's name; an instance profile's may be longer */
#define IAM_POLICY_NAME "petal-objects"

/* A role `name` trusted by ec2.amazonaws.com with the inline policy
   IAM_POLICY_NAME (s3:GetObject, PutObject, DeleteObject on each prefix's
   objects, s3:ListBucket on its bucket with an s3:prefix condition), and an
   instance profile `name` holding it; role and profile carry `tags`.  What
   exists already (EntityAlreadyExists, the role in the profile) is taken
   as is; the policy is put again.  PETAL_EINVAL for a bad name or prefix. */
EC2_HIDDEN int aws_access_create(void *ctx, const char *name, const char *const *prefixes,
                                 size_t n_prefixes, const struct petal_tag *tags,
                                 size_t n_tags, struct petal_error *err);
/* Remove the role from the profile, delete the profile, the inline policy
   and the role; NoSuchEntity at any step counts as done. */
EC2_HIDDEN int aws_access_delete(void *ctx, const char *name, struct petal_error *err);

/* Is `name` an IAM role name: 1 to 64 of [A-Za-z0-9+=,.@_-]?  0, or
   PETAL_EINVAL naming the rule. */
EC2_HIDDEN int aws_iam_name_check(const char *name, struct petal_error *err);

#endif /* PETAL_AWS_IAM_H */
