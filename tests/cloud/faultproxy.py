# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fault-injecting HTTP proxy on loopback, in front of Cinder's API, for chaos tests.

Point a clouds.yaml cloud at it with
``block_storage_endpoint_override: http://127.0.0.1:PORT/v3/%(project_id)s``; Keystone is not proxied.

    python3 tests/cloud/faultproxy.py --listen 127.0.0.1:PORT --upstream http://127.0.0.1:8776 \\
        --seed 1 --rate 0.1 --faults 500,503,reset,stall,drop --methods POST,DELETE --path 'snapshots' \\
        --stall-seconds 2 --log faults.jsonl

Fault kinds:
    500, 503  answer with a Cinder-style JSON fault, without forwarding
    reset     read the request, do not forward it, reset the client connection (TCP RST)
    stall     sleep stall_seconds, then forward
    drop      forward, read Cinder's whole answer, then reset the client connection without sending it
    late      forward at once, then hold Cinder's answer stall_seconds before sending it (scripts
              and explicit faults only: not among the default faults)

Control endpoint on the same port (never faulted, never logged):
    GET  /__faultproxy__/log      {"counts": {...}, "log": [...]}
    GET  /__faultproxy__/config   the settings and the queued scripts
    POST /__faultproxy__/config   JSON body: keyword arguments of configure()
    POST /__faultproxy__/script   JSON body: {"kind": ..., "method": ..., "path": ..., "count": ...}
    POST /__faultproxy__/clear    empty the scripts
    POST /__faultproxy__/reset_log

Only the standard library is used here.
"""
from __future__ import annotations

import argparse
import collections
import http.client
import http.server
import json
import random
import re
import signal
import socket
import struct
import sys
import threading
import time
import urllib.parse
import uuid

FAULT_KINDS = ("500", "503", "reset", "stall", "drop", "late")
DEFAULT_FAULTS = ("500", "503", "reset", "stall", "drop")
CONTROL_PREFIX = "/__faultproxy__/"
# Cinder can take a while on a busy host; a stuck upstream still ends as a 502.
UPSTREAM_TIMEOUT = 120.0
# Idle keep-alive client connections are closed after this long, so their threads end.
CLIENT_IDLE_TIMEOUT = 300.0
# RFC 9110 section 7.6.1, plus Expect: the proxy has already answered 100-continue itself.
HOP_BY_HOP = frozenset(("connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
                        "proxy-connection", "te", "trailer", "trailers", "transfer-encoding", "upgrade",
                        "expect"))
# configure()'s default: None is a value there (every method, every path).
UNCHANGED = object()
FAULT_BODIES = {
    "500": ("Internal Server Error", "computeFault"),
    "503": ("Service Unavailable", "serviceUnavailable"),
}


def _check_kind(kind):
    if kind not in FAULT_KINDS:
        raise ValueError("unknown fault kind %r (known: %s)" % (kind, ", ".join(FAULT_KINDS)))
    return kind


def _split_list(value):
    """A comma-separated string or a sequence, as a tuple of stripped non-empty strings."""
    if isinstance(value, str):
        value = value.split(",")
    return tuple(item.strip() for item in value if item.strip())


def _json_bytes(data):
    return json.dumps(data).encode("utf-8")


def _abort_socket(sock):
    """Close with SO_LINGER 0 so the kernel sends RST instead of FIN."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    sock.close()


class _Script:
    __slots__ = ("kind", "method", "path", "remaining")

    def __init__(self, kind, method, path, count):
        self.kind = kind
        self.method = method
        self.path = path
        self.remaining = count

    def matches(self, method, path):
        return (self.method is None or self.method == method) and (self.path is None or self.path.search(path))


class FaultProxy:
    """The proxy: settings, scripts, the seeded random source and the log, shared by the server threads."""

    def __init__(self, upstream="http://127.0.0.1:8776", host="127.0.0.1", port=0, seed=0, rate=0.0,
                 faults=DEFAULT_FAULTS, methods=None, path_pattern=None, stall_seconds=2.0, log_path=None):
        parsed = urllib.parse.urlsplit(upstream)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ValueError("upstream must be an http(s) URL, not %r" % (upstream,))
        self.upstream = upstream
        self._upstream_scheme = parsed.scheme
        self._upstream_host = parsed.hostname
        self._upstream_port = parsed.port or (443 if parsed.scheme == "https" else 80)
        self._upstream_prefix = parsed.path.rstrip("/")
        self.host = host
        self._requested_port = port
        self.log_path = log_path
        self._lock = threading.Lock()
        self._rng = random.Random(seed)
        self._scripts = []
        self._log = []
        self._counts = self._empty_counts()
        self._next_n = 0
        # The last few exceptions the server threads met (clients that went away, mostly), for debugging.
        self.internal_errors = collections.deque(maxlen=20)
        self._log_file = None
        self._server = None
        self._thread = None
        self.rate = 0.0
        self.faults = DEFAULT_FAULTS
        self.methods = None
        self.path_pattern = None
        self.stall_seconds = 2.0
        self.configure(rate=rate, faults=faults, methods=methods, path_pattern=path_pattern,
                       stall_seconds=stall_seconds)

    # -- life cycle ---------------------------------------------------------------------------

    def start(self):
        if self._server is not None:
            return self
        if self.log_path:
            self._log_file = open(self.log_path, "a", encoding="utf-8")
        self._server = _ProxyServer((self.host, self._requested_port), _ProxyHandler, self)
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_client_connections()
        server.server_close()
        self._thread.join(timeout=5)
        with self._lock:
            if self._log_file is not None:
                self._log_file.close()
                self._log_file = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def port(self):
        if self._server is None:
            return self._requested_port
        return self._server.server_address[1]

    @property
    def url(self):
        return "http://%s:%d" % (self.host, self.port)

    # -- settings and scripts -----------------------------------------------------------------

    def configure(self, rate=UNCHANGED, faults=UNCHANGED, methods=UNCHANGED, path_pattern=UNCHANGED,
                  stall_seconds=UNCHANGED, seed=UNCHANGED, **unknown):
        """Change the given settings at runtime; methods=None and path_pattern=None make every request a candidate.

        seed re-seeds the random source. Returns settings().
        """
        if unknown:
            raise TypeError("unknown setting(s): %s" % ", ".join(sorted(unknown)))
        changes = {}
        if rate is not UNCHANGED:
            rate = float(rate)
            if not 0.0 <= rate <= 1.0:
                raise ValueError("rate must be within [0, 1], not %r" % (rate,))
            changes["rate"] = rate
        if faults is not UNCHANGED:
            faults = tuple(_check_kind(str(kind)) for kind in _split_list(faults or ()))
            if not faults:
                raise ValueError("faults must name at least one kind")
            changes["faults"] = faults
        if methods is not UNCHANGED:
            changes["methods"] = tuple(m.upper() for m in _split_list(methods or ())) or None
        if path_pattern is not UNCHANGED:
            changes["path_pattern"] = re.compile(path_pattern) if path_pattern else None
        if stall_seconds is not UNCHANGED:
            changes["stall_seconds"] = max(0.0, float(stall_seconds))
        with self._lock:
            for name, value in changes.items():
                setattr(self, name, value)
            if seed is not UNCHANGED:
                self._rng.seed(seed)
        return self.settings()

    def settings(self):
        with self._lock:
            return {"upstream": self.upstream, "rate": self.rate, "faults": list(self.faults),
                    "methods": list(self.methods) if self.methods else None,
                    "path_pattern": self.path_pattern.pattern if self.path_pattern else None,
                    "stall_seconds": self.stall_seconds,
                    "scripts": [{"kind": s.kind, "method": s.method, "path": s.path.pattern if s.path else None,
                                 "count": s.remaining} for s in self._scripts]}

    def script(self, kind, method=None, path=None, count=1):
        """Apply fault kind to the next count requests matching method (exact) and path (re.search)."""
        count = int(count)
        if count < 1:
            raise ValueError("count must be at least 1, not %r" % (count,))
        entry = _Script(_check_kind(str(kind)), method.upper() if method else None,
                        re.compile(path) if path else None, count)
        with self._lock:
            self._scripts.append(entry)

    def clear(self):
        with self._lock:
            self._scripts.clear()

    # -- log ------------------------------------------------------------------------------------

    @staticmethod
    def _empty_counts():
        counts = {"requests": 0, "forwarded": 0}
        counts.update((kind, 0) for kind in FAULT_KINDS)
        counts.update(upstream_errors=0, errors=0)
        return counts

    @property
    def log(self):
        with self._lock:
            return [dict(entry) for entry in self._log]

    def counts(self):
        with self._lock:
            return dict(self._counts)

    def reset_log(self):
        with self._lock:
            self._log.clear()
            self._counts = self._empty_counts()
            self._next_n = 0

    # -- used by the server threads -------------------------------------------------------------

    def _choose_fault(self, method, path):
        """The request's number and fault: a matching script first, else the seeded random draw."""
        with self._lock:
            self._next_n += 1
            n = self._next_n
            for index, entry in enumerate(self._scripts):
                if entry.matches(method, path):
                    entry.remaining -= 1
                    if entry.remaining <= 0:
                        del self._scripts[index]
                    return n, entry.kind
            if self.rate <= 0.0:
                return n, None
            if self.methods is not None and method not in self.methods:
                return n, None
            if self.path_pattern is not None and not self.path_pattern.search(path):
                return n, None
            if self._rng.random() < self.rate:
                return n, self._rng.choice(self.faults)
            return n, None

    def _record(self, entry, upstream_error=False):
        with self._lock:
            self._log.append(entry)
            self._counts["requests"] += 1
            if entry["upstream_status"] is not None:
                self._counts["forwarded"] += 1
            if entry["fault"] is not None:
                self._counts[entry["fault"]] += 1
            if upstream_error:
                self._counts["upstream_errors"] += 1
            if self._log_file is not None:
                self._log_file.write(json.dumps(entry) + "\n")
                self._log_file.flush()

    def _count_internal_error(self, error):
        with self._lock:
            self._counts["errors"] += 1
            self.internal_errors.append("%s: %s" % (type(error).__name__, error))

    def _upstream_connection(self):
        if self._upstream_scheme == "https":
            return http.client.HTTPSConnection(self._upstream_host, self._upstream_port, timeout=UPSTREAM_TIMEOUT)
        return http.client.HTTPConnection(self._upstream_host, self._upstream_port, timeout=UPSTREAM_TIMEOUT)

    def _upstream_target(self, target):
        return self._upstream_prefix + target if self._upstream_prefix else target


class _ProxyServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # Idle keep-alive connections would make server_close() wait for their threads.
    block_on_close = False

    def __init__(self, address, handler_class, proxy):
        self.proxy = proxy
        self._client_sockets = set()
        self._client_sockets_lock = threading.Lock()
        super().__init__(address, handler_class)

    def process_request(self, request, client_address):
        with self._client_sockets_lock:
            self._client_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self._client_sockets_lock:
            self._client_sockets.discard(request)
        super().shutdown_request(request)

    def close_client_connections(self):
        """On stop: end keep-alive connections, so no stale thread serves a pooled client later."""
        with self._client_sockets_lock:
            sockets = list(self._client_sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        # Clients that disconnect or reset mid-request: counted, not printed.
        self.proxy._count_internal_error(sys.exc_info()[1])


class _ProxyHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = CLIENT_IDLE_TIMEOUT
    server_version = "faultproxy"

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass

    def _dispatch(self):
        proxy = self.server.proxy
        target = self._origin_form(self.path)
        if target.startswith(CONTROL_PREFIX):
            self._control(proxy, target[len(CONTROL_PREFIX):].split("?", 1)[0])
            return
        started = time.time()
        body = self._read_body()
        n, fault = proxy._choose_fault(self.command, target)
        entry = {"n": n, "time": started, "method": self.command, "path": target, "fault": fault,
                 "status": None, "upstream_status": None}
        # Each entry is recorded before the client sees the outcome, so the log is complete when it does.
        if fault in FAULT_BODIES:
            reason, key = FAULT_BODIES[fault]
            entry["status"] = int(fault)
            proxy._record(entry)
            self._answer(int(fault), reason, [("Content-Type", "application/json"),
                                              ("x-openstack-request-id", "req-" + str(uuid.uuid4()))],
                         _json_bytes({key: {"code": int(fault), "message": "injected fault"}}))
            return
        if fault == "reset":
            proxy._record(entry)
            self._reset_client()
            return
        if fault == "stall":
            time.sleep(proxy.stall_seconds)
        try:
            status, reason, headers, response_body = self._forward(proxy, target, body)
        except (OSError, http.client.HTTPException) as exc:
            if fault == "drop":
                proxy._record(entry, upstream_error=True)
                self._reset_client()
                return
            entry["status"] = 502
            proxy._record(entry, upstream_error=True)
            message = "faultproxy: upstream %s: %s" % (proxy.upstream, exc or type(exc).__name__)
            self._answer(502, "Bad Gateway", [("Content-Type", "application/json")],
                         _json_bytes({"badGateway": {"code": 502, "message": message}}))
            return
        entry["upstream_status"] = status
        if fault == "drop":
            proxy._record(entry)
            self._reset_client()
            return
        if fault == "late":
            time.sleep(proxy.stall_seconds)
        entry["status"] = status
        proxy._record(entry)
        self._answer(status, reason, self._end_to_end(headers), response_body,
                     head_length=self._header(headers, "content-length"))

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _dispatch

    @staticmethod
    def _origin_form(target):
        """The path and query; an absolute-form target (a client told to use us as a proxy) is cut down."""
        if target.startswith(("http://", "https://")):
            parts = urllib.parse.urlsplit(target)
            return (parts.path or "/") + ("?" + parts.query if parts.query else "")
        return target

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return None
        length = int(length)
        body = self.rfile.read(length) if length > 0 else b""
        if len(body) < length:
            # Forwarding a truncated body would invent a request the client never finished.
            raise ConnectionAbortedError("client closed after %d of %d body bytes" % (len(body), length))
        return body

    def _read_chunked(self):
        chunks = []
        while True:
            size_line = self.rfile.readline(65537)
            size = int(size_line.split(b";", 1)[0].strip() or b"0", 16)
            if size == 0:
                # Trailers up to the blank line; they are not forwarded.
                while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunk = self.rfile.read(size)
            if len(chunk) < size:
                raise ConnectionAbortedError("client closed within a chunk")
            chunks.append(chunk)
            self.rfile.readline(65537)

    @staticmethod
    def _header(headers, name):
        return next((value for key, value in headers if key.lower() == name), None)

    @staticmethod
    def _end_to_end(headers):
        """Headers without hop-by-hop ones, those named in Connection, and Content-Length (set anew)."""
        named = set()
        for name, value in headers:
            if name.lower() == "connection":
                named.update(token.strip().lower() for token in value.split(","))
        return [(name, value) for name, value in headers
                if name.lower() not in HOP_BY_HOP and name.lower() not in named and name.lower() != "content-length"]

    def _forward(self, proxy, target, body):
        connection = proxy._upstream_connection()
        try:
            # skip_host: the client's Host goes upstream, so Cinder's links name the proxy.
            connection.putrequest(self.command, proxy._upstream_target(target), skip_host=True,
                                  skip_accept_encoding=True)
            for name, value in self._end_to_end(self.headers.items()):
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body or None)
            response = connection.getresponse()
            # http.client knows HEAD, 204 and 304 have no body, and undoes chunking.
            response_body = response.read()
            return response.status, response.reason, response.getheaders(), response_body
        finally:
            connection.close()

    def _answer(self, status, reason, headers, body, head_length=None):
        """Send status, headers and body with Content-Length set here; head_length: Cinder's, for HEAD."""
        self.send_response_only(status, reason)
        for name, value in headers:
            self.send_header(name, value)
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif self.command == "HEAD":
            # A HEAD answer's Content-Length is that of the GET body, which only Cinder knows.
            if head_length is not None:
                self.send_header("Content-Length", head_length)
            body = b""
        else:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body:
            self.wfile.write(body)

    def _reset_client(self):
        # The rfile holds a reference to the socket; the fd (and so the RST) goes only when both are closed.
        self.rfile.close()
        _abort_socket(self.connection)
        self.close_connection = True

    def _control(self, proxy, action):
        body = self._read_body()
        try:
            request = json.loads(body) if body else {}
            if not isinstance(request, dict):
                raise ValueError("the body must be a JSON object")
            if self.command == "GET" and action == "log":
                with proxy._lock:
                    answer = {"counts": dict(proxy._counts), "log": [dict(entry) for entry in proxy._log]}
            elif self.command == "GET" and action == "config":
                answer = proxy.settings()
            elif self.command == "POST" and action == "config":
                answer = proxy.configure(**request)
            elif self.command == "POST" and action == "script":
                proxy.script(**request)
                answer = proxy.settings()
            elif self.command == "POST" and action == "clear":
                proxy.clear()
                answer = proxy.settings()
            elif self.command == "POST" and action == "reset_log":
                proxy.reset_log()
                answer = {"counts": proxy.counts()}
            else:
                self._answer(404, "Not Found", [("Content-Type", "application/json")],
                             _json_bytes({"error": "no control action %s %s" % (self.command, action)}))
                return
        except (TypeError, ValueError, re.error) as exc:
            self._answer(400, "Bad Request", [("Content-Type", "application/json")],
                         _json_bytes({"error": str(exc)}))
            return
        self._answer(200, "OK", [("Content-Type", "application/json")], _json_bytes(answer))


def _listen_address(text):
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, not %r" % (text,))
    return host or "127.0.0.1", int(port)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="faultproxy.py", description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--listen", type=_listen_address, default=("127.0.0.1", 0), metavar="HOST:PORT",
                        help="address to listen on (port 0: any free port; default 127.0.0.1:0)")
    parser.add_argument("--upstream", default="http://127.0.0.1:8776", help="Cinder's API (default %(default)s)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rate", type=float, default=0.0, help="probability of a fault per candidate request")
    parser.add_argument("--faults", default=",".join(DEFAULT_FAULTS),
                        help="comma-separated kinds to choose from (default %(default)s; also: late)")
    parser.add_argument("--methods", default=None, help="comma-separated methods that may be faulted (default all)")
    parser.add_argument("--path", default=None, help="regex (re.search on path and query) for candidates")
    parser.add_argument("--stall-seconds", type=float, default=2.0)
    parser.add_argument("--log", default=None, metavar="FILE.jsonl", help="append each request as a JSON line")
    args = parser.parse_args(argv)
    try:
        proxy = FaultProxy(upstream=args.upstream, host=args.listen[0], port=args.listen[1], seed=args.seed,
                           rate=args.rate, faults=args.faults, methods=args.methods, path_pattern=args.path,
                           stall_seconds=args.stall_seconds, log_path=args.log)
        proxy.start()
    except (ValueError, OSError, re.error) as exc:
        print("faultproxy: %s" % (exc,), file=sys.stderr)
        return 2
    stopping = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stopping.set())
    print("faultproxy listening on %s" % (proxy.url,), flush=True)
    try:
        while not stopping.wait(1.0):
            pass
    finally:
        proxy.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
