/* Files written beside their target and put in place all at once: created
   exclusively under a random name (a shared directory's planted symlink is
   never followed), fsync'd, renamed over the target, the directory fsync'd. */
#include "config.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RANDOM_CHARS 12
#define ATTEMPTS 100

/* RANDOM_CHARS letters and digits; getrandom's, else the clock's and pid's
   (a guess then still has to win the O_EXCL race, which it cannot). */
static void random_name(char out[RANDOM_CHARS + 1])
{
	static const char alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	static uint64_t counter;
	unsigned char bytes[RANDOM_CHARS];
	if (getrandom(bytes, sizeof(bytes), GRND_NONBLOCK) != (ssize_t)sizeof(bytes)) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		uint64_t x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 20) ^
		             ((uint64_t)getpid() << 40) ^ ++counter * 0x9e3779b97f4a7c15ULL;
		for (size_t i = 0; i < sizeof(bytes); i++) {
			x ^= x >> 12;
			x ^= x << 25;
			x ^= x >> 27;
			bytes[i] = (unsigned char)((x * 0x2545f4914f6cdd1dULL) >> 56);
		}
	}
	for (size_t i = 0; i < RANDOM_CHARS; i++)
		out[i] = alphabet[bytes[i] % (sizeof(alphabet) - 1)];
	out[RANDOM_CHARS] = '\0';
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return petal_xstrdup(".");
	if (slash == path)
		return petal_xstrdup("/");
	return petal_xstrndup(path, (size_t)(slash - path));
}

static const char *base_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

int petal_tmpfile_open(struct petal_tmpfile *t, const char *target, const char *prefix,
                       int mode, struct petal_error *err)
{
	t->fd = -1;
	t->path = NULL;
	t->target = petal_xstrdup(target);
	char *dir = dir_of(target);
	char *pre = prefix ? petal_xstrdup(prefix) : petal_xasprintf(".%s.tmp.", base_of(target));
	int e = EEXIST;
	for (int i = 0; i < ATTEMPTS && e == EEXIST; i++) {
		char rnd[RANDOM_CHARS + 1];
		random_name(rnd);
		free(t->path);
		t->path = petal_xasprintf("%s/%s%s", dir, pre, rnd);
		t->fd = open(t->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		             (mode_t)mode);
		e = t->fd < 0 ? errno : 0;
	}
	free(pre);
	free(dir);
	if (t->fd >= 0)
		return 0;
	petal_fail(err, PETAL_EIO, "%s: cannot create a temporary file beside it: %s", target,
	           strerror(e));
	free(t->path);
	free(t->target);
	t->path = t->target = NULL;
	errno = e;
	return PETAL_EIO;
}

int petal_fsync_dir(const char *dir, struct petal_error *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return petal_fail(err, PETAL_EIO, "%s: cannot open the directory to fsync it: %s",
		                  dir, strerror(errno));
	int rc = 0;
	/* some file systems cannot fsync a directory; they have nothing to flush */
	if (fsync(fd) != 0 && errno != EINVAL && errno != ENOTSUP)
		rc = petal_fail(err, PETAL_EIO, "%s: fsync of the directory failed: %s", dir,
		                strerror(errno));
	close(fd);
	return rc;
}

int petal_tmpfile_commit(struct petal_tmpfile *t, struct petal_error *err)
{
	int rc = 0;
	if (fsync(t->fd) != 0)
		rc = petal_fail(err, PETAL_EIO, "%s: fsync failed: %s", t->target, strerror(errno));
	if (close(t->fd) != 0 && rc == 0)
		rc = petal_fail(err, PETAL_EIO, "%s: close failed: %s", t->target, strerror(errno));
	t->fd = -1;
	if (rc == 0 && rename(t->path, t->target) != 0)
		rc = petal_fail(err, errno == EISDIR ? PETAL_EINVAL : PETAL_EIO,
		                "%s: cannot rename into place: %s", t->target, strerror(errno));
	if (rc == 0) {
		char *dir = dir_of(t->target);
		rc = petal_fsync_dir(dir, err);
		free(dir);
		free(t->path); /* renamed: nothing left to remove */
		t->path = NULL;
	}
	petal_tmpfile_discard(t);
	return rc;
}

void petal_tmpfile_discard(struct petal_tmpfile *t)
{
	if (t->fd >= 0)
		close(t->fd);
	if (t->path)
		unlink(t->path);
	free(t->path);
	free(t->target);
	t->fd = -1;
	t->path = t->target = NULL;
}

int petal_write_fd(int fd, const char *data, size_t len)
{
	size_t done = 0;
	while (done < len) {
		ssize_t w = write(fd, data + done, len - done);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

int petal_write_file(const char *path, const char *data, size_t len, int mode,
                     struct petal_error *err)
{
	struct petal_tmpfile t;
	int rc = petal_tmpfile_open(&t, path, NULL, mode, err);
	if (rc)
		return rc;
	if (petal_write_fd(t.fd, data, len) != 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: write failed: %s", path, strerror(errno));
		petal_tmpfile_discard(&t);
		return rc;
	}
	return petal_tmpfile_commit(&t, err);
}

char *petal_tmpdir_beside(const char *target, struct petal_error *err)
{
	char *dir = dir_of(target);
	char *tmpl = petal_xasprintf("%s/.%s.tmp.XXXXXX", dir, base_of(target));
	free(dir);
	if (mkdtemp(tmpl))
		return tmpl;
	petal_fail(err, PETAL_EIO, "%s: cannot create a temporary directory beside it: %s",
	           target, strerror(errno));
	free(tmpl);
	return NULL;
}
