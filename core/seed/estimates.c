/* The estimates section: the seed's overrides of the figures in petal's data
   tables.  Only checked here; the planner reads them through seed->root. */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "schema.h"

static const char *const estimate_keys[] = { "packages", "instances", "figures", NULL };
static const char *const package_keys[] = { "core_minutes", "serial_fraction", "size_mb",
	                                    "memory_gb", NULL };
static const char *const instance_keys[] = { "vcpus", "memory_gb", "ondemand_usd_hour",
	                                     "spot_usd_hour", "arch", NULL };

static int package_name_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER PETAL_DIGIT, PETAL_LOWER PETAL_DIGIT "-_", 128);
}

static int figure_name_ok(const char *s)
{
	return petal_schema_word(s, PETAL_LOWER, PETAL_LOWER PETAL_DIGIT "_", 64);
}

/* Each numeric key of `m` (those in `keys`, vcpus excepted) >= 0. */
static void numbers(struct petal_diags *d, const struct petal_node *m, const char *path,
                    const char *const *keys)
{
	for (size_t i = 0; keys[i]; i++) {
		const struct petal_node *n = petal_node_get(m, keys[i]);
		if (!n || !strcmp(keys[i], "arch") || !strcmp(keys[i], "vcpus"))
			continue;
		char *p = petal_schema_key(path, keys[i]);
		double v;
		double max = strcmp(keys[i], "serial_fraction") ? PETAL_FIGURE_MAX : 1.0;
		if (petal_schema_number(d, n, p, 0.0, max, &v) == 0)
			petal_diags_add(d, n->line, n->col, p, "an empty value; expected a number");
		free(p);
	}
}

/* A mapping of name -> mapping, each name checked by `name_ok`. */
static void table(struct petal_diags *d, const struct petal_node *est, const char *key,
                  int (*name_ok)(const char *), const char *name_what,
                  const char *const *keys)
{
	char *path = petal_schema_key("estimates", key);
	const struct petal_node *t = petal_schema_child(d, est, key, path, PETAL_NODE_MAP, NULL);
	for (size_t i = 0; t && i < t->n; i++) {
		char *ep = petal_schema_key(path, t->keys[i]);
		const struct petal_node *e = t->items[i];
		char buf[96];
		if (!name_ok(t->keys[i]))
			petal_diags_add(d, t->key_line[i], t->key_col[i], ep, "'%s' is not %s",
			                t->keys[i], name_what);
		if (e->type != PETAL_NODE_MAP) {
			petal_diags_add(d, e->line, e->col, ep, "expected a mapping of figures, "
			                "got %s", petal_schema_got(e, buf, sizeof(buf)));
			free(ep);
			continue;
		}
		petal_schema_keys(d, e, ep, keys);
		numbers(d, e, ep, keys);
		int vcpus;
		char *vp = petal_schema_key(ep, "vcpus");
		petal_schema_int(d, e, "vcpus", vp, 1, 100000, &vcpus);
		free(vp);
		const char *arch;
		char *ap = petal_schema_key(ep, "arch");
		if (petal_schema_str(d, e, "arch", ap, NULL, &arch) == 1 &&
		    strcmp(arch, "x86_64") && strcmp(arch, "arm64")) {
			const struct petal_node *n = petal_node_get(e, "arch");
			petal_diags_add(d, n->line, n->col, ap, "'%s' is not an architecture; "
			                "expected x86_64 or arm64", arch);
		}
		free(ap);
		free(ep);
	}
	free(path);
}

void petal_seed_check_estimates(struct petal_diags *d, const struct petal_node *root)
{
	const struct petal_node *est = petal_schema_child(d, root, "estimates", "estimates",
	                                                  PETAL_NODE_MAP, NULL);
	if (!est)
		return;
	petal_schema_keys(d, est, "estimates", estimate_keys);
	table(d, est, "packages", package_name_ok,
	      "a Spack package name; expected lowercase letters, digits, '-' and '_'",
	      package_keys);
	table(d, est, "instances", petal_schema_instance_type,
	      "an instance type; expected family.size, e.g. c5.18xlarge"
	      PETAL_INSTANCE_SIZES, instance_keys);

	const struct petal_node *f = petal_schema_child(d, est, "figures", "estimates.figures",
	                                                PETAL_NODE_MAP, NULL);
	for (size_t i = 0; f && i < f->n; i++) {
		char *p = petal_schema_key("estimates.figures", f->keys[i]);
		double v;
		if (!figure_name_ok(f->keys[i]))
			petal_diags_add(d, f->key_line[i], f->key_col[i], p,
			                "'%s' is not a figure name; expected lowercase letters, "
			                "digits and '_', e.g. s3_gb_month", f->keys[i]);
		else if (petal_schema_number(d, f->items[i], p, 0.0, PETAL_FIGURE_MAX, &v) == 0)
			petal_diags_add(d, f->items[i]->line, f->items[i]->col, p,
			                "an empty value; expected a number");
		free(p);
	}
}
