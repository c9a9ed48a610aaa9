/* cluster-config.yaml: the ParallelCluster 3 configuration a plan implies,
 * written with libyaml's emitter and held to ParallelCluster's own schema for
 * every member petal writes (cli/src/pcluster/schemas/cluster_schema.py and
 * the config validators): values that pattern would refuse are refused here,
 * with what to do, rather than written. */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "render_int.h"

#define NAME_MAX_LEN 25 /* queue and compute resource names */

/* ParallelCluster's SUPPORTED_OSES */
static const char *const supported_oses[] = {
	"alinux2", "alinux2023", "ubuntu2004", "ubuntu2204",
	"rhel8", "rocky8", "rhel9", "rocky9", NULL,
};

/* ^<prefix>[0-9a-z]{8}$|^<prefix>[0-9a-z]{17}$ (AMI, subnet ids) */
static int is_aws_id(const char *s, const char *prefix)
{
	size_t n = strlen(prefix), len;

	if (s == NULL || strncmp(s, prefix, n) != 0)
		return 0;
	s += n;
	len = strlen(s);
	if (len != 8 && len != 17)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)))
			return 0;
	return 1;
}

/* ^[a-z][a-z0-9-]*$, at most 25 characters, not "default" (NameValidator) */
static int is_pcluster_name(const char *s)
{
	if (s == NULL || !islower((unsigned char)s[0]) || strlen(s) > NAME_MAX_LEN ||
	    strcmp(s, "default") == 0)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s) || *s == '-'))
			return 0;
	return 1;
}

/* S3AccessSchema.bucket_name: ^[\*a-z0-9\-\.]+$ */
static int is_bucket_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	return strspn(s, "*abcdefghijklmnopqrstuvwxyz0123456789-.") == strlen(s);
}

static int is_supported_os(const char *os)
{
	for (size_t i = 0; supported_oses[i] != NULL; i++)
		if (os != NULL && strcmp(os, supported_oses[i]) == 0)
			return 1;
	return 0;
}

/* The texts of the PETAL_FRAG_PCLUSTER fragments of key, once each, after
   `first` (when not NULL); caller frees the array. */
static size_t pcluster_values(const struct petal_renderer *r, const char *key,
                              const char *first, const char ***out)
{
	const char **vals = NULL;
	size_t n = 0, cap = 0;

	if (first != NULL)
		PETAL_PUSH(vals, n, cap, first);
	for (size_t i = 0; i < r->n_frags; i++) {
		const struct render_frag *f = &r->frags[i];
		int dup = 0;

		if (f->kind != PETAL_FRAG_PCLUSTER || strcmp(f->key, key) != 0)
			continue;
		for (size_t j = 0; j < n; j++)
			dup |= strcmp(vals[j], f->text) == 0;
		if (!dup)
			PETAL_PUSH(vals, n, cap, f->text);
	}
	*out = vals;
	return n;
}

/* Buckets the nodes read (the artifacts bucket for the bootstrap script, then
   those the tiers asked for) and the policies the tiers asked for. */
static void emit_iam(struct yout *y, const struct petal_renderer *r)
{
	const char **vals;
	size_t n = pcluster_values(r, "Iam.S3Access", r->artifacts_bucket, &vals);

	yout_str(y, "Iam");
	yout_map(y);
	yout_str(y, "S3Access");
	yout_seq(y);
	for (size_t i = 0; i < n; i++) {
		yout_map(y);
		yout_kstr(y, "BucketName", vals[i]);
		yout_str(y, "EnableWriteAccess");
		yout_bool(y, 0);
		yout_map_end(y);
	}
	/* the nodes write their reports, and nothing else of the artifacts */
	char *reports = petal_render_reports_url(r->artifacts_url, r->plan->info.cluster_name);
	char *key = petal_xasprintf("%s/*", reports + 5 + strlen(r->artifacts_bucket) + 1);
	yout_map(y);
	yout_kstr(y, "BucketName", r->artifacts_bucket);
	yout_kstr(y, "KeyName", key);
	yout_str(y, "EnableWriteAccess");
	yout_bool(y, 1);
	yout_map_end(y);
	free(key);
	free(reports);
	yout_seq_end(y);
	free(vals);
	n = pcluster_values(r, "Iam.AdditionalIamPolicies", NULL, &vals);
	if (n > 0) {
		yout_str(y, "AdditionalIamPolicies");
		yout_seq(y);
		for (size_t i = 0; i < n; i++) {
			yout_map(y);
			yout_kstr(y, "Policy", vals[i]);
			yout_map_end(y);
		}
		yout_seq_end(y);
	}
	free(vals);
	yout_map_end(y);
}

/* node-bootstrap.sh, told where the cluster's nodes report. */
static void emit_custom_actions(struct yout *y, const struct petal_renderer *r)
{
	char *url = petal_xasprintf("%s/node-bootstrap.sh", r->artifacts_url);
	char *reports = petal_render_reports_url(r->artifacts_url, r->plan->info.cluster_name);

	yout_str(y, "CustomActions");
	yout_map(y);
	yout_str(y, "OnNodeConfigured");
	yout_map(y);
	yout_kstr(y, "Script", url);
	yout_str(y, "Args");
	yout_seq(y);
	yout_str(y, reports);
	yout_seq_end(y);
	yout_map_end(y);
	yout_map_end(y);
	free(reports);
	free(url);
}

/* The volume the head node installs into and NFS-exports to every node
   (SharedStorageSchema, EbsSettingsSchema); only when a tier installs at
   creation. */
static void emit_shared_storage(struct yout *y, const struct petal_renderer *r)
{
	yout_str(y, "SharedStorage");
	yout_seq(y);
	yout_map(y);
	yout_kstr(y, "MountDir", RENDER_SHARED_MOUNT);
	yout_kstr(y, "Name", RENDER_SHARED_NAME);
	yout_kstr(y, "StorageType", "Ebs");
	yout_str(y, "EbsSettings");
	yout_map(y);
	yout_kstr(y, "VolumeType", "gp3");
	yout_kint(y, "Size", r->shared_gib);
	/* what it holds, the seed rebuilds: nothing to keep paying for */
	yout_kstr(y, "DeletionPolicy", "Delete");
	yout_map_end(y);
	yout_map_end(y);
	yout_seq_end(y);
}

/* Past ParallelCluster's 30 minutes the head node's OnNodeConfigured would be
   cut short, and compute nodes could not wait for it (TimeoutsSchema). */
static void emit_dev_settings(struct yout *y, const struct petal_renderer *r)
{
	if (r->boot_timeout_s <= RENDER_PCLUSTER_BOOT_S)
		return;
	yout_str(y, "DevSettings");
	yout_map(y);
	yout_str(y, "Timeouts");
	yout_map(y);
	yout_kint(y, "HeadNodeBootstrapTimeout", r->boot_timeout_s);
	yout_kint(y, "ComputeNodeBootstrapTimeout", r->boot_timeout_s);
	yout_map_end(y);
	yout_map_end(y);
}

/* Compute resource names: "c5.18xlarge" -> "c5-18xlarge"; "cr<i>" when that
   is not a valid name or repeats an earlier one of the queue. */
static char **resource_names(const struct petal_queue *q)
{
	char **names = petal_xcalloc(q->n_instance_types, sizeof(*names));

	for (size_t i = 0; i < q->n_instance_types; i++) {
		char *name = petal_xstrndup(q->instance_types[i],
		                           strnlen(q->instance_types[i], NAME_MAX_LEN));

		for (char *p = name; *p; p++) {
			*p = (char)tolower((unsigned char)*p);
			if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p))
				*p = '-';
		}
		for (size_t j = 0; j < i; j++)
			if (strcmp(names[j], name) == 0)
				name[0] = '\0';
		if (!is_pcluster_name(name)) {
			free(name);
			name = petal_xasprintf("cr%zu", i + 1);
		}
		names[i] = name;
	}
	return names;
}

static int check_queue(const struct petal_queue *q, struct petal_error *err)
{
	if (!is_pcluster_name(q->name))
		return petal_fail(err, PETAL_EINVAL,
		                  "render: queue name '%s' is not valid for ParallelCluster: "
		                  "it must match ^[a-z][a-z0-9-]*$, be at most %d characters "
		                  "and not be 'default'", q->name, NAME_MAX_LEN);
	if (q->n_instance_types == 0)
		return petal_fail(err, PETAL_EINVAL, "render: queue '%s' has no instance type",
		                  q->name);
	if (q->max_count < 1 || q->min_count < 0 || q->min_count > q->max_count)
		return petal_fail(err, PETAL_EINVAL,
		                  "render: queue '%s': min_count %d and max_count %d must satisfy "
		                  "0 <= min_count <= max_count and max_count >= 1",
		                  q->name, q->min_count, q->max_count);
	return 0;
}

static void emit_queue(struct yout *y, const struct petal_renderer *r,
                       const struct petal_queue *q)
{
	char **names;

	yout_map(y);
	yout_kstr(y, "Name", q->name);
	yout_kstr(y, "CapacityType", q->capacity == PETAL_CAPACITY_SPOT ? "SPOT" : "ONDEMAND");
	yout_str(y, "Networking");
	yout_map(y);
	yout_str(y, "SubnetIds");
	yout_seq(y);
	yout_str(y, r->subnet_id);
	yout_seq_end(y);
	yout_map_end(y);
	/* one compute resource per instance type: ParallelCluster requires the
	   types of one resource to match in vCPUs, which a seed need not */
	yout_str(y, "ComputeResources");
	yout_seq(y);
	names = resource_names(q);
	for (size_t i = 0; i < q->n_instance_types; i++) {
		yout_map(y);
		yout_kstr(y, "Name", names[i]);
		yout_str(y, "Instances");
		yout_seq(y);
		yout_map(y);
		yout_kstr(y, "InstanceType", q->instance_types[i]);
		yout_map_end(y);
		yout_seq_end(y);
		/* static nodes come from the first type only */
		yout_kint(y, "MinCount", i == 0 ? q->min_count : 0);
		yout_kint(y, "MaxCount", q->max_count);
		yout_map_end(y);
		free(names[i]);
	}
	free(names);
	yout_seq_end(y);
	emit_custom_actions(y, r);
	emit_iam(y, r);
	yout_map_end(y);
}

static char *header(const struct petal_renderer *r, const char *ami_name)
{
	const struct petal_seed_info *info = &r->plan->info;
	struct petal_strbuf h = PETAL_STRBUF_INIT;

	petal_strbuf_puts(&h, "# ParallelCluster 3 cluster configuration, rendered by petal from ");
	render_comment(&h, info->path != NULL ? info->path : "a seed");
	petal_strbuf_puts(&h, "\n# seed hash ");
	render_comment(&h, info->hash);
	petal_strbuf_puts(&h, "\n# OnNodeConfigured runs node-bootstrap.sh: it must be uploaded to\n#   ");
	render_comment(&h, r->artifacts_url);
	petal_strbuf_puts(&h, "/node-bootstrap.sh\n# before the cluster is created (`petal create` does).\n");
	if (ami_name != NULL) {
		petal_strbuf_puts(&h, "# Image.CustomAmi is left out: '");
		render_comment(&h, ami_name);
		petal_strbuf_puts(&h, "' is an AMI name, not an id.\n"
		                      "#   The image is baked by build-instance.sh and tagged with the "
		                      "seed hash;\n#   `petal create` sets CustomAmi to its id "
		                      "(ami-...) once it exists.\n");
	}
	petal_strbuf_puts(&h, "# Each queue has one compute resource per instance type; max_count "
	                      "applies to each.\n");
	if (r->shared)
		petal_strbuf_printf(&h, "# SharedStorage " RENDER_SHARED_NAME ": %ld GiB of gp3 at "
		                    RENDER_SHARED_MOUNT ", exported by the head node to every node:\n"
		                    "#   the head node installs the %.0f MB that the tiers deliver at "
		                    "creation\n#   into " RENDER_SHARED_TREE " once (twice that, plus "
		                    "20 GiB, at least 40 GiB).\n", r->shared_gib, r->shared_mb);
	if (r->boot_timeout_s > RENDER_PCLUSTER_BOOT_S)
		petal_strbuf_printf(&h, "# DevSettings.Timeouts: the plan needs about %.0f min to be "
		                    "ready; the nodes may take %ld s\n#   to bootstrap "
		                    "(ParallelCluster's default is %ld s).\n",
		                    r->plan->ready_minutes, r->boot_timeout_s, RENDER_PCLUSTER_BOOT_S);
	if (r->boot_capped)
		petal_strbuf_puts(&h, "#   That is CloudFormation's 12-hour limit, less than the plan "
		                      "may need: move slow builds\n#   to the AMI or the binary "
		                      "cache.\n");
	return petal_strbuf_detach(&h);
}

int render_cluster_config(const struct petal_renderer *r, char **out, struct petal_error *err)
{
	const struct petal_seed_info *info = &r->plan->info;
	const struct petal_seed *seed = r->plan->seed;
	const struct render_frag *ami = render_find(r, PETAL_FRAG_PCLUSTER, "Image.CustomAmi");
	const char *ami_name = NULL;
	struct yout y;
	char *head;
	int rc;

	*out = NULL;
	if (!is_supported_os(info->os))
		return petal_fail(err, PETAL_EINVAL,
		                  "render: os '%s' is not one ParallelCluster supports (alinux2, "
		                  "alinux2023, ubuntu2004, ubuntu2204, rhel8, rocky8, rhel9, rocky9)",
		                  info->os != NULL ? info->os : "(none)");
	if (info->head_node == NULL || *info->head_node == '\0')
		return petal_fail(err, PETAL_EINVAL, "render: the seed names no head node instance type");
	for (size_t i = 0; i < seed->n_queues; i++) {
		rc = check_queue(&seed->queues[i], err);
		if (rc < 0)
			return rc;
	}
	if (seed->n_queues == 0)
		return petal_fail(err, PETAL_EINVAL, "render: the seed has no queue");
	if (ami != NULL && !is_aws_id(ami->text, "ami-"))
		ami_name = ami->text;

	yout_init(&y);
	yout_map(&y);
	if (info->region != NULL)
		yout_kstr(&y, "Region", info->region);
	yout_str(&y, "Image");
	yout_map(&y);
	yout_kstr(&y, "Os", info->os);
	if (ami != NULL && ami_name == NULL)
		yout_kstr(&y, "CustomAmi", ami->text);
	yout_map_end(&y);

	yout_str(&y, "HeadNode");
	yout_map(&y);
	yout_kstr(&y, "InstanceType", info->head_node);
	yout_str(&y, "Networking");
	yout_map(&y);
	yout_kstr(&y, "SubnetId", r->subnet_id);
	yout_map_end(&y);
	if (r->key_name != NULL) {
		yout_str(&y, "Ssh");
		yout_map(&y);
		yout_kstr(&y, "KeyName", r->key_name);
		yout_map_end(&y);
	}
	emit_custom_actions(&y, r);
	emit_iam(&y, r);
	yout_map_end(&y);

	yout_str(&y, "Scheduling");
	yout_map(&y);
	yout_kstr(&y, "Scheduler", "slurm");
	yout_str(&y, "SlurmQueues");
	yout_seq(&y);
	for (size_t i = 0; i < seed->n_queues; i++)
		emit_queue(&y, r, &seed->queues[i]);
	yout_seq_end(&y);
	yout_map_end(&y);
	if (r->shared)
		emit_shared_storage(&y, r);
	emit_dev_settings(&y, r);
	/* how petal knows its clusters again (petal list): ParallelCluster puts
	   them on the stack and every resource of it */
	yout_str(&y, "Tags");
	yout_seq(&y);
	yout_map(&y);
	yout_kstr(&y, "Key", PETAL_TAG_SEED_HASH);
	yout_kstr(&y, "Value", info->hash);
	yout_map_end(&y);
	if (seed->name != NULL) {
		yout_map(&y);
		yout_kstr(&y, "Key", PETAL_TAG_SEED);
		yout_kstr(&y, "Value", seed->name);
		yout_map_end(&y);
	}
	yout_map(&y);
	yout_kstr(&y, "Key", PETAL_TAG_ARTIFACTS);
	yout_kstr(&y, "Value", r->artifacts_url);
	yout_map_end(&y);
	yout_seq_end(&y);
	yout_map_end(&y);

	head = header(r, ami_name);
	rc = yout_finish(&y, head, out, err);
	free(head);
	return rc;
}

int render_check_subnet(const char *subnet_id, struct petal_error *err)
{
	if (!is_aws_id(subnet_id, "subnet-"))
		return petal_fail(err, PETAL_EINVAL,
		                  "render: subnet '%s' is not a subnet id (subnet- and 8 or 17 "
		                  "lowercase letters or digits): pass --subnet-id or fix "
		                  "network.subnet_id", subnet_id);
	return 0;
}

int render_check_bucket(const char *bucket, struct petal_error *err)
{
	if (!is_bucket_name(bucket))
		return petal_fail(err, PETAL_EINVAL,
		                  "render: bucket '%s' is not a valid S3 bucket name for "
		                  "ParallelCluster's S3Access (lowercase letters, digits, '-', '.')",
		                  bucket);
	return 0;
}
