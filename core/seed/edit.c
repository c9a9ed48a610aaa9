/* One value of a seed file changed in place.  libyaml's event marks give
   each node's span in the text; the edit splices bytes there and leaves the
   rest of the file as it was. */
#define _GNU_SOURCE /* realpath */
#include "config.h"

#include "edit.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "../util/util.h"
#include "node.h"
#include "schema.h"
#include "seed.h"

enum span_type { SPAN_SCALAR, SPAN_MAP, SPAN_SEQ };

/* A node with where it was written, in bytes. */
struct span {
	enum span_type type;
	int flow;
	int empty;          /* SCALAR: plain and zero-length (an implicit null) */
	size_t start, end;  /* [start, end) */
	size_t close;       /* flow MAP: offset of its closing brace */
	size_t last;        /* collections: end of the last scalar or flow collection within */
	size_t key_col;     /* MAP: column of its first key */
	struct span **kids; /* MAP values, SEQ items */
	char **keys;        /* MAP: parallel to kids */
	size_t *key_end;    /* MAP: where each key's text ends */
	size_t n, cap;
};

static void span_free(struct span *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		span_free(s->kids[i]);
		if (s->keys)
			free(s->keys[i]);
	}
	free(s->kids);
	free(s->keys);
	free(s->key_end);
	free(s);
}

struct frame {
	struct span *node;
	char *key; /* MAP: a key read, its value not yet */
	size_t key_end, key_col;
	int key_seen;
};

struct walk {
	const size_t *byte; /* character index -> byte offset */
	size_t nchars;
	struct frame stack[PETAL_SEED_MAX_DEPTH];
	int depth;
	struct span *root;
};

static size_t at(const struct walk *w, const yaml_mark_t *m)
{
	return w->byte[m->index < w->nchars ? m->index : w->nchars];
}

static void note_end(struct walk *w, size_t end)
{
	for (int i = 0; i < w->depth; i++)
		if (w->stack[i].node->last < end)
			w->stack[i].node->last = end;
}

static void add_kid(struct span *parent, char *key, size_t key_end, struct span *kid)
{
	if (parent->n == parent->cap) {
		parent->cap = parent->cap ? parent->cap * 2 : 4;
		parent->kids = petal_xrealloc(parent->kids, parent->cap * sizeof(*parent->kids));
		parent->keys = petal_xrealloc(parent->keys, parent->cap * sizeof(*parent->keys));
		parent->key_end = petal_xrealloc(parent->key_end,
		                                 parent->cap * sizeof(*parent->key_end));
	}
	parent->keys[parent->n] = key;
	parent->key_end[parent->n] = key_end;
	parent->kids[parent->n++] = kid;
}

/* Give a finished node to its parent (or keep it as a key); 0, or -1 for a
   key that is not a scalar. */
static int attach(struct walk *w, struct span *n, const char *scalar, size_t col)
{
	if (w->depth == 0) {
		if (!w->root)
			w->root = n;
		else
			span_free(n);
		return 0;
	}
	struct frame *f = &w->stack[w->depth - 1];
	if (f->node->type == SPAN_SEQ) {
		add_kid(f->node, NULL, 0, n);
		return 0;
	}
	if (f->key_seen) {
		add_kid(f->node, f->key, f->key_end, n);
		f->key = NULL;
		f->key_seen = 0;
		return 0;
	}
	if (n->type != SPAN_SCALAR) {
		span_free(n);
		return -1;
	}
	if (f->node->n == 0)
		f->node->key_col = col;
	f->key = petal_xstrdup(scalar);
	f->key_end = n->end;
	f->key_seen = 1;
	span_free(n);
	return 0;
}

static int walk_event(struct walk *w, const yaml_event_t *ev, struct petal_error *err)
{
	struct span *n;
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		n = petal_xcalloc(1, sizeof(*n));
		n->type = SPAN_SCALAR;
		n->start = at(w, &ev->start_mark);
		n->end = at(w, &ev->end_mark);
		n->empty = ev->data.scalar.length == 0 &&
		           ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
		/* an implicit null's marks may sit on the next token */
		if (!n->empty)
			note_end(w, n->end);
		if (attach(w, n, (const char *)ev->data.scalar.value, ev->start_mark.column))
			return petal_fail(err, PETAL_EINVAL, "a mapping key is not a plain value");
		return 0;
	case YAML_MAPPING_START_EVENT:
	case YAML_SEQUENCE_START_EVENT:
		if (w->depth == PETAL_SEED_MAX_DEPTH)
			return petal_fail(err, PETAL_EINVAL, "nesting deeper than %d levels",
			                  PETAL_SEED_MAX_DEPTH);
		n = petal_xcalloc(1, sizeof(*n));
		n->type = ev->type == YAML_MAPPING_START_EVENT ? SPAN_MAP : SPAN_SEQ;
		n->flow = ev->type == YAML_MAPPING_START_EVENT
		          ? ev->data.mapping_start.style == YAML_FLOW_MAPPING_STYLE
		          : ev->data.sequence_start.style == YAML_FLOW_SEQUENCE_STYLE;
		n->start = at(w, &ev->start_mark);
		w->stack[w->depth++] = (struct frame){ .node = n };
		return 0;
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT: {
		struct frame *f = &w->stack[--w->depth];
		n = f->node;
		free(f->key);
		n->end = at(w, &ev->end_mark);
		n->close = at(w, &ev->start_mark);
		if (n->flow)
			note_end(w, n->end);
		if (attach(w, n, NULL, 0))
			return petal_fail(err, PETAL_EINVAL, "a mapping key is a collection");
		return 0;
	}
	case YAML_ALIAS_EVENT:
		return petal_fail(err, PETAL_EINVAL, "an alias (*%s); a seed has none",
		                  (const char *)ev->data.alias.anchor);
	default:
		return 0;
	}
}

/* The text as spans; the root must be a mapping. */
static int walk_text(const char *text, size_t len, struct span **out, struct petal_error *err)
{
	struct walk w = { 0 };
	size_t *byte = petal_xmalloc((len + 1) * sizeof(*byte));
	size_t i = 0, c = 0;
	/* libyaml counts characters (a CRLF as two); a UTF-8 BOM it skips */
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	while (i < len) {
		unsigned char b = (unsigned char)text[i];
		size_t k = b < 0x80 ? 1 : b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
		byte[c++] = i;
		i += k;
	}
	byte[c] = len;
	w.byte = byte;
	w.nchars = c;

	yaml_parser_t parser;
	int rc = 0, done = 0;
	*out = NULL;
	if (!yaml_parser_initialize(&parser)) {
		free(byte);
		return petal_fail(err, PETAL_ENOMEM, "cannot initialise the YAML parser");
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done && !rc) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = petal_fail(err, PETAL_EINVAL, "line %d: malformed YAML: %s",
			                (int)parser.problem_mark.line + 1,
			                parser.problem ? parser.problem : "unknown error");
			break;
		}
		done = ev.type == YAML_STREAM_END_EVENT;
		rc = walk_event(&w, &ev, err);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	for (int d = 0; d < w.depth; d++) {
		free(w.stack[d].key);
		span_free(w.stack[d].node);
	}
	free(byte);
	if (!rc && (!w.root || w.root->type != SPAN_MAP))
		rc = petal_fail(err, PETAL_EINVAL, "the document is not a mapping");
	if (rc) {
		span_free(w.root);
		return rc;
	}
	*out = w.root;
	return 0;
}

int petal_seed_needs_quotes(const char *s)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false",
		                             "on", "off", "null" };
	unsigned char c = (unsigned char)s[0];
	size_t n = strlen(s);
	/* numbers, dates, .inf, ~ and YAML's indicators start outside these */
	if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '/'))
		return 1;
	/* no ': ', ' #', flow indicators or quotes; no space at either end */
	if (strspn(s, PETAL_LOWER PETAL_UPPER PETAL_DIGIT "._/@()- ") != n || s[n - 1] == ' ')
		return 1;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(words); i++)
		if (strcasecmp(s, words[i]) == 0)
			return 1;
	return 0;
}

static void put_value(struct petal_strbuf *sb, const char *v)
{
	if (!petal_seed_needs_quotes(v)) {
		petal_strbuf_puts(sb, v);
		return;
	}
	petal_strbuf_putc(sb, '\'');
	for (; *v; v++) {
		if (*v == '\'')
			petal_strbuf_putc(sb, '\'');
		petal_strbuf_putc(sb, *v);
	}
	petal_strbuf_putc(sb, '\'');
}

/* Where a new line goes after the content ending at `end`: the start of the
   next line, or len when the content's line is the file's last. */
static size_t line_after(const char *text, size_t len, size_t end)
{
	if (end > 0 && text[end - 1] == '\n')
		return end;
	const char *nl = memchr(text + end, '\n', len - end);
	return nl ? (size_t)(nl - text) + 1 : len;
}

/* Indentation a block mapping's children add: the first nested block
   mapping's, else 2. */
static size_t indent_step(const struct span *m)
{
	for (size_t i = 0; i < m->n; i++) {
		const struct span *k = m->kids[i];
		if (k->type == SPAN_MAP && !k->flow && k->n && k->key_col > m->key_col)
			return k->key_col - m->key_col;
	}
	return 2;
}

struct splice {
	size_t from, to; /* bytes [from, to) replaced */
	struct petal_strbuf with;
};

/* Block lines for keys[0..n) nested, the last holding the value. */
static void block_lines(struct petal_strbuf *sb, char *const *keys, size_t n, const char *value,
                        size_t col, size_t step, const char *eol, int lead_eol)
{
	for (size_t k = 0; k < n; k++) {
		if (k || lead_eol)
			petal_strbuf_puts(sb, eol);
		for (size_t s = 0; s < col + k * step; s++)
			petal_strbuf_putc(sb, ' ');
		petal_strbuf_printf(sb, "%s:", keys[k]);
	}
	petal_strbuf_putc(sb, ' ');
	put_value(sb, value);
}

static void flow_text(struct petal_strbuf *sb, char *const *keys, size_t n, const char *value)
{
	petal_strbuf_printf(sb, "%s: ", keys[0]);
	if (n == 1) {
		put_value(sb, value);
		return;
	}
	petal_strbuf_putc(sb, '{');
	flow_text(sb, keys + 1, n - 1, value);
	petal_strbuf_putc(sb, '}');
}

/* New block lines inserted after the content ending at `end`. */
static void insert_block(struct splice *sp, const char *text, size_t len, size_t end,
                         char *const *keys, size_t n, const char *value, size_t col,
                         size_t step, const char *eol)
{
	size_t pos = line_after(text, len, end);
	int at_eof_unended = pos == len && (len == 0 || text[len - 1] != '\n');
	sp->from = sp->to = pos;
	block_lines(&sp->with, keys, n, value, col, step, eol, at_eof_unended);
	if (!at_eof_unended)
		petal_strbuf_puts(&sp->with, eol);
}

static int plan_edit(const char *text, size_t len, const struct span *root, char **keys,
                     size_t nkeys, const char *value, struct splice *sp,
                     struct petal_error *err)
{
	const char *eol = "\n";
	const char *nl = memchr(text, '\n', len);
	if (nl && nl > text && nl[-1] == '\r')
		eol = "\r\n";
	const struct span *m = root;
	size_t step = indent_step(root);
	for (size_t i = 0; i < nkeys; i++) {
		size_t j = 0;
		while (j < m->n && (!m->keys[j] || strcmp(m->keys[j], keys[i]) != 0))
			j++;
		if (j == m->n) {
			/* absent: added to this mapping, in its style */
			if (m->flow) {
				sp->from = sp->to = m->n ? m->last : m->close;
				if (m->n)
					petal_strbuf_puts(&sp->with, ", ");
				flow_text(&sp->with, keys + i, nkeys - i, value);
			} else {
				insert_block(sp, text, len, m->last, keys + i, nkeys - i, value,
				             m->key_col, step, eol);
			}
			return 0;
		}
		const struct span *v = m->kids[j];
		if (i + 1 == nkeys) {
			if (v->type != SPAN_SCALAR)
				return petal_fail(err, PETAL_EINVAL, "%s is %s, not a single value",
				                  keys[i], v->type == SPAN_MAP ? "a mapping" : "a list");
			if (v->empty) {
				/* "key:" with nothing after it: the value goes after the colon */
				const char *colon = memchr(text + m->key_end[j], ':',
				                           len - m->key_end[j]);
				if (!colon)
					return petal_fail(err, PETAL_EINVAL, "%s: no ':' after the key",
					                  keys[i]);
				sp->from = sp->to = (size_t)(colon - text) + 1;
				petal_strbuf_putc(&sp->with, ' ');
			} else {
				sp->from = v->start;
				sp->to = v->end;
			}
			put_value(&sp->with, value);
			return 0;
		}
		if (v->type == SPAN_SCALAR && v->empty && !m->flow) {
			/* "compute:" and nothing under it yet */
			insert_block(sp, text, len, m->key_end[j], keys + i + 1, nkeys - i - 1,
			             value, m->key_col + step, step, eol);
			return 0;
		}
		if (v->type != SPAN_MAP)
			return petal_fail(err, PETAL_EINVAL, "%s is %s, not a mapping", keys[i],
			                  v->type == SPAN_SEQ ? "a list" : "a single value");
		m = v;
	}
	return 0;
}

int petal_seed_edit_text(const char *text, size_t len, const char *dotted_key,
                         const char *value, char **out, size_t *out_len,
                         struct petal_error *err)
{
	*out = NULL;
	*out_len = 0;
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return petal_fail(err, PETAL_EINVAL, "%s: the value holds a control "
			                  "character or line break; expected one line of text",
			                  dotted_key);
	char **keys = NULL;
	size_t nkeys = 0, cap = 0;
	int rc = 0;
	for (const char *p = dotted_key;;) {
		size_t n = strcspn(p, ".");
		char *k = petal_xstrndup(p, n);
		PETAL_PUSH(keys, nkeys, cap, k);
		if (n == 0 || petal_seed_needs_quotes(k) || strchr(k, ' ')) {
			rc = petal_fail(err, PETAL_EINVAL, "'%s' is not a key path such as "
			                "compute.custom_ami", dotted_key);
			goto out_keys;
		}
		if (!p[n])
			break;
		p += n + 1;
	}

	struct span *root;
	rc = walk_text(text, len, &root, err);
	if (rc)
		goto out_keys;
	struct splice sp = { .with = PETAL_STRBUF_INIT };
	rc = plan_edit(text, len, root, keys, nkeys, value, &sp, err);
	span_free(root);
	if (rc == 0) {
		struct petal_strbuf sb = PETAL_STRBUF_INIT;
		petal_strbuf_add(&sb, text, sp.from);
		petal_strbuf_puts(&sb, petal_strbuf_str(&sp.with));
		petal_strbuf_add(&sb, text + sp.to, len - sp.to);
		*out_len = sb.len;
		*out = petal_strbuf_detach(&sb);
	}
	petal_strbuf_release(&sp.with);
out_keys:
	for (size_t i = 0; i < nkeys; i++)
		free(keys[i]);
	free(keys);
	return rc;
}

/* The edited text is a valid seed and reads `value` at `key`. */
static int check_result(const char *path, const char *text, size_t len, const char *key,
                        const char *value, struct petal_error *err)
{
	struct petal_diags d = { 0 };
	struct petal_seed *seed = NULL;
	struct petal_error lerr = { 0 };
	int rc = petal_seed_load_text(path, text, len, &seed, &d, &lerr);
	if (rc) {
		char *all = petal_diags_format(&d);
		size_t first = strcspn(all, "\n");
		rc = petal_fail(err, PETAL_EINVAL, "%s: not changed: with %s set to '%s' the seed "
		                "would not be valid: %.*s", path, key, value, (int)first, all);
		free(all);
		petal_diags_release(&d);
		return rc;
	}
	petal_diags_release(&d);
	const char *got = petal_node_str(petal_node_path(seed->root, key));
	if (!got || strcmp(got, value) != 0)
		rc = petal_fail(err, PETAL_EINVAL, "%s: not changed: %s would read back as '%s', "
		                "not '%s'", path, key, got ? got : "(nothing)", value);
	petal_seed_free(seed);
	return rc;
}

static int same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
	       a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int petal_seed_set_scalar(const char *path, const char *dotted_key, const char *value,
                          const char *expected, size_t expected_len,
                          struct petal_error *err)
{
	struct stat before, now;
	char *text = NULL, *edited = NULL;
	size_t len = 0, edited_len = 0;
	int rc;
	/* a symlinked seed is edited where it lives, the link kept */
	char *real = realpath(path, NULL);
	if (!real)
		return petal_fail(err, errno == ENOENT ? PETAL_ENOENT : PETAL_EIO, "%s: %s", path,
		                  strerror(errno));
	if (stat(real, &before) != 0 || !S_ISREG(before.st_mode)) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: not a regular file", path);
		goto out_real;
	}
	rc = petal_read_file(real, PETAL_SEED_MAX_BYTES, &text, &len, err);
	if (rc)
		goto out_real;
	if (len != expected_len || memcmp(text, expected, len) != 0) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: changed since petal read it; not "
		                "overwritten (read it again, then retry)", path);
		goto out_text;
	}
	rc = petal_seed_edit_text(text, len, dotted_key, value, &edited, &edited_len, err);
	if (rc) {
		char *why = petal_xstrdup(err ? err->msg : "cannot edit");
		petal_fail(err, rc, "%s: not changed: %s", path, why);
		free(why);
		goto out_text;
	}
	rc = check_result(path, edited, edited_len, dotted_key, value, err);
	if (rc)
		goto out_edited;

	struct petal_tmpfile t;
	rc = petal_tmpfile_open(&t, real, NULL, 0600, err);
	if (rc)
		goto out_edited;
	if (petal_write_fd(t.fd, edited, edited_len) != 0 ||
	    fchmod(t.fd, before.st_mode & 07777) != 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot write the new version: %s", path,
		                strerror(errno));
		goto out_discard;
	}
	struct stat mine;
	if (fstat(t.fd, &mine) == 0 && (mine.st_uid != before.st_uid ||
	                                 mine.st_gid != before.st_gid) &&
	    fchown(t.fd, before.st_uid, before.st_gid) != 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: not changed: the new version could not keep "
		                "the file's owner (%d:%d): %s", path, (int)before.st_uid,
		                (int)before.st_gid, strerror(errno));
		goto out_discard;
	}
	if (stat(real, &now) != 0 || !same_file(&before, &now)) {
		rc = petal_fail(err, PETAL_EINVAL, "%s: changed while petal was rewriting it; "
		                "not overwritten (read it again, then retry)", path);
		goto out_discard;
	}
	rc = petal_tmpfile_commit(&t, err);
	goto out_edited;

out_discard:
	petal_tmpfile_discard(&t);
out_edited:
	free(edited);
out_text:
	free(text);
out_real:
	free(real);
	return rc;
}
