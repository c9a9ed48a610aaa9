/* Finding images: by id or name (custom_ami, launches), by tag and name
 * (image_find), all of this account's (image_list), by owner and name
 * (image_search); and the regions to look in (region_list).  Every
 * DescribeImages that can page follows nextToken. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_query.h"

int aws_ami_id_valid(const char *s)
{
	if (!s || strncmp(s, "ami-", 4) != 0)
		return 0;
	size_t n = 0;
	for (const char *p = s + 4; *p; p++, n++)
		if (!isdigit((unsigned char)*p) && !(*p >= 'a' && *p <= 'f'))
			return 0;
	return n == 8 || n == 17;
}

/* EC2's characters for AMI names, plus the filter's wildcards when asked. */
static int name_check(const char *what, const char *name, int wildcards,
                      struct petal_error *err)
{
	size_t n = name ? strlen(name) : 0;
	if (n < (wildcards ? 1 : 3) || n > 128)
		return ec2_fail(err, PETAL_EINVAL, "%s: an image name has %d to 128 characters, "
		                "not %zu", what, wildcards ? 1 : 3, n);
	for (const char *p = name; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (isalnum(ch) || strchr("()[] ./-'@_", ch) || (wildcards && strchr("*?", ch)))
			continue;
		return ec2_fail(err, PETAL_EINVAL, "%s: image name '%s' holds '%c', which EC2 "
		                "does not allow (letters, digits, ( ) [ ] space . / - ' @ _%s)",
		                what, name, isprint(ch) ? ch : '?', wildcards ? " * ?" : "");
	}
	return 0;
}

/* ---- the newest match over pages ---------------------------------------------------- */

struct newest {
	const char *region;
	struct petal_image img;
	struct ec2_image_root root;
	int found;
};

static void root_read(const struct xml_node *item, struct ec2_image_root *root)
{
	memset(root, 0, sizeof(*root));
	ec2_set(root->device, sizeof(root->device), xml_text(item, "rootDeviceName"));
	const char *type = xml_text(item, "rootDeviceType");
	root->ebs = !type || strcmp(type, "instance-store") != 0;
	for (const struct xml_node *m = xml_find(item, "blockDeviceMapping/item"); m;
	     m = xml_next(m)) {
		const char *dev = xml_text(m, "deviceName");
		const char *gb = xml_text(m, "ebs/volumeSize");
		if (dev && gb && strcmp(dev, root->device) == 0)
			root->min_gb = atoi(gb);
	}
}

/* Newer: later creation, then (same second) the larger id, so the choice
   does not depend on the order EC2 answers in. */
static int newer(const struct petal_image *a, const struct petal_image *b)
{
	return a->created != b->created ? a->created > b->created : strcmp(a->id, b->id) > 0;
}

static int newest_page(void *arg, const struct xml_node *doc, struct petal_error *err)
{
	(void)err;
	struct newest *nw = arg;
	for (const struct xml_node *i = xml_find(doc, "imagesSet/item"); i; i = xml_next(i)) {
		struct petal_image img;
		ec2_image_read(i, nw->region, &img);
		if (!img.id[0] || !ec2_image_usable(img.state))
			continue;
		if (!nw->found || newer(&img, &nw->img)) {
			nw->img = img;
			root_read(i, &nw->root);
			nw->found = 1;
		}
	}
	return 0;
}

/* DescribeImages with owner and filters (pairs of name and value; a NULL
   value ends them), every page; the newest usable image into *nw. */
static int describe_newest(struct ec2 *e, const char *owner, const char *const *filters,
                           struct newest *nw, struct petal_error *err)
{
	struct ec2_form f;
	ec2_form_init(&f, "DescribeImages");
	ec2_form_add(&f, "Owner.1", owner);
	for (size_t i = 0; filters[2 * i] && filters[2 * i + 1]; i++) {
		ec2_form_addf(&f, filters[2 * i], "Filter.%zu.Name", i + 1);
		ec2_form_addf(&f, filters[2 * i + 1], "Filter.%zu.Value.1", i + 1);
	}
	memset(nw, 0, sizeof(*nw));
	nw->region = e->region;
	int rc = ec2_call_pages(e, &f, ec2_max_results(), newest_page, nw, err);
	ec2_form_clear(&f);
	return rc;
}

/* ---- by id or name ----------------------------------------------------------------------- */

int ec2_image_lookup(struct ec2 *e, const char *id_or_name, struct petal_image *img,
                     struct ec2_image_root *root, struct petal_error *err)
{
	if (!id_or_name || !*id_or_name)
		return ec2_fail(err, PETAL_EINVAL, "EC2: no image id or name given");
	if (aws_ami_id_valid(id_or_name)) {
		struct xml_node *doc;
		const struct xml_node *item;
		int rc = ec2_image_get(e, id_or_name, &doc, &item, NULL, err);
		if (rc != 0) {
			ec2_err_append(err, " [image %s looked up in region %s; images are "
			               "regional: copy it there or give that region's id]",
			               id_or_name, e->region);
			return rc;
		}
		ec2_image_read(item, e->region, img);
		root_read(item, root);
		xml_free(doc);
		return 0;
	}
	int rc = name_check("EC2 image lookup", id_or_name, 1, err);
	if (rc != 0)
		return rc;
	/* Owners in order of trust; nobody else's image is taken by its name. */
	static const char *const owners[] = { "self", "amazon" };
	const char *const filters[] = { "name", id_or_name, NULL, NULL };
	struct newest nw;
	for (size_t o = 0; o < sizeof(owners) / sizeof(owners[0]); o++) {
		if ((rc = describe_newest(e, owners[o], filters, &nw, err)) != 0)
			return rc;
		if (nw.found) {
			EC2_DEBUG(e, "ec2: image name '%s' is %s (owner %s, %s)", id_or_name,
			          nw.img.id, owners[o], e->region);
			*img = nw.img;
			*root = nw.root;
			return 0;
		}
	}
	return ec2_fail(err, PETAL_ENOENT, "EC2: no available or pending image named '%s' "
	                "owned by this account or by Amazon in region %s; check the name, "
	                "copy the image to %s, or give its id (ami-...) for an image shared "
	                "by another account", id_or_name, e->region, e->region);
}

int aws_resolve_ami(struct aws_ctx *c, const char *id_or_name, struct petal_image *out,
                    struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, c, NULL, "image lookup", err);
	if (rc != 0)
		return rc;
	struct petal_image full;
	struct ec2_image_root root;
	rc = ec2_image_lookup(&ec2, id_or_name, &full, &root, err);
	if (rc == 0 && out)
		ec2_copy_sized(out, &full, sizeof(full));
	return rc;
}

/* ---- find ------------------------------------------------------------------------------- */

int aws_image_find(void *ctx, const char *tag_key, const char *tag_value, const char *name,
                   struct petal_image *out, struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "image find", err);
	if (rc != 0)
		return rc;
	if ((!tag_key || !*tag_key) && (!name || !*name))
		return ec2_fail(err, PETAL_EINVAL, "EC2 image find: give a tag, a name or both");
	if (name && *name && (rc = name_check("EC2 image find", name, 1, err)) != 0)
		return rc;
	/* reading by AWS's own tags (aws:...) is allowed, unlike setting them */
	if (tag_key && (strlen(tag_key) > 128 || (tag_value && strlen(tag_value) > 256)))
		return ec2_fail(err, PETAL_EINVAL, "EC2 image find: a tag key has at most 128 "
		                "characters, a value at most 256");

	char tag_filter[160];
	const char *filters[6] = { NULL };
	size_t nf = 0;
	if (tag_key && *tag_key) {
		if (tag_value) {
			snprintf(tag_filter, sizeof(tag_filter), "tag:%s", tag_key);
			filters[nf++] = tag_filter;
			filters[nf++] = tag_value;
		} else {
			filters[nf++] = "tag-key";
			filters[nf++] = tag_key;
		}
	}
	if (name && *name) {
		filters[nf++] = "name";
		filters[nf++] = name;
	}
	struct newest nw;
	if ((rc = describe_newest(&ec2, "self", filters, &nw, err)) != 0)
		return rc;
	if (!nw.found) {
		char what[512];
		snprintf(what, sizeof(what), "%s%s%s%s%s%s%s", tag_key && *tag_key ? "tag " : "",
		         tag_key && *tag_key ? tag_key : "", tag_key && *tag_key ? "=" : "",
		         tag_key && *tag_key ? (tag_value ? tag_value : "*") : "",
		         tag_key && *tag_key && name && *name ? " and " : "",
		         name && *name ? "name " : "", name && *name ? name : "");
		return ec2_fail(err, PETAL_ENOENT, "EC2: no available or pending image of this "
		                "account with %s in region %s", what, ec2.region);
	}
	if (out)
		ec2_copy_sized(out, &nw.img, sizeof(nw.img));
	return 0;
}

/* ---- list ------------------------------------------------------------------------------- */

struct lister {
	const char *region;
	int (*cb)(void *arg, const struct petal_image *img);
	void *arg;
};

static int list_page(void *arg, const struct xml_node *doc, struct petal_error *err)
{
	(void)err;
	struct lister *ls = arg;
	for (const struct xml_node *i = xml_find(doc, "imagesSet/item"); i; i = xml_next(i)) {
		struct petal_image img;
		ec2_image_read(i, ls->region, &img);
		int rc = ls->cb(ls->arg, &img);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int aws_image_list(void *ctx, const char *tag_key,
                   int (*cb)(void *arg, const struct petal_image *img), void *arg,
                   struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "image list", err);
	if (rc != 0)
		return rc;
	if (!cb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 image list: no callback");
	struct ec2_form f;
	ec2_form_init(&f, "DescribeImages");
	ec2_form_add(&f, "Owner.1", "self");
	if (tag_key && *tag_key) {
		ec2_form_add(&f, "Filter.1.Name", "tag-key");
		ec2_form_add(&f, "Filter.1.Value.1", tag_key);
	}
	struct lister ls = { ec2.region, cb, arg };
	rc = ec2_call_pages(&ec2, &f, ec2_max_results(), list_page, &ls, err);
	ec2_form_clear(&f);
	return rc;
}

/* ---- search by owner and name --------------------------------------------------------- */

/* EC2's owners: the aliases, or an account id of 12 digits. */
static int owner_valid(const char *owner)
{
	if (!owner)
		return 0;
	if (!strcmp(owner, "self") || !strcmp(owner, "amazon") ||
	    !strcmp(owner, "aws-marketplace"))
		return 1;
	size_t n = strlen(owner);
	return n == 12 && strspn(owner, "0123456789") == n;
}

struct searcher {
	const char *region;
	int (*cb)(void *arg, const struct petal_image *img);
	void *arg;
};

static int search_page(void *arg, const struct xml_node *doc, struct petal_error *err)
{
	(void)err;
	struct searcher *s = arg;
	for (const struct xml_node *i = xml_find(doc, "imagesSet/item"); i; i = xml_next(i)) {
		struct petal_image img;
		ec2_image_read(i, s->region, &img);
		if (!img.id[0] || !ec2_image_usable(img.state))
			continue;
		int rc = s->cb(s->arg, &img);
		if (rc != 0)
			return rc;
	}
	return 0;
}

int aws_image_search(void *ctx, const char *owner, const char *name_pattern,
                     int (*cb)(void *arg, const struct petal_image *img), void *arg,
                     struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "image search", err);
	if (rc != 0)
		return rc;
	if (!cb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 image search: no callback");
	if (!owner_valid(owner))
		return ec2_fail(err, PETAL_EINVAL, "EC2 image search: owner '%s' is not self, "
		                "amazon, aws-marketplace or a 12-digit account id",
		                owner ? owner : "");
	if ((rc = name_check("EC2 image search", name_pattern, 1, err)) != 0)
		return rc;
	struct ec2_form f;
	ec2_form_init(&f, "DescribeImages");
	ec2_form_add(&f, "Owner.1", owner);
	ec2_form_add(&f, "Filter.1.Name", "name");
	ec2_form_add(&f, "Filter.1.Value.1", name_pattern);
	ec2_form_add(&f, "Filter.2.Name", "state");
	ec2_form_add(&f, "Filter.2.Value.1", "available");
	ec2_form_add(&f, "Filter.2.Value.2", "pending");
	/* without it EC2 hides an image past its deprecation time; the caller
	   decides what a deprecated image is worth (petal_pcluster_ami_choose) */
	ec2_form_add(&f, "IncludeDeprecated", "true");
	struct searcher s = { ec2.region, cb, arg };
	rc = ec2_call_pages(&ec2, &f, ec2_max_results(), search_page, &s, err);
	ec2_form_clear(&f);
	if (rc < 0)
		ec2_err_append(err, " [images of owner %s named '%s' in %s]", owner, name_pattern,
		               ec2.region);
	return rc;
}

/* ---- regions ------------------------------------------------------------------------------ */

/* The partition a region belongs to: one set of credentials serves one. */
static const char *partition(const char *region)
{
	if (!strncmp(region, "cn-", 3))
		return "aws-cn";
	if (!strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	if (!strncmp(region, "us-iso", 6))
		return "aws-iso";
	return "aws";
}

int aws_region_list(void *ctx, int (*cb)(void *arg, const char *region), void *arg,
                    struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "region list", err);
	if (rc != 0)
		return rc;
	if (!cb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 region list: no callback");
	struct ec2_form f;
	ec2_form_init(&f, "DescribeRegions");
	struct xml_node *doc;
	rc = ec2_call(&ec2, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0)
		return rc;
	for (const struct xml_node *r = xml_find(doc, "regionInfo/item"); r && rc == 0;
	     r = xml_next(r)) {
		const char *name = xml_text(r, "regionName");
		/* EC2 lists its own partition's regions; a stand-in (moto) may list
		   every partition's, where these credentials mean nothing */
		if (name && *name && !strcmp(partition(name), partition(ec2.region)))
			rc = cb(arg, name);
	}
	xml_free(doc);
	return rc;
}
