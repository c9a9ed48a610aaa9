/* What ec2.c and ec2_images.c share: EC2 query forms, one call and its
 * pages, base64, waiting, and reading instances and images out of answers.
 * Internal to the aws plugin. */
#ifndef PETAL_AWS_EC2_QUERY_H
#define PETAL_AWS_EC2_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <petal/plugin.h>

#include "aws_ctx.h"
#include "ec2.h"
#include "xml.h"

#define EC2_API_VERSION "2016-11-15"
#define EC2_MAX_TAGS 50 /* per resource */

/* Where an operation's calls go: the context (credentials, clock) and the
   settings of one region, the context's own or another's (CopyImage).
   Operations keep it on their stack. */
struct ec2 {
	struct aws_ctx *c;
	const struct aws_config *cfg; /* &c->config, or `other` */
	struct aws_config other;
	const char *region;           /* cfg->region */
	char code[128];               /* AWS's error code of the last failed call */
	/* The query API called: AWS_SVC_EC2 from ec2_open; IAM (iam.c), which
	   speaks the same forms and XML, sets AWS_SVC_IAM after it. */
	enum aws_service service;
};

/* Ready the context (aws_ctx_ready) and aim at `region` (NULL or "": the
   context's).  `what` names the operation in errors.  0 or the error. */
EC2_HIDDEN int ec2_open(struct ec2 *e, void *ctx, const char *region, const char *what,
                        struct petal_error *err);

/* A form-encoded body: "Action=X&Version=2016-11-15&Name=value...".  Adding
   never fails on its own: out of memory is remembered and reported by
   ec2_call (so a caller adds a dozen parameters without a check each). */
struct ec2_form {
	char *buf;
	size_t len, cap;
	int oom;
	const char *action;
};

EC2_HIDDEN void ec2_form_init(struct ec2_form *f, const char *action);
/* The same for another query API of that form: IAM's "2010-05-08". */
EC2_HIDDEN void ec2_form_init_api(struct ec2_form *f, const char *action, const char *version);
/* name=value, both percent-encoded; a NULL value adds nothing. */
EC2_HIDDEN void ec2_form_add(struct ec2_form *f, const char *name, const char *value);
/* The name from a format ("Filter.%zu.Name"). */
EC2_HIDDEN void ec2_form_addf(struct ec2_form *f, const char *value, const char *name_fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* TagSpecification.<spec>.ResourceType=type and its Tag.N.Key/Value. */
EC2_HIDDEN void ec2_form_tag_spec(struct ec2_form *f, size_t spec, const char *type,
                                  const struct petal_tag *tags, size_t n);
EC2_HIDDEN void ec2_form_clear(struct ec2_form *f);

/* Tags as EC2 takes them: at most 50, keys 1..128 characters not starting
   with "aws:", values at most 256.  0 or PETAL_EINVAL naming the tag. */
EC2_HIDDEN int ec2_tags_check(const struct petal_tag *tags, size_t n, struct petal_error *err);

/* One call; *doc is the answer's document element (xml_free it).  An
   answer that is not XML is PETAL_ECLOUD.  On failure e->code holds AWS's
   error code ("InvalidSnapshot.InUse"), or "". */
EC2_HIDDEN int ec2_call(struct ec2 *e, struct ec2_form *f, int idempotent,
                        struct xml_node **doc, struct petal_error *err);

/* Every page of a call: `base` with MaxResults (when max_results > 0) and
   NextToken added, until an answer has no nextToken.  fn sees each page's
   document; its non-zero return stops and is returned.  A token that does
   not change is PETAL_ECLOUD rather than an endless loop. */
typedef int (*ec2_page_fn)(void *arg, const struct xml_node *doc, struct petal_error *err);
EC2_HIDDEN int ec2_call_pages(struct ec2 *e, const struct ec2_form *base,
                              int max_results, ec2_page_fn fn, void *arg,
                              struct petal_error *err);

/* MaxResults for DescribeImages pages: PETAL_AWS_EC2_MAX_RESULTS (tests),
   else 1000; within EC2's 5..1000. */
EC2_HIDDEN int ec2_max_results(void);

/* A client token for idempotent retries: 32 random hex digits. */
EC2_HIDDEN void ec2_client_token(char out[33]);

/* Base64 (RFC 4648, padded).  Encode: malloc'd, NUL-terminated, NULL
   without memory.  Decode: skips whitespace; 0, PETAL_EINVAL (not base64)
   or PETAL_ENOMEM; *out is NUL-terminated. */
EC2_HIDDEN char *ec2_base64_encode(const void *data, size_t len);
EC2_HIDDEN int ec2_base64_decode(const char *s, size_t len, char **out, size_t *out_len);

/* ---- waiting ----------------------------------------------------------------- */

/* Seconds on the monotonic clock. */
EC2_HIDDEN double ec2_now(void);
/* Sleep before the next poll: *delay_s (then doubled up to 15 s), never
   past `deadline`.  Returns 0, or 1 when the deadline has passed. */
EC2_HIDDEN int ec2_wait_step(double deadline, double *delay_s);

/* ---- answers ------------------------------------------------------------------ */

/* Copy a size-prefixed struct: as much of `full` as dst's size asks for. */
EC2_HIDDEN void ec2_copy_sized(void *dst, const void *full, size_t full_size);

/* Copy text into a fixed field, truncating; NULL copies "". */
EC2_HIDDEN void ec2_set(char *dst, size_t len, const char *src);

/* An instancesSet/item into *out (size set to sizeof). */
EC2_HIDDEN void ec2_instance_read(const struct xml_node *item, struct petal_instance *out);
/* An imagesSet/item into *out (size set to sizeof); region is the call's. */
EC2_HIDDEN void ec2_image_read(const struct xml_node *item, const char *region,
                               struct petal_image *out);

/* DescribeImages of one id in e's region.  *doc holds the answer and
   *item points into it (the image's element).  PETAL_ENOENT when none:
   AWS's error kept (an id not known, or not yet: EC2 is eventually
   consistent), or, when EC2 answered with no image (deregistered), a
   message of ours and *gone set (gone may be NULL). */
EC2_HIDDEN int ec2_image_get(struct ec2 *e, const char *image_id,
                             struct xml_node **doc, const struct xml_node **item,
                             int *gone, struct petal_error *err);

/* Is an image in this state usable, or on its way to be (available,
   pending)? */
EC2_HIDDEN int ec2_image_usable(const char *state);

/* The image's root device, for RunInstances' block device mapping. */
struct ec2_image_root {
	char device[64]; /* rootDeviceName: /dev/xvda, /dev/sda1 */
	int ebs;         /* rootDeviceType ebs (else instance-store) */
	int min_gb;      /* its snapshot's size: the smallest root volume; 0 unknown */
};

/* An id or a name (as aws_resolve_ami) to the image and its root device. */
EC2_HIDDEN int ec2_image_lookup(struct ec2 *e, const char *id_or_name,
                                struct petal_image *img, struct ec2_image_root *root,
                                struct petal_error *err);

#define EC2_DEBUG(e, ...) \
	do { \
		if ((e)->c->host && (e)->c->host->log) \
			(e)->c->host->log((e)->c->host, PETAL_LOG_DEBUG, "aws", __VA_ARGS__); \
	} while (0)

/* Fill err (when not NULL) and return code. */
EC2_HIDDEN int ec2_fail(struct petal_error *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Append " (region R)"-style context to an error message in place. */
EC2_HIDDEN void ec2_err_append(struct petal_error *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* PETAL_AWS_EC2_QUERY_H */
