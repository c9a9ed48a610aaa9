/* petal plugin ABI: everything a tier or cloud plugin compiles against.
 *
 * A plugin is a shared object named <kind>_<name>.so that exports exactly one
 * symbol, `petal_plugin`, a struct petal_plugin.  It links nothing of petal:
 * every call into the core goes through the struct petal_host table handed to
 * init().  Every ops, host and data struct starts with `size_t size` and only
 * ever grows at its end; a member past `size` reads as absent.  The ABI
 * number changes only for an incompatible change.
 */
#ifndef PETAL_PLUGIN_H
#define PETAL_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PETAL_PLUGIN_MAGIC 0x5045544cu /* "PETL" */
#define PETAL_PLUGIN_ABI 2
#define PETAL_PLUGIN_SYMBOL "petal_plugin"

/* Is member `m` of the size-prefixed struct `*p` present? */
#define PETAL_HAS(p, m) \
	((p) != NULL && (p)->size >= offsetof(__typeof__(*(p)), m) + sizeof((p)->m))

enum petal_kind {
	PETAL_KIND_TIER = 1,
	PETAL_KIND_CLOUD = 2,
};

/* Return codes: 0 or one of these, negative. */
enum petal_status_code {
	PETAL_OK = 0,
	PETAL_EINVAL = -1,   /* bad input: seed, argument, file */
	PETAL_ENOMEM = -2,
	PETAL_EIO = -3,      /* local file or pipe */
	PETAL_ENOENT = -4,   /* asked-for thing does not exist */
	PETAL_ENOTSUP = -5,  /* capability or operation not provided */
	PETAL_ENET = -6,     /* network, after retries */
	PETAL_EAUTH = -7,    /* credentials missing or refused */
	PETAL_ECLOUD = -8,   /* the cloud answered with an error */
	PETAL_EPLUGIN = -9,  /* a plugin misbehaved or could not be loaded */
	PETAL_ETIMEOUT = -10,
};

/* What went wrong, where, and what to do; filled by whoever fails first.
   The caller owns it (on its stack, usually).  `size` is the caller's
   sizeof(struct petal_error); 0 (a `= {0}` initialiser) reads as the struct
   of ABI 2, every member below.  A filler writes a member past `size` never.
   The message is never cut silently: one that does not fit ends with "..."
   (petal_error_vset).  The members after `msg` are 0 / "" when unknown. */
struct petal_error {
	size_t size;
	int code;             /* PETAL_E*, negative */
	char msg[1024];       /* for people, one line, NUL-terminated */
	long http_status;     /* the answer's HTTP status; 0: no HTTP answer */
	char cloud_code[64];  /* the cloud's own error code ("InvalidAMIID.NotFound") */
	char request_id[128]; /* the cloud's request id, for its support */
	int retryable;        /* 1: the same call later could succeed (throttled,
	                         5xx, network); 0: no, or not known */
};

#define PETAL_ERROR_INIT { .size = sizeof(struct petal_error) }

/* Is member m of *err present (size 0 is ABI 2's whole struct)? */
#define PETAL_ERROR_HAS(err, m) ((err) != NULL && ((err)->size == 0 || PETAL_HAS(err, m)))

/* Set code and message, clearing what a former failure left (HTTP status,
   cloud code, request id, retryable); a message longer than msg ends with
   "..." at a character boundary.  Returns code.  Inline so that a plugin
   needs no host to fail (the host's fail() does the same). */
static inline int petal_error_vset(struct petal_error *err, int code, const char *fmt,
                                   va_list ap) __attribute__((format(printf, 3, 0)));
static inline int petal_error_vset(struct petal_error *err, int code, const char *fmt,
                                   va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (n < 0) {
		err->msg[0] = '\0';
	} else if ((size_t)n >= sizeof(err->msg)) {
		size_t end = sizeof(err->msg) - 4;
		while (end > 0 && ((unsigned char)err->msg[end] & 0xc0) == 0x80)
			end--; /* not inside a UTF-8 sequence */
		err->msg[end] = '.';
		err->msg[end + 1] = '.';
		err->msg[end + 2] = '.';
		err->msg[end + 3] = '\0';
	}
	if (PETAL_ERROR_HAS(err, retryable)) {
		err->http_status = 0;
		err->cloud_code[0] = '\0';
		err->request_id[0] = '\0';
		err->retryable = 0;
	}
	return code;
}

static inline int petal_error_set(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static inline int petal_error_set(struct petal_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	petal_error_vset(err, code, fmt, ap);
	va_end(ap);
	return code;
}

/* Put "prefix: " before the message, keeping everything else (the cloud's
   code, request id, ...); the end is cut visibly ("...") when it must be. */
static inline void petal_error_prefix(struct petal_error *err, const char *prefix)
{
	if (!err || !prefix)
		return;
	char old[sizeof(err->msg)];
	memcpy(old, err->msg, sizeof(old));
	old[sizeof(old) - 1] = '\0';
	int code = err->code;
	struct petal_error keep = *err;
	petal_error_set(err, code, "%s: %s", prefix, old);
	if (PETAL_ERROR_HAS(err, retryable)) {
		err->http_status = keep.http_status;
		memcpy(err->cloud_code, keep.cloud_code, sizeof(err->cloud_code));
		memcpy(err->request_id, keep.request_id, sizeof(err->request_id));
		err->retryable = keep.retryable;
	}
}

/* ---- the seed, as plugins see it ---------------------------------------- */

/* A node of the seed's YAML document; opaque, read through the host table. */
struct petal_node;

enum petal_node_type {
	PETAL_NODE_NONE = 0,
	PETAL_NODE_SCALAR = 1,
	PETAL_NODE_LIST = 2,
	PETAL_NODE_MAP = 3,
};

/* Where the seed listed a package. */
enum petal_section {
	PETAL_SECTION_SPACK_PACKAGES = 1, /* software.spack_packages */
	PETAL_SECTION_IN_AMI = 2,         /* software.in_ami */
	PETAL_SECTION_BUILD_FROM_SOURCE = 3,
	PETAL_SECTION_CONTAINER = 4,      /* software.containers[].modules */
};

struct petal_package {
	size_t size;
	const char *spec;      /* canonical spec text, e.g. "gromacs@2023.3+mpi" */
	const char *name;
	const char *version;   /* version constraint after '@', or NULL */
	const char *compiler;  /* compiler after '%', or NULL */
	enum petal_section section;
	const char *container; /* section CONTAINER: the container's name */
	const char *image;     /* section CONTAINER: the image reference */
	int line, col;         /* where the seed lists it */
	/* Appended: what `petal plan --probe` learnt from the cloud; read only
	   when present (PETAL_HAS).  All 0 and NULL without --probe, and for a
	   package the probe did not ask about (the core asks the binary cache
	   about the packages the binary-cache tier claimed). */
	int cache_probed;          /* the binary cache's index was read for it */
	int cache_hit;             /* cache_probed: the cache holds a build of it */
	const char *cache_version; /* cache_hit: the version held (the newest that fits) */
	const char *cache_hash;    /* cache_hit: that build's DAG hash */
};

struct petal_seed_info {
	size_t size;
	const char *path;
	const char *hash;          /* 64 hex digits */
	const char *cluster_name;
	const char *region;
	const char *cloud;
	const char *os;
	const char *head_node;     /* instance type */
	const char *custom_ami;    /* id or name, or NULL */
	int use_custom_ami;
	const char *build_instance;        /* given or recommended */
	const char *build_instance_reason; /* why, when recommended */
	int build_spot;
	long build_timeout_s;
	int build_parallel;        /* parallel jobs; 0 = all cores */
	const char *cache_bucket;  /* or NULL */
	const char *cache_prefix;  /* never NULL when cache_bucket is set */
	const char *spack_version;
	const struct petal_node *root; /* the whole document */
	/* Appended: the cloud's answers of `petal plan --probe`; read only when
	   present (PETAL_HAS).  `probed` holds a PETAL_PROBED_* bit for each
	   question the core asked; a member whose bit is clear was not asked and
	   is NULL (the offline plan's assumptions hold for it). */
	uint32_t probed;
	const char *cache_url;       /* PETAL_PROBED_CACHE: the mirror whose index was read */
	const char *seed_image_id;   /* PETAL_PROBED_SEED_IMAGE: the image tagged
	                                petal:seed-hash=<hash> (already baked), or
	                                NULL: the cloud has none */
	const char *seed_image_arch; /* its architecture, "x86_64" or "arm64" */
	const char *custom_ami_id;   /* PETAL_PROBED_CUSTOM_AMI: custom_ami's image id
	                                (a name resolved in the seed's region, or the
	                                id the seed gives) */
	const char *custom_ami_arch; /* its architecture; NULL when the cloud could
	                                not say (an id that is not among the account's
	                                own images: shared or public) */	/* Appended: the ParallelCluster release the cluster is created with
	   (cluster.pcluster_version), which an image's parallelcluster:version
	   tag must name */
	const char *pcluster_version;
};

/* Questions `petal plan --probe` asked the cloud (petal_seed_info.probed). */
#define PETAL_PROBED_CACHE (1u << 0)      /* the binary cache's index */
#define PETAL_PROBED_SEED_IMAGE (1u << 1) /* an image tagged with the seed hash */
#define PETAL_PROBED_CUSTOM_AMI (1u << 2) /* compute.custom_ami */

/* ---- planning --------------------------------------------------------------- */

/* Cloud capability bits; a tier that needs one the cloud lacks declines. */
#define PETAL_CAP_OBJECTS (1u << 0)  /* put/get/head/list/delete by URL */
#define PETAL_CAP_COMPUTE (1u << 1)  /* build instances */
#define PETAL_CAP_IMAGES (1u << 2)   /* machine images */
#define PETAL_CAP_CLUSTER (1u << 3)  /* create/describe/delete clusters */
#define PETAL_CAP_REGISTRY (1u << 4) /* container registry login */

/* What a tier is told when asked to claim a package. */
struct petal_claim_env {
	size_t size;
	const struct petal_seed_info *seed;
	const char *cloud_name;
	uint32_t cloud_caps;
};

enum petal_claim {
	PETAL_PASS = 0,    /* not mine: ask the next tier */
	PETAL_CLAIM = 1,   /* mine */
	PETAL_DECLINE = 2, /* mine by the seed, but I cannot serve it: say why */
};

struct petal_planner; /* opaque: the plan being composed */

/* ---- names written once: tiers, tags, stages ----------------------------------
   (plan side; the host side may add its own block).  petal's own tiers, the
   tag keys petal writes on what it creates, and the stages of a plan. */
#define PETAL_TIER_AMI "ami"
#define PETAL_TIER_BINARY_CACHE "binary-cache"
#define PETAL_TIER_CONTAINER "container"
#define PETAL_TIER_SOURCE "source"

#define PETAL_TAG_SEED_HASH "petal:seed-hash"   /* the seed hash, 64 hex digits */
#define PETAL_TAG_SEED "petal:seed"             /* the seed's cluster.name */
#define PETAL_TAG_RUN "petal:run"               /* the run that made it */
#define PETAL_TAG_SPACK_VERSION "petal:spack-version"
#define PETAL_TAG_PACKAGES "petal:packages"     /* specs, space-separated */
#define PETAL_TAG_NAME "Name"
#define PETAL_TAG_CLIENT_TOKEN "petal:client-token" /* a launch's idempotency token */
#define PETAL_TAG_STEP "petal:step"             /* the plan step that made it */
#define PETAL_TAG_ARTIFACTS "petal:artifacts"   /* a cluster's node files, s3://... */
#define PETAL_TAG_PCLUSTER_VERSION "parallelcluster:version"
#define PETAL_TAG_PCLUSTER_OS "parallelcluster:os"
#define PETAL_TAG_PCLUSTER_BUILD_STATUS "parallelcluster:build_status"

/* Stages, in the order a plan runs them; stages on one line run side by
   side.  A step names its own stage and the earlier stages it waits for
   (petal_step.after_stages); the planner makes it depend on every step of
   those stages the plan has.  The first three are one-time preparation. */
#define PETAL_STAGE_PREPARE "prepare"               /* 0 */
#define PETAL_STAGE_IMAGE_BUILD "image-build"       /* 1 */
#define PETAL_STAGE_CACHE_BUILD "cache-build"       /* 1 */
#define PETAL_STAGE_NODE_BOOT "node-boot"           /* 2: at cluster creation */
#define PETAL_STAGE_CACHE_PULL "cache-pull"         /* 3 */
#define PETAL_STAGE_CONTAINER_PULL "container-pull" /* 3 */
#define PETAL_STAGE_SOURCE_BUILD "source-build"     /* 4 */
#define PETAL_STAGE_READY "ready"                   /* 5 */

/* ---- what a step does ----------------------------------------------------------
   The run layer reads a step's action, never its prose (runs_on, note) nor
   its tier's name. */
enum petal_action_kind {
	PETAL_ACTION_NONE = 0,           /* nothing to run (an estimate only) */
	PETAL_ACTION_BUILD_INSTANCE = 1, /* launch a build instance that runs `parts`
	                                    of build-instance.sh, then terminate it */
	PETAL_ACTION_IMAGE = 2,          /* the same, then make an image of it
	                                    (image_name, image_tags): an IMAGE_ID */
	PETAL_ACTION_CACHE_FILL = 3,     /* the same, its parts push to a binary
	                                    cache: a MIRROR_URL */
	PETAL_ACTION_NODE_BOOT = 4,      /* the cluster's nodes boot an image: the
	                                    IMAGE_ID it uses */
	PETAL_ACTION_NODE_BOOTSTRAP = 5, /* `parts` of node-bootstrap.sh, run by the
	                                    nodes at cluster creation */
	PETAL_ACTION_CONTAINER_PULL = 6, /* a node-bootstrap part that pulls
	                                    container images */
	PETAL_ACTION_CLUSTER = 7,        /* create the cluster from the rendered
	                                    config (no built-in tier adds one) */
};

/* What a step hands the steps after it, or takes from the steps before. */
enum petal_product {
	PETAL_PRODUCT_NONE = 0,
	PETAL_PRODUCT_IMAGE_ID = 1,   /* a machine image id ("ami-...") */
	PETAL_PRODUCT_MIRROR_URL = 2, /* a Spack binary cache ("s3://bucket/prefix") */
};

struct petal_action {
	size_t size;
	enum petal_action_kind kind;
	/* on a build instance (BUILD_INSTANCE, IMAGE, CACHE_FILL) */
	const char *instance_type;
	int spot;              /* ask for spot capacity */
	int spot_fallback;     /* spot refused: on demand is allowed */
	int volume_gb;         /* root volume; 0: the image's default */
	long timeout_s;        /* the step fails past this; 0: no limit of its own */
	/* which named parts of the rendered script it runs ([a-z0-9-]+: a tier's
	   part is named after the tier), of build-instance.sh on a build
	   instance, of node-bootstrap.sh on nodes */
	const char *const *parts;
	size_t n_parts;
	/* IMAGE: the image made, and its tags (struct petal_tag, below; the run
	   adds petal:run and ParallelCluster's version and build status) */
	const char *image_name;
	const struct petal_tag *image_tags;
	size_t n_image_tags;
	/* what it produces; `output` is its value when the plan knows it (the
	   mirror's URL), NULL when only the run will (an image's id) */
	enum petal_product produces;
	const char *output;
	/* what it takes from the steps it depends on; `input` is the value when
	   the plan already knows it (an image baked before) */
	enum petal_product uses;
	const char *input;
};

struct petal_step {
	size_t size;
	const char *id;        /* unique in the plan, e.g. "ami.image-build" */
	const char *stage;     /* one of PETAL_STAGE_* */
	const char *runs_on;   /* for people: "build instance c5.18xlarge (spot)" */
	const char *const *packages;
	size_t n_packages;
	const char *const *depends_on; /* ids of steps this tier adds too; for
	                                  another tier's steps, after_stages */
	size_t n_depends_on;
	double est_minutes;
	double est_cost_usd;
	int one_time; /* prepared once, reused while the seed hash is unchanged */
	int guess;    /* rests on default figures for an unknown package */
	const char *note; /* one line for the reader: why this, what it assumes */
	int from_cloud; /* the step's shape or figures rest on answers the cloud
	                   gave `petal plan --probe` (petal_seed_info.probed,
	                   petal_package.cache_probed), not on assumptions */
	/* earlier stages (PETAL_STAGE_*) it waits for: every step of them */
	const char *const *after_stages;
	size_t n_after_stages;
	/* what it does, for the run; copied by the planner (NULL: nothing) */
	const struct petal_action *action;
};

/* Estimate for building a set of packages on an instance type. */
struct petal_build_estimate {
	size_t size;
	double minutes;     /* wall-clock */
	double core_minutes;
	double size_mb;     /* installed binary size */
	double memory_gb;   /* peak memory per build job */
	int guesses;        /* packages with no figures: defaults used */
};

struct petal_instance_type {
	size_t size;
	const char *name;
	int vcpus;
	double memory_gb;
	double ondemand_usd_hour;
	double spot_usd_hour;
	const char *arch; /* x86_64 or arm64 */
	int guess;        /* not in petal's table: figures guessed from the family or size */
};

/* ---- rendering --------------------------------------------------------------- */

struct petal_renderer; /* opaque: the artifacts being assembled */

enum petal_fragment {
	PETAL_FRAG_BUILD_SCRIPT = 1, /* text: shell lines for the build instance */
	PETAL_FRAG_NODE_SCRIPT = 2,  /* text: shell lines for the node bootstrap */
	PETAL_FRAG_PCLUSTER = 3,     /* key: dotted path ("Image.CustomAmi"), text: value */
	PETAL_FRAG_SPACK_SPEC = 4,   /* text: a spec for spack.yaml */
	PETAL_FRAG_SPACK_MIRROR = 5, /* key: mirror name, text: its URL; an unsigned binary
	                                cache (added --type binary --unsigned) */
	PETAL_FRAG_MODULE = 6,       /* key: module name ("samtools/1.17"), text: image */
	PETAL_FRAG_SHARED_MB = 7,    /* text: megabytes (decimal) the tier's node lines install
	                                at cluster creation, on the head node, into the tree
	                                every node shares; the core then adds the shared
	                                volume, sized from the sum (doc/render.md) */
};

/* ---- tier plugins ------------------------------------------------------------ */

struct petal_tier_status {
	size_t size;
	int available; /* 1: this tier holds the package now (cache hit, AMI exists) */
	char detail[256];
};

struct petal_tier_ops {
	size_t size;
	uint32_t needs; /* PETAL_CAP_* bits the tier needs from the cloud */
	/* PETAL_CLAIM, PETAL_PASS, or PETAL_DECLINE with *why set to a static or
	   ctx-owned string. */
	int (*claim)(void *ctx, const struct petal_claim_env *env,
	             const struct petal_package *pkg, const char **why);
	/* Add steps for the packages this tier claimed (n may be 0: add nothing). */
	int (*plan)(void *ctx, struct petal_planner *pl,
	            const struct petal_package *const *pkgs, size_t n,
	            struct petal_error *err);
	/* Add render fragments for the packages this tier claimed. */
	int (*render)(void *ctx, struct petal_renderer *r,
	              const struct petal_package *const *pkgs, size_t n,
	              struct petal_error *err);
	/* Does the tier hold the package now?  May ask the cloud. */
	int (*status)(void *ctx, const struct petal_package *pkg,
	              struct petal_tier_status *st, struct petal_error *err);
};

/* ---- cloud plugins ----------------------------------------------------------- */

struct petal_object_info {
	size_t size;
	const char *key;  /* relative to the listed prefix */
	uint64_t bytes;
	int64_t mtime;    /* seconds since the epoch */
	const char *etag;
};

/* Return 0 to go on, non-zero to stop listing (and return it). */
typedef int (*petal_object_cb)(void *arg, const struct petal_object_info *obj);
/* Receives text (console output); return non-zero to stop. */
typedef int (*petal_text_cb)(void *arg, const char *text, size_t len);

struct petal_tag {
	const char *key;
	const char *value;
};


struct petal_instance_request {
	size_t size;
	const char *instance_type;
	int spot;
	const char *image_id;
	const char *user_data;      /* script text, not encoded */
	const struct petal_tag *tags;
	size_t n_tags;
	const char *instance_profile;
	int root_volume_gb;
	const char *subnet_id;
	const char *key_name;
	/* Idempotency: a launch repeated with the same token (a retry after a
	   lost answer, petal resuming a run) starts no second instance but
	   answers the first.  [A-Za-z0-9._:-], at most 64; NULL: none.  The run
	   derives it from the run id and the step id.  cloud_aws sends it as
	   RunInstances' ClientToken, tags the instance petal:client-token=<token>
	   (PETAL_TAG_CLIENT_TOKEN) and first looks for a live instance so tagged:
	   the tag holds where the cloud (or a stand-in such as moto) forgets
	   tokens. */
	const char *client_token;
};

struct petal_instance {
	size_t size;
	char id[64];
	char state[32];   /* pending, running, stopped, terminated, ... */
	char image_id[64];
	char type[32];
	int64_t launched; /* seconds since the epoch */
	/* Appended: why the instance is in its state, as the cloud says it
	   ("Server.SpotInstanceTermination: ...", "Client.UserInitiatedShutdown:
	   ..."), or ""; and "spot" for spot capacity, else "" */
	char reason[256];
	char lifecycle[16];
};

/* A tag as a cloud reports it on an image: fixed-size, so a struct
   petal_image is one flat value a callback may copy.  EC2's limits (a key
   of 128 characters, a value of 256) fit with their NUL. */
#define PETAL_IMAGE_TAG_KEY_MAX 128
#define PETAL_IMAGE_TAG_VALUE_MAX 256
#define PETAL_IMAGE_MAX_TAGS 50   /* EC2's limit per resource; petal's images carry ~10 */

struct petal_image_tag {
	char key[PETAL_IMAGE_TAG_KEY_MAX + 1];
	char value[PETAL_IMAGE_TAG_VALUE_MAX + 1];
};

struct petal_image {
	size_t size;
	char id[64];
	char name[256];
	char state[32];   /* pending, available, failed */
	char arch[16];
	char region[32];
	int64_t created;
	/* Appended; written only when present (PETAL_HAS).  "" / 0 when the
	   cloud does not say. */
	char owner_id[32];         /* the owning account, "123456789012" */
	char owner_alias[32];      /* "amazon", "aws-marketplace", "self", or "" */
	char deprecation_time[32]; /* ISO 8601 UTC ("2025-04-01T00:00:00.000Z"); "" never */
	double size_gb;            /* the sum of its EBS snapshots' volume sizes, GB */
	size_t n_tags;             /* tags[0..n_tags); a cloud with more than
	                              PETAL_IMAGE_MAX_TAGS sets tags_truncated */
	int tags_truncated;
	struct petal_image_tag tags[PETAL_IMAGE_MAX_TAGS];
};

/* The value of tag `key` on an image, or NULL. */
static inline const char *petal_image_tag(const struct petal_image *img, const char *key)
{
	if (!img || !key || !PETAL_HAS(img, tags))
		return NULL;
	for (size_t i = 0; i < img->n_tags && i < PETAL_IMAGE_MAX_TAGS; i++)
		if (strcmp(img->tags[i].key, key) == 0)
			return img->tags[i].value;
	return NULL;
}

/* ---- clusters ---------------------------------------------------------------- */

struct petal_cluster_request {
	size_t size;
	const char *name;        /* [A-Za-z][A-Za-z0-9-]*, as the manager allows */
	const char *config_path; /* the rendered configuration (ParallelCluster's YAML) */
	int dryrun;              /* check the request only: nothing is made */
	int keep_on_failure;     /* a failed create keeps what it made (to debug) */
};

/* A cluster as its manager describes it; "" where it does not say. */
struct petal_cluster {
	size_t size;
	char name[128];
	char region[32];
	char status[32];        /* CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED,
	                           DELETE_IN_PROGRESS, DELETE_FAILED, UPDATE_... */
	char stack_status[48];  /* the infrastructure's own (CloudFormation's) */
	char version[32];       /* the manager's version that made it */
	char head_node[64];     /* the head node's instance id */
	char head_node_ip[64];  /* its public address, else its private one */
	int64_t created;        /* seconds since the epoch; 0 unknown */
	char failure[1024];     /* why it failed ("code: reason; ..."), or "" */
	size_t n_tags;          /* the cluster's tags (describe; list gives none) */
	int tags_truncated;
	struct petal_image_tag tags[PETAL_IMAGE_MAX_TAGS];
};

/* One message of the manager about a configuration: level ERROR, WARNING
   or INFO, type (the check's name, or ""), the message. */
typedef void (*petal_message_cb)(void *arg, const char *level, const char *type,
                                 const char *message);

struct petal_cloud_ops {
	size_t size;
	uint32_t caps; /* PETAL_CAP_* */

	/* objects: URLs are s3://bucket/key or file:///path */
	int (*bucket_ensure)(void *ctx, const char *url, const char *region,
	                     struct petal_error *err);
	int (*object_put)(void *ctx, const char *url, const char *local_path,
	                  struct petal_error *err);
	int (*object_get)(void *ctx, const char *url, const char *local_path,
	                  struct petal_error *err);
	int (*object_head)(void *ctx, const char *url, struct petal_object_info *info,
	                   struct petal_error *err);
	int (*object_list)(void *ctx, const char *url_prefix, petal_object_cb cb,
	                   void *arg, struct petal_error *err);
	int (*object_delete)(void *ctx, const char *const *urls, size_t n,
	                     struct petal_error *err);

	/* compute */
	int (*instance_launch)(void *ctx, const struct petal_instance_request *req,
	                       struct petal_instance *out, struct petal_error *err);
	int (*instance_describe)(void *ctx, const char *id, struct petal_instance *out,
	                         struct petal_error *err);
	/* Every instance tagged key=value that is not terminated; cb's non-zero
	   stops the listing and is returned. */
	int (*instance_list)(void *ctx, const char *tag_key, const char *tag_value,
	                     int (*cb)(void *arg, const struct petal_instance *inst),
	                     void *arg, struct petal_error *err);
	/* The console output from byte `offset` on (0: all of it), in pieces;
	   cb's non-zero stops and is returned.  Nothing blocks: a plugin never
	   waits for a state, the core polls describe (core/cloud). */
	int (*instance_logs)(void *ctx, const char *id, uint64_t offset, petal_text_cb cb,
	                     void *arg, struct petal_error *err);
	int (*instance_terminate)(void *ctx, const char *id, struct petal_error *err);

	/* images */
	int (*image_create)(void *ctx, const char *instance_id, const char *name,
	                    const struct petal_tag *tags, size_t n_tags,
	                    struct petal_image *out, struct petal_error *err);
	/* Find by tag (key, value) and/or name; PETAL_ENOENT when none. */
	int (*image_find)(void *ctx, const char *tag_key, const char *tag_value,
	                  const char *name, struct petal_image *out,
	                  struct petal_error *err);
	int (*image_list)(void *ctx, const char *tag_key,
	                  int (*cb)(void *arg, const struct petal_image *img),
	                  void *arg, struct petal_error *err);
	int (*image_copy)(void *ctx, const char *image_id, const char *src_region,
	                  const char *dst_region, struct petal_image *out,
	                  struct petal_error *err);
	/* Deregister and delete the image's snapshots. */
	int (*image_delete)(void *ctx, const char *image_id, struct petal_error *err);

	/* cluster (PETAL_CAP_CLUSTER): made by the cloud's cluster manager
	   (cloud_aws: ParallelCluster's pcluster CLI) in the context's region.
	   create answers as soon as the manager has taken the request (the
	   cluster CREATE_IN_PROGRESS, or nothing made for a dry run); the core
	   follows it with describe.  What the manager says of the
	   configuration besides yes or no (its warnings, and on a refusal each
	   error) goes to cb one message at a time; a refusal is PETAL_EINVAL
	   whose message is the manager's own.  describe of a cluster the
	   manager does not know is PETAL_ENOENT; delete answers once the
	   deletion has begun (describe then says DELETE_IN_PROGRESS until the
	   cluster is gone).  cluster_tool says which manager answers: its
	   version and where it is, or PETAL_ENOENT naming what to install. */
	int (*cluster_create)(void *ctx, const struct petal_cluster_request *req,
	                      petal_message_cb cb, void *arg, struct petal_cluster *out,
	                      struct petal_error *err);
	int (*cluster_describe)(void *ctx, const char *name, struct petal_cluster *out,
	                        struct petal_error *err);
	int (*cluster_delete)(void *ctx, const char *name, struct petal_error *err);
	int (*cluster_list)(void *ctx, int (*cb)(void *arg, const struct petal_cluster *c),
	                    void *arg, struct petal_error *err);
	int (*cluster_tool)(void *ctx, char *version, size_t version_len, char *path,
	                    size_t path_len, struct petal_error *err);

	/* registry: write a login for `registry` to the auth file at `auth_path` */
	int (*registry_login)(void *ctx, const char *registry, const char *auth_path,
	                      struct petal_error *err);

	/* Appended (ABI 2); read only when present (PETAL_HAS). */
	/* images: every image of `owner` ("self", "amazon", or an account id)
	   whose name matches name_pattern (the cloud's wildcards: * and ? for
	   EC2), available or pending, deprecated ones included, every page;
	   cb's non-zero stops and is returned.  None is 0 with cb never called. */
	int (*image_search)(void *ctx, const char *owner, const char *name_pattern,
	                    int (*cb)(void *arg, const struct petal_image *img),
	                    void *arg, struct petal_error *err);
	/* The regions this account may use (EC2 DescribeRegions), to cb one
	   name at a time; cb's non-zero stops and is returned. */
	int (*region_list)(void *ctx, int (*cb)(void *arg, const char *region), void *arg,
	                   struct petal_error *err);
	/* Tag an available image and what it is made of with `tags` (EC2: the
	   image and its snapshots; CreateImage and CopyImage leave snapshots
	   untagged).  Repeatable: tags already there are set again. */
	int (*image_tag)(void *ctx, const char *image_id, const struct petal_tag *tags,
	                 size_t n_tags, struct petal_error *err);
	/* A machine identity `name` that build instances launched with
	   instance_profile = name carry, allowed to read and write objects under
	   each of `prefixes` (object URL prefixes, s3://bucket/key/prefix) and
	   nothing else (EC2: an IAM role trusted by ec2.amazonaws.com with an
	   inline policy of s3:GetObject, PutObject, DeleteObject on the prefixes
	   and ListBucket limited to them, and an instance profile `name` holding
	   it; all tagged with `tags`).  Repeatable: one of that name already
	   there is taken as is and its policy set again. */
	int (*access_create)(void *ctx, const char *name, const char *const *prefixes,
	                     size_t n_prefixes, const struct petal_tag *tags, size_t n_tags,
	                     struct petal_error *err);
	/* Remove the identity `name` and everything access_create made for it.
	   Repeatable: what is already gone counts as removed. */
	int (*access_delete)(void *ctx, const char *name, struct petal_error *err);
};

/* ---- HTTP, offered by the core (libcurl with retries) ------------------------ */

struct petal_http_header {
	const char *name;
	const char *value;
};

struct petal_http_request {
	size_t size;
	const char *method;
	const char *url;
	const struct petal_http_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
	int idempotent;   /* safe to repeat: retried on throttling, 5xx, resets */
	int timeout_s;
	const char *out_path; /* stream the body to this file instead of memory */
	/* Appended; read only when present (PETAL_HAS).  Zero means the default. */
	/* Called after each answer with an HTTP status: return
	   PETAL_HTTP_RETRY to retry it (a 400 ThrottlingException),
	   PETAL_HTTP_NO_RETRY to keep it, PETAL_HTTP_DEFAULT for the core's
	   rules (429, 500, 502, 503, 504).  Only idempotent requests retry. */
	int (*retry_classify)(void *arg, long status, const char *headers,
	                      const char *body, size_t body_len);
	void *retry_arg;
	int max_attempts;        /* > 0: overrides PETAL_MAX_ATTEMPTS/AWS_MAX_ATTEMPTS */
	const char *in_path;     /* send this file as the body (streamed PUT);
	                            body and body_len are then ignored */
	/* Bytes moved so far; return non-zero to abort the transfer. */
	int (*progress)(void *arg, uint64_t done, uint64_t total);
	void *progress_arg;
	int stall_timeout_s;     /* fail a transfer that moves nothing this long */
	int follow_redirects;
};

#define PETAL_HTTP_DEFAULT (-1)
#define PETAL_HTTP_NO_RETRY 0
#define PETAL_HTTP_RETRY 1

struct petal_http_response {
	size_t size;
	long status;
	char *body;           /* NUL-terminated; free with host->free */
	size_t body_len;
	char *headers;        /* raw header block; free with host->free */
	/* Appended; written only when present (PETAL_HAS). */
	int64_t date;         /* the server's Date header, seconds since the
	                         epoch; 0 when absent: correct clock skew with it */
	int attempts;         /* requests sent, retries included */
};

/* ---- the host: everything the core offers a plugin --------------------------- */

enum petal_log_level {
	PETAL_LOG_ERROR = 0,
	PETAL_LOG_WARN = 1,
	PETAL_LOG_INFO = 2,
	PETAL_LOG_DEBUG = 3,
};

struct petal_host {
	size_t size;
	uint32_t abi;

	/* The callbacks that need the host's state take the host table itself
	   first: `host->log(host, PETAL_LOG_INFO, "aws", ...)`.  Any of them
	   may be called from several threads at once. */
	/* A message for the sink the CLI set: text on stderr, or a JSON line
	   {"event":"log",...} with --output json. */
	void (*log)(const struct petal_host *h, int level, const char *plugin,
	            const char *fmt, ...)
		__attribute__((format(printf, 4, 5)));
	void (*progress)(const struct petal_host *h, const char *what, uint64_t done,
	                 uint64_t total);
	/* Fills err and returns code, so `return host->fail(err, PETAL_EINVAL, ...)`. */
	int (*fail)(struct petal_error *err, int code, const char *fmt, ...)
		__attribute__((format(printf, 3, 4)));
	/* Settings: "state_dir", "data_dir", "cache_dir"; "region": the seed's,
	   while the core asks a cloud on a seed's behalf (petal plan --probe).
	   Written into buf[len] (NUL-terminated); returns the value's length
	   like snprintf (>= len: it did not fit, call again with a larger
	   buffer), or PETAL_ENOENT when unknown or unset.  Nothing static. */
	int (*setting)(const struct petal_host *h, const char *key, char *buf, size_t len);
	void *(*alloc)(size_t n);   /* never returns NULL */
	void (*free)(void *p);

	/* seed document */
	int (*node_type)(const struct petal_node *n);
	const char *(*node_scalar)(const struct petal_node *n);
	size_t (*node_len)(const struct petal_node *n);
	const struct petal_node *(*node_at)(const struct petal_node *n, size_t i);
	const char *(*node_key_at)(const struct petal_node *n, size_t i);
	/* Dotted path from n ("plugins.eessi.packages"); NULL when absent. */
	const struct petal_node *(*node_get)(const struct petal_node *n, const char *path);
	void (*node_where)(const struct petal_node *n, int *line, int *col);

	/* estimates, from the data files and the seed's overrides */
	int (*estimate_build)(const struct petal_host *h,
	                      const struct petal_package *const *pkgs, size_t n,
	                      const char *instance_type, int parallel,
	                      struct petal_build_estimate *out);
	int (*instance_type)(const struct petal_host *h, const char *name,
	                     struct petal_instance_type *out);
	/* Named figure: "s3_gb_month", "transfer_gb", "ami_gb_month",
	   "download_mbps", "boot_minutes", ...; < 0 when unknown. */
	double (*figure)(const struct petal_host *h, const char *name);

	/* planning and rendering */
	const struct petal_seed_info *(*planner_seed)(struct petal_planner *pl);
	int (*plan_add_step)(struct petal_planner *pl, const struct petal_step *step,
	                     struct petal_error *err);
	const struct petal_seed_info *(*renderer_seed)(struct petal_renderer *r);
	int (*render_add)(struct petal_renderer *r, enum petal_fragment kind,
	                  const char *key, const char *text, struct petal_error *err);

	/* network */
	int (*http)(const struct petal_http_request *req,
	            struct petal_http_response *resp, struct petal_error *err);
};

/* ---- the descriptor ---------------------------------------------------------- */

struct petal_plugin {
	uint32_t magic; /* PETAL_PLUGIN_MAGIC */
	uint32_t abi;   /* PETAL_PLUGIN_ABI, exactly */
	uint32_t kind;  /* enum petal_kind */
	const char *name;    /* [a-z0-9-]+, the file is <kind>_<name>.so
	                        with '-' written '_' in the file name */
	const char *version;
	const char *summary;
	int rank;            /* tiers: order of preference, fastest first */
	int (*init)(const struct petal_host *host, void **ctx);
	void (*fini)(void *ctx);
	union {
		const struct petal_tier_ops *tier;
		const struct petal_cloud_ops *cloud;
	} ops;
};

#ifdef __cplusplus
}
#endif

#endif /* PETAL_PLUGIN_H */
