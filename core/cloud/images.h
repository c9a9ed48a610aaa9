/* petal's own images, through the door: those tagged petal:seed-hash,
   what they cost to keep, which a prune removes, and a delete that
   refuses what petal did not make. */
#ifndef PETAL_CLOUD_IMAGES_H
#define PETAL_CLOUD_IMAGES_H

#include "cloud.h"

struct petal_image_set {
	struct petal_image *imgs; /* newest first (creation, then id) */
	size_t n, cap;
};

/* Every image of this account tagged PETAL_TAG_SEED_HASH in the door's
   region, into *set (appended; sorted newest first at the end). */
int petal_images_list(struct petal_cloud *c, struct petal_image_set *set,
                      struct petal_error *err);
void petal_image_set_release(struct petal_image_set *set);

/* The seed an image was made for: its petal:seed tag, else its seed hash,
   else "". */
const char *petal_image_seed(const struct petal_image *img);

/* Monthly storage cost of an image's snapshots at `usd_per_gb_month`. */
double petal_image_monthly_cost(const struct petal_image *img, double usd_per_gb_month);

/* Which images of set (newest first) a prune deletes: all but the newest
   `keep` of each seed (petal_image_seed).  doomed[i] is set to 1 or 0;
   returns how many are doomed. */
size_t petal_images_prune_pick(const struct petal_image_set *set, size_t keep,
                               unsigned char *doomed);

/* This account's image `id` in the door's region, into *out; PETAL_ENOENT
   naming the region when there is none. */
int petal_image_own(struct petal_cloud *c, const char *id, struct petal_image *out,
                    struct petal_error *err);

/* Deregister image `id` and delete its snapshots, but only an image of
   this account and, unless `force`, one tagged petal:seed-hash (else
   PETAL_EINVAL saying so and naming --force). */
int petal_image_delete_petal(struct petal_cloud *c, const char *id, int force,
                             struct petal_error *err);

#endif
