/* The host table handed to plugins, bound to the seed and figures in use. */
#ifndef PETAL_PLUGIN_HOST_H
#define PETAL_PLUGIN_HOST_H

#include <petal/plugin.h>

struct petal_estimates;

/* The process-wide host table. */
const struct petal_host *petal_host_get(void);
/* Figures the estimate calls answer from (may be NULL: they fail). */
void petal_host_bind_estimates(struct petal_estimates *est);
/* The region host->setting("region") answers (the seed's, while a cloud is
   asked on its behalf: `petal plan --probe`); NULL: none.  Borrowed. */
void petal_host_bind_region(const char *region);
/* Log verbosity: messages at or below level reach stderr. */
void petal_host_set_verbosity(int level);

#endif
