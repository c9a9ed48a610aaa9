/* Render a plan into files: each tier that claimed packages adds fragments
 * through the host table, then the core assembles and writes the five files. */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

/* PETAL_FRAG_PCLUSTER keys petal knows where to place. */
static const char *const pcluster_keys[] = {
	"Image.CustomAmi", "Iam.S3Access", "Iam.AdditionalIamPolicies", NULL,
};

const struct petal_seed_info *petal_renderer_seed(struct petal_renderer *r)
{
	return r != NULL && r->plan != NULL ? &r->plan->info : NULL;
}

const struct render_frag *render_find(const struct petal_renderer *r,
                                      enum petal_fragment kind, const char *key)
{
	for (size_t i = 0; i < r->n_frags; i++)
		if (r->frags[i].kind == kind &&
		    (key == NULL || (r->frags[i].key != NULL && strcmp(r->frags[i].key, key) == 0)))
			return &r->frags[i];
	return NULL;
}

/* Larger than any EBS volume: a number past it is a mistake, not a plan. */
#define SHARED_MB_MAX (16384.0 * 1024.0)

static int check_megabytes(const char *tier, const char *text, struct petal_error *err)
{
	char *end;
	double mb = strtod(text, &end);

	/* digits first: strtod alone would take " 1", "-0", "inf" and "nan" */
	if (!(*text >= '0' && *text <= '9') || *end != '\0' || !isfinite(mb) ||
	    mb > SHARED_MB_MAX)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: tier %s: shared install size '%s' is not a number of "
		                  "megabytes from 0 to %.0f", tier, text, SHARED_MB_MAX);
	return 0;
}

/* Refuse at once what could not be placed, so the tier sees its mistake. */
static int check_fragment(const struct petal_renderer *r, enum petal_fragment kind,
                          const char *key, const char *text, struct petal_error *err)
{
	const char *tier = r->tier != NULL ? r->tier : "?";
	const struct render_frag *prev;
	int known = 0;

	if (kind < PETAL_FRAG_BUILD_SCRIPT || kind > PETAL_FRAG_SHARED_MB)
		return petal_fail(err, PETAL_EINVAL, "render: tier %s: unknown fragment kind %d",
		                  tier, (int)kind);
	if (text == NULL)
		return petal_fail(err, PETAL_EINVAL, "render: tier %s: fragment without text", tier);
	if (kind == PETAL_FRAG_SHARED_MB)
		return check_megabytes(tier, text, err);
	if (kind != PETAL_FRAG_PCLUSTER && kind != PETAL_FRAG_SPACK_MIRROR &&
	    kind != PETAL_FRAG_MODULE)
		return 0;
	if (key == NULL || *key == '\0' || *text == '\0')
		return petal_fail(err, PETAL_EINVAL,
		                  "render: tier %s: a fragment of kind %d needs a key and a text",
		                  tier, (int)kind);
	if (kind != PETAL_FRAG_PCLUSTER)
		return 0;
	for (size_t i = 0; pcluster_keys[i] != NULL; i++)
		known |= strcmp(key, pcluster_keys[i]) == 0;
	if (!known)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: tier %s: cluster config key '%s' is not one petal places "
		                  "(Image.CustomAmi, Iam.S3Access, Iam.AdditionalIamPolicies)",
		                  tier, key);
	prev = render_find(r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi");
	if (strcmp(key, "Image.CustomAmi") == 0 && prev != NULL && strcmp(prev->text, text) != 0)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: tier %s sets Image.CustomAmi to '%s', tier %s to '%s': "
		                  "a cluster boots one image", tier, text, prev->tier, prev->text);
	if (strcmp(key, "Iam.S3Access") == 0)
		return render_check_bucket(text, err);
	/* AdditionalIamPolicySchema: ^arn:.*:policy/ */
	if (strcmp(key, "Iam.AdditionalIamPolicies") == 0 &&
	    (strncmp(text, "arn:", 4) != 0 || strstr(text, ":policy/") == NULL ||
	     strcspn(text, " \t\r\n") != strlen(text)))
		return petal_fail(err, PETAL_EINVAL, "render: tier %s: '%s' is not an IAM policy "
		                  "ARN (arn:...:policy/...)", tier, text);
	return 0;
}

int petal_renderer_add(struct petal_renderer *r, enum petal_fragment kind,
                       const char *key, const char *text, struct petal_error *err)
{
	struct render_frag f;
	int rc;

	if (r == NULL)
		return petal_fail(err, PETAL_EINVAL, "render: no renderer");
	rc = check_fragment(r, kind, key, text, err);
	if (rc < 0)
		return rc;
	f.kind = kind;
	f.tier = petal_xstrdup(r->tier != NULL ? r->tier : "?");
	f.key = petal_xstrdup(key);
	f.text = petal_xstrdup(text);
	PETAL_PUSH(r->frags, r->n_frags, r->cap_frags, f);
	return 0;
}

static void renderer_release(struct petal_renderer *r)
{
	for (size_t i = 0; i < r->n_frags; i++) {
		free(r->frags[i].tier);
		free(r->frags[i].key);
		free(r->frags[i].text);
	}
	free(r->frags);
	free(r->artifacts_bucket);
	free(r->artifacts_url);
}

char *petal_render_reports_url(const char *artifacts, const char *cluster)
{
	return petal_xasprintf("%s/nodes/%s", artifacts, cluster != NULL ? cluster : "cluster");
}

char *petal_render_artifacts_url(const struct petal_seed_info *info)
{
	char hash16[17];
	const char *prefix = info->cache_prefix != NULL ? info->cache_prefix : "";
	size_t n;

	snprintf(hash16, sizeof(hash16), "%s", info->hash != NULL ? info->hash : "");
	if (info->cache_bucket == NULL)
		return petal_xasprintf("s3://petal-artifacts-%s/petal/%s", hash16,
		                       info->hash != NULL ? info->hash : "");
	prefix += strspn(prefix, "/");
	for (n = strlen(prefix); n > 0 && prefix[n - 1] == '/'; n--)
		;
	return petal_xasprintf("s3://%s/%.*s%spetal/%s", info->cache_bucket, (int)n, prefix,
	                       n > 0 ? "/" : "", info->hash != NULL ? info->hash : "");
}

/* The shared volume (gp3): at least ParallelCluster's default EBS size, and
   twice what the tiers install (users' later installs, relocated binaries)
   plus room for Spack itself and its caches; gp3 stops at 16 TiB. */
#define SHARED_MIN_GIB 40L
#define SHARED_HEADROOM 2.0
#define SHARED_EXTRA_GIB 20.0
#define SHARED_MAX_GIB 16384.0
/* The nodes' bootstrap budget: ParallelCluster's own steps, then petal's
   script with twice the plan's time to ready (estimates are estimates); never
   below ParallelCluster's default nor above the 12 hours CloudFormation
   allows the head node's wait condition. */
#define PCLUSTER_OWN_MIN 15.0
#define BOOT_MAX_S 43200.0
/* Of a compute node's budget, what ParallelCluster's own steps keep. */
#define COMPUTE_OWN_S 600L

int render_layout(struct petal_renderer *r, struct petal_error *err)
{
	double ready = r->plan->ready_minutes, gib, budget;

	r->shared = 0;
	r->shared_mb = 0;
	for (size_t i = 0; i < r->n_frags; i++) {
		if (r->frags[i].kind != PETAL_FRAG_SHARED_MB)
			continue;
		r->shared = 1;
		r->shared_mb += strtod(r->frags[i].text, NULL); /* checked when added */
	}
	gib = ceil(r->shared_mb / 1024.0 * SHARED_HEADROOM + SHARED_EXTRA_GIB);
	if (r->shared && gib > SHARED_MAX_GIB)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: the tiers install %.0f MB at cluster creation; with "
		                  "headroom the shared volume would need %.0f GiB, more than the "
		                  "%.0f GiB of an EBS gp3 volume: bake the largest packages into "
		                  "the AMI (software.in_ami) instead", r->shared_mb, gib,
		                  SHARED_MAX_GIB);
	r->shared_gib = gib < SHARED_MIN_GIB ? SHARED_MIN_GIB : (long)gib;

	if (!(ready >= 0))
		ready = 0; /* NaN or negative: no estimate, ParallelCluster's default */
	budget = ceil(PCLUSTER_OWN_MIN + ready * 2) * 60;
	r->boot_capped = budget > BOOT_MAX_S;
	if (budget > BOOT_MAX_S)
		budget = BOOT_MAX_S;
	r->boot_timeout_s = budget < RENDER_PCLUSTER_BOOT_S ? RENDER_PCLUSTER_BOOT_S : (long)budget;
	r->wait_s = r->boot_timeout_s - COMPUTE_OWN_S;
	return 0;
}

/* Ask one tier for the fragments of the packages it claimed. */
static int render_tier(struct petal_renderer *r, struct petal_registry *reg,
                       struct petal_entry *e, struct petal_error *err)
{
	const struct petal_plan *plan = r->plan;
	const struct petal_tier_ops *ops = e->desc->ops.tier;
	struct petal_package *pkgs = NULL;
	const struct petal_package **ptrs = NULL;
	size_t n = 0;
	int rc = 0;

	for (size_t i = 0; i < plan->n_claims; i++)
		n += strcmp(plan->claims[i].tier, e->desc->name) == 0;
	if (n == 0)
		return 0;
	if (!PETAL_HAS(ops, render) || ops->render == NULL)
		return 0; /* a tier with nothing to render */
	pkgs = petal_xcalloc(n, sizeof(*pkgs));
	ptrs = petal_xcalloc(n, sizeof(*ptrs));
	n = 0;
	for (size_t i = 0; i < plan->n_claims; i++) {
		if (strcmp(plan->claims[i].tier, e->desc->name) != 0)
			continue;
		if (plan->claims[i].pkg >= plan->seed->n_pkgs) {
			rc = petal_fail(err, PETAL_EINVAL, "render: claim of package %zu, "
			                "the seed has %zu", plan->claims[i].pkg, plan->seed->n_pkgs);
			goto out_pkgs;
		}
		petal_plan_package(plan->seed, plan->claims[i].pkg, &pkgs[n]);
		ptrs[n] = &pkgs[n];
		n++;
	}
	rc = petal_entry_init(e, reg->host, err);
	if (rc < 0)
		goto out_pkgs;
	r->tier = e->desc->name;
	rc = ops->render(e->ctx, r, ptrs, n, err);
	r->tier = NULL;
	if (rc < 0 && err != NULL && err->msg[0] == '\0')
		petal_fail(err, rc, "render: tier %s failed (%d) and said nothing", e->desc->name, rc);

out_pkgs:
	free(ptrs);
	free(pkgs);
	return rc < 0 ? rc : 0;
}

/* Every claim's tier must be among the active tiers, or its packages would
   silently vanish from the files. */
static int check_claims(const struct petal_plan *plan, struct petal_entry **tiers,
                        size_t n_tiers, struct petal_error *err)
{
	for (size_t i = 0; i < plan->n_claims; i++) {
		int found = 0;

		for (size_t t = 0; t < n_tiers; t++)
			found |= strcmp(tiers[t]->desc->name, plan->claims[i].tier) == 0;
		if (!found)
			return petal_fail(err, PETAL_EPLUGIN,
			                  "render: tier '%s' claimed packages but is not loaded",
			                  plan->claims[i].tier);
	}
	return 0;
}

static int write_files(const struct petal_renderer *r, const char *dir, int scripts_only,
                       struct petal_error *err)
{
	static const char *const names[] = {
		"cluster-config.yaml", "build-instance.sh", "node-bootstrap.sh",
		"spack.yaml", "modules.yaml", "container-modules.yaml",
	};
	char *text[PETAL_ARRAY_SIZE(names)] = { NULL };
	int rc;

	/* a build instance needs no cluster configuration (nor a subnet for it) */
	rc = scripts_only ? 0 : render_cluster_config(r, &text[0], err);
	if (rc == 0)
		rc = render_spack_yaml(r, &text[3], err);
	if (rc == 0)
		rc = render_modules_yaml(r, &text[4], err);
	if (rc == 0)
		rc = render_container_modules_yaml(r, &text[5], err);
	if (rc < 0)
		goto out_text;
	/* both scripts install modules.yaml into Spack's site scope */
	text[1] = render_build_script(r, text[4]);
	text[2] = render_node_script(r, text[4]);
	int modes[PETAL_ARRAY_SIZE(names)];
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(names); i++)
		modes[i] = strstr(names[i], ".sh") != NULL ? 0755 : 0644;
	size_t skip = scripts_only ? 1 : 0;
	rc = render_write_dir(dir, names + skip, text + skip, modes + skip,
	                      PETAL_ARRAY_SIZE(names) - skip, err);

out_text:
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(names); i++)
		free(text[i]);
	return rc;
}

int petal_render(const struct petal_plan *plan, struct petal_registry *reg,
                 const struct petal_render_opts *opts, struct petal_error *err)
{
	struct petal_renderer r = { .plan = plan };
	struct petal_entry **tiers = NULL;
	size_t n_tiers;
	int rc;

	if (plan == NULL || plan->seed == NULL || reg == NULL || opts == NULL || opts->dir == NULL)
		return petal_fail(err, PETAL_EINVAL, "render: no plan, registry or directory");
	r.subnet_id = opts->subnet_id != NULL ? opts->subnet_id : plan->seed->subnet_id;
	r.key_name = opts->key_name != NULL ? opts->key_name : plan->seed->key_name;
	if ((r.subnet_id == NULL || *r.subnet_id == '\0') && !opts->scripts_only)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: no subnet for the cluster: pass --subnet-id or set "
		                  "network.subnet_id in the seed");
	if (r.key_name != NULL && *r.key_name == '\0')
		r.key_name = NULL;
	r.artifacts_url = petal_render_artifacts_url(&plan->info);
	r.artifacts_bucket = petal_xstrndup(r.artifacts_url + 5,
	                                    strcspn(r.artifacts_url + 5, "/"));
	rc = r.subnet_id != NULL && *r.subnet_id ? render_check_subnet(r.subnet_id, err) : 0;
	if (rc == 0)
		rc = render_check_bucket(r.artifacts_bucket, err);
	if (rc < 0)
		goto out_renderer;

	n_tiers = petal_registry_tiers(reg, &tiers);
	rc = check_claims(plan, tiers, n_tiers, err);
	for (size_t t = 0; rc == 0 && t < n_tiers; t++)
		rc = render_tier(&r, reg, tiers[t], err);
	if (rc == 0)
		rc = render_layout(&r, err);
	if (rc == 0)
		rc = write_files(&r, opts->dir, opts->scripts_only, err);
	free(tiers);

out_renderer:
	renderer_release(&r);
	return rc;
}
