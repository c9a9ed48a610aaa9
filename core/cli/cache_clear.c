/* petal cache clear: remove specs older than AGE through core/cache's clear
   plan, then read the mirror back to confirm that its index and its objects
   are what the plan said would be left. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cache_cli.h"

static const char clear_usage[] =
	"usage: petal cache clear --older-than AGE [--dry-run] (-t SEED | --url URL)\n"
	"                         [--region R] [--output text|json]\n"
	"\n"
	"Remove the specs dated before now - AGE: their spec manifests (v3) or spec\n"
	"files (v2) and the tarballs and blobs no remaining spec uses, then write an\n"
	"index in the same layout that lists what is left, so that Spack and 'petal\n"
	"cache status' agree afterwards.  The new index goes up first: a reader never\n"
	"sees an index that names something already deleted.\n"
	"\n"
	"  --older-than AGE  90d, 12h, 1h30m, 45m, 30s; at most " PETAL_DURATION_MAX_TEXT "\n"
	"  --dry-run         list what would go; change nothing (-v: every object too)\n"
	"  -t, --seed SEED   the mirror of the seed's software.binary_cache\n"
	"  --url URL         the mirror: s3://bucket/prefix or file:///abs/dir\n"
	"  --region R        the region an s3:// mirror is asked in: this, else the\n"
	"                    seed's cluster.region, else AWS_REGION, then\n"
	"                    AWS_DEFAULT_REGION, then the AWS profile's region\n"
	"  -o, --output F    text (default) or json\n"
	"\n"
	"A spec is dated by its installation time in the index, else by when its spec\n"
	"manifest or spec file was written; an undated spec is never cleared.  An old\n"
	"spec that a kept spec links to or runs stays (removing it would break the\n"
	"kept one); a blob shared with a kept spec stays.  If the mirror's index\n"
	"changes while clear runs (a push), nothing is deleted: run it again.\n"
	"\n"
	"Examples:\n"
	"  petal cache clear --older-than 90d --dry-run -t seeds/binary-cache.yaml\n"
	"  petal cache clear --older-than 180d --url s3://my-lab-spack-cache/bio/cache\n"
	"\n"
	"Exit status: 0 done (also when nothing was old enough), 1 the mirror could not\n"
	"be read or changed, or did not read back as planned, 2 bad usage, 3 no cloud\n"
	"plugin serves the URL.\n";

struct clear_args {
	const char *seed, *url, *older_than, *region;
	long age;
	int dry_run;
};

static int clear_parse(struct petal_cli *cli, int argc, char **argv, struct clear_args *a)
{
	enum { OPT_URL = 256, OPT_OLDER, OPT_DRY, OPT_REGION };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "url", required_argument, NULL, OPT_URL },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "dry-run", no_argument, NULL, OPT_DRY },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "t:n" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 't': a->seed = optarg; break;
		case OPT_URL: a->url = optarg; break;
		case OPT_OLDER: a->older_than = optarg; break;
		case OPT_REGION: a->region = optarg; break;
		case 'n':
		case OPT_DRY: a->dry_run = 1; break;
		case 'h':
			fputs(clear_usage, stdout);
			return -1;
		default:
			fputs(clear_usage, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; see 'petal cache clear --help'",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (!a->older_than) {
		petal_cli_error(cli, "clear needs --older-than AGE (such as 90d): it never clears "
		                "a whole mirror by default");
		return PETAL_EXIT_USAGE;
	}
	a->age = petal_parse_duration(a->older_than);
	if (a->age == -2) {
		petal_cli_error(cli, "--older-than %s is more than petal takes: at most "
		                PETAL_DURATION_MAX_TEXT " (a year)", a->older_than);
		return PETAL_EXIT_USAGE;
	}
	if (a->age < 0) {
		petal_cli_error(cli, "--older-than takes an age such as 90d, 12h, 1h30m or 30s, not "
		                "'%s'", a->older_than);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

static json_t *refs_json(const struct petal_cache_spec_ref *v, size_t n)
{
	json_t *a = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s?, s:s?, s:s, s:I}", "name", v[i].name,
		                                   "version", v[i].version, "hash", v[i].hash,
		                                   "time", (json_int_t)v[i].time));
	return a;
}

static void ref_text(const char *label, const struct petal_cache_spec_ref *r, const char *why)
{
	char t[40];
	petal_cli_cache_time(r->time, t, sizeof(t));
	if (r->name)
		printf("  %-6s %s@%s/%.7s  (%s)%s\n", label, r->name, r->version ? r->version : "?",
		       r->hash, t, why);
	else
		printf("  %-6s spec manifest %s, not in the index  (%s)%s\n", label, r->hash, t, why);
}

static void plan_text(const struct petal_cli *cli, const char *url, const char *cloud,
                      const struct clear_args *a, int64_t cutoff,
                      const struct petal_cache_clear_plan *p)
{
	char t[40], b[32];
	printf("mirror    %s (cloud '%s', layout %s)\n", url, cloud,
	       p->layout == PETAL_CACHE_V3 ? "v3" : "v2");
	printf("cutoff    specs dated before %s (older than %s) go\n",
	       petal_cli_cache_time(cutoff, t, sizeof(t)), a->older_than);
	for (size_t i = 0; i < p->n_victims; i++)
		ref_text("goes", &p->victims[i], "");
	for (size_t i = 0; i < p->n_needed; i++)
		ref_text("stays", &p->needed[i], ": old, but a kept spec links to or runs it");
	if (p->kept_specs || !p->undated)
		printf("kept      %zu spec%s newer than the cutoff%s", p->kept_specs,
		       p->kept_specs == 1 ? "" : "s", p->undated ? ", " : "");
	else
		printf("kept      ");
	if (p->undated)
		printf("%zu undated (never cleared)", p->undated);
	putchar('\n');
	if (p->n_victims == 0)
		return;
	printf("objects   %zu to delete, %s", p->n_paths,
	       petal_cli_cache_bytes(p->bytes, b, sizeof(b)));
	if (p->missing_blobs)
		printf(" (%zu blob%s already missing)", p->missing_blobs,
		       p->missing_blobs == 1 ? "" : "s");
	putchar('\n');
	if (cli->verbosity >= 2)
		for (size_t i = 0; i < p->n_paths; i++)
			printf("  delete %s\n", p->paths[i]);
	if (p->unsigned_index)
		printf("note      the old index manifest was signed; the new one is not (petal "
		       "holds no signing key): read it with an --unsigned mirror\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

struct verify {
	char **victims;     /* sorted hashes */
	size_t n_victims;
	char **paths;       /* sorted object paths that should be gone */
	size_t n_paths;
	size_t victims_left, paths_left;
	char first_left[512];
};

static int verify_record(void *arg, const struct petal_cache_record *rec, struct petal_error *err)
{
	(void)err;
	struct verify *v = arg;
	const char *h = rec->hash;
	if (rec->in_buildcache && bsearch(&h, v->victims, v->n_victims, sizeof(char *), cmp_str))
		v->victims_left++;
	return 0;
}

static int verify_object(void *arg, const struct petal_object_info *obj)
{
	struct verify *v = arg;
	const char *k = obj->key;
	if (bsearch(&k, v->paths, v->n_paths, sizeof(char *), cmp_str)) {
		if (!v->paths_left++)
			snprintf(v->first_left, sizeof(v->first_left), "%s", k);
	}
	return 0;
}

/* Read the mirror back: the index must verify, hold exactly the specs the
   plan kept and none of its victims, and no deleted object may be listed. */
static int verify_after(const struct petal_cli_cache_mirror *m,
                        const struct petal_cache_clear_plan *p, size_t *specs_after,
                        struct petal_error *err)
{
	struct verify v = { 0 };
	v.victims = petal_xcalloc(p->n_victims + 1, sizeof(char *));
	for (size_t i = 0; i < p->n_victims; i++)
		if (p->victims[i].name)
			v.victims[v.n_victims++] = p->victims[i].hash;
	qsort(v.victims, v.n_victims, sizeof(char *), cmp_str);
	v.paths = petal_xcalloc(p->n_paths + 1, sizeof(char *));
	memcpy(v.paths, p->paths, p->n_paths * sizeof(char *));
	v.n_paths = p->n_paths;
	qsort(v.paths, v.n_paths, sizeof(char *), cmp_str);

	struct petal_cache_index *idx = NULL;
	struct petal_cache_scan scan;
	int rc = petal_cache_index_fetch(&m->io, &idx, err);
	if (!rc)
		rc = petal_cache_index_scan(idx, verify_record, &v, &scan, err);
	if (!rc && (int)petal_cache_index_info(idx)->layout != (int)p->layout)
		rc = petal_fail(err, PETAL_EIO, "%s: the index read back is in another layout than "
		                "the one cleared", m->url);
	if (!rc)
		rc = m->io.list(m->io.arg, "", verify_object, &v, err);
	if (!rc) {
		*specs_after = scan.in_cache;
		size_t want = p->kept_specs + p->undated + p->n_needed;
		if (scan.in_cache != want || v.victims_left)
			rc = petal_fail(err, PETAL_EIO, "%s: the index read back lists %zu spec%s (%zu "
			                "of them cleared), not the %zu kept: did something push "
			                "meanwhile? run 'petal cache status' to see", m->url,
			                scan.in_cache, scan.in_cache == 1 ? "" : "s", v.victims_left,
			                want);
		else if (v.paths_left)
			rc = petal_fail(err, PETAL_EIO, "%s: %zu deleted object%s still listed (%s)",
			                m->url, v.paths_left, v.paths_left == 1 ? " is" : "s are",
			                v.first_left);
	}
	petal_cache_index_free(idx);
	free(v.paths);
	free(v.victims);
	return rc;
}

int cmd_cache_clear(struct petal_cli *cli, int argc, char **argv)
{
	struct clear_args a = { 0 };
	int status = clear_parse(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;
	struct petal_seed *seed = NULL;
	char *url = NULL;
	status = petal_cli_cache_target(cli, a.seed, a.url, 1, &seed, &url);
	if (status)
		return status;

	struct petal_registry reg;
	struct petal_cli_cache_mirror m;
	struct petal_error err = { 0 };
	struct petal_cli_cache_progress progress;
	const char *region;
	status = petal_cli_region(cli, a.region, seed, &region);
	if (status)
		goto out_target;
	status = petal_cli_registry(cli, &reg);
	if (status)
		goto out_target;
	int rc = petal_cli_cache_mirror_open(&reg, url, &m, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_PLUGIN;
		goto out_registry;
	}
	petal_cli_cache_progress_init(&progress, cli);
	m.progress = &progress;
	struct petal_cache_clear_opts opts = {
		.now = (int64_t)time(NULL),
		.older_than = a.age,
		.progress = petal_cli_cache_progress_show,
		.progress_arg = &progress,
	};
	int64_t cutoff = opts.now - opts.older_than;
	struct petal_cache_clear_plan plan;
	rc = petal_cache_clear_plan(&m.io, &opts, &plan, &err);
	petal_cli_cache_progress_done(&progress);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = petal_cli_cache_exit_for(rc);
		goto out_mirror;
	}
	int json = cli->output == PETAL_OUTPUT_JSON;
	if (!json)
		plan_text(cli, url, m.cloud, &a, cutoff, &plan);

	size_t specs_after = 0;
	int applied = 0;
	if (!a.dry_run && plan.n_victims > 0) {
		petal_cli_cache_progress_init(&progress, cli);
		rc = petal_cache_clear_apply(&m.io, &opts, &plan, &err);
		petal_cli_cache_progress_done(&progress);
		if (rc) {
			petal_cli_error(cli, "%s", err.msg);
			status = petal_cli_cache_exit_for(rc);
			goto out_plan;
		}
		applied = 1;
		rc = verify_after(&m, &plan, &specs_after, &err);
		if (rc) {
			petal_cli_error(cli, "cleared, but the mirror does not read back as planned: %s",
			                err.msg);
			status = PETAL_EXIT_FAILURE;
			goto out_plan;
		}
	}

	if (json) {
		json_t *objs = json_array();
		for (size_t i = 0; i < plan.n_paths; i++)
			json_array_append_new(objs, json_pack("{s:s, s:I}", "path", plan.paths[i],
			                                      "bytes", (json_int_t)plan.sizes[i]));
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:b, s:o, s:o, s:I, s:I, "
		                      "s:o, s:I, s:I, s:b, s:b}",
		                      "mirror", url, "cloud", m.cloud,
		                      "layout", plan.layout == PETAL_CACHE_V3 ? "v3" : "v2",
		                      "older_than", a.older_than, "older_than_seconds",
		                      (json_int_t)a.age, "cutoff", (json_int_t)cutoff,
		                      "dry_run", a.dry_run,
		                      "victims", refs_json(plan.victims, plan.n_victims),
		                      "needed", refs_json(plan.needed, plan.n_needed),
		                      "kept_specs", (json_int_t)plan.kept_specs,
		                      "undated", (json_int_t)plan.undated, "objects", objs,
		                      "bytes", (json_int_t)plan.bytes,
		                      "missing_blobs", (json_int_t)plan.missing_blobs,
		                      "unsigned_index", plan.unsigned_index, "deleted", applied);
		if (applied)
			json_object_set_new(j, "specs_after", json_integer((json_int_t)specs_after));
		petal_cli_print_json(j);
		json_decref(j);
	} else if (plan.n_victims == 0) {
		printf("Nothing is older than %s: the mirror is unchanged.\n", a.older_than);
	} else if (a.dry_run) {
		printf("Dry run: nothing was deleted.  Run it again without --dry-run to delete.\n");
	} else {
		char b[32];
		printf("Deleted %zu object%s (%s) and wrote a new %s index; read back: %zu spec%s, "
		       "as planned.\n", plan.n_paths, plan.n_paths == 1 ? "" : "s",
		       petal_cli_cache_bytes(plan.bytes, b, sizeof(b)),
		       plan.layout == PETAL_CACHE_V3 ? "v3" : "v2", specs_after,
		       specs_after == 1 ? "" : "s");
	}

out_plan:
	petal_cache_clear_plan_release(&plan);
out_mirror:
	petal_cli_cache_mirror_close(&m);
out_registry:
	petal_registry_release(&reg);
out_target:
	petal_host_bind_region(cli->host, NULL);
	free(url);
	petal_seed_free(seed);
	return status;
}
