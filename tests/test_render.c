/* core/render and the tiers' render ops: every example seed rendered into the
 * five files, each checked by something that did not write it (a strict
 * ParallelCluster checker, shellcheck, a YAML parser, the scripts run in a
 * sandbox, as the head node and as compute nodes), plus quoting, a missing
 * subnet, hostile seeds, and the shared volume (tests/render/layout.c). */
#define _GNU_SOURCE /* nftw */
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

#include <petal/shell.h>

#include "../core/render/render_int.h"
#include "render/fixture.h"

/* ---- tests ----------------------------------------------------------------- */

static void test_quoting_rule(void)
{
	static const char *const quoted[] = {
		"1234", "-1", "+1", "0x1F", "0o17", "017", "1e3", "1.5", ".5", ".inf", ".NaN",
		"2024-01-01", "12:30", "true", "True", "FALSE", "yes", "No", "on", "OFF", "y",
		"n", "null", "NULL", "~", "", " lead", "*star", "&amp", "!tag", "@at", "`tick",
		"'q", "\"q", "%p", "#c", "{x", "[x", "|x", ">x", "-", "? x", ": x", "=",
	};
	static const char *const plain[] = {
		"lab", "compute", "c5.18xlarge", "subnet-0123456789abcdef0", "alinux2023",
		"s3://bucket/key", "/opt/petal/modules", "samtools/1.17", "my-lab-key",
		"nullify", "yesterday", "Only",
	};

	for (size_t i = 0; i < PETAL_ARRAY_SIZE(quoted); i++) {
		if (!render_needs_quotes(quoted[i]))
			fprintf(stderr, "\n  '%s' would be written plain\n", quoted[i]);
		CU_ASSERT(render_needs_quotes(quoted[i]));
	}
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(plain); i++)
		CU_ASSERT(!render_needs_quotes(plain[i]));
}

static char *module_name(const struct petal_seed_pkg *p)
{
	return p->spec.versions != NULL ? petal_xasprintf("%s/%s", p->spec.name, p->spec.versions)
	                                : petal_xstrdup(p->spec.name);
}

/* What the plan says must be in spack.yaml, modules.yaml, container-modules.yaml
   and the config. */
static void check_contents(const struct petal_seed *seed, const char *dir)
{
	struct petal_node *spack = parse_yaml(dir, "spack.yaml");
	struct petal_node *mods = parse_yaml(dir, "container-modules.yaml");
	struct petal_node *smods = parse_yaml(dir, "modules.yaml");
	struct petal_node *cfg = parse_yaml(dir, "cluster-config.yaml");
	struct fixture f;
	struct petal_plan *plan = plan_for(seed, &f);
	char *url = plan != NULL ? petal_render_artifacts_url(&plan->info) : petal_xstrdup("?");
	char *script = petal_xasprintf("%s/node-bootstrap.sh", url);
	const struct petal_node *m;

	CU_ASSERT_PTR_NOT_NULL_FATAL(spack);
	CU_ASSERT_PTR_NOT_NULL_FATAL(mods);
	CU_ASSERT_PTR_NOT_NULL_FATAL(smods);
	CU_ASSERT_PTR_NOT_NULL_FATAL(cfg);
	for (size_t i = 0; i < seed->n_pkgs; i++) {
		const struct petal_seed_pkg *p = &seed->pkgs[i];

		if (p->section != PETAL_SECTION_CONTAINER) {
			CU_ASSERT(list_has(spack, "spack.specs", p->text));
		} else {
			char *name = module_name(p);

			m = petal_node_get(petal_node_path(mods, "lmod.modules"), name);
			CU_ASSERT_PTR_NOT_NULL(m);
			CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_get(m, "image")) ?: "",
			                       seed->containers[p->container].image);
			free(name);
		}
	}
	if (seed->cache_bucket != NULL) {
		char *mirror = petal_xasprintf("s3://%s/%s", seed->cache_bucket, seed->cache_prefix);

		CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(spack,
		                       "spack.mirrors.petal-cache.url")) ?: "", mirror);
		CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(spack,
		                       "spack.mirrors.petal-cache.signed")) ?: "", "false");
		free(mirror);
	}
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg,
	                       "HeadNode.CustomActions.OnNodeConfigured.Script")) ?: "", script);
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg,
	                       "HeadNode.Networking.SubnetId")) ?: "", SUBNET);
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg, "Image.Os")) ?: "", seed->os);
	if (seed->custom_ami != NULL && strncmp(seed->custom_ami, "ami-", 4) == 0 &&
	    strspn(seed->custom_ami + 4, "0123456789abcdef") == 17) {
		CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg, "Image.CustomAmi")) ?: "",
		                       seed->custom_ami);
	} else {
		CU_ASSERT_PTR_NULL(petal_node_path(cfg, "Image.CustomAmi"));
	}
	/* Spack 1.1: the builtin repository it pins; Lmod modules without hashes */
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(spack,
	                       "spack.repos.builtin:.tag")) ?: "", "v2025.11.0");
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(smods,
	                       "modules.default.lmod.hash_length")) ?: "", "0");
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(smods,
	                       "modules.default.lmod.projections.all")) ?: "", "{name}/{version}");
	CU_ASSERT(list_has(smods, "modules.default.enable", "lmod"));
	free(script);
	free(url);
	fixture_release(&f);
	petal_node_free(spack);
	petal_node_free(mods);
	petal_node_free(smods);
	petal_node_free(cfg);
}

/* Both scripts run in the sandbox; the packages reach Spack whole. */
static void check_scripts_run(const struct petal_seed *seed, const char *dir)
{
	int rc;
	char *build = sandbox(dir, "build-instance.sh", "all", &rc);
	char *node;

	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(!exists_in(build, "PWNED"));
	node = sandbox(dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(!exists_in(node, "PWNED"));
	for (size_t i = 0; i < seed->n_pkgs; i++) {
		const struct petal_seed_pkg *p = &seed->pkgs[i];

		if (p->section == PETAL_SECTION_CONTAINER) {
			char *name = module_name(p);
			char *lua = petal_xasprintf("opt/petal/modules/%s.lua", name);

			CU_ASSERT(exists_in(node, lua));
			free(lua);
			free(name);
		} else if (!got_arg(build, p->text) && !got_arg(node, p->text)) {
			fprintf(stderr, "\n  %s reached no spack command whole\n", p->text);
			CU_FAIL("a package's spec reached no spack command whole");
		}
	}
	free(build);
	free(node);
}

/* Each step's action names parts the rendered scripts have: a build
   instance's part runs alone and installs the step's packages; a node part is
   a function of node-bootstrap.sh. */
static void check_action_parts(const struct petal_seed *seed, const char *dir)
{
	struct fixture f;
	struct petal_plan *plan = plan_for(seed, &f);
	char *node = slurp(dir, "node-bootstrap.sh");

	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	CU_ASSERT_PTR_NOT_NULL_FATAL(node);
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct petal_plan_step *s = &plan->steps[i];
		const struct petal_plan_action *a = s->action;
		int on_instance;

		CU_ASSERT_PTR_NOT_NULL_FATAL(a);
		on_instance = a->kind == PETAL_ACTION_IMAGE || a->kind == PETAL_ACTION_CACHE_FILL ||
		              a->kind == PETAL_ACTION_BUILD_INSTANCE;
		for (size_t k = 0; k < a->n_parts; k++) {
			if (on_instance) {
				int rc;
				char *box = sandbox(dir, "build-instance.sh", a->parts[k], &rc);

				CU_ASSERT_EQUAL(rc, 0);
				for (size_t p = 0; p < s->n_packages; p++)
					CU_ASSERT(got_arg(box, s->packages[p]));
				free(box);
			} else {
				struct petal_strbuf fn = PETAL_STRBUF_INIT;

				petal_strbuf_puts(&fn, "\ntier_");
				for (const char *c = a->parts[k]; *c; c++)
					petal_strbuf_putc(&fn, *c == '-' ? '_' : *c);
				petal_strbuf_puts(&fn, "() {\n");
				CU_ASSERT_PTR_NOT_NULL(strstr(node, petal_strbuf_str(&fn)));
				petal_strbuf_release(&fn);
			}
		}
	}
	free(node);
	fixture_release(&f);
}

static void test_examples(void)
{
	const char *seeds = getenv("PETAL_SEEDS");
	char *dirpath = seeds != NULL ? petal_xstrdup(seeds)
	                              : petal_xasprintf("%s/seeds", top_srcdir);
	DIR *d = opendir(dirpath);
	struct dirent *de;
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		char *path, *dir;
		struct petal_seed *seed = NULL;
		struct petal_diags diags = { 0 };
		struct petal_error err = { 0 };
		int rc;

		if (len < 6 || strcmp(de->d_name + len - 5, ".yaml") != 0)
			continue;
		path = petal_xasprintf("%s/%s", dirpath, de->d_name);
		rc = petal_seed_load(path, &seed, &diags, &err);
		CU_ASSERT_EQUAL(rc, 0);
		petal_diags_release(&diags);
		free(path);
		if (rc < 0)
			continue;
		n++;
		fprintf(stderr, "[%s] ", de->d_name);
		dir = render_seed(seed, SUBNET, "lab", &rc, &err);
		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(mode_of(dir, "build-instance.sh"), 0755);
		CU_ASSERT_EQUAL(mode_of(dir, "node-bootstrap.sh"), 0755);
		CU_ASSERT_EQUAL(mode_of(dir, "cluster-config.yaml"), 0644);
		CU_ASSERT_EQUAL(mode_of(dir, "spack.yaml"), 0644);
		CU_ASSERT_EQUAL(mode_of(dir, "modules.yaml"), 0644);
		CU_ASSERT_EQUAL(mode_of(dir, "container-modules.yaml"), 0644);
		if (rc == 0) {
			CU_ASSERT_EQUAL(check_config(dir), 0);
			CU_ASSERT_EQUAL(shellcheck(dir, "build-instance.sh"), 0);
			CU_ASSERT_EQUAL(shellcheck(dir, "node-bootstrap.sh"), 0);
			check_contents(seed, dir);
			check_scripts_run(seed, dir);
			check_action_parts(seed, dir);
			check_layout(seed, dir);
		}
		free(dir);
		petal_seed_free(seed);
	}
	closedir(d);
	free(dirpath);
	CU_ASSERT(n >= 5); /* the four tier examples and the hybrid one */
}

static const char hybrid_text[] =
	"cluster: {name: q, region: us-east-1}\n"
	"compute:\n"
	"  custom_ami: ami-base-bio-v2\n"
	"  queues: [{name: compute, instance_types: [c5.xlarge, c5.2xlarge], max_count: 4}]\n"
	"software:\n"
	"  use_custom_ami: true\n"
	"  in_ami: [gcc@12.3.0]\n"
	"  binary_cache: {s3_bucket: my-lab-spack-cache, s3_prefix: bio}\n"
	"  spack_packages: [samtools@1.17]\n"
	"  build_from_source: [lab-aligner@2.1]\n";

/* Key names YAML would read as something else come out quoted. */
static void test_scalars_quoted(void)
{
	static const char *const keys[] = {
		"1234", "true", "null", "0x1F", "1e3", "2024-01-01", "yes", "~", "-1", ".inf", "on",
	};
	struct petal_seed *seed = load_text(hybrid_text);

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(keys); i++) {
		struct petal_error err;
		struct petal_node *cfg;
		const struct petal_node *k;
		int rc;
		char *dir = render_seed(seed, SUBNET, keys[i], &rc, &err);

		CU_ASSERT_EQUAL(rc, 0);
		CU_ASSERT_EQUAL(check_config(dir), 0); /* KeyName must load as a string */
		cfg = parse_yaml(dir, "cluster-config.yaml");
		k = petal_node_path(cfg, "HeadNode.Ssh.KeyName");
		CU_ASSERT_PTR_NOT_NULL(k);
		if (k != NULL) {
			CU_ASSERT_STRING_EQUAL(k->scalar, keys[i]);
			CU_ASSERT(k->quoted);
		}
		/* integers stay integers */
		k = petal_node_path(cfg, "Scheduling.SlurmQueues");
		CU_ASSERT(k != NULL && k->n == 1);
		petal_node_free(cfg);
		free(dir);
	}
	petal_seed_free(seed);
}

static void test_missing_subnet(void)
{
	struct petal_seed *seed = load_text(hybrid_text);
	struct petal_error err;
	int rc;
	char *dir;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, NULL, NULL, &rc, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "--subnet-id"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "network.subnet_id"));
	CU_ASSERT(access(dir, F_OK) != 0); /* nothing written */
	free(dir);

	dir = render_seed(seed, "subnet-NOPE", NULL, &rc, &err);
	CU_ASSERT_EQUAL(rc, PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "subnet-NOPE"));
	free(dir);
	petal_seed_free(seed);

	/* the seed's own subnet serves; KeyName stays out when nobody names one */
	seed = load_text("cluster: {name: q, region: us-east-1}\n"
	                 "network: {subnet_id: subnet-0a1b2c3d}\n"
	                 "software: {build_from_source: [zlib]}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, NULL, NULL, &rc, &err);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc == 0) {
		struct petal_node *cfg = parse_yaml(dir, "cluster-config.yaml");

		CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg,
		                       "HeadNode.Networking.SubnetId")) ?: "", "subnet-0a1b2c3d");
		CU_ASSERT_PTR_NULL(petal_node_path(cfg, "HeadNode.Ssh"));
		CU_ASSERT_EQUAL(check_config(dir), 0);
		petal_node_free(cfg);
	}
	free(dir);
	petal_seed_free(seed);
}

/* What a seed can carry into a script arrives as one word, and runs nothing. */
static void test_hostile(void)
{
	static const char text[] =
		"cluster: {name: evil, region: us-east-1}\n"
		"compute:\n"
		"  custom_ami: \"it's (x) [y]\"\n"
		"  queues: [{name: q, instance_types: [c5.xlarge], max_count: 2}]\n"
		"software:\n"
		"  use_custom_ami: true\n"
		"  in_ami: [\"gcc@12.3.0 cflags=\\\"-O3 '$(touch PWNED)'\\\"\"]\n"
		"  binary_cache:\n"
		"    s3_bucket: my-bucket\n"
		"    s3_prefix: \"x'$(touch PWNED)'`touch PWNED`;touch PWNED\"\n"
		"  spack_packages: [\"foo ldflags=\\\"`touch PWNED`; touch PWNED\\\"\"]\n"
		"  build_from_source: [\"bar cppflags='\\\"$(touch PWNED)\\\"'\"]\n";
	struct petal_seed *seed = load_text(text);
	struct petal_error err;
	char *dir, *box, *mirror;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, "k'; touch PWNED; echo '", &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(check_config(dir), 0);
	CU_ASSERT_EQUAL(shellcheck(dir, "build-instance.sh"), 0);
	CU_ASSERT_EQUAL(shellcheck(dir, "node-bootstrap.sh"), 0);
	check_scripts_run(seed, dir);
	check_layout(seed, dir); /* compute nodes too */

	mirror = petal_xasprintf("s3://my-bucket/%s", seed->cache_prefix);
	box = sandbox(dir, "build-instance.sh", "all", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(got_arg(box, mirror));
	CU_ASSERT(!exists_in(box, "PWNED"));
	free(box);
	/* a part by name, and an unknown part refused */
	box = sandbox(dir, "build-instance.sh", "binary-cache", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(got_arg(box, seed->pkgs[1].text));
	CU_ASSERT(!got_arg(box, seed->pkgs[0].text));
	free(box);
	box = sandbox(dir, "build-instance.sh", "'no; such'", &rc);
	CU_ASSERT_EQUAL(rc, 2);
	free(box);
	free(mirror);
	free(dir);
	petal_seed_free(seed);
}

/* Values a seed or a cloud could hand the quoter, the nastier the better. */
static const char *const nasty[] = {
	"", "'", "''", "a'b", "it's", "$(touch PWNED)", "`touch PWNED`", "${HOME}",
	"$HOME", "a\nb; touch PWNED", "\n", "x\\", "\\'", "\"", "\"$(touch PWNED)\"",
	"'; touch PWNED; echo '", "a b\tc", "*", "~", "!x", "-n", "#c", "a&&touch PWNED",
	"|touch PWNED", ">PWNED", "\xc3\xa9\xff\xfe\x80", "\x01\x1b[31m", "$'\\x41'",
};

/* petal's one quoter: sh reads each word back as the same bytes, and nothing
   in it runs; the rendered form (render_shquote) is the same word. */
static void test_shell_quote(void)
{
	char *dir = new_dir();
	struct petal_strbuf script = PETAL_STRBUF_INIT;
	char small[4];

	CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0700), 0);
	/* one line per value, as the rendered scripts write them */
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(nasty); i++) {
		struct petal_strbuf sb = PETAL_STRBUF_INIT;
		size_t n = petal_shell_quote(NULL, 0, nasty[i]);
		char *word = petal_xmalloc(n + 1);

		CU_ASSERT_EQUAL(petal_shell_quote(word, n + 1, nasty[i]), n);
		CU_ASSERT_EQUAL(strlen(word), n);
		render_shquote(&sb, nasty[i]);
		CU_ASSERT_STRING_EQUAL(petal_strbuf_str(&sb), word);
		petal_strbuf_printf(&script, "printf '%%s' %s >'%s/out.%zu'\n", word, dir, i);
		petal_strbuf_release(&sb);
		free(word);
	}
	/* cut short, still terminated, and the length says how much room */
	CU_ASSERT_EQUAL(petal_shell_quote(small, sizeof(small), "abcdef"), 8);
	CU_ASSERT_STRING_EQUAL(small, "'ab");
	CU_ASSERT_EQUAL(petal_shell_quote(small, sizeof(small), ""), 2);
	CU_ASSERT_STRING_EQUAL(small, "''");
	CU_ASSERT_EQUAL(petal_shell_quote(small, sizeof(small), "$"), 2);
	CU_ASSERT_STRING_EQUAL(small, "\\$");

	char *path = petal_xasprintf("%s/lines.sh", dir);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_write_file(path, petal_strbuf_str(&script), script.len,
	                                       0600, &err), 0);
	char *cmd = petal_xasprintf("sh -n '%s' && cd '%s' && sh '%s'", path, dir, path);
	CU_ASSERT_EQUAL(run(cmd), 0);
	CU_ASSERT(!exists_in(dir, "PWNED"));
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(nasty); i++) {
		char name[32], *back = NULL, *file;
		size_t len = 0;

		snprintf(name, sizeof(name), "out.%zu", i);
		file = petal_xasprintf("%s/%s", dir, name);
		CU_ASSERT_EQUAL(petal_read_file(file, 1 << 16, &back, &len, &err), 0);
		CU_ASSERT(back != NULL && len == strlen(nasty[i]) &&
		          memcmp(back, nasty[i], len) == 0);
		if (back == NULL || len != strlen(nasty[i]) || memcmp(back, nasty[i], len) != 0)
			fprintf(stderr, "\n  value %zu came back changed\n", i);
		free(back);
		free(file);
	}
	free(cmd);
	free(path);
	petal_strbuf_release(&script);
	free(dir);
}

/* The word for a person's command: bare when nothing in it is special. */
static void test_shell_word(void)
{
	static const char *const bare[] = { "petal", "s3://bucket/a-b_c.d", "file:///tmp/m",
	                                    "user@host:5%", "a=b,c+d" };
	char buf[64];

	for (size_t i = 0; i < PETAL_ARRAY_SIZE(bare); i++) {
		CU_ASSERT_EQUAL(petal_shell_word(buf, sizeof(buf), bare[i]), strlen(bare[i]));
		CU_ASSERT_STRING_EQUAL(buf, bare[i]);
	}
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(nasty); i++) {
		char q[256];

		if (strcmp(nasty[i], "-n") == 0)
			continue; /* plain: a word as it stands */
		petal_shell_quote(q, sizeof(q), nasty[i]);
		petal_shell_word(buf, sizeof(buf), nasty[i]);
		CU_ASSERT_STRING_EQUAL(buf, q); /* anything else: the quoted word */
	}
}

static void test_ami_name_or_id(void)
{
	struct petal_seed *seed = load_text(hybrid_text);
	struct petal_error err;
	struct petal_node *cfg;
	char *dir, *text;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	/* a name is no CustomAmi: said in a comment instead */
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	CU_ASSERT_PTR_NULL(petal_node_path(cfg, "Image.CustomAmi"));
	text = slurp(dir, "cluster-config.yaml");
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# Image.CustomAmi is left out: 'ami-base-bio-v2'"));
	free(text);
	petal_node_free(cfg);
	free(dir);
	petal_seed_free(seed);

	seed = load_text("cluster: {name: q, region: us-east-1}\n"
	                 "compute: {custom_ami: ami-0123abcd}\n"
	                 "software: {use_custom_ami: true, spack_packages: [zlib]}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_path(cfg, "Image.CustomAmi")) ?: "",
	                       "ami-0123abcd");
	CU_ASSERT_EQUAL(check_config(dir), 0);
	petal_node_free(cfg);
	free(dir);
	petal_seed_free(seed);
}

/* The seed "cluster: {name: t, region: us-east-1}\n" + `rest`, loaded and
   rendered (both must work); *seed is the caller's to free, with the directory. */
static char *render_text(const char *rest, struct petal_seed **seed)
{
	char *text = petal_xasprintf("cluster: {name: t, region: us-east-1}\n%s", rest);
	struct petal_error err;
	int rc;

	*seed = load_text(text);
	free(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*seed);
	char *dir = render_seed(*seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	return dir;
}

/* build_parallel: true every core, false one job, N at most N; both scripts
   say so and the source tier's spack install uses it */
static void test_build_parallel(void)
{
	static const struct { const char *value, *jobs; } cases[] = {
		{ "true", "PETAL_JOBS=$(nproc)\n" },
		{ "false", "PETAL_JOBS=1\n" },
		{ "6", "PETAL_JOBS=6\n" },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(cases); i++) {
		char *yaml = petal_xasprintf("software:\n  spack_packages: [custom-app@main]\n"
		                             "  build_parallel: %s\n", cases[i].value);
		struct petal_seed *seed;
		char *dir = render_text(yaml, &seed);
		char *node = slurp(dir, "node-bootstrap.sh");
		char *build = slurp(dir, "build-instance.sh");
		CU_ASSERT_PTR_NOT_NULL(strstr(node, cases[i].jobs));
		CU_ASSERT_PTR_NOT_NULL(strstr(build, cases[i].jobs));
		CU_ASSERT_PTR_NOT_NULL(strstr(node, "petal_spack_install -j \"$PETAL_JOBS\""));
		free(build);
		free(node);
		free(dir);
		petal_seed_free(seed);
		free(yaml);
	}
}

/* two versions of one package: both specs in spack.yaml, both in the scripts */
static void test_versions_of_one_name(void)
{
	struct petal_seed *seed = load_text("cluster: {name: v, region: us-east-1}\n"
	                                    "software:\n  in_ami: [python@3.10]\n"
	                                    "  spack_packages: [gcc@11.3.0, gcc@12.3.0, "
	                                    "python@3.11]\n"
	                                    "  binary_cache: {s3_bucket: my-cache}\n");
	struct petal_error err;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	CU_ASSERT_EQUAL_FATAL(seed->n_pkgs, 4);
	char *dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	check_contents(seed, dir);
	char *build = slurp(dir, "build-instance.sh");
	CU_ASSERT_PTR_NOT_NULL(strstr(build, "gcc@11.3.0"));
	CU_ASSERT_PTR_NOT_NULL(strstr(build, "gcc@12.3.0"));
	free(build);
	free(dir);
	petal_seed_free(seed);
}

/* packages: all: require: target=... in spack.yaml and in the scripts' site
   scope: x86_64_v3 on x86_64, aarch64 on arm64, software.spack.target else */
static void test_spack_target(void)
{
	static const struct {
		const char *software, *target;
	} cases[] = {
		{ "software:\n  spack_packages: [zlib]\n", "x86_64_v3" },
		{ "compute: {head_node: m7g.large}\nsoftware:\n  build: {instance_type: c7g.16xlarge}\n"
		  "  spack_packages: [zlib]\n", "aarch64" },
		{ "compute: {head_node: m7g.large}\nsoftware:\n  spack_packages: [zlib]\n",
		  "aarch64" },
		{ "compute: {head_node: m7g.large}\nsoftware:\n  spack: {target: neoverse_v1}\n"
		  "  spack_packages: [zlib]\n", "neoverse_v1" },
		{ "software:\n  spack: {target: zen4}\n  spack_packages: [zlib]\n", "zen4" },
	};

	for (size_t i = 0; i < PETAL_ARRAY_SIZE(cases); i++) {
		struct petal_seed *seed;
		char *dir = render_text(cases[i].software, &seed);
		struct petal_node *spack = parse_yaml(dir, "spack.yaml");
		char *want = petal_xasprintf("target=%s", cases[i].target);
		const struct petal_node *req = petal_node_path(spack, "spack.packages.all.require");

		CU_ASSERT_PTR_NOT_NULL_FATAL(req);
		CU_ASSERT_EQUAL(req->n, 1);
		CU_ASSERT(list_has(spack, "spack.packages.all.require", want));
		free(want);
		for (int s = 0; s < 2; s++) {
			char *script = slurp(dir, s ? "node-bootstrap.sh" : "build-instance.sh");

			want = petal_xasprintf("readonly PETAL_SPACK_TARGET='%s'\n", cases[i].target);
			CU_ASSERT_PTR_NOT_NULL(strstr(script, want));
			CU_ASSERT_PTR_NOT_NULL(strstr(script, "\"    - target=$PETAL_SPACK_TARGET\" "
			                                      ">\"$site/packages.yaml\""));
			free(want);
			free(script);
		}
		petal_node_free(spack);
		free(dir);
		petal_seed_free(seed);
	}
}

/* modules.yaml's core_compilers: gcc (the image's, every version), then each
   other compiler the seed names, as it names it, once: a package built with one
   loads without its compiler's module loaded first */
static void test_core_compilers(void)
{
	static const struct {
		const char *software;
		const char *const want[4];
	} cases[] = {
		{ "software:\n  spack_packages: [zlib]\n", { "gcc" } },
		{ "software:\n  in_ami: [gcc@13.2.0, llvm@17.0.6]\n"
		  "  spack_packages: ['gromacs@2023.3 %intel-oneapi-compilers@2024.0', "
		  "'hdf5 %gcc@13.2.0', 'fftw %intel-oneapi-compilers@2024.0']\n",
		  { "gcc", "intel-oneapi-compilers@2024.0", "llvm@17.0.6" } },
	};

	for (size_t i = 0; i < PETAL_ARRAY_SIZE(cases); i++) {
		struct petal_seed *seed;
		char *dir = render_text(cases[i].software, &seed);
		size_t n = 0;
		struct petal_node *mods = parse_yaml(dir, "modules.yaml");
		const struct petal_node *core =
			petal_node_path(mods, "modules.default.lmod.core_compilers");

		CU_ASSERT_PTR_NOT_NULL_FATAL(core);
		while (n < PETAL_ARRAY_SIZE(cases[i].want) && cases[i].want[n])
			n++;
		CU_ASSERT_EQUAL(core->n, n);
		for (size_t k = 0; k < n && k < core->n; k++)
			CU_ASSERT_STRING_EQUAL(petal_node_str(core->items[k]) ?: "",
			                       cases[i].want[k]);
		petal_node_free(mods);
		free(dir);
		petal_seed_free(seed);
	}
}

/* Fragments the core could not place are refused to the tier at once. */
static void test_fragments_refused(void)
{
	struct petal_seed *seed = load_text(hybrid_text);
	struct fixture f;
	struct petal_plan *plan;
	struct petal_renderer r = { 0 };
	struct petal_error err = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	plan = plan_for(seed, &f);
	CU_ASSERT_PTR_NOT_NULL_FATAL(plan);
	r.plan = plan;
	r.tier = "test";
	CU_ASSERT_PTR_EQUAL(petal_renderer_seed(&r), &plan->info);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_PCLUSTER, "HeadNode.Dcv", "x", &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "HeadNode.Dcv"));
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_PCLUSTER, "Iam.S3Access", "Bad_Bucket",
	                                   &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, (enum petal_fragment)99, NULL, "x", &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_MODULE, NULL, "img", &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_SPACK_SPEC, NULL, NULL, &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(r.n_frags, 0);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi",
	                                   "ami-0123abcd", &err), 0);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi",
	                                   "ami-0123abcd", &err), 0);
	CU_ASSERT_EQUAL(petal_renderer_add(&r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi",
	                                   "ami-4567abcd", &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(r.n_frags, 2);
	CU_ASSERT_STRING_EQUAL(r.frags[0].tier, "test");
	for (size_t i = 0; i < r.n_frags; i++) {
		free(r.frags[i].tier);
		free(r.frags[i].key);
		free(r.frags[i].text);
	}
	free(r.frags);
	fixture_release(&f);
	petal_seed_free(seed);
}

static void test_unloaded_tier(void)
{
	struct petal_seed *seed = load_text(hybrid_text);
	struct fixture f;
	struct petal_plan *plan;
	struct petal_render_opts opts = { .subnet_id = SUBNET };
	struct petal_error err = { 0 };
	char *dir = new_dir();

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	plan = plan_for(seed, &f);
	CU_ASSERT_FATAL(plan != NULL && plan->n_claims > 0);
	free(plan->claims[0].tier);
	plan->claims[0].tier = petal_xstrdup("eessi");
	opts.dir = dir;
	CU_ASSERT_EQUAL(petal_render(plan, &f.reg, &opts, &err), PETAL_EPLUGIN);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "eessi"));
	CU_ASSERT(access(dir, F_OK) != 0);
	fixture_release(&f);
	petal_seed_free(seed);
	free(dir);
}

/* Images in ECR: the nodes may read ECR, and log in before they pull. */
static void test_ecr_login(void)
{
	static const char text[] =
		"cluster: {name: q, region: us-west-2}\n"
		"software:\n"
		"  containers:\n"
		"    - {name: a, image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/bio/a:1,"
		" modules: [a@1]}\n"
		"    - {name: b, image: 'oras://123456789012.dkr.ecr.eu-west-1.amazonaws.com/b:2',"
		" modules: [b@2]}\n"
		"    - {name: c, image: 123456789012.dkr.ecr.us-west-2.amazonaws.com/bio/c:3,"
		" modules: [c@3]}\n"
		"    - {name: d, image: 'docker://quay.io/biocontainers/d:4', modules: [d@4]}\n";
	static const char policy[] = "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly";
	struct petal_seed *seed = load_text(text);
	struct petal_error err;
	struct petal_node *cfg;
	const struct petal_node *pols;
	char *dir, *box, *calls;
	int rc;

	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(check_config(dir), 0);
	CU_ASSERT_EQUAL(shellcheck(dir, "node-bootstrap.sh"), 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	pols = petal_node_path(cfg, "HeadNode.Iam.AdditionalIamPolicies");
	CU_ASSERT_FATAL(pols != NULL && pols->type == PETAL_NODE_LIST);
	CU_ASSERT_EQUAL(pols->n, 1); /* one policy however many registries */
	CU_ASSERT_STRING_EQUAL(petal_node_str(petal_node_get(pols->items[0], "Policy")) ?: "",
	                       policy);
	pols = petal_node_path(cfg, "Scheduling.SlurmQueues");
	CU_ASSERT_FATAL(pols != NULL && pols->n > 0);
	pols = petal_node_path(pols->items[0], "Iam.AdditionalIamPolicies");
	CU_ASSERT(pols != NULL && pols->n == 1);
	petal_node_free(cfg);

	box = sandbox(dir, "node-bootstrap.sh", "", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT(got_arg(box, "docker://123456789012.dkr.ecr.us-west-2.amazonaws.com"));
	CU_ASSERT(got_arg(box, "oras://123456789012.dkr.ecr.eu-west-1.amazonaws.com"));
	CU_ASSERT(got_arg(box, "eu-west-1"));
	CU_ASSERT(!got_arg(box, "docker://quay.io"));
	calls = slurp(box, "calls");
	/* one login per registry, each before the pulls */
	CU_ASSERT_PTR_NOT_NULL(calls);
	if (calls != NULL) {
		char *login = strstr(calls, "ARG<login>");

		CU_ASSERT_PTR_NOT_NULL(login);
		CU_ASSERT(login != NULL && strstr(login + 1, "ARG<login>") != NULL);
		CU_ASSERT(login != NULL && strstr(strstr(login + 1, "ARG<login>") + 1,
		                                  "ARG<login>") == NULL);
		CU_ASSERT(login != NULL && strstr(login, "ARG<pull>") != NULL &&
		          strstr(calls, "ARG<pull>") > login);
	}
	free(calls);
	free(box);
	free(dir);
	petal_seed_free(seed);

	/* no ECR image, no ECR policy */
	seed = load_text("cluster: {name: q, region: us-west-2}\n"
	                 "software: {containers: [{name: d, image: 'quay.io/x/d:4',"
	                 " modules: [d@4]}]}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	dir = render_seed(seed, SUBNET, NULL, &rc, &err);
	CU_ASSERT_EQUAL(rc, 0);
	cfg = parse_yaml(dir, "cluster-config.yaml");
	CU_ASSERT_PTR_NULL(petal_node_path(cfg, "HeadNode.Iam.AdditionalIamPolicies"));
	petal_node_free(cfg);
	free(dir);
	petal_seed_free(seed);
}

/* ---- main ---------------------------------------------------------------- */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} tests[] = {
		{ "quoting rule", test_quoting_rule },
		{ "one shell quoter: nasty values inert under sh", test_shell_quote },
		{ "shell words bare only when plain", test_shell_word },
		{ "every example seed: five files, checked", test_examples },
		{ "number-like strings quoted", test_scalars_quoted },
		{ "missing or bad subnet", test_missing_subnet },
		{ "hostile seed values stay words", test_hostile },
		{ "AMI id in the config, AMI name in a comment", test_ami_name_or_id },
		{ "fragments the core cannot place", test_fragments_refused },
		{ "build_parallel: every core, one job, a cap", test_build_parallel },
		{ "several versions of one package", test_versions_of_one_name },
		{ "the Spack target: by architecture, or the seed's", test_spack_target },
		{ "core compilers: gcc and the seed's", test_core_compilers },
		{ "claims of a tier not loaded", test_unloaded_tier },
		{ "ECR images: read policy and login", test_ecr_login },
		{ "shared volume sized from the installs; EBS and CloudFormation limits",
		  test_shared_size },
		{ "nothing installed at creation: no volume, no waiting", test_nothing_at_creation },
		{ "Spack in the image: used, its tree an upstream", test_image_upstream },
		{ "shared size fragments checked", test_shared_fragment },
	};
	char tmpl[] = "/tmp/petal-test-render.XXXXXX";
	CU_pSuite suite;
	unsigned failed;

	top_srcdir = getenv("top_srcdir") != NULL ? getenv("top_srcdir") : ".";
	if (system("command -v shellcheck >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_render: shellcheck is missing: install it "
		                "(apt-get install shellcheck); the rendered scripts must pass it\n");
		return 1;
	}
	if (system("python3 -c 'import yaml' >/dev/null 2>&1") != 0) {
		fprintf(stderr, "test_render: python3 with PyYAML is missing: install python3-yaml; "
		                "tests/render/check_pcluster.py needs it\n");
		return 1;
	}
	tmp_root = mkdtemp(tmpl);
	if (tmp_root == NULL || CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite("render", NULL, NULL);
	for (size_t i = 0; suite != NULL && i < PETAL_ARRAY_SIZE(tests); i++)
		if (CU_add_test(suite, tests[i].name, tests[i].fn) == NULL)
			suite = NULL;
	if (suite == NULL) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	if (failed == 0)
		nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	else
		fprintf(stderr, "test_render: files kept in %s\n", tmp_root);
	return failed == 0 && CU_get_error() == CUE_SUCCESS ? 0 : 1;
}
