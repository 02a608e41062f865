# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The resumable-session record (session_cache) and how CinderClient leaves a resumed session."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import cloud
from ansible_collections.cinderops.snapshots.plugins.module_utils.session_cache import (
    SessionStore, file_signature, fingerprint)

NOW = 1_800_000_000.0


def record(**over):
    base = dict(endpoint="https://cinder.example:8776/v3/p1", token="tok-1", expires_at=NOW + 3600,
                roles=["member"], verify=True, cafile=None, cert=None, key=None, timeout=None,
                microversion="3.66", negotiated=False)
    base.update(over)
    return base


def list_snapshots(transport):
    return transport.send("GET", "/snapshots", (200,), None, None, "3.66")


@pytest.fixture
def store(tmp_path):
    return SessionStore(str(tmp_path / "sessions"), min_life=300, now=lambda: NOW)


@pytest.fixture
def clouds_yaml(tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: {}\n")
    return str(path)


# ------------------------------------------------------------------ fingerprint

def test_fingerprint_changes_with_every_input():
    base = fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "PATH": "/bin"}, 0)
    assert base == fingerprint({"auth": {"password": "p"}, "cloud": "a"}, {"PATH": "/bin", "OS_CLOUD": "x"}, 0)
    variants = [
        fingerprint({"cloud": "a", "auth": {"password": "q"}}, {"OS_CLOUD": "x"}, 0),  # another password
        fingerprint({"cloud": "b", "auth": {"password": "p"}}, {"OS_CLOUD": "x"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "y"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "XDG_CONFIG_HOME": "/c"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "REQUESTS_CA_BUNDLE": "/ca"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x"}, 1000),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    # Unrelated variables do not matter.
    assert base == fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "PATH": "/usr/bin"}, 0)


def test_fingerprint_does_not_contain_the_secret():
    key = fingerprint({"auth": {"password": "hunter2"}}, {}, 0)
    assert "hunter2" not in key and len(key) == 64


# ------------------------------------------------------------------ store

def test_round_trip_is_private(store, clouds_yaml, tmp_path):
    assert store.save("k", record(), [clouds_yaml, str(tmp_path / "absent.yaml")])
    path = os.path.join(store.directory, "k")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    loaded = store.load("k")
    assert loaded["token"] == "tok-1" and loaded["endpoint"].endswith("/v3/p1")
    assert loaded["files"][clouds_yaml] == file_signature(clouds_yaml)
    assert loaded["files"][str(tmp_path / "absent.yaml")] is None
    assert store.load("other-key") is None


def test_changed_config_file_invalidates(store, clouds_yaml):
    store.save("k", record(), [clouds_yaml])
    with open(clouds_yaml, "a") as f:
        f.write("# edited\n")
    assert store.load("k") is None


def test_config_file_that_appears_invalidates(store, tmp_path):
    later = tmp_path / "secure.yaml"
    store.save("k", record(), [str(later)])
    assert store.load("k") is not None
    later.write_text("clouds: {}\n")
    assert store.load("k") is None


def test_relative_candidates_are_checked_in_the_current_directory(store, tmp_path, monkeypatch):
    first, second = tmp_path / "run1", tmp_path / "run2"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    store.save("k", record(), ["clouds.yaml"])
    monkeypatch.chdir(second)
    assert store.load("k") is not None  # a fresh directory without its own clouds.yaml
    (second / "clouds.yaml").write_text("clouds: {}\n")
    assert store.load("k") is None


def test_removed_file_invalidates(store, clouds_yaml):
    # The SDK's own __init__.py is one of the files: uninstalling or upgrading it invalidates.
    store.save("k", record(), [clouds_yaml])
    os.unlink(clouds_yaml)
    assert store.load("k") is None


@pytest.mark.parametrize("expires_in, usable", [(3600, True), (301, True), (299, False), (-10, False)])
def test_token_must_have_min_life_left(store, clouds_yaml, expires_in, usable):
    store.save("k", record(expires_at=NOW + expires_in), [clouds_yaml])
    assert (store.load("k") is not None) is usable


def test_loose_permissions_or_garbage_are_ignored(store, clouds_yaml):
    store.save("k", record(), [clouds_yaml])
    path = os.path.join(store.directory, "k")
    os.chmod(path, 0o644)
    assert store.load("k") is None
    os.chmod(path, 0o600)
    with open(path, "w") as f:
        f.write("{not json")
    assert store.load("k") is None
    with open(path, "w") as f:
        f.write('{"format": 1, "token": "t"}')  # keys missing
    assert store.load("k") is None


def test_forget_removes_and_unwritable_store_only_costs_speed(tmp_path, clouds_yaml):
    store = SessionStore(str(tmp_path / "s"), now=lambda: NOW)
    store.save("k", record(), [clouds_yaml])
    store.forget("k")
    assert store.load("k") is None
    store.forget("k")  # twice is fine
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert SessionStore(str(blocker / "sub"), now=lambda: NOW).save("k", record(), []) is False


# ------------------------------------------------------------------ client with a resumed session

class Resp(object):
    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self.headers = {"x-openstack-request-id": "req-1"}
        self.text = "" if body is None else body

    def json(self):
        import json
        return json.loads(self.text)


class FakeResumed(object):
    """Scripted answers; an exception in the script is raised instead."""

    negotiated = False

    def __init__(self, *answers, microversion="3.66", roles=("member",)):
        self.answers = list(answers)
        self.default_microversion = microversion
        self.sent = []
        self._roles = list(roles)

    def send(self, method, path, expect, json_body, params, microversion):
        self.sent.append((method, path, microversion))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def max_microversion(self):
        raise cloud.StaleSession("discovery")

    def roles(self):
        return self._roles


class FakeFull(FakeResumed):
    def __init__(self, *answers, server_max="3.70", **kw):
        super().__init__(*answers, **kw)
        self.server_max = server_max
        self.config_files = []

    def max_microversion(self):
        return self.server_max

    def session_record(self):
        return record(token="tok-full")


class FakeKeeper(object):
    def __init__(self):
        self.remembered = []
        self.forgotten = 0

    def remember(self, transport, microversion, negotiated):
        self.remembered.append((type(transport).__name__, microversion, negotiated))

    def forget(self):
        self.forgotten += 1


def client_with(resumed, full, keeper=None):
    made = []

    def full_connect():
        made.append(full)
        return full
    return cloud.CinderClient(transport=resumed, full_connect=full_connect, keeper=keeper, sleep=lambda s: None), made


def test_resumed_session_serves_without_connecting_in_full():
    resumed = FakeResumed(Resp(200, '{"snapshot": {"id": "s"}}'))
    client, made = client_with(resumed, FakeFull())
    assert client.get_json("/snapshots/s", "read") == {"snapshot": {"id": "s"}}
    assert made == [] and resumed.sent == [("GET", "/snapshots/s", "3.66")]


def test_refused_token_connects_in_full_forgets_record_and_resends():
    keeper = FakeKeeper()
    full = FakeFull(Resp(200, '{"ok": 1}'))
    client, made = client_with(FakeResumed(cloud.StaleSession("401")), full, keeper)
    assert client.get_json("/snapshots/s", "read") == {"ok": 1}
    assert made == [full] and keeper.forgotten == 1
    assert full.sent == [("GET", "/snapshots/s", "3.66")]
    assert keeper.remembered == [("FakeFull", "3.66", False)]


def test_write_that_could_not_be_sent_explains_and_is_not_resent():
    full = FakeFull()
    client, made = client_with(FakeResumed(cloud.CinderopsError("could not reach the cloud: timed out")), full)
    with pytest.raises(cloud.CinderopsError, match="^create: could not reach the cloud: timed out$"):
        client.request("POST", "/snapshots", "create", expect=(202,), json={})
    assert made == [] and full.sent == []


def test_406_on_resumed_session_negotiates_through_the_full_connection():
    full = FakeFull(Resp(200, "{}"), server_max="3.60")
    client, made = client_with(FakeResumed(Resp(406, '{"computeFault": {"message": "Version 3.66 not supported"}}')),
                               full)
    client.request("GET", "/snapshots", "list")
    assert made == [full] and client.microversion == "3.60"
    assert full.sent == [("GET", "/snapshots", "3.60")]


def test_resumed_roles_answer_is_admin_without_a_request():
    client, made = client_with(FakeResumed(roles=("admin", "member")), FakeFull())
    assert client.is_admin() and made == []


def test_recorded_microversion_is_the_starting_point():
    client, _made = client_with(FakeResumed(microversion="3.50"), FakeFull())
    assert client.microversion == "3.50" and not client.supports("3.66")


# ------------------------------------------------------------------ ResumedTransport over real HTTP (a local stub server)

@pytest.fixture
def stub_server():
    """A tiny HTTP server on loopback that records requests and answers from a queue."""
    import http.server
    import json
    import threading

    seen, answers = [], []

    class Handler(http.server.BaseHTTPRequestHandler):
        def _serve(self):
            length = int(self.headers.get("Content-Length") or 0)
            seen.append(dict(method=self.command, path=self.path, headers=self.headers,
                             body=self.rfile.read(length) if length else b""))
            status, body = answers.pop(0) if answers else (200, {})
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-openstack-request-id", "req-stub")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d/v3/p1" % server.server_port, seen, answers
    server.shutdown()
    server.server_close()


def test_resumed_transport_sends_what_the_sdk_would(stub_server):
    endpoint, seen, answers = stub_server
    answers.append((202, {"snapshot": {"id": "s1"}}))
    transport = cloud.ResumedTransport(record(endpoint=endpoint))
    resp = transport.send("POST", "/snapshots", (202,), {"snapshot": {"name": "n"}}, None, "3.66")
    assert resp.status_code == 202 and resp.json() == {"snapshot": {"id": "s1"}}
    assert resp.headers.get("X-OpenStack-Request-Id") == "req-stub"
    req = seen[0]
    assert req["method"] == "POST" and req["path"] == "/v3/p1/snapshots"
    assert req["headers"].get("X-Auth-Token") == "tok-1"
    assert req["headers"].get("OpenStack-API-Version") == "volume 3.66"
    assert req["headers"].get("Content-Type") == "application/json"
    assert req["headers"].get("User-Agent").startswith("cinderops.snapshots/")
    assert req["body"] == b'{"snapshot": {"name": "n"}}'


def test_resumed_transport_query_drops_none_and_keeps_errors_as_responses(stub_server):
    endpoint, seen, answers = stub_server
    answers.append((404, {"itemNotFound": {"code": 404, "message": "Snapshot x could not be found."}}))
    transport = cloud.ResumedTransport(record(endpoint=endpoint))
    resp = transport.send("GET", "/snapshots/detail", (200,), None, {"name": "a b", "marker": None, "limit": 5},
                          "3.66")
    assert seen[0]["path"] == "/v3/p1/snapshots/detail?name=a+b&limit=5"
    assert resp.status_code == 404
    err = cloud.explain_http_error("could not read", resp)
    assert str(err) == ("could not read: Cinder answered 404 Not Found: Snapshot x could not be found. "
                        "[request id req-stub]")


def test_resumed_transport_refused_token_is_stale(stub_server):
    endpoint, _seen, answers = stub_server
    answers.append((401, {"error": {"message": "The request you have made requires authentication."}}))
    with pytest.raises(cloud.StaleSession):
        list_snapshots(cloud.ResumedTransport(record(endpoint=endpoint)))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unreachable_endpoint_is_stale_when_nothing_was_sent(method):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    transport = cloud.ResumedTransport(record(endpoint="http://127.0.0.1:%d/v3/p1" % port))
    with pytest.raises(cloud.StaleSession):
        transport.send(method, "/snapshots", (202,), {} if method == "POST" else None, None, "3.66")


def test_sdk_config_files_keep_working_directory_candidates_relative(tmp_path, monkeypatch):
    import types
    monkeypatch.chdir(tmp_path)
    loader = types.SimpleNamespace(CONFIG_FILES=[str(tmp_path / "clouds.yaml"), "/etc/openstack/clouds.yaml"],
                                   SECURE_FILES=[str(tmp_path / "secure.yaml")], VENDOR_FILES=[])
    sdk = types.SimpleNamespace(config=types.SimpleNamespace(loader=loader), __file__="/sdk/openstack/__init__.py")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/srv/clouds.yaml")
    monkeypatch.delenv("OS_CLIENT_SECURE_FILE", raising=False)
    assert cloud._sdk_config_files(sdk) == sorted(["clouds.yaml", "secure.yaml", "/etc/openstack/clouds.yaml",
                                                   "/srv/clouds.yaml", "/sdk/openstack/__init__.py"])


# ------------------------------------------------------------------ ResumedTransport and TLS

def _tls_stub(tmp_path, client_ca=False):
    """An HTTPS stub on loopback with a self-signed certificate for 127.0.0.1; with client_ca, it also
    requires a client certificate signed by that same certificate."""
    import datetime
    import http.server
    import ipaddress
    import ssl
    import threading

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cinderops test CA")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert_path), str(key_path))
    if client_ca:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(str(cert_path))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "https://127.0.0.1:%d/v3/p1" % server.server_port, str(cert_path), str(key_path)
    server.shutdown()
    server.server_close()


@pytest.fixture
def tls_server(tmp_path):
    yield from _tls_stub(tmp_path)


@pytest.fixture
def mtls_server(tmp_path):
    yield from _tls_stub(tmp_path, client_ca=True)


def test_resumed_transport_trusts_the_recorded_ca(tls_server):
    endpoint, ca, _key = tls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=ca))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_verifies_by_default_and_hands_a_bad_certificate_to_the_full_connection(tls_server):
    endpoint, _ca, _key = tls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=None))
    with pytest.raises(cloud.StaleSession, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        list_snapshots(transport)


def test_resumed_transport_skips_verification_only_when_recorded_so(tls_server):
    endpoint, _ca, _key = tls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=False, cafile=None))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_presents_the_recorded_client_certificate(mtls_server):
    endpoint, cert, key = mtls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert, cert=cert, key=key))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_without_the_client_certificate_hands_over_to_the_full_connection(mtls_server):
    endpoint, cert, _key = mtls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert))
    with pytest.raises(cloud.StaleSession):
        list_snapshots(transport)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_moved_client_certificate_file_hands_over_to_the_full_connection_before_sending(mtls_server, method):
    endpoint, cert, _key = mtls_server
    transport = cloud.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert, cert="/nonexistent.pem"))
    with pytest.raises(cloud.StaleSession, match="TLS settings"):
        transport.send(method, "/snapshots", (202,), {"snapshot": {}}, None, "3.66")


# ------------------------------------------------------------------ what a full connection records

def fake_conn(verify=True, cert=None, profile=None, expires=True):
    import datetime
    import types
    ref = types.SimpleNamespace(auth_token="tok-sdk", role_names=["member"],
                                expires=datetime.datetime(2026, 11, 27, tzinfo=datetime.timezone.utc) if expires
                                else None)
    session = types.SimpleNamespace(auth=types.SimpleNamespace(auth_ref=ref), verify=verify, cert=cert, timeout=30)
    adapter = types.SimpleNamespace(get_endpoint=lambda: "https://cinder.example:8776/v3/p1")
    config = types.SimpleNamespace(config={"profile": profile} if profile else {},
                                   get_default_microversion=lambda service: None)
    return types.SimpleNamespace(session=session, block_storage=adapter, config=config)


@pytest.mark.parametrize("verify, env, expected", [
    (True, {"REQUESTS_CA_BUNDLE": "/etc/ca.pem"}, (True, "/etc/ca.pem")),    # the bundle requests would use
    ("/srv/cloud-ca.pem", {}, (True, "/srv/cloud-ca.pem")),                   # ca_cert
    (False, {}, (False, None)),                                               # validate_certs: false
])
def test_session_record_keeps_the_tls_settings_of_the_full_connection(monkeypatch, verify, env, expected):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    rec = cloud.SdkTransport(fake_conn(verify=verify)).session_record()
    assert (rec["verify"], rec["cafile"]) == expected
    assert rec["endpoint"] == "https://cinder.example:8776/v3/p1" and rec["token"] == "tok-sdk"
    assert rec["roles"] == ["member"] and rec["timeout"] == 30 and rec["expires_at"] == 1795737600.0


def test_session_record_keeps_client_certificate_and_key():
    rec = cloud.SdkTransport(fake_conn(cert=("/c.pem", "/k.pem"))).session_record()
    assert (rec["cert"], rec["key"]) == ("/c.pem", "/k.pem")


@pytest.mark.parametrize("conn", [fake_conn(profile="vendor"), fake_conn(expires=False)])
def test_no_record_for_a_vendor_profile_or_a_token_without_expiry(conn):
    assert cloud.SdkTransport(conn).session_record() is None


class CountingStore(object):
    def __init__(self):
        self.saved = []

    def save(self, key, record, files):
        self.saved.append((key, record["token"], record["microversion"]))
        return True


def test_keeper_writes_once_per_token_and_microversion_and_never_for_a_resumed_session():
    store = CountingStore()
    keeper = cloud.SessionKeeper(store, "k")
    conn = fake_conn()
    transport = cloud.SdkTransport(conn)
    for _i in range(3):
        keeper.remember(transport, "3.66", False)
    assert store.saved == [("k", "tok-sdk", "3.66")]
    keeper.remember(transport, "3.60", True)  # negotiated down
    conn.session.auth.auth_ref.auth_token = "tok-new"  # keystoneauth logged in again
    keeper.remember(transport, "3.60", True)
    assert store.saved[1:] == [("k", "tok-sdk", "3.60"), ("k", "tok-new", "3.60")]
    keeper.remember(cloud.ResumedTransport(record()), "3.66", False)
    assert len(store.saved) == 3
