/* Shared by the test plugins: stub tier functions that do nothing, so each
   plugin's file shows only the one thing it gets wrong. */
#ifndef PETAL_TESTPLUG_H
#define PETAL_TESTPLUG_H

#include <petal/plugin.h>

__attribute__((unused)) static int stub_claim(void *ctx, const struct petal_claim_env *env,
                                              const struct petal_package *pkg,
                                              const char **why)
{
	(void)ctx;
	(void)env;
	(void)pkg;
	(void)why;
	return PETAL_PASS;
}

__attribute__((unused)) static int stub_plan(void *ctx, struct petal_planner *pl,
                                             const struct petal_package *const *pkgs,
                                             size_t n, struct petal_error *err)
{
	(void)ctx;
	(void)pl;
	(void)pkgs;
	(void)n;
	(void)err;
	return 0;
}

__attribute__((unused)) static const struct petal_tier_ops stub_tier_ops = {
	.size = sizeof(struct petal_tier_ops),
	.claim = stub_claim,
	.plan = stub_plan,
};

#endif
