/* AWS's XML answers, read with expat: never by searching strings for tags.
 *
 * Two ways in.  A tree, for answers that fit in memory (all of AWS's but a
 * streamed object):
 *
 *	struct xml_node *doc;
 *	if (xml_parse(body, len, &doc, err) != 0)
 *		return err->code;
 *	for (const struct xml_node *i = xml_find(doc, "imagesSet/item"); i;
 *	     i = xml_next(i))
 *		printf("%s\n", xml_text(i, "imageId"));  // NULL when absent
 *	xml_free(doc);
 *
 * Or a path callback, called at the end of every element with its path from
 * the root ("/ListBucketResult/Contents/Key") and its text.
 *
 * Names are local names: a namespace (S3's and EC2's xmlns) is dropped.
 * Text is the character data directly inside an element, kept as is
 * (entities decoded, whitespace not trimmed).  Documents with a DTD are
 * refused (AWS sends none; refusing them closes entity expansion attacks).
 */
#ifndef PETAL_AWS_XML_H
#define PETAL_AWS_XML_H

#include <stddef.h>

#include <petal/plugin.h>

#define XML_HIDDEN __attribute__((visibility("hidden")))

/* Limits against hostile or broken answers. */
#define XML_MAX_DEPTH 64
#define XML_MAX_BYTES (256u << 20)

struct xml_node {
	char *name;             /* local name */
	char *text;             /* "" when none */
	size_t text_len;
	struct xml_node *parent;
	struct xml_node *child; /* first child */
	struct xml_node *next;  /* next sibling */
};

/* Parse a whole document.  0 with *root set (the document element), or
   PETAL_EINVAL (not well-formed: err gives line and column and expat's
   reason; a DTD; too deep) or PETAL_ENOMEM. */
XML_HIDDEN int xml_parse(const char *data, size_t len, struct xml_node **root,
                         struct petal_error *err);
/* NULL is a no-op. */
XML_HIDDEN void xml_free(struct xml_node *root);

/* The first child of n named `name`, or NULL. */
XML_HIDDEN const struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* The next sibling with the same name as n, or NULL. */
XML_HIDDEN const struct xml_node *xml_next(const struct xml_node *n);
/* Follow a '/'-separated path of child names from n, first match at each
   step ("Errors/Error/Code"); "" or NULL is n itself.  NULL when absent. */
XML_HIDDEN const struct xml_node *xml_find(const struct xml_node *n, const char *path);
/* The text of xml_find(n, path), or NULL when absent. */
XML_HIDDEN const char *xml_text(const struct xml_node *n, const char *path);

/* Called at the end of each element; return non-zero to stop (xml_each
   then returns that value). */
typedef int (*xml_path_cb)(void *arg, const char *path, const char *text, size_t len);

/* Stream a document through cb.  0, cb's non-zero value, PETAL_EINVAL or
   PETAL_ENOMEM as for xml_parse. */
XML_HIDDEN int xml_each(const char *data, size_t len, xml_path_cb cb, void *arg,
                        struct petal_error *err);

/* `s` with & < > " ' escaped, for request bodies; malloc'd, NULL without
   memory. */
XML_HIDDEN char *xml_escape(const char *s);

#endif /* PETAL_AWS_XML_H */
