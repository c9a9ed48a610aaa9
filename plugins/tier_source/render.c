/* The source tier's render op: packages built by `spack install` at cluster
 * creation, on the head node only (compute nodes would each repeat hours of
 * work). */
#include <petal/plugin.h>

#include "../builtin.h"

int source_render(void *ctx, struct petal_renderer *r,
                  const struct petal_package *const *pkgs, size_t n,
                  struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	struct tier_line l = { .host = host };
	int rc = 0;

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		rc = host->render_add(r, PETAL_FRAG_SPACK_SPEC, NULL, pkgs[i]->spec, err);
		if (rc < 0)
			goto out_line;
	}

	tier_line_add(&l, "# source: built at cluster creation, on the head node only\n"
	                  "if petal_is_head_node; then\n"
	                  "\tspack install -j \"$PETAL_JOBS\" --fail-fast");
	tier_line_specs(&l, pkgs, n, "\t\t");
	tier_line_add(&l, "\nfi");
	rc = host->render_add(r, PETAL_FRAG_NODE_SCRIPT, NULL, tier_line_str(&l), err);

out_line:
	tier_line_release(&l);
	return rc < 0 ? rc : 0;
}
