/* core/plugin: discovery, shadowing, masking, permission checks and the
   descriptor checks, against plugins built by the test suite
   (tests/plugins/) and copied into temporary directories. */
#define _GNU_SOURCE /* nftw */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../core/plugin/registry.h"
#include "../core/util/util.h"

static char *built;     /* where libtool left the test plugins */
static char *tmp_root;  /* everything this test writes */
static int n_tmp;

/* ---- fixtures ---------------------------------------------------------- */

static char *new_dir(int mode)
{
	char *dir = petal_xasprintf("%s/d%d", tmp_root, n_tmp++);

	if (mkdir(dir, 0700) < 0 || chmod(dir, (mode_t)mode) < 0) {
		perror(dir);
		abort();
	}
	return dir;
}

/* Copy tests/plugins/.libs/<plugin>.so into dir as file, with mode. */
static void install(const char *plugin, const char *dir, const char *file, int mode)
{
	char *src = petal_xasprintf("%s/%s.so", built, plugin);
	char *dst = petal_xasprintf("%s/%s", dir, file);
	char *data = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };

	if (petal_read_file(src, 64u << 20, &data, &len, &err) < 0 ||
	    petal_write_file(dst, data, len, 0755, &err) < 0 || chmod(dst, (mode_t)mode) < 0) {
		fprintf(stderr, "cannot install %s as %s: %s\n", src, dst, err.msg);
		abort();
	}
	free(data);
	free(src);
	free(dst);
}

static void write_text(const char *dir, const char *file, const char *text)
{
	char *dst = petal_xasprintf("%s/%s", dir, file);
	struct petal_error err = { 0 };

	if (petal_write_file(dst, text, strlen(text), 0755, &err) < 0) {
		fprintf(stderr, "%s\n", err.msg);
		abort();
	}
	free(dst);
}

static void symlink_in(const char *target, const char *dir, const char *file)
{
	char *dst = petal_xasprintf("%s/%s", dir, file);

	if (symlink(target, dst) < 0) {
		perror(dst);
		abort();
	}
	free(dst);
}

static struct petal_entry *entry_at(struct petal_registry *reg, const char *dir,
                                    const char *file)
{
	char *path = petal_xasprintf("%s/%s", dir, file);
	struct petal_entry *found = NULL;
	size_t i;

	for (i = 0; i < reg->n; i++)
		if (strcmp(reg->entries[i].path, path) == 0)
			found = &reg->entries[i];
	free(path);
	return found;
}

static void scan_dirs(struct petal_registry *reg, const char *const *dirs, size_t n)
{
	struct petal_error err = { 0 };
	size_t i;

	memset(reg, 0, sizeof(*reg));
	for (i = 0; i < n; i++)
		petal_registry_add_dir(reg, dirs[i], PETAL_DIR_ENV);
	CU_ASSERT_EQUAL(petal_registry_scan(reg, &err), 0);
}

static int has(const char *hay, const char *needle)
{
	return hay && needle && strstr(hay, needle) != NULL;
}

/* Assert the entry for dir/file exists, is in `state`, and its reason
   contains `why` (when given). */
#define ASSERT_ENTRY(reg, dir, file, st, why)                                  \
	do {                                                                   \
		struct petal_entry *e_ = entry_at((reg), (dir), (file));        \
		CU_ASSERT_PTR_NOT_NULL_FATAL(e_);                               \
		CU_ASSERT_EQUAL(e_->state, (st));                               \
		if ((why) != NULL && !has(e_->reason, (why))) {                 \
			fprintf(stderr, "\n%s: reason \"%s\" lacks \"%s\"\n", \
			        (file), e_->reason ? e_->reason : "(null)",    \
			        (const char *)(why));                          \
			CU_FAIL("reason text");                                 \
		}                                                               \
	} while (0)

static char *marker_path(void)
{
	return petal_xasprintf("%s/marker", tmp_root);
}

static char *read_marker(void)
{
	char *path = marker_path(), *data = NULL;
	size_t len;

	if (petal_read_file(path, 4096, &data, &len, NULL) < 0)
		data = NULL;
	free(path);
	return data;
}

/* ---- tests ------------------------------------------------------------- */

static void test_default_dirs(void)
{
	struct petal_registry reg = { 0 };
	char *saved = petal_xstrdup(getenv("PETAL_PLUGIN_PATH"));

	setenv("PETAL_PLUGIN_PATH", "/a::/b/c:", 1);
	petal_registry_default_dirs(&reg);
	CU_ASSERT_EQUAL_FATAL(reg.n_dirs, 2);
	CU_ASSERT_STRING_EQUAL(reg.dirs[0], "/a");
	CU_ASSERT_STRING_EQUAL(reg.dirs[1], "/b/c");
	CU_ASSERT_EQUAL(reg.dir_origin[1], PETAL_DIR_ENV);
	petal_registry_release(&reg);

	/* set but empty: still replaces the defaults */
	setenv("PETAL_PLUGIN_PATH", "", 1);
	petal_registry_default_dirs(&reg);
	CU_ASSERT_EQUAL(reg.n_dirs, 0);
	petal_registry_release(&reg);

	unsetenv("PETAL_PLUGIN_PATH");
	setenv("XDG_DATA_HOME", "/xdg", 1);
	petal_registry_default_dirs(&reg);
	CU_ASSERT_EQUAL_FATAL(reg.n_dirs, 3);
	CU_ASSERT_STRING_EQUAL(reg.dirs[0], "/xdg/petal/plugins");
	CU_ASSERT_EQUAL(reg.dir_origin[0], PETAL_DIR_USER);
	CU_ASSERT_STRING_EQUAL(reg.dirs[1], PETAL_SITE_PLUGINDIR);
	CU_ASSERT_EQUAL(reg.dir_origin[1], PETAL_DIR_SITE);
	CU_ASSERT_STRING_EQUAL(reg.dirs[2], PETAL_PLUGINDIR);
	CU_ASSERT_EQUAL(reg.dir_origin[2], PETAL_DIR_BUILTIN);
	petal_registry_release(&reg);

	/* a relative XDG_DATA_HOME is invalid: fall back to HOME */
	setenv("XDG_DATA_HOME", "rel", 1);
	setenv("HOME", "/home/u", 1);
	petal_registry_default_dirs(&reg);
	CU_ASSERT_EQUAL_FATAL(reg.n_dirs, 3);
	CU_ASSERT_STRING_EQUAL(reg.dirs[0], "/home/u/.local/share/petal/plugins");
	petal_registry_release(&reg);

	unsetenv("XDG_DATA_HOME");
	if (saved)
		setenv("PETAL_PLUGIN_PATH", saved, 1);
	free(saved);
}

/* Every kind of bad file in one directory, next to a good plugin that must
   still load, and whose init must not run just because it was listed. */
static void test_malformed(void)
{
	static const struct {
		const char *plugin, *file, *why;
	} bad[] = {
		{ "no_symbol", "tier_no_symbol.so", "no symbol `petal_plugin`" },
		{ "bad_magic", "tier_bad_magic.so", "bad magic 0xdeadbeef" },
		{ "abi_next", "tier_abi_next.so",
		  "built for ABI 3, petal speaks ABI 2; rebuild against this petal's "
		  "<petal/plugin.h>" },
		{ "abi_one", "tier_abi_one.so",
		  "built for ABI 1, petal speaks ABI 2; rebuild against this petal's "
		  "<petal/plugin.h>" },
		{ "unknown_kind", "tier_unknown_kind.so", "unknown kind 7" },
		{ "name_mismatch", "tier_name_mismatch.so",
		  "named \"someone-else\" but the file name says \"name-mismatch\"" },
		{ "bad_name", "tier_bad_name.so", "\"Bad Name\" is not [a-z0-9-]+" },
		{ "null_ops", "tier_null_ops.so", "no tier ops" },
		{ "small_ops", "tier_small_ops.so", "fewer than the" },
		{ "no_claim", "tier_no_claim.so", "tier ops lack claim" },
		{ "unresolved", "tier_unresolved.so", "petal_test_no_such_function" },
		{ "cloud_lying", "cloud_lying.so",
		  "declare PETAL_CAP_IMAGES but lack image_create" },
		{ "cloud_good", "tier_cloudy.so",
		  "the descriptor says kind cloud but the file name says tier" },
	};
	struct petal_registry reg;
	char *dir = new_dir(0755), *marker = marker_path();
	const char *dirs[] = { dir };
	struct petal_entry *e;
	size_t i, rejected = 0;

	for (i = 0; i < PETAL_ARRAY_SIZE(bad); i++)
		install(bad[i].plugin, dir, bad[i].file, 0755);
	install("good", dir, "tier_good_one.so", 0755);
	install("cloud_good", dir, "cloud_cloudy.so", 0755);
	write_text(dir, "tier_text.so", "this is not a shared object\n");
	write_text(dir, "tier_empty.so", "");
	install("good", dir, "tier_Upper.so", 0755);
	/* not candidates: ignored without an entry */
	write_text(dir, "README", "plugins live here\n");
	write_text(dir, "tier_good_one.la", "# libtool\n");
	write_text(dir, "other_thing.so", "");
	unlink(marker);

	scan_dirs(&reg, dirs, 1);
	for (i = 0; i < PETAL_ARRAY_SIZE(bad); i++)
		ASSERT_ENTRY(&reg, dir, bad[i].file, PETAL_ENTRY_REJECTED, bad[i].why);
	ASSERT_ENTRY(&reg, dir, "tier_unresolved.so", PETAL_ENTRY_REJECTED,
	             "most common cause: a missing dependency or an unresolved symbol");
	ASSERT_ENTRY(&reg, dir, "tier_text.so", PETAL_ENTRY_REJECTED,
	             "not an ELF shared object");
	ASSERT_ENTRY(&reg, dir, "tier_empty.so", PETAL_ENTRY_REJECTED, "empty");
	ASSERT_ENTRY(&reg, dir, "tier_Upper.so", PETAL_ENTRY_REJECTED, "[a-z0-9_]");
	ASSERT_ENTRY(&reg, dir, "tier_good_one.so", PETAL_ENTRY_ACTIVE, NULL);
	ASSERT_ENTRY(&reg, dir, "cloud_cloudy.so", PETAL_ENTRY_ACTIVE, NULL);
	CU_ASSERT_EQUAL(reg.n, PETAL_ARRAY_SIZE(bad) + 5);
	for (i = 0; i < reg.n; i++) {
		rejected += reg.entries[i].state == PETAL_ENTRY_REJECTED;
		/* a rejected plugin is closed: nothing may point into it */
		if (reg.entries[i].state == PETAL_ENTRY_REJECTED) {
			CU_ASSERT_PTR_NULL(reg.entries[i].handle);
			CU_ASSERT_PTR_NULL(reg.entries[i].desc);
		}
	}
	CU_ASSERT_EQUAL(rejected, PETAL_ARRAY_SIZE(bad) + 3);

	/* what the descriptor said survives its rejection, for the listing */
	e = entry_at(&reg, dir, "tier_abi_next.so");
	CU_ASSERT_EQUAL(e->abi, 3);
	CU_ASSERT_FALSE(e->have_desc);
	e = entry_at(&reg, dir, "tier_abi_one.so");
	CU_ASSERT_EQUAL(e->abi, 1);
	CU_ASSERT_FALSE(e->have_desc);
	e = entry_at(&reg, dir, "tier_name_mismatch.so");
	CU_ASSERT_TRUE(e->have_desc);
	CU_ASSERT_STRING_EQUAL(e->desc_name, "someone-else");
	CU_ASSERT_STRING_EQUAL(e->version, "1.0");

	/* the good ones are usable: found by descriptor name, '_' read as '-' */
	e = petal_registry_find(&reg, PETAL_KIND_TIER, "good-one");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_STRING_EQUAL(e->file_name, "good-one");
	CU_ASSERT_STRING_EQUAL(e->desc->version, "1.0");
	CU_ASSERT_PTR_NOT_NULL(petal_registry_find(&reg, PETAL_KIND_CLOUD, "cloudy"));
	CU_ASSERT_PTR_NULL(petal_registry_find(&reg, PETAL_KIND_TIER, "cloudy"));
	CU_ASSERT_PTR_NULL(petal_registry_find(&reg, PETAL_KIND_TIER, "someone-else"));

	/* listing ran no init */
	CU_ASSERT_EQUAL(access(marker, F_OK), -1);
	petal_registry_release(&reg);
	/* and releasing runs no fini of a plugin never initialised */
	CU_ASSERT_EQUAL(access(marker, F_OK), -1);
	free(marker);
	free(dir);
}

static void test_permissions(void)
{
	struct petal_registry reg;
	char *safe = new_dir(0755), *open_dir = new_dir(0777), *grp_dir = new_dir(0775);
	const char *dirs[] = { safe, open_dir, grp_dir };

	install("good", safe, "tier_group_w.so", 0775);
	install("good", safe, "tier_world_w.so", 0757);
	install("good", safe, "tier_good_one.so", 0755);
	install("rank_zeta", open_dir, "tier_zeta.so", 0755);
	install("rank_alpha", grp_dir, "tier_alpha.so", 0755);
	if (geteuid() == 0) {
		char *p;

		install("init_fails", safe, "tier_init_fails.so", 0755);
		p = petal_xasprintf("%s/tier_init_fails.so", safe);
		CU_ASSERT_EQUAL(chown(p, 65534, 65534), 0);
		free(p);
	}

	scan_dirs(&reg, dirs, 3);
	ASSERT_ENTRY(&reg, safe, "tier_group_w.so", PETAL_ENTRY_REJECTED,
	             "is group-writable (mode 0775)");
	ASSERT_ENTRY(&reg, safe, "tier_world_w.so", PETAL_ENTRY_REJECTED, "world-writable");
	ASSERT_ENTRY(&reg, safe, "tier_good_one.so", PETAL_ENTRY_ACTIVE, NULL);
	ASSERT_ENTRY(&reg, open_dir, "tier_zeta.so", PETAL_ENTRY_REJECTED,
	             "is world-writable (mode 0777)");
	ASSERT_ENTRY(&reg, open_dir, "tier_zeta.so", PETAL_ENTRY_REJECTED, open_dir);
	ASSERT_ENTRY(&reg, grp_dir, "tier_alpha.so", PETAL_ENTRY_REJECTED,
	             "group-writable");
	if (geteuid() == 0)
		ASSERT_ENTRY(&reg, safe, "tier_init_fails.so", PETAL_ENTRY_REJECTED,
		             "owned by uid 65534");
	petal_registry_release(&reg);
	free(safe);
	free(open_dir);
	free(grp_dir);
}

/* A site plugin shadows the built-in one of the same kind and name; the
   built-in file is a text file, so had it been opened it would show as
   rejected. */
static void test_shadow(void)
{
	struct petal_registry reg = { 0 };
	struct petal_error err = { 0 };
	char *site = new_dir(0755), *builtin = new_dir(0755);
	char *path = petal_xasprintf("%s:%s", site, builtin);
	char *saved = petal_xstrdup(getenv("PETAL_PLUGIN_PATH"));
	struct petal_entry *e;

	install("good", site, "tier_good_one.so", 0755);
	write_text(builtin, "tier_good_one.so", "not even ELF\n");
	install("rank_zeta", builtin, "tier_zeta.so", 0755);

	setenv("PETAL_PLUGIN_PATH", path, 1);
	petal_registry_default_dirs(&reg);
	CU_ASSERT_EQUAL(petal_registry_scan(&reg, &err), 0);
	ASSERT_ENTRY(&reg, site, "tier_good_one.so", PETAL_ENTRY_ACTIVE, NULL);
	ASSERT_ENTRY(&reg, builtin, "tier_good_one.so", PETAL_ENTRY_SHADOWED, site);
	ASSERT_ENTRY(&reg, builtin, "tier_zeta.so", PETAL_ENTRY_ACTIVE, NULL);
	e = petal_registry_find(&reg, PETAL_KIND_TIER, "good-one");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_TRUE(has(e->path, site));
	CU_ASSERT_PTR_NULL(entry_at(&reg, builtin, "tier_good_one.so")->handle);

	/* a registry is scanned once */
	CU_ASSERT_EQUAL(petal_registry_scan(&reg, &err), PETAL_EINVAL);
	petal_registry_release(&reg);

	if (saved)
		setenv("PETAL_PLUGIN_PATH", saved, 1);
	free(saved);
	free(path);
	free(site);
	free(builtin);
}

/* A symlink to /dev/null hides a kind and name from every later directory;
   one in a directory after the winner is merely shadowed. */
static void test_mask(void)
{
	struct petal_registry reg;
	char *a = new_dir(0755), *b = new_dir(0755), *c = new_dir(0755);
	const char *masked_first[] = { a, b, c };
	const char *masked_late[] = { b, a };
	char *mask_path = petal_xasprintf("%s/tier_good_one.so", a);

	symlink_in("/dev/null", a, "tier_good_one.so");
	install("good", b, "tier_good_one.so", 0755);
	install("good", c, "tier_good_one.so", 0755);
	install("rank_alpha", c, "tier_alpha.so", 0755);

	scan_dirs(&reg, masked_first, 3);
	ASSERT_ENTRY(&reg, a, "tier_good_one.so", PETAL_ENTRY_MASKED, "/dev/null");
	ASSERT_ENTRY(&reg, b, "tier_good_one.so", PETAL_ENTRY_MASKED, mask_path);
	ASSERT_ENTRY(&reg, c, "tier_good_one.so", PETAL_ENTRY_MASKED, mask_path);
	ASSERT_ENTRY(&reg, c, "tier_alpha.so", PETAL_ENTRY_ACTIVE, NULL);
	CU_ASSERT_PTR_NULL(petal_registry_find(&reg, PETAL_KIND_TIER, "good-one"));
	CU_ASSERT_PTR_NOT_NULL(petal_registry_find(&reg, PETAL_KIND_TIER, "alpha"));
	petal_registry_release(&reg);

	scan_dirs(&reg, masked_late, 2);
	ASSERT_ENTRY(&reg, b, "tier_good_one.so", PETAL_ENTRY_ACTIVE, NULL);
	ASSERT_ENTRY(&reg, a, "tier_good_one.so", PETAL_ENTRY_SHADOWED, b);
	petal_registry_release(&reg);

	free(mask_path);
	free(a);
	free(b);
	free(c);
}

static void test_tier_order(void)
{
	struct petal_registry reg;
	struct petal_entry **tiers = NULL, *dummy[1];
	char *dir = new_dir(0755);
	const char *dirs[] = { dir };
	size_t n;

	/* file order (alpha, cloudy, good, init, zeta) differs from rank order */
	install("good", dir, "tier_good_one.so", 0755);
	install("rank_zeta", dir, "tier_zeta.so", 0755);
	install("rank_alpha", dir, "tier_alpha.so", 0755);
	install("init_fails", dir, "tier_init_fails.so", 0755);
	install("cloud_good", dir, "cloud_cloudy.so", 0755);

	scan_dirs(&reg, dirs, 1);
	n = petal_registry_tiers(&reg, &tiers);
	CU_ASSERT_EQUAL_FATAL(n, 4);
	CU_ASSERT_STRING_EQUAL(tiers[0]->desc->name, "init-fails"); /* rank 1 */
	CU_ASSERT_STRING_EQUAL(tiers[1]->desc->name, "alpha");      /* rank 5 */
	CU_ASSERT_STRING_EQUAL(tiers[2]->desc->name, "zeta");       /* rank 5 */
	CU_ASSERT_STRING_EQUAL(tiers[3]->desc->name, "good-one");   /* rank 50 */
	free(tiers);
	petal_registry_release(&reg);

	/* no tiers: no array */
	memset(&reg, 0, sizeof(reg));
	tiers = dummy;
	CU_ASSERT_EQUAL(petal_registry_tiers(&reg, &tiers), 0);
	CU_ASSERT_PTR_NULL(tiers);
	free(dir);
}

/* In a child (exit ends the process): init `name` from dir with
   PETAL_TEST_EXIT=how, then exit(0).  Its stderr goes to err_path. */
static int init_in_child(const char *dir, const char *name, const char *how,
                         const char *err_path)
{
	static const struct petal_host host = { .size = sizeof(host), .abi = PETAL_PLUGIN_ABI };
	int status = -1;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		struct petal_registry reg;
		struct petal_error err = { 0 };
		const char *dirs[] = { dir };
		int fd = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
			_exit(98);
		setenv("PETAL_TEST_EXIT", how, 1);
		scan_dirs(&reg, dirs, 1);
		if (petal_entry_init(petal_registry_find(&reg, PETAL_KIND_TIER, name), &host,
		                     &err) != 0)
			_exit(97);
		petal_registry_release(&reg);
		exit(0); /* after init: an ordinary exit, not refused */
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

static void test_init_exits(void)
{
	char *dir = new_dir(0755), *err_path = petal_xasprintf("%s/stderr", tmp_root);
	char *said;
	size_t len;

	install("init_exits", dir, "tier_init_exits.so", 0755);
	install("good", dir, "tier_good_one.so", 0755);

	CU_ASSERT_EQUAL(init_in_child(dir, "init-exits", "0", err_path),
	                PETAL_EXIT_PLUGIN_EXITED);
	CU_ASSERT_EQUAL_FATAL(petal_read_file(err_path, 4096, &said, &len, NULL), 0);
	CU_ASSERT_TRUE(has(said, "petal: plugin tier/init-exits called exit(0) during init; "
	                   "refusing to continue"));
	free(said);

	CU_ASSERT_EQUAL(init_in_child(dir, "init-exits", "5", err_path),
	                PETAL_EXIT_PLUGIN_EXITED);
	CU_ASSERT_EQUAL_FATAL(petal_read_file(err_path, 4096, &said, &len, NULL), 0);
	CU_ASSERT_TRUE(has(said, "called exit(5) during init"));
	free(said);

	/* once init returned, exiting is the program's business */
	CU_ASSERT_EQUAL(init_in_child(dir, "good-one", "0", err_path), 0);
	CU_ASSERT_EQUAL_FATAL(petal_read_file(err_path, 4096, &said, &len, NULL), 0);
	CU_ASSERT_FALSE(has(said, "refusing"));
	free(said);

	free(err_path);
	free(dir);
}

static void test_init_lifecycle(void)
{
	/* init only looks at its host argument's presence here */
	static const struct petal_host host = { .size = sizeof(host), .abi = PETAL_PLUGIN_ABI };
	struct petal_registry reg;
	struct petal_error err = { 0 };
	char *dir = new_dir(0755), *marker = marker_path(), *seen;
	const char *dirs[] = { dir };
	struct petal_entry *good, *fails;

	install("good", dir, "tier_good_one.so", 0755);
	install("init_fails", dir, "tier_init_fails.so", 0755);
	install("bad_magic", dir, "tier_bad_magic.so", 0755);
	setenv("PETAL_TEST_MARKER", marker, 1);
	unlink(marker);

	scan_dirs(&reg, dirs, 1);
	good = petal_registry_find(&reg, PETAL_KIND_TIER, "good-one");
	fails = petal_registry_find(&reg, PETAL_KIND_TIER, "init-fails");
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fails);

	CU_ASSERT_EQUAL(petal_entry_init(good, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_entry_init(good, &host, &err), 0);
	CU_ASSERT_EQUAL(petal_entry_init(good, &host, &err), 0);
	CU_ASSERT_TRUE(good->initialised);
	CU_ASSERT_PTR_NOT_NULL(good->ctx);

	CU_ASSERT_EQUAL(petal_entry_init(fails, &host, &err), PETAL_EPLUGIN);
	CU_ASSERT_TRUE(has(err.msg, "init-fails"));
	CU_ASSERT_TRUE(has(err.msg, "init failed"));
	CU_ASSERT_FALSE(fails->initialised);
	memset(&err, 0, sizeof(err));
	CU_ASSERT_EQUAL(petal_entry_init(fails, &host, &err), PETAL_EPLUGIN);
	CU_ASSERT_TRUE(has(err.msg, "init-fails"));

	/* a rejected entry cannot be initialised, and says why */
	CU_ASSERT_EQUAL(petal_entry_init(entry_at(&reg, dir, "tier_bad_magic.so"), &host,
	                                 &err), PETAL_EPLUGIN);
	CU_ASSERT_TRUE(has(err.msg, "bad magic"));

	petal_registry_release(&reg);
	CU_ASSERT_EQUAL(reg.n, 0);
	petal_registry_release(&reg); /* twice: a no-op */
	petal_registry_release(NULL);

	/* each init ran once, fini once for the initialised plugin only */
	seen = read_marker();
	CU_ASSERT_PTR_NOT_NULL_FATAL(seen);
	CU_ASSERT_STRING_EQUAL(seen, "init\ninit-fails\nfini\n");
	free(seen);
	unsetenv("PETAL_TEST_MARKER");
	free(marker);
	free(dir);
}

static void test_names(void)
{
	CU_ASSERT_STRING_EQUAL(petal_kind_name(PETAL_KIND_TIER), "tier");
	CU_ASSERT_STRING_EQUAL(petal_kind_name(PETAL_KIND_CLOUD), "cloud");
	CU_ASSERT_PTR_NULL(petal_kind_name(7));
	CU_ASSERT_STRING_EQUAL(petal_entry_state_name(PETAL_ENTRY_SHADOWED), "shadowed");
	CU_ASSERT_STRING_EQUAL(petal_dir_origin_name(PETAL_DIR_SITE), "site");
}

/* A message longer than petal_error.msg is cut visibly, never silently, and
   a new failure clears what the former one's cloud said. */
static void test_error_cut(void)
{
	struct petal_error err = PETAL_ERROR_INIT;
	char big[3000];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	big[1020] = '\xc3'; /* a two-byte character across the cut */
	big[1021] = '\xbc';
	snprintf(err.request_id, sizeof(err.request_id), "stale");
	err.http_status = 503;
	CU_ASSERT_EQUAL(petal_fail(&err, PETAL_EIO, "%s", big), PETAL_EIO);
	size_t n = strlen(err.msg);
	CU_ASSERT(n < sizeof(err.msg) && n > 1000);
	CU_ASSERT_STRING_EQUAL(err.msg + n - 3, "...");
	CU_ASSERT_NOT_EQUAL((unsigned char)err.msg[n - 4], 0xc3);
	CU_ASSERT_STRING_EQUAL(err.request_id, "");
	CU_ASSERT_EQUAL(err.http_status, 0);
	/* a message that fits is whole; a prefix keeps the cloud's parts */
	petal_fail(&err, PETAL_ECLOUD, "short");
	CU_ASSERT_STRING_EQUAL(err.msg, "short");
	snprintf(err.request_id, sizeof(err.request_id), "r-1");
	petal_error_prefix(&err, "image_find");
	CU_ASSERT_STRING_EQUAL(err.msg, "image_find: short");
	CU_ASSERT_STRING_EQUAL(err.request_id, "r-1");
	CU_ASSERT_EQUAL(err.code, PETAL_ECLOUD);
}

/* ---- main -------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	const char *top = getenv("top_builddir");
	const char *tmpdir = getenv("TMPDIR");
	CU_pSuite suite;
	int failures;

	built = petal_xasprintf("%s/tests/plugins/.libs", top ? top : ".");
	tmp_root = petal_xasprintf("%s/petal-test-loader.XXXXXX", tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(tmp_root)) {
		perror("mkdtemp");
		return 1;
	}
	/* the modes under test are set explicitly; umask must not blur them */
	umask(022);

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("loader", NULL, NULL);
	if (!suite ||
	    !CU_add_test(suite, "default directories", test_default_dirs) ||
	    !CU_add_test(suite, "malformed plugins are rejected with reasons", test_malformed) ||
	    !CU_add_test(suite, "unsafe permissions", test_permissions) ||
	    !CU_add_test(suite, "a site plugin shadows a built-in one", test_shadow) ||
	    !CU_add_test(suite, "a symlink to /dev/null masks", test_mask) ||
	    !CU_add_test(suite, "tiers in rank order", test_tier_order) ||
	    !CU_add_test(suite, "init once, fini on release", test_init_lifecycle) ||
	    !CU_add_test(suite, "exit() in init is refused", test_init_exits) ||
	    !CU_add_test(suite, "names", test_names) ||
	    !CU_add_test(suite, "long error messages are cut visibly", test_error_cut)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = (int)CU_get_number_of_failures();
	CU_cleanup_registry();

	nftw(tmp_root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(tmp_root);
	free(built);
	return failures ? 1 : 0;
}
