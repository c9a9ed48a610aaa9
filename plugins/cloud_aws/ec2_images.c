/* Machine images: create from an instance, copy to another region, wait
 * until available, deregister with their snapshots.  See ec2.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ec2_query.h"

/* Retries of calls that EC2's eventual consistency may refuse for a moment
   (CreateTags on a fresh copy, DeleteSnapshot right after DeregisterImage). */
#define SETTLE_TRIES 5

/* The EBS mappings of one image petal reads (EC2 allows fewer). */
#define MAX_SNAPSHOTS 64

/* The image as EC2 describes it now, else what we know of it: right after
   CreateImage or CopyImage EC2 may not describe it yet. */
static void describe_or_known(struct ec2 *e, const struct petal_image *known,
                              struct petal_image *out)
{
	struct xml_node *doc;
	const struct xml_node *item;
	struct petal_error why = { 0 };
	if (ec2_image_get(e, known->id, &doc, &item, NULL, &why) == 0) {
		ec2_image_read(item, e->region, out);
		xml_free(doc);
		return;
	}
	EC2_DEBUG(e, "ec2: %s not described yet (%s)", known->id, why.msg);
	*out = *known;
}

/* ---- create ---------------------------------------------------------------------- */

int aws_image_create(void *ctx, const char *instance_id, const char *name,
                     const struct petal_tag *tags, size_t n_tags, struct petal_image *out,
                     struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "CreateImage", err);
	if (rc != 0)
		return rc;
	if (!instance_id || !*instance_id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 CreateImage: no instance id given");
	size_t n = name ? strlen(name) : 0;
	if (n < 3 || n > 128 || strpbrk(name, "*?,\"\\"))
		return ec2_fail(err, PETAL_EINVAL, "EC2 CreateImage: image name '%s': give 3 to "
		                "128 letters, digits and ( ) [ ] space . / - ' @ _",
		                name ? name : "");
	if ((rc = ec2_tags_check(tags, n_tags, err)) != 0)
		return rc;
	struct ec2_form f;
	ec2_form_init(&f, "CreateImage");
	ec2_form_add(&f, "InstanceId", instance_id);
	ec2_form_add(&f, "Name", name);
	/* the build is over and synced; a reboot would only cost minutes */
	ec2_form_add(&f, "NoReboot", "true");
	if (n_tags)
		ec2_form_tag_spec(&f, 1, "image", tags, n_tags);
	struct xml_node *doc;
	/* not repeatable: a second CreateImage of the name is a duplicate error */
	rc = ec2_call(&ec2, &f, 0, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0) {
		ec2_err_append(err, " [image '%s' of %s in %s]", name, instance_id, ec2.region);
		return rc;
	}
	struct petal_image known = { .size = sizeof(known) };
	ec2_set(known.id, sizeof(known.id), xml_text(doc, "imageId"));
	xml_free(doc);
	if (!known.id[0])
		return ec2_fail(err, PETAL_ECLOUD, "EC2 CreateImage in %s: the answer names no "
		                "image", ec2.region);
	ec2_set(known.name, sizeof(known.name), name);
	ec2_set(known.state, sizeof(known.state), "pending");
	ec2_set(known.region, sizeof(known.region), ec2.region);
	known.created = (int64_t)time(NULL);
	struct petal_image full;
	describe_or_known(&ec2, &known, &full);
	if (out)
		ec2_copy_sized(out, &full, sizeof(full));
	return 0;
}

/* ---- copy ------------------------------------------------------------------------- */

struct source {
	struct petal_image img;
	char description[256];
	struct petal_tag tags[EC2_MAX_TAGS];
	size_t n_tags;
	char *strings; /* the tags' keys and values, NUL-separated */
};

static int source_read(struct ec2 *src, const char *image_id, struct source *s,
                       struct petal_error *err)
{
	struct xml_node *doc;
	const struct xml_node *item;
	int rc = ec2_image_get(src, image_id, &doc, &item, NULL, err);
	if (rc != 0)
		return rc;
	ec2_image_read(item, src->region, &s->img);
	ec2_set(s->description, sizeof(s->description), xml_text(item, "description"));
	size_t bytes = 0;
	for (const struct xml_node *t = xml_find(item, "tagSet/item"); t; t = xml_next(t))
		bytes += strlen(xml_text(t, "key") ? xml_text(t, "key") : "") +
		         strlen(xml_text(t, "value") ? xml_text(t, "value") : "") + 2;
	if (!(s->strings = malloc(bytes + 1))) {
		xml_free(doc);
		return ec2_fail(err, PETAL_ENOMEM, "EC2 CopyImage: out of memory");
	}
	char *p = s->strings;
	for (const struct xml_node *t = xml_find(item, "tagSet/item");
	     t && s->n_tags < EC2_MAX_TAGS; t = xml_next(t)) {
		const char *k = xml_text(t, "key"), *v = xml_text(t, "value");
		if (!k || !*k || strncmp(k, "aws:", 4) == 0) /* AWS's own are not ours to set */
			continue;
		s->tags[s->n_tags].key = strcpy(p, k);
		p += strlen(k) + 1;
		s->tags[s->n_tags++].value = strcpy(p, v ? v : "");
		p += strlen(v ? v : "") + 1;
	}
	xml_free(doc);
	return 0;
}

/* CreateTags of tags on the n resources ids: EC2 may not know a fresh id for
   a few seconds (a copy just made), so NotFound is asked again. */
static int tag_ids(struct ec2 *e, const char *const *ids, size_t n,
                   const struct petal_tag *tags, size_t n_tags, struct petal_error *err)
{
	struct ec2_form f;
	ec2_form_init(&f, "CreateTags");
	for (size_t i = 0; i < n; i++)
		ec2_form_addf(&f, ids[i], "ResourceId.%zu", i + 1);
	for (size_t i = 0; i < n_tags; i++) {
		ec2_form_addf(&f, tags[i].key, "Tag.%zu.Key", i + 1);
		ec2_form_addf(&f, tags[i].value ? tags[i].value : "", "Tag.%zu.Value", i + 1);
	}
	int rc = 0;
	double delay = 1, deadline = ec2_now() + 60;
	for (int attempt = 1; attempt <= SETTLE_TRIES; attempt++) {
		struct xml_node *doc;
		/* tagging again with the same tags changes nothing: repeatable */
		if ((rc = ec2_call(e, &f, 1, &doc, err)) == 0) {
			xml_free(doc);
			break;
		}
		if (rc != PETAL_ENOENT || ec2_wait_step(deadline, &delay))
			break;
	}
	ec2_form_clear(&f);
	return rc;
}

/* The snapshot ids of a described image's EBS mappings (at most cap), each a
   copy in ids[] for the caller to free; their number. */
static size_t image_snapshots(const struct xml_node *item, char **ids, size_t cap)
{
	size_t n = 0;
	for (const struct xml_node *m = xml_find(item, "blockDeviceMapping/item"); m && n < cap;
	     m = xml_next(m)) {
		const char *snap = xml_text(m, "ebs/snapshotId");
		if (snap && *snap && (ids[n] = strdup(snap)))
			n++;
	}
	return n;
}

int aws_image_copy(void *ctx, const char *image_id, const char *src_region,
                   const char *dst_region, struct petal_image *out, struct petal_error *err)
{
	struct ec2 src, dst;
	int rc;
	if ((rc = ec2_open(&src, ctx, src_region, "CopyImage", err)) != 0 ||
	    (rc = ec2_open(&dst, ctx, dst_region, "CopyImage", err)) != 0)
		return rc;
	if (!image_id || !*image_id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 CopyImage: no image id given");
	struct source s = { .img.size = sizeof(s.img) };
	if ((rc = source_read(&src, image_id, &s, err)) != 0)
		goto out_source;
	char token[33], description[256];
	ec2_client_token(token);
	snprintf(description, sizeof(description), "%s from %s", image_id, src.region);
	struct ec2_form f;
	ec2_form_init(&f, "CopyImage");
	ec2_form_add(&f, "SourceImageId", image_id);
	ec2_form_add(&f, "SourceRegion", src.region);
	ec2_form_add(&f, "Name", s.img.name);
	ec2_form_add(&f, "Description", s.description[0] ? s.description : description);
	ec2_form_add(&f, "ClientToken", token);
	struct xml_node *doc;
	/* sent to the destination; the client token makes a repeat return the same copy */
	rc = ec2_call(&dst, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0) {
		ec2_err_append(err, " [copying %s from %s to %s]", image_id, src.region,
		               dst.region);
		goto out_source;
	}
	struct petal_image known = s.img;
	ec2_set(known.id, sizeof(known.id), xml_text(doc, "imageId"));
	xml_free(doc);
	if (!known.id[0]) {
		rc = ec2_fail(err, PETAL_ECLOUD, "EC2 CopyImage in %s: the answer names no image",
		              dst.region);
		goto out_source;
	}
	ec2_set(known.state, sizeof(known.state), "pending");
	ec2_set(known.region, sizeof(known.region), dst.region);
	known.created = (int64_t)time(NULL);
	/* CopyImage leaves user tags behind; the seed hash must travel with it */
	const char *ids[1] = { known.id };
	if (s.n_tags && (rc = tag_ids(&dst, ids, 1, s.tags, s.n_tags, err)) != 0) {
		ec2_err_append(err, " [tagging the copy %s in %s; the copy exists: tag or "
		               "deregister it]", known.id, dst.region);
		goto out_source;
	}
	struct petal_image full;
	describe_or_known(&dst, &known, &full);
	if (out)
		ec2_copy_sized(out, &full, sizeof(full));
out_source:
	free(s.strings);
	return rc;
}

/* ---- delete --------------------------------------------------------------------------- */

/* DeleteSnapshot; one already gone is deleted. */
static int snapshot_delete(struct ec2 *e, const char *id, struct petal_error *err)
{
	struct ec2_form f;
	ec2_form_init(&f, "DeleteSnapshot");
	ec2_form_add(&f, "SnapshotId", id);
	int rc;
	double delay = 1, deadline = ec2_now() + 60;
	for (int attempt = 1;; attempt++) {
		struct xml_node *doc;
		if ((rc = ec2_call(e, &f, 1, &doc, err)) == 0) {
			xml_free(doc);
			break;
		}
		if (rc == PETAL_ENOENT) {
			rc = 0;
			break;
		}
		/* for a moment after DeregisterImage EC2 may still see it in use */
		if (attempt >= SETTLE_TRIES || strcmp(e->code, "InvalidSnapshot.InUse") != 0 ||
		    ec2_wait_step(deadline, &delay))
			break;
	}
	ec2_form_clear(&f);
	return rc;
}

int aws_image_delete(void *ctx, const char *image_id, struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "image delete", err);
	if (rc != 0)
		return rc;
	if (!image_id || !*image_id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 image delete: no image id given");
	struct xml_node *doc;
	const struct xml_node *item;
	rc = ec2_image_get(&ec2, image_id, &doc, &item, NULL, err);
	if (rc != 0)
		return rc;
	const char *alias = xml_text(item, "imageOwnerAlias");
	if (alias && *alias && strcmp(alias, "self") != 0) {
		rc = ec2_fail(err, PETAL_EINVAL, "EC2: refusing to delete image %s in %s: it "
		              "belongs to '%s', not to this account", image_id, ec2.region,
		              alias);
		xml_free(doc);
		return rc;
	}
	/* the snapshots first: once deregistered, the image no longer names them */
	char *snaps[MAX_SNAPSHOTS];
	size_t n = image_snapshots(item, snaps, MAX_SNAPSHOTS);
	xml_free(doc);

	struct ec2_form f;
	ec2_form_init(&f, "DeregisterImage");
	ec2_form_add(&f, "ImageId", image_id);
	rc = ec2_call(&ec2, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc == 0)
		xml_free(doc);
	else if (rc == PETAL_ENOENT || strcmp(ec2.code, "InvalidAMIID.Unavailable") == 0)
		rc = 0; /* deregistered meanwhile (or by our retried request) */
	if (rc != 0) {
		ec2_err_append(err, " [deregistering %s in %s]", image_id, ec2.region);
		goto out_copies;
	}
	for (size_t i = 0; i < n; i++) {
		struct petal_error why = { 0 };
		if (snapshot_delete(&ec2, snaps[i], &why) != 0 && rc == 0) {
			rc = ec2_fail(err, why.code, "EC2: image %s is deregistered, but its snapshot "
			              "%s in %s is left (%s); delete it to stop paying for it",
			              image_id, snaps[i], ec2.region, why.msg);
		}
	}
out_copies:
	for (size_t i = 0; i < n; i++)
		free(snaps[i]);
	return rc;
}

/* ---- tag ---------------------------------------------------------------------------- */

int aws_image_tag(void *ctx, const char *image_id, const struct petal_tag *tags,
                  size_t n_tags, struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "image tag", err);
	if (rc != 0)
		return rc;
	if (!image_id || !*image_id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 image tag: no image id given");
	if ((rc = ec2_tags_check(tags, n_tags, err)) != 0 || n_tags == 0)
		return rc;
	struct xml_node *doc;
	const struct xml_node *item;
	if ((rc = ec2_image_get(&ec2, image_id, &doc, &item, NULL, err)) != 0)
		return rc;
	/* the image and its snapshots in one CreateTags (at most 1000 ids) */
	char *snaps[MAX_SNAPSHOTS];
	size_t n = image_snapshots(item, snaps, MAX_SNAPSHOTS);
	xml_free(doc);
	const char *ids[1 + MAX_SNAPSHOTS];
	ids[0] = image_id;
	for (size_t i = 0; i < n; i++)
		ids[1 + i] = snaps[i];
	rc = tag_ids(&ec2, ids, 1 + n, tags, n_tags, err);
	if (rc != 0)
		ec2_err_append(err, " [tagging image %s and its %zu snapshot(s) in %s]", image_id,
		               n, ec2.region);
	for (size_t i = 0; i < n; i++)
		free(snaps[i]);
	return rc;
}
