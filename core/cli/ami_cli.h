/* What cmd_ami.c and ami_ops.c share: the options of petal ami's
   subcommands, the door in one region, and output helpers. */
#ifndef PETAL_CLI_AMI_H
#define PETAL_CLI_AMI_H

#include <jansson.h>

#include "../cloud/cloud.h"
#include "../cloud/images.h"
#include "cli.h"

enum {
	AMI_OPT_REGION = 1u << 0,
	AMI_OPT_ALL_REGIONS = 1u << 1,
	AMI_OPT_FORCE = 1u << 2,
	AMI_OPT_TO_REGION = 1u << 3,
	AMI_OPT_KEEP = 1u << 4,
	AMI_OPT_DRY_RUN = 1u << 5,
	AMI_OPT_TIMEOUT = 1u << 6,
	AMI_OPT_SEED = 1u << 7,
};

struct petal_ami_args {
	const char *region;
	int all_regions, force, dry_run;
	const char *to[16];
	size_t n_to;
	long keep;        /* -1: not given */
	int timeout_min;
	const char *seed;
	char **ids;       /* the operands */
	size_t n_ids;
};

/* The options of subcommand `sub` (only those it takes; the others are
   usage errors naming them).  0, -1 after --help (printed), or an exit
   status. */
int petal_ami_parse(struct petal_cli *cli, const char *sub, int argc, char **argv,
                    struct petal_ami_args *a);

/* The aws cloud asked in one region (NULL: the seed's, else the plugin's
   chain): a registry of its own, so that each region has its context. */
struct petal_ami_cloud {
	struct petal_registry reg;
	struct petal_cloud door;
	int open;
};
int petal_ami_open(struct petal_cli *cli, const char *region, const struct petal_seed *seed,
                   struct petal_ami_cloud *ac);
void petal_ami_close(struct petal_cli *cli, struct petal_ami_cloud *ac);

/* The regions a subcommand acts in: --region's (or the chain's), or with
   --all-regions every one DescribeRegions lists, in name order. */
struct petal_ami_regions {
	char names[64][32];
	size_t n;
};
int petal_ami_regions(struct petal_cli *cli, const struct petal_ami_args *a,
                      struct petal_ami_regions *out);
/* 0 when `region` is one of the account's (or the cloud cannot list
   them), else PETAL_EINVAL saying so. */
int petal_ami_region_known(struct petal_cli *cli, struct petal_ami_cloud *ac,
                           const char *region, struct petal_error *err);

/* USD per GB-month of snapshot storage (data/figures.json ami_gb_month). */
double petal_ami_price(struct petal_cli *cli);
size_t petal_ami_count_words(const char *s);
json_t *petal_ami_words_json(const char *s);
json_t *petal_ami_image_json(const struct petal_image *img, double price, int64_t now);

int petal_ami_delete(struct petal_cli *cli, int argc, char **argv);
int petal_ami_copy(struct petal_cli *cli, int argc, char **argv);
int petal_ami_prune(struct petal_cli *cli, int argc, char **argv);

#endif
