/* The image tests of tests/test_aws_ec2.c: create, find, list across
   pages, copy to another region, resolve custom_ami names, wait, delete
   with snapshots, unknown ids.  They run after the instance tests, on the
   instance those launched (ec2test.h). */
#define _GNU_SOURCE /* setenv */
#include "config.h"

#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ec2test.h"
#include "../../plugins/cloud_aws/ec2.h"
#include "../../plugins/cloud_aws/ec2_query.h"

void test_image_create_find(void)
{
	CU_ASSERT_FATAL(E.instance_id[0]);
	snprintf(E.image_name, sizeof(E.image_name), "petal-test-%.16s-a", E.seed_hash + 48);
	struct petal_tag tags[] = { { "petal:seed-hash", E.seed_hash }, { "petal:stage", "ami" } };
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	int rc = OPS->image_create(E.east, E.instance_id, E.image_name, tags, 2, &img, &err);
	if (rc)
		fprintf(stderr, "\n  create: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_FATAL(aws_ami_id_valid(img.id));
	CU_ASSERT_STRING_EQUAL(img.name, E.image_name);
	CU_ASSERT_STRING_EQUAL(img.region, "us-east-1");
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	snprintf(E.image_id, sizeof(E.image_id), "%s", img.id);

	char out[1024], buf[256];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].[Name,SourceInstanceId,"
	                    "Tags[?Key==`petal:seed-hash`]|[0].Value,"
	                    "BlockDeviceMappings[0].Ebs.SnapshotId]'", E.image_id), 0);
	CU_ASSERT_STRING_EQUAL(field(out, 0, buf, sizeof(buf)), E.image_name);
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), E.instance_id);
	CU_ASSERT_STRING_EQUAL(field(out, 2, buf, sizeof(buf)), E.seed_hash);
	CU_ASSERT_EQUAL(strncmp(field(out, 3, buf, sizeof(buf)), "snap-", 5), 0);

	/* by tag, by name, by both, by a wildcard */
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:seed-hash", E.seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.image_id);
	memset(&f, 0, sizeof(f));
	f.size = sizeof(f);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, E.image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.image_id);
	CU_ASSERT_STRING_EQUAL(f.state, "available");
	CU_ASSERT(f.created > 0);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:stage", NULL, E.image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.image_id);
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "petal-test-%.8s*", E.seed_hash + 48);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, pattern, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.image_id);
	/* none */
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:seed-hash", "0000", NULL, &f, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "petal:seed-hash=0000"));
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:seed-hash", E.seed_hash, "other-name", &f, &err),
	                PETAL_ENOENT);
	/* Amazon's images are not this account's */
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, E.base_name, &f, &err), PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->image_find(E.west, "petal:seed-hash", E.seed_hash, NULL, &f, &err),
	                PETAL_ENOENT);
	/* AWS's own tags may be searched, though not set */
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "aws:cloudformation:stack-name", "x", NULL, &f, &err),
	                PETAL_ENOENT);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, NULL, &f, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, "bad,name", &f, &err), PETAL_EINVAL);

	/* the newest wins: EC2 stamps creation to the second */
	sleep(2);
	char newer_name[160];
	snprintf(newer_name, sizeof(newer_name), "petal-test-%.16s-b", E.seed_hash + 48);
	CU_ASSERT_EQUAL_FATAL(OPS->image_create(E.east, E.instance_id, newer_name, tags, 1, &img, &err),
	                      0);
	snprintf(E.newer_id, sizeof(E.newer_id), "%s", img.id);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:seed-hash", E.seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.newer_id);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, pattern, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.newer_id);
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, E.image_name, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.image_id);
	/* CreateImage of an unknown instance: EC2's refusal, the image named */
	CU_ASSERT_EQUAL(OPS->image_create(E.east, "i-0123456789abcdef0", "petal-never", NULL, 0, &img,
	                                 &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidInstanceID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "petal-never"));
}

/* EC2's answer as AWS documents it (moto keeps neither deprecation times
   nor the volume sizes it is given: every image of moto is 15 GB) */
void test_image_read(void)
{
	static const char xml[] =
		"<DescribeImagesResponse><imagesSet><item>"
		"<imageId>ami-0123456789abcdef0</imageId><name>pc-1</name>"
		"<imageState>available</imageState><architecture>arm64</architecture>"
		"<imageOwnerId>247102896272</imageOwnerId><imageOwnerAlias>amazon</imageOwnerAlias>"
		"<creationDate>2024-10-01T12:00:00.000Z</creationDate>"
		"<deprecationTime>2026-10-01T12:00:00.000Z</deprecationTime>"
		"<blockDeviceMapping>"
		"<item><deviceName>/dev/xvda</deviceName><ebs><snapshotId>snap-1</snapshotId>"
		"<volumeSize>40</volumeSize></ebs></item>"
		"<item><deviceName>/dev/xvdb</deviceName><ebs><volumeSize>8</volumeSize></ebs></item>"
		"<item><deviceName>/dev/sdc</deviceName><virtualName>ephemeral0</virtualName></item>"
		"</blockDeviceMapping>"
		"<tagSet><item><key>petal:seed</key><value>bio</value></item>"
		"<item><key>Name</key><value></value></item></tagSet>"
		"</item></imagesSet></DescribeImagesResponse>";
	struct xml_node *doc;
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL_FATAL(xml_parse(xml, sizeof(xml) - 1, &doc, &err), 0);
	static struct petal_image img;
	ec2_image_read(xml_find(doc, "imagesSet/item"), "eu-west-1", &img);
	xml_free(doc);
	CU_ASSERT_STRING_EQUAL(img.owner_id, "247102896272");
	CU_ASSERT_STRING_EQUAL(img.owner_alias, "amazon");
	CU_ASSERT_STRING_EQUAL(img.deprecation_time, "2026-10-01T12:00:00.000Z");
	CU_ASSERT_DOUBLE_EQUAL(img.size_gb, 48.0, 1e-9);
	CU_ASSERT_EQUAL(img.n_tags, 2);
	CU_ASSERT_FALSE(img.tags_truncated);
	CU_ASSERT_STRING_EQUAL(petal_image_tag(&img, "petal:seed"), "bio");
	CU_ASSERT_STRING_EQUAL(petal_image_tag(&img, "Name"), "");
	CU_ASSERT_PTR_NULL(petal_image_tag(&img, "petal:run"));

	/* more tags than the struct holds: the first 50, and said so */
	size_t cap = 64 * 1024;
	char *many = malloc(cap);
	CU_ASSERT_FATAL(many != NULL);
	size_t n = (size_t)snprintf(many, cap, "<r><imagesSet><item><imageId>ami-12345678</imageId>"
	                            "<tagSet>");
	for (int i = 0; i < 60; i++)
		n += (size_t)snprintf(many + n, cap - n, "<item><key>k%d</key><value>v%d</value>"
		                      "</item>", i, i);
	n += (size_t)snprintf(many + n, cap - n, "</tagSet></item></imagesSet></r>");
	CU_ASSERT_EQUAL_FATAL(xml_parse(many, n, &doc, &err), 0);
	ec2_image_read(xml_find(doc, "imagesSet/item"), "eu-west-1", &img);
	xml_free(doc);
	free(many);
	CU_ASSERT_EQUAL(img.n_tags, PETAL_IMAGE_MAX_TAGS);
	CU_ASSERT_TRUE(img.tags_truncated);
	CU_ASSERT_STRING_EQUAL(petal_image_tag(&img, "k49"), "v49");
	CU_ASSERT_PTR_NULL(petal_image_tag(&img, "k50"));
	CU_ASSERT_EQUAL(img.size_gb, 0);
	CU_ASSERT_STRING_EQUAL(img.deprecation_time, "");
}

struct found {
	char ids[8][64];
	size_t n;
	int all_tagged, all_amazon, all_owned;
	double gb;
};

static int on_found(void *arg, const struct petal_image *img)
{
	struct found *f = arg;
	if (f->n < 8)
		snprintf(f->ids[f->n], sizeof(f->ids[0]), "%s", img->id);
	if (f->n++ == 0)
		f->all_tagged = f->all_amazon = f->all_owned = 1;
	const char *h = petal_image_tag(img, "petal:seed-hash");
	f->all_tagged &= h && strcmp(h, E.seed_hash) == 0;
	f->all_amazon &= strcmp(img->owner_alias, "amazon") == 0;
	f->all_owned &= img->owner_id[0] != 0;
	f->gb += img->size_gb;
	return 0;
}

static int stop_at_one(void *arg, const struct petal_image *img)
{
	(void)img;
	++*(int *)arg;
	return 9;
}

/* Lines of the pager's log holding `what`. */
static size_t pager_lines(const char *what)
{
	char path[PATH_MAX + 16], line[256];
	snprintf(path, sizeof(path), "%s/pager.log", E.dir);
	FILE *f = fopen(path, "r");
	size_t n = 0;
	while (f && fgets(line, sizeof(line), f))
		n += strstr(line, what) != NULL;
	if (f)
		fclose(f);
	return n;
}

void test_image_search(void)
{
	CU_ASSERT_FATAL(E.image_id[0] && E.newer_id[0]);
	struct petal_error err = { 0 };
	char pattern[160], out[2048], buf[256];
	snprintf(pattern, sizeof(pattern), "petal-test-%.16s-*", E.seed_hash + 48);

	/* our own two, with their tags, owner and size as describe-images says */
	size_t asked = pager_lines("include_deprecated=true");
	struct found f = { .n = 0 };
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "self", pattern, on_found, &f, &err), 0);
	CU_ASSERT_EQUAL(f.n, 2);
	CU_ASSERT(f.n == 2 && ((!strcmp(f.ids[0], E.image_id) && !strcmp(f.ids[1], E.newer_id)) ||
	                       (!strcmp(f.ids[1], E.image_id) && !strcmp(f.ids[0], E.newer_id))));
	CU_ASSERT_TRUE(f.all_tagged);
	CU_ASSERT_TRUE(f.all_owned);
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--owners self --filters Name=name,Values='%s' --query "
	                    "'sum(Images[].BlockDeviceMappings[].Ebs.VolumeSize)'", pattern), 0);
	CU_ASSERT(f.gb > 0);
	CU_ASSERT_DOUBLE_EQUAL(f.gb, atof(out), 1e-9);
	/* deprecated images were asked for, as EC2 hides them otherwise */
	CU_ASSERT(pager_lines("include_deprecated=true") > asked);

	/* Amazon's: as many as the aws CLI lists, every one Amazon's */
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                          "--owners amazon --filters Name=name,Values='amzn2-ami-hvm-*' "
	                          "--query 'length(Images)'"), 0);
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "amazon", "amzn2-ami-hvm-*", on_found, &f,
	                                  &err), 0);
	CU_ASSERT(f.n > 0);
	CU_ASSERT_EQUAL(f.n, (size_t)atoi(out));
	CU_ASSERT_TRUE(f.all_amazon);
	/* the account's own by its id are the same as self's */
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].OwnerId'", E.image_id), 0);
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(OPS->image_search(E.east, field(out, 0, buf, sizeof(buf)), pattern,
	                                  on_found, &f, &err), 0);
	CU_ASSERT_EQUAL(f.n, 2);

	/* none there: 0, the callback never called */
	memset(&f, 0, sizeof(f));
	CU_ASSERT_EQUAL(OPS->image_search(E.west, "self", pattern, on_found, &f, &err), 0);
	CU_ASSERT_EQUAL(f.n, 0);
	/* the callback's non-zero stops it */
	int calls = 0;
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "self", pattern, stop_at_one, &calls, &err), 9);
	CU_ASSERT_EQUAL(calls, 1);
	/* bad owners and patterns never reach EC2 */
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "someone", pattern, on_found, &f, &err),
	                PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'someone'"));
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "12345", pattern, on_found, &f, &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "self", "bad,name*", on_found, &f, &err),
	                PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "self", NULL, on_found, &f, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(OPS->image_search(E.east, "self", pattern, NULL, NULL, &err), PETAL_EINVAL);
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
	return pager_lines(max);
}

void test_image_list_pages(void)
{
	CU_ASSERT_FATAL(E.instance_id[0]);
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
		CU_ASSERT_EQUAL_FATAL(OPS->image_create(E.east, E.instance_id, name, &tag, 1, &img, &err),
		                      0);
		snprintf(made[i], sizeof(made[i]), "%s", img.id);
	}
	size_t pages_before = pager_pages("max=5 ");
	static struct seen s;
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(OPS->image_list(E.east, "petal:list-test", see, &s, &err), 0);
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
	CU_ASSERT_EQUAL(OPS->image_list(E.east, NULL, see, &s, &err), 0);
	CU_ASSERT_EQUAL(s.total, N + 2);
	CU_ASSERT_EQUAL(s.n, N + 2);
	int calls = 0;
	CU_ASSERT_EQUAL(OPS->image_list(E.east, "petal:list-test", stop_at_three, &calls, &err), 7);
	CU_ASSERT_EQUAL(calls, 3);
	for (int i = 0; i < N; i++)
		CU_ASSERT_EQUAL(OPS->image_delete(E.east, made[i], &err), 0);
	memset(&s, 0, sizeof(s));
	CU_ASSERT_EQUAL(OPS->image_list(E.east, "petal:list-test", see, &s, &err), 0);
	CU_ASSERT_EQUAL(s.total, 0);
}

void test_image_copy(void)
{
	CU_ASSERT_FATAL(E.newer_id[0]);
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	/* from the context's region (NULL) to us-west-2 */
	int rc = OPS->image_copy(E.east, E.newer_id, NULL, "us-west-2", &img, &err);
	if (rc)
		fprintf(stderr, "\n  copy: %s\n", err.msg);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_FATAL(aws_ami_id_valid(img.id));
	CU_ASSERT_STRING_NOT_EQUAL(img.id, E.newer_id);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	snprintf(E.copy_id, sizeof(E.copy_id), "%s", img.id);
	CU_ASSERT_EQUAL(door_wait_image(E.west, E.copy_id, 60, &err), 0);

	/* found there by the tag it carried over, not in the source region */
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(E.west, "petal:seed-hash", E.seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.copy_id);
	CU_ASSERT_STRING_EQUAL(f.region, "us-west-2");
	CU_ASSERT_EQUAL(OPS->image_find(E.east, "petal:seed-hash", E.seed_hash, NULL, &f, &err), 0);
	CU_ASSERT_STRING_EQUAL(f.id, E.newer_id);
	char out[512], buf[256];
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-west-2 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].[Name,"
	                    "Tags[?Key==`petal:seed-hash`]|[0].Value]'", E.copy_id), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(field(out, 0, buf, sizeof(buf)), "-b"));
	CU_ASSERT_STRING_EQUAL(field(out, 1, buf, sizeof(buf)), E.seed_hash);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 1, "--region us-east-1 ec2 describe-images "
	                        "--image-ids %s", E.copy_id), 0);

	/* the same, called from the other side: E.west's context copying from E.east */
	CU_ASSERT_EQUAL(OPS->image_copy(E.west, E.image_id, "us-east-1", "us-west-2", &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	CU_ASSERT_EQUAL(OPS->image_delete(E.west, img.id, &err), 0);
	/* an image that is not in the source region */
	CU_ASSERT_EQUAL(OPS->image_copy(E.east, E.copy_id, NULL, "us-west-2", &img, &err),
	                PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
}

void test_resolve(void)
{
	CU_ASSERT_FATAL(E.image_id[0] && E.copy_id[0]);
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	/* our own image by name, in each region */
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, E.image_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, E.image_id);
	CU_ASSERT_STRING_EQUAL(img.arch, "x86_64");
	CU_ASSERT_STRING_EQUAL(img.region, "us-east-1");
	char newer_name[160];
	snprintf(newer_name, sizeof(newer_name), "petal-test-%.16s-b", E.seed_hash + 48);
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_west, newer_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, E.copy_id);
	CU_ASSERT_STRING_EQUAL(img.region, "us-west-2");
	/* by id: itself */
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, E.image_id, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.name, E.image_name);
	/* Amazon's, by name, with the architecture the CLI reports */
	char out[512], buf[256], arm_name[256];
	CU_ASSERT_EQUAL_FATAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                          "--owners amazon --filters Name=name,Values='amzn2-ami-hvm-*' "
	                          "--query 'sort_by(Images[?Architecture==`arm64`], &Name)[0]."
	                          "[ImageId,Name,Architecture]'"), 0);
	snprintf(arm_name, sizeof(arm_name), "%s", field(out, 1, buf, sizeof(buf)));
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, arm_name, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, field(out, 0, buf, sizeof(buf)));
	CU_ASSERT_STRING_EQUAL(img.arch, "arm64");
	/* a wildcard matching several: the newest of them */
	char pattern[160];
	snprintf(pattern, sizeof(pattern), "petal-test-%.16s-?", E.seed_hash + 48);
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, pattern, &img, &err), 0);
	CU_ASSERT_STRING_EQUAL(img.id, E.newer_id);
	/* a name that looks like an id is a name */
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, "ami-base-bio-v2", &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "'ami-base-bio-v2'"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_west, E.image_name, &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-west-2"));
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, "bad\"name", &img, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, "", &img, &err), PETAL_EINVAL);
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, NULL, &img, &err), PETAL_EINVAL);
}

void test_unknown_ids(void)
{
	const char *unknown = "ami-0123456789abcdef0";
	struct petal_image img = { .size = sizeof(img) };
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(aws_resolve_ami(E.r_east, unknown, &img, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id "));
	CU_ASSERT_PTR_NULL(strstr(err.msg, "request id none"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "us-east-1"));
	CU_ASSERT_EQUAL(OPS->image_delete(E.east, unknown, &err), PETAL_ENOENT);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "InvalidAMIID.NotFound"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "request id "));
	/* a poll that times out says so, with what it last saw */
	double t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_image(E.east, unknown, 2, &err), PETAL_ETIMEOUT);
	CU_ASSERT(now_s() - t0 >= 1.9 && now_s() - t0 < 10);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not listed yet"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, unknown));
}

void test_image_wait_delete(void)
{
	CU_ASSERT_FATAL(E.image_id[0] && E.newer_id[0] && E.copy_id[0]);
	struct petal_error err = { 0 };
	CU_ASSERT_EQUAL(door_wait_image(E.east, E.image_id, 60, &err), 0);
	char out[1024];
	CU_ASSERT_EQUAL_FATAL(cli(E.snapshots, sizeof(E.snapshots), 0, "--region us-east-1 ec2 "
	                          "describe-images --image-ids %s --query "
	                          "'Images[0].BlockDeviceMappings[].Ebs.SnapshotId'",
	                          E.image_id), 0);
	CU_ASSERT_EQUAL_FATAL(strncmp(E.snapshots, "snap-", 5), 0);
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-snapshots "
	                    "--snapshot-ids %s --query 'Snapshots[0].SnapshotId'", E.snapshots), 0);
	CU_ASSERT_STRING_EQUAL(out, E.snapshots);

	CU_ASSERT_EQUAL_FATAL(OPS->image_delete(E.east, E.image_id, &err), 0);
	CU_ASSERT_NOT_EQUAL(cli(out, sizeof(out), 1, "--region us-east-1 ec2 describe-snapshots "
	                        "--snapshot-ids %s", E.snapshots), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(out, "InvalidSnapshot.NotFound"));
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--owners self --query 'Images[].ImageId'"), 0);
	CU_ASSERT_PTR_NULL(strstr(out, E.image_id));
	CU_ASSERT_PTR_NOT_NULL(strstr(out, E.newer_id));
	struct petal_image f = { .size = sizeof(f) };
	CU_ASSERT_EQUAL(OPS->image_find(E.east, NULL, NULL, E.image_name, &f, &err), PETAL_ENOENT);
	/* gone: waiting for it ends at the deadline, deleting again is an error */
	double t0 = now_s();
	CU_ASSERT_EQUAL(door_wait_image(E.east, E.image_id, 1, &err), PETAL_ETIMEOUT);
	CU_ASSERT(now_s() - t0 < 10);
	CU_ASSERT_NOT_EQUAL(OPS->image_delete(E.east, E.image_id, &err), 0);

	/* Amazon's images are not ours to delete */
	CU_ASSERT_EQUAL(OPS->image_delete(E.east, E.base_id, &err), PETAL_EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "amazon"));
	CU_ASSERT_EQUAL(cli(out, sizeof(out), 0, "--region us-east-1 ec2 describe-images "
	                    "--image-ids %s --query 'Images[0].ImageId'", E.base_id), 0);
	CU_ASSERT_STRING_EQUAL(out, E.base_id);

	CU_ASSERT_EQUAL(OPS->image_delete(E.east, E.newer_id, &err), 0);
	CU_ASSERT_EQUAL(OPS->image_delete(E.west, E.copy_id, &err), 0);
	CU_ASSERT_EQUAL(OPS->image_find(E.west, "petal:seed-hash", E.seed_hash, NULL, &f, &err),
	                PETAL_ENOENT);
}
