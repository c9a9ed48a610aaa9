#!/usr/bin/python3
"""Play `pcluster create-cluster` on one custom AMI: run ParallelCluster's own
CustomAmiTagValidator and AmiOsCompatibleValidator (../shared/peers/pcluster, 3.11.1,
unmodified) against moto's EC2, through tests/pcluster/pcluster_aws.py (which the
`pcluster` stand-in uses too).

    pcluster_ami_check.py PEERS_PCLUSTER ENDPOINT REGION OS IMAGE_ID

Prints each failure as "LEVEL Validator: message"; exit 0 when there is none, 1 when
any (a warning counts: petal's image must pass clean), 2 on bad usage.  The version the
validator compares with is the peer's own (pcluster.constants, as pcluster installed).
"""
import os
import sys

if len(sys.argv) != 6:
    print("usage: pcluster_ami_check.py PEERS_PCLUSTER ENDPOINT REGION OS IMAGE_ID", file=sys.stderr)
    sys.exit(2)
peers, endpoint, region, cluster_os, image_id = sys.argv[1:]
os.environ["AWS_DEFAULT_REGION"] = region
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pcluster"))

import pcluster_aws  # noqa: E402

pcluster_aws.setup(peers, endpoint)
failures = pcluster_aws.ami_failures(image_id, cluster_os)
for f in failures:
    print(f"{f.level} {f.validator_type}: {f.message}")
sys.exit(1 if failures else 0)
