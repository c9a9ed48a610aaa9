/* A well-formed tier whose init ends the process: exit($PETAL_TEST_EXIT),
   0 when unset, or abort() when it says "abort".  petal must not end with
   the plugin's status and no output. */
#include <stdlib.h>
#include <string.h>

#include "testplug.h"

static int exits_init(const struct petal_host *host, void **ctx)
{
	const char *how = getenv("PETAL_TEST_EXIT");

	(void)host;
	(void)ctx;
	if (how && strcmp(how, "abort") == 0)
		abort();
	exit(how ? atoi(how) : 0);
}

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "init-exits",
	.version = "1.0",
	.rank = 1,
	.init = exits_init,
	.ops.tier = &stub_tier_ops,
};
