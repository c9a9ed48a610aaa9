/* core/plan/estimate*.c: the data tables, the speedup model against the
   design's figures, the build-instance recommendation and seed overrides. */
#include "config.h"

#include <CUnit/Basic.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/plan/estimate.h"
#include "../core/seed/seed.h"
#include "../core/util/util.h"

static const char *data_dir;
static struct petal_estimates *est; /* the shipped tables, no seed */

/* The hybrid example's stack: a toolchain and a bioinformatics set. */
static const char *const bio_stack[] = {
	"gcc", "openmpi", "samtools", "bcftools", "bwa", "bowtie2", "star", "gatk",
	"blast-plus", "hmmer", "lab-aligner",
};

static double build_minutes(const struct petal_estimates *e, const char *const *names,
                            size_t n, const char *type, int parallel)
{
	struct petal_build_estimate b;
	CU_ASSERT_EQUAL_FATAL(petal_estimates_build(e, names, n, type, parallel, &b), 0);
	return b.minutes;
}

static struct petal_seed *seed_from(const char *text)
{
	struct petal_seed *seed = NULL;
	struct petal_diags diags = { 0 };
	struct petal_error err = { 0 };
	int rc = petal_seed_load_text("test.yaml", text, strlen(text), &seed, &diags, &err);
	if (rc) {
		char *d = petal_diags_format(&diags);
		fprintf(stderr, "seed did not load: %s%s\n", err.msg, d);
		free(d);
	}
	petal_diags_release(&diags);
	return seed;
}

/* ---- tables ------------------------------------------------------------- */

static void test_tables_load(void)
{
	struct petal_pkg_figures gcc, unknown, other;
	petal_estimates_package(est, "gcc", &gcc);
	petal_estimates_package(est, "no-such-package-xyz", &unknown);
	petal_estimates_package(est, "another-unknown", &other);
	CU_ASSERT_FALSE(gcc.guess);
	CU_ASSERT_TRUE(gcc.core_minutes > 0);
	CU_ASSERT_TRUE(unknown.guess);
	/* unknown packages all get the file's "default" entry */
	char *path = petal_xasprintf("%s/packages.json", data_dir);
	json_t *root = json_load_file(path, 0, NULL);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	json_t *def = json_object_get(root, "default");
	CU_ASSERT_DOUBLE_EQUAL(unknown.core_minutes,
	                       json_number_value(json_object_get(def, "core_minutes")), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(unknown.size_mb,
	                       json_number_value(json_object_get(def, "size_mb")), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(other.core_minutes, unknown.core_minutes, 1e-9);
	json_decref(root);

	struct petal_instance_type it;
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "c5.18xlarge", &it), 0);
	CU_ASSERT_EQUAL(it.vcpus, 72);
	/* the design's prices */
	CU_ASSERT_DOUBLE_EQUAL(it.spot_usd_hour, 0.61, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(it.ondemand_usd_hour, 2.04, 1e-9);
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "c7g.4xlarge", &it), 0);
	CU_ASSERT_STRING_EQUAL(it.arch, "arm64");
	CU_ASSERT_FALSE(it.guess);
	/* a size petal does not list is guessed from the family, not refused */
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "c5.99xlarge", &it), 0);
	CU_ASSERT_TRUE(it.guess);
	CU_ASSERT_EQUAL(it.vcpus, 396);
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "foo", &it), PETAL_ENOENT);
	CU_ASSERT_DOUBLE_EQUAL(petal_estimates_figure(est, "s3_gb_month"), 0.023, 1e-12);
	CU_ASSERT_TRUE(petal_estimates_figure(est, "no_such_figure") < 0);
}

static char *scratch_dir(void)
{
	char *dir = petal_xstrdup("/tmp/petal-test-estimate-XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	return dir;
}

static void copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char *src = petal_xasprintf("%s/%s", from_dir, name);
	char *dst = petal_xasprintf("%s/%s", to_dir, name);
	char *data;
	size_t len;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_read_file(src, 1 << 22, &data, &len, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_write_file(dst, data, len, 0644, &err), 0);
	free(data);
	free(src);
	free(dst);
}

static void remove_dir(char *dir, const char *const *files)
{
	for (size_t i = 0; files[i]; i++) {
		char *p = petal_xasprintf("%s/%s", dir, files[i]);
		if (unlink(p) != 0)
			rmdir(p);
		free(p);
	}
	rmdir(dir);
	free(dir);
}

static void test_tables_errors(void)
{
	static const char *const files[] = { "packages.json", "instances.json",
	                                     "figures.json", NULL };
	struct petal_estimates *e = NULL;
	struct petal_error err = { 0 };
	char *dir = scratch_dir();

	/* an empty directory: says which file and what to set */
	CU_ASSERT_EQUAL(petal_estimates_load(dir, NULL, &e, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NULL(e);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "packages.json"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "PETAL_DATA_DIR"));

	/* malformed JSON: file, line and column */
	copy_file(data_dir, dir, "packages.json");
	copy_file(data_dir, dir, "figures.json");
	char *bad = petal_xasprintf("%s/instances.json", dir);
	const char *text = "{\n \"instances\": {\n  \"c5.large\": {\"vcpus\": 2,,}\n }\n}\n";
	CU_ASSERT_EQUAL(petal_write_file(bad, text, strlen(text), 0644, &err), 0);
	CU_ASSERT_EQUAL(petal_estimates_load(dir, NULL, &e, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instances.json:3:"));

	/* well-formed but a price missing */
	text = "{\"instances\": {\"c5.large\": {\"vcpus\": 2, \"memory_gb\": 4, "
	       "\"spot_usd_hour\": 0.03, \"arch\": \"x86_64\"}}}";
	CU_ASSERT_EQUAL(petal_write_file(bad, text, strlen(text), 0644, &err), 0);
	CU_ASSERT_EQUAL(petal_estimates_load(dir, NULL, &e, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "c5.large.ondemand_usd_hour"));

	/* a guess rule without a default class */
	text = "{\"instances\": {}, \"guess\": {\"small_vcpus\": 2, \"metal_vcpus\": 96, "
	       "\"spot_fraction\": 0.3, \"classes\": {\"c\": {\"memory_gb_per_vcpu\": 2, "
	       "\"usd_per_vcpu_hour\": 0.04}}}}";
	CU_ASSERT_EQUAL(petal_write_file(bad, text, strlen(text), 0644, &err), 0);
	CU_ASSERT_EQUAL(petal_estimates_load(dir, NULL, &e, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "guess.classes"));
	free(bad);
	remove_dir(dir, files);
}

/* The types HPC users pick, with AWS's specifications. */
static void test_instance_families(void)
{
	static const struct { const char *name; int vcpus; double memory_gb; const char *arch; }
	want[] = {
		{ "m7g.large", 2, 8, "arm64" },
		{ "hpc7g.16xlarge", 64, 128, "arm64" },
		{ "p5.48xlarge", 192, 2048, "x86_64" },
		{ "p4d.24xlarge", 96, 1152, "x86_64" },
		{ "hpc7a.96xlarge", 192, 768, "x86_64" },
		{ "hpc6a.48xlarge", 96, 384, "x86_64" },
		{ "c7i.48xlarge", 192, 384, "x86_64" },
		{ "c6a.48xlarge", 192, 384, "x86_64" },
		{ "c7a.medium", 1, 2, "x86_64" },
		{ "c8g.48xlarge", 192, 384, "arm64" },
		{ "m6i.32xlarge", 128, 512, "x86_64" },
		{ "m7i.metal-48xl", 192, 768, "x86_64" },
		{ "m6a.48xlarge", 192, 768, "x86_64" },
		{ "m7a.48xlarge", 192, 768, "x86_64" },
		{ "m6g.16xlarge", 64, 256, "arm64" },
		{ "r6i.32xlarge", 128, 1024, "x86_64" },
		{ "r7i.48xlarge", 192, 1536, "x86_64" },
		{ "r6g.16xlarge", 64, 512, "arm64" },
		{ "r7g.metal", 64, 512, "arm64" },
		{ "t3.nano", 2, 0.5, "x86_64" },
		{ "g5.48xlarge", 192, 768, "x86_64" },
		{ "g6.xlarge", 4, 16, "x86_64" },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(want); i++) {
		struct petal_instance_type it = { .vcpus = 0 };
		CU_ASSERT_EQUAL(petal_estimates_instance(est, want[i].name, &it), 0);
		if (it.vcpus != want[i].vcpus || it.memory_gb != want[i].memory_gb || it.guess ||
		    !it.arch || strcmp(it.arch, want[i].arch) != 0)
			CU_FAIL(want[i].name);
	}
}

/* Every listed type's figures hang together, and its vCPUs follow the size
   rule where AWS does (not burstable t sizes; x86 HPC sizes have SMT off,
   half the rule's vCPUs). */
static void test_instance_table_consistent(void)
{
	char *path = petal_xasprintf("%s/instances.json", data_dir);
	json_t *root = json_load_file(path, 0, NULL);
	free(path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	const char *name;
	json_t *v;
	size_t n = 0;
	json_object_foreach(json_object_get(root, "instances"), name, v) {
		struct petal_instance_type it = { .vcpus = 0 };
		const char *dot = strchr(name, '.');
		int rule = dot ? petal_instance_size_vcpus(dot + 1) : -1;
		int ok = petal_estimates_instance(est, name, &it) == 0 && !it.guess &&
			it.vcpus > 0 && it.memory_gb > 0 && it.ondemand_usd_hour > 0 &&
			it.spot_usd_hour > 0 && it.spot_usd_hour <= it.ondemand_usd_hour &&
			it.arch && strcmp(it.arch, petal_instance_arch(name)) == 0 && rule >= 0;
		if (ok && rule > 0 && name[0] != 't')
			ok = strncmp(name, "hpc", 3) == 0 && strcmp(it.arch, "x86_64") == 0 ?
				it.vcpus * 2 == rule : it.vcpus == rule;
		if (!ok) {
			fprintf(stderr, "instances.json: %s: inconsistent figures\n", name);
			CU_FAIL(name);
		}
		n++;
	}
	CU_ASSERT_TRUE(n >= 200);
	json_decref(root);
}

/* A well-formed type petal does not list: a guess, said to be one. */
static void test_instance_guess(void)
{
	struct petal_instance_type it = { .vcpus = 0 };
	char *basis;
	/* from the family's listed sizes, per vCPU */
	CU_ASSERT_EQUAL_FATAL(petal_estimates_instance(est, "m7g.32xlarge", &it), 0);
	CU_ASSERT_TRUE(it.guess);
	CU_ASSERT_EQUAL(it.vcpus, 128);
	CU_ASSERT_STRING_EQUAL(it.arch, "arm64");
	CU_ASSERT_DOUBLE_EQUAL(it.memory_gb, 512, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(it.ondemand_usd_hour, 2 * 2.6112, 1e-9);
	basis = petal_estimates_instance_basis(est, "m7g.32xlarge");
	CU_ASSERT_PTR_NOT_NULL_FATAL(basis);
	CU_ASSERT_PTR_NOT_NULL(strstr(basis, "m7g.16xlarge"));
	free(basis);
	/* an HPC family keeps its own ratio to the size rule */
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "hpc7a.192xlarge", &it), 0);
	CU_ASSERT_EQUAL(it.vcpus, 384);
	/* a family petal does not know: the size and the class */
	CU_ASSERT_EQUAL_FATAL(petal_estimates_instance(est, "x9z.4xlarge", &it), 0);
	CU_ASSERT_TRUE(it.guess);
	CU_ASSERT_EQUAL(it.vcpus, 16);
	CU_ASSERT_DOUBLE_EQUAL(it.memory_gb, 16 * 16, 1e-9);
	CU_ASSERT_TRUE(it.ondemand_usd_hour > 0 && it.spot_usd_hour > 0);
	CU_ASSERT_STRING_EQUAL(it.arch, "x86_64");
	basis = petal_estimates_instance_basis(est, "x9z.4xlarge");
	CU_ASSERT_PTR_NOT_NULL_FATAL(basis);
	CU_ASSERT_PTR_NOT_NULL(strstr(basis, "'x' class"));
	free(basis);
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "q9g.metal", &it), 0);
	CU_ASSERT_STRING_EQUAL(it.arch, "arm64");
	CU_ASSERT_EQUAL(it.vcpus, 96);
	/* listed or malformed: no basis */
	CU_ASSERT_PTR_NULL(petal_estimates_instance_basis(est, "m7g.large"));
	CU_ASSERT_PTR_NULL(petal_estimates_instance_basis(est, "foo"));
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "c5.huge", &it), PETAL_ENOENT);
	CU_ASSERT_EQUAL(petal_estimates_instance(est, "C5.large", &it), PETAL_ENOENT);
	/* the size rule itself */
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("medium"), 1);
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("24xlarge"), 96);
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("metal-48xl"), 192);
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("metal"), 0);
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("0xlarge"), -1);
	CU_ASSERT_EQUAL(petal_instance_size_vcpus("huge"), -1);
}

/* ---- the model against the design's figures ---------------------------- */

static void test_design_figures(void)
{
	const char *gcc[] = { "gcc" }, *ompi[] = { "openmpi" }, *gmx[] = { "gromacs" };
	/* on a typical build instance, 16 to 36 cores */
	for (int i = 0; i < 2; i++) {
		const char *type = i ? "c5.9xlarge" : "c5.4xlarge";
		double g = build_minutes(est, gcc, 1, type, 0);
		double o = build_minutes(est, ompi, 1, type, 0);
		double x = build_minutes(est, gmx, 1, type, 0);
		CU_ASSERT_TRUE(g >= 30 && g <= 60);
		CU_ASSERT_TRUE(o >= 10 && o <= 20);
		CU_ASSERT_TRUE(x >= 45 && x <= 90);
	}
	/* a full bioinformatics stack: 4-8 h on 4 cores, about 2 h on 72 */
	double four = build_minutes(est, bio_stack, PETAL_ARRAY_SIZE(bio_stack), "c5.xlarge", 0);
	double many = build_minutes(est, bio_stack, PETAL_ARRAY_SIZE(bio_stack), "c5.18xlarge", 0);
	CU_ASSERT_TRUE(four >= 240 && four <= 480);
	CU_ASSERT_TRUE(many >= 90 && many <= 150);
}

static void test_model_properties(void)
{
	size_t n = PETAL_ARRAY_SIZE(bio_stack);
	struct petal_build_estimate one, b;
	CU_ASSERT_EQUAL(petal_estimates_build(est, bio_stack, n, "c5.18xlarge", 1, &one), 0);
	/* one job: nothing overlaps, wall clock is all the work */
	CU_ASSERT_DOUBLE_EQUAL(one.minutes, one.core_minutes, 1e-6);
	CU_ASSERT_EQUAL(one.guesses, 1); /* lab-aligner */
	/* more cores never slower; build_parallel caps the jobs */
	double prev = one.minutes;
	static const char *const types[] = { "c5.xlarge", "c5.2xlarge", "c5.4xlarge",
	                                     "c5.9xlarge", "c5.18xlarge" };
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(types); i++) {
		double m = build_minutes(est, bio_stack, n, types[i], 0);
		CU_ASSERT_TRUE(m <= prev);
		prev = m;
	}
	CU_ASSERT_DOUBLE_EQUAL(build_minutes(est, bio_stack, n, "c5.18xlarge", 4),
	                       build_minutes(est, bio_stack, n, "c5.xlarge", 0), 1e-6);
	/* nothing to build takes no time; an unknown type is refused */
	CU_ASSERT_EQUAL(petal_estimates_build(est, bio_stack, 0, "c5.xlarge", 0, &b), 0);
	CU_ASSERT_DOUBLE_EQUAL(b.minutes, 0, 1e-12);
	CU_ASSERT_EQUAL(petal_estimates_build(est, bio_stack, n, "z9.huge", 0, &b), PETAL_ENOENT);
}

/* ---- recommendation -------------------------------------------------------- */

static const char *recommend_n(const struct petal_estimates *e, const char *arch, size_t n,
                               char **why)
{
	/* n light, known packages (samtools repeated: the count is what matters) */
	const char **names = petal_xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = "samtools";
	const char *pick = petal_estimates_recommend(e, arch, names, n, why);
	free(names);
	return pick;
}

static void test_recommend_table(void)
{
	static const struct { size_t n; const char *arch, *type; } cases[] = {
		{ 1, "x86_64", "c5.4xlarge" }, { 9, "x86_64", "c5.4xlarge" },
		{ 10, "x86_64", "c5.9xlarge" }, { 29, "x86_64", "c5.9xlarge" },
		{ 30, "x86_64", "c5.18xlarge" }, { 120, "x86_64", "c5.18xlarge" },
		/* a Graviton cluster gets a Graviton build instance */
		{ 9, "arm64", "c7g.4xlarge" }, { 10, "arm64", "c7g.8xlarge" },
		{ 30, "arm64", "c7g.16xlarge" },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(cases); i++) {
		char *why = NULL;
		const char *pick = recommend_n(est, cases[i].arch, cases[i].n, &why);
		CU_ASSERT_STRING_EQUAL(pick, cases[i].type);
		CU_ASSERT_STRING_EQUAL(petal_instance_arch(pick), cases[i].arch);
		/* the sentence says how many and what was picked */
		char count[32];
		snprintf(count, sizeof(count), "%zu package", cases[i].n);
		CU_ASSERT_PTR_NOT_NULL(strstr(why, count));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, cases[i].type));
		CU_ASSERT_PTR_NOT_NULL(strstr(why, "vCPUs"));
		free(why);
	}
}

static void test_recommend_memory_heavy(void)
{
	/* The same 12-package stack, once with a package needing 12 GB per job. */
	struct petal_seed *seed = seed_from(
		"cluster: {name: heavy, region: us-east-1}\n"
		"software:\n"
		"  spack_packages: [samtools]\n"
		"estimates:\n"
		"  packages:\n"
		"    bigmem: {memory_gb: 12}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	struct petal_estimates *e = NULL;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, seed, &e, &err), 0);
	const char *names[12];
	for (size_t i = 0; i < 12; i++)
		names[i] = "samtools";
	char *why = NULL;
	CU_ASSERT_STRING_EQUAL(petal_estimates_recommend(e, "x86_64", names, 12, &why),
	                       "c5.9xlarge");
	free(why);
	names[5] = "bigmem";
	CU_ASSERT_STRING_EQUAL(petal_estimates_recommend(e, "x86_64", names, 12, &why),
	                       "c5.24xlarge");
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "bigmem"));
	CU_ASSERT_PTR_NOT_NULL(strstr(why, "memory"));
	free(why);
	CU_ASSERT_STRING_EQUAL(petal_estimates_recommend(e, "arm64", names, 12, &why),
	                       "m7g.16xlarge");
	free(why);
	struct petal_pkg_figures f;
	petal_estimates_package(e, "bigmem", &f);
	CU_ASSERT_TRUE(f.guess); /* no core_minutes given: still a guess */
	petal_estimates_free(e);
	petal_seed_free(seed);
}

/* ---- seed overrides ---------------------------------------------------------- */

static void test_seed_overrides(void)
{
	struct petal_seed *seed = seed_from(
		"cluster: {name: tuned, region: us-east-1}\n"
		"software:\n"
		"  spack_packages: [gcc, lab-aligner]\n"
		"estimates:\n"
		"  packages:\n"
		"    gcc: {core_minutes: 50}\n"
		"    lab-aligner: {core_minutes: 300, serial_fraction: 0.5}\n"
		"  instances:\n"
		"    c5.2xlarge: {ondemand_usd_hour: 1.0}\n"
		"    x9.metal: {vcpus: 64, memory_gb: 256, ondemand_usd_hour: 3}\n"
		"  figures:\n"
		"    boot_minutes: 7\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	struct petal_estimates *e = NULL;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, seed, &e, &err), 0);

	struct petal_pkg_figures before, after;
	petal_estimates_package(est, "gcc", &before);
	petal_estimates_package(e, "gcc", &after);
	CU_ASSERT_DOUBLE_EQUAL(after.core_minutes, 50, 1e-9);
	/* the fields the seed did not give keep the table's values */
	CU_ASSERT_DOUBLE_EQUAL(after.serial_fraction, before.serial_fraction, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(after.size_mb, before.size_mb, 1e-9);
	petal_estimates_package(e, "lab-aligner", &after);
	CU_ASSERT_FALSE(after.guess);
	CU_ASSERT_DOUBLE_EQUAL(after.core_minutes, 300, 1e-9);

	const char *gcc[] = { "gcc" };
	CU_ASSERT_TRUE(build_minutes(e, gcc, 1, "c5.4xlarge", 0) <
	               build_minutes(est, gcc, 1, "c5.4xlarge", 0));
	struct petal_instance_type it;
	CU_ASSERT_EQUAL(petal_estimates_instance(e, "c5.2xlarge", &it), 0);
	CU_ASSERT_DOUBLE_EQUAL(it.ondemand_usd_hour, 1.0, 1e-9);
	CU_ASSERT_EQUAL(it.vcpus, 8); /* kept */
	CU_ASSERT_EQUAL(petal_estimates_instance(e, "x9.metal", &it), 0);
	CU_ASSERT_EQUAL(it.vcpus, 64);
	/* no spot figure given: no cheaper than on demand */
	CU_ASSERT_DOUBLE_EQUAL(it.spot_usd_hour, 3, 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(petal_estimates_figure(e, "boot_minutes"), 7, 1e-9);
	CU_ASSERT_NOT_EQUAL(petal_estimates_figure(est, "boot_minutes"), 7);
	petal_estimates_free(e);
	petal_seed_free(seed);
}

static void test_seed_override_errors(void)
{
	static const struct { const char *yaml; const char *want; } cases[] = {
		{ "  figures:\n    boot_minute: 2\n", "did you mean 'boot_minutes'" },
		{ "  instances:\n    x9.metal: {vcpus: 4}\n", "x9.metal" },
	};
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(cases); i++) {
		char *text = petal_xasprintf("cluster: {name: bad, region: us-east-1}\n"
		                             "software:\n  spack_packages: [gcc]\n"
		                             "estimates:\n%s", cases[i].yaml);
		struct petal_seed *seed = seed_from(text);
		free(text);
		CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
		struct petal_estimates *e = NULL;
		struct petal_error err = { 0 };
		CU_ASSERT_EQUAL(petal_estimates_load(data_dir, seed, &e, &err), PETAL_EINVAL);
		CU_ASSERT_PTR_NULL(e);
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, cases[i].want));
		/* file:line:col of the offending entry */
		CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "test.yaml:6:"));
		petal_seed_free(seed);
	}
}

/* ---- build reports: measured times over the tables ------------------------ */

struct warnings {
	int n;
	char text[2048];
};

static void count_warning(void *ctx, const char *msg)
{
	struct warnings *w = ctx;
	w->n++;
	snprintf(w->text + strlen(w->text), sizeof(w->text) - strlen(w->text), "%s\n", msg);
}

static void put_report(const char *dir, const char *name, const char *text)
{
	char *path = petal_xasprintf("%s/%s", dir, name);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_write_file(path, text, strlen(text), 0644, &err), 0);
	free(path);
}

/* A report of build-instance.sh's form (doc/render.md), jobs and packages given. */
static char *report_text(const char *time, int jobs, const char *packages)
{
	return petal_xasprintf("{\"format\": \"petal-build-report\", \"version\": 1, "
	                       "\"seed_hash\": \"ab\", \"script\": \"build-instance.sh\", "
	                       "\"state\": \"succeeded\", \"failed_package\": null, "
	                       "\"spack_version\": \"1.1.0\", \"instance_type\": \"c5.4xlarge\", "
	                       "\"vcpus\": 16, \"jobs\": %d, \"time\": \"%s\", "
	                       "\"packages\": [%s]}", jobs, time, packages);
}

static const char *const report_files[] = {
	"1-old.json", "2-new.json", "3-corrupt.json", "4-format.json", "5-negative.json",
	"6-noobject.json", "7-jobs.json", "notes.txt", "8-dir.json", NULL,
};

static void write_reports(const char *dir)
{
	/* samtools: an old report (1-old) and a newer one (2-new); gcc from the
	   cache (not a build); zlib timed once */
	char *old = report_text("2026-01-01T00:00:00Z", 4,
		"{\"name\": \"samtools\", \"version\": \"1.17\", \"hash\": \"h1\", "
		"\"seconds\": 6000, \"phases\": {}, \"from_cache\": false}");
	char *new = report_text("2026-06-01T00:00:00Z", 2,
		"{\"name\": \"samtools\", \"version\": \"1.17\", \"hash\": \"h2\", "
		"\"seconds\": 600, \"phases\": {\"build\": 500}, \"from_cache\": false}, "
		"{\"name\": \"gcc\", \"version\": \"12.3.0\", \"hash\": \"h3\", "
		"\"seconds\": 30, \"phases\": {}, \"from_cache\": true}, "
		"{\"name\": \"zlib\", \"version\": \"1.3\", \"hash\": \"h4\", "
		"\"seconds\": 90, \"phases\": {}, \"from_cache\": false}, "
		"{\"name\": \"petal-new-pkg\", \"version\": \"2.0\", \"hash\": \"h5\", "
		"\"seconds\": 120, \"phases\": {}, \"from_cache\": false}");
	char *negative = report_text("2026-07-01T00:00:00Z", 2,
		"{\"name\": \"bwa\", \"version\": \"1\", \"hash\": \"h\", \"seconds\": -5}");
	char *noobject = report_text("2026-07-01T00:00:00Z", 2, "\"bwa\"");
	char *jobs = report_text("2026-07-01T00:00:00Z", 0,
		"{\"name\": \"bwa\", \"version\": \"1\", \"hash\": \"h\", \"seconds\": 5}");
	put_report(dir, "1-old.json", old);
	put_report(dir, "2-new.json", new);
	put_report(dir, "3-corrupt.json", "{\"format\": \"petal-build-report\", \"packages\": [");
	put_report(dir, "4-format.json", "{\"format\": \"something-else\", \"version\": 1}");
	put_report(dir, "5-negative.json", negative);
	put_report(dir, "6-noobject.json", noobject);
	put_report(dir, "7-jobs.json", jobs);
	put_report(dir, "notes.txt", "not json, not read");
	char *sub = petal_xasprintf("%s/8-dir.json", dir);
	CU_ASSERT_EQUAL_FATAL(mkdir(sub, 0755), 0);
	free(sub);
	free(old);
	free(new);
	free(negative);
	free(noobject);
	free(jobs);
}

static void test_reports(void)
{
	char *dir = scratch_dir();
	struct petal_error err = { 0 };
	struct petal_estimates *e = NULL;
	struct warnings w = { 0 };
	struct petal_pkg_figures table, f;

	write_reports(dir);
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, NULL, &e, &err), 0);
	petal_estimates_package(e, "samtools", &table);
	CU_ASSERT_EQUAL(petal_estimates_load_reports(e, dir, NULL, count_warning, &w), 3);
	/* every bad file said, by name, and nothing else */
	CU_ASSERT_EQUAL(w.n, 6);
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "8-dir.json: not a file"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "3-corrupt.json"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "4-format.json: not a petal build report"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "5-negative.json: a package whose seconds"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "6-noobject.json: a package that is not"));
	CU_ASSERT_PTR_NOT_NULL(strstr(w.text, "7-jobs.json: no \"jobs\""));
	CU_ASSERT_PTR_NULL(strstr(w.text, "2-new.json"));
	CU_ASSERT_PTR_NULL(strstr(w.text, "notes.txt"));

	/* the newest report wins: 600 s with 2 jobs, whatever the file order */
	petal_estimates_package(e, "samtools", &f);
	CU_ASSERT_TRUE(f.measured);
	CU_ASSERT_FALSE(f.guess);
	CU_ASSERT_DOUBLE_EQUAL(f.measured_seconds, 600, 1e-9);
	CU_ASSERT_EQUAL(f.measured_jobs, 2);
	CU_ASSERT_STRING_EQUAL(f.measured_version, "1.17");
	CU_ASSERT_PTR_NOT_NULL(strstr(f.measured_report, "2-new.json"));
	double s = table.serial_fraction;
	CU_ASSERT_DOUBLE_EQUAL(f.serial_fraction, s, 1e-12);
	CU_ASSERT_DOUBLE_EQUAL(f.core_minutes, 10 / (s + (1 - s) / 2), 1e-9);
	CU_ASSERT_DOUBLE_EQUAL(f.size_mb, table.size_mb, 1e-12);
	/* scaled: 2 jobs give back the 10 minutes measured; 16 cores fewer, not
	   an eighth (the serial part stays) */
	const char *one[] = { "samtools" };
	CU_ASSERT_DOUBLE_EQUAL(build_minutes(e, one, 1, "c5.4xlarge", 2), 10, 1e-9);
	double sixteen = build_minutes(e, one, 1, "c5.4xlarge", 0);
	CU_ASSERT_DOUBLE_EQUAL(sixteen, f.core_minutes * (s + (1 - s) / 16), 1e-9);
	CU_ASSERT_TRUE(sixteen < 10 && sixteen > 10.0 / 8);

	/* a package built from the cache is no measure */
	petal_estimates_package(e, "gcc", &f);
	CU_ASSERT_FALSE(f.measured);
	/* a package the tables lack is no longer a guess */
	petal_estimates_package(e, "petal-new-pkg", &f);
	CU_ASSERT_TRUE(f.measured);
	CU_ASSERT_FALSE(f.guess);
	petal_estimates_free(e);

	/* the seed's own core_minutes win; another exact version is not used; a
	   range takes any */
	struct petal_seed *seed = seed_from(
		"cluster: {name: measured, region: us-east-1}\n"
		"software:\n"
		"  spack_packages: [samtools@1.18, zlib@1.2:1.4, petal-new-pkg]\n"
		"estimates:\n"
		"  packages:\n"
		"    petal-new-pkg: {core_minutes: 7}\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(seed);
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, seed, &e, &err), 0);
	w.n = 0;
	CU_ASSERT_EQUAL(petal_estimates_load_reports(e, dir, seed, count_warning, &w), 1);
	petal_estimates_package(e, "samtools", &f);
	CU_ASSERT_FALSE(f.measured);
	CU_ASSERT_DOUBLE_EQUAL(f.core_minutes, table.core_minutes, 1e-12);
	petal_estimates_package(e, "zlib", &f);
	CU_ASSERT_TRUE(f.measured);
	petal_estimates_package(e, "petal-new-pkg", &f);
	CU_ASSERT_FALSE(f.measured);
	CU_ASSERT_DOUBLE_EQUAL(f.core_minutes, 7, 1e-12);
	petal_estimates_free(e);
	petal_seed_free(seed);

	/* no directory: no reports, no warning */
	CU_ASSERT_EQUAL_FATAL(petal_estimates_load(data_dir, NULL, &e, &err), 0);
	w.n = 0;
	CU_ASSERT_EQUAL(petal_estimates_load_reports(e, "/nonexistent/petal/reports", NULL,
	                                             count_warning, &w), 0);
	CU_ASSERT_EQUAL(w.n, 0);
	petal_estimates_free(e);
	remove_dir(dir, report_files);
}

int main(void)
{
	data_dir = getenv("PETAL_DATA_DIR");
	if (!data_dir) {
		fprintf(stderr, "PETAL_DATA_DIR is not set (run through make check)\n");
		return 1;
	}
	struct petal_error err = { 0 };
	if (petal_estimates_load(data_dir, NULL, &est, &err) != 0) {
		fprintf(stderr, "cannot load the tables: %s\n", err.msg);
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("estimate", NULL, NULL);
	if (!s ||
	    !CU_add_test(s, "tables load, unknown packages get the default", test_tables_load) ||
	    !CU_add_test(s, "data file errors name file and place", test_tables_errors) ||
	    !CU_add_test(s, "the instance families HPC users pick", test_instance_families) ||
	    !CU_add_test(s, "every listed instance is consistent", test_instance_table_consistent) ||
	    !CU_add_test(s, "unlisted instance types are guessed", test_instance_guess) ||
	    !CU_add_test(s, "the design's build figures", test_design_figures) ||
	    !CU_add_test(s, "speedup model properties", test_model_properties) ||
	    !CU_add_test(s, "recommendation table boundaries", test_recommend_table) ||
	    !CU_add_test(s, "memory-heavy stacks get c5.24xlarge", test_recommend_memory_heavy) ||
	    !CU_add_test(s, "seed overrides change figures", test_seed_overrides) ||
	    !CU_add_test(s, "bad overrides are refused with a place", test_seed_override_errors) ||
	    !CU_add_test(s, "build reports: measured times, bad files said", test_reports)) {
		CU_cleanup_registry();
		return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	petal_estimates_free(est);
	return (rc != CUE_SUCCESS || failed) ? 1 : 0;
}
