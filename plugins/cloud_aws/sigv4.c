/* AWS Signature Version 4: checks the request, derives the signing key and
 * signs the canonical request that sigv4_canonical.c forms (see sigv4.h). */
#define _GNU_SOURCE /* asprintf */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "sigv4.h"

#define ALGORITHM "AWS4-HMAC-SHA256"

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

static int tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int sigv4_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) || mdlen != 32)
		return PETAL_ENOMEM;
	for (unsigned int i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

/* The canonical value of every header named `name`, joined with ','; NULL
   in *out when there is none.  0 or PETAL_ENOMEM. */
static int given_value(const struct sigv4_request *rq, const char *name, char **out)
{
	char *joined = NULL;
	*out = NULL;
	for (size_t i = 0; i < rq->n_headers; i++) {
		if (strcasecmp(rq->headers[i].name, name) != 0)
			continue;
		char *v = sigv4_header_value(rq->headers[i].value), *j = NULL;
		if (!v || asprintf(&j, "%s%s%s", joined ? joined : "", joined ? "," : "", v) < 0)
			j = NULL;
		free(v);
		free(joined);
		if (!(joined = j))
			return PETAL_ENOMEM;
	}
	*out = joined;
	return 0;
}

/* A header the signer sets may be given only with the value it would set. */
static int check_owned(const struct sigv4_request *rq, const char *name,
                       const char *want, int *given, struct petal_error *err)
{
	char *v;
	if (given_value(rq, name, &v) != 0)
		return fail(err, PETAL_ENOMEM, "sigv4: out of memory");
	*given = v != NULL;
	if (!want) {
		/* nothing of the signer's to set: the caller's header is signed as is */
		free(v);
		return 0;
	}
	int same = v && want && strcmp(v, want) == 0;
	free(v);
	if (!*given || same)
		return 0;
	if (strcasecmp(name, "x-amz-security-token") == 0)
		/* no value in the message: it is a credential */
		return fail(err, PETAL_EINVAL, "sigv4: the request's X-Amz-Security-Token "
		            "is not the session token being signed with");
	return fail(err, PETAL_EINVAL, "sigv4: the request's %s is not %s, the value "
	            "signed with (%s)", name, want ? want : "(none)",
	            strcasecmp(name, "x-amz-date") == 0 ? "it differs from the signing time"
	                                                : "it is not the payload's hash");
}

static int hmac(const void *key, size_t keylen, const char *msg, unsigned char out[32])
{
	unsigned int len = 0;
	if (!HMAC(EVP_sha256(), key, (int)keylen, (const unsigned char *)msg, strlen(msg),
	          out, &len) || len != 32)
		return PETAL_ENOMEM;
	return 0;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
   "aws4_request"), then the signature is HMAC(kSigning, string to sign). */
static int signature(const struct sigv4_request *rq, const char *date,
                     const char *sts, char out[65])
{
	size_t sl = strlen(rq->secret_access_key);
	char *k = malloc(sl + 5);
	unsigned char a[32], b[32];
	int rc = PETAL_ENOMEM;
	if (!k)
		return rc;
	memcpy(k, "AWS4", 4);
	memcpy(k + 4, rq->secret_access_key, sl + 1);
	if (hmac(k, sl + 4, date, a) || hmac(a, 32, rq->region, b) ||
	    hmac(b, 32, rq->service, a) || hmac(a, 32, "aws4_request", b) ||
	    hmac(b, 32, sts, a))
		goto out_with_key;
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", a[i]);
	rc = 0;
out_with_key:
	/* The derived keys are as good as the secret for a day. */
	OPENSSL_cleanse(k, sl + 5);
	OPENSSL_cleanse(a, sizeof(a));
	OPENSSL_cleanse(b, sizeof(b));
	free(k);
	return rc;
}

static int scope_part_ok(const char *s)
{
	if (!s || !*s)
		return 0;
	for (; *s; s++)
		if (*s == '/' || *s == ',' || *s == '=' || isspace((unsigned char)*s) ||
		    iscntrl((unsigned char)*s))
			return 0;
	return 1;
}

static int check_request(const struct sigv4_request *rq, struct petal_error *err)
{
	if (!rq->method || !*rq->method)
		return fail(err, PETAL_EINVAL, "sigv4: no HTTP method");
	for (const char *c = rq->method; *c; c++)
		if (!tchar((unsigned char)*c))
			return fail(err, PETAL_EINVAL, "sigv4: '%s' is not an HTTP method",
			            rq->method);
	int host = 0;
	for (size_t i = 0; i < rq->n_headers; i++) {
		const char *name = rq->headers[i].name;
		if (!name || !*name)
			return fail(err, PETAL_EINVAL, "sigv4: header %zu has no name", i);
		for (const char *c = name; *c; c++)
			if (!tchar((unsigned char)*c))
				return fail(err, PETAL_EINVAL, "sigv4: header name '%s' has a "
				            "character not allowed in HTTP header names", name);
		if (strcasecmp(name, "authorization") == 0)
			return fail(err, PETAL_EINVAL, "sigv4: the request already has an "
			            "Authorization header; sign the unsigned request");
		host |= strcasecmp(name, "host") == 0;
	}
	if (!host)
		return fail(err, PETAL_EINVAL, "sigv4: the request has no Host header; pass "
		            "the endpoint's host (with :port when not the default)");
	if (rq->path && *rq->path && rq->path[0] != '/')
		return fail(err, PETAL_EINVAL, "sigv4: path '%s' does not start with '/'",
		            rq->path);
	if (!scope_part_ok(rq->service))
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed service name");
	if (!scope_part_ok(rq->region))
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed region");
	if (!scope_part_ok(rq->access_key_id) || !rq->secret_access_key ||
	    !*rq->secret_access_key)
		return fail(err, PETAL_EINVAL, "sigv4: missing or malformed credentials");
	if (rq->payload_hash) {
		size_t n = strlen(rq->payload_hash);
		int hex = n == 64;
		for (size_t i = 0; hex && i < n; i++)
			hex = isxdigit((unsigned char)rq->payload_hash[i]) &&
			      !isupper((unsigned char)rq->payload_hash[i]);
		if (!hex && strcmp(rq->payload_hash, SIGV4_UNSIGNED_PAYLOAD) != 0)
			return fail(err, PETAL_EINVAL, "sigv4: payload hash '%s' is neither 64 "
			            "lower-case hex digits nor " SIGV4_UNSIGNED_PAYLOAD,
			            rq->payload_hash);
	}
	return 0;
}

int sigv4_sign(const struct sigv4_request *rq, struct sigv4_signed *s,
               struct petal_error *err)
{
	struct petal_http_header *all = NULL;
	char *uri = NULL, *block = NULL, *scope = NULL;
	int rc, has_date, has_token, has_sha;

	*s = (struct sigv4_signed){ 0 };
	if ((rc = check_request(rq, err)) != 0)
		return rc;
	struct tm tm;
	if (!gmtime_r(&rq->when, &tm) || tm.tm_year + 1900 < 1970 || tm.tm_year + 1900 > 9999)
		return fail(err, PETAL_EINVAL, "sigv4: signing time out of range");
	strftime(s->amz_date, sizeof(s->amz_date), "%Y%m%dT%H%M%SZ", &tm);
	if (rq->payload_hash)
		snprintf(s->payload_hash, sizeof(s->payload_hash), "%s", rq->payload_hash);
	else if (sigv4_sha256_hex(rq->payload ? rq->payload : "", rq->payload_len,
	                          s->payload_hash) != 0)
		goto out_with_oom;

	int unsigned_token = (rq->flags & SIGV4_TOKEN_UNSIGNED) != 0;
	const char *token = rq->session_token && *rq->session_token ? rq->session_token : NULL;
	if ((rc = check_owned(rq, "x-amz-date", s->amz_date, &has_date, err)) ||
	    (rc = check_owned(rq, "x-amz-security-token", token, &has_token, err)) ||
	    (rc = check_owned(rq, "x-amz-content-sha256", s->payload_hash, &has_sha, err)))
		goto out_with_signed;
	if (has_token && unsigned_token) {
		rc = fail(err, PETAL_EINVAL, "sigv4: X-Amz-Security-Token is among the headers "
		          "but SIGV4_TOKEN_UNSIGNED asks to add it after signing");
		goto out_with_signed;
	}

	/* the caller's headers and the signer's own, signed together */
	if (!(all = malloc((rq->n_headers + 3) * sizeof(*all))))
		goto out_with_oom;
	size_t n = rq->n_headers;
	memcpy(all, rq->headers, n * sizeof(*all));
	if (!has_date)
		all[n++] = s->add[s->n_add++] = (struct petal_http_header){ "X-Amz-Date",
		                                                            s->amz_date };
	if (token && !has_token) {
		s->add[s->n_add++] = (struct petal_http_header){ "X-Amz-Security-Token", token };
		if (!unsigned_token)
			all[n++] = s->add[s->n_add - 1];
	}
	if ((rq->flags & SIGV4_S3) && !has_sha)
		all[n++] = s->add[s->n_add++] = (struct petal_http_header){ "x-amz-content-sha256",
		                                                            s->payload_hash };

	uri = sigv4_canonical_uri(rq->path, (rq->flags & SIGV4_S3) != 0);
	s->query = sigv4_canonical_query(rq->query);
	if (!uri || !s->query || sigv4_canonical_headers(all, n, &block, &s->signed_headers))
		goto out_with_oom;
	if (asprintf(&s->canonical_request, "%s\n%s\n%s\n%s\n%s\n%s", rq->method, uri,
	             s->query, block, s->signed_headers, s->payload_hash) < 0) {
		s->canonical_request = NULL;
		goto out_with_oom;
	}

	char crhash[65];
	if (sigv4_sha256_hex(s->canonical_request, strlen(s->canonical_request), crhash) ||
	    asprintf(&scope, "%.8s/%s/%s/aws4_request", s->amz_date, rq->region,
	             rq->service) < 0) {
		scope = NULL;
		goto out_with_oom;
	}
	if (asprintf(&s->string_to_sign, ALGORITHM "\n%s\n%s\n%s", s->amz_date, scope,
	             crhash) < 0) {
		s->string_to_sign = NULL;
		goto out_with_oom;
	}
	char date[9];
	snprintf(date, sizeof(date), "%.8s", s->amz_date);
	if (signature(rq, date, s->string_to_sign, s->signature) != 0)
		goto out_with_oom;
	if (asprintf(&s->authorization, ALGORITHM " Credential=%s/%s, SignedHeaders=%s, "
	             "Signature=%s", rq->access_key_id, scope, s->signed_headers,
	             s->signature) < 0) {
		s->authorization = NULL;
		goto out_with_oom;
	}
	s->add[s->n_add++] = (struct petal_http_header){ "Authorization", s->authorization };
	rc = 0;
	goto out_with_parts;

out_with_oom:
	rc = fail(err, PETAL_ENOMEM, "sigv4: out of memory");
out_with_signed:
	sigv4_signed_clear(s);
out_with_parts:
	free(all);
	free(uri);
	free(block);
	free(scope);
	return rc;
}

void sigv4_signed_clear(struct sigv4_signed *s)
{
	if (!s)
		return;
	free(s->canonical_request);
	free(s->string_to_sign);
	free(s->authorization);
	free(s->query);
	free(s->signed_headers);
	*s = (struct sigv4_signed){ 0 };
}

