#!/usr/bin/env python3
"""A loopback stand-in for the EC2 instance metadata service (IMDSv2 only),
for tests/test_aws_config.c.  It is as strict as the real one: a token only
by PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds between 1
and 21600 (else 400), every other request only with that token in
X-aws-ec2-metadata-token (else 401), nothing through a proxy
(X-Forwarded-For: 403).

  imds_server.py PORT_FILE LOG_FILE [--role NAME | --no-role]
                 [--creds-json TEXT] [--hang SECONDS]

Binds 127.0.0.1 on a free port and writes the port to PORT_FILE once it
listens.  Each request is appended to LOG_FILE as one line:
  METHOD PATH ttl=<ttl header or -> token=<ok|missing|wrong>
"""
import json
import os
import secrets
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

CREDS_PATH = "/latest/meta-data/iam/security-credentials/"


def main():
    port_file, log_file = sys.argv[1], sys.argv[2]
    args = sys.argv[3:]
    role, creds_json, hang = "petal-build-role", None, 0.0
    while args:
        opt = args.pop(0)
        if opt == "--role":
            role = args.pop(0)
        elif opt == "--no-role":
            role = None
        elif opt == "--creds-json":
            creds_json = args.pop(0)
        elif opt == "--hang":
            hang = float(args.pop(0))
        else:
            sys.exit("unknown option " + opt)
    tokens = set()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def record(self, token_state):
            ttl = self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", "-")
            with open(log_file, "a") as f:
                f.write(f"{self.command} {self.path} ttl={ttl} token={token_state}\n")

        def answer(self, status, body=b"", ctype="text/plain"):
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            if hang:
                time.sleep(hang)
            self.record("-")
            if self.headers.get("X-Forwarded-For"):
                return self.answer(403)
            if self.path != "/latest/api/token":
                return self.answer(405)
            try:
                ttl = int(self.headers.get("X-aws-ec2-metadata-token-ttl-seconds", ""))
            except ValueError:
                return self.answer(400)
            if not 1 <= ttl <= 21600:
                return self.answer(400)
            token = "AQAEA" + secrets.token_urlsafe(40)
            tokens.add(token)
            self.answer(200, token.encode())

        def do_GET(self):
            given = self.headers.get("X-aws-ec2-metadata-token")
            state = "missing" if given is None else ("ok" if given in tokens else "wrong")
            self.record(state)
            if state != "ok":
                return self.answer(401)
            if self.path == CREDS_PATH:
                if role is None:
                    return self.answer(404)
                return self.answer(200, role.encode())
            if role is not None and self.path == CREDS_PATH + role:
                body = creds_json or json.dumps({
                    "Code": "Success",
                    "LastUpdated": "2026-01-01T00:00:00Z",
                    "Type": "AWS-HMAC",
                    "AccessKeyId": "ASIAIMDSEXAMPLE12345",
                    "SecretAccessKey": "imdsSecretKey/EXAMPLE+0123456789abcdefghi",
                    "Token": "IQoJb3JpZ2luX2VjEIMDSsessionTOKEN==",
                    "Expiration": "2030-01-02T03:04:05Z",
                })
                return self.answer(200, body.encode(), "application/json")
            self.answer(404)

    server = HTTPServer(("127.0.0.1", 0), Handler)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    # renamed so the test never reads a half-written port
    os.rename(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
