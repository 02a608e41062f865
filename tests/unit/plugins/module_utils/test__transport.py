# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The transports: ResumedTransport over real HTTP and TLS (local stub servers), and what SdkTransport records."""
from __future__ import annotations

import pytest

from session_records import list_snapshots, record

from ansible_collections.cinderops.snapshots.plugins.module_utils import _errors, _transport


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
    transport = _transport.ResumedTransport(record(endpoint=endpoint))
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
    transport = _transport.ResumedTransport(record(endpoint=endpoint))
    resp = transport.send("GET", "/snapshots/detail", (200,), None, {"name": "a b", "marker": None, "limit": 5},
                          "3.66")
    assert seen[0]["path"] == "/v3/p1/snapshots/detail?name=a+b&limit=5"
    assert resp.status_code == 404
    err = _errors.explain_http_error("could not read", resp)
    assert str(err) == ("could not read: Cinder answered 404 Not Found: Snapshot x could not be found. "
                        "[request id req-stub]")


def test_resumed_transport_refused_token_is_stale(stub_server):
    endpoint, _seen, answers = stub_server
    answers.append((401, {"error": {"message": "The request you have made requires authentication."}}))
    with pytest.raises(_errors.StaleSession):
        list_snapshots(_transport.ResumedTransport(record(endpoint=endpoint)))


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_unreachable_endpoint_is_stale_when_nothing_was_sent(method):
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connection refused
    transport = _transport.ResumedTransport(record(endpoint="http://127.0.0.1:%d/v3/p1" % port))
    with pytest.raises(_errors.StaleSession):
        transport.send(method, "/snapshots", (202,), {} if method == "POST" else None, None, "3.66")


def test_sdk_config_files_keep_working_directory_candidates_relative(tmp_path, monkeypatch):
    import types
    monkeypatch.chdir(tmp_path)
    loader = types.SimpleNamespace(CONFIG_FILES=[str(tmp_path / "clouds.yaml"), "/etc/openstack/clouds.yaml"],
                                   SECURE_FILES=[str(tmp_path / "secure.yaml")], VENDOR_FILES=[])
    sdk = types.SimpleNamespace(config=types.SimpleNamespace(loader=loader), __file__="/sdk/openstack/__init__.py")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", "/srv/clouds.yaml")
    monkeypatch.delenv("OS_CLIENT_SECURE_FILE", raising=False)
    assert _transport._config_files(sdk) == sorted(["clouds.yaml", "secure.yaml", "/etc/openstack/clouds.yaml",
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
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=ca))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_verifies_by_default_and_hands_a_bad_certificate_to_the_full_connection(tls_server):
    endpoint, _ca, _key = tls_server
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=None))
    with pytest.raises(_errors.StaleSession, match="CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
        list_snapshots(transport)


def test_resumed_transport_skips_verification_only_when_recorded_so(tls_server):
    endpoint, _ca, _key = tls_server
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=False, cafile=None))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_presents_the_recorded_client_certificate(mtls_server):
    endpoint, cert, key = mtls_server
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert, cert=cert, key=key))
    assert list_snapshots(transport).status_code == 200


def test_resumed_transport_without_the_client_certificate_hands_over_to_the_full_connection(mtls_server):
    endpoint, cert, _key = mtls_server
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert))
    with pytest.raises(_errors.StaleSession):
        list_snapshots(transport)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_moved_client_certificate_file_hands_over_to_the_full_connection_before_sending(mtls_server, method):
    endpoint, cert, _key = mtls_server
    transport = _transport.ResumedTransport(record(endpoint=endpoint, verify=True, cafile=cert, cert="/nonexistent.pem"))
    with pytest.raises(_errors.StaleSession, match="TLS settings"):
        transport.send(method, "/snapshots", (202,), {"snapshot": {}}, None, "3.66")


# ------------------------------------------------------------------ what a full connection records

def fake_conn(verify=True, cert=None, profile=None, expires=True):
    import datetime
    import types
    ref = types.SimpleNamespace(auth_token="tok-sdk", role_names=["member"], project_id="p1", project_name="demo",
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
    rec = _transport.SdkTransport(fake_conn(verify=verify)).session_record()
    assert (rec["verify"], rec["cafile"]) == expected
    assert rec["endpoint"] == "https://cinder.example:8776/v3/p1" and rec["token"] == "tok-sdk"
    assert rec["roles"] == ["member"] and rec["timeout"] == 30 and rec["expires_at"] == 1795737600.0


def test_session_record_keeps_client_certificate_and_key():
    rec = _transport.SdkTransport(fake_conn(cert=("/c.pem", "/k.pem"))).session_record()
    assert (rec["cert"], rec["key"]) == ("/c.pem", "/k.pem")


@pytest.mark.parametrize("conn", [fake_conn(profile="vendor"), fake_conn(expires=False)])
def test_no_record_for_a_vendor_profile_or_a_token_without_expiry(conn):
    assert _transport.SdkTransport(conn).session_record() is None


def test_session_record_fills_in_the_project_of_an_endpoint_override():
    """Issue 10, defect 2: the record kept ``%(project_id)s`` literally, so every resumed run got a 404."""
    conn = fake_conn()
    conn.session.auth.auth_ref.project_id = "bab7d5c60cd041a0a36f7c4b6e1dd978"
    conn.session.auth.auth_ref.user_id = "u1"
    conn.block_storage.get_endpoint = lambda: "http://127.0.0.1:8776/v3/%(project_id)s"
    rec = _transport.SdkTransport(conn).session_record()
    assert rec["endpoint"] == "http://127.0.0.1:8776/v3/bab7d5c60cd041a0a36f7c4b6e1dd978"


# ------------------------------------------------------------------ how library failures are classified

def _raised(outer, inner):
    """``outer`` raised while handling ``inner``, as keystoneauth raises ConnectFailure inside its except."""
    try:
        try:
            raise inner
        except Exception:
            raise outer
    except Exception as exc:
        return exc


def test_a_refused_connection_was_never_sent():
    from keystoneauth1 import exceptions as ksa
    import requests
    from urllib3.exceptions import MaxRetryError, NewConnectionError
    cause = requests.exceptions.ConnectionError(MaxRetryError(None, "/", NewConnectionError(None, "refused")))
    err = _transport.translate_sdk_error(_raised(ksa.ConnectFailure("Unable to establish connection"), cause))
    assert isinstance(err, _errors.ConnectionLost) and err.sent is False
    assert str(err) == "could not reach the cloud: Unable to establish connection"


def test_a_reset_or_a_read_timeout_may_have_been_sent():
    from keystoneauth1 import exceptions as ksa
    import requests
    from http.client import RemoteDisconnected
    from urllib3.exceptions import ProtocolError
    reset = requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", RemoteDisconnected("closed")))
    err = _transport.translate_sdk_error(_raised(ksa.ConnectFailure("aborted"), reset), "create")
    assert isinstance(err, _errors.ConnectionLost) and err.sent is True and str(err).startswith("create: ")
    err = _transport.translate_sdk_error(_raised(ksa.ConnectTimeout("timed out"),
                                                 requests.exceptions.ReadTimeout("read timed out")))
    assert isinstance(err, _errors.ConnectionLost) and err.sent is True
    err = _transport.translate_sdk_error(_raised(ksa.ConnectTimeout("timed out"),
                                                 requests.exceptions.ConnectTimeout("connect timed out")))
    assert err.sent is False


def test_failed_version_discovery_is_a_lost_connection_to_retry():
    from openstack import exceptions as sdk_exceptions
    exc = sdk_exceptions.ServiceDiscoveryException(
        "Failed to create a working proxy for service block-storage: No endpoint data found.")
    err = _transport.translate_sdk_error(exc, "could not connect to Cinder")
    assert isinstance(err, _errors.ConnectionLost) and "No endpoint data found" in str(err)


@pytest.mark.parametrize("name, expect", [
    ("Unauthorized", "authentication failed"),
    ("SSLError", "TLS verification failed"),
    ("EndpointNotFound", "the catalog has no block-storage endpoint"),
])
def test_final_library_errors_are_explained(name, expect):
    from keystoneauth1 import exceptions as ksa
    err = _transport.translate_sdk_error(getattr(ksa, name)("x"), "read")
    assert isinstance(err, _errors.CinderopsError) and not isinstance(err, _errors.ConnectionLost)
    assert str(err).startswith("read: " + expect)


def test_a_resumed_write_whose_connection_resets_raises_a_lost_connection():
    """Issue 10, defect 1: a reset after sending is a typed, retryable error (it was a plain one)."""
    import socket
    import struct
    import threading

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def reset_after_reading():
        conn, _addr = server.accept()
        conn.recv(65536)
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
    thread = threading.Thread(target=reset_after_reading, daemon=True)
    thread.start()
    transport = _transport.ResumedTransport(record(endpoint="http://127.0.0.1:%d/v3/p1" % server.getsockname()[1]))
    with pytest.raises(_errors.ConnectionLost) as err:
        transport.send("POST", "/snapshots", (202,), {"snapshot": {"volume_id": "v"}}, None, "3.66")
    assert err.value.sent is True and "could not reach the cloud" in str(err.value)
    thread.join(5)
    server.close()


def test_a_refused_login_is_a_lost_connection_worded_once(tmp_path, monkeypatch):
    """Connecting in full re-raised _proxy's own error wrapped again: the prefix came twice, the class name leaked,
    and a ConnectionLost became a plain error, so a refused login was never retried."""
    import socket

    import yaml
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections to it are refused
    clouds = {"clouds": {"dead": {"auth": {"auth_url": "http://127.0.0.1:%d/v3" % port, "username": "u",
                                           "password": "p", "project_name": "p", "user_domain_name": "Default",
                                           "project_domain_name": "Default"}, "region_name": "RegionOne"}}}
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump(clouds))
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    with pytest.raises(_errors.ConnectionLost) as err:
        _transport.SdkTransport.connect("dead", {})
    message = str(err.value)
    assert message.startswith("could not connect to Cinder: could not reach the cloud: ")
    assert message.count("could not connect to Cinder") == 1 and "Error:" not in message
