/* The ami tier's render op: the packages baked into the custom AMI.
 *
 * Fragments: Image.CustomAmi (the seed's custom_ami, or the name petal gives
 * the image it bakes: the core keeps only an AMI id in the cluster config),
 * the specs for spack.yaml, and the build-instance lines that install them
 * into the Spack tree the image is snapshotted with. */
#include <petal/plugin.h>

#include "../builtin.h"

/* Compilers installed in the image are registered with Spack, so that later
   installs on the nodes can build with them. */
static int is_compiler(const char *name)
{
	static const char *const compilers[] = {
		"gcc", "llvm", "aocc", "intel-oneapi-compilers", "nvhpc", "acfl",
	};

	for (size_t i = 0; i < sizeof(compilers) / sizeof(compilers[0]); i++)
		if (name != NULL && strcmp(name, compilers[i]) == 0)
			return 1;
	return 0;
}

int ami_render(void *ctx, struct petal_renderer *r,
               const struct petal_package *const *pkgs, size_t n,
               struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *info = host->renderer_seed(r);
	struct tier_line l = { .host = host };
	int rc;

	if (n == 0)
		return 0;
	/* what `petal plan --probe` (and `petal create`) learnt: the id of the
	   seed's custom_ami, or of the image already baked for this seed hash */
	uint32_t probed = PETAL_HAS(info, probed) ? info->probed : 0;
	const char *baked = (probed & PETAL_PROBED_SEED_IMAGE) ? info->seed_image_id : NULL;
	const char *given = (probed & PETAL_PROBED_CUSTOM_AMI) && info->custom_ami_id
	                    ? info->custom_ami_id : info->custom_ami;
	if (given != NULL || baked != NULL) {
		rc = host->render_add(r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi",
		                      given ? given : baked, err);
	} else {
		/* the name the image is baked under: one image per seed hash */
		tier_line_add(&l, "petal-");
		tier_line_addn(&l, info->hash, strnlen(info->hash, 16));
		rc = host->render_add(r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi",
		                      tier_line_str(&l), err);
	}
	if (rc < 0)
		goto out_line;

	for (size_t i = 0; i < n; i++) {
		rc = host->render_add(r, PETAL_FRAG_SPACK_SPEC, NULL, pkgs[i]->spec, err);
		if (rc < 0)
			goto out_line;
	}

	tier_line_reset(&l);
	tier_line_add(&l, "# ami: baked into the image, under $PETAL_SPACK_ROOT\n"
	                  "petal_spack_install -j \"$PETAL_JOBS\" --fail-fast --");
	tier_line_specs(&l, pkgs, n, "\t");
	tier_line_add(&l, "\n");
	for (size_t i = 0; i < n; i++) {
		if (!is_compiler(pkgs[i]->name))
			continue;
		tier_line_add(&l, "spack compiler find \"$(spack location -i ");
		tier_line_quoted(&l, pkgs[i]->spec);
		tier_line_add(&l, ")\"\n");
	}
	/* the image's Lmod modules (Spack's modules.yaml: no hashes), then it keeps
	   installs, not sources and build stages */
	tier_line_add(&l, "spack module lmod refresh --delete-tree -y\n");
	tier_line_add(&l, "spack clean --all");
	rc = host->render_add(r, PETAL_FRAG_BUILD_SCRIPT, NULL, tier_line_str(&l), err);

out_line:
	tier_line_release(&l);
	return rc < 0 ? rc : 0;
}
