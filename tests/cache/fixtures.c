/* Fixtures for the cache tests: find the shared test data, copy the real
   mirrors to temporary directories, edit the copies. */
#define _GNU_SOURCE
#include "config.h"

#include "fixtures.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/evp.h>

static char *tmpdirs[64];
static size_t n_tmpdirs;

static int is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *fx_testdata(void)
{
	static char found[PATH_MAX];
	if (*found)
		return found;
	const char *env = getenv("PETAL_SHARED_TESTDATA");
	if (env && *env) {
		if (is_dir(env)) {
			snprintf(found, sizeof(found), "%s", env);
			return found;
		}
		fprintf(stderr, "PETAL_SHARED_TESTDATA=%s is not a directory\n", env);
		return NULL;
	}
	const char *top = getenv("top_srcdir");
	if (!top || !*top)
		top = ".";
	char dir[PATH_MAX];
	if (!realpath(top, dir)) {
		fprintf(stderr, "top_srcdir=%s: %s\n", top, strerror(errno));
		return NULL;
	}
	/* $top_srcdir/../shared/testdata first, then up the tree */
	for (;;) {
		char cand[PATH_MAX + 32];
		snprintf(cand, sizeof(cand), "%s/../shared/testdata", dir);
		if (is_dir(cand) && realpath(cand, found))
			return found;
		snprintf(cand, sizeof(cand), "%s/shared/testdata", dir);
		if (is_dir(cand) && realpath(cand, found))
			return found;
		char *slash = strrchr(dir, '/');
		if (!slash || slash == dir)
			break;
		*slash = '\0';
	}
	*found = '\0';
	fprintf(stderr, "shared test data not found: set PETAL_SHARED_TESTDATA, or keep "
	                "shared/testdata beside the repository (top_srcdir=%s)\n", top);
	return NULL;
}

char *fx_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/petal-cache-test.XXXXXX", base && *base ? base : "/tmp") < 0)
		return NULL;
	if (!mkdtemp(p)) {
		free(p);
		return NULL;
	}
	if (n_tmpdirs < sizeof(tmpdirs) / sizeof(tmpdirs[0]))
		tmpdirs[n_tmpdirs++] = strdup(p);
	return p;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void fx_cleanup(void)
{
	for (size_t i = 0; i < n_tmpdirs; i++) {
		nftw(tmpdirs[i], rm_one, 16, FTW_DEPTH | FTW_PHYS);
		free(tmpdirs[i]);
	}
	n_tmpdirs = 0;
}

char *fx_read(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap + 1);
	if (!buf)
		abort();
	size_t r;
	while ((r = fread(buf + n, 1, cap - n, f)) > 0) {
		n += r;
		if (n == cap) {
			cap *= 2;
			buf = realloc(buf, cap + 1);
			if (!buf)
				abort();
		}
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int fx_write(const char *path, const char *data, size_t len)
{
	unlink(path); /* the copies may be read-only like the originals */
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

int fx_copy_tree(const char *src, const char *dst)
{
	if (mkdir(dst, 0755) != 0 && errno != EEXIST)
		return -1;
	DIR *d = opendir(src);
	if (!d)
		return -1;
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d)) != NULL) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *s, *t;
		if (asprintf(&s, "%s/%s", src, de->d_name) < 0 ||
		    asprintf(&t, "%s/%s", dst, de->d_name) < 0)
			return -1;
		struct stat st;
		if (stat(s, &st) != 0)
			rc = -1;
		else if (S_ISDIR(st.st_mode))
			rc = fx_copy_tree(s, t);
		else {
			size_t len;
			char *data = fx_read(s, &len);
			rc = data ? fx_write(t, data, len) : -1;
			free(data);
			/* keep the original dates: clear goes by them */
			struct timespec ts[2] = { st.st_atim, st.st_mtim };
			if (!rc)
				utimensat(AT_FDCWD, t, ts, 0);
		}
		free(s);
		free(t);
	}
	closedir(d);
	return rc;
}

char *fx_mirror(const char *name)
{
	const char *td = fx_testdata();
	if (!td)
		return NULL;
	char *tmp = fx_tmpdir();
	if (!tmp)
		return NULL;
	char *src, *dst;
	if (asprintf(&src, "%s/spack-buildcache/%s", td, name) < 0 ||
	    asprintf(&dst, "%s/%s", tmp, name) < 0)
		return NULL;
	free(tmp);
	int rc = fx_copy_tree(src, dst);
	free(src);
	if (rc) {
		free(dst);
		return NULL;
	}
	return dst;
}

void fx_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_Digest(data, len, md, &n, EVP_sha256(), NULL);
	for (unsigned int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	out[64] = '\0';
}

int fx_touch(const char *path, int64_t mtime)
{
	struct timespec ts[2] = { { .tv_sec = mtime }, { .tv_sec = mtime } };
	return utimensat(AT_FDCWD, path, ts, 0);
}

int fx_replace(const char *path, const char *from, const char *to)
{
	size_t len;
	char *data = fx_read(path, &len);
	if (!data)
		return -1;
	char *at = strstr(data, from);
	if (!at) {
		free(data);
		return -1;
	}
	size_t fl = strlen(from), tl = strlen(to);
	char *out = malloc(len - fl + tl + 1);
	if (!out)
		abort();
	size_t pre = (size_t)(at - data);
	memcpy(out, data, pre);
	memcpy(out + pre, to, tl);
	memcpy(out + pre + tl, at + fl, len - pre - fl);
	int rc = fx_write(path, out, len - fl + tl);
	free(out);
	free(data);
	return rc;
}

char *fx_path(const char *dir, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", dir, rel) < 0)
		abort();
	return p;
}
