/* tests: start and stop tests/net/fault_server.py, read its counters. */
#ifndef PETAL_TESTS_FAULTSRV_H
#define PETAL_TESTS_FAULTSRV_H

#include <sys/types.h>

struct faultsrv {
	pid_t pid;
	int port;
	char dir[256]; /* temporary directory holding the port file */
};

/* Start the server with extra arguments (NULL-terminated, may be NULL);
   0 once it listens. */
int faultsrv_start(struct faultsrv *s, const char *const *extra);
void faultsrv_stop(struct faultsrv *s);
/* http://127.0.0.1:PORT<path>, malloc'd */
char *faultsrv_url(const struct faultsrv *s, const char *path);
/* Requests the server saw for a path (query left aside); -1 on error. */
long faultsrv_count(const struct faultsrv *s, const char *path);
/* TCP connections it accepted so far; -1 on error. */
long faultsrv_connections(const struct faultsrv *s);

#endif
