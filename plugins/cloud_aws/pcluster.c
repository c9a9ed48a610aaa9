/* Clusters through ParallelCluster's own CLI, `pcluster`: run with a fixed
 * argument vector (posix_spawn, never a shell), its standard output read as
 * the JSON its API defines (ParallelCluster 3's openapi.yaml: the 2xx
 * answer on success, the error's content on failure, exit status 1), its
 * standard error kept for the message when there is no JSON.  See ec2.h. */
#define _GNU_SOURCE /* pipe2, strptime, timegm */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "aws_ctx.h"
#include "ec2.h"

extern char **environ;

/* What one pcluster command may take: create answers once CloudFormation
   has the stack; a minute is generous, five leave room for a slow validator. */
#define PCLUSTER_TIMEOUT_S 300
#define PCLUSTER_OUT_MAX (16u << 20) /* a describe with a large configuration */

static int fail(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(struct petal_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		err->code = code;
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

/* ---- finding and running it --------------------------------------------------------- */

static int executable(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* $PETAL_PCLUSTER, else `pcluster` on PATH, into path. */
static int find_tool(char *path, size_t len, struct petal_error *err)
{
	const char *given = getenv("PETAL_PCLUSTER");
	if (given && *given) {
		if (!executable(given))
			return fail(err, PETAL_ENOENT, "PETAL_PCLUSTER=%s is not an executable file",
			            given);
		snprintf(path, len, "%s", given);
		return 0;
	}
	const char *p = getenv("PATH");
	while (p && *p) {
		size_t n = strcspn(p, ":");
		if (n > 0 && (size_t)snprintf(path, len, "%.*s/pcluster", (int)n, p) < len &&
		    executable(path))
			return 0;
		p += n + (p[n] == ':');
	}
	path[0] = '\0';
	return fail(err, PETAL_ENOENT, "ParallelCluster's CLI `pcluster` is not on PATH: install "
	            "it (pip install aws-parallelcluster, the version of cluster.pcluster_version)"
	            " or set PETAL_PCLUSTER to it");
}

struct output {
	char *out, *errtext;
	size_t out_len, err_len;
	int status; /* the exit status, or -1 killed */
};

static void output_clear(struct output *o)
{
	free(o->out);
	free(o->errtext);
	memset(o, 0, sizeof(*o));
}

static int grow_read(int fd, char **buf, size_t *len)
{
	char chunk[8192];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n <= 0)
		return n == 0 || (errno != EINTR && errno != EAGAIN) ? 0 : 1;
	if (*len + (size_t)n > PCLUSTER_OUT_MAX)
		return 1; /* the rest is dropped; the JSON will not parse and says so */
	char *b = realloc(*buf, *len + (size_t)n + 1);
	if (!b)
		return 1;
	memcpy(b + *len, chunk, (size_t)n);
	*len += (size_t)n;
	b[*len] = '\0';
	*buf = b;
	return 1;
}

/* Run argv (argv[0] the tool's path), stdin /dev/null, its output collected,
   at most timeout_s seconds (then killed). */
static int run(char *const argv[], int timeout_s, struct output *o, struct petal_error *err)
{
	int out[2], errp[2];
	memset(o, 0, sizeof(*o));
	if (pipe2(out, O_CLOEXEC) != 0)
		return fail(err, PETAL_EIO, "pcluster: pipe: %s", strerror(errno));
	if (pipe2(errp, O_CLOEXEC) != 0) {
		close(out[0]);
		close(out[1]);
		return fail(err, PETAL_EIO, "pcluster: pipe: %s", strerror(errno));
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	pid_t pid;
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	if (rc != 0) {
		close(out[0]);
		close(errp[0]);
		return fail(err, PETAL_EIO, "cannot run %s: %s", argv[0], strerror(rc));
	}
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct pollfd fds[2] = { { .fd = out[0], .events = POLLIN }, { .fd = errp[0],
	                                                               .events = POLLIN } };
	int open_fds = 2, killed = 0;
	while (open_fds > 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		long left_ms = (long)timeout_s * 1000 - ((now.tv_sec - t0.tv_sec) * 1000 +
		                                         (now.tv_nsec - t0.tv_nsec) / 1000000);
		if (left_ms <= 0) {
			kill(pid, SIGKILL);
			killed = 1;
			break;
		}
		if (poll(fds, 2, (int)(left_ms > 1000 ? 1000 : left_ms)) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			if (!grow_read(fds[i].fd, i == 0 ? &o->out : &o->errtext,
			               i == 0 ? &o->out_len : &o->err_len)) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			}
		}
	}
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	int ws;
	while (waitpid(pid, &ws, 0) < 0 && errno == EINTR)
		;
	o->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
	if (killed) {
		output_clear(o);
		return fail(err, PETAL_ETIMEOUT, "%s %s gave no answer in %d s; stopped it",
		            argv[0], argv[1], timeout_s);
	}
	return 0;
}

/* ---- one command and its JSON ---------------------------------------------------------- */

struct pc {
	struct aws_ctx *c;
	char tool[1024];
	const char *region;
};

static int pc_open(struct pc *p, void *ctx, struct petal_error *err)
{
	memset(p, 0, sizeof(*p));
	if (!ctx)
		return fail(err, PETAL_EINVAL, "pcluster: no aws context");
	p->c = ctx;
	int rc = aws_ctx_ready(p->c, err);
	if (rc != 0)
		return rc;
	p->region = p->c->config.region;
	return find_tool(p->tool, sizeof(p->tool), err);
}

/* The last line of text, for a message: at most 300 characters. */
static void tail_line(const char *text, char *buf, size_t len)
{
	const char *end = text ? text + strlen(text) : NULL;
	buf[0] = '\0';
	if (!end)
		return;
	while (end > text && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		end--;
	const char *start = end;
	while (start > text && start[-1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start > 300 ? 300 : end - start), start);
}

/* Run `pcluster CMD ARGS... --region R`; *json its answer (success or error
   content), *ok whether it exited 0.  No JSON at all is PETAL_ECLOUD with
   what it wrote to stderr. */
static int pc_call(struct pc *p, const char *const *args, json_t **json, int *ok,
                   struct petal_error *err)
{
	char *argv[24];
	size_t n = 0;
	argv[n++] = p->tool;
	for (; *args && n < 20; args++)
		argv[n++] = (char *)*args;
	argv[n++] = "--region";
	argv[n++] = (char *)p->region;
	argv[n] = NULL;
	struct output o;
	int rc = run(argv, PCLUSTER_TIMEOUT_S, &o, err);
	if (rc != 0)
		return rc;
	json_error_t je;
	*json = o.out ? json_loadb(o.out, o.out_len, 0, &je) : NULL;
	*ok = o.status == 0;
	if (!*json || !json_is_object(*json)) {
		char last[320];
		tail_line(o.errtext && *o.errtext ? o.errtext : o.out, last, sizeof(last));
		rc = fail(err, PETAL_ECLOUD, "%s %s (exit %d) printed no JSON answer%s%s",
		          p->tool, argv[1], o.status, last[0] ? ": " : "", last);
		json_decref(*json);
		*json = NULL;
	}
	output_clear(&o);
	return rc;
}

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

static void set(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

static int64_t iso_time(const char *s)
{
	struct tm tm = { 0 };
	const char *end = s && *s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	return end ? (int64_t)timegm(&tm) : 0;
}

/* A ClusterInfoSummary or a DescribeClusterResponseContent into out. */
static void read_cluster(const json_t *j, struct petal_cluster *out)
{
	struct petal_cluster c = { .size = sizeof(c) };
	set(c.name, sizeof(c.name), str(j, "clusterName"));
	set(c.region, sizeof(c.region), str(j, "region"));
	set(c.status, sizeof(c.status), str(j, "clusterStatus"));
	/* describe spells it cloudFormation..., the summaries cloudformation... */
	set(c.stack_status, sizeof(c.stack_status), *str(j, "cloudFormationStackStatus")
	                                                ? str(j, "cloudFormationStackStatus")
	                                                : str(j, "cloudformationStackStatus"));
	set(c.version, sizeof(c.version), str(j, "version"));
	const json_t *head = json_object_get(j, "headNode");
	set(c.head_node, sizeof(c.head_node), str(head, "instanceId"));
	set(c.head_node_ip, sizeof(c.head_node_ip), *str(head, "publicIpAddress")
	                                               ? str(head, "publicIpAddress")
	                                               : str(head, "privateIpAddress"));
	c.created = iso_time(str(j, "creationTime"));
	size_t i, used = 0;
	json_t *f;
	json_array_foreach(json_object_get(j, "failures"), i, f) {
		int w = snprintf(c.failure + used, sizeof(c.failure) - used, "%s%s: %s",
		                 used ? "; " : "", str(f, "failureCode"), str(f, "failureReason"));
		if (w < 0 || (size_t)w >= sizeof(c.failure) - used)
			break;
		used += (size_t)w;
	}
	json_t *t;
	json_array_foreach(json_object_get(j, "tags"), i, t) {
		if (c.n_tags == PETAL_IMAGE_MAX_TAGS) {
			c.tags_truncated = 1;
			break;
		}
		set(c.tags[c.n_tags].key, sizeof(c.tags[0].key), str(t, "key"));
		set(c.tags[c.n_tags].value, sizeof(c.tags[0].value), str(t, "value"));
		c.n_tags++;
	}
	size_t n = out->size && out->size < sizeof(c) ? out->size : sizeof(c);
	memcpy(out, &c, n);
	out->size = n;
}

/* Each {level, type, message} of a list to cb. */
static void messages(const json_t *list, petal_message_cb cb, void *arg)
{
	size_t i;
	json_t *m;
	if (!cb)
		return;
	json_array_foreach(list, i, m)
		cb(arg, str(m, "level"), str(m, "type"), str(m, "message"));
}

/* The error content's message, and for a refused configuration its errors,
   into err (the manager's own words). */
static int refusal(const json_t *j, const char *what, struct petal_error *err)
{
	const json_t *errors = json_object_get(j, "configurationValidationErrors");
	int code = json_array_size(errors) ? PETAL_EINVAL : PETAL_ECLOUD;
	if (strstr(str(j, "message"), "does not exist"))
		code = PETAL_ENOENT;
	fail(err, code, "pcluster %s: %s", what, *str(j, "message") ? str(j, "message")
	                                                                : "failed, saying nothing");
	size_t i, used = strlen(err->msg);
	json_t *m;
	json_array_foreach(errors, i, m) {
		int w = snprintf(err->msg + used, sizeof(err->msg) - used, "%s %s [%s] %s",
		                 i ? ";" : "", str(m, "level"), str(m, "type"), str(m, "message"));
		if (w < 0 || (size_t)w >= sizeof(err->msg) - used)
			break;
		used += (size_t)w;
	}
	return code;
}

/* ---- the ops ------------------------------------------------------------------------ */

static int name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;
	if (n == 0 || n > 60 || !((name[0] >= 'a' && name[0] <= 'z') ||
	                          (name[0] >= 'A' && name[0] <= 'Z')))
		return 0;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		      (*c >= '0' && *c <= '9') || *c == '-'))
			return 0;
	return 1;
}

#define NAME_RULE "a letter, then letters, digits and '-', at most 60"

int aws_cluster_create(void *ctx, const struct petal_cluster_request *req,
                       petal_message_cb cb, void *arg, struct petal_cluster *out,
                       struct petal_error *err)
{
	if (!req || !name_ok(req->name))
		return fail(err, PETAL_EINVAL, "cluster name '%s': give %s",
		            req && req->name ? req->name : "", NAME_RULE);
	if (!req->config_path || access(req->config_path, R_OK) != 0)
		return fail(err, PETAL_EINVAL, "cluster %s: its configuration '%s' cannot be read",
		            req->name, req->config_path ? req->config_path : "");
	struct pc p;
	int rc = pc_open(&p, ctx, err);
	if (rc != 0)
		return rc;
	const char *args[12] = { "create-cluster", "--cluster-name", req->name,
		                 "--cluster-configuration", req->config_path,
		                 "--rollback-on-failure", req->keep_on_failure ? "false" : "true" };
	if (req->dryrun) {
		args[7] = "--dryrun";
		args[8] = "true";
	}
	json_t *j;
	int ok;
	if ((rc = pc_call(&p, args, &j, &ok, err)) != 0)
		return rc;
	messages(json_object_get(j, "validationMessages"), cb, arg);
	/* a dry run that would have succeeded is DryrunOperationException */
	if (req->dryrun && strstr(str(j, "message"), "DryRun flag is set")) {
		ok = 1;
	} else if (!ok) {
		messages(json_object_get(j, "configurationValidationErrors"), cb, arg);
		rc = refusal(j, "create-cluster", err);
	} else if (out) {
		read_cluster(json_object_get(j, "cluster"), out);
	}
	json_decref(j);
	return rc;
}

/* `pcluster COMMAND --cluster-name NAME`: the cluster it answers with into
   out (describe's answer is the cluster, delete's holds it), or its refusal. */
static int one_cluster(void *ctx, const char *command, const char *name,
                       struct petal_cluster *out, struct petal_error *err)
{
	if (!name_ok(name))
		return fail(err, PETAL_EINVAL, "cluster name '%s': give %s", name ? name : "",
		            NAME_RULE);
	struct pc p;
	int rc = pc_open(&p, ctx, err);
	if (rc != 0)
		return rc;
	const char *args[] = { command, "--cluster-name", name, NULL };
	json_t *j;
	int ok;
	if ((rc = pc_call(&p, args, &j, &ok, err)) != 0)
		return rc;
	if (!ok)
		rc = refusal(j, command, err);
	else if (out)
		read_cluster(json_object_get(j, "cluster") ? json_object_get(j, "cluster") : j, out);
	json_decref(j);
	return rc;
}

int aws_cluster_describe(void *ctx, const char *name, struct petal_cluster *out,
                         struct petal_error *err)
{
	return one_cluster(ctx, "describe-cluster", name, out, err);
}

int aws_cluster_delete(void *ctx, const char *name, struct petal_error *err)
{
	return one_cluster(ctx, "delete-cluster", name, NULL, err);
}

int aws_cluster_list(void *ctx, int (*cb)(void *arg, const struct petal_cluster *c), void *arg,
                     struct petal_error *err)
{
	struct pc p;
	int rc = pc_open(&p, ctx, err);
	if (rc != 0)
		return rc;
	char *token = NULL;
	do {
		const char *args[4] = { "list-clusters" };
		if (token) {
			args[1] = "--next-token";
			args[2] = token;
		}
		json_t *j;
		int ok;
		if ((rc = pc_call(&p, args, &j, &ok, err)) != 0)
			break;
		if (!ok) {
			rc = refusal(j, "list-clusters", err);
		} else {
			size_t i;
			json_t *c;
			json_array_foreach(json_object_get(j, "clusters"), i, c) {
				struct petal_cluster cl = { .size = sizeof(cl) };
				read_cluster(c, &cl);
				if ((rc = cb(arg, &cl)) != 0)
					break;
			}
		}
		const char *next = rc == 0 ? str(j, "nextToken") : "";
		if (*next && token && strcmp(next, token) == 0)
			rc = fail(err, PETAL_ECLOUD, "pcluster list-clusters: the next page's token is "
			          "the one just used; stopping rather than looping");
		free(token);
		token = rc == 0 && *next ? strdup(next) : NULL;
		json_decref(j);
	} while (rc == 0 && token);
	free(token);
	return rc;
}

int aws_cluster_tool(void *ctx, char *version, size_t version_len, char *path,
                     size_t path_len, struct petal_error *err)
{
	char tool[1024];
	(void)ctx; /* `pcluster version` asks no region and no credentials */
	int rc = find_tool(tool, sizeof(tool), err);
	if (path && path_len)
		set(path, path_len, tool);
	if (rc != 0)
		return rc;
	char *argv[] = { tool, "version", NULL };
	struct output o;
	if ((rc = run(argv, 60, &o, err)) != 0)
		return rc;
	json_error_t je;
	json_t *j = o.out ? json_loadb(o.out, o.out_len, 0, &je) : NULL;
	const char *v = str(j, "version");
	if (o.status != 0 || !*v)
		rc = fail(err, PETAL_ECLOUD, "%s version (exit %d) did not say its version", tool,
		          o.status);
	else if (version && version_len)
		set(version, version_len, v);
	json_decref(j);
	output_clear(&o);
	return rc;
}
