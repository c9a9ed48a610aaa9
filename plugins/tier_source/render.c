/* The source tier's render op: packages built by `spack install` at cluster
 * creation, on the head node only, into the tree every node shares (compute
 * nodes would each repeat hours of work, and could not see a local install). */
#include <petal/plugin.h>

#include <stdio.h>

#include "../builtin.h"

int source_render(void *ctx, struct petal_renderer *r,
                  const struct petal_package *const *pkgs, size_t n,
                  struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *info = host->renderer_seed(r);
	struct petal_build_estimate est = { .size = sizeof(est) };
	struct tier_line l = { .host = host };
	char mb[32];
	int rc = 0;

	if (n == 0)
		return 0;
	/* what the head node installs into the shared tree */
	rc = host->estimate_build(host, pkgs, n, info->head_node, 0, &est);
	if (rc != 0)
		return host->fail(err, rc < 0 ? rc : PETAL_EINVAL,
		                  "source: no size estimate for the packages built at creation");
	snprintf(mb, sizeof(mb), "%.0f", est.size_mb);
	rc = host->render_add(r, PETAL_FRAG_SHARED_MB, NULL, mb, err);
	if (rc < 0)
		goto out_line;
	for (size_t i = 0; i < n; i++) {
		rc = host->render_add(r, PETAL_FRAG_SPACK_SPEC, NULL, pkgs[i]->spec, err);
		if (rc < 0)
			goto out_line;
	}

	tier_line_add(&l, "# source: built at cluster creation, on the head node only, into the\n"
	                  "# shared tree\n"
	                  "if petal_is_head_node; then\n"
	                  "\tpetal_spack_install -j \"$PETAL_JOBS\" --fail-fast --");
	tier_line_specs(&l, pkgs, n, "\t\t");
	tier_line_add(&l, "\nfi");
	rc = host->render_add(r, PETAL_FRAG_NODE_SCRIPT, NULL, tier_line_str(&l), err);

out_line:
	tier_line_release(&l);
	return rc < 0 ? rc : 0;
}
