/* petal cache: the Spack binary-cache mirror a seed's binary-cache tier uses.
   This file dispatches to the subcommands and holds `cache init`; status
   and clear live in cache_status.c and cache_clear.c. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <petal/shell.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cache_cli.h"

static const char usage_text[] =
	"usage: petal cache init   (--bucket B [--prefix P] [--region R] | --url URL | -t SEED)\n"
	"                          [--output-dir DIR]\n"
	"       petal cache status [-t SEED] [--url URL] [--region R] [--history]\n"
	"                          [--output text|json]\n"
	"       petal cache clear  --older-than AGE [--dry-run] (-t SEED | --url URL)\n"
	"                          [--region R]\n"
	"       petal cache build  -t SEED [--watch | --detach] [--on-demand] ...\n"
	"                          (petal cache build --help)\n"
	"\n"
	"The binary cache is a Spack buildcache mirror: build instances push what\n"
	"they build to it, and the cluster's nodes install from it in minutes instead\n"
	"of compiling for hours.  A mirror is named by a seed (its\n"
	"software.binary_cache: s3://s3_bucket/s3_prefix) or by --url:\n"
	"  s3://bucket/prefix   through the cloud plugin 'aws' (AWS_ENDPOINT_URL_S3 or\n"
	"                       AWS_ENDPOINT_URL point it at another S3 endpoint)\n"
	"  file:///abs/dir      through the cloud plugin 'local' (a plain absolute path\n"
	"                       works too)\n"
	"Both of Spack's layouts are read: v3 (Spack 1.0 and later) and v2 (0.23).\n"
	"An s3:// mirror is asked in one region: --region, else the seed's\n"
	"cluster.region, else AWS_REGION, AWS_DEFAULT_REGION, the AWS profile's region.\n"
	"\n"
	"  init     create the bucket or prove petal can read and write it; print the\n"
	"           'spack mirror add' line and write mirrors.yaml for Spack\n"
	"  status   what the mirror holds (specs, bytes, objects, dates) and, with a\n"
	"           seed, which of its packages it would serve (hits) and which it\n"
	"           would have to build (misses); --history shows the hit ratio over time\n"
	"  clear    remove specs older than AGE, and the blobs only they used, then\n"
	"           write an index that matches what is left\n"
	"\n"
	"Examples:\n"
	"  petal cache init --bucket my-lab-spack-cache --prefix bio/cache --region eu-west-2\n"
	"  petal cache status -t seeds/binary-cache.yaml\n"
	"  petal cache status --url file:///srv/spack-mirror --output json\n"
	"  petal cache clear --older-than 90d --dry-run -t seeds/binary-cache.yaml\n"
	"\n"
	"'petal cache SUBCOMMAND --help' says more.  Exit status: 0 done, 1 the mirror\n"
	"could not be read or written (missing or broken index, access refused), 2 bad\n"
	"usage or an invalid seed, 3 no cloud plugin serves the URL.\n";

static const char init_usage[] =
	"usage: petal cache init --bucket B [--prefix P] [--region R] [--output-dir DIR]\n"
	"       petal cache init --url s3://bucket/prefix | file:///abs/dir [--output-dir DIR]\n"
	"       petal cache init -t SEED [--output-dir DIR]\n"
	"\n"
	"Make the mirror ready: create the bucket (or directory) when it is missing,\n"
	"or prove that petal can list it, write into it and read back what it wrote.\n"
	"Then print the command that tells Spack about it and write mirrors.yaml, the\n"
	"same mirror in Spack's configuration format, for build instances and nodes.\n"
	"\n"
	"  --bucket B          the S3 bucket\n"
	"  --prefix P          key prefix inside it (default: spack-cache, as in seeds;\n"
	"                      --prefix '' for the bucket's root; /a//b/ is a/b)\n"
	"  --region R          the region to create the bucket in and to ask it in: this,\n"
	"                      else the seed's cluster.region, else AWS_REGION, then\n"
	"                      AWS_DEFAULT_REGION, then the AWS profile's region\n"
	"  --url URL           the mirror as a URL instead of --bucket and --prefix\n"
	"  -t, --seed SEED     take bucket, prefix and region from the seed\n"
	"  --output-dir DIR    where to write mirrors.yaml (default: the current directory)\n"
	"  -o, --output F      text (default) or json\n"
	"\n"
	"Examples:\n"
	"  petal cache init --bucket my-lab-spack-cache --region eu-west-2\n"
	"  petal cache init --url file:///srv/spack-mirror --output-dir /etc/spack\n"
	"\n"
	"The mirror is added unsigned (--unsigned, signed: false): petal's builds\n"
	"push without GPG keys.  When AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL is set,\n"
	"the endpoint goes into both the command and mirrors.yaml.\n"
	"Exit status: 0 ready, 1 the bucket could not be created or used, 2 bad usage,\n"
	"3 no cloud plugin serves the URL.\n";

struct init_args {
	const char *bucket, *prefix, *region, *url, *seed, *output_dir;
};

static int init_parse(struct petal_cli *cli, int argc, char **argv, struct init_args *a)
{
	enum { OPT_BUCKET = 256, OPT_PREFIX, OPT_REGION, OPT_URL, OPT_OUTDIR };
	static const struct option opts[] = {
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "prefix", required_argument, NULL, OPT_PREFIX },
		{ "region", required_argument, NULL, OPT_REGION },
		{ "url", required_argument, NULL, OPT_URL },
		{ "seed", required_argument, NULL, 't' },
		{ "output-dir", required_argument, NULL, OPT_OUTDIR },
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
		case OPT_BUCKET: a->bucket = optarg; break;
		case OPT_PREFIX: a->prefix = optarg; break;
		case OPT_REGION: a->region = optarg; break;
		case OPT_URL: a->url = optarg; break;
		case 't': a->seed = optarg; break;
		case OPT_OUTDIR: a->output_dir = optarg; break;
		case 'h':
			fputs(init_usage, stdout);
			return -1;
		default:
			fputs(init_usage, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s'; see 'petal cache init --help'",
		                argv[optind]);
		return PETAL_EXIT_USAGE;
	}
	if (!!a->bucket + !!a->url > 1) {
		petal_cli_error(cli, "give the mirror once: --bucket (with --prefix) or --url");
		return PETAL_EXIT_USAGE;
	}
	if (!a->bucket && !a->url && !a->seed) {
		petal_cli_error(cli, "which mirror? give --bucket B, --url URL or -t SEED");
		return PETAL_EXIT_USAGE;
	}
	if (a->prefix && !a->bucket) {
		petal_cli_error(cli, "--prefix goes with --bucket (a --url holds its own prefix)");
		return PETAL_EXIT_USAGE;
	}
	if (a->bucket && (!*a->bucket || strchr(a->bucket, '/'))) {
		petal_cli_error(cli, "--bucket takes a bucket name, not '%s' (the prefix goes in "
		                "--prefix)", a->bucket);
		return PETAL_EXIT_USAGE;
	}
	char *prefix = NULL;
	const char *why = a->prefix ? petal_key_prefix_normalize(a->prefix, &prefix) : NULL;
	free(prefix);
	if (why) {
		petal_cli_error(cli, "--prefix '%s' is not a key prefix: %s", a->prefix, why);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* YAML double-quoted scalar. */
static void yaml_quoted(struct petal_strbuf *sb, const char *s)
{
	petal_strbuf_putc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			petal_strbuf_printf(sb, "\\%c", *p);
		else if (*p < 0x20)
			petal_strbuf_printf(sb, "\\x%02x", *p);
		else
			petal_strbuf_putc(sb, (char)*p);
	}
	petal_strbuf_putc(sb, '"');
}

/* Spack's mirrors.yaml: the mirror "petal", binary only, unsigned; with a
   custom S3 endpoint, fetch and push each carry it (Spack's connection keys). */
static char *mirrors_yaml(const char *url, const char *endpoint)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, "# Written by `petal cache init`: the binary cache petal's build "
	                  "instances push to\n# and the cluster's nodes install from.\nmirrors:\n"
	                  "  petal:\n");
	if (endpoint) {
		static const char *const sides[] = { "fetch", "push" };
		for (size_t i = 0; i < 2; i++) {
			petal_strbuf_printf(&sb, "    %s:\n      url: ", sides[i]);
			yaml_quoted(&sb, url);
			petal_strbuf_puts(&sb, "\n      endpoint_url: ");
			yaml_quoted(&sb, endpoint);
			petal_strbuf_putc(&sb, '\n');
		}
	} else {
		petal_strbuf_puts(&sb, "    url: ");
		yaml_quoted(&sb, url);
		petal_strbuf_putc(&sb, '\n');
	}
	petal_strbuf_puts(&sb, "    signed: false\n    binary: true\n    source: false\n");
	return petal_strbuf_detach(&sb);
}

/* Shell word for the printed command: bare when it can be (<petal/shell.h>). */
static void shell_word(struct petal_strbuf *sb, const char *s)
{
	size_t n = petal_shell_word(NULL, 0, s);
	char *word = petal_xmalloc(n + 1);

	petal_shell_word(word, n + 1, s);
	petal_strbuf_add(sb, word, n);
	free(word);
}

static int count_one(void *arg, const struct petal_object_info *obj)
{
	(void)obj;
	(*(int *)arg)++;
	return 1; /* one is enough to know the mirror is not empty */
}

static int cache_init(struct petal_cli *cli, int argc, char **argv)
{
	struct init_args a = { 0 };
	int status = init_parse(cli, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;

	struct petal_seed *seed = NULL;
	char *url = NULL;
	if (a.bucket) {
		url = petal_cli_cache_url_s3(a.bucket, a.prefix ? a.prefix : "spack-cache");
		if (a.seed)
			status = petal_cli_load_seed(cli, a.seed, &seed);
	} else {
		status = petal_cli_cache_target(cli, a.seed, a.url, 1, &seed, &url);
	}
	if (status)
		goto out_url;
	const char *region;
	status = petal_cli_region(cli, a.region, seed, &region);
	if (status)
		goto out_url;

	struct petal_registry reg;
	struct petal_cli_cache_mirror m;
	struct petal_error err = { 0 };
	status = petal_cli_registry(cli, &reg);
	if (status)
		goto out_url;
	int rc = petal_cli_cache_mirror_open(&reg, url, &m, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_PLUGIN;
		goto out_registry;
	}
	rc = petal_cloud_bucket_ensure(&m.door, m.url, region, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_cache_exit_for(rc);
		goto out_mirror;
	}
	int objects = 0;
	char *root = petal_xasprintf("%s/", m.url);
	rc = petal_cloud_object_list(&m.door, root, count_one, &objects, &err);
	free(root);
	if (rc < 0) {
		petal_cli_error(cli, "%s: created or found, but cannot be listed: %s", m.url, err.msg);
		status = petal_cli_cache_exit_for(rc);
		goto out_mirror;
	}

	const char *endpoint = NULL;
	if (!strncmp(url, "s3://", 5)) {
		endpoint = getenv("AWS_ENDPOINT_URL_S3");
		if (!endpoint || !*endpoint)
			endpoint = getenv("AWS_ENDPOINT_URL");
		if (endpoint && !*endpoint)
			endpoint = NULL;
	}
	struct petal_strbuf cmd = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&cmd, "spack mirror add --unsigned --type binary");
	if (endpoint) {
		petal_strbuf_puts(&cmd, " --s3-endpoint-url ");
		shell_word(&cmd, endpoint);
	}
	petal_strbuf_puts(&cmd, " petal ");
	shell_word(&cmd, url);

	char *yaml = mirrors_yaml(url, endpoint);
	char *yaml_path = petal_xasprintf("%s/mirrors.yaml", a.output_dir ? a.output_dir : ".");
	rc = petal_write_file(yaml_path, yaml, strlen(yaml), 0644, &err);
	if (rc) {
		petal_cli_error(cli, "the mirror is ready, but mirrors.yaml could not be written: %s",
		                err.msg);
		status = PETAL_EXIT_FAILURE;
		goto out_text;
	}

	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s?, s:b, s:s, s:s, s:s?}", "url", url,
		                      "cloud", m.cloud, "region", region, "empty", objects == 0,
		                      "spack_mirror_add", petal_strbuf_str(&cmd),
		                      "mirrors_yaml", yaml_path, "endpoint_url", endpoint);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		printf("Mirror %s is ready (cloud '%s'%s%s): petal listed it, wrote into it and "
		       "read that back.\n", url, m.cloud, region ? ", region " : "",
		       region ? region : "");
		if (objects)
			printf("It already holds objects: see 'petal cache status --url %s'.\n\n", url);
		else
			printf("It is empty: build instances fill it.\n\n");
		printf("Tell Spack about it:\n  %s\n\n", petal_strbuf_str(&cmd));
		printf("Or use the same mirror as configuration: %s\n  (copy it to "
		       "~/.spack/mirrors.yaml, or include it in a spack.yaml)\n", yaml_path);
	}

out_text:
	free(yaml_path);
	free(yaml);
	petal_strbuf_release(&cmd);
out_mirror:
	petal_cli_cache_mirror_close(&m);
out_registry:
	petal_registry_release(&reg);
out_url:
	petal_host_bind_region(cli->host, NULL);
	free(url);
	petal_seed_free(seed);
	return status;
}

static const struct petal_cli_subcommand subcommands[] = {
	{ "init", cache_init },
	{ "status", cmd_cache_status },
	{ "clear", cmd_cache_clear },
	{ "build", cmd_cache_build },
};

int cmd_cache(struct petal_cli *cli, int argc, char **argv)
{
	return petal_cli_subcommands(cli, "cache", usage_text, subcommands,
	                             PETAL_ARRAY_SIZE(subcommands), argc, argv);
}
