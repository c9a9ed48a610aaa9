/* petal validate: the seed checks alone.  Silent and 0 on a good seed. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cli.h"

static const char usage_text[] =
	"usage: petal validate [-t] SEED [--output text|json] [-v | -q]\n"
	"\n"
	"Check a seed against petal-seed(5): every problem in the file is reported in\n"
	"one run, each as FILE:LINE:COL: KEY.PATH: what was wrong, what was expected.\n"
	"A good seed prints nothing and exits 0 (with -v: its hash and packages).\n"
	"\n"
	"  -t, --seed SEED   the seed file (or give it as the only argument)\n"
	"  -o, --output F    text (default) or json: {\"valid\", \"seed\", \"hash\", \"problems\"}\n"
	"\n"
	"Exit status: 0 good, 2 problems found or bad usage.\n";

static json_t *diags_json(const struct petal_diags *d)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < d->n; i++)
		json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:s, s:s}",
		                                     "file", d->file ? d->file : "",
		                                     "line", d->items[i].line,
		                                     "col", d->items[i].col,
		                                     "path", d->items[i].path ? d->items[i].path : "",
		                                     "message", d->items[i].message));
	return arr;
}

int cmd_validate(struct petal_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	const char *path = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (c == 't') {
			path = optarg;
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		} else {
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (!path && optind < argc)
		path = argv[optind++];
	if (!path || optind < argc) {
		petal_cli_error(cli, path ? "validate takes one seed" : "validate needs a seed: petal validate -t SEED");
		return PETAL_EXIT_USAGE;
	}

	struct petal_seed *seed = NULL;
	struct petal_diags diags = { 0 };
	struct petal_error err = { 0 };
	int rc = petal_seed_load(path, &seed, &diags, &err);
	int status = PETAL_EXIT_OK;
	if (rc != 0 && diags.n == 0) {
		petal_cli_error(cli, "%s", err.msg[0] ? err.msg : petal_strerror(rc));
		status = rc == PETAL_ENOMEM ? PETAL_EXIT_FAILURE : PETAL_EXIT_USAGE;
		goto out;
	}
	if (rc != 0)
		status = PETAL_EXIT_USAGE;

	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:b, s:s, s:o, s:o}", "valid", rc == 0, "seed", path,
		                      "hash", rc == 0 ? json_string(seed->hash) : json_null(),
		                      "problems", diags_json(&diags));
		petal_cli_print_json(j);
		json_decref(j);
	} else if (rc != 0) {
		char *text = petal_diags_format(&diags);
		petal_cli_put_err(text);
		free(text);
	} else if (cli->verbosity >= 2) {
		printf("%s: valid, %zu package%s, seed hash %s\n", path, seed->n_pkgs,
		       seed->n_pkgs == 1 ? "" : "s", seed->hash);
	}
out:
	petal_seed_free(seed);
	petal_diags_release(&diags);
	return status;
}
