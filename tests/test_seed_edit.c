/* core/seed/edit.c: one value of a seed changed, every other byte kept.
   Expected texts are made from the input (the old span replaced, or the new
   line put after a given place), so each case says what may change. */
#define _GNU_SOURCE /* mkdtemp, nftw */
#include "config.h"

#include <CUnit/Basic.h>
#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/seed/edit.h"
#include "../core/seed/node.h"
#include "../core/seed/seed.h"
#include "../core/util/util.h"

static char *tmp_root;

#define HEAD "cluster:\n  name: bio\n  region: us-east-1\n"

/* `text` with its one occurrence of `old` replaced by `with`. */
static char *replaced(const char *text, const char *old, const char *with)
{
	const char *p = strstr(text, old);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1, old)); /* the case must name one place */
	return petal_xasprintf("%.*s%s%s", (int)(p - text), text, with, p + strlen(old));
}

/* `text` with `ins` put right after its one occurrence of `after`. */
static char *inserted(const char *text, const char *after, const char *ins)
{
	const char *p = strstr(text, after);
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	CU_ASSERT_PTR_NULL(strstr(p + 1, after));
	p += strlen(after);
	return petal_xasprintf("%.*s%s%s", (int)(p - text), text, ins, p);
}

/* Edit `in`; the result must be `want` byte for byte, a valid seed, and
   read `value` back at `key`.  Takes `want`. */
static void expect_edit(const char *in, const char *key, const char *value, char *want)
{
	char *out = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	int rc = petal_seed_edit_text(in, strlen(in), key, value, &out, &len, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "\n  edit failed: %s\n", err.msg);
	if (!rc) {
		CU_ASSERT_EQUAL(len, strlen(out));
		CU_ASSERT_STRING_EQUAL(out, want);
		if (strcmp(out, want))
			fprintf(stderr, "\n  want:\n[%s]\n  got:\n[%s]\n", want, out);
		struct petal_seed *s = NULL;
		struct petal_diags d = { 0 };
		CU_ASSERT_EQUAL(petal_seed_load_text("seed.yaml", out, len, &s, &d, &err), 0);
		CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(s ? s->root : NULL, key)) ?
		                       petal_node_str(petal_node_path(s->root, key)) : "",
		                       value);
		petal_seed_free(s);
		petal_diags_release(&d);
	}
	free(out);
	free(want);
}

static void expect_refused(const char *in, const char *key, const char *value,
                           const char *why)
{
	char *out = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_seed_edit_text(in, strlen(in), key, value, &out, &len, &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NULL(out);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, why));
	if (!strstr(err.msg, why))
		fprintf(stderr, "\n  want '%s' in: %s\n", why, err.msg);
}

static void test_replace(void)
{
	/* comments everywhere, odd spacing, a trailing comment on the line */
	const char *in =
		"# petal seed   \n" HEAD
		"   # an indented comment\n"
		"compute:    # the nodes\n"
		"  head_node:    c5.xlarge   # small\n"
		"  custom_ami: ami-0123456789abcdef0  # baked\n"
		"  # after\n"
		"software:\n  spack_packages: [zlib]   # one\n";
	expect_edit(in, "compute.custom_ami", "ami-0fedcba9876543210",
	            replaced(in, "ami-0123456789abcdef0", "ami-0fedcba9876543210"));
	/* quoted old values go with their quotes */
	in = HEAD "compute:\n  custom_ami: \"ami-12345678\"\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "\"ami-12345678\"", "ami-87654321"));
	in = HEAD "compute:\n  custom_ami: 'my ''old'' image'   # x\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "'my ''old'' image'", "ami-87654321"));
	/* a flow mapping, its value in the middle */
	in = HEAD "compute: {custom_ami:   ami-12345678 ,head_node: c5.xlarge}\n";
	expect_edit(in, "compute.custom_ami", "ami-0fedcba9876543210",
	            replaced(in, "ami-12345678", "ami-0fedcba9876543210"));
	/* CRLF, and the value the last bytes of a file without a final newline */
	in = "cluster:\r\n  name: bio\r\n  region: us-east-1\r\ncompute:\r\n"
	     "  custom_ami: ami-12345678";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "ami-12345678", "ami-87654321"));
	/* characters of several bytes before the span (libyaml counts characters) */
	in = "# caf\xc3\xa9 \xe2\x98\x95 \xf0\x9f\x8c\xb8\n" HEAD
	     "compute:\n  head_node: c5.xlarge # \xc3\xa9t\xc3\xa9\n  custom_ami: ami-12345678\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "ami-12345678", "ami-87654321"));
	/* a document with --- and ... */
	in = "--- # the seed\n" HEAD "compute:\n  custom_ami: ami-12345678\n...\n# done\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "ami-12345678", "ami-87654321"));
	/* an empty value */
	in = HEAD "compute:\n  custom_ami:   # to be baked\n  head_node: c5.xlarge\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "custom_ami:", " ami-87654321"));
	/* a tag goes with the old value */
	in = HEAD "compute:\n  custom_ami: !!str ami-12345678 # t\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "!!str ami-12345678", "ami-87654321"));
	/* another key of the same name elsewhere is not touched */
	in = HEAD "plugins:\n  x:\n    custom_ami: ami-11111111\n"
	     "compute:\n  custom_ami: ami-22222222\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            replaced(in, "ami-22222222", "ami-87654321"));
}

static void test_insert(void)
{
	/* block: a new line after the map's last content, at its indentation */
	const char *in = HEAD "compute:\n  head_node: c5.xlarge  # small\n"
	                 "  queues:\n    - name: cpu\n      instance_types: [c5.xlarge]   # t\n"
	                 "# about software\nsoftware:\n  spack_packages: [zlib]\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "[c5.xlarge]   # t\n", "  custom_ami: ami-87654321\n"));
	/* four-space indentation is kept */
	in = "cluster:\n    name: bio\n    region: us-east-1\ncompute:\n    head_node: c5.xlarge\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "head_node: c5.xlarge\n", "    custom_ami: ami-87654321\n"));
	/* CRLF lines get a CRLF line */
	in = "cluster:\r\n  name: bio\r\n  region: us-east-1\r\ncompute:\r\n"
	     "  head_node: c5.xlarge\r\nsoftware:\r\n  spack_packages: [zlib]\r\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "c5.xlarge\r\n", "  custom_ami: ami-87654321\r\n"));
	/* no final newline: the file still ends without one */
	in = HEAD "compute:\n  head_node: c5.xlarge   # last";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "# last", "\n  custom_ami: ami-87654321"));
	/* flow: ", key: value" after the last value */
	in = HEAD "compute: { head_node: c5.xlarge }  # flow\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "c5.xlarge", ", custom_ami: ami-87654321"));
	in = HEAD "compute: {}\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "{", "custom_ami: ami-87654321"));
	/* compute: with nothing under it */
	in = HEAD "compute:   # soon\nsoftware:\n  spack_packages: [zlib]\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "# soon\n", "  custom_ami: ami-87654321\n"));
	/* the section absent: appended to the document, before its "..." */
	in = "--- # the seed\n" HEAD "software:\n  spack_packages:\n    - zlib  # z\n...\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "# z\n", "compute:\n  custom_ami: ami-87654321\n"));
	in = "cluster:\n   name: bio\n   region: us-east-1";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "us-east-1", "\ncompute:\n   custom_ami: ami-87654321"));
	in = "{cluster: {name: bio, region: us-east-1}}\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "us-east-1}", ", compute: {custom_ami: ami-87654321}"));
	/* after a literal block scalar, the new section starts on its own line */
	in = HEAD "plugins:\n  x:\n    script: |\n      echo hi\n\n      echo there\n"
	     "# end\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "echo there\n", "compute:\n  custom_ami: ami-87654321\n"));
	/* a UTF-8 byte order mark stays, and the offsets after it hold */
	in = "\xef\xbb\xbf" HEAD "compute:\n  head_node: c5.xlarge\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "c5.xlarge\n", "  custom_ami: ami-87654321\n"));
	/* a flow mapping over several lines */
	in = HEAD "compute: {\n  head_node: c5.xlarge,  # h\n}\n";
	expect_edit(in, "compute.custom_ami", "ami-87654321",
	            inserted(in, "c5.xlarge", ", custom_ami: ami-87654321"));
	/* deeper keys */
	in = HEAD "software:\n  spack_packages: [zlib]\n";
	expect_edit(in, "software.build.timeout", "6h",
	            inserted(in, "[zlib]\n", "  build:\n    timeout: '6h'\n"));
}

static void test_quoting(void)
{
	const char *in = HEAD "compute:\n  custom_ami: ami-12345678\n";
	expect_edit(in, "compute.custom_ami", "yes",
	            replaced(in, "ami-12345678", "'yes'"));
	expect_edit(in, "compute.custom_ami", "petal bio [v2]",
	            replaced(in, "ami-12345678", "'petal bio [v2]'"));
	expect_edit(in, "compute.custom_ami", "it's-mine",
	            replaced(in, "ami-12345678", "'it''s-mine'"));
	expect_edit(in, "compute.custom_ami", "petal bio (v2)",
	            replaced(in, "ami-12345678", "petal bio (v2)"));
	CU_ASSERT_FALSE(petal_seed_needs_quotes("ami-0123456789abcdef0"));
	CU_ASSERT_FALSE(petal_seed_needs_quotes("aws-parallelcluster-3.11.1-amzn2023"));
	const char *quoted[] = { "", "123", "1.5", "0x1f", "~", "null", "NO", "on", "y",
		                 "-x", "a: b", "a #b", "a,b", "{x}", "[x]", "trailing ",
		                 "*alias", "&anchor", "!tag", "%x", "@x", "`x", "'x'", "\"x\"",
		                 ".inf", "2024-01-01" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(quoted); i++) {
		CU_ASSERT_TRUE(petal_seed_needs_quotes(quoted[i]));
		if (!petal_seed_needs_quotes(quoted[i]))
			fprintf(stderr, "\n  not quoted: [%s]\n", quoted[i]);
	}
}

static void test_refusals(void)
{
	expect_refused(HEAD "compute:\n  - a\n", "compute.custom_ami", "ami-87654321",
	               "compute is a list, not a mapping");
	expect_refused(HEAD "compute:\n  custom_ami: {a: 1}\n", "compute.custom_ami",
	               "ami-87654321", "custom_ami is a mapping, not a single value");
	expect_refused(HEAD "compute: [\n", "compute.custom_ami", "ami-87654321",
	               "malformed YAML");
	expect_refused(HEAD, "compute.custom_ami", "ami-1\nx: 2", "line break");
	expect_refused(HEAD, "compute..custom_ami", "ami-87654321", "not a key path");
	expect_refused(HEAD, "compute.a: b", "ami-87654321", "not a key path");
}

/* ---- the file ------------------------------------------------------------ */

static char *write_seed(const char *name, const char *text, int mode)
{
	char *path = petal_xasprintf("%s/%s", tmp_root, name);
	FILE *f = fopen(path, "wb");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
	return path;
}

static char *slurp(const char *path)
{
	char *data = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	if (petal_read_file(path, 1 << 20, &data, &len, &err) != 0)
		return NULL;
	return data;
}

/* Files in dir other than `keep`: no temporary file may be left. */
static int others_in(const char *dir, const char *keep)
{
	DIR *d = opendir(dir);
	int n = 0;
	for (struct dirent *e; d && (e = readdir(d));)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep))
			n++;
	if (d)
		closedir(d);
	return n;
}

static const char *SEED = "# bio\n" HEAD "compute:   # nodes\n"
                          "  custom_ami: ami-12345678  # baked\n"
                          "software: {spack_packages: [zlib]}\n";

static void test_file(void)
{
	char *dir = petal_xasprintf("%s/ok", tmp_root);
	mkdir(dir, 0755);
	char *path = write_seed("ok/seed.yaml", SEED, 0640);
	struct petal_error err = { 0 };
	int rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-0fedcba9876543210",
	                               SEED, strlen(SEED), &err);
	CU_ASSERT_EQUAL(rc, 0);
	char *want = replaced(SEED, "ami-12345678", "ami-0fedcba9876543210");
	char *got = slurp(path);
	CU_ASSERT_STRING_EQUAL(got ? got : "", want);
	struct stat st;
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
	CU_ASSERT_EQUAL(others_in(dir, "seed.yaml"), 0);
	free(got);
	got = NULL;

	/* another user's file (root can make one): the new version is still theirs */
	if (geteuid() == 0) {
		CU_ASSERT_EQUAL(chown(path, 65534, 65534), 0);
		rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-11111111", want,
		                           strlen(want), &err);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(stat(path, &st), 0);
		CU_ASSERT_EQUAL(st.st_uid, 65534);
		CU_ASSERT_EQUAL(st.st_gid, 65534);
		CU_ASSERT_EQUAL(st.st_mode & 07777, 0640);
		char *cur = slurp(path);
		CU_ASSERT_PTR_NOT_NULL_FATAL(cur);
		rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-0fedcba9876543210",
		                           cur, strlen(cur), &err);
		CU_ASSERT_EQUAL(rc, 0);
		free(cur);
	}

	/* through a symlink: the target is edited and the link stays a link */
	char *link = petal_xasprintf("%s/link.yaml", dir);
	CU_ASSERT_EQUAL(symlink("seed.yaml", link), 0);
	rc = petal_seed_set_scalar(link, "compute.custom_ami", "ami-12345678", want,
	                           strlen(want), &err);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_EQUAL(lstat(link, &st), 0);
	CU_ASSERT_TRUE(S_ISLNK(st.st_mode));
	got = slurp(path);
	CU_ASSERT_STRING_EQUAL(got ? got : "", SEED);
	free(got);
	free(link);
	free(want);
	free(path);
	free(dir);
}

static void test_changed_since_read(void)
{
	char *path = write_seed("changed.yaml", SEED, 0644);
	/* the caller read SEED; someone saved another version since */
	char *theirs = replaced(SEED, "# bio", "# bio, edited by hand");
	FILE *f = fopen(path, "wb");
	fputs(theirs, f);
	fclose(f);
	struct petal_error err = { 0 };
	int rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-87654321", SEED,
	                               strlen(SEED), &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "changed since petal read it"));
	char *got = slurp(path);
	CU_ASSERT_STRING_EQUAL(got ? got : "", theirs);
	free(got);
	free(theirs);
	free(path);
}

static void test_invalid_result(void)
{
	char *path = write_seed("invalid.yaml", SEED, 0644);
	struct petal_error err = { 0 };
	/* three hex digits: not an AMI id, and the seed says so */
	int rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-123", SEED,
	                               strlen(SEED), &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "would not be valid"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "compute.custom_ami"));
	/* a seed with an anchor was never valid: refused, not "fixed" */
	const char *anchored = "cluster: &c {name: bio, region: us-east-1}\n"
	                       "compute:\n  custom_ami: ami-12345678\n";
	char *apath = write_seed("anchored.yaml", anchored, 0644);
	rc = petal_seed_set_scalar(apath, "compute.custom_ami", "ami-87654321", anchored,
	                           strlen(anchored), &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "anchor"));
	char *got = slurp(path), *agot = slurp(apath);
	CU_ASSERT_STRING_EQUAL(got ? got : "", SEED);
	CU_ASSERT_STRING_EQUAL(agot ? agot : "", anchored);
	free(got);
	free(agot);
	free(apath);
	free(path);
}

/* A directory petal may not write in: an error, and the seed as it was.
   Root writes anywhere, so as root the attempt runs as nobody. */
static void test_read_only_dir(void)
{
	char tmpl[] = "/tmp/petal-test-edit-ro.XXXXXX";
	char *dir = mkdtemp(tmpl);
	CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
	char *path = petal_xasprintf("%s/seed.yaml", dir);
	FILE *f = fopen(path, "wb");
	fputs(SEED, f);
	fclose(f);
	chmod(path, 0666); /* writable in place; only the directory is closed */
	chmod(dir, 0555);
	pid_t pid = fork();
	if (pid == 0) {
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		struct petal_error err = { 0 };
		int rc = petal_seed_set_scalar(path, "compute.custom_ami", "ami-87654321", SEED,
		                               strlen(SEED), &err);
		if (rc == 0)
			_exit(1);
		fprintf(stderr, "\n  refused: %s\n", err.msg);
		_exit(strstr(err.msg, "cannot create a temporary file") ? 0 : 2);
	}
	int status = 0;
	waitpid(pid, &status, 0);
	CU_ASSERT_TRUE(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
	char *got = slurp(path);
	CU_ASSERT_STRING_EQUAL(got ? got : "", SEED);
	free(got);
	CU_ASSERT_EQUAL(others_in(dir, "seed.yaml"), 0);
	chmod(dir, 0700);
	unlink(path);
	rmdir(dir);
	free(path);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int main(void)
{
	char tmpl[] = "/tmp/petal-test-seed-edit.XXXXXX";
	tmp_root = mkdtemp(tmpl);
	if (!tmp_root) {
		perror("mkdtemp");
		return 2;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("seed edit", NULL, NULL);
	if (!s || !CU_add_test(s, "a value replaced, the rest kept", test_replace) ||
	    !CU_add_test(s, "an absent key added in its map's style", test_insert) ||
	    !CU_add_test(s, "values quoted only when YAML would misread them", test_quoting) ||
	    !CU_add_test(s, "what cannot be edited", test_refusals) ||
	    !CU_add_test(s, "the file rewritten, mode kept", test_file) ||
	    !CU_add_test(s, "a file changed since it was read", test_changed_since_read) ||
	    !CU_add_test(s, "a result that is not a valid seed", test_invalid_result) ||
	    !CU_add_test(s, "a read-only directory", test_read_only_dir)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests() == CUE_SUCCESS ? 0 : 2;
	if (!rc && CU_get_number_of_failures() != 0)
		rc = 1;
	CU_cleanup_registry();
	nftw(tmp_root, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return rc;
}
