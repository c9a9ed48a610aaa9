/* The aws plugin's EC2 operations against a real moto_server that checks
   every signature (tests/aws/moto.sh), loaded the way petal loads it (the
   registry over PETAL_PLUGIN_PATH, the real host table and its libcurl
   http; tests/aws/s3test.h).  DescribeImages goes through
   tests/aws/ec2_pager.py, which pages moto's answers as EC2 does (moto
   ignores MaxResults there).  What petal did is checked with the aws CLI,
   an independent client talking to moto directly.  aws_resolve_ami and the
   base64 and id helpers are no ops: they are compiled in from the plugin's
   sources and run on a context of their own.  The image tests are in
   tests/aws/ec2_image_tests.c. */
#define _GNU_SOURCE /* vasprintf, setenv */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "aws/s3test.h"
#include "aws/ec2test.h"
#include "core/cloud/cloud.h"
#include "../plugins/cloud_aws/aws_ctx.h"
#include "../plugins/cloud_aws/ec2.h"
#include "../plugins/cloud_aws/ec2_query.h"

struct ec2test E;
static pid_t pager_pid;
static char pager_url[128];

double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the aws CLI, talking to moto directly ------------------------------------ */

int cli(char *out, size_t len, int with_stderr, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *args = NULL;
	int n = vasprintf(&args, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	int rc = s3test_aws("--output text %s", args);
	free(args);
	char *o = s3test_cli_out();
	snprintf(out, len, "%s", o);
	free(o);
	if (with_stderr) {
		char *path = petal_xasprintf("%s/cli.err", T.dir), *e = NULL;
		size_t elen;
		struct petal_error err = { 0 };
		if (petal_read_file(path, 1 << 20, &e, &elen, &err) == 0)
			snprintf(out + strlen(out), len - strlen(out), "%s", e);
		free(e);
		free(path);
	}
	size_t k = strlen(out);
	while (k && (out[k - 1] == '\n' || out[k - 1] == '\r' || out[k - 1] == ' '))
		out[--k] = '\0';
	return rc;
}

const char *field(const char *text, int i, char *buf, size_t len)
{
	const char *p = text;
	for (; i > 0 && p; i--)
		if ((p = strchr(p, '\t')))
			p++;
	if (!p)
		p = "";
	size_t n = strcspn(p, "\t\n");
	snprintf(buf, len, "%.*s", (int)n, p);
	return buf;
}

/* ---- moto, the pager, the contexts ------------------------------------------------ */

static int pager_start(void)
{
	char *script = petal_xasprintf("%s/tests/aws/ec2_pager.py", s3test_srcdir());
	char *port_file = petal_xasprintf("%s/pager.port", T.dir);
	char *log = petal_xasprintf("%s/pager.log", T.dir);
	const char *py = getenv("PYTHON") && *getenv("PYTHON") ? getenv("PYTHON") : "python3";
	int rc = -1;
	if ((pager_pid = fork()) == 0) {
		execlp(py, py, script, port_file, log, T.url, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", py, strerror(errno));
		_exit(127);
	}
	for (int i = 0; pager_pid > 0 && i < 300; i++) { /* 30 s for Python to listen */
		char *port = NULL;
		size_t len;
		struct petal_error err = { 0 };
		if (petal_read_file(port_file, 64, &port, &len, &err) == 0 && len) {
			snprintf(pager_url, sizeof(pager_url), "http://127.0.0.1:%d", atoi(port));
			free(port);
			rc = 0;
			break;
		}
		free(port);
		if (waitpid(pager_pid, NULL, WNOHANG) == pager_pid) {
			pager_pid = 0;
			break;
		}
		usleep(100000);
	}
	if (rc != 0)
		fprintf(stderr, "\n  %s did not start\n", script);
	free(script);
	free(port_file);
	free(log);
	return rc;
}

static void pager_stop(void)
{
	if (pager_pid > 0) {
		kill(pager_pid, SIGTERM);
		waitpid(pager_pid, NULL, 0);
	}
	pager_pid = 0;
}

static int count_images(void *arg, const struct petal_image *img)
{
	(void)img;
	(*(size_t *)arg)++;
	return 0;
}

/* A plugin context for `region`: the plugin reads the region (AWS_REGION
   here) on first use, so use it once before putting the variable back. */
static void *plugin_ctx(const char *region)
{
	void *c = NULL;
	setenv("AWS_REGION", region, 1);
	struct petal_error err = { 0 };
	size_t n = 0;
	if (T.desc->init(T.reg.host, &c) != 0 || OPS->image_list(c, "petal:none", count_images,
	                                                          &n, &err) != 0) {
		fprintf(stderr, "\n  a context for %s: %s\n", region, err.msg);
		if (c)
			T.desc->fini(c);
		c = NULL;
	}
	setenv("AWS_REGION", "us-east-1", 1);
	return c;
}

static int suite_init(void)
{
	if (s3test_setup("aws-ec2", 0) != 0 || pager_start() != 0)
		return -1;
	E.ops = T.ops;
	snprintf(E.dir, sizeof(E.dir), "%s", T.dir);
	/* petal's EC2 calls go through the pager, in pages of 5 images */
	setenv("AWS_ENDPOINT_URL_EC2", pager_url, 1);
	setenv("PETAL_AWS_EC2_MAX_RESULTS", "5", 1);
	char out[256];
	if (cli(out, sizeof(out), 1, "iam create-instance-profile --instance-profile-name "
	        "petal-build") != 0) {
		fprintf(stderr, "\n  create-instance-profile: %s\n", out);
		return -1;
	}
	struct petal_error err = { 0 };
	if (!(E.east = plugin_ctx("us-east-1")) || !(E.west = plugin_ctx("us-west-2")) ||
	    aws_ctx_new(T.reg.host, "us-east-1", &E.r_east, &err) != 0 ||
	    aws_ctx_new(T.reg.host, "us-west-2", &E.r_west, &err) != 0)
		return -1;
	snprintf(E.seed_hash, sizeof(E.seed_hash), "%016lx%016lx%016lx%016lx", (long)getpid(),
	         (long)time(NULL), 0xfeedbeefL, 0x5eedL);
	return 0;
}

static int suite_cleanup(void)
{
	if (E.east)
		T.desc->fini(E.east);
	if (E.west)
		T.desc->fini(E.west);
	E.east = E.west = NULL;
	aws_ctx_free(E.r_east);
	aws_ctx_free(E.r_west);
	E.r_east = E.r_west = NULL;
	pager_stop();
	return s3test_teardown();
}

/* ---- pieces that need no cloud -------------------------------------------------- */

static void test_base64(void)
{
	static const char *const plain[] = { "", "f", "fo", "foo", "foob", "fooba", "foobar" };
	static const char *const coded[] = { "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
		                             "Zm9vYmFy" };
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *e = ec2_base64_encode(plain[i], strlen(plain[i]));
		CU_ASSERT_STRING_EQUAL(e, coded[i]);
		free(e);
		char *d;
		size_t n;
		CU_ASSERT_EQUAL_FATAL(ec2_base64_decode(coded[i], strlen(coded[i]), &d, &n), 0);
		CU_ASSERT_EQUAL(n, strlen(plain[i]));
		CU_ASSERT_STRING_EQUAL(d, plain[i]);
		free(d);
	}
	unsigned char bytes[300];
	for (size_t i = 0; i < sizeof(bytes); i++)
		bytes[i] = (unsigned char)(i * 7 + 3);
	char *e = ec2_base64_encode(bytes, sizeof(bytes)), *d;
	size_t n;
	CU_ASSERT_EQUAL_FATAL(ec2_base64_decode(e, strlen(e), &d, &n), 0);
	CU_ASSERT_EQUAL(n, sizeof(bytes));
	CU_ASSERT_EQUAL(memcmp(d, bytes, sizeof(bytes)), 0);
	free(e);
	free(d);
	/* line breaks as consoles wrap it */
	const char *wrapped = "Zm9v\r\nYmFy\n";
	CU_ASSERT_EQUAL_FATAL(ec2_base64_decode(wrapped, strlen(wrapped), &d, &n), 0);
	CU_ASSERT_STRING_EQUAL(d, "foobar");
	free(d);
	/* a NUL inside the text is no base64 */
	CU_ASSERT_EQUAL(ec2_base64_decode("Zm9v\0", 5, &d, &n), PETAL_EINVAL);
	static const char *const bad[] = { "Zg=", "Z===", "Zg==Zg==", "Zm9v!", "Zm9", "=Zm9" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CU_ASSERT_EQUAL(ec2_base64_decode(bad[i], strlen(bad[i]), &d, &n), PETAL_EINVAL);
}

static void test_ami_id(void)
{
	CU_ASSERT_TRUE(aws_ami_id_valid("ami-12345678"));
	CU_ASSERT_TRUE(aws_ami_id_valid("ami-0123456789abcdef0"));
	CU_ASSERT_FALSE(aws_ami_id_valid("ami-1234567"));
	CU_ASSERT_FALSE(aws_ami_id_valid("ami-123456789"));
	CU_ASSERT_FALSE(aws_ami_id_valid("ami-ABCDEF12"));
	CU_ASSERT_FALSE(aws_ami_id_valid("ami-0123456789abcdef"));
	CU_ASSERT_FALSE(aws_ami_id_valid("ami-base-bio-v2"));
	CU_ASSERT_FALSE(aws_ami_id_valid("AMI-12345678"));
	CU_ASSERT_FALSE(aws_ami_id_valid(""));
	CU_ASSERT_FALSE(aws_ami_id_valid(NULL));
}

static void test_descriptor(void)
{
	CU_ASSERT_EQUAL(OPS->caps & (PETAL_CAP_COMPUTE | PETAL_CAP_IMAGES),
	                PETAL_CAP_COMPUTE | PETAL_CAP_IMAGES);
	CU_ASSERT(OPS->instance_launch && OPS->instance_describe && OPS->instance_list &&
	          OPS->instance_logs && OPS->instance_terminate);
	CU_ASSERT(OPS->image_create && OPS->image_find && OPS->image_list && OPS->image_copy &&
	          OPS->image_delete);
	CU_ASSERT(PETAL_HAS(OPS, image_search) && OPS->image_search);
	CU_ASSERT(PETAL_HAS(OPS, region_list) && OPS->region_list);
	CU_ASSERT(PETAL_HAS(OPS, image_tag) && OPS->image_tag);
	/* honest capabilities: the cluster ops (through pcluster) and their bit;
	   no registry op, so not its bit */
	CU_ASSERT_EQUAL(OPS->caps & PETAL_CAP_CLUSTER, PETAL_CAP_CLUSTER);
	CU_ASSERT(OPS->cluster_create && OPS->cluster_describe && OPS->cluster_delete &&
	          OPS->cluster_list && OPS->cluster_tool);
	CU_ASSERT_EQUAL(OPS->caps & PETAL_CAP_REGISTRY, 0);
	CU_ASSERT_PTR_NULL(OPS->registry_login);
	/* the door names the op and the cloud for one it lacks */
	struct petal_cloud door = { .name = "aws", .ops = OPS, .ctx = E.east };
	struct petal_error err = PETAL_ERROR_INIT;
	CU_ASSERT_FALSE(petal_cloud_has(&door, "registry_login"));
	CU_ASSERT_TRUE(petal_cloud_has(&door, "instance_list"));
	struct petal_cloud_ops none = { .size = sizeof(none) };
	door.ops = &none;
	CU_ASSERT_EQUAL(petal_cloud_instance_terminate(&door, "i-1", &err), PETAL_ENOTSUP);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "instance_terminate"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'aws'"));
}

/* ---- the door's polls ---------------------------------------------------------------- */

int door_wait_instance(void *ctx, const char *id, const char *state, int timeout_s,
                       struct petal_error *err)
{
	struct petal_cloud door = { .name = "aws", .ops = OPS, .ctx = ctx };
	return petal_cloud_wait_instance(&door, id, state, petal_cloud_now() + timeout_s, NULL,
	                                 NULL, err);
}

int door_wait_image(void *ctx, const char *image_id, int timeout_s, struct petal_error *err)
{
	struct petal_cloud door = { .name = "aws", .ops = OPS, .ctx = ctx };
	return petal_cloud_wait_image(&door, image_id, petal_cloud_now() + timeout_s, NULL, NULL,
	                              err);
}

/* ---- instances ------------------------------------------------------------------- */

#define USER_DATA "#!/bin/sh\n# petal build \xc3\xbc\xe2\x9c\x93 & <tag> = +/ 'q' \"dq\"\n" \
	"echo built > /tmp/petal-done\n"

static void test_launch(void)
{
	char out[4096], buf[256];
	/* an Amazon image picked by the CLI, launched by its name */
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                          "--owners amazon --filters Name=name,Values='amzn2-ami-hvm-*' "
	                          "--query 'sort_by(Images[?Architecture==`x86_64`], &Name)[0]."
	                          "[ImageId,Name]'"), 0);
	snprintf(E.base_id, sizeof(E.base_id), "%s", field(out, 0, buf, sizeof(buf)));
	snprintf(E.base_name, sizeof(E.base_name), "%s", field(out, 1, buf, sizeof(buf)));
	CU_ASSERT_FATAL(aws_ami_id_valid(E.base_id));
	char subnet[64];
	CU_ASSERT_EQUAL_FATAL(cli(subnet, sizeof(subnet), 0, "--region us-east-1 ec2 "
	                          "describe-subnets --query 'Subnets[0].SubnetId'"), 0);
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 create-key-pair "
	                          "--key-name petal-test --query KeyName"), 0);

	struct petal_tag tags[] = { { "petal:seed-hash", E.seed_hash },
		                    { "Name", "petal build & test <1>" } };
	struct petal_instance_request req = {
		.size = sizeof(req), .instance_type = "c5.2xlarge", .spot = 1,
		.image_id = E.base_name, .user_data = USER_DATA, .tags = tags, .n_tags = 2,
		.instance_profile = "petal-build", .root_volume_gb = 40, .subnet_id = subnet,
		.key_name = "petal-test",
	};
	struct petal_instance inst = { .size = sizeof(inst) };
	struct petal_error err = { 0 };
	int rc = OPS->instance_launch(E.east, &req, &inst, &err);
	if (rc)
		fprintf(stderr, "\n  launch: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(strncmp(inst.id, "i-", 2), 0);
	CU_ASSERT_STRING_EQUAL(inst.image_id, E.base_id);
	CU_ASSERT_STRING_EQUAL(inst.type, "c5.2xlarge");
	CU_ASSERT(strcmp(inst.state, "pending") == 0 || strcmp(inst.state, "running") == 0);
	CU_ASSERT(inst.launched > time(NULL) - 3600 && inst.launched <= time(NULL) + 60);
	snprintf(E.instance_id, sizeof(E.instance_id), "%s", inst.id);

	/* what EC2 made of the request, read by another client */
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-instances "
	                          "--instance-ids %s --query 'Reservations[0].Instances[0].["
	                          "InstanceLifecycle,IamInstanceProfile.Arn,SubnetId,KeyName,"
	                          "MetadataOptions.HttpTokens,ImageId,"
	                          "Tags[?Key==`petal:seed-hash`]|[0].Value,"
	                          "Tags[?Key==`Name`]|[0].Value]'", inst.id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), "spot");
	CU_ASSERT_PTR_NOT_NULL(strstr(field(out, 1, buf, sizeof(buf)),
	                              "instance-profile/petal-build"));
	CU_ASSERT_STRING_EQUAL(field(out, 2, buf, sizeof(buf)), subnet);
	CU_ASSERT_STRING_EQUAL(field(out, 3, buf, sizeof(buf)), "petal-test");
	CU_ASSERT_STRING_EQUAL(field(out, 4, buf, sizeof(buf)), "required");
	CU_ASSERT_STRING_EQUAL(field(out, 5, buf, sizeof(buf)), E.base_id);
	CU_ASSERT_STRING_EQUAL(field(out, 6, buf, sizeof(buf)), E.seed_hash);
	CU_ASSERT_STRING_EQUAL(field(out, 7, buf, sizeof(buf)), "petal build & test <1>");
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-instance-attribute "
	                    "--instance-id %s --attribute userData --query UserData.Value "
	                    "| base64 -d", inst.id), 0);
	CU_ASSERT_STRING_EQUAL(out, "#!/bin/sh\n# petal build \xc3\xbc\xe2\x9c\x93 & <tag> = +/ "
	                       "'q' \"dq\"\necho built > /tmp/petal-done");
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-volumes "
	                    "--filters Name=attachment.instance-id,Values=%s --query "
	                    "'Volumes[0].[Size,VolumeType,Tags[?Key==`petal:seed-hash`]|[0].Value]'",
	                    inst.id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), "40");
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), "gp3");
	CU_ASSERT_STRING_EQUAL(field(out, 2, buf, sizeof(buf)), E.seed_hash);
}

struct ids {
	char id[8][64];
	int n;
};

static int collect_id(void *arg, const struct petal_instance *inst)
{
	struct ids *ids = arg;
	if (ids->n < 8)
		snprintf(ids->id[ids->n], sizeof(ids->id[0]), "%s", inst->id);
	ids->n++;
	return 0;
}

/* The same client token twice is one instance (moto ignores RunInstances'
   ClientToken: two calls with one token make two instances there, so this
   rests on the plugin's petal:client-token lookup); listing by tag finds
   exactly the instances tagged so. */
static void test_token_and_list(void)
{
	CU_ASSERT_FATAL(E.instance_id[0] && E.base_id[0]);
	struct petal_instance_request req = {
		.size = sizeof(req), .instance_type = "t3.micro", .image_id = E.base_id,
		.client_token = "run-20261203.ami.image-build",
	};
	struct petal_instance a = { .size = sizeof(a) }, b = { .size = sizeof(b) };
	struct petal_error err = PETAL_ERROR_INIT;
	int rc = OPS->instance_launch(E.east, &req, &a, &err);
	if (rc)
		fprintf(stderr, "\n  launch: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL_FATAL(OPS->instance_launch(E.east, &req, &b, &err), 0);
	CU_ASSERT_STRING_EQUAL(a.id, b.id);

	struct ids ids = { 0 };
	CU_ASSERT_EQUAL(OPS->instance_list(E.east, PETAL_TAG_CLIENT_TOKEN, req.client_token,
	                                   collect_id, &ids, &err), 0);
	CU_ASSERT_EQUAL(ids.n, 1);
	CU_ASSERT_STRING_EQUAL(ids.id[0], a.id);
	/* by the seed hash: only the instance test_launch tagged with it */
	memset(&ids, 0, sizeof(ids));
	CU_ASSERT_EQUAL(OPS->instance_list(E.east, PETAL_TAG_SEED_HASH, E.seed_hash, collect_id,
	                                   &ids, &err), 0);
	CU_ASSERT_EQUAL(ids.n, 1);
	CU_ASSERT_STRING_EQUAL(ids.id[0], E.instance_id);
	memset(&ids, 0, sizeof(ids));
	CU_ASSERT_EQUAL(OPS->instance_list(E.east, PETAL_TAG_SEED_HASH, "no-such-hash", collect_id,
	                                   &ids, &err), 0);
	CU_ASSERT_EQUAL(ids.n, 0);
	/* other regions hold none of them */
	CU_ASSERT_EQUAL(OPS->instance_list(E.west, PETAL_TAG_CLIENT_TOKEN, req.client_token,
	                                   collect_id, &ids, &err), 0);
	CU_ASSERT_EQUAL(ids.n, 0);
	/* a token the cloud would refuse is refused first */
	req.client_token = "has space";
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &req, &b, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "client token"));
	/* terminated, the token's instance is no longer listed */
	CU_ASSERT_EQUAL(OPS->instance_terminate(E.east, a.id, &err), 0);
	CU_ASSERT_EQUAL(door_wait_instance(E.east, a.id, "terminated", 60, &err), 0);
	memset(&ids, 0, sizeof(ids));
	CU_ASSERT_EQUAL(OPS->instance_list(E.east, PETAL_TAG_CLIENT_TOKEN,
	                                   "run-20261203.ami.image-build", collect_id, &ids,
	                                   &err), 0);
	CU_ASSERT_EQUAL(ids.n, 0);
}

static void test_describe(void)
{
	CU_ASSERT_FATAL(E.instance_id[0]);
	/* members past the caller's size are left alone */
	struct petal_instance small;
	memset(&small, 0x5a, sizeof(small));
	small.size = offsetof(struct petal_instance, image_id);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(OPS->instance_describe(E.east, E.instance_id, &small, &err), 0);
	CU_ASSERT_STRING_EQUAL(small.id, E.instance_id);
	CU_ASSERT_STRING_EQUAL(small.state, "running");
	CU_ASSERT_EQUAL((unsigned char)small.image_id[0], 0x5a);

	struct petal_instance inst = { .size = sizeof(inst) };
	CU_ASSERT_EQUAL(OPS->instance_describe(E.east, "i-0123456789abcdef0", &inst, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "i-0123456789abcdef0"));
	/* the answer's parts, each in its own member */
	CU_ASSERT_EQUAL(err.http_status, 400);
	CU_ASSERT_STRING_EQUAL(err.cloud_code, "InvalidInstanceID.NotFound");
	CU_ASSERT(strlen(err.request_id) > 8);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, err.request_id));
	CU_ASSERT_EQUAL(err.retryable, 0);
	/* a later failure of another kind clears them */
	CU_ASSERT_EQUAL(OPS->instance_describe(E.east, "", &inst, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(err.http_status, 0);
	CU_ASSERT_STRING_EQUAL(err.cloud_code, "");
	CU_ASSERT_STRING_EQUAL(err.request_id, "");
	/* instances are regional */
	CU_ASSERT_EQUAL(OPS->instance_describe(E.west, E.instance_id, &inst, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->instance_describe(E.east, "", &inst, &err), PETAL_EINVAL);
}

static void test_wait_running(void)
{
	struct petal_error err = { 0 };
	double t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "running", 60, &err), 0);
	CU_ASSERT(now_s() - t0 < 10);
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "sleeping", 60, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sleeping"));
}

static void test_wait_timeout(void)
{
	struct petal_error err = { 0 };
	double t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "stopped", 3, &err), PETAL_ETIMEOUT);
	double took = now_s() - t0;
	CU_ASSERT(took >= 2.9 && took < 15);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "still running"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, E.instance_id));
	/* 0: one look, no waiting */
	t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "stopped", 0, &err), PETAL_ETIMEOUT);
	CU_ASSERT(now_s() - t0 < 5);
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "running", 0, &err), 0);
}

struct text {
	char buf[70000];
	size_t len;
	int calls, stop_after;
};

static int collect(void *arg, const char *s, size_t n)
{
	struct text *t = arg;
	CU_ASSERT(n > 0 && n <= 4096);
	if (t->len + n < sizeof(t->buf)) {
		memcpy(t->buf + t->len, s, n);
		t->len += n;
		t->buf[t->len] = '\0';
	}
	return ++t->calls == t->stop_after ? 42 : 0;
}

static void test_logs(void)
{
	static struct text t;
	memset(&t, 0, sizeof(t));
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(OPS->instance_logs(E.east, E.instance_id, 0, collect, &t, &err), 0);
	CU_ASSERT(t.len > 0);
	static char cli_text[70000];
	CU_ASSERT_EQUAL_FATAL(cli(cli_text, sizeof(cli_text), 0, "--region us-east-1 ec2 "
	                          "get-console-output --instance-id %s --query Output",
	                          E.instance_id), 0);
	while (t.len && (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' '))
		t.buf[--t.len] = '\0';
	CU_ASSERT_STRING_EQUAL(t.buf, cli_text);
	/* from an offset: the rest only */
	size_t whole = strlen(cli_text);
	static struct text rest;
	memset(&rest, 0, sizeof(rest));
	CU_ASSERT_FATAL(whole > 10);
	CU_ASSERT_EQUAL(OPS->instance_logs(E.east, E.instance_id, 10, collect, &rest, &err), 0);
	CU_ASSERT_EQUAL(strncmp(rest.buf, cli_text + 10, whole - 10), 0);
	memset(&rest, 0, sizeof(rest));
	CU_ASSERT_EQUAL(OPS->instance_logs(E.east, E.instance_id, 1u << 30, collect, &rest, &err),
	                0);
	CU_ASSERT_EQUAL(rest.len, 0);
	/* the callback's non-zero stops and comes back */
	memset(&t, 0, sizeof(t));
	t.stop_after = 1;
	CU_ASSERT_EQUAL(OPS->instance_logs(E.east, E.instance_id, 0, collect, &t, &err), 42);
	CU_ASSERT_EQUAL(t.calls, 1);
	CU_ASSERT_NOT_EQUAL(OPS->instance_logs(E.east, "i-0123456789abcdef0", 0, collect, &t, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
}

static void test_terminate(void)
{
	CU_ASSERT_FATAL(E.instance_id[0]);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(OPS->instance_terminate(E.east, E.instance_id, &err), 0);
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "terminated", 60, &err), 0);
	struct petal_instance inst = { .size = sizeof(inst) };
	CU_ASSERT_EQUAL(OPS->instance_describe(E.east, E.instance_id, &inst, &err), 0);
	CU_ASSERT_STRING_EQUAL(inst.state, "terminated");
	/* terminated is final: waiting for running fails fast */
	double t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "running", 60, &err), PETAL_ECLOUD);
	CU_ASSERT(now_s() - t0 < 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "terminated"));
	CU_ASSERT_EQUAL(door_wait_instance(E.east, E.instance_id, "stopped", 60, &err), PETAL_ECLOUD);
	/* again: harmless */
	CU_ASSERT_EQUAL(OPS->instance_terminate(E.east, E.instance_id, &err), 0);
	CU_ASSERT_NOT_EQUAL(OPS->instance_terminate(E.east, "i-0123456789abcdef0", &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
}

static void test_bad_input(void)
{
	struct petal_tag aws_tag = { "aws:reserved", "x" };
	struct petal_tag many[51];
	char keys[51][16];
	for (int i = 0; i < 51; i++) {
		snprintf(keys[i], sizeof(keys[i]), "k%d", i);
		many[i] = (struct petal_tag){ keys[i], "v" };
	}
	static char big[16386];
	memset(big, 'x', sizeof(big) - 1);
	struct petal_instance_request ok = {
		.size = sizeof(ok), .instance_type = "c5.large", .image_id = E.base_id,
	};
	struct petal_instance_request r;
	struct petal_instance inst = { .size = sizeof(inst) };
	struct petal_error err = { 0 };
	r = ok, r.instance_type = NULL;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.image_id = "";
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.user_data = big;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "16384"));
	r = ok, r.tags = &aws_tag, r.n_tags = 1;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "aws:"));
	r = ok, r.tags = many, r.n_tags = 51;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.tags = NULL, r.n_tags = 2;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.root_volume_gb = -1;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	/* smaller than the image's snapshot (moto's are 15 GiB) */
	r = ok, r.root_volume_gb = 8;
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "15 GiB"));
	r = ok, r.image_id = "no-such-image-name";
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, &r, &inst, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->instance_launch(E.east, NULL, &inst, &err), PETAL_EINVAL);
	/* a caller built against an older, shorter request: what lies past its
	   size (bad tags, a too small root volume) is not read */
	r = ok, r.size = offsetof(struct petal_instance_request, tags);
	r.spot = 1, r.tags = &aws_tag, r.n_tags = 1, r.root_volume_gb = 8;
	CU_ASSERT_EQUAL_FATAL(OPS->instance_launch(E.east, &r, &inst, &err), 0);
	char out[256], buf[64];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-instances "
	                    "--instance-ids %s --query 'Reservations[0].Instances[0]."
	                    "[InstanceLifecycle,length(Tags || `[]`)]'", inst.id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), "spot");
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), "0");
	CU_ASSERT_EQUAL(OPS->instance_terminate(E.east, inst.id, &err), 0);

	CU_ASSERT_EQUAL(OPS->image_create(E.east, E.instance_id, "x", NULL, 0, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_create(E.east, E.instance_id, "a*b-name", NULL, 0, NULL, &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_create(E.east, "", "good-name", NULL, 0, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->instance_logs(E.east, E.instance_id, 0, NULL, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_list(E.east, NULL, NULL, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(door_wait_instance(NULL, E.instance_id, "running", 1, &err), PETAL_EINVAL);
}

/* moto checks signatures: a wrong secret is refused, and never shown */
static void test_wrong_secret(void)
{
	char *good = strdup(getenv("AWS_SECRET_ACCESS_KEY"));
	setenv("AWS_SECRET_ACCESS_KEY", "wrongSecretKeyEXAMPLE0123456789abcdefghij", 1);
	void *bad = NULL;
	CU_ASSERT_EQUAL_FATAL(T.desc->init(T.reg.host, &bad), 0);
	struct petal_image f = { .size = sizeof(f) };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(OPS->image_find(bad, "petal:seed-hash", E.seed_hash, NULL, &f, &err),
	                PETAL_EAUTH);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "DescribeImages"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "401"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "wrongSecretKey"));
	CU_ASSERT_PTR_NULL(strstr(err.msg, good));
	T.desc->fini(bad);
	setenv("AWS_SECRET_ACCESS_KEY", good, 1);
	free(good);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	CU_pSuite pieces = CU_add_suite("ec2 pieces", NULL, NULL);
	CU_pSuite s = CU_add_suite("ec2 on moto_server", suite_init, suite_cleanup);
	if (!pieces || !s ||
	    !CU_add_test(pieces, "base64 both ways, strict", test_base64) ||
	    !CU_add_test(pieces, "AMI ids and names", test_ami_id) ||
	    !CU_add_test(pieces, "an image read: owner, deprecation, sizes, tags",
	                 test_image_read) ||
	    !CU_add_test(s, "the descriptor offers compute, images and clusters", test_descriptor) ||
	    !CU_add_test(s, "launch: spot, tags, user data, profile, root volume", test_launch) ||
	    !CU_add_test(s, "describe: fields, sizes, unknown ids, regions", test_describe) ||
	    !CU_add_test(s, "a client token twice is one instance; list by tag",
	                 test_token_and_list) ||
	    !CU_add_test(s, "wait for running", test_wait_running) ||
	    !CU_add_test(s, "console output, decoded and streamed", test_logs) ||
	    !CU_add_test(s, "a waiter that times out", test_wait_timeout) ||
	    !CU_add_test(s, "create an image; find it by tag and name; newest first",
	                 test_image_create_find) ||
	    !CU_add_test(s, "search by owner and name pattern", test_image_search) ||
	    !CU_add_test(s, "list every image across pages", test_image_list_pages) ||
	    !CU_add_test(s, "copy to another region, tags and all", test_image_copy) ||
	    !CU_add_test(s, "custom_ami: names to ids, per region", test_resolve) ||
	    !CU_add_test(s, "unknown ids: AWS's code and request id", test_unknown_ids) ||
	    !CU_add_test(s, "wait for available; delete with snapshots", test_image_wait_delete) ||
	    !CU_add_test(s, "bad requests", test_bad_input) ||
	    !CU_add_test(s, "access: bad names and prefixes refused", test_access_refusals) ||
	    !CU_add_test(s, "access: role, policy, profile; twice; deleted twice",
	                 test_access_create_delete) ||
	    !CU_add_test(s, "terminate, wait for terminated, fail fast", test_terminate) ||
	    !CU_add_test(s, "a wrong secret is refused", test_wrong_secret)) {
		CU_cleanup_registry();
		return 2;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	int rc = CU_basic_run_tests();
	/* a suite whose setup failed counts: no moto is no pass */
	unsigned int failures = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	if (rc != CUE_SUCCESS)
		return 2;
	return failures ? 1 : 0;
}
