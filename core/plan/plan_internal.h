/* Shared by the files of core/plan; not for other parts of the core. */
#ifndef PETAL_PLAN_INTERNAL_H
#define PETAL_PLAN_INTERNAL_H

#include "plan.h"

struct petal_plan_step *petal_plan_find_step(const struct petal_plan *plan, const char *id);
/* Check and copy a plugin's action (NULL: none, *out NULL); -1 with why
   filled when refused. */
int petal_plan_action_copy(const struct petal_action *from, struct petal_plan_action **out,
                           char *why, size_t why_len);
void petal_plan_action_free(struct petal_plan_action *a);
/* Resolve each step's after_stages into depends_on (every step of those
   stages), then refuse unknown dependencies and ones on another tier's step,
   one-time steps waiting for creation-time ones, and cycles; PETAL_EPLUGIN
   naming the tier. */
int petal_plan_check_dependencies(struct petal_plan *plan, struct petal_error *err);
/* Critical paths, summed costs, guesses and the all-from-source baseline. */
int petal_plan_totals(struct petal_plan *plan, struct petal_estimates *est,
                      struct petal_error *err);

#endif
