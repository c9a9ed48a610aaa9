/* One door to the cloud: every call the core makes to a cloud plugin goes
   through petal_cloud_*.  Each checks the op exists (PETAL_ENOTSUP naming the
   op and the cloud), tells the host's sink (event "cloud", start and done),
   calls the journal hook with its intent before and its result after, and
   puts the op's name before the plugin's message on failure.  No blocking
   wait lives in a plugin: petal_cloud_wait_* poll describe here, with a
   deadline and a cancel flag. */
#ifndef PETAL_CLOUD_H
#define PETAL_CLOUD_H

#include <signal.h>
#include <stdint.h>

#include <petal/plugin.h>

struct petal_entry;

enum petal_cloud_phase {
	PETAL_CLOUD_INTENT = 1, /* before the call: rc and err unset */
	PETAL_CLOUD_RESULT = 2, /* after: rc, and err when rc < 0 */
};

/* The run layer's journal (core/run): write the intent before, the result
   after; `target` names what the op acts on (a URL, an id, a tag key=value)
   and `token` is the launch's client token (else NULL). */
typedef void (*petal_cloud_journal_fn)(void *arg, const char *cloud, const char *op,
                                       const char *target, const char *token,
                                       enum petal_cloud_phase phase, int rc,
                                       const struct petal_error *err);

struct petal_cloud {
	const char *name;                  /* the plugin's, e.g. "aws" */
	const struct petal_cloud_ops *ops;
	void *ctx;                         /* the plugin's */
	const struct petal_host *host;     /* its sink hears the events; may be NULL */
	petal_cloud_journal_fn journal;    /* may be NULL */
	void *journal_arg;
};

/* The door to an initialised cloud entry (petal_entry_init done). */
void petal_cloud_from_entry(struct petal_cloud *c, const struct petal_entry *e,
                            const struct petal_host *host);

/* Does the cloud offer the op?  ("image_find": PETAL_HAS and non-NULL) */
int petal_cloud_has(const struct petal_cloud *c, const char *op);

int petal_cloud_bucket_ensure(struct petal_cloud *c, const char *url, const char *region,
                              struct petal_error *err);
int petal_cloud_object_put(struct petal_cloud *c, const char *url, const char *local_path,
                           struct petal_error *err);
int petal_cloud_object_get(struct petal_cloud *c, const char *url, const char *local_path,
                           struct petal_error *err);
int petal_cloud_object_head(struct petal_cloud *c, const char *url,
                            struct petal_object_info *info, struct petal_error *err);
int petal_cloud_object_list(struct petal_cloud *c, const char *url_prefix, petal_object_cb cb,
                            void *arg, struct petal_error *err);
int petal_cloud_object_delete(struct petal_cloud *c, const char *const *urls, size_t n,
                              struct petal_error *err);

int petal_cloud_instance_launch(struct petal_cloud *c, const struct petal_instance_request *req,
                                struct petal_instance *out, struct petal_error *err);
int petal_cloud_instance_describe(struct petal_cloud *c, const char *id,
                                  struct petal_instance *out, struct petal_error *err);
int petal_cloud_instance_list(struct petal_cloud *c, const char *tag_key, const char *tag_value,
                              int (*cb)(void *arg, const struct petal_instance *inst),
                              void *arg, struct petal_error *err);
int petal_cloud_instance_logs(struct petal_cloud *c, const char *id, uint64_t offset,
                              petal_text_cb cb, void *arg, struct petal_error *err);
int petal_cloud_instance_terminate(struct petal_cloud *c, const char *id,
                                   struct petal_error *err);

int petal_cloud_image_create(struct petal_cloud *c, const char *instance_id, const char *name,
                             const struct petal_tag *tags, size_t n_tags,
                             struct petal_image *out, struct petal_error *err);
int petal_cloud_image_find(struct petal_cloud *c, const char *tag_key, const char *tag_value,
                           const char *name, struct petal_image *out, struct petal_error *err);
int petal_cloud_image_list(struct petal_cloud *c, const char *tag_key,
                           int (*cb)(void *arg, const struct petal_image *img), void *arg,
                           struct petal_error *err);
int petal_cloud_image_copy(struct petal_cloud *c, const char *image_id, const char *src_region,
                           const char *dst_region, struct petal_image *out,
                           struct petal_error *err);
int petal_cloud_image_delete(struct petal_cloud *c, const char *image_id,
                             struct petal_error *err);
/* Every image of `owner` ("self", "amazon", or an account id) whose name
   matches name_pattern (EC2's wildcards * and ?), available or pending,
   deprecated ones included, every page; cb's non-zero stops and is
   returned. */
int petal_cloud_image_search(struct petal_cloud *c, const char *owner,
                             const char *name_pattern,
                             int (*cb)(void *arg, const struct petal_image *img), void *arg,
                             struct petal_error *err);
/* The regions the cloud's account may use, one name to cb at a time. */
int petal_cloud_region_list(struct petal_cloud *c, int (*cb)(void *arg, const char *region),
                            void *arg, struct petal_error *err);
/* Clusters, through the cloud's cluster manager (plugin.h, "cluster"). */
int petal_cloud_cluster_create(struct petal_cloud *c, const struct petal_cluster_request *req,
                               petal_message_cb cb, void *arg, struct petal_cluster *out,
                               struct petal_error *err);
int petal_cloud_cluster_describe(struct petal_cloud *c, const char *name,
                                 struct petal_cluster *out, struct petal_error *err);
int petal_cloud_cluster_delete(struct petal_cloud *c, const char *name, struct petal_error *err);
int petal_cloud_cluster_list(struct petal_cloud *c,
                             int (*cb)(void *arg, const struct petal_cluster *cl), void *arg,
                             struct petal_error *err);
int petal_cloud_cluster_tool(struct petal_cloud *c, char *version, size_t version_len,
                             char *path, size_t path_len, struct petal_error *err);
/* Tag an available image and its parts (EC2: its snapshots); repeatable. */
int petal_cloud_image_tag(struct petal_cloud *c, const char *image_id,
                          const struct petal_tag *tags, size_t n_tags, struct petal_error *err);
/* An identity `name` for build instances (instance_profile = name) that may
   read and write objects under each of `prefixes` (s3://bucket/prefix) and
   nothing else; repeatable (one already there is taken, its scope set again). */
int petal_cloud_access_create(struct petal_cloud *c, const char *name,
                              const char *const *prefixes, size_t n_prefixes,
                              const struct petal_tag *tags, size_t n_tags,
                              struct petal_error *err);
/* Remove the identity `name`; repeatable (what is gone counts as removed). */
int petal_cloud_access_delete(struct petal_cloud *c, const char *name, struct petal_error *err);

/* Poll instance_describe until the instance is in `state` (pending, running,
   stopped, terminated), backing off from 1 s to 10 s, never past `deadline`
   (CLOCK_MONOTONIC seconds, petal_cloud_now() + timeout; a deadline already
   past looks once).  An instance that reaches a state it cannot leave for
   `state` fails at once (PETAL_ECLOUD); one the cloud no longer knows counts
   as terminated.  *cancel non-zero (a signal handler's flag; may be NULL)
   stops it: PETAL_ETIMEOUT with "cancelled".  Past the deadline:
   PETAL_ETIMEOUT naming the state it is still in.  *out (may be NULL) gets
   the last description. */
int petal_cloud_wait_instance(struct petal_cloud *c, const char *id, const char *state,
                              double deadline, const volatile sig_atomic_t *cancel,
                              struct petal_instance *out, struct petal_error *err);
/* The same for an image (by image_find with its id as the name) until it is
   available; failed is PETAL_ECLOUD. */
int petal_cloud_wait_image(struct petal_cloud *c, const char *image_id, double deadline,
                           const volatile sig_atomic_t *cancel, struct petal_image *out,
                           struct petal_error *err);
/* Seconds on the monotonic clock, for deadlines. */
double petal_cloud_now(void);

#endif
