/* What petal uploads beside a run's artifacts so that a machine needs no
   more than them (doc/render.md, "Sources"): every file:// thing of the seed,
   under the name the rendered scripts fetch it by.  A directory goes up as a
   tar made by tar (a git repository: git archive at the seed's ref), both
   run with a fixed argv, or object by object (the source mirror). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../cloud/cloud.h"
#include "render_int.h"

extern char **environ;

static void add(struct petal_upload **u, size_t *n, size_t *cap, const char *url,
                char *name, int is_dir, const char *git_ref)
{
	struct petal_upload up = {
		.local_path = petal_xstrdup(url + strlen("file://")),
		.name = name,
		.is_dir = is_dir,
		.git_ref = git_ref != NULL ? petal_xstrdup(git_ref) : NULL,
	};

	PETAL_PUSH(*u, *n, *cap, up);
}

static int is_file_url(const char *url)
{
	return url != NULL && strncmp(url, "file://", 7) == 0;
}

int petal_render_uploads(const struct petal_seed *seed, struct petal_upload **out, size_t *n,
                         struct petal_error *err)
{
	struct petal_upload *u = NULL;
	size_t cap = 0;

	(void)err;
	*out = NULL;
	*n = 0;
	if (is_file_url(seed->spack_url))
		add(&u, n, &cap, seed->spack_url, petal_xstrdup(RENDER_UPLOAD_SPACK), 0, NULL);
	else if (is_file_url(seed->spack_git))
		add(&u, n, &cap, seed->spack_git, petal_xstrdup(RENDER_UPLOAD_SPACK), 1,
		    seed->spack_ref);
	for (size_t i = 0; i < seed->n_spack_repos; i++) {
		const struct petal_spack_repo *r = &seed->spack_repos[i];
		const char *url = r->path != NULL ? r->path : r->git != NULL ? r->git : r->url;

		if (!is_file_url(url))
			continue;
		add(&u, n, &cap, url, petal_xasprintf(RENDER_UPLOAD_REPOS "%s.tar", r->name),
		    r->url == NULL, r->git != NULL ? r->ref : NULL);
	}
	if (is_file_url(seed->source_mirror))
		add(&u, n, &cap, seed->source_mirror, petal_xstrdup(RENDER_UPLOAD_MIRROR "/"), 1,
		    NULL);
	*out = u;
	return 0;
}

void petal_render_uploads_free(struct petal_upload *u, size_t n)
{
	for (size_t i = 0; u != NULL && i < n; i++) {
		free(u[i].local_path);
		free(u[i].name);
		free(u[i].git_ref);
	}
	free(u);
}

/* A fresh empty file for the archive and another for the tool's messages. */
static int temp_file(char **path, struct petal_error *err)
{
	const char *dir = getenv("TMPDIR");
	int fd;

	*path = petal_xasprintf("%s/petal-upload.XXXXXX", dir != NULL && *dir ? dir : "/tmp");
	fd = mkstemp(*path);
	if (fd < 0) {
		int e = errno;

		free(*path);
		*path = NULL;
		return petal_fail(err, PETAL_EIO, "cannot make a temporary file in %s: %s",
		                  dir != NULL && *dir ? dir : "/tmp", strerror(e));
	}
	close(fd);
	return 0;
}

/* The last line a tool wrote to `path` into buf (empty when none). */
static void last_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	char line[512];

	buf[0] = '\0';
	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (line[0] != '\n')
			snprintf(buf, len, "%.*s", (int)strcspn(line, "\n"), line);
	fclose(f);
}

/* argv run with no shell, stdin from /dev/null, stdout and stderr into
   `log`; 0 when it exits 0. */
static int run_tool(char *const argv[], const char *what, const char *log,
                    struct petal_error *err)
{
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status = 0, rc;
	char why[300];

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_TRUNC, 0);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return petal_fail(err, PETAL_EIO, "cannot run %s: %s (is it installed?)", argv[0],
		                  strerror(rc));
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return petal_fail(err, PETAL_EIO, "waiting for %s: %s", argv[0],
			                  strerror(errno));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(log, why, sizeof(why));
	return petal_fail(err, PETAL_EIO, "%s failed (%s %d)%s%s", what,
	                  WIFEXITED(status) ? "exit" : "signal",
	                  WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
	                  why[0] ? ": " : "", why);
}

/* The directory as one tar: `git archive` at the ref, or tar of its
   contents (without .git), into *tar_path (caller unlinks and frees). */
static int make_tar(const struct petal_upload *u, char **tar_path, struct petal_error *err)
{
	char *log = NULL;
	int rc = temp_file(tar_path, err);

	if (rc != 0)
		return rc;
	rc = temp_file(&log, err);
	if (rc != 0)
		goto out_tar;
	if (u->git_ref != NULL) {
		char *argv[] = { "git", "-C", u->local_path, "archive", "--format=tar", "-o",
			         *tar_path, u->git_ref, "--", NULL };
		char *what = petal_xasprintf("git archive of '%s' in %s", u->git_ref,
		                             u->local_path);

		rc = run_tool(argv, what, log, err);
		free(what);
	} else {
		char *argv[] = { "tar", "-C", u->local_path, "--exclude=./.git", "-cf",
			         *tar_path, ".", NULL };
		char *what = petal_xasprintf("tar of %s", u->local_path);

		rc = run_tool(argv, what, log, err);
		free(what);
	}
	unlink(log);
	free(log);
	if (rc == 0)
		return 0;
out_tar:
	unlink(*tar_path);
	free(*tar_path);
	*tar_path = NULL;
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every regular file under dir (followed through symbolic links), in name
   order, put at url/<its path below dir>. */
static int put_tree(struct petal_cloud *c, const char *dir, const char *url, int depth,
                    struct petal_error *err)
{
	DIR *d;
	struct dirent *e;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (depth > 32)
		return petal_fail(err, PETAL_EINVAL, "%s: directories nested more than 32 deep "
		                  "(a symbolic link loop?)", dir);
	d = opendir(dir);
	if (d == NULL)
		return petal_fail(err, errno == ENOENT ? PETAL_ENOENT : PETAL_EIO,
		                  "cannot read the directory %s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			PETAL_PUSH(names, n, cap, petal_xstrdup(e->d_name));
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof(*names), name_cmp);
	for (size_t i = 0; i < n && rc == 0; i++) {
		char *path = petal_xasprintf("%s/%s", dir, names[i]);
		char *to = petal_xasprintf("%s/%s", url, names[i]);
		struct stat st;

		if (stat(path, &st) != 0)
			rc = petal_fail(err, PETAL_EIO, "cannot read %s: %s", path, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			rc = put_tree(c, path, to, depth + 1, err);
		else if (S_ISREG(st.st_mode))
			rc = petal_cloud_object_put(c, to, path, err);
		free(path);
		free(to);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

static int upload_one(struct petal_cloud *c, const char *base, const struct petal_upload *u,
                      struct petal_error *err)
{
	size_t len = strlen(u->name);
	char *url = petal_xasprintf("%s/%.*s", base,
	                            (int)(len > 0 && u->name[len - 1] == '/' ? len - 1 : len),
	                            u->name);
	struct stat st;
	char *tar = NULL;
	int rc;

	if (stat(u->local_path, &st) != 0) {
		rc = petal_fail(err, errno == ENOENT ? PETAL_ENOENT : PETAL_EIO,
		                "cannot upload %s to %s: %s", u->local_path, url, strerror(errno));
		goto out_url;
	}
	if (!u->is_dir != !S_ISDIR(st.st_mode)) {
		rc = petal_fail(err, PETAL_EINVAL, "cannot upload %s to %s: %s", u->local_path, url,
		                u->is_dir ? "not a directory" : "a directory, not a file");
		goto out_url;
	}
	if (!u->is_dir) {
		rc = petal_cloud_object_put(c, url, u->local_path, err);
	} else if (len > 0 && u->name[len - 1] == '/') {
		rc = put_tree(c, u->local_path, url, 0, err);
	} else {
		rc = make_tar(u, &tar, err);
		if (rc == 0)
			rc = petal_cloud_object_put(c, url, tar, err);
	}
	if (tar != NULL) {
		unlink(tar);
		free(tar);
	}
out_url:
	free(url);
	return rc;
}

int petal_render_upload_all(struct petal_cloud *c, const char *artifacts_url,
                            const struct petal_upload *u, size_t n, struct petal_error *err)
{
	size_t len = strlen(artifacts_url);
	char *base;
	int rc = 0;

	while (len > 0 && artifacts_url[len - 1] == '/')
		len--;
	if (len == 0)
		return petal_fail(err, PETAL_EINVAL, "no artifacts URL to upload the seed's "
		                  "sources to");
	base = petal_xstrndup(artifacts_url, len);
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = upload_one(c, base, &u[i], err);
	free(base);
	return rc;
}
