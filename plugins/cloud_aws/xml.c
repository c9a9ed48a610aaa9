/* AWS's XML answers through expat: a tree, or a callback per element. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "xml.h"

/* expat joins namespace URI and local name with this; we keep the local name. */
#define NS_SEP '\x1f'

struct xml_state {
	XML_Parser parser;
	struct xml_node *root;
	struct xml_node *cur;
	struct xml_node *last[XML_MAX_DEPTH + 1]; /* last child at each depth */
	size_t text_cap[XML_MAX_DEPTH + 1];
	int depth;
	int had_root;
	int nomem;
	int refused;           /* DTD or too deep */
	const char *why;
	/* streaming */
	xml_path_cb cb;
	void *arg;
	int stopped;           /* cb's non-zero value */
	char *path;
	size_t path_len, path_cap;
	size_t path_at[XML_MAX_DEPTH + 1];
};

static const char *local_name(const char *name)
{
	const char *sep = strrchr(name, NS_SEP);
	return sep ? sep + 1 : name;
}

static void node_free(struct xml_node *n)
{
	while (n) {
		struct xml_node *next = n->next;
		node_free(n->child);
		free(n->name);
		free(n->text);
		free(n);
		n = next;
	}
}

void xml_free(struct xml_node *root)
{
	node_free(root);
}

static void stop(struct xml_state *st)
{
	XML_StopParser(st->parser, XML_FALSE);
}

static int path_push(struct xml_state *st, const char *name)
{
	size_t n = strlen(name);
	if (st->path_len + n + 2 > st->path_cap) {
		size_t cap = st->path_cap ? st->path_cap : 256;
		while (cap < st->path_len + n + 2)
			cap *= 2;
		char *p = realloc(st->path, cap);
		if (!p)
			return -1;
		st->path = p;
		st->path_cap = cap;
	}
	st->path_at[st->depth] = st->path_len;
	st->path[st->path_len++] = '/';
	memcpy(st->path + st->path_len, name, n + 1);
	st->path_len += n;
	return 0;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
	struct xml_state *st = ud;
	(void)attrs;
	if (st->depth >= XML_MAX_DEPTH) {
		st->refused = 1;
		st->why = "nested too deep";
		stop(st);
		return;
	}
	struct xml_node *n = calloc(1, sizeof(*n));
	if (n)
		n->name = strdup(local_name(name));
	if (n)
		n->text = calloc(1, 1);
	if (!n || !n->name || !n->text || (st->cb && path_push(st, n->name) != 0)) {
		node_free(n);
		st->nomem = 1;
		stop(st);
		return;
	}
	n->parent = st->cur;
	if (!st->cur) {
		st->root = n;
		st->had_root = 1;
	}
	else if (st->last[st->depth])
		st->last[st->depth]->next = n;
	else
		st->cur->child = n;
	st->last[st->depth] = n;
	st->depth++;
	st->last[st->depth] = NULL;
	st->text_cap[st->depth] = 1;
	st->cur = n;
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
	struct xml_state *st = ud;
	struct xml_node *n = st->cur;
	(void)name;
	st->depth--;
	st->cur = n->parent;
	if (!st->cb)
		return;
	int rc = st->cb(st->arg, st->path, n->text, n->text_len);
	st->path_len = st->path_at[st->depth];
	st->path[st->path_len] = '\0';
	/* Streaming keeps only the open elements: this one is done. */
	if (n->parent) {
		if (n->parent->child == n)
			n->parent->child = NULL;
		else {
			struct xml_node *p = n->parent->child;
			while (p->next != n)
				p = p->next;
			p->next = NULL;
		}
		st->last[st->depth] = NULL;
		for (struct xml_node *p = n->parent->child; p; p = p->next)
			st->last[st->depth] = p;
	} else {
		st->root = NULL;
	}
	node_free(n);
	if (rc) {
		st->stopped = rc;
		stop(st);
	}
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
	struct xml_state *st = ud;
	struct xml_node *n = st->cur;
	if (!n || len <= 0)
		return;
	size_t *cap = &st->text_cap[st->depth];
	if (n->text_len + (size_t)len + 1 > *cap) {
		size_t c = *cap < 16 ? 16 : *cap;
		while (c < n->text_len + (size_t)len + 1)
			c *= 2;
		char *t = realloc(n->text, c);
		if (!t) {
			st->nomem = 1;
			stop(st);
			return;
		}
		n->text = t;
		*cap = c;
	}
	memcpy(n->text + n->text_len, s, (size_t)len);
	n->text_len += (size_t)len;
	n->text[n->text_len] = '\0';
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal)
{
	struct xml_state *st = ud;
	(void)name;
	(void)sysid;
	(void)pubid;
	(void)has_internal;
	st->refused = 1;
	st->why = "a document type declaration (AWS sends none)";
	stop(st);
}

static int run(struct xml_state *st, const char *data, size_t len, struct petal_error *err)
{
	if (len > XML_MAX_BYTES) {
		snprintf(err->msg, sizeof(err->msg), "XML answer of %zu bytes is larger than "
		         "the %u bytes petal reads", len, XML_MAX_BYTES);
		return err->code = PETAL_EINVAL;
	}
	st->parser = XML_ParserCreateNS("UTF-8", NS_SEP);
	if (!st->parser) {
		snprintf(err->msg, sizeof(err->msg), "XML: out of memory");
		return err->code = PETAL_ENOMEM;
	}
	XML_SetUserData(st->parser, st);
	XML_SetElementHandler(st->parser, on_start, on_end);
	XML_SetCharacterDataHandler(st->parser, on_text);
	XML_SetStartDoctypeDeclHandler(st->parser, on_doctype);
	/* Never fetch or expand external entities. */
	XML_SetParamEntityParsing(st->parser, XML_PARAM_ENTITY_PARSING_NEVER);

	int rc = 0;
	enum XML_Status s = XML_Parse(st->parser, data ? data : "", (int)len, XML_TRUE);
	if (st->nomem) {
		snprintf(err->msg, sizeof(err->msg), "XML: out of memory");
		rc = err->code = PETAL_ENOMEM;
	} else if (st->refused) {
		snprintf(err->msg, sizeof(err->msg), "XML answer refused at line %lu, column "
		         "%lu: %s", (unsigned long)XML_GetCurrentLineNumber(st->parser),
		         (unsigned long)XML_GetCurrentColumnNumber(st->parser) + 1, st->why);
		rc = err->code = PETAL_EINVAL;
	} else if (st->stopped) {
		rc = st->stopped;
	} else if (s != XML_STATUS_OK || !st->had_root) {
		enum XML_Error e = XML_GetErrorCode(st->parser);
		snprintf(err->msg, sizeof(err->msg), "XML answer is not well-formed at line %lu, "
		         "column %lu: %s", (unsigned long)XML_GetCurrentLineNumber(st->parser),
		         (unsigned long)XML_GetCurrentColumnNumber(st->parser) + 1,
		         s != XML_STATUS_OK ? XML_ErrorString(e) : "no document element");
		rc = err->code = PETAL_EINVAL;
	}
	XML_ParserFree(st->parser);
	return rc;
}

int xml_parse(const char *data, size_t len, struct xml_node **root, struct petal_error *err)
{
	struct xml_state st = { .text_cap = { 1 } };
	*root = NULL;
	int rc = run(&st, data, len, err);
	if (rc != 0 || st.depth != 0) {
		/* stopped mid-document: the tree is partial */
		node_free(st.root);
		if (rc == 0) {
			snprintf(err->msg, sizeof(err->msg), "XML answer ends inside an element");
			rc = err->code = PETAL_EINVAL;
		}
		return rc;
	}
	*root = st.root;
	return 0;
}

int xml_each(const char *data, size_t len, xml_path_cb cb, void *arg,
             struct petal_error *err)
{
	struct xml_state st = { .cb = cb, .arg = arg, .text_cap = { 1 } };
	int rc = run(&st, data, len, err);
	node_free(st.root);
	free(st.path);
	if (rc == 0 && !cb) {
		snprintf(err->msg, sizeof(err->msg), "xml_each: no callback");
		rc = err->code = PETAL_EINVAL;
	}
	return rc;
}

const struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
	for (const struct xml_node *c = n ? n->child : NULL; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	return NULL;
}

const struct xml_node *xml_next(const struct xml_node *n)
{
	for (const struct xml_node *c = n ? n->next : NULL; c; c = c->next)
		if (strcmp(c->name, n->name) == 0)
			return c;
	return NULL;
}

const struct xml_node *xml_find(const struct xml_node *n, const char *path)
{
	char name[256];
	while (n && path && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		if (len >= sizeof(name))
			return NULL;
		memcpy(name, path, len);
		name[len] = '\0';
		if (len > 0)
			n = xml_child(n, name);
		path = slash ? slash + 1 : path + len;
	}
	return n;
}

const char *xml_text(const struct xml_node *n, const char *path)
{
	const struct xml_node *f = xml_find(n, path);
	return f ? f->text : NULL;
}

char *xml_escape(const char *s)
{
	size_t n = 1;
	for (const char *p = s; *p; p++)
		n += (*p == '&' || *p == '<' || *p == '>' || *p == '"' || *p == '\'') ? 6 : 1;
	char *out = malloc(n), *o = out;
	if (!out)
		return NULL;
	for (const char *p = s; *p; p++) {
		const char *rep = NULL;
		switch (*p) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		default: *o++ = *p; continue;
		}
		size_t l = strlen(rep);
		memcpy(o, rep, l);
		o += l;
	}
	*o = '\0';
	return out;
}
