/* tests: tests/net/fault_server.py as a child process.  Its counters are
   read from its --stats-file, not through the client under test, so
   counting never disturbs what is counted. */
#define _GNU_SOURCE
#include "config.h"

#include "faultsrv.h"

#include <errno.h>
#include <jansson.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char *path_in(const struct faultsrv *s, const char *name)
{
	char *p = NULL;
	if (asprintf(&p, "%s/%s", s->dir, name) < 0)
		abort();
	return p;
}

int faultsrv_start(struct faultsrv *s, const char *const *extra)
{
	const char *top = getenv("top_srcdir");
	const char *tmpdir = getenv("TMPDIR");
	char script[1024];
	const char *argv[32];
	size_t n = 0;
	memset(s, 0, sizeof(*s));
	snprintf(script, sizeof(script), "%s/tests/net/fault_server.py", top ? top : ".");
	snprintf(s->dir, sizeof(s->dir), "%s/petal-http-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	if (!mkdtemp(s->dir))
		return -1;
	char *port_file = path_in(s, "port");
	char *stats_file = path_in(s, "stats.json");
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--stats-file";
	argv[n++] = stats_file;
	argv[n++] = "--stall-s";
	argv[n++] = "8";
	for (size_t i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		goto out_files;
	if (s->pid == 0) {
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	for (int i = 0; i < 200; i++) { /* python starts in well under 10 s */
		FILE *f = fopen(port_file, "r");
		int status;
		if (f) {
			int ok = fscanf(f, "%d", &s->port) == 1;
			fclose(f);
			if (ok && s->port > 0) {
				free(port_file);
				free(stats_file);
				return 0;
			}
		}
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			fprintf(stderr, "\n  %s exited before listening\n", script);
			s->pid = 0;
			goto out_files;
		}
		nanosleep(&(struct timespec){ .tv_nsec = 50000000 }, NULL);
	}
	fprintf(stderr, "\n  %s did not listen within 10 s\n", script);
	faultsrv_stop(s);
out_files:
	free(port_file);
	free(stats_file);
	return -1;
}

void faultsrv_stop(struct faultsrv *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		waitpid(s->pid, NULL, 0);
	}
	s->pid = 0;
	if (s->dir[0]) {
		static const char *const files[] = { "port", "stats.json", "stats.json.tmp" };
		for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
			char *p = path_in(s, files[i]);
			unlink(p);
			free(p);
		}
		rmdir(s->dir);
		s->dir[0] = '\0';
	}
}

char *faultsrv_url(const struct faultsrv *s, const char *path)
{
	char *u = NULL;
	if (asprintf(&u, "http://127.0.0.1:%d%s", s->port, path) < 0)
		abort();
	return u;
}

static json_t *stats(const struct faultsrv *s)
{
	char *p = path_in(s, "stats.json");
	json_t *j = json_load_file(p, 0, NULL);
	free(p);
	return j;
}

long faultsrv_count(const struct faultsrv *s, const char *path)
{
	json_t *j = stats(s);
	if (!j)
		return 0; /* no file yet: nothing was asked */
	json_t *v = json_object_get(json_object_get(j, "paths"), path);
	long n = v ? (long)json_integer_value(v) : 0;
	json_decref(j);
	return n;
}

long faultsrv_connections(const struct faultsrv *s)
{
	json_t *j = stats(s);
	if (!j)
		return 0;
	long n = (long)json_integer_value(json_object_get(j, "connections"));
	json_decref(j);
	return n;
}
