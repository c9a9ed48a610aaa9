/* A well-formed tier whose init fails (and counts its calls in
   $PETAL_TEST_MARKER), to check failures are reported and not retried. */
#include <stdio.h>
#include <stdlib.h>

#include "testplug.h"

static int fails_init(const struct petal_host *host, void **ctx)
{
	const char *path = getenv("PETAL_TEST_MARKER");
	FILE *f;

	(void)host;
	(void)ctx;
	if (path && (f = fopen(path, "a")) != NULL) {
		fputs("init-fails\n", f);
		fclose(f);
	}
	return PETAL_EIO;
}

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "init-fails",
	.version = "1.0",
	.rank = 1,
	.init = fails_init,
	.ops.tier = &stub_tier_ops,
};
