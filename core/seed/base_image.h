/* The image a build instance starts from: ParallelCluster's own AMI for the
   seed's release, OS and architecture, chosen the way ParallelCluster
   chooses it (owner alias amazon, name aws-parallelcluster-<version>-<os
   part>-<arch>*, the newest available that is not deprecated). */
#ifndef PETAL_SEED_BASE_IMAGE_H
#define PETAL_SEED_BASE_IMAGE_H

#include <stddef.h>

/* One image as DescribeImages reports it; strings may be NULL (absent).
   Dates are ISO 8601 UTC as EC2 writes them ("2024-10-01T12:00:00.000Z"). */
struct petal_image_candidate {
	const char *id;
	const char *name;
	const char *owner_id;
	const char *owner_alias;      /* "amazon" for Amazon's images, else absent */
	const char *state;            /* "available", "pending", ... */
	const char *architecture;     /* "x86_64" or "arm64" */
	const char *creation_date;
	const char *deprecation_time; /* deprecated from then on; NULL: never */
};

/* The part of a ParallelCluster AMI's name that names the OS ("alinux2023"
   -> "amzn2023-hvm"), or NULL for an OS ParallelCluster has no image for. */
const char *petal_pcluster_os_part(const char *os);

/* 1 when ParallelCluster publishes images of `os`; rocky8 and rocky9 it
   does not (pcluster.constants.PRIVATE_OSES): a seed of those needs
   software.build.base_ami, an image built with `pcluster build-image`. */
int petal_pcluster_publishes(const char *os);

struct petal_seed;
/* The seed's base image: software.build.base_ami when given (*is_given 1,
   an id or name to use as it is), else the name prefix of ParallelCluster's
   images to look up (*is_given 0); NULL when the OS has no published image
   and no base_ami is given.  Caller frees. */
char *petal_seed_base_image(const struct petal_seed *seed, int *is_given);

/* "aws-parallelcluster-3.11.1-amzn2023-hvm-x86_64": the name prefix of the
   official images (caller frees), or NULL for an unknown OS. */
char *petal_pcluster_ami_prefix(const char *version, const char *os, const char *arch);

/* The index in imgs of ParallelCluster's image for version, os and arch at
   time `now` (ISO 8601 UTC), or -1 when none fits.  Images of another
   owner, name, architecture or state, and deprecated ones, are passed over;
   of the rest the newest creation date wins (the greater id on a tie). */
long petal_pcluster_ami_choose(const struct petal_image_candidate *imgs, size_t n,
                               const char *version, const char *os, const char *arch,
                               const char *now);

#endif
