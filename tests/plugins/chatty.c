/* A tier, "chatty", that claims nothing and logs while the plan is made:
   one warning from plan() and one progress report, so tests/test_sink.sh
   can see plugin events reach the CLI's sink (text, or JSON lines). */
#include "testplug.h"

static const struct petal_host *H;

static int chatty_init(const struct petal_host *host, void **ctx)
{
	H = host;
	*ctx = NULL;
	return 0;
}

static int chatty_plan(void *ctx, struct petal_planner *pl,
                       const struct petal_package *const *pkgs, size_t n,
                       struct petal_error *err)
{
	(void)ctx;
	(void)pl;
	(void)pkgs;
	(void)err;
	H->log(H, PETAL_LOG_WARN, "chatty", "planning with %zu package(s) \"quoted\"", n);
	H->progress(H, "chatty counting", 1, 1);
	return 0;
}

static const struct petal_tier_ops chatty_ops = {
	.size = sizeof(struct petal_tier_ops),
	.claim = stub_claim,
	.plan = chatty_plan,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "chatty",
	.version = "1.0",
	.summary = "a test tier that logs while planning",
	.rank = 90,
	.init = chatty_init,
	.ops.tier = &chatty_ops,
};
