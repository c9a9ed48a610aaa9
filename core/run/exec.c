/* A step on a build instance, start to end (exec.h).  The journal is
   written before each change (the door's hook: intent before a call that
   changes the cloud, result after) and each resource is recorded as made
   and as released, so that a resume finds the step where it was: a launch
   whose answer was lost is repeated with the same client token, an
   instance or image already made is taken up again. */
#include "config.h"

#include "exec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../render/render.h"
#include "../util/util.h"

#define RESOURCE_INSTANCE "instance"
#define RESOURCE_IMAGE "image"
#define RESOURCE_ACCESS "access" /* the build instance's identity (access_create) */

/* ---- the journal hook: what changes the cloud, never what only reads ---- */

struct door_journal {
	struct petal_run *run;
	const char *step;
	int failed; /* a record could not be written */
	struct petal_error err;
};

static int changes_cloud(const char *op)
{
	static const char *const ops[] = {
		"bucket_ensure", "object_put", "object_delete", "instance_launch",
		"instance_terminate", "image_create", "image_copy", "image_delete",
		"cluster_create", "cluster_delete", "access_create", "access_delete", NULL,
	};
	for (size_t i = 0; ops[i]; i++)
		if (strcmp(op, ops[i]) == 0)
			return 1;
	return 0;
}

static void door_hook(void *arg, const char *cloud, const char *op, const char *target,
                      const char *token, enum petal_cloud_phase phase, int rc,
                      const struct petal_error *err)
{
	struct door_journal *dj = arg;
	int w;

	(void)cloud;
	(void)target;
	if (!dj->run || !dj->step || !changes_cloud(op))
		return;
	if (phase == PETAL_CLOUD_INTENT)
		w = petal_run_step_intent(dj->run, dj->step, op, token, &dj->err);
	else
		w = petal_run_step_result(dj->run, dj->step, op, 0, rc < 0 ? err : NULL, NULL,
		                          &dj->err);
	if (w != 0)
		dj->failed = 1;
}

/* ---- small helpers ---------------------------------------------------------- */

static void say(struct petal_exec *x, const char *step, const char *what, const char *id,
                const struct petal_machine_status *st, const char *detail)
{
	struct petal_exec_event ev = { step, what, id, st, detail };

	if (x->event)
		x->event(x->event_arg, &ev);
}

static int cancelled(const struct petal_exec *x)
{
	return x->cancel && *x->cancel;
}

/* Sleep `s` seconds in short slices, returning early when cancelled. */
static void nap(const struct petal_exec *x, double s)
{
	double until = petal_cloud_now() + s;

	while (!cancelled(x)) {
		double left = until - petal_cloud_now();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 0.2)
			left = 0.2;
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(left * 1e9);
		nanosleep(&ts, NULL);
	}
}

static int gone_state(const char *state)
{
	return strcmp(state, "shutting-down") == 0 || strcmp(state, "terminated") == 0 ||
	       strcmp(state, "stopping") == 0 || strcmp(state, "stopped") == 0;
}

/* The held resource of `kind` the prior journal says this step made. */
static const struct petal_run_resource *prior_held(const struct petal_exec *x,
                                                   const char *step, const char *kind)
{
	const struct petal_run_state *st = x->prior;

	for (size_t i = 0; st && i < st->n_held; i++) {
		const struct petal_run_resource *r = &st->held[st->n_held - 1 - i];

		if (r->step && strcmp(r->step, step) == 0 && strcmp(r->kind, kind) == 0)
			return r;
	}
	return NULL;
}

static const struct petal_run_step *prior_step(const struct petal_exec *x, const char *step)
{
	const struct petal_run_state *st = x->prior;

	for (size_t i = 0; st && i < st->n_steps; i++)
		if (strcmp(st->steps[i].id, step) == 0)
			return &st->steps[i];
	return NULL;
}

/* The id of `kind` in a step's "produced" list, or NULL. */
static const char *produced_id(const struct petal_run_step *s, const char *kind)
{
	size_t i;
	json_t *p;

	if (!s || !json_is_array(s->produced))
		return NULL;
	json_array_foreach(s->produced, i, p) {
		const char *k = json_string_value(json_object_get(p, "kind"));

		if (k && strcmp(k, kind) == 0)
			return json_string_value(json_object_get(p, "id"));
	}
	return NULL;
}

int petal_exec_fetch_status(struct petal_cloud *cloud, const char *url, const char *path,
                            struct petal_machine_status *st, struct petal_error *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc = petal_cloud_object_get(cloud, url, path, err);

	if (rc == PETAL_ENOENT) {
		rc = 1;
	} else if (rc == 0) {
		rc = petal_read_file(path, 1 << 20, &text, &len, err);
		if (rc == 0) {
			struct petal_machine_status fresh;

			rc = petal_machine_status_parse(text, len, &fresh, err);
			if (rc == 0) {
				petal_machine_status_release(st);
				*st = fresh;
			} else {
				petal_error_prefix(err, url);
			}
		}
	}
	free(text);
	return rc;
}

/* The step's status.json, fetched and read (petal_exec_fetch_status). */
static int fetch_status(struct petal_exec *x, const char *step, struct petal_machine_status *st,
                        struct petal_error *err)
{
	char *url = petal_xasprintf("%s/%s/status.json", x->artifacts, step);
	char *path = petal_xasprintf("%s/%s.status.json", x->work_dir, step);
	int rc = petal_exec_fetch_status(x->cloud, url, path, st, err);

	free(path);
	free(url);
	return rc;
}

/* ---- the parts of a step ------------------------------------------------------ */

struct step_run {
	struct petal_exec *x;
	const struct petal_plan_step *step;
	const struct petal_plan_action *a;
	struct door_journal dj;
	struct petal_exec_result *res;
	int attempt;       /* 1: the first launch, 2: the first relaunch, ... */
	double deadline;
	char access[128];  /* the identity made for this run (access_create), or "" */
};

static size_t all_tags(const struct step_run *sr, struct petal_tag *tags, size_t cap,
                       const char *name, int with_image_tags)
{
	size_t n = 0;
	const struct petal_exec *x = sr->x;

	tags[n++] = (struct petal_tag){ PETAL_TAG_RUN, x->run->id };
	tags[n++] = (struct petal_tag){ PETAL_TAG_STEP, sr->step->id };
	tags[n++] = (struct petal_tag){ PETAL_TAG_NAME, name };
	for (size_t i = 0; i < x->n_tags && n < cap; i++)
		tags[n++] = x->tags[i];
	for (size_t i = 0; with_image_tags && i < sr->a->n_image_tags && n < cap; i++) {
		int dup = 0;

		for (size_t j = 0; j < n; j++)
			dup |= strcmp(tags[j].key, sr->a->image_tags[i].key) == 0;
		if (!dup)
			tags[n++] = (struct petal_tag){ sr->a->image_tags[i].key,
			                                sr->a->image_tags[i].value };
	}
	return n;
}

/* ---- the build instance's identity ---------------------------------------------- */

/* The identity made for a run: IAM's 64 characters hold "petal-build-" and a
   run id (r-YYYYMMDD-HHMMSS-xxxx). */
static char *access_name(const char *run_id)
{
	return petal_xasprintf("petal-build-%s", run_id);
}

/* The identity a resumed step made before, taken up: released with the step. */
static void access_adopt(struct step_run *sr)
{
	const struct petal_run_resource *held = prior_held(sr->x, sr->step->id, RESOURCE_ACCESS);

	if (held && !sr->x->instance_profile) {
		snprintf(sr->access, sizeof(sr->access), "%s", held->id);
		say(sr->x, sr->step->id, "identity", held->id, NULL, "made for this run, taken up");
	}
}

/* Before the first launch: the seed's instance profile, else (a cloud that
   makes identities) one made for this run that may write its artifacts and
   checkpoint only, journaled as a resource of kind "access". */
static int access_ready(struct step_run *sr, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	const char *step = sr->step->id;

	if (x->instance_profile) {
		say(x, step, "identity", x->instance_profile, NULL,
		    "software.build.instance_profile");
		return 0;
	}
	if (sr->access[0] || !petal_cloud_has(x->cloud, "access_create"))
		return 0;
	char *name = access_name(x->run->id);
	char *artifacts = petal_xasprintf("%s/", x->artifacts);
	const char *prefixes[2] = { artifacts, NULL };
	size_t n = 1;
	/* a checkpoint under the artifacts is in their scope already */
	if (x->checkpoint_url && strncmp(x->checkpoint_url, "s3://", 5) == 0 &&
	    strncmp(x->checkpoint_url, artifacts, strlen(artifacts)) != 0)
		prefixes[n++] = x->checkpoint_url;
	struct petal_tag tags[64];
	size_t n_tags = all_tags(sr, tags, PETAL_ARRAY_SIZE(tags), name, 0);
	int rc = petal_cloud_access_create(x->cloud, name, prefixes, n, tags, n_tags, err);

	if (rc == 0)
		rc = petal_run_resource_created(x->run, RESOURCE_ACCESS, name, x->region, step,
		                                err);
	if (rc == 0) {
		char *detail = petal_xasprintf("made for this run: %s%s%s", artifacts,
		                               n > 1 ? " and " : "", n > 1 ? prefixes[1] : "");

		snprintf(sr->access, sizeof(sr->access), "%s", name);
		say(x, step, "identity", name, NULL, detail);
		free(detail);
	}
	free(artifacts);
	free(name);
	return rc;
}

/* With the step's instance gone: its identity deleted, the release journaled. */
static int access_release(struct step_run *sr, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	int rc;

	if (!sr->access[0])
		return 0;
	rc = petal_cloud_access_delete(x->cloud, sr->access, err);
	if (rc == PETAL_ENOENT)
		rc = 0; /* gone already */
	if (rc == 0) {
		rc = petal_run_resource_released(x->run, RESOURCE_ACCESS, sr->access, x->region,
		                                 err);
		say(x, sr->step->id, "identity-deleted", sr->access, NULL, NULL);
		sr->access[0] = '\0';
	}
	return rc;
}

/* ---- the instance ------------------------------------------------------------------ */

static int launch(struct step_run *sr, const char *token, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	const struct petal_plan_action *a = sr->a;
	const char *parts[32];
	char *user_data = NULL, *name;
	struct petal_tag tags[64];
	struct petal_instance inst = { .size = sizeof(inst) };
	size_t n_parts = a->n_parts < 32 ? a->n_parts : 32;
	int spot = x->spot >= 0 ? x->spot : a->spot;
	int rc;

	for (size_t i = 0; i < n_parts; i++)
		parts[i] = a->parts[i];
	struct petal_user_data ud = {
		.run_id = x->run->id, .step_id = sr->step->id, .artifacts = x->artifacts,
		.checkpoint_url = x->checkpoint_url, .parts = parts, .n_parts = n_parts,
		.report_interval_s = x->report_interval_s,
	};
	if ((rc = petal_render_user_data(&ud, &user_data, err)) != 0)
		return rc;
	name = petal_xasprintf("petal build %s", sr->step->id);
	size_t n_tags = all_tags(sr, tags, PETAL_ARRAY_SIZE(tags), name, 0);
	struct petal_instance_request req = {
		.size = sizeof(req),
		.instance_type = x->instance_type ? x->instance_type : a->instance_type,
		.spot = spot,
		.image_id = x->base_image,
		.user_data = user_data,
		.tags = tags,
		.n_tags = n_tags,
		.instance_profile = x->instance_profile ? x->instance_profile
		                    : sr->access[0] ? sr->access : NULL,
		.root_volume_gb = a->volume_gb,
		.subnet_id = x->subnet_id,
		.key_name = x->key_name,
		.client_token = token,
	};
	say(x, sr->step->id, "launch", NULL, NULL, req.instance_type);
	rc = petal_cloud_instance_launch(x->cloud, &req, &inst, err);
	if (rc != 0 && spot && (x->spot_fallback || a->spot_fallback) &&
	    (strstr(err->cloud_code, "InsufficientInstanceCapacity") ||
	     strstr(err->cloud_code, "SpotMaxPriceTooLow") ||
	     strstr(err->cloud_code, "MaxSpotInstanceCountExceeded"))) {
		char why[sizeof(err->msg) + 64];

		snprintf(why, sizeof(why), "spot capacity refused (%.*s); on demand instead",
		         (int)sizeof(err->msg), err->msg);
		say(x, sr->step->id, "launch", NULL, NULL, why);
		req.spot = 0;
		rc = petal_cloud_instance_launch(x->cloud, &req, &inst, err);
	} else if (rc != 0 && spot && (strstr(err->cloud_code, "InsufficientInstanceCapacity") ||
	                               strstr(err->cloud_code, "SpotMaxPriceTooLow"))) {
		petal_error_prefix(err, "spot capacity refused and the seed does not allow on "
		                   "demand (software.build.spot_fallback: true, or --on-demand)");
	}
	if (rc == 0) {
		snprintf(sr->res->instance_id, sizeof(sr->res->instance_id), "%s", inst.id);
		rc = petal_run_resource_created(x->run, RESOURCE_INSTANCE, inst.id, x->region,
		                                sr->step->id, err);
		if (rc == 0)
			say(x, sr->step->id, "launched", inst.id, NULL, inst.type);
	}
	free(name);
	free(user_data);
	return rc;
}

static int terminate(struct step_run *sr, const char *id, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	int rc = petal_cloud_instance_terminate(x->cloud, id, err);

	if (rc == PETAL_ENOENT)
		rc = 0; /* gone already */
	if (rc == 0) {
		rc = petal_run_resource_released(x->run, RESOURCE_INSTANCE, id, x->region, err);
		say(x, sr->step->id, "terminated", id, NULL, NULL);
	}
	return rc;
}

/* Follow the instance's status until it ends: 0 succeeded, PETAL_ECLOUD
   failed (res->status), 1 the instance went away mid-build (interrupted),
   PETAL_ETIMEOUT past the deadline or cancelled, or the cloud's error. */
static int follow(struct step_run *sr, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	struct petal_exec_result *res = sr->res;
	double poll = x->poll_s > 0 ? x->poll_s : 10;
	char seen[64] = "";
	int bad_reads = 0;

	for (;;) {
		struct petal_error e2 = { .size = sizeof(e2) };
		int rc = fetch_status(x, sr->step->id, &res->status, &e2);

		if (rc < 0) {
			/* a status being rewritten, a network blip: said, tried again */
			if (++bad_reads == 3)
				say(x, sr->step->id, "status", res->instance_id, NULL, e2.msg);
		} else if (rc == 0) {
			bad_reads = 0;
			if (res->status.time && strcmp(seen, res->status.time) != 0) {
				snprintf(seen, sizeof(seen), "%s", res->status.time);
				say(x, sr->step->id, "status", res->instance_id, &res->status, NULL);
			}
			if (res->status.state == PETAL_MACHINE_SUCCEEDED)
				return 0;
			if (res->status.state == PETAL_MACHINE_FAILED)
				return petal_fail(err, PETAL_ECLOUD, "the build failed%s%s%s%s",
				                  res->status.failed_package ? ": " : "",
				                  res->status.failed_package ? res->status.failed_package
				                                             : "",
				                  res->status.message ? ": " : "",
				                  res->status.message ? res->status.message : "");
		}
		struct petal_instance inst = { .size = sizeof(inst) };
		rc = petal_cloud_instance_describe(x->cloud, res->instance_id, &inst, err);
		if (rc == PETAL_ENOENT || (rc == 0 && gone_state(inst.state))) {
			char why[400];

			snprintf(why, sizeof(why), "%s%s%s", rc == 0 ? inst.state : "gone",
			         rc == 0 && PETAL_HAS(&inst, reason) && inst.reason[0] ? ": " : "",
			         rc == 0 && PETAL_HAS(&inst, reason) ? inst.reason : "");
			say(x, sr->step->id, "interrupted", res->instance_id, NULL, why);
			petal_fail(err, PETAL_ECLOUD, "instance %s went away mid-build (%s)",
			           res->instance_id, why);
			return 1;
		}
		if (rc < 0 && !err->retryable)
			return rc;
		if (cancelled(x)) {
			res->cancelled = 1;
			return petal_fail(err, PETAL_ETIMEOUT, "cancelled");
		}
		if (petal_cloud_now() >= sr->deadline)
			return petal_fail(err, PETAL_ETIMEOUT, "the build is past its timeout "
			                  "(%ld s)%s%s", x->timeout_s > 0 ? x->timeout_s
			                                                  : sr->a->timeout_s,
			                  res->status.package ? "; it was installing " : "",
			                  res->status.package ? res->status.package : "");
		nap(x, poll);
	}
}

/* Make the image of the instance, or take up the one a former attempt of
   this run made; wait for it.  The image is the product: kept. */
static int make_image(struct step_run *sr, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	struct petal_exec_result *res = sr->res;
	const struct petal_run_resource *held = prior_held(x, sr->step->id, RESOURCE_IMAGE);
	const char *name = x->image_name ? x->image_name : sr->a->image_name;
	struct petal_image img = { .size = sizeof(img) };
	struct petal_tag tags[64];
	int rc = 0;

	if (name == NULL)
		return petal_fail(err, PETAL_EINVAL, "step %s makes an image and names none",
		                  sr->step->id);
	if (held != NULL) {
		snprintf(res->image_id, sizeof(res->image_id), "%s", held->id);
		say(x, sr->step->id, "adopted", held->id, NULL, "the image this run made");
	} else {
		const struct petal_run_step *ps = prior_step(x, sr->step->id);

		/* a create whose answer was lost, or answered but petal stopped before
		   it journaled the image: the image is found by this run's tag (a new
		   image may take a moment to be listed: asked a few times) */
		int found = 0;
		if (ps && (ps->state == PETAL_STEP_INTENT || ps->state == PETAL_STEP_STARTED) &&
		    ps->op && strcmp(ps->op, "image_create") == 0)
			for (int tries = 0; tries < 4 && !found && !cancelled(x); tries++) {
				if (tries)
					nap(x, 2);
				found = petal_cloud_image_find(x->cloud, PETAL_TAG_RUN, x->run->id,
				                               NULL, &img, err) == 0;
			}
		if (found) {
			snprintf(res->image_id, sizeof(res->image_id), "%s", img.id);
			say(x, sr->step->id, "adopted", img.id, NULL, "made before petal stopped");
		} else {
			size_t n = all_tags(sr, tags, PETAL_ARRAY_SIZE(tags), name, 1);

			say(x, sr->step->id, "image", NULL, NULL, name);
			rc = petal_cloud_image_create(x->cloud, res->instance_id, name, tags, n,
			                              &img, err);
			if (rc != 0)
				return rc;
			snprintf(res->image_id, sizeof(res->image_id), "%s", img.id);
		}
		rc = petal_run_resource_created(x->run, RESOURCE_IMAGE, res->image_id, x->region,
		                                sr->step->id, err);
		if (rc != 0)
			return rc;
	}
	say(x, sr->step->id, "image", res->image_id, NULL, "waiting for it to be available");
	long wait_s = x->image_timeout_s > 0 ? x->image_timeout_s : 3 * 3600;
	rc = petal_cloud_wait_image(x->cloud, res->image_id, petal_cloud_now() + (double)wait_s,
	                            x->cancel, &img, err);
	if (rc != 0) {
		if (cancelled(x))
			res->cancelled = 1;
		return rc;
	}
	/* the snapshots too (CreateImage tags the image only): ParallelCluster and
	   the bill read them; a cloud without the op has nothing more to tag */
	if (petal_cloud_has(x->cloud, "image_tag")) {
		size_t n = all_tags(sr, tags, PETAL_ARRAY_SIZE(tags), name, 1);

		rc = petal_cloud_image_tag(x->cloud, res->image_id, tags, n, err);
		if (rc != 0)
			return rc;
	}
	say(x, sr->step->id, "image-ready", res->image_id, NULL, img.name);
	return 0;
}

/* A failed or cancelled step: the half-made image deregistered, the
   instance terminated (or kept); each release journaled. */
static void undo(struct step_run *sr, struct petal_error *err)
{
	struct petal_exec *x = sr->x;
	struct petal_exec_result *res = sr->res;
	struct petal_error e2 = { .size = sizeof(e2) };

	if (res->image_id[0]) {
		int rc = petal_cloud_image_delete(x->cloud, res->image_id, &e2);

		if (rc == 0 || rc == PETAL_ENOENT)
			petal_run_resource_released(x->run, RESOURCE_IMAGE, res->image_id, x->region,
			                            &e2);
		else
			say(x, sr->step->id, "failed", res->image_id, NULL, e2.msg);
		res->image_id[0] = '\0';
	}
	if (res->instance_id[0] && x->keep_on_error && !res->cancelled) {
		res->kept = 1;
		say(x, sr->step->id, "kept", res->instance_id, NULL, NULL);
		return;
	}
	if (res->instance_id[0] && terminate(sr, res->instance_id, &e2) != 0) {
		/* the identity stays with an instance that may still run */
		say(x, sr->step->id, "failed", res->instance_id, NULL, e2.msg);
		return;
	}
	if (access_release(sr, &e2) != 0)
		say(x, sr->step->id, "failed", sr->access, NULL, e2.msg);
	(void)err;
}

int petal_exec_build_step(struct petal_exec *x, const struct petal_plan_step *step,
                          struct petal_exec_result *res, struct petal_error *err)
{
	struct step_run sr = { .x = x, .step = step, .a = step->action, .res = res };
	const struct petal_run_step *ps = prior_step(x, step->id);
	const struct petal_run_resource *held;
	char token[PETAL_RUN_TOKEN_MAX + 1];
	int rc;

	memset(res, 0, sizeof(*res));
	res->status.total = -1;
	res->status.exit_code = -1;
	if (sr.a == NULL || (sr.a->kind != PETAL_ACTION_IMAGE &&
	                     sr.a->kind != PETAL_ACTION_BUILD_INSTANCE &&
	                     sr.a->kind != PETAL_ACTION_CACHE_FILL))
		return petal_fail(err, PETAL_EINVAL, "step %s does not run on a build instance",
		                  step->id);
	if (ps && ps->state == PETAL_STEP_DONE) {
		const char *id = produced_id(ps, RESOURCE_IMAGE);

		if (id)
			snprintf(res->image_id, sizeof(res->image_id), "%s", id);
		say(x, step->id, "adopted", id, NULL, "done before");
		return 0;
	}
	/* the image was handed over and the instance released: only the step's
	   end was not written */
	if (ps && ps->state != PETAL_STEP_FAILED && produced_id(ps, RESOURCE_IMAGE) &&
	    !prior_held(x, step->id, RESOURCE_INSTANCE)) {
		json_t *produced = json_pack("[{s:s, s:s}]", "kind", RESOURCE_IMAGE, "id",
		                             produced_id(ps, RESOURCE_IMAGE));

		snprintf(res->image_id, sizeof(res->image_id), "%s", produced_id(ps, RESOURCE_IMAGE));
		say(x, step->id, "adopted", res->image_id, NULL, "made before petal stopped");
		if (ps->state == PETAL_STEP_INTENT)
			rc = petal_run_step_result(x->run, step->id, ps->op, 0, NULL, NULL, err);
		else
			rc = 0;
		/* stopped between the instance's release and its identity's */
		access_adopt(&sr);
		if (rc == 0)
			rc = access_release(&sr, err);
		if (rc == 0)
			rc = petal_run_step_intent(x->run, step->id, "finish", NULL, err);
		if (rc == 0)
			rc = petal_run_step_result(x->run, step->id, "finish", 1, NULL, produced, err);
		json_decref(produced);
		return rc;
	}
	sr.dj.run = x->run;
	sr.dj.step = step->id;
	sr.dj.err.size = sizeof(sr.dj.err);
	x->cloud->journal = door_hook;
	x->cloud->journal_arg = &sr.dj;
	long timeout = x->timeout_s > 0 ? x->timeout_s : sr.a->timeout_s;
	sr.deadline = petal_cloud_now() + (timeout > 0 ? (double)timeout : 1e9);

	held = prior_held(x, step->id, RESOURCE_INSTANCE);
	access_adopt(&sr);
	if (prior_held(x, step->id, RESOURCE_IMAGE) != NULL) {
		/* the build was over: only the image is left to finish */
		if (held)
			snprintf(res->instance_id, sizeof(res->instance_id), "%s", held->id);
		res->status.state = PETAL_MACHINE_SUCCEEDED;
		rc = 0;
		goto image;
	}
	if (held) {
		snprintf(res->instance_id, sizeof(res->instance_id), "%s", held->id);
		say(x, step->id, "adopted", held->id, NULL, "the instance this run launched");
	} else {
		/* the same token as a launch whose answer was lost: no second instance */
		if (ps && ps->state == PETAL_STEP_INTENT && ps->token &&
		    strlen(ps->token) <= PETAL_RUN_TOKEN_MAX)
			snprintf(token, sizeof(token), "%s", ps->token);
		else if ((rc = petal_run_client_token(x->run->id, step->id, token, err)) != 0)
			goto out;
		sr.attempt = 1;
		if ((rc = access_ready(&sr, err)) != 0 || (rc = launch(&sr, token, err)) != 0)
			goto out;
	}
	if (x->detach) {
		res->detached = 1;
		goto done;
	}
	for (;;) {
		rc = follow(&sr, err);
		if (rc != 1)
			break;
		/* reclaimed (spot) or stopped by someone else: a new instance takes
		   the finished packages from the checkpoint */
		petal_run_resource_released(x->run, RESOURCE_INSTANCE, res->instance_id, x->region,
		                            err);
		res->instance_id[0] = '\0';
		if (res->relaunches >= x->max_relaunch) {
			rc = petal_fail(err, PETAL_ECLOUD, "the build instance went away %d time%s; "
			                "petal gave up (at most %d relaunches)", res->relaunches + 1,
			                res->relaunches ? "s" : "", x->max_relaunch);
			break;
		}
		res->relaunches++;
		char attempt[128];
		snprintf(attempt, sizeof(attempt), "%s#%d", step->id, res->relaunches + 1);
		if ((rc = petal_run_client_token(x->run->id, attempt, token, err)) != 0)
			break;
		char detail[64];
		snprintf(detail, sizeof(detail), "attempt %d of %d", res->relaunches + 1,
		         x->max_relaunch + 1);
		say(x, step->id, "relaunch", NULL, NULL, detail);
		if ((rc = launch(&sr, token, err)) != 0)
			break;
	}
image:
	if (rc == 0 && sr.a->kind == PETAL_ACTION_IMAGE)
		rc = make_image(&sr, err);
	if (rc == 0 && res->instance_id[0])
		rc = terminate(&sr, res->instance_id, err);
	if (rc == 0)
		rc = access_release(&sr, err);
	if (rc == 0 && res->image_id[0])
		rc = petal_run_resource_kept(x->run, RESOURCE_IMAGE, res->image_id, x->region,
		                             step->id, err);
	if (rc == 0) {
		json_t *produced = json_array();

		if (res->image_id[0])
			json_array_append_new(produced, json_pack("{s:s, s:s}", "kind", RESOURCE_IMAGE,
			                                          "id", res->image_id));
		petal_run_step_intent(x->run, step->id, "finish", NULL, err);
		rc = petal_run_step_result(x->run, step->id, "finish", 1, NULL, produced, err);
		json_decref(produced);
	}
out:
	if (rc != 0) {
		struct petal_error saved = *err;

		if (res->status.state == PETAL_MACHINE_UNKNOWN && rc == PETAL_ETIMEOUT && !res->cancelled)
			say(x, step->id, "timeout", res->instance_id, NULL, err->msg);
		else if (!res->cancelled)
			say(x, step->id, "failed", res->instance_id, &res->status, err->msg);
		else
			say(x, step->id, "cancelled", res->instance_id, NULL, NULL);
		undo(&sr, err);
		petal_run_step_intent(x->run, step->id, "finish", NULL, err);
		petal_run_step_result(x->run, step->id, "finish", 1, &saved, NULL, err);
		*err = saved;
	}
done:
	if (sr.dj.failed && rc == 0)
		rc = petal_fail(err, PETAL_EIO, "%s", sr.dj.err.msg);
	x->cloud->journal = NULL;
	x->cloud->journal_arg = NULL;
	return rc;
}

void petal_exec_result_release(struct petal_exec_result *res)
{
	if (res)
		petal_machine_status_release(&res->status);
}

int petal_exec_release_all(struct petal_run *run, struct petal_cloud *cloud,
                           const struct petal_run_state *st,
                           void (*tell)(void *arg, const char *op, const char *kind,
                                        const char *id, int rc, const char *msg),
                           void *arg, struct petal_error *err)
{
	struct petal_run_undo *undos = NULL;
	size_t n = petal_run_cleanup(st, &undos);
	int first = 0;

	for (size_t i = 0; i < n; i++) {
		const struct petal_run_resource *r = undos[i].res;
		struct petal_error e2 = { .size = sizeof(e2) };
		int rc;

		if (strcmp(r->kind, RESOURCE_INSTANCE) == 0)
			rc = petal_cloud_instance_terminate(cloud, r->id, &e2);
		else if (strcmp(r->kind, RESOURCE_IMAGE) == 0)
			rc = petal_cloud_image_delete(cloud, r->id, &e2);
		else if (strcmp(r->kind, RESOURCE_ACCESS) == 0)
			rc = petal_cloud_access_delete(cloud, r->id, &e2);
		else
			rc = petal_fail(&e2, PETAL_ENOTSUP, "petal does not know how to release a %s",
			                r->kind);
		if (rc == PETAL_ENOENT)
			rc = 0;
		if (rc == 0 && run)
			rc = petal_run_resource_released(run, r->kind, r->id, r->region, &e2);
		if (tell)
			tell(arg, undos[i].op, r->kind, r->id, rc, rc ? e2.msg : NULL);
		if (rc != 0 && first == 0) {
			first = rc;
			*err = e2;
		}
	}
	free(undos);
	/* stopped between access_create and its journaled result: the identity
	   may exist unrecorded; its name is the run's, and deleting is repeatable */
	for (size_t i = 0; st->id && !st->end && i < st->n_steps; i++) {
		const struct petal_run_step *s = &st->steps[i];
		struct petal_error e2 = { .size = sizeof(e2) };

		if (s->state != PETAL_STEP_INTENT || !s->op || strcmp(s->op, "access_create") != 0 ||
		    !petal_cloud_has(cloud, "access_delete"))
			continue;
		char *name = access_name(st->id);
		int rc = petal_cloud_access_delete(cloud, name, &e2);

		if (tell)
			tell(arg, "delete", RESOURCE_ACCESS, name, rc, rc ? e2.msg : NULL);
		if (rc != 0 && first == 0) {
			first = rc;
			*err = e2;
		}
		free(name);
	}
	return first;
}

char *petal_exec_artifacts_url(const char *base, const char *run_id)
{
	size_t n = strlen(base);

	while (n > 0 && base[n - 1] == '/')
		n--;
	return petal_xasprintf("%.*s/runs/%s", (int)n, base, run_id);
}
