/* petal ami: the images petal made (tagged petal:seed-hash): list them with
   what they cost to keep, delete, copy to other regions, prune per seed,
   and say which base image a seed's build would start from.  Thin: the
   work is core/cloud/images.c and base_image_lookup.c; ami_ops.c holds the
   subcommands that change images. */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../cloud/base_image_lookup.h"
#include "../plan/estimate.h"
#include "../plugin/host.h"
#include "../util/util.h"
#include "ami_cli.h"

static const char usage_text[] =
	"usage: petal ami list   [--region R | --all-regions] [--output text|json]\n"
	"       petal ami delete ID... [--region R] [--force]\n"
	"       petal ami copy   ID --to-region R... [--region R] [--timeout MIN]\n"
	"       petal ami prune  --keep N [--dry-run] [--region R | --all-regions]\n"
	"       petal ami base   -t SEED [--region R]\n"
	"\n"
	"The machine images petal bakes (petal build-ami) carry the tag\n"
	"petal:seed-hash, and petal:seed (the seed's cluster.name), petal:packages\n"
	"and parallelcluster:*.  These commands act on this account's images through\n"
	"the cloud plugin 'aws' in one region: --region, else AWS_REGION,\n"
	"AWS_DEFAULT_REGION, the AWS profile's region.\n"
	"\n"
	"  list     petal's images: id, name, seed, packages, size, age, and the\n"
	"           monthly cost of their snapshots (ami_gb_month of data/figures.json)\n"
	"  delete   deregister images and delete their snapshots\n"
	"  copy     copy an image to other regions, its tags with it, and wait\n"
	"  prune    per seed, keep the newest N images and delete the rest\n"
	"  base     the image a build of the seed starts from: software.build.base_ami,\n"
	"           else ParallelCluster's for its version, OS and architecture\n"
	"\n"
	"Examples:\n"
	"  petal ami list --all-regions\n"
	"  petal ami copy ami-0123456789abcdef0 --to-region eu-west-1 --to-region us-west-2\n"
	"  petal ami prune --keep 2 --dry-run\n"
	"\n"
	"'petal ami SUBCOMMAND --help' says more.  Exit status: 0 done, 1 the cloud\n"
	"refused or an image is unknown or not petal's, 2 bad usage, 3 no cloud plugin\n"
	"offers images.\n";

static const struct {
	const char *name;
	unsigned allowed;
	const char *usage;
} subs[] = {
	{ "list", AMI_OPT_REGION | AMI_OPT_ALL_REGIONS,
	  "usage: petal ami list [--region R | --all-regions] [--output text|json]\n"
	  "\n"
	  "List this account's images tagged petal:seed-hash, newest first: id, name,\n"
	  "seed (petal:seed), packages (petal:packages, counted), size (the sum of its\n"
	  "EBS snapshots' volume sizes), age, and what the snapshots cost a month at\n"
	  "ami_gb_month (data/figures.json, USD per GB-month), with totals.\n"
	  "\n"
	  "  --region R        the region to list (default: the AWS chain's)\n"
	  "  --all-regions     every region the account may use (EC2 DescribeRegions)\n"
	  "  -o, --output F    text (default) or json: {price_gb_month, regions, images:\n"
	  "                    [{id, name, region, state, seed, seed_hash, packages,\n"
	  "                    size_gb, created, age_days, monthly_cost_usd}], totals}\n"
	  "\n"
	  "Exit status: 0 listed (none is not an error), 1 the cloud refused, 2 bad\n"
	  "usage.\n" },
	{ "delete", AMI_OPT_REGION | AMI_OPT_FORCE,
	  "usage: petal ami delete ID... [--region R] [--force] [--output text|json]\n"
	  "\n"
	  "Deregister each image and delete its EBS snapshots (what costs money).  An\n"
	  "image that is not tagged petal:seed-hash was not made by petal: it is\n"
	  "refused unless --force.  Images are regional: ID must be in --region.\n"
	  "Every ID is tried; one that fails does not stop the others.\n"
	  "\n"
	  "  --region R        the images' region (default: the AWS chain's)\n"
	  "  --force           delete images petal did not tag too\n"
	  "  -o, --output F    text (default) or json: {region, deleted: [ids],\n"
	  "                    failed: [{id, error}]}\n"
	  "\n"
	  "Exit status: 0 all deleted, 1 one or more unknown, refused or failed, 2 bad\n"
	  "usage.\n" },
	{ "copy", AMI_OPT_REGION | AMI_OPT_TO_REGION | AMI_OPT_TIMEOUT,
	  "usage: petal ami copy ID --to-region R... [--region R] [--timeout MIN]\n"
	  "                      [--output text|json]\n"
	  "\n"
	  "Copy image ID (of --region) to each --to-region, its tags carried over\n"
	  "(EC2's CopyImage leaves them behind; petal sets them again), then wait\n"
	  "for every copy to be available, saying how long each took.  Prints the\n"
	  "new ids, one per region.  A destination must be a region of this account\n"
	  "(DescribeRegions) and not the source's.\n"
	  "\n"
	  "  --to-region R     a destination region (repeat for several)\n"
	  "  --region R        the source image's region (default: the AWS chain's)\n"
	  "  --timeout MIN     give up waiting after MIN minutes (default 90); the copies\n"
	  "                    go on in the cloud: 'petal ami list --region R' shows them\n"
	  "  -o, --output F    text (default) or json: {source, region, copies:\n"
	  "                    [{region, id, state, seconds}]}\n"
	  "\n"
	  "Exit status: 0 every copy available, 1 a copy failed or timed out, 2 bad\n"
	  "usage.\n" },
	{ "prune", AMI_OPT_REGION | AMI_OPT_ALL_REGIONS | AMI_OPT_KEEP | AMI_OPT_DRY_RUN,
	  "usage: petal ami prune --keep N [--dry-run] [--region R | --all-regions]\n"
	  "                       [--output text|json]\n"
	  "\n"
	  "For each seed (petal:seed, else the seed hash), in each region, keep the\n"
	  "newest N of its images and delete the others with their snapshots.\n"
	  "\n"
	  "  --keep N          images to keep per seed, N >= 0 (0 deletes them all)\n"
	  "  --dry-run         say what would be deleted, delete nothing\n"
	  "  --region R        the region (default: the AWS chain's)\n"
	  "  --all-regions     every region of the account, each pruned on its own\n"
	  "  -o, --output F    text (default) or json: {keep, dry_run, kept: [...],\n"
	  "                    deleted: [...], failed: [...]}\n"
	  "\n"
	  "Exit status: 0 done, 1 a delete failed, 2 bad usage.\n" },
	{ "base", AMI_OPT_REGION | AMI_OPT_SEED,
	  "usage: petal ami base -t SEED [--region R] [--output text|json]\n"
	  "\n"
	  "The image a build of SEED starts from: software.build.base_ami when the seed\n"
	  "gives it (an id as it is; a name looked up among this account's images,\n"
	  "then Amazon's), else ParallelCluster's own image for cluster.pcluster_version,\n"
	  "cluster.os and the build instance's architecture: owner amazon, name\n"
	  "aws-parallelcluster-VERSION-OSPART-ARCH*, the newest available that is not\n"
	  "deprecated.  ParallelCluster publishes no rocky8 or rocky9 image: those need\n"
	  "software.build.base_ami.\n"
	  "\n"
	  "  -t, --seed SEED   the seed\n"
	  "  --region R        the region (default: the seed's cluster.region, else the\n"
	  "                    AWS chain's)\n"
	  "  -o, --output F    text (default) or json: {id, name, region, arch, created,\n"
	  "                    deprecation_time, given}\n"
	  "\n"
	  "Exit status: 0 found, 1 no image fits (the message says what was searched),\n"
	  "2 bad usage or an invalid seed.\n" },
};

static const char *sub_usage(const char *sub)
{
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(subs); i++)
		if (!strcmp(subs[i].name, sub))
			return subs[i].usage;
	return usage_text;
}

/* ---- options, once for every subcommand ------------------------------------------ */

static int parse_count(const char *s, long lo, long hi, long *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int petal_ami_parse(struct petal_cli *cli, const char *sub, int argc, char **argv,
                    struct petal_ami_args *a)
{
	unsigned allowed = 0;
	for (size_t i = 0; i < PETAL_ARRAY_SIZE(subs); i++)
		if (!strcmp(subs[i].name, sub))
			allowed = subs[i].allowed;
	enum { O_REGION = 256, O_ALL, O_FORCE, O_TO, O_KEEP, O_DRY, O_TIMEOUT };
	static const struct option opts[] = {
		{ "region", required_argument, NULL, O_REGION },
		{ "all-regions", no_argument, NULL, O_ALL },
		{ "force", no_argument, NULL, O_FORCE },
		{ "to-region", required_argument, NULL, O_TO },
		{ "keep", required_argument, NULL, O_KEEP },
		{ "dry-run", no_argument, NULL, O_DRY },
		{ "timeout", required_argument, NULL, O_TIMEOUT },
		{ "seed", required_argument, NULL, 't' },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		int opt;
		unsigned bit;
		const char *name;
	} bits[] = {
		{ O_REGION, AMI_OPT_REGION, "--region" },
		{ O_ALL, AMI_OPT_ALL_REGIONS, "--all-regions" },
		{ O_FORCE, AMI_OPT_FORCE, "--force" },
		{ O_TO, AMI_OPT_TO_REGION, "--to-region" },
		{ O_KEEP, AMI_OPT_KEEP, "--keep" },
		{ O_DRY, AMI_OPT_DRY_RUN, "--dry-run" },
		{ O_TIMEOUT, AMI_OPT_TIMEOUT, "--timeout" },
		{ 't', AMI_OPT_SEED, "--seed" },
	};
	memset(a, 0, sizeof(*a));
	a->keep = -1;
	a->timeout_min = 90;
	int c;
	while ((c = getopt_long(argc, argv, "t:" PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		if (c == 'h') {
			fputs(sub_usage(sub), stdout);
			return -1;
		}
		for (size_t i = 0; i < PETAL_ARRAY_SIZE(bits); i++)
			if (bits[i].opt == c && !(allowed & bits[i].bit)) {
				petal_cli_error(cli, "ami %s takes no %s; see 'petal ami %s --help'",
				                sub, bits[i].name, sub);
				return PETAL_EXIT_USAGE;
			}
		long v;
		switch (c) {
		case O_REGION: a->region = optarg; break;
		case O_ALL: a->all_regions = 1; break;
		case O_FORCE: a->force = 1; break;
		case O_DRY: a->dry_run = 1; break;
		case 't': a->seed = optarg; break;
		case O_TO:
			if (a->n_to == PETAL_ARRAY_SIZE(a->to)) {
				petal_cli_error(cli, "at most %zu --to-region", PETAL_ARRAY_SIZE(a->to));
				return PETAL_EXIT_USAGE;
			}
			a->to[a->n_to++] = optarg;
			break;
		case O_KEEP:
			if (parse_count(optarg, 0, 1000000, &v) != 0) {
				petal_cli_error(cli, "--keep takes a count, 0 or more, not '%s'", optarg);
				return PETAL_EXIT_USAGE;
			}
			a->keep = v;
			break;
		case O_TIMEOUT:
			if (parse_count(optarg, 1, 7 * 24 * 60, &v) != 0) {
				petal_cli_error(cli, "--timeout takes minutes, 1 to 10080, not '%s'",
				                optarg);
				return PETAL_EXIT_USAGE;
			}
			a->timeout_min = (int)v;
			break;
		default:
			fputs(sub_usage(sub), stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (a->region && a->all_regions) {
		petal_cli_error(cli, "give --region or --all-regions, not both");
		return PETAL_EXIT_USAGE;
	}
	a->ids = argv + optind;
	a->n_ids = (size_t)(argc - optind);
	return 0;
}

/* ---- the cloud, in one region ------------------------------------------------------ */

int petal_ami_open(struct petal_cli *cli, const char *region, const struct petal_seed *seed,
                   struct petal_ami_cloud *ac)
{
	memset(ac, 0, sizeof(*ac));
	const char *bound;
	int status = petal_cli_region(cli, region, seed, &bound);
	if (status != 0)
		return status;
	if ((status = petal_cli_registry(cli, &ac->reg)) != 0)
		return status;
	ac->open = 1;
	struct petal_error err = PETAL_ERROR_INIT;
	struct petal_entry *e = petal_registry_find(&ac->reg, PETAL_KIND_CLOUD, "aws");
	if (!e) {
		petal_cli_error(cli, "petal ami needs the cloud plugin 'aws', which is not installed "
		                "or not active; see 'petal plugins list --all'");
		return PETAL_EXIT_PLUGIN;
	}
	int rc = petal_entry_init(e, cli->host, &err);
	if (rc != 0) {
		petal_cli_error(cli, "%s", err.msg);
		return PETAL_EXIT_PLUGIN;
	}
	petal_cloud_from_entry(&ac->door, e, cli->host);
	if (!(ac->door.ops->caps & PETAL_CAP_IMAGES) || !petal_cloud_has(&ac->door, "image_list")) {
		petal_cli_error(cli, "the cloud plugin 'aws' (%s) offers no images", e->path);
		return PETAL_EXIT_PLUGIN;
	}
	return 0;
}

void petal_ami_close(struct petal_cli *cli, struct petal_ami_cloud *ac)
{
	if (ac->open)
		petal_registry_release(&ac->reg);
	petal_host_bind_region(cli->host, NULL);
	memset(ac, 0, sizeof(*ac));
}

static int add_region(void *arg, const char *region)
{
	struct petal_ami_regions *r = arg;
	if (r->n < PETAL_ARRAY_SIZE(r->names))
		snprintf(r->names[r->n++], sizeof(r->names[0]), "%s", region);
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(a, b);
}

int petal_ami_regions(struct petal_cli *cli, const struct petal_ami_args *a,
                      struct petal_ami_regions *out)
{
	memset(out, 0, sizeof(*out));
	if (!a->all_regions) {
		/* "": the plugin's chain decides (AWS_REGION, the profile, ...) */
		snprintf(out->names[0], sizeof(out->names[0]), "%s", a->region ? a->region : "");
		out->n = 1;
		return 0;
	}
	struct petal_ami_cloud ac;
	int status = petal_ami_open(cli, NULL, NULL, &ac);
	if (status == 0) {
		struct petal_error err = PETAL_ERROR_INIT;
		int rc = petal_cloud_region_list(&ac.door, add_region, out, &err);
		if (rc < 0) {
			petal_cli_error(cli, "--all-regions: %s", err.msg);
			status = petal_cli_exit_for(rc);
		}
		qsort(out->names, out->n, sizeof(out->names[0]), by_name);
	}
	petal_ami_close(cli, &ac);
	return status;
}

int petal_ami_region_known(struct petal_cli *cli, struct petal_ami_cloud *ac,
                           const char *region, struct petal_error *err)
{
	(void)cli;
	if (!petal_cloud_has(&ac->door, "region_list"))
		return 0;
	struct petal_ami_regions *r = petal_xcalloc(1, sizeof(*r));
	int rc = petal_cloud_region_list(&ac->door, add_region, r, err);
	int found = 0;
	for (size_t i = 0; rc == 0 && i < r->n; i++)
		found |= strcmp(r->names[i], region) == 0;
	free(r);
	if (rc < 0)
		return rc;
	return found ? 0 : petal_fail(err, PETAL_EINVAL, "'%s' is not a region of this account "
	                              "(DescribeRegions does not list it)", region);
}

/* ---- output helpers ------------------------------------------------------------------ */

size_t petal_ami_count_words(const char *s)
{
	size_t n = 0;
	for (const char *p = s; p && *p;) {
		p += strspn(p, " ");
		if (!*p)
			break;
		n++;
		p += strcspn(p, " ");
	}
	return n;
}

json_t *petal_ami_words_json(const char *s)
{
	json_t *arr = json_array();
	for (const char *p = s; p && *p;) {
		p += strspn(p, " ");
		size_t len = strcspn(p, " ");
		if (len)
			json_array_append_new(arr, json_stringn(p, len));
		p += len;
	}
	return arr;
}

double petal_ami_price(struct petal_cli *cli)
{
	struct petal_estimates *est = NULL;
	struct petal_error err = PETAL_ERROR_INIT;
	if (petal_estimates_load(petal_cli_data_dir(), NULL, &est, &err) != 0) {
		petal_cli_warn(cli, "no storage price (%s): costs show as 0", err.msg);
		return 0;
	}
	double p = petal_estimates_figure(est, "ami_gb_month");
	petal_estimates_free(est);
	return p > 0 ? p : 0;
}

static void age_text(int64_t created, int64_t now, char *buf, size_t len)
{
	if (created <= 0) {
		snprintf(buf, len, "-");
		return;
	}
	int64_t s = now > created ? now - created : 0;
	if (s < 3600)
		snprintf(buf, len, "%lldm", (long long)(s / 60));
	else if (s < 2 * 86400)
		snprintf(buf, len, "%lldh", (long long)(s / 3600));
	else
		snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

json_t *petal_ami_image_json(const struct petal_image *img, double price, int64_t now)
{
	char created[32] = "";
	time_t t = (time_t)img->created;
	struct tm tm;
	if (img->created > 0 && gmtime_r(&t, &tm))
		strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	const char *hash = petal_image_tag(img, PETAL_TAG_SEED_HASH);
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s?, s:o, s:f, s:s, s:f, s:f}",
	                 "id", img->id, "name", img->name, "region", img->region,
	                 "state", img->state, "seed", petal_image_seed(img),
	                 "seed_hash", hash,
	                 "packages", petal_ami_words_json(petal_image_tag(img, PETAL_TAG_PACKAGES)),
	                 "size_gb", img->size_gb, "created", created,
	                 "age_days", img->created > 0 && now > img->created
	                             ? (double)(now - img->created) / 86400.0 : 0.0,
	                 "monthly_cost_usd", petal_image_monthly_cost(img, price));
}

/* ---- list ---------------------------------------------------------------------------- */

static int ami_list(struct petal_cli *cli, int argc, char **argv)
{
	struct petal_ami_args a;
	int status = petal_ami_parse(cli, "list", argc, argv, &a);
	if (status != 0)
		return status < 0 ? PETAL_EXIT_OK : status;
	if (a.n_ids) {
		petal_cli_error(cli, "ami list takes no arguments ('%s'); see 'petal ami list "
		                "--help'", a.ids[0]);
		return PETAL_EXIT_USAGE;
	}
	struct petal_ami_regions *regions = petal_xcalloc(1, sizeof(*regions));
	if ((status = petal_ami_regions(cli, &a, regions)) != 0)
		goto out_regions;
	double price = petal_ami_price(cli);
	int64_t now = (int64_t)time(NULL);
	struct petal_image_set set = { 0 };
	for (size_t r = 0; r < regions->n && status == 0; r++) {
		struct petal_ami_cloud ac;
		struct petal_error err = PETAL_ERROR_INIT;
		status = petal_ami_open(cli, regions->names[r][0] ? regions->names[r] : NULL, NULL,
		                        &ac);
		if (status == 0) {
			int rc = petal_images_list(&ac.door, &set, &err);
			if (rc < 0) {
				petal_cli_error(cli, "%s", err.msg);
				status = petal_cli_exit_for(rc);
			}
		}
		petal_ami_close(cli, &ac);
	}
	if (status != 0)
		goto out_set;
	double total_gb = 0, total_cost = 0;
	for (size_t i = 0; i < set.n; i++) {
		total_gb += set.imgs[i].size_gb;
		total_cost += petal_image_monthly_cost(&set.imgs[i], price);
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *imgs = json_array(), *rs = json_array();
		for (size_t i = 0; i < set.n; i++)
			json_array_append_new(imgs, petal_ami_image_json(&set.imgs[i], price, now));
		for (size_t r = 0; r < regions->n; r++)
			if (regions->names[r][0])
				json_array_append_new(rs, json_string(regions->names[r]));
			else if (set.n) /* the plugin's chain chose it: the images say which */
				json_array_append_new(rs, json_string(set.imgs[0].region));
		json_t *j = json_pack("{s:f, s:o, s:o, s:{s:i, s:f, s:f}}", "price_gb_month", price,
		                      "regions", rs, "images", imgs, "totals",
		                      "images", (json_int_t)set.n, "size_gb", total_gb,
		                      "monthly_cost_usd", total_cost);
		petal_cli_print_json(j);
		json_decref(j);
		goto out_set;
	}
	if (set.n == 0) {
		printf("no petal images in %s\n", regions->n == 1 && regions->names[0][0]
		                                  ? regions->names[0] : "any region");
		goto out_set;
	}
	printf("%-21s %-12s %-20s %-16s %4s %7s %5s %9s\n", "ID", "REGION", "NAME", "SEED",
	       "PKGS", "SIZE", "AGE", "$/MONTH");
	for (size_t i = 0; i < set.n; i++) {
		const struct petal_image *img = &set.imgs[i];
		char age[32], size[32];
		age_text(img->created, now, age, sizeof(age));
		snprintf(size, sizeof(size), "%.0f GB", img->size_gb);
		printf("%-21s %-12s %-20.40s %-16.32s %4zu %7s %5s %9.2f\n", img->id, img->region,
		       img->name, petal_image_seed(img),
		       petal_ami_count_words(petal_image_tag(img, PETAL_TAG_PACKAGES)), size, age,
		       petal_image_monthly_cost(img, price));
	}
	printf("%zu image%s, %.0f GB, $%.2f a month (snapshots at $%.3f per GB-month)\n", set.n,
	       set.n == 1 ? "" : "s", total_gb, total_cost, price);
out_set:
	petal_image_set_release(&set);
out_regions:
	free(regions);
	return status;
}

/* ---- base ------------------------------------------------------------------------------ */

static int ami_base(struct petal_cli *cli, int argc, char **argv)
{
	struct petal_ami_args a;
	int status = petal_ami_parse(cli, "base", argc, argv, &a);
	if (status != 0)
		return status < 0 ? PETAL_EXIT_OK : status;
	if (!a.seed || a.n_ids) {
		petal_cli_error(cli, "ami base takes -t SEED and nothing else; see 'petal ami base "
		                "--help'");
		return PETAL_EXIT_USAGE;
	}
	struct petal_seed *seed;
	if ((status = petal_cli_load_seed(cli, a.seed, &seed)) != 0)
		return status;
	struct petal_ami_cloud ac;
	struct petal_image *img = petal_xcalloc(1, sizeof(*img));
	img->size = sizeof(*img);
	if ((status = petal_ami_open(cli, a.region, seed, &ac)) != 0)
		goto out_cloud;
	struct petal_error err = PETAL_ERROR_INIT;
	int rc = petal_base_image_lookup(&ac.door, seed, NULL, img, &err);
	if (rc < 0) {
		petal_cli_error(cli, "%s: %s", a.seed, err.msg);
		status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_exit_for(rc);
		goto out_cloud;
	}
	int given = seed->base_ami != NULL;
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:b}", "id", img->id, "name",
		                      img->name, "region", img->region, "arch", img->arch,
		                      "deprecation_time", img->deprecation_time, "given", given);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		printf("%s%s%s%s\n", img->id, img->name[0] ? "  " : "", img->name,
		       given ? "  (software.build.base_ami)" : "");
	}
out_cloud:
	petal_ami_close(cli, &ac);
	free(img);
	petal_seed_free(seed);
	return status;
}

/* ---- dispatch -------------------------------------------------------------------------- */

static const struct petal_cli_subcommand runs[] = {
	{ "list", ami_list },
	{ "delete", petal_ami_delete },
	{ "copy", petal_ami_copy },
	{ "prune", petal_ami_prune },
	{ "base", ami_base },
};

int cmd_ami(struct petal_cli *cli, int argc, char **argv)
{
	return petal_cli_subcommands(cli, "ami", usage_text, runs, PETAL_ARRAY_SIZE(runs), argc,
	                             argv);
}
