/* What tests/test_aws_ec2.c and tests/aws/ec2_image_tests.c share: the
   plugin's ops and contexts, what one test leaves for the next, and the
   helpers that reach moto and the aws CLI. */
#ifndef PETAL_TESTS_EC2TEST_H
#define PETAL_TESTS_EC2TEST_H

#include <limits.h>
#include <stddef.h>

#include <petal/plugin.h>

struct aws_ctx;

struct ec2test {
	const struct petal_cloud_ops *ops; /* the loaded plugin's */
	void *east, *west;                 /* plugin contexts in us-east-1, us-west-2 */
	struct aws_ctx *r_east, *r_west;   /* for aws_resolve_ami, which is no op */
	char dir[PATH_MAX];                /* the test's temporary directory */
	/* what the tests share, in the order they run */
	char seed_hash[65], base_id[64], base_name[256], instance_id[64];
	char image_id[64], image_name[128], newer_id[64], copy_id[64];
	char snapshots[256];
};

extern struct ec2test E;

#define OPS (E.ops)

/* Seconds on the monotonic clock. */
double now_s(void);
/* `aws --output text ARGS` against moto directly; its output (and with
   with_stderr its errors), trimmed, into out.  Returns the exit status. */
int cli(char *out, size_t len, int with_stderr, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* Field i (0-based) of tab-separated text, into buf; returns buf. */
const char *field(const char *text, int i, char *buf, size_t len);

/* The core's polls through the door (core/cloud), the plugin has no waits:
   timeout_s from now, no cancel flag. */
int door_wait_instance(void *ctx, const char *id, const char *state, int timeout_s,
                       struct petal_error *err);
int door_wait_image(void *ctx, const char *image_id, int timeout_s, struct petal_error *err);

/* tests/aws/ec2_image_tests.c, run in this order after the instance tests */
void test_image_read(void); /* no moto: an answer's XML read into a petal_image */
void test_image_create_find(void);
void test_image_search(void);
void test_image_list_pages(void);
void test_image_copy(void);
void test_resolve(void);
void test_unknown_ids(void);
void test_image_wait_delete(void);
/* tests/aws/iam_tests.c: a build instance's role and profile */
void test_access_refusals(void);
void test_access_create_delete(void);

#endif /* PETAL_TESTS_EC2TEST_H */
