/* The design's cost comparison for this seed: build on the head node at
   every creation, bake an AMI once, or fill a binary cache once.  The same
   figures the tiers plan with, applied to all the Spack-built packages. */
#include "config.h"

#include "plan.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

/* A missing figure counts for nothing rather than making totals negative. */
static double fig(const struct petal_estimates *est, const char *name)
{
	double v = petal_estimates_figure(est, name);
	return v > 0 ? v : 0;
}

void petal_plan_compare_costs(const struct petal_plan *plan,
                              const struct petal_estimates *est, int clusters,
                              int months, struct petal_cost_option out[PETAL_COST_OPTIONS])
{
	const struct petal_seed *seed = plan->seed;
	const char **names = petal_xcalloc(seed->n_pkgs + 1, sizeof(*names));
	size_t n = 0;
	/* Container modules arrive the same way whichever option is chosen. */
	for (size_t i = 0; i < seed->n_pkgs; i++)
		if (seed->pkgs[i].section != PETAL_SECTION_CONTAINER)
			names[n++] = seed->pkgs[i].spec.name;

	struct petal_instance_type head = { .ondemand_usd_hour = 0 };
	struct petal_instance_type build = { .ondemand_usd_hour = 0 };
	petal_estimates_instance(est, plan->info.head_node, &head);
	petal_estimates_instance(est, plan->build_instance, &build);
	double build_usd_hour = plan->info.build_spot ? build.spot_usd_hour :
		build.ondemand_usd_hour;
	struct petal_build_estimate on_head = { .minutes = 0 }, on_build = { .minutes = 0 };
	petal_estimates_build(est, names, n, plan->info.head_node, plan->info.build_parallel,
	                      &on_head);
	petal_estimates_build(est, names, n, plan->build_instance, plan->info.build_parallel,
	                      &on_build);
	free(names);

	double size_gb = on_build.size_mb / 1024.0;
	double boot = fig(est, "boot_minutes");
	double launch = fig(est, "build_instance_boot_minutes");
	double push_mb_s = fig(est, "cache_push_mb_s"), pull_mb_s = fig(est, "cache_pull_mb_s");
	double push = push_mb_s > 0 ? on_build.size_mb / push_mb_s / 60 : 0;
	double pull = (double)n * fig(est, "cache_pkg_overhead_minutes") +
		(pull_mb_s > 0 ? on_build.size_mb / pull_mb_s / 60 : 0);

	out[0] = (struct petal_cost_option){
		.key = "head-node-build",
		.title = "build on the head node at every creation",
		.per_cluster_usd = on_head.minutes / 60 * head.ondemand_usd_hour,
		.ready_minutes = boot + on_head.minutes,
	};
	out[1] = (struct petal_cost_option){
		.key = "build-instance-ami",
		.title = "build instance + AMI",
		.one_time_usd = (launch + on_build.minutes + fig(est, "ami_snapshot_minutes")) / 60 *
			build_usd_hour,
		.storage_usd = (fig(est, "base_ami_gb") + size_gb) * fig(est, "ami_gb_month") * months,
		.per_cluster_usd = boot / 60 * head.ondemand_usd_hour,
		.ready_minutes = boot,
	};
	out[2] = (struct petal_cost_option){
		.key = "binary-cache",
		.title = "binary cache in S3",
		.one_time_usd = (launch + on_build.minutes + push) / 60 * build_usd_hour,
		.storage_usd = size_gb * fig(est, "s3_gb_month") * months,
		.per_cluster_usd = (boot + pull) / 60 * head.ondemand_usd_hour +
			size_gb * fig(est, "transfer_gb"),
		.ready_minutes = boot + pull,
	};
	size_t best = 0;
	for (size_t i = 0; i < PETAL_COST_OPTIONS; i++) {
		out[i].total_usd = out[i].one_time_usd + out[i].storage_usd +
			out[i].per_cluster_usd * clusters;
		if (out[i].total_usd < out[best].total_usd)
			best = i;
	}
	out[best].cheapest = 1;
}

json_t *petal_costs_to_json(const struct petal_cost_option opts[PETAL_COST_OPTIONS],
                            int clusters, int months)
{
	json_t *list = json_array();
	const char *cheapest = NULL;
	for (size_t i = 0; i < PETAL_COST_OPTIONS; i++) {
		const struct petal_cost_option *o = &opts[i];
		if (o->cheapest)
			cheapest = o->key;
		json_array_append_new(list, json_pack(
			"{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:b}",
			"key", o->key, "title", o->title,
			"one_time_usd", round(o->one_time_usd * 100) / 100,
			"storage_usd", round(o->storage_usd * 100) / 100,
			"per_cluster_usd", round(o->per_cluster_usd * 100) / 100,
			"total_usd", round(o->total_usd * 100) / 100,
			"ready_minutes", round(o->ready_minutes * 10) / 10,
			"cheapest", o->cheapest));
	}
	return json_pack("{s:i, s:i, s:o, s:s?}", "clusters", clusters, "months", months,
	                 "options", list, "cheapest", cheapest);
}

char *petal_costs_to_text(const struct petal_cost_option opts[PETAL_COST_OPTIONS],
                          int clusters, int months, int color)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_printf(&sb, "Cost of %d cluster%s over %d month%s:\n", clusters,
	                    clusters == 1 ? "" : "s", months, months == 1 ? "" : "s");
	petal_strbuf_printf(&sb, "  %-42s %9s %9s %11s %10s %12s\n", "", "one-time", "storage",
	                    "per cluster", "total", "ready in");
	for (size_t i = 0; i < PETAL_COST_OPTIONS; i++) {
		const struct petal_cost_option *o = &opts[i];
		char ready[32];
		long m = (long)(o->ready_minutes + 0.5);
		if (m < 90)
			snprintf(ready, sizeof(ready), "%ld min", m);
		else
			snprintf(ready, sizeof(ready), "%ld h %02ld min", m / 60, m % 60);
		if (o->cheapest && color)
			petal_strbuf_puts(&sb, "\033[1;32m");
		petal_strbuf_printf(&sb, "%s %-42s %9.2f %9.2f %11.2f %10.2f %12s%s",
		                    o->cheapest ? "*" : " ", o->title, o->one_time_usd,
		                    o->storage_usd, o->per_cluster_usd, o->total_usd, ready,
		                    o->cheapest ? "   cheapest" : "");
		if (o->cheapest && color)
			petal_strbuf_puts(&sb, "\033[0m");
		petal_strbuf_putc(&sb, '\n');
	}
	petal_strbuf_puts(&sb, "  (USD; storage over all the months; per cluster: head-node time "
	                  "to get the software, plus transfer for the cache)\n");
	return petal_strbuf_detach(&sb);
}
