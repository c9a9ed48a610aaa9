/* AWS credentials: the environment, the shared files, the instance role
 * through IMDSv2, in the SDKs' order (see credentials.h).  Secrets are
 * wiped before their memory is freed and never written into a message. */
#define _GNU_SOURCE /* asprintf, timegm */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "aws_config.h"
#include "credentials.h"

#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"
#define IMDS_TOKEN_TTL "21600"

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

static void wipe_free(char *s)
{
	if (s) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
	}
}

const char *aws_redact_key_id(const char *id, char *buf, size_t len)
{
	size_t n = id ? strlen(id) : 0;
	if (n >= 16)
		snprintf(buf, len, "%.4s\u2026%s", id, id + n - 4);
	else if (n >= 8)
		snprintf(buf, len, "\u2026%s", id + n - 4);
	else
		snprintf(buf, len, "\u2026");
	return buf;
}

void aws_credentials_free(struct aws_credentials *c)
{
	if (!c)
		return;
	wipe_free(c->access_key_id);
	wipe_free(c->secret_access_key);
	wipe_free(c->session_token);
	OPENSSL_cleanse(c, sizeof(*c));
	free(c);
}

int aws_credentials_expiring(const struct aws_credentials *c, time_t now, int margin_s)
{
	return c && c->expiration && (int64_t)now + margin_s >= c->expiration;
}

/* A blank or a control character (bytes past ASCII are left alone). */
static int blank_or_control(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* Only what cannot be a key is refused: S3-compatible stores use other
   shapes than AWS's 16 to 128 letters and digits (MinIO's default key id
   is "minioadmin"), so an empty value, a blank or a control character (a
   header line smuggled in) is refused, and a '/' in the key id, which would
   split the signature's credential scope.  The message never shows the
   value (a swapped key id may be the secret). */
static int check_parts(const char *id, const char *secret, const char *token,
                       const char *where, struct petal_error *err)
{
	if (!*id)
		return fail(err, PETAL_EINVAL, "%s: the access key id is empty", where);
	for (const char *c = id; *c; c++)
		if (blank_or_control((unsigned char)*c) || *c == '/')
			return fail(err, PETAL_EINVAL, "%s: the access key id holds a blank, a "
			            "control character or a '/', which no access key id has "
			            "(is it the secret?)", where);
	if (!*secret)
		return fail(err, PETAL_EINVAL, "%s: the secret access key is empty", where);
	for (const char *c = secret; *c; c++)
		if (blank_or_control((unsigned char)*c))
			return fail(err, PETAL_EINVAL, "%s: the secret access key holds a blank "
			            "or a control character", where);
	for (const char *c = token ? token : ""; *c; c++)
		if (blank_or_control((unsigned char)*c))
			return fail(err, PETAL_EINVAL, "%s: the session token holds a blank or "
			            "a control character", where);
	return 0;
}

static int creds_new(const char *id, const char *secret, const char *token,
                     struct aws_credentials **out, struct petal_error *err)
{
	struct aws_credentials *c = calloc(1, sizeof(*c));
	if (!c)
		return fail(err, PETAL_ENOMEM, "out of memory");
	c->access_key_id = strdup(id);
	c->secret_access_key = strdup(secret);
	c->session_token = token && *token ? strdup(token) : NULL;
	if (!c->access_key_id || !c->secret_access_key || (token && *token && !c->session_token)) {
		aws_credentials_free(c);
		return fail(err, PETAL_ENOMEM, "out of memory");
	}
	*out = c;
	return 0;
}

/* ---- the environment ------------------------------------------------------- */

int aws_credentials_from_env(struct aws_credentials **out, struct petal_error *err)
{
	const char *id = env("AWS_ACCESS_KEY_ID"), *secret = env("AWS_SECRET_ACCESS_KEY");
	const char *token = env("AWS_SESSION_TOKEN");
	*out = NULL;
	if (!id && !secret)
		return fail(err, PETAL_ENOENT, "environment: AWS_ACCESS_KEY_ID and "
		            "AWS_SECRET_ACCESS_KEY are not set");
	if (!id || !secret)
		return fail(err, PETAL_EINVAL, "environment: %s is set but %s is not; set "
		            "both or neither", id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		            id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	int rc = check_parts(id, secret, token, "environment (AWS_ACCESS_KEY_ID, "
	                     "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)", err);
	if (rc || (rc = creds_new(id, secret, token, out, err)))
		return rc;
	char red[64];
	snprintf((*out)->source, sizeof((*out)->source), "environment (AWS_ACCESS_KEY_ID %s%s)",
	         aws_redact_key_id(id, red, sizeof(red)),
	         token ? ", with AWS_SESSION_TOKEN" : "");
	return 0;
}

/* ---- the shared files -------------------------------------------------------- */

/* Profile settings that need a provider petal does not have. */
static const char *const unsupported[] = {
	"role_arn", "credential_process", "sso_session", "sso_start_url",
	"web_identity_token_file", "credential_source",
};

/* Keys from one file's profile: 0 with *out, PETAL_ENOENT when it has none. */
static int keys_from(const struct aws_profile *p, const char *profile,
                     struct aws_credentials **out, struct petal_error *err)
{
	const char *id = aws_profile_get(p, "aws_access_key_id");
	const char *secret = aws_profile_get(p, "aws_secret_access_key");
	const char *token = aws_profile_get(p, "aws_session_token");
	if (!id && !secret)
		return PETAL_ENOENT;
	if (!id || !secret || !*id || !*secret) {
		const char *have = id && *id ? "aws_access_key_id" : "aws_secret_access_key";
		const char *lacks = id && *id ? "aws_secret_access_key" : "aws_access_key_id";
		return fail(err, PETAL_EINVAL, "%s:%d: profile '%s' has %s but no %s; give it "
		            "both", p->path, aws_profile_line(p, have), profile, have, lacks);
	}
	char where[600];
	snprintf(where, sizeof(where), "%s:%d: profile '%s'", p->path,
	         aws_profile_line(p, "aws_access_key_id"), profile);
	int rc = check_parts(id, secret, token, where, err);
	if (rc || (rc = creds_new(id, secret, token, out, err)))
		return rc;
	char red[64];
	snprintf((*out)->source, sizeof((*out)->source), "profile '%s' in %s (%s%s)",
	         profile, p->path, aws_redact_key_id(id, red, sizeof(red)),
	         token && *token ? ", with aws_session_token" : "");
	return 0;
}

int aws_credentials_from_files(const char *profile, struct aws_credentials **out,
                               struct petal_error *err)
{
	int named = profile || env("AWS_PROFILE") || env("AWS_DEFAULT_PROFILE");
	const enum aws_file_kind kinds[2] = { AWS_FILE_CREDENTIALS, AWS_FILE_CONFIG };
	struct aws_profile p[2] = { { 0 }, { 0 } };
	char *path[2] = { NULL, NULL };
	int rc = 0;

	*out = NULL;
	if (!profile)
		profile = aws_profile_name();
	for (int i = 0; i < 2; i++) {
		path[i] = aws_shared_file_path(kinds[i]);
		if (!path[i])
			continue;
		if ((rc = aws_profile_read(path[i], kinds[i], profile, &p[i], err)) != 0)
			goto out_with_profiles;
	}
	/* the credentials file first, then the config file */
	for (int i = 0; i < 2; i++)
		if (p[i].found && (rc = keys_from(&p[i], profile, out, err)) != PETAL_ENOENT)
			goto out_with_profiles;
	for (int i = 0; i < 2; i++)
		for (size_t k = 0; k < sizeof(unsupported) / sizeof(unsupported[0]); k++)
			if (aws_profile_get(&p[i], unsupported[k])) {
				rc = fail(err, PETAL_ENOTSUP, "%s:%d: profile '%s' uses %s, which petal "
				          "does not support; give the profile aws_access_key_id and "
				          "aws_secret_access_key, or set them in the environment",
				          p[i].path, aws_profile_line(&p[i], unsupported[k]), profile,
				          unsupported[k]);
				goto out_with_profiles;
			}
	const char *cred_path = path[0] ? path[0] : "~/.aws/credentials";
	const char *conf_path = path[1] ? path[1] : "~/.aws/config";
	if (named && !p[0].found && !p[1].found)
		rc = fail(err, PETAL_EINVAL, "shared files: profile '%s' is in neither %s nor %s",
		          profile, cred_path, conf_path);
	else
		rc = fail(err, PETAL_ENOENT, "shared files: no keys for profile '%s' in %s or %s",
		          profile, cred_path, conf_path);
out_with_profiles:
	for (int i = 0; i < 2; i++) {
		aws_profile_clear(&p[i]);
		free(path[i]);
	}
	return rc;
}

/* ---- the instance role, through IMDSv2 ------------------------------------- */

struct imds {
	const struct aws_credentials_options *opt;
	char base[256];
	char token[1025];
};

static void response_free(const struct imds *m, struct petal_http_response *r)
{
	void (*release)(void *) = m->opt->free ? m->opt->free : free;
	if (r->body) {
		/* bodies carry the token or the role's keys */
		OPENSSL_cleanse(r->body, r->body_len);
		release(r->body);
	}
	release(r->headers);
	*r = (struct petal_http_response){ .size = sizeof(*r) };
}

/* One request to IMDS.  0 with an HTTP 200 body in *r; PETAL_ENOENT with
   err saying what happened otherwise (no IMDS here is not an error). */
static int imds_call(struct imds *m, const char *method, const char *path,
                     struct petal_http_response *r, struct petal_error *err)
{
	char url[512];
	struct petal_http_header h;
	snprintf(url, sizeof(url), "%s%s", m->base, path);
	if (m->token[0])
		h = (struct petal_http_header){ "X-aws-ec2-metadata-token", m->token };
	else
		h = (struct petal_http_header){ "X-aws-ec2-metadata-token-ttl-seconds",
		                                IMDS_TOKEN_TTL };
	struct petal_http_request rq = {
		.size = sizeof(rq), .method = method, .url = url, .headers = &h, .n_headers = 1,
		/* not on EC2 the address does not answer: no retries, a short wait */
		.idempotent = 0,
		.timeout_s = m->opt->imds_timeout_s > 0 ? m->opt->imds_timeout_s : 1,
	};
	struct petal_error herr = { 0 };
	*r = (struct petal_http_response){ .size = sizeof(*r) };
	if (m->opt->http(&rq, r, &herr) != 0) {
		response_free(m, r);
		return fail(err, PETAL_ENOENT, "instance metadata: no answer from %s (%s)", url,
		            herr.msg);
	}
	if (r->status != 200) {
		long status = r->status;
		response_free(m, r);
		return fail(err, PETAL_ENOENT, "instance metadata: %s %s answered HTTP %ld%s",
		            method, url, status, status == 404 && m->token[0]
		            ? " (no instance role attached?)" : "");
	}
	if (!r->body) {
		response_free(m, r);
		return fail(err, PETAL_ECLOUD, "instance metadata: %s %s: empty answer", method,
		            url);
	}
	return 0;
}

static int imds_base(struct imds *m, struct petal_error *err)
{
	const char *base = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
	if (!base)
		base = mode && strcasecmp(mode, "IPv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	if ((strncasecmp(base, "http://", 7) != 0 && strncasecmp(base, "https://", 8) != 0) ||
	    n >= sizeof(m->base) || strpbrk(base, " \t\r\n?#"))
		return fail(err, PETAL_EINVAL, "AWS_EC2_METADATA_SERVICE_ENDPOINT '%.200s' is not "
		            "an http:// or https:// URL", base);
	snprintf(m->base, sizeof(m->base), "%.*s", (int)n, base);
	return 0;
}

static int role_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 128)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("+=,.@_-", s[i]))
			return 0;
	return 1;
}

static int parse_time(const char *s, int64_t *out)
{
	struct tm tm = { 0 };
	int used = 0;
	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	                 &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &used) != 6 || used == 0)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*out = (int64_t)timegm(&tm);
	return 0;
}

/* The role's JSON: {"Code": "Success", "AccessKeyId", "SecretAccessKey",
   "Token", "Expiration": "2024-01-01T00:00:00Z"}. */
static int role_credentials(const struct imds *m, const char *role, const char *body,
                            size_t len, struct aws_credentials **out,
                            struct petal_error *err)
{
	json_error_t jerr;
	json_t *j = json_loadb(body, len, 0, &jerr);
	int rc;
	if (!json_is_object(j)) {
		/* jerr.text could quote the body, which holds the keys */
		rc = fail(err, PETAL_ECLOUD, "instance metadata: the credentials of role '%s' "
		          "are not a JSON object", role);
		goto out_with_json;
	}
	const char *code = json_string_value(json_object_get(j, "Code"));
	if (code && strcmp(code, "Success") != 0) {
		rc = fail(err, PETAL_ECLOUD, "instance metadata: role '%s' answered Code "
		          "'%.64s', not Success", role, code);
		goto out_with_json;
	}
	static const char *const fields[] = { "AccessKeyId", "SecretAccessKey", "Token",
		                              "Expiration" };
	const char *v[4];
	for (int i = 0; i < 4; i++)
		if (!(v[i] = json_string_value(json_object_get(j, fields[i]))) || !*v[i]) {
			rc = fail(err, PETAL_ECLOUD, "instance metadata: the credentials of role "
			          "'%s' lack %s", role, fields[i]);
			goto out_with_json;
		}
	int64_t expires;
	if (parse_time(v[3], &expires) != 0) {
		rc = fail(err, PETAL_ECLOUD, "instance metadata: role '%s': Expiration '%.40s' "
		          "is not a time like 2024-01-01T00:00:00Z", role, v[3]);
		goto out_with_json;
	}
	char where[400];
	snprintf(where, sizeof(where), "instance metadata: role '%s'", role);
	if ((rc = check_parts(v[0], v[1], v[2], where, err)) ||
	    (rc = creds_new(v[0], v[1], v[2], out, err)))
		goto out_with_json;
	(*out)->expiration = expires;
	char red[64];
	snprintf((*out)->source, sizeof((*out)->source), "instance role '%s' (IMDSv2 at %.100s, "
	         "%s, expires %.32s)", role, m->base, aws_redact_key_id(v[0], red, sizeof(red)),
	         v[3]);
out_with_json:
	json_decref(j);
	return rc;
}

int aws_credentials_from_imds(const struct aws_credentials_options *opt,
                              struct aws_credentials **out, struct petal_error *err)
{
	struct imds m = { .opt = opt };
	struct petal_http_response r;
	int rc;
	*out = NULL;
	const char *off = env("AWS_EC2_METADATA_DISABLED");
	if (off && strcasecmp(off, "true") == 0)
		return fail(err, PETAL_ENOENT, "instance metadata: disabled by "
		            "AWS_EC2_METADATA_DISABLED");
	if (!opt || !opt->http)
		return fail(err, PETAL_ENOENT, "instance metadata: not asked (no HTTP client)");
	if ((rc = imds_base(&m, err)) != 0)
		return rc;

	if ((rc = imds_call(&m, "PUT", "/latest/api/token", &r, err)) != 0)
		return rc;
	size_t n = strcspn(r.body, "\r\n");
	int ok = n > 0 && n < sizeof(m.token);
	for (size_t i = 0; ok && i < n; i++)
		ok = isgraph((unsigned char)r.body[i]);
	if (ok)
		snprintf(m.token, sizeof(m.token), "%.*s", (int)n, r.body);
	response_free(&m, &r);
	if (!ok)
		return fail(err, PETAL_ECLOUD, "instance metadata at %s: the session token is "
		            "empty, too long or not printable", m.base);

	char role[129];
	if ((rc = imds_call(&m, "GET", IMDS_CREDS_PATH, &r, err)) != 0)
		goto out_with_token;
	n = strcspn(r.body, "\r\n");
	ok = role_name_ok(r.body, n);
	if (ok)
		snprintf(role, sizeof(role), "%.*s", (int)n, r.body);
	response_free(&m, &r);
	if (!ok) {
		rc = fail(err, PETAL_ECLOUD, "instance metadata at %s: the instance role's name "
		          "is empty or malformed", m.base);
		goto out_with_token;
	}

	char path[256];
	snprintf(path, sizeof(path), IMDS_CREDS_PATH "%s", role);
	if ((rc = imds_call(&m, "GET", path, &r, err)) != 0)
		goto out_with_token;
	rc = role_credentials(&m, role, r.body, r.body_len, out, err);
	response_free(&m, &r);
out_with_token:
	OPENSSL_cleanse(m.token, sizeof(m.token));
	return rc;
}

/* ---- the chain ------------------------------------------------------------- */

int aws_credentials_resolve(const struct aws_credentials_options *opt,
                            struct aws_credentials **out, struct petal_error *err)
{
	static const struct aws_credentials_options none = { 0 };
	char tried[3][sizeof(err->msg)];
	struct petal_error e = { 0 };
	int rc;

	if (!opt)
		opt = &none;
	*out = NULL;
	tried[0][0] = '\0';
	/* a profile named by the caller outranks the environment, as in the SDKs */
	if (opt->profile)
		snprintf(tried[0], sizeof(tried[0]), "environment: not asked, profile '%s' "
		         "was named", opt->profile);
	else if ((rc = aws_credentials_from_env(out, &e)) != PETAL_ENOENT)
		goto out_with_answer;
	else
		snprintf(tried[0], sizeof(tried[0]), "%s", e.msg);
	if ((rc = aws_credentials_from_files(opt->profile, out, &e)) != PETAL_ENOENT)
		goto out_with_answer;
	snprintf(tried[1], sizeof(tried[1]), "%s", e.msg);
	if ((rc = aws_credentials_from_imds(opt, out, &e)) != PETAL_ENOENT)
		goto out_with_answer;
	snprintf(tried[2], sizeof(tried[2]), "%s", e.msg);
	return fail(err, PETAL_EAUTH, "no AWS credentials: set AWS_ACCESS_KEY_ID and "
	            "AWS_SECRET_ACCESS_KEY, or add keys to the profile in ~/.aws/credentials, "
	            "or run on an instance with a role.  Tried: %.300s; %.300s; %.300s",
	            tried[0], tried[1], tried[2]);
out_with_answer:
	if (rc != 0)
		fail(err, rc, "%s", e.msg);
	return rc;
}
