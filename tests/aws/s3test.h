/* Helpers for the aws plugin's integration tests: a real moto_server with
   signature checking (tests/aws/moto.sh), the built plugin loaded through
   the registry with the real host table, the aws CLI, and files. */
#ifndef PETAL_TESTS_S3TEST_H
#define PETAL_TESTS_S3TEST_H

#include <dirent.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "core/plugin/host.h"
#include "core/plugin/registry.h"
#include "core/util/util.h"

/* One host for the whole test (core/plugin/host.h). */
static const struct petal_host *the_host(void)
{
	static struct petal_host *h;
	if (!h)
		h = petal_host_new();
	return h;
}

struct s3test {
	char dir[PATH_MAX];      /* private temporary directory */
	char moto_dir[PATH_MAX + 8];
	char url[128];           /* moto's endpoint */
	char key_id[128];
	char secret[128];
	char moto_log[PATH_MAX + 32];
	/* a second server that checks no signature, for what moto's checker
	   gets wrong ('+', '%', UTF-8 in keys, '/' in query values) */
	char noauth_dir[PATH_MAX + 16];
	char noauth_url[128];
	struct petal_registry reg;
	const struct petal_plugin *desc;
	const struct petal_cloud_ops *ops;
	void *ctx;               /* the plugin's context with the default settings */
};

static struct s3test T;

static inline const char *s3test_srcdir(void)
{
	const char *s = getenv("top_srcdir");
	return s && *s ? s : ".";
}

/* Run a shell command; its exit status, or -1. */
static inline int s3test_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline int s3test_sh(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *cmd = NULL;
	int n = vasprintf(&cmd, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int rc = system(cmd);
	free(cmd);
	return rc == -1 ? -1 : WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The aws CLI against moto with the test user's keys, away from ~/.aws;
   output to DIR/cli.out.  Its exit status. */
static inline int s3test_aws_at(const char *url, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline int s3test_aws_at(const char *url, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *args = NULL;
	int n = vasprintf(&args, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int rc = s3test_sh("AWS_PAGER= AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url '%s' %s "
	                   ">'%s/cli.out' 2>'%s/cli.err'", url, args, T.dir, T.dir);
	free(args);
	return rc;
}
#define s3test_aws(...) s3test_aws_at(T.url, __VA_ARGS__)

/* DIR/cli.out, malloc'd ("" when unreadable). */
static inline char *s3test_cli_out(void)
{
	char *path = petal_xasprintf("%s/cli.out", T.dir), *data = NULL;
	size_t len;
	struct petal_error err = { 0 };
	if (petal_read_file(path, 1 << 26, &data, &len, &err) != 0)
		data = petal_xstrdup("");
	free(path);
	return data;
}

/* How many lines of moto's request log contain every one of the strings. */
static inline size_t s3test_log_count(const char *a, const char *b)
{
	FILE *f = fopen(T.moto_log, "r");
	if (!f)
		return 0;
	char line[8192];
	size_t n = 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	fclose(f);
	return n;
}

/* A file of `size` pseudo-random bytes from `seed`; returns its path (malloc'd). */
static inline char *s3test_file(const char *name, size_t size, unsigned seed)
{
	char *path = petal_xasprintf("%s/%s", T.dir, name);
	FILE *f = fopen(path, "wb");
	if (!f)
		return path;
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		fputc((int)(x & 0xff), f);
	}
	fclose(f);
	return path;
}

/* 1 when both files hold the same bytes. */
static inline int s3test_same(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	while (same) {
		int ca = fgetc(fa), cb = fgetc(fb);
		if (ca != cb)
			same = 0;
		if (ca == EOF || cb == EOF)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

static inline int s3test_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Files in DIR whose name contains `part` (left-over temporaries). */
static inline size_t s3test_count_in_dir(const char *part)
{
	DIR *d = opendir(T.dir);
	size_t n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (strstr(e->d_name, part))
			n++;
	if (d)
		closedir(d);
	return n;
}

/* Hex digest of a file. */
static inline void s3test_digest(const char *path, const EVP_MD *md, char *hex)
{
	unsigned char buf[65536], out[EVP_MAX_MD_SIZE];
	unsigned len = 0;
	EVP_MD_CTX *m = EVP_MD_CTX_new();
	EVP_DigestInit_ex(m, md, NULL);
	FILE *f = fopen(path, "rb");
	for (size_t r; f && (r = fread(buf, 1, sizeof(buf), f)) > 0;)
		EVP_DigestUpdate(m, buf, r);
	if (f)
		fclose(f);
	EVP_DigestFinal_ex(m, out, &len);
	EVP_MD_CTX_free(m);
	for (unsigned i = 0; i < len; i++)
		sprintf(hex + 2 * i, "%02x", out[i]);
}

/* A fresh plugin context, made with `env` ("NAME=VALUE" strings) set while
   it inits and until s3test_restore; NULL on failure. */
static char *s3test_saved[16];
static inline void *s3test_ctx(const char *const *env)
{
	for (size_t i = 0; env && env[i] && i < 16; i++) {
		char *name = petal_xstrdup(env[i]);
		char *eq = strchr(name, '=');
		*eq = '\0';
		const char *old = getenv(name);
		s3test_saved[i] = petal_xasprintf("%s=%s", name, old ? old : "");
		setenv(name, eq + 1, 1);
		free(name);
	}
	void *c = NULL;
	if (T.desc->init(T.reg.host, &c) != 0)
		return NULL;
	return c;
}

static inline void s3test_restore(void)
{
	for (size_t i = 0; i < 16 && s3test_saved[i]; i++) {
		char *eq = strchr(s3test_saved[i], '=');
		*eq = '\0';
		if (eq[1])
			setenv(s3test_saved[i], eq + 1, 1);
		else
			unsetenv(s3test_saved[i]);
		free(s3test_saved[i]);
		s3test_saved[i] = NULL;
	}
}

static inline void s3test_env_line(const char *line)
{
	static const char *const keys[] = { "MOTO_URL=", "AWS_ACCESS_KEY_ID=",
		                            "AWS_SECRET_ACCESS_KEY=" };
	char *const dst[] = { T.url, T.key_id, T.secret };
	for (int i = 0; i < 3; i++)
		if (strncmp(line, keys[i], strlen(keys[i])) == 0)
			snprintf(dst[i], 128, "%.*s", (int)strcspn(line + strlen(keys[i]), "\n"),
			         line + strlen(keys[i]));
}

/* Start moto (and a second one without signature checks when `noauth`),
   point the AWS settings at the first, load the plugin. */
static inline int s3test_setup(const char *name, int noauth)
{
	snprintf(T.dir, sizeof(T.dir), "%s/petal-%s.XXXXXX",
	         getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", name);
	if (!mkdtemp(T.dir))
		return -1;
	snprintf(T.moto_dir, sizeof(T.moto_dir), "%s/moto", T.dir);
	snprintf(T.moto_log, sizeof(T.moto_log), "%s/moto.log", T.moto_dir);
	if (s3test_sh("sh '%s/tests/aws/moto.sh' start '%s'", s3test_srcdir(), T.moto_dir) != 0) {
		fprintf(stderr, "cannot start moto_server (tests/aws/moto.sh)\n");
		return -1;
	}
	char line[512];
	char *envf = petal_xasprintf("%s/moto.env", T.moto_dir);
	FILE *f = fopen(envf, "r");
	free(envf);
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		s3test_env_line(line);
	fclose(f);
	if (!T.url[0] || !T.key_id[0] || !T.secret[0])
		return -1;
	snprintf(T.noauth_dir, sizeof(T.noauth_dir), "%s/moto-noauth", T.dir);
	if (!noauth)
		T.noauth_dir[0] = '\0';
	else if (s3test_sh("sh '%s/tests/aws/moto.sh' start '%s' noauth", s3test_srcdir(),
	              T.noauth_dir) != 0) {
		fprintf(stderr, "cannot start a second moto_server (tests/aws/moto.sh)\n");
		return -1;
	}
	envf = petal_xasprintf("%s/moto.env", T.noauth_dir);
	f = noauth ? fopen(envf, "r") : NULL;
	free(envf);
	if (noauth && !f)
		return -1;
	while (f && fgets(line, sizeof(line), f))
		if (strncmp(line, "MOTO_URL=", 9) == 0)
			snprintf(T.noauth_url, sizeof(T.noauth_url), "%.*s",
			         (int)strcspn(line + 9, "\n"), line + 9);
	if (f)
		fclose(f);

	static const char *const clear[] = {
		"AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ENDPOINT_URL_S3",
		"AWS_ENDPOINT_URL_EC2", "AWS_ENDPOINT_URL_IAM", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
		"AWS_DEFAULT_REGION",
		"PETAL_AWS_S3_MULTIPART_THRESHOLD", "PETAL_AWS_S3_PART_SIZE",
		"PETAL_AWS_S3_PART_THREADS", "AWS_MAX_ATTEMPTS", "PETAL_MAX_ATTEMPTS",
	};
	for (size_t i = 0; i < sizeof(clear) / sizeof(clear[0]); i++)
		unsetenv(clear[i]);
	char *nofile = petal_xasprintf("%s/no-such-file", T.dir);
	setenv("AWS_CONFIG_FILE", nofile, 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", nofile, 1);
	free(nofile);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	setenv("AWS_ENDPOINT_URL", T.url, 1);
	setenv("AWS_ACCESS_KEY_ID", T.key_id, 1);
	setenv("AWS_SECRET_ACCESS_KEY", T.secret, 1);

	struct petal_error err = { 0 };
	T.reg.host = the_host();
	petal_registry_default_dirs(&T.reg);
	if (petal_registry_scan(&T.reg, &err) != 0)
		return -1;
	struct petal_entry *e = petal_registry_find(&T.reg, PETAL_KIND_CLOUD, "aws");
	if (!e) {
		fprintf(stderr, "no cloud plugin 'aws' in PETAL_PLUGIN_PATH=%s\n",
		        getenv("PETAL_PLUGIN_PATH") ? getenv("PETAL_PLUGIN_PATH") : "(unset)");
		return -1;
	}
	if (petal_entry_init(e, T.reg.host, &err) != 0) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	T.desc = e->desc;
	T.ops = e->desc->ops.cloud;
	T.ctx = e->ctx;
	return 0;
}

static inline int s3test_teardown(void)
{
	petal_registry_release(&T.reg);
	s3test_sh("sh '%s/tests/aws/moto.sh' stop '%s'", s3test_srcdir(), T.moto_dir);
	if (T.noauth_dir[0])
		s3test_sh("sh '%s/tests/aws/moto.sh' stop '%s'", s3test_srcdir(), T.noauth_dir);
	if (getenv("PETAL_KEEP_TMP"))
		return 0;
	return s3test_sh("rm -rf '%s'", T.dir) == 0 ? 0 : -1;
}

#endif /* PETAL_TESTS_S3TEST_H */
