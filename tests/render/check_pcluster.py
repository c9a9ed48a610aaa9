#!/usr/bin/env python3
"""Strict checker for the ParallelCluster 3 cluster configuration petal renders.

Encodes, for every member petal emits, what ParallelCluster's own schema
(cli/src/pcluster/schemas/cluster_schema.py) and config validators enforce:
keys and nesting, required members, types (a quoted "1234" is a string, a
plain 1234 an integer), patterns, enumerations, ranges and cross-member rules.
Anything it does not know fails: petal must not write what this cannot vouch
for.  Usage: check_pcluster.py FILE; exit 0 when valid, 1 with one line per
problem otherwise, 2 on usage or environment errors.

ParallelCluster's own schema cannot ship with petal; when PETAL_PCLUSTER_SRC
names a checkout's cli/src (and marshmallow is installed: Debian's
python3-marshmallow), the file is also loaded through its ClusterSchema.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.stderr.write("check_pcluster.py: PyYAML is missing: install python3-yaml\n")
    sys.exit(2)

SUBNET_ID = r"^subnet-[0-9a-z]{8}$|^subnet-[0-9a-z]{17}$"
AMI_ID = r"^ami-[0-9a-z]{8}$|^ami-[0-9a-z]{17}$"
BUCKET = r"^[\*a-z0-9\-\.]+$"
NAME = r"^[a-z][a-z0-9\-]*$"
NAME_MAX = 25
OSES = ["alinux2", "alinux2023", "ubuntu2004", "ubuntu2204", "rhel8", "rocky8", "rhel9", "rocky9"]
CAPACITY_TYPES = ["ONDEMAND", "SPOT", "CAPACITY_BLOCK"]
MAX_QUEUES = 50
MAX_COMPUTE_RESOURCES = 50  # per queue and per cluster

# SharedStorage (SharedStorageSchema, EbsSettingsSchema and their validators)
FILE_PATH = r"^\/?[^\/.\\][^\/\\]*(\/[^\/.\\][^\/]*)*$"
TAG_VALUE = r"^([\w\+\-\=\.\_\:\@/]{0,256})$"
SHARED_NAME_MAX = 30
STORAGE_TYPES = ["Ebs", "FsxLustre", "FsxOpenZfs", "FsxOntap", "Efs", "FileCache"]
SETTINGS_FOR = {"EbsSettings": "Ebs", "EfsSettings": "Efs", "FsxLustreSettings": "FsxLustre",
                "FsxOpenZfsSettings": "FsxOpenZfs", "FsxOntapSettings": "FsxOntap",
                "FileCacheSettings": "FileCache"}
VOLUME_TYPES = ["standard", "io1", "io2", "gp2", "st1", "sc1", "gp3"]
VOLUME_SIZE_GIB = {"standard": (1, 1024), "io1": (4, 16 * 1024), "io2": (4, 64 * 1024),
                   "gp2": (1, 16 * 1024), "gp3": (1, 16 * 1024), "st1": (500, 16 * 1024),
                   "sc1": (500, 16 * 1024)}
VOLUME_IOPS = {"io1": (100, 64000), "io2": (100, 256000), "gp3": (3000, 16000)}
IOPS_PER_GIB = {"io1": 50, "io2": 1000, "gp3": 500}
DELETION_POLICIES = ["Delete", "Retain", "Snapshot"]
RESERVED_MOUNT_DIRS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/media", "/mnt",
                       "/opt", "/opt/parallelcluster", "/opt/parallelcluster/shared",
                       "/opt/parallelcluster/shared_login_nodes", "/opt/slurm", "/opt/intel",
                       "/proc", "/root", "/run", "/sbin", "/srv", "/sys", "/tmp", "/usr",
                       "/var"]
MAX_EBS = 5   # MAX_EBS_COUNT, volumes without Raid
MAX_RAID = 1
# HeadNodeBootstrapTimeout is the head node's CloudFormation wait condition,
# which takes at most 12 hours
WAIT_CONDITION_MAX_S = 43200


class Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys (PyYAML keeps the last silently)."""


def _mapping(loader, node):
    loader.flatten_mapping(node)
    out = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in out:
            raise yaml.constructor.ConstructorError(
                None, None, "duplicate key %r" % (key,), key_node.start_mark)
        out[key] = loader.construct_object(value_node, deep=True)
    return out


Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class Checker:
    def __init__(self):
        self.problems = []

    def fail(self, path, msg):
        self.problems.append("%s: %s" % (path, msg))

    # -- types -------------------------------------------------------------
    def string(self, path, v, pattern=None, choices=None, max_len=None):
        if not isinstance(v, str):
            self.fail(path, "expected a string, got %s %r" % (type(v).__name__, v))
            return False
        if pattern is not None and not re.match(pattern, v):
            self.fail(path, "%r does not match %s" % (v, pattern))
        if choices is not None and v not in choices:
            self.fail(path, "%r is not one of %s" % (v, ", ".join(choices)))
        if max_len is not None and len(v) > max_len:
            self.fail(path, "%r is longer than %d characters" % (v, max_len))
        return True

    def integer(self, path, v, minimum=None):
        if not isinstance(v, int) or isinstance(v, bool):
            self.fail(path, "expected an integer, got %s %r" % (type(v).__name__, v))
            return False
        if minimum is not None and v < minimum:
            self.fail(path, "%d is below the minimum %d" % (v, minimum))
        return True

    def boolean(self, path, v):
        if not isinstance(v, bool):
            self.fail(path, "expected a boolean, got %s %r" % (type(v).__name__, v))

    def mapping(self, path, v, members, required=()):
        """members: key -> function(path, value)."""
        if not isinstance(v, dict):
            self.fail(path, "expected a mapping, got %s" % type(v).__name__)
            return False
        for key in required:
            if key not in v:
                self.fail(path, "required member %s is missing" % key)
        for key, value in v.items():
            sub = "%s.%s" % (path, key) if path else str(key)
            if key not in members:
                self.fail(sub, "unknown key (ParallelCluster would refuse it, or petal "
                               "has no business writing it)")
                continue
            members[key](sub, value)
        return True

    def sequence(self, path, v, item, min_len=0, max_len=None):
        if not isinstance(v, list):
            self.fail(path, "expected a list, got %s" % type(v).__name__)
            return False
        if len(v) < min_len:
            self.fail(path, "expected at least %d item(s)" % min_len)
        if max_len is not None and len(v) > max_len:
            self.fail(path, "at most %d items are allowed, got %d" % (max_len, len(v)))
        for i, x in enumerate(v):
            item("%s[%d]" % (path, i), x)
        return True

    # -- ParallelCluster's sections ---------------------------------------
    def name(self, path, v):
        # NameValidator: queues and compute resources
        if self.string(path, v, NAME, max_len=NAME_MAX) and v == "default":
            self.fail(path, "'default' is a reserved name")

    def script_url(self, path, v):
        # UrlValidator: s3:// or https://
        if self.string(path, v) and not re.match(r"^(s3://[a-z0-9.\-]+/.+|https://.+)$", v):
            self.fail(path, "%r is not an s3:// or https:// URL of a script" % v)

    def custom_action(self, path, v):
        self.mapping(path, v, {
            "Script": self.script_url,
            "Args": lambda p, x: self.sequence(p, x, lambda q, y: self.string(q, y)),
        }, required=["Script"])

    def custom_actions(self, path, v, head):
        members = {"OnNodeStart": self.custom_action, "OnNodeConfigured": self.custom_action}
        if head:
            members["OnNodeUpdated"] = self.custom_action
        self.mapping(path, v, members)

    def s3_access(self, path, v):
        self.mapping(path, v, {
            "BucketName": lambda p, x: self.string(p, x, BUCKET),
            "KeyName": lambda p, x: self.string(p, x),
            "EnableWriteAccess": self.boolean,
        }, required=["BucketName"])

    def additional_policy(self, path, v):
        # AdditionalIamPolicySchema: Policy matches IAM_POLICY_REGEX
        self.mapping(path, v, {
            "Policy": lambda p, x: self.string(p, x, r"^arn:.*:policy/"),
        }, required=["Policy"])

    def iam(self, path, v):
        # S3Access and AdditionalIamPolicies may go together; neither with
        # InstanceRole or InstanceProfile, which petal never writes
        self.mapping(path, v, {
            "S3Access": lambda p, x: self.sequence(p, x, self.s3_access),
            "AdditionalIamPolicies": lambda p, x: self.sequence(p, x, self.additional_policy),
        })

    def image(self, path, v):
        self.mapping(path, v, {
            "Os": lambda p, x: self.string(p, x, choices=OSES),
            "CustomAmi": lambda p, x: self.string(p, x, AMI_ID),
        }, required=["Os"])

    def head_node(self, path, v):
        self.mapping(path, v, {
            "InstanceType": lambda p, x: self.string(p, x),
            "Networking": lambda p, x: self.mapping(p, x, {
                "SubnetId": lambda q, y: self.string(q, y, SUBNET_ID),
            }, required=["SubnetId"]),
            "Ssh": lambda p, x: self.mapping(p, x, {
                "KeyName": lambda q, y: self.string(q, y),
            }),
            "CustomActions": lambda p, x: self.custom_actions(p, x, head=True),
            "Iam": self.iam,
        }, required=["InstanceType", "Networking"])

    def compute_resource(self, path, v):
        def instance(p, x):
            self.mapping(p, x, {"InstanceType": lambda q, y: self.string(q, y)},
                         required=["InstanceType"])

        ok = self.mapping(path, v, {
            "Name": self.name,
            "Instances": lambda p, x: self.sequence(p, x, instance, min_len=1),
            "InstanceType": lambda p, x: self.string(p, x),
            "MinCount": lambda p, x: self.integer(p, x, 0),
            "MaxCount": lambda p, x: self.integer(p, x, 1),
        }, required=["Name"])
        if not ok:
            return
        if ("Instances" in v) == ("InstanceType" in v):
            self.fail(path, "a compute resource needs exactly one of Instances and InstanceType")
        if isinstance(v.get("Instances"), list):
            types = [i.get("InstanceType") for i in v["Instances"] if isinstance(i, dict)]
            if len(types) != len(set(types)):
                self.fail(path + ".Instances", "duplicate instance types")
        lo, hi = v.get("MinCount", 0), v.get("MaxCount", 10)
        if isinstance(lo, int) and isinstance(hi, int) and hi < lo:
            self.fail(path, "MaxCount must be greater than or equal to MinCount")

    def queue(self, path, v):
        ok = self.mapping(path, v, {
            "Name": self.name,
            "CapacityType": lambda p, x: self.string(p, x, choices=CAPACITY_TYPES),
            "Networking": lambda p, x: self.mapping(p, x, {
                "SubnetIds": lambda q, y: self.sequence(
                    q, y, lambda r, z: self.string(r, z, SUBNET_ID), min_len=1),
            }, required=["SubnetIds"]),
            "ComputeResources": lambda p, x: self.sequence(
                p, x, self.compute_resource, min_len=1, max_len=MAX_COMPUTE_RESOURCES),
            "CustomActions": lambda p, x: self.custom_actions(p, x, head=False),
            "Iam": self.iam,
        }, required=["Name", "Networking", "ComputeResources"])
        if ok and isinstance(v.get("ComputeResources"), list):
            names = [c.get("Name") for c in v["ComputeResources"] if isinstance(c, dict)]
            if len(names) != len(set(names)):
                self.fail(path + ".ComputeResources", "duplicate compute resource names")

    def scheduling(self, path, v):
        ok = self.mapping(path, v, {
            "Scheduler": lambda p, x: self.string(p, x, choices=["slurm"]),
            "SlurmQueues": lambda p, x: self.sequence(p, x, self.queue, min_len=1,
                                                      max_len=MAX_QUEUES),
        }, required=["Scheduler", "SlurmQueues"])
        if ok and isinstance(v.get("SlurmQueues"), list):
            queues = [q for q in v["SlurmQueues"] if isinstance(q, dict)]
            names = [q.get("Name") for q in queues]
            if len(names) != len(set(names)):
                self.fail(path + ".SlurmQueues", "duplicate queue names")
            total = sum(len(q.get("ComputeResources") or []) for q in queues)
            if total > MAX_COMPUTE_RESOURCES:
                self.fail(path, "%d compute resources; ParallelCluster allows %d per cluster"
                          % (total, MAX_COMPUTE_RESOURCES))

    def ebs_settings(self, path, v):
        def raid(p, x):
            self.mapping(p, x, {
                "Type": lambda q, y: self.integer(q, y) and y not in (0, 1) and self.fail(
                    q, "%r is not a RAID type (0 or 1)" % (y,)),
                "NumberOfVolumes": lambda q, y: self.integer(q, y, 2) and y > 5 and self.fail(
                    q, "at most 5 volumes"),
            }, required=["Type"])

        ok = self.mapping(path, v, {
            "VolumeType": lambda p, x: self.string(p, x, choices=VOLUME_TYPES),
            "Iops": lambda p, x: self.integer(p, x),
            "Size": lambda p, x: self.integer(p, x),
            "KmsKeyId": lambda p, x: self.string(p, x),
            "Throughput": lambda p, x: self.integer(p, x),
            "Encrypted": self.boolean,
            "SnapshotId": lambda p, x: self.string(p, x, r"^snap-[0-9a-z]{8}$|^snap-[0-9a-z]{17}$"),
            "VolumeId": lambda p, x: self.string(p, x, r"^vol-[0-9a-z]{8}$|^vol-[0-9a-z]{17}$"),
            "Raid": raid,
            "DeletionPolicy": lambda p, x: self.string(p, x, choices=DELETION_POLICIES),
        })
        if not ok:
            return
        # the validators, on ParallelCluster's defaults (gp3, 40 GiB, 3000 IOPS, 125 MB/s)
        vtype = v.get("VolumeType", "gp3")
        size = v.get("Size", 40)
        iops = v.get("Iops")
        if isinstance(size, int) and vtype in VOLUME_SIZE_GIB:
            lo, hi = VOLUME_SIZE_GIB[vtype]
            if not lo <= size <= hi:
                self.fail(path + ".Size", "%s volumes take %d to %d GiB, not %d"
                          % (vtype, lo, hi, size))
        if iops is not None and vtype not in VOLUME_IOPS:
            self.fail(path + ".Iops", "Iops is not supported for %s volumes" % vtype)
        elif isinstance(iops, int) and vtype in VOLUME_IOPS:
            lo, hi = VOLUME_IOPS[vtype]
            if not lo <= iops <= hi:
                self.fail(path + ".Iops", "%s volumes take %d to %d IOPS" % (vtype, lo, hi))
            elif isinstance(size, int) and iops > size * IOPS_PER_GIB[vtype]:
                self.fail(path + ".Iops", "at most %d IOPS per GiB" % IOPS_PER_GIB[vtype])
        if vtype == "gp3" and isinstance(v.get("Throughput", 125), int):
            throughput = v.get("Throughput", 125)
            if not 125 <= throughput <= 1000:
                self.fail(path + ".Throughput", "gp3 takes 125 to 1000 MB/s")
            elif throughput > (iops if isinstance(iops, int) else 3000) * 0.25:
                self.fail(path + ".Throughput", "at most 0.25 MB/s per IOPS")
        if v.get("KmsKeyId") and not v.get("Encrypted", True):
            self.fail(path + ".KmsKeyId", "a KMS key needs Encrypted: true")

    def shared_storage(self, path, v):
        members = {
            "MountDir": lambda p, x: self.string(p, x, FILE_PATH) and (
                ("/" + x.lstrip("/")) in RESERVED_MOUNT_DIRS
                and self.fail(p, "%r is a directory ParallelCluster reserves" % x)),
            "Name": lambda p, x: self.string(p, x, TAG_VALUE, max_len=SHARED_NAME_MAX) and (
                x == "default" and self.fail(p, "'default' is a reserved name")),
            "StorageType": lambda p, x: self.string(p, x, choices=STORAGE_TYPES),
            "EbsSettings": self.ebs_settings,
        }
        for key in SETTINGS_FOR:
            # ParallelCluster knows them; petal creates EBS volumes only
            members.setdefault(key, lambda p, x: self.fail(
                p, "petal writes EBS shared storage only"))
        if not self.mapping(path, v, members, required=["MountDir", "Name", "StorageType"]):
            return
        settings = [k for k in SETTINGS_FOR if k in v]
        if len(settings) > 1:
            self.fail(path, "several *Settings sections: %s" % ", ".join(settings))
        for k in settings:
            if SETTINGS_FOR[k] != v.get("StorageType"):
                self.fail(path + "." + k, "does not go with StorageType %r" % v.get("StorageType"))

    def shared_storages(self, path, v):
        if not self.sequence(path, v, self.shared_storage):
            return
        items = [x for x in v if isinstance(x, dict)]
        names = [x.get("Name") for x in items]
        dirs = ["/" + x["MountDir"].strip("/") for x in items if isinstance(x.get("MountDir"), str)]
        if len(names) != len(set(names)):
            self.fail(path, "duplicate shared storage names")
        if len(dirs) != len(set(dirs)):
            self.fail(path, "duplicate mount directories")
        for a in dirs:
            for b in dirs:
                if a != b and a.startswith(b + "/"):
                    self.fail(path, "mount directories %s and %s overlap" % (b, a))
        ebs = [x for x in items if x.get("StorageType") == "Ebs"]
        raid = [x for x in ebs if isinstance(x.get("EbsSettings"), dict) and "Raid" in x["EbsSettings"]]
        if len(ebs) - len(raid) > MAX_EBS or len(raid) > MAX_RAID:
            self.fail(path, "at most %d EBS volumes and %d RAID" % (MAX_EBS, MAX_RAID))

    def dev_settings(self, path, v):
        # of DevSettings, petal writes the bootstrap timeouts only (TimeoutsSchema)
        def head_timeout(p, x):
            if self.integer(p, x, 1) and x > WAIT_CONDITION_MAX_S:
                self.fail(p, "%d s is past CloudFormation's %d s for a wait condition"
                          % (x, WAIT_CONDITION_MAX_S))

        self.mapping(path, v, {
            "Timeouts": lambda p, x: self.mapping(p, x, {
                "HeadNodeBootstrapTimeout": head_timeout,
                "ComputeNodeBootstrapTimeout": lambda q, y: self.integer(q, y, 1),
            }),
        })

    def tags(self, path, v):
        # TagSchema: Key 1..128 characters, Value at most 256; keys ParallelCluster sets
        # itself (parallelcluster:*) are not the user's to give
        def tag(p, x):
            self.mapping(p, x, {
                "Key": lambda q, y: self.string(q, y, r"^(?!parallelcluster:).+$", max_len=128),
                "Value": lambda q, y: self.string(q, y, max_len=256),
            }, required=["Key", "Value"])
        self.sequence(path, v, tag, min_len=1, max_len=50)

    def cluster(self, v):
        self.mapping("", v, {
            "Tags": self.tags,
            "Region": lambda p, x: self.string(p, x, r"^[a-z]{2}(-[a-z]+)+-[0-9]+$"),
            "Image": self.image,
            "HeadNode": self.head_node,
            "Scheduling": self.scheduling,
            "SharedStorage": self.shared_storages,
            "DevSettings": self.dev_settings,
        }, required=["Image", "HeadNode", "Scheduling"])


def real_schema(doc):
    """Problems ParallelCluster's own ClusterSchema finds, or None without it."""
    src = os.environ.get("PETAL_PCLUSTER_SRC")
    if not src:
        return None
    sys.path.insert(0, src)
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")  # it reads, never calls
    try:
        from marshmallow import ValidationError
        from pcluster.schemas.cluster_schema import ClusterSchema
    except ImportError as e:
        sys.stderr.write("check_pcluster.py: PETAL_PCLUSTER_SRC is set but %s "
                         "(marshmallow: python3-marshmallow; boto3: python3-boto3)\n" % e)
        sys.exit(2)
    try:
        ClusterSchema(cluster_name="petal-check").load(doc)
    except ValidationError as e:
        return ["ParallelCluster's ClusterSchema: %s" % e.messages]
    return []


def main(argv):
    if len(argv) != 2:
        sys.stderr.write("usage: check_pcluster.py FILE\n")
        return 2
    try:
        with open(argv[1], encoding="utf-8") as f:
            doc = yaml.load(f, Loader=Loader)
    except (OSError, yaml.YAMLError) as e:
        print("%s: %s" % (argv[1], e))
        return 1
    c = Checker()
    c.cluster(doc)
    c.problems.extend(real_schema(doc) or [])
    for p in c.problems:
        print("%s: %s" % (argv[1], p))
    return 1 if c.problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
