/* The local cloud plugin, loaded the way petal loads it (the registry over
   PETAL_PLUGIN_PATH): file:// URLs, atomic puts (also when the writer dies
   mid-write), listing order and prefixes, deletes, bucket_ensure. */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

static struct petal_registry reg;
static const struct petal_cloud_ops *ops;
static void *ctx;
static char root[256];

static char *url_of(const char *rel)
{
	return petal_xasprintf("file://%s/%s", root, rel);
}

static char *path_of(const char *rel)
{
	return petal_xasprintf("%s/%s", root, rel);
}

static void write_text(const char *path, const char *text)
{
	struct petal_error err = { 0 };
	char *dir = petal_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	CU_ASSERT_EQUAL_FATAL(petal_mkdirs(dir, 0755, &err), 0);
	free(dir);
	FILE *f = fopen(path, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
}

static char *read_text(const char *path)
{
	char *data = NULL;
	size_t len;
	struct petal_error err = { 0 };
	if (petal_read_file(path, 1 << 24, &data, &len, &err) != 0)
		return NULL;
	return data;
}

/* put a local file holding `text` at object `rel` */
static int put_text(const char *rel, const char *text, struct petal_error *err)
{
	char *src = petal_xasprintf("%s.src", root);
	write_text(src, text);
	char *u = url_of(rel);
	int rc = ops->object_put(ctx, u, src, err);
	unlink(src);
	free(u);
	free(src);
	return rc;
}

static void test_descriptor(void)
{
	CU_ASSERT_EQUAL(ops->caps, PETAL_CAP_OBJECTS);
	CU_ASSERT_PTR_NOT_NULL(ops->object_put);
	CU_ASSERT_PTR_NOT_NULL(ops->object_list);
	/* nothing but objects: tiers needing more decline */
	CU_ASSERT_PTR_NULL(ops->instance_launch);
	CU_ASSERT_PTR_NULL(ops->image_find);
	CU_ASSERT_PTR_NULL(ops->cluster_create);
	CU_ASSERT_PTR_NULL(ops->registry_login);
}

static void test_bad_urls(void)
{
	static const struct { const char *url, *says; } bad[] = {
		{ "s3://bucket/key", "file:// URLs only" },
		{ "https://example.invalid/x", "file:// URLs only" },
		{ "file://relative/dir/x", "absolute path" },
		{ "file:relative", "absolute path" },
		{ "/abs/path/not/a/url", "not a URL" },
		{ "", "no URL" },
		{ "file:///a/../etc/passwd", "'..'" },
		{ "file:///a/./b", "'.'" },
		{ "file:///a//b", "empty" },
		{ "file:///a%zzb", "two hex digits" },
		{ "file:///a%2", "two hex digits" },
		{ "file:///a%00b", "NUL" },
		{ "file:///a/b?x=1", "percent-encode" },
		{ "file:///a/b#frag", "percent-encode" },
		{ "file:///a/dir/", "directory" },
		{ "file:///", "root" },
	};
	char *src = petal_xasprintf("%s.src", root);
	write_text(src, "x");
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(bad); i++) {
		struct petal_error err = { 0 };
		struct petal_object_info info = { .size = sizeof(info) };
		CU_ASSERT_EQUAL(ops->object_put(ctx, bad[i].url, src, &err), PETAL_EINVAL);
		if (!strstr(err.msg, bad[i].says))
			fprintf(stderr, "\n  %s: message '%s' lacks '%s'\n", bad[i].url, err.msg,
			        bad[i].says);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].says));
		CU_ASSERT_EQUAL(ops->object_head(ctx, bad[i].url, &info, &err), PETAL_EINVAL);
		CU_ASSERT_EQUAL(ops->object_get(ctx, bad[i].url, src, &err), PETAL_EINVAL);
	}
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(ops->object_put(ctx, NULL, src, &err), PETAL_EINVAL);
	/* the put never got as far as the file system */
	CU_ASSERT_EQUAL(access("/a", F_OK), -1);
	char *back = read_text(src);
	CU_ASSERT_STRING_EQUAL(back ? back : "", "x"); /* gets failed before touching it */
	free(back);
	unlink(src);
	free(src);
}

static void test_roundtrip(void)
{
	struct petal_error err = { 0 };
	time_t before = time(NULL);
	CU_ASSERT_EQUAL_FATAL(put_text("rt/with space/obj.json", "{\"a\": 1}\n", &err), 0);
	/* the URL is percent-decoded: the file has a real space */
	char *p = path_of("rt/with space/obj.json");
	struct stat st;
	CU_ASSERT_EQUAL(stat(p, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	free(p);

	char *u = petal_xasprintf("file://%s/rt/with%%20space/obj.json", root);
	struct petal_object_info info = { .size = sizeof(info) };
	CU_ASSERT_EQUAL(ops->object_head(ctx, u, &info, &err), 0);
	CU_ASSERT_EQUAL(info.bytes, 9);
	CU_ASSERT(info.mtime >= before - 1 && info.mtime <= time(NULL) + 1);

	char *dst = petal_xasprintf("%s.get", root);
	CU_ASSERT_EQUAL(ops->object_get(ctx, u, dst, &err), 0);
	char *got = read_text(dst);
	CU_ASSERT_STRING_EQUAL(got ? got : "", "{\"a\": 1}\n");
	free(got);
	free(u);

	/* file://localhost/ is the same machine */
	u = petal_xasprintf("file://localhost%s/rt/with%%20space/obj.json", root);
	CU_ASSERT_EQUAL(ops->object_head(ctx, u, &info, &err), 0);
	free(u);

	/* missing objects: ENOENT, and the local file keeps its bytes */
	write_text(dst, "keep me");
	u = url_of("rt/nothing-here");
	CU_ASSERT_EQUAL(ops->object_get(ctx, u, dst, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "no such object"));
	got = read_text(dst);
	CU_ASSERT_STRING_EQUAL(got ? got : "", "keep me");
	free(got);
	CU_ASSERT_EQUAL(ops->object_head(ctx, u, &info, &err), PETAL_ENOENT);
	free(u);
	/* a directory is not an object */
	u = url_of("rt/with space");
	CU_ASSERT_EQUAL(ops->object_head(ctx, u, &info, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(ops->object_get(ctx, u, dst, &err), PETAL_ENOENT);
	free(u);
	unlink(dst);
	free(dst);

	/* replacing keeps one file, with the new bytes */
	CU_ASSERT_EQUAL(put_text("rt/with space/obj.json", "2", &err), 0);
	p = path_of("rt/with space/obj.json");
	got = read_text(p);
	CU_ASSERT_STRING_EQUAL(got ? got : "", "2");
	free(got);
	free(p);
}

/* ---- a writer killed mid-put ---------------------------------------------- */

static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += !strncmp(de->d_name, ".petal-tmp-", 11);
	if (d)
		closedir(d);
	return n;
}

static int collect(void *arg, const struct petal_object_info *obj)
{
	struct petal_strbuf *sb = arg;
	petal_strbuf_printf(sb, "%s=%llu;", obj->key, (unsigned long long)obj->bytes);
	return 0;
}

static void test_crash_mid_put(void)
{
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(put_text("crash/index.json", "old index", &err), 0);
	char *fifo = petal_xasprintf("%s.fifo", root);
	unlink(fifo);
	CU_ASSERT_EQUAL_FATAL(mkfifo(fifo, 0600), 0);
	char *u = url_of("crash/index.json");
	char *dir = path_of("crash");

	signal(SIGPIPE, SIG_IGN); /* a writer that died early: EPIPE, not our death */
	pid_t pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		/* the writer: copies from the FIFO until it is killed */
		struct petal_error e2 = { 0 };
		_exit(ops->object_put(ctx, u, fifo, &e2) == 0 ? 0 : 3);
	}
	int w = open(fifo, O_WRONLY);
	CU_ASSERT_FATAL(w >= 0);
	char block[65536];
	memset(block, 'N', sizeof(block));
	CU_ASSERT_EQUAL(write(w, block, sizeof(block)), (ssize_t)sizeof(block));
	/* wait until the writer has its temporary file, then kill it there */
	for (int i = 0; i < 500 && count_tmp(dir) == 0; i++)
		usleep(10000);
	CU_ASSERT_EQUAL(count_tmp(dir), 1);
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	close(w);

	char *p = path_of("crash/index.json");
	char *got = read_text(p);
	CU_ASSERT_STRING_EQUAL(got ? got : "", "old index");
	free(got);
	/* the half-written file is there, and no listing shows it */
	CU_ASSERT_EQUAL(count_tmp(dir), 1);
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	char *pre = url_of("crash/");
	CU_ASSERT_EQUAL(ops->object_list(ctx, pre, collect, &sb, &err), 0);
	CU_ASSERT_STRING_EQUAL(petal_strbuf_str(&sb), "index.json=9;");
	petal_strbuf_release(&sb);
	/* the next writer is not disturbed by it */
	CU_ASSERT_EQUAL(put_text("crash/index.json", "new index", &err), 0);
	got = read_text(p);
	CU_ASSERT_STRING_EQUAL(got ? got : "", "new index");
	free(got);
	free(pre);
	free(p);
	free(dir);
	free(u);
	unlink(fifo);
	free(fifo);
}

/* ---- listing ------------------------------------------------------------------ */

struct stopper {
	int seen;
};

static int stop_at_first(void *arg, const struct petal_object_info *obj)
{
	(void)obj;
	((struct stopper *)arg)->seen++;
	return 7;
}

static void list_is(const char *prefix_rel, const char *want)
{
	struct petal_error err = { 0 };
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	char *u = url_of(prefix_rel);
	CU_ASSERT_EQUAL(ops->object_list(ctx, u, collect, &sb, &err), 0);
	if (strcmp(petal_strbuf_str(&sb), want) != 0)
		fprintf(stderr, "\n  list %s: got '%s', want '%s'\n", prefix_rel,
		        petal_strbuf_str(&sb), want);
	CU_ASSERT_STRING_EQUAL(petal_strbuf_str(&sb), want);
	petal_strbuf_release(&sb);
	free(u);
}

static void test_list(void)
{
	static const char *const objs[] = { "ls/b", "ls/a/c/d", "ls/ab", "ls/a-c", "ls/a/b",
		                            "ls/a0" };
	struct petal_error err = { 0 };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(objs); i++)
		CU_ASSERT_EQUAL(put_text(objs[i], objs[i], &err), 0);
	/* stray temporary files from other writers */
	char *t = path_of("ls/a/.petal-tmp-abc123");
	write_text(t, "partial");
	free(t);
	t = path_of("ls/.petal-probe-x");
	write_text(t, "probe");
	free(t);
	/* byte order: '-' < '/' < '0' < 'b', so a directory "a" sorts as "a/" */
	list_is("ls/", "a-c=6;a/b=6;a/c/d=8;a0=5;ab=5;b=4;");
	/* a prefix names a directory, with or without its '/' (as in the aws
	   cloud): "ls/a" is not "ls/a-c" nor "ls/ab" */
	list_is("ls/a", "b=6;c/d=8;");
	list_is("ls/a/", "b=6;c/d=8;");
	list_is("ls/a/c/d", "");
	list_is("ls/nothing/", "");
	list_is("nothing-at-all", "");

	struct stopper s = { 0 };
	char *u = url_of("ls/");
	CU_ASSERT_EQUAL(ops->object_list(ctx, u, stop_at_first, &s, &err), 7);
	CU_ASSERT_EQUAL(s.seen, 1);
	free(u);
	CU_ASSERT_EQUAL(ops->object_list(ctx, "s3://b/ls/", collect, &s, &err), PETAL_EINVAL);
}

static void test_delete(void)
{
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(put_text("del/x/y/one", "1", &err), 0);
	CU_ASSERT_EQUAL(put_text("del/x/two", "2", &err), 0);
	CU_ASSERT_EQUAL(put_text("del/keep", "k", &err), 0);

	/* a bad URL anywhere in the batch: nothing is deleted */
	char *good = url_of("del/x/two");
	const char *batch1[] = { good, "s3://elsewhere/key" };
	CU_ASSERT_EQUAL(ops->object_delete(ctx, batch1, 2, &err), PETAL_EINVAL);
	char *p = path_of("del/x/two");
	CU_ASSERT_EQUAL(access(p, F_OK), 0);
	free(p);

	/* missing objects are fine; directories emptied below the batch's
	   common directory (del/) go, del/ itself stays */
	char *one = url_of("del/x/y/one");
	char *gone = url_of("del/never/was");
	const char *batch2[] = { one, good, gone };
	CU_ASSERT_EQUAL(ops->object_delete(ctx, batch2, 3, &err), 0);
	p = path_of("del/x");
	CU_ASSERT_EQUAL(access(p, F_OK), -1);
	free(p);
	p = path_of("del/keep");
	CU_ASSERT_EQUAL(access(p, F_OK), 0);
	free(p);
	list_is("del/", "keep=1;");

	/* a single delete leaves its directory */
	char *keep = url_of("del/keep");
	const char *batch3[] = { keep };
	CU_ASSERT_EQUAL(ops->object_delete(ctx, batch3, 1, &err), 0);
	p = path_of("del");
	struct stat st;
	CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	free(p);

	/* a directory is not an object to delete */
	CU_ASSERT_EQUAL(put_text("del/d/inside", "i", &err), 0);
	char *d = url_of("del/d");
	const char *batch4[] = { d };
	CU_ASSERT_NOT_EQUAL(ops->object_delete(ctx, batch4, 1, &err), 0);
	p = path_of("del/d/inside");
	CU_ASSERT_EQUAL(access(p, F_OK), 0);
	free(p);
	free(d);
	free(keep);
	free(one);
	free(gone);
	free(good);
}

static void test_bucket_ensure(void)
{
	struct petal_error err = { 0 };
	char *u = url_of("bucket/deep/mirror");
	CU_ASSERT_EQUAL(ops->bucket_ensure(ctx, u, "eu-west-2", &err), 0);
	char *p = path_of("bucket/deep/mirror");
	struct stat st;
	CU_ASSERT(stat(p, &st) == 0 && S_ISDIR(st.st_mode));
	/* again: it exists, still fine; no probe file left behind */
	CU_ASSERT_EQUAL(ops->bucket_ensure(ctx, u, NULL, &err), 0);
	DIR *dir = opendir(p);
	int entries = 0;
	struct dirent *de;
	while (dir && (de = readdir(dir)) != NULL)
		entries += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (dir)
		closedir(dir);
	CU_ASSERT_EQUAL(entries, 0);
	free(u);

	/* under a regular file: cannot be made */
	CU_ASSERT_EQUAL(put_text("bucket/afile", "f", &err), 0);
	u = url_of("bucket/afile/sub");
	CU_ASSERT_NOT_EQUAL(ops->bucket_ensure(ctx, u, NULL, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "bucket/afile"));
	free(u);

	/* a directory petal may not write: refused, not pretended (root may
	   write anywhere, so only checked for others) */
	if (geteuid() != 0) {
		CU_ASSERT_EQUAL(chmod(p, 0555), 0);
		u = url_of("bucket/deep/mirror");
		CU_ASSERT_EQUAL(ops->bucket_ensure(ctx, u, NULL, &err), PETAL_EAUTH);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "cannot write"));
		free(u);
		chmod(p, 0755);
	}
	free(p);
	CU_ASSERT_EQUAL(ops->bucket_ensure(ctx, "s3://bucket", NULL, &err), PETAL_EINVAL);
}

static int setup(void)
{
	snprintf(root, sizeof(root), "%s/petal-cloud-local.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -1;
	struct petal_error err = { 0 };
	reg.host = the_host();
	petal_registry_default_dirs(&reg);
	if (petal_registry_scan(&reg, &err) != 0)
		return -1;
	struct petal_entry *e = petal_registry_find(&reg, PETAL_KIND_CLOUD, "local");
	if (!e) {
		fprintf(stderr, "no cloud plugin 'local' in PETAL_PLUGIN_PATH=%s\n",
		        getenv("PETAL_PLUGIN_PATH") ? getenv("PETAL_PLUGIN_PATH") : "(unset)");
		return -1;
	}
	if (petal_entry_init(e, reg.host, &err) != 0) {
		fprintf(stderr, "init: %s\n", err.msg);
		return -1;
	}
	ops = e->desc->ops.cloud;
	ctx = e->ctx;
	return 0;
}

static int teardown(void)
{
	petal_registry_release(&reg);
	char *cmd = petal_xasprintf("rm -rf '%s' '%s'.src '%s'.get '%s'.fifo", root, root, root,
	                            root);
	int rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("cloud local", setup, teardown);
	if (!s || !CU_add_test(s, "descriptor: objects only", test_descriptor) ||
	    !CU_add_test(s, "bad URLs refused clearly", test_bad_urls) ||
	    !CU_add_test(s, "put, head, get; percent-decoding", test_roundtrip) ||
	    !CU_add_test(s, "a writer killed mid-put leaves the old object", test_crash_mid_put) ||
	    !CU_add_test(s, "listing: byte order, prefixes, temporary files", test_list) ||
	    !CU_add_test(s, "delete: batches, missing objects, directories", test_delete) ||
	    !CU_add_test(s, "bucket_ensure: create, prove, refuse", test_bucket_ensure)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 1;
	}
	unsigned failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
