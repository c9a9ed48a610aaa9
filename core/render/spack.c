/* spack.yaml (the Spack environment of the plan) and modules.yaml (the
 * container modules), both written with libyaml's emitter. */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "render_int.h"

#define CONTAINERS_DIR "/opt/petal/containers"
#define MODULES_DIR "/opt/petal/modules"
#define WRAPPERS_DIR "/opt/petal/wrappers"

int render_spack_yaml(const struct petal_renderer *r, char **out, struct petal_error *err)
{
	struct petal_strbuf head = PETAL_STRBUF_INIT;
	struct yout y;
	int rc;

	petal_strbuf_puts(&head, "# Spack environment rendered by petal, seed hash\n#   ");
	render_comment(&head, r->plan->info.hash);
	petal_strbuf_puts(&head, "\n# Every Spack package of the plan, whatever tier delivers it, "
	                         "and the\n# binary-cache mirror: `spack env create petal "
	                         "spack.yaml` reproduces the\n# software stack anywhere.\n");
	if (render_find(r, PETAL_FRAG_SPACK_MIRROR, NULL) != NULL)
		petal_strbuf_puts(&head, "# The mirrors hold unsigned binaries: `spack mirror set "
		                         "--unsigned NAME` (the\n# nodes add them so) before "
		                         "installing from them.\n");
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
	if (render_find(r, PETAL_FRAG_SPACK_MIRROR, NULL) != NULL) {
		yout_str(&y, "mirrors");
		yout_map(&y);
		for (size_t i = 0; i < r->n_frags; i++)
			if (r->frags[i].kind == PETAL_FRAG_SPACK_MIRROR &&
			    render_find(r, PETAL_FRAG_SPACK_MIRROR, r->frags[i].key) == &r->frags[i])
				yout_kstr(&y, r->frags[i].key, r->frags[i].text);
		yout_map_end(&y);
	}
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

static const char modules_header[] =
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

int render_modules_yaml(const struct petal_renderer *r, char **out, struct petal_error *err)
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
	return yout_finish(&y, modules_header, out, err);
}
