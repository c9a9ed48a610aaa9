/* plugins/cloud_aws/aws_config.c: the shared INI files, the region's order of
   precedence, every service's endpoint and S3 addressing. */
#define _GNU_SOURCE /* nftw, setenv */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugins/cloud_aws/aws_config.h"
#include "aws/awstest.h"

#define SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzzSECRETzz"

/* ---- INI --------------------------------------------------------------------- */

static void test_ini(void)
{
	awstest_fresh();
	const char *path = awstest_write(".aws/config",
		"# a comment\n"
		"; another\n"
		"\n"
		"[default]\n"
		"region = us-east-1\n"
		"\n"
		"[profile   dev ]   # trailing comment\r\n"
		"  Region=eu-west-1  \r\n"
		"output: json\n"
		"s3 =\n"
		"    addressing_style = path\n"
		"    max_concurrent_requests = 20\n"
		"region = eu-west-2\n"
		"[dev]\n"
		"region = not-this-one\n"
		"[profile other]\n"
		"region = ap-south-1\n");
	struct aws_profile p;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_profile_read(path, AWS_FILE_CONFIG, "dev", &p, &err), 0);
	CU_ASSERT_TRUE(p.found);
	/* keys are case-insensitive, a later line wins, ':' separates too */
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "region"), "eu-west-2");
	CU_ASSERT_EQUAL(aws_profile_line(&p, "region"), 13);
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "output"), "json");
	/* indented lines under "s3 =" are sub-properties */
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "s3.addressing_style"), "path");
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "s3.max_concurrent_requests"), "20");
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "s3"), "");
	CU_ASSERT_PTR_NULL(aws_profile_get(&p, "addressing_style"));
	aws_profile_clear(&p);

	/* in the credentials file, [dev] is the profile; [profile dev] is not */
	CU_ASSERT_EQUAL_FATAL(aws_profile_read(path, AWS_FILE_CREDENTIALS, "dev", &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "region"), "not-this-one");
	aws_profile_clear(&p);
	CU_ASSERT_EQUAL_FATAL(aws_profile_read(path, AWS_FILE_CONFIG, "default", &p, &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_profile_get(&p, "region"), "us-east-1");
	aws_profile_clear(&p);
	CU_ASSERT_EQUAL_FATAL(aws_profile_read(path, AWS_FILE_CONFIG, "nobody", &p, &err), 0);
	CU_ASSERT_FALSE(p.found);
	aws_profile_clear(&p);

	/* a missing file is no profile, not an error */
	CU_ASSERT_EQUAL(aws_profile_read("/nonexistent/config", AWS_FILE_CONFIG, "default", &p,
	                                 &err), 0);
	CU_ASSERT_FALSE(p.found);
	aws_profile_clear(&p);
	aws_profile_clear(NULL);
}

/* A malformed file: file:line and what was expected, never the line. */
static void check_malformed(const char *text, int line, const char *want)
{
	const char *path = awstest_write(".aws/credentials", text);
	struct aws_profile p;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_profile_read(path, AWS_FILE_CREDENTIALS, "default", &p, &err),
	                PETAL_EINVAL);
	char where[2 * PATH_MAX];
	snprintf(where, sizeof(where), "%s:%d: ", path, line);
	if (!strstr(err.msg, where) || !strstr(err.msg, want))
		fprintf(stderr, "\n  got '%s', want '%s' and '%s'\n", err.msg, where, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, where));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	CU_ASSERT_PTR_NULL(strstr(err.msg, SECRET));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "SECRETzz"));
	aws_profile_clear(&p);
}

static void test_ini_malformed(void)
{
	awstest_fresh();
	check_malformed("[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n"
	                "aws_secret_access_key " SECRET "\n", 3, "expected '[section]'");
	check_malformed("aws_secret_access_key = " SECRET "\n[default]\n", 1,
	                "before any [section]");
	check_malformed("[default\naws_secret_access_key = " SECRET "\n", 1,
	                "'[name]' on a line of its own");
	check_malformed("[default] " SECRET "\n", 1, "'[name]' on a line of its own");
	check_malformed("[default]\n= " SECRET "\n", 2, "expected '[section]'");

	/* not a text file */
	const char *path = awstest_write(".aws/credentials", "");
	FILE *f = fopen(path, "wb");
	fwrite("[default]\n\0" SECRET, 1, 11 + sizeof(SECRET), f);
	fclose(f);
	struct aws_profile p;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_profile_read(path, AWS_FILE_CREDENTIALS, "default", &p, &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "NUL"));
	aws_profile_clear(&p);
	/* a directory */
	char dir[PATH_MAX + 8];
	snprintf(dir, sizeof(dir), "%s/.aws", awstest_home);
	CU_ASSERT_EQUAL(aws_profile_read(dir, AWS_FILE_CREDENTIALS, "default", &p, &err),
	                PETAL_EIO);
	aws_profile_clear(&p);
}

static void test_file_paths(void)
{
	const char *home = awstest_fresh();
	char want[PATH_MAX + 64];
	char *p = aws_shared_file_path(AWS_FILE_CONFIG);
	snprintf(want, sizeof(want), "%s/.aws/config", home);
	CU_ASSERT_STRING_EQUAL(p, want);
	free(p);
	p = aws_shared_file_path(AWS_FILE_CREDENTIALS);
	snprintf(want, sizeof(want), "%s/.aws/credentials", home);
	CU_ASSERT_STRING_EQUAL(p, want);
	free(p);
	setenv("AWS_CONFIG_FILE", "~/elsewhere/cfg", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/etc/petal/creds", 1);
	p = aws_shared_file_path(AWS_FILE_CONFIG);
	snprintf(want, sizeof(want), "%s/elsewhere/cfg", home);
	CU_ASSERT_STRING_EQUAL(p, want);
	free(p);
	p = aws_shared_file_path(AWS_FILE_CREDENTIALS);
	CU_ASSERT_STRING_EQUAL(p, "/etc/petal/creds");
	free(p);

	CU_ASSERT_STRING_EQUAL(aws_profile_name(), "default");
	setenv("AWS_DEFAULT_PROFILE", "old", 1);
	CU_ASSERT_STRING_EQUAL(aws_profile_name(), "old");
	setenv("AWS_PROFILE", "new", 1);
	CU_ASSERT_STRING_EQUAL(aws_profile_name(), "new");
}

/* ---- region -------------------------------------------------------------------- */

static void test_region_order(void)
{
	awstest_fresh();
	awstest_write(".aws/config", "[default]\nregion = ap-south-1\n"
	                             "[profile dev]\nregion = eu-north-1\n");
	struct aws_config cfg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.region, "ap-south-1");
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.region_source, "profile 'default'"));
	setenv("AWS_PROFILE", "dev", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "", &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.region, "eu-north-1");
	CU_ASSERT_STRING_EQUAL(cfg.profile, "dev");
	CU_ASSERT_PTR_NOT_NULL(strstr(cfg.region_source, ":4"));
	setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.region, "us-west-1");
	CU_ASSERT_STRING_EQUAL(cfg.region_source, "AWS_DEFAULT_REGION");
	setenv("AWS_REGION", "us-west-2", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, NULL, &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.region, "us-west-2");
	CU_ASSERT_STRING_EQUAL(cfg.region_source, "AWS_REGION");
	/* the seed wins over everything */
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-central-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(cfg.region, "eu-central-1");
	CU_ASSERT_STRING_EQUAL(cfg.region_source, "petal: --region or the seed's cluster.region");
}

static void test_region_errors(void)
{
	awstest_fresh();
	struct aws_config cfg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_config_load(&cfg, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no AWS region"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "AWS_REGION"));
	setenv("AWS_REGION", "eu-west-1/../x", 1);
	CU_ASSERT_EQUAL(aws_config_load(&cfg, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(from AWS_REGION) is not a region name"));
	CU_ASSERT_EQUAL(aws_config_load(&cfg, "EU-WEST-1", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "the seed"));
	/* a malformed config file is an error even when the seed names a region */
	unsetenv("AWS_REGION");
	awstest_write(".aws/config", "[default]\nregion\n");
	CU_ASSERT_EQUAL(aws_config_load(&cfg, "eu-west-1", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "config:2: "));
}

/* ---- endpoints ----------------------------------------------------------------- */

static void test_endpoint_defaults(void)
{
	awstest_fresh();
	struct aws_config cfg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	const struct aws_endpoint *s3 = aws_endpoint(&cfg, AWS_SVC_S3);
	CU_ASSERT_STRING_EQUAL(s3->url, "https://s3.eu-west-1.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(s3->host, "s3.eu-west-1.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(s3->signing_name, "s3");
	CU_ASSERT_STRING_EQUAL(s3->source, "default");
	CU_ASSERT_TRUE(s3->tls);
	CU_ASSERT_FALSE(s3->custom);
	CU_ASSERT_FALSE(s3->path_style);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_EC2)->url,
	                       "https://ec2.eu-west-1.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_ECR)->url,
	                       "https://api.ecr.eu-west-1.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_ECR)->signing_name, "ecr");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_STS)->host,
	                       "sts.eu-west-1.amazonaws.com");
	CU_ASSERT_PTR_NULL(aws_endpoint(&cfg, AWS_SVC_COUNT));
	/* IAM is global: one endpoint per partition, signed in its home region */
	const struct aws_endpoint *iam = aws_endpoint(&cfg, AWS_SVC_IAM);
	CU_ASSERT_STRING_EQUAL(iam->url, "https://iam.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(iam->signing_name, "iam");
	CU_ASSERT_STRING_EQUAL(iam->signing_region, "us-east-1");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_EC2)->signing_region, "");
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "cn-north-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_EC2)->url,
	                       "https://ec2.cn-north-1.amazonaws.com.cn");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->url,
	                       "https://iam.cn-north-1.amazonaws.com.cn");
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "cn-northwest-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->signing_region, "cn-north-1");
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "us-gov-east-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->host, "iam.us-gov.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->signing_region, "us-gov-west-1");
}

static void test_endpoint_overrides(void)
{
	awstest_fresh();
	char name[64];
	aws_endpoint_env_name("S3", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "AWS_ENDPOINT_URL_S3");
	aws_endpoint_env_name("Elastic Load Balancing v2", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2");
	aws_endpoint_env_name("sso oidc", name, sizeof(name));
	CU_ASSERT_STRING_EQUAL(name, "AWS_ENDPOINT_URL_SSO_OIDC");

	struct aws_config cfg;
	struct petal_error err = { 0 };
	awstest_write(".aws/config", "[default]\nendpoint_url = http://localhost:9000\n");
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_STS)->url, "http://localhost:9000");
	CU_ASSERT_PTR_NOT_NULL(strstr(aws_endpoint(&cfg, AWS_SVC_STS)->source,
	                              "endpoint_url of profile 'default'"));

	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/", 1);
	setenv("AWS_ENDPOINT_URL_S3", "https://minio.example.com:443/base/", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	const struct aws_endpoint *s3 = aws_endpoint(&cfg, AWS_SVC_S3);
	const struct aws_endpoint *ec2 = aws_endpoint(&cfg, AWS_SVC_EC2);
	CU_ASSERT_STRING_EQUAL(s3->url, "https://minio.example.com:443/base");
	CU_ASSERT_STRING_EQUAL(s3->host, "minio.example.com");   /* default port left out */
	CU_ASSERT_STRING_EQUAL(s3->base_path, "/base");
	CU_ASSERT_STRING_EQUAL(s3->source, "AWS_ENDPOINT_URL_S3");
	CU_ASSERT_TRUE(s3->custom && s3->path_style && s3->tls);
	CU_ASSERT_STRING_EQUAL(ec2->url, "http://127.0.0.1:5000");
	CU_ASSERT_STRING_EQUAL(ec2->host, "127.0.0.1:5000");
	CU_ASSERT_STRING_EQUAL(ec2->base_path, "");
	CU_ASSERT_STRING_EQUAL(ec2->source, "AWS_ENDPOINT_URL");
	CU_ASSERT_FALSE(ec2->tls);
	CU_ASSERT_FALSE(ec2->path_style); /* only S3 has addressing styles */

	/* IAM's own variable; still signed in us-east-1 (moto, like AWS, checks) */
	setenv("AWS_ENDPOINT_URL_IAM", "http://127.0.0.1:5001", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->url, "http://127.0.0.1:5001");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->source, "AWS_ENDPOINT_URL_IAM");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_IAM)->signing_region, "us-east-1");
	unsetenv("AWS_ENDPOINT_URL_IAM");

	setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_S3)->url,
	                       "https://s3.eu-west-1.amazonaws.com");
	CU_ASSERT_STRING_EQUAL(aws_endpoint(&cfg, AWS_SVC_STS)->source, "default");
	unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");

	setenv("AWS_ENDPOINT_URL_ECR", "ftp://example.com", 1);
	CU_ASSERT_EQUAL(aws_config_load(&cfg, "eu-west-1", &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "(from AWS_ENDPOINT_URL_ECR)"));
}

static void check_bad_url(const char *url, const char *want)
{
	struct aws_endpoint ep = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_endpoint_parse(url, &ep, &err), PETAL_EINVAL);
	if (!strstr(err.msg, want))
		fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", url, err.msg, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
}

static void test_endpoint_parse(void)
{
	struct aws_endpoint ep = { 0 };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_endpoint_parse("http://[::1]:4566", &ep, &err), 0);
	CU_ASSERT_STRING_EQUAL(ep.host, "[::1]:4566");
	CU_ASSERT_EQUAL_FATAL(aws_endpoint_parse("HTTP://Example.COM:80", &ep, &err), 0);
	CU_ASSERT_STRING_EQUAL(ep.host, "Example.COM");
	CU_ASSERT_EQUAL_FATAL(aws_endpoint_parse("https://h:8443//", &ep, &err), 0);
	CU_ASSERT_STRING_EQUAL(ep.url, "https://h:8443");
	CU_ASSERT_STRING_EQUAL(ep.host, "h:8443");
	check_bad_url("s3.amazonaws.com", "must start with http:// or https://");
	check_bad_url("http://", "has no host");
	check_bad_url("http://user:pw@host", "nothing else");
	check_bad_url("http://host/?x=1", "nothing else");
	check_bad_url("http://host:0", "bad port");
	check_bad_url("http://host:99999", "bad port");
	check_bad_url("http://host:12ab", "bad port");
	check_bad_url("http://[::1", "unclosed");
	check_bad_url("http://ho%st", "bad host");
}

/* ---- S3 addressing --------------------------------------------------------------- */

static void check_locate(const struct aws_config *cfg, const char *bucket, const char *key,
                         const char *url, const char *host, const char *path)
{
	struct aws_s3_location loc;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_s3_locate(cfg, bucket, key, &loc, &err), 0);
	if (strcmp(loc.url, url) != 0)
		fprintf(stderr, "\n  %s %s: got %s, want %s\n", bucket, key, loc.url, url);
	CU_ASSERT_STRING_EQUAL(loc.url, url);
	CU_ASSERT_STRING_EQUAL(loc.host, host);
	CU_ASSERT_STRING_EQUAL(loc.path, path);
	aws_s3_location_clear(&loc);
}

static void test_s3_locate(void)
{
	awstest_fresh();
	struct aws_config cfg;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	/* AWS: virtual-hosted, key encoded once with its slashes */
	check_locate(&cfg, "petal-cache", "build_cache/my key \xe1\x88\xb4+.json",
	             "https://petal-cache.s3.eu-west-1.amazonaws.com/build_cache/"
	             "my%20key%20%E1%88%B4%2B.json",
	             "petal-cache.s3.eu-west-1.amazonaws.com",
	             "/build_cache/my%20key%20%E1%88%B4%2B.json");
	check_locate(&cfg, "petal-cache", NULL, "https://petal-cache.s3.eu-west-1.amazonaws.com/",
	             "petal-cache.s3.eu-west-1.amazonaws.com", "/");
	/* a dotted bucket cannot be a TLS host label: path-style */
	check_locate(&cfg, "my.bucket", "k", "https://s3.eu-west-1.amazonaws.com/my.bucket/k",
	             "s3.eu-west-1.amazonaws.com", "/my.bucket/k");
	/* a configured endpoint (moto): path-style, under its base path */
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/moto", 1);
	CU_ASSERT_EQUAL_FATAL(aws_config_load(&cfg, "eu-west-1", &err), 0);
	check_locate(&cfg, "petal-cache", "a//b/./c", "http://127.0.0.1:5000/moto/petal-cache/"
	             "a//b/./c", "127.0.0.1:5000", "/moto/petal-cache/a//b/./c");
	check_locate(&cfg, "petal-cache", "", "http://127.0.0.1:5000/moto/petal-cache",
	             "127.0.0.1:5000", "/moto/petal-cache");

	struct aws_s3_location loc;
	CU_ASSERT_EQUAL(aws_s3_locate(&cfg, "bad/bucket", "k", &loc, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not an S3 bucket name"));
	CU_ASSERT_PTR_NULL(loc.url);
	CU_ASSERT_EQUAL(aws_s3_locate(&cfg, "", "k", &loc, &err), PETAL_EINVAL);
	aws_s3_location_clear(&loc);
	aws_s3_location_clear(NULL);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("aws settings", NULL, NULL);
	if (!s || !CU_add_test(s, "INI: sections, comments, blanks, sub-properties", test_ini) ||
	    !CU_add_test(s, "INI: malformed files name file:line, never the text",
	                 test_ini_malformed) ||
	    !CU_add_test(s, "shared file paths and the profile name", test_file_paths) ||
	    !CU_add_test(s, "region: seed, AWS_REGION, AWS_DEFAULT_REGION, profile",
	                 test_region_order) ||
	    !CU_add_test(s, "region: missing or malformed", test_region_errors) ||
	    !CU_add_test(s, "endpoints: defaults per service and partition",
	                 test_endpoint_defaults) ||
	    !CU_add_test(s, "endpoints: AWS_ENDPOINT_URL[_SERVICE], profile, ignore",
	                 test_endpoint_overrides) ||
	    !CU_add_test(s, "endpoints: URL parsing", test_endpoint_parse) ||
	    !CU_add_test(s, "S3: virtual-hosted or path-style, keys encoded once",
	                 test_s3_locate)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests();
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	awstest_cleanup();
	if (rc != CUE_SUCCESS)
		return 2;
	return failures ? 1 : 0;
}
