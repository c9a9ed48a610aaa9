/* Figures behind every estimate: per-package build cost, instance types and
   prices, read from the data files installed with petal and overridden by the
   seed's `estimates` section. */
#ifndef PETAL_PLAN_ESTIMATE_H
#define PETAL_PLAN_ESTIMATE_H

#include <stddef.h>

#include <petal/plugin.h>

#include "../seed/seed.h"

struct petal_pkg_figures {
	char *name;
	double core_minutes;    /* total CPU work of one build */
	double serial_fraction; /* Amdahl: the part that does not parallelise */
	double size_mb;         /* installed size */
	double memory_gb;       /* peak memory per build job */
	int guess;              /* defaults: the package is not in the tables */
	/* core_minutes from a build report (petal_estimates_load_reports): the
	   wall time a build took with that many jobs, owned by the estimates */
	int measured;
	double measured_seconds;
	int measured_jobs;
	const char *measured_version, *measured_report;
};

struct petal_estimates; /* opaque */

/* Load packages.json, instances.json and figures.json from data_dir, then
   apply the seed's `estimates` overrides (seed may be NULL). */
int petal_estimates_load(const char *data_dir, const struct petal_seed *seed,
                         struct petal_estimates **out, struct petal_error *err);
void petal_estimates_free(struct petal_estimates *est);

/* Build reports (report.json of build-instance.sh, doc/plan-json.md
   "Measured times"): every *.json file in dir, in name order.  A package a
   report times (built there, not from the cache) gets core_minutes from
   that time, scaled back from the report's jobs under the model of
   petal_estimates_build, and `measured` set; the newest report wins, a
   seed's own estimates.packages.NAME.core_minutes wins over any, and a
   report of another version than the seed's exact @VERSION is not used.
   A file that is not a build report is skipped: warn(ctx, message naming it)
   says so.  A missing dir is no reports.  Returns the packages measured. */
size_t petal_estimates_load_reports(struct petal_estimates *est, const char *dir,
                                    const struct petal_seed *seed,
                                    void (*warn)(void *ctx, const char *msg), void *ctx);

/* Figures for one package (defaults, with guess set, when unknown). */
void petal_estimates_package(const struct petal_estimates *est, const char *name,
                             struct petal_pkg_figures *out);
/* The table's figures for an instance type; for a well-formed type not in
   it (family.size, petal_instance_size_vcpus knows the size) a guess, with
   out->guess set (instances.json "guess" says how).  PETAL_ENOENT for a
   malformed name, or when nothing to guess from is listed. */
int petal_estimates_instance(const struct petal_estimates *est, const char *name,
                             struct petal_instance_type *out);
/* How a guessed type's figures were had ("scaled per vCPU from m7g.16xlarge
   ..."), for the plan to say; NULL when the type is listed or cannot be
   guessed.  Caller frees. */
char *petal_estimates_instance_basis(const struct petal_estimates *est, const char *name);
/* Named figure (see data/figures.json); < 0 when unknown. */
double petal_estimates_figure(const struct petal_estimates *est, const char *name);

/* Wall-clock minutes to build `names` with `vcpus` cores (parallel jobs
   capped by `parallel` when > 0) under the parallel-speedup model. */
int petal_estimates_build(const struct petal_estimates *est,
                          const char *const *names, size_t n, const char *instance_type,
                          int parallel, struct petal_build_estimate *out);

/* The build instance for a stack on `arch` ("x86_64" or "arm64", the
   cluster's): fewer than 10 packages c5.4xlarge, 10-30 c5.9xlarge, 30+
   c5.18xlarge, memory-heavy c5.24xlarge; on arm64 c7g.4xlarge, c7g.8xlarge,
   c7g.16xlarge, m7g.16xlarge.  *why is a sentence the plan shows; caller frees. */
const char *petal_estimates_recommend(const struct petal_estimates *est, const char *arch,
                                      const char *const *names, size_t n, char **why);

#endif
