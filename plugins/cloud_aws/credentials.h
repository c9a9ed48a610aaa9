/* AWS credentials, found in the AWS SDKs' order:
 *
 *   1. the environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
 *      AWS_SESSION_TOKEN;
 *   2. the shared files: the profile (AWS_PROFILE, else "default") of the
 *      credentials file ([NAME]; AWS_SHARED_CREDENTIALS_FILE, else
 *      ~/.aws/credentials), then of the config file ([profile NAME];
 *      AWS_CONFIG_FILE, else ~/.aws/config);
 *   3. the instance role, through IMDSv2: PUT /latest/api/token, then the
 *      role's name and its JSON under /latest/meta-data/iam/security-
 *      credentials/, each with the token.  Skipped when
 *      AWS_EC2_METADATA_DISABLED=true; the endpoint is
 *      AWS_EC2_METADATA_SERVICE_ENDPOINT (tests), else 169.254.169.254 (or
 *      [fd00:ec2::254] with AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6).
 *
 * The first source that has credentials wins; a source that has them only
 * in part (a key id without a secret), or a profile that needs what petal
 * does not do (role_arn, credential_process, SSO), is an error rather than
 * a silent fall-through to the next source.
 *
 * Once, at plugin init:
 *
 *	struct aws_credentials_options o = { .http = host->http, .free = host->free };
 *	struct aws_credentials *cr;
 *	if (aws_credentials_resolve(&o, &cr, err) != 0)
 *		return err->code;
 *	host->log(host, PETAL_LOG_DEBUG, "aws", "credentials: %s", cr->source);
 *	...
 *	aws_credentials_free(cr);    // at fini
 *
 * Secrets: secret_access_key and session_token never enter a message, a
 * source string or a log line; key ids only through aws_redact_key_id().
 */
#ifndef PETAL_AWS_CREDENTIALS_H
#define PETAL_AWS_CREDENTIALS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <petal/plugin.h>

#define AWS_CREDS_HIDDEN __attribute__((visibility("hidden")))

struct aws_credentials {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL when the keys are long-term */
	int64_t expiration;  /* UTC seconds; 0 when they do not expire */
	char source[384];    /* where they came from, with the key id redacted */
};

/* The HTTP call IMDS goes through: the host's (host->http), or a test's. */
typedef int (*aws_http_fn)(const struct petal_http_request *req,
                           struct petal_http_response *resp, struct petal_error *err);

struct aws_credentials_options {
	const char *profile;    /* NULL: AWS_PROFILE, else "default" */
	aws_http_fn http;       /* NULL: the instance role is not tried */
	void (*free)(void *p);  /* frees a response's body and headers */
	int imds_timeout_s;     /* per IMDS request; 0: 1 second */
};

/* Resolve credentials through the chain above.  Returns 0 with *out set, or
   PETAL_EAUTH (none found: err lists what each source said and what to
   do), PETAL_EINVAL (a malformed or partial source), PETAL_ENOTSUP (a
   profile that needs a provider petal lacks), PETAL_ENOMEM. */
AWS_CREDS_HIDDEN int aws_credentials_resolve(const struct aws_credentials_options *opt,
                                             struct aws_credentials **out,
                                             struct petal_error *err);

/* The sources one by one: 0 with *out set, PETAL_ENOENT when the source has
   nothing (err says why, for the summary), or an error as above. */
AWS_CREDS_HIDDEN int aws_credentials_from_env(struct aws_credentials **out,
                                              struct petal_error *err);
AWS_CREDS_HIDDEN int aws_credentials_from_files(const char *profile,
                                                struct aws_credentials **out,
                                                struct petal_error *err);
AWS_CREDS_HIDDEN int aws_credentials_from_imds(const struct aws_credentials_options *opt,
                                               struct aws_credentials **out,
                                               struct petal_error *err);

/* Wipe and free; NULL is a no-op. */
AWS_CREDS_HIDDEN void aws_credentials_free(struct aws_credentials *c);

/* Temporary credentials that expire within `margin_s` of `now`: refresh. */
AWS_CREDS_HIDDEN int aws_credentials_expiring(const struct aws_credentials *c, time_t now,
                                              int margin_s);

/* A key id for messages: "AKIA…MPLE" (the 4-letter kind prefix and the last
   4 characters) for a full-length id, "…MPLE" for a short one, "…" for one
   under 8 characters.  Returns buf. */
AWS_CREDS_HIDDEN const char *aws_redact_key_id(const char *id, char *buf, size_t len);

#endif /* PETAL_AWS_CREDENTIALS_H */
