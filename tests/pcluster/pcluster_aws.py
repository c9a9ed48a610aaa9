"""ParallelCluster's own AWS-facing validators, asking moto instead of AWS.

Shared by tests/aws/pcluster_ami_check.py and the `pcluster` stand-in
(tests/pcluster/pcluster).  It runs ParallelCluster 3.11.1's code from
../shared/peers/pcluster (unmodified) with three adjustments, each for a reason:
  - boto3.client gets moto's endpoint (Debian's boto3 1.26 ignores AWS_ENDPOINT_URL*);
  - Debian 12's botocore (1.29) has no DescribeImages paginator, which ParallelCluster
    uses: one is added beside the others, the same model later botocores ship;
  - pcluster reads its own version from the installed distribution; the peer is not
    installed, so the version is the peer's own (pcluster.constants).

    setup(peers, endpoint=None)     once, before anything else here
    ami_failures(image_id, os)      CustomAmiTagValidator + AmiOsCompatibleValidator
    url_failures(url)               UrlValidator (as CustomActions scripts register it)
Each returns ParallelCluster's ValidationResult objects (level, validator_type, message).
"""
import atexit
import json
import os
import shutil
import sys
import tempfile

_endpoint = None


def endpoint_for(service):
    """moto's URL for SERVICE: AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL, then setup's."""
    return (os.environ.get("AWS_ENDPOINT_URL_" + service.upper().replace("-", "_"))
            or os.environ.get("AWS_ENDPOINT_URL") or _endpoint)


def _add_describe_images_paginator():
    import botocore

    model = os.path.join(os.path.dirname(botocore.__file__), "data", "ec2", "2016-11-15",
                         "paginators-1.json")
    with open(model) as f:
        pages = json.load(f)
    if "DescribeImages" in pages["pagination"]:
        return
    pages["pagination"]["DescribeImages"] = {
        "input_token": "NextToken", "output_token": "NextToken",
        "limit_key": "MaxResults", "result_key": "Images"}
    data = tempfile.mkdtemp(prefix="pcluster-check.")
    atexit.register(shutil.rmtree, data, True)
    os.makedirs(os.path.join(data, "ec2", "2016-11-15"))
    with open(os.path.join(data, "ec2", "2016-11-15", "paginators-1.json"), "w") as f:
        json.dump(pages, f)
    os.environ["AWS_DATA_PATH"] = data


def setup(peers, endpoint=None):
    """Put ParallelCluster (PEERS/cli/src) on the path and point boto3 at moto."""
    global _endpoint
    _endpoint = endpoint
    for p in (os.path.join(peers, "cli"), os.path.join(peers, "cli", "src")):
        if p not in sys.path:
            sys.path.insert(0, p)
    _add_describe_images_paginator()

    import boto3

    client = boto3.client

    def moto_client(name, *args, **kwargs):
        url = endpoint_for(name)
        if url:
            kwargs.setdefault("endpoint_url", url)
        return client(name, *args, **kwargs)

    boto3.client = moto_client

    from pcluster.constants import COOKBOOK_PACKAGES_VERSIONS
    from pcluster.validators import cluster_validators

    cluster_validators.get_installed_version = lambda base_version_only=False: (
        COOKBOOK_PACKAGES_VERSIONS["parallelcluster"])


def version():
    from pcluster.constants import COOKBOOK_PACKAGES_VERSIONS

    return COOKBOOK_PACKAGES_VERSIONS["parallelcluster"]


def ami_failures(image_id, cluster_os):
    """As cluster_config.py registers them; run the way Resource runs a validator (an
    exception, say DescribeImages' "does not exist", is that validator's ERROR)."""
    from pcluster.config.common import Resource
    from pcluster.validators import cluster_validators
    from pcluster.validators.ec2_validators import AmiOsCompatibleValidator

    run = Resource._validator_execute_sync  # pylint: disable=protected-access
    return (run({"custom_ami": image_id}, cluster_validators.CustomAmiTagValidator())
            + run({"os": cluster_os, "image_id": image_id}, AmiOsCompatibleValidator()))


def url_failures(url):
    """UrlValidator as a CustomActions Script registers it (cluster_config.py: timed, 5 s)."""
    import asyncio

    from pcluster.validators.common import get_async_timed_validator_type_for
    from pcluster.validators.s3_validators import UrlValidator

    validator = get_async_timed_validator_type_for(UrlValidator)()
    return asyncio.run(validator.execute_async(url=url, timeout=5))
