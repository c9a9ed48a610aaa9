/* Internal to core/seed: typed reading of seed nodes, each problem becoming
   a diagnostic so that one run reports them all. */
#ifndef PETAL_SEED_SCHEMA_H
#define PETAL_SEED_SCHEMA_H

#include "seed.h"

/* Key path of a child: "a.b" (or "b" under the root), "a[3]". Caller frees. */
char *petal_schema_key(const char *parent, const char *key);
char *petal_schema_index(const char *parent, size_t i);

/* What a node is, for "got ..." in messages: "a list", "the string 'x'". */
const char *petal_schema_got(const struct petal_node *n, char *buf, size_t len);
/* A plain ~, null or empty value. */
int petal_schema_is_null(const struct petal_node *n);

/* Report each key of `map` not in `allowed` (NULL-terminated), with a
   did-you-mean. */
void petal_schema_keys(struct petal_diags *d, const struct petal_node *map,
                       const char *path, const char *const *allowed);

/* Position of key `key` in `map` (the map's own when absent). */
void petal_schema_key_pos(const struct petal_node *map, const char *key, int *line,
                          int *col);

/* Child `key` of `map` when it is of `type`; NULL when absent or null (and a
   "missing" diagnostic when `required` says what is expected), or of another
   type (with a diagnostic). */
const struct petal_node *petal_schema_child(struct petal_diags *d,
                                            const struct petal_node *map,
                                            const char *key, const char *path,
                                            enum petal_node_type type,
                                            const char *required);

/* Scalars: 1 when present and valid into *out, 0 when absent (or null), -1
   when wrong (diagnostic added). */
int petal_schema_str(struct petal_diags *d, const struct petal_node *map, const char *key,
                     const char *path, const char *required, const char **out);
int petal_schema_bool(struct petal_diags *d, const struct petal_node *map,
                      const char *key, const char *path, int *out);
int petal_schema_int(struct petal_diags *d, const struct petal_node *map, const char *key,
                     const char *path, long min, long max, int *out);
/* 1 or 0 when n is an unquoted YAML boolean (true, no, ...), else -1. */
int petal_schema_bool_value(const struct petal_node *n);
/* A number >= min (and <= max), from the node itself. */
int petal_schema_number(struct petal_diags *d, const struct petal_node *n,
                        const char *path, double min, double max, double *out);

/* Pattern helpers shared by the sections: a word of at most `max` bytes
   whose first byte is in `first` and the others in `rest`. */
#define PETAL_LOWER "abcdefghijklmnopqrstuvwxyz"
#define PETAL_UPPER "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#define PETAL_DIGIT "0123456789"
int petal_schema_instance_type(const char *s);
/* What petal_schema_instance_type's refusals add, after an example. */
#define PETAL_INSTANCE_SIZES \
	" (the size one of nano, micro, small, medium, large, xlarge, <N>xlarge, metal, " \
	"metal-<N>xl)"
int petal_schema_word(const char *s, const char *first, const char *rest, size_t max);

/* Sections (seed.c calls them in order). */
void petal_seed_check_software(struct petal_diags *d, struct petal_seed *seed);
/* software.spack_version and software.spack (core/seed/spack.c) */
void petal_seed_check_spack(struct petal_diags *d, const struct petal_node *sw,
                            struct petal_seed *seed);
void petal_seed_check_estimates(struct petal_diags *d, const struct petal_node *root);

#endif
