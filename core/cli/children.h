/* Commands run side by side, each a petal of its own (create --build-missing:
   `petal build-ami` and `petal cache build` at once).  A child is this very
   executable with its own argument vector, in its own process group, its
   standard output kept (its result) and its standard error passed on line
   by line with its label in front (a JSON line gains a "build" member).
   The first signal petal gets is passed to every child, which releases what
   it launched; if petal itself dies, each child gets SIGTERM.  */
#ifndef PETAL_CLI_CHILDREN_H
#define PETAL_CLI_CHILDREN_H

#include <sys/types.h>

#include "../util/util.h"
#include "cli.h"

struct petal_cli_child {
	const char *label;  /* "build-ami": in front of its lines */
	char **argv;        /* NULL-ended; argv[0] names it in messages */
	/* filled in */
	pid_t pid;
	int fd[2];          /* its stdout, its stderr; -1 once at their end */
	struct petal_strbuf out;
	struct petal_strbuf line; /* stderr up to its next newline */
	int status;         /* exit status; 128+N killed by signal N; 127 no exec */
};

/* Start them all and pass their lines on until each has ended.  0 when every one was
   started and waited for (look at each status), else an exit status
   (reported; the ones started were still waited for). */
int petal_cli_children_run(struct petal_cli *cli, struct petal_cli_child *c, size_t n);
void petal_cli_children_release(struct petal_cli_child *c, size_t n);

/* The global options a child repeats so that it speaks as we do
   (-q / -v..., --output json, --no-color): appended to argv at *n. */
void petal_cli_child_globals(const struct petal_cli *cli, char **argv, size_t *n);

#endif
