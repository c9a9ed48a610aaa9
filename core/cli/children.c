/* Commands run side by side, each a petal of its own: see children.h. */
#define _GNU_SOURCE /* pipe2 */
#include "children.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "run_cli.h"

void petal_cli_child_globals(const struct petal_cli *cli, char **argv, size_t *n)
{
	if (cli->verbosity == 0)
		argv[(*n)++] = "--quiet";
	for (int v = 1; v < cli->verbosity && v < 4; v++)
		argv[(*n)++] = "--verbose";
	if (cli->output == PETAL_OUTPUT_JSON) {
		argv[(*n)++] = "--output";
		argv[(*n)++] = "json";
	}
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void become_child(const struct petal_cli_child *c, int out, int err, pid_t parent)
{
	static const char nope[] = "petal: cannot run myself (/proc/self/exe) for a build\n";

	setpgid(0, 0); /* the terminal's Ctrl-C reaches us only, and we pass it on once */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() != parent)
		_exit(128 + SIGTERM);
	/* a reader gone must not kill the child before it has cleaned up */
	signal(SIGPIPE, SIG_IGN);
	if (dup2(out, STDOUT_FILENO) < 0 || dup2(err, STDERR_FILENO) < 0)
		_exit(127);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execv("/proc/self/exe", c->argv);
	if (write(STDERR_FILENO, nope, sizeof(nope) - 1) < 0)
		_exit(127);
	_exit(127);
}

static int start(struct petal_cli *cli, struct petal_cli_child *c)
{
	int out[2], err[2];
	pid_t parent = getpid();

	c->pid = -1;
	c->fd[0] = c->fd[1] = -1;
	if (pipe2(out, O_CLOEXEC) != 0)
		goto fail;
	if (pipe2(err, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	fflush(NULL);
	c->pid = fork();
	if (c->pid == 0)
		become_child(c, out[1], err[1], parent);
	int e = errno;
	close(out[1]);
	close(err[1]);
	if (c->pid < 0) {
		close(out[0]);
		close(err[0]);
		errno = e;
		goto fail;
	}
	setpgid(c->pid, c->pid); /* both sides: no race with a signal right after fork */
	c->fd[0] = out[0];
	c->fd[1] = err[0];
	return 0;
fail:
	petal_cli_error(cli, "cannot start `%s`: %s", c->label, strerror(errno));
	c->status = 127;
	return -1;
}

/* One line of a child's stderr, to ours with its label. */
static void pass_line(const struct petal_cli *cli, const struct petal_cli_child *c,
                      int width, const char *s, size_t len)
{
	if (cli->output == PETAL_OUTPUT_JSON && len && s[0] == '{') {
		json_t *j = json_loadb(s, len, 0, NULL);
		if (json_is_object(j)) {
			json_object_set_new(j, "build", json_string(c->label));
			char *d = json_dumps(j, JSON_COMPACT | JSON_ENSURE_ASCII);
			if (d)
				fprintf(stderr, "%s\n", d);
			free(d);
			json_decref(j);
			fflush(stderr);
			return;
		}
		json_decref(j);
	}
	fprintf(stderr, "%-*s | %.*s\n", width, c->label, (int)len, s);
	fflush(stderr);
}

static void take(const struct petal_cli *cli, struct petal_cli_child *c, int which, int width)
{
	char buf[8192];
	ssize_t got = read(c->fd[which], buf, sizeof(buf));

	if (got < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (got <= 0) {
		close(c->fd[which]);
		c->fd[which] = -1;
		if (which == 1 && c->line.len) /* a last line without its newline */
			pass_line(cli, c, width, c->line.buf, c->line.len);
		c->line.len = 0;
		return;
	}
	if (which == 0) {
		petal_strbuf_add(&c->out, buf, (size_t)got);
		return;
	}
	petal_strbuf_add(&c->line, buf, (size_t)got);
	size_t from = 0;
	for (char *nl; (nl = memchr(c->line.buf + from, '\n', c->line.len - from));) {
		size_t end = (size_t)(nl - c->line.buf);
		pass_line(cli, c, width, c->line.buf + from, end - from);
		from = end + 1;
	}
	memmove(c->line.buf, c->line.buf + from, c->line.len - from);
	c->line.len -= from;
}

int petal_cli_children_run(struct petal_cli *cli, struct petal_cli_child *c, size_t n)
{
	int width = 0, failed = 0, passed = 0;
	size_t alive = 0;

	for (size_t i = 0; i < n; i++) {
		int w = (int)strlen(c[i].label);
		width = w > width ? w : width;
	}
	struct pollfd *pfd = petal_xcalloc(2 * n, sizeof(*pfd));
	petal_cli_signals_install();
	for (size_t i = 0; i < n; i++) {
		if (start(cli, &c[i]) != 0)
			failed = 1;
		else
			alive++;
	}
	while (alive) {
		if (petal_cli_cancel && !passed) {
			/* the one signal we got, to each: each releases what it launched */
			for (size_t i = 0; i < n; i++)
				if (c[i].pid > 0)
					kill(c[i].pid, (int)petal_cli_cancel);
			passed = 1;
			fprintf(stderr, "petal: interrupted: the builds release what they launched "
			        "(a second Ctrl-C ends them at once)\n");
		}
		size_t np = 0;
		for (size_t i = 0; i < n; i++)
			for (int k = 0; k < 2; k++)
				if (c[i].fd[k] >= 0)
					pfd[np++] = (struct pollfd){ .fd = c[i].fd[k], .events = POLLIN };
		if (np && poll(pfd, np, 200) > 0) {
			for (size_t i = 0; i < n; i++)
				for (int k = 0; k < 2; k++)
					for (size_t q = 0; q < np; q++)
						if (c[i].fd[k] >= 0 && pfd[q].fd == c[i].fd[k] && pfd[q].revents)
							take(cli, &c[i], k, width);
		} else if (!np) {
			petal_cli_nap(0.2);
		}
		for (size_t i = 0; i < n; i++) {
			int st;
			/* reaped once both pipes are at their end: nothing of its is lost */
			if (c[i].pid <= 0 || c[i].fd[0] >= 0 || c[i].fd[1] >= 0)
				continue;
			pid_t r = waitpid(c[i].pid, &st, 0);
			if (r < 0 && errno == EINTR)
				continue;
			c[i].status = r < 0 ? 127 : WIFEXITED(st) ? WEXITSTATUS(st)
			            : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : 127;
			c[i].pid = 0;
			alive--;
		}
	}
	petal_cli_signals_restore();
	free(pfd);
	return failed ? PETAL_EXIT_FAILURE : 0;
}

void petal_cli_children_release(struct petal_cli_child *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		petal_strbuf_release(&c[i].out);
		petal_strbuf_release(&c[i].line);
	}
}
