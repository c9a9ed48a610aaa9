/* petal cache status: what a mirror holds, what a seed would hit, and the
   hit ratio over time (a JSON-lines history in the state directory). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cache_cli.h"

static const char status_usage[] =
	"usage: petal cache status [-t SEED] [--url URL] [--region R] [--output text|json]\n"
	"       petal cache status --history [-t SEED] [--url URL] [--output text|json]\n"
	"\n"
	"Read the mirror the way Spack does (v3: the index manifest, then the index\n"
	"blob it names, sha256 checked; v2: build_cache/index.json, checked against\n"
	"index.json.hash) and list its objects once.\n"
	"\n"
	"  -t, --seed SEED   the seed: its mirror (software.binary_cache) unless --url\n"
	"                    is given, and the packages to look up\n"
	"  --url URL         the mirror: s3://bucket/prefix or file:///abs/dir\n"
	"  --region R        the region an s3:// mirror is asked in: this, else the\n"
	"                    seed's cluster.region, else AWS_REGION, then\n"
	"                    AWS_DEFAULT_REGION, then the AWS profile's region\n"
	"  --history         print the hit ratios recorded for this seed and mirror\n"
	"                    instead of reading the mirror\n"
	"  -o, --output F    text (default) or json\n"
	"\n"
	"What the numbers mean:\n"
	"  specs         index records with in_buildcache true: what Spack can install\n"
	"                from the mirror (the other records are externals and build-only\n"
	"                dependencies Spack lists for its dependents)\n"
	"  packages      distinct package names among those specs\n"
	"  objects       every object under the mirror's URL, and their total size;\n"
	"                'package data' is the install tarballs and spec blobs alone\n"
	"  oldest/newest the specs' installation times, else the times their spec\n"
	"                manifests (v3) or spec files (v2) were written\n"
	"  undated       specs whose installation_time is not a date (not a finite\n"
	"                number from 1970 to 9999): clear never removes them\n"
	"  hit / miss    with a seed: each package of software.spack_packages and\n"
	"                software.in_ami (those the binary-cache tier serves) is a hit\n"
	"                when the mirror holds a spec of that name whose version (and\n"
	"                compiler, when the seed names one) satisfies the seed's; the\n"
	"                newest such version is shown.  Variants are not compared.\n"
	"  hit ratio     hits / requested packages: the share of the seed a cluster\n"
	"                gets in minutes; a miss is built once and pushed\n"
	"\n"
	"Each status with a seed is appended to cache-history.jsonl in the state\n"
	"directory ($XDG_STATE_HOME/petal, else ~/.local/state/petal): time, seed hash,\n"
	"mirror, hits, misses, ratio.\n"
	"\n"
	"Examples:\n"
	"  petal cache status -t seeds/binary-cache.yaml\n"
	"  petal cache status --url file:///srv/spack-mirror -o json\n"
	"  petal cache status -t seeds/binary-cache.yaml --url file:///srv/spack-mirror\n"
	"  petal cache status --history -t seeds/binary-cache.yaml\n"
	"\n"
	"Exit status: 0 read (whatever the hit ratio), 1 the mirror or its index is\n"
	"missing, truncated, fails its checksum or is not Spack's JSON, 2 bad usage or\n"
	"an invalid seed, 3 no cloud plugin serves the URL.\n";

struct status_args {
	const char *seed, *url, *region;
	int history;
};

static int status_parse(struct petal_cli *cli, int argc, char **argv, struct status_args *a)
{
	enum { OPT_URL = 256, OPT_HISTORY, OPT_REGION };
	static const struct option opts[] = {
		{ "seed", required_argument, NULL, 't' },
		{ "url", required_argument, NULL, OPT_URL },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "history", no_argument, NULL, OPT_HISTORY },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case 't': a->seed = optarg; break;
		case OPT_URL: a->url = optarg; break;
		case OPT_HISTORY: a->history = 1; break;
		case OPT_REGION: a->region = optarg; break;
		case 'h':
			fputs(status_usage, stdout);
			return -1;
		default:
			fputs(status_usage, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; see 'petal cache status --help'",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* The packages the binary-cache tier would be asked for: those of
   software.spack_packages and software.in_ami (its claim rule; the AMI
   is baked from the same cache).  Shallow copies: the seed owns them. */
static struct petal_spec *requested(const struct petal_seed *seed, size_t *n)
{
	struct petal_spec *v = petal_xcalloc(seed->n_pkgs ? seed->n_pkgs : 1, sizeof(*v));
	*n = 0;
	for (size_t i = 0; i < seed->n_pkgs; i++)
		if (seed->pkgs[i].section == PETAL_SECTION_SPACK_PACKAGES ||
		    seed->pkgs[i].section == PETAL_SECTION_IN_AMI)
			v[(*n)++] = seed->pkgs[i].spec;
	return v;
}

static const char *time_source_name(enum petal_cache_time_source s)
{
	return s == PETAL_CACHE_TIME_INSTALL ? "installation_time"
	     : s == PETAL_CACHE_TIME_MTIME ? "object_mtime" : NULL;
}

static json_t *opt_time(int64_t t, int known)
{
	return known ? json_integer(t) : json_null();
}

static json_t *status_json(const char *url, const char *cloud, const struct petal_seed *seed,
                           const struct petal_cache_status *st)
{
	int dated = st->time_source != PETAL_CACHE_TIME_NONE;
	json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:I, s:b, s:b}, s:I, s:I, s:I}",
	                      "mirror", url, "cloud", cloud,
	                      "layout", st->layout == PETAL_CACHE_V3 ? "v3" : "v2",
	                      "database_version", st->db_version,
	                      "index", "object", st->index_object, "sha256", st->index_sha256,
	                      "bytes", (json_int_t)st->index_bytes,
	                      "verified", st->index_verified, "signed", st->manifest_signed,
	                      "records", (json_int_t)st->records, "specs", (json_int_t)st->specs,
	                      "packages", (json_int_t)st->distinct_names);
	if (st->listed) {
		json_object_set_new(j, "objects", json_integer((json_int_t)st->objects));
		json_object_set_new(j, "bytes", json_integer((json_int_t)st->bytes));
		json_object_set_new(j, "spec_objects", json_integer((json_int_t)st->spec_objects));
		json_object_set_new(j, "package_bytes", json_integer((json_int_t)st->package_bytes));
	}
	json_object_set_new(j, "oldest", opt_time(st->oldest, dated));
	json_object_set_new(j, "newest", opt_time(st->newest, dated));
	const char *src = time_source_name(st->time_source);
	json_object_set_new(j, "dates_from", src ? json_string(src) : json_null());
	json_object_set_new(j, "undated", json_integer((json_int_t)st->undated));
	json_object_set_new(j, "duplicate_hashes", json_integer((json_int_t)st->duplicates));
	if (!seed)
		return j;
	json_object_set_new(j, "seed", json_pack("{s:s, s:s}", "path", seed->path,
	                                         "hash", seed->hash));
	json_t *req = json_array();
	for (size_t i = 0; i < st->n_matches; i++) {
		const struct petal_cache_match *m = &st->matches[i];
		json_t *e = json_pack("{s:s, s:s, s:b}", "spec", m->request, "name", m->name,
		                      "hit", m->hit);
		if (m->hit) {
			json_object_set_new(e, "version", json_string(m->version));
			json_object_set_new(e, "hash", json_string(m->hash));
			if (m->compiler)
				json_object_set_new(e, "compiler", json_string(m->compiler));
			if (m->compiler_version)
				json_object_set_new(e, "compiler_version",
				                    json_string(m->compiler_version));
			if (m->arch && *m->arch)
				json_object_set_new(e, "arch", json_string(m->arch));
		}
		json_array_append_new(req, e);
	}
	json_object_set_new(j, "requested", req);
	json_object_set_new(j, "hits", json_integer((json_int_t)st->hits));
	json_object_set_new(j, "misses", json_integer((json_int_t)(st->n_matches - st->hits)));
	json_object_set_new(j, "hit_ratio", st->n_matches
	                    ? json_real((double)st->hits / (double)st->n_matches) : json_null());
	return j;
}

static void status_text(const struct petal_cli *cli, const char *url, const char *cloud,
                        const struct petal_seed *seed, const struct petal_cache_status *st)
{
	char b1[32], b2[32], t1[40], t2[40];
	printf("mirror    %s (cloud '%s')\n", url, cloud);
	printf("layout    %s, Spack database version %s\n",
	       st->layout == PETAL_CACHE_V3 ? "v3" : "v2", st->db_version);
	printf("index     %s, %s, %s%s\n", st->index_object,
	       petal_cli_cache_bytes(st->index_bytes, b1, sizeof(b1)),
	       st->index_verified ? "sha256 verified" : "no checksum to verify (no index.json.hash)",
	       st->manifest_signed ? ", manifest clear-signed (signature not checked)" : "");
	printf("specs     %zu in the cache, %zu package%s (%zu index record%s)\n", st->specs,
	       st->distinct_names, st->distinct_names == 1 ? "" : "s", st->records,
	       st->records == 1 ? "" : "s");
	if (st->listed)
		printf("objects   %llu, %s; package data %s; %llu spec %s\n",
		       (unsigned long long)st->objects,
		       petal_cli_cache_bytes(st->bytes, b1, sizeof(b1)),
		       petal_cli_cache_bytes(st->package_bytes, b2, sizeof(b2)),
		       (unsigned long long)st->spec_objects,
		       st->layout == PETAL_CACHE_V3 ? "manifests" : "files");
	if (st->time_source != PETAL_CACHE_TIME_NONE)
		printf("dates     oldest %s, newest %s (%s)\n",
		       petal_cli_cache_time(st->oldest, t1, sizeof(t1)),
		       petal_cli_cache_time(st->newest, t2, sizeof(t2)),
		       st->time_source == PETAL_CACHE_TIME_INSTALL ? "installation times"
		       : st->layout == PETAL_CACHE_V3 ? "spec manifests written" : "spec files written");
	if (st->undated)
		printf("undated   %zu spec%s whose installation_time is not a date (never cleared)\n",
		       st->undated, st->undated == 1 ? "" : "s");
	if (!seed)
		return;
	printf("\nseed      %s (hash %.12s)\n", seed->path, seed->hash);
	if (st->n_matches == 0) {
		printf("          asks the binary cache for nothing (no spack_packages or in_ami)\n");
		return;
	}
	printf("hits      %zu of %zu requested package%s: %.0f%%\n", st->hits, st->n_matches,
	       st->n_matches == 1 ? "" : "s", 100.0 * (double)st->hits / (double)st->n_matches);
	const char *green = cli->color ? "\033[32m" : "", *red = cli->color ? "\033[31m" : "";
	const char *off = cli->color ? "\033[0m" : "";
	for (size_t i = 0; i < st->n_matches; i++) {
		const struct petal_cache_match *m = &st->matches[i];
		if (!m->hit) {
			printf("  %smiss%s  %s\n", red, off, m->request);
			continue;
		}
		/* the index's own words, one field each: a newline in them is shown as
		   \n, not let through to forge a line (the stdout filter keeps lines) */
		char *version = petal_escape_text(m->version, 0), *hash = petal_escape_text(m->hash, 0);
		char *compiler = petal_escape_text(m->compiler, 0);
		char *cver = petal_escape_text(m->compiler_version, 0);
		char *arch = petal_escape_text(m->arch, 0);
		printf("  %shit%s   %-28s %s/%.7s", green, off, m->request, version, hash);
		if (m->compiler)
			printf(" %%%s%s%s", compiler, m->compiler_version ? "@" : "", cver);
		if (*arch)
			printf(" %s", arch);
		putchar('\n');
		free(version);
		free(hash);
		free(compiler);
		free(cver);
		free(arch);
	}
}

/* ---- history ------------------------------------------------------------------- */

static char *history_path(const struct petal_host *host)
{
	char *dir = petal_host_setting_dup(host, "state_dir");
	char *path = dir ? petal_xasprintf("%s/cache-history.jsonl", dir) : NULL;
	free(dir);
	return path;
}

/* Append one line; a line written with one write() to an O_APPEND file is
   not interleaved with another petal's. */
static int history_append(const char *path, const struct petal_seed *seed, const char *url,
                          const struct petal_cache_status *st, struct petal_error *err)
{
	char *dir = petal_xstrdup(path);
	*strrchr(dir, '/') = '\0';
	int rc = petal_mkdirs(dir, 0755, err);
	free(dir);
	if (rc)
		return rc;
	time_t now = time(NULL);
	char when[32];
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&now, &tm));
	json_t *j = json_pack("{s:s, s:I, s:s, s:s, s:s, s:I, s:I, s:I, s:o, s:I}", "date", when,
	                      "time", (json_int_t)now, "seed", seed->path, "seed_hash", seed->hash,
	                      "mirror", url, "requested", (json_int_t)st->n_matches,
	                      "hits", (json_int_t)st->hits,
	                      "misses", (json_int_t)(st->n_matches - st->hits),
	                      "hit_ratio", st->n_matches ? json_real((double)st->hits /
	                                                             (double)st->n_matches)
	                                                 : json_null(),
	                      "specs", (json_int_t)st->specs);
	char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	json_decref(j);
	size_t len = strlen(line);
	line[len++] = '\n'; /* json_dumps left room: its NUL */
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		rc = petal_fail(err, PETAL_EIO, "%s: %s", path, strerror(errno));
	} else {
		if (write(fd, line, len) != (ssize_t)len)
			rc = petal_fail(err, PETAL_EIO, "%s: write failed: %s", path, strerror(errno));
		close(fd);
	}
	free(line);
	return rc;
}

static int history_show(const struct petal_cli *cli, const struct petal_seed *seed,
                        const char *url)
{
	char *path = history_path(cli->host);
	if (!path) {
		petal_cli_error(cli, "no state directory: set XDG_STATE_HOME or HOME");
		return PETAL_EXIT_FAILURE;
	}
	char *data = NULL;
	size_t len = 0;
	struct petal_error err = { 0 };
	int rc = petal_read_file(path, (size_t)1 << 30, &data, &len, &err);
	if (rc && rc != PETAL_ENOENT) {
		petal_cli_error(cli, "%s", err.msg);
		free(path);
		return PETAL_EXIT_FAILURE;
	}
	json_t *entries = json_array();
	size_t bad = 0;
	for (char *line = data, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (!*line)
			continue;
		json_t *e = json_loads(line, 0, NULL);
		const char *h = json_string_value(json_object_get(e, "seed_hash"));
		const char *m = json_string_value(json_object_get(e, "mirror"));
		if (!json_is_object(e) || !h || !m ||
		    !json_is_integer(json_object_get(e, "time"))) {
			bad++;
			json_decref(e);
			continue;
		}
		if ((seed && strcmp(h, seed->hash) != 0) || (url && strcmp(m, url) != 0)) {
			json_decref(e);
			continue;
		}
		json_array_append_new(entries, e);
	}
	free(data);
	if (bad)
		petal_cli_info(cli, "%s: %zu line%s that are not petal's history were skipped", path,
		               bad, bad == 1 ? "" : "s");

	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s?, s:s?, s:O}", "history_file", path,
		                      "seed_hash", seed ? seed->hash : NULL, "mirror", url,
		                      "entries", entries);
		petal_cli_print_json(j);
		json_decref(j);
	} else if (json_array_size(entries) == 0) {
		printf("No cache status recorded yet%s%s%s%s.\nEach 'petal cache status -t SEED' "
		       "adds one to %s.\n", seed ? " for " : "", seed ? seed->path : "",
		       url ? " on " : "", url ? url : "", path);
	} else {
		printf("Hit ratio over time%s%s%s%s (from %s)\n", seed ? " of " : "",
		       seed ? seed->path : "", url ? " on " : "", url ? url : "", path);
		printf("  %-20s %9s %6s  %-12s %s\n", "when (UTC)", "hits", "ratio", "seed", "mirror");
		double prev = -1;
		size_t i;
		json_t *e;
		json_array_foreach(entries, i, e) {
			time_t t = (time_t)json_integer_value(json_object_get(e, "time"));
			char when[32], hits[32], ratio[16] = "-", delta[16] = "";
			struct tm tm;
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", gmtime_r(&t, &tm));
			snprintf(hits, sizeof(hits), "%lld/%lld",
			         (long long)json_integer_value(json_object_get(e, "hits")),
			         (long long)json_integer_value(json_object_get(e, "requested")));
			json_t *r = json_object_get(e, "hit_ratio");
			if (json_is_number(r)) {
				double v = json_number_value(r);
				snprintf(ratio, sizeof(ratio), "%.0f%%", 100 * v);
				if (prev >= 0 && v != prev)
					snprintf(delta, sizeof(delta), " (%+.0f)", 100 * (v - prev));
				prev = v;
			}
			printf("  %-20s %9s %6s  %-12.12s %s%s\n", when, hits, ratio,
			       json_string_value(json_object_get(e, "seed_hash")),
			       json_string_value(json_object_get(e, "mirror")), delta);
		}
	}
	json_decref(entries);
	free(path);
	return PETAL_EXIT_OK;
}

/* ---- the command ------------------------------------------------------------------ */

int cmd_cache_status(struct petal_cli *cli, int argc, char **argv)
{
	struct status_args a = { 0 };
	int status = status_parse(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;
	struct petal_seed *seed = NULL;
	char *url = NULL;
	status = petal_cli_cache_target(cli, a.seed, a.url, !a.history, &seed, &url);
	if (status)
		return status;
	if (a.history) {
		/* -t alone: every mirror the seed was checked against */
		status = history_show(cli, seed, a.url ? url : NULL);
		goto out_target;
	}

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

	size_t n_want = 0;
	struct petal_spec *want = seed ? requested(seed, &n_want) : NULL;
	struct petal_cache_status st;
	rc = petal_cache_status(&m.io, want, n_want, &st, &err);
	petal_cli_cache_progress_done(&progress);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = petal_cli_cache_exit_for(rc);
		goto out_want;
	}
	if (st.duplicates)
		petal_cli_warn(cli, "%s: the index lists %zu spec hash%s more than once (first: "
		               "%s); each is counted once: rebuild the index with `spack "
		               "buildcache update-index %s`", url, st.duplicates,
		               st.duplicates == 1 ? "" : "es", st.first_duplicate, url);
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = status_json(url, m.cloud, seed, &st);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		status_text(cli, url, m.cloud, seed, &st);
	}
	if (seed) {
		char *path = history_path(cli->host);
		if (!path)
			petal_cli_warn(cli, "no state directory (set XDG_STATE_HOME or HOME): "
			                "this status was not recorded in the history");
		else if (history_append(path, seed, url, &st, &err) != 0)
			petal_cli_warn(cli, "this status was not recorded in the history: %s",
			                err.msg);
		free(path);
	}
	petal_cache_status_release(&st);
out_want:
	free(want);
	petal_cli_cache_mirror_close(&m);
out_registry:
	petal_registry_release(&reg);
out_target:
	petal_host_bind_region(cli->host, NULL);
	free(url);
	petal_seed_free(seed);
	return status;
}
