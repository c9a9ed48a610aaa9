/* Plugin discovery, checks and loading. */
#ifndef PETAL_PLUGIN_REGISTRY_H
#define PETAL_PLUGIN_REGISTRY_H

#include <stddef.h>

#include <petal/plugin.h>

enum petal_entry_state {
	PETAL_ENTRY_ACTIVE = 0,   /* first found for its kind and name */
	PETAL_ENTRY_SHADOWED = 1, /* an earlier directory has the same kind and name */
	PETAL_ENTRY_MASKED = 2,   /* a symlink to /dev/null hides this kind and name */
	PETAL_ENTRY_REJECTED = 3, /* failed a check; reason says which */
};

/* Where a directory of plugins comes from, in search order. */
enum petal_dir_origin {
	PETAL_DIR_ENV = 0,   /* PETAL_PLUGIN_PATH */
	PETAL_DIR_USER = 1,  /* $XDG_DATA_HOME/petal/plugins or ~/.local/share/petal/plugins */
	PETAL_DIR_SITE = 2,  /* $(sysconfdir)/petal/plugins.d */
	PETAL_DIR_BUILTIN = 3, /* $(pkglibdir)/plugins */
};

struct petal_entry {
	char *path;
	char *file_kind;   /* from the file name: "tier" or "cloud" */
	char *file_name;   /* from the file name, '_' read as '-' */
	enum petal_entry_state state;
	enum petal_dir_origin origin;
	char *reason;      /* REJECTED: why; SHADOWED: by which path */
	/* from the descriptor, once peeked (ACTIVE and a REJECTED that got that far) */
	const struct petal_plugin *desc;
	void *handle;      /* dlopen handle, NULL until loaded */
	void *ctx;         /* from init, once initialised */
	int initialised;
};

struct petal_registry {
	struct petal_entry *entries;
	size_t n, cap;
	char **dirs;
	enum petal_dir_origin *dir_origin;
	size_t n_dirs;
	const struct petal_host *host;
};

/* The directories searched, in order: PETAL_PLUGIN_PATH (':'-separated)
   alone when set, else user, site and built-in. */
void petal_registry_default_dirs(struct petal_registry *reg);

/* Scan the directories and dlopen every candidate to check its descriptor
   (magic, ABI, kind, name, ops); no plugin's init runs.  Rejections are
   recorded, never fatal. */
int petal_registry_scan(struct petal_registry *reg, struct petal_error *err);

/* The active plugin of kind and name, or NULL. */
struct petal_entry *petal_registry_find(struct petal_registry *reg, enum petal_kind kind,
                                        const char *name);
/* Active tiers in rank order (ties by name); caller frees the array. */
size_t petal_registry_tiers(struct petal_registry *reg, struct petal_entry ***out);

/* Run init (once) with the host table. */
int petal_entry_init(struct petal_entry *e, const struct petal_host *host,
                     struct petal_error *err);

/* fini every initialised plugin, dlclose, free. */
void petal_registry_release(struct petal_registry *reg);

const char *petal_entry_state_name(enum petal_entry_state s);
const char *petal_kind_name(uint32_t kind); /* "tier", "cloud" or NULL */

#endif
