/* The binary-cache tier's render op: a Spack buildcache mirror in S3.
 *
 * The build instance installs the packages and pushes them (with their
 * dependencies) to the mirror, unsigned; at cluster creation the head node
 * installs them from it into the tree every node shares, binaries only, so a
 * miss fails loudly instead of building for hours.  Compute nodes install
 * nothing: they see the head node's installs over NFS.  The core adds the
 * mirror (--type binary --unsigned) before these lines run; doc/render.md
 * says why unsigned and what signing would take. */
#include <petal/plugin.h>

#include <stdio.h>

#include "../builtin.h"

/* The mirror's name in spack.yaml and in both scripts. */
#define CACHE_MIRROR "petal-cache"

static void add_trimmed(struct tier_line *l, const char *s)
{
	size_t n;

	while (*s == '/')
		s++;
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	tier_line_addn(l, s, n);
}

int binary_cache_render(void *ctx, struct petal_renderer *r,
                        const struct petal_package *const *pkgs, size_t n,
                        struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *info = host->renderer_seed(r);
	struct petal_build_estimate est = { .size = sizeof(est) };
	struct tier_line l = { .host = host };
	char mb[32];
	int rc;

	if (n == 0)
		return 0;
	if (info->cache_bucket == NULL)
		return host->fail(err, PETAL_EINVAL,
		                  "binary-cache: the seed names no software.binary_cache.s3_bucket");
	/* what the head node extracts into the shared tree */
	rc = host->estimate_build(host, pkgs, n, info->head_node, 0, &est);
	if (rc != 0)
		return host->fail(err, rc < 0 ? rc : PETAL_EINVAL,
		                  "binary-cache: no size estimate for the cached packages");

	tier_line_add(&l, "s3://");
	tier_line_add(&l, info->cache_bucket);
	if (info->cache_prefix != NULL && info->cache_prefix[strspn(info->cache_prefix, "/")]) {
		tier_line_add(&l, "/");
		add_trimmed(&l, info->cache_prefix);
	}
	rc = host->render_add(r, PETAL_FRAG_SPACK_MIRROR, CACHE_MIRROR, tier_line_str(&l), err);
	if (rc < 0)
		goto out_line;
	/* nodes read the mirror; only the build instance writes it */
	rc = host->render_add(r, PETAL_FRAG_PCLUSTER, "Iam.S3Access", info->cache_bucket, err);
	if (rc < 0)
		goto out_line;
	snprintf(mb, sizeof(mb), "%.0f", est.size_mb);
	rc = host->render_add(r, PETAL_FRAG_SHARED_MB, NULL, mb, err);
	if (rc < 0)
		goto out_line;

	for (size_t i = 0; i < n; i++) {
		rc = host->render_add(r, PETAL_FRAG_SPACK_SPEC, NULL, pkgs[i]->spec, err);
		if (rc < 0)
			goto out_line;
	}

	tier_line_reset(&l);
	tier_line_add(&l, "# binary-cache: build once, push to the mirror (unsigned)\n"
	                  "petal_spack_install -j \"$PETAL_JOBS\" --fail-fast --");
	tier_line_specs(&l, pkgs, n, "\t");
	tier_line_add(&l, "\nspack buildcache push --unsigned --update-index " CACHE_MIRROR);
	tier_line_specs(&l, pkgs, n, "\t");
	rc = host->render_add(r, PETAL_FRAG_BUILD_SCRIPT, NULL, tier_line_str(&l), err);
	if (rc < 0)
		goto out_line;

	/* --use-buildcache only: package and dependencies from the mirror, never
	   built (the long form of --cache-only) */
	tier_line_reset(&l);
	tier_line_add(&l, "# binary-cache: the head node downloads and extracts into the shared\n"
	                  "# tree, once; never builds\n"
	                  "if petal_is_head_node; then\n"
	                  "\tpetal_spack_install --use-buildcache only --fail-fast --");
	tier_line_specs(&l, pkgs, n, "\t\t");
	tier_line_add(&l, "\nfi");
	rc = host->render_add(r, PETAL_FRAG_NODE_SCRIPT, NULL, tier_line_str(&l), err);

out_line:
	tier_line_release(&l);
	return rc < 0 ? rc : 0;
}
