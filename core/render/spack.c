/* spack.yaml (the Spack environment of the plan), modules.yaml (Spack's own
 * modules configuration, which the scripts install into Spack's site scope)
 * and container-modules.yaml (petal's description of the container modules),
 * all written with libyaml's emitter.  Spack 1.x: the builtin repository is
 * spack/spack-packages at the release the seed's Spack pins, compilers are
 * external packages (`spack compiler find`), mirrors are unsigned. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "render_int.h"

#define CONTAINERS_DIR "/opt/petal/containers"
#define MODULES_DIR "/opt/petal/modules"
#define WRAPPERS_DIR "/opt/petal/wrappers"
#define BUILTIN_GIT "https://github.com/spack/spack-packages.git"

/* The builtin package repository as repos.yaml and spack.yaml write it. */
static void builtin_repo(struct yout *y, const struct petal_renderer *r)
{
	const char *tag = petal_spack_builtin_tag(r->plan->info.spack_version);

	/* "builtin::" replaces the entry of Spack's defaults (branch: releases/...)
	   rather than merging a tag into it */
	yout_str(y, "builtin:");
	yout_map(y);
	yout_kstr(y, "git", BUILTIN_GIT);
	/* the seed refuses a release petal has no tag for; the table's last one else */
	yout_kstr(y, "tag", tag != NULL ? tag : petal_spack_builtin_tag(PETAL_SPACK_DEFAULT_VERSION));
	yout_map_end(y);
}

/* A binary cache pushed unsigned, never searched for sources (doc/render.md). */
static void binary_mirror(struct yout *y, const char *name, const char *url)
{
	yout_str(y, name);
	yout_map(y);
	yout_kstr(y, "url", url);
	yout_str(y, "signed");
	yout_bool(y, 0);
	yout_str(y, "binary");
	yout_bool(y, 1);
	yout_str(y, "source");
	yout_bool(y, 0);
	yout_map_end(y);
}

int render_spack_yaml(const struct petal_renderer *r, char **out, struct petal_error *err)
{
	struct petal_strbuf head = PETAL_STRBUF_INIT;
	struct yout y;
	char *target;
	int rc;

	petal_strbuf_puts(&head, "# Spack environment rendered by petal, seed hash\n#   ");
	render_comment(&head, r->plan->info.hash);
	petal_strbuf_puts(&head, "\n# Every Spack package of the plan, whatever tier delivers it, "
	                         "and the\n# binary-cache mirror: `spack env create petal "
	                         "spack.yaml` reproduces the\n# software stack anywhere.\n");
	if (render_find(r, PETAL_FRAG_SPACK_MIRROR, NULL) != NULL)
		petal_strbuf_puts(&head, "# The mirrors hold unsigned binaries (signed: false), "
		                         "pushed with\n# `spack buildcache push --unsigned`.\n");
	yout_init(&y);
	yout_map(&y);
	yout_str(&y, "spack");
	yout_map(&y);
	yout_str(&y, "specs");
	yout_seq(&y);
	for (size_t i = 0; i < r->n_frags; i++) {
		const struct render_frag *f = &r->frags[i];
		int dup = 0;

		if (f->kind != PETAL_FRAG_SPACK_SPEC)
			continue;
		for (size_t j = 0; j < i; j++)
			dup |= r->frags[j].kind == PETAL_FRAG_SPACK_SPEC &&
			       strcmp(r->frags[j].text, f->text) == 0;
		if (!dup)
			yout_str(&y, f->text);
	}
	yout_seq_end(&y);
	yout_str(&y, "repos");
	yout_map(&y);
	builtin_repo(&y, r);
	yout_map_end(&y);
	if (render_find(r, PETAL_FRAG_SPACK_MIRROR, NULL) != NULL) {
		yout_str(&y, "mirrors");
		yout_map(&y);
		for (size_t i = 0; i < r->n_frags; i++)
			if (r->frags[i].kind == PETAL_FRAG_SPACK_MIRROR &&
			    render_find(r, PETAL_FRAG_SPACK_MIRROR, r->frags[i].key) == &r->frags[i])
				binary_mirror(&y, r->frags[i].key, r->frags[i].text);
		yout_map_end(&y);
	}
	/* every package for one target, whatever machine builds it */
	yout_str(&y, "packages");
	yout_map(&y);
	yout_str(&y, "all");
	yout_map(&y);
	yout_str(&y, "require");
	yout_seq(&y);
	target = petal_xasprintf("target=%s", petal_spack_target(r->plan->seed));
	yout_str(&y, target);
	free(target);
	yout_seq_end(&y);
	yout_map_end(&y);
	yout_map_end(&y);
	/* packages from several tiers (and compilers) need not share one DAG */
	yout_str(&y, "concretizer");
	yout_map(&y);
	yout_kstr(&y, "unify", "when_possible");
	yout_str(&y, "reuse");
	yout_bool(&y, 1);
	yout_map_end(&y);
	yout_str(&y, "view");
	yout_bool(&y, 1);
	yout_map_end(&y);
	yout_map_end(&y);
	rc = yout_finish(&y, petal_strbuf_str(&head), out, err);
	petal_strbuf_release(&head);
	return rc;
}

/* Must name the file plugins/tier_container/render.c pulls the image to:
   the reference without its scheme, outside [A-Za-z0-9._-] written '_'. */
static char *sif_path(const char *image)
{
	const char *scheme = strstr(image, "://");
	struct petal_strbuf sb = PETAL_STRBUF_INIT;

	petal_strbuf_puts(&sb, CONTAINERS_DIR "/");
	image = scheme != NULL ? scheme + 3 : image;
	if (*image == '.')
		petal_strbuf_putc(&sb, '_');
	for (; *image; image++) {
		char c = *image;
		int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';

		petal_strbuf_putc(&sb, ok ? c : '_');
	}
	petal_strbuf_puts(&sb, ".sif");
	return petal_strbuf_detach(&sb);
}

static const char containers_header[] =
	"# Lmod modules for the plan's container images, rendered by petal.\n"
	"#\n"
	"# Shape (petal's own; the node bootstrap writes the modulefiles it describes):\n"
	"#   lmod:\n"
	"#     modulepath: directory to `module use` (node-bootstrap.sh adds it for\n"
	"#                 login shells through /etc/profile.d/z01-petal-modules.sh)\n"
	"#     modules:\n"
	"#       <name>/<version>:       what `module load` takes\n"
	"#         image: <reference>    what the node pulls with `apptainer pull`\n"
	"#         sif: <path>           where the pulled image lives on each node\n"
	"#         wrapper: <command>    each executable runs as `<command> <exe> args...`\n"
	"#         path: <directory>     the wrappers the module puts first on PATH\n"
	"#         modulefile: <path>    the Lua modulefile Lmod reads\n";

int render_container_modules_yaml(const struct petal_renderer *r, char **out,
                                  struct petal_error *err)
{
	struct yout y;

	yout_init(&y);
	yout_map(&y);
	yout_str(&y, "lmod");
	yout_map(&y);
	yout_kstr(&y, "modulepath", MODULES_DIR);
	yout_str(&y, "modules");
	yout_map(&y);
	for (size_t i = 0; i < r->n_frags; i++) {
		const struct render_frag *f = &r->frags[i];
		char *sif, *text;

		if (f->kind != PETAL_FRAG_MODULE ||
		    render_find(r, PETAL_FRAG_MODULE, f->key) != f)
			continue;
		sif = sif_path(f->text);
		yout_str(&y, f->key);
		yout_map(&y);
		yout_kstr(&y, "image", f->text);
		yout_kstr(&y, "sif", sif);
		text = petal_xasprintf("apptainer exec %s", sif);
		yout_kstr(&y, "wrapper", text);
		free(text);
		text = petal_xasprintf(WRAPPERS_DIR "/%s", f->key);
		yout_kstr(&y, "path", text);
		free(text);
		text = petal_xasprintf(MODULES_DIR "/%s.lua", f->key);
		yout_kstr(&y, "modulefile", text);
		free(text);
		yout_map_end(&y);
		free(sif);
	}
	yout_map_end(&y);
	yout_map_end(&y);
	yout_map_end(&y);
	return yout_finish(&y, containers_header, out, err);
}

/* Packages that provide MPI: with one in the stack, the modules of what
   depends on it sit under an MPI level of the hierarchy. */
static int is_mpi(const char *name)
{
	static const char *const mpis[] = {
		"openmpi", "mpich", "mvapich", "mvapich2", "intel-oneapi-mpi", "intel-mpi",
		"cray-mpich", "hpcx-mpi", "mpt", "mpitrampoline", "mpiwrapper",
	};

	for (size_t i = 0; i < PETAL_ARRAY_SIZE(mpis); i++)
		if (strcmp(name, mpis[i]) == 0)
			return 1;
	return 0;
}

int render_stack_has_mpi(const struct petal_renderer *r)
{
	const struct petal_seed *seed = r->plan->seed;

	for (size_t i = 0; i < seed->n_pkgs; i++)
		if (seed->pkgs[i].section != PETAL_SECTION_CONTAINER &&
		    is_mpi(seed->pkgs[i].spec.name))
			return 1;
	return 0;
}

static const char modules_header[] =
	"# Spack's modules configuration, rendered by petal: Lmod modules for every\n"
	"# Spack package, named NAME/VERSION (no hashes).  The scripts install it\n"
	"# into Spack's site scope for `spack module lmod refresh`.\n";

int render_modules_yaml(const struct petal_renderer *r, char **out, struct petal_error *err)
{
	struct yout y;
	int mpi = render_stack_has_mpi(r);

	yout_init(&y);
	yout_map(&y);
	yout_str(&y, "modules");
	yout_map(&y);
	yout_str(&y, "default");
	yout_map(&y);
	yout_str(&y, "enable");
	yout_seq(&y);
	yout_str(&y, "lmod");
	yout_seq_end(&y);
	yout_str(&y, "lmod");
	yout_map(&y);
	/* Core: what the image's own gcc builds ("gcc" matches every gcc) and what
	   the compilers the seed names build, so that a package loads without its
	   compiler's module loaded first */
	char **compilers;
	size_t n_compilers = petal_seed_compilers(r->plan->seed, &compilers);
	yout_str(&y, "core_compilers");
	yout_seq(&y);
	yout_str(&y, "gcc");
	for (size_t i = 0; i < n_compilers; i++)
		if (strncmp(compilers[i], "gcc@", 4) != 0 && strcmp(compilers[i], "gcc") != 0)
			yout_str(&y, compilers[i]);
	yout_seq_end(&y);
	petal_seed_compilers_free(compilers, n_compilers);
	/* Spack's default [mpi] fails without an MPI provider in the repositories
	   (Spack 1.1: "AssertionError: Can't call poll() before start()") */
	yout_str(&y, mpi ? "hierarchy" : "hierarchy:");
	yout_seq(&y);
	if (mpi)
		yout_str(&y, "mpi");
	yout_seq_end(&y);
	yout_kint(&y, "hash_length", 0);
	yout_str(&y, "projections");
	yout_map(&y);
	yout_kstr(&y, "all", "{name}/{version}");
	yout_map_end(&y);
	yout_str(&y, "all");
	yout_map(&y);
	yout_kstr(&y, "autoload", "direct");
	yout_map_end(&y);
	yout_map_end(&y);
	yout_map_end(&y);
	yout_map_end(&y);
	yout_map_end(&y);
	return yout_finish(&y, modules_header, out, err);
}
