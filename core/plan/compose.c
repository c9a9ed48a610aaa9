/* Composition: every package of the seed claimed by the first tier that will
   deliver it, then each tier's steps gathered into one plan with totals. */
#include "config.h"

#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "plan_internal.h"

/* The plan being composed and the tier whose plan op is running. */
struct petal_planner {
	struct petal_plan *plan;
	const char *tier;
	int failed;              /* a step was refused: compose fails even if the
	                            plugin ignores the error it was given */
	struct petal_error first;
};

const struct petal_seed_info *petal_planner_seed(struct petal_planner *pl)
{
	return pl ? &pl->plan->info : NULL;
}

static int refuse(struct petal_planner *pl, struct petal_error *err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int refuse(struct petal_planner *pl, struct petal_error *err, const char *fmt, ...)
{
	char what[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	petal_fail(err, PETAL_EPLUGIN, "tier '%s': %s", pl->tier, what);
	if (!pl->failed) {
		pl->failed = 1;
		petal_fail(&pl->first, PETAL_EPLUGIN, "tier '%s': %s", pl->tier, what);
	}
	return PETAL_EPLUGIN;
}

static int valid_id(const char *id)
{
	if (!id || !*id)
		return 0;
	for (const char *p = id; *p; p++)
		if (*p <= ' ' || *p == '"' || *p == '\\' || *p == '?' || (unsigned char)*p >= 0x7f)
			return 0;
	return 1;
}

static char **copy_strings(const char *const *src, size_t n)
{
	char **out = petal_xcalloc(n ? n : 1, sizeof(*out));
	for (size_t i = 0; i < n; i++)
		out[i] = petal_xstrdup(src[i]);
	return out;
}

/* "prepare, image-build, ..." for the messages. */
static void stage_list(char *buf, size_t len)
{
	size_t at = 0;
	buf[0] = '\0';
	for (size_t i = 0; petal_plan_stages[i] && at < len; i++) {
		int w = snprintf(buf + at, len - at, "%s%s", i ? ", " : "", petal_plan_stages[i]);
		at += w > 0 ? (size_t)w : 0;
	}
}

/* The step's stage, and the stages it waits for: known, and earlier. */
static int check_stages(struct petal_planner *pl, const struct petal_step *s,
                        struct petal_error *err)
{
	char names[256];
	int rank = petal_plan_stage_rank(s->stage);
	if (rank < 0) {
		stage_list(names, sizeof(names));
		return refuse(pl, err, "step '%s': stage '%s' is not one of %s", s->id, s->stage,
		              names);
	}
	if ((s->one_time != 0) != petal_plan_stage_one_time(s->stage))
		return refuse(pl, err, "step '%s': stage %s is %s, but the step says one_time %d",
		              s->id, s->stage, petal_plan_stage_one_time(s->stage)
		              ? "one-time preparation" : "work at cluster creation", s->one_time);
	if (s->n_after_stages && !s->after_stages)
		return refuse(pl, err, "step '%s': a count without its list", s->id);
	for (size_t i = 0; i < s->n_after_stages; i++) {
		const char *a = s->after_stages[i];
		int r = petal_plan_stage_rank(a);
		if (r < 0) {
			stage_list(names, sizeof(names));
			return refuse(pl, err, "step '%s': after_stages[%zu] '%s' is not one of %s",
			              s->id, i, a ? a : "(null)", names);
		}
		if (r >= rank)
			return refuse(pl, err, "step '%s' (stage %s) waits for stage %s, which "
			              "does not come before it", s->id, s->stage, a);
	}
	return 0;
}

int petal_planner_add_step(struct petal_planner *pl, const struct petal_step *step,
                           struct petal_error *err)
{
	if (!pl)
		return petal_fail(err, PETAL_EINVAL, "no planner");
	if (!step || step->size < offsetof(struct petal_step, est_cost_usd) + sizeof(double))
		return refuse(pl, err, "step is NULL or too small (size %zu)",
		              step ? step->size : 0);
	/* Members past the plugin's size read as absent (zero). */
	struct petal_step s;
	memset(&s, 0, sizeof(s));
	memcpy(&s, step, step->size < sizeof(s) ? step->size : sizeof(s));

	if (!valid_id(s.id))
		return refuse(pl, err, "step id '%s' is empty or has spaces, quotes or a "
		              "'?'", s.id ? s.id : "(null)");
	if (petal_plan_find_step(pl->plan, s.id))
		return refuse(pl, err, "duplicate step id '%s'", s.id);
	if (!s.stage || !*s.stage)
		return refuse(pl, err, "step '%s' has no stage", s.id);
	int rc = check_stages(pl, &s, err);
	if (rc)
		return rc;
	if (!isfinite(s.est_minutes) || s.est_minutes < 0 ||
	    !isfinite(s.est_cost_usd) || s.est_cost_usd < 0)
		return refuse(pl, err, "step '%s': estimates must be 0 or more "
		              "(minutes %g, cost %g)", s.id, s.est_minutes, s.est_cost_usd);
	if ((s.n_packages && !s.packages) || (s.n_depends_on && !s.depends_on))
		return refuse(pl, err, "step '%s': a count without its list", s.id);
	for (size_t i = 0; i < s.n_packages; i++)
		if (!s.packages[i])
			return refuse(pl, err, "step '%s': package %zu is NULL", s.id, i);
	for (size_t i = 0; i < s.n_depends_on; i++) {
		const char *d = s.depends_on[i];
		if (d && d[0] == '?')
			return refuse(pl, err, "step '%s': depends_on[%zu] '%s': an optional "
			              "dependency on another tier's step is gone (ABI 2); name its "
			              "stage in after_stages", s.id, i, d);
		if (!valid_id(d))
			return refuse(pl, err, "step '%s': depends_on[%zu] is not a step id",
			              s.id, i);
	}
	char why[512];
	struct petal_plan_action *action = NULL;
	if (petal_plan_action_copy(s.action, &action, why, sizeof(why)) != 0)
		return refuse(pl, err, "step '%s': %s", s.id, why);

	struct petal_plan *plan = pl->plan;
	petal_grow((void **)&plan->steps, &plan->cap_steps, plan->n_steps + 1,
	           sizeof(*plan->steps));
	plan->steps[plan->n_steps++] = (struct petal_plan_step){
		.id = petal_xstrdup(s.id),
		.tier = petal_xstrdup(pl->tier),
		.stage = petal_xstrdup(s.stage),
		.runs_on = petal_xstrdup(s.runs_on ? s.runs_on : ""),
		.note = petal_xstrdup(s.note),
		.packages = copy_strings(s.packages, s.n_packages),
		.n_packages = s.n_packages,
		.depends_on = copy_strings(s.depends_on, s.n_depends_on),
		.n_depends_on = s.n_depends_on,
		.est_minutes = s.est_minutes,
		.est_cost_usd = s.est_cost_usd,
		.one_time = s.one_time != 0,
		.guess = s.guess != 0,
		.from_cloud = s.from_cloud != 0,
		.stage_rank = petal_plan_stage_rank(s.stage),
		.after_stages = copy_strings(s.after_stages, s.n_after_stages),
		.n_after_stages = s.n_after_stages,
		.action = action,
	};
	return 0;
}

/* ---- the seed, as plugins see it ------------------------------------------ */

static void where(const struct petal_seed *seed, const char *path, int *line, int *col)
{
	const struct petal_node *n = petal_node_path(seed->root, path);
	*line = n ? n->line : 0;
	*col = n ? n->col : 0;
}

static int is_built(const struct petal_seed_pkg *p)
{
	return p->section == PETAL_SECTION_IN_AMI || p->section == PETAL_SECTION_SPACK_PACKAGES;
}

/* A type the seed names, not in petal's table: the plan says it guessed. */
static void note_guess(struct petal_plan *plan, const struct petal_estimates *est,
                       const char *type, const char *where)
{
	struct petal_instance_type it;
	if (!type || petal_estimates_instance(est, type, &it) != 0 || !it.guess)
		return;
	for (size_t i = 0; i < plan->n_instance_guesses; i++)
		if (strcmp(plan->instance_guesses[i].type, type) == 0)
			return;
	struct petal_plan_instance_guess g = {
		.type = petal_xstrdup(type),
		.where = petal_xstrdup(where),
		.arch = petal_xstrdup(it.arch),
		.basis = petal_estimates_instance_basis(est, type),
		.vcpus = it.vcpus,
		.memory_gb = it.memory_gb,
		.ondemand_usd_hour = it.ondemand_usd_hour,
		.spot_usd_hour = it.spot_usd_hour,
	};
	PETAL_PUSH(plan->instance_guesses, plan->n_instance_guesses,
	           plan->cap_instance_guesses, g);
}

static void note_guesses(struct petal_plan *plan, const struct petal_estimates *est)
{
	const struct petal_seed *seed = plan->seed;
	note_guess(plan, est, seed->head_node, "compute.head_node");
	note_guess(plan, est, seed->build_instance_type, "software.build.instance_type");
	for (size_t q = 0; q < seed->n_queues; q++)
		for (size_t t = 0; t < seed->queues[q].n_instance_types; t++) {
			char *where = petal_xasprintf("compute.queues[%zu].instance_types", q);
			note_guess(plan, est, seed->queues[q].instance_types[t], where);
			free(where);
		}
}

static int fill_info(struct petal_plan *plan, struct petal_estimates *est,
                     struct petal_error *err)
{
	const struct petal_seed *seed = plan->seed;
	struct petal_instance_type it;
	int line, col;

	if (petal_estimates_instance(est, seed->head_node, &it) != 0) {
		where(seed, "compute.head_node", &line, &col);
		return petal_fail(err, PETAL_EINVAL, "%s:%d:%d: compute.head_node: petal has no "
		                  "figures for instance type '%s' (data/instances.json); give them "
		                  "under estimates.instances.%s (vcpus, memory_gb, "
		                  "ondemand_usd_hour)", seed->path, line, col, seed->head_node,
		                  seed->head_node);
	}
	if (seed->build_instance_type) {
		if (petal_estimates_instance(est, seed->build_instance_type, &it) != 0) {
			where(seed, "software.build.instance_type", &line, &col);
			return petal_fail(err, PETAL_EINVAL, "%s:%d:%d: software.build.instance_type: "
			                  "petal has no figures for instance type '%s' "
			                  "(data/instances.json); give them under "
			                  "estimates.instances.%s", seed->path, line, col,
			                  seed->build_instance_type, seed->build_instance_type);
		}
		plan->build_instance = petal_xstrdup(seed->build_instance_type);
	} else {
		/* Sized by what a build instance builds: the image's and the cache's
		   packages (in_ami, spack_packages). */
		const char **names = petal_xcalloc(seed->n_pkgs + 1, sizeof(*names));
		size_t n = 0;
		for (size_t i = 0; i < seed->n_pkgs; i++)
			if (is_built(&seed->pkgs[i]))
				names[n++] = seed->pkgs[i].spec.name;
		plan->build_instance = petal_xstrdup(
			petal_estimates_recommend(est, petal_instance_arch(seed->head_node), names, n,
			                          &plan->build_instance_reason));
		free(names);
	}

	note_guesses(plan, est);
	plan->info = (struct petal_seed_info){
		.size = sizeof(plan->info),
		.path = seed->path,
		.hash = seed->hash,
		.cluster_name = seed->name,
		.region = seed->region,
		.cloud = seed->cloud,
		.os = seed->os,
		.head_node = seed->head_node,
		.custom_ami = seed->custom_ami,
		.use_custom_ami = seed->use_custom_ami,
		.build_instance = plan->build_instance,
		.build_instance_reason = plan->build_instance_reason,
		.build_spot = seed->build_spot,
		.build_timeout_s = seed->build_timeout_s,
		.build_parallel = seed->build_parallel,
		.cache_bucket = seed->cache_bucket,
		.cache_prefix = seed->cache_bucket ? seed->cache_prefix : NULL,
		.spack_version = seed->spack_version,
		.root = seed->root,
		.pcluster_version = seed->pcluster_version,
	};
	return 0;
}

void petal_plan_package(const struct petal_seed *seed, size_t i, struct petal_package *out)
{
	const struct petal_seed_pkg *p = &seed->pkgs[i];
	const struct petal_container *c =
		(p->section == PETAL_SECTION_CONTAINER && p->container < seed->n_containers)
		? &seed->containers[p->container] : NULL;
	*out = (struct petal_package){
		.size = sizeof(*out),
		.spec = p->text,
		.name = p->spec.name,
		.version = p->spec.versions,
		.compiler = p->spec.compiler,
		.section = p->section,
		.container = c ? c->name : NULL,
		.image = c ? c->image : NULL,
		.line = p->line,
		.col = p->col,
	};
}

static struct petal_package *plugin_packages(const struct petal_seed *seed)
{
	struct petal_package *pkgs = petal_xcalloc(seed->n_pkgs ? seed->n_pkgs : 1,
	                                           sizeof(*pkgs));
	for (size_t i = 0; i < seed->n_pkgs; i++)
		petal_plan_package(seed, i, &pkgs[i]);
	return pkgs;
}

static const char *section_key(enum petal_section s)
{
	switch (s) {
	case PETAL_SECTION_SPACK_PACKAGES: return "software.spack_packages";
	case PETAL_SECTION_IN_AMI: return "software.in_ami";
	case PETAL_SECTION_BUILD_FROM_SOURCE: return "software.build_from_source";
	case PETAL_SECTION_CONTAINER: return "software.containers[].modules";
	}
	return "software";
}

/* ---- claiming ---------------------------------------------------------------- */

struct tier_run {
	struct petal_entry *e;
	const char *name;
	const struct petal_tier_ops *ops;
	char *lack;  /* "cloud 'local' cannot build images", or NULL */
	const struct petal_package **pkgs;
	size_t n, cap;
};

/* What the cloud cannot do, in words, most telling first. */
static char *lacking(const char *cloud, uint32_t missing)
{
	static const struct { uint32_t bit; const char *words; } caps[] = {
		{ PETAL_CAP_IMAGES, "build images" },
		{ PETAL_CAP_COMPUTE, "launch build instances" },
		{ PETAL_CAP_OBJECTS, "store objects" },
		{ PETAL_CAP_CLUSTER, "create clusters" },
		{ PETAL_CAP_REGISTRY, "log in to a container registry" },
	};
	if (!missing)
		return NULL;
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_printf(&sb, "cloud '%s' cannot", cloud);
	const char *sep = " ";
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(caps); i++)
		if (missing & caps[i].bit) {
			petal_strbuf_printf(&sb, "%s%s", sep, caps[i].words);
			sep = " or ";
		}
	return petal_strbuf_detach(&sb);
}

static int find_cloud(struct petal_registry *reg, const char *cloud, uint32_t *caps,
                      struct petal_error *err)
{
	struct petal_entry *e = petal_registry_find(reg, PETAL_KIND_CLOUD, cloud);
	if (!e || !e->desc) {
		struct petal_strbuf dirs = PETAL_STRBUF_INIT;
		for (size_t i = 0; i < reg->n_dirs; i++)
			petal_strbuf_printf(&dirs, "%s%s", i ? ":" : "", reg->dirs[i]);
		char *file = petal_xstrdup(cloud);
		for (char *p = file; *p; p++)
			if (*p == '-')
				*p = '_';
		petal_fail(err, PETAL_EPLUGIN, "no cloud plugin '%s' (cluster.cloud): cloud_%s.so "
		           "is not in the plugin path %s; install it, or point PETAL_PLUGIN_PATH "
		           "at a directory that has it (`petal plugins list --all` shows what "
		           "was found)", cloud, file, dirs.len ? petal_strbuf_str(&dirs) : "(empty)");
		free(file);
		petal_strbuf_release(&dirs);
		return PETAL_EPLUGIN;
	}
	const struct petal_cloud_ops *ops = e->desc->ops.cloud;
	*caps = PETAL_HAS(ops, caps) ? ops->caps : 0;
	return 0;
}

static void add_decline(struct petal_plan_claim *c, const char *tier, const char *why)
{
	c->declines = petal_xrealloc(c->declines, (c->n_declines + 1) * sizeof(*c->declines));
	c->declines[c->n_declines++] = (struct petal_plan_decline){
		petal_xstrdup(tier), petal_xstrdup(why ? why : "declined, without a reason"),
	};
}

static char *joined_declines(const struct petal_plan_claim *c)
{
	if (!c->n_declines)
		return NULL;
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	for (size_t i = 0; i < c->n_declines; i++)
		petal_strbuf_printf(&sb, "%s%s: %s", i ? "; " : "", c->declines[i].tier,
		                    c->declines[i].reason);
	return petal_strbuf_detach(&sb);
}

static int unclaimed(const struct petal_plan *plan, const struct petal_plan_claim *c,
                     const struct tier_run *tiers, size_t n_tiers,
                     struct petal_registry *reg, struct petal_error *err)
{
	const struct petal_seed_pkg *p = &plan->seed->pkgs[c->pkg];
	struct petal_strbuf asked = PETAL_STRBUF_INIT;
	for (size_t t = 0; t < n_tiers; t++)
		petal_strbuf_printf(&asked, "%s%s", t ? ", " : "", tiers[t].name);
	struct petal_strbuf dirs = PETAL_STRBUF_INIT;
	for (size_t i = 0; i < reg->n_dirs; i++)
		petal_strbuf_printf(&dirs, "%s%s", i ? ":" : "", reg->dirs[i]);
	petal_fail(err, PETAL_EINVAL, "%s:%d:%d: %s: no tier can deliver package '%s' "
	           "(asked: %s%s%s); the source tier (tier_source.so) takes any package: "
	           "is it in the plugin path %s?", plan->seed->path, p->line, p->col,
	           section_key(p->section), p->text,
	           asked.len ? petal_strbuf_str(&asked) : "no active tier",
	           c->declined ? "; declined by " : "", c->declined ? c->declined : "",
	           dirs.len ? petal_strbuf_str(&dirs) : "(empty)");
	petal_strbuf_release(&asked);
	petal_strbuf_release(&dirs);
	return PETAL_EINVAL;
}

/* Ask each tier in rank order for each package.  A tier whose needs the cloud
   lacks never gets a package: its claim becomes a decline naming what the
   cloud cannot do, its pass stays a pass (so a package it would not have
   taken anyway does not list it). */
static int claim_all(struct petal_plan *plan, const struct petal_package *pkgs,
                     struct tier_run *tiers, size_t n_tiers, struct petal_registry *reg,
                     struct petal_error *err)
{
	const struct petal_seed *seed = plan->seed;
	struct petal_claim_env env = {
		.size = sizeof(env),
		.seed = &plan->info,
		.cloud_name = seed->cloud,
		.cloud_caps = plan->cloud_caps,
	};
	plan->claims = petal_xcalloc(seed->n_pkgs ? seed->n_pkgs : 1, sizeof(*plan->claims));
	for (size_t p = 0; p < seed->n_pkgs; p++) {
		struct petal_plan_claim *c = &plan->claims[plan->n_claims++];
		c->pkg = p;
		for (size_t t = 0; t < n_tiers && !c->tier; t++) {
			struct tier_run *tr = &tiers[t];
			const char *why = NULL;
			int verdict = tr->ops->claim(tr->e->ctx, &env, &pkgs[p], &why);
			if (verdict == PETAL_CLAIM && tr->lack) {
				verdict = PETAL_DECLINE;
				why = tr->lack;
			}
			switch (verdict) {
			case PETAL_PASS:
				break;
			case PETAL_CLAIM:
				c->tier = petal_xstrdup(tr->name);
				PETAL_PUSH(tr->pkgs, tr->n, tr->cap, &pkgs[p]);
				break;
			case PETAL_DECLINE:
				add_decline(c, tr->name, why);
				break;
			default:
				return petal_fail(err, PETAL_EPLUGIN, "tier '%s': claim answered %d for "
				                  "package '%s'; expected PETAL_PASS, PETAL_CLAIM or "
				                  "PETAL_DECLINE", tr->name, verdict, pkgs[p].spec);
			}
		}
		c->declined = joined_declines(c);
		if (!c->tier)
			return unclaimed(plan, c, tiers, n_tiers, reg, err);
	}
	return 0;
}

static int plan_all(struct petal_plan *plan, struct tier_run *tiers, size_t n_tiers,
                    struct petal_error *err)
{
	struct petal_planner pl = { .plan = plan };
	for (size_t t = 0; t < n_tiers; t++) {
		struct tier_run *tr = &tiers[t];
		struct petal_error terr = { 0 };
		pl.tier = tr->name;
		int rc = tr->ops->plan(tr->e->ctx, &pl, tr->pkgs, tr->n, &terr);
		if (pl.failed) {
			*err = pl.first;
			return PETAL_EPLUGIN;
		}
		if (rc != 0)
			return petal_fail(err, rc < 0 ? rc : PETAL_EPLUGIN, "tier '%s': planning "
			                  "failed: %s", tr->name,
			                  terr.msg[0] ? terr.msg : petal_strerror(rc));
	}
	return 0;
}

/* ---- compose ------------------------------------------------------------------- */

int petal_plan_compose(const struct petal_seed *seed, struct petal_registry *reg,
                       struct petal_estimates *est, struct petal_plan **out,
                       struct petal_error *err)
{
	return petal_plan_compose_hooked(seed, reg, est, NULL, out, err);
}

int petal_plan_compose_hooked(const struct petal_seed *seed, struct petal_registry *reg,
                              struct petal_estimates *est, const struct petal_plan_hook *hook,
                              struct petal_plan **out, struct petal_error *err)
{
	*out = NULL;
	if (!seed || !reg || !est)
		return petal_fail(err, PETAL_EINVAL, "plan: needs a seed, a registry and estimates");
	if (!reg->host)
		return petal_fail(err, PETAL_EINVAL, "plan: the registry has no host table "
		                  "for the tiers");

	struct petal_plan *plan = petal_xcalloc(1, sizeof(*plan));
	struct petal_entry **entries = NULL;
	struct tier_run *tiers = NULL;
	struct petal_package *pkgs = NULL;
	size_t n_tiers = 0;
	int rc;

	plan->seed = seed;
	if ((rc = fill_info(plan, est, err)) ||
	    (rc = find_cloud(reg, seed->cloud, &plan->cloud_caps, err)))
		goto out_plan;

	n_tiers = petal_registry_tiers(reg, &entries);
	tiers = petal_xcalloc(n_tiers ? n_tiers : 1, sizeof(*tiers));
	plan->tiers = petal_xcalloc(n_tiers ? n_tiers : 1, sizeof(*plan->tiers));
	for (size_t t = 0; t < n_tiers; t++) {
		struct tier_run *tr = &tiers[t];
		tr->e = entries[t];
		tr->name = entries[t]->desc->name;
		tr->ops = entries[t]->desc->ops.tier;
		plan->tiers[plan->n_tiers++] = petal_xstrdup(tr->name);
		if ((rc = petal_entry_init(tr->e, reg->host, err)))
			goto out_tiers;
		if (!PETAL_HAS(tr->ops, plan) || !tr->ops->claim || !tr->ops->plan) {
			rc = petal_fail(err, PETAL_EPLUGIN, "tier '%s': no claim or plan op",
			                tr->name);
			goto out_tiers;
		}
		uint32_t needs = PETAL_HAS(tr->ops, needs) ? tr->ops->needs : 0;
		tr->lack = lacking(seed->cloud, needs & ~plan->cloud_caps);
	}

	pkgs = plugin_packages(seed);
	if ((rc = claim_all(plan, pkgs, tiers, n_tiers, reg, err)) ||
	    (hook && hook->after_claims &&
	     (rc = hook->after_claims(hook->arg, plan, pkgs, err))) ||
	    (rc = plan_all(plan, tiers, n_tiers, err)) ||
	    (rc = petal_plan_check_dependencies(plan, err)) ||
	    (rc = petal_plan_totals(plan, est, err)))
		goto out_tiers;
	*out = plan;
	plan = NULL;

out_tiers:
	for (size_t t = 0; t < n_tiers; t++) {
		free(tiers[t].lack);
		free(tiers[t].pkgs);
	}
	free(tiers);
	free(entries);
	free(pkgs);
out_plan:
	petal_plan_free(plan);
	return rc;
}

void petal_plan_free(struct petal_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->n_claims; i++) {
		struct petal_plan_claim *c = &plan->claims[i];
		free(c->tier);
		free(c->declined);
		for (size_t d = 0; d < c->n_declines; d++) {
			free(c->declines[d].tier);
			free(c->declines[d].reason);
		}
		free(c->declines);
		free(c->cache_version);
		free(c->cache_hash);
	}
	free(plan->claims);
	for (size_t i = 0; i < plan->n_instance_guesses; i++) {
		struct petal_plan_instance_guess *g = &plan->instance_guesses[i];
		free(g->type);
		free(g->where);
		free(g->arch);
		free(g->basis);
	}
	free(plan->instance_guesses);
	struct petal_plan_probe *pr = &plan->probe;
	for (size_t i = 0; i < pr->n_answers; i++) {
		free(pr->answers[i].question);
		free(pr->answers[i].answer);
		free(pr->answers[i].source);
	}
	free(pr->answers);
	free(pr->cloud);
	free(pr->cache_url);
	free(pr->seed_image_id);
	free(pr->seed_image_arch);
	free(pr->custom_ami_id);
	free(pr->custom_ami_arch);
	for (size_t i = 0; i < plan->n_steps; i++) {
		struct petal_plan_step *s = &plan->steps[i];
		free(s->id);
		free(s->tier);
		free(s->stage);
		free(s->runs_on);
		free(s->note);
		for (size_t k = 0; k < s->n_packages; k++)
			free(s->packages[k]);
		free(s->packages);
		for (size_t k = 0; k < s->n_depends_on; k++)
			free(s->depends_on[k]);
		free(s->depends_on);
		for (size_t k = 0; k < s->n_after_stages; k++)
			free(s->after_stages[k]);
		free(s->after_stages);
		petal_plan_action_free(s->action);
	}
	free(plan->steps);
	for (size_t i = 0; i < plan->n_guess_names; i++)
		free(plan->guess_names[i]);
	free(plan->guess_names);
	for (size_t i = 0; i < plan->n_measured; i++) {
		free(plan->measured[i].name);
		free(plan->measured[i].version);
		free(plan->measured[i].report);
	}
	free(plan->measured);
	for (size_t i = 0; i < plan->n_tiers; i++)
		free(plan->tiers[i]);
	free(plan->tiers);
	free(plan->build_instance);
	free(plan->build_instance_reason);
	free(plan->baseline_runs_on);
	free(plan);
}
