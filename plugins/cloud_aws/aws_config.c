/* The aws cloud's settings: the shared INI files, the region and the
 * endpoint of each service, in the AWS SDKs' order (see config.h). */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "aws_config.h"
#include "sigv4.h"

#define MAX_FILE_BYTES (1 << 20)

__attribute__((format(printf, 3, 4)))
static int fail(struct petal_error *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		petal_error_vset(err, code, fmt, ap);
		va_end(ap);
	}
	return code;
}

static const char *env(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? v : NULL;
}

/* ---- paths --------------------------------------------------------------- */

static char *home_dir(void)
{
	const char *h = env("HOME");
	if (h)
		return strdup(h);
	struct passwd pw, *res = NULL;
	char buf[4096];
	if (getpwuid_r(getuid(), &pw, buf, sizeof(buf), &res) == 0 && res && res->pw_dir)
		return strdup(res->pw_dir);
	return NULL;
}

char *aws_shared_file_path(enum aws_file_kind kind)
{
	const char *given = env(kind == AWS_FILE_CONFIG ? "AWS_CONFIG_FILE"
	                                                : "AWS_SHARED_CREDENTIALS_FILE");
	const char *rest = kind == AWS_FILE_CONFIG ? "/.aws/config" : "/.aws/credentials";
	if (given && !(given[0] == '~' && (given[1] == '/' || given[1] == '\0')))
		return strdup(given);
	if (given)
		rest = given + 1;
	char *home = home_dir();
	if (!home)
		return NULL;
	char *path = NULL;
	if (asprintf(&path, "%s%s", home, rest) < 0)
		path = NULL;
	free(home);
	return path;
}

const char *aws_profile_name(void)
{
	const char *p = env("AWS_PROFILE");
	if (!p)
		p = env("AWS_DEFAULT_PROFILE");
	return p ? p : "default";
}

/* ---- INI ------------------------------------------------------------------- */

static char *read_small_file(const char *path, int *missing, struct petal_error *err)
{
	*missing = 0;
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (errno == ENOENT || errno == ENOTDIR) {
			*missing = 1;
			return NULL;
		}
		fail(err, PETAL_EIO, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *buf = malloc(MAX_FILE_BYTES + 1);
	size_t n = buf ? fread(buf, 1, MAX_FILE_BYTES + 1, f) : 0;
	int bad = buf && ferror(f);
	fclose(f);
	if (!buf) {
		fail(err, PETAL_ENOMEM, "%s: out of memory", path);
		return NULL;
	}
	if (bad || n > MAX_FILE_BYTES) {
		fail(err, bad ? PETAL_EIO : PETAL_EINVAL, bad ? "%s: cannot read (is it a "
		     "directory?)" : "%s: larger than 1 MiB; not an AWS config file", path);
		OPENSSL_cleanse(buf, n);
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		fail(err, PETAL_EINVAL, "%s: holds a NUL byte; not a text file", path);
		OPENSSL_cleanse(buf, n);
		free(buf);
		return NULL;
	}
	return buf;
}

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		s[--n] = '\0';
	return s;
}

/* Is section header text `sec` the profile `name` in a file of `kind`? */
static int section_is(const char *sec, enum aws_file_kind kind, const char *name)
{
	if (kind == AWS_FILE_CREDENTIALS)
		return strcmp(sec, name) == 0;
	if (strcmp(name, "default") == 0 && strcmp(sec, "default") == 0)
		return 1;
	if (strncmp(sec, "profile", 7) != 0 || (sec[7] != ' ' && sec[7] != '\t'))
		return 0;
	const char *p = sec + 7;
	while (*p == ' ' || *p == '\t')
		p++;
	return strcmp(p, name) == 0;
}

static int add_entry(struct aws_profile *out, const char *key, const char *value,
                     int line)
{
	for (size_t i = 0; i < out->n; i++)
		if (strcmp(out->entries[i].key, key) == 0) {
			/* a later line wins */
			char *v = strdup(value);
			if (!v)
				return PETAL_ENOMEM;
			OPENSSL_cleanse(out->entries[i].value, strlen(out->entries[i].value));
			free(out->entries[i].value);
			out->entries[i].value = v;
			out->entries[i].line = line;
			return 0;
		}
	struct aws_ini_entry *e = realloc(out->entries, (out->n + 1) * sizeof(*e));
	if (!e)
		return PETAL_ENOMEM;
	out->entries = e;
	e[out->n] = (struct aws_ini_entry){ strdup(key), strdup(value), line };
	if (!e[out->n].key || !e[out->n].value) {
		free(e[out->n].key);
		free(e[out->n].value);
		return PETAL_ENOMEM;
	}
	out->n++;
	return 0;
}

int aws_profile_read(const char *path, enum aws_file_kind kind, const char *profile,
                     struct aws_profile *out, struct petal_error *err)
{
	*out = (struct aws_profile){ 0 };
	if (!(out->path = strdup(path)))
		return fail(err, PETAL_ENOMEM, "out of memory");
	int missing, rc = 0;
	char *text = read_small_file(path, &missing, err);
	if (!text)
		return missing ? 0 : err->code;
	size_t text_len = strlen(text);

	int lineno = 0, in_section = 0, have_section = 0, after_key = 0;
	char parent[128] = "";
	for (char *line = text, *next; line; line = next) {
		char *nl = strchr(line, '\n');
		next = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		int indented = *line == ' ' || *line == '\t';
		char *s = trim(line);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[' && !indented) {
			/* "[name]", maybe followed by a comment */
			char *close = strchr(s, ']');
			char *after = close ? trim(close + 1) : NULL;
			if (!close || (*after && *after != '#' && *after != ';')) {
				rc = fail(err, PETAL_EINVAL, "%s:%d: a section header is "
				          "'[name]' on a line of its own", path, lineno);
				goto out_with_text;
			}
			*close = '\0';
			char *sec = trim(s + 1);
			have_section = 1;
			in_section = section_is(sec, kind, profile);
			out->found |= in_section;
			parent[0] = '\0';
			after_key = 0;
			continue;
		}
		char *delim = s + strcspn(s, "=:");
		if (!*delim && indented && after_key)
			continue; /* a continuation line of the previous value */
		if (!*delim || delim == s) {
			rc = fail(err, PETAL_EINVAL, "%s:%d: expected '[section]', 'key = value' "
			          "or a comment ('#' or ';')", path, lineno);
			goto out_with_text;
		}
		if (!have_section) {
			rc = fail(err, PETAL_EINVAL, "%s:%d: 'key = value' before any [section]",
			          path, lineno);
			goto out_with_text;
		}
		*delim = '\0';
		after_key = 1;
		char *key = trim(s), *value = trim(delim + 1);
		for (char *k = key; *k; k++)
			*k = (char)tolower((unsigned char)*k);
		char full[300];
		if (indented && parent[0])
			snprintf(full, sizeof(full), "%s.%s", parent, key);
		else {
			snprintf(full, sizeof(full), "%s", key);
			/* "s3 =" with nothing after opens indented sub-properties */
			snprintf(parent, sizeof(parent), "%s", *value ? "" : key);
		}
		if (in_section && (rc = add_entry(out, full, value, lineno)) != 0) {
			rc = fail(err, PETAL_ENOMEM, "%s: out of memory", path);
			goto out_with_text;
		}
	}
out_with_text:
	/* the text held secrets */
	OPENSSL_cleanse(text, text_len);
	free(text);
	return rc;
}

const char *aws_profile_get(const struct aws_profile *p, const char *key)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->entries[i].key, key) == 0)
			return p->entries[i].value;
	return NULL;
}

int aws_profile_line(const struct aws_profile *p, const char *key)
{
	for (size_t i = 0; p && i < p->n; i++)
		if (strcmp(p->entries[i].key, key) == 0)
			return p->entries[i].line;
	return 0;
}

void aws_profile_clear(struct aws_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		OPENSSL_cleanse(p->entries[i].value, strlen(p->entries[i].value));
		free(p->entries[i].key);
		free(p->entries[i].value);
	}
	free(p->entries);
	free(p->path);
	*p = (struct aws_profile){ 0 };
}

/* ---- endpoints ------------------------------------------------------------- */

static const struct {
	const char *id, *signing_name, *host_prefix;
} services[AWS_SVC_COUNT] = {
	[AWS_SVC_S3] = { "S3", "s3", "s3" },
	[AWS_SVC_EC2] = { "EC2", "ec2", "ec2" },
	[AWS_SVC_ECR] = { "ECR", "ecr", "api.ecr" },
	[AWS_SVC_STS] = { "STS", "sts", "sts" },
	[AWS_SVC_IAM] = { "IAM", "iam", NULL }, /* global: see global_endpoint */
};

/* A global service's one endpoint in the region's partition, and the region
   it is signed for (IAM's: the partition's home region). */
static void global_endpoint(const char *region, char *url, size_t len, char *signing,
                            size_t signing_len)
{
	if (strncmp(region, "cn-", 3) == 0) {
		snprintf(url, len, "https://iam.cn-north-1.amazonaws.com.cn");
		snprintf(signing, signing_len, "cn-north-1");
	} else if (strncmp(region, "us-gov-", 7) == 0) {
		snprintf(url, len, "https://iam.us-gov.amazonaws.com");
		snprintf(signing, signing_len, "us-gov-west-1");
	} else {
		snprintf(url, len, "https://iam.amazonaws.com");
		snprintf(signing, signing_len, "us-east-1");
	}
}

void aws_endpoint_env_name(const char *service_id, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "AWS_ENDPOINT_URL_");
	for (const char *c = service_id; *c && n + 1 < len; c++)
		buf[n++] = *c == ' ' ? '_' : (char)toupper((unsigned char)*c);
	if (n < len)
		buf[n] = '\0';
}

static int host_char(unsigned char c)
{
	return isalnum(c) || c == '.' || c == '-' || c == '_';
}

int aws_endpoint_parse(const char *url, struct aws_endpoint *ep, struct petal_error *err)
{
	const char *p;
	if (strncasecmp(url, "https://", 8) == 0) {
		ep->tls = 1;
		p = url + 8;
	} else if (strncasecmp(url, "http://", 7) == 0) {
		ep->tls = 0;
		p = url + 7;
	} else
		return fail(err, PETAL_EINVAL, "endpoint URL '%s' must start with http:// or "
		            "https://", url);
	size_t alen = strcspn(p, "/");
	const char *path = p + alen;
	if (strpbrk(url, "?# \t\r\n@"))
		return fail(err, PETAL_EINVAL, "endpoint URL '%s' may hold a scheme, a host, a "
		            "port and a path, nothing else", url);
	/* host: a name, an IPv4 address or a bracketed IPv6 address */
	const char *h = p, *he;
	if (*h == '[') {
		he = memchr(h, ']', alen);
		if (!he)
			return fail(err, PETAL_EINVAL, "endpoint URL '%s': unclosed '['", url);
		he++;
	} else {
		for (he = h; he < p + alen && host_char((unsigned char)*he); he++)
			;
	}
	if (he == h)
		return fail(err, PETAL_EINVAL, "endpoint URL '%s' has no host", url);
	long port = 0;
	if (he < p + alen) {
		char *end;
		if (*he != ':' || !isdigit((unsigned char)he[1]))
			return fail(err, PETAL_EINVAL, "endpoint URL '%s': bad host or port", url);
		port = strtol(he + 1, &end, 10);
		if (end != p + alen || port < 1 || port > 65535)
			return fail(err, PETAL_EINVAL, "endpoint URL '%s': bad port", url);
	}
	size_t plen = strlen(path);
	while (plen && path[plen - 1] == '/')
		plen--;
	int default_port = port == 0 || port == (ep->tls ? 443 : 80);
	size_t hlen = default_port ? (size_t)(he - h) : alen;
	if (hlen >= sizeof(ep->host) || plen >= sizeof(ep->base_path) ||
	    (size_t)(p - url) + alen + plen >= sizeof(ep->url))
		return fail(err, PETAL_EINVAL, "endpoint URL '%s' is too long", url);
	snprintf(ep->host, sizeof(ep->host), "%.*s", (int)hlen, h);
	snprintf(ep->base_path, sizeof(ep->base_path), "%.*s", (int)plen, path);
	snprintf(ep->url, sizeof(ep->url), "%.*s%.*s", (int)(p - url + (ptrdiff_t)alen), url,
	         (int)plen, path);
	return 0;
}

static int region_ok(const char *r)
{
	size_t n = strlen(r);
	if (n == 0 || n > 63 || !isalnum((unsigned char)r[0]))
		return 0;
	for (; *r; r++)
		if (!islower((unsigned char)*r) && !isdigit((unsigned char)*r) && *r != '-')
			return 0;
	return 1;
}

static int truthy(const char *v)
{
	return v && strcasecmp(v, "true") == 0;
}

static int load_endpoints(struct aws_config *cfg, const struct aws_profile *prof,
                          const char *profile, struct petal_error *err)
{
	int ignore = truthy(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) ||
	             truthy(aws_profile_get(prof, "ignore_configured_endpoint_urls"));
	const char *suffix = strncmp(cfg->region, "cn-", 3) == 0 ? "amazonaws.com.cn"
	                                                           : "amazonaws.com";
	for (int s = 0; s < AWS_SVC_COUNT; s++) {
		struct aws_endpoint *ep = &cfg->endpoint[s];
		char name[96];
		*ep = (struct aws_endpoint){ .service_id = services[s].id,
		                             .signing_name = services[s].signing_name };
		aws_endpoint_env_name(services[s].id, name, sizeof(name));
		char def[256];
		if (!services[s].host_prefix)
			global_endpoint(cfg->region, def, sizeof(def), ep->signing_region,
			                sizeof(ep->signing_region));
		else
			snprintf(def, sizeof(def), "https://%s.%s.%s", services[s].host_prefix,
			         cfg->region, suffix);
		const char *url = NULL;
		if (!ignore && (url = env(name)))
			snprintf(ep->source, sizeof(ep->source), "%s", name);
		else if (!ignore && (url = env("AWS_ENDPOINT_URL")))
			snprintf(ep->source, sizeof(ep->source), "AWS_ENDPOINT_URL");
		else if (!ignore && (url = aws_profile_get(prof, "endpoint_url")))
			snprintf(ep->source, sizeof(ep->source), "endpoint_url of profile '%.40s'"
			         " (line %d)", profile, aws_profile_line(prof, "endpoint_url"));
		if (url) {
			int rc = aws_endpoint_parse(url, ep, err);
			if (rc != 0) {
				size_t l = strlen(err->msg);
				snprintf(err->msg + l, sizeof(err->msg) - l, " (from %s)", ep->source);
				return rc;
			}
			ep->custom = 1;
			/* moto, MinIO and the like serve buckets under the path */
			ep->path_style = s == AWS_SVC_S3;
			continue;
		}
		if (aws_endpoint_parse(def, ep, err) != 0)
			return err->code;
		snprintf(ep->source, sizeof(ep->source), "default");
	}
	return 0;
}

int aws_config_load(struct aws_config *cfg, const char *seed_region,
                    struct petal_error *err)
{
	struct aws_profile prof = { 0 };
	int rc;
	*cfg = (struct aws_config){ 0 };
	const char *profile = aws_profile_name();
	if (strlen(profile) >= sizeof(cfg->profile))
		return fail(err, PETAL_EINVAL, "AWS profile name is longer than %zu characters",
		            sizeof(cfg->profile) - 1);
	snprintf(cfg->profile, sizeof(cfg->profile), "%s", profile);

	char *path = aws_shared_file_path(AWS_FILE_CONFIG);
	if (path && (rc = aws_profile_read(path, AWS_FILE_CONFIG, profile, &prof, err)) != 0)
		goto out_with_profile;

	const char *region = NULL;
	if (seed_region && *seed_region) {
		region = seed_region;
		snprintf(cfg->region_source, sizeof(cfg->region_source),
		         "petal: --region or the seed's cluster.region");
	} else if ((region = env("AWS_REGION")))
		snprintf(cfg->region_source, sizeof(cfg->region_source), "AWS_REGION");
	else if ((region = env("AWS_DEFAULT_REGION")))
		snprintf(cfg->region_source, sizeof(cfg->region_source), "AWS_DEFAULT_REGION");
	else if ((region = aws_profile_get(&prof, "region")))
		snprintf(cfg->region_source, sizeof(cfg->region_source),
		         "region of profile '%s' in %s:%d", profile, prof.path,
		         aws_profile_line(&prof, "region"));
	if (!region) {
		rc = fail(err, PETAL_EINVAL, "no AWS region: give --region, set cluster.region in "
		          "the seed, or AWS_REGION, or 'region' in profile '%s' of %s", profile,
		          path ? path : "~/.aws/config");
		goto out_with_profile;
	}
	if (!region_ok(region)) {
		rc = fail(err, PETAL_EINVAL, "AWS region '%.64s' (from %s) is not a region name "
		          "such as eu-west-1", region, cfg->region_source);
		goto out_with_profile;
	}
	snprintf(cfg->region, sizeof(cfg->region), "%s", region);
	rc = load_endpoints(cfg, &prof, profile, err);
out_with_profile:
	aws_profile_clear(&prof);
	free(path);
	return rc;
}

const struct aws_endpoint *aws_endpoint(const struct aws_config *cfg, enum aws_service svc)
{
	return (int)svc >= 0 && svc < AWS_SVC_COUNT ? &cfg->endpoint[svc] : NULL;
}

/* ---- S3 addressing ---------------------------------------------------------- */

/* Can the bucket be the first label of a host name under TLS (no dots)? */
static int dns_label_bucket(const char *b, size_t n)
{
	if (n < 3 || n > 63 || !isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!islower((unsigned char)b[i]) && !isdigit((unsigned char)b[i]) && b[i] != '-')
			return 0;
	return 1;
}

int aws_s3_locate(const struct aws_config *cfg, const char *bucket, const char *key,
                  struct aws_s3_location *out, struct petal_error *err)
{
	const struct aws_endpoint *ep = &cfg->endpoint[AWS_SVC_S3];
	*out = (struct aws_s3_location){ 0 };
	size_t bn = bucket ? strlen(bucket) : 0;
	int ok = bn > 0 && bn <= 255;
	for (size_t i = 0; ok && i < bn; i++)
		ok = isalnum((unsigned char)bucket[i]) || strchr(".-_", bucket[i]);
	if (!ok)
		return fail(err, PETAL_EINVAL, "'%.255s' is not an S3 bucket name (letters, "
		            "digits, '.', '-', at most 63 characters)", bucket ? bucket : "");
	char *ekey = sigv4_uri_encode(key ? key : "", key ? strlen(key) : 0, 1);
	if (!ekey)
		return fail(err, PETAL_ENOMEM, "out of memory");
	int virtual_host = !ep->path_style && dns_label_bucket(bucket, bn);
	int r;
	if (virtual_host) {
		snprintf(out->host, sizeof(out->host), "%s.%s", bucket, ep->host);
		r = asprintf(&out->path, "/%s", ekey);
	} else {
		snprintf(out->host, sizeof(out->host), "%s", ep->host);
		r = asprintf(&out->path, "%s/%s%s%s", ep->base_path, bucket, *ekey ? "/" : "",
		             ekey);
	}
	free(ekey);
	if (r < 0) {
		out->path = NULL;
		return fail(err, PETAL_ENOMEM, "out of memory");
	}
	if (asprintf(&out->url, "%s://%s%s", ep->tls ? "https" : "http", out->host,
	             out->path) < 0) {
		out->url = NULL;
		aws_s3_location_clear(out);
		return fail(err, PETAL_ENOMEM, "out of memory");
	}
	return 0;
}

void aws_s3_location_clear(struct aws_s3_location *loc)
{
	if (!loc)
		return;
	free(loc->url);
	free(loc->path);
	*loc = (struct aws_s3_location){ 0 };
}
