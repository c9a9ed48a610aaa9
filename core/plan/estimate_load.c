/* The estimate tables: petal's data files (JSON), then the seed's
   `estimates` overrides (YAML). */
#include "config.h"

#include "estimate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "../util/util.h"
#include "estimate_internal.h"

/* Data files are a few kilobytes; anything past this is not ours. */
#define DATA_MAX_BYTES (4 * 1024 * 1024)

static const char *const pkg_fields[] = {
	"core_minutes", "serial_fraction", "size_mb", "memory_gb", NULL,
};
static const char *const inst_fields[] = {
	"vcpus", "memory_gb", "ondemand_usd_hour", "spot_usd_hour", "arch", NULL,
};

/* ---- field checks, shared by the data files and the seed's overrides --- */

/* Check a value for a named field; NULL when fine, else what is wrong. */
static const char *check_pkg_field(const char *field, double v)
{
	if (!isfinite(v) || v < 0 || v > PETAL_FIGURE_MAX)
		return "must be a number from 0 to 10000000";
	if (strcmp(field, "serial_fraction") == 0 && v > 1)
		return "must be between 0 and 1";
	return NULL;
}

static void set_pkg_field(struct petal_pkg_figures *f, const char *field, double v)
{
	if (strcmp(field, "core_minutes") == 0)
		f->core_minutes = v;
	else if (strcmp(field, "serial_fraction") == 0)
		f->serial_fraction = v;
	else if (strcmp(field, "size_mb") == 0)
		f->size_mb = v;
	else
		f->memory_gb = v;
}

static const char *check_inst_field(const char *field, double v)
{
	if (strcmp(field, "vcpus") == 0)
		return (v >= 1 && v <= 4096 && floor(v) == v) ?
			NULL : "must be a whole number of vCPUs, 1 or more";
	if (!isfinite(v) || v < 0 || v > PETAL_FIGURE_MAX)
		return "must be a number from 0 to 10000000";
	return NULL;
}

static void set_inst_field(struct petal_est_instance *in, const char *field, double v)
{
	if (strcmp(field, "vcpus") == 0)
		in->vcpus = (int)v;
	else if (strcmp(field, "memory_gb") == 0)
		in->memory_gb = v;
	else if (strcmp(field, "ondemand_usd_hour") == 0)
		in->ondemand = v;
	else
		in->spot = v;
}

static int is_member(const char *key, const char *const *set)
{
	for (size_t i = 0; set[i]; i++)
		if (strcmp(key, set[i]) == 0)
			return 1;
	return 0;
}

static struct petal_pkg_figures *add_pkg(struct petal_estimates *est, const char *name)
{
	struct petal_pkg_figures f = est->def;
	f.name = petal_xstrdup(name);
	f.guess = 0;
	PETAL_PUSH(est->pkgs, est->n_pkgs, est->cap_pkgs, f);
	return &est->pkgs[est->n_pkgs - 1];
}

static struct petal_est_instance *add_inst(struct petal_estimates *est, const char *name)
{
	struct petal_est_instance in = { .name = petal_xstrdup(name), .spot = -1 };
	PETAL_PUSH(est->insts, est->n_insts, est->cap_insts, in);
	return &est->insts[est->n_insts - 1];
}

static void set_figure(struct petal_estimates *est, const char *name, double v)
{
	struct petal_est_figure *f = petal_est_find_fig(est, name);
	if (f) {
		f->value = v;
		return;
	}
	struct petal_est_figure nf = { petal_xstrdup(name), v };
	PETAL_PUSH(est->figs, est->n_figs, est->cap_figs, nf);
}

/* ---- the data files (JSON) --------------------------------------------- */

static int load_json(const char *dir, const char *file, json_t **out,
                     struct petal_error *err)
{
	char *path = petal_xasprintf("%s/%s", dir, file);
	char *text = NULL;
	size_t len = 0;
	int rc = petal_read_file(path, DATA_MAX_BYTES, &text, &len, err);
	if (rc) {
		if (rc == PETAL_ENOENT)
			petal_fail(err, rc, "%s: missing: petal's data files are not there "
			           "(set PETAL_DATA_DIR to the directory holding %s)", path, file);
		goto out_path;
	}
	json_error_t jerr;
	*out = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!*out || !json_is_object(*out)) {
		rc = petal_fail(err, PETAL_EINVAL, "%s:%d:%d: %s", path, jerr.line,
		                jerr.column, *out ? "expected a JSON object" : jerr.text);
		json_decref(*out);
		*out = NULL;
	}
	free(text);
out_path:
	free(path);
	return rc;
}

static int json_pkg(const char *file, const char *name, json_t *obj,
                    struct petal_pkg_figures *f, struct petal_error *err)
{
	if (!json_is_object(obj))
		return petal_fail(err, PETAL_EINVAL, "%s: %s: expected an object", file, name);
	for (size_t i = 0; pkg_fields[i]; i++) {
		json_t *v = json_object_get(obj, pkg_fields[i]);
		if (!json_is_number(v))
			return petal_fail(err, PETAL_EINVAL, "%s: %s.%s: missing or not a number",
			                  file, name, pkg_fields[i]);
		const char *bad = check_pkg_field(pkg_fields[i], json_number_value(v));
		if (bad)
			return petal_fail(err, PETAL_EINVAL, "%s: %s.%s: %s", file, name,
			                  pkg_fields[i], bad);
		set_pkg_field(f, pkg_fields[i], json_number_value(v));
	}
	return 0;
}

static int load_packages(struct petal_estimates *est, const char *dir,
                         struct petal_error *err)
{
	json_t *root;
	int rc = load_json(dir, "packages.json", &root, err);
	if (rc)
		return rc;
	rc = json_pkg("packages.json", "default", json_object_get(root, "default"),
	              &est->def, err);
	if (rc)
		goto out_root;
	est->def.guess = 1;
	json_t *pkgs = json_object_get(root, "packages");
	if (!json_is_object(pkgs)) {
		rc = petal_fail(err, PETAL_EINVAL, "packages.json: \"packages\" must be an object");
		goto out_root;
	}
	const char *name;
	json_t *v;
	json_object_foreach(pkgs, name, v) {
		struct petal_pkg_figures *f = add_pkg(est, name);
		rc = json_pkg("packages.json", name, v, f, err);
		if (rc)
			goto out_root;
	}
out_root:
	json_decref(root);
	return rc;
}

/* instances.json "guess": optional; without it only types of a listed family
   are guessed. */
static int guess_number(json_t *obj, const char *where, const char *key, double min,
                        double max, double *out, struct petal_error *err)
{
	json_t *v = json_object_get(obj, key);
	if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
	    json_number_value(v) < min || json_number_value(v) > max)
		return petal_fail(err, PETAL_EINVAL, "instances.json: %s%s: expected a number "
		                  "from %g to %g", where, key, min, max);
	*out = json_number_value(v);
	return 0;
}

static int load_guess(struct petal_estimates *est, json_t *g, struct petal_error *err)
{
	struct petal_est_guess *gs = &est->guess;
	int rc;
	if (!g)
		return 0;
	if (!json_is_object(g))
		return petal_fail(err, PETAL_EINVAL, "instances.json: \"guess\" must be an object");
	if ((rc = guess_number(g, "guess.", "small_vcpus", 1, 4096, &gs->small_vcpus, err)) ||
	    (rc = guess_number(g, "guess.", "metal_vcpus", 1, 4096, &gs->metal_vcpus, err)) ||
	    (rc = guess_number(g, "guess.", "spot_fraction", 0, 1, &gs->spot_fraction, err)))
		return rc;
	json_t *classes = json_object_get(g, "classes");
	if (!json_is_object(classes) || !json_object_get(classes, "default"))
		return petal_fail(err, PETAL_EINVAL, "instances.json: guess.classes must be an "
		                  "object with a \"default\" class");
	const char *name;
	json_t *c;
	json_object_foreach(classes, name, c) {
		struct petal_est_class k = { .name = petal_xstrdup(name) };
		char *where = petal_xasprintf("guess.classes.%s.", name);
		PETAL_PUSH(gs->classes, gs->n_classes, gs->cap_classes, k);
		rc = guess_number(c, where, "memory_gb_per_vcpu", 0.01, PETAL_FIGURE_MAX,
		                  &gs->classes[gs->n_classes - 1].memory_gb_per_vcpu, err);
		if (!rc)
			rc = guess_number(c, where, "usd_per_vcpu_hour", 0.0001, PETAL_FIGURE_MAX,
			                  &gs->classes[gs->n_classes - 1].usd_per_vcpu_hour, err);
		free(where);
		if (rc)
			return rc;
	}
	return 0;
}

static int load_instances(struct petal_estimates *est, const char *dir,
                          struct petal_error *err)
{
	json_t *root;
	int rc = load_json(dir, "instances.json", &root, err);
	if (rc)
		return rc;
	json_t *insts = json_object_get(root, "instances");
	if (!json_is_object(insts)) {
		rc = petal_fail(err, PETAL_EINVAL, "instances.json: \"instances\" must be an object");
		goto out_root;
	}
	const char *name;
	json_t *obj;
	json_object_foreach(insts, name, obj) {
		struct petal_est_instance *in = add_inst(est, name);
		const char *arch = json_string_value(json_object_get(obj, "arch"));
		if (!arch || (strcmp(arch, "x86_64") != 0 && strcmp(arch, "arm64") != 0)) {
			rc = petal_fail(err, PETAL_EINVAL,
			                "instances.json: %s.arch: expected \"x86_64\" or \"arm64\"", name);
			goto out_root;
		}
		in->arch = petal_xstrdup(arch);
		for (size_t i = 0; inst_fields[i]; i++) {
			if (strcmp(inst_fields[i], "arch") == 0)
				continue;
			json_t *v = json_object_get(obj, inst_fields[i]);
			const char *bad = json_is_number(v) ?
				check_inst_field(inst_fields[i], json_number_value(v)) :
				"missing or not a number";
			if (bad) {
				rc = petal_fail(err, PETAL_EINVAL, "instances.json: %s.%s: %s", name,
				                inst_fields[i], bad);
				goto out_root;
			}
			set_inst_field(in, inst_fields[i], json_number_value(v));
		}
	}
	rc = load_guess(est, json_object_get(root, "guess"), err);
out_root:
	json_decref(root);
	return rc;
}

static int load_figures(struct petal_estimates *est, const char *dir,
                        struct petal_error *err)
{
	json_t *root;
	int rc = load_json(dir, "figures.json", &root, err);
	if (rc)
		return rc;
	json_t *figs = json_object_get(root, "figures");
	if (!json_is_object(figs)) {
		rc = petal_fail(err, PETAL_EINVAL, "figures.json: \"figures\" must be an object");
		goto out_root;
	}
	const char *name;
	json_t *v;
	json_object_foreach(figs, name, v) {
		if (!json_is_number(v) || !isfinite(json_number_value(v)) ||
		    json_number_value(v) < 0 || json_number_value(v) > PETAL_FIGURE_MAX) {
			rc = petal_fail(err, PETAL_EINVAL,
			                "figures.json: %s: expected a number from 0 to 10000000", name);
			goto out_root;
		}
		set_figure(est, name, json_number_value(v));
	}
out_root:
	json_decref(root);
	return rc;
}

/* ---- the seed's `estimates` section ----------------------------------- */

struct where {
	const char *file;
	const char *path; /* "estimates.packages.gcc" */
};

static int node_fail(const struct where *w, const struct petal_node *n, const char *key,
                     struct petal_error *err, const char *what)
{
	return petal_fail(err, PETAL_EINVAL, "%s:%d:%d: %s%s%s: %s", w->file,
	                  n ? n->line : 0, n ? n->col : 0, w->path, key ? "." : "",
	                  key ? key : "", what);
}

static int node_number(const struct petal_node *n, double *out)
{
	const char *s = petal_node_str(n);
	if (!s || !*s)
		return -1;
	char *end;
	*out = strtod(s, &end);
	return (*end == '\0' && isfinite(*out) && *out >= 0 && *out <= PETAL_FIGURE_MAX) ? 0 : -1;
}

static int unknown_key(const struct where *w, const struct petal_node *map, size_t i,
                       const char *const *known, struct petal_error *err)
{
	const char *hint = petal_did_you_mean(map->keys[i], known);
	char what[256];
	if (hint)
		snprintf(what, sizeof(what), "unknown key; did you mean '%s'?", hint);
	else
		snprintf(what, sizeof(what), "unknown key");
	struct petal_node at = { .line = map->key_line[i], .col = map->key_col[i] };
	return node_fail(w, &at, map->keys[i], err, what);
}

static int seed_packages(struct petal_estimates *est, const char *file,
                         const struct petal_node *map, struct petal_error *err)
{
	struct where w = { file, "estimates.packages" };
	if (map->type != PETAL_NODE_MAP)
		return node_fail(&w, map, NULL, err, "expected a map of package names");
	for (size_t i = 0; i < map->n; i++) {
		const struct petal_node *obj = map->items[i];
		char *path = petal_xasprintf("estimates.packages.%s", map->keys[i]);
		struct where pw = { file, path };
		int rc = 0;
		if (obj->type != PETAL_NODE_MAP) {
			rc = node_fail(&pw, obj, NULL, err, "expected a map of figures "
			               "(core_minutes, serial_fraction, size_mb, memory_gb)");
			goto out_path;
		}
		/* Check every field before touching the tables. */
		for (size_t k = 0; k < obj->n; k++) {
			double v = 0;
			if (!is_member(obj->keys[k], pkg_fields)) {
				rc = unknown_key(&pw, obj, k, pkg_fields, err);
				goto out_path;
			}
			const char *bad = node_number(obj->items[k], &v) ?
				"must be a number" : check_pkg_field(obj->keys[k], v);
			if (bad) {
				rc = node_fail(&pw, obj->items[k], obj->keys[k], err, bad);
				goto out_path;
			}
		}
		struct petal_pkg_figures *f = petal_est_find_pkg(est, map->keys[i]);
		if (!f) {
			f = add_pkg(est, map->keys[i]);
			/* Still a guess until the seed says how long it takes. */
			f->guess = petal_node_get(obj, "core_minutes") == NULL;
		}
		for (size_t k = 0; k < obj->n; k++) {
			double v = 0;
			node_number(obj->items[k], &v);
			set_pkg_field(f, obj->keys[k], v);
		}
out_path:
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

static int seed_instances(struct petal_estimates *est, const char *file,
                          const struct petal_node *map, struct petal_error *err)
{
	struct where w = { file, "estimates.instances" };
	if (map->type != PETAL_NODE_MAP)
		return node_fail(&w, map, NULL, err, "expected a map of instance types");
	for (size_t i = 0; i < map->n; i++) {
		const struct petal_node *obj = map->items[i];
		char *path = petal_xasprintf("estimates.instances.%s", map->keys[i]);
		struct where iw = { file, path };
		int rc = 0;
		if (obj->type != PETAL_NODE_MAP) {
			rc = node_fail(&iw, obj, NULL, err, "expected a map of figures (vcpus, "
			               "memory_gb, ondemand_usd_hour, spot_usd_hour, arch)");
			goto out_path;
		}
		for (size_t k = 0; k < obj->n; k++) {
			double v = 0;
			const char *key = obj->keys[k];
			if (!is_member(key, inst_fields)) {
				rc = unknown_key(&iw, obj, k, inst_fields, err);
				goto out_path;
			}
			const char *s = petal_node_str(obj->items[k]);
			const char *bad;
			if (strcmp(key, "arch") == 0)
				bad = (s && (strcmp(s, "x86_64") == 0 || strcmp(s, "arm64") == 0)) ?
					NULL : "expected x86_64 or arm64";
			else
				bad = node_number(obj->items[k], &v) ? "must be a number" :
					check_inst_field(key, v);
			if (bad) {
				rc = node_fail(&iw, obj->items[k], key, err, bad);
				goto out_path;
			}
		}
		struct petal_est_instance *in = petal_est_find_inst(est, map->keys[i]);
		if (!in) {
			static const char *const needed[] = { "vcpus", "memory_gb",
			                                      "ondemand_usd_hour" };
			for (size_t k = 0; k < PETAL_ARRAY_SIZE(needed); k++)
				if (!petal_node_get(obj, needed[k])) {
					char what[160];
					snprintf(what, sizeof(what), "a type not in petal's table needs %s "
					         "(and vcpus, memory_gb, ondemand_usd_hour)", needed[k]);
					rc = node_fail(&iw, obj, NULL, err, what);
					goto out_path;
				}
			in = add_inst(est, map->keys[i]);
			in->arch = petal_xstrdup(petal_instance_arch(map->keys[i]));
		}
		for (size_t k = 0; k < obj->n; k++) {
			double v = 0;
			if (strcmp(obj->keys[k], "arch") == 0) {
				free(in->arch);
				in->arch = petal_xstrdup(petal_node_str(obj->items[k]));
				continue;
			}
			node_number(obj->items[k], &v);
			set_inst_field(in, obj->keys[k], v);
		}
		/* No spot figure: assume none is cheaper than on demand. */
		if (in->spot < 0)
			in->spot = in->ondemand;
out_path:
		free(path);
		if (rc)
			return rc;
	}
	return 0;
}

static int seed_figures(struct petal_estimates *est, const char *file,
                        const struct petal_node *map, struct petal_error *err)
{
	struct where w = { file, "estimates.figures" };
	if (map->type != PETAL_NODE_MAP)
		return node_fail(&w, map, NULL, err, "expected a map of figure names");
	const char **known = petal_xcalloc(est->n_figs + 1, sizeof(*known));
	int rc = 0;
	for (size_t i = 0; i < est->n_figs; i++)
		known[i] = est->figs[i].name;
	for (size_t i = 0; i < map->n && rc == 0; i++) {
		double v = 0;
		if (!petal_est_find_fig(est, map->keys[i]))
			rc = unknown_key(&w, map, i, known, err);
		else if (node_number(map->items[i], &v) || v < 0)
			rc = node_fail(&w, map->items[i], map->keys[i], err,
			               "must be a number, 0 or more");
		else
			set_figure(est, map->keys[i], v);
	}
	free(known);
	return rc;
}

static int apply_seed(struct petal_estimates *est, const struct petal_seed *seed,
                      struct petal_error *err)
{
	static const char *const sections[] = { "packages", "instances", "figures", NULL };
	const struct petal_node *e = petal_node_path(seed->root, "estimates");
	const char *file = seed->path ? seed->path : "seed";
	struct where w = { file, "estimates" };
	if (!e)
		return 0;
	if (e->type != PETAL_NODE_MAP)
		return node_fail(&w, e, NULL, err, "expected a map with packages, instances, figures");
	for (size_t i = 0; i < e->n; i++)
		if (!is_member(e->keys[i], sections))
			return unknown_key(&w, e, i, sections, err);
	const struct petal_node *n;
	int rc = 0;
	if ((n = petal_node_get(e, "packages")) && (rc = seed_packages(est, file, n, err)))
		return rc;
	if ((n = petal_node_get(e, "instances")) && (rc = seed_instances(est, file, n, err)))
		return rc;
	if ((n = petal_node_get(e, "figures")))
		rc = seed_figures(est, file, n, err);
	return rc;
}

/* ---- the API ------------------------------------------------------------ */

int petal_estimates_load(const char *data_dir, const struct petal_seed *seed,
                         struct petal_estimates **out, struct petal_error *err)
{
	*out = NULL;
	if (!data_dir)
		return petal_fail(err, PETAL_EINVAL, "no data directory for the estimate tables");
	struct petal_estimates *est = petal_xcalloc(1, sizeof(*est));
	int rc;
	if ((rc = load_packages(est, data_dir, err)) ||
	    (rc = load_instances(est, data_dir, err)) ||
	    (rc = load_figures(est, data_dir, err)) ||
	    (seed && (rc = apply_seed(est, seed, err)))) {
		petal_estimates_free(est);
		return rc;
	}
	*out = est;
	return 0;
}

void petal_estimates_free(struct petal_estimates *est)
{
	if (!est)
		return;
	for (size_t i = 0; i < est->n_pkgs; i++)
		free(est->pkgs[i].name);
	free(est->pkgs);
	for (size_t i = 0; i < est->n_insts; i++) {
		free(est->insts[i].name);
		free(est->insts[i].arch);
	}
	free(est->insts);
	for (size_t i = 0; i < est->n_figs; i++)
		free(est->figs[i].name);
	free(est->figs);
	for (size_t i = 0; i < est->guess.n_classes; i++)
		free(est->guess.classes[i].name);
	free(est->guess.classes);
	for (size_t i = 0; i < est->n_measures; i++) {
		free(est->measures[i].name);
		free(est->measures[i].version);
		free(est->measures[i].report);
		free(est->measures[i].when);
	}
	free(est->measures);
	free(est);
}

