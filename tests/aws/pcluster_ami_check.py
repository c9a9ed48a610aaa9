#!/usr/bin/python3
"""Play `pcluster create-cluster` on one custom AMI: run ParallelCluster's own
CustomAmiTagValidator and AmiOsCompatibleValidator (../shared/peers/pcluster, 3.11.1,
unmodified) against moto's EC2.

    pcluster_ami_check.py PEERS_PCLUSTER ENDPOINT REGION OS IMAGE_ID

Prints each failure as "LEVEL Validator: message"; exit 0 when there is none, 1 when
any (a warning counts: petal's image must pass clean), 2 on bad usage.  The version the
validator compares with is the peer's own (pcluster.constants, as pcluster installed).
"""
import atexit
import json
import os
import shutil
import sys
import tempfile

if len(sys.argv) != 6:
    print("usage: pcluster_ami_check.py PEERS_PCLUSTER ENDPOINT REGION OS IMAGE_ID", file=sys.stderr)
    sys.exit(2)
peers, endpoint, region, cluster_os, image_id = sys.argv[1:]
sys.path[:0] = [os.path.join(peers, "cli", "src"), os.path.join(peers, "cli")]
os.environ["AWS_DEFAULT_REGION"] = region

import botocore  # noqa: E402

# ParallelCluster pages DescribeImages; Debian 12's botocore (1.29) has no paginator for
# it (later ones do, the same model as here): give it one, beside the others it has
model = os.path.join(os.path.dirname(botocore.__file__), "data", "ec2", "2016-11-15",
                     "paginators-1.json")
with open(model) as f:
    pages = json.load(f)
if "DescribeImages" not in pages["pagination"]:
    pages["pagination"]["DescribeImages"] = {
        "input_token": "NextToken", "output_token": "NextToken",
        "limit_key": "MaxResults", "result_key": "Images"}
    data = tempfile.mkdtemp(prefix="pcluster-check.")
    atexit.register(shutil.rmtree, data, True)
    os.makedirs(os.path.join(data, "ec2", "2016-11-15"))
    with open(os.path.join(data, "ec2", "2016-11-15", "paginators-1.json"), "w") as f:
        json.dump(pages, f)
    os.environ["AWS_DATA_PATH"] = data

import boto3  # noqa: E402

_client = boto3.client


def _moto_client(name, *args, **kwargs):
    kwargs.setdefault("endpoint_url", endpoint)
    return _client(name, *args, **kwargs)


boto3.client = _moto_client

from pcluster.constants import COOKBOOK_PACKAGES_VERSIONS  # noqa: E402
from pcluster.validators import cluster_validators  # noqa: E402
from pcluster.validators.ec2_validators import AmiOsCompatibleValidator  # noqa: E402

# pcluster reads its version from the installed distribution; the peer is not installed
cluster_validators.get_installed_version = lambda base_version_only=False: (
    COOKBOOK_PACKAGES_VERSIONS["parallelcluster"])

failures = cluster_validators.CustomAmiTagValidator().execute(custom_ami=image_id)
failures += AmiOsCompatibleValidator().execute(os=cluster_os, image_id=image_id)
for f in failures:
    print(f"{f.level} {f.validator_type}: {f.message}")
sys.exit(1 if failures else 0)
