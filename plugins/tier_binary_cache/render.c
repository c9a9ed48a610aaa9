/* The binary_cache tier's render op: its fragments for the rendered artifacts. */
#include <petal/plugin.h>

#include "../builtin.h"

int binary_cache_render(void *ctx, struct petal_renderer *r,
                const struct petal_package *const *pkgs, size_t n,
                struct petal_error *err)
{
	(void)ctx;
	(void)r;
	(void)pkgs;
	(void)n;
	(void)err;
	return 0;
}
