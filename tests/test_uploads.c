/* What petal uploads beside a run's artifacts (core/render/uploads.c): the
   names of the seed's file:// things, and the uploads themselves through the
   local cloud plugin (a tar of a directory, git archive at a ref, a tree
   object by object), with clear errors.
   Also a tool for the shell tests: `test_uploads upload SEED URL` uploads a
   seed's sources to URL (s3:// through the aws plugin, file:// the local one)
   and prints each name. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cloud/cloud.h"
#include "core/plugin/host.h"
#include "core/plugin/registry.h"
#include "core/render/render.h"
#include "core/seed/seed.h"
#include "core/util/util.h"

static struct petal_registry reg;
static struct petal_host *host; /* reg.host; freed with it */
static char root[256];

static struct petal_seed *seed_of(const char *text)
{
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	struct petal_seed *s = NULL;

	if (petal_seed_load_text("seed.yaml", text, strlen(text), &s, &d, &err) != 0) {
		char *all = petal_diags_format(&d);
		fprintf(stderr, "\n%s%s\n", all, err.msg);
		free(all);
	}
	petal_diags_release(&d);
	return s;
}

static int open_cloud(const char *url, struct petal_cloud *c, struct petal_error *err)
{
	const char *name = strncmp(url, "s3://", 5) == 0 ? "aws" : "local";
	struct petal_entry *e = petal_registry_find(&reg, PETAL_KIND_CLOUD, name);

	if (e == NULL)
		return petal_fail(err, PETAL_EPLUGIN, "no cloud plugin '%s' in PETAL_PLUGIN_PATH",
		                  name);
	if (petal_entry_init(e, reg.host, err) != 0)
		return -1;
	petal_cloud_from_entry(c, e, reg.host);
	return 0;
}

/* A shell command with every "@" replaced by dir. */
static int sh(const char *fmt, const char *dir)
{
	struct petal_strbuf cmd = PETAL_STRBUF_INIT;
	int rc;

	for (const char *p = fmt; *p; p++) {
		if (*p == '@')
			petal_strbuf_puts(&cmd, dir);
		else
			petal_strbuf_putc(&cmd, *p);
	}
	rc = system(petal_strbuf_str(&cmd));
	petal_strbuf_release(&cmd);
	return rc;
}

#define CLUSTER "cluster: {name: t, region: us-east-1}\nnetwork: {subnet_id: subnet-0123456789abcdef0}\n"

static void test_names(void)
{
	struct petal_error err = { 0 };
	struct petal_upload *u;
	size_t n;
	struct petal_seed *s = seed_of(CLUSTER "software:\n  spack:\n"
	                               "    url: file:///srv/spack-1.1.0.tar.gz\n"
	                               "    repos:\n"
	                               "      - file:///srv/spack_repo/lab\n"
	                               "      - {name: gitlab, git: 'file:///srv/g.git', ref: v2}\n"
	                               "      - {name: remote, git: https://x/r.git, ref: v2}\n"
	                               "      - {name: tarred, url: file:///srv/t.tar.gz}\n"
	                               "      - {name: s3tar, url: s3://b/t.tar}\n"
	                               "    source_mirror: file:///srv/mirror\n");

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(petal_render_uploads(s, &u, &n, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 5);
	CU_ASSERT_STRING_EQUAL(u[0].name, "spack/spack.tar");
	CU_ASSERT_STRING_EQUAL(u[0].local_path, "/srv/spack-1.1.0.tar.gz");
	CU_ASSERT_EQUAL(u[0].is_dir, 0);
	CU_ASSERT_STRING_EQUAL(u[1].name, "repos/lab.tar");
	CU_ASSERT_STRING_EQUAL(u[1].local_path, "/srv/spack_repo/lab");
	CU_ASSERT_EQUAL(u[1].is_dir, 1);
	CU_ASSERT_PTR_NULL(u[1].git_ref);
	CU_ASSERT_STRING_EQUAL(u[2].name, "repos/gitlab.tar");
	CU_ASSERT_STRING_EQUAL(u[2].local_path, "/srv/g.git");
	CU_ASSERT_STRING_EQUAL(u[2].git_ref, "v2");
	CU_ASSERT_STRING_EQUAL(u[3].name, "repos/tarred.tar");
	CU_ASSERT_EQUAL(u[3].is_dir, 0);
	CU_ASSERT_STRING_EQUAL(u[4].name, "source-mirror/");
	CU_ASSERT_STRING_EQUAL(u[4].local_path, "/srv/mirror");
	CU_ASSERT_EQUAL(u[4].is_dir, 1);
	petal_render_uploads_free(u, n);
	petal_seed_free(s);

	s = seed_of(CLUSTER "software:\n  spack: {git: 'file:///srv/spack', ref: 2e907202bcc8}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(petal_render_uploads(s, &u, &n, &err), 0);
	CU_ASSERT_EQUAL_FATAL(n, 1);
	CU_ASSERT_STRING_EQUAL(u[0].name, "spack/spack.tar");
	CU_ASSERT_EQUAL(u[0].is_dir, 1);
	CU_ASSERT_STRING_EQUAL(u[0].git_ref, "2e907202bcc8");
	petal_render_uploads_free(u, n);
	petal_seed_free(s);

	/* nothing on this machine: nothing to upload */
	s = seed_of(CLUSTER "software:\n  spack: {git: https://x/spack.git, "
	            "source_mirror: s3://b/m}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(petal_render_uploads(s, &u, &n, &err), 0);
	CU_ASSERT_EQUAL(n, 0);
	CU_ASSERT_PTR_NULL(u);
	petal_render_uploads_free(u, n);
	petal_render_uploads_free(NULL, 0);
	petal_seed_free(s);
}

static void test_upload_local(void)
{
	struct petal_error err = { 0 };
	struct petal_cloud c;
	char *dst = petal_xasprintf("file://%s/art/", root);
	char *src = petal_xasprintf("%s/src", root);
	int have_git = system("git --version >/dev/null 2>&1") == 0;

	CU_ASSERT_EQUAL_FATAL(open_cloud(dst, &c, &err), 0);
	CU_ASSERT_EQUAL_FATAL(sh("set -e; mkdir -p @/repo/packages/a @/repo/.git @/mirror/x/y; "
	                         "echo a >@/repo/packages/a/package.py", src), 0);
	CU_ASSERT_EQUAL_FATAL(sh("set -e; echo ns >@/repo/repo.yaml; echo git >@/repo/.git/HEAD; "
	                         "echo 1 >@/mirror/x/y/one; echo 2 >@/mirror/two", src), 0);
	CU_ASSERT_EQUAL_FATAL(sh("tar -C @ -cf @/t.tar mirror", src), 0);
	if (have_git)
		CU_ASSERT_EQUAL_FATAL(sh("set -e; cd @ && mkdir g && cd g && git init -q . && "
		                         "echo v1 >f && git add f && git -c user.name=t -c "
		                         "user.email=t commit -qm 1 && git tag v1 && echo v2 >g && "
		                         "git add g && git -c user.name=t -c user.email=t commit "
		                         "-qm 2", src), 0);

	struct petal_upload u[] = {
		{ .local_path = petal_xasprintf("%s/repo", src), .name = "repos/lab.tar", .is_dir = 1 },
		{ .local_path = petal_xasprintf("%s/mirror", src), .name = "source-mirror/",
		  .is_dir = 1 },
		{ .local_path = petal_xasprintf("%s/t.tar", src), .name = "spack/spack.tar" },
		{ .local_path = petal_xasprintf("%s/g", src), .name = "repos/g.tar", .is_dir = 1,
		  .git_ref = "v1" },
	};
	size_t n = have_git ? 4 : 3;

	CU_ASSERT_EQUAL(petal_render_upload_all(&c, dst, u, n, &err), 0);
	if (err.msg[0])
		fprintf(stderr, "\n%s\n", err.msg);
	/* the repository's contents at the top, without .git */
	CU_ASSERT_EQUAL(sh("tar -tf @/art/repos/lab.tar | grep -qx './repo.yaml'", root), 0);
	CU_ASSERT_EQUAL(sh("tar -tf @/art/repos/lab.tar | grep -qx './packages/a/package.py'",
	                   root), 0);
	CU_ASSERT_NOT_EQUAL(sh("tar -tf @/art/repos/lab.tar | grep -q git", root), 0);
	/* the mirror object by object, nested */
	CU_ASSERT_EQUAL(sh("test \"$(cat @/art/source-mirror/x/y/one)\" = 1", root), 0);
	CU_ASSERT_EQUAL(sh("test \"$(cat @/art/source-mirror/two)\" = 2", root), 0);
	CU_ASSERT_EQUAL(sh("cmp -s @/src/t.tar @/art/spack/spack.tar", root), 0);
	/* git archive at the tag: the later commit's file is not in it */
	if (have_git) {
		CU_ASSERT_EQUAL(sh("tar -tf @/art/repos/g.tar | grep -qx f", root), 0);
		CU_ASSERT_NOT_EQUAL(sh("tar -tf @/art/repos/g.tar | grep -qx g", root), 0);
	}
	/* no temporary archive left behind (TMPDIR is root) */
	CU_ASSERT_NOT_EQUAL(sh("ls @ | grep -q petal-upload", root), 0);

	/* a path that is not there, a file that should be a directory, a bad ref */
	struct petal_upload missing = { .local_path = petal_xasprintf("%s/nope", src),
		                        .name = "spack/spack.tar" };
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(petal_render_upload_all(&c, dst, &missing, 1, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "/src/nope"));
	struct petal_upload notdir = { .local_path = u[2].local_path, .name = "repos/x.tar",
		                       .is_dir = 1 };
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(petal_render_upload_all(&c, dst, &notdir, 1, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not a directory"));
	if (have_git) {
		struct petal_upload badref = { .local_path = u[3].local_path, .name = "repos/g.tar",
			                       .is_dir = 1, .git_ref = "no-such-tag" };
		memset(&err, 0, sizeof(err));
		CU_ASSERT_EQUAL(petal_render_upload_all(&c, dst, &badref, 1, &err), PETAL_EIO);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "git archive of 'no-such-tag'"));
	}
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(petal_render_upload_all(&c, "", u, 1, &err), PETAL_EINVAL);
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(u); i++)
		free(u[i].local_path);
	free(missing.local_path);
	free(dst);
	free(src);
}

static int setup(void)
{
	struct petal_error err = { 0 };

	snprintf(root, sizeof(root), "%s/petal-uploads.XXXXXX",
	         getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (!mkdtemp(root))
		return -1;
	setenv("TMPDIR", root, 1);
	host = petal_host_new();
	reg.host = host;
	petal_registry_default_dirs(&reg);
	return petal_registry_scan(&reg, &err) == 0 ? 0 : -1;
}

static int teardown(void)
{
	petal_registry_release(&reg);
	petal_host_free(host);
	return sh("rm -rf '@'", root) == 0 ? 0 : -1;
}

/* upload SEED URL: the tool of tests/test_scripts_fetch.sh */
static int upload(const char *seed_path, const char *url)
{
	struct petal_diags d = { 0 };
	struct petal_error err = { 0 };
	struct petal_seed *s = NULL;
	struct petal_upload *u = NULL;
	struct petal_cloud c;
	size_t n = 0;
	int rc;

	host = petal_host_new();
	reg.host = host;
	petal_registry_default_dirs(&reg);
	rc = petal_registry_scan(&reg, &err);
	if (rc == 0)
		rc = petal_seed_load(seed_path, &s, &d, &err);
	if (rc == 0)
		rc = petal_render_uploads(s, &u, &n, &err);
	if (rc == 0)
		rc = open_cloud(url, &c, &err);
	if (rc == 0)
		rc = petal_render_upload_all(&c, url, u, n, &err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		printf("%s\n", u[i].name);
	if (rc != 0)
		fprintf(stderr, "test_uploads: %s\n", err.msg);
	petal_render_uploads_free(u, n);
	petal_seed_free(s);
	petal_diags_release(&d);
	petal_registry_release(&reg);
	petal_host_free(host);
	return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "upload") == 0)
		return upload(argv[2], argv[3]);
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("uploads", setup, teardown);
	if (!s || !CU_add_test(s, "the seed's file:// things and their names", test_names) ||
	    !CU_add_test(s, "uploads: tar, git archive, a tree; errors", test_upload_local)) {
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
