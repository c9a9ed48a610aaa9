/* What a step does: the stages in their order, and each step's action checked
   and copied out of the plugin's memory, for a run layer that reads data,
   not prose or tier names. */
#include "config.h"

#include "plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util/util.h"
#include "plan_internal.h"

/* In order; a stage's rank is its place, stages of one rank run side by side. */
static const struct {
	const char *name;
	int rank;
	int one_time;
} stages[] = {
	{ PETAL_STAGE_PREPARE, 0, 1 },
	{ PETAL_STAGE_IMAGE_BUILD, 1, 1 },
	{ PETAL_STAGE_CACHE_BUILD, 1, 1 },
	{ PETAL_STAGE_NODE_BOOT, 2, 0 },
	{ PETAL_STAGE_CACHE_PULL, 3, 0 },
	{ PETAL_STAGE_CONTAINER_PULL, 3, 0 },
	{ PETAL_STAGE_SOURCE_BUILD, 4, 0 },
	{ PETAL_STAGE_READY, 5, 0 },
};

const char *const petal_plan_stages[] = {
	PETAL_STAGE_PREPARE, PETAL_STAGE_IMAGE_BUILD, PETAL_STAGE_CACHE_BUILD,
	PETAL_STAGE_NODE_BOOT, PETAL_STAGE_CACHE_PULL, PETAL_STAGE_CONTAINER_PULL,
	PETAL_STAGE_SOURCE_BUILD, PETAL_STAGE_READY, NULL,
};

int petal_plan_stage_rank(const char *stage)
{
	for (size_t i = 0; stage && i < PETAL_ARRAY_SIZE(stages); i++)
		if (strcmp(stages[i].name, stage) == 0)
			return stages[i].rank;
	return -1;
}

int petal_plan_stage_one_time(const char *stage)
{
	for (size_t i = 0; stage && i < PETAL_ARRAY_SIZE(stages); i++)
		if (strcmp(stages[i].name, stage) == 0)
			return stages[i].one_time;
	return 0;
}

const char *petal_action_kind_name(enum petal_action_kind kind)
{
	switch (kind) {
	case PETAL_ACTION_NONE: return NULL;
	case PETAL_ACTION_BUILD_INSTANCE: return "build-instance";
	case PETAL_ACTION_IMAGE: return "image";
	case PETAL_ACTION_CACHE_FILL: return "cache-fill";
	case PETAL_ACTION_NODE_BOOT: return "node-boot";
	case PETAL_ACTION_NODE_BOOTSTRAP: return "node-bootstrap";
	case PETAL_ACTION_CONTAINER_PULL: return "container-pull";
	case PETAL_ACTION_CLUSTER: return "cluster";
	}
	return NULL;
}

const char *petal_product_name(enum petal_product out)
{
	switch (out) {
	case PETAL_PRODUCT_NONE: return NULL;
	case PETAL_PRODUCT_IMAGE_ID: return "image-id";
	case PETAL_PRODUCT_MIRROR_URL: return "mirror-url";
	}
	return NULL;
}

const struct petal_plan_step *petal_plan_producer(const struct petal_plan *plan,
                                                  enum petal_product what)
{
	for (size_t i = 0; plan && what != PETAL_PRODUCT_NONE && i < plan->n_steps; i++)
		if (plan->steps[i].action && plan->steps[i].action->produces == what)
			return &plan->steps[i];
	return NULL;
}

/* ---- checking and copying ------------------------------------------------- */

static int on_build_instance(enum petal_action_kind kind)
{
	return kind == PETAL_ACTION_BUILD_INSTANCE || kind == PETAL_ACTION_IMAGE ||
	       kind == PETAL_ACTION_CACHE_FILL;
}

/* A part name reaches build-instance.sh's command line: [a-z0-9-]+ only. */
static int part_name(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
			return 0;
	return 1;
}

/* Why the action is refused, or NULL. */
static const char *refusal(const struct petal_action *a, char *buf, size_t len)
{
	if ((int)a->kind < (int)PETAL_ACTION_NONE || (int)a->kind > (int)PETAL_ACTION_CLUSTER) {
		snprintf(buf, len, "unknown action kind %d", (int)a->kind);
		return buf;
	}
	if (on_build_instance(a->kind) && (!a->instance_type || !*a->instance_type)) {
		snprintf(buf, len, "a %s action runs on a build instance and names no "
		         "instance_type", petal_action_kind_name(a->kind));
		return buf;
	}
	if ((a->n_parts && !a->parts) || (a->n_image_tags && !a->image_tags))
		return "action: a count without its list";
	for (size_t i = 0; i < a->n_parts; i++)
		if (!part_name(a->parts[i])) {
			snprintf(buf, len, "action part %zu '%s' is not a script part name "
			         "([a-z0-9-]+)", i, a->parts[i] ? a->parts[i] : "(null)");
			return buf;
		}
	for (size_t i = 0; i < a->n_image_tags; i++)
		if (!a->image_tags[i].key || !*a->image_tags[i].key || !a->image_tags[i].value) {
			snprintf(buf, len, "action image tag %zu has no key or no value", i);
			return buf;
		}
	if (a->kind == PETAL_ACTION_IMAGE && (!a->image_name || !*a->image_name))
		return "an image action names no image_name";
	if (a->timeout_s < 0 || a->volume_gb < 0)
		return "action: timeout_s and volume_gb must be 0 or more";
	if ((a->produces != PETAL_PRODUCT_NONE && !petal_product_name(a->produces)) ||
	    (a->uses != PETAL_PRODUCT_NONE && !petal_product_name(a->uses))) {
		snprintf(buf, len, "unknown action output %d", a->produces ? (int)a->produces
		         : (int)a->uses);
		return buf;
	}
	return NULL;
}

int petal_plan_action_copy(const struct petal_action *from, struct petal_plan_action **out,
                           char *why, size_t why_len)
{
	*out = NULL;
	if (!from)
		return 0;
	if (from->size < offsetof(struct petal_action, kind) + sizeof(from->kind)) {
		snprintf(why, why_len, "action too small (size %zu)", from->size);
		return -1;
	}
	/* Members past the plugin's size read as absent (zero). */
	struct petal_action a;
	memset(&a, 0, sizeof(a));
	memcpy(&a, from, from->size < sizeof(a) ? from->size : sizeof(a));
	const char *no = refusal(&a, why, why_len);
	if (no) {
		if (no != why)
			snprintf(why, why_len, "%s", no);
		return -1;
	}

	struct petal_plan_action *c = petal_xcalloc(1, sizeof(*c));
	*c = (struct petal_plan_action){
		.kind = a.kind,
		.instance_type = on_build_instance(a.kind) ? petal_xstrdup(a.instance_type) : NULL,
		.spot = on_build_instance(a.kind) && a.spot,
		.spot_fallback = on_build_instance(a.kind) && a.spot && a.spot_fallback,
		.volume_gb = a.volume_gb,
		.timeout_s = a.timeout_s,
		.parts = petal_xcalloc(a.n_parts ? a.n_parts : 1, sizeof(char *)),
		.n_parts = a.n_parts,
		.image_name = a.kind == PETAL_ACTION_IMAGE ? petal_xstrdup(a.image_name) : NULL,
		.image_tags = petal_xcalloc(a.n_image_tags ? a.n_image_tags : 1,
		                            sizeof(struct petal_plan_tag)),
		.n_image_tags = a.kind == PETAL_ACTION_IMAGE ? a.n_image_tags : 0,
		.produces = a.produces,
		.output = a.produces != PETAL_PRODUCT_NONE ? petal_xstrdup(a.output) : NULL,
		.uses = a.uses,
		.input = a.uses != PETAL_PRODUCT_NONE ? petal_xstrdup(a.input) : NULL,
	};
	for (size_t i = 0; i < a.n_parts; i++)
		c->parts[i] = petal_xstrdup(a.parts[i]);
	for (size_t i = 0; i < c->n_image_tags; i++)
		c->image_tags[i] = (struct petal_plan_tag){ petal_xstrdup(a.image_tags[i].key),
		                                            petal_xstrdup(a.image_tags[i].value) };
	*out = c;
	return 0;
}

void petal_plan_action_free(struct petal_plan_action *a)
{
	if (!a)
		return;
	free(a->instance_type);
	for (size_t i = 0; i < a->n_parts; i++)
		free(a->parts[i]);
	free(a->parts);
	free(a->image_name);
	for (size_t i = 0; i < a->n_image_tags; i++) {
		free(a->image_tags[i].key);
		free(a->image_tags[i].value);
	}
	free(a->image_tags);
	free(a->output);
	free(a->input);
	free(a);
}
