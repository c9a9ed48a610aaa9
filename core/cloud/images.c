/* petal's own images (images.h): listed by their seed-hash tag, priced,
   pruned per seed, deleted only when they are petal's. */
#include "config.h"

#include "images.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

static int add(void *arg, const struct petal_image *img)
{
	struct petal_image_set *set = arg;
	if (set->n == set->cap) {
		set->cap = set->cap ? 2 * set->cap : 8;
		set->imgs = petal_xrealloc(set->imgs, set->cap * sizeof(*set->imgs));
	}
	struct petal_image *dst = &set->imgs[set->n++];
	memset(dst, 0, sizeof(*dst));
	/* a plugin built before the struct grew hands a shorter one */
	memcpy(dst, img, img->size < sizeof(*dst) ? img->size : sizeof(*dst));
	dst->size = sizeof(*dst);
	return 0;
}

static int newest_first(const void *a, const void *b)
{
	const struct petal_image *x = a, *y = b;
	if (x->created != y->created)
		return x->created > y->created ? -1 : 1;
	return -strcmp(x->id, y->id);
}

int petal_images_list(struct petal_cloud *c, struct petal_image_set *set,
                      struct petal_error *err)
{
	int rc = petal_cloud_image_list(c, PETAL_TAG_SEED_HASH, add, set, err);
	if (rc == 0 && set->n > 1)
		qsort(set->imgs, set->n, sizeof(*set->imgs), newest_first);
	return rc;
}

void petal_image_set_release(struct petal_image_set *set)
{
	if (!set)
		return;
	free(set->imgs);
	memset(set, 0, sizeof(*set));
}

const char *petal_image_seed(const struct petal_image *img)
{
	const char *s = petal_image_tag(img, PETAL_TAG_SEED);
	if (s && *s)
		return s;
	s = petal_image_tag(img, PETAL_TAG_SEED_HASH);
	return s ? s : "";
}

double petal_image_monthly_cost(const struct petal_image *img, double usd_per_gb_month)
{
	return img->size_gb > 0 && usd_per_gb_month > 0 ? img->size_gb * usd_per_gb_month : 0;
}

size_t petal_images_prune_pick(const struct petal_image_set *set, size_t keep,
                               unsigned char *doomed)
{
	size_t n_doomed = 0;
	for (size_t i = 0; i < set->n; i++) {
		/* newest first: the images of this seed seen before are newer */
		const char *seed = petal_image_seed(&set->imgs[i]);
		size_t newer = 0;
		for (size_t j = 0; j < i; j++)
			newer += strcmp(petal_image_seed(&set->imgs[j]), seed) == 0;
		doomed[i] = newer >= keep;
		n_doomed += doomed[i];
	}
	return n_doomed;
}

struct seek {
	const char *id;
	struct petal_image *out;
	int found;
};

static int seek_one(void *arg, const struct petal_image *img)
{
	struct seek *s = arg;
	if (strcmp(img->id, s->id) != 0)
		return 0;
	memset(s->out, 0, sizeof(*s->out));
	memcpy(s->out, img, img->size < sizeof(*s->out) ? img->size : sizeof(*s->out));
	s->out->size = sizeof(*s->out);
	s->found = 1;
	return 1;
}

int petal_image_own(struct petal_cloud *c, const char *id, struct petal_image *out,
                    struct petal_error *err)
{
	if (!id || !*id)
		return petal_fail(err, PETAL_EINVAL, "no image id given");
	struct seek s = { .id = id, .out = out };
	int rc = petal_cloud_image_list(c, NULL, seek_one, &s, err);
	if (rc < 0)
		return rc;
	if (!s.found) {
		char r[64] = "";
		if (c->host && c->host->setting &&
		    c->host->setting(c->host, "region", r, sizeof(r)) <= 0)
			r[0] = 0;
		return petal_fail(err, PETAL_ENOENT, "no image %s of this account%s%s (images "
		                  "are regional: give --region, or see 'petal ami list "
		                  "--all-regions')", id, r[0] ? " in " : "", r);
	}
	return 0;
}

int petal_image_delete_petal(struct petal_cloud *c, const char *id, int force,
                             struct petal_error *err)
{
	struct petal_image *img = petal_xcalloc(1, sizeof(*img));
	int rc = petal_image_own(c, id, img, err);
	if (rc == 0 && !force && !petal_image_tag(img, PETAL_TAG_SEED_HASH))
		rc = petal_fail(err, PETAL_EINVAL, "image %s (%s) is not tagged %s: petal did "
		                "not make it, so it is left alone; add --force to delete it "
		                "anyway", id, img->name, PETAL_TAG_SEED_HASH);
	if (rc == 0)
		rc = petal_cloud_image_delete(c, id, err);
	free(img);
	return rc;
}
