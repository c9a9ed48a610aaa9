/* --render DIR is all or nothing: the files are written into a fresh
 * directory beside DIR, which then takes DIR's place in one rename (a new
 * DIR) or one exchange (a former render, swapped as a set).  A failure at
 * any point leaves DIR as it was and no temporary directory behind. */
#define _GNU_SOURCE /* renameat2, RENAME_EXCHANGE */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "render_int.h"

static int is_ours(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return 1;
	return 0;
}

/* DIR is new, or a directory holding nothing but files of ours (a former
   render): anything else is the user's, and a render must not replace it. */
static int check_target(const char *dir, const char *const *names, size_t n, int *exists,
                        struct petal_error *err)
{
	struct stat st;
	*exists = 0;
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 0;
		return petal_fail(err, PETAL_EIO, "%s: %s", dir, strerror(errno));
	}
	if (S_ISLNK(st.st_mode))
		return petal_fail(err, PETAL_EINVAL, "%s is a symbolic link: give the directory "
		                  "itself, or a new one", dir);
	if (!S_ISDIR(st.st_mode))
		return petal_fail(err, PETAL_EINVAL, "%s exists and is not a directory", dir);
	*exists = 1;
	DIR *d = opendir(dir);
	if (!d)
		return petal_fail(err, PETAL_EIO, "%s: cannot list: %s", dir, strerror(errno));
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		struct stat fst;
		if (!is_ours(e->d_name, names, n) ||
		    fstatat(dirfd(d), e->d_name, &fst, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(fst.st_mode))
			rc = petal_fail(err, PETAL_EINVAL,
			                "%s holds '%s', which petal does not render: render into a "
			                "new or empty directory, or one that holds only a former "
			                "render", dir, e->d_name);
	}
	closedir(d);
	return rc;
}

/* Remove a staging directory: our files in it, then itself. */
static void remove_stage(const char *stage, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *path = petal_xasprintf("%s/%s", stage, names[i]);
		unlink(path);
		free(path);
	}
	rmdir(stage);
}

static int parent_fsync(const char *dir, struct petal_error *err)
{
	const char *slash = strrchr(dir, '/');
	char *parent = !slash ? petal_xstrdup(".")
	               : slash == dir ? petal_xstrdup("/")
	                              : petal_xstrndup(dir, (size_t)(slash - dir));
	int rc = petal_fsync_dir(parent, err);
	free(parent);
	return rc;
}

int render_write_dir(const char *dir, const char *const *names, char *const *texts,
                     const int *modes, size_t n, struct petal_error *err)
{
	int exists, rc;
	/* "out/" and "out" are one directory; the staging one sits beside it */
	char *target = petal_xstrdup(dir);
	for (size_t len = strlen(target); len > 1 && target[len - 1] == '/'; len--)
		target[len - 1] = '\0';

	rc = check_target(target, names, n, &exists, err);
	if (rc)
		goto out_target;
	if (!exists) {
		const char *slash = strrchr(target, '/');
		if (slash && slash != target) {
			char *parent = petal_xstrndup(target, (size_t)(slash - target));
			rc = petal_mkdirs(parent, 0755, err);
			free(parent);
			if (rc)
				goto out_target;
		}
	}
	char *stage = petal_tmpdir_beside(target, err);
	if (!stage) {
		rc = PETAL_EIO;
		goto out_target;
	}
	/* mkdtemp's 0700 would become DIR's mode: a render is for others to read */
	mode_t mask = umask(0);
	umask(mask);
	if (chmod(stage, 0755 & ~mask) != 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: chmod: %s", stage, strerror(errno));
		goto out_stage;
	}
	for (size_t i = 0; rc == 0 && i < n; i++) {
		char *path = petal_xasprintf("%s/%s", stage, names[i]);
		rc = petal_write_file(path, texts[i], strlen(texts[i]), modes[i], err);
		free(path);
	}
	if (rc)
		goto out_stage;

	if (!exists) {
		if (rename(stage, target) != 0) {
			rc = petal_fail(err, PETAL_EIO, "%s: cannot move the rendered files into "
			                "place: %s", target, strerror(errno));
			goto out_stage;
		}
	} else if (renameat2(AT_FDCWD, stage, AT_FDCWD, target, RENAME_EXCHANGE) != 0) {
		if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
			rc = petal_fail(err, PETAL_EIO, "%s: cannot swap the rendered files into "
			                "place: %s", target, strerror(errno));
			goto out_stage;
		}
		/* a file system that cannot exchange: each file replaced atomically */
		for (size_t i = 0; rc == 0 && i < n; i++) {
			char *from = petal_xasprintf("%s/%s", stage, names[i]);
			char *to = petal_xasprintf("%s/%s", target, names[i]);
			if (rename(from, to) != 0)
				rc = petal_fail(err, PETAL_EIO, "%s: cannot move into place: %s", to,
				                strerror(errno));
			free(from);
			free(to);
		}
		if (rc == 0)
			rc = petal_fsync_dir(target, err);
		goto out_stage;
	}
	/* the stage is now DIR, or holds the former render: either way, tidy up */
	if (rc == 0)
		rc = parent_fsync(target, err);
	if (exists)
		remove_stage(stage, names, n);
	free(stage);
	goto out_target;

out_stage:
	remove_stage(stage, names, n);
	free(stage);
out_target:
	free(target);
	return rc;
}
