/* petal list, petal status CLUSTER, petal delete CLUSTER: the clusters petal
   made (those whose configuration carried petal:seed-hash, which the
   cluster manager puts on the cluster), through the cloud's cluster ops. */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../plugin/host.h"
#include "../util/util.h"
#include "cli.h"
#include "run_cli.h"

static const char list_usage[] =
	"usage: petal list [--region R] [--cloud NAME] [--output text|json]\n"
	"\n"
	"The clusters petal created in the region: name, status, seed, seed hash and\n"
	"when each was created.  Clusters petal did not make (no petal:seed-hash\n"
	"tag) are not listed.\n";

static const char status_usage[] =
	"usage: petal status CLUSTER [--region R] [--cloud NAME] [--output text|json]\n"
	"\n"
	"One cluster as its manager describes it: status, the stack's status, the\n"
	"manager's version, the head node and its address, its seed, and why it\n"
	"failed when it did.  Exit status 1 when there is no such cluster.\n";

static const char delete_usage[] =
	"usage: petal delete CLUSTER [--watch] [--keep-artifacts] [--force] [--region R]\n"
	"                    [--cloud NAME]\n"
	"\n"
	"Delete a cluster petal created (--force: any cluster).  The manager removes\n"
	"its stack and nodes; with --watch petal follows until it is gone.  Then the\n"
	"node files petal uploaded for it (petal:artifacts) are removed too, unless\n"
	"another cluster of the same seed still uses them or --keep-artifacts.\n";

struct cluster_args {
	const char *name, *region, *cloud;
	int watch, keep_artifacts, force;
};

static int parse(struct petal_cli *cli, const char *command, const char *usage, int takes_name,
                 int argc, char **argv, struct cluster_args *a)
{
	enum { OPT_REGION = 256, OPT_CLOUD, OPT_WATCH, OPT_KEEP, OPT_FORCE };
	static const struct option opts[] = {
		{ "region", required_argument, NULL, OPT_REGION },
		{ "cloud", required_argument, NULL, OPT_CLOUD },
		{ "watch", no_argument, NULL, OPT_WATCH },
		{ "keep-artifacts", no_argument, NULL, OPT_KEEP },
		{ "force", no_argument, NULL, OPT_FORCE },
		PETAL_CLI_COMMON_OPTIONS,
		{ NULL, 0, NULL, 0 },
	};
	int c, is_delete = strcmp(command, "delete") == 0;

	while ((c = getopt_long(argc, argv, PETAL_CLI_COMMON_SHORT, opts, NULL)) != -1) {
		int r = petal_cli_common(cli, c, optarg);
		if (r < 0)
			return PETAL_EXIT_USAGE;
		if (r > 0)
			continue;
		switch (c) {
		case OPT_REGION: a->region = optarg; continue;
		case OPT_CLOUD: a->cloud = optarg; continue;
		case 'h': fputs(usage, stdout); return -1;
		default: break;
		}
		if (is_delete && c == OPT_WATCH)
			a->watch = 1;
		else if (is_delete && c == OPT_KEEP)
			a->keep_artifacts = 1;
		else if (is_delete && c == OPT_FORCE)
			a->force = 1;
		else {
			if (c >= OPT_WATCH)
				petal_cli_error(cli, "%s takes no --%s", command, opts[c - OPT_REGION].name);
			fputs(usage, stderr);
			return PETAL_EXIT_USAGE;
		}
	}
	if (takes_name && optind < argc)
		a->name = argv[optind++];
	if (optind < argc) {
		petal_cli_error(cli, "unexpected argument '%s' (see 'petal %s --help')", argv[optind],
		                command);
		return PETAL_EXIT_USAGE;
	}
	if (takes_name && !a->name) {
		petal_cli_error(cli, "%s needs a cluster name: petal %s CLUSTER", command, command);
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

int petal_cli_cluster_open(struct petal_cli *cli, const char *region_flag, const char *cloud,
                           struct petal_cli_opened *o)
{
	int status;
	const char *region = NULL;

	memset(o, 0, sizeof(*o));
	if ((status = petal_cli_registry(cli, &o->reg)) != 0)
		return status;
	if ((status = petal_cli_region(cli, region_flag, NULL, &region)) != 0)
		return status;
	if ((status = petal_cli_cloud_open(cli, &o->reg, cloud ? cloud : "aws", &o->cloud)) != 0)
		return status;
	o->open = 1;
	if (!petal_cloud_has(&o->cloud, "cluster_describe")) {
		petal_cli_error(cli, "cloud '%s' does not make clusters", cloud ? cloud : "aws");
		return PETAL_EXIT_PLUGIN;
	}
	return 0;
}

void petal_cli_cluster_close(struct petal_cli *cli, struct petal_cli_opened *o)
{
	if (o->open)
		petal_host_bind_region(cli->host, NULL);
	if (o->reg.host)
		petal_registry_release(&o->reg);
}

const char *petal_cli_cluster_tag(const struct petal_cluster *c, const char *key)
{
	for (size_t i = 0; i < c->n_tags && i < PETAL_IMAGE_MAX_TAGS; i++)
		if (strcmp(c->tags[i].key, key) == 0)
			return c->tags[i].value;
	return NULL;
}

static const char *seed_name(const struct petal_cluster *c)
{
	const char *s = petal_cli_cluster_tag(c, PETAL_TAG_SEED);
	return s ? s : "-";
}

static json_t *cluster_json(const struct petal_cluster *c)
{
	json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:s?, s:s?}", "name", c->name, "region",
	                      c->region, "status", c->status,
	                      "seed", petal_cli_cluster_tag(c, PETAL_TAG_SEED),
	                      "seed_hash", petal_cli_cluster_tag(c, PETAL_TAG_SEED_HASH),
	                      "artifacts", petal_cli_cluster_tag(c, PETAL_TAG_ARTIFACTS));
	if (c->stack_status[0])
		json_object_set_new(j, "stack_status", json_string(c->stack_status));
	if (c->version[0])
		json_object_set_new(j, "version", json_string(c->version));
	if (c->head_node[0])
		json_object_set_new(j, "head_node", json_string(c->head_node));
	if (c->head_node_ip[0])
		json_object_set_new(j, "head_node_ip", json_string(c->head_node_ip));
	if (c->created)
		json_object_set_new(j, "created", json_integer(c->created));
	if (c->failure[0])
		json_object_set_new(j, "failure", json_string(c->failure));
	return j;
}

static void when(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (!t || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm))
		snprintf(buf, len, "-");
}

/* ---- list ------------------------------------------------------------------------ */

struct listing {
	struct petal_cluster *v;
	size_t n, cap;
};

static int collect(void *arg, const struct petal_cluster *c)
{
	struct listing *l = arg;
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->v = petal_xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = *c;
	return 0;
}

int cmd_list(struct petal_cli *cli, int argc, char **argv)
{
	struct cluster_args a = { 0 };
	struct petal_cli_opened o;
	struct listing l = { 0 };
	struct petal_error err = { .size = sizeof(err) };
	int status = parse(cli, "list", list_usage, 0, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;
	if ((status = petal_cli_cluster_open(cli, a.region, a.cloud, &o)) != 0)
		goto out;
	if (petal_cloud_cluster_list(&o.cloud, collect, &l, &err) != 0) {
		petal_cli_error(cli, "cannot list the clusters: %s", err.msg);
		status = PETAL_EXIT_FAILURE;
		goto out;
	}
	json_t *all = json_array();
	if (cli->output != PETAL_OUTPUT_JSON && l.n)
		printf("%-24s %-20s %-16s %-12s %s\n", "NAME", "STATUS", "SEED", "HASH", "CREATED");
	for (size_t i = 0; i < l.n; i++) {
		/* the summaries carry no tags: describe says whose it is */
		struct petal_cluster d = { .size = sizeof(d) };
		if (petal_cloud_cluster_describe(&o.cloud, l.v[i].name, &d, &err) != 0)
			continue; /* gone meanwhile */
		if (!petal_cli_cluster_tag(&d, PETAL_TAG_SEED_HASH))
			continue;
		char created[32];
		when(d.created, created, sizeof(created));
		if (cli->output == PETAL_OUTPUT_JSON)
			json_array_append_new(all, cluster_json(&d));
		else
			printf("%-24s %-20s %-16s %-12.12s %s\n", d.name, d.status,
			       seed_name(&d), petal_cli_cluster_tag(&d, PETAL_TAG_SEED_HASH), created);
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:o}", "clusters", all);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		if (json_array_size(all) == 0 && !l.n)
			petal_cli_info(cli, "no cluster in this region");
		json_decref(all);
	}
out:
	free(l.v);
	petal_cli_cluster_close(cli, &o);
	return status;
}

/* ---- status ---------------------------------------------------------------------- */

int petal_cli_cluster_describe(struct petal_cli *cli, struct petal_cli_opened *o,
                               const char *name, struct petal_cluster *c)
{
	struct petal_error err = { .size = sizeof(err) };
	*c = (struct petal_cluster){ .size = sizeof(*c) };
	int rc = petal_cloud_cluster_describe(&o->cloud, name, c, &err);
	if (rc == 0)
		return 0;
	petal_cli_error(cli, "%s", err.msg);
	return rc == PETAL_EINVAL ? PETAL_EXIT_USAGE : PETAL_EXIT_FAILURE;
}

int cmd_status(struct petal_cli *cli, int argc, char **argv)
{
	struct cluster_args a = { 0 };
	struct petal_cli_opened o;
	struct petal_cluster c;
	int status = parse(cli, "status", status_usage, 1, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;
	if ((status = petal_cli_cluster_open(cli, a.region, a.cloud, &o)) != 0 ||
	    (status = petal_cli_cluster_describe(cli, &o, a.name, &c)) != 0)
		goto out;
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = cluster_json(&c);
		petal_cli_print_json(j);
		json_decref(j);
	} else {
		char created[32];
		when(c.created, created, sizeof(created));
		printf("cluster     %s (%s)\nstatus      %s%s%s%s\n", c.name, c.region, c.status,
		       c.stack_status[0] ? " (stack " : "", c.stack_status,
		       c.stack_status[0] ? ")" : "");
		if (c.version[0])
			printf("manager     %s\n", c.version);
		if (c.head_node[0])
			printf("head node   %s%s%s\n", c.head_node, c.head_node_ip[0] ? " at " : "",
			       c.head_node_ip);
		printf("created     %s\n", created);
		if (petal_cli_cluster_tag(&c, PETAL_TAG_SEED_HASH))
			printf("seed        %s (hash %.12s)\n", seed_name(&c),
			       petal_cli_cluster_tag(&c, PETAL_TAG_SEED_HASH));
		else
			printf("seed        none: petal did not create it\n");
		if (c.failure[0])
			printf("failure     %s\n", c.failure);
	}
out:
	petal_cli_cluster_close(cli, &o);
	return status;
}

/* ---- delete ---------------------------------------------------------------------- */

struct prefix_objects {
	const char *prefix; /* ends with '/' */
	char **urls;
	size_t n, cap;
};

static int add_object(void *arg, const struct petal_object_info *obj)
{
	struct prefix_objects *p = arg;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 16;
		p->urls = petal_xrealloc(p->urls, p->cap * sizeof(*p->urls));
	}
	p->urls[p->n++] = petal_xasprintf("%s%s", p->prefix, obj->key);
	return 0;
}

/* Another cluster of the manager's list that carries these artifacts. */
static int shared_artifacts(struct petal_cli_opened *o, const char *name, const char *artifacts)
{
	struct listing l = { 0 };
	struct petal_error err = { .size = sizeof(err) };
	int shared = 0;
	if (petal_cloud_cluster_list(&o->cloud, collect, &l, &err) != 0) {
		free(l.v);
		return 1; /* cannot tell: keep them */
	}
	for (size_t i = 0; i < l.n && !shared; i++) {
		struct petal_cluster d = { .size = sizeof(d) };
		if (strcmp(l.v[i].name, name) == 0 ||
		    petal_cloud_cluster_describe(&o->cloud, l.v[i].name, &d, &err) != 0)
			continue;
		shared = petal_cli_cluster_tag(&d, PETAL_TAG_ARTIFACTS) &&
		         strcmp(petal_cli_cluster_tag(&d, PETAL_TAG_ARTIFACTS), artifacts) == 0;
	}
	free(l.v);
	return shared;
}

static int remove_artifacts(struct petal_cli *cli, struct petal_cli_opened *o,
                            const char *artifacts)
{
	struct petal_error err = { .size = sizeof(err) };
	char *prefix = petal_xasprintf("%s/", artifacts);
	struct prefix_objects p = { .prefix = prefix };
	int rc = petal_cloud_object_list(&o->cloud, prefix, add_object, &p, &err);
	if (rc == 0 && p.n)
		rc = petal_cloud_object_delete(&o->cloud, (const char *const *)p.urls, p.n, &err);
	if (rc != 0)
		petal_cli_error(cli, "the cluster is deleted, but its node files under %s are left: "
		                "%s", prefix, err.msg);
	else
		petal_cli_info(cli, "removed the %zu node file%s under %s", p.n, p.n == 1 ? "" : "s",
		               prefix);
	for (size_t i = 0; i < p.n; i++)
		free(p.urls[i]);
	free(p.urls);
	free(prefix);
	return rc ? PETAL_EXIT_FAILURE : 0;
}

int cmd_delete(struct petal_cli *cli, int argc, char **argv)
{
	struct cluster_args a = { 0 };
	struct petal_cli_opened o;
	struct petal_cluster c;
	struct petal_error err = { .size = sizeof(err) };
	int status = parse(cli, "delete", delete_usage, 1, argc, argv, &a);
	if (status)
		return status < 0 ? PETAL_EXIT_OK : status;
	if ((status = petal_cli_cluster_open(cli, a.region, a.cloud, &o)) != 0 ||
	    (status = petal_cli_cluster_describe(cli, &o, a.name, &c)) != 0)
		goto out;
	if (!petal_cli_cluster_tag(&c, PETAL_TAG_SEED_HASH) && !a.force) {
		petal_cli_error(cli, "cluster %s was not created by petal (no %s tag): --force "
		                "deletes it anyway", a.name, PETAL_TAG_SEED_HASH);
		status = PETAL_EXIT_USAGE;
		goto out;
	}
	char *artifacts = petal_xstrdup(petal_cli_cluster_tag(&c, PETAL_TAG_ARTIFACTS));
	if (petal_cloud_cluster_delete(&o.cloud, a.name, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		status = PETAL_EXIT_FAILURE;
		free(artifacts);
		goto out;
	}
	petal_cli_info(cli, "cluster %s: DELETE_IN_PROGRESS", a.name);
	int gone = 0, removed = 0;
	if (a.watch) {
		double every = petal_cli_poll_s(15);
		char last[32] = "";
		petal_cli_signals_install();
		while (!petal_cli_cancel) {
			struct petal_cluster d = { .size = sizeof(d) };
			int rc = petal_cloud_cluster_describe(&o.cloud, a.name, &d, &err);
			if (rc == PETAL_ENOENT) {
				gone = 1;
				petal_cli_info(cli, "cluster %s is gone", a.name);
				break;
			}
			if (rc == 0 && strcmp(d.status, last) != 0) {
				petal_cli_info(cli, "cluster %s: %s", a.name, d.status);
				snprintf(last, sizeof(last), "%s", d.status);
			}
			if (rc == 0 && strcmp(d.status, "DELETE_FAILED") == 0) {
				petal_cli_error(cli, "cluster %s: DELETE_FAILED%s%s", a.name,
				                d.failure[0] ? ": " : "", d.failure);
				status = PETAL_EXIT_FAILURE;
				break;
			}
			petal_cli_nap(every);
		}
		petal_cli_signals_restore();
		if (petal_cli_cancel && !gone && status == 0) {
			petal_cli_info(cli, "stopped following; the deletion goes on (petal status %s)",
			               a.name);
			status = 130;
		}
	}
	/* the node files go once no cluster needs them: after the deletion
	   (--watch), or now when no other cluster shares them */
	if (status == 0 && artifacts && !a.keep_artifacts) {
		if (shared_artifacts(&o, a.name, artifacts))
			petal_cli_info(cli, "the node files under %s/ stay: another cluster of this "
			               "seed uses them", artifacts);
		else if ((status = remove_artifacts(cli, &o, artifacts)) == 0)
			removed = 1;
	}
	if (cli->output == PETAL_OUTPUT_JSON) {
		json_t *j = json_pack("{s:s, s:s, s:b}", "cluster", a.name, "state",
		                      gone ? "deleted" : status ? "failed" : "deleting",
		                      "artifacts_removed", removed);
		petal_cli_print_json(j);
		json_decref(j);
	}
	free(artifacts);
out:
	petal_cli_cluster_close(cli, &o);
	return status;
}
