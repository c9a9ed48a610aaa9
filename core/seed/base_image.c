/* ParallelCluster's base AMI chosen from a list of images: pure, so that the
   rule is tested without a cloud and any cloud plugin can feed it. */
#include "config.h"

#include "base_image.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "seed.h"

/* The name parts ParallelCluster 3 gives its images
   (pcluster.constants.OS_TO_IMAGE_NAME_PART_MAP).  It does not publish
   rocky8 and rocky9 images: those have to be built, then given as
   software.build.base_ami. */
static const struct {
	const char *os, *part;
} os_parts[] = {
	{ "alinux2", "amzn2-hvm" },
	{ "alinux2023", "amzn2023-hvm" },
	{ "ubuntu2004", "ubuntu-2004-lts-hvm" },
	{ "ubuntu2204", "ubuntu-2204-lts-hvm" },
	{ "ubuntu2404", "ubuntu-2404-lts-hvm" },
	{ "rhel8", "rhel8-hvm" },
	{ "rocky8", "rocky8-hvm" },
	{ "rhel9", "rhel9-hvm" },
	{ "rocky9", "rocky9-hvm" },
};

const char *petal_pcluster_os_part(const char *os)
{
	for (size_t i = 0; os && i < PETAL_ARRAY_SIZE(os_parts); i++)
		if (strcmp(os, os_parts[i].os) == 0)
			return os_parts[i].part;
	return NULL;
}

char *petal_pcluster_ami_prefix(const char *version, const char *os, const char *arch)
{
	const char *part = petal_pcluster_os_part(os);
	if (!part || !version || !arch)
		return NULL;
	return petal_xasprintf("aws-parallelcluster-%s-%s-%s", version, part, arch);
}

int petal_pcluster_publishes(const char *os)
{
	return petal_pcluster_os_part(os) && strcmp(os, "rocky8") != 0 &&
	       strcmp(os, "rocky9") != 0;
}

char *petal_seed_base_image(const struct petal_seed *seed, int *is_given)
{
	*is_given = seed->base_ami != NULL;
	if (seed->base_ami)
		return petal_xstrdup(seed->base_ami);
	if (!petal_pcluster_publishes(seed->os))
		return NULL;
	/* the build instance's architecture is the image's (check_arch keeps it
	   the cluster's) */
	const char *build = seed->build_instance_type ? seed->build_instance_type
	                                              : seed->head_node;
	return petal_pcluster_ami_prefix(seed->pcluster_version, seed->os,
	                                 petal_instance_arch(build));
}

static int is(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

long petal_pcluster_ami_choose(const struct petal_image_candidate *imgs, size_t n,
                               const char *version, const char *os, const char *arch,
                               const char *now)
{
	char *prefix = petal_pcluster_ami_prefix(version, os, arch);
	long best = -1;
	if (!prefix)
		return -1;
	size_t plen = strlen(prefix);
	for (size_t i = 0; i < n; i++) {
		const struct petal_image_candidate *c = &imgs[i];
		/* the alias is what EC2 reports for Amazon's own accounts; an id
		   that claims the name is anyone's */
		if (!is(c->owner_alias, "amazon") || !c->name || strncmp(c->name, prefix, plen) ||
		    !is(c->architecture, arch) || !is(c->state, "available") || !c->id ||
		    !c->creation_date)
			continue;
		/* same format (EC2's), so byte order is time order */
		if (c->deprecation_time && now && strcmp(c->deprecation_time, now) <= 0)
			continue;
		if (best >= 0) {
			int d = strcmp(c->creation_date, imgs[best].creation_date);
			if (d < 0 || (d == 0 && strcmp(c->id, imgs[best].id) < 0))
				continue;
		}
		best = (long)i;
	}
	free(prefix);
	return best;
}
