# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two ways a request reaches Cinder, with their TLS settings.

``SdkTransport`` sends through openstacksdk's authenticated block-storage adapter (clouds.yaml,
keystoneauth, requests). ``ResumedTransport`` sends with the standard library to an endpoint and
token that an earlier run's full connection recorded, so a rerun never imports openstacksdk.

Both have one interface, ``send(method, path, expect, json_body, params, microversion)`` ->
``Response``, and both turn their library's failures into the collection's typed errors: a lost
connection is ``ConnectionLost`` (``sent`` tells a refused connection from a reset or a lost
answer), bad credentials and TLS failures are ``CinderopsError``. This module is the only place
that imports openstacksdk or inspects keystoneauth's exceptions.
"""
from __future__ import annotations

import json
import os
import socket
import ssl
import sys
import traceback
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPSHandler, Request, build_opener

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import (
    CinderopsError, ConnectionLost, StaleSession)

COLLECTION_VERSION = "1.0.0"
USER_AGENT = "cinderops.snapshots/%s" % COLLECTION_VERSION
# A resumed session's requests wait this long when api_timeout is not set (urllib needs a number).
RESUMED_TIMEOUT = 300


class Response(object):
    """The part of an HTTP response the client reads, whichever transport brought it."""

    def __init__(self, status_code, headers, body):
        self.status_code = status_code
        self.headers = headers  # case-insensitive .get(), as both libraries give
        self.text = body.decode("utf-8", "replace") if isinstance(body, bytes) else (body or "")

    def json(self):
        return json.loads(self.text)


# ---------------------------------------------------------------------------------------------------- openstacksdk

def log_sdk(path, level):
    """openstacksdk's (and keystoneauth's) log to ``path``, as openstack.cloud's sdk_log_path does; keystoneauth
    masks tokens and passwords in what it logs."""
    sdk().enable_logging(debug=level == "DEBUG", path=path)


def sdk():
    """openstacksdk, imported on first use: a resumed session never loads it (about 0.5 s per run)."""
    try:
        import openstack.config  # pylint: disable=import-outside-toplevel
        import openstack.connection  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise CinderopsError(missing_required_lib("openstacksdk"), exception=traceback.format_exc()) from exc
    return sys.modules["openstack"]


# Causes that mean the request never left this host.
_NOT_SENT = ("ConnectionRefusedError", "NewConnectionError", "ConnectTimeoutError", "ConnectTimeout",
             "NameResolutionError", "gaierror", "LocationParseError")


def _causes(exc, seen=None):
    """The exception and everything it wraps: __cause__, __context__, exception args and urllib3's reason."""
    seen = seen if seen is not None else set()
    if exc is None or id(exc) in seen:
        return
    seen.add(id(exc))
    yield exc
    for inner in [exc.__cause__, exc.__context__, getattr(exc, "reason", None)] + list(getattr(exc, "args", ())):
        if isinstance(inner, BaseException):
            yield from _causes(inner, seen)


def _never_sent(exc):
    """Whether the library's error wraps a cause that means nothing left this host (when unsure: it may have)."""
    causes = list(_causes(exc))[1:]  # keystoneauth's own ConnectTimeout also covers read timeouts
    return any(type(cause).__name__ in _NOT_SENT for cause in causes)


def translate_sdk_error(exc, action=None):
    """keystoneauth and openstacksdk failures as the collection's errors, worded for the person running the task.

    ``action`` starts the message; without it the caller (the client) adds its own.
    """
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    lead = "%s: " % action if action else ""
    ksa = sys.modules.get("keystoneauth1.exceptions")
    sdk_exceptions = sys.modules.get("openstack.exceptions")
    if ksa is not None:
        if isinstance(exc, ksa.Unauthorized):
            return CinderopsError("%sauthentication failed (check the credentials in auth or clouds.yaml): %s"
                                  % (lead, text))
        if isinstance(exc, ksa.SSLError):
            return CinderopsError("%sTLS verification failed (set ca_cert to the cloud's CA bundle): %s" % (lead, text))
        if isinstance(exc, (ksa.ConnectionError, ksa.RetriableConnectionFailure)):
            return ConnectionLost("%scould not reach the cloud: %s" % (lead, text), sent=not _never_sent(exc))
        if isinstance(exc, ksa.EndpointNotFound):
            return CinderopsError("%sthe catalog has no block-storage endpoint for this region and interface: %s"
                                  % (lead, text))
        if isinstance(exc, ksa.MissingRequiredOptions):
            return CinderopsError("%sincomplete credentials: %s" % (lead, text))
    if sdk_exceptions is not None:
        if isinstance(exc, sdk_exceptions.ServiceDiscoveryException):
            # keystoneauth swallows the failed version-discovery request and the SDK reports "no endpoint data".
            return ConnectionLost("%sversion discovery failed: %s" % (lead, text), sent=False)
        if isinstance(exc, sdk_exceptions.SDKException):
            return CinderopsError("%s%s" % (lead, text))
    return CinderopsError("%s%s: %s" % (lead, name, text))


def _config_files(openstack):
    """Every file whose change could change what the SDK resolves: its config candidates and itself.

    Candidates in the working directory stay relative, so that they are checked in the next run's one.
    """
    loader = openstack.config.loader
    files = [os.environ.get("OS_CLIENT_CONFIG_FILE"), os.environ.get("OS_CLIENT_SECURE_FILE")]
    files += list(loader.CONFIG_FILES) + list(loader.SECURE_FILES) + list(loader.VENDOR_FILES)
    files.append(openstack.__file__)
    cwd = os.getcwd()
    kept = set()
    for path in filter(None, files):
        if os.path.isabs(path) and os.path.dirname(path) == cwd:
            path = os.path.basename(path)
        kept.add(path)
    return sorted(kept)


def _can_skip_identity_discovery(config):
    """Generic password auth against an explicit /v3 URL with a user domain: v3password does the same
    without first reading Keystone's version document."""
    auth = config.get("auth") or {}
    url = str(auth.get("auth_url") or "").rstrip("/")
    has_domain = any(auth.get(k) for k in ("user_domain_name", "user_domain_id", "user_id"))
    return config.get("auth_type") in (None, "password") and url.endswith("/v3") and has_domain


def _adjustments(config, options):
    """Settings that spare the SDK a discovery request it does not need (or cannot get right).

    * Generic password auth against an explicit /v3 URL: the v3 plugin, without Keystone's version document.
    * A block-storage endpoint override without an API version: the SDK would discover the version at the
      override, and it cannot fill in ``%(project_id)s`` there, so it fails with "No endpoint data found".
      The modules speak only v3.
    """
    adjusted = {}
    if "auth_type" not in options and _can_skip_identity_discovery(config):
        adjusted["auth_type"] = "v3password"
    if config.get("block_storage_endpoint_override") and not config.get("block_storage_api_version"):
        adjusted["block_storage_api_version"] = "3"
    return adjusted


def _version_root(endpoint):
    """Where Cinder's version document is: the endpoint up to its ``/v3`` (``http://cinder:8776/``)."""
    head, sep, _tail = endpoint.partition("/v3")
    return (head if sep else endpoint.rstrip("/")) + "/"


def _substitute(endpoint, ref):
    """``%(project_id)s`` and ``%(user_id)s`` in an endpoint override, as keystoneauth fills them in per request."""
    if "%(" not in endpoint:
        return endpoint
    return endpoint.replace("%(project_id)s", ref.project_id or "").replace("%(user_id)s", ref.user_id or "")


class SdkTransport(object):
    """Requests through openstacksdk's authenticated block-storage adapter (keystoneauth and requests)."""

    def __init__(self, conn, token_cache=None, config_files=()):
        self.conn = conn
        self.token_cache = token_cache
        self.config_files = list(config_files)
        self._configured_endpoint = conn.config.config.get("block_storage_endpoint_override")
        # Before the first touch of conn.block_storage: making the proxy reads the catalog, which logs in.
        self._from_cache = bool(token_cache and token_cache.load())
        self.adapter = self._proxy()
        # A microversion set in clouds.yaml (block_storage_default_microversion) is the ceiling.
        self.default_microversion = conn.config.get_default_microversion("block-storage")
        self.negotiated = False

    @classmethod
    def connect(cls, cloud, options, token_cache_factory=None):
        """Connect like openstack.cloud: clouds.yaml, ``cloud``, ``auth`` and OS_* variables.

        Raises ConnectionLost when the cloud could not be reached (the caller retries), else CinderopsError.
        """
        openstack = sdk()
        try:
            region = openstack.config.get_cloud_region(cloud=cloud, app_name="cinderops.snapshots",
                                                       app_version=COLLECTION_VERSION, **options)
            adjusted = _adjustments(region.config, options)
            if adjusted:
                region = openstack.config.get_cloud_region(cloud=cloud, app_name="cinderops.snapshots",
                                                           app_version=COLLECTION_VERSION,
                                                           **dict(options, **adjusted))
            conn = openstack.connection.Connection(config=region)
        except openstack.exceptions.ConfigException as exc:
            raise CinderopsError("cloud: could not load the cloud configuration: %s (clouds.yaml is searched in "
                                 "./clouds.yaml, ~/.config/openstack/ and /etc/openstack/, or OS_CLIENT_CONFIG_FILE)"
                                 % exc)
        except Exception as exc:  # keystoneauth: missing or inconsistent auth options
            raise translate_sdk_error(exc, "auth: could not load the cloud configuration")
        cache = token_cache_factory(conn.session.auth) if token_cache_factory else None
        try:
            return cls(conn, token_cache=cache, config_files=_config_files(openstack))
        except CinderopsError:
            raise  # already worded (and typed: a ConnectionLost is retried), by _proxy
        except Exception as exc:  # logging in, the catalog, version discovery, a configured microversion
            raise translate_sdk_error(exc, "could not connect to Cinder")

    def _proxy(self):
        try:
            return self.conn.block_storage
        except Exception as exc:
            raise translate_sdk_error(exc, "could not connect to Cinder")

    def token(self):
        ref = getattr(self.conn.session.auth, "auth_ref", None)
        return ref.auth_token if ref is not None else None

    def _rebuild_adapter(self):
        """A block-storage proxy built from the current token's catalog (the SDK pins the endpoint it saw)."""
        if self._configured_endpoint is None:
            self.conn.config.config.pop("block_storage_endpoint_override", None)
        else:
            self.conn.config.config["block_storage_endpoint_override"] = self._configured_endpoint
        getattr(self.conn, "_proxies", {}).pop("block-storage", None)
        self.adapter = self._proxy()

    def send(self, method, path, expect, json_body, params, microversion):
        token_before = self.token() if self._from_cache else None
        try:
            resp = self.adapter.request(path, method, json=json_body, params=params, microversion=microversion,
                                        raise_exc=False)
        except Exception as exc:
            raise translate_sdk_error(exc)
        if self.token_cache:
            self.token_cache.save()
        if self._from_cache and self.token() != token_before:
            # Cinder refused the cached token (a new cloud, a revoked token) and keystoneauth logged in
            # again; the endpoint still came from the old token's catalog, so rebuild and resend.
            self._from_cache = False
            self._rebuild_adapter()
            if resp.status_code not in expect:
                return self.send(method, path, expect, json_body, params, microversion)
        return Response(resp.status_code, resp.headers, resp.content)

    def max_microversion(self):
        try:
            server_max = getattr(self.adapter.get_endpoint_data(), "max_microversion", None)
            if not server_max:
                # A trusted endpoint override skips discovery: read Cinder's version document ourselves.
                resp = self.conn.session.get(_version_root(self.adapter.get_endpoint()), authenticated=False,
                                             raise_exc=False)
                versions = [v for v in (resp.json() or {}).get("versions", []) if str(v.get("id")).startswith("v3")]
                return versions[0].get("version") or None if versions else None
        except ValueError:
            return None
        except Exception as exc:
            raise translate_sdk_error(exc, "microversion discovery")
        return "%d.%d" % tuple(server_max)

    def roles(self):
        session = self.conn.session
        try:
            return session.auth.get_access(session).role_names or []
        except Exception as exc:
            raise translate_sdk_error(exc, "could not authenticate")

    def session_record(self):
        """What a later run needs to send requests to this cloud without the SDK; None if it cannot."""
        ref = getattr(self.conn.session.auth, "auth_ref", None)
        if ref is None or ref.expires is None or self.conn.config.config.get("profile"):
            return None  # a vendor profile may come from the network: always resolve it in full
        session = self.conn.session
        verify, cafile = session.verify, None
        if verify is True:
            # The bundle requests would trust, so that both paths trust the same CAs.
            certs = getattr(sys.modules.get("requests"), "certs", None)
            cafile = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") \
                or (certs.where() if certs else None)
        elif isinstance(verify, str):
            verify, cafile = True, verify
        cert, key = session.cert, None
        if isinstance(cert, (tuple, list)):
            cert, key = cert[0], cert[1]
        return dict(endpoint=_substitute(self.adapter.get_endpoint(), ref), token=ref.auth_token,
                    expires_at=ref.expires.timestamp(), roles=list(ref.role_names or []), verify=bool(verify),
                    cafile=cafile, cert=cert, key=key, timeout=session.timeout, project_id=ref.project_id,
                    project_name=ref.project_name)

    def project(self):
        """(id, name) of the project the token is scoped to."""
        session = self.conn.session
        try:
            ref = session.auth.get_access(session)
        except Exception as exc:
            raise translate_sdk_error(exc, "could not authenticate")
        return ref.project_id, ref.project_name


# ---------------------------------------------------------------------------------------------------- resumed

def tls_context(record):
    """The TLS context a recorded session's requests use: what requests would have verified against."""
    if not record["endpoint"].lower().startswith("https:"):
        # Plain HTTP needs no CAs; a redirect to HTTPS then fails verification instead of skipping it.
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if record["verify"]:
        context = ssl.create_default_context(cafile=record.get("cafile"))
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if record.get("cert"):
        context.load_cert_chain(record["cert"], record.get("key"))
    return context


class ResumedTransport(object):
    """Requests straight to a recorded endpoint with a recorded token, through urllib.

    What it cannot finish the way the SDK would (a 401, an endpoint that refuses connections,
    version discovery) raises StaleSession before anything was sent, and the client connects in full.
    """

    def __init__(self, record):
        self.record = record
        self.default_microversion = record["microversion"]
        self.negotiated = bool(record.get("negotiated"))
        self._http = None

    def _client(self):
        """One urllib opener for the run: building a TLS context loads the CA bundle, which costs ~40 ms.

        Plain urllib, not ansible.module_utils.urls: that one imports cryptography and email.mime and is
        compiled from source in every module run (~80 ms), for features these requests do not use. urllib's
        default handlers still honour the proxy variables (and no_proxy) as requests does.
        """
        if self._http is None:
            try:
                self._http = build_opener(HTTPSHandler(context=tls_context(self.record)))
            except (OSError, ValueError) as exc:
                # A CA bundle or client certificate that moved since the record; nothing was sent yet.
                raise StaleSession("TLS settings: %s" % exc) from exc
        return self._http

    def send(self, method, path, expect, json_body, params, microversion):
        record = self.record
        url = record["endpoint"].rstrip("/") + path
        query = [(k, v) for k, v in (params or {}).items() if v is not None]  # as requests drops None
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = {"X-Auth-Token": record["token"], "OpenStack-API-Version": "volume %s" % microversion,
                   "Accept": "application/json", "User-Agent": USER_AGENT}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        client = self._client()
        try:
            raw = client.open(Request(url, data=data, headers=headers, method=method),
                              timeout=record.get("timeout") or RESUMED_TIMEOUT)
            resp = Response(raw.status, raw.headers, raw.read())
        except HTTPError as exc:
            try:
                body = exc.read()
            except Exception:
                body = b""
            resp = Response(exc.code, exc.headers, body)
        except (URLError, OSError, ValueError, socket.timeout) as exc:
            reason = getattr(exc, "reason", exc)  # URLError wraps the socket error; ssl.SSLError's reason is text
            if isinstance(exc, ssl.SSLError) or isinstance(reason, (ConnectionRefusedError, socket.gaierror,
                                                                    ssl.SSLError)):
                # The recorded endpoint is not there (moved, down) or its TLS no longer matches the record:
                # Cinder acted on nothing; the full connection reads the catalog again, retries and explains.
                raise StaleSession(str(reason)) from exc
            raise ConnectionLost("could not reach the cloud: %s" % reason, sent=True) from exc
        if resp.status_code == 401:
            raise StaleSession("Cinder refused the recorded token")
        return resp

    def max_microversion(self):
        raise StaleSession("microversion discovery goes through the SDK")

    def roles(self):
        return list(self.record["roles"])

    def project(self):
        if self.record.get("project_id"):
            return self.record["project_id"], self.record.get("project_name")
        raise StaleSession("the record does not know the project (written by an older version)")
