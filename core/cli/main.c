/* petal: from a seed to a ready cluster.  Parses the global options and
   hands the rest to one command (git's builtin/ style). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cli.h"

struct command {
	const char *name;
	int (*run)(struct petal_cli *cli, int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "plan", cmd_plan, "compose a seed into a build plan with time and cost estimates" },
	{ "validate", cmd_validate, "check a seed; silent and exit 0 when it is good" },
	{ "plugins", cmd_plugins, "list the tier and cloud plugins and their state" },
	{ "cache", cmd_cache, "the binary-cache mirror: init, status (hits, misses), clear, build" },
	{ "create", cmd_create, "create the seed's cluster and follow it until it is ready" },
	{ "list", cmd_list, "the clusters petal created: status, seed, hash, age" },
	{ "status", cmd_status, "one cluster: its status, head node, seed, why it failed" },
	{ "delete", cmd_delete, "delete a cluster petal created, and its node files" },
	{ "build-ami", cmd_build_ami, "bake the seed's image packages into a machine image" },
	{ "runs", cmd_runs, "list runs and their state; one run's steps and what it holds" },
	{ "resume", cmd_resume, "take up a run petal left (detached, or after a crash)" },
	{ "logs", cmd_logs, "a run's build log, as its machine uploads it (--follow)" },
	{ "gc", cmd_gc, "release what ended or dead runs still hold (instances, images)" },
	{ "ami", cmd_ami, "petal's images: list (size, cost), delete, copy, prune; base image" },
};

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: petal [-v | -q] [--output text|json] COMMAND [ARGS]\n"
	        "       petal --help | --version\n"
	        "\n"
	        "petal turns a seed (a YAML file: cluster, compute, software) into an AWS\n"
	        "ParallelCluster cluster whose Spack software arrives by the fastest tier:\n"
	        "a custom AMI, a binary cache in S3, containers, or a build from source.\n"
	        "\n"
	        "Commands:\n");
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(commands); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	        "\n"
	        "Options:\n"
	        "  -v, --verbose        say more (twice: debug)\n"
	        "  -q, --quiet          say only errors\n"
	        "  -o, --output FORMAT  text (default) or json (plugin messages: JSON lines\n"
	        "                       on stderr)\n"
	        "      --no-color       never colour (NO_COLOR in the environment does too)\n"
	        "  -h, --help           this help; 'petal COMMAND --help' for a command's\n"
	        "  -V, --version        print the version and the plugin ABI\n"
	        "\n"
	        "Start with:  petal plan -t seeds/quickstart.yaml\n"
	        "Exit status: 0 success, 1 the operation failed, 2 bad usage or an invalid\n"
	        "seed, 3 no plugin could serve or a plugin misbehaved.  See petal(1),\n"
	        "petal-seed(5) and petal-plugin(7).\n");
}

static int want_color(int fd)
{
	const char *nc = getenv("NO_COLOR");
	if (nc && *nc)
		return 0;
	const char *term = getenv("TERM");
	if (term && strcmp(term, "dumb") == 0)
		return 0;
	return isatty(fd);
}

static int petal_main(struct petal_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "verbose", no_argument, NULL, 'v' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "output", required_argument, NULL, 'o' },
		{ "no-color", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+vqo:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'v':
			cli->verbosity++;
			break;
		case 'q':
			cli->verbosity = 0;
			break;
		case 'o': {
			int o = petal_cli_parse_output(optarg);
			if (o < 0) {
				petal_cli_error(cli, "--output takes 'text' or 'json', not '%s'", optarg);
				return PETAL_EXIT_USAGE;
			}
			cli->output = o;
			break;
		}
		case 'C':
			cli->color = cli->color_err = 0;
			break;
		case 'h':
			usage(stdout);
			return PETAL_EXIT_OK;
		case 'V':
			printf("petal %s (plugin ABI %d)\n", PACKAGE_VERSION, PETAL_PLUGIN_ABI);
			return PETAL_EXIT_OK;
		default:
			if (optopt)
				petal_cli_error(cli, "unknown or incomplete option '-%c'; see 'petal --help'",
				                optopt);
			else
				petal_cli_error(cli, "unknown option '%s'; see 'petal --help'",
				                argv[optind - 1]);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return PETAL_EXIT_USAGE;
	}
	petal_host_set_verbosity(cli->host, cli->verbosity >= 3 ? PETAL_LOG_DEBUG
	                         : cli->verbosity == 2 ? PETAL_LOG_INFO
	                         : cli->verbosity == 1 ? PETAL_LOG_WARN
	                                              : PETAL_LOG_ERROR);

	int at = optind;
	const char *name = argv[at];
	const char *names[PETAL_ARRAY_SIZE(commands) + 1];
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(commands); i++) {
		names[i] = commands[i].name;
		if (strcmp(name, commands[i].name) == 0) {
			optind = 0; /* glibc: the command runs getopt afresh */
			opterr = 1;
			return commands[i].run(cli, argc - at, argv + at);
		}
	}
	names[PETAL_ARRAY_SIZE(commands)] = NULL;
	const char *near = petal_did_you_mean(name, names);
	if (near)
		petal_cli_error(cli, "'%s' is not a petal command; did you mean '%s'?", name, near);
	else
		petal_cli_error(cli, "'%s' is not a petal command; see 'petal --help'", name);
	return PETAL_EXIT_USAGE;
}

/* A standard descriptor closed at start gets /dev/null opened the wrong way
   round (gnulib's stdopen): no file petal opens can land on it by accident,
   and a write to a closed stdout still fails, as it should. */
static int guard_std_fds(void)
{
	for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		int null = open("/dev/null", fd == STDIN_FILENO ? O_WRONLY : O_RDONLY);
		if (null < 0)
			return -1;
		if (null != fd) {
			if (dup2(null, fd) < 0)
				return -1;
			close(null);
		}
	}
	return 0;
}

/* Output that did not reach its file is a failure (gnulib's close_stdout):
   a full disk, /dev/full, a closed stdout.  The reason is known when the
   last flush is what failed; an earlier failure of stdio lost it. */
static int close_stdout(int status, FILE *orig)
{
	int failed = ferror(stdout);
	errno = 0;
	if (fflush(stdout) != 0)
		failed = 1;
	int e = errno;
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		e = errno;
	}
	stdout = orig; /* not the closed filter: a late printf (an exit handler) fails, no more */
	if (failed) {
		if (e)
			fprintf(stderr, "petal: error writing standard output: %s\n", strerror(e));
		else
			fprintf(stderr, "petal: error writing standard output\n");
		if (status == PETAL_EXIT_OK)
			status = PETAL_EXIT_FAILURE;
	}
	if ((ferror(stderr) || fflush(stderr) != 0) && status == PETAL_EXIT_OK)
		status = PETAL_EXIT_FAILURE;
	return status;
}

int main(int argc, char **argv)
{
	if (guard_std_fds() != 0)
		return PETAL_EXIT_FAILURE;
	struct petal_cli cli = {
		.argv0 = "petal",
		.verbosity = 1,
		.output = PETAL_OUTPUT_TEXT,
		.color = want_color(STDOUT_FILENO),
		.color_err = want_color(STDERR_FILENO),
	};
	FILE *orig = stdout;
	if (petal_cli_filter_stdout(&cli) != 0) {
		fprintf(stderr, "petal: cannot set up standard output: %s\n", strerror(errno));
		return PETAL_EXIT_FAILURE;
	}
	cli.host = petal_host_new();
	petal_cli_sink_install(&cli);
	int status = petal_main(&cli, argc, argv);
	petal_host_free(cli.host);
	return close_stdout(status, orig);
}
