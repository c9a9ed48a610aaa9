/* Internal to core/plugin: the steps of a scan, shared by its files. */
#ifndef PETAL_PLUGIN_PEEK_H
#define PETAL_PLUGIN_PEEK_H

#include "registry.h"

/* Open e->path (RTLD_NOW | RTLD_LOCAL) and check its descriptor without
   running init.  Leaves e ACTIVE with handle and desc set, or REJECTED with
   a reason and the handle closed. */
void petal_plugin_peek(struct petal_entry *e);

/* Mark e rejected with a formatted reason (replacing any earlier one). */
void petal_entry_reject(struct petal_entry *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Is s a valid descriptor name, [a-z0-9-]+? */
int petal_plugin_name_valid(const char *s);

#endif
