/* IAM: a build instance's role, its inline policy scoped to object
 * prefixes, and the instance profile that carries it (see iam.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ec2_query.h"
#include "iam.h"
#include "s3.h"

int aws_iam_name_check(const char *name, struct petal_error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > IAM_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                 "0123456789+=,.@_-") != n)
		return ec2_fail(err, PETAL_EINVAL, "IAM: role name '%.80s' is not 1 to %d of "
		                "[A-Za-z0-9+=,.@_-]", name ? name : "", IAM_NAME_MAX);
	return 0;
}

/* The partition's ARN prefix and EC2's service principal, by region. */
static const char *arn_partition(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}

static const char *ec2_principal(const char *region)
{
	return strncmp(region, "cn-", 3) == 0 ? "ec2.amazonaws.com.cn" : "ec2.amazonaws.com";
}

/* ec2_open for IAM: the same context and forms, IAM's global endpoint. */
static int iam_open(struct ec2 *e, void *ctx, const char *what, struct petal_error *err)
{
	int rc = ec2_open(e, ctx, NULL, what, err);
	if (rc != 0)
		return rc;
	e->service = AWS_SVC_IAM;
	e->region = aws_endpoint(e->cfg, AWS_SVC_IAM)->signing_region;
	return 0;
}

/* One call whose answer is not needed; AWS's `done_code` (EntityAlreadyExists,
   NoSuchEntity) means what was asked holds already.  Clears the form. */
static int iam_do(struct ec2 *e, struct ec2_form *f, const char *done_code,
                  struct petal_error *err)
{
	const char *action = f->action;
	struct xml_node *doc = NULL;
	int rc = ec2_call(e, f, 1, &doc, err);
	ec2_form_clear(f);
	xml_free(doc);
	if (rc != 0 && done_code && strcmp(e->code, done_code) == 0) {
		EC2_DEBUG(e, "iam: %s: %s, taken as done", action, done_code);
		return 0;
	}
	return rc;
}

static void form_tags(struct ec2_form *f, const struct petal_tag *tags, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ec2_form_addf(f, tags[i].key, "Tags.member.%zu.Key", i + 1);
		ec2_form_addf(f, tags[i].value ? tags[i].value : "", "Tags.member.%zu.Value", i + 1);
	}
}

/* {"Version": "2012-10-17", "Statement": [ ... ]}, serialized; NULL without
   memory. */
static char *policy_doc(json_t *statements)
{
	json_t *doc = json_pack("{s:s, s:o}", "Version", "2012-10-17", "Statement", statements);
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return s;
}

static char *trust_doc(const char *region)
{
	return policy_doc(json_pack("[{s:s, s:{s:s}, s:s}]", "Effect", "Allow", "Principal",
	                            "Service", ec2_principal(region), "Action", "sts:AssumeRole"));
}

/* Objects under each prefix, and listing them.  A prefix's trailing '/' is
   dropped, then "/" and a '*' added: s3://b/runs/r-1/ allows the objects
   arn:aws:s3:::b/runs/r-1/ + '*' and ListBucket of b with s3:prefix
   "runs/r-1/" + '*'; s3://b is the whole bucket. */
static char *scope_doc(const char *region, const struct s3_url *u, size_t n)
{
	const char *part = arn_partition(region);
	json_t *objects = json_array(), *statements = json_array();
	int bad = !objects || !statements;
	for (size_t i = 0; !bad && i < n; i++) {
		size_t kl = strlen(u[i].key);
		while (kl && u[i].key[kl - 1] == '/')
			kl--;
		char arn[1400], like[1100];
		snprintf(like, sizeof(like), "%.*s%s*", (int)kl, u[i].key, kl ? "/" : "");
		snprintf(arn, sizeof(arn), "arn:%s:s3:::%s/%s", part, u[i].bucket, like);
		bad |= json_array_append_new(objects, json_string(arn)) != 0;
		snprintf(arn, sizeof(arn), "arn:%s:s3:::%s", part, u[i].bucket);
		json_t *list = kl ? json_pack("{s:s, s:s, s:s, s:{s:{s:[s]}}}", "Effect", "Allow",
		                              "Action", "s3:ListBucket", "Resource", arn,
		                              "Condition", "StringLike", "s3:prefix", like)
		                  : json_pack("{s:s, s:s, s:s}", "Effect", "Allow", "Action",
		                              "s3:ListBucket", "Resource", arn);
		bad |= json_array_append_new(statements, list) != 0;
	}
	json_t *obj = bad ? NULL
	                  : json_pack("{s:s, s:[s,s,s], s:O}", "Effect", "Allow", "Action",
	                              "s3:GetObject", "s3:PutObject", "s3:DeleteObject",
	                              "Resource", objects);
	json_decref(objects);
	if (!obj || json_array_insert_new(statements, 0, obj) != 0) {
		json_decref(statements);
		return NULL;
	}
	return policy_doc(statements);
}

/* Is the role already in its profile (a profile holds one role at most)? */
static int profile_holds(struct ec2 *e, const char *name, int *holds, struct petal_error *err)
{
	struct ec2_form f;
	ec2_form_init_api(&f, "GetInstanceProfile", IAM_API_VERSION);
	ec2_form_add(&f, "InstanceProfileName", name);
	struct xml_node *doc;
	int rc = ec2_call(e, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0)
		return rc;
	*holds = 0;
	for (const struct xml_node *m =
	             xml_find(doc, "GetInstanceProfileResult/InstanceProfile/Roles/member");
	     m; m = xml_next(m)) {
		const char *role = xml_text(m, "RoleName");
		*holds |= role && strcmp(role, name) == 0;
	}
	xml_free(doc);
	return 0;
}

static int create_in(struct ec2 *e, const char *name, const char *trust, const char *scope,
                     const struct petal_tag *tags, size_t n_tags, struct petal_error *err)
{
	struct ec2_form f;
	ec2_form_init_api(&f, "CreateRole", IAM_API_VERSION);
	ec2_form_add(&f, "RoleName", name);
	ec2_form_add(&f, "AssumeRolePolicyDocument", trust);
	ec2_form_add(&f, "Description", "petal build instance: the run's objects only");
	form_tags(&f, tags, n_tags);
	int rc = iam_do(e, &f, "EntityAlreadyExists", err);
	if (rc != 0)
		return rc;

	ec2_form_init_api(&f, "PutRolePolicy", IAM_API_VERSION);
	ec2_form_add(&f, "RoleName", name);
	ec2_form_add(&f, "PolicyName", IAM_POLICY_NAME);
	ec2_form_add(&f, "PolicyDocument", scope);
	if ((rc = iam_do(e, &f, NULL, err)) != 0)
		return rc;

	ec2_form_init_api(&f, "CreateInstanceProfile", IAM_API_VERSION);
	ec2_form_add(&f, "InstanceProfileName", name);
	form_tags(&f, tags, n_tags);
	if ((rc = iam_do(e, &f, "EntityAlreadyExists", err)) != 0)
		return rc;

	int holds = 0;
	if ((rc = profile_holds(e, name, &holds, err)) != 0 || holds)
		return rc;
	ec2_form_init_api(&f, "AddRoleToInstanceProfile", IAM_API_VERSION);
	ec2_form_add(&f, "InstanceProfileName", name);
	ec2_form_add(&f, "RoleName", name);
	return iam_do(e, &f, NULL, err);
}

int aws_access_create(void *ctx, const char *name, const char *const *prefixes,
                      size_t n_prefixes, const struct petal_tag *tags, size_t n_tags,
                      struct petal_error *err)
{
	int rc = aws_iam_name_check(name, err);
	if (rc != 0)
		return rc;
	if (n_prefixes == 0 || !prefixes)
		return ec2_fail(err, PETAL_EINVAL, "IAM %s: no object prefix to allow", name);
	if ((rc = ec2_tags_check(tags, n_tags, err)) != 0)
		return rc;
	struct s3_url *u = calloc(n_prefixes, sizeof(*u));
	if (!u)
		return ec2_fail(err, PETAL_ENOMEM, "IAM %s: out of memory", name);
	char *trust = NULL, *scope = NULL;
	for (size_t i = 0; i < n_prefixes; i++)
		if ((rc = s3_url_parse(prefixes[i], &u[i], err)) != 0) {
			ec2_err_append(err, " [the objects role %s may use]", name);
			goto out_with_urls;
		}
	struct ec2 e;
	if ((rc = iam_open(&e, ctx, "CreateRole", err)) != 0)
		goto out_with_urls;
	trust = trust_doc(e.cfg->region);
	scope = scope_doc(e.cfg->region, u, n_prefixes);
	if (!trust || !scope) {
		rc = ec2_fail(err, PETAL_ENOMEM, "IAM %s: out of memory building its policy", name);
		goto out_with_urls;
	}
	if ((rc = create_in(&e, name, trust, scope, tags, n_tags, err)) != 0)
		ec2_err_append(err, " [making role and instance profile %s]", name);
	else
		EC2_DEBUG(&e, "iam: role and instance profile %s, policy %s", name, scope);
out_with_urls:
	free(trust);
	free(scope);
	for (size_t i = 0; i < n_prefixes; i++)
		s3_url_clear(&u[i]);
	free(u);
	return rc;
}

int aws_access_delete(void *ctx, const char *name, struct petal_error *err)
{
	int rc = aws_iam_name_check(name, err);
	struct ec2 e;
	if (rc != 0 || (rc = iam_open(&e, ctx, "DeleteRole", err)) != 0)
		return rc;
	/* the order IAM needs: a role in a profile, or with a policy, is not deleted */
	static const struct {
		const char *action, *name_param;
		int role, policy;
	} steps[] = {
		{ "RemoveRoleFromInstanceProfile", "InstanceProfileName", 1, 0 },
		{ "DeleteInstanceProfile", "InstanceProfileName", 0, 0 },
		{ "DeleteRolePolicy", "RoleName", 0, 1 },
		{ "DeleteRole", "RoleName", 0, 0 },
	};
	/* a role not in its profile (stopped between CreateInstanceProfile and
	   AddRoleToInstanceProfile) is not removed from it: moto answers 500 */
	int holds = 0;
	rc = profile_holds(&e, name, &holds, err);
	if (rc != 0 && strcmp(e.code, "NoSuchEntity") != 0) {
		ec2_err_append(err, " [deleting role and instance profile %s]", name);
		return rc;
	}
	for (size_t i = holds ? 0 : 1; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct ec2_form f;
		ec2_form_init_api(&f, steps[i].action, IAM_API_VERSION);
		ec2_form_add(&f, steps[i].name_param, name);
		if (steps[i].role)
			ec2_form_add(&f, "RoleName", name);
		if (steps[i].policy)
			ec2_form_add(&f, "PolicyName", IAM_POLICY_NAME);
		if ((rc = iam_do(&e, &f, "NoSuchEntity", err)) != 0) {
			ec2_err_append(err, " [deleting role and instance profile %s]", name);
			return rc;
		}
	}
	EC2_DEBUG(&e, "iam: role and instance profile %s deleted", name);
	return 0;
}
