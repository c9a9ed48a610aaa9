/* The plan for a person: per tier its packages and steps, then the totals
   beside the all-from-source baseline; guesses marked with '~'. */
#include "config.h"

#include "plan.h"

#include <stdlib.h>
#include <string.h>

#include "../util/util.h"

#define WIDTH 78

struct out {
	struct petal_strbuf sb;
	int color;
};

static void paint(struct out *o, const char *code, const char *text)
{
	if (o->color)
		petal_strbuf_printf(&o->sb, "\033[%sm%s\033[0m", code, text);
	else
		petal_strbuf_puts(&o->sb, text);
}

/* "26 min", "4 h 32 min": hours read better past an hour and a half. */
static void fmt_minutes(char *buf, size_t len, double m)
{
	if (!(m < 6e7)) { /* a century: past it the figure is no estimate */
		snprintf(buf, len, "over 100 years");
		return;
	}
	long whole = (long)(m + 0.5);
	if (whole < 90)
		snprintf(buf, len, "%ld min", whole);
	else
		snprintf(buf, len, "%ld h %02ld min", whole / 60, whole % 60);
}

static void fmt_usd(char *buf, size_t len, double usd)
{
	snprintf(buf, len, "$%.2f", usd);
}

/* Words after `lead`, wrapped at WIDTH with `indent` on later lines. */
static void wrapped(struct out *o, size_t col0, const char *lead, char *const *words,
                    size_t n, const char *indent)
{
	size_t col = col0 + strlen(lead);
	petal_strbuf_puts(&o->sb, lead);
	for (size_t i = 0; i < n; i++) {
		size_t w = strlen(words[i]) + 1;
		if (i && col + w > WIDTH) {
			petal_strbuf_printf(&o->sb, "\n%s", indent);
			col = strlen(indent);
		} else {
			petal_strbuf_putc(&o->sb, ' ');
		}
		petal_strbuf_puts(&o->sb, words[i]);
		col += w;
	}
	petal_strbuf_putc(&o->sb, '\n');
}

/* Free text wrapped at WIDTH, every line starting with `indent`. */
static void wrapped_text(struct out *o, const char *text, const char *indent,
                         const char *colour)
{
	struct petal_strbuf line = PETAL_STRBUF_INIT;
	const char *p = text;
	while (*p) {
		const char *end = strchr(p, ' ');
		size_t w = end ? (size_t)(end - p) : strlen(p);
		if (line.len && strlen(indent) + line.len + 1 + w > WIDTH) {
			petal_strbuf_puts(&o->sb, indent);
			paint(o, colour, petal_strbuf_str(&line));
			petal_strbuf_putc(&o->sb, '\n');
			line.len = 0;
			line.buf[0] = '\0';
		}
		if (line.len)
			petal_strbuf_putc(&line, ' ');
		petal_strbuf_add(&line, p, w);
		p += w;
		while (*p == ' ')
			p++;
	}
	if (line.len) {
		petal_strbuf_puts(&o->sb, indent);
		paint(o, colour, petal_strbuf_str(&line));
		petal_strbuf_putc(&o->sb, '\n');
	}
	petal_strbuf_release(&line);
}

/* "26 min" or "~26 min" right-aligned in `width`, and the same for dollars. */
static void figures(struct out *o, double minutes, double usd, int guess)
{
	char mins[32], cost[32], a[40], b[40];
	fmt_minutes(mins, sizeof(mins), minutes);
	fmt_usd(cost, sizeof(cost), usd);
	snprintf(a, sizeof(a), "%s%s", guess ? "~" : "", mins);
	snprintf(b, sizeof(b), "%s%s", guess ? "~" : "", cost);
	if (guess && o->color)
		petal_strbuf_printf(&o->sb, "\033[33m %12s %9s\033[0m", a, b);
	else
		petal_strbuf_printf(&o->sb, " %12s %9s", a, b);
}

static void header(struct out *o, const struct petal_plan *plan)
{
	const struct petal_seed_info *s = &plan->info;
	char line[512];
	snprintf(line, sizeof(line), "Plan for %s", s->cluster_name ? s->cluster_name : "?");
	paint(o, "1", line);
	petal_strbuf_printf(&o->sb, " (%s)\n", s->path ? s->path : "seed");
	petal_strbuf_printf(&o->sb, "  region %s, cloud %s, os %s, seed hash %.12s\n",
	                    s->region ? s->region : "?", s->cloud ? s->cloud : "?",
	                    s->os ? s->os : "?", s->hash ? s->hash : "?");
	petal_strbuf_printf(&o->sb, "  build instance %s (%s)", plan->build_instance,
	                    s->build_spot ? "spot" : "on demand");
	if (plan->build_instance_reason)
		petal_strbuf_printf(&o->sb, ", recommended: %s\n", plan->build_instance_reason);
	else
		petal_strbuf_puts(&o->sb, ", as the seed says\n");
	/* types petal's table lacks: what the plan assumed of them */
	for (size_t i = 0; i < plan->n_instance_guesses; i++) {
		const struct petal_plan_instance_guess *g = &plan->instance_guesses[i];
		char *said = petal_xasprintf("~ a guess: instance type %s (%s) is not in petal's "
		                             "table: %d vCPUs, %.4g GB, $%.4g/h on demand, %s, %s; "
		                             "give its figures under estimates.instances.%s",
		                             g->type, g->where, g->vcpus, g->memory_gb,
		                             g->ondemand_usd_hour, g->arch,
		                             g->basis ? g->basis : "guessed", g->type);
		wrapped_text(o, said, "  ", "33");
		free(said);
	}
	/* --probe: each question, and whether the cloud answered it */
	for (size_t i = 0; i < plan->probe.n_answers; i++) {
		const struct petal_plan_answer *a = &plan->probe.answers[i];
		char *said = petal_xasprintf("%s %s: %s%s%s%s", a->from_cloud ? "from the cloud:"
		                             : "not from the cloud:", a->question, a->answer,
		                             a->source ? " [" : "", a->source ? a->source : "",
		                             a->source ? "]" : "");
		wrapped_text(o, said, "  ", a->from_cloud ? "36" : "33");
		free(said);
	}
	petal_strbuf_putc(&o->sb, '\n');
}

/* --probe: what the binary cache said about this tier's packages. */
static void cache_line(struct out *o, const struct petal_plan *plan, const char *tier)
{
	struct petal_strbuf held = PETAL_STRBUF_INIT, missing = PETAL_STRBUF_INIT;
	for (size_t i = 0; i < plan->n_claims; i++) {
		const struct petal_plan_claim *c = &plan->claims[i];
		if (!c->cache_probed || !c->tier || strcmp(c->tier, tier) != 0)
			continue;
		const char *spec = plan->seed->pkgs[c->pkg].text;
		if (c->cache_hit)
			petal_strbuf_printf(&held, "%s%s (%s)", held.len ? ", " : "", spec,
			                    c->cache_version ? c->cache_version : "?");
		else
			petal_strbuf_printf(&missing, "%s%s", missing.len ? ", " : "", spec);
	}
	if (held.len || missing.len) {
		char *line = petal_xasprintf("from the cloud: the cache holds %s; not %s",
		                             held.len ? petal_strbuf_str(&held) : "none",
		                             missing.len ? petal_strbuf_str(&missing) : "none");
		wrapped_text(o, line, "    ", "36");
		free(line);
	}
	petal_strbuf_release(&held);
	petal_strbuf_release(&missing);
}

static void step_line(struct out *o, const struct petal_plan_step *s)
{
	petal_strbuf_printf(&o->sb, "    %-24s %-6s", s->id, s->one_time ? "once" : "create");
	figures(o, s->est_minutes, s->est_cost_usd, s->guess);
	petal_strbuf_printf(&o->sb, "   %s\n", s->runs_on);
	if (s->note)
		wrapped_text(o, s->note, "      ", "2");
}

static void tier_block(struct out *o, const struct petal_plan *plan, const char *tier)
{
	char **specs = petal_xcalloc(plan->n_claims + 1, sizeof(*specs));
	size_t n = 0;
	for (size_t i = 0; i < plan->n_claims; i++)
		if (plan->claims[i].tier && strcmp(plan->claims[i].tier, tier) == 0)
			specs[n++] = plan->seed->pkgs[plan->claims[i].pkg].text;
	paint(o, "1", tier);
	char lead[128];
	if (n == 0) {
		petal_strbuf_puts(&o->sb, ": nothing to deliver\n");
		free(specs);
		return;
	}
	snprintf(lead, sizeof(lead), ": %zu package%s:", n, n == 1 ? "" : "s");
	wrapped(o, strlen(tier), lead, specs, n, "    ");
	free(specs);
	cache_line(o, plan, tier);
	for (size_t i = 0; i < plan->n_steps; i++)
		if (strcmp(plan->steps[i].tier, tier) == 0)
			step_line(o, &plan->steps[i]);
	/* Packages that came here because earlier tiers declined them, grouped
	   by the reasons, which tend to repeat. */
	for (size_t i = 0; i < plan->n_claims; i++) {
		const struct petal_plan_claim *c = &plan->claims[i];
		if (!c->tier || strcmp(c->tier, tier) != 0 || !c->declined)
			continue;
		int seen = 0;
		for (size_t j = 0; j < i && !seen; j++)
			seen = plan->claims[j].tier && strcmp(plan->claims[j].tier, tier) == 0 &&
			       plan->claims[j].declined &&
			       strcmp(plan->claims[j].declined, c->declined) == 0;
		if (seen)
			continue;
		char **group = petal_xcalloc(plan->n_claims, sizeof(*group));
		size_t k = 0;
		for (size_t j = i; j < plan->n_claims; j++)
			if (plan->claims[j].tier && strcmp(plan->claims[j].tier, tier) == 0 &&
			    plan->claims[j].declined &&
			    strcmp(plan->claims[j].declined, c->declined) == 0)
				group[k++] = plan->seed->pkgs[plan->claims[j].pkg].text;
		char *why = petal_xasprintf("declined by %s:", c->declined);
		wrapped_text(o, why, "    ", "33");
		wrapped(o, 0, "     ", group, k, "      ");
		free(why);
		free(group);
	}
}

static int any_guess(const struct petal_plan *plan, int one_time)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].guess && plan->steps[i].one_time == one_time)
			return 1;
	return 0;
}

static void total_line(struct out *o, const char *label, double minutes, double usd,
                       int guess, const char *colour, const char *tail)
{
	char line[256];
	snprintf(line, sizeof(line), "%-52s", label);
	paint(o, colour, line);
	figures(o, minutes, usd, guess);
	petal_strbuf_printf(&o->sb, "%s\n", tail ? tail : "");
}

char *petal_plan_to_text(const struct petal_plan *plan, int color)
{
	struct out o = { PETAL_STRBUF_INIT, color };
	header(&o, plan);
	petal_strbuf_printf(&o.sb, "    %-24s %-6s %12s %9s   %s\n", "step", "when", "time",
	                    "cost", "runs on");
	for (size_t t = 0; t < plan->n_tiers; t++)
		tier_block(&o, plan, plan->tiers[t]);
	petal_strbuf_putc(&o.sb, '\n');

	char label[160], tail[64] = "";
	total_line(&o, "Prepare once, reused while the seed hash holds:", plan->prepare_minutes,
	           plan->prepare_cost_usd, any_guess(plan, 1), "1", NULL);
	total_line(&o, "Time to ready, from cluster creation:", plan->ready_minutes,
	           plan->ready_cost_usd, any_guess(plan, 0), "1;32", NULL);
	snprintf(label, sizeof(label), "All from source on the %s:", plan->baseline_runs_on);
	if (plan->ready_minutes > 0)
		snprintf(tail, sizeof(tail), "   %.1fx the time to ready",
		         plan->baseline_minutes / plan->ready_minutes);
	total_line(&o, label, plan->baseline_minutes, plan->baseline_cost_usd,
	           plan->guesses > 0, "0", tail);

	if (plan->n_guess_names) {
		petal_strbuf_putc(&o.sb, '\n');
		paint(&o, "33", "~");
		wrapped(&o, 1, " a guess: petal has no build figures for", plan->guess_names,
		        plan->n_guess_names, "  ");
		petal_strbuf_puts(&o.sb, "  and used its defaults; give them under "
		                  "estimates.packages in the seed.\n");
	}
	for (size_t i = 0; i < plan->n_measured; i++) {
		const struct petal_plan_measured *m = &plan->measured[i];
		char *said = petal_xasprintf("= measured: %s@%s built in %.1f s with %d jobs (%s): "
		                             "%.2f core-minutes, scaled to each machine's cores",
		                             m->name, m->version, m->seconds, m->jobs, m->report,
		                             m->core_minutes);
		if (i == 0)
			petal_strbuf_putc(&o.sb, '\n');
		wrapped_text(&o, said, "", "0");
		free(said);
	}
	return petal_strbuf_detach(&o.sb);
}
