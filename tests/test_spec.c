/* core/seed/spec.c and version.c: Spack spec syntax, canonical text, version
   ordering and constraints. */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/seed/spec.h"

/* Parse `text`, expect success, and compare the canonical form. */
static void check_canonical(const char *text, const char *want)
{
	struct petal_spec s;
	struct petal_error err = { 0 };
	int rc = petal_spec_parse(text, &s, &err);
	if (rc != 0)
		fprintf(stderr, "\n  '%s': %s\n", text, err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	char *got = petal_spec_format(&s);
	if (strcmp(got, want) != 0)
		fprintf(stderr, "\n  '%s' -> '%s', want '%s'\n", text, got, want);
	CU_ASSERT_STRING_EQUAL(got, want);
	/* the canonical text parses back to itself */
	struct petal_spec again;
	CU_ASSERT_EQUAL_FATAL(petal_spec_parse(got, &again, &err), 0);
	char *twice = petal_spec_format(&again);
	CU_ASSERT_STRING_EQUAL(twice, got);
	free(twice);
	petal_spec_clear(&again);
	free(got);
	petal_spec_clear(&s);
}

/* Parse `text`, expect failure whose message contains `want`. */
static void check_error(const char *text, const char *want)
{
	struct petal_spec s;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(petal_spec_parse(text, &s, &err), PETAL_EINVAL);
	if (!strstr(err.msg, want))
		fprintf(stderr, "\n  '%s': got '%s', want '%s'\n", text, err.msg, want);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, want));
	/* a failed parse leaves nothing to free */
	CU_ASSERT_PTR_NULL(s.name);
	CU_ASSERT_PTR_NULL(s.variants);
	CU_ASSERT_PTR_NULL(s.deps);
}

static void test_fields(void)
{
	struct petal_spec s;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_spec_parse("hdf5@1.14:1.14.3 %gcc@12.3.0 +mpi ~fortran "
	                                       "build_type=Release cflags=\"-O3 -g\" "
	                                       "^zlib@1.3 +pic ^openmpi@4.1.6 fabrics=ofi",
	                                       &s, &err), 0);
	CU_ASSERT_STRING_EQUAL(s.name, "hdf5");
	CU_ASSERT_STRING_EQUAL(s.versions, "1.14:1.14.3");
	CU_ASSERT_STRING_EQUAL(s.compiler, "gcc");
	CU_ASSERT_STRING_EQUAL(s.compiler_versions, "12.3.0");
	CU_ASSERT_EQUAL_FATAL(s.n_variants, 4);
	CU_ASSERT_STRING_EQUAL(s.variants[0].name, "mpi");
	CU_ASSERT_EQUAL(s.variants[0].enabled, 1);
	CU_ASSERT_PTR_NULL(s.variants[0].value);
	CU_ASSERT_STRING_EQUAL(s.variants[1].name, "fortran");
	CU_ASSERT_EQUAL(s.variants[1].enabled, 0);
	CU_ASSERT_STRING_EQUAL(s.variants[2].name, "build_type");
	CU_ASSERT_STRING_EQUAL(s.variants[2].value, "Release");
	CU_ASSERT_STRING_EQUAL(s.variants[3].value, "-O3 -g");
	CU_ASSERT_EQUAL_FATAL(s.n_deps, 2);
	CU_ASSERT_STRING_EQUAL(s.deps[0].name, "zlib");
	CU_ASSERT_STRING_EQUAL(s.deps[0].versions, "1.3");
	CU_ASSERT_EQUAL_FATAL(s.deps[0].n_variants, 1);
	CU_ASSERT_STRING_EQUAL(s.deps[0].variants[0].name, "pic");
	CU_ASSERT_STRING_EQUAL(s.deps[1].name, "openmpi");
	CU_ASSERT_STRING_EQUAL(s.deps[1].variants[0].value, "ofi");
	petal_spec_clear(&s);
	CU_ASSERT_PTR_NULL(s.name);
	petal_spec_clear(&s); /* clearing twice is harmless */
}

static void test_versions_syntax(void)
{
	check_canonical("gcc@12.3.0", "gcc@12.3.0");
	check_canonical("openmpi@4.1:", "openmpi@4.1:");
	check_canonical("openmpi@:4.1", "openmpi@:4.1");
	check_canonical("openmpi@4.0:4.1", "openmpi@4.0:4.1");
	check_canonical("python@3.10,3.11", "python@3.10,3.11");
	check_canonical("lab-model@develop", "lab-model@develop");
	check_canonical("lab-model@main", "lab-model@main");
	check_canonical("zlib@=1.3", "zlib@=1.3");
	check_canonical("star@2.7.10b", "star@2.7.10b");
	check_canonical("samtools", "samtools");
}

static void test_compact_forms(void)
{
	/* +/~ straight after a version or name, no spaces */
	check_canonical("hdf5@1.14+mpi~fortran", "hdf5@1.14~fortran+mpi");
	check_canonical("hdf5+mpi", "hdf5+mpi");
	check_canonical("hdf5~mpi%gcc", "hdf5%gcc~mpi");
	check_canonical("gromacs@2023.3%gcc@12.3.0+mpi", "gromacs@2023.3%gcc@12.3.0+mpi");
	check_canonical("  bwa@0.7.17  ", "bwa@0.7.17");
	check_canonical("hdf5 % gcc@12", "hdf5%gcc@12");
}

static void test_canonical_order(void)
{
	/* variants sorted by name, key=value after +/~, dependencies by name */
	check_canonical("hdf5 ~szip +mpi +cxx", "hdf5+cxx+mpi~szip");
	check_canonical("hdf5 cflags=-O3 build_type=Release +mpi",
	                "hdf5+mpi build_type=Release cflags=-O3");
	check_canonical("hdf5 ^zlib ^openmpi@4.1.6 ^cmake",
	                "hdf5 ^cmake ^openmpi@4.1.6 ^zlib");
	check_canonical("a ^c+y~x ^b", "a ^b ^c~x+y");
	/* values that need quotes keep them; simple quoted values lose them */
	check_canonical("lab cflags=\"-O3 -march=native\"", "lab cflags=\"-O3 -march=native\"");
	check_canonical("lab build_type='Release'", "lab build_type=Release");
	check_canonical("gcc languages=c,c++,fortran", "gcc languages=c,c++,fortran");
	/* a value starting with = is quoted: k==v would be a propagated k (found by fuzzing) */
	check_canonical("mpich cflags=\"=O2\"", "mpich cflags=\"=O2\"");
	/* equal specs written differently format the same */
	struct petal_spec a, b;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_spec_parse("x@1 +b +a ^z ^y", &a, &err), 0);
	CU_ASSERT_EQUAL_FATAL(petal_spec_parse("x@1+a+b ^y ^z", &b, &err), 0);
	char *fa = petal_spec_format(&a), *fb = petal_spec_format(&b);
	CU_ASSERT_STRING_EQUAL(fa, fb);
	free(fa);
	free(fb);
	petal_spec_clear(&a);
	petal_spec_clear(&b);
}

static void test_errors(void)
{
	check_error("", "at character 1: expected a package name, found the end of the spec");
	check_error("@1.2", "at character 1: expected a package name, found '@'");
	check_error("bwa@", "at character 5: expected a version after '@'");
	check_error("bwa@+mpi", "at character 5: expected a version after '@'");
	check_error("bwa@1.2@1.3", "at character 8: a second '@' for bwa");
	check_error("hdf5 +", "at character 7: expected a variant name after '+'");
	check_error("hdf5 ~", "at character 7: expected a variant name after '~'");
	check_error("hdf5 %", "at character 7: expected a compiler name after '%'");
	check_error("hdf5 %gcc %clang", "at character 11: a second compiler for hdf5");
	check_error("hdf5 +mpi ~mpi", "at character 11: variant 'mpi' is given twice");
	check_error("hdf5 build_type=", "at character 17: expected a value after '='");
	check_error("hdf5 cflags=\"-O3", "at character 13: the quote opened here is never closed");
	check_error("hdf5 ^", "at character 7: expected a package name after '^'");
	check_error("hdf5 ^zlib ^zlib", "at character 12: dependency 'zlib' is given twice");
	check_error("samtools bwa", "at character 10: unexpected 'bwa'; a spec names one package");
	check_error("hdf5 ++mpi", "at character 6: '++' (a propagated variant) is not supported");
	check_error("hdf5 cflags==-O3", "'==' (a propagated setting) is not supported");
	check_error("hdf5 !mpi", "at character 6: expected @version, %compiler, +variant");
	check_error("bwa@1.2:3:4", "'1.2:3:4' is not a version or range");
	check_error("bwa@1.2,,1.3", "at character 9: '' is not a version or range");
	check_error("build_type=Release", "'build_type=' starts a key=value setting");
	check_error("hdf5\x01", "found byte 0x01");
	check_error("hdf5 ^hdf5", "'hdf5' cannot depend on itself");
}

/* Git versions and empty ranges, as Spack's parser takes them. */
static void test_git_and_empty(void)
{
	const char *hash = "0123456789abcdef0123456789abcdef01234567";
	char text[128], want[128];
	check_canonical("bwa@git.main=1.0", "bwa@git.main=1.0");
	check_canonical("bwa@git.v1.2=1.2 +pic", "bwa@git.v1.2=1.2+pic");
	check_canonical("bwa@git.feature/new-io=2.0%gcc", "bwa@git.feature/new-io=2.0%gcc");
	check_canonical("bwa@git.main", "bwa@git.main");
	snprintf(text, sizeof(text), "bwa@git.%s=1.0", hash);
	check_canonical(text, text);
	snprintf(text, sizeof(text), "bwa@%s=1.0", hash);
	check_canonical(text, text);
	snprintf(text, sizeof(text), "bwa@%s ^zlib@1.3", hash);
	snprintf(want, sizeof(want), "bwa@%s ^zlib@1.3", hash);
	check_canonical(text, want);
	struct petal_spec s;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(petal_spec_parse("bwa@git.main=1.0 ^zlib", &s, &err), 0);
	CU_ASSERT_STRING_EQUAL(s.versions, "git.main=1.0");
	CU_ASSERT_EQUAL(s.n_deps, 1);
	petal_spec_clear(&s);

	check_error("bwa@git.=1.0", "a branch, tag or commit after 'git.'");
	check_error("bwa@git.main=", "the version a git reference stands for");
	check_error("bwa@git.main=1.0:2.0", "a git version stands alone");
	check_error("bwa@git.main,1.2", "a git version stands alone");
	check_error("bwa@1.0,git.main", "a git version stands alone");
	check_error("bwa@1.0:git.main", "a git version stands alone");
	check_error("bwa@git.main:2.0", "a git version stands alone");
	check_error("bwa@abc=1.0", "'abc=1.0' is not a version or range");

	check_error("bwa@2:1", "'2:1' is an empty range: 2 is newer than 1 (write the older "
	            "version first: 1:2)");
	check_error("bwa@1.2,3.0:2.9", "'3.0:2.9' is an empty range");
	check_error("x%gcc@13:12", "'13:12' is an empty range");
	/* not empty: an upper bound holds its own releases, and equal ends are one version */
	check_canonical("bwa@1.4:1", "bwa@1.4:1");
	check_canonical("bwa@1.2:1.2", "bwa@1.2:1.2");
	check_canonical("bwa@develop:", "bwa@develop:");
	check_error("bwa@develop:1.0", "empty range");
}

static void test_version_cmp(void)
{
	CU_ASSERT_EQUAL(petal_version_cmp("1.2", "1.2"), 0);
	CU_ASSERT_EQUAL(petal_version_cmp("1.2", "1.10"), -1); /* numeric, not text */
	CU_ASSERT_EQUAL(petal_version_cmp("1.10", "1.2"), 1);
	CU_ASSERT_EQUAL(petal_version_cmp("1.2", "1.2.1"), -1);
	CU_ASSERT_EQUAL(petal_version_cmp("2.7.10b", "2.7.10a"), 1);
	CU_ASSERT_EQUAL(petal_version_cmp("2.7.10", "2.7.10b"), -1);
	CU_ASSERT_EQUAL(petal_version_cmp("1.2a", "1.2.1"), -1); /* words before numbers */
	CU_ASSERT_EQUAL(petal_version_cmp("develop", "99.0"), 1);
	CU_ASSERT_EQUAL(petal_version_cmp("main", "develop"), -1);
	CU_ASSERT_EQUAL(petal_version_cmp("master", "main"), -1);
	CU_ASSERT_EQUAL(petal_version_cmp("1.02", "1.2"), 0);
	CU_ASSERT_EQUAL(petal_version_cmp("20230802", "20220623"), 1);
	CU_ASSERT_EQUAL(petal_version_cmp("123456789012345678901", "123456789012345678902"), -1);
	CU_ASSERT_EQUAL(petal_version_cmp("1-2", "1.2"), 0); /* separators do not count */
}

static void test_version_satisfies(void)
{
	CU_ASSERT_TRUE(petal_version_satisfies("1.17", NULL));
	CU_ASSERT_TRUE(petal_version_satisfies("1.17", ""));
	CU_ASSERT_TRUE(petal_version_satisfies("1.17", "1.17"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.17.1", "1.17")); /* as Spack: 1.17.x */
	/* versions past 255 characters compare whole (a fixed buffer cut them; found by fuzzing) */
	char longv[400], longer[402];
	memset(longv, '1', 300);
	memcpy(longv + 300, ".2", 3);
	snprintf(longer, sizeof(longer), "%s.3", longv);
	CU_ASSERT_TRUE(petal_version_satisfies(longv, longv));
	CU_ASSERT_TRUE(petal_version_satisfies(longer, longv));
	longv[301] = '3';
	CU_ASSERT_FALSE(petal_version_satisfies(longer, longv));
	CU_ASSERT_FALSE(petal_version_satisfies("1.18", "1.17"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.170", "1.17"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.2", "1.2:"));
	CU_ASSERT_TRUE(petal_version_satisfies("3.0", "1.2:"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.1.9", "1.2:"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.4", ":1.4"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.4.5", ":1.4"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.5", ":1.4"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.3", "1.2:1.4"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.4.2", "1.2:1.4"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.1", "1.2:1.4"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.5", "1.2:1.4"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.5", "1.2,1.5"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.3", "1.2,1.5"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.3", "1.2,1.3:1.4"));
	CU_ASSERT_TRUE(petal_version_satisfies("1.3", "=1.3"));
	CU_ASSERT_FALSE(petal_version_satisfies("1.3.1", "=1.3"));
	CU_ASSERT_TRUE(petal_version_satisfies("develop", "1.0:"));
	CU_ASSERT_FALSE(petal_version_satisfies(NULL, "1.0:"));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite s = CU_add_suite("spec", NULL, NULL);
	if (!s || !CU_add_test(s, "fields of a full spec", test_fields) ||
	    !CU_add_test(s, "version syntax", test_versions_syntax) ||
	    !CU_add_test(s, "compact forms without spaces", test_compact_forms) ||
	    !CU_add_test(s, "canonical order", test_canonical_order) ||
	    !CU_add_test(s, "errors name the character and what was expected", test_errors) ||
	    !CU_add_test(s, "git versions and empty ranges", test_git_and_empty) ||
	    !CU_add_test(s, "version ordering", test_version_cmp) ||
	    !CU_add_test(s, "version constraints", test_version_satisfies)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	if (CU_basic_run_tests() != CUE_SUCCESS) {
		CU_cleanup_registry();
		return 2;
	}
	unsigned int failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}
