/* The image a build instance starts from, looked up through the door:
   software.build.base_ami when the seed gives it, else ParallelCluster's
   own image for the seed's release, OS and architecture (the rule of
   core/seed/base_image.h applied to what the cloud lists). */
#ifndef PETAL_CLOUD_BASE_IMAGE_LOOKUP_H
#define PETAL_CLOUD_BASE_IMAGE_LOOKUP_H

#include "cloud.h"

struct petal_seed;

/* *out (its size set by the caller) gets the image.  base_ami given as an
   id (ami-...) is taken as that image without a search (out->id only: the
   launch resolves it); given as a name, the newest available or pending
   image of that name (EC2's wildcards allowed) of this account, else of
   Amazon.  Without base_ami: image_search owner "amazon", name
   aws-parallelcluster-<version>-<os part>-<arch>*, chosen by
   petal_pcluster_ami_choose at `now_iso` (ISO 8601 UTC; NULL: now).
   PETAL_ENOENT when nothing fits and PETAL_EINVAL for an OS that
   ParallelCluster publishes no image of (rocky8, rocky9), each saying what
   was searched and what to do. */
int petal_base_image_lookup(struct petal_cloud *c, const struct petal_seed *seed,
                            const char *now_iso, struct petal_image *out,
                            struct petal_error *err);

#endif
