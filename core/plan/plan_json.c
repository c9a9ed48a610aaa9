/* The plan as JSON: the stable keys of doc/plan-json.md. */
#include "config.h"

#include "plan.h"

#include <math.h>
#include <string.h>

#include "../util/util.h"

#define PETAL_PLAN_VERSION 1

/* Figures are estimates: cents and tenths of a minute say all they can. */
static json_t *rounded(double v, double unit)
{
	return json_real(round(v / unit) * unit);
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static json_t *string_array(char *const *items, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_string(items[i]));
	return a;
}

static json_t *seed_json(const struct petal_plan *plan)
{
	const struct petal_seed_info *s = &plan->info;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "path", str_or_null(s->path),
	                 "hash", str_or_null(s->hash),
	                 "cluster", str_or_null(s->cluster_name),
	                 "region", str_or_null(s->region),
	                 "cloud", str_or_null(s->cloud),
	                 "os", str_or_null(s->os));
}

static json_t *tier_json(const struct petal_plan *plan, const char *tier)
{
	json_t *pkgs = json_array(), *declined = json_array();
	for (size_t i = 0; i < plan->n_claims; i++) {
		const struct petal_plan_claim *c = &plan->claims[i];
		if (!c->tier || strcmp(c->tier, tier) != 0)
			continue;
		const char *spec = plan->seed->pkgs[c->pkg].text;
		json_array_append_new(pkgs, json_string(spec));
		for (size_t d = 0; d < c->n_declines; d++)
			json_array_append_new(declined,
			                      json_pack("{s:s, s:s, s:s}", "package", spec,
			                                "tier", c->declines[d].tier,
			                                "reason", c->declines[d].reason));
	}
	return json_pack("{s:s, s:o, s:o}", "tier", tier, "packages", pkgs,
	                 "declined", declined);
}

static json_t *product_json(enum petal_product o)
{
	return str_or_null(petal_product_name(o));
}

/* What the step does, for the run layer (doc/plan-json.md, "action"). */
static json_t *action_json(const struct petal_plan_action *a)
{
	if (!a)
		return json_null();
	json_t *tags = json_object();
	for (size_t i = 0; i < a->n_image_tags; i++)
		json_object_set_new(tags, a->image_tags[i].key, json_string(a->image_tags[i].value));
	json_t *j = json_pack("{s:o, s:o, s:b, s:b, s:i, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                      "kind", str_or_null(petal_action_kind_name(a->kind)),
	                      "instance_type", str_or_null(a->instance_type),
	                      "spot", a->spot,
	                      "spot_fallback", a->spot_fallback,
	                      "volume_gb", a->volume_gb,
	                      "timeout_s", (json_int_t)a->timeout_s,
	                      "parts", string_array(a->parts, a->n_parts),
	                      "image_name", str_or_null(a->image_name),
	                      "image_tags", a->kind == PETAL_ACTION_IMAGE ? tags : json_null(),
	                      "produces", product_json(a->produces),
	                      "output", str_or_null(a->output),
	                      "uses", product_json(a->uses),
	                      "input", str_or_null(a->input));
	if (a->kind != PETAL_ACTION_IMAGE)
		json_decref(tags);
	return j;
}

static json_t *step_json(const struct petal_plan *plan, const struct petal_plan_step *s)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o, s:o, s:b, s:b, s:o}",
	                 "id", s->id,
	                 "tier", s->tier,
	                 "stage", s->stage,
	                 "packages", string_array(s->packages, s->n_packages),
	                 "runs_on", s->runs_on,
	                 "est_minutes", rounded(s->est_minutes, 0.1),
	                 "est_cost_usd", rounded(s->est_cost_usd, 0.01),
	                 "depends_on", string_array(s->depends_on, s->n_depends_on),
	                 "one_time", s->one_time,
	                 "guess", s->guess,
	                 "note", str_or_null(s->note));
	json_object_set_new(j, "after_stages", string_array(s->after_stages, s->n_after_stages));
	json_object_set_new(j, "action", action_json(s->action));
	/* probed plans only: an offline plan keeps its keys as they were */
	if (plan->probe.done)
		json_object_set_new(j, "from_cloud", json_boolean(s->from_cloud));
	return j;
}

/* What --probe asked, what the cloud said, and per package the cache's
   answer (doc/plan-json.md). */
static json_t *probe_json(const struct petal_plan *plan)
{
	const struct petal_plan_probe *pr = &plan->probe;
	json_t *answers = json_array(), *pkgs = json_array();
	for (size_t i = 0; i < pr->n_answers; i++)
		json_array_append_new(answers, json_pack("{s:s, s:s, s:o, s:b}",
		                      "question", pr->answers[i].question,
		                      "answer", pr->answers[i].answer,
		                      "source", str_or_null(pr->answers[i].source),
		                      "from_cloud", pr->answers[i].from_cloud));
	for (size_t i = 0; i < plan->n_claims; i++) {
		const struct petal_plan_claim *c = &plan->claims[i];
		if (!c->cache_probed)
			continue;
		json_array_append_new(pkgs, json_pack("{s:s, s:o, s:s, s:o, s:o, s:b}",
		                      "package", plan->seed->pkgs[c->pkg].text,
		                      "tier", str_or_null(c->tier),
		                      "cache", c->cache_hit ? "hit" : "miss",
		                      "version", str_or_null(c->cache_version),
		                      "hash", str_or_null(c->cache_hash),
		                      "from_cloud", 1));
	}
	const struct petal_seed_info *in = &plan->info;
	json_t *images = json_pack("{s:o, s:o, s:o, s:o}",
	                           "seed_image_id", str_or_null(in->seed_image_id),
	                           "seed_image_arch", str_or_null(in->seed_image_arch),
	                           "custom_ami_id", str_or_null(in->custom_ami_id),
	                           "custom_ami_arch", str_or_null(in->custom_ami_arch));
	return json_pack("{s:o, s:o, s:o, s:o, s:o}",
	                 "cloud", str_or_null(pr->cloud),
	                 "cache_url", str_or_null(in->cache_url),
	                 "images", images,
	                 "answers", answers,
	                 "packages", pkgs);
}

static json_t *totals_json(const struct petal_plan *plan)
{
	json_t *speedup = plan->ready_minutes > 0 ?
		rounded(plan->baseline_minutes / plan->ready_minutes, 0.1) : json_null();
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
	                 "prepare_minutes", rounded(plan->prepare_minutes, 0.1),
	                 "prepare_cost_usd", rounded(plan->prepare_cost_usd, 0.01),
	                 "ready_minutes", rounded(plan->ready_minutes, 0.1),
	                 "ready_cost_usd", rounded(plan->ready_cost_usd, 0.01),
	                 "baseline_minutes", rounded(plan->baseline_minutes, 0.1),
	                 "baseline_cost_usd", rounded(plan->baseline_cost_usd, 0.01),
	                 "baseline_runs_on", str_or_null(plan->baseline_runs_on),
	                 "speedup", speedup);
}

/* Packages whose figures a build report measured. */
static json_t *measured_json(const struct petal_plan *plan)
{
	json_t *a = json_array();
	for (size_t i = 0; i < plan->n_measured; i++) {
		const struct petal_plan_measured *m = &plan->measured[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:f, s:i, s:f, s:s}",
		                                   "package", m->name, "version", m->version,
		                                   "seconds", round(m->seconds * 1000) / 1000,
		                                   "jobs", m->jobs,
		                                   "core_minutes",
		                                   round(m->core_minutes * 1000) / 1000,
		                                   "report", m->report));
	}
	return a;
}

/* Instance types petal's table lacks, with the figures guessed for them. */
static json_t *instance_guesses_json(const struct petal_plan *plan)
{
	json_t *a = json_array();
	for (size_t i = 0; i < plan->n_instance_guesses; i++) {
		const struct petal_plan_instance_guess *g = &plan->instance_guesses[i];
		json_array_append_new(a, json_pack("{s:s, s:s, s:i, s:o, s:o, s:o, s:s, s:o}",
		                      "type", g->type, "where", g->where, "vcpus", g->vcpus,
		                      "memory_gb", rounded(g->memory_gb, 0.01),
		                      "ondemand_usd_hour", rounded(g->ondemand_usd_hour, 0.0001),
		                      "spot_usd_hour", rounded(g->spot_usd_hour, 0.0001),
		                      "arch", g->arch, "basis", str_or_null(g->basis)));
	}
	return a;
}

json_t *petal_plan_to_json(const struct petal_plan *plan)
{
	json_t *tiers = json_array(), *steps = json_array();
	for (size_t t = 0; t < plan->n_tiers; t++)
		json_array_append_new(tiers, tier_json(plan, plan->tiers[t]));
	for (size_t i = 0; i < plan->n_steps; i++)
		json_array_append_new(steps, step_json(plan, &plan->steps[i]));
	json_t *build = json_pack("{s:o, s:o, s:b}",
	                          "type", str_or_null(plan->build_instance),
	                          "reason", str_or_null(plan->build_instance_reason),
	                          "spot", plan->info.build_spot);
	json_t *j = json_pack("{s:i, s:o, s:o, s:o, s:o, s:o, s:o}",
	                      "petal_plan_version", PETAL_PLAN_VERSION,
	                      "seed", seed_json(plan),
	                      "build_instance", build,
	                      "tiers", tiers,
	                      "steps", steps,
	                      "totals", totals_json(plan),
	                      "guesses", string_array(plan->guess_names, plan->n_guess_names));
	json_object_set_new(j, "instance_guesses", instance_guesses_json(plan));
	json_object_set_new(j, "measured", measured_json(plan));
	if (plan->probe.done)
		json_object_set_new(j, "probe", probe_json(plan));
	return j;
}
