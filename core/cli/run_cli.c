/* The commands that execute a plan: signals, the door, progress, and one
   build job from its options to its end (run_cli.h). */
#include "config.h"

#include "run_cli.h"

#include "cache_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../cloud/base_image_lookup.h"
#include "../plan/probe.h"
#include "../plugin/host.h"
#include "../render/render.h"
#include "../seed/base_image.h"
#include "../seed/edit.h"
#include "../util/util.h"

/* ---- signals ---------------------------------------------------------------- */

volatile sig_atomic_t petal_cli_cancel;

static struct sigaction old_int, old_term, old_hup;

static void on_signal(int sig)
{
	if (petal_cli_cancel) {
		/* a second signal: at once (resume and gc settle what is left) */
		signal(sig, SIG_DFL);
		raise(sig);
		return;
	}
	petal_cli_cancel = sig;
}

void petal_cli_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	/* no SA_RESTART: a sleep or a read returns, and the loop looks at the flag */
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	sigaction(SIGHUP, &sa, &old_hup);
}

void petal_cli_signals_restore(void)
{
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
}

/* ---- shared pieces ------------------------------------------------------------ */

char *petal_cli_state_dir(const struct petal_cli *cli, const char *flag)
{
	char *dir;

	if (flag && !*flag) {
		petal_cli_error(cli, "--state-dir needs a directory");
		return NULL;
	}
	dir = flag ? petal_xstrdup(flag) : petal_host_setting_dup(cli->host, "state_dir");
	if (!dir)
		petal_cli_error(cli, "no state directory: set XDG_STATE_HOME or HOME, or give "
		                "--state-dir DIR");
	return dir;
}

int petal_cli_cloud_open(const struct petal_cli *cli, struct petal_registry *reg,
                         const char *name, struct petal_cloud *out)
{
	struct petal_error err = { .size = sizeof(err) };
	struct petal_entry *e = petal_registry_find(reg, PETAL_KIND_CLOUD, name);
	int rc;

	if (!e || !e->desc) {
		petal_cli_error(cli, "no cloud plugin '%s' is loaded (petal plugins list --all "
		                "says why)", name);
		return PETAL_EXIT_PLUGIN;
	}
	if ((rc = petal_entry_init(e, reg->host, &err)) != 0) {
		petal_cli_error(cli, "cloud '%s': %s", name, err.msg);
		return PETAL_EXIT_PLUGIN;
	}
	petal_cloud_from_entry(out, e, reg->host);
	return 0;
}

int petal_cli_run_arg(const struct petal_cli *cli, const char *command, int argc, char **argv,
                      const char **id)
{
	if (optind + 1 != argc) {
		petal_cli_error(cli, "%s takes one run id (petal runs lists them)", command);
		return PETAL_EXIT_USAGE;
	}
	*id = argv[optind];
	if (!petal_run_id_valid(*id)) {
		petal_cli_error(cli, "'%s' is not a run id (r-YYYYMMDD-HHMMSS-XXXX; petal runs "
		                "lists them)", *id);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

double petal_cli_poll_s(double dflt)
{
	const char *p = getenv("PETAL_POLL_S");
	return p && atof(p) > 0 ? atof(p) : dflt;
}

void petal_cli_nap(double s)
{
	for (double t = 0; t < s && !petal_cli_cancel; t += 0.1)
		nanosleep(&(struct timespec){ .tv_nsec = 100000000 }, NULL);
}

long petal_cli_duration(const char *s)
{
	char *end;
	long v;

	if (!s || !*s)
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (!errno && *end == '\0' && v > 0)
		return v;
	v = petal_parse_duration(s);
	return v > 0 ? v : -1;
}

static void warn_report(void *ctx, const char *msg)
{
	petal_cli_warn(ctx, "%s", msg);
}

static int plan_seed(struct petal_cli *cli, const char *path, int probe, const char *region_flag,
                     const char *custom_ami, struct petal_cli_planned *p)
{
	struct petal_error err = { .size = sizeof(err) };
	int status, rc;

	memset(p, 0, sizeof(*p));
	if ((status = petal_cli_load_seed(cli, path, &p->seed)) != 0)
		return status;
	if (custom_ami) {
		free(p->seed->custom_ami);
		p->seed->custom_ami = petal_xstrdup(custom_ami);
	}
	rc = petal_estimates_load(petal_cli_data_dir(), p->seed, &p->est, &err);
	if (rc) {
		petal_cli_error(cli, "%s", err.msg);
		return rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_FAILURE;
	}
	char *state = petal_host_setting_dup(cli->host, "state_dir");
	if (state) {
		char *dir = petal_xasprintf("%s/reports", state);

		petal_estimates_load_reports(p->est, dir, p->seed, warn_report, cli);
		free(dir);
		free(state);
	}
	petal_host_bind_estimates(cli->host, p->est);
	if ((status = petal_cli_registry(cli, &p->reg)) != 0)
		return status;
	if (probe && (p->seed->cache_bucket || probe > 1)) {
		struct petal_cli_cache_mirror m;
		struct petal_probe_opts opts = { 0 };
		char *url = p->seed->cache_bucket ? petal_cli_cache_url_s3(p->seed->cache_bucket,
		                                                           p->seed->cache_prefix)
		                                  : NULL;

		memset(&m, 0, sizeof(m));
		if ((status = petal_cli_region(cli, region_flag, p->seed, &opts.region)) != 0) {
			free(url);
			return status;
		}
		rc = url ? petal_cli_cache_mirror_open(&p->reg, url, &m, &err) : 0;
		if (rc == 0) {
			if (url) {
				opts.cache = &m.io;
				opts.cache_cloud = m.cloud;
			}
			rc = petal_plan_compose_probed(p->seed, &p->reg, p->est, &opts, &p->plan, &err);
		}
		petal_cli_cache_mirror_close(&m);
		petal_host_bind_region(cli->host, NULL);
		if (rc != 0) {
			if (url)
				petal_cli_error(cli, "asking the binary cache %s: %s",
				                p->seed->cache_bucket, err.msg);
			else
				petal_cli_error(cli, "asking the cloud for the seed's images: %s",
				                err.msg);
			free(url);
			return rc == PETAL_EPLUGIN || rc == PETAL_ENOTSUP ? PETAL_EXIT_PLUGIN
			                                                  : PETAL_EXIT_FAILURE;
		}
		free(url);
		return 0;
	}
	if ((rc = petal_plan_compose(p->seed, &p->reg, p->est, &p->plan, &err)) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		return rc == PETAL_EINVAL || rc == PETAL_EPLUGIN || rc == PETAL_ENOTSUP
			? PETAL_EXIT_PLUGIN : PETAL_EXIT_FAILURE;
	}
	return 0;
}

int petal_cli_plan_seed(struct petal_cli *cli, const char *path, struct petal_cli_planned *p)
{
	return plan_seed(cli, path, 0, NULL, NULL, p);
}

int petal_cli_plan_seed_probed(struct petal_cli *cli, const char *path, const char *region,
                               struct petal_cli_planned *p)
{
	return plan_seed(cli, path, 1, region, NULL, p);
}

int petal_cli_plan_seed_for_cluster(struct petal_cli *cli, const char *path, const char *region,
                                    const char *custom_ami, struct petal_cli_planned *p)
{
	return plan_seed(cli, path, 2, region, custom_ami, p);
}

void petal_cli_planned_release(struct petal_cli *cli, struct petal_cli_planned *p)
{
	petal_plan_free(p->plan);
	if (p->reg.host)
		petal_registry_release(&p->reg);
	petal_host_bind_estimates(cli->host, NULL);
	petal_estimates_free(p->est);
	petal_seed_free(p->seed);
	memset(p, 0, sizeof(*p));
}

/* ---- progress ------------------------------------------------------------------ */

struct watch {
	struct petal_cli *cli;
	int watch;      /* every status; else state changes only */
	int tty;        /* stderr is a terminal: one line rewritten */
	int line_open;  /* a progress line is on the terminal, unfinished */
	double started;
	enum petal_machine_state last_state;
	long last_done;
};

static void line_end(struct watch *w)
{
	if (w->line_open) {
		fputc('\n', stderr);
		w->line_open = 0;
	}
}

static void event_json(const struct petal_exec_event *ev)
{
	json_t *j = json_pack("{s:s, s:s, s:s}", "event", "run", "step", ev->step, "what",
	                      ev->what);

	if (ev->id)
		json_object_set_new(j, "id", json_string(ev->id));
	if (ev->detail)
		json_object_set_new(j, "detail", json_string(ev->detail));
	if (ev->status) {
		const struct petal_machine_status *s = ev->status;

		json_object_set_new(j, "state", json_string(petal_machine_state_name(s->state)));
		json_object_set_new(j, "done", json_integer(s->done));
		json_object_set_new(j, "total", s->total >= 0 ? json_integer(s->total) : json_null());
		json_object_set_new(j, "from_checkpoint", json_integer(s->from_checkpoint));
		if (s->package)
			json_object_set_new(j, "package", json_string(s->package));
	}
	char *line = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line) {
		fprintf(stderr, "%s\n", line);
		free(line);
	}
	json_decref(j);
}

static void elapsed(const struct watch *w, char *buf, size_t len)
{
	long s = (long)(petal_cloud_now() - w->started);

	if (s >= 3600)
		snprintf(buf, len, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%ld:%02ld", s / 60, s % 60);
}

static void on_event(void *arg, const struct petal_exec_event *ev)
{
	struct watch *w = arg;
	const struct petal_machine_status *s = ev->status;
	char t[32];

	if (w->cli->output == PETAL_OUTPUT_JSON) {
		event_json(ev);
		return;
	}
	if (w->cli->verbosity == 0 && strcmp(ev->what, "failed") != 0)
		return;
	elapsed(w, t, sizeof(t));
	if (strcmp(ev->what, "status") == 0 && s) {
		char total[24];

		if (!w->watch && s->state == w->last_state)
			return;
		w->last_state = s->state;
		snprintf(total, sizeof(total), s->total >= 0 ? "%ld" : "?", s->total);
		char *text = petal_xasprintf("%s: %s, %ld of %s packages%s%s%s [%s]", ev->step,
		                             petal_machine_state_name(s->state), s->done, total,
		                             s->package && s->state == PETAL_MACHINE_RUNNING
		                             ? ", installing " : "",
		                             s->package && s->state == PETAL_MACHINE_RUNNING
		                             ? s->package : "",
		                             s->from_checkpoint ? " (some from the checkpoint)" : "",
		                             t);
		char *safe = petal_escape_text(text, 0);

		if (w->tty && w->watch) {
			fprintf(stderr, "\r\033[K%s", safe);
			w->line_open = 1;
		} else {
			fprintf(stderr, "petal: %s\n", safe);
		}
		fflush(stderr);
		free(safe);
		free(text);
		w->last_done = s->done;
		return;
	}
	if (ev->id == NULL && ev->detail == NULL && strcmp(ev->what, "launch") == 0)
		return;
	line_end(w);
	if (strcmp(ev->what, "launch") == 0)
		petal_cli_info(w->cli, "%s: launching a build instance (%s)", ev->step, ev->detail);
	else if (strcmp(ev->what, "identity") == 0)
		petal_cli_info(w->cli, "%s: the build instance's identity: %s (%s)", ev->step,
		               ev->id, ev->detail ? ev->detail : "?");
	else if (strcmp(ev->what, "identity-deleted") == 0)
		petal_cli_info(w->cli, "%s: identity %s deleted", ev->step, ev->id);
	else if (strcmp(ev->what, "launched") == 0)
		petal_cli_info(w->cli, "%s: build instance %s (%s) launched [%s]", ev->step, ev->id,
		               ev->detail ? ev->detail : "?", t);
	else if (strcmp(ev->what, "adopted") == 0)
		petal_cli_info(w->cli, "%s: taking up %s%s%s", ev->step, ev->id ? ev->id : "the step",
		               ev->detail ? ": " : "", ev->detail ? ev->detail : "");
	else if (strcmp(ev->what, "interrupted") == 0)
		petal_cli_warn(w->cli, "%s: build instance %s went away (%s)", ev->step, ev->id,
		               ev->detail ? ev->detail : "?");
	else if (strcmp(ev->what, "relaunch") == 0)
		petal_cli_info(w->cli, "%s: relaunching (%s); the finished packages come from the "
		               "checkpoint", ev->step, ev->detail);
	else if (strcmp(ev->what, "image") == 0 && ev->id)
		petal_cli_info(w->cli, "%s: image %s is being made; %s [%s]", ev->step, ev->id,
		               ev->detail, t);
	else if (strcmp(ev->what, "image") == 0)
		petal_cli_info(w->cli, "%s: the build succeeded; making the image '%s'", ev->step,
		               ev->detail);
	else if (strcmp(ev->what, "image-ready") == 0)
		petal_cli_info(w->cli, "%s: image %s is available [%s]", ev->step, ev->id, t);
	else if (strcmp(ev->what, "terminated") == 0)
		petal_cli_info(w->cli, "%s: build instance %s terminated", ev->step, ev->id);
	else if (strcmp(ev->what, "kept") == 0)
		petal_cli_warn(w->cli, "%s: build instance %s is kept for debugging (--on-error "
		               "abort); it costs money while it runs", ev->step, ev->id);
	else if (strcmp(ev->what, "cancelled") == 0)
		petal_cli_warn(w->cli, "%s: interrupted: released what the step launched",
		               ev->step);
	else if (strcmp(ev->what, "failed") == 0 || strcmp(ev->what, "timeout") == 0) {
		if (s && s->failed_package)
			petal_cli_error(w->cli, "%s: %s did not build", ev->step, s->failed_package);
		if (s && s->n_log_tail) {
			fprintf(stderr, "petal: the last %zu lines of its build log%s%s:\n",
			        s->n_log_tail, s->log ? " " : "", s->log ? s->log : "");
			for (size_t i = 0; i < s->n_log_tail; i++) {
				petal_cli_put_err(s->log_tail[i]);
				fputc('\n', stderr);
			}
		}
	}
}

/* The image the build instance boots: software.build.base_ami as given, else
   ParallelCluster's own image for the seed (name pattern; the cloud takes
   the newest of Amazon's). */
static char *base_image(const struct petal_cli *cli, const struct petal_seed *seed)
{
	int given = 0;
	char *b = petal_seed_base_image(seed, &given);

	if (!b) {
		petal_cli_error(cli, "ParallelCluster publishes no image for os %s: give "
		                "software.build.base_ami (an image made with `pcluster "
		                "build-image`)", seed->os);
		return NULL;
	}
	if (!given) {
		char *pattern = petal_xasprintf("%s*", b);

		free(b);
		return pattern;
	}
	return b;
}

json_t *petal_cli_build_options(const struct petal_cli *cli, const struct petal_cli_planned *p,
                                const struct petal_cli_build_flags *f)
{
	char *base = base_image(cli, p->seed);
	if (!base)
		return NULL;
	char *artifacts;
	if (p->seed->build_artifacts) {
		artifacts = petal_xstrdup(p->seed->build_artifacts);
	} else {
		/* ".../petal/HASH" -> ".../petal": runs live beside the seeds' files */
		artifacts = petal_render_artifacts_url(&p->plan->info);
		char *slash = strrchr(artifacts, '/');
		if (slash)
			*slash = '\0';
	}
	json_t *o = json_pack("{s:s, s:s}", "artifacts_base", artifacts, "base_image", base);
	if (p->seed->cache_bucket) {
		char *cache = petal_xasprintf("s3://%s/%s", p->seed->cache_bucket,
		                              p->seed->cache_prefix + strspn(p->seed->cache_prefix, "/"));
		json_object_set_new(o, "checkpoint", json_string(cache));
		free(cache);
	}
#define SET_S(key, v) if (v) json_object_set_new(o, key, json_string(v))
	SET_S("name", f->name);
	SET_S("build_instance", f->build_instance);
	SET_S("on_error", f->on_error);
	SET_S("region", f->region);
	/* for logs and gc, which read no seed */
	SET_S("cloud", p->seed->cloud);
	SET_S("cloud_region", f->region ? f->region : p->seed->region);
	SET_S("subnet_id", p->seed->subnet_id);
	SET_S("key_name", p->seed->key_name);
	SET_S("instance_profile", p->seed->build_instance_profile);
#undef SET_S
	if (p->seed->build_spot_fallback)
		json_object_set_new(o, "spot_fallback", json_integer(1));
	if (f->spot >= 0)
		json_object_set_new(o, "spot", json_integer(f->spot));
	if (f->timeout)
		json_object_set_new(o, "timeout_s", json_integer(petal_cli_duration(f->timeout)));
	if (f->save)
		json_object_set_new(o, "save_to_template", json_true());
	const char *interval = getenv("PETAL_REPORT_INTERVAL");
	if (interval && atol(interval) > 0)
		json_object_set_new(o, "report_interval_s", json_integer(atol(interval)));

	free(artifacts);
	free(base);
	return o;
}

/* ---- one build job ---------------------------------------------------------------- */

static const char *opt_s(json_t *o, const char *key)
{
	return json_string_value(json_object_get(o, key));
}

static long opt_i(json_t *o, const char *key, long dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : dflt;
}

static const struct petal_plan_step *find_step(const struct petal_plan *plan,
                                               enum petal_action_kind kind)
{
	for (size_t i = 0; i < plan->n_steps; i++)
		if (plan->steps[i].action && plan->steps[i].action->kind == kind)
			return &plan->steps[i];
	return NULL;
}

/* Render what the build instance runs into the run's directory and upload
   build-instance.sh to the run's artifacts. */
static int prepare(struct petal_cli *cli, struct petal_cli_planned *p, struct petal_cloud *cloud,
                   struct petal_run *run, const char *artifacts, const char *region)
{
	struct petal_error err = { .size = sizeof(err) };
	char *dir = petal_xasprintf("%s/render", run->dir);
	struct petal_render_opts ro = { .dir = dir, .scripts_only = 1 };
	int rc = petal_render(p->plan, &p->reg, &ro, &err);

	if (rc != 0) {
		petal_cli_error(cli, "cannot render the build script: %s", err.msg);
		free(dir);
		return rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : petal_cli_exit_for(rc);
	}
	rc = petal_cli_upload_artifacts(cli, p, cloud, dir, "build-instance.sh", "build script",
	                                artifacts, region);
	free(dir);
	return rc;
}

int petal_cli_upload_artifacts(struct petal_cli *cli, const struct petal_cli_planned *p,
                               struct petal_cloud *cloud, const char *dir, const char *script,
                               const char *what, const char *artifacts, const char *region)
{
	struct petal_error err = { .size = sizeof(err) };
	char *bucket = petal_xasprintf("s3://%.*s", (int)strcspn(artifacts + 5, "/"),
	                               artifacts + 5);
	char *path = petal_xasprintf("%s/%s", dir, script);
	char *url = petal_xasprintf("%s/%s", artifacts, script);
	struct petal_upload *ups = NULL;
	size_t n_ups = 0;
	int rc = petal_cloud_bucket_ensure(cloud, bucket, region, &err);

	if (rc == 0)
		rc = petal_cloud_object_put(cloud, url, path, &err);
	if (rc != 0)
		petal_cli_error(cli, "cannot upload the %s to %s: %s", what, url, err.msg);
	/* the seed's file:// sources (Spack, repositories, a source mirror) go
	   beside it: the machine needs nothing but the artifacts */
	if (rc == 0 && (rc = petal_render_uploads(p->seed, &ups, &n_ups, &err)) == 0 && n_ups) {
		petal_cli_info(cli, "uploading the seed's %zu local source%s to %s", n_ups,
		               n_ups == 1 ? "" : "s", artifacts);
		rc = petal_render_upload_all(cloud, artifacts, ups, n_ups, &err);
		if (rc != 0)
			petal_cli_error(cli, "cannot upload the seed's sources to %s: %s", artifacts,
			                err.msg);
	}
	petal_render_uploads_free(ups, n_ups);
	free(url);
	free(path);
	free(bucket);
	return rc ? petal_cli_exit_for(rc) : 0;
}

int petal_cli_save_to_template(struct petal_cli *cli, const char *path, const char *image_id)
{
	struct petal_error err = { .size = sizeof(err) };
	char *text = NULL;
	size_t len = 0;
	int rc = petal_read_file(path, 1 << 20, &text, &len, &err);

	if (rc == 0)
		rc = petal_seed_set_scalar(path, "compute.custom_ami", image_id, text, len, &err);
	free(text);
	if (rc != 0) {
		petal_cli_error(cli, "--save-to-template: %s unchanged: %s", path, err.msg);
		return PETAL_EXIT_FAILURE;
	}
	petal_cli_info(cli, "compute.custom_ami: %s written into %s", image_id, path);
	return 0;
}

/* A build's result (taken by j): to b->result when the caller wants it,
   else printed: the object with --output json, `text` (when there is one) as
   a line without. */
static void result(const struct petal_cli *cli, struct petal_cli_build *b, json_t *j,
                   const char *text)
{
	if (b->result) {
		*b->result = j;
		return;
	}
	if (cli->output == PETAL_OUTPUT_JSON)
		petal_cli_print_json(j);
	else if (text)
		printf("%s\n", text);
	json_decref(j);
}

int petal_cli_build_run(struct petal_cli *cli, struct petal_cli_planned *p,
                        struct petal_cli_build *b)
{
	struct petal_error err = { .size = sizeof(err) };
	json_t *o = b->options;
	const struct petal_plan_step *step = find_step(p->plan, b->kind);
	struct petal_cloud cloud;
	struct petal_run *run = b->run;
	const char *region = NULL;
	int status = 0, rc;

	if (!step) {
		petal_cli_error(cli, "%s: the plan has no step to run here (%s)", b->command,
		                b->kind == PETAL_ACTION_IMAGE
		                ? "no package is in the image: software.in_ami is empty, or "
		                  "the image for this seed exists (compute.custom_ami)"
		                : "no package is in the binary cache tier");
		return PETAL_EXIT_USAGE;
	}
	if ((status = petal_cli_region(cli, opt_s(o, "region"), p->seed, &region)) != 0)
		return status;
	if ((status = petal_cli_cloud_open(cli, &p->reg, p->seed->cloud, &cloud)) != 0)
		goto out_region;

	if (!run && petal_cloud_has(&cloud, "image_search")) {
		/* the base image chosen once, as ParallelCluster chooses it, and kept
		   in the run's options for a resume */
		struct petal_image base = { .size = sizeof(base) };

		if ((rc = petal_base_image_lookup(&cloud, p->seed, NULL, &base, &err)) != 0) {
			petal_cli_error(cli, "the build instance's image: %s", err.msg);
			status = rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_FAILURE;
			goto out_region;
		}
		json_object_set_new(o, "base_image", json_string(base.id));
		if (base.name[0])
			petal_cli_info(cli, "base image %s (%s)", base.id, base.name);
	}
	if (!run) {
		json_t *summary = petal_run_plan_summary(p->plan);
		struct petal_run_start start = {
			.command = b->command, .seed = p->seed->path, .seed_hash = p->seed->hash,
			.plan = summary, .options = o,
		};

		rc = petal_run_create(b->state_dir, &start, &run, &err);
		json_decref(summary);
		if (rc != 0) {
			petal_cli_error(cli, "cannot start a run: %s", err.msg);
			status = PETAL_EXIT_FAILURE;
			goto out_region;
		}
	}
	char *artifacts = petal_exec_artifacts_url(opt_s(o, "artifacts_base"), run->id);
	/* finished packages go to the seed's cache, else to the run's own mirror */
	char *checkpoint = opt_s(o, "checkpoint") ? petal_xstrdup(opt_s(o, "checkpoint"))
	                                          : petal_xasprintf("%s/checkpoint", artifacts);
	/* a resumed run whose step had not begun may lack its script */
	int begun = 0;
	for (size_t i = 0; b->prior && i < b->prior->n_steps; i++)
		begun |= strcmp(b->prior->steps[i].id, step->id) == 0 &&
		         b->prior->steps[i].state != PETAL_STEP_PENDING;
	if (!begun && (status = prepare(cli, p, &cloud, run, artifacts, region)) != 0) {
		petal_run_end(run, PETAL_RUN_FAILED, status, &err);
		goto out_run;
	}
	if (!b->run)
		petal_cli_info(cli, "run %s: %s for seed %s (hash %.12s)", run->id, b->command,
		               p->seed->path, p->seed->hash);

	struct petal_tag tags[2] = {
		{ PETAL_TAG_SEED_HASH, p->seed->hash },
		{ PETAL_TAG_SEED, p->seed->name ? p->seed->name : "" },
	};
	struct watch w = {
		.cli = cli, .watch = b->watch, .tty = isatty(2), .started = petal_cloud_now(),
		.last_done = -1,
	};
	struct petal_exec x = {
		.run = run,
		.prior = b->prior,
		.cloud = &cloud,
		.region = region,
		.artifacts = artifacts,
		.checkpoint_url = checkpoint,
		.base_image = opt_s(o, "base_image"),
		.instance_type = opt_s(o, "build_instance"),
		.spot = (int)opt_i(o, "spot", -1),
		.spot_fallback = (int)opt_i(o, "spot_fallback", 0),
		.instance_profile = opt_s(o, "instance_profile"),
		.subnet_id = opt_s(o, "subnet_id"),
		.key_name = opt_s(o, "key_name"),
		.image_name = opt_s(o, "name"),
		.tags = tags,
		.n_tags = 2,
		.timeout_s = opt_i(o, "timeout_s", 0),
		.keep_on_error = opt_s(o, "on_error") && strcmp(opt_s(o, "on_error"), "abort") == 0,
		.poll_s = petal_cli_poll_s(10),
		.max_relaunch = (int)opt_i(o, "max_relaunch", 3),
		.report_interval_s = opt_i(o, "report_interval_s", 0),
		.cancel = &petal_cli_cancel,
		.work_dir = run->dir,
		.detach = b->detach,
		.event = on_event,
		.event_arg = &w,
	};
	struct petal_exec_result res;

	petal_cli_signals_install();
	rc = petal_exec_build_step(&x, step, &res, &err);
	petal_cli_signals_restore();
	line_end(&w);
	if (rc == 0 && res.detached) {
		petal_run_detach(run, &err);
		petal_cli_info(cli, "run %s detached: the instance builds on; follow it with "
		               "`petal logs %s --follow`, take it up with `petal resume %s`",
		               run->id, run->id, run->id);
		result(cli, b, json_pack("{s:s, s:s, s:s}", "run", run->id, "state", "detached",
		                         "instance", res.instance_id), run->id);
	} else if (rc == 0) {
		petal_run_end(run, PETAL_RUN_SUCCEEDED, 0, &err);
		json_t *j = json_pack("{s:s, s:s, s:s, s:i}", "run", run->id, "state", "succeeded",
		                      "step", step->id, "relaunches", res.relaunches);
		if (res.image_id[0])
			json_object_set_new(j, "image", json_string(res.image_id));
		result(cli, b, j, res.image_id[0] ? res.image_id : NULL);
		if (res.image_id[0] && json_is_true(json_object_get(o, "save_to_template")))
			status = petal_cli_save_to_template(cli, p->seed->path, res.image_id);
	} else {
		int cancelled = res.cancelled;

		status = cancelled ? 130 : PETAL_EXIT_FAILURE;
		if (!cancelled)
			petal_cli_error(cli, "%s failed: %s", b->command, err.msg);
		if (res.kept)
			fprintf(stderr, "petal: the instance %s is left running; remove it with:\n"
			        "  petal gc --run %s\n", res.instance_id, run->id);
		petal_run_end(run, cancelled ? PETAL_RUN_CANCELLED : PETAL_RUN_FAILED, status, &err);
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "run", run->id, "state",
		                      cancelled ? "cancelled" : "failed", "step", step->id,
		                      "error", err.msg);
		if (res.status.failed_package)
			json_object_set_new(j, "failed_package", json_string(res.status.failed_package));
		if (res.kept)
			json_object_set_new(j, "kept_instance", json_string(res.instance_id));
		result(cli, b, j, NULL);
	}
	petal_exec_result_release(&res);
out_run:
	free(checkpoint);
	free(artifacts);
	if (!b->run)
		petal_run_close(run);
out_region:
	petal_host_bind_region(cli->host, NULL);
	return status;
}
