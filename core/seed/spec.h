/* Spack spec syntax: name@versions%compiler+variant~variant key=value ^dep */
#ifndef PETAL_SEED_SPEC_H
#define PETAL_SEED_SPEC_H

#include <stddef.h>

#include <petal/plugin.h>

struct petal_variant {
	char *name;
	char *value;  /* key=value: the value; +x / ~x: NULL */
	int enabled;  /* +x: 1, ~x: 0; key=value: 1 */
};

struct petal_spec {
	char *name;          /* may be NULL only for an anonymous dependency-less spec: never in seeds */
	char *versions;      /* text after '@': "1.2", "1.2:", ":1.4", "1.2:1.4", "1.2,1.5" */
	char *compiler;      /* after '%' */
	char *compiler_versions; /* after '%name@' */
	struct petal_variant *variants;
	size_t n_variants;
	struct petal_spec *deps; /* after '^' */
	size_t n_deps;
};

/* Parse one spec.  On error, err->msg says at which character and what was
   expected (no file position: the caller adds it). */
int petal_spec_parse(const char *text, struct petal_spec *out, struct petal_error *err);
/* Canonical text: variants sorted, dependencies sorted by name. Caller frees. */
char *petal_spec_format(const struct petal_spec *spec);
void petal_spec_clear(struct petal_spec *spec);

/* Does version `v` (a concrete version like "1.17") satisfy the constraint
   text `constraint` ("1.2:", ":1.4", "1.2:1.4", "1.17", "1.2,1.5")?  NULL or
   empty constraint: any. A bare "1.2" matches 1.2 and 1.2.x, as Spack does. */
int petal_version_satisfies(const char *v, const char *constraint);
/* -1, 0, 1 comparing dotted versions the way Spack orders them. */
int petal_version_cmp(const char *a, const char *b);

#endif
