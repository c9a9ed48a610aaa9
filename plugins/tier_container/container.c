/* The container tier, planning side: images pulled at boot, run with
 * Apptainer, exposed as Lmod modules.
 *
 * Claims: software.containers[].modules.  Needs nothing of the cloud to plan;
 * an image in a private ECR registry needs a registry login, so without the
 * cloud's registry capability such a package is declined. */
#include <stdio.h>
#include <string.h>

#include <petal/plugin.h>

#include "../builtin.h"

static int container_init(const struct petal_host *host, void **ctx)
{
	struct tier_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void container_fini(void *ctx)
{
	struct tier_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

/* "<account>.dkr.ecr.<region>.amazonaws.com/...": private ECR.  (ECR Public,
   public.ecr.aws, needs no login.) */
static int private_ecr(const char *image)
{
	const char *scheme = strstr(image, "://");
	const char *host = scheme ? scheme + 3 : image;
	const char *slash = strchr(host, '/');
	size_t len = slash ? (size_t)(slash - host) : strlen(host);
	const char *ecr = strstr(host, ".dkr.ecr.");
	static const char suffix[] = ".amazonaws.com";
	return ecr && (size_t)(ecr - host) < len && len > sizeof(suffix) - 1 &&
	       strncmp(host + len - (sizeof(suffix) - 1), suffix, sizeof(suffix) - 1) == 0;
}

static int container_claim(void *ctx, const struct petal_claim_env *env,
                           const struct petal_package *pkg, const char **why)
{
	(void)ctx;
	if (pkg->section != PETAL_SECTION_CONTAINER)
		return PETAL_PASS;
	if (!pkg->image || !*pkg->image) {
		*why = "the container names no image";
		return PETAL_DECLINE;
	}
	/* the nodes log in to ECR themselves (the rendered login, with the
	   instance role): that needs the aws cloud, not a registry_login op */
	if (private_ecr(pkg->image) &&
	    !(env->cloud_name && strcmp(env->cloud_name, "aws") == 0)) {
		*why = "the image is in a private ECR registry, which only nodes of the aws "
		       "cloud log in to";
		return PETAL_DECLINE;
	}
	return PETAL_CLAIM;
}

static double figure(const struct petal_host *host, const char *name)
{
	double v = host->figure(host, name);
	return v > 0 ? v : 0;
}

static int container_plan(void *ctx, struct petal_planner *pl,
                          const struct petal_package *const *pkgs, size_t n,
                          struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_instance_type head = { .size = sizeof(head) };
	char runs_on[160], note[512];
	int rc = 0, guess = 0;

	if (n == 0)
		return 0;
	if (host->instance_type(host, seed->head_node, &head) != 0)
		return host->fail(err, PETAL_EINVAL, "no figures for instance type '%s'",
		                  seed->head_node);

	const char **specs = host->alloc(n * sizeof(*specs));
	const struct petal_package **group = host->alloc(n * sizeof(*group));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;

	/* One pull per distinct image, one after another: its base layers plus
	   what its modules install. */
	double rate = figure(host, "container_pull_mb_s");
	double minutes = 0, total_mb = 0;
	size_t images = 0;
	for (size_t i = 0; i < n; i++) {
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = strcmp(pkgs[j]->image, pkgs[i]->image) == 0;
		if (seen)
			continue;
		size_t k = 0;
		for (size_t j = i; j < n; j++)
			if (strcmp(pkgs[j]->image, pkgs[i]->image) == 0)
				group[k++] = pkgs[j];
		struct petal_build_estimate est = { .size = sizeof(est) };
		rc = host->estimate_build(host, group, k, seed->head_node, 0, &est);
		if (rc != 0) {
			rc = host->fail(err, rc, "cannot estimate the size of image %s",
			                pkgs[i]->image);
			goto out_alloc;
		}
		double mb = figure(host, "container_base_mb") + est.size_mb;
		total_mb += mb;
		minutes += figure(host, "container_image_overhead_minutes") +
			(rate > 0 ? mb / rate / 60.0 : 0);
		guess |= est.guesses > 0;
		images++;
	}

	static const char *const after[] = { PETAL_STAGE_NODE_BOOT };
	static const char *const parts[] = { PETAL_TIER_CONTAINER };
	struct petal_action action = {
		.size = sizeof(action),
		.kind = PETAL_ACTION_CONTAINER_PULL,
		.parts = parts,
		.n_parts = 1,
	};
	snprintf(runs_on, sizeof(runs_on), "each node at boot (head node %s)", seed->head_node);
	snprintf(note, sizeof(note), "apptainer pulls %zu image%s (~%.0f MB) into SIF files; "
	         "cost counts the head node", images, images == 1 ? "" : "s", total_mb);
	struct petal_step pull = {
		.size = sizeof(pull),
		.id = PETAL_TIER_CONTAINER ".pull",
		.stage = PETAL_STAGE_CONTAINER_PULL,
		.runs_on = runs_on,
		.packages = specs,
		.n_packages = n,
		.after_stages = after,
		.n_after_stages = 1,
		.est_minutes = minutes,
		.est_cost_usd = minutes / 60.0 * head.ondemand_usd_hour,
		.guess = guess,
		.note = note,
		.action = &action,
	};
	rc = host->plan_add_step(pl, &pull, err);

out_alloc:
	host->free(group);
	host->free(specs);
	return rc;
}

static const struct petal_tier_ops container_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = 0,
	.claim = container_claim,
	.plan = container_plan,
	.render = container_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = PETAL_TIER_CONTAINER,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "pull container images at boot; run with Apptainer as Lmod modules",
	.rank = 30,
	.init = container_init,
	.fini = container_fini,
	.ops.tier = &container_ops,
};
