/* `petal plan --probe`: the plan composed with what the cloud answers
   instead of what an offline plan can only assume. */
#ifndef PETAL_PLAN_PROBE_H
#define PETAL_PLAN_PROBE_H

#include "../cache/mirror.h"
#include "plan.h"

struct petal_probe_opts {
	/* The binary cache to read (the seed's software.binary_cache, or one the
	   caller names instead), wired to the cloud plugin serving its URL's
	   scheme; NULL when there is none. */
	const struct petal_mirror_io *cache;
	const char *cache_cloud; /* that plugin's name, for the answers */
	/* The region the cloud is asked in (the caller's choice: --region, else
	   the seed's); NULL: the seed's cluster.region. */
	const char *region;
	/* out: the failure came from the probe (the cache or the cloud could not
	   be asked, or answered what the seed cannot work with), not from
	   composing the plan */
	int failed;
};

/* Compose like petal_plan_compose, asking between the claims and the tiers'
   plans:
   - the binary cache's index, for the packages the binary-cache tier
     claimed: hit or miss each (a mirror with no index at all: every package
     a miss; an index that is there but unreadable fails);
   - when the seed's cloud has images: the image tagged
     petal:seed-hash=<hash> (baked before), when the ami tier claimed
     packages, and compute.custom_ami (a name resolved to its id, an id
     looked up among the account's images); an image whose architecture
     differs from the head node's or a queue's instance types fails, naming
     both.
   The answers go to the tiers as petal_package and petal_seed_info members
   and into plan->probe.  The seed's cloud plugin is initialised here when
   images are asked about.  Errors: the cache's or the cloud's, with what was
   being asked; PETAL_EINVAL for a custom_ami the cloud does not know or an
   architecture mismatch. */
int petal_plan_compose_probed(const struct petal_seed *seed, struct petal_registry *reg,
                              struct petal_estimates *est, struct petal_probe_opts *opts,
                              struct petal_plan **out, struct petal_error *err);

#endif
