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
	/* from the descriptor, once peeked (ACTIVE only: a rejected plugin is
	   closed again, so its descriptor is gone; see the copies below) */
	const struct petal_plugin *desc;
	void *handle;      /* dlopen handle, NULL until loaded */
	void *ctx;         /* from init, once initialised */
	int initialised;

	/* Copied out of the descriptor before a rejected plugin is closed, so a
	   listing can still show what it claimed to be. */
	long abi;          /* -1 until a descriptor with the right magic was read */
	int have_desc;     /* the ABI matched: kind, rank, names below are known */
	uint32_t kind;     /* the descriptor's kind (0 when unknown) */
	int rank;
	char *desc_name;   /* NULL when the descriptor had none */
	char *version;
	char *summary;
	int init_rc;       /* init's result once it ran: it runs at most once */
	int init_ran;
};

struct petal_registry {
	struct petal_entry *entries;
	size_t n, cap;
	char **dirs;
	enum petal_dir_origin *dir_origin;
	size_t n_dirs;
	const struct petal_host *host;
	int scanned;       /* scan runs once per registry */
};

/* The directories searched, in order: PETAL_PLUGIN_PATH (':'-separated, empty
   parts skipped) alone when set, else user, site and built-in.  Appends to
   reg->dirs. */
void petal_registry_default_dirs(struct petal_registry *reg);
/* Append one directory to the search path (tests, --plugin-dir). */
void petal_registry_add_dir(struct petal_registry *reg, const char *dir,
                            enum petal_dir_origin origin);

/* Scan the directories and dlopen every candidate to check its descriptor
   (magic, ABI, kind, name, ops); no plugin's init runs.  Rejections are
   recorded, never fatal.  The first file for a kind and name wins it even if
   it is then rejected (no silent fall-back to another copy); later ones are
   shadowed, or masked after a symlink to /dev/null, and never opened. */
int petal_registry_scan(struct petal_registry *reg, struct petal_error *err);

/* The active plugin of kind and name, or NULL. */
struct petal_entry *petal_registry_find(struct petal_registry *reg, enum petal_kind kind,
                                        const char *name);
/* Active tiers in rank order (ties by name); caller frees the array (NULL
   when there are none). */
size_t petal_registry_tiers(struct petal_registry *reg, struct petal_entry ***out);

/* The status petal ends with when a plugin's init calls exit() (EX_SOFTWARE):
   any status, 0 included, would otherwise end petal with no output. */
#define PETAL_EXIT_PLUGIN_EXITED 70

/* Run init (once) with the host table.  An entry that is not active, or
   whose init failed, gives PETAL_EPLUGIN naming the plugin.  exit() called
   by init ends petal with PETAL_EXIT_PLUGIN_EXITED and a message on stderr
   naming the plugin; _exit() cannot be caught, abort() ends it by SIGABRT. */
int petal_entry_init(struct petal_entry *e, const struct petal_host *host,
                     struct petal_error *err);

/* fini every initialised plugin, dlclose, free.  The registry is left empty
   (zeroed) and may be released again. */
void petal_registry_release(struct petal_registry *reg);

/* The name a listing shows: the one the file name gives (so a descriptor
   that disagrees shows under the name it was looked up by), or the file's
   base name when that does not parse. */
const char *petal_entry_name(const struct petal_entry *e);

const char *petal_entry_state_name(enum petal_entry_state s);
const char *petal_kind_name(uint32_t kind); /* "tier", "cloud" or NULL */
const char *petal_dir_origin_name(enum petal_dir_origin o); /* "env", "user", ... */

#endif
