/* The aws plugin's access_create and access_delete (plugins/cloud_aws/iam.c)
   against moto_server with signature checking, checked with the aws CLI
   talking to moto directly. */
#include "config.h"

#include <CUnit/Basic.h>
#include <string.h>

#include "ec2test.h"

#define ROLE "petal-build-r-20250101-000000-ab12"

/* The bad names and prefixes are refused before anything is sent. */
void test_access_refusals(void)
{
	const char *prefixes[] = { "s3://art/runs/r-1/" };
	struct petal_error err = { 0 };
	static const char *const bad[] = {
		"", "has space", "slash/in/it", "colon:no",
		/* 66 characters: two past IAM's 64 */
		"x12345678901234567890123456789012345678901234567890123456789012345",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(OPS->access_create(E.east, bad[i], prefixes, 1, NULL, 0, &err),
		                PETAL_EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "1 to 64 of [A-Za-z0-9+=,.@_-]"));
		CU_ASSERT_EQUAL(OPS->access_delete(E.east, bad[i], &err), PETAL_EINVAL);
	}
	/* 64 characters of every allowed kind is a name (refused for its prefix) */
	const char *longest = "aZ09+=,.@_-45678901234567890123456789012345678901234567890123456";
	CU_ASSERT_EQUAL(strlen(longest), 64);
	const char *not_s3[] = { "https://art/runs/" };
	CU_ASSERT_EQUAL(OPS->access_create(E.east, longest, not_s3, 1, NULL, 0, &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "is not an S3 URL"));
	CU_ASSERT_EQUAL(OPS->access_create(E.east, longest, NULL, 0, NULL, 0, &err), PETAL_EINVAL);
	char out[256];
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-role --role-name %s", longest), 0);
}

void test_access_create_delete(void)
{
	const char *prefixes[] = { "s3://art/runs/r-1/", "s3://cache/spack" };
	const struct petal_tag tags[] = { { "petal:run", "r-1" }, { "petal:step", "ami" } };
	struct petal_error err = { 0 };
	int rc = OPS->access_create(E.east, ROLE, prefixes, 2, tags, 2, &err);
	if (rc)
		fprintf(stderr, "\n  access_create: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	/* again: what is there is taken, not an error */
	CU_ASSERT_EQUAL(OPS->access_create(E.east, ROLE, prefixes, 2, tags, 2, &err), 0);

	char out[4096];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam get-role --role-name %s --query "
	                    "'Role.AssumeRolePolicyDocument.Statement[0].Principal.Service'",
	                    ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, "ec2.amazonaws.com");
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam list-role-tags --role-name %s --query "
	                    "'Tags[?Key==`petal:run`].Value'", ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, "r-1");
	/* the policy names exactly the two prefixes */
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam get-role-policy --role-name %s "
	                    "--policy-name petal-objects --query "
	                    "'PolicyDocument.Statement[0].[Action,Resource]'", ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, "s3:GetObject\ts3:PutObject\ts3:DeleteObject\n"
	                       "arn:aws:s3:::art/runs/r-1/*\tarn:aws:s3:::cache/spack/*");
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam get-role-policy --role-name %s "
	                    "--policy-name petal-objects --query "
	                    "'PolicyDocument.Statement[1:].[Action,Resource,"
	                    "Condition.StringLike.\"s3:prefix\"[0]]'", ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, "s3:ListBucket\tarn:aws:s3:::art\truns/r-1/*\n"
	                       "s3:ListBucket\tarn:aws:s3:::cache\tspack/*");
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam list-role-policies --role-name %s "
	                    "--query 'length(PolicyNames)'", ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, "1");
	/* one profile of that name, holding the role once (made twice) */
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "iam get-instance-profile "
	                    "--instance-profile-name %s --query "
	                    "'InstanceProfile.Roles[].RoleName'", ROLE), 0);
	CU_ASSERT_STRING_EQUAL(out, ROLE);

	CU_ASSERT_EQUAL(OPS->access_delete(E.east, ROLE, &err), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-role --role-name %s", ROLE), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-instance-profile "
	                        "--instance-profile-name %s", ROLE), 0);
	/* again, and half gone: a profile without its role */
	CU_ASSERT_EQUAL(OPS->access_delete(E.east, ROLE, &err), 0);
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 1, "iam create-instance-profile "
	                          "--instance-profile-name %s", ROLE), 0);
	CU_ASSERT_EQUAL(OPS->access_delete(E.east, ROLE, &err), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-instance-profile "
	                        "--instance-profile-name %s", ROLE), 0);
	/* stopped before AddRoleToInstanceProfile: a role and an empty profile */
	CU_ASSERT_EQUAL_FATAL(OPS->access_create(E.east, ROLE, prefixes, 2, tags, 2, &err), 0);
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 1, "iam remove-role-from-instance-profile "
	                          "--instance-profile-name %s --role-name %s", ROLE, ROLE), 0);
	rc = OPS->access_delete(E.east, ROLE, &err);
	if (rc)
		fprintf(stderr, "\n  access_delete: %s\n", err.msg);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-role --role-name %s", ROLE), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 0, "iam get-instance-profile "
	                        "--instance-profile-name %s", ROLE), 0);
}
