/* `petal cache`: the mirror URL, and core/cache's mirror io over whichever
   cloud plugin serves the URL's scheme (s3:// the cloud "aws", file:// the
   cloud "local"), with progress on a terminal. */
#include "config.h"

#include "cache_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/util.h"

/* ---- URLs -------------------------------------------------------------------- */

static int unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode s, keeping '/' (a path). */
static void encode_path(struct petal_strbuf *sb, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (unreserved(*p) || *p == '/')
			petal_strbuf_putc(sb, (char)*p);
		else
			petal_strbuf_printf(sb, "%%%02X", *p);
	}
}

static void strip_slashes(char *s, size_t keep)
{
	size_t l = strlen(s);
	while (l > keep && s[l - 1] == '/')
		s[--l] = '\0';
}

/* "." and ".." and empty components: the local cloud refuses them in
   object URLs, so say so now, as a usage error, not at the first read. */
static int plain_path(const char *p)
{
	for (const char *c = p + 1; *c;) {
		size_t n = strcspn(c, "/");
		int last = c[n] == '\0' || (c[n] == '/' && strspn(c + n, "/") == strlen(c + n));
		if ((n == 0 && !last) || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return 0;
		if (last)
			break;
		c += n + 1;
	}
	return 1;
}

int petal_cli_cache_url(const char *arg, char **url, struct petal_error *err)
{
	*url = NULL;
	if (!arg || !*arg)
		return petal_fail(err, PETAL_EINVAL, "--url needs a mirror: s3://bucket/prefix or "
		                  "file:///abs/dir");
	if ((arg[0] == '/' && !plain_path(arg)) ||
	    (!strncmp(arg, "file:///", 8) && !plain_path(arg + 7)))
		return petal_fail(err, PETAL_EINVAL, "'%s': write the mirror's path in its plain "
		                  "form, without '.', '..' or '//'", arg);
	if (arg[0] == '/') {
		struct petal_strbuf sb = PETAL_STRBUF_INIT;
		petal_strbuf_puts(&sb, "file://");
		encode_path(&sb, arg);
		*url = petal_strbuf_detach(&sb);
		strip_slashes(*url, strlen("file:///"));
		return 0;
	}
	if (!strncmp(arg, "s3://", 5)) {
		const char *b = arg + 5;
		size_t blen = strcspn(b, "/");
		if (blen == 0)
			return petal_fail(err, PETAL_EINVAL, "'%s': no bucket after s3:// (write "
			                  "s3://bucket/prefix)", arg);
		for (size_t i = 0; i < blen; i++)
			if (!unreserved((unsigned char)b[i]) || b[i] == '~')
				return petal_fail(err, PETAL_EINVAL, "'%s': '%.*s' is not an S3 bucket "
				                  "name (letters, digits, '.', '-' and '_')", arg,
				                  (int)blen, b);
		char *prefix;
		const char *why = petal_key_prefix_normalize(b + blen, &prefix);
		if (why)
			return petal_fail(err, PETAL_EINVAL, "'%s': the key prefix cannot be one: %s",
			                  arg, why);
		*url = petal_xasprintf("s3://%.*s%s%s", (int)blen, b, *prefix ? "/" : "", prefix);
		free(prefix);
		return 0;
	}
	if (!strncmp(arg, "file://", 7)) {
		const char *p = arg + 7;
		if (!strncmp(p, "localhost/", 10))
			p += 9;
		if (*p != '/')
			return petal_fail(err, PETAL_EINVAL, "'%s': a file:// mirror needs an absolute "
			                  "path: file:///abs/dir (three slashes)", arg);
		*url = petal_xstrdup(arg);
		strip_slashes(*url, (size_t)(p - arg) + 1);
		return 0;
	}
	if (strstr(arg, "://"))
		return petal_fail(err, PETAL_EINVAL, "'%s': petal reads mirrors at s3:// (cloud "
		                  "'aws') and file:// (cloud 'local') URLs only", arg);
	return petal_fail(err, PETAL_EINVAL, "'%s' is a relative path; give the mirror as "
	                  "file:///abs/dir, an absolute path, or s3://bucket/prefix", arg);
}

char *petal_cli_cache_url_s3(const char *bucket, const char *prefix)
{
	char *clean;
	/* callers pass prefixes already checked; one that is not is used as given */
	if (petal_key_prefix_normalize(prefix ? prefix : "", &clean) != NULL)
		clean = petal_xstrdup(prefix);
	char *u = petal_xasprintf("s3://%s%s%s", bucket, *clean ? "/" : "", clean);
	free(clean);
	return u;
}

int petal_cli_cache_target(const struct petal_cli *cli, const char *seed_path, const char *url_arg,
                       int need_mirror, struct petal_seed **seed, char **url)
{
	struct petal_error err = { 0 };
	*seed = NULL;
	*url = NULL;
	if (url_arg && petal_cli_cache_url(url_arg, url, &err) != 0) {
		petal_cli_error(cli, "%s", err.msg);
		return PETAL_EXIT_USAGE;
	}
	if (seed_path) {
		int status = petal_cli_load_seed(cli, seed_path, seed);
		if (status) {
			free(*url);
			*url = NULL;
			return status;
		}
		if (!*url && (*seed)->cache_bucket)
			*url = petal_cli_cache_url_s3((*seed)->cache_bucket, (*seed)->cache_prefix);
	}
	if (!*url && need_mirror) {
		if (*seed)
			petal_cli_error(cli, "%s has no software.binary_cache.s3_bucket: give the "
			                "mirror with --url s3://bucket/prefix or --url file:///dir",
			                seed_path);
		else
			petal_cli_error(cli, "which mirror? give -t SEED (its software.binary_cache) "
			                "or --url s3://bucket/prefix | file:///dir");
		petal_seed_free(*seed);
		*seed = NULL;
		return PETAL_EXIT_USAGE;
	}
	return 0;
}

/* ---- progress ----------------------------------------------------------------- */

void petal_cli_cache_progress_init(struct petal_cli_cache_progress *p, const struct petal_cli *cli)
{
	memset(p, 0, sizeof(*p));
	p->on = cli->verbosity >= 1 && isatty(STDERR_FILENO);
	clock_gettime(CLOCK_MONOTONIC, &p->start);
}

static double since(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

void petal_cli_cache_progress_show(void *arg, const char *stage, uint64_t done, uint64_t total,
                             uint64_t bytes)
{
	struct petal_cli_cache_progress *p = arg;
	if (!p || !p->on)
		return;
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	int stage_changed = !p->stage || strcmp(p->stage, stage) != 0;
	p->stage = stage;
	p->objects = done;
	p->total = total;
	p->bytes = bytes;
	if (!stage_changed && !(total && done >= total) && p->printed && since(&p->last, &now) < 0.1)
		return;
	p->last = now;
	double secs = since(&p->start, &now);
	char b[32], r[32];
	petal_cli_cache_bytes(bytes, b, sizeof(b));
	petal_cli_cache_bytes(secs > 0.05 ? (uint64_t)((double)bytes / secs) : 0, r, sizeof(r));
	if (total)
		fprintf(stderr, "\r\033[K%s: %llu/%llu objects, %s, %s/s", stage,
		        (unsigned long long)done, (unsigned long long)total, b, r);
	else
		fprintf(stderr, "\r\033[K%s: %llu object%s, %s, %s/s", stage,
		        (unsigned long long)done, done == 1 ? "" : "s", b, r);
	fflush(stderr);
	p->printed = 1;
}

void petal_cli_cache_progress_done(struct petal_cli_cache_progress *p)
{
	if (p && p->on && p->printed) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
		p->printed = 0;
	}
}

/* ---- io over the cloud's object ops ---------------------------------------- */

char *petal_cli_cache_object_url(const struct petal_cli_cache_mirror *m, const char *rel)
{
	struct petal_strbuf sb = PETAL_STRBUF_INIT;
	petal_strbuf_puts(&sb, m->url);
	if (sb.len && sb.buf[sb.len - 1] != '/' && *rel)
		petal_strbuf_putc(&sb, '/');
	/* file:// URLs carry percent-encoded paths; s3:// URLs carry keys as
	   they are (the aws plugin encodes them for the request) */
	if (m->encode)
		encode_path(&sb, rel);
	else
		petal_strbuf_puts(&sb, rel);
	return petal_strbuf_detach(&sb);
}

static int io_get(void *arg, const char *rel, const char *local_path, struct petal_error *err)
{
	struct petal_cli_cache_mirror *m = arg;
	char *u = petal_cli_cache_object_url(m, rel);
	int rc = petal_cloud_object_get(&m->door, u, local_path, err);
	free(u);
	if (rc == 0 && m->progress) {
		struct stat st;
		uint64_t n = stat(local_path, &st) == 0 ? (uint64_t)st.st_size : 0;
		petal_cli_cache_progress_show(m->progress, "downloading", m->progress->objects + 1, 0,
		                        m->progress->bytes + n);
	}
	return rc;
}

struct list_wrap {
	struct petal_cli_cache_mirror *m;
	petal_object_cb cb;
	void *arg;
	uint64_t objects, bytes;
};

static int on_listed(void *arg, const struct petal_object_info *obj)
{
	struct list_wrap *w = arg;
	w->objects++;
	w->bytes += obj->bytes;
	if (w->m->progress && (w->objects == 1 || (w->objects & 255) == 0))
		petal_cli_cache_progress_show(w->m->progress, "listing", w->objects, 0, w->bytes);
	return w->cb(w->arg, obj);
}

static int io_list(void *arg, const char *rel_dir, petal_object_cb cb, void *cb_arg,
                   struct petal_error *err)
{
	struct petal_cli_cache_mirror *m = arg;
	/* a prefix ending with '/': keys come back relative to the directory */
	char *u = petal_cli_cache_object_url(m, rel_dir);
	if (!*u || u[strlen(u) - 1] != '/') {
		char *t = petal_xasprintf("%s/", u);
		free(u);
		u = t;
	}
	struct list_wrap w = { .m = m, .cb = cb, .arg = cb_arg };
	int rc = petal_cloud_object_list(&m->door, u, on_listed, &w, err);
	free(u);
	return rc;
}

static int io_put(void *arg, const char *rel, const char *local_path, struct petal_error *err)
{
	struct petal_cli_cache_mirror *m = arg;
	char *u = petal_cli_cache_object_url(m, rel);
	int rc = petal_cloud_object_put(&m->door, u, local_path, err);
	free(u);
	return rc;
}

static int io_del(void *arg, const char *const *rels, size_t n, struct petal_error *err)
{
	struct petal_cli_cache_mirror *m = arg;
	char **urls = petal_xcalloc(n ? n : 1, sizeof(*urls));
	for (size_t i = 0; i < n; i++)
		urls[i] = petal_cli_cache_object_url(m, rels[i]);
	int rc = petal_cloud_object_delete(&m->door, (const char *const *)urls, n, err);
	for (size_t i = 0; i < n; i++)
		free(urls[i]);
	free(urls);
	return rc;
}

static int io_local_path(void *arg, const char *rel, char **path, struct petal_error *err)
{
	struct petal_cli_cache_mirror *m = arg;
	return m->local.local_path(m->local.arg, rel, path, err);
}

int petal_cli_cache_mirror_open(struct petal_registry *reg, const char *url,
                            struct petal_cli_cache_mirror *m, struct petal_error *err)
{
	memset(m, 0, sizeof(*m));
	const char *cloud = !strncmp(url, "s3://", 5) ? "aws"
	                  : !strncmp(url, "file://", 7) ? "local" : NULL;
	if (!cloud)
		return petal_fail(err, PETAL_EINVAL, "'%s': no cloud plugin serves this scheme "
		                  "(s3:// -> aws, file:// -> local)", url);
	struct petal_entry *e = petal_registry_find(reg, PETAL_KIND_CLOUD, cloud);
	if (!e)
		return petal_fail(err, PETAL_EPLUGIN, "%s needs the cloud plugin '%s', which is not "
		                  "installed or not active; see 'petal plugins list --all'", url, cloud);
	int rc = petal_entry_init(e, reg->host, err);
	if (rc)
		return rc;
	const struct petal_cloud_ops *ops = e->desc->ops.cloud;
	if (!ops || !(ops->caps & PETAL_CAP_OBJECTS) || !PETAL_HAS(ops, object_delete) ||
	    !ops->bucket_ensure || !ops->object_get || !ops->object_put || !ops->object_list ||
	    !ops->object_delete)
		return petal_fail(err, PETAL_EPLUGIN, "the cloud plugin '%s' (%s) cannot store "
		                  "objects, so it cannot serve %s", cloud, e->path, url);
	m->url = petal_xstrdup(url);
	m->cloud = cloud;
	petal_cloud_from_entry(&m->door, e, reg->host);
	m->encode = !strncmp(url, "file://", 7);
	m->io = (struct petal_mirror_io){
		.arg = m,
		.url = m->url,
		.get = io_get,
		.list = io_list,
		.put = io_put,
		.del = io_del,
		.local_path = NULL,
	};
	/* Reads of a local mirror may skip the copy (a 150 MB index is read in
	   place); URLs with escapes are left to the plugin, which decodes them. */
	struct petal_error ignored = { 0 };
	if (m->encode && !strchr(url, '%') &&
	    petal_mirror_file_open(url, &m->local, &ignored) == 0 && m->local.local_path)
		m->io.local_path = io_local_path;
	return 0;
}

void petal_cli_cache_mirror_close(struct petal_cli_cache_mirror *m)
{
	if (!m)
		return;
	petal_mirror_file_close(&m->local);
	free(m->url);
	memset(m, 0, sizeof(*m));
}

/* ---- output helpers ------------------------------------------------------------ */

const char *petal_cli_cache_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t u = 0;
	while (v >= 1024 && u + 1 < PETAL_ARRAY_SIZE(units)) {
		v /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

const char *petal_cli_cache_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;
	if (t <= 0 || !gmtime_r(&tt, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm))
		snprintf(buf, len, "-");
	return buf;
}

int petal_cli_cache_exit_for(int code)
{
	return code == PETAL_ENOTSUP || code == PETAL_EPLUGIN ? PETAL_EXIT_PLUGIN
	                                                        : PETAL_EXIT_FAILURE;
}
