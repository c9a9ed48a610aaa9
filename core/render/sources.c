/* Where the scripts get Spack, its package repositories and the sources from
   (software.spack: a tarball or a git repository at a ref; repositories as
   directories, git repositories or tarballs; a source mirror).  Each file://
   thing of the seed is on petal's machine only: when petal uploads it beside
   the run's artifacts (uploads.c, names in render_int.h) and the environment
   says where (PETAL_ARTIFACTS), the scripts fetch it from there instead. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "render_int.h"

static const char source_helpers[] =
	"\n"
	"# petal_git_checkout URL REF DIR: DIR (new) holds URL at REF, a branch, a tag\n"
	"# or a commit (which no shallow clone can name: then the whole history).\n"
	"petal_git_checkout() {\n"
	"\tcommand -v git >/dev/null 2>&1 || petal_os_install git\n"
	"\tif git clone --quiet --depth 1 --branch \"$2\" \"$1\" \"$3\" 2>/dev/null; then\n"
	"\t\treturn 0\n"
	"\tfi\n"
	"\tif git clone --quiet --no-checkout \"$1\" \"$3\"; then\n"
	"\t\tif git -C \"$3\" -c advice.detachedHead=false checkout --quiet --detach \"$2\"; then\n"
	"\t\t\treturn 0\n"
	"\t\tfi\n"
	"\t\trm -rf \"$3\"\n"
	"\tfi\n"
	"\techo \"petal: could not check out '$2' of $1\" >&2\n"
	"\treturn 1\n"
	"}\n"
	"\n"
	"# petal_spack_fetch URL: Spack from a tarball (software.spack.url): its spack/\n"
	"# directory, or the one directory holding bin/spack.  Nothing is left in /tmp.\n"
	"petal_spack_fetch() {\n"
	"\tlocal tmp src='' rc=0\n"
	"\ttmp=$(mktemp -d \"${TMPDIR:-/tmp}/petal-spack.XXXXXX\") || return\n"
	"\tif petal_unpack \"$1\" \"$tmp/x\"; then\n"
	"\t\tif [ -x \"$tmp/x/spack/bin/spack\" ]; then\n"
	"\t\t\tsrc=$tmp/x/spack/bin/spack\n"
	"\t\telse\n"
	"\t\t\tsrc=$(find \"$tmp/x\" -maxdepth 3 -path '*/bin/spack' -type f | sort | head -n 1)\n"
	"\t\tfi\n"
	"\t\tif [ -z \"$src\" ]; then\n"
	"\t\t\techo \"petal: no bin/spack in $1\" >&2\n"
	"\t\t\trc=1\n"
	"\t\telse\n"
	"\t\t\tmkdir -p \"$PETAL_SPACK_ROOT\" && cp -a \"${src%/bin/spack}/.\" \"$PETAL_SPACK_ROOT/\" ||\n"
	"\t\t\t\trc=$?\n"
	"\t\tfi\n"
	"\telse\n"
	"\t\trc=$?\n"
	"\t\techo \"petal: could not fetch Spack from $1\" >&2\n"
	"\tfi\n"
	"\trm -rf \"$tmp\"\n"
	"\treturn \"$rc\"\n"
	"}\n"
	"\n"
	"# petal_repo_place DIR NAME FROM: the package repository NAME found in DIR (its\n"
	"# repo.yaml at the top, or in a directory NAME below) copied to\n"
	"# $PETAL_REPOS/spack_repo/NAME, where Spack 1.x wants a repository of that name.\n"
	"petal_repo_place() {\n"
	"\tlocal found=$1 dest=$PETAL_REPOS/spack_repo/$2\n"
	"\tif [ ! -f \"$found/repo.yaml\" ]; then\n"
	"\t\tfound=$(find \"$1\" -mindepth 2 -maxdepth 4 -path \"*/$2/repo.yaml\" -type f |\n"
	"\t\t\tsort | head -n 1)\n"
	"\t\tfound=${found%/repo.yaml}\n"
	"\tfi\n"
	"\tif [ -z \"$found\" ]; then\n"
	"\t\techo \"petal: no package repository $2 (a repo.yaml at the top or in $2/) in $3\" >&2\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"\trm -rf \"$dest\" && mkdir -p \"$dest\" && cp -a \"$found/.\" \"$dest/\" &&\n"
	"\t\trm -rf \"$dest/.git\"\n"
	"}\n"
	"\n"
	"# petal_repo_fetch NAME git URL REF | NAME tar URL: a package repository from a git\n"
	"# repository or a tarball into $PETAL_REPOS/spack_repo/NAME.  Nothing is left in /tmp.\n"
	"petal_repo_fetch() {\n"
	"\tlocal tmp rc=0\n"
	"\ttmp=$(mktemp -d \"${TMPDIR:-/tmp}/petal-repo.XXXXXX\") || return\n"
	"\tif [ \"$2\" = git ]; then\n"
	"\t\tpetal_git_checkout \"$3\" \"$4\" \"$tmp/x\" || rc=$?\n"
	"\telse\n"
	"\t\tpetal_unpack \"$3\" \"$tmp/x\" || rc=$?\n"
	"\tfi\n"
	"\tif [ \"$rc\" -eq 0 ]; then\n"
	"\t\tpetal_repo_place \"$tmp/x\" \"$1\" \"$3\" || rc=$?\n"
	"\telse\n"
	"\t\techo \"petal: could not fetch the package repository $1 from $3\" >&2\n"
	"\tfi\n"
	"\trm -rf \"$tmp\"\n"
	"\treturn \"$rc\"\n"
	"}\n"
	"\n"
	"# petal_repo_path NAME [DIR]: where Spack reads repository NAME: DIR on this\n"
	"# machine, unless it came from the artifacts (or has no DIR): the fetched copy.\n"
	"petal_repo_path() {\n"
	"\tif [ -n \"${2:-}\" ] && [ -z \"$PETAL_ARTIFACTS\" ]; then\n"
	"\t\tprintf '%s' \"$2\"\n"
	"\telse\n"
	"\t\tprintf '%s' \"$PETAL_REPOS/spack_repo/$1\"\n"
	"\tfi\n"
	"}\n"
	"\n"
	"# petal_source_mirror URL: Spack's source mirror petal-sources (site scope).\n"
	"petal_source_mirror() {\n"
	"\tspack mirror remove --scope site petal-sources >/dev/null 2>&1 || true\n"
	"\tcase \"$1\" in\n"
	"\ts3://*)\n"
	"\t\tpython3 -c 'import boto3' >/dev/null 2>&1 || petal_os_install python3-boto3\n"
	"\t\tspack mirror add --scope site --type source \\\n"
	"\t\t\t${PETAL_S3_ENDPOINT:+--s3-endpoint-url \"$PETAL_S3_ENDPOINT\"} petal-sources \"$1\"\n"
	"\t\t;;\n"
	"\t*) spack mirror add --scope site --type source petal-sources \"$1\" ;;\n"
	"\tesac\n"
	"}\n";

static int is_file_url(const char *url)
{
	return url != NULL && strncmp(url, "file://", 7) == 0;
}

void render_sources_vars(struct petal_strbuf *sb, const struct petal_seed *seed)
{
	if (seed->spack_url != NULL) {
		petal_strbuf_puts(sb, "# Spack's tarball (software.spack.url)\nreadonly PETAL_SPACK_URL=");
		render_shquote(sb, seed->spack_url);
		petal_strbuf_putc(sb, '\n');
	} else if (seed->spack_git != NULL) {
		petal_strbuf_puts(sb, "# Spack's git repository and ref (software.spack.git, ref)\n"
		                      "readonly PETAL_SPACK_GIT=");
		render_shquote(sb, seed->spack_git);
		petal_strbuf_puts(sb, "\nreadonly PETAL_SPACK_REF=");
		render_shquote(sb, seed->spack_ref);
		petal_strbuf_putc(sb, '\n');
	}
	petal_strbuf_puts(sb, "# Where petal uploaded the seed's file:// sources (s3:// or file://; unset:\n"
	                      "# the seed's own URLs).  Package repositories are fetched into PETAL_REPOS.\n"
	                      "PETAL_ARTIFACTS=${PETAL_ARTIFACTS:-}\n"
	                      "PETAL_ARTIFACTS=${PETAL_ARTIFACTS%/}\n"
	                      "readonly PETAL_REPOS=$PETAL_SPACK_ROOT/var/petal/repos\n");
}

/* One way of getting a thing: from the artifacts when petal uploads it
   (`file` is the seed's URL a file://), else `direct`. */
static void from_artifacts_or(struct petal_strbuf *sb, const char *indent, int file,
                              const char *artifact_call, const char *direct)
{
	if (!file) {
		petal_strbuf_printf(sb, "%s%s\n", indent, direct);
		return;
	}
	petal_strbuf_printf(sb, "%sif [ -n \"$PETAL_ARTIFACTS\" ]; then\n%s\t%s\n%selse\n"
	                    "%s\t%s\n%sfi\n", indent, indent, artifact_call, indent, indent,
	                    direct, indent);
}

/* petal_spack_repos: the repositories that are not a directory here, or that
   came from the artifacts, fetched into $PETAL_REPOS. */
static void repos_helper(struct petal_strbuf *sb, const struct petal_seed *seed)
{
	petal_strbuf_puts(sb, "\n# The seed's package repositories that Spack does not read "
	                      "in place.\npetal_spack_repos() {\n\t:\n");
	for (size_t i = 0; i < seed->n_spack_repos; i++) {
		const struct petal_spack_repo *r = &seed->spack_repos[i];
		struct petal_strbuf direct = PETAL_STRBUF_INIT;
		char *artifact = petal_xasprintf("petal_repo_fetch %s tar \"$PETAL_ARTIFACTS/"
		                                 RENDER_UPLOAD_REPOS "%s.tar\"", r->name, r->name);

		if (r->path != NULL) {
			petal_strbuf_printf(sb, "\tif [ -n \"$PETAL_ARTIFACTS\" ]; then\n\t\t%s\n"
			                    "\tfi\n", artifact);
			free(artifact);
			continue;
		}
		petal_strbuf_printf(&direct, "petal_repo_fetch %s %s ", r->name,
		                    r->git != NULL ? "git" : "tar");
		render_shquote(&direct, r->git != NULL ? r->git : r->url);
		if (r->git != NULL) {
			petal_strbuf_putc(&direct, ' ');
			render_shquote(&direct, r->ref);
		}
		from_artifacts_or(sb, "\t", is_file_url(r->git != NULL ? r->git : r->url), artifact,
		                  petal_strbuf_str(&direct));
		petal_strbuf_release(&direct);
		free(artifact);
	}
	petal_strbuf_puts(sb, "}\n");
}

void render_sources_helpers(struct petal_strbuf *sb, const struct petal_seed *seed)
{
	const char *artifact = "petal_spack_fetch \"$PETAL_ARTIFACTS/" RENDER_UPLOAD_SPACK "\"";

	petal_strbuf_puts(sb, source_helpers);
	repos_helper(sb, seed);
	petal_strbuf_puts(sb, "\n# Spack at the pinned version in $PETAL_SPACK_ROOT (kept when an "
	                      "image has it),\n# from where the seed says (software.spack).\n"
	                      "petal_spack_setup() {\n"
	                      "\tif [ ! -x \"$PETAL_SPACK_ROOT/bin/spack\" ]; then\n");
	if (seed->spack_url != NULL)
		from_artifacts_or(sb, "\t\t", is_file_url(seed->spack_url), artifact,
		                  "petal_spack_fetch \"$PETAL_SPACK_URL\"");
	else if (seed->spack_git != NULL)
		from_artifacts_or(sb, "\t\t", is_file_url(seed->spack_git), artifact,
		                  "petal_git_checkout \"$PETAL_SPACK_GIT\" \"$PETAL_SPACK_REF\" "
		                  "\"$PETAL_SPACK_ROOT\"");
	else
		petal_strbuf_puts(sb, "\t\tpetal_git_checkout https://github.com/spack/spack.git "
		                      "\"v$PETAL_SPACK_VERSION\" \"$PETAL_SPACK_ROOT\"\n");
	petal_strbuf_puts(sb, "\tfi\n"
	                      "\texport PATH=\"$PETAL_SPACK_ROOT/bin:$PATH\"\n"
	                      "\tpetal_spack_repos\n"
	                      "\tpetal_spack_site\n"
	                      "}\n");
}

void render_repos_yaml(struct petal_strbuf *sb, const struct petal_seed *seed)
{
	int builtin = 0;

	if (seed->n_spack_repos == 0) {
		petal_strbuf_puts(sb, "\tif [ ! -e \"$site/repos.yaml\" ]; then\n"
		                      "\t\tprintf '%s\\n' 'repos:' '  builtin::' \\\n"
		                      "\t\t\t'    git: https://github.com/spack/spack-packages.git' \\\n"
		                      "\t\t\t\"    tag: $PETAL_SPACK_BUILTIN\" >\"$site/repos.yaml\"\n"
		                      "\tfi\n");
		return;
	}
	/* the seed's repositories (software.spack.repos), by their names;
	   builtin pinned unless one of them is builtin */
	petal_strbuf_puts(sb, "\tprintf '%s\\n' 'repos::' \\\n");
	for (size_t i = 0; i < seed->n_spack_repos; i++) {
		const struct petal_spack_repo *r = &seed->spack_repos[i];

		builtin |= strcmp(r->name, "builtin") == 0;
		/* names are [a-z0-9_]: nothing to quote */
		petal_strbuf_printf(sb, "\t\t\"  %s: $(petal_repo_path %s", r->name, r->name);
		if (r->path != NULL) {
			petal_strbuf_putc(sb, ' ');
			render_shquote(sb, r->path + strlen("file://"));
		}
		petal_strbuf_puts(sb, ")\" \\\n");
	}
	if (!builtin)
		petal_strbuf_puts(sb, "\t\t'  builtin:' '    git: https://github.com/spack/"
		                      "spack-packages.git' \\\n\t\t\"    tag: $PETAL_SPACK_BUILTIN\" \\\n");
	else
		petal_strbuf_puts(sb, "\t\t\"# builtin: the seed's own (Spack $PETAL_SPACK_VERSION "
		                      "pins $PETAL_SPACK_BUILTIN)\" \\\n");
	petal_strbuf_puts(sb, "\t\t>\"$site/repos.yaml\"\n");
}

void render_source_mirror(struct petal_strbuf *sb, const struct petal_seed *seed,
                          const char *indent)
{
	struct petal_strbuf direct = PETAL_STRBUF_INIT;

	if (seed->source_mirror == NULL)
		return;
	petal_strbuf_puts(&direct, "petal_source_mirror ");
	render_shquote(&direct, seed->source_mirror);
	from_artifacts_or(sb, indent, is_file_url(seed->source_mirror),
	                  "petal_source_mirror \"$PETAL_ARTIFACTS/" RENDER_UPLOAD_MIRROR "\"",
	                  petal_strbuf_str(&direct));
	petal_strbuf_release(&direct);
}
