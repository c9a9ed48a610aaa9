/* Inside core/render: the renderer and the pieces that assemble its files. */
#ifndef PETAL_RENDER_INT_H
#define PETAL_RENDER_INT_H

#include <stddef.h>

#include <yaml.h>

#include "../seed/seed.h"
#include "../util/util.h"
#include "render.h"

/* One fragment a tier added, remembered with the tier that added it. */
struct render_frag {
	enum petal_fragment kind;
	char *tier;
	char *key;  /* NULL for kinds without a key */
	char *text;
};

struct petal_renderer {
	const struct petal_plan *plan;
	const char *tier; /* the tier whose render op runs now */
	struct render_frag *frags;
	size_t n_frags, cap_frags;

	/* resolved before the files are assembled */
	const char *subnet_id;
	const char *key_name;     /* or NULL */
	char *artifacts_bucket;
	char *artifacts_url;      /* s3://bucket/[prefix/]petal/<hash>, no trailing '/' */

	/* render_layout: the shared volume and the bootstrap budget */
	int shared;               /* a tier installs into the shared tree at creation */
	double shared_mb;         /* the sum of their PETAL_FRAG_SHARED_MB */
	long shared_gib;          /* the volume's size */
	long boot_timeout_s;      /* ParallelCluster's node bootstrap timeout to ask for */
	int boot_capped;          /* the plan wants more than CloudFormation allows */
	long wait_s;              /* how long a compute node waits for the head's installs */
};

/* ---- the layout on the nodes (doc/render.md) ------------------------------ */

#define RENDER_SHARED_NAME "petal-shared"        /* SharedStorage Name */
#define RENDER_SHARED_MOUNT "/shared"            /* its MountDir */
#define RENDER_SHARED_TREE "/shared/spack/opt"   /* Spack's install tree on it */
#define RENDER_SHARED_SPACK "/shared/spack/spack" /* Spack itself, when the image has none */
#define RENDER_SHARED_LMOD "/shared/spack/lmod"   /* Lmod modules of the shared tree */
#define RENDER_SHARED_READY "/shared/petal/ready-" /* + seed hash: the head node is done */
#define RENDER_SHARED_FAILED "/shared/petal/failed-" /* + seed hash: ... or failed */
#define RENDER_IMAGE_SPACK "/opt/spack"          /* Spack in an image petal bakes */
#define RENDER_IMAGE_TREE "/opt/spack/opt/spack" /* ... and its install tree */
#define RENDER_IMAGE_LMOD "/opt/spack/share/spack/lmod" /* ... and its Lmod modules */
/* ParallelCluster's own HeadNode and ComputeNode bootstrap timeout */
#define RENDER_PCLUSTER_BOOT_S 1800L

/* Sizes the shared volume and the bootstrap budget from the fragments and the
   plan's estimates; PETAL_EINVAL when the volume would exceed EBS's limit. */
int render_layout(struct petal_renderer *r, struct petal_error *err);

/* ---- YAML through libyaml's emitter (emit.c) ----------------------------- */

/* Errors are sticky: every call after a failure does nothing, and
   yout_finish reports the first. */
struct yout {
	yaml_emitter_t em;
	struct petal_strbuf buf;
	int failed;
	char problem[128];
};

void yout_init(struct yout *y);
void yout_map(struct yout *y);
void yout_map_end(struct yout *y);
void yout_seq(struct yout *y);
void yout_seq_end(struct yout *y);
/* A string: plain when YAML reads it back as that string, quoted otherwise
   ("1234", "true", "null", "1e3", "0x1F", "2024-01-01", "yes", ...). */
void yout_str(struct yout *y, const char *s);
void yout_int(struct yout *y, long v);
void yout_bool(struct yout *y, int v);
void yout_kstr(struct yout *y, const char *key, const char *value);
void yout_kint(struct yout *y, const char *key, long value);
/* End the document; on success *out is the text (caller frees), prefixed by
   `header` (comment lines, may be NULL). */
int yout_finish(struct yout *y, const char *header, char **out, struct petal_error *err);
/* Would s, written plain, read back as something other than this string? */
int render_needs_quotes(const char *s);

/* ---- text helpers (scripts.c) ------------------------------------------- */

/* s as one POSIX shell word, single-quoted. */
void render_shquote(struct petal_strbuf *sb, const char *s);
/* s made safe inside a '#' comment line: printable ASCII only. */
void render_comment(struct petal_strbuf *sb, const char *s);

/* ---- where Spack, its repositories and the sources come from (sources.c) -- */

/* The names of what petal uploads beside the run's artifacts (uploads.c),
   which the scripts fetch from "$PETAL_ARTIFACTS/<name>". */
#define RENDER_UPLOAD_SPACK "spack/spack.tar"   /* the tarball, or git archive at the ref */
#define RENDER_UPLOAD_REPOS "repos/"            /* + NAME ".tar": a package repository */
#define RENDER_UPLOAD_MIRROR "source-mirror"    /* the source mirror, file by file */

/* The preamble's variables (after PETAL_SPACK_ROOT): PETAL_SPACK_URL or
   PETAL_SPACK_GIT and PETAL_SPACK_REF (as the seed says), PETAL_ARTIFACTS,
   PETAL_REPOS. */
void render_sources_vars(struct petal_strbuf *sb, const struct petal_seed *seed);
/* The shell helpers that fetch them, and petal_spack_setup. */
void render_sources_helpers(struct petal_strbuf *sb, const struct petal_seed *seed);
/* petal_spack_site's lines that write $site/repos.yaml. */
void render_repos_yaml(struct petal_strbuf *sb, const struct petal_seed *seed);
/* The source mirror's lines of the setup, each starting with indent. */
void render_source_mirror(struct petal_strbuf *sb, const struct petal_seed *seed,
                          const char *indent);
/* ---- how the scripts report (outcome.c; doc/render.md, "Status and report") */

/* PETAL_SCRIPT, PETAL_REPORT_URL (build) and the status, reporter, checkpoint,
   validation and end helpers of build-instance.sh (build) or node-bootstrap.sh. */
void render_outcome(struct petal_strbuf *sb, const struct petal_renderer *r, int build);
/* The validation of one tier's part: petal_check_spec of each spec it added,
   with its module for a tier that delivers an image; ":" when none. */
void render_checks(struct petal_strbuf *sb, const struct petal_renderer *r, const char *tier);
/* petal_check_test of each software.build.tests command, one line each. */
void render_tests(struct petal_strbuf *sb, const struct petal_renderer *r, const char *indent);

/* ---- the files ------------------------------------------------------------ */

int render_cluster_config(const struct petal_renderer *r, char **out,
                          struct petal_error *err);          /* pcluster.c */
/* The scripts, which write modules_yaml (render_modules_yaml's text) into
   Spack's site scope (scripts.c). */
char *render_build_script(const struct petal_renderer *r, const char *modules_yaml);
char *render_node_script(const struct petal_renderer *r, const char *modules_yaml);
int render_spack_yaml(const struct petal_renderer *r, char **out,
                      struct petal_error *err);          /* spack.c */
int render_modules_yaml(const struct petal_renderer *r, char **out,
                        struct petal_error *err);        /* spack.c */
int render_container_modules_yaml(const struct petal_renderer *r, char **out,
                                  struct petal_error *err); /* spack.c */
/* The seed's Spack packages include an MPI (spack.c). */
int render_stack_has_mpi(const struct petal_renderer *r);

/* Checks petal_render makes before anything is written (pcluster.c). */
/* Write the files into a fresh directory beside dir, then put it in dir's
   place as a set (write_dir.c): dir is new, or holds only a former render. */
int render_write_dir(const char *dir, const char *const *names, char *const *texts,
                     const int *modes, size_t n, struct petal_error *err);
int render_check_subnet(const char *subnet_id, struct petal_error *err);
int render_check_bucket(const char *bucket, struct petal_error *err);

/* The first fragment of kind (and key, when key is not NULL), or NULL. */
const struct render_frag *render_find(const struct petal_renderer *r,
                                      enum petal_fragment kind, const char *key);

#endif
