/* Fuzz core/seed/spec.c and version.c: a Spack spec as a seed gives it.
   Invariants: a spec that parses formats to a canonical text that parses
   to the same spec and formats to itself; a refusal says where and why;
   version comparison is an order (antisymmetric, reflexive). */
#include "config.h"

#include <string.h>

#include "core/seed/spec.h"
#include "fuzz.h"

static int same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void same_spec(const struct petal_spec *a, const struct petal_spec *b)
{
	FUZZ_CHECK(same_str(a->name, b->name));
	FUZZ_CHECK(same_str(a->versions, b->versions));
	FUZZ_CHECK(same_str(a->compiler, b->compiler));
	FUZZ_CHECK(same_str(a->compiler_versions, b->compiler_versions));
	FUZZ_CHECK(a->n_variants == b->n_variants);
	FUZZ_CHECK(a->n_deps == b->n_deps);
}

/* Two versions of the input compared both ways round. */
static void check_order(const char *x, const char *y)
{
	int xy = petal_version_cmp(x, y), yx = petal_version_cmp(y, x);
	FUZZ_CHECK(xy >= -1 && xy <= 1);
	FUZZ_CHECK(xy == -yx);
	FUZZ_CHECK(petal_version_cmp(x, x) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *text = fuzz_cstr(data, size);
	struct petal_spec spec;
	struct petal_error err = { 0 };
	int rc = petal_spec_parse(text, &spec, &err);
	if (rc != 0) {
		FUZZ_CHECK(rc == PETAL_EINVAL);
		FUZZ_CHECK(err.msg[0] != '\0');
		FUZZ_CHECK(spec.name == NULL && spec.n_deps == 0 && spec.n_variants == 0);
	} else {
		FUZZ_CHECK(spec.name != NULL);
		char *canon = petal_spec_format(&spec);
		struct petal_spec again;
		struct petal_error err2 = { 0 };
		int rc2 = petal_spec_parse(canon, &again, &err2);
		if (rc2 != 0)
			fprintf(stderr, "'%s' -> '%s' is refused: %s\n", text, canon, err2.msg);
		FUZZ_CHECK(rc2 == 0);
		same_spec(&spec, &again);
		char *canon2 = petal_spec_format(&again);
		if (strcmp(canon, canon2) != 0)
			fprintf(stderr, "'%s' -> '%s' -> '%s'\n", text, canon, canon2);
		FUZZ_CHECK(!strcmp(canon, canon2));
		for (size_t i = 0; i < spec.n_deps; i++)
			FUZZ_CHECK(spec.deps[i].name != NULL);
		if (spec.versions && !strpbrk(spec.versions, ":,="))
			FUZZ_CHECK(petal_version_satisfies(spec.versions, spec.versions));
		if (spec.versions && spec.compiler_versions)
			check_order(spec.versions, spec.compiler_versions);
		free(canon2);
		petal_spec_clear(&again);
		free(canon);
		petal_spec_clear(&spec);
	}
	/* the input itself as two versions, split at its first newline */
	char *nl = strchr(text, '\n');
	if (nl) {
		*nl = '\0';
		check_order(text, nl + 1);
		petal_version_satisfies(text, nl + 1);
	}
	free(text);
	return 0;
}
