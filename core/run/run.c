/* A run's id, directory, lock and idempotency tokens. */
#include "config.h"

#include "run.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "../util/util.h"
#include "run_internal.h"

int petal_run_id_valid(const char *id)
{
	static const char form[] = "r-dddddddd-dddddd-xxxx";
	if (!id || strlen(id) != PETAL_RUN_ID_LEN)
		return 0;
	for (size_t i = 0; i < PETAL_RUN_ID_LEN; i++) {
		unsigned char c = (unsigned char)id[i];
		switch (form[i]) {
		case 'd':
			if (!isdigit(c))
				return 0;
			break;
		case 'x':
			if (!isdigit(c) && !(c >= 'a' && c <= 'f'))
				return 0;
			break;
		default:
			if (c != (unsigned char)form[i])
				return 0;
		}
	}
	return 1;
}

int petal_run_id_new(char out[PETAL_RUN_ID_LEN + 1], struct petal_error *err)
{
	unsigned char rnd[2];
	time_t now = time(NULL);
	struct tm tm;

	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return petal_fail(err, PETAL_EIO, "cannot read random bytes for a run id: %s",
		                  strerror(errno));
	gmtime_r(&now, &tm);
	char when[16]; /* YYYYMMDD-HHMMSS: 15 characters, or strftime fails */
	if (strftime(when, sizeof(when), "%Y%m%d-%H%M%S", &tm) != 15)
		return petal_fail(err, PETAL_EIO, "the clock's year does not fit a run id");
	snprintf(out, PETAL_RUN_ID_LEN + 1, "r-%s-%02x%02x", when, rnd[0], rnd[1]);
	return 0;
}

char *petal_run_root(const char *state_dir)
{
	return petal_xasprintf("%s/runs", state_dir);
}

char *petal_run_dir(const char *state_dir, const char *id)
{
	return petal_xasprintf("%s/runs/%s", state_dir, id);
}

char *petal_run_journal_path(const char *state_dir, const char *id)
{
	return petal_xasprintf("%s/runs/%s/journal.jsonl", state_dir, id);
}

int petal_run_client_token(const char *run_id, const char *step_id,
                           char out[PETAL_RUN_TOKEN_MAX + 1], struct petal_error *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	char *text;
	int ok;

	if (!petal_run_id_valid(run_id))
		return petal_fail(err, PETAL_EINVAL, "'%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX)",
		                  run_id ? run_id : "(null)");
	if (!step_id || !*step_id)
		return petal_fail(err, PETAL_EINVAL, "a client token needs a step id");
	text = petal_xasprintf("%s/%s", run_id, step_id);
	ok = EVP_Digest(text, strlen(text), md, &len, EVP_sha256(), NULL) == 1 && len == 32;
	free(text);
	if (!ok)
		return petal_fail(err, PETAL_EIO, "SHA-256 failed making a client token");
	int n = snprintf(out, PETAL_RUN_TOKEN_MAX + 1, "%s-", run_id);
	for (int i = 0; i < 16; i++)
		n += snprintf(out + n, PETAL_RUN_TOKEN_MAX + 1 - (size_t)n, "%02x", md[i]);
	return 0;
}

/* ---- the lock ---------------------------------------------------------------- */

static long read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long pid = strtol(buf, NULL, 10);
	return pid > 0 ? pid : 0;
}

static int in_use(struct petal_error *err, const char *id, long pid)
{
	if (pid)
		return petal_fail(err, PETAL_EIO, "run %s is in use by pid %ld: another petal owns "
		                  "it; wait for it to end, or stop that process", id, pid);
	return petal_fail(err, PETAL_EIO, "run %s is in use by another petal process; wait "
	                  "for it to end", id);
}

/* Lock STATE/runs/<id>/lock for this process and write its pid there. */
static int take_lock(const char *dir, const char *id, int *fd_out, struct petal_error *err)
{
	char *path = petal_xasprintf("%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	int rc = 0;

	if (fd < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot open the run's lock: %s", path,
		                strerror(errno));
		goto out_path;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		rc = errno == EWOULDBLOCK ? in_use(err, id, read_pid(fd))
		                          : petal_fail(err, PETAL_EIO, "%s: cannot lock: %s", path,
		                                       strerror(errno));
		goto out_fd;
	}
	char pid[32];
	int n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot write the owner's pid: %s", path,
		                strerror(errno));
		goto out_fd;
	}
	*fd_out = fd;
	goto out_path;
out_fd:
	close(fd);
out_path:
	free(path);
	return rc;
}

int petal_run_lock_probe(const char *state_dir, const char *id, pid_t *pid,
                         struct petal_error *err)
{
	char *dir = petal_run_dir(state_dir, id);
	char *path = petal_xasprintf("%s/lock", dir);
	struct stat st;
	int rc = 0;

	*pid = 0;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = petal_fail(err, PETAL_ENOENT, "no run %s in %s/runs", id, state_dir);
		goto out;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT) /* no lock file: nobody ever held it */
			rc = petal_fail(err, PETAL_EIO, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
		flock(fd, LOCK_UN);
	} else if (errno == EWOULDBLOCK) {
		*pid = (pid_t)read_pid(fd);
		rc = 1;
	} else {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot probe the lock: %s", path, strerror(errno));
	}
	close(fd);
out:
	free(path);
	free(dir);
	return rc;
}

/* ---- create, open, close ----------------------------------------------------- */

static struct petal_run *run_new(const char *state_dir, const char *id)
{
	struct petal_run *run = petal_xcalloc(1, sizeof(*run));
	snprintf(run->id, sizeof(run->id), "%s", id);
	run->dir = petal_run_dir(state_dir, id);
	run->journal = petal_run_journal_path(state_dir, id);
	run->lock_fd = run->journal_fd = -1;
	return run;
}

void petal_run_close(struct petal_run *run)
{
	if (!run)
		return;
	if (run->journal_fd >= 0)
		close(run->journal_fd);
	if (run->lock_fd >= 0)
		close(run->lock_fd); /* releases the flock */
	free(run->dir);
	free(run->journal);
	free(run->note);
	free(run);
}

int petal_run_create(const char *state_dir, const struct petal_run_start *start,
                     struct petal_run **out, struct petal_error *err)
{
	char *root = petal_run_root(state_dir);
	struct petal_run *run = NULL;
	char id[PETAL_RUN_ID_LEN + 1];
	int rc;

	*out = NULL;
	if ((rc = petal_mkdirs(root, 0700, err)))
		goto out_root;
	for (int tries = 0;; tries++) {
		if ((rc = petal_run_id_new(id, err)))
			goto out_root;
		run = run_new(state_dir, id);
		if (mkdir(run->dir, 0700) == 0)
			break;
		int e = errno;
		petal_run_close(run);
		run = NULL;
		if (e != EEXIST || tries >= 16) {
			rc = petal_fail(err, PETAL_EIO, "%s/%s: cannot create the run's directory: %s",
			                root, id, strerror(e));
			goto out_root;
		}
	}
	if ((rc = petal_fsync_dir(root, err)) || (rc = take_lock(run->dir, run->id, &run->lock_fd, err)))
		goto out_run;
	run->journal_fd = open(run->journal, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC |
	                       O_NOFOLLOW, 0600);
	if (run->journal_fd < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: cannot create the journal: %s", run->journal,
		                strerror(errno));
		goto out_run;
	}
	if ((rc = petal_fsync_dir(run->dir, err)))
		goto out_run;
	json_t *rec = json_pack("{s:s, s:i, s:I, s:s?, s:s?, s:s?}", "run", run->id, "journal", 1,
	                        "pid", (json_int_t)getpid(), "command", start->command, "seed",
	                        start->seed, "seed_hash", start->seed_hash);
	if (start->plan)
		json_object_set(rec, "plan", start->plan);
	if (start->options)
		json_object_set(rec, "options", start->options);
	rc = petal_run_record(run, "run-start", rec, err);
	json_decref(rec);
	if (rc)
		goto out_run;
	*out = run;
	run = NULL;
out_run:
	petal_run_close(run);
out_root:
	free(root);
	return rc;
}

/* Cut a torn last line (no newline: its write never returned) off the journal. */
static int cut_torn_tail(struct petal_run *run, struct petal_error *err)
{
	struct stat st;
	if (fstat(run->journal_fd, &st) != 0)
		return petal_fail(err, PETAL_EIO, "%s: %s", run->journal, strerror(errno));
	off_t end = st.st_size, keep = end;
	char c;
	while (keep > 0) {
		if (pread(run->journal_fd, &c, 1, keep - 1) != 1)
			return petal_fail(err, PETAL_EIO, "%s: cannot read: %s", run->journal,
			                  strerror(errno));
		if (c == '\n')
			break;
		keep--;
	}
	if (keep == end)
		return 0;
	if (ftruncate(run->journal_fd, keep) != 0 || fsync(run->journal_fd) != 0)
		return petal_fail(err, PETAL_EIO, "%s: cannot cut its torn last line: %s",
		                  run->journal, strerror(errno));
	run->note = petal_xasprintf("%s: a torn last line (%lld bytes, a write cut short) was "
	                            "cut off", run->journal, (long long)(end - keep));
	return 0;
}

int petal_run_open(const char *state_dir, const char *id, struct petal_run **out,
                   struct petal_error *err)
{
	struct petal_run *run;
	struct stat st;
	int rc;

	*out = NULL;
	if (!petal_run_id_valid(id))
		return petal_fail(err, PETAL_EINVAL, "'%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX)", id);
	run = run_new(state_dir, id);
	if (stat(run->dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		rc = petal_fail(err, PETAL_ENOENT, "no run %s in %s/runs", id, state_dir);
		goto out_run;
	}
	if ((rc = take_lock(run->dir, run->id, &run->lock_fd, err)))
		goto out_run;
	run->journal_fd = open(run->journal, O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (run->journal_fd < 0) {
		rc = petal_fail(err, errno == ENOENT ? PETAL_ENOENT : PETAL_EIO, "%s: %s",
		                run->journal, strerror(errno));
		goto out_run;
	}
	if ((rc = cut_torn_tail(run, err)))
		goto out_run;
	*out = run;
	return 0;
out_run:
	petal_run_close(run);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int petal_run_list(const char *state_dir, char ***ids, size_t *n, struct petal_error *err)
{
	char *root = petal_run_root(state_dir);
	DIR *d = opendir(root);
	struct dirent *e;
	size_t cap = 0;
	int rc = 0;

	*ids = NULL;
	*n = 0;
	if (!d) {
		if (errno != ENOENT)
			rc = petal_fail(err, PETAL_EIO, "%s: cannot list runs: %s", root, strerror(errno));
		goto out_root;
	}
	while ((e = readdir(d)))
		if (petal_run_id_valid(e->d_name))
			PETAL_PUSH(*ids, *n, cap, petal_xstrdup(e->d_name));
	closedir(d);
	if (*n)
		qsort(*ids, *n, sizeof(**ids), by_name);
out_root:
	free(root);
	return rc;
}
