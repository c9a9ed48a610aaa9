/* The seed's YAML as a tree of nodes that remember where they were written. */
#ifndef PETAL_SEED_NODE_H
#define PETAL_SEED_NODE_H

#include <stddef.h>

#include <petal/plugin.h>

#define PETAL_SEED_MAX_BYTES (1024 * 1024) /* a seed is a page of YAML, not 10 MB */
#define PETAL_SEED_MAX_DEPTH 32

struct petal_node {
	enum petal_node_type type;
	int line, col;         /* 1-based */
	char *scalar;          /* SCALAR: its text */
	int quoted;            /* SCALAR: written in quotes (so never a number/bool) */
	struct petal_node **items; /* LIST items, or MAP values */
	char **keys;           /* MAP keys, parallel to items */
	int *key_line, *key_col;
	size_t n, cap;
};

/* Parse YAML text into a tree; the document must be a mapping.  On error,
   err->msg reads "file:line:col: what was wrong" and PETAL_EINVAL is returned.
   Rejects aliases, anchors' reuse, multiple documents, binary data and
   nesting deeper than PETAL_SEED_MAX_DEPTH. */
int petal_node_parse(const char *file, const char *text, size_t len,
                     struct petal_node **out, struct petal_error *err);
void petal_node_free(struct petal_node *n);
/* The same, with the position and message apart (no file name), for callers
   that collect problems as diagnostics.  msg gets at most msglen bytes. */
int petal_node_parse_at(const char *text, size_t len, struct petal_node **out,
                        int *line, int *col, char *msg, size_t msglen);

/* Accessors; all accept NULL and answer "absent". */
const struct petal_node *petal_node_get(const struct petal_node *n, const char *key);
const struct petal_node *petal_node_path(const struct petal_node *n, const char *dotted);
const char *petal_node_str(const struct petal_node *n); /* SCALAR text or NULL */

#endif
