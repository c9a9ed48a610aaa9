/* A well-formed tier, "good-one" (file tier_good_one.so): init and fini
   append a line to $PETAL_TEST_MARKER, so a test can tell whether, and how
   often, they ran. */
#include <stdio.h>
#include <stdlib.h>

#include "testplug.h"

static int mark(const char *what)
{
	const char *path = getenv("PETAL_TEST_MARKER");
	FILE *f;

	if (!path)
		return 0;
	f = fopen(path, "a");
	if (!f)
		return PETAL_EIO;
	fprintf(f, "%s\n", what);
	fclose(f);
	return 0;
}

static int good_init(const struct petal_host *host, void **ctx)
{
	(void)host;
	*ctx = (void *)"good-ctx";
	return mark("init");
}

static void good_fini(void *ctx)
{
	mark(ctx ? "fini" : "fini-without-ctx");
}

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "good-one",
	.version = "1.0",
	.summary = "a well-formed test tier",
	.rank = 50,
	.init = good_init,
	.fini = good_fini,
	.ops.tier = &stub_tier_ops,
};
