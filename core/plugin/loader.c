/* The registry's life after a scan: looking plugins up, ordering tiers,
   running init once, and tearing everything down. */
#include "config.h"

#include "peek.h"

#include "../util/util.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *petal_kind_name(uint32_t kind)
{
	switch (kind) {
	case PETAL_KIND_TIER:
		return "tier";
	case PETAL_KIND_CLOUD:
		return "cloud";
	}
	return NULL;
}

const char *petal_entry_state_name(enum petal_entry_state s)
{
	switch (s) {
	case PETAL_ENTRY_ACTIVE:
		return "active";
	case PETAL_ENTRY_SHADOWED:
		return "shadowed";
	case PETAL_ENTRY_MASKED:
		return "masked";
	case PETAL_ENTRY_REJECTED:
		return "rejected";
	}
	return "unknown";
}

const char *petal_dir_origin_name(enum petal_dir_origin o)
{
	switch (o) {
	case PETAL_DIR_ENV:
		return "env";
	case PETAL_DIR_USER:
		return "user";
	case PETAL_DIR_SITE:
		return "site";
	case PETAL_DIR_BUILTIN:
		return "builtin";
	}
	return "unknown";
}

const char *petal_entry_name(const struct petal_entry *e)
{
	const char *slash;

	if (e->file_name)
		return e->file_name;
	slash = strrchr(e->path, '/');
	return slash ? slash + 1 : e->path;
}

struct petal_entry *petal_registry_find(struct petal_registry *reg, enum petal_kind kind,
                                        const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < reg->n; i++) {
		struct petal_entry *e = &reg->entries[i];

		if (e->state == PETAL_ENTRY_ACTIVE && e->desc->kind == (uint32_t)kind &&
		    strcmp(e->desc->name, name) == 0)
			return e;
	}
	return NULL;
}

static int by_rank(const void *a, const void *b)
{
	const struct petal_entry *x = *(struct petal_entry *const *)a;
	const struct petal_entry *y = *(struct petal_entry *const *)b;

	if (x->desc->rank != y->desc->rank)
		return x->desc->rank < y->desc->rank ? -1 : 1;
	return strcmp(x->desc->name, y->desc->name);
}

size_t petal_registry_tiers(struct petal_registry *reg, struct petal_entry ***out)
{
	struct petal_entry **tiers = NULL;
	size_t n = 0, cap = 0, i;

	for (i = 0; i < reg->n; i++) {
		struct petal_entry *e = &reg->entries[i];

		if (e->state == PETAL_ENTRY_ACTIVE && e->desc->kind == PETAL_KIND_TIER)
			PETAL_PUSH(tiers, n, cap, e);
	}
	if (n > 1)
		qsort(tiers, n, sizeof(*tiers), by_rank);
	*out = tiers;
	return n;
}

/* ---- a plugin that exits ------------------------------------------------- */

/* exit() inside a plugin's init would end petal with the plugin's status
   (often 0) and none of petal's output.  An exit handler takes no context,
   so this is the loader's one piece of process state: the plugin whose init
   is running, and whether the handler is registered (once per process). */
static struct {
	const struct petal_entry *in_init;
	int armed;
} exit_watch;

static void refuse_exit(int status, int known)
{
	const struct petal_entry *e = exit_watch.in_init;
	const char *kind;
	char said[32] = "exit()";

	if (!e)
		return;
	kind = petal_kind_name(e->desc->kind);
	if (known)
		snprintf(said, sizeof(said), "exit(%d)", status);
	/* stdout is not flushed: _exit leaves no half-written output behind */
	fprintf(stderr, "petal: plugin %s/%s called %s during init; refusing to continue\n",
	        kind ? kind : "?", e->desc->name, said);
	_exit(PETAL_EXIT_PLUGIN_EXITED);
}

#ifdef HAVE_ON_EXIT
static void on_plugin_exit(int status, void *arg)
{
	(void)arg;
	refuse_exit(status, 1);
}
#else
static void on_plugin_exit(void)
{
	refuse_exit(0, 0);
}
#endif

static void watch_exit(const struct petal_entry *e)
{
	if (!exit_watch.armed) {
#ifdef HAVE_ON_EXIT
		exit_watch.armed = on_exit(on_plugin_exit, NULL) == 0;
#else
		exit_watch.armed = atexit(on_plugin_exit) == 0;
#endif
	}
	exit_watch.in_init = e;
}

int petal_entry_init(struct petal_entry *e, const struct petal_host *host,
                     struct petal_error *err)
{
	int rc;

	if (!e || e->state != PETAL_ENTRY_ACTIVE)
		return petal_fail(err, PETAL_EPLUGIN, "plugin %s is not active (%s)%s%s",
		                  e ? petal_entry_name(e) : "(none)",
		                  e ? petal_entry_state_name(e->state) : "missing",
		                  e && e->reason ? ": " : "", e && e->reason ? e->reason : "");
	if (!host)
		return petal_fail(err, PETAL_EINVAL, "plugin %s: no host table to init with",
		                  e->desc->name);
	if (e->initialised)
		return 0;
	/* A failed init is not retried: its first message is the one to show,
	   and a half-initialised plugin may not survive a second call. */
	if (e->init_ran)
		return petal_fail(err, PETAL_EPLUGIN, "plugin %s (%s): init failed earlier: %s",
		                  e->desc->name, e->path, petal_strerror(e->init_rc));
	e->init_ran = 1;
	if (!e->desc->init) {
		e->initialised = 1;
		return 0;
	}
	e->ctx = NULL;
	watch_exit(e);
	rc = e->desc->init(host, &e->ctx);
	watch_exit(NULL);
	e->init_rc = rc;
	if (rc != 0) {
		e->ctx = NULL;
		return petal_fail(err, PETAL_EPLUGIN, "plugin %s (%s): init failed: %s (%d)",
		                  e->desc->name, e->path, petal_strerror(rc), rc);
	}
	e->initialised = 1;
	return 0;
}

static void entry_release(struct petal_entry *e)
{
	if (e->initialised && e->desc->fini)
		e->desc->fini(e->ctx);
	if (e->handle)
		dlclose(e->handle);
	free(e->path);
	free(e->file_kind);
	free(e->file_name);
	free(e->reason);
	free(e->desc_name);
	free(e->version);
	free(e->summary);
}

void petal_registry_release(struct petal_registry *reg)
{
	size_t i;

	if (!reg)
		return;
	/* Reverse order of discovery, so teardown mirrors set-up. */
	for (i = reg->n; i > 0; i--)
		entry_release(&reg->entries[i - 1]);
	free(reg->entries);
	for (i = 0; i < reg->n_dirs; i++)
		free(reg->dirs[i]);
	free(reg->dirs);
	free(reg->dir_origin);
	memset(reg, 0, sizeof(*reg));
}
