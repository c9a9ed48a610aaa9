/* Figures for estimates: lookups, the parallel-speedup model and the build
   instance recommendation (the tables are read in estimate_load.c). */
#include "config.h"

#include "estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../util/util.h"
#include "estimate_internal.h"

/* ---- lookups ------------------------------------------------------------ */

struct petal_pkg_figures *petal_est_find_pkg(const struct petal_estimates *est,
                                             const char *name)
{
	for (size_t i = 0; i < est->n_pkgs; i++)
		if (strcmp(est->pkgs[i].name, name) == 0)
			return &est->pkgs[i];
	return NULL;
}

struct petal_est_instance *petal_est_find_inst(const struct petal_estimates *est,
                                               const char *name)
{
	for (size_t i = 0; i < est->n_insts; i++)
		if (strcmp(est->insts[i].name, name) == 0)
			return &est->insts[i];
	return NULL;
}

struct petal_est_figure *petal_est_find_fig(const struct petal_estimates *est,
                                            const char *name)
{
	for (size_t i = 0; i < est->n_figs; i++)
		if (strcmp(est->figs[i].name, name) == 0)
			return &est->figs[i];
	return NULL;
}

void petal_estimates_package(const struct petal_estimates *est, const char *name,
                             struct petal_pkg_figures *out)
{
	const struct petal_pkg_figures *f = name ? petal_est_find_pkg(est, name) : NULL;
	*out = f ? *f : est->def;
}

/* ---- types not in the table: a stated guess ---------------------------- */

static int family_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* The family's largest listed size, preferring sizes the size rule counts;
   *lo and *hi: the family's fewest and most vCPUs.  NULL: none listed. */
static const struct petal_est_instance *family_base(const struct petal_estimates *est,
                                                    const char *family, size_t flen,
                                                    int *lo, int *hi)
{
	const struct petal_est_instance *base = NULL;
	int base_counted = 0;
	for (size_t i = 0; i < est->n_insts; i++) {
		const struct petal_est_instance *in = &est->insts[i];
		if (strncmp(in->name, family, flen) != 0 || in->name[flen] != '.')
			continue;
		int counted = petal_instance_size_vcpus(in->name + flen + 1) > 0;
		if (!base || in->vcpus < *lo)
			*lo = in->vcpus;
		if (!base || in->vcpus > *hi)
			*hi = in->vcpus;
		if (!base || counted > base_counted ||
		    (counted == base_counted && in->vcpus > base->vcpus)) {
			base = in;
			base_counted = counted;
		}
	}
	return base;
}

static const struct petal_est_class *find_class(const struct petal_est_guess *g,
                                                const char *family)
{
	size_t n = strspn(family, "abcdefghijklmnopqrstuvwxyz");
	const struct petal_est_class *def = NULL;
	for (size_t i = 0; i < g->n_classes; i++) {
		if (strlen(g->classes[i].name) == n && strncmp(g->classes[i].name, family, n) == 0)
			return &g->classes[i];
		if (strcmp(g->classes[i].name, "default") == 0)
			def = &g->classes[i];
	}
	return def;
}

/* Figures for a well-formed type not in the table (instances.json "guess"
   says how); *basis, when asked for, is how they were had. */
static int guess_instance(const struct petal_estimates *est, const char *name,
                          struct petal_instance_type *out, char **basis)
{
	const char *dot = strchr(name, '.');
	if (!dot || dot == name || name[0] < 'a' || name[0] > 'z')
		return PETAL_ENOENT;
	size_t flen = (size_t)(dot - name);
	for (size_t i = 0; i < flen; i++)
		if (!family_char(name[i]))
			return PETAL_ENOENT;
	const char *size = dot + 1;
	int counted = petal_instance_size_vcpus(size);
	int metal = strncmp(size, "metal", 5) == 0;
	if (counted < 0)
		return PETAL_ENOENT;

	int lo = 0, hi = 0;
	const struct petal_est_instance *base = family_base(est, name, flen, &lo, &hi);
	*out = (struct petal_instance_type){ .size = sizeof(*out), .name = name, .guess = 1 };
	if (base) {
		int base_rule = petal_instance_size_vcpus(base->name + flen + 1);
		double ratio = base_rule > 0 ? (double)base->vcpus / base_rule : 1;
		if (counted > 0)
			out->vcpus = (int)fmax(1, round(counted * ratio));
		else
			out->vcpus = metal ? hi : lo;
		double per = (double)out->vcpus / base->vcpus;
		out->memory_gb = base->memory_gb * per;
		out->ondemand_usd_hour = base->ondemand * per;
		out->spot_usd_hour = base->spot * per;
		out->arch = base->arch;
		if (basis)
			*basis = petal_xasprintf("scaled per vCPU from %s (%d vCPUs, %g GB, $%g/h)",
			                         base->name, base->vcpus, base->memory_gb,
			                         base->ondemand);
		return 0;
	}
	const struct petal_est_class *c = find_class(&est->guess, name);
	if (!c)
		return PETAL_ENOENT;
	out->vcpus = counted > 0 ? counted :
		(int)(metal ? est->guess.metal_vcpus : est->guess.small_vcpus);
	out->memory_gb = out->vcpus * c->memory_gb_per_vcpu;
	out->ondemand_usd_hour = out->vcpus * c->usd_per_vcpu_hour;
	out->spot_usd_hour = out->ondemand_usd_hour * est->guess.spot_fraction;
	out->arch = petal_instance_arch(name);
	if (basis)
		*basis = petal_xasprintf("no %.*s size is listed: %s, at the %s%s%s class's %g GB "
		                         "and $%g/h per vCPU", (int)flen, name,
		                         counted > 0 ? "vCPUs from the size" :
		                         metal ? "vCPUs of a typical metal size" :
		                         "vCPUs of a typical burstable size",
		                         strcmp(c->name, "default") ? "'" : "", c->name,
		                         strcmp(c->name, "default") ? "'" : "",
		                         c->memory_gb_per_vcpu, c->usd_per_vcpu_hour);
	return 0;
}

int petal_estimates_instance(const struct petal_estimates *est, const char *name,
                             struct petal_instance_type *out)
{
	const struct petal_est_instance *in = name ? petal_est_find_inst(est, name) : NULL;
	if (!in)
		return name ? guess_instance(est, name, out, NULL) : PETAL_ENOENT;
	*out = (struct petal_instance_type){
		.size = sizeof(*out),
		.name = in->name,
		.vcpus = in->vcpus,
		.memory_gb = in->memory_gb,
		.ondemand_usd_hour = in->ondemand,
		.spot_usd_hour = in->spot,
		.arch = in->arch,
	};
	return 0;
}

char *petal_estimates_instance_basis(const struct petal_estimates *est, const char *name)
{
	struct petal_instance_type it;
	char *basis = NULL;
	if (!name || petal_est_find_inst(est, name) || guess_instance(est, name, &it, &basis))
		return NULL;
	return basis;
}

double petal_estimates_figure(const struct petal_estimates *est, const char *name)
{
	const struct petal_est_figure *f = (est && name) ? petal_est_find_fig(est, name) : NULL;
	return f ? f->value : -1;
}

/* The model (doc/plan-json.md, "Estimates"): package i does W_i core-minutes
   of which a fraction s_i is serial (Amdahl).  With J jobs (the cores, capped
   by build_parallel) and L packages built at once (build_concurrency, capped
   by the count and by J), serial parts of independent packages overlap while
   the parallel parts share the cores:
       T = max( max_i W_i (s_i + (1 - s_i) / J),  sum W_i s_i / L + sum W_i (1 - s_i) / J ) */
int petal_estimates_build(const struct petal_estimates *est,
                          const char *const *names, size_t n, const char *instance_type,
                          int parallel, struct petal_build_estimate *out)
{
	struct petal_instance_type it;
	*out = (struct petal_build_estimate){ .size = sizeof(*out) };
	if (petal_estimates_instance(est, instance_type, &it) != 0)
		return PETAL_ENOENT;
	double jobs = it.vcpus;
	if (parallel > 0 && parallel < it.vcpus)
		jobs = parallel;
	double lanes = petal_estimates_figure(est, "build_concurrency");
	if (lanes < 1)
		lanes = 1;
	if (lanes > (double)n)
		lanes = (double)n;
	if (lanes > jobs)
		lanes = jobs;
	double serial = 0, par = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		struct petal_pkg_figures f;
		petal_estimates_package(est, names[i], &f);
		double one = f.core_minutes * (f.serial_fraction + (1 - f.serial_fraction) / jobs);
		if (one > longest)
			longest = one;
		serial += f.core_minutes * f.serial_fraction;
		par += f.core_minutes * (1 - f.serial_fraction);
		out->core_minutes += f.core_minutes;
		out->size_mb += f.size_mb;
		if (f.memory_gb > out->memory_gb)
			out->memory_gb = f.memory_gb;
		out->guesses += f.guess;
	}
	double together = n ? serial / lanes + par / jobs : 0;
	out->minutes = together > longest ? together : longest;
	return 0;
}

const char *petal_estimates_recommend(const struct petal_estimates *est, const char *arch,
                                      const char *const *names, size_t n, char **why)
{
	/* Graviton builds for a Graviton cluster: c7g sizes of like vCPUs, and
	   m7g (4 GB a vCPU) where c5.24xlarge would be picked for memory. */
	int arm = arch && !strcmp(arch, "arm64");
	const char *pick, *band;
	if (n < 10) {
		pick = arm ? "c7g.4xlarge" : "c5.4xlarge";
		band = "fewer than 10";
	} else if (n < 30) {
		pick = arm ? "c7g.8xlarge" : "c5.9xlarge";
		band = "10-29";
	} else {
		pick = arm ? "c7g.16xlarge" : "c5.18xlarge";
		band = "30 or more";
	}
	struct petal_instance_type cand = { .vcpus = 0 };
	int have = petal_estimates_instance(est, pick, &cand) == 0;
	/* Memory-heavy: one package's jobs, run side by side, outgrow the pick. */
	double jobs = petal_estimates_figure(est, "memory_check_jobs");
	if (jobs < 1)
		jobs = 16;
	if (have && jobs > cand.vcpus)
		jobs = cand.vcpus;
	const char *heavy = NULL;
	double heavy_gb = 0;
	for (size_t i = 0; have && i < n; i++) {
		struct petal_pkg_figures f;
		petal_estimates_package(est, names[i], &f);
		if (f.memory_gb * jobs > cand.memory_gb && f.memory_gb > heavy_gb) {
			heavy = names[i];
			heavy_gb = f.memory_gb;
		}
	}
	struct petal_instance_type big = { .vcpus = 0 };
	if (heavy) {
		const char *biggest = arm ? "m7g.16xlarge" : "c5.24xlarge";
		petal_estimates_instance(est, biggest, &big);
		*why = petal_xasprintf("%zu package%s (%s) would take %s, but %s needs ~%g GB per "
		                       "build job: %g jobs need %g GB, more than its %g GB: "
		                       "memory-heavy, %s, %d vCPUs, %g GB",
		                       n, n == 1 ? "" : "s", band, pick, heavy, heavy_gb, jobs,
		                       heavy_gb * jobs, cand.memory_gb, biggest, big.vcpus,
		                       big.memory_gb);
		return biggest;
	}
	*why = petal_xasprintf("%zu package%s (%s): %s, %d vCPUs", n, n == 1 ? "" : "s", band,
	                       pick, cand.vcpus);
	return pick;
}
