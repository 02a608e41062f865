# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The chaos tests' fault proxy, in front of a stub upstream on loopback: each fault is what it says."""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

PROXY_SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "cloud", "faultproxy.py")
sys.path.insert(0, os.path.dirname(PROXY_SCRIPT))
from faultproxy import FaultProxy  # noqa: E402

# What any fault raises in the client: RemoteDisconnected is a ConnectionResetError too.
CONNECTION_LOST = (ConnectionError, http.client.RemoteDisconnected)


class Upstream(tuple):
    """(url, received): received lists (method, path) per request; headers and bodies kept aside."""

    def __new__(cls, url, received, requests):
        self = super().__new__(cls, (url, received))
        self.url, self.received, self.requests = url, received, requests
        return self


@pytest.fixture
def upstream():
    """Echoes method, path, Host, headers and body as JSON; /empty: 202, /nocontent: 204, /chunked: chunked."""
    received = []
    requests = []

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _send(self, status, headers, body=b""):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.end_headers()
            if body and self.command != "HEAD":
                self.wfile.write(body)

        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            received.append((self.command, self.path))
            requests.append({"headers": dict(self.headers.items()), "body": body})
            if self.path.startswith("/empty"):
                self._send(202, [("Content-Length", "0")])
                return
            if self.path.startswith("/nocontent"):
                self._send(204, [])
                return
            data = json.dumps({"method": self.command, "path": self.path, "host": self.headers.get("Host"),
                               "body": body.decode()}).encode()
            if self.path.startswith("/chunked"):
                self._send(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked"),
                                 ("Connection", "X-Upstream-Private"), ("X-Upstream-Private", "1")],
                           b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
                return
            self._send(200, [("Content-Type", "application/json"), ("Content-Length", str(len(data))),
                             ("Keep-Alive", "timeout=5"), ("X-Openstack-Request-Id", "req-stub")], data)

        do_GET = do_POST = do_DELETE = do_PUT = do_HEAD = _serve

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield Upstream("http://127.0.0.1:%d" % server.server_address[1], received, requests)
    server.shutdown()
    server.server_close()


@pytest.fixture
def proxy(upstream):
    with FaultProxy(upstream=upstream[0], stall_seconds=0.3) as p:
        yield p


def get(proxy, path, method="GET", body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def free_port():
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---------------------------------------------------------------------------------------------------- forwarding

def test_forwards_with_keep_alive_and_keeps_the_host_header(proxy, upstream):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    for n in range(2):
        conn.request("POST", "/v3/p/snapshots?x=%d" % n, body=b'{"a": 1}')
        answer = json.loads(conn.getresponse().read())
        assert answer["path"] == "/v3/p/snapshots?x=%d" % n and answer["body"] == '{"a": 1}'
        assert answer["host"] == "127.0.0.1:%d" % proxy.port
    with urllib.request.urlopen(proxy.url + "/v3/p/snapshots") as resp:
        assert json.loads(resp.read())["method"] == "GET"
    assert get(proxy, "/empty")[0] == 202
    assert proxy.counts()["forwarded"] == 4 and len(upstream[1]) == 4


def test_one_client_connection_carries_several_requests(proxy, upstream):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.request("GET", "/v3/p/a")
    first = conn.getresponse()
    assert first.status == 200 and not first.will_close
    first.read()
    sock = conn.sock
    # A 202 and a 204 without a body must not confuse the framing of what follows on the connection.
    for path, status in (("/empty", 202), ("/nocontent", 204), ("/v3/p/b", 200)):
        conn.request("GET", path)
        resp = conn.getresponse()
        assert resp.status == status
        resp.read()
    assert conn.sock is sock, "the proxy kept the connection open"
    conn.close()
    assert [path for _m, path in upstream.received] == ["/v3/p/a", "/empty", "/nocontent", "/v3/p/b"]


def test_urllib_connection_close_is_honoured(proxy):
    with urllib.request.urlopen(urllib.request.Request(proxy.url + "/v3/p/x", data=b"{}", method="PUT")) as resp:
        assert resp.status == 200 and resp.headers["Connection"] == "close"
        assert json.loads(resp.read())["body"] == "{}"


def test_hop_by_hop_headers_stay_on_their_hop(proxy, upstream):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.request("GET", "/v3/p/x", headers={"Keep-Alive": "timeout=9", "Proxy-Authorization": "Basic eA==",
                                            "Connection": "X-Private", "X-Private": "1", "X-Auth-Token": "t",
                                            "OpenStack-API-Version": "volume 3.66"})
    resp = conn.getresponse()
    body = resp.read()
    sent = upstream.requests[-1]["headers"]
    assert sent["X-Auth-Token"] == "t" and sent["OpenStack-API-Version"] == "volume 3.66"
    assert not {"Keep-Alive", "Proxy-Authorization", "Connection", "X-Private"} & set(sent)
    assert resp.getheader("Keep-Alive") is None and resp.getheader("X-Openstack-Request-Id") == "req-stub"
    assert int(resp.getheader("Content-Length")) == len(body)
    conn.request("GET", "/chunked")
    resp = conn.getresponse()
    body = resp.read()
    assert resp.getheader("Transfer-Encoding") is None and int(resp.getheader("Content-Length")) == len(body)
    assert resp.getheader("X-Upstream-Private") is None and json.loads(body)["path"] == "/chunked"
    conn.close()


def test_head_empty_and_chunked_request_bodies(proxy, upstream):
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    conn.request("HEAD", "/v3/p/x")
    resp = conn.getresponse()
    assert resp.status == 200 and resp.read() == b"" and int(resp.getheader("Content-Length")) > 0
    conn.request("POST", "/v3/p/x", body=b"")
    assert json.loads(conn.getresponse().read())["body"] == ""
    assert upstream.requests[-1]["headers"]["Content-Length"] == "0"
    conn.request("POST", "/v3/p/x", body=iter([b'{"a":', b" 1}"]), encode_chunked=True,
                 headers={"Transfer-Encoding": "chunked"})
    assert json.loads(conn.getresponse().read())["body"] == '{"a": 1}'
    assert upstream.requests[-1]["headers"]["Content-Length"] == "8"
    assert "Transfer-Encoding" not in upstream.requests[-1]["headers"]
    conn.close()


def test_upstream_down_is_a_502():
    with FaultProxy(upstream="http://127.0.0.1:9") as p:
        status, body = get(p, "/v3/p/x")
    assert status == 502 and "upstream" in json.loads(body)["badGateway"]["message"]


def test_upstream_down_is_logged_as_a_502_without_a_fault():
    with FaultProxy(upstream="http://127.0.0.1:%d" % free_port()) as p:
        assert get(p, "/v3/p/x")[0] == 502
        assert p.log[0]["fault"] is None and p.log[0]["status"] == 502 and p.log[0]["upstream_status"] is None
        assert p.counts()["forwarded"] == 0 and p.counts()["upstream_errors"] == 1


# ---------------------------------------------------------------------------------------------------- faults

@pytest.mark.parametrize("kind", ["500", "503"])
def test_error_answers_never_reach_the_upstream(proxy, upstream, kind):
    proxy.script(kind)
    status, body = get(proxy, "/v3/p/snapshots")
    assert status == int(kind) and json.loads(body)[list(json.loads(body))[0]]["message"] == "injected fault"
    assert upstream[1] == [] and proxy.log[0]["fault"] == kind and proxy.log[0]["upstream_status"] is None


def test_error_answers_are_cinder_style_json(proxy):
    proxy.script("500")
    proxy.script("503")
    conn = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=5)
    for status, key in ((500, "computeFault"), (503, "serviceUnavailable")):
        conn.request("POST", "/v3/p/snapshots", body=b"{}")
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == status and resp.getheader("Content-Type") == "application/json"
        assert int(resp.getheader("Content-Length")) == len(body)
        assert json.loads(body) == {key: {"code": status, "message": "injected fault"}}
    conn.close()


def test_reset_is_not_forwarded_and_drop_is(proxy, upstream):
    proxy.script("reset", method="POST")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")
    assert upstream[1] == []
    proxy.script("drop", method="POST")
    with pytest.raises((ConnectionError, http.client.RemoteDisconnected)):
        get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")
    assert upstream[1] == [("POST", "/v3/p/snapshots")], "Cinder got it; the answer was lost"
    assert [(e["fault"], e["upstream_status"], e["status"]) for e in proxy.log] == [
        ("reset", None, None), ("drop", 200, None)]


def test_reset_and_drop_are_tcp_resets_for_urllib_too(proxy, upstream):
    for kind in ("reset", "drop"):
        proxy.script(kind)
        with pytest.raises(ConnectionResetError):
            urllib.request.urlopen(proxy.url + "/v3/p/snapshots", timeout=5)
    assert len(upstream.received) == 1
    assert proxy.counts()["reset"] == 1 and proxy.counts()["drop"] == 1 and proxy.counts()["forwarded"] == 1


def test_stall_delays_then_forwards(proxy):
    proxy.script("stall")
    start = time.monotonic()
    assert get(proxy, "/v3/p/x")[0] == 200
    assert time.monotonic() - start >= 0.3


def test_stall_follows_the_configured_seconds(proxy, upstream):
    proxy.configure(stall_seconds=0.2)
    proxy.script("stall")
    start = time.monotonic()
    assert get(proxy, "/v3/p/x")[0] == 200
    assert 0.2 <= time.monotonic() - start < 1.0 and len(upstream.received) == 1
    assert proxy.log[0]["fault"] == "stall" and proxy.log[0]["status"] == 200


def test_late_forwards_at_once_and_answers_late(proxy, upstream):
    proxy.script("late")
    done = []
    thread = threading.Thread(target=lambda: done.append(get(proxy, "/v3/p/x")[0]))
    thread.start()
    time.sleep(0.15)
    assert upstream[1] == [("GET", "/v3/p/x")] and done == [], "Cinder has it; the client waits"
    thread.join(5)
    assert done == [200]


# ---------------------------------------------------------------------------------------------------- choosing

def test_scripts_apply_in_order_to_matching_requests_only(proxy):
    proxy.script("500", method="DELETE", path=r"/snapshots/s1$", count=2)
    proxy.script("503", method="GET")
    assert get(proxy, "/v3/p/snapshots/s2", method="DELETE")[0] == 200
    assert get(proxy, "/v3/p/snapshots/s1", method="DELETE")[0] == 500
    assert get(proxy, "/v3/p/snapshots/s1", method="DELETE")[0] == 500
    assert get(proxy, "/v3/p/snapshots/s1", method="DELETE")[0] == 200
    assert get(proxy, "/v3/p/snapshots")[0] == 503 and get(proxy, "/v3/p/snapshots")[0] == 200


def test_scripts_queue_in_fifo_order_and_clear_empties_them(proxy):
    proxy.script("500", method="POST", path=r"/snapshots$")
    proxy.script("503", method="POST", path=r"/snapshots$")
    assert get(proxy, "/v3/p/snapshots/detail?limit=1", method="POST", body=b"{}")[0] == 200
    assert get(proxy, "/v3/p/snapshots", body=b"{}")[0] == 200  # GET: another method
    assert get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")[0] == 500
    assert get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")[0] == 503
    assert get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")[0] == 200
    proxy.script("500", count=3)
    proxy.clear()
    assert get(proxy, "/v3/p/x")[0] == 200
    # The path pattern sees the query too.
    proxy.script("503", path=r"\?name=n1")
    assert get(proxy, "/v3/p/snapshots/detail?name=n2")[0] == 200
    assert get(proxy, "/v3/p/snapshots/detail?name=n1")[0] == 503


def test_scripts_win_over_the_random_rate(upstream):
    with FaultProxy(upstream=upstream.url, rate=1.0, faults=("500",)) as p:
        p.script("503")
        assert [get(p, "/v3/p/x")[0] for _n in range(3)] == [503, 500, 500]


def test_the_same_seed_gives_the_same_faults(upstream):
    def sequence(seed):
        with FaultProxy(upstream=upstream[0], seed=seed, rate=0.5, faults=("500", "503")) as p:
            return [get(p, "/v3/p/%d" % n)[0] for n in range(30)]
    first = sequence(7)
    assert first == sequence(7) and first != sequence(8)
    assert {200, 500, 503} == set(first)


def test_reseeding_at_runtime_repeats_the_log_faults(proxy):
    proxy.configure(rate=0.4, faults="500,503,stall", stall_seconds=0, seed=3)
    first = [(get(proxy, "/v3/p/%d" % n)[0], proxy.log[-1]["fault"]) for n in range(20)]
    proxy.configure(seed=3)
    assert [(get(proxy, "/v3/p/%d" % n)[0], proxy.log[-1]["fault"]) for n in range(20)] == first
    faults = set(fault for _status, fault in first)
    assert None in faults and len(faults) >= 3 and faults <= {None, "500", "503", "stall"}


def test_rate_zero_and_filters_never_fault(upstream):
    with FaultProxy(upstream=upstream[0], rate=1.0, methods="POST", path_pattern="/snapshots") as p:
        assert [get(p, "/v3/p/snapshots")[0] for _n in range(5)] == [200] * 5  # GET: not a candidate
        assert get(p, "/v3/p/volumes", method="POST", body=b"{}")[0] == 200  # path does not match
    with FaultProxy(upstream=upstream[0], rate=0.0) as p:
        assert set(get(p, "/v3/p/%d" % n)[0] for n in range(20)) == {200}


def test_configure_changes_and_resets_the_filters(proxy):
    proxy.configure(rate=1.0, faults=["503"], methods=["post"], path_pattern=r"/snapshots")
    assert get(proxy, "/v3/p/snapshots", method="POST", body=b"{}")[0] == 503
    assert get(proxy, "/v3/p/snapshots")[0] == 200
    proxy.configure(methods=None)  # None: every method again; the path pattern stays
    assert get(proxy, "/v3/p/snapshots")[0] == 503 and get(proxy, "/v3/p/volumes")[0] == 200
    with pytest.raises(ValueError):
        proxy.configure(faults=["teapot"])
    with pytest.raises(ValueError):
        proxy.configure(rate=2)
    assert proxy.settings()["faults"] == ["503"] and proxy.settings()["methods"] is None


# ---------------------------------------------------------------------------------------------------- the log

def test_counts_and_log_entries(upstream, tmp_path):
    log_path = tmp_path / "faults.jsonl"
    with FaultProxy(upstream=upstream.url, stall_seconds=0, log_path=str(log_path)) as p:
        before = time.time()
        for kind in ("500", "503", "reset", "stall", "drop"):
            p.script(kind)
        statuses = []
        for n in range(6):
            try:
                statuses.append(get(p, "/v3/p/snapshots?n=%d" % n, method="DELETE")[0])
            except CONNECTION_LOST:
                statuses.append(None)
        assert statuses == [500, 503, None, 200, None, 200]
        assert p.counts() == {"requests": 6, "forwarded": 3, "500": 1, "503": 1, "reset": 1, "stall": 1, "drop": 1,
                              "late": 0, "upstream_errors": 0, "errors": 0}
        log = sorted(p.log, key=lambda entry: entry["n"])
        assert [(e["n"], e["method"], e["path"], e["fault"], e["status"], e["upstream_status"]) for e in log] == [
            (1, "DELETE", "/v3/p/snapshots?n=0", "500", 500, None),
            (2, "DELETE", "/v3/p/snapshots?n=1", "503", 503, None),
            (3, "DELETE", "/v3/p/snapshots?n=2", "reset", None, None),
            (4, "DELETE", "/v3/p/snapshots?n=3", "stall", 200, 200),
            (5, "DELETE", "/v3/p/snapshots?n=4", "drop", None, 200),
            (6, "DELETE", "/v3/p/snapshots?n=5", None, 200, 200)]
        assert all(before <= e["time"] <= time.time() for e in log)
        p.log.clear()  # a copy
        assert len(p.log) == 6
        p.reset_log()
        assert p.log == [] and p.counts()["requests"] == 0
        assert get(p, "/v3/p/x")[0] == 200 and p.log[0]["n"] == 1
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [line["fault"] for line in lines] == ["500", "503", "reset", "stall", "drop", None, None]


def test_control_endpoint_is_never_faulted_or_logged(proxy):
    proxy.configure(rate=1.0, faults=("500",))
    status, body = get(proxy, "/__faultproxy__/config", method="POST", body=b'{"rate": 0.0}')
    assert status == 200 and proxy.rate == 0.0
    assert get(proxy, "/__faultproxy__/script", method="POST", body=b'{"kind": "503"}')[0] == 200
    assert get(proxy, "/v3/p/x")[0] == 503
    status, body = get(proxy, "/__faultproxy__/log")
    data = json.loads(body)
    assert data["counts"]["requests"] == 1 and [e["path"] for e in data["log"]] == ["/v3/p/x"]


def test_control_endpoint_for_out_of_process_use(proxy, upstream):
    def control(action, payload=None):
        request = urllib.request.Request(proxy.url + "/__faultproxy__/" + action, method="POST" if payload else "GET",
                                         data=json.dumps(payload).encode() if payload else None)
        with urllib.request.urlopen(request, timeout=5) as resp:
            return json.loads(resp.read())

    proxy.configure(rate=1.0, faults=["500"])  # control requests are never candidates
    settings = control("config", {"rate": 0.0, "faults": ["503"], "methods": "DELETE", "stall_seconds": 0.1})
    assert settings["rate"] == 0.0 and settings["faults"] == ["503"] and settings["methods"] == ["DELETE"]
    settings = control("script", {"kind": "503", "method": "GET", "path": "/snapshots/detail", "count": 2})
    assert settings["scripts"] == [{"kind": "503", "method": "GET", "path": "/snapshots/detail", "count": 2}]
    assert [get(proxy, "/v3/p/snapshots/detail")[0] for _n in range(3)] == [503, 503, 200]
    data = control("log")
    assert data["counts"]["requests"] == 3 and data["counts"]["503"] == 2 and len(data["log"]) == 3
    for bad in ({"kind": "teapot"}, {"nonsense": 1}, {"kind": "500", "count": 0}):
        with pytest.raises(urllib.error.HTTPError) as failure:
            control("script", bad)
        assert failure.value.code == 400 and "error" in json.loads(failure.value.read())
    with pytest.raises(urllib.error.HTTPError) as failure:
        control("nothing-here")
    assert failure.value.code == 404
    assert control("reset_log", {"_": 1})["counts"]["requests"] == 0
    assert proxy.log == [] and len(upstream.received) == 1


# ---------------------------------------------------------------------------------------------------- robustness

def test_clients_that_go_away_do_not_break_the_server(proxy, upstream, capfd):
    partial = socket.create_connection(("127.0.0.1", proxy.port))
    partial.sendall(b"POST /v3/p/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    partial.close()
    rude = socket.create_connection(("127.0.0.1", proxy.port))
    rude.sendall(b"POST /v3/p/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
    rude.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    rude.close()
    proxy.script("stall")
    impatient = socket.create_connection(("127.0.0.1", proxy.port))
    impatient.sendall(b"GET /v3/p/slow HTTP/1.1\r\nHost: x\r\n\r\n")
    impatient.close()
    unknown = socket.create_connection(("127.0.0.1", proxy.port))
    unknown.sendall(b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n")
    assert unknown.recv(100).startswith(b"HTTP/1.1 501")
    unknown.close()
    time.sleep(0.5)  # the stalled request has been answered into a closed socket
    assert get(proxy, "/v3/p/x")[0] == 200
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    assert proxy.counts()["requests"] == 2 and len(upstream.received) == 2, "no truncated body was forwarded"
    assert proxy.counts()["errors"] >= 2, list(proxy.internal_errors)


def test_stop_closes_idle_keep_alive_connections(upstream):
    p = FaultProxy(upstream=upstream.url).start()
    conn = http.client.HTTPConnection("127.0.0.1", p.port, timeout=5)
    conn.request("GET", "/v3/p/x")
    conn.getresponse().read()
    start = time.monotonic()
    p.stop()
    assert time.monotonic() - start < 2
    with pytest.raises((OSError, http.client.HTTPException)):
        conn.request("GET", "/v3/p/x")
        conn.getresponse()
    conn.close()
    p.stop()  # twice: harmless


def test_command_line_runs_until_sigterm(upstream, tmp_path):
    log_path = tmp_path / "faults.jsonl"
    proc = subprocess.Popen([sys.executable, PROXY_SCRIPT, "--listen", "127.0.0.1:0", "--upstream", upstream.url,
                             "--seed", "1", "--rate", "1", "--faults", "503", "--methods", "POST",
                             "--path", "/snapshots", "--stall-seconds", "0", "--log", str(log_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        assert line.startswith("faultproxy listening on http://127.0.0.1:")
        url = line.rsplit(" ", 1)[1]
        port = int(url.rsplit(":", 1)[1])
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("POST", "/v3/p/snapshots", body=b"{}")
        assert conn.getresponse().status == 503
        conn.close()
        with urllib.request.urlopen(url + "/v3/p/snapshots", timeout=5) as resp:
            assert resp.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=5)
    assert proc.returncode == 0 and err == ""
    assert [json.loads(entry)["status"] for entry in log_path.read_text().splitlines()] == [503, 200]
