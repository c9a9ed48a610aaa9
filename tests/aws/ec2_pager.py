#!/usr/bin/env python3
"""A loopback proxy in front of moto_server that pages DescribeImages.

moto 5 answers DescribeImages with every image at once: it ignores
MaxResults and NextToken, so an EC2 client's paging loop would never be
exercised.  This proxy forwards every request to moto unchanged (same
method, path, headers and body, so moto still checks the SigV4 signature
made for this proxy's Host) and, for a DescribeImages that asks for pages,
cuts moto's answer the way EC2 does:

  - MaxResults must be 5..1000, and may not be combined with ImageId.N
    (EC2: InvalidParameterCombination / InvalidParameterValue);
  - NextToken must be one this proxy issued for the same query;
  - a page holds at most MaxResults images; <nextToken> follows when more
    remain.

Every DescribeImages page is logged to LOG as one line
"DescribeImages max=M offset=O returned=N next=yes|no include_deprecated=V"
(V: the query's IncludeDeprecated, "-" when absent), so a test can show that
pages were followed and what was asked.  (moto keeps no deprecation times.)

usage: ec2_pager.py PORT_FILE LOG UPSTREAM_URL
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import sys
import threading
import urllib.parse
import xml.etree.ElementTree as ET

HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


def ec2_error(code, message):
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f'<Code>{code}</Code><Message>{message}</Message></Error></Errors>'
            '<RequestID>ec2-pager-refusal</RequestID></Response>')
    return 400, body.encode()


def query_key(params):
    kept = sorted((k, v) for k, vs in params.items() for v in vs
                  if k not in ("NextToken", "MaxResults"))
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]


def make_token(key, offset):
    raw = json.dumps({"q": key, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode()


def read_token(token, key):
    try:
        t = json.loads(base64.urlsafe_b64decode(token.encode()))
        if t["q"] == key and isinstance(t["o"], int) and t["o"] > 0:
            return t["o"]
    except (ValueError, KeyError, TypeError):
        pass
    return None


class Pager:
    def __init__(self, log, upstream):
        self.log = log
        self.lock = threading.Lock()
        u = urllib.parse.urlsplit(upstream)
        self.host, self.port = u.hostname, u.port

    def forward(self, method, path, headers, body):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers)
            r = conn.getresponse()
            return r.status, [(k, v) for k, v in r.getheaders()
                              if k.lower() not in HOP], r.read()
        finally:
            conn.close()

    def page(self, params, status, body):
        """(status, body) for a DescribeImages that asks for pages."""
        if any(k.startswith("ImageId.") for k in params):
            return ec2_error("InvalidParameterCombination",
                             "The parameter ImageIds cannot be used with the "
                             "parameter maxResults")
        try:
            max_results = int(params["MaxResults"][0])
        except ValueError:
            return ec2_error("InvalidParameterValue", "MaxResults is not a number")
        if not 5 <= max_results <= 1000:
            return ec2_error("InvalidParameterValue",
                             f"Value ( {max_results} ) for parameter maxResults is "
                             "invalid. Expecting a value between 5 and 1000.")
        key = query_key(params)
        offset = 0
        if "NextToken" in params:
            offset = read_token(params["NextToken"][0], key)
            if offset is None:
                return ec2_error("InvalidParameterValue",
                                 "Unable to parse pagination token")
        if status != 200:
            return status, body
        root = ET.fromstring(body)
        ns = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
        if ns:
            ET.register_namespace("", ns[1:-1])
        images = root.find(f"{ns}imagesSet")
        items = list(images) if images is not None else []
        for item in items:
            images.remove(item)
        for item in items[offset:offset + max_results]:
            images.append(item)
        more = offset + max_results < len(items)
        if more:
            tok = ET.SubElement(root, f"{ns}nextToken")
            tok.text = make_token(key, offset + max_results)
        with self.lock, open(self.log, "a") as f:
            f.write(f"DescribeImages max={max_results} offset={offset} "
                    f"returned={min(max_results, max(0, len(items) - offset))} "
                    f"next={'yes' if more else 'no'} "
                    f"include_deprecated={params.get('IncludeDeprecated', ['-'])[0]}\n")
        return 200, ET.tostring(root, encoding="utf-8", xml_declaration=True)


def handler_for(pager):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):
            pass

        def relay(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
            status, rheaders, rbody = pager.forward(self.command, self.path, headers, body)
            params = urllib.parse.parse_qs(body.decode("utf-8", "replace"),
                                           keep_blank_values=True)
            if (self.command == "POST" and params.get("Action") == ["DescribeImages"]
                    and "MaxResults" in params):
                status, rbody = pager.page(params, status, rbody)
                rheaders = [(k, v) for k, v in rheaders if k.lower() != "content-type"]
                rheaders.append(("Content-Type", "text/xml"))
            self.send_response(status)
            for k, v in rheaders:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(rbody)))
            self.end_headers()
            self.wfile.write(rbody)

        do_GET = do_POST = do_PUT = do_DELETE = relay

    return Handler


def main():
    port_file, log, upstream = sys.argv[1:4]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             handler_for(Pager(log, upstream)))
    with open(port_file + ".tmp", "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(port_file + ".tmp", port_file)
    server.serve_forever()


if __name__ == "__main__":
    main()
