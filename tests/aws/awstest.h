/* Helpers shared by the aws plugin's settings and credentials tests: a
   private HOME per test, a clean AWS environment, small files. */
#ifndef PETAL_TESTS_AWSTEST_H
#define PETAL_TESTS_AWSTEST_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every variable the aws plugin reads, so no test sees the caller's. */
static const char *const awstest_vars[] = {
	"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SHARED_CREDENTIALS_FILE",
	"AWS_CONFIG_FILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL",
	"AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_ECR",
	"AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
	"AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
	"AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE",
};

static char awstest_home[PATH_MAX];

static inline int awstest_rm(const char *path, const struct stat *st, int flag,
                             struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Remove the last private HOME, if any. */
static inline void awstest_cleanup(void)
{
	if (awstest_home[0])
		nftw(awstest_home, awstest_rm, 16, FTW_DEPTH | FTW_PHYS);
	awstest_home[0] = '\0';
}

/* A clean AWS environment and an empty private HOME with ~/.aws/. */
static inline const char *awstest_fresh(void)
{
	awstest_cleanup();
	for (size_t i = 0; i < sizeof(awstest_vars) / sizeof(awstest_vars[0]); i++)
		unsetenv(awstest_vars[i]);
	const char *tmp = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	snprintf(awstest_home, sizeof(awstest_home), "%.200s/petal-aws-home-XXXXXX", tmp);
	if (!mkdtemp(awstest_home))
		return NULL;
	setenv("HOME", awstest_home, 1);
	char aws[PATH_MAX + 8];
	snprintf(aws, sizeof(aws), "%s/.aws", awstest_home);
	mkdir(aws, 0700);
	return awstest_home;
}

/* Write `text` to HOME-relative `rel`; returns the full path, in a static
   buffer that the next call overwrites. */
static inline const char *awstest_write(const char *rel, const char *text)
{
	static char path[PATH_MAX + 300];
	snprintf(path, sizeof(path), "%s/%s", awstest_home, rel);
	FILE *f = fopen(path, "w");
	if (!f)
		return NULL;
	fputs(text, f);
	fclose(f);
	return path;
}

#endif /* PETAL_TESTS_AWSTEST_H */
