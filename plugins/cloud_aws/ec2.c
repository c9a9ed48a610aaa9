/* EC2 build instances: launch (spot or on-demand, idempotent by client token),
 * describe, list by tag, console
 * output, terminate.  See ec2.h for each operation's contract. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ec2_query.h"

#define USER_DATA_MAX 16384 /* EC2's limit, before base64 */
#define ROOT_GB_MAX 16384   /* gp3's largest volume */
#define LOG_PIECE 4096
#define PROFILE_WAIT_S 60   /* for a fresh instance profile to reach EC2 */

/* ---- launch ---------------------------------------------------------------------- */

/* The request's fields, read only where the caller's struct has them. */
struct launch {
	const char *type, *image, *user_data, *profile, *subnet, *key;
	const struct petal_tag *tags;
	size_t n_tags;
	int spot, root_gb;
	const char *token; /* the caller's idempotency token, or NULL */
};

static void launch_read(const struct petal_instance_request *req, struct launch *l)
{
	memset(l, 0, sizeof(*l));
#define GET(field, member) \
	if (PETAL_HAS(req, member)) \
		l->field = req->member
	GET(type, instance_type);
	GET(spot, spot);
	GET(image, image_id);
	GET(user_data, user_data);
	GET(tags, tags);
	GET(n_tags, n_tags);
	GET(profile, instance_profile);
	GET(root_gb, root_volume_gb);
	GET(subnet, subnet_id);
	GET(key, key_name);
	GET(token, client_token);
#undef GET
}

static int launch_check(const struct launch *l, struct petal_error *err)
{
	if (!l->type || !*l->type)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: no instance type given");
	if (!l->image || !*l->image)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: no image given (an AMI id "
		                "or name)");
	if (l->root_gb < 0 || l->root_gb > ROOT_GB_MAX)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: a root volume of %d GiB; "
		                "give 1 to %d, or 0 for the image's own size", l->root_gb,
		                ROOT_GB_MAX);
	if (l->user_data && strlen(l->user_data) > USER_DATA_MAX)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: the user data script has "
		                "%zu bytes, EC2 takes at most %d; fetch the rest from S3 at boot",
		                strlen(l->user_data), USER_DATA_MAX);
	if (l->token) {
		size_t n = strlen(l->token);
		if (n == 0 || n > 64 ||
		    strspn(l->token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		                     "0123456789._:-") != n)
			return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: client token '%s' is "
			                "not 1 to 64 of [A-Za-z0-9._:-]", l->token);
		if (l->n_tags + 1 > EC2_MAX_TAGS)
			return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: %zu tags and the client "
			                "token's are more than EC2's %d", l->n_tags, EC2_MAX_TAGS);
	}
	return ec2_tags_check(l->tags, l->n_tags, err);
}

/* ---- list by tag ------------------------------------------------------------------- */

struct list_instances {
	int (*cb)(void *arg, const struct petal_instance *inst);
	void *arg;
	struct petal_instance first; /* list_first: the first one seen */
	int found;
};

static int list_page(void *arg, const struct xml_node *doc, struct petal_error *err)
{
	(void)err;
	struct list_instances *li = arg;
	for (const struct xml_node *r = xml_find(doc, "reservationSet/item"); r; r = xml_next(r))
		for (const struct xml_node *i = xml_find(r, "instancesSet/item"); i;
		     i = xml_next(i)) {
			struct petal_instance inst;
			ec2_instance_read(i, &inst);
			if (!inst.id[0] || strcmp(inst.state, "terminated") == 0 ||
			    strcmp(inst.state, "shutting-down") == 0)
				continue;
			if (!li->found++)
				li->first = inst;
			int rc = li->cb ? li->cb(li->arg, &inst) : 1;
			if (rc)
				return rc;
		}
	return 0;
}

static int list_tagged(struct ec2 *e, const char *key, const char *value,
                       struct list_instances *li, struct petal_error *err)
{
	if (!key || !*key || !value)
		return ec2_fail(err, PETAL_EINVAL, "EC2 DescribeInstances: no tag key and value "
		                "given");
	struct ec2_form f;
	ec2_form_init(&f, "DescribeInstances");
	char name[160];
	snprintf(name, sizeof(name), "tag:%s", key);
	ec2_form_add(&f, "Filter.1.Name", name);
	ec2_form_add(&f, "Filter.1.Value.1", value);
	ec2_form_add(&f, "Filter.2.Name", "instance-state-name");
	ec2_form_add(&f, "Filter.2.Value.1", "pending");
	ec2_form_add(&f, "Filter.2.Value.2", "running");
	ec2_form_add(&f, "Filter.2.Value.3", "stopping");
	ec2_form_add(&f, "Filter.2.Value.4", "stopped");
	int rc = ec2_call_pages(e, &f, ec2_max_results(), list_page, li, err);
	ec2_form_clear(&f);
	return rc;
}

int aws_instance_list(void *ctx, const char *tag_key, const char *tag_value,
                      int (*cb)(void *arg, const struct petal_instance *inst), void *arg,
                      struct petal_error *err)
{
	if (!cb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 DescribeInstances: no callback given");
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "DescribeInstances", err);
	if (rc != 0)
		return rc;
	struct list_instances li = { .cb = cb, .arg = arg };
	return list_tagged(&ec2, tag_key, tag_value, &li, err);
}

static void launch_form(struct ec2_form *f, const struct launch *l,
                        const struct ec2_image_root *root, const char *image_id,
                        const char *token, const char *user_data64)
{
	char n[16];
	ec2_form_init(f, "RunInstances");
	ec2_form_add(f, "ImageId", image_id);
	ec2_form_add(f, "InstanceType", l->type);
	ec2_form_add(f, "MinCount", "1");
	ec2_form_add(f, "MaxCount", "1");
	ec2_form_add(f, "ClientToken", token);
	ec2_form_add(f, "UserData", user_data64);
	if (l->n_tags) {
		ec2_form_tag_spec(f, 1, "instance", l->tags, l->n_tags);
		ec2_form_tag_spec(f, 2, "volume", l->tags, l->n_tags);
	}
	if (l->profile && *l->profile)
		ec2_form_add(f, "IamInstanceProfile.Name", l->profile);
	if (l->root_gb > 0) {
		snprintf(n, sizeof(n), "%d", l->root_gb);
		ec2_form_add(f, "BlockDeviceMapping.1.DeviceName", root->device);
		ec2_form_add(f, "BlockDeviceMapping.1.Ebs.VolumeSize", n);
		ec2_form_add(f, "BlockDeviceMapping.1.Ebs.VolumeType", "gp3");
		ec2_form_add(f, "BlockDeviceMapping.1.Ebs.DeleteOnTermination", "true");
	}
	if (l->subnet && *l->subnet)
		ec2_form_add(f, "SubnetId", l->subnet);
	if (l->key && *l->key)
		ec2_form_add(f, "KeyName", l->key);
	if (l->spot) {
		ec2_form_add(f, "InstanceMarketOptions.MarketType", "spot");
		ec2_form_add(f, "InstanceMarketOptions.SpotOptions.SpotInstanceType", "one-time");
		ec2_form_add(f, "InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior",
		             "terminate");
	}
	/* IMDSv2 only; two hops so that containers built on the instance reach it */
	ec2_form_add(f, "MetadataOptions.HttpTokens", "required");
	ec2_form_add(f, "MetadataOptions.HttpPutResponseHopLimit", "2");
}

/* EC2's refusal of an instance profile it does not know (yet). */
static int profile_not_seen(const struct ec2 *e, const struct petal_error *err)
{
	return strcmp(e->code, "InvalidParameterValue") == 0 && err &&
	       strstr(err->msg, "Invalid IAM Instance Profile") != NULL;
}

int aws_instance_launch(void *ctx, const struct petal_instance_request *req,
                        struct petal_instance *out, struct petal_error *err)
{
	if (!req)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: no request");
	struct launch l;
	launch_read(req, &l);
	int rc = launch_check(&l, err);
	struct ec2 ec2;
	if (rc != 0 || (rc = ec2_open(&ec2, ctx, NULL, "RunInstances", err)) != 0)
		return rc;

	/* The root device's name and the smallest size it takes come from the
	   image, which also turns a name into an id. */
	struct petal_image img = { .size = sizeof(img) };
	struct ec2_image_root root;
	if ((rc = ec2_image_lookup(&ec2, l.image, &img, &root, err)) != 0)
		return rc;
	if (l.root_gb > 0 && !root.ebs)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: image %s (%s) boots from an "
		                "instance store, whose size cannot be set; leave the root volume "
		                "size at 0", img.id, l.image);
	if (l.root_gb > 0 && l.root_gb < root.min_gb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 RunInstances: a root volume of %d GiB is "
		                "smaller than the %d GiB snapshot of image %s; ask for at least "
		                "%d GiB", l.root_gb, root.min_gb, img.id, root.min_gb);

	/* A token given: an instance already launched with it is the answer. */
	if (l.token) {
		struct list_instances li = { 0 };
		rc = list_tagged(&ec2, PETAL_TAG_CLIENT_TOKEN, l.token, &li, err);
		if (rc < 0)
			return rc;
		if (li.found) {
			EC2_DEBUG(&ec2, "ec2: client token %s: %s launched before", l.token,
			          li.first.id);
			if (out)
				ec2_copy_sized(out, &li.first, sizeof(li.first));
			return 0;
		}
	}
	struct petal_tag tags[EC2_MAX_TAGS];
	if (l.token) {
		if (l.n_tags)
			memcpy(tags, l.tags, l.n_tags * sizeof(*tags));
		tags[l.n_tags] = (struct petal_tag){ PETAL_TAG_CLIENT_TOKEN, l.token };
		l.tags = tags;
		l.n_tags++;
	}
	char token[65];
	if (l.token)
		snprintf(token, sizeof(token), "%s", l.token);
	else
		ec2_client_token(token);
	char *user_data64 = NULL;
	if (l.user_data && !(user_data64 = ec2_base64_encode(l.user_data, strlen(l.user_data))))
		return ec2_fail(err, PETAL_ENOMEM, "EC2 RunInstances: out of memory");
	struct ec2_form f;
	launch_form(&f, &l, &root, img.id, token, user_data64);
	struct xml_node *doc;
	/* the client token makes a repeated RunInstances return the same instance */
	rc = ec2_call(&ec2, &f, 1, &doc, err);
	/* IAM is eventually consistent: for some seconds after its instance
	   profile is made (access_create), EC2 may not know it yet and refuses
	   the name.  Ask again for up to PROFILE_WAIT_S; the token keeps it one
	   instance. */
	double deadline = ec2_now() + PROFILE_WAIT_S, delay = 2;
	while (rc != 0 && l.profile && *l.profile && profile_not_seen(&ec2, err) &&
	       ec2_wait_step(deadline, &delay) == 0) {
		EC2_DEBUG(&ec2, "ec2: instance profile %s not seen by EC2 yet; asking again",
		          l.profile);
		rc = ec2_call(&ec2, &f, 1, &doc, err);
	}
	ec2_form_clear(&f);
	free(user_data64);
	if (rc != 0) {
		ec2_err_append(err, " [launching %s%s from %s in %s]", l.type,
		               l.spot ? " (spot)" : "", img.id, ec2.region);
		return rc;
	}
	const struct xml_node *item = xml_find(doc, "instancesSet/item");
	struct petal_instance full;
	if (item)
		ec2_instance_read(item, &full);
	xml_free(doc);
	if (!item || !full.id[0])
		return ec2_fail(err, PETAL_ECLOUD, "EC2 RunInstances in %s: the answer names no "
		                "instance", ec2.region);
	EC2_DEBUG(&ec2, "ec2: launched %s from %s", full.id, img.id);
	if (out)
		ec2_copy_sized(out, &full, sizeof(full));
	return 0;
}

/* ---- describe ---------------------------------------------------------------------- */

struct find_instance {
	const char *id;
	struct petal_instance *out;
	char reason[512]; /* stateReason, for waiters */
	int found;
};

static int instance_page(void *arg, const struct xml_node *doc, struct petal_error *err)
{
	(void)err;
	struct find_instance *fi = arg;
	for (const struct xml_node *r = xml_find(doc, "reservationSet/item"); r; r = xml_next(r))
		for (const struct xml_node *i = xml_find(r, "instancesSet/item"); i;
		     i = xml_next(i)) {
			const char *id = xml_text(i, "instanceId");
			if (!id || strcmp(id, fi->id) != 0)
				continue;
			ec2_instance_read(i, fi->out);
			const char *code = xml_text(i, "stateReason/code");
			const char *msg = xml_text(i, "stateReason/message");
			snprintf(fi->reason, sizeof(fi->reason), "%s%s%s", code ? code : "",
			         code && *code && msg && *msg ? ": " : "", msg ? msg : "");
			fi->found = 1;
			return 1;
		}
	return 0;
}

/* DescribeInstances for one id into *full; reason gets the state reason. */
static int instance_get(struct ec2 *e, const char *id, struct petal_instance *full,
                        char *reason, size_t reason_len, struct petal_error *err)
{
	if (!id || !*id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 DescribeInstances: no instance id given");
	struct find_instance fi = { .id = id, .out = full };
	struct ec2_form f;
	ec2_form_init(&f, "DescribeInstances");
	ec2_form_add(&f, "InstanceId.1", id);
	/* EC2 refuses MaxResults beside instance ids, hence 0 */
	int rc = ec2_call_pages(e, &f, 0, instance_page, &fi, err);
	ec2_form_clear(&f);
	if (rc < 0)
		return rc;
	if (!fi.found)
		return ec2_fail(err, PETAL_ENOENT, "EC2 DescribeInstances: no instance %s in "
		                "region %s", id, e->region);
	if (reason)
		snprintf(reason, reason_len, "%s", fi.reason);
	return 0;
}

int aws_instance_describe(void *ctx, const char *id, struct petal_instance *out,
                          struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "DescribeInstances", err);
	if (rc != 0)
		return rc;
	struct petal_instance full;
	rc = instance_get(&ec2, id, &full, NULL, 0, err);
	if (rc == 0 && out)
		ec2_copy_sized(out, &full, sizeof(full));
	return rc;
}

/* ---- console output ------------------------------------------------------------------- */

int aws_instance_logs(void *ctx, const char *id, uint64_t offset, petal_text_cb cb,
                      void *arg, struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "GetConsoleOutput", err);
	if (rc != 0)
		return rc;
	if (!id || !*id || !cb)
		return ec2_fail(err, PETAL_EINVAL, "EC2 GetConsoleOutput: no instance id or "
		                "callback given");
	struct ec2_form f;
	ec2_form_init(&f, "GetConsoleOutput");
	ec2_form_add(&f, "InstanceId", id);
	struct xml_node *doc;
	rc = ec2_call(&ec2, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0)
		return rc;
	const char *b64 = xml_text(doc, "output");
	char *text = NULL;
	size_t len = 0;
	if (b64 && *b64) {
		rc = ec2_base64_decode(b64, strlen(b64), &text, &len);
		if (rc == PETAL_EINVAL)
			rc = ec2_fail(err, PETAL_ECLOUD, "EC2 GetConsoleOutput for %s in %s: the "
			              "output is not base64", id, ec2.region);
		else if (rc != 0)
			rc = ec2_fail(err, rc, "EC2 GetConsoleOutput: out of memory");
	}
	xml_free(doc);
	for (size_t off = offset < len ? (size_t)offset : len; rc == 0 && off < len;
	     off += LOG_PIECE)
		rc = cb(arg, text + off, len - off < LOG_PIECE ? len - off : LOG_PIECE);
	free(text);
	return rc;
}

/* ---- terminate ---------------------------------------------------------------------------- */

int aws_instance_terminate(void *ctx, const char *id, struct petal_error *err)
{
	struct ec2 ec2;
	int rc = ec2_open(&ec2, ctx, NULL, "TerminateInstances", err);
	if (rc != 0)
		return rc;
	if (!id || !*id)
		return ec2_fail(err, PETAL_EINVAL, "EC2 TerminateInstances: no instance id given");
	struct ec2_form f;
	ec2_form_init(&f, "TerminateInstances");
	ec2_form_add(&f, "InstanceId.1", id);
	struct xml_node *doc;
	rc = ec2_call(&ec2, &f, 1, &doc, err);
	ec2_form_clear(&f);
	if (rc != 0)
		return rc;
	const char *got = xml_text(doc, "instancesSet/item/instanceId");
	if (!got || strcmp(got, id) != 0)
		rc = ec2_fail(err, PETAL_ECLOUD, "EC2 TerminateInstances in %s: the answer does "
		              "not confirm %s", ec2.region, id);
	xml_free(doc);
	return rc;
}
