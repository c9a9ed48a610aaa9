/* The estimate tables, shared by estimate.c and estimate_load.c. */
#ifndef PETAL_PLAN_ESTIMATE_INTERNAL_H
#define PETAL_PLAN_ESTIMATE_INTERNAL_H

#include "estimate.h"

struct petal_est_instance {
	char *name;
	char *arch;
	int vcpus;
	double memory_gb, ondemand, spot;
};

struct petal_est_figure {
	char *name;
	double value;
};

/* How a type not in the table is guessed (instances.json "guess"). */
struct petal_est_class {
	char *name;            /* "c", "m", ...; "default" */
	double memory_gb_per_vcpu, usd_per_vcpu_hour;
};

struct petal_est_guess {
	double small_vcpus, metal_vcpus, spot_fraction;
	struct petal_est_class *classes;
	size_t n_classes, cap_classes;
};

/* One package's time in a build report. */
struct petal_est_measure {
	char *name, *version, *report, *when; /* when: the report's time, ISO 8601 */
	double seconds;
	int jobs;
};

struct petal_estimates {
	struct petal_pkg_figures def;
	struct petal_pkg_figures *pkgs;
	size_t n_pkgs, cap_pkgs;
	struct petal_est_instance *insts;
	size_t n_insts, cap_insts;
	struct petal_est_figure *figs;
	size_t n_figs, cap_figs;
	struct petal_est_guess guess;
	struct petal_est_measure *measures; /* the reports read, one per package */
	size_t n_measures, cap_measures;
};

struct petal_pkg_figures *petal_est_find_pkg(const struct petal_estimates *est,
                                             const char *name);
struct petal_est_instance *petal_est_find_inst(const struct petal_estimates *est,
                                               const char *name);
struct petal_est_figure *petal_est_find_fig(const struct petal_estimates *est,
                                            const char *name);

#endif
