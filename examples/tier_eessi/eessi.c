/* tier_eessi: a third-party petal tier that delivers packages from EESSI, the
 * European Environment for Scientific Software Installations, a ready-built
 * software stack that nodes mount read-only over CernVM-FS.
 *
 * It compiles against <petal/plugin.h> alone and links nothing of petal:
 *
 *   cc -shared -fPIC $(pkg-config --cflags petal-plugin) -o tier_eessi.so eessi.c
 *
 * The seed turns it on with its own section, which only this plugin reads:
 *
 *   plugins:
 *     eessi:
 *       version: "2023.06"          # EESSI release (default 2023.06)
 *       packages: [gromacs, openmpi]
 *       modules:                    # optional: exact Lmod module names
 *         gromacs: GROMACS/2024.1-foss-2023b
 *
 * A package listed there and in software.spack_packages is claimed (by name;
 * the Spack version is EESSI's to choose).  At boot, nodes check the stack is
 * mounted and give every login shell EESSI's environment (source its
 * init/bash, module load the packages): a couple of minutes, nothing built,
 * files streamed on first use.
 */
#include <petal/plugin.h>

#include <string.h>

#define EESSI_REPO "/cvmfs/software.eessi.io"
#define EESSI_DEFAULT_VERSION "2023.06"
/* Mounting the repository and loading modules at boot; files arrive lazily. */
#define EESSI_MOUNT_MINUTES 2.0

struct eessi {
	const struct petal_host *host;
};

static int eessi_init(const struct petal_host *host, void **ctx)
{
	struct eessi *e;

	/* Functions used below must be inside the host's advertised size. */
	if (!PETAL_HAS(host, render_add) || !host->node_get || !host->plan_add_step)
		return PETAL_ENOTSUP;
	e = host->alloc(sizeof(*e));
	e->host = host;
	*ctx = e;
	return 0;
}

static void eessi_fini(void *ctx)
{
	struct eessi *e = ctx;

	if (e)
		e->host->free(e);
}

/* The section's value at `key` ("version", "packages", ...), or NULL. */
static const struct petal_node *section(const struct petal_host *host,
                                        const struct petal_node *root, const char *key)
{
	char path[128];

	if (!root || strlen(key) > sizeof(path) - sizeof("plugins.eessi."))
		return NULL;
	strcpy(path, "plugins.eessi.");
	strcat(path, key);
	return host->node_get(root, path);
}

static const char *eessi_version(const struct petal_host *host,
                                 const struct petal_node *root)
{
	const struct petal_node *v = section(host, root, "version");
	const char *s = v && host->node_type(v) == PETAL_NODE_SCALAR ? host->node_scalar(v) : NULL;

	return s && *s ? s : EESSI_DEFAULT_VERSION;
}

/* A version ends up in a path in a shell script: digits and dots only. */
static int version_ok(const char *v)
{
	return *v && strspn(v, "0123456789.") == strlen(v);
}

/* Is `name` in plugins.eessi.packages?  Entries may carry "@version", which
   is ignored: EESSI ships the versions it ships. */
static int listed(const struct petal_host *host, const struct petal_node *root,
                  const char *name)
{
	const struct petal_node *list = section(host, root, "packages");
	size_t i, n, len = strlen(name);

	if (!list || host->node_type(list) != PETAL_NODE_LIST)
		return 0;
	n = host->node_len(list);
	for (i = 0; i < n; i++) {
		const struct petal_node *item = host->node_at(list, i);
		const char *s = item ? host->node_scalar(item) : NULL;

		if (s && strncmp(s, name, len) == 0 && (s[len] == '\0' || s[len] == '@'))
			return 1;
	}
	return 0;
}

static int eessi_claim(void *ctx, const struct petal_claim_env *env,
                       const struct petal_package *pkg, const char **why)
{
	struct eessi *e = ctx;

	(void)why;
	/* Only plain spack_packages: in_ami, containers and build_from_source are
	   explicit choices of another tier. */
	if (pkg->section != PETAL_SECTION_SPACK_PACKAGES || !PETAL_HAS(env, seed) || !env->seed)
		return PETAL_PASS;
	return listed(e->host, env->seed->root, pkg->name) ? PETAL_CLAIM : PETAL_PASS;
}

static int eessi_plan(void *ctx, struct petal_planner *pl,
                      const struct petal_package *const *pkgs, size_t n,
                      struct petal_error *err)
{
	struct eessi *e = ctx;
	const struct petal_host *host = e->host;
	const struct petal_seed_info *seed = host->planner_seed(pl);
	const char *version = eessi_version(host, seed ? seed->root : NULL);
	const char **names;
	static const char *const parts[] = { "eessi" }; /* its node-bootstrap.sh part */
	struct petal_action action;
	struct petal_step step;
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	if (!version_ok(version))
		return host->fail(err, PETAL_EINVAL, "eessi: plugins.eessi.version \"%s\" is not "
		                  "an EESSI release such as \"2023.06\"", version);

	names = host->alloc(n * sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = pkgs[i]->spec;
	/* what the run does: the nodes run this tier's part of node-bootstrap.sh */
	memset(&action, 0, sizeof(action));
	action.size = sizeof(action);
	action.kind = PETAL_ACTION_NODE_BOOTSTRAP;
	action.parts = parts;
	action.n_parts = 1;
	memset(&step, 0, sizeof(step));
	step.size = sizeof(step);
	step.id = "eessi.mount";
	step.stage = PETAL_STAGE_NODE_BOOT; /* nothing to wait for: it mounts at boot */
	step.runs_on = "every node (CernVM-FS)";
	step.packages = names;
	step.n_packages = n;
	step.est_minutes = EESSI_MOUNT_MINUTES;
	step.est_cost_usd = 0;
	step.note = "ready-built by EESSI and streamed from " EESSI_REPO
	            " on first use; nodes need the CernVM-FS client";
	step.action = &action;
	rc = host->plan_add_step(pl, &step, err);
	host->free(names);
	return rc;
}

/* Lmod module names are EasyBuild's, not Spack's: a few well-known ones, or
   the seed's plugins.eessi.modules.<name>, or the Spack name itself. */
static const char *module_for(const struct petal_host *host, const struct petal_node *root,
                              const char *name)
{
	static const char *const known[][2] = {
		{ "gromacs", "GROMACS" },   { "openmpi", "OpenMPI" },
		{ "samtools", "SAMtools" }, { "bwa", "BWA" },
		{ "lammps", "LAMMPS" },     { "openfoam", "OpenFOAM" },
		{ "python", "Python" },     { "hdf5", "HDF5" },
		{ "fftw", "FFTW" },         { "boost", "Boost" },
		{ "bowtie2", "Bowtie2" },   { "quantum-espresso", "QuantumESPRESSO" },
	};
	const struct petal_node *m;
	char key[128];
	size_t i;

	if (strlen(name) < sizeof(key) - sizeof("modules.")) {
		strcpy(key, "modules.");
		strcat(key, name);
		m = section(host, root, key);
		if (m && host->node_type(m) == PETAL_NODE_SCALAR && host->node_scalar(m))
			return host->node_scalar(m);
	}
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (strcmp(known[i][0], name) == 0)
			return known[i][1];
	return name;
}

/* A growing string in host memory (the host offers alloc and free only). */
struct text {
	const struct petal_host *host;
	char *s;
	size_t len, cap;
};

static void put(struct text *t, const char *s)
{
	size_t n = strlen(s);

	if (t->len + n + 1 > t->cap) {
		size_t cap = 2 * (t->len + n + 1);
		char *bigger = t->host->alloc(cap);

		if (t->s) {
			memcpy(bigger, t->s, t->len);
			t->host->free(t->s);
		}
		t->s = bigger;
		t->cap = cap;
	}
	memcpy(t->s + t->len, s, n + 1);
	t->len += n;
}

/* Module names go into a shell script: EasyBuild's characters only. */
static int module_ok(const char *m)
{
	return *m && strspn(m, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	                       "0123456789._+-/") == strlen(m);
}

/* Node bootstrap lines: check the repository is mounted, give every login
   shell EESSI's environment and the modules (loading them in the bootstrap
   alone would vanish with its process), and load them once now so that a
   wrong module name fails the node's boot rather than a user's login. */
static int eessi_render(void *ctx, struct petal_renderer *r,
                        const struct petal_package *const *pkgs, size_t n,
                        struct petal_error *err)
{
	struct eessi *e = ctx;
	const struct petal_host *host = e->host;
	const struct petal_seed_info *seed = host->renderer_seed(r);
	const struct petal_node *root = seed ? seed->root : NULL;
	const char *version = eessi_version(host, root);
	struct text t = { .host = host };
	size_t i;
	int rc;

	if (n == 0)
		return 0;
	if (!version_ok(version))
		return host->fail(err, PETAL_EINVAL, "eessi: plugins.eessi.version \"%s\" is not "
		                  "an EESSI release such as \"2023.06\"", version);
	for (i = 0; i < n; i++)
		if (!module_ok(module_for(host, root, pkgs[i]->name)))
			return host->fail(err, PETAL_EINVAL, "eessi: plugins.eessi.modules.%s: "
			                  "\"%s\" is not a module name (letters, digits, ._+-/)",
			                  pkgs[i]->name, module_for(host, root, pkgs[i]->name));

	put(&t, "# eessi: software from the EESSI CernVM-FS stack\n"
	        "if [ ! -d " EESSI_REPO "/versions/");
	put(&t, version);
	put(&t, " ]; then\n"
	        "\techo \"eessi: " EESSI_REPO " is not mounted; install the CernVM-FS "
	        "client and EESSI's configuration\" >&2\n"
	        "\texit 1\n"
	        "fi\n"
	        "# shellcheck disable=SC2016 # expanded by the login shell\n"
	        "printf '%s\\n' \\\n"
	        "\t'if [ -n \"${BASH_VERSION:-}\" ]; then' \\\n"
	        "\t'\tsource " EESSI_REPO "/versions/");
	put(&t, version);
	put(&t, "/init/bash' \\\n"
	        "\t\"\tmodule load");
	/* inside double quotes: module_ok() leaves no $, `, backslash or quote */
	for (i = 0; i < n; i++) {
		put(&t, " '");
		put(&t, module_for(host, root, pkgs[i]->name));
		put(&t, "'");
	}
	put(&t, "\" \\\n"
	        "\t'fi' >/etc/profile.d/petal-eessi.sh\n"
	        "# shellcheck disable=SC1091\n"
	        "(set +eu; . /etc/profile.d/petal-eessi.sh)");
	rc = host->render_add(r, PETAL_FRAG_NODE_SCRIPT, NULL, t.s, err);
	host->free(t.s);
	return rc;
}

static const struct petal_tier_ops eessi_ops = {
	.size = sizeof(struct petal_tier_ops),
	.needs = 0, /* nothing from the cloud: the nodes mount the stack themselves */
	.claim = eessi_claim,
	.plan = eessi_plan,
	.render = eessi_render,
};

const struct petal_plugin petal_plugin = {
	.magic = PETAL_PLUGIN_MAGIC,
	.abi = PETAL_PLUGIN_ABI,
	.kind = PETAL_KIND_TIER,
	.name = "eessi",
	.version = "1.0.0",
	.summary = "packages from the EESSI software stack over CernVM-FS",
	.rank = 15, /* after ami (10), before binary-cache (20) */
	.init = eessi_init,
	.fini = eessi_fini,
	.ops.tier = &eessi_ops,
};
