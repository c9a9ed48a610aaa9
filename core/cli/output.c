/* Everything petal prints on stdout passes one filter: text from outside
   (a mirror's index, a seed value, a cloud's message) cannot drive the
   terminal.  Text output keeps its lines and, on a terminal, petal's own
   colours; JSON keeps its bytes but DEL and C1, which jansson leaves raw. */
#define _GNU_SOURCE /* fopencookie */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "../util/util.h"
#include "cli.h"

struct filter {
	const struct petal_cli *cli;
	struct petal_escaper esc;
};

static int flags_for(const struct petal_cli *cli)
{
	if (cli->output == PETAL_OUTPUT_JSON)
		return PETAL_ESC_JSON;
	return PETAL_ESC_LINES | (cli->color ? PETAL_ESC_SGR : 0);
}

static ssize_t put_out(struct petal_strbuf *out)
{
	int rc = petal_write_fd(STDOUT_FILENO, petal_strbuf_str(out), out->len);
	int e = errno;
	petal_strbuf_release(out);
	errno = e;
	return rc;
}

static ssize_t filter_write(void *arg, const char *buf, size_t n)
{
	struct filter *f = arg;
	struct petal_strbuf out = PETAL_STRBUF_INIT;
	f->esc.flags = flags_for(f->cli);
	petal_escape_feed(&f->esc, &out, buf, n);
	return put_out(&out) != 0 ? -1 : (ssize_t)n;
}

static int filter_close(void *arg)
{
	struct filter *f = arg;
	struct petal_strbuf out = PETAL_STRBUF_INIT;
	petal_escape_finish(&f->esc, &out);
	int rc = put_out(&out) != 0 ? -1 : 0;
	free(f);
	if (close(STDOUT_FILENO) != 0 && rc == 0)
		rc = -1;
	return rc;
}

int petal_cli_filter_stdout(const struct petal_cli *cli)
{
	struct filter *f = petal_xcalloc(1, sizeof(*f));
	f->cli = cli;
	cookie_io_functions_t io = { .write = filter_write, .close = filter_close };
	FILE *fp = fopencookie(f, "w", io);
	if (!fp) {
		free(f);
		return -1;
	}
	setvbuf(fp, NULL, isatty(STDOUT_FILENO) ? _IOLBF : _IOFBF, BUFSIZ);
	stdout = fp; /* glibc: stdout is a variable, the usual way to wrap it */
	return 0;
}
