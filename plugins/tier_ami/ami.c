/* The ami tier, planning side: packages baked into a custom image on a
 * (spot) build instance, so nodes boot with them installed.
 *
 * Claims: software.in_ami; and software.spack_packages when use_custom_ami is
 * set and the seed lists nothing under in_ami (the whole stack is the image).
 * Needs a cloud that can launch build instances and make images.
 *
 * After `petal plan --probe` the core says whether an image tagged with the
 * seed hash exists (then nodes boot it and nothing is baked) and what
 * custom_ami resolved to (petal_seed_info.seed_image_id, custom_ami_id). */
#include <stdio.h>
#include <string.h>

#include <petal/plugin.h>

#include "../builtin.h"

static int ami_init(const struct petal_host *host, void **ctx)
{
	struct tier_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void ami_fini(void *ctx)
{
	struct tier_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

static int ami_claim(void *ctx, const struct petal_claim_env *env,
                     const struct petal_package *pkg, const char **why)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	(void)why;
	if (pkg->section == PETAL_SECTION_IN_AMI)
		return PETAL_CLAIM;
	if (pkg->section == PETAL_SECTION_SPACK_PACKAGES && env->seed->use_custom_ami &&
	    host->node_len(host->node_get(env->seed->root, "software.in_ami")) == 0)
		return PETAL_CLAIM;
	return PETAL_PASS;
}

/* A figure that is missing counts for nothing rather than going negative. */
static double figure(const struct petal_host *host, const char *name)
{
	double v = host->figure(host, name);
	return v > 0 ? v : 0;
}

/* Which questions `petal plan --probe` asked the cloud (0: an offline plan,
   or an older petal). */
static uint32_t asked(const struct petal_seed_info *seed)
{
	return PETAL_HAS(seed, custom_ami_arch) ? seed->probed : 0;
}

/* The image the seed names, as the notes show it: "ami-base-bio-v2
   (ami-0123..., x86_64)" once the cloud resolved it. */
static void image_label(char *buf, size_t len, const struct petal_seed_info *seed)
{
	if (!seed->custom_ami)
		snprintf(buf, len, "named after the seed hash");
	else if ((asked(seed) & PETAL_PROBED_CUSTOM_AMI) && seed->custom_ami_id &&
	         strcmp(seed->custom_ami_id, seed->custom_ami) != 0)
		snprintf(buf, len, "%s (%s, %s)", seed->custom_ami, seed->custom_ami_id,
		         seed->custom_ami_arch ? seed->custom_ami_arch : "architecture unknown");
	else if ((asked(seed) & PETAL_PROBED_CUSTOM_AMI) && seed->custom_ami_arch)
		snprintf(buf, len, "%s (%s)", seed->custom_ami, seed->custom_ami_arch);
	else
		snprintf(buf, len, "%s", seed->custom_ami);
}

/* custom_ami as an image id ("ami-" and hex digits), not a name to bake under */
static int is_image_id(const char *s)
{
	size_t n;

	if (strncmp(s, "ami-", 4) != 0)
		return 0;
	n = strspn(s + 4, "0123456789abcdef");
	return (n == 8 || n == 17) && s[4 + n] == '\0';
}

/* The tags the baked image carries (the run adds petal:run and
   ParallelCluster's version and build status).  petal:packages holds the
   specs, space-separated, cut at a whole spec to fit EC2's 256 characters,
   with " +N" saying how many more. */
#define TAG_VALUE_MAX 256
struct image_tags {
	char name[TAG_VALUE_MAX + 1];
	char packages[TAG_VALUE_MAX + 1];
	struct petal_tag tags[8];
};

static void fill_tags(struct image_tags *t, const struct petal_seed_info *seed,
                      const struct petal_package *const *pkgs, size_t n)
{
	size_t at = 0, i;

	if (seed->custom_ami && !is_image_id(seed->custom_ami))
		snprintf(t->name, sizeof(t->name), "%s", seed->custom_ami);
	else
		snprintf(t->name, sizeof(t->name), "petal-%.16s", seed->hash);
	t->packages[0] = '\0';
	for (i = 0; i < n; i++) {
		size_t len = strlen(pkgs[i]->spec) + (at ? 1 : 0);
		char more[24];
		int m = i + 1 < n ? snprintf(more, sizeof(more), " +%zu", n - i - 1) : 0;

		if (at + len + (size_t)m > TAG_VALUE_MAX)
			break;
		at += (size_t)snprintf(t->packages + at, sizeof(t->packages) - at, "%s%s",
		                       at ? " " : "", pkgs[i]->spec);
	}
	if (i < n)
		snprintf(t->packages + at, sizeof(t->packages) - at, "%s+%zu", at ? " " : "",
		         n - i);
	t->tags[0] = (struct petal_tag){ PETAL_TAG_NAME, t->name };
	t->tags[1] = (struct petal_tag){ PETAL_TAG_SEED_HASH, seed->hash };
	t->tags[2] = (struct petal_tag){ PETAL_TAG_SEED, seed->cluster_name ? seed->cluster_name : "" };
	t->tags[3] = (struct petal_tag){ PETAL_TAG_SPACK_VERSION,
	                                 seed->spack_version ? seed->spack_version : "" };
	t->tags[4] = (struct petal_tag){ PETAL_TAG_PACKAGES, t->packages };
	t->tags[5] = (struct petal_tag){ PETAL_TAG_PCLUSTER_OS, seed->os ? seed->os : "" };
	/* ParallelCluster's CustomAmiTagValidator: the version it creates with,
	   and a build status beside it */
	t->tags[6] = (struct petal_tag){ PETAL_TAG_PCLUSTER_VERSION,
	                                 PETAL_HAS(seed, pcluster_version) && seed->pcluster_version
	                                 ? seed->pcluster_version : "" };
	t->tags[7] = (struct petal_tag){ PETAL_TAG_PCLUSTER_BUILD_STATUS, "available" };
}

static int ami_plan(void *ctx, struct petal_planner *pl,
                    const struct petal_package *const *pkgs, size_t n,
                    struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_instance_type build = { .size = sizeof(build) };
	struct petal_instance_type head = { .size = sizeof(head) };
	struct petal_build_estimate est = { .size = sizeof(est) };
	char runs_on[160], head_on[160], note[768], boot_note[512], label[320];
	static const char *const parts[] = { PETAL_TIER_AMI };
	struct image_tags *tags = NULL;
	int rc;

	if (n == 0)
		return 0;
	if (host->instance_type(host, seed->build_instance, &build) != 0 ||
	    host->instance_type(host, seed->head_node, &head) != 0)
		return host->fail(err, PETAL_EINVAL, "no figures for instance type '%s' or '%s'",
		                  seed->build_instance, seed->head_node);

	const char **specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;
	image_label(label, sizeof(label), seed);
	int probed_image = (asked(seed) & PETAL_PROBED_SEED_IMAGE) != 0;
	int probed_any = (asked(seed) & (PETAL_PROBED_SEED_IMAGE | PETAL_PROBED_CUSTOM_AMI)) != 0;

	/* The cloud has the image this seed hash bakes: nothing to build. */
	if (probed_image && seed->seed_image_id) {
		snprintf(boot_note, sizeof(boot_note), "nodes boot %s, baked before for this seed "
		         "hash (from the cloud: tagged " PETAL_TAG_SEED_HASH "=%.12s, %s); nothing to "
		         "install", seed->seed_image_id, seed->hash,
		         seed->seed_image_arch ? seed->seed_image_arch : "architecture unknown");
		rc = 0;
		goto boot;
	}

	rc = host->estimate_build(host, pkgs, n, seed->build_instance, seed->build_parallel, &est);
	if (rc != 0) {
		rc = host->fail(err, rc, "cannot estimate the image build on %s",
		                seed->build_instance);
		goto out_specs;
	}
	/* Launch, build everything, then snapshot the volume into an image. */
	double launch = figure(host, "build_instance_boot_minutes");
	double snapshot = figure(host, "ami_snapshot_minutes");
	double minutes = launch + est.minutes + snapshot;
	double usd_hour = seed->build_spot ? build.spot_usd_hour : build.ondemand_usd_hour;
	double image_gb = figure(host, "base_ami_gb") + est.size_mb / 1024.0;
	double storage = image_gb * figure(host, "ami_gb_month");
	int jobs = seed->build_parallel > 0 && seed->build_parallel < build.vcpus ?
		seed->build_parallel : build.vcpus;
	snprintf(runs_on, sizeof(runs_on), "build instance %s (%s)", seed->build_instance,
	         seed->build_spot ? "spot" : "on demand");
	snprintf(note, sizeof(note), "image %s: launch %.0f min, spack install -j %d %.0f min, "
	         "snapshot %.0f min; cost includes a month of AMI storage (%.1f GB, $%.2f)%s",
	         label, launch, jobs, est.minutes, snapshot, image_gb, storage,
	         probed_image ? "; from the cloud: no image for this seed hash yet" : "");
	tags = host->alloc(sizeof(*tags));
	fill_tags(tags, seed, pkgs, n);
	struct petal_action bake = {
		.size = sizeof(bake),
		.kind = PETAL_ACTION_IMAGE,
		.instance_type = seed->build_instance,
		.spot = seed->build_spot,
		.spot_fallback = 0, /* the seed has no key that allows it yet */
		/* the base image, and room for sources and build stages */
		.volume_gb = (int)(figure(host, "base_ami_gb") + 3 * est.size_mb / 1024.0 + 0.999),
		.timeout_s = seed->build_timeout_s,
		.parts = parts,
		.n_parts = 1,
		.image_name = tags->name,
		.image_tags = tags->tags,
		.n_image_tags = sizeof(tags->tags) / sizeof(tags->tags[0]),
		.produces = PETAL_PRODUCT_IMAGE_ID,
	};
	struct petal_step image = {
		.size = sizeof(image),
		.id = PETAL_TIER_AMI ".image-build",
		.stage = PETAL_STAGE_IMAGE_BUILD,
		.runs_on = runs_on,
		.packages = specs,
		.n_packages = n,
		.est_minutes = minutes,
		.est_cost_usd = minutes / 60.0 * usd_hour + storage,
		.one_time = 1,
		.guess = est.guesses > 0,
		.note = note,
		.from_cloud = probed_any,
		.action = &bake,
	};
	rc = host->plan_add_step(pl, &image, err);
	if (rc != 0)
		goto out_specs;
	/* offline the note stays as it always read; probed it names the image */
	snprintf(boot_note, sizeof(boot_note), "nodes boot the custom image%s%s with these "
	         "packages installed; nothing to install",
	         probed_any && seed->custom_ami ? " " : "",
	         probed_any && seed->custom_ami ? label : "");

boot:;
	static const char *const after_image[] = { PETAL_TIER_AMI ".image-build" };
	int baked = probed_image && seed->seed_image_id;
	struct petal_action booted = {
		.size = sizeof(booted),
		.kind = PETAL_ACTION_NODE_BOOT,
		.uses = PETAL_PRODUCT_IMAGE_ID,
		.input = baked ? seed->seed_image_id : NULL, /* else the image step's */
	};
	double boot = figure(host, "boot_minutes");
	snprintf(head_on, sizeof(head_on), "head node %s", seed->head_node);
	struct petal_step nodes = {
		.size = sizeof(nodes),
		.id = PETAL_TIER_AMI ".boot",
		.stage = PETAL_STAGE_NODE_BOOT,
		.runs_on = head_on,
		.packages = specs,
		.n_packages = n,
		.depends_on = baked ? NULL : after_image,
		.n_depends_on = baked ? 0 : 1,
		.est_minutes = boot,
		.est_cost_usd = boot / 60.0 * head.ondemand_usd_hour,
		.note = boot_note,
		.from_cloud = probed_any,
		.action = &booted,
	};
	rc = host->plan_add_step(pl, &nodes, err);

out_specs:
	host->free(tags);
	host->free(specs);
	return rc;
}

static const struct petal_tier_ops ami_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = PETAL_CAP_IMAGES | PETAL_CAP_COMPUTE,
	.claim = ami_claim,
	.plan = ami_plan,
	.render = ami_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = PETAL_TIER_AMI,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "bake packages into a custom AMI on a build instance; nodes boot ready",
	.rank = 10,
	.init = ami_init,
	.fini = ami_fini,
	.ops.tier = &ami_ops,
};
