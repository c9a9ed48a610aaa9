/* The binary-cache tier, planning side: packages built once on a (spot)
 * build instance and pushed to a Spack buildcache in S3; nodes pull them at
 * cluster creation.
 *
 * Claims: software.spack_packages when the seed has a binary_cache bucket;
 * and software.in_ami packages that reach it (the ami tier declined them,
 * or is absent), since a cache serves them too.  Needs a cloud that stores
 * objects and launches build instances.
 *
 * Offline every package is assumed missing from the cache.  After `petal
 * plan --probe` the core says which ones the cache holds
 * (petal_package.cache_hit): only the others are built and pushed, and the
 * pull installs them all. */
#include <stdio.h>
#include <string.h>

#include <petal/plugin.h>

#include "../builtin.h"

static int cache_init(const struct petal_host *host, void **ctx)
{
	struct tier_ctx *c = host->alloc(sizeof(*c));
	c->host = host;
	*ctx = c;
	return 0;
}

static void cache_fini(void *ctx)
{
	struct tier_ctx *c = ctx;
	if (c)
		c->host->free(c);
}

static int cache_claim(void *ctx, const struct petal_claim_env *env,
                       const struct petal_package *pkg, const char **why)
{
	(void)ctx;
	(void)why;
	if (!env->seed->cache_bucket)
		return PETAL_PASS;
	if (pkg->section == PETAL_SECTION_SPACK_PACKAGES ||
	    pkg->section == PETAL_SECTION_IN_AMI)
		return PETAL_CLAIM;
	return PETAL_PASS;
}

static double figure(const struct petal_host *host, const char *name)
{
	double v = host->figure(host, name);
	return v > 0 ? v : 0;
}

/* What `petal plan --probe` found in the cache for a package; 0 when the
   core did not ask (an offline plan, or an older petal). */
static int probed(const struct petal_package *p)
{
	return PETAL_HAS(p, cache_probed) && p->cache_probed;
}

static int hit(const struct petal_package *p)
{
	return probed(p) && PETAL_HAS(p, cache_hit) && p->cache_hit;
}

/* Append to a note, cut short rather than overflowing. */
static void note_add(char *buf, size_t len, size_t *at, const char *a, const char *b)
{
	if (*at + 1 >= len)
		return;
	int w = snprintf(buf + *at, len - *at, "%s%s", a, b);
	*at = w > 0 && (size_t)w < len - *at ? *at + (size_t)w : len - 1;
}

/* "; from the cloud: <mirror> holds a, b; not c" for the notes. */
static void cloud_words(char *buf, size_t len, const struct petal_seed_info *seed,
                        const struct petal_package *const *pkgs, size_t n)
{
	size_t at = 0;
	buf[0] = '\0';
	note_add(buf, len, &at, "; from the cloud: ",
	         PETAL_HAS(seed, cache_url) && seed->cache_url ? seed->cache_url : "the cache");
	for (int want_hit = 1; want_hit >= 0; want_hit--) {
		size_t k = 0;
		note_add(buf, len, &at, want_hit ? " holds " : "; not ", "");
		for (size_t i = 0; i < n; i++)
			if (hit(pkgs[i]) == want_hit)
				note_add(buf, len, &at, k++ ? ", " : "", pkgs[i]->spec);
		if (!k)
			note_add(buf, len, &at, "none", "");
	}
}

/* The mirror the fill pushes to and nodes pull from, "s3://bucket/prefix"
   (as render.c writes it: the prefix without slashes at either end). */
static void mirror_url(char *buf, size_t len, const struct petal_seed_info *seed)
{
	const char *p = seed->cache_prefix ? seed->cache_prefix : "";
	size_t n;

	while (*p == '/')
		p++;
	n = strlen(p);
	while (n > 0 && p[n - 1] == '/')
		n--;
	snprintf(buf, len, "s3://%s%s%.*s", seed->cache_bucket, n ? "/" : "", (int)n, p);
}

/* Fill: launch, build, push the tarballs; a month of S3 storage.  Only the
   packages the cache does not hold (all of them, unprobed). */
static int plan_fill(const struct petal_host *host, struct petal_planner *pl,
                     const struct petal_package *const *pkgs, size_t n,
                     const struct petal_instance_type *build, const char *from_cloud,
                     struct petal_error *err)
{
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_build_estimate est = { .size = sizeof(est) };
	char runs_on[160], note[1024], url[1024];
	static const char *const parts[] = { PETAL_TIER_BINARY_CACHE };
	int rc = host->estimate_build(host, pkgs, n, seed->build_instance, seed->build_parallel, &est);
	if (rc != 0)
		return host->fail(err, rc, "cannot estimate the cache build on %s",
		                  seed->build_instance);
	const char **specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;
	double size_gb = est.size_mb / 1024.0;
	double launch = figure(host, "build_instance_boot_minutes");
	double push_rate = figure(host, "cache_push_mb_s");
	double push = push_rate > 0 ? est.size_mb / push_rate / 60.0 : 0;
	double fill = launch + est.minutes + push;
	double usd_hour = seed->build_spot ? build->spot_usd_hour : build->ondemand_usd_hour;
	double storage = size_gb * figure(host, "s3_gb_month");
	snprintf(runs_on, sizeof(runs_on), "build instance %s (%s)", seed->build_instance,
	         seed->build_spot ? "spot" : "on demand");
	snprintf(note, sizeof(note), "s3://%s/%s: launch %.0f min, build %.0f min, "
	         "push %.1f GB %.0f min; cost includes a month of S3 storage ($%.2f)%s",
	         seed->cache_bucket, seed->cache_prefix ? seed->cache_prefix : "", launch,
	         est.minutes, size_gb, push, storage, from_cloud ? from_cloud : "");
	mirror_url(url, sizeof(url), seed);
	struct petal_action action = {
		.size = sizeof(action),
		.kind = PETAL_ACTION_CACHE_FILL,
		.instance_type = seed->build_instance,
		.spot = seed->build_spot,
		.spot_fallback = 0, /* the seed has no key that allows it yet */
		/* the base image, and room for sources, build stages and tarballs */
		.volume_gb = (int)(figure(host, "base_ami_gb") + 4 * size_gb + 0.999),
		.timeout_s = seed->build_timeout_s,
		.parts = parts,
		.n_parts = 1,
		.produces = PETAL_PRODUCT_MIRROR_URL,
		.output = url,
	};
	struct petal_step fill_step = {
		.size = sizeof(fill_step),
		.id = PETAL_TIER_BINARY_CACHE ".cache-build",
		.stage = PETAL_STAGE_CACHE_BUILD,
		.runs_on = runs_on,
		.packages = specs,
		.n_packages = n,
		.est_minutes = fill,
		.est_cost_usd = fill / 60.0 * usd_hour + storage,
		.one_time = 1,
		.guess = est.guesses > 0,
		.note = note,
		.from_cloud = from_cloud != NULL,
		.action = &action,
	};
	rc = host->plan_add_step(pl, &fill_step, err);
	host->free(specs);
	return rc;
}

/* Pull: per package (index, signature, relocation) plus the bytes, for every
   package: what the cache holds and what the fill adds to it.  It follows
   the node's boot from a custom image when the plan has one. */
static int plan_pull(const struct petal_host *host, struct petal_planner *pl,
                     const struct petal_package *const *pkgs, size_t n, int after_fill,
                     const struct petal_instance_type *head, const char *from_cloud,
                     struct petal_error *err)
{
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_build_estimate est = { .size = sizeof(est) };
	char head_on[160], note[1024], url[1024];
	static const char *const parts[] = { PETAL_TIER_BINARY_CACHE };
	int rc = host->estimate_build(host, pkgs, n, seed->build_instance, seed->build_parallel, &est);
	if (rc != 0)
		return host->fail(err, rc, "cannot estimate the cache's sizes");
	const char **specs = host->alloc(n * sizeof(*specs));
	for (size_t i = 0; i < n; i++)
		specs[i] = pkgs[i]->spec;
	/* its own fill by id; whatever boots the nodes by stage */
	static const char *const own_fill[] = { PETAL_TIER_BINARY_CACHE ".cache-build" };
	static const char *const after_stages[] = { PETAL_STAGE_NODE_BOOT };
	double size_gb = est.size_mb / 1024.0;
	double pull_rate = figure(host, "cache_pull_mb_s");
	double pull = (double)n * figure(host, "cache_pkg_overhead_minutes") +
		(pull_rate > 0 ? est.size_mb / pull_rate / 60.0 : 0);
	double transfer = size_gb * figure(host, "transfer_gb");
	snprintf(head_on, sizeof(head_on), "head node %s", seed->head_node);
	snprintf(note, sizeof(note), "spack buildcache install of %zu package%s "
	         "(%.1f GB); cost includes transfer ($%.2f)%s", n, n == 1 ? "" : "s", size_gb,
	         transfer, from_cloud ? from_cloud : "");
	mirror_url(url, sizeof(url), seed);
	struct petal_action action = {
		.size = sizeof(action),
		.kind = PETAL_ACTION_NODE_BOOTSTRAP,
		.parts = parts,
		.n_parts = 1,
		.uses = PETAL_PRODUCT_MIRROR_URL,
		.input = url,
	};
	struct petal_step pull_step = {
		.size = sizeof(pull_step),
		.id = PETAL_TIER_BINARY_CACHE ".pull",
		.stage = PETAL_STAGE_CACHE_PULL,
		.runs_on = head_on,
		.packages = specs,
		.n_packages = n,
		.depends_on = after_fill ? own_fill : NULL,
		.n_depends_on = after_fill ? 1 : 0,
		.after_stages = after_stages,
		.n_after_stages = 1,
		.est_minutes = pull,
		.est_cost_usd = pull / 60.0 * head->ondemand_usd_hour + transfer,
		.guess = est.guesses > 0,
		.note = note,
		.from_cloud = from_cloud != NULL,
		.action = &action,
	};
	rc = host->plan_add_step(pl, &pull_step, err);
	host->free(specs);
	return rc;
}

static int cache_plan(void *ctx, struct petal_planner *pl,
                      const struct petal_package *const *pkgs, size_t n,
                      struct petal_error *err)
{
	const struct petal_host *host = ((const struct tier_ctx *)ctx)->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	struct petal_instance_type build = { .size = sizeof(build) };
	struct petal_instance_type head = { .size = sizeof(head) };
	char words[768];
	const char *from_cloud = NULL;
	int rc;

	if (n == 0)
		return 0;
	if (host->instance_type(host, seed->build_instance, &build) != 0 ||
	    host->instance_type(host, seed->head_node, &head) != 0)
		return host->fail(err, PETAL_EINVAL, "no figures for instance type '%s' or '%s'",
		                  seed->build_instance, seed->head_node);

	/* Offline, every package is assumed missing; probed, only the misses are
	   built and pushed, and a cache that holds them all needs no build. */
	const struct petal_package **misses = host->alloc(n * sizeof(*misses));
	size_t n_misses = 0, n_probed = 0;
	for (size_t i = 0; i < n; i++) {
		n_probed += probed(pkgs[i]) != 0;
		if (!hit(pkgs[i]))
			misses[n_misses++] = pkgs[i];
	}
	if (n_probed) {
		cloud_words(words, sizeof(words), seed, pkgs, n);
		from_cloud = words;
	}
	rc = 0;
	if (n_misses)
		rc = plan_fill(host, pl, misses, n_misses, &build, from_cloud, err);
	if (rc == 0)
		rc = plan_pull(host, pl, pkgs, n, n_misses > 0, &head, from_cloud, err);
	host->free(misses);
	return rc;
}

static const struct petal_tier_ops cache_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = PETAL_CAP_OBJECTS | PETAL_CAP_COMPUTE,
	.claim = cache_claim,
	.plan = cache_plan,
	.render = binary_cache_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = PETAL_TIER_BINARY_CACHE,
	.version = PETAL_PLUGIN_VERSION,
	.summary = "build once into a Spack buildcache in S3; nodes pull at creation",
	.rank = 20,
	.init = cache_init,
	.fini = cache_fini,
	.ops.tier = &cache_ops,
};
