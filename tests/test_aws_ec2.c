/* The aws plugin's EC2 operations against a real moto_server that checks
   every signature (tests/aws/moto.sh), loaded the way petal loads it (the
   registry over PETAL_PLUGIN_PATH, the real host table and its libcurl
   http; tests/aws/s3test.h).  DescribeImages goes through
   tests/aws/ec2_pager.py, which pages moto's answers as EC2 does (moto
   ignores MaxResults there).  What petal did is checked with the aws CLI,
   an independent client talking to moto directly.  aws_resolve_ami and the
   base64 and id helpers are no ops: they are compiled in from the plugin's
   sources and run on a context of their own. */
#define _GNU_SOURCE /* vasprintf, setenv */
#include "config.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <signal.h>
#include <time.h>

#include "aws/s3test.h"
#include "../plugins/cloud_aws/aws_ctx.h"
#include "../plugins/cloud_aws/ec2.h"
#include "../plugins/cloud_aws/ec2_query.h"

#define OPS T.ops

static void *east, *west;          /* plugin contexts */
static struct aws_ctx *r_east, *r_west; /* for aws_resolve_ami */
static pid_t pager_pid;
static char pager_url[128];

/* what the tests share, in the order they run */
static char seed_hash[65], base_id[64], base_name[256], instance_id[64];
static char image_id[64], image_name[128], newer_id[64], copy_id[64];
static char snapshots[256];

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- the aws CLI, talking to moto directly ------------------------------------ */

/* `aws --output text ARGS` against moto; its output (and with with_stderr
   its errors), trimmed, into out.  Returns the exit status. */
__attribute__((format(printf, 4, 5)))
static int cli(char *out, size_t len, int with_stderr, const char *fmt, ...)
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

/* Field i (0-based) of tab-separated text, into buf. */
static const char *field(const char *text, int i, char *buf, size_t len)
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
	if (!(east = plugin_ctx("us-east-1")) || !(west = plugin_ctx("us-west-2")) ||
	    aws_ctx_new(T.reg.host, "us-east-1", &r_east, &err) != 0 ||
	    aws_ctx_new(T.reg.host, "us-west-2", &r_west, &err) != 0)
		return -1;
	snprintf(seed_hash, sizeof(seed_hash), "%016lx%016lx%016lx%016lx", (long)getpid(),
	         (long)time(NULL), 0xfeedbeefL, 0x5eedL);
	return 0;
}

static int suite_cleanup(void)
{
	if (east)
		T.desc->fini(east);
	if (west)
		T.desc->fini(west);
	east = west = NULL;
	aws_ctx_free(r_east);
	aws_ctx_free(r_west);
	r_east = r_west = NULL;
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
	CU_ASSERT(OPS->instance_launch && OPS->instance_describe && OPS->instance_wait &&
	          OPS->instance_logs && OPS->instance_terminate);
	CU_ASSERT(OPS->image_create && OPS->image_find && OPS->image_list && OPS->image_copy &&
	          OPS->image_wait && OPS->image_delete);
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
	snprintf(base_id, sizeof(base_id), "%s", field(out, 0, buf, sizeof(buf)));
	snprintf(base_name, sizeof(base_name), "%s", field(out, 1, buf, sizeof(buf)));
	CU_ASSERT_FATAL(aws_ami_id_valid(base_id));
	char subnet[64];
	CU_ASSERT_EQUAL_FATAL(cli(subnet, sizeof(subnet), 0, "--region us-east-1 ec2 "
	                          "describe-subnets --query 'Subnets[0].SubnetId'"), 0);
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 create-key-pair "
	                          "--key-name petal-test --query KeyName"), 0);

	struct petal_tag tags[] = { { "petal:seed-hash", seed_hash },
		                    { "Name", "petal build & test <1>" } };
	struct petal_instance_request req = {
		.size = sizeof(req), .instance_type = "c5.2xlarge", .spot = 1,
		.image_id = base_name, .user_data = USER_DATA, .tags = tags, .n_tags = 2,
		.instance_profile = "petal-build", .root_volume_gb = 40, .subnet_id = subnet,
		.key_name = "petal-test",
	};
	struct petal_instance inst = { .size = sizeof(inst) };
	struct petal_error err = { 0 };
	int rc = OPS->instance_launch(east, &req, &inst, &err);
	if (rc)
		fprintf(stderr, "\n  launch: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(strncmp(inst.id, "i-", 2), 0);
	CU_ASSERT_STRING_EQUAL(inst.image_id, base_id);
	CU_ASSERT_STRING_EQUAL(inst.type, "c5.2xlarge");
	CU_ASSERT(strcmp(inst.state, "pending") == 0 || strcmp(inst.state, "running") == 0);
	CU_ASSERT(inst.launched > time(NULL) - 3600 && inst.launched <= time(NULL) + 60);
	snprintf(instance_id, sizeof(instance_id), "%s", inst.id);

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
	CU_ASSERT_STRING_EQUAL(field(out, 5, buf, sizeof(buf)), base_id);
	CU_ASSERT_STRING_EQUAL(field(out, 6, buf, sizeof(buf)), seed_hash);
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
	CU_ASSERT_STRING_EQUAL(field(out, 2, buf, sizeof(buf)), seed_hash);
}

static void test_describe(void)
{
	CU_ASSERT_FATAL(instance_id[0]);
	/* members past the caller's size are left alone */
	struct petal_instance small;
	memset(&small, 0x5a, sizeof(small));
	small.size = offsetof(struct petal_instance, image_id);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(OPS->instance_describe(east, instance_id, &small, &err), 0);
	CU_ASSERT_STRING_EQUAL(small.id, instance_id);
	CU_ASSERT_STRING_EQUAL(small.state, "running");
	CU_ASSERT_EQUAL((unsigned char)small.image_id[0], 0x5a);

	struct petal_instance inst = { .size = sizeof(inst) };
	CU_ASSERT_EQUAL(OPS->instance_describe(east, "i-0123456789abcdef0", &inst, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "i-0123456789abcdef0"));
	/* instances are regional */
	CU_ASSERT_EQUAL(OPS->instance_describe(west, instance_id, &inst, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->instance_describe(east, "", &inst, &err), PETAL_EINVAL);
}

static void test_wait_running(void)
{
	struct petal_error err = { 0 };
	double t0 = now_s();
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "running", 60, &err), 0);
	CU_ASSERT(now_s() - t0 < 10);
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "sleeping", 60, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "sleeping"));
}

static void test_wait_timeout(void)
{
	struct petal_error err = { 0 };
	double t0 = now_s();
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "stopped", 3, &err), PETAL_ETIMEOUT);
	double took = now_s() - t0;
	CU_ASSERT(took >= 2.9 && took < 15);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "still running"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, instance_id));
	/* 0: one look, no waiting */
	t0 = now_s();
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "stopped", 0, &err), PETAL_ETIMEOUT);
	CU_ASSERT(now_s() - t0 < 5);
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "running", 0, &err), 0);
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
	CU_ASSERT_EQUAL_FATAL(OPS->instance_logs(east, instance_id, collect, &t, &err), 0);
	CU_ASSERT(t.len > 0);
	static char cli_text[70000];
	CU_ASSERT_EQUAL_FATAL(cli(cli_text, sizeof(cli_text), 0, "--region us-east-1 ec2 "
	                          "get-console-output --instance-id %s --query Output",
	                          instance_id), 0);
	while (t.len && (t.buf[t.len - 1] == '\n' || t.buf[t.len - 1] == ' '))
		t.buf[--t.len] = '\0';
	CU_ASSERT_STRING_EQUAL(t.buf, cli_text);
	/* the callback's non-zero stops and comes back */
	memset(&t, 0, sizeof(t));
	t.stop_after = 1;
	CU_ASSERT_EQUAL(OPS->instance_logs(east, instance_id, collect, &t, &err), 42);
	CU_ASSERT_EQUAL(t.calls, 1);
	CU_ASSERT_NOT_EQUAL(OPS->instance_logs(east, "i-0123456789abcdef0", collect, &t, &err), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
}

/* ---- images ------------------------------------------------------------------------ */

static void test_image_create_find(void)
{
	CU_ASSERT_FATAL(instance_id[0]);
	snprintf(image_name, sizeof(image_name), "petal-test-%s-a", seed_hash + 48);
	struct petal_tag tags[] = { { "petal:seed-hash", seed_hash }, { "petal:stage", "ami" } };
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	int rc = OPS->image_create(east, instance_id, image_name, tags, 2, &img, &err);
	if (rc)
		fprintf(stderr, "\n  create: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_FATAL(aws_ami_id_valid(img.id));
	CU_ASSERT_STRING_EQUAL(img.name, image_name);
	CU_ASSERT_STRING_EQUAL(img.region, "us-east-1");
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	snprintf(image_id, sizeof(image_id), "%s", img.id);

	char out[1024], buf[256];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].[Name,SourceInstanceId,"
	                    "Tags[?Key==`petal:seed-hash`]|[0].Value,"
	                    "BlockDeviceMappings[0].Ebs.SnapshotId]'", image_id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), image_name);
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), instance_id);
	CU_ASSERT_STRING_EQUAL(field(out, 2, buf, sizeof(buf)), seed_hash);
	CU_ASSERT_EQUAL(strncmp(field(out, 3, buf, sizeof(buf)), "snap-", 5), 0);

	/* by tag, by name, by both, by a wildcard */
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:seed-hash", seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, image_id);
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, image_id);
	CU_ASSERT_STRING_EQUAL(f.state, "available");
	CU_ASSERT(f.created > 0);
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:stage", NULL, image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, image_id);
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "petal-test-%.8s*", seed_hash + 48);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, pattern, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, image_id);
	/* none */
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:seed-hash", "0000", NULL, &f, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "petal:seed-hash=0000"));
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:seed-hash", seed_hash, "other-name", &f, &err),
	                PETAL_ENOENT);
	/* Amazon's images are not this account's */
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, base_name, &f, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->image_find(west, "petal:seed-hash", seed_hash, NULL, &f, &err),
	                PETAL_ENOENT);
	/* AWS's own tags may be searched, though not set */
	CU_ASSERT_EQUAL(OPS->image_find(east, "aws:cloudformation:stack-name", "x", NULL, &f, &err),
	                PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, NULL, &f, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, "bad,name", &f, &err), PETAL_EINVAL);

	/* the newest wins: EC2 stamps creation to the second */
	sleep(2);
	char newer_name[160];
	snprintf(newer_name, sizeof(newer_name), "petal-test-%s-b", seed_hash + 48);
	CU_ASSERT_EQUAL_FATAL(OPS->image_create(east, instance_id, newer_name, tags, 1, &img, &err),
	                      0);
	snprintf(newer_id, sizeof(newer_id), "%s", img.id);
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:seed-hash", seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, newer_id);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, pattern, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, newer_id);
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, image_id);
	/* CreateImage of an unknown instance: EC2's refusal, the image named */
	CU_ASSERT_EQUAL(OPS->image_create(east, "i-0123456789abcdef0", "petal-never", NULL, 0, &img,
	                                 &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "petal-never"));
}

struct seen {
	char ids[64][64];
	int count[64];
	size_t n, total;
};

static int see(void *arg, const struct petal_image *img)
{
	struct seen *s = arg;
	s->total++;
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->ids[i], img->id) == 0) {
			s->count[i]++;
			return 0;
		}
	if (s->n < 64) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", img->id);
		s->count[s->n++] = 1;
	}
	return 0;
}

static int stop_at_three(void *arg, const struct petal_image *img)
{
	(void)img;
	return ++*(int *)arg == 3 ? 7 : 0;
}

static size_t pager_pages(const char *max)
{
	char path[PATH_MAX + 16], line[256];
	snprintf(path, sizeof(path), "%s/pager.log", T.dir);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, max) != NULL;
	if (f)
		fclose(f);
	return n;
}

static void test_image_list_pages(void)
{
	CU_ASSERT_FATAL(instance_id[0]);
	enum { N = 13 };
	char made[N][64];
	char run[32];
	snprintf(run, sizeof(run), "list-%ld", (long)getpid());
	struct petal_tag tag = { "petal:list-test", run };
	struct petal_error err = { 0 };
	for (int i = 0; i < N; i++) {
		char name[64];
		snprintf(name, sizeof(name), "petal-list-%s-%02d", run, i);
		struct petal_image img = { .size = sizeof(img) };
		CU_ASSERT_EQUAL_FATAL(OPS->image_create(east, instance_id, name, &tag, 1, &img, &err),
		                      0);
		snprintf(made[i], sizeof(made[i]), "%s", img.id);
	}
	size_t pages_before = pager_pages("max=5 ");
	static struct seen s;
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(OPS->image_list(east, "petal:list-test", see, &s, &err), 0);
	CU_ASSERT_EQUAL(s.total, N);
	CU_ASSERT_EQUAL(s.n, N);
	for (int i = 0; i < N; i++) {
		int found = 0;
		for (size_t j = 0; j < s.n; j++)
			if (strcmp(s.ids[j], made[i]) == 0)
				found = s.count[j];
		CU_ASSERT_EQUAL(found, 1);
	}
	/* 13 images in pages of 5: three pages */
	CU_ASSERT_EQUAL(pager_pages("max=5 ") - pages_before, 3);
	/* without a tag: every image of the account, these and the earlier ones */
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(OPS->image_list(east, NULL, see, &s, &err), 0);
	CU_ASSERT_EQUAL(s.total, N + 2);
	CU_ASSERT_EQUAL(s.n, N + 2);
	int calls = 0;
	CU_ASSERT_EQUAL(OPS->image_list(east, "petal:list-test", stop_at_three, &calls, &err), 7);
	CU_ASSERT_EQUAL(calls, 3);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(OPS->image_delete(east, made[i], &err), 0);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(OPS->image_list(east, "petal:list-test", see, &s, &err), 0);
	CU_ASSERT_EQUAL(s.total, 0);
}

static void test_image_copy(void)
{
	CU_ASSERT_FATAL(newer_id[0]);
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	/* from the context's region (NULL) to us-west-2 */
	int rc = OPS->image_copy(east, newer_id, NULL, "us-west-2", &img, &err);
	if (rc)
		fprintf(stderr, "\n  copy: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_FATAL(aws_ami_id_valid(img.id));
	CU_ASSERT_STRING_NOT_EQUAL(img.id, newer_id);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	snprintf(copy_id, sizeof(copy_id), "%s", img.id);
	CU_ASSERT_EQUAL(OPS->image_wait(west, copy_id, 60, &err), 0);

	/* found there by the tag it carried over, not in the source region */
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(west, "petal:seed-hash", seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, copy_id);
	CU_ASSERT_STRING_EQUAL(f.region, "us-west-2");
	CU_ASSERT_EQUAL(OPS->image_find(east, "petal:seed-hash", seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, newer_id);
	char out[512], buf[256];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-west-2 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].[Name,"
	                    "Tags[?Key==`petal:seed-hash`]|[0].Value]'", copy_id), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(field(out, 0, buf, sizeof(buf)), "-b"));
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), seed_hash);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 1, "--region us-east-1 ec2 describe-images "
	                        "--image-ids %s", copy_id), 0);

	/* the same, called from the other side: west's context copying from east */
	CU_ASSERT_EQUAL(OPS->image_copy(west, image_id, "us-east-1", "us-west-2", &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	CU_ASSERT_EQUAL(OPS->image_delete(west, img.id, &err), 0);
	/* an image that is not in the source region */
	CU_ASSERT_EQUAL(OPS->image_copy(east, copy_id, NULL, "us-west-2", &img, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
}

static void test_resolve(void)
{
	CU_ASSERT_FATAL(image_id[0] && copy_id[0]);
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	/* our own image by name, in each region */
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, image_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, image_id);
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	CU_ASSERT_STRING_EQUAL(img.region, "us-east-1");
	char newer_name[160];
	snprintf(newer_name, sizeof(newer_name), "petal-test-%s-b", seed_hash + 48);
	CU_ASSERT_EQUAL(aws_resolve_ami(r_west, newer_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, copy_id);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	/* by id: itself */
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, image_id, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.name, image_name);
	/* Amazon's, by name, with the architecture the CLI reports */
	char out[512], buf[256], arm_name[256];
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                          "--owners amazon --filters Name=name,Values='amzn2-ami-hvm-*' "
	                          "--query 'sort_by(Images[?Architecture==`arm64`], &Name)[0]."
	                          "[ImageId,Name,Architecture]'"), 0);
	snprintf(arm_name, sizeof(arm_name), "%s", field(out, 1, buf, sizeof(buf)));
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, arm_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, field(out, 0, buf, sizeof(buf)));
	CU_ASSERT_STRING_EQUAL(img.arch, "arm64");
	/* a wildcard matching several: the newest of them */
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "petal-test-%s-?", seed_hash + 48);
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, pattern, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, newer_id);
	/* a name that looks like an id is a name */
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, "ami-base-bio-v2", &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'ami-base-bio-v2'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_EQUAL(aws_resolve_ami(r_west, image_name, &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-west-2"));
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, "bad\"name", &img, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, "", &img, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, NULL, &img, &err), PETAL_EINVAL);
}

static void test_unknown_ids(void)
{
	const char *unknown = "ami-0123456789abcdef0";
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_resolve_ami(r_east, unknown, &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id "));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "request id none"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_EQUAL(OPS->image_delete(east, unknown, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id "));
	/* a waiter that times out says so, with what EC2 last said */
	double t0 = now_s();
	CU_ASSERT_EQUAL(OPS->image_wait(east, unknown, 2, &err), PETAL_ETIMEOUT);
	CU_ASSERT(now_s() - t0 >= 1.9);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
	/* malformed: EC2's own refusal, at once */
	t0 = now_s();
	CU_ASSERT_NOT_EQUAL(OPS->image_wait(east, "not-an-image", 30, &err), 0);
	CU_ASSERT(now_s() - t0 < 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.Malformed"));
}

static void test_image_wait_delete(void)
{
	CU_ASSERT_FATAL(image_id[0] && newer_id[0] && copy_id[0]);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(OPS->image_wait(east, image_id, 60, &err), 0);
	char out[1024];
	CU_ASSERT_EQUAL_FATAL(cli(snapshots, sizeof(snapshots), 0, "--region us-east-1 ec2 "
	                          "describe-images --image-ids %s --query "
	                          "'Images[0].BlockDeviceMappings[].Ebs.SnapshotId'",
	                          image_id), 0);
	CU_ASSERT_EQUAL_FATAL(strncmp(snapshots, "snap-", 5), 0);
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-snapshots "
	                    "--snapshot-ids %s --query 'Snapshots[0].SnapshotId'", snapshots), 0);
	CU_ASSERT_STRING_EQUAL(out, snapshots);

	CU_ASSERT_EQUAL_FATAL(OPS->image_delete(east, image_id, &err), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 1, "--region us-east-1 ec2 describe-snapshots "
	                        "--snapshot-ids %s", snapshots), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "InvalidSnapshot.NotFound"));
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--owners self --query 'Images[].ImageId'"), 0);
	CU_ASSERT_PTR_NULL(strstr(out, image_id));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, newer_id));
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(east, NULL, NULL, image_name, &f, &err), PETAL_ENOENT);
	/* gone: waiting for it fails at once, deleting again is an error */
	double t0 = now_s();
	CU_ASSERT_EQUAL(OPS->image_wait(east, image_id, 30, &err), PETAL_ENOENT);
	CU_ASSERT(now_s() - t0 < 10);
	CU_ASSERT_NOT_EQUAL(OPS->image_delete(east, image_id, &err), 0);

	/* Amazon's images are not ours to delete */
	CU_ASSERT_EQUAL(OPS->image_delete(east, base_id, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "amazon"));
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].ImageId'", base_id), 0);
	CU_ASSERT_STRING_EQUAL(out, base_id);

	CU_ASSERT_EQUAL(OPS->image_delete(east, newer_id, &err), 0);
	CU_ASSERT_EQUAL(OPS->image_delete(west, copy_id, &err), 0);
	CU_ASSERT_EQUAL(OPS->image_find(west, "petal:seed-hash", seed_hash, NULL, &f, &err),
	                PETAL_ENOENT);
}

static void test_terminate(void)
{
	CU_ASSERT_FATAL(instance_id[0]);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(OPS->instance_terminate(east, instance_id, &err), 0);
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "terminated", 60, &err), 0);
	struct petal_instance inst = { .size = sizeof(inst) };
	CU_ASSERT_EQUAL(OPS->instance_describe(east, instance_id, &inst, &err), 0);
	CU_ASSERT_STRING_EQUAL(inst.state, "terminated");
	/* terminated is final: waiting for running fails fast */
	double t0 = now_s();
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "running", 60, &err), PETAL_ECLOUD);
	CU_ASSERT(now_s() - t0 < 5);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "terminated"));
	CU_ASSERT_EQUAL(OPS->instance_wait(east, instance_id, "stopped", 60, &err), PETAL_ECLOUD);
	/* again: harmless */
	CU_ASSERT_EQUAL(OPS->instance_terminate(east, instance_id, &err), 0);
	CU_ASSERT_NOT_EQUAL(OPS->instance_terminate(east, "i-0123456789abcdef0", &err), 0);
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
		.size = sizeof(ok), .instance_type = "c5.large", .image_id = base_id,
	};
	struct petal_instance_request r;
	struct petal_instance inst = { .size = sizeof(inst) };
	struct petal_error err = { 0 };
	r = ok, r.instance_type = NULL;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.image_id = "";
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.user_data = big;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "16384"));
	r = ok, r.tags = &aws_tag, r.n_tags = 1;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "aws:"));
	r = ok, r.tags = many, r.n_tags = 51;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.tags = NULL, r.n_tags = 2;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	r = ok, r.root_volume_gb = -1;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	/* smaller than the image's snapshot (moto's are 15 GiB) */
	r = ok, r.root_volume_gb = 8;
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "15 GiB"));
	r = ok, r.image_id = "no-such-image-name";
	CU_ASSERT_EQUAL(OPS->instance_launch(east, &r, &inst, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->instance_launch(east, NULL, &inst, &err), PETAL_EINVAL);
	/* a caller built against an older, shorter request: what lies past its
	   size (bad tags, a too small root volume) is not read */
	r = ok, r.size = offsetof(struct petal_instance_request, tags);
	r.spot = 1, r.tags = &aws_tag, r.n_tags = 1, r.root_volume_gb = 8;
	CU_ASSERT_EQUAL_FATAL(OPS->instance_launch(east, &r, &inst, &err), 0);
	char out[256], buf[64];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-instances "
	                    "--instance-ids %s --query 'Reservations[0].Instances[0]."
	                    "[InstanceLifecycle,length(Tags || `[]`)]'", inst.id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), "spot");
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), "0");
	CU_ASSERT_EQUAL(OPS->instance_terminate(east, inst.id, &err), 0);

	CU_ASSERT_EQUAL(OPS->image_create(east, instance_id, "x", NULL, 0, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_create(east, instance_id, "a*b-name", NULL, 0, NULL, &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_create(east, "", "good-name", NULL, 0, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->instance_logs(east, instance_id, NULL, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_list(east, NULL, NULL, NULL, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->instance_wait(NULL, instance_id, "running", 1, &err), PETAL_EINVAL);
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
	CU_ASSERT_EQUAL(OPS->image_find(bad, "petal:seed-hash", seed_hash, NULL, &f, &err),
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
	    !CU_add_test(s, "the descriptor offers compute and images", test_descriptor) ||
	    !CU_add_test(s, "launch: spot, tags, user data, profile, root volume", test_launch) ||
	    !CU_add_test(s, "describe: fields, sizes, unknown ids, regions", test_describe) ||
	    !CU_add_test(s, "wait for running", test_wait_running) ||
	    !CU_add_test(s, "console output, decoded and streamed", test_logs) ||
	    !CU_add_test(s, "a waiter that times out", test_wait_timeout) ||
	    !CU_add_test(s, "create an image; find it by tag and name; newest first",
	                 test_image_create_find) ||
	    !CU_add_test(s, "list every image across pages", test_image_list_pages) ||
	    !CU_add_test(s, "copy to another region, tags and all", test_image_copy) ||
	    !CU_add_test(s, "custom_ami: names to ids, per region", test_resolve) ||
	    !CU_add_test(s, "unknown ids: AWS's code and request id", test_unknown_ids) ||
	    !CU_add_test(s, "wait for available; delete with snapshots", test_image_wait_delete) ||
	    !CU_add_test(s, "bad requests", test_bad_input) ||
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
