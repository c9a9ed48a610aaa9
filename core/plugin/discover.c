/* Finding plugin files: the search path, file names, shadowing, masking and
   the permission checks that come before any file is opened.  Which file
   wins a kind and name is decided from file names alone, so a shadowed or
   masked file is never loaded. */
#include "config.h"

#include "peek.h"

#include "../util/util.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef PETAL_PLUGINDIR
#define PETAL_PLUGINDIR "/usr/local/lib/petal/plugins"
#endif
#ifndef PETAL_SITE_PLUGINDIR
#define PETAL_SITE_PLUGINDIR "/usr/local/etc/petal/plugins.d"
#endif

void petal_registry_add_dir(struct petal_registry *reg, const char *dir,
                            enum petal_dir_origin origin)
{
	reg->dirs = petal_xrealloc(reg->dirs, (reg->n_dirs + 1) * sizeof(*reg->dirs));
	reg->dir_origin = petal_xrealloc(reg->dir_origin,
	                                 (reg->n_dirs + 1) * sizeof(*reg->dir_origin));
	reg->dirs[reg->n_dirs] = petal_xstrdup(dir);
	reg->dir_origin[reg->n_dirs] = origin;
	reg->n_dirs++;
}

void petal_registry_default_dirs(struct petal_registry *reg)
{
	const char *env = getenv("PETAL_PLUGIN_PATH");
	const char *xdg, *home;

	/* Set, even to "", it replaces the defaults: a test must not pick up
	   whatever happens to be installed on the machine. */
	if (env) {
		const char *p = env;

		while (*p) {
			size_t len = strcspn(p, ":");

			if (len > 0) {
				char *dir = petal_xstrndup(p, len);

				petal_registry_add_dir(reg, dir, PETAL_DIR_ENV);
				free(dir);
			}
			p += len;
			if (*p == ':')
				p++;
		}
		return;
	}

	/* The XDG spec says a relative XDG_DATA_HOME is invalid and ignored. */
	xdg = getenv("XDG_DATA_HOME");
	home = getenv("HOME");
	if (xdg && xdg[0] == '/') {
		char *dir = petal_xasprintf("%s/petal/plugins", xdg);

		petal_registry_add_dir(reg, dir, PETAL_DIR_USER);
		free(dir);
	} else if (home && home[0] == '/') {
		char *dir = petal_xasprintf("%s/.local/share/petal/plugins", home);

		petal_registry_add_dir(reg, dir, PETAL_DIR_USER);
		free(dir);
	}
	petal_registry_add_dir(reg, PETAL_SITE_PLUGINDIR, PETAL_DIR_SITE);
	petal_registry_add_dir(reg, PETAL_PLUGINDIR, PETAL_DIR_BUILTIN);
}

/* "tier_*.so" or "cloud_*.so": anything else in a plugin directory (libtool's
   .la files, READMEs) is not ours and is ignored. */
static int is_candidate(const char *file)
{
	size_t len = strlen(file);

	if (len < 3 || strcmp(file + len - 3, ".so") != 0)
		return 0;
	return strncmp(file, "tier_", 5) == 0 || strncmp(file, "cloud_", 6) == 0;
}

/* A writable-by-others file or directory lets someone else choose the code
   petal runs; so does one owned by a third user. */
static char *unsafe_reason(const char *what, const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return petal_xasprintf("cannot stat %s %s: %s", what, path, strerror(errno));
	if (st.st_mode & (S_IWGRP | S_IWOTH))
		return petal_xasprintf("%s %s is %s-writable (mode %04o); refusing to load "
		                       "code others can change: chmod go-w %s", what, path,
		                       (st.st_mode & S_IWOTH) ? "world" : "group",
		                       (unsigned)(st.st_mode & 07777), path);
	if (st.st_uid != 0 && st.st_uid != geteuid())
		return petal_xasprintf("%s %s is owned by uid %u, neither root nor you "
		                       "(uid %u); refusing to load it", what, path,
		                       (unsigned)st.st_uid, (unsigned)geteuid());
	return NULL;
}

static struct petal_entry *entry_new(struct petal_registry *reg, const char *dir,
                                     const char *file, enum petal_dir_origin origin)
{
	struct petal_entry *e;

	petal_grow((void **)&reg->entries, &reg->cap, reg->n + 1, sizeof(*reg->entries));
	e = &reg->entries[reg->n++];
	memset(e, 0, sizeof(*e));
	e->path = petal_xasprintf("%s/%s", dir, file);
	e->origin = origin;
	e->abi = -1;
	e->state = PETAL_ENTRY_REJECTED;
	return e;
}

/* Split "tier_binary_cache.so" into "tier" and "binary-cache"; the entry is
   rejected when the name part is not [a-z0-9_]+. */
static int parse_file_name(struct petal_entry *e, const char *file)
{
	const char *us = strchr(file, '_');
	size_t len = strlen(file) - 3 - (size_t)(us + 1 - file);
	char *name = petal_xstrndup(us + 1, len);
	char *p;

	e->file_kind = petal_xstrndup(file, (size_t)(us - file));
	for (p = name; *p; p++) {
		if (*p == '_') {
			*p = '-';
		} else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))) {
			petal_entry_reject(e, "file name %s is not <kind>_<name>.so with the "
			                   "name in [a-z0-9_] ('_' stands for '-')", file);
			free(name);
			return -1;
		}
	}
	if (!*name) {
		petal_entry_reject(e, "file name %s has an empty name part", file);
		free(name);
		return -1;
	}
	e->file_name = name;
	return 0;
}

/* The first entry that took this kind and name, or NULL. */
static struct petal_entry *claimant(struct petal_registry *reg, const struct petal_entry *e)
{
	size_t i;

	for (i = 0; i < reg->n && &reg->entries[i] != e; i++) {
		struct petal_entry *o = &reg->entries[i];

		if (o->file_name && strcmp(o->file_kind, e->file_kind) == 0 &&
		    strcmp(o->file_name, e->file_name) == 0)
			return o;
	}
	return NULL;
}

static int is_mask(const char *path)
{
	struct stat st;
	char *target;
	int mask;

	if (lstat(path, &st) < 0 || !S_ISLNK(st.st_mode))
		return 0;
	target = realpath(path, NULL);
	mask = target && strcmp(target, "/dev/null") == 0;
	free(target);
	return mask;
}

/* Decide one candidate: shadowed or masked by an earlier one, itself a mask,
   unsafe, or opened and checked. */
static void consider(struct petal_registry *reg, struct petal_entry *e,
                     const char *dir_problem)
{
	struct petal_entry *first = claimant(reg, e);
	char *real, *real_dir, *slash, *why;
	struct stat st;

	if (first && first->state == PETAL_ENTRY_MASKED) {
		e->state = PETAL_ENTRY_MASKED;
		e->reason = petal_xasprintf("masked by %s (a symlink to /dev/null)", first->path);
		return;
	}
	if (first) {
		e->state = PETAL_ENTRY_SHADOWED;
		e->reason = petal_xasprintf("shadowed by %s", first->path);
		return;
	}
	if (dir_problem) {
		petal_entry_reject(e, "%s", dir_problem);
		return;
	}
	if (is_mask(e->path)) {
		e->state = PETAL_ENTRY_MASKED;
		e->reason = petal_xasprintf("a symlink to /dev/null: masks %s \"%s\" in "
		                            "every later directory", e->file_kind, e->file_name);
		return;
	}
	if (stat(e->path, &st) < 0) {
		petal_entry_reject(e, "cannot stat: %s", strerror(errno));
		return;
	}
	if (!S_ISREG(st.st_mode)) {
		petal_entry_reject(e, "not a regular file");
		return;
	}
	/* Through a symlink, the file that gets loaded and its directory are
	   the ones that must be safe. */
	real = realpath(e->path, NULL);
	if (!real) {
		petal_entry_reject(e, "cannot resolve: %s", strerror(errno));
		return;
	}
	why = unsafe_reason("file", real);
	if (!why) {
		real_dir = petal_xstrdup(real);
		slash = strrchr(real_dir, '/');
		if (slash && slash != real_dir)
			*slash = '\0';
		why = unsafe_reason("directory", real_dir);
		free(real_dir);
	}
	free(real);
	if (why) {
		petal_entry_reject(e, "%s", why);
		free(why);
		return;
	}
	petal_plugin_peek(e);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A directory that does not exist is normal (most of the defaults don't);
   one that cannot be read is skipped the same way, as there is nothing in it
   to record. */
static void scan_dir(struct petal_registry *reg, const char *dir,
                     enum petal_dir_origin origin)
{
	char **files = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	char *dir_problem;
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && is_candidate(de->d_name))
			PETAL_PUSH(files, n, cap, petal_xstrdup(de->d_name));
	closedir(d);
	if (n == 0)
		goto out_with_files;

	/* readdir's order is the file system's; a listing must not depend on it. */
	qsort(files, n, sizeof(*files), by_name);
	dir_problem = unsafe_reason("directory", dir);
	for (i = 0; i < n; i++) {
		struct petal_entry *e = entry_new(reg, dir, files[i], origin);

		if (parse_file_name(e, files[i]) == 0)
			consider(reg, e, dir_problem);
	}
	free(dir_problem);

out_with_files:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
}

int petal_registry_scan(struct petal_registry *reg, struct petal_error *err)
{
	size_t i;

	if (reg->scanned)
		return petal_fail(err, PETAL_EINVAL, "the plugin registry was already scanned");
	reg->scanned = 1;
	for (i = 0; i < reg->n_dirs; i++)
		scan_dir(reg, reg->dirs[i], reg->dir_origin[i]);
	return 0;
}
