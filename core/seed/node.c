/* YAML text -> struct petal_node, through libyaml's event API so that depth,
   aliases and document count are bounded while reading, before any tree of
   attacker-chosen size exists. */
#include "config.h"

#include "node.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "../util/util.h"

struct frame {
	struct petal_node *node;
	char *key; /* MAP: a key read, its value not yet */
	int key_line, key_col;
};

struct parse {
	struct frame stack[PETAL_SEED_MAX_DEPTH];
	int depth;
	struct petal_node *root;
	int line, col;
	char *msg;
	size_t msglen;
};

static int fail_at(struct parse *ps, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct parse *ps, int line, int col, const char *fmt, ...)
{
	va_list ap;
	ps->line = line;
	ps->col = col;
	va_start(ap, fmt);
	vsnprintf(ps->msg, ps->msglen, fmt, ap);
	va_end(ap);
	return PETAL_EINVAL;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t need;
	unsigned int cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		need = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		need = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		need = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((need == 3 && cp < 0x800) || (need == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return need;
}

/* Offset of the first byte that no YAML text may hold (NUL, C0 controls
   other than tab/LF/CR, invalid UTF-8), with its 1-based line and column
   (in characters); len when the text is clean. */
static size_t find_binary(const char *text, size_t len, int *line, int *col)
{
	const unsigned char *s = (const unsigned char *)text;
	int l = 1, c = 1;
	size_t i = 0;
	while (i < len) {
		unsigned char b = s[i];
		size_t k = utf8_len(s + i, len - i);
		if (k == 0 || (b < 0x20 && b != '\t' && b != '\n' && b != '\r') || b == 0x7f)
			break;
		if (b == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
		i += k;
	}
	*line = l;
	*col = c;
	return i;
}

static struct petal_node *node_new(enum petal_node_type type, const yaml_mark_t *m)
{
	struct petal_node *n = petal_xcalloc(1, sizeof(*n));
	n->type = type;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

static void node_append(struct petal_node *parent, char *key, int kl, int kc,
                        struct petal_node *child)
{
	if (parent->n == parent->cap) {
		size_t cap = parent->cap ? parent->cap * 2 : 4;
		parent->items = petal_xrealloc(parent->items, cap * sizeof(*parent->items));
		if (parent->type == PETAL_NODE_MAP) {
			parent->keys = petal_xrealloc(parent->keys, cap * sizeof(*parent->keys));
			parent->key_line = petal_xrealloc(parent->key_line, cap * sizeof(int));
			parent->key_col = petal_xrealloc(parent->key_col, cap * sizeof(int));
		}
		parent->cap = cap;
	}
	if (parent->type == PETAL_NODE_MAP) {
		parent->keys[parent->n] = key;
		parent->key_line[parent->n] = kl;
		parent->key_col[parent->n] = kc;
	}
	parent->items[parent->n++] = child;
}

void petal_node_free(struct petal_node *n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n->n; i++) {
		petal_node_free(n->items[i]);
		if (n->keys)
			free(n->keys[i]);
	}
	free(n->items);
	free(n->keys);
	free(n->key_line);
	free(n->key_col);
	free(n->scalar);
	free(n);
}

static const char *kind_name(const struct petal_node *n)
{
	return n->type == PETAL_NODE_MAP ? "a mapping" : "a list";
}

/* Hand a finished node to its parent; takes ownership of n either way. */
static int attach(struct parse *ps, struct petal_node *n)
{
	if (ps->depth == 0) {
		ps->root = n;
		return 0;
	}
	struct frame *f = &ps->stack[ps->depth - 1];
	if (f->node->type == PETAL_NODE_LIST) {
		node_append(f->node, NULL, 0, 0, n);
		return 0;
	}
	if (f->key) {
		node_append(f->node, f->key, f->key_line, f->key_col, n);
		f->key = NULL;
		return 0;
	}
	if (n->type != PETAL_NODE_SCALAR) {
		int rc = fail_at(ps, n->line, n->col,
		                 "a mapping key is %s; keys must be plain words such as 'name'",
		                 kind_name(n));
		petal_node_free(n);
		return rc;
	}
	f->key = n->scalar;
	f->key_line = n->line;
	f->key_col = n->col;
	n->scalar = NULL;
	petal_node_free(n);
	return 0;
}

struct keyref {
	const char *key;
	size_t idx;
};

static int keyref_cmp(const void *a, const void *b)
{
	const struct keyref *x = a, *y = b;
	int c = strcmp(x->key, y->key);
	if (c)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Sorting instead of comparing every pair keeps a 1 MiB mapping of short
   keys from taking seconds. */
static int check_duplicates(struct parse *ps, const struct petal_node *m)
{
	if (m->n < 2)
		return 0;
	struct keyref *refs = petal_xmalloc(m->n * sizeof(*refs));
	for (size_t i = 0; i < m->n; i++)
		refs[i] = (struct keyref){ m->keys[i], i };
	qsort(refs, m->n, sizeof(*refs), keyref_cmp);
	size_t first = 0, dup = (size_t)-1;
	for (size_t i = 1; i < m->n; i++) {
		if (strcmp(refs[i].key, refs[i - 1].key) == 0 && refs[i].idx < dup) {
			size_t j = i - 1;
			while (j > 0 && strcmp(refs[j - 1].key, refs[i].key) == 0)
				j--;
			dup = refs[i].idx;
			first = refs[j].idx;
		}
	}
	free(refs);
	if (dup == (size_t)-1)
		return 0;
	return fail_at(ps, m->key_line[dup], m->key_col[dup],
	               "duplicate key '%s' (first at line %d, column %d); a key may appear "
	               "once in a mapping", m->keys[dup], m->key_line[first],
	               m->key_col[first]);
}

static int malformed(struct parse *ps, const yaml_parser_t *p, const char *text, size_t len)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	if (p->error == YAML_READER_ERROR) {
		int line, col;
		size_t off = p->problem_offset < len ? p->problem_offset : len;
		find_binary(text, off, &line, &col);
		return fail_at(ps, line, col, "malformed YAML: %s", problem);
	}
	int line = (int)p->problem_mark.line + 1, col = (int)p->problem_mark.column + 1;
	if (p->context)
		return fail_at(ps, line, col, "malformed YAML: %s (%s at line %d, column %d)",
		               problem, p->context, (int)p->context_mark.line + 1,
		               (int)p->context_mark.column + 1);
	return fail_at(ps, line, col, "malformed YAML: %s", problem);
}

/* One event; returns 1 at the end of the stream, 0 to go on, or an error. */
static int on_event(struct parse *ps, yaml_event_t *ev, int *docs)
{
	const yaml_mark_t *m = &ev->start_mark;
	int line = (int)m->line + 1, col = (int)m->column + 1;
	const yaml_char_t *anchor = NULL;
	struct petal_node *n;

	switch (ev->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if ((*docs)++ > 0)
			return fail_at(ps, line, col,
			               "a second YAML document; a seed is one document (remove "
			               "the '---' and what follows, or merge it)");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(ps, line, col,
		               "alias '*%s': aliases are not allowed in a seed; write the value out",
		               (const char *)ev->data.alias.anchor);
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: {
		struct frame *f = &ps->stack[--ps->depth];
		n = f->node;
		if (n->type == PETAL_NODE_MAP)
			return check_duplicates(ps, n);
		return 0;
	}
	default:
		return 0;
	}
	if (anchor)
		return fail_at(ps, line, col,
		               "anchor '&%s': anchors and aliases are not allowed in a seed; "
		               "write the value out", (const char *)anchor);

	if (ev->type == YAML_SCALAR_EVENT) {
		/* "\0" in a double-quoted scalar would silently cut the C string */
		if (memchr(ev->data.scalar.value, 0, ev->data.scalar.length))
			return fail_at(ps, line, col, "a NUL character (\\0) in a quoted string; "
			               "a seed holds text");
		n = node_new(PETAL_NODE_SCALAR, m);
		n->scalar = petal_xstrndup((const char *)ev->data.scalar.value,
		                           ev->data.scalar.length);
		n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		return attach(ps, n);
	}
	if (ps->depth == PETAL_SEED_MAX_DEPTH)
		return fail_at(ps, line, col,
		               "nesting deeper than %d levels; a seed is not that deep",
		               PETAL_SEED_MAX_DEPTH);
	n = node_new(ev->type == YAML_MAPPING_START_EVENT ? PETAL_NODE_MAP : PETAL_NODE_LIST, m);
	int rc = attach(ps, n);
	if (rc)
		return rc;
	ps->stack[ps->depth++] = (struct frame){ .node = n };
	return 0;
}

static int is_null_scalar(const struct petal_node *n)
{
	if (n->type != PETAL_NODE_SCALAR || n->quoted)
		return 0;
	const char *s = n->scalar;
	return !*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
	       !strcmp(s, "NULL");
}

int petal_node_parse_at(const char *text, size_t len, struct petal_node **out,
                        int *line, int *col, char *msg, size_t msglen)
{
	struct parse ps = { .msg = msg, .msglen = msglen };
	int rc = 0, docs = 0;
	*out = NULL;

	if (len > PETAL_SEED_MAX_BYTES)
		rc = fail_at(&ps, 1, 1, "the text is %zu bytes, larger than the %d allowed "
		             "for a seed", len, PETAL_SEED_MAX_BYTES);
	int bl, bc;
	if (!rc && find_binary(text, len, &bl, &bc) < len)
		rc = fail_at(&ps, bl, bc, "binary data at %d:%d, not a YAML seed", bl, bc);
	if (rc)
		goto out;

	yaml_parser_t parser;
	if (!yaml_parser_initialize(&parser)) {
		rc = fail_at(&ps, 1, 1, "cannot initialize the YAML parser");
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = malformed(&ps, &parser, text, len);
			break;
		}
		rc = on_event(&ps, &ev, &docs);
		yaml_event_delete(&ev);
		if (rc)
			break;
	}
	yaml_parser_delete(&parser);
	if (rc == 1)
		rc = 0;

	for (int i = 0; i < ps.depth; i++)
		free(ps.stack[i].key);
	if (rc)
		goto out_free_root;
	if (!ps.root || is_null_scalar(ps.root)) {
		rc = fail_at(&ps, 1, 1, "empty seed; expected a YAML mapping with at least "
		             "a cluster section");
		goto out_free_root;
	}
	if (ps.root->type != PETAL_NODE_MAP) {
		rc = fail_at(&ps, ps.root->line, ps.root->col,
		             "the document is %s, not a mapping; a seed is a mapping of "
		             "sections (cluster, compute, software, ...)",
		             ps.root->type == PETAL_NODE_LIST ? "a list" : "a single value");
		goto out_free_root;
	}
	*out = ps.root;
	return 0;

out_free_root:
	petal_node_free(ps.root);
out:
	*line = ps.line;
	*col = ps.col;
	return PETAL_EINVAL;
}

int petal_node_parse(const char *file, const char *text, size_t len,
                     struct petal_node **out, struct petal_error *err)
{
	char msg[768];
	int line, col;
	int rc = petal_node_parse_at(text, len, out, &line, &col, msg, sizeof(msg));
	if (rc)
		return petal_fail(err, rc, "%s:%d:%d: %s", file, line, col, msg);
	return 0;
}

const struct petal_node *petal_node_get(const struct petal_node *n, const char *key)
{
	if (!n || !key || n->type != PETAL_NODE_MAP)
		return NULL;
	for (size_t i = 0; i < n->n; i++)
		if (strcmp(n->keys[i], key) == 0)
			return n->items[i];
	return NULL;
}

const struct petal_node *petal_node_path(const struct petal_node *n, const char *dotted)
{
	if (!n || !dotted)
		return NULL;
	const char *p = dotted;
	while (n && *p) {
		const char *dot = strchr(p, '.');
		size_t len = dot ? (size_t)(dot - p) : strlen(p);
		char *part = petal_xstrndup(p, len);
		if (n->type == PETAL_NODE_LIST) {
			/* a numeric component indexes a list: "queues.0.name" */
			char *end;
			unsigned long i = strtoul(part, &end, 10);
			n = (len && !*end && part[0] >= '0' && part[0] <= '9' && i < n->n)
			    ? n->items[i] : NULL;
		} else {
			n = petal_node_get(n, part);
		}
		free(part);
		p += len;
		if (*p == '.')
			p++;
	}
	return n;
}

const char *petal_node_str(const struct petal_node *n)
{
	return n && n->type == PETAL_NODE_SCALAR ? n->scalar : NULL;
}
