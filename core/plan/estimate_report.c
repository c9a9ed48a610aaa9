/* Build reports: the times Spack measured for each package on a build
   instance (build-instance.sh writes report.json from Spack's
   install_times.json; doc/render.md, "Status and report"), read back so that
   the plan uses them over the tables (doc/plan-json.md, "Measured times"). */
#include "config.h"

#include "estimate.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "../util/util.h"
#include "estimate_internal.h"

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A package entry's fields, checked; NULL when it is fine, else what is wrong. */
static const char *check_entry(json_t *p, const char **name, const char **version,
                               double *seconds, int *cached)
{
	json_t *n = json_object_get(p, "name"), *v = json_object_get(p, "version");
	json_t *s = json_object_get(p, "seconds"), *c = json_object_get(p, "from_cache");

	if (!json_is_object(p))
		return "a package that is not an object";
	if (!json_is_string(n) || json_string_length(n) == 0)
		return "a package without a name";
	if (!json_is_string(v))
		return "a package without a version";
	if (!json_is_number(s) || !isfinite(json_number_value(s)) || json_number_value(s) < 0)
		return "a package whose seconds are not a number, 0 or more";
	if (c && !json_is_boolean(c))
		return "a package whose from_cache is not true or false";
	*name = json_string_value(n);
	*version = json_string_value(v);
	*seconds = json_number_value(s);
	*cached = json_is_true(c);
	return NULL;
}

/* Why `j` is not a build report petal reads, or NULL; *jobs its jobs. */
static const char *check_report(json_t *j, int *jobs)
{
	json_t *f = json_object_get(j, "format"), *v = json_object_get(j, "version");
	json_t *jb = json_object_get(j, "jobs"), *pk = json_object_get(j, "packages");
	json_t *t = json_object_get(j, "time");

	if (!json_is_object(j))
		return "not a JSON object";
	if (!json_is_string(f) || strcmp(json_string_value(f), "petal-build-report") != 0)
		return "not a petal build report (\"format\": \"petal-build-report\")";
	if (!json_is_integer(v) || json_integer_value(v) != 1)
		return "a report version petal does not read (it reads 1)";
	if (!json_is_integer(jb) || json_integer_value(jb) < 1 || json_integer_value(jb) > 100000)
		return "no \"jobs\" (a whole number of build jobs, 1 or more)";
	if (t && !json_is_string(t))
		return "a \"time\" that is not a string";
	if (!json_is_array(pk))
		return "no \"packages\" list";
	*jobs = (int)json_integer_value(jb);
	return NULL;
}

/* Keep a package's time unless an as new or newer report timed it already. */
static void remember(struct petal_estimates *est, const char *path, const char *when,
                     const char *name, const char *version, double seconds, int jobs)
{
	struct petal_est_measure *m = NULL;

	for (size_t i = 0; i < est->n_measures && !m; i++)
		if (strcmp(est->measures[i].name, name) == 0)
			m = &est->measures[i];
	if (m && strcmp(m->when, when) > 0)
		return;
	if (!m) {
		struct petal_est_measure fresh = { .name = petal_xstrdup(name) };

		PETAL_PUSH(est->measures, est->n_measures, est->cap_measures, fresh);
		m = &est->measures[est->n_measures - 1];
	}
	free(m->version);
	free(m->report);
	free(m->when);
	m->version = petal_xstrdup(version);
	m->report = petal_xstrdup(path);
	m->when = petal_xstrdup(when);
	m->seconds = seconds;
	m->jobs = jobs;
}

/* One report: its packages' times remembered, or a reason it is not read
   (caller frees) and nothing remembered. */
static char *read_report(struct petal_estimates *est, const char *path)
{
	json_error_t jerr;
	struct stat st;
	json_t *j;
	const char *bad = NULL;
	char *why = NULL;
	int jobs = 0;

	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
		return petal_xasprintf("%s: not a file", path);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!j)
		return petal_xasprintf("%s:%d: %s", path, jerr.line, jerr.text);
	bad = check_report(j, &jobs);
	json_t *pk = json_object_get(j, "packages");
	for (size_t i = 0; !bad && i < json_array_size(pk); i++) {
		const char *name, *version;
		double seconds;
		int cached;

		bad = check_entry(json_array_get(pk, i), &name, &version, &seconds, &cached);
	}
	if (bad) {
		why = petal_xasprintf("%s: %s", path, bad);
		json_decref(j);
		return why;
	}
	const char *when = json_string_value(json_object_get(j, "time"));
	for (size_t i = 0; i < json_array_size(pk); i++) {
		const char *name, *version;
		double seconds;
		int cached;

		check_entry(json_array_get(pk, i), &name, &version, &seconds, &cached);
		/* an extraction from the cache is no build; a zero time says nothing */
		if (!cached && seconds > 0)
			remember(est, path, when ? when : "", name, version, seconds, jobs);
	}
	json_decref(j);
	return NULL;
}

/* The seed's own figure for the package, or its exact version ("" when it
   names none, or a range: any version then). */
static int seed_sets_minutes(const struct petal_seed *seed, const char *name)
{
	const struct petal_node *e = seed ? petal_node_path(seed->root, "estimates") : NULL;
	const struct petal_node *p = e ? petal_node_get(e, "packages") : NULL;
	const struct petal_node *f = p ? petal_node_get(p, name) : NULL;

	return f && f->type == PETAL_NODE_MAP && petal_node_get(f, "core_minutes") != NULL;
}

static int version_fits(const struct petal_seed *seed, const char *name, const char *version)
{
	for (size_t i = 0; seed && i < seed->n_pkgs; i++) {
		const char *v = seed->pkgs[i].spec.versions;

		if (strcmp(seed->pkgs[i].spec.name, name) != 0 || v == NULL)
			continue;
		if (strpbrk(v, ":,") == NULL && strcmp(v, version) != 0)
			return 0;
	}
	return 1;
}

/* The remembered times into the package figures: W = T / (s + (1 - s) / J),
   the work that takes T minutes with J jobs under petal_estimates_build's
   model, so that another machine's cores scale it as they would the tables'. */
static size_t apply(struct petal_estimates *est, const struct petal_seed *seed)
{
	size_t applied = 0;

	for (size_t i = 0; i < est->n_measures; i++) {
		const struct petal_est_measure *m = &est->measures[i];
		struct petal_pkg_figures *f;

		if (seed_sets_minutes(seed, m->name) || !version_fits(seed, m->name, m->version))
			continue;
		f = petal_est_find_pkg(est, m->name);
		if (!f) {
			struct petal_pkg_figures fresh = est->def;

			fresh.name = petal_xstrdup(m->name);
			PETAL_PUSH(est->pkgs, est->n_pkgs, est->cap_pkgs, fresh);
			f = &est->pkgs[est->n_pkgs - 1];
		}
		double s = f->serial_fraction;
		f->core_minutes = m->seconds / 60 / (s + (1 - s) / m->jobs);
		f->guess = 0;
		f->measured = 1;
		f->measured_seconds = m->seconds;
		f->measured_jobs = m->jobs;
		f->measured_version = m->version;
		f->measured_report = m->report;
		applied++;
	}
	return applied;
}

size_t petal_estimates_load_reports(struct petal_estimates *est, const char *dir,
                                    const struct petal_seed *seed,
                                    void (*warn)(void *ctx, const char *msg), void *ctx)
{
	DIR *d = dir ? opendir(dir) : NULL;
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.' && has_suffix(de->d_name, ".json"))
			PETAL_PUSH(names, n, cap, petal_xstrdup(de->d_name));
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		char *path = petal_xasprintf("%s/%s", dir, names[i]);
		char *why = read_report(est, path);

		if (why) {
			char *msg = petal_xasprintf("build report not used: %s", why);

			if (warn)
				warn(ctx, msg);
			free(msg);
			free(why);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return apply(est, seed);
}
