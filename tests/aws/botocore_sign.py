#!/usr/bin/env python3
"""Sign requests with botocore, the AWS SDK for Python, as a second opinion
for petal's SigV4 signer (tests/test_sigv4.c).

Reads a JSON list of requests on stdin, each an object with
  method, host, path, query (as given, no '?'), headers ([[name, value], ...]),
  body (text, UTF-8), service, region, time (UTC seconds), access_key, secret,
  token (or null), s3 (true: S3SigV4Auth, false: SigV4Auth)
and writes a JSON list of {creq, sts, authz} in the same order on stdout.

The query is handed to botocore as decoded (name, value) pairs, so botocore
encodes it itself; the signing time is pinned by replacing botocore's clock.
"""
import datetime
import json
import sys
from urllib.parse import unquote_to_bytes

import botocore.auth as auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def decode(s):
    return unquote_to_bytes(s).decode("utf-8")


def sign(case):
    when = datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc)
    auth.get_current_datetime = lambda remove_tzinfo=True: when.replace(tzinfo=None)

    params = []
    for pair in case["query"].split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        params.append((decode(name), decode(value)))

    request = AWSRequest(
        method=case["method"],
        url="https://" + case["host"] + case["path"],
        data=case["body"].encode("utf-8"),
        params=params,
    )
    for name, value in case["headers"]:
        request.headers[name] = value  # appends: duplicates are kept
    creds = Credentials(case["access_key"], case["secret"], case.get("token"))
    cls = auth.S3SigV4Auth if case["s3"] else auth.SigV4Auth
    signer = cls(creds, case["service"], case["region"])
    seen = {}

    # Record what add_auth computes; computed afterwards, the canonical
    # request would include the Authorization header it has just added.
    def canonical_request(req, inner=signer.canonical_request):
        seen["creq"] = inner(req)
        return seen["creq"]

    def string_to_sign(req, creq, inner=signer.string_to_sign):
        seen["sts"] = inner(req, creq)
        return seen["sts"]

    signer.canonical_request = canonical_request
    signer.string_to_sign = string_to_sign
    signer.add_auth(request)
    seen["authz"] = request.headers["Authorization"]
    return seen


def main():
    cases = json.load(sys.stdin)
    json.dump([sign(c) for c in cases], sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
