/* Composition: the seed's packages claimed by tiers into one plan of steps. */
#ifndef PETAL_PLAN_H
#define PETAL_PLAN_H

#include <stddef.h>

#include <jansson.h>

#include <petal/plugin.h>

#include "../plugin/registry.h"
#include "../seed/seed.h"
#include "estimate.h"

struct petal_plan_tag {
	char *key, *value;
};

/* A step's struct petal_action, owned: what the run layer executes. */
struct petal_plan_action {
	enum petal_action_kind kind;
	char *instance_type;        /* NULL unless on a build instance */
	int spot, spot_fallback;
	int volume_gb;
	long timeout_s;
	char **parts;
	size_t n_parts;
	char *image_name;           /* IMAGE, else NULL */
	struct petal_plan_tag *image_tags;
	size_t n_image_tags;
	enum petal_product produces;
	char *output;               /* known at plan time, or NULL */
	enum petal_product uses;
	char *input;                /* known at plan time, or NULL */
};

struct petal_plan_step {
	char *id;
	char *tier;
	char *stage;
	char *runs_on;
	char *note;
	char **packages;
	size_t n_packages;
	char **depends_on;
	size_t n_depends_on;
	double est_minutes;
	double est_cost_usd;
	int one_time;
	int guess;
	int from_cloud;    /* rests on the cloud's answers (petal plan --probe) */
	int stage_rank;    /* the stage's place in the order (petal_plan_stage_rank) */
	char **after_stages; /* as the tier named them; depends_on holds them resolved */
	size_t n_after_stages;
	struct petal_plan_action *action; /* NULL: the tier gave none */
};

/* A tier that was the seed's choice for a package but could not serve it. */
struct petal_plan_decline {
	char *tier;
	char *reason;
};

/* Which tier delivers each package, and which declined it first. */
struct petal_plan_claim {
	size_t pkg;        /* index into seed->pkgs */
	char *tier;
	char *declined;    /* "ami: cloud 'local' cannot build images; ..." or NULL */
	struct petal_plan_decline *declines; /* the same, one by one, in rank order */
	size_t n_declines;
	/* petal plan --probe: the binary cache's answer for this package */
	int cache_probed, cache_hit;
	char *cache_version, *cache_hash; /* on a hit */
};

/* One question `petal plan --probe` put, and what it learnt. */
struct petal_plan_answer {
	char *question;  /* "binary cache index", "custom_ami ami-base-bio-v2", ... */
	char *answer;    /* "1 of 2 packages held: petal-hello@1.0", "ami-0123... (x86_64)" */
	char *source;    /* where it was asked ("file:///m (cloud local)"), or NULL */
	int from_cloud;  /* the cloud answered; 0: not asked, and why is the answer */
};

/* What the cloud answered, when the plan was probed (probe.c). */
struct petal_plan_probe {
	int done;                          /* the plan was composed with --probe */
	char *cloud;                       /* the seed's cloud */
	struct petal_plan_answer *answers;
	size_t n_answers;
	/* owned copies behind info.cache_url, seed_image_*, custom_ami_* */
	char *cache_url, *seed_image_id, *seed_image_arch, *custom_ami_id, *custom_ami_arch;
	size_t cache_hits, cache_asked;
};

/* An instance type the seed names that petal's table lacks: the figures the
   plan used, guessed (petal_estimates_instance), and how. */
struct petal_plan_instance_guess {
	char *type;
	char *where;       /* the seed's key: "compute.head_node", ... */
	char *arch;
	char *basis;       /* "scaled per vCPU from m7g.16xlarge (...)" */
	int vcpus;
	double memory_gb, ondemand_usd_hour, spot_usd_hour;
};

struct petal_plan {
	const struct petal_seed *seed;       /* borrowed */
	struct petal_seed_info info;         /* what plugins see; strings borrowed */
	struct petal_plan_claim *claims;
	size_t n_claims;
	struct petal_plan_step *steps;
	size_t n_steps, cap_steps;
	char *build_instance;
	char *build_instance_reason;         /* NULL when the seed named one */
	/* one-time preparation (image and cache builds), critical path */
	double prepare_minutes, prepare_cost_usd;
	/* cluster creation to ready, with what was prepared */
	double ready_minutes, ready_cost_usd;
	/* everything from source on the head node at creation */
	double baseline_minutes, baseline_cost_usd;
	char *baseline_runs_on;
	int guesses;                         /* packages estimated from defaults */
	char **guess_names;                  /* their names, each once, seed order */
	size_t n_guess_names;
	char **tiers;                        /* the active tiers asked, rank order */
	size_t n_tiers;
	uint32_t cloud_caps;                 /* PETAL_CAP_* of the seed's cloud */
	struct petal_plan_probe probe;       /* done == 0 for an offline plan */
	struct petal_plan_instance_guess *instance_guesses; /* seed order, each type once */
	size_t n_instance_guesses, cap_instance_guesses;
	struct petal_plan_measured *measured; /* seed order, each package once */
	size_t n_measured, cap_measured;
};

/* A seed's package whose figures come from a build report (the build's
   measured time over the tables: petal_estimates_load_reports). */
struct petal_plan_measured {
	char *name, *version, *report;
	double seconds;      /* the build's wall time in the report */
	int jobs;            /* ... with that many build jobs */
	double core_minutes; /* the work the plan scales to each machine's cores */
};

/* Ask the active tiers in rank order to claim each package, then each tier
   to plan its packages.  Tiers are init'ed here.  A package no tier claims is
   an error naming it (PETAL_EINVAL). */
int petal_plan_compose(const struct petal_seed *seed, struct petal_registry *reg,
                       struct petal_estimates *est, struct petal_plan **out,
                       struct petal_error *err);
void petal_plan_free(struct petal_plan *plan);

/* Run between claiming and planning: `after_claims` sees the claims
   (plan->claims) and may fill plan->probe, plan->info's probed members and
   the packages the tiers' plan ops will see (pkgs[i] is seed package i;
   strings it sets must live as long as the plan).  A failure stops the
   composition with its error.  petal plan --probe uses it (probe.h). */
struct petal_plan_hook {
	int (*after_claims)(void *arg, struct petal_plan *plan, struct petal_package *pkgs,
	                    struct petal_error *err);
	void *arg;
};
/* petal_plan_compose with a hook (NULL: the same as petal_plan_compose). */
int petal_plan_compose_hooked(const struct petal_seed *seed, struct petal_registry *reg,
                              struct petal_estimates *est, const struct petal_plan_hook *hook,
                              struct petal_plan **out, struct petal_error *err);

/* Seed package i as tiers see it (strings borrowed from the seed); the
   planner and the renderer hand tiers the same view. */
void petal_plan_package(const struct petal_seed *seed, size_t i, struct petal_package *out);

/* Longest path, by est_minutes, through the steps whose one_time equals
   `one_time` (0 or 1), following depends_on among them; -1 on a cycle.
   prepare_minutes is this over the one-time steps, ready_minutes over the
   creation-time ones. */
double petal_plan_critical_path(const struct petal_plan *plan, int one_time);

/* Behind host->planner_seed and host->plan_add_step (struct petal_planner is
   defined in compose.c: the plan being built and the tier adding to it). */
const struct petal_seed_info *petal_planner_seed(struct petal_planner *pl);
int petal_planner_add_step(struct petal_planner *pl, const struct petal_step *step,
                           struct petal_error *err);

/* The stages of a plan in order (PETAL_STAGE_*), NULL-terminated. */
extern const char *const petal_plan_stages[];
/* A stage's place in the order (stages of one place run side by side), or
   -1 when it is not a stage. */
int petal_plan_stage_rank(const char *stage);
/* Is a stage one-time preparation (prepare, image-build, cache-build)? */
int petal_plan_stage_one_time(const char *stage);

/* "image", "cache-fill", ... and "image-id", "mirror-url" (doc/plan-json.md);
   NULL for NONE. */
const char *petal_action_kind_name(enum petal_action_kind kind);
const char *petal_product_name(enum petal_product out);
/* The first step whose action produces `what` (the image the cluster boots,
   the mirror nodes pull from), or NULL: found by what it does, never by its
   tier or id. */
const struct petal_plan_step *petal_plan_producer(const struct petal_plan *plan,
                                                  enum petal_product what);

/* Stable JSON form, documented in doc/plan-json.md. */
json_t *petal_plan_to_json(const struct petal_plan *plan);
/* Human text; colour escapes only when color is set. Caller frees. */
char *petal_plan_to_text(const struct petal_plan *plan, int color);

/* The design's cost comparison for `clusters` clusters over `months`. */
struct petal_cost_option {
	const char *key;     /* "head-node-build", "build-instance-ami", "binary-cache" */
	const char *title;
	double one_time_usd;
	double storage_usd;  /* over all months */
	double per_cluster_usd;
	double total_usd;
	double ready_minutes; /* per cluster */
	int cheapest;
};
#define PETAL_COST_OPTIONS 3
void petal_plan_compare_costs(const struct petal_plan *plan,
                              const struct petal_estimates *est, int clusters,
                              int months, struct petal_cost_option out[PETAL_COST_OPTIONS]);
json_t *petal_costs_to_json(const struct petal_cost_option opts[PETAL_COST_OPTIONS],
                            int clusters, int months);
char *petal_costs_to_text(const struct petal_cost_option opts[PETAL_COST_OPTIONS],
                          int clusters, int months, int color);

#endif
