/* The command line: shared options, output and exit statuses. */
#ifndef PETAL_CLI_H
#define PETAL_CLI_H

#include <stdio.h>

#include <jansson.h>

#include "../plugin/registry.h"
#include "../seed/seed.h"

/* Exit statuses (documented in petal(1)). */
enum petal_exit {
	PETAL_EXIT_OK = 0,
	PETAL_EXIT_FAILURE = 1, /* the operation failed (I/O, cloud, network) */
	PETAL_EXIT_USAGE = 2,   /* bad command line, or an invalid seed */
	PETAL_EXIT_PLUGIN = 3,  /* plugins: none could serve, or one misbehaved */
};

enum petal_output { PETAL_OUTPUT_TEXT = 0, PETAL_OUTPUT_JSON = 1 };

/* Options every command accepts, read by petal_cli_global(). */
struct petal_cli {
	const char *argv0;
	int verbosity;        /* 0 quiet, 1 normal, 2 verbose (-v), 3 debug (-vv) */
	enum petal_output output;
	int color;            /* stdout is a terminal and NO_COLOR is unset */
	int color_err;        /* the same for stderr */
	struct petal_host *host; /* the plugins' host (core/plugin/host.h), its sink
	                            set from --output (core/cli/sink.c) */
};

/* A command: cmd_<name>(cli, argc, argv) with argv[0] the command name. */
int cmd_plan(struct petal_cli *cli, int argc, char **argv);
int cmd_validate(struct petal_cli *cli, int argc, char **argv);
int cmd_plugins(struct petal_cli *cli, int argc, char **argv);
int cmd_cache(struct petal_cli *cli, int argc, char **argv);
int cmd_runs(struct petal_cli *cli, int argc, char **argv);
int cmd_build_ami(struct petal_cli *cli, int argc, char **argv);
int cmd_create(struct petal_cli *cli, int argc, char **argv);
int cmd_list(struct petal_cli *cli, int argc, char **argv);
int cmd_status(struct petal_cli *cli, int argc, char **argv);
int cmd_delete(struct petal_cli *cli, int argc, char **argv);
int cmd_resume(struct petal_cli *cli, int argc, char **argv);
int cmd_gc(struct petal_cli *cli, int argc, char **argv);
int cmd_logs(struct petal_cli *cli, int argc, char **argv);
int cmd_ami(struct petal_cli *cli, int argc, char **argv);

/* Options every command also takes after its name; 'h' is the command's. */
#define PETAL_CLI_COMMON_OPTIONS                                  \
	{ "verbose", no_argument, NULL, 'v' },                    \
	{ "quiet", no_argument, NULL, 'q' },                      \
	{ "output", required_argument, NULL, 'o' },               \
	{ "no-color", no_argument, NULL, 'C' },                   \
	{ "help", no_argument, NULL, 'h' }
#define PETAL_CLI_COMMON_SHORT "vqo:h"
/* Apply one of the common options: 1 when handled, 0 when not one of them,
   -1 when its argument is bad (already reported). */
int petal_cli_common(struct petal_cli *cli, int c, const char *arg);

/* A command made of subcommands (petal ami, petal cache): argv[1] names one
   of table[0..n), which runs with argv + 1; none, -h, --help or help print
   usage_text; an unknown one is an error that names the near one, or all. */
struct petal_cli_subcommand {
	const char *name;
	int (*run)(struct petal_cli *cli, int argc, char **argv);
};
int petal_cli_subcommands(struct petal_cli *cli, const char *command, const char *usage_text,
                          const struct petal_cli_subcommand *table, size_t n, int argc,
                          char **argv);

/* Report an error as "petal: <msg>" (red on a terminal). */
void petal_cli_error(const struct petal_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* "petal: warning: <msg>" (yellow on a terminal); not with -q. */
void petal_cli_warn(const struct petal_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void petal_cli_info(const struct petal_cli *cli, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Put lines of text from outside (diagnostics) on stderr, escaped. */
void petal_cli_put_err(const char *text);
/* Map a PETAL_E* code to an exit status. */
int petal_cli_exit_for(int code);
/* Parse --output's argument; -1 when neither text nor json. */
int petal_cli_parse_output(const char *arg);
/* Plugins' log and progress through cli->host to stderr: text, or JSON
   lines with --output json (sink.c); read cli->output at each line. */
void petal_cli_sink_install(struct petal_cli *cli);
/* Put the escaping filter over stdout (output.c); -1 when it cannot. */
int petal_cli_filter_stdout(const struct petal_cli *cli);
/* Print JSON to stdout, indented, with a newline. */
void petal_cli_print_json(json_t *j);

/* Load a seed, printing every diagnostic to stderr; exit status or 0. */
int petal_cli_load_seed(const struct petal_cli *cli, const char *path,
                        struct petal_seed **out);
/* Build the plugin registry (scan only; no init). */
int petal_cli_registry(const struct petal_cli *cli, struct petal_registry *reg);
/* The data directory: PETAL_DATA_DIR, else the installed one. */
const char *petal_cli_data_dir(void);

/* The one way a command picks the region it asks a cloud in: --region
   (`flag`, checked here), else the seed's cluster.region, else none, and
   then the cloud plugin's own chain (aws: AWS_REGION, AWS_DEFAULT_REGION,
   the profile's region).  The answer is bound as the host setting "region"
   (borrowed from flag or seed: unbind with petal_host_bind_region(NULL)
   before freeing them).  0, or PETAL_EXIT_USAGE for a malformed --region
   (reported). */
int petal_cli_region(const struct petal_cli *cli, const char *flag,
                     const struct petal_seed *seed, const char **region);

#endif
