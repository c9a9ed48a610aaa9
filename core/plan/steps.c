/* The plan's step graph: lookups, dependencies, critical paths and totals. */
#include "config.h"

#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "plan_internal.h"

struct petal_plan_step *petal_plan_find_step(const struct petal_plan *plan, const char *id)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (strcmp(plan->steps[i].id, id) == 0)
			return &plan->steps[i];
	return NULL;
}

/* ---- critical paths ------------------------------------------------------ */

enum { WHITE = 0, GREY = 1, BLACK = 2 };

struct walk {
	const struct petal_plan *plan;
	int kind;       /* one_time value of the steps walked */
	int *colour;
	double *memo;
	size_t cycle_at; /* a step on the cycle, when finish() gives -1 */
};

/* When step i finishes, following its dependencies of the same kind; -1 on a
   cycle. */
static double finish(struct walk *w, size_t i)
{
	if (w->colour[i] == BLACK)
		return w->memo[i];
	if (w->colour[i] == GREY) {
		w->cycle_at = i;
		return -1;
	}
	w->colour[i] = GREY;
	const struct petal_plan_step *s = &w->plan->steps[i];
	double start = 0;
	for (size_t d = 0; d < s->n_depends_on; d++) {
		const struct petal_plan_step *dep = petal_plan_find_step(w->plan, s->depends_on[d]);
		if (!dep || dep->one_time != w->kind)
			continue;
		double f = finish(w, (size_t)(dep - w->plan->steps));
		if (f < 0)
			return -1;
		if (f > start)
			start = f;
	}
	w->colour[i] = BLACK;
	w->memo[i] = start + s->est_minutes;
	return w->memo[i];
}

static double longest_path(const struct petal_plan *plan, int one_time, size_t *cycle_at)
{
	size_t n = plan->n_steps;
	struct walk w = {
		.plan = plan,
		.kind = one_time != 0,
		.colour = petal_xcalloc(n ? n : 1, sizeof(int)),
		.memo = petal_xcalloc(n ? n : 1, sizeof(double)),
	};
	double longest = 0;
	for (size_t i = 0; i < n; i++) {
		if (plan->steps[i].one_time != w.kind)
			continue;
		double f = finish(&w, i);
		if (f < 0) {
			longest = -1;
			if (cycle_at)
				*cycle_at = w.cycle_at;
			break;
		}
		if (f > longest)
			longest = f;
	}
	free(w.colour);
	free(w.memo);
	return longest;
}

double petal_plan_critical_path(const struct petal_plan *plan, int one_time)
{
	return longest_path(plan, one_time, NULL);
}

static int has_dep(const struct petal_plan_step *s, const char *id)
{
	for (size_t d = 0; d < s->n_depends_on; d++)
		if (strcmp(s->depends_on[d], id) == 0)
			return 1;
	return 0;
}

/* A step waits for every step of the stages it names, after the ids it
   gave, in plan order; a stage the plan lacks adds nothing. */
static void resolve_stages(struct petal_plan *plan)
{
	for (size_t i = 0; i < plan->n_steps; i++) {
		struct petal_plan_step *s = &plan->steps[i];
		for (size_t k = 0; k < plan->n_steps; k++) {
			const struct petal_plan_step *o = &plan->steps[k];
			int named = 0;
			for (size_t a = 0; a < s->n_after_stages && !named; a++)
				named = strcmp(s->after_stages[a], o->stage) == 0;
			if (!named || has_dep(s, o->id))
				continue;
			s->depends_on = petal_xrealloc(s->depends_on,
			                               (s->n_depends_on + 1) * sizeof(char *));
			s->depends_on[s->n_depends_on++] = petal_xstrdup(o->id);
		}
	}
}

/* Resolve the stages, refuse unknown dependencies and ones on another tier's
   step by id, then one-time steps waiting for creation-time ones, and
   cycles. */
int petal_plan_check_dependencies(struct petal_plan *plan, struct petal_error *err)
{
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct petal_plan_step *s = &plan->steps[i];
		for (size_t d = 0; d < s->n_depends_on; d++) {
			const char *dep = s->depends_on[d];
			const struct petal_plan_step *o = petal_plan_find_step(plan, dep);
			if (!o)
				return petal_fail(err, PETAL_EPLUGIN, "tier '%s': step '%s' depends "
				                  "on '%s', which no tier added", s->tier, s->id, dep);
			if (strcmp(o->tier, s->tier) != 0)
				return petal_fail(err, PETAL_EPLUGIN, "tier '%s': step '%s' depends "
				                  "on '%s', a step of tier '%s': name its stage (%s) in "
				                  "after_stages instead", s->tier, s->id, dep, o->tier,
				                  o->stage);
		}
	}
	resolve_stages(plan);
	/* A one-time step cannot wait for a creation-time one: it is prepared
	   before any cluster exists.  So edges across the kinds only point from
	   creation to preparation, and a cycle lies within one kind. */
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct petal_plan_step *s = &plan->steps[i];
		for (size_t d = 0; s->one_time && d < s->n_depends_on; d++) {
			const struct petal_plan_step *dep = petal_plan_find_step(plan, s->depends_on[d]);
			if (!dep->one_time)
				return petal_fail(err, PETAL_EPLUGIN, "tier '%s': one-time step '%s' "
				                  "depends on '%s', which runs at cluster creation",
				                  s->tier, s->id, dep->id);
		}
	}
	for (int kind = 0; kind <= 1; kind++) {
		size_t at = 0;
		if (longest_path(plan, kind, &at) < 0)
			return petal_fail(err, PETAL_EPLUGIN, "tier '%s': step '%s' depends on "
			                  "itself through depends_on (a cycle)",
			                  plan->steps[at].tier, plan->steps[at].id);
	}
	return 0;
}

/* ---- totals ------------------------------------------------------------------- */

/* A package timed by a build report, once. */
static void note_measured(struct petal_plan *plan, const char *name,
                          const struct petal_pkg_figures *f)
{
	if (!f->measured)
		return;
	for (size_t i = 0; i < plan->n_measured; i++)
		if (strcmp(plan->measured[i].name, name) == 0)
			return;
	struct petal_plan_measured m = {
		.name = petal_xstrdup(name),
		.version = petal_xstrdup(f->measured_version),
		.report = petal_xstrdup(f->measured_report),
		.seconds = f->measured_seconds,
		.jobs = f->measured_jobs,
		.core_minutes = f->core_minutes,
	};
	PETAL_PUSH(plan->measured, plan->n_measured, plan->cap_measured, m);
}

int petal_plan_totals(struct petal_plan *plan, struct petal_estimates *est,
                  struct petal_error *err)
{
	const struct petal_seed *seed = plan->seed;
	plan->prepare_minutes = petal_plan_critical_path(plan, 1);
	plan->ready_minutes = petal_plan_critical_path(plan, 0);
	for (size_t i = 0; i < plan->n_steps; i++) {
		if (plan->steps[i].one_time)
			plan->prepare_cost_usd += plan->steps[i].est_cost_usd;
		else
			plan->ready_cost_usd += plan->steps[i].est_cost_usd;
	}

	const char **names = petal_xcalloc(seed->n_pkgs + 1, sizeof(*names));
	size_t cap = 0;
	for (size_t i = 0; i < seed->n_pkgs; i++) {
		const char *name = seed->pkgs[i].spec.name;
		names[i] = name;
		struct petal_pkg_figures f;
		petal_estimates_package(est, name, &f);
		int seen = 0;
		for (size_t g = 0; g < plan->n_guess_names && !seen; g++)
			seen = strcmp(plan->guess_names[g], name) == 0;
		if (f.guess && !seen)
			PETAL_PUSH(plan->guess_names, plan->n_guess_names, cap, petal_xstrdup(name));
		note_measured(plan, name, &f);
	}
	plan->guesses = (int)plan->n_guess_names;

	/* The baseline: every package from source on the head node at creation. */
	struct petal_build_estimate b;
	struct petal_instance_type head;
	int rc = petal_estimates_build(est, names, seed->n_pkgs, seed->head_node,
	                               seed->build_parallel, &b);
	free(names);
	if (rc || petal_estimates_instance(est, seed->head_node, &head) != 0)
		return petal_fail(err, PETAL_EINVAL, "no figures for the head node '%s'",
		                  seed->head_node);
	plan->baseline_minutes = b.minutes;
	plan->baseline_cost_usd = b.minutes / 60.0 * head.ondemand_usd_hour;
	plan->baseline_runs_on = petal_xasprintf("head node %s", seed->head_node);
	return 0;
}
