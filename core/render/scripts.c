/* build-instance.sh and node-bootstrap.sh: a fixed preamble petal owns, then
 * each tier's lines (PETAL_FRAG_BUILD_SCRIPT, PETAL_FRAG_NODE_SCRIPT) in rank
 * order.  Every value from the seed is shell-quoted, here and in the tiers,
 * by the one quoter of <petal/shell.h>. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <petal/shell.h>

#include "render_int.h"


/* petal's one quoter (<petal/shell.h>), which the tiers use too. */
void render_shquote(struct petal_strbuf *sb, const char *s)
{
	size_t n = petal_shell_quote(NULL, 0, s);
	char *word = petal_xmalloc(n + 1);

	petal_shell_quote(word, n + 1, s);
	petal_strbuf_add(sb, word, n);
	free(word);
}

void render_comment(struct petal_strbuf *sb, const char *s)
{
	for (; s != NULL && *s; s++)
		petal_strbuf_putc(sb, *s >= 0x20 && *s < 0x7f ? *s : '?');
}

/* Shell helpers both scripts offer the tiers' lines (documented in render.h). */
static const char helpers[] =
	"# Install OS packages with whatever package manager the image has.\n"
	"petal_os_install() {\n"
	"\tif command -v dnf >/dev/null 2>&1; then\n"
	"\t\tdnf -y -q install \"$@\"\n"
	"\telif command -v yum >/dev/null 2>&1; then\n"
	"\t\tyum -y -q install \"$@\"\n"
	"\telif command -v apt-get >/dev/null 2>&1; then\n"
	"\t\tapt-get -q update && DEBIAN_FRONTEND=noninteractive apt-get -y -q install \"$@\"\n"
	"\telse\n"
	"\t\techo \"petal: no package manager to install $*\" >&2\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"}\n"
	"\n"
	"# petal_fetch URL FILE: file://, s3:// (the aws CLI) or https://\n"
	"petal_fetch() {\n"
	"\tcase \"$1\" in\n"
	"\tfile://*) cp \"${1#file://}\" \"$2\" ;;\n"
	"\ts3://*) aws s3 cp --only-show-errors \"$1\" \"$2\" ;;\n"
	"\t*) curl -fsSL -o \"$2\" \"$1\" ;;\n"
	"\tesac\n"
	"}\n"
	"\n"
	"# petal_unpack URL DIR: the tarball at URL extracted into DIR (made); the\n"
	"# download is removed whether or not it fails.\n"
	"petal_unpack() {\n"
	"\tlocal tmp rc=0\n"
	"\ttmp=$(mktemp \"${TMPDIR:-/tmp}/petal-fetch.XXXXXX\") || return\n"
	"\tpetal_fetch \"$1\" \"$tmp\" && mkdir -p \"$2\" && tar -C \"$2\" -xf \"$tmp\" || rc=$?\n"
	"\trm -f \"$tmp\"\n"
	"\treturn \"$rc\"\n"
	"}\n";

/* Login shells on every node get Spack's commands (spack load, spack find)
   and its Lmod modules: the image's tree's and the shared tree's. */
static void profile_helper(struct petal_strbuf *sb, int shared)
{
	petal_strbuf_puts(sb, "\n"
	                      "# Spack's shell support and Lmod modules for login shells.\n"
	                      "petal_spack_profile() {\n"
	                      "\tcat >/etc/profile.d/z02-petal-spack.sh <<PETAL_PROFILE\n"
	                      "if [ -r $PETAL_SPACK_ROOT/share/spack/setup-env.sh ]; then\n"
	                      "\t. $PETAL_SPACK_ROOT/share/spack/setup-env.sh\n"
	                      "fi\n"
	                      "if command -v module >/dev/null 2>&1; then\n"
	                      "\tfor petal_d in $PETAL_SPACK_ROOT/share/spack/lmod/*/Core");
	if (shared)
		petal_strbuf_puts(sb, " " RENDER_SHARED_LMOD "/*/Core");
	petal_strbuf_puts(sb, "; do\n"
	                      "\t\tif [ -d \"\\$petal_d\" ]; then module use \"\\$petal_d\"; fi\n"
	                      "\tdone\n"
	                      "\tunset petal_d\n"
	                      "fi\n"
	                      "PETAL_PROFILE\n"
	                      "}\n");
}

/* The node script's helpers when a tier installs at creation (doc/render.md):
   the head node installs once into the shared tree and says so; compute
   nodes wait for that, then only set up their environment. */
static const char shared_helpers[] =
	"\n"
	"# Spack's system scope, on every node: installs go to the shared tree, and the\n"
	"# image's own tree, when it has one, is an upstream Spack reads from, its Lmod\n"
	"# modules those of the baked packages (spack module lmod find, loads).\n"
	"petal_spack_config() {\n"
	"\tmkdir -p /etc/spack\n"
	"\tprintf '%s\\n' 'config:' '  install_tree:' \"    root: $PETAL_SHARED_TREE\" \\\n"
	"\t\t>/etc/spack/config.yaml\n"
	"\tprintf '%s\\n' 'modules:' '  default:' '    roots:' '      lmod: " RENDER_SHARED_LMOD "' \\\n"
	"\t\t>/etc/spack/modules.yaml\n"
	"\tif [ \"$PETAL_SPACK_ROOT\" = " RENDER_IMAGE_SPACK " ] && [ -d " RENDER_IMAGE_TREE
	"/.spack-db ]; then\n"
	"\t\tprintf '%s\\n' 'upstreams:' '  petal-image:' '    install_tree: "
	RENDER_IMAGE_TREE "' \\\n"
	"\t\t\t'    modules:' '      lmod: " RENDER_IMAGE_LMOD "' >/etc/spack/upstreams.yaml\n"
	"\telse\n"
	"\t\trm -f /etc/spack/upstreams.yaml\n"
	"\tfi\n"
	"}\n"
	"\n"
	"# Compute nodes: a static node may boot while the head node still installs.\n"
	"petal_wait_for_head() {\n"
	"\tlocal waited=0 step pkg\n"
	"\tcase \"$PETAL_WAIT_S\" in\n"
	"\t'' | *[!0-9]*)\n"
	"\t\techo \"petal: PETAL_WAIT_S='$PETAL_WAIT_S' is not a number of seconds\" >&2\n"
	"\t\treturn 2\n"
	"\t\t;;\n"
	"\tesac\n"
	"\techo \"petal: waiting for the head node's installs ($PETAL_READY)\"\n"
	"\tuntil [ -e \"$PETAL_READY\" ]; do\n"
	"\t\tif [ -e \"$PETAL_FAILED\" ]; then\n"
	"\t\t\tpkg=$(sed -n 's/^package=//p' \"$PETAL_FAILED\")\n"
	"\t\t\techo \"petal: the head node failed its installs, on package\" \\\n"
	"\t\t\t\t\"${pkg:-(none named)} ($PETAL_FAILED): this node gives up waiting (see\" \\\n"
	"\t\t\t\t\"/var/log/petal-bootstrap.log there)\" >&2\n"
	"\t\t\treturn 1\n"
	"\t\tfi\n"
	"\t\tif [ \"$waited\" -ge \"$PETAL_WAIT_S\" ]; then\n"
	"\t\t\techo \"petal: no ready mark $PETAL_READY after ${PETAL_WAIT_S}s (PETAL_WAIT_S):\" \\\n"
	"\t\t\t\t\"the head node has not finished its installs (see\" \\\n"
	"\t\t\t\t\"/var/log/petal-bootstrap.log there)\" >&2\n"
	"\t\t\treturn 1\n"
	"\t\tfi\n"
	"\t\t# every 10 s, and never past the wait\n"
	"\t\tstep=$((PETAL_WAIT_S - waited < 10 ? PETAL_WAIT_S - waited : 10))\n"
	"\t\tsleep \"$step\"\n"
	"\t\twaited=$((waited + step))\n"
	"\tdone\n"
	"\tif [ ! -x \"$PETAL_SPACK_ROOT/bin/spack\" ]; then\n"
	"\t\techo \"petal: no Spack in $PETAL_SPACK_ROOT\" >&2\n"
	"\t\treturn 1\n"
	"\tfi\n"
	"\texport PATH=\"$PETAL_SPACK_ROOT/bin:$PATH\"\n"
	"}\n"
	"\n"
	"# The head node's last step: what compute nodes wait for.\n"
	"petal_mark_ready() {\n"
	"\tmkdir -p \"$(dirname \"$PETAL_READY\")\"\n"
	"\tprintf '%s\\n' \"$PETAL_SEED_HASH\" >\"$PETAL_READY.tmp\"\n"
	"\tmv -f \"$PETAL_READY.tmp\" \"$PETAL_READY\"\n"
	"\trm -f \"$PETAL_FAILED\"\n"
	"}\n";

static int has_kind(const struct petal_renderer *r, enum petal_fragment kind)
{
	return render_find(r, kind, NULL) != NULL;
}

/* Where Spack is: the image's, or (node script, shared layout) the copy the
   head node clones onto the shared volume when the image has none. */
static void spack_root(struct petal_strbuf *sb, int shared)
{
	if (!shared) {
		petal_strbuf_puts(sb, "readonly PETAL_SPACK_ROOT=" RENDER_IMAGE_SPACK "\n");
		return;
	}
	petal_strbuf_puts(sb, "if [ -x " RENDER_IMAGE_SPACK "/bin/spack ]; then\n"
	                      "\treadonly PETAL_SPACK_ROOT=" RENDER_IMAGE_SPACK "\n"
	                      "else\n"
	                      "\treadonly PETAL_SPACK_ROOT=" RENDER_SHARED_SPACK "\n"
	                      "fi\n");
}

/* Spack 1.x's site scope, written where Spack is set up: the builtin
   repository at the release the seed's Spack pins (kept when the site scope
   names its repositories already, as an image or a site's Spack may), petal's
   modules configuration, and the machine's compilers as external packages. */
static void site_helper(struct petal_strbuf *sb, const struct petal_seed *seed,
                        const char *modules_yaml)
{
	petal_strbuf_puts(sb, "\n# Spack's site scope: repositories, modules, compilers.\n"
	                      "petal_spack_site() {\n"
	                      "\tlocal site=$PETAL_SPACK_ROOT/etc/spack\n"
	                      "\tmkdir -p \"$site\"\n");
	render_repos_yaml(sb, seed);
	/* written before the finds below, which add the compilers and make to it */
	petal_strbuf_puts(sb, "\tprintf '%s\\n' 'packages:' '  all:' '    require:' \\\n"
	                      "\t\t\"    - target=$PETAL_SPACK_TARGET\" >\"$site/packages.yaml\"\n");
	petal_strbuf_puts(sb, "\tcat >\"$site/modules.yaml\" <<'PETAL_MODULES_YAML'\n");
	petal_strbuf_puts(sb, modules_yaml);
	if (*modules_yaml != '\0' && modules_yaml[strlen(modules_yaml) - 1] != '\n')
		petal_strbuf_putc(sb, '\n');
	/* make from the image, not built (the builtin repository would) */
	petal_strbuf_puts(sb, "PETAL_MODULES_YAML\n"
	                      "\tspack compiler find --scope site >/dev/null\n"
	                      "\tspack external find --scope site --not-buildable gmake >/dev/null\n"
	                      "}\n");
}

static void preamble(struct petal_strbuf *sb, const struct petal_renderer *r,
                     const char *file, const char *what, const char *log, int jobs,
                     int shared, const char *modules_yaml)
{
	const char *builtin = petal_spack_builtin_tag(r->plan->info.spack_version);

	const struct petal_seed_info *info = &r->plan->info;

	petal_strbuf_printf(sb, "#!/bin/bash\n# %s: %s\n# Rendered by petal from ", file, what);
	render_comment(sb, info->path != NULL ? info->path : "a seed");
	petal_strbuf_puts(sb, " (cluster ");
	render_comment(sb, info->cluster_name);
	petal_strbuf_puts(sb, ", seed hash ");
	render_comment(sb, info->hash);
	petal_strbuf_printf(sb, ").\nset -euo pipefail\n\nreadonly PETAL_LOG=%s\n", log);
	petal_strbuf_puts(sb, "exec > >(tee -a \"$PETAL_LOG\") 2>&1\n\nreadonly PETAL_SEED_HASH=");
	render_shquote(sb, info->hash != NULL ? info->hash : "");
	petal_strbuf_puts(sb, "\nreadonly PETAL_SPACK_VERSION=");
	render_shquote(sb, info->spack_version != NULL ? info->spack_version : PETAL_SPACK_DEFAULT_VERSION);
	petal_strbuf_puts(sb, "\n# Spack's builtin package repository (spack/spack-packages) at the "
	                      "release\n# this Spack pins\nreadonly PETAL_SPACK_BUILTIN=");
	render_shquote(sb, builtin != NULL ? builtin : petal_spack_builtin_tag(PETAL_SPACK_DEFAULT_VERSION));
	petal_strbuf_puts(sb, "\n# The target every package is built for (software.spack.target)\n"
	                      "readonly PETAL_SPACK_TARGET=");
	render_shquote(sb, petal_spack_target(r->plan->seed));
	petal_strbuf_putc(sb, '\n');
	spack_root(sb, shared);
	render_sources_vars(sb, r->plan->seed);
	if (shared)
		petal_strbuf_printf(sb, "# The head node installs into the shared tree once, then "
		                    "writes PETAL_READY;\n# compute nodes wait for it at most "
		                    "PETAL_WAIT_S seconds (doc/render.md).\n"
		                    "readonly PETAL_SHARED_TREE=" RENDER_SHARED_TREE "\n"
		                    "readonly PETAL_READY=\"" RENDER_SHARED_READY "$PETAL_SEED_HASH\"\n"
		                    "readonly PETAL_WAIT_S=${PETAL_WAIT_S:-%ld}\n", r->wait_s);
	if (jobs > 0)
		petal_strbuf_printf(sb, "PETAL_JOBS=%d\n", jobs);
	else
		petal_strbuf_puts(sb, "PETAL_JOBS=$(nproc)\n");
	petal_strbuf_puts(sb, "export PETAL_JOBS\n\n");
	petal_strbuf_puts(sb, helpers);
	render_sources_helpers(sb, r->plan->seed);
	site_helper(sb, r->plan->seed, modules_yaml);
}

/* Spack, and the mirrors the tiers named, for the lines that follow; each
   line starts with `indent`.  The mirrors are binary caches pushed unsigned
   (doc/render.md, "Keys"): Spack must neither verify them nor look in them
   for sources. */
static void spack_setup(struct petal_strbuf *sb, const struct petal_renderer *r,
                        const char *indent)
{
	int s3 = 0;

	petal_strbuf_printf(sb, "%spetal_spack_setup\n", indent);
	for (size_t i = 0; i < r->n_frags; i++)
		s3 |= r->frags[i].kind == PETAL_FRAG_SPACK_MIRROR &&
		      strncmp(r->frags[i].text, "s3://", 5) == 0;
	/* Spack reaches s3:// mirrors through boto3 */
	if (s3)
		petal_strbuf_printf(sb, "%spython3 -c 'import boto3' >/dev/null 2>&1 || "
		                    "petal_os_install python3-boto3\n", indent);
	for (size_t i = 0; i < r->n_frags; i++) {
		const struct render_frag *f = &r->frags[i];

		if (f->kind != PETAL_FRAG_SPACK_MIRROR)
			continue;
		petal_strbuf_printf(sb, "%sspack mirror remove --scope site ", indent);
		render_shquote(sb, f->key);
		petal_strbuf_printf(sb, " >/dev/null 2>&1 || true\n%sspack mirror add --scope site "
		                    "--type binary --unsigned%s ", indent,
		                    strncmp(f->text, "s3://", 5) == 0
		                    ? " ${PETAL_S3_ENDPOINT:+--s3-endpoint-url \"$PETAL_S3_ENDPOINT\"}"
		                    : "");
		render_shquote(sb, f->key);
		petal_strbuf_putc(sb, ' ');
		render_shquote(sb, f->text);
		petal_strbuf_putc(sb, '\n');
	}
	render_source_mirror(sb, r->plan->seed, indent);
}

/* A tier's name where a shell word is built from it: the loader admits only
   [a-z0-9-], and anything else still becomes '_' here. */
static void tier_word(struct petal_strbuf *sb, const char *tier, char dash)
{
	for (; *tier; tier++) {
		char c = *tier;
		int ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

		petal_strbuf_putc(sb, ok ? c : c == '-' ? dash : '_');
	}
}

/* "binary-cache" -> "tier_binary_cache" */
static void function_name(struct petal_strbuf *sb, const char *tier)
{
	petal_strbuf_puts(sb, "tier_");
	tier_word(sb, tier, '_');
}

/* The tiers, in the order they first added a fragment of kind (rank order). */
static size_t tiers_of(const struct petal_renderer *r, enum petal_fragment kind,
                       const char ***out)
{
	const char **tiers = NULL;
	size_t n = 0, cap = 0;

	for (size_t i = 0; i < r->n_frags; i++) {
		int seen = 0;

		if (r->frags[i].kind != kind)
			continue;
		for (size_t j = 0; j < n; j++)
			seen |= strcmp(tiers[j], r->frags[i].tier) == 0;
		if (!seen)
			PETAL_PUSH(tiers, n, cap, r->frags[i].tier);
	}
	*out = tiers;
	return n;
}

/* One function per tier holding its lines, so a run can ask for one part. */
static void tier_functions(struct petal_strbuf *sb, const struct petal_renderer *r,
                           enum petal_fragment kind, const char **tiers, size_t n)
{
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_putc(sb, '\n');
		function_name(sb, tiers[t]);
		petal_strbuf_puts(sb, "() {\n\techo 'petal: ");
		tier_word(sb, tiers[t], '-');
		petal_strbuf_puts(sb, "'\n");
		for (size_t i = 0; i < r->n_frags; i++) {
			const struct render_frag *f = &r->frags[i];

			if (f->kind != kind || strcmp(f->tier, tiers[t]) != 0)
				continue;
			petal_strbuf_puts(sb, f->text);
			if (f->text[0] == '\0' || f->text[strlen(f->text) - 1] != '\n')
				petal_strbuf_putc(sb, '\n');
		}
		petal_strbuf_puts(sb, "}\n");
	}
}

/* The parts asked for ("$@"), each running its function: PREFIX + tier_NAME. */
static void parts(struct petal_strbuf *sb, const char **tiers, size_t n, const char *prefix)
{
	petal_strbuf_puts(sb, "\tfor part in \"$@\"; do\n\t\tcase \"$part\" in\n\t\tall)");
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_printf(sb, "\n\t\t\t%s", prefix);
		function_name(sb, tiers[t]);
	}
	petal_strbuf_puts(sb, n == 0 ? " : ;;\n" : "\n\t\t\t;;\n");
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_puts(sb, "\t\t");
		render_shquote(sb, tiers[t]);
		petal_strbuf_printf(sb, ") %s", prefix);
		function_name(sb, tiers[t]);
		petal_strbuf_puts(sb, " ;;\n");
	}
	petal_strbuf_puts(sb, "\t\tesac\n\tdone\n");
}

char *render_build_script(const struct petal_renderer *r, const char *modules_yaml)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	const char **tiers;
	size_t n = tiers_of(r, PETAL_FRAG_BUILD_SCRIPT, &tiers);

	preamble(&sb, r, "build-instance.sh",
	         "what the build instance runs (root, at boot): the AMI bake and the\n"
	         "# binary-cache fill.  Usage: build-instance.sh [all | TIER...]; each\n"
	         "# tier's part can run alone, on its own instance.",
	         "/var/log/petal-build.log", r->plan->info.build_parallel, 0, modules_yaml);
	tier_functions(&sb, r, PETAL_FRAG_BUILD_SCRIPT, tiers, n);
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_puts(&sb, "\ncheck_");
		function_name(&sb, tiers[t]);
		petal_strbuf_puts(&sb, "() {\n");
		render_checks(&sb, r, tiers[t]);
		petal_strbuf_puts(&sb, "}\n");
	}
	profile_helper(&sb, 0);
	render_outcome(&sb, r, 1);

	/* every part is checked before anything is installed */
	petal_strbuf_puts(&sb, "\npetal_main() {\n\tlocal part\n"
	                       "\tif [ \"$#\" -eq 0 ]; then\n\t\tset -- all\n\tfi\n"
	                       "\tfor part in \"$@\"; do\n\t\tcase \"$part\" in\n\t\tall");
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_puts(&sb, " | ");
		render_shquote(&sb, tiers[t]);
	}
	petal_strbuf_puts(&sb, ") ;;\n\t\t*)\n\t\t\techo \"build-instance.sh: unknown part "
	                       "'$part' (all");
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_puts(&sb, ", ");
		tier_word(&sb, tiers[t], '-');
	}
	petal_strbuf_puts(&sb, ")\" >&2\n\t\t\texit 2\n\t\t\t;;\n\t\tesac\n\tdone\n\tpetal_begin\n");
	spack_setup(&sb, r, "\t");
	petal_strbuf_puts(&sb, "\tpetal_checkpoint_setup\n");
	parts(&sb, tiers, n, "");
	/* what the parts installed must be there before the build succeeds */
	petal_strbuf_puts(&sb, "\tpetal_set_state validating\n\tpetal_spack_profile\n");
	parts(&sb, tiers, n, "check_");
	render_tests(&sb, r, "\t");
	petal_strbuf_puts(&sb, "\techo \"petal: build succeeded for seed $PETAL_SEED_HASH\"\n}\n\n"
	                       "petal_main \"$@\"\n");
	free(tiers);
	return petal_strbuf_detach(&sb);
}

char *render_node_script(const struct petal_renderer *r, const char *modules_yaml)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	const char **tiers;
	size_t n = tiers_of(r, PETAL_FRAG_NODE_SCRIPT, &tiers);
	/* a stack of containers alone needs no Spack on the nodes */
	int spack = has_kind(r, PETAL_FRAG_SPACK_SPEC) || has_kind(r, PETAL_FRAG_SPACK_MIRROR);

	preamble(&sb, r, "node-bootstrap.sh",
	         "ParallelCluster's OnNodeConfigured script, on the head node and\n"
	         "# on every compute node (root).",
	         "/var/log/petal-bootstrap.log", r->plan->info.build_parallel, r->shared,
	         modules_yaml);
	petal_strbuf_puts(&sb, "\n# ParallelCluster writes the node's role here.\n"
	                       "petal_is_head_node() {\n"
	                       "\tgrep -qs '^cfn_node_type=HeadNode' /etc/parallelcluster/cfnconfig\n"
	                       "}\n"
	                       "\n# The node's name in the cluster's reports.\n"
	                       "petal_node_name() {\n"
	                       "\tif petal_is_head_node; then\n\t\techo head\n"
	                       "\telse\n\t\techo \"compute-$(hostname -s)\"\n\tfi\n"
	                       "}\n");
	if (spack || r->shared)
		profile_helper(&sb, r->shared);
	if (r->shared)
		petal_strbuf_puts(&sb, shared_helpers);
	tier_functions(&sb, r, PETAL_FRAG_NODE_SCRIPT, tiers, n);
	render_outcome(&sb, r, 0);

	petal_strbuf_puts(&sb, "\npetal_main() {\n\tpetal_begin\n");
	if (r->shared) {
		/* only the head node downloads: Spack, OS packages, the mirrors; a
		   former attempt's failure mark goes */
		petal_strbuf_puts(&sb, "\tif petal_is_head_node; then\n\t\trm -f \"$PETAL_FAILED\"\n");
		spack_setup(&sb, r, "\t\t");
		petal_strbuf_puts(&sb, "\telse\n\t\tpetal_wait_for_head\n\tfi\n"
		                       "\tpetal_spack_config\n\tpetal_spack_profile\n");
	} else if (spack) {
		spack_setup(&sb, r, "\t");
		petal_strbuf_puts(&sb, "\tpetal_spack_profile\n");
	}
	for (size_t t = 0; t < n; t++) {
		petal_strbuf_putc(&sb, '\t');
		function_name(&sb, tiers[t]);
		petal_strbuf_putc(&sb, '\n');
	}
	/* the shared tree's modules, once its installs are done */
	if (r->shared && spack)
		petal_strbuf_puts(&sb, "\tif petal_is_head_node; then\n"
		                       "\t\tspack module lmod refresh --delete-tree -y\n\tfi\n");
	if (r->shared)
		petal_strbuf_puts(&sb, "\tif petal_is_head_node; then\n\t\tpetal_mark_ready\n\tfi\n");
	petal_strbuf_puts(&sb, "\techo \"petal: node ready for seed $PETAL_SEED_HASH\"\n}\n\n"
	                       "petal_main \"$@\"\n");
	free(tiers);
	return petal_strbuf_detach(&sb);
}
