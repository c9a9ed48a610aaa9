/* Fuzz plugins/cloud_aws/xml.c (expat trees and path callbacks) and the
   error answers read with it (errors.c), compiled in from the plugin's
   sources as tests/test_aws_xml does.

   Invariants: the tree and the stream agree (the same verdict and message;
   the stream's elements are the tree's, in post-order, with the same paths
   and texts); a callback's stop value comes back; a text escaped with
   xml_escape reads back as itself; an error answer's fields hold no control
   characters. */
#define _GNU_SOURCE
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "plugins/cloud_aws/aws_ctx.h"
#include "plugins/cloud_aws/xml.h"

struct walk {
	const struct xml_node **order; /* the tree's elements in post-order */
	char **paths;
	size_t n, cap;
	size_t seen;                   /* stream: elements seen so far */
	size_t stop_at;                /* stream: return 7 at this one (1-based), 0: never */
};

static void post_order(struct walk *w, const struct xml_node *n, const char *parent)
{
	for (; n; n = n->next) {
		size_t l = strlen(parent) + strlen(n->name) + 2;
		char *path = malloc(l);
		FUZZ_CHECK(path);
		snprintf(path, l, "%s/%s", parent, n->name);
		FUZZ_CHECK(n->text && n->text_len == strlen(n->text));
		for (const struct xml_node *c = n->child; c; c = c->next)
			FUZZ_CHECK(c->parent == n);
		post_order(w, n->child, path);
		if (w->n == w->cap) {
			w->cap = w->cap ? w->cap * 2 : 16;
			w->order = realloc(w->order, w->cap * sizeof(*w->order));
			w->paths = realloc(w->paths, w->cap * sizeof(*w->paths));
			FUZZ_CHECK(w->order && w->paths);
		}
		w->order[w->n] = n;
		w->paths[w->n++] = path;
	}
}

static int on_path(void *arg, const char *path, const char *text, size_t len)
{
	struct walk *w = arg;
	size_t i = w->seen++;
	if (w->n) {
		FUZZ_CHECK(i < w->n);
		FUZZ_CHECK(!strcmp(path, w->paths[i]));
		FUZZ_CHECK(len == w->order[i]->text_len && !memcmp(text, w->order[i]->text, len));
	}
	FUZZ_CHECK(text[len] == '\0');
	return w->stop_at && w->seen == w->stop_at ? 7 : 0;
}

static void check_escape(const char *text)
{
	if (strchr(text, '\r'))
		return; /* expat reads a literal CR as a newline, as XML says */
	char *esc = xml_escape(text);
	FUZZ_CHECK(esc);
	size_t l = strlen(esc) + 8;
	char *doc = malloc(l);
	FUZZ_CHECK(doc);
	snprintf(doc, l, "<a>%s</a>", esc);
	struct xml_node *n;
	struct petal_error err = { 0 };
	FUZZ_CHECK(xml_parse(doc, strlen(doc), &n, &err) == 0);
	FUZZ_CHECK(!strcmp(n->text, text));
	xml_free(n);
	free(doc);
	free(esc);
}

static void check_clean(const char *s, size_t cap)
{
	FUZZ_CHECK(memchr(s, '\0', cap));
	for (; *s; s++)
		FUZZ_CHECK((unsigned char)*s >= 0x20 && *s != 0x7f);
}

static void check_error_answer(const uint8_t *data, size_t size, const char *headers)
{
	static const long statuses[] = { 301, 400, 403, 404, 409, 500, 503 };
	long status = statuses[size % (sizeof(statuses) / sizeof(*statuses))];
	struct aws_error_info info;
	struct petal_error err = { 0 };
	int rc = aws_error_from_response("S3", "GetObject", status, (const char *)data, size,
	                                 headers, "GET https://b.s3.amazonaws.com/k", &info, &err);
	FUZZ_CHECK(rc < 0 && rc == err.code);
	FUZZ_CHECK(info.code[0]);
	check_clean(info.code, sizeof(info.code));
	check_clean(info.message, sizeof(info.message));
	check_clean(info.request_id, sizeof(info.request_id));
	check_clean(info.server_time, sizeof(info.server_time));
	check_clean(info.bucket_region, sizeof(info.bucket_region));
	aws_parse_time(info.server_time);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1024 * 1024)
		return 0;
	const char *doc = (const char *)data;
	struct xml_node *root;
	struct petal_error e1 = { 0 }, e2 = { 0 }, e3 = { 0 };
	int rc1 = xml_parse(doc, size, &root, &e1);
	FUZZ_CHECK(rc1 == 0 || rc1 == PETAL_EINVAL);
	FUZZ_CHECK((rc1 == 0) == (root != NULL));

	struct walk w = { 0 };
	if (root) {
		FUZZ_CHECK(root->parent == NULL && root->next == NULL);
		post_order(&w, root, "");
	}
	int rc2 = xml_each(doc, size, on_path, &w, &e2);
	if (rc1 != rc2 || strcmp(e1.msg, e2.msg) != 0)
		fprintf(stderr, "tree: %d %s\nstream: %d %s\n", rc1, e1.msg, rc2, e2.msg);
	FUZZ_CHECK(rc1 == rc2);
	FUZZ_CHECK(!strcmp(e1.msg, e2.msg));
	if (root) {
		FUZZ_CHECK(w.seen == w.n);
		/* stopped half way: the callback's value, whatever follows */
		w.seen = 0;
		w.stop_at = (w.n + 1) / 2;
		FUZZ_CHECK(xml_each(doc, size, on_path, &w, &e3) == 7);
		FUZZ_CHECK(w.seen == w.stop_at);
		for (size_t i = 0; i < w.n; i++)
			check_escape(w.order[i]->text);
		/* lookups by a path from the input itself */
		char path[64];
		size_t pl = size < sizeof(path) - 1 ? size : sizeof(path) - 1;
		memcpy(path, data, pl);
		path[pl] = '\0';
		const struct xml_node *f = xml_find(root, path);
		FUZZ_CHECK(!f || xml_text(root, path) == f->text);
		for (const struct xml_node *c = xml_child(root, root->child ? root->child->name : "x");
		     c; c = xml_next(c))
			FUZZ_CHECK(c->parent == root);
	}
	for (size_t i = 0; i < w.n; i++)
		free(w.paths[i]);
	free(w.paths);
	free(w.order);
	xml_free(root);

	char *headers = fuzz_cstr(data, size);
	check_error_answer(data, size, "HTTP/1.1 400 Bad Request\r\nx-amz-request-id: R1\r\n\r\n");
	char buf[256];
	aws_header_get(headers, "x-amz-request-id", buf, sizeof(buf));
	check_error_answer((const uint8_t *)"", 0, headers);
	free(headers);
	return 0;
}
