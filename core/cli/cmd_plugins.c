/* petal plugins list: what the registry found, and why a file is not in use.
   Listing scans and checks every candidate but runs no plugin's init. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "cli.h"

static const char usage_text[] =
	"usage: petal plugins list [--all] [--output text|json]\n"
	"\n"
	"List the tier and cloud plugins petal found, in search order: name, kind,\n"
	"version, ABI, rank (tiers are asked to claim packages in rank order, lowest\n"
	"first), state and path.  Listing checks each file's descriptor without\n"
	"running the plugin.\n"
	"\n"
	"  -a, --all         also list files that are not in use, each with its reason:\n"
	"                      shadowed  an earlier directory has the same kind and name\n"
	"                                (first found wins; the file is never opened)\n"
	"                      masked    a symlink to /dev/null named <kind>_<name>.so\n"
	"                                hides that plugin in every later directory\n"
	"                      rejected  the file failed a check: not ELF, no petal_plugin\n"
	"                                symbol, bad magic, another ABI, a name that does\n"
	"                                not match the file, missing ops, or unsafe\n"
	"                                permissions (group/world-writable file or\n"
	"                                directory, or owned by another user)\n"
	"  -o, --output F    text (default) or json:\n"
	"                      {\"plugins\": [{\"name\", \"kind\", \"version\", \"abi\", \"rank\",\n"
	"                      \"path\", \"state\", \"reason\", \"origin\"}], \"search_path\": [...]}\n"
	"\n"
	"Search path: PETAL_PLUGIN_PATH (':'-separated) when set, replacing all of:\n"
	"  user      $XDG_DATA_HOME/petal/plugins or ~/.local/share/petal/plugins\n"
	"  site      " PETAL_SITE_PLUGINDIR "\n"
	"  builtin   " PETAL_PLUGINDIR "\n"
	"A plugin file is named <kind>_<name>.so (kind tier or cloud; '_' in the file\n"
	"stands for '-' in the name).  See petal-plugin(7) to write one.\n"
	"\n"
	"Exit status: 0 listed (even with rejected files), 2 bad usage.\n";

/* The kind to show: the descriptor's when it was readable, else the file's. */
static const char *entry_kind(const struct petal_entry *e)
{
	const char *k = e->have_desc ? petal_kind_name(e->kind) : NULL;

	return k ? k : e->file_kind;
}

static int entry_has_rank(const struct petal_entry *e)
{
	return e->have_desc && e->kind == PETAL_KIND_TIER;
}

static json_t *str_or_null(const char *s)
{
	return s ? json_string(s) : json_null();
}

static void list_json(const struct petal_registry *reg, int all)
{
	json_t *root = json_object(), *plugins = json_array(), *dirs = json_array();
	size_t i;

	for (i = 0; i < reg->n; i++) {
		const struct petal_entry *e = &reg->entries[i];
		json_t *o;

		if (!all && e->state != PETAL_ENTRY_ACTIVE)
			continue;
		o = json_object();
		json_object_set_new(o, "name", json_string(petal_entry_name(e)));
		json_object_set_new(o, "kind", str_or_null(entry_kind(e)));
		json_object_set_new(o, "version", str_or_null(e->have_desc ? e->version : NULL));
		json_object_set_new(o, "abi", e->abi >= 0 ? json_integer(e->abi) : json_null());
		json_object_set_new(o, "rank",
		                    entry_has_rank(e) ? json_integer(e->rank) : json_null());
		json_object_set_new(o, "path", json_string(e->path));
		json_object_set_new(o, "state", json_string(petal_entry_state_name(e->state)));
		json_object_set_new(o, "reason", str_or_null(e->reason));
		json_object_set_new(o, "origin", json_string(petal_dir_origin_name(e->origin)));
		json_array_append_new(plugins, o);
	}
	for (i = 0; i < reg->n_dirs; i++)
		json_array_append_new(dirs, json_string(reg->dirs[i]));
	json_object_set_new(root, "plugins", plugins);
	json_object_set_new(root, "search_path", dirs);
	petal_cli_print_json(root);
	json_decref(root);
}

enum { COL_NAME, COL_KIND, COL_VERSION, COL_ABI, COL_RANK, COL_STATE, COL_PATH, N_COLS };

/* One row of the table, each cell owned by the row. */
static void row_cells(const struct petal_entry *e, char *cells[N_COLS])
{
	const char *kind = entry_kind(e);

	cells[COL_NAME] = petal_xstrdup(petal_entry_name(e));
	cells[COL_KIND] = petal_xstrdup(kind ? kind : "-");
	cells[COL_VERSION] = petal_xstrdup(e->have_desc && e->version ? e->version : "-");
	cells[COL_ABI] = e->abi >= 0 ? petal_xasprintf("%ld", e->abi) : petal_xstrdup("-");
	cells[COL_RANK] = entry_has_rank(e) ? petal_xasprintf("%d", e->rank)
	                                    : petal_xstrdup("-");
	cells[COL_STATE] = petal_xstrdup(petal_entry_state_name(e->state));
	cells[COL_PATH] = petal_xstrdup(e->path);
}

/* Cells padded to their column; the last one unpadded, so no line ends in
   spaces. */
static void print_row(const char *const cells[N_COLS], const size_t width[N_COLS])
{
	size_t c;

	for (c = 0; c + 1 < N_COLS; c++)
		printf("%-*s  ", (int)width[c], cells[c]);
	printf("%s\n", cells[N_COLS - 1]);
}

static void list_text(const struct petal_registry *reg, int all)
{
	static const char *const head[N_COLS] = {
		"NAME", "KIND", "VERSION", "ABI", "RANK", "STATE", "PATH",
	};
	size_t width[N_COLS], i, c, shown = 0, hidden = 0;
	char *(*rows)[N_COLS] = petal_xcalloc(reg->n ? reg->n : 1, sizeof(*rows));
	const struct petal_entry **which = petal_xcalloc(reg->n ? reg->n : 1, sizeof(*which));

	for (c = 0; c < N_COLS; c++)
		width[c] = strlen(head[c]);
	for (i = 0; i < reg->n; i++) {
		const struct petal_entry *e = &reg->entries[i];

		if (!all && e->state != PETAL_ENTRY_ACTIVE) {
			hidden++;
			continue;
		}
		which[shown] = e;
		row_cells(e, rows[shown]);
		for (c = 0; c < N_COLS; c++)
			if (strlen(rows[shown][c]) > width[c])
				width[c] = strlen(rows[shown][c]);
		shown++;
	}

	if (shown > 0) {
		print_row(head, width);
		for (i = 0; i < shown; i++) {
			print_row((const char *const *)rows[i], width);
			if (which[i]->reason && which[i]->state != PETAL_ENTRY_ACTIVE)
				printf("    %s\n", which[i]->reason);
			for (c = 0; c < N_COLS; c++)
				free(rows[i][c]);
		}
	} else {
		printf("no plugins found%s\n", hidden ? " in use" : "");
	}
	if (hidden > 0)
		printf("(%zu more not in use: shadowed, masked or rejected; see --all)\n", hidden);
	if (all || shown == 0) {
		printf("search path%s:\n", getenv("PETAL_PLUGIN_PATH") ? " (PETAL_PLUGIN_PATH)" : "");
		for (i = 0; i < reg->n_dirs; i++)
			printf("  %-8s %s\n", petal_dir_origin_name(reg->dir_origin[i]),
			       reg->dirs[i]);
	}
	free(rows);
	free(which);
}

int cmd_plugins(struct petal_cli *cli, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "all", no_argument, NULL, 'a' },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	struct petal_registry reg;
	int all = 0, c, rc;

	while ((c = getopt_long(argc, argv, "a" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);

		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (c == 'a') {
			all = 1;
		} else if (c == 'h') {
			fputs(usage_text, stdout);
			return PETAL_EXIT_OK;
		} else {
			fputs(usage_text, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	/* "list" is the only subcommand, and the default. */
	if (optind < argc && strcmp(argv[optind], "list") != 0) {
		static const char *const subcommands[] = { "list", NULL };
		const char *near = petal_did_you_mean(argv[optind], subcommands);

		petal_cli_error(cli, "'%s' is not a 'petal plugins' subcommand%s%s%s", argv[optind],
		                near ? "; did you mean '" : "; try 'petal plugins list'",
		                near ? near : "", near ? "'?" : "");
		return PETAL_EXIT_USAGE;
	}
	if (optind < argc)
		optind++;
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; see 'petal plugins --help'",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}

	rc = petal_cli_registry(cli, &reg);
	if (rc != 0)
		return rc;
	if (cli->output == PETAL_OUTPUT_JSON)
		list_json(&reg, all);
	else
		list_text(&reg, all);
	petal_registry_release(&reg);
	return PETAL_EXIT_OK;
}
