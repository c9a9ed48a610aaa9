/* Shared by the files of core/plan; not for other parts of the core. */
#ifndef PETAL_PLAN_INTERNAL_H
#define PETAL_PLAN_INTERNAL_H

#include "plan.h"

/* A depends_on entry starting with this means "depend on it if the plan has
   it" (doc/plan-json.md): a tier cannot know which other tiers took part. */
#define PETAL_PLAN_OPTIONAL_DEP '?'

struct petal_plan_step *petal_plan_find_step(const struct petal_plan *plan, const char *id);
/* Refuse unknown dependencies, drop optional ones the plan lacks, refuse
   one-time steps waiting for creation-time ones, and cycles; PETAL_EPLUGIN
   naming the tier. */
int petal_plan_check_dependencies(struct petal_plan *plan, struct petal_error *err);
/* Critical paths, summed costs, guesses and the all-from-source baseline. */
int petal_plan_totals(struct petal_plan *plan, struct petal_estimates *est,
                      struct petal_error *err);

#endif
