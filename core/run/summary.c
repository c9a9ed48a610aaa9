/* The plan as a run-start record keeps it: what each step does, not what it
   costs, so that a journal read back knows the steps not yet begun. */
#include "config.h"

#include "run.h"

#include "../plan/plan.h"

json_t *petal_run_plan_summary(const struct petal_plan *plan)
{
	json_t *steps = json_array();
	for (size_t i = 0; i < plan->n_steps; i++) {
		const struct petal_plan_step *s = &plan->steps[i];
		const struct petal_plan_action *a = s->action;
		json_t *deps = json_array();
		for (size_t d = 0; d < s->n_depends_on; d++)
			json_array_append_new(deps, json_string(s->depends_on[d]));
		json_t *o = json_pack("{s:s, s:s?, s:o}", "id", s->id, "stage", s->stage,
		                      "depends_on", deps);
		const char *kind = a ? petal_action_kind_name(a->kind) : NULL;
		json_object_set_new(o, "action", kind ? json_string(kind) : json_null());
		if (a && a->produces)
			json_object_set_new(o, "produces", json_string(petal_product_name(a->produces)));
		json_array_append_new(steps, o);
	}
	return json_pack("{s:o, s:f, s:f}", "steps", steps, "prepare_minutes",
	                 plan->prepare_minutes, "ready_minutes", plan->ready_minutes);
}
