#!/usr/bin/env python3
"""A loopback HTTP/1.1 server, or a proxy in front of one, that injects
faults: for petal's HTTP client tests (tests/test_http.c) and for
integration tests that must survive a misbehaving service (S3 through
moto_server).

  fault_server.py --port-file FILE [--upstream URL] [--fail-rate R]
                  [--mode KIND] [--seed N] [--stall-s S]
                  [--stats-file FILE] [--log FILE]

  --port-file FILE  bind 127.0.0.1 on a free port and write the port to FILE
                    (atomically) once listening.  Required.
  --upstream URL    proxy mode: forward every request to URL
                    (http://127.0.0.1:PORT) byte for byte, Host header and
                    all, so SigV4 signatures still verify; the answer comes
                    back byte for byte.  The one change: a request's
                    "Expect: 100-continue" is answered by the proxy and not
                    forwarded (Expect is never signed).
  --fail-rate R     inject a fault into this fraction of requests (0..1,
                    default 0).  In proxy mode a faulted request never
                    reaches the upstream, except with --mode reset-after.
  --mode KIND       the fault injected at --fail-rate:
                      503         HTTP 503 with an S3 <Error> "ServiceUnavailable"
                      slowdown    HTTP 503 with S3's <Code>SlowDown</Code> (default)
                      throttle    HTTP 400 with <Code>Throttling</Code> (EC2/STS style)
                      500         HTTP 500 "InternalError"
                      reset       close the connection without answering (RST)
                      reset-after forward, then drop the answer with a RST: the
                                  request took effect but the client never hears
                      stall       say nothing for --stall-s seconds, then close
                      mix         one of 503, slowdown, 500, reset at random
  --seed N          seed of the fault draw (default: random), so a failing run
                    can be replayed.
  --stall-s S       how long "stall" faults stall (default 30).
  --stats-file FILE after every request, write JSON {"requests", "faults",
                    "connections", "paths": {path: count}} to FILE.
  --log FILE        append one line per request: METHOD PATH FAULT|-
  --tls-cert FILE, --tls-key FILE
                    serve HTTPS with this PEM certificate and key (both modes:
                    the upstream is still spoken to in plain HTTP).

Server mode (no --upstream) answers by path (query arguments in brackets):
  /status/CODE[?code=AWSCODE]  that status, with an AWS-style <Error> body
  /reset                       close the connection without answering (RST)
  /stall[?s=S&after=N]         headers, N body bytes (default 1) of a declared
                               100, then silence for S seconds (default 30)
  /truncate                    Content-Length 1000, 10 bytes sent, then close
  /slow?ms=N                   wait N ms, then 200
  /flaky/KEY[?fail=K&with=F]   the first K requests for KEY fail with F (a status,
                               "reset" or "truncate"; default 503), later ones
                               answer 200 "good KEY\\n"
  /bytes/N[?seed=S]            200 with N pseudo-random bytes (byte i is
                               (i * 131 + S * 7 + i // 256) % 256)
  /echo...                     200 with JSON: method, path, headers (in order,
                               as sent), body_len, body_sha256
  /date?value=TEXT             200 with "Date: TEXT"
  /redirect?to=PATH            302 to PATH
  /stats[?reset=1]             the counters as JSON (not counted themselves)
  anything else                200 "ok\\n"
A request header "X-Fault: F" (a status or reset) overrides the path.
Every TCP connection accepted is counted ("connections"), to test reuse.
"""
import argparse
import hashlib
import json
import os
import random
import socket
import socketserver
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Stats:
    def __init__(self, path):
        self.lock = threading.Lock()
        self.path = path
        self.reset()

    def reset(self):
        self.requests = 0
        self.faults = 0
        self.connections = 0
        self.paths = {}

    def connection(self):
        with self.lock:
            self.connections += 1
            self._write()

    def request(self, path, fault):
        with self.lock:
            self.requests += 1
            self.paths[path] = self.paths.get(path, 0) + 1
            if fault:
                self.faults += 1
            self._write()

    def snapshot(self):
        return {"requests": self.requests, "faults": self.faults,
                "connections": self.connections, "paths": dict(self.paths)}

    def _write(self):
        if not self.path:
            return
        tmp = self.path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(self.snapshot(), f)
        os.replace(tmp, self.path)


class Faults:
    """The rate-based draw, shared by both modes."""

    KINDS = ("503", "slowdown", "throttle", "500", "reset", "reset-after", "stall", "mix")

    def __init__(self, rate, mode, seed):
        self.rate, self.mode = rate, mode
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def draw(self):
        with self.lock:
            if self.rate <= 0 or self.rng.random() >= self.rate:
                return None
            if self.mode == "mix":
                return self.rng.choice(("503", "slowdown", "500", "reset"))
            return self.mode


ERRORS = {  # kind -> (status, reason, AWS code)
    "503": (503, "Service Unavailable", "ServiceUnavailable"),
    "slowdown": (503, "Slow Down", "SlowDown"),
    "throttle": (400, "Bad Request", "Throttling"),
    "500": (500, "Internal Server Error", "InternalError"),
}


def error_answer(status, reason, code):
    body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code>"
            "<Message>injected by fault_server.py</Message>"
            "<RequestId>FAULT0000000000</RequestId></Error>" % code).encode()
    head = ("HTTP/1.1 %d %s\r\nContent-Type: application/xml\r\n"
            "Content-Length: %d\r\nx-amz-request-id: FAULT0000000000\r\n\r\n"
            % (status, reason, len(body))).encode()
    return head + body


def reset(sock):
    """Close with a RST, the way a crashed peer or a load balancer does."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def log_line(path, text):
    if path:
        with open(path, "a") as f:
            f.write(text + "\n")


# ---- server mode ----------------------------------------------------------------

def pattern_bytes(n, seed):
    return bytes((i * 131 + seed * 7 + i // 256) % 256 for i in range(n))


def make_handler(opts, stats, faults):
    flaky = {}
    flaky_lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def setup(self):
            super().setup()
            stats.connection()

        def send_raw(self, data, close=False):
            self.wfile.write(data)
            self.wfile.flush()
            if close:
                self.close_connection = True

        def answer(self, status, body=b"", ctype="text/plain", extra=()):
            self.send_response(status)
            for k, v in extra:
                self.send_header(k, v)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def fail_with(self, kind, code=None):
            """kind: an HTTP status as text, reset, truncate, stall."""
            if kind == "reset":
                self.close_connection = True
                reset(self.connection)
                return
            if kind == "truncate":
                self.send_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n0123456789",
                              close=True)
                return
            if kind == "stall":
                time.sleep(opts.stall_s)
                self.close_connection = True
                return
            if kind in ERRORS:
                status, reason, aws = ERRORS[kind]
            else:
                status = int(kind)
                reason = self.responses.get(status, ("Error",))[0]
                aws = code or "Error%d" % status
            self.send_raw(error_answer(status, reason, code or aws))

        def handle_any(self):
            url = urllib.parse.urlsplit(self.path)
            path = url.path
            q = dict(urllib.parse.parse_qsl(url.query))
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if path == "/stats":
                snap = json.dumps(stats.snapshot()).encode()
                if q.get("reset"):
                    with stats.lock:
                        stats.reset()
                self.answer(200, snap, "application/json")
                return
            fault = faults.draw()
            stats.request(path, fault)
            log_line(opts.log, "%s %s %s" % (self.command, path, fault or "-"))
            if fault:
                self.fail_with(fault)
                return
            forced = self.headers.get("X-Fault")
            if forced:
                self.fail_with(forced)
            elif path.startswith("/status/"):
                self.fail_with(path[len("/status/"):], q.get("code"))
            elif path == "/reset":
                self.fail_with("reset")
            elif path == "/truncate":
                self.fail_with("truncate")
            elif path == "/stall":
                after = int(q.get("after", "1"))
                self.send_raw(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * after)
                time.sleep(float(q.get("s", "30")))
                self.close_connection = True
            elif path == "/slow":
                time.sleep(int(q.get("ms", "1000")) / 1000.0)
                self.answer(200, b"slow\n")
            elif path.startswith("/flaky/"):
                key = path[len("/flaky/"):]
                with flaky_lock:
                    seen = flaky.get(key, 0)
                    flaky[key] = seen + 1
                if seen < int(q.get("fail", "1")):
                    self.fail_with(q.get("with", "503"))
                else:
                    self.answer(200, ("good %s\n" % key).encode())
            elif path.startswith("/bytes/"):
                n = int(path[len("/bytes/"):])
                self.answer(200, pattern_bytes(n, int(q.get("seed", "0"))),
                            "application/octet-stream")
            elif path.startswith("/echo"):
                doc = {"method": self.command, "path": self.path,
                       "headers": [[k, v] for k, v in self.headers.items()],
                       "body_len": len(body),
                       "body_sha256": hashlib.sha256(body).hexdigest()}
                self.answer(200, json.dumps(doc).encode(), "application/json")
            elif path == "/date":
                # send_response would add its own Date: write the head by hand
                self.send_raw(("HTTP/1.1 200 OK\r\nDate: %s\r\nContent-Length: 3\r\n\r\nok\n"
                               % q.get("value", "")).encode())
            elif path == "/redirect":
                self.answer(302, b"", extra=(("Location", q.get("to", "/")),))
            else:
                self.answer(200, b"ok\n")

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = do_PATCH = handle_any

    return Handler


# ---- proxy mode ------------------------------------------------------------------

def read_head(f):
    """The bytes up to and including the blank line; b"" at a clean EOF."""
    lines = []
    while True:
        line = f.readline(65537)
        if not line:
            return b"" if not lines else None
        lines.append(line)
        if line in (b"\r\n", b"\n") and len(lines) > 1:
            return b"".join(lines)
        if line in (b"\r\n", b"\n"):
            lines.pop()  # stray blank line between requests


def header_map(head):
    out = {}
    for line in head.split(b"\r\n")[1:]:
        if b":" in line:
            k, v = line.split(b":", 1)
            out[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    return out


def read_chunked(f):
    """A chunked body, raw: chunk sizes, data, trailers."""
    parts = []
    while True:
        size_line = f.readline(65537)
        if not size_line:
            raise ConnectionError("chunked body cut short")
        parts.append(size_line)
        size = int(size_line.split(b";")[0].strip(), 16)
        if size == 0:
            while True:
                t = f.readline(65537)
                if not t:
                    raise ConnectionError("trailers cut short")
                parts.append(t)
                if t in (b"\r\n", b"\n"):
                    return b"".join(parts)
        data = f.read(size + 2)
        if len(data) != size + 2:
            raise ConnectionError("chunk cut short")
        parts.append(data)


def read_body(f, headers, until_close):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return read_chunked(f), False
    if "content-length" in headers:
        n = int(headers["content-length"])
        data = f.read(n)
        if len(data) != n:
            raise ConnectionError("body cut short")
        return data, False
    if until_close:
        return f.read(), True
    return b"", False


def strip_expect(head):
    lines = head.split(b"\r\n")
    kept = [l for l in lines if not l.lower().startswith(b"expect:")]
    return b"\r\n".join(kept)


def make_proxy(opts, stats, faults, upstream):
    class Proxy(socketserver.StreamRequestHandler):
        def setup(self):
            super().setup()
            stats.connection()
            self.up = None
            self.upf = None

        def finish(self):
            self.close_upstream()
            try:
                super().finish()
            except OSError:
                pass

        def close_upstream(self):
            if self.up:
                try:
                    self.upf.close()
                    self.up.close()
                except OSError:
                    pass
            self.up = self.upf = None

        def exchange(self, data, method):
            """Send one request upstream, return (raw answer, upstream closes)."""
            for attempt in (0, 1):
                if not self.up:
                    self.up = socket.create_connection(upstream, timeout=300)
                    self.upf = self.up.makefile("rb")
                out = []
                try:
                    self.up.sendall(data)
                    while True:
                        head = read_head(self.upf)
                        if not head:
                            raise ConnectionError("upstream closed")
                        out.append(head)
                        status = int(head.split(b" ", 2)[1])
                        if 100 <= status < 200:
                            continue  # interim answers go through, then the final one
                        break
                    h = header_map(head)
                    if method == "HEAD" or status in (204, 304):
                        body, closed = b"", False
                    else:
                        body, closed = read_body(self.upf, h, True)
                    out.append(body)
                    closes = closed or h.get("connection", "").lower() == "close"
                    return b"".join(out), closes
                except (ConnectionError, OSError):
                    self.close_upstream()
                    if attempt or out:
                        raise
            raise ConnectionError("unreachable")

        def handle(self):
            while True:
                try:
                    head = read_head(self.rfile)
                except OSError:
                    return
                if not head:
                    return
                h = header_map(head)
                method, target = head.split(b" ", 2)[:2]
                method = method.decode("latin-1")
                if h.get("expect", "").lower() == "100-continue":
                    self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
                    self.wfile.flush()
                    head = strip_expect(head)
                try:
                    body, _ = read_body(self.rfile, h, False)
                except (ConnectionError, ValueError):
                    return
                path = urllib.parse.urlsplit(target.decode("latin-1")).path
                fault = faults.draw()
                stats.request(path, fault)
                log_line(opts.log, "%s %s %s" % (method, path, fault or "-"))
                if fault in ERRORS:
                    self.wfile.write(error_answer(*ERRORS[fault]))
                    self.wfile.flush()
                    continue
                if fault == "reset":
                    reset(self.connection)
                    return
                if fault == "stall":
                    time.sleep(opts.stall_s)
                    return
                try:
                    answer, closes = self.exchange(head + body, method)
                except (ConnectionError, OSError, ValueError):
                    reset(self.connection)
                    return
                if fault == "reset-after":
                    reset(self.connection)
                    return
                self.wfile.write(answer)
                self.wfile.flush()
                if closes or h.get("connection", "").lower() == "close":
                    return

    return Proxy


def quiet_handle_error(self, request, client_address):
    """A peer that hangs up or refuses our certificate is what these tests
    provoke; anything else is a bug in this script and is shown."""
    if not isinstance(sys.exc_info()[1], OSError):
        socketserver.BaseServer.handle_error(self, request, client_address)


class ProxyServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    handle_error = quiet_handle_error


class Server(ThreadingHTTPServer):
    daemon_threads = True
    handle_error = quiet_handle_error


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--upstream")
    ap.add_argument("--fail-rate", type=float, default=0.0)
    ap.add_argument("--mode", choices=Faults.KINDS, default="slowdown")
    ap.add_argument("--seed", type=int)
    ap.add_argument("--stall-s", type=float, default=30.0)
    ap.add_argument("--stats-file")
    ap.add_argument("--log")
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    opts = ap.parse_args()
    if not 0 <= opts.fail_rate <= 1:
        ap.error("--fail-rate must be between 0 and 1")
    stats = Stats(opts.stats_file)
    faults = Faults(opts.fail_rate, opts.mode, opts.seed)
    if opts.upstream:
        u = urllib.parse.urlsplit(opts.upstream)
        if u.scheme != "http" or not u.hostname or not u.port:
            ap.error("--upstream must be http://HOST:PORT")
        server = ProxyServer(("127.0.0.1", 0), make_proxy(opts, stats, faults,
                                                          (u.hostname, u.port)))
    else:
        server = Server(("127.0.0.1", 0), make_handler(opts, stats, faults))
    if opts.tls_cert:
        import ssl
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.tls_cert, opts.tls_key)
        # the handshake runs in the handler's thread, where a refused
        # certificate only ends that connection
        server.socket = ctx.wrap_socket(server.socket, server_side=True,
                                        do_handshake_on_connect=False)
    tmp = opts.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % server.server_address[1])
    os.replace(tmp, opts.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
