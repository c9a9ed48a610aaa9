/* Checking one plugin file without running it (after Slurm's plugin_peek):
   dlopen, find the descriptor, check it field by field.  Every failure
   becomes a reason on the entry, worded for the person who built the file. */
#include "config.h"

#include "peek.h"

#include "../util/util.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void petal_entry_reject(struct petal_entry *e, const char *fmt, ...)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	petal_strbuf_vprintf(&sb, fmt, ap);
	va_end(ap);
	free(e->reason);
	e->reason = petal_strbuf_detach(&sb);
	e->state = PETAL_ENTRY_REJECTED;
}

int petal_plugin_name_valid(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* dlopen's own message for a text file ("invalid ELF header") does not say
   what the file is; looking first gives a reason a person can act on. */
static int check_elf(struct petal_entry *e)
{
	unsigned char head[4] = { 0 };
	ssize_t got;
	int fd;

	fd = open(e->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		petal_entry_reject(e, "cannot open: %s", strerror(errno));
		return -1;
	}
	got = read(fd, head, sizeof(head));
	close(fd);
	if (got != (ssize_t)sizeof(head) || memcmp(head, "\177ELF", 4) != 0) {
		petal_entry_reject(e, "not an ELF shared object (%s); a plugin is "
		                   "built with `cc -shared -fPIC`",
		                   got <= 0 ? "the file is empty"
		                            : "the file does not start with the ELF magic");
		return -1;
	}
	return 0;
}

/* The tier ops a planner cannot do without: claim and plan. */
static int check_tier_ops(struct petal_entry *e, const struct petal_tier_ops *ops)
{
	size_t need = offsetof(struct petal_tier_ops, plan) + sizeof(ops->plan);

	if (!ops) {
		petal_entry_reject(e, "the descriptor has no tier ops (ops.tier is NULL)");
		return -1;
	}
	if (ops->size < need) {
		petal_entry_reject(e, "tier ops are %zu bytes, fewer than the %zu through "
		                   "`plan`; set .size = sizeof(struct petal_tier_ops)",
		                   ops->size, need);
		return -1;
	}
	if (!ops->claim || !ops->plan) {
		petal_entry_reject(e, "tier ops lack %s; a tier must provide claim and plan",
		                   !ops->claim ? "claim" : "plan");
		return -1;
	}
	return 0;
}

/* A capability bit promises the functions of its group: a cloud that claims
   images but cannot find one would fail deep inside a plan instead of here.
   Returns the first missing function's name, or NULL. */
static const char *missing_cap_fn(const struct petal_cloud_ops *ops, const char **cap)
{
#define NEED(c, fn)                                                     \
	do {                                                            \
		if ((ops->caps & (c)) && !(PETAL_HAS(ops, fn) && ops->fn)) { \
			*cap = #c;                                      \
			return #fn;                                     \
		}                                                       \
	} while (0)
	NEED(PETAL_CAP_OBJECTS, object_put);
	NEED(PETAL_CAP_OBJECTS, object_get);
	NEED(PETAL_CAP_OBJECTS, object_head);
	NEED(PETAL_CAP_OBJECTS, object_list);
	NEED(PETAL_CAP_OBJECTS, object_delete);
	NEED(PETAL_CAP_COMPUTE, instance_launch);
	NEED(PETAL_CAP_COMPUTE, instance_describe);
	NEED(PETAL_CAP_COMPUTE, instance_terminate);
	NEED(PETAL_CAP_IMAGES, image_create);
	NEED(PETAL_CAP_IMAGES, image_find);
	NEED(PETAL_CAP_IMAGES, image_delete);
	NEED(PETAL_CAP_CLUSTER, cluster_create);
	NEED(PETAL_CAP_CLUSTER, cluster_describe);
	NEED(PETAL_CAP_CLUSTER, cluster_delete);
	NEED(PETAL_CAP_CLUSTER, cluster_list);
	NEED(PETAL_CAP_CLUSTER, cluster_tool);
	NEED(PETAL_CAP_REGISTRY, registry_login);
#undef NEED
	return NULL;
}

static int check_cloud_ops(struct petal_entry *e, const struct petal_cloud_ops *ops)
{
	size_t need = offsetof(struct petal_cloud_ops, caps) + sizeof(ops->caps);
	const char *cap = NULL, *fn;

	if (!ops) {
		petal_entry_reject(e, "the descriptor has no cloud ops (ops.cloud is NULL)");
		return -1;
	}
	if (ops->size < need) {
		petal_entry_reject(e, "cloud ops are %zu bytes, fewer than the %zu through "
		                   "`caps`; set .size = sizeof(struct petal_cloud_ops)",
		                   ops->size, need);
		return -1;
	}
	fn = missing_cap_fn(ops, &cap);
	if (fn) {
		petal_entry_reject(e, "cloud ops declare %s but lack %s", cap, fn);
		return -1;
	}
	return 0;
}

/* Check everything after magic and ABI; the ABI matched, so the layout is
   this header's and the fields may be read. */
static int check_descriptor(struct petal_entry *e, const struct petal_plugin *d)
{
	const char *kind = petal_kind_name(d->kind);

	e->have_desc = 1;
	e->kind = d->kind;
	e->rank = d->rank;
	e->desc_name = petal_xstrdup(d->name);
	e->version = petal_xstrdup(d->version);
	e->summary = petal_xstrdup(d->summary);

	if (!kind) {
		petal_entry_reject(e, "unknown kind %u; petal knows %d (tier) and %d (cloud)",
		                   d->kind, PETAL_KIND_TIER, PETAL_KIND_CLOUD);
		return -1;
	}
	if (strcmp(kind, e->file_kind) != 0) {
		petal_entry_reject(e, "the descriptor says kind %s but the file name says "
		                   "%s", kind, e->file_kind);
		return -1;
	}
	if (!d->name) {
		petal_entry_reject(e, "the descriptor has no name");
		return -1;
	}
	if (!petal_plugin_name_valid(d->name)) {
		petal_entry_reject(e, "the descriptor's name \"%s\" is not [a-z0-9-]+", d->name);
		return -1;
	}
	if (strcmp(d->name, e->file_name) != 0) {
		char *want = petal_xstrdup(d->name);
		char *p;

		for (p = want; *p; p++)
			if (*p == '-')
				*p = '_';
		petal_entry_reject(e, "the descriptor is named \"%s\" but the file name "
		                   "says \"%s\"; a plugin named \"%s\" lives in %s_%s.so",
		                   d->name, e->file_name, d->name, kind, want);
		free(want);
		return -1;
	}
	if (!d->version) {
		petal_entry_reject(e, "the descriptor has no version");
		return -1;
	}
	if (d->kind == PETAL_KIND_TIER)
		return check_tier_ops(e, d->ops.tier);
	return check_cloud_ops(e, d->ops.cloud);
}

void petal_plugin_peek(struct petal_entry *e)
{
	const struct petal_plugin *d;
	void *handle;

	if (check_elf(e) < 0)
		return;

	dlerror();
	handle = dlopen(e->path, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		const char *msg = dlerror();

		petal_entry_reject(e, "cannot be loaded: %s; most common cause: a missing "
		                   "dependency or an unresolved symbol (see `ldd -r %s`)",
		                   msg ? msg : "unknown dlopen error", e->path);
		return;
	}

	dlerror();
	d = dlsym(handle, PETAL_PLUGIN_SYMBOL);
	if (!d) {
		petal_entry_reject(e, "no symbol `%s`: not a petal plugin (a plugin exports "
		                   "`const struct petal_plugin %s`)",
		                   PETAL_PLUGIN_SYMBOL, PETAL_PLUGIN_SYMBOL);
		goto out_with_handle;
	}
	if (d->magic != PETAL_PLUGIN_MAGIC) {
		petal_entry_reject(e, "bad magic 0x%08x in `%s` (expected 0x%08x): not a "
		                   "petal plugin descriptor", d->magic,
		                   PETAL_PLUGIN_SYMBOL, PETAL_PLUGIN_MAGIC);
		goto out_with_handle;
	}
	e->abi = d->abi;
	if (d->abi != PETAL_PLUGIN_ABI) {
		petal_entry_reject(e, "built for ABI %u, petal speaks ABI %d; rebuild "
		                   "against this petal's <petal/plugin.h>",
		                   d->abi, PETAL_PLUGIN_ABI);
		goto out_with_handle;
	}
	if (check_descriptor(e, d) < 0)
		goto out_with_handle;

	e->handle = handle;
	e->desc = d;
	e->state = PETAL_ENTRY_ACTIVE;
	return;

out_with_handle:
	dlclose(handle);
}
