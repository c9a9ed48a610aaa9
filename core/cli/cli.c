/* What every command shares: messages, exit statuses, loading a seed and the
   plugin registry. */
#include "config.h"

#include "cli.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../plugin/host.h"
#include "../util/util.h"

static void __attribute__((format(printf, 4, 0)))
say(const struct petal_cli *cli, const char *color, const char *label, const char *fmt,
    va_list ap)
{
	/* the message carries text from outside: it cannot drive the terminal */
	struct petal_strbuf msg = PETAL_STRBUF_INIT;
	petal_strbuf_vprintf(&msg, fmt, ap);
	char *safe = petal_escape_text(petal_strbuf_str(&msg), PETAL_ESC_LINES);
	petal_strbuf_release(&msg);
	if (cli->color_err && color)
		fprintf(stderr, "%spetal: %s\033[0m%s\n", color, label, safe);
	else
		fprintf(stderr, "petal: %s%s\n", label, safe);
	free(safe);
}

void petal_cli_put_err(const char *text)
{
	char *safe = petal_escape_text(text, PETAL_ESC_LINES);
	fputs(safe, stderr);
	free(safe);
}

int petal_cli_subcommands(struct petal_cli *cli, const char *command, const char *usage_text,
                          const struct petal_cli_subcommand *table, size_t n, int argc,
                          char **argv)
{
	if (argc < 2) {
		fputs(usage_text, stderr);
		return PETAL_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "-h") || !strcmp(name, "--help") || !strcmp(name, "help")) {
		fputs(usage_text, stdout);
		return PETAL_EXIT_OK;
	}
	const char **names = petal_xcalloc(n + 1, sizeof(*names));
	for (size_t i = 0; i < n; i++) {
		names[i] = table[i].name;
		if (!strcmp(name, table[i].name)) {
			free(names);
			optind = 0; /* glibc: the subcommand runs getopt afresh */
			return table[i].run(cli, argc - 1, argv + 1);
		}
	}
	const char *near = petal_did_you_mean(name, names);
	const char *article = strchr("aeiou", command[0]) ? "an" : "a";
	if (near) {
		petal_cli_error(cli, "'%s' is not %s %s subcommand; did you mean '%s'?", name,
		                article, command, near);
	} else {
		struct petal_strbuf all = PETAL_STRBUF_INIT;
		for (size_t i = 0; i < n; i++)
			petal_strbuf_printf(&all, "%s%s", i == 0 ? "" : i + 1 == n ? " or " : ", ",
			                    table[i].name);
		petal_cli_error(cli, "'%s' is not %s %s subcommand: %s (see 'petal %s --help')",
		                name, article, command, petal_strbuf_str(&all), command);
		petal_strbuf_release(&all);
	}
	free(names);
	return PETAL_EXIT_USAGE;
}

void petal_cli_error(const struct petal_cli *cli, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	say(cli, "\033[1;31m", "error: ", fmt, ap);
	va_end(ap);
}

void petal_cli_warn(const struct petal_cli *cli, const char *fmt, ...)
{
	if (cli->verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	say(cli, "\033[1;33m", "warning: ", fmt, ap);
	va_end(ap);
}

void petal_cli_info(const struct petal_cli *cli, const char *fmt, ...)
{
	if (cli->verbosity < 1)
		return;
	va_list ap;
	va_start(ap, fmt);
	say(cli, NULL, "", fmt, ap);
	va_end(ap);
}

int petal_cli_exit_for(int code)
{
	switch (code) {
	case PETAL_OK:
		return PETAL_EXIT_OK;
	case PETAL_EINVAL:
		return PETAL_EXIT_USAGE;
	case PETAL_EPLUGIN:
	case PETAL_ENOTSUP:
		return PETAL_EXIT_PLUGIN;
	default:
		return PETAL_EXIT_FAILURE;
	}
}

int petal_cli_parse_output(const char *arg)
{
	if (!arg)
		return -1;
	if (strcmp(arg, "text") == 0)
		return PETAL_OUTPUT_TEXT;
	if (strcmp(arg, "json") == 0)
		return PETAL_OUTPUT_JSON;
	return -1;
}

int petal_cli_common(struct petal_cli *cli, int c, const char *arg)
{
	switch (c) {
	case 'v':
		cli->verbosity++;
		return 1;
	case 'q':
		cli->verbosity = 0;
		return 1;
	case 'C':
		cli->color = cli->color_err = 0;
		return 1;
	case 'o': {
		int o = petal_cli_parse_output(arg);
		if (o < 0) {
			petal_cli_error(cli, "--output takes 'text' or 'json', not '%s'", arg);
			return -1;
		}
		cli->output = o;
		return 1;
	}
	default:
		return 0;
	}
}

void petal_cli_print_json(json_t *j)
{
	json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	fputc('\n', stdout);
}

int petal_cli_load_seed(const struct petal_cli *cli, const char *path,
                        struct petal_seed **out)
{
	struct petal_diags diags = { 0 };
	struct petal_error err = { 0 };
	int rc = petal_seed_load(path, out, &diags, &err);
	if (rc == 0) {
		petal_diags_release(&diags);
		return 0;
	}
	size_t n = diags.n;
	if (n > 0) {
		char *text = petal_diags_format(&diags);
		petal_cli_put_err(text);
		free(text);
		petal_cli_error(cli, "%s: %zu problem%s; the seed was not used", path, n,
		                n == 1 ? "" : "s");
	} else {
		petal_cli_error(cli, "%s", err.msg[0] ? err.msg : petal_strerror(rc));
	}
	petal_diags_release(&diags);
	/* a seed that cannot be read is the caller's to fix, like an invalid one */
	return rc == PETAL_ENOMEM ? PETAL_EXIT_FAILURE : PETAL_EXIT_USAGE;
}

int petal_cli_registry(const struct petal_cli *cli, struct petal_registry *reg)
{
	struct petal_error err = { 0 };
	memset(reg, 0, sizeof(*reg));
	reg->host = cli->host;
	petal_registry_default_dirs(reg);
	int rc = petal_registry_scan(reg, &err);
	if (rc != 0) {
		petal_cli_error(cli, "%s", err.msg);
		return petal_cli_exit_for(rc);
	}
	return 0;
}

const char *petal_cli_data_dir(void)
{
	const char *d = getenv("PETAL_DATA_DIR");
	return d && *d ? d : PETAL_DATADIR;
}

int petal_cli_region(const struct petal_cli *cli, const char *flag,
                     const struct petal_seed *seed, const char **region)
{
	*region = NULL;
	if (flag) {
		size_t n = strlen(flag);
		if (n == 0 || n > 63 || strspn(flag, "abcdefghijklmnopqrstuvwxyz0123456789-") != n ||
		    flag[0] == '-') {
			petal_cli_error(cli, "--region takes a region name such as eu-west-2, not '%s'",
			                flag);
			return PETAL_EXIT_USAGE;
		}
		*region = flag;
	} else if (seed && seed->region && *seed->region) {
		*region = seed->region;
	}
	/* NULL: the cloud plugin's own chain decides (aws: AWS_REGION, ...) */
	petal_host_bind_region(cli->host, *region);
	return 0;
}
