/* Shared by petal's own tier plugins (not installed, not for third parties:
   they use <petal/plugin.h> alone).  Each tier's descriptor lives in
   plugins/tier_<name>/<name>.c (claim, plan), its render op in render.c. */
#ifndef PETAL_PLUGINS_BUILTIN_H
#define PETAL_PLUGINS_BUILTIN_H

#include <petal/plugin.h>

/* Every built-in tier's ctx. */
struct tier_ctx {
	const struct petal_host *host;
};

#define HIDDEN __attribute__((visibility("hidden")))

HIDDEN int ami_render(void *ctx, struct petal_renderer *r,
                      const struct petal_package *const *pkgs, size_t n,
                      struct petal_error *err);
HIDDEN int binary_cache_render(void *ctx, struct petal_renderer *r,
                               const struct petal_package *const *pkgs, size_t n,
                               struct petal_error *err);
HIDDEN int container_render(void *ctx, struct petal_renderer *r,
                            const struct petal_package *const *pkgs, size_t n,
                            struct petal_error *err);
HIDDEN int source_render(void *ctx, struct petal_renderer *r,
                         const struct petal_package *const *pkgs, size_t n,
                         struct petal_error *err);

#endif
