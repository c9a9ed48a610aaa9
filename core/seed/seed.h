/* The seed: a YAML file describing a cluster and its software, validated into
   an immutable model. */
#ifndef PETAL_SEED_H
#define PETAL_SEED_H

#include <stddef.h>

#include <petal/plugin.h>

#include "node.h"
#include "spec.h"

/* One problem found in a seed: "file:line:col: path: message". */
struct petal_diag {
	int line, col;
	char *path;     /* key path, e.g. "compute.queues[0].name" */
	char *message;  /* what was wrong, what was expected (and did-you-mean) */
};

struct petal_diags {
	char *file;
	struct petal_diag *items;
	size_t n, cap;
	size_t dropped; /* problems past the first 200, counted only */
};

enum petal_capacity {
	PETAL_CAPACITY_ONDEMAND = 0,
	PETAL_CAPACITY_SPOT = 1,
};

struct petal_queue {
	char *name;
	char **instance_types;
	size_t n_instance_types;
	int min_count, max_count;
	enum petal_capacity capacity;
	int line, col;
};

struct petal_container {
	char *name;
	char *image;
	char **modules;   /* spec texts */
	size_t n_modules;
	int line, col;
};

struct petal_seed_pkg {
	struct petal_spec spec;
	char *text;        /* canonical spec */
	enum petal_section section;
	size_t container;  /* section CONTAINER: index into containers (else 0) */
	int line, col;
};

/* software.spack.repos: one package repository, from exactly one of a
   directory on petal's machine, a git repository at a ref, or a tarball. */
struct petal_spack_repo {
	char *name;        /* its namespace (Spack 1.x: .../spack_repo/NAME) */
	char *path;        /* file:///.../NAME, the directory holding repo.yaml, or NULL */
	char *git;         /* a git URL, or NULL */
	char *ref;         /* with git: a branch, tag or commit */
	char *url;         /* a tarball of the repository (file://, s3://, https://), or NULL */
	int line, col;
};

struct petal_seed {
	char *path;
	struct petal_node *root;

	/* cluster */
	char *name;
	char *region;
	char *cloud;       /* default "aws" */
	char *os;          /* default "alinux2023" */
	char *pcluster_version; /* default PETAL_PCLUSTER_DEFAULT_VERSION */
	/* network (optional) */
	char *subnet_id;
	char *key_name;
	/* compute */
	char *head_node;   /* default "c5.xlarge" */
	char *custom_ami;  /* id or name, or NULL */
	struct petal_queue *queues; /* at least one: a default queue when none given */
	size_t n_queues;
	/* software */
	int use_custom_ami;
	char *build_instance_type; /* NULL: recommend one */
	int build_spot;            /* default 1 */
	long build_timeout_s;      /* default 12h */
	int build_parallel;        /* default 0: all cores */
	char *base_ami;            /* software.build.base_ami: id or name, or NULL (look it up) */
	int build_spot_fallback;   /* software.build.spot_fallback: spot refused, on demand */
	char *build_instance_profile; /* software.build.instance_profile, or NULL */
	char *build_artifacts;     /* software.build.artifacts (s3://...), or NULL */
	char **build_tests;        /* software.build.tests: shell commands (not hashed) */
	size_t n_build_tests;
	char *spack_version;       /* default: the Spack petal is tested with */
	char *spack_url;           /* software.spack.url: a tarball of Spack, or NULL (git) */
	char *spack_git;           /* software.spack.git: Spack's git repository, or NULL */
	char *spack_ref;           /* with spack_git: software.spack.ref, default v<version> */
	struct petal_spack_repo *spack_repos; /* software.spack.repos, in seed order */
	size_t n_spack_repos;
	char *source_mirror;       /* software.spack.source_mirror, or NULL */
	char *spack_target;        /* software.spack.target, or NULL: petal_spack_target */
	char *cache_bucket;        /* software.binary_cache.s3_bucket or NULL */
	char *cache_prefix;        /* default "spack-cache" */
	struct petal_container *containers;
	size_t n_containers;
	struct petal_seed_pkg *pkgs; /* every package of every section, in file order */
	size_t n_pkgs;

	char hash[65];             /* see petal_seed_hash */
};

/* Load and validate.  Returns 0 with *out set (and seed->hash filled), or
   PETAL_EINVAL with every problem in `diags`, sorted by position, and a
   one-line summary in err ("FILE: 3 problems"); *out is NULL.  A file too
   large or not a regular file is a problem of the seed (a diagnostic with
   line 0).  Other errors (no such file: PETAL_ENOENT, cannot read:
   PETAL_EIO) go to err only, with diags untouched.  `diags` starts zeroed;
   its file is set to `path` (or `name`) when unset. */
int petal_seed_load(const char *path, struct petal_seed **out,
                    struct petal_diags *diags, struct petal_error *err);
int petal_seed_load_text(const char *name, const char *text, size_t len,
                         struct petal_seed **out, struct petal_diags *diags,
                         struct petal_error *err);
void petal_seed_free(struct petal_seed *seed);

void petal_diags_add(struct petal_diags *d, int line, int col, const char *path,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
void petal_diags_release(struct petal_diags *d);
/* Each as "file:line:col: path: message\n" ("file: " alone when line is 0,
   no "path: " when the path is empty), then "file: N more problems not
   shown" when some were dropped; caller frees. */
char *petal_diags_format(const struct petal_diags *d);

/* The canonical form the seed hash is taken over (documented in
   petal-seed(5)); caller frees. */
char *petal_seed_canonical(const struct petal_seed *seed);
/* The compilers the seed names (a package's %compiler@versions, its
   dependencies' too, and packages that are compilers: "gcc@13.2.0", "llvm"),
   sorted, each once, into *out; their number.  Free with
   petal_seed_compilers_free. */
size_t petal_seed_compilers(const struct petal_seed *seed, char ***out);
void petal_seed_compilers_free(char **list, size_t n);
/* sha256 hex of petal_seed_canonical into out[65]. */
void petal_seed_hash(const struct petal_seed *seed, char out[65]);

/* The tier the seed's sections assign a package to, by the rules of
   petal-seed(5): "ami", "binary-cache", "container" or "source".  Tier
   plugins decide for themselves; this is what the seed says (and what the
   seed hash records). */
const char *petal_seed_pkg_tier(const struct petal_seed *seed,
                                const struct petal_seed_pkg *pkg);

/* The ParallelCluster release a seed gets when it names none: the one petal
   is tested with (shared/testdata/pcluster). */
#define PETAL_PCLUSTER_DEFAULT_VERSION "3.11.1"

/* The Spack release a seed gets when it names none. */
#define PETAL_SPACK_DEFAULT_VERSION "1.1.0"

/* The tag of Spack's builtin package repository (spack/spack-packages) a
   supported Spack release pins ("1.1.0" -> "v2025.11.0"), or NULL when petal
   does not support that release (only 1.0.N and 1.1.N). */
const char *petal_spack_builtin_tag(const char *version);

/* The Spack target every package is built for (packages: all: require):
   software.spack.target, else x86_64_v3 for an x86_64 build (the instance
   that builds, as in the seed hash) and aarch64 for arm64. */
const char *petal_spack_target(const struct petal_seed *seed);

/* The largest figure an estimate table or a seed may give (minutes, MB, GB,
   dollars): past it, sums and conversions stop meaning anything. */
#define PETAL_FIGURE_MAX 1e7

/* The longest duration petal_parse_duration takes. */
#define PETAL_DURATION_MAX_S (365L * 86400)
#define PETAL_DURATION_MAX_TEXT "365d"
/* "12h", "90m", "90d", "30s", "1h30m" -> seconds; -1 when malformed, -2
   when longer than PETAL_DURATION_MAX_S. */
long petal_parse_duration(const char *text);

/* An AMI id (ami- and 8 or 17 hex digits) or an AMI name: NULL when s is
   one, else a message saying what is wrong with it (caller frees). */
char *petal_seed_ami_problem(const char *s);

/* The architecture of an instance family: "x86_64" or "arm64" (Graviton
   families such as c7g, m6g, t4g). */
const char *petal_instance_arch(const char *instance_type);

/* The vCPUs an EC2 size names by the usual rule, for the part after the dot:
   medium 1, large 2, xlarge 4, <N>xlarge 4N, metal-<N>xl 4N; 0 for sizes
   the rule does not count (nano, micro, small, metal); -1 when it is not an
   EC2 size.  Burstable (t) and HPC families depart from it (their vCPUs are
   in the instance table). */
int petal_instance_size_vcpus(const char *size);

#endif
