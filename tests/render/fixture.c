/* tests/test_render's fixtures: plans composed by the real tiers, rendered
 * into temporary directories, and the outside checkers run on the files. */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../core/plugin/host.h"
#include "fixture.h"

/* One host for the whole test (core/plugin/host.h). */
static const struct petal_host *the_host(void)
{
	static struct petal_host *h;
	if (!h)
		h = petal_host_new();
	return h;
}

const char *top_srcdir;
char *tmp_root;
static int n_tmp;

/* ---- a plan, composed by the real tiers ------------------------------------ */

/* Compose seed's plan as `petal plan` does: the plugins of PETAL_PLUGIN_PATH
   (the build's own), the data files of PETAL_DATA_DIR. */
struct petal_plan *plan_for(const struct petal_seed *seed, struct fixture *f)
{
	const char *data = getenv("PETAL_DATA_DIR");
	char *data_dir = data != NULL ? petal_xstrdup(data)
	                              : petal_xasprintf("%s/data", top_srcdir);
	struct petal_error err = { 0 };

	memset(f, 0, sizeof(*f));
	f->reg.host = the_host();
	petal_registry_default_dirs(&f->reg);
	if (petal_registry_scan(&f->reg, &err) < 0 ||
	    petal_estimates_load(data_dir, seed, &f->est, &err) < 0)
		goto out_data_dir;
	petal_host_bind_estimates(the_host(), f->est);
	if (petal_plan_compose(seed, &f->reg, f->est, &f->plan, &err) < 0)
		f->plan = NULL;

out_data_dir:
	if (f->plan == NULL)
		fprintf(stderr, "\n  no plan: %s\n", err.msg);
	free(data_dir);
	return f->plan;
}

void fixture_release(struct fixture *f)
{
	petal_plan_free(f->plan);
	petal_registry_release(&f->reg);
	petal_host_bind_estimates(the_host(), NULL);
	petal_estimates_free(f->est);
}

/* ---- fixtures ---------------------------------------------------------- */

char *new_dir(void)
{
	return petal_xasprintf("%s/r%d", tmp_root, n_tmp++);
}

char *slurp(const char *dir, const char *file)
{
	char *path = petal_xasprintf("%s/%s", dir, file);
	char *data = NULL;
	size_t len;
	struct petal_error err = { 0 };

	if (petal_read_file(path, 1u << 20, &data, &len, &err) < 0)
		data = NULL;
	free(path);
	return data;
}

/* Run a command line through sh; its exit status, output shown on failure. */
int run(const char *cmd)
{
	int st = system(cmd);

	if (st == -1 || !WIFEXITED(st))
		return -1;
	if (WEXITSTATUS(st) != 0)
		fprintf(stderr, "\n  [%s] exited %d\n", cmd, WEXITSTATUS(st));
	return WEXITSTATUS(st);
}

struct petal_seed *load_text(const char *text)
{
	struct petal_seed *seed = NULL;
	struct petal_diags diags = { 0 };
	struct petal_error err = { 0 };

	if (petal_seed_load_text("test.yaml", text, strlen(text), &seed, &diags, &err) < 0) {
		char *msg = petal_diags_format(&diags);

		fprintf(stderr, "\n  seed refused: %s%s\n", err.msg, msg);
		free(msg);
	}
	petal_diags_release(&diags);
	return seed;
}

/* Plan and render seed into a new directory; rc in *rc, err filled. */
char *render_seed(const struct petal_seed *seed, const char *subnet, const char *key,
                         int *rc, struct petal_error *err)
{
	struct fixture f;
	struct petal_render_opts opts = { .subnet_id = subnet, .key_name = key };
	char *dir = new_dir();

	opts.dir = dir;
	memset(err, 0, sizeof(*err));
	*rc = PETAL_EINVAL;
	if (plan_for(seed, &f) != NULL)
		*rc = petal_render(f.plan, &f.reg, &opts, err);
	if (*rc < 0)
		fprintf(stderr, "\n  render: %s\n", err->msg);
	fixture_release(&f);
	return dir;
}

int check_config(const char *dir)
{
	char *cmd = petal_xasprintf("python3 '%s/tests/render/check_pcluster.py' "
	                            "'%s/cluster-config.yaml'", top_srcdir, dir);
	int rc = run(cmd);

	free(cmd);
	return rc;
}

int shellcheck(const char *dir, const char *file)
{
	char *cmd = petal_xasprintf("shellcheck '%s/%s'", dir, file);
	int rc = run(cmd);

	free(cmd);
	return rc;
}

/* Run a rendered script in tests/render/sandbox.sh; the box directory. */
char *sandbox(const char *dir, const char *file, const char *args, int *rc)
{
	return sandbox_env("", dir, file, args, rc);
}

char *sandbox_env(const char *env, const char *dir, const char *file, const char *args,
                  int *rc)
{
	char *box = new_dir();
	char *cmd = petal_xasprintf("%s sh '%s/tests/render/sandbox.sh' '%s/%s' '%s' %s",
	                            env, top_srcdir, dir, file, box, args);

	*rc = run(cmd);
	if (*rc != 0) {
		char *out = slurp(box, "output");

		fprintf(stderr, "  sandbox output:\n%s\n", out != NULL ? out : "(none)");
		free(out);
	}
	free(cmd);
	return box;
}

/* Does the sandbox's record hold `arg` as one whole argument? */
int got_arg(const char *box, const char *arg)
{
	char *calls = slurp(box, "calls");
	char *want = petal_xasprintf("\nARG<%s>\n", arg);
	int found = calls != NULL && strstr(calls, want) != NULL;

	free(want);
	free(calls);
	return found;
}

int exists_in(const char *dir, const char *file)
{
	char *path = petal_xasprintf("%s/%s", dir, file);
	struct stat st;
	int ok = stat(path, &st) == 0;

	free(path);
	return ok;
}

int mode_of(const char *dir, const char *file)
{
	char *path = petal_xasprintf("%s/%s", dir, file);
	struct stat st;
	int mode = stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;

	free(path);
	return mode;
}

struct petal_node *parse_yaml(const char *dir, const char *file)
{
	char *text = slurp(dir, file);
	struct petal_node *root = NULL;
	struct petal_error err = { 0 };

	if (text == NULL || petal_node_parse(file, text, strlen(text), &root, &err) < 0)
		fprintf(stderr, "\n  %s does not parse: %s\n", file, err.msg);
	free(text);
	return root;
}

/* Is `text` an item of the list at dotted path? */
int list_has(const struct petal_node *root, const char *path, const char *text)
{
	const struct petal_node *l = petal_node_path(root, path);

	for (size_t i = 0; l != NULL && l->type == PETAL_NODE_LIST && i < l->n; i++)
		if (petal_node_str(l->items[i]) != NULL &&
		    strcmp(petal_node_str(l->items[i]), text) == 0)
			return 1;
	return 0;
}

