/* Settings of the aws cloud: the shared config and credentials files, the
 * region and the endpoint of each service, read the way the AWS SDKs read
 * them.
 *
 * At plugin init:
 *
 *	struct aws_config cfg;
 *	if (aws_config_load(&cfg, seed->region, err) != 0)  // region + endpoints
 *		return err->code;
 *	const struct aws_endpoint *ec2 = aws_endpoint(&cfg, AWS_SVC_EC2);
 *	// POST ec2->url + "/", Host: ec2->host, sign as ec2->signing_name
 *
 *	struct aws_s3_location loc;                          // one S3 object
 *	aws_s3_locate(&cfg, "bucket", "dir/my key", &loc, err);
 *	// sign loc.path (SIGV4_S3) with Host: loc.host; request loc.url
 *	aws_s3_location_clear(&loc);
 *
 * Region: the seed's, else AWS_REGION, AWS_DEFAULT_REGION, the profile's
 * `region` in the config file.  Endpoints: AWS_ENDPOINT_URL_<SERVICE ID>
 * (the service id upper-cased, spaces as '_': S3, EC2, ECR, STS), else
 * AWS_ENDPOINT_URL, else the profile's `endpoint_url`, else
 * https://<service>.<region>.amazonaws.com (ECR: api.ecr.<region>; China
 * regions: amazonaws.com.cn; IAM, a global service: https://iam.amazonaws.com,
 * https://iam.cn-north-1.amazonaws.com.cn, https://iam.us-gov.amazonaws.com).  AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true keeps
 * the defaults.  S3 uses path-style addressing on a configured endpoint
 * (moto, MinIO, ...) and for bucket names that cannot be a host name label.
 *
 * Nothing here holds a secret, so every string may be logged.
 */
#ifndef PETAL_AWS_CONFIG_H
#define PETAL_AWS_CONFIG_H

#include <stddef.h>

#include <petal/plugin.h>

#define AWS_HIDDEN __attribute__((visibility("hidden")))

/* ---- the shared files ---------------------------------------------------- */

enum aws_file_kind {
	AWS_FILE_CONFIG = 1,      /* ~/.aws/config: [default], [profile NAME] */
	AWS_FILE_CREDENTIALS = 2, /* ~/.aws/credentials: [NAME] */
};

struct aws_ini_entry {
	char *key;   /* lower-case; "parent.key" for an indented sub-property */
	char *value; /* trimmed; may be a secret: never put it in a message */
	int line;
};

/* One profile's section of one file. */
struct aws_profile {
	char *path;  /* the file read */
	int found;   /* the file has the profile's section */
	struct aws_ini_entry *entries;
	size_t n;
};

/* The file's path: AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE (with '~'
   expanded), else ~/.aws/config / ~/.aws/credentials.  Malloc'd; NULL when
   there is no home directory or no memory. */
AWS_HIDDEN char *aws_shared_file_path(enum aws_file_kind kind);

/* The profile in use: AWS_PROFILE, else AWS_DEFAULT_PROFILE, else "default". */
AWS_HIDDEN const char *aws_profile_name(void);

/* Read `profile`'s section of the INI file at `path` (comments start with
   '#' or ';', keys are case-insensitive, '=' or ':' separate key and value,
   indented lines under "key =" are sub-properties).  A missing file is not
   an error (out->found stays 0).  Returns 0, PETAL_EIO (unreadable),
   PETAL_EINVAL (malformed: err gives file:line and what was expected, never
   the line's text, which may hold a secret) or PETAL_ENOMEM.  `out` is
   always safe to clear. */
AWS_HIDDEN int aws_profile_read(const char *path, enum aws_file_kind kind,
                                const char *profile, struct aws_profile *out,
                                struct petal_error *err);

/* The value of `key` (lower-case) in the profile, or NULL. */
AWS_HIDDEN const char *aws_profile_get(const struct aws_profile *p, const char *key);
/* The line `key` is on, or 0. */
AWS_HIDDEN int aws_profile_line(const struct aws_profile *p, const char *key);

/* Free what the profile holds (values are wiped first); NULL is a no-op. */
AWS_HIDDEN void aws_profile_clear(struct aws_profile *p);

/* ---- region and endpoints ------------------------------------------------ */

enum aws_service {
	AWS_SVC_S3 = 0,
	AWS_SVC_EC2,
	AWS_SVC_ECR,
	AWS_SVC_STS,
	AWS_SVC_IAM, /* global: one endpoint per partition, signed in its home region */
	AWS_SVC_COUNT,
};

struct aws_endpoint {
	const char *service_id;   /* the SDKs' service id: "S3", "EC2", "ECR", "STS", "IAM" */
	const char *signing_name; /* SigV4's service: "s3", "ec2", "ecr", "sts", "iam" */
	/* The region requests are signed for: "" for the config's region; a
	   global service's home region (IAM: us-east-1, cn-north-1 or
	   us-gov-west-1 by the config's partition), configured endpoint or not. */
	char signing_region[64];
	char url[512];       /* scheme://host[:port][/base], no trailing slash */
	char host[256];      /* the Host header: host[:port], default port left out */
	char base_path[256]; /* a configured endpoint's path ("" or "/x"), to prefix */
	int tls;             /* https */
	int custom;          /* configured, not the default */
	int path_style;      /* S3: the bucket goes in the path */
	char source[128];    /* "default", "AWS_ENDPOINT_URL_S3", ... */
};

struct aws_config {
	char profile[128];
	char region[64];
	char region_source[256]; /* "seed", "AWS_REGION", "profile 'x' in PATH" */
	struct aws_endpoint endpoint[AWS_SVC_COUNT];
};

/* Resolve the region and every service's endpoint.  Returns 0, or
   PETAL_EINVAL (no region anywhere, a malformed region, endpoint URL or
   config file; err names where it came from and what to do). */
AWS_HIDDEN int aws_config_load(struct aws_config *cfg, const char *seed_region,
                               struct petal_error *err);

AWS_HIDDEN const struct aws_endpoint *aws_endpoint(const struct aws_config *cfg,
                                                   enum aws_service svc);

/* "AWS_ENDPOINT_URL_" + the service id upper-cased, spaces as '_'. */
AWS_HIDDEN void aws_endpoint_env_name(const char *service_id, char *buf, size_t len);

/* Parse an endpoint URL (http or https, a host, an optional port and path)
   into ep's url, host, base_path and tls.  0 or PETAL_EINVAL. */
AWS_HIDDEN int aws_endpoint_parse(const char *url, struct aws_endpoint *ep,
                                  struct petal_error *err);

/* Where an S3 bucket or object is.  `path` is encoded once, as S3 wants it
   signed (SIGV4_S3) and sent. */
struct aws_s3_location {
	char *url;  /* scheme://host[:port] + path, without a query */
	char *path; /* "/key" (virtual-hosted) or "/base/bucket/key" (path-style) */
	char host[320];
};

/* Locate `key` (NULL or "" for the bucket itself) in `bucket`.  0,
   PETAL_EINVAL (not a valid bucket name) or PETAL_ENOMEM. */
AWS_HIDDEN int aws_s3_locate(const struct aws_config *cfg, const char *bucket,
                             const char *key, struct aws_s3_location *out,
                             struct petal_error *err);
AWS_HIDDEN void aws_s3_location_clear(struct aws_s3_location *loc);

#endif /* PETAL_AWS_CONFIG_H */
