/* The door to the cloud (cloud.h): checks, events, the journal hook, the
   op's name on errors, and the polls that replace the plugins' waits. */
#include "config.h"

#include "cloud.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../plugin/registry.h"
#include "../util/util.h"

void petal_cloud_from_entry(struct petal_cloud *c, const struct petal_entry *e,
                            const struct petal_host *host)
{
	*c = (struct petal_cloud){
		.name = e && e->desc ? e->desc->name : "?",
		.ops = e && e->desc ? e->desc->ops.cloud : NULL,
		.ctx = e ? e->ctx : NULL,
		.host = host,
	};
}

/* ---- every op: check, tell, call, tell ------------------------------------ */

static int begin(struct petal_cloud *c, const char *op, int present, const char *target,
                 const char *token, struct petal_error *err)
{
	const char *cloud = c && c->name ? c->name : "?";
	if (!c || !c->ops)
		return petal_fail(err, PETAL_ENOTSUP, "%s: no cloud plugin behind the door", op);
	if (!present)
		return petal_fail(err, PETAL_ENOTSUP, "%s: the cloud plugin '%s' does not offer "
		                  "this operation", op, cloud);
	if (c->host)
		petal_host_cloud_event(c->host, cloud, op, "start", 0, NULL);
	if (c->journal)
		c->journal(c->journal_arg, cloud, op, target, token, PETAL_CLOUD_INTENT, 0, NULL);
	return 0;
}

static int end(struct petal_cloud *c, const char *op, const char *target, const char *token,
               int rc, struct petal_error *err)
{
	const char *cloud = c->name ? c->name : "?";
	if (rc < 0 && err) {
		char prefix[160];
		snprintf(prefix, sizeof(prefix), "%s %s", cloud, op);
		/* a message that already starts with the op says it once */
		if (strncmp(err->msg, op, strlen(op)) != 0)
			petal_error_prefix(err, prefix);
	}
	if (c->host)
		petal_host_cloud_event(c->host, cloud, op, "done", rc,
		                       rc < 0 && err ? err->msg : NULL);
	if (c->journal)
		c->journal(c->journal_arg, cloud, op, target, token, PETAL_CLOUD_RESULT, rc,
		           rc < 0 ? err : NULL);
	return rc;
}

#define HAS(c, fn) ((c) && (c)->ops && PETAL_HAS((c)->ops, fn) && (c)->ops->fn)

/* The body of every door: begin, the call, end. */
#define DOOR(fn, target, token, call)                                            \
	do {                                                                    \
		int rc_ = begin(c, #fn, HAS(c, fn), (target), (token), err);    \
		if (rc_ != 0)                                                   \
			return rc_;                                             \
		rc_ = c->ops->fn call;                                          \
		return end(c, #fn, (target), (token), rc_, err);                \
	} while (0)

int petal_cloud_has(const struct petal_cloud *c, const char *op)
{
	if (!c || !c->ops || !op)
		return 0;
#define IS(fn) if (strcmp(op, #fn) == 0) return HAS(c, fn) ? 1 : 0
	IS(bucket_ensure); IS(object_put); IS(object_get); IS(object_head); IS(object_list);
	IS(object_delete); IS(instance_launch); IS(instance_describe); IS(instance_list);
	IS(instance_logs); IS(instance_terminate); IS(image_create); IS(image_find);
	IS(image_list); IS(image_copy); IS(image_delete); IS(cluster_create);
	IS(cluster_describe); IS(cluster_delete); IS(cluster_list); IS(cluster_tool);
	IS(registry_login); IS(image_search);
	IS(region_list); IS(image_tag); IS(access_create); IS(access_delete);
#undef IS
	return 0;
}

int petal_cloud_bucket_ensure(struct petal_cloud *c, const char *url, const char *region,
                              struct petal_error *err)
{
	DOOR(bucket_ensure, url, NULL, (c->ctx, url, region, err));
}

int petal_cloud_object_put(struct petal_cloud *c, const char *url, const char *local_path,
                           struct petal_error *err)
{
	DOOR(object_put, url, NULL, (c->ctx, url, local_path, err));
}

int petal_cloud_object_get(struct petal_cloud *c, const char *url, const char *local_path,
                           struct petal_error *err)
{
	DOOR(object_get, url, NULL, (c->ctx, url, local_path, err));
}

int petal_cloud_object_head(struct petal_cloud *c, const char *url,
                            struct petal_object_info *info, struct petal_error *err)
{
	DOOR(object_head, url, NULL, (c->ctx, url, info, err));
}

int petal_cloud_object_list(struct petal_cloud *c, const char *url_prefix, petal_object_cb cb,
                            void *arg, struct petal_error *err)
{
	DOOR(object_list, url_prefix, NULL, (c->ctx, url_prefix, cb, arg, err));
}

int petal_cloud_object_delete(struct petal_cloud *c, const char *const *urls, size_t n,
                              struct petal_error *err)
{
	DOOR(object_delete, n ? urls[0] : NULL, NULL, (c->ctx, urls, n, err));
}

int petal_cloud_instance_launch(struct petal_cloud *c, const struct petal_instance_request *req,
                                struct petal_instance *out, struct petal_error *err)
{
	const char *token = PETAL_HAS(req, client_token) ? req->client_token : NULL;
	DOOR(instance_launch, req && PETAL_HAS(req, instance_type) ? req->instance_type : NULL,
	     token, (c->ctx, req, out, err));
}

int petal_cloud_instance_describe(struct petal_cloud *c, const char *id,
                                  struct petal_instance *out, struct petal_error *err)
{
	DOOR(instance_describe, id, NULL, (c->ctx, id, out, err));
}

int petal_cloud_instance_list(struct petal_cloud *c, const char *tag_key, const char *tag_value,
                              int (*cb)(void *arg, const struct petal_instance *inst),
                              void *arg, struct petal_error *err)
{
	DOOR(instance_list, tag_key, NULL, (c->ctx, tag_key, tag_value, cb, arg, err));
}

int petal_cloud_instance_logs(struct petal_cloud *c, const char *id, uint64_t offset,
                              petal_text_cb cb, void *arg, struct petal_error *err)
{
	DOOR(instance_logs, id, NULL, (c->ctx, id, offset, cb, arg, err));
}

int petal_cloud_instance_terminate(struct petal_cloud *c, const char *id,
                                   struct petal_error *err)
{
	DOOR(instance_terminate, id, NULL, (c->ctx, id, err));
}

int petal_cloud_image_create(struct petal_cloud *c, const char *instance_id, const char *name,
                             const struct petal_tag *tags, size_t n_tags,
                             struct petal_image *out, struct petal_error *err)
{
	DOOR(image_create, instance_id, NULL, (c->ctx, instance_id, name, tags, n_tags, out, err));
}

int petal_cloud_image_find(struct petal_cloud *c, const char *tag_key, const char *tag_value,
                           const char *name, struct petal_image *out, struct petal_error *err)
{
	DOOR(image_find, name ? name : tag_key, NULL,
	     (c->ctx, tag_key, tag_value, name, out, err));
}

int petal_cloud_image_list(struct petal_cloud *c, const char *tag_key,
                           int (*cb)(void *arg, const struct petal_image *img), void *arg,
                           struct petal_error *err)
{
	DOOR(image_list, tag_key, NULL, (c->ctx, tag_key, cb, arg, err));
}

int petal_cloud_image_copy(struct petal_cloud *c, const char *image_id, const char *src_region,
                           const char *dst_region, struct petal_image *out,
                           struct petal_error *err)
{
	DOOR(image_copy, image_id, NULL, (c->ctx, image_id, src_region, dst_region, out, err));
}

int petal_cloud_image_delete(struct petal_cloud *c, const char *image_id,
                             struct petal_error *err)
{
	DOOR(image_delete, image_id, NULL, (c->ctx, image_id, err));
}

int petal_cloud_cluster_create(struct petal_cloud *c, const struct petal_cluster_request *req,
                               petal_message_cb cb, void *arg, struct petal_cluster *out,
                               struct petal_error *err)
{
	DOOR(cluster_create, req ? req->name : NULL, NULL, (c->ctx, req, cb, arg, out, err));
}

int petal_cloud_cluster_describe(struct petal_cloud *c, const char *name,
                                 struct petal_cluster *out, struct petal_error *err)
{
	DOOR(cluster_describe, name, NULL, (c->ctx, name, out, err));
}

int petal_cloud_cluster_delete(struct petal_cloud *c, const char *name, struct petal_error *err)
{
	DOOR(cluster_delete, name, NULL, (c->ctx, name, err));
}

int petal_cloud_cluster_list(struct petal_cloud *c,
                             int (*cb)(void *arg, const struct petal_cluster *cl), void *arg,
                             struct petal_error *err)
{
	DOOR(cluster_list, NULL, NULL, (c->ctx, cb, arg, err));
}

int petal_cloud_cluster_tool(struct petal_cloud *c, char *version, size_t version_len,
                             char *path, size_t path_len, struct petal_error *err)
{
	DOOR(cluster_tool, NULL, NULL, (c->ctx, version, version_len, path, path_len, err));
}

int petal_cloud_image_search(struct petal_cloud *c, const char *owner,
                             const char *name_pattern,
                             int (*cb)(void *arg, const struct petal_image *img), void *arg,
                             struct petal_error *err)
{
	DOOR(image_search, name_pattern, NULL, (c->ctx, owner, name_pattern, cb, arg, err));
}

int petal_cloud_region_list(struct petal_cloud *c, int (*cb)(void *arg, const char *region),
                            void *arg, struct petal_error *err)
{
	DOOR(region_list, NULL, NULL, (c->ctx, cb, arg, err));
}

int petal_cloud_image_tag(struct petal_cloud *c, const char *image_id,
                          const struct petal_tag *tags, size_t n_tags, struct petal_error *err)
{
	DOOR(image_tag, image_id, NULL, (c->ctx, image_id, tags, n_tags, err));
}

int petal_cloud_access_create(struct petal_cloud *c, const char *name,
                              const char *const *prefixes, size_t n_prefixes,
                              const struct petal_tag *tags, size_t n_tags,
                              struct petal_error *err)
{
	DOOR(access_create, name, NULL, (c->ctx, name, prefixes, n_prefixes, tags, n_tags, err));
}

int petal_cloud_access_delete(struct petal_cloud *c, const char *name, struct petal_error *err)
{
	DOOR(access_delete, name, NULL, (c->ctx, name, err));
}

/* ---- polls ------------------------------------------------------------------ */

double petal_cloud_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleep *delay (then doubled up to 10 s) in slices of 0.2 s, never past the
   deadline: 1 when the deadline has passed or *cancel was raised. */
static int pause_until(double deadline, double *delay, const volatile sig_atomic_t *cancel)
{
	double until = petal_cloud_now() + *delay;
	if (until > deadline)
		until = deadline;
	*delay = *delay * 2 > 10 ? 10 : *delay * 2;
	for (;;) {
		if (cancel && *cancel)
			return 1;
		double left = until - petal_cloud_now();
		if (left <= 0)
			break;
		double step = left < 0.2 ? left : 0.2;
		struct timespec ts = { (time_t)step, (long)((step - (double)(time_t)step) * 1e9) };
		while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
			if (cancel && *cancel)
				return 1;
	}
	return petal_cloud_now() >= deadline;
}

static const char *const instance_states[] = {
	"pending", "running", "stopping", "stopped", "shutting-down", "terminated", NULL,
};

/* Can an instance that is `now` still reach `target` without anyone's help? */
static int reachable(const char *target, const char *now)
{
	if (strcmp(now, target) == 0 || strcmp(target, "terminated") == 0)
		return 1;
	if (strcmp(now, "shutting-down") == 0 || strcmp(now, "terminated") == 0)
		return 0;
	if (strcmp(target, "running") == 0)
		return strcmp(now, "stopping") != 0 && strcmp(now, "stopped") != 0;
	return 1;
}

int petal_cloud_wait_instance(struct petal_cloud *c, const char *id, const char *state,
                              double deadline, const volatile sig_atomic_t *cancel,
                              struct petal_instance *out, struct petal_error *err)
{
	int known = 0;
	for (size_t i = 0; state && instance_states[i]; i++)
		known |= strcmp(state, instance_states[i]) == 0;
	if (!known || strcmp(state, "stopping") == 0 || strcmp(state, "shutting-down") == 0)
		return petal_fail(err, PETAL_EINVAL, "wait for instance %s: '%s' is not a state "
		                  "to wait for (pending, running, stopped, terminated)",
		                  id ? id : "?", state ? state : "(null)");
	if (!HAS(c, instance_describe))
		return begin(c, "instance_describe", 0, id, NULL, err);
	double delay = 1;
	for (;;) {
		struct petal_instance inst = { .size = sizeof(inst) };
		int rc = petal_cloud_instance_describe(c, id, &inst, err);
		if (rc == PETAL_ENOENT && strcmp(state, "terminated") == 0) {
			snprintf(inst.id, sizeof(inst.id), "%s", id);
			snprintf(inst.state, sizeof(inst.state), "terminated");
			rc = 0;
		}
		if (rc < 0)
			return rc;
		if (out)
			*out = inst;
		if (strcmp(inst.state, state) == 0)
			return 0;
		if (!reachable(state, inst.state))
			return petal_fail(err, PETAL_ECLOUD, "instance %s is %s and cannot become %s",
			                  id, inst.state, state);
		if ((cancel && *cancel) || petal_cloud_now() >= deadline ||
		    pause_until(deadline, &delay, cancel)) {
			if (cancel && *cancel)
				return petal_fail(err, PETAL_ETIMEOUT, "waiting for instance %s to "
				                  "be %s: cancelled (it is %s)", id, state, inst.state);
			return petal_fail(err, PETAL_ETIMEOUT, "instance %s is still %s, not %s, "
			                  "at the deadline", id, inst.state, state);
		}
	}
}

struct image_seek {
	const char *id;
	struct petal_image img;
	int found;
};

static int image_seen(void *arg, const struct petal_image *img)
{
	struct image_seek *s = arg;
	if (strcmp(img->id, s->id) != 0)
		return 0;
	s->img = *img;
	s->found = 1;
	return 1;
}

int petal_cloud_wait_image(struct petal_cloud *c, const char *image_id, double deadline,
                           const volatile sig_atomic_t *cancel, struct petal_image *out,
                           struct petal_error *err)
{
	if (!image_id || !*image_id)
		return petal_fail(err, PETAL_EINVAL, "wait for an image: no image id given");
	double delay = 1;
	for (;;) {
		/* the image may not be listed yet (eventual consistency): pending */
		struct image_seek s = { .id = image_id };
		int rc = petal_cloud_image_list(c, NULL, image_seen, &s, err);
		if (rc < 0)
			return rc;
		const char *now = s.found ? s.img.state : "not listed yet";
		if (s.found && out)
			*out = s.img;
		if (s.found && strcmp(s.img.state, "available") == 0)
			return 0;
		if (s.found && strcmp(s.img.state, "failed") == 0)
			return petal_fail(err, PETAL_ECLOUD, "image %s failed", image_id);
		if ((cancel && *cancel) || petal_cloud_now() >= deadline ||
		    pause_until(deadline, &delay, cancel))
			return petal_fail(err, PETAL_ETIMEOUT, "image %s is %s, not available, %s",
			                  image_id, now, cancel && *cancel ? "cancelled"
			                                                    : "at the deadline");
	}
}
