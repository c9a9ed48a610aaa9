/* Render a plan into the files it implies. */
#ifndef PETAL_RENDER_H
#define PETAL_RENDER_H

#include <petal/plugin.h>

#include "../plan/plan.h"
#include "../plugin/registry.h"

struct petal_render_opts {
	const char *dir;       /* created when missing */
	const char *subnet_id; /* overrides the seed's network.subnet_id */
	const char *key_name;  /* overrides the seed's network.key_name */
};

/* Writes into opts->dir (each file atomically):
 *   cluster-config.yaml  ParallelCluster 3 configuration
 *   build-instance.sh    script the build instance runs (AMI and cache builds)
 *   node-bootstrap.sh    OnNodeConfigured script
 *   spack.yaml           Spack environment (with the binary-cache mirror)
 *   modules.yaml         Lmod configuration (container modules)
 */
int petal_render(const struct petal_plan *plan, struct petal_registry *reg,
                 const struct petal_render_opts *opts, struct petal_error *err);

/* Behind host->renderer_seed and host->render_add. */
const struct petal_seed_info *petal_renderer_seed(struct petal_renderer *r);
int petal_renderer_add(struct petal_renderer *r, enum petal_fragment kind,
                       const char *key, const char *text, struct petal_error *err);

#endif
