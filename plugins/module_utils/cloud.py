# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The layer every module stands on.

``CinderopsModule`` merges the common connection options into a module's spec,
connects the way openstack.cloud does (clouds.yaml, ``cloud:``, ``auth:``, OS_*),
and is the single error boundary: whatever goes wrong becomes one ``fail_json``.

``CinderClient`` is the only place that talks HTTP to Cinder. It uses the SDK's
authenticated block-storage adapter with explicit microversions (the SDK's own
snapshot resource stops at 3.65 and hides a few pitfalls: see the project's
reference), negotiates the microversion, retries safe reads, follows pages, and
turns HTTP errors into clear messages with Cinder's request id.
"""
from __future__ import annotations

import hashlib
import json
import os
import ssl
import sys
import time
import traceback
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
from urllib.request import HTTPSHandler, Request, build_opener

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.cinderops.snapshots.plugins.module_utils.session_cache import (
    SessionStore, fingerprint, read_private, write_private)
from ansible_collections.cinderops.snapshots.plugins.module_utils.validation import InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils.waiting import WaitError

COLLECTION_VERSION = "1.0.0"

# Highest microversion the modules ask for. 3.66 lets an in-use volume be
# snapshotted without force; nothing above it changes snapshots.
PREFERRED_MICROVERSION = "3.66"
# Pages as large as Cinder serves by default (osapi_max_limit).
PAGE_SIZE = 1000
READ_RETRIES = 3
SECRET_WORDS = ("password", "secret", "token", "key", "passcode")
# A cached token is reused until this many seconds before it expires.
TOKEN_MIN_LIFE = 300
# A resumed session's requests wait this long when api_timeout is not set (urllib needs a number).
RESUMED_TIMEOUT = 300
USER_AGENT = "cinderops.snapshots/%s" % COLLECTION_VERSION


class CinderopsError(Exception):
    """An error for the user: one line, plus optional result keys."""

    def __init__(self, message, **extra):
        super().__init__(message)
        self.extra = extra


class ApiError(CinderopsError):
    """Cinder answered with an HTTP error."""

    def __init__(self, message, status_code=None, request_id=None, cinder_message=None):
        super().__init__(message, status_code=status_code, request_id=request_id)
        self.status_code = status_code
        self.request_id = request_id
        self.cinder_message = cinder_message


def connection_argument_spec():
    """Connection and wait options, named as openstack.cloud names them."""
    return dict(
        cloud=dict(type="raw"),
        auth=dict(type="dict", no_log=True),
        auth_type=dict(type="str"),
        region_name=dict(type="str"),
        interface=dict(type="str", default="public", choices=["admin", "internal", "public"], aliases=["endpoint_type"]),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="str", aliases=["cacert"]),
        client_cert=dict(type="str", aliases=["cert"]),
        client_key=dict(type="str", no_log=True, aliases=["key"]),
        api_timeout=dict(type="int"),
        auth_cache=dict(type="bool", default=True),
    )


def wait_argument_spec():
    return dict(
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
    )


_STATUS_TEXT = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 406: "Not Acceptable",
                409: "Conflict", 413: "Request Entity Too Large", 429: "Too Many Requests", 500: "Internal Server Error",
                503: "Service Unavailable"}


def _cinder_message(resp):
    """Cinder's error text: {"badRequest": {"code": 400, "message": "..."}}."""
    try:
        body = resp.json()
    except ValueError:
        return (resp.text or "").strip()[:500]
    if isinstance(body, dict):
        for fault in body.values():
            if isinstance(fault, dict) and "message" in fault:
                return fault["message"]
        if "message" in body:
            return body["message"]
    return str(body)[:500]


def explain_http_error(action, resp, microversion=None):
    """A one-line message for an HTTP error, with what to do about it."""
    code = resp.status_code
    message = _cinder_message(resp)
    request_id = resp.headers.get("x-openstack-request-id") or resp.headers.get("x-compute-request-id")
    text = "%s: Cinder answered %d %s: %s" % (action, code, _STATUS_TEXT.get(code, ""), message)
    if code == 403:
        text += " (the user's role does not allow this; a member or admin role is needed)"
    elif code == 406:
        text += " (microversion %s is not supported by this Cinder)" % microversion
    elif code == 413:
        lowered = message.lower()
        quota = "snapshots" if "snapshot" in lowered else "gigabytes" if "gigabyte" in lowered or "size" in lowered \
            else "volumes" if "volume" in lowered else None
        text += " (%s quota exceeded; raise the project's quota or remove snapshots)" % quota if quota else \
            " (a quota was exceeded)"
    if request_id:
        text += " [request id %s]" % request_id
    return ApiError(text, status_code=code, request_id=request_id, cinder_message=message)


def _version_tuple(text):
    major, minor = str(text).split(".")
    return int(major), int(minor)


def _cache_base():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cinderops.snapshots")


def auth_cache_dir():
    return os.path.join(_cache_base(), "auth")


def session_cache_dir():
    return os.path.join(_cache_base(), "sessions")


def _sdk_config_files(openstack):
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


class TokenCache(object):
    """Reuses a Keystone token across module runs: the token only, never the password.

    Keyed by keystoneauth's cache id, a hash of the auth URL, the credentials and the
    scope, so other credentials never get this token. The file is the user's own, mode
    0600 in a 0700 directory; anything else about it and it is ignored. A token that
    Cinder refuses (401) is replaced by keystoneauth, and the new one is saved.
    """

    def __init__(self, auth, directory=None):
        self.auth = auth
        self.path = None
        self.saved = False
        self._token = None
        try:
            cache_id = auth.get_cache_id()
        except Exception:
            cache_id = None
        if cache_id:
            name = hashlib.sha256(cache_id.encode("utf-8")).hexdigest()
            self.path = os.path.join(directory or auth_cache_dir(), name)

    def load(self):
        state = read_private(self.path) if self.path else None
        if state is None:
            return False
        try:
            self.auth.set_auth_state(state)
            if self.auth.auth_ref is None or self.auth.auth_ref.will_expire_soon(TOKEN_MIN_LIFE):
                self.auth.set_auth_state(None)
                return False
        except (ValueError, KeyError, TypeError):
            self.auth.set_auth_state(None)
            return False
        self.saved = True  # nothing new to write unless keystoneauth re-authenticates
        self._token = self.auth.auth_ref.auth_token
        return True

    def save(self):
        if not self.path:
            return
        ref = getattr(self.auth, "auth_ref", None)
        if ref is None or (self.saved and self._token == ref.auth_token):
            return
        try:
            state = self.auth.get_auth_state()
            json.loads(state)
        except (TypeError, ValueError):
            return
        if write_private(self.path, state):  # one that cannot be written only costs a token request next time
            self.saved = True
            self._token = ref.auth_token


class StaleSession(Exception):
    """A resumed session cannot go on (token refused, cloud unreachable, discovery needed): connect in full."""


class Response(object):
    """The part of a requests response the client reads, for answers that came through urllib."""

    def __init__(self, status_code, headers, body):
        self.status_code = status_code
        self.headers = headers
        self.text = body.decode("utf-8", "replace") if body else ""

    def json(self):
        return json.loads(self.text)


def _sdk():
    """openstacksdk, imported on first use: a resumed session never loads it (about 0.5 s per run)."""
    try:
        import openstack.config  # pylint: disable=import-outside-toplevel
        import openstack.connection  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise CinderopsError(missing_required_lib("openstacksdk"), exception=traceback.format_exc()) from exc
    return sys.modules["openstack"]


def _loaded(name):
    """An exceptions module if some earlier code imported it; if not, no error can be one of its classes."""
    return sys.modules.get(name)


class SdkTransport(object):
    """Requests through openstacksdk's authenticated block-storage adapter (keystoneauth and requests)."""

    def __init__(self, conn, token_cache=None, config_files=()):
        self.conn = conn
        self.token_cache = token_cache
        self.config_files = list(config_files)
        self._configured_endpoint = conn.config.config.get("block_storage_endpoint_override")
        # Before the first touch of conn.block_storage: making the proxy reads the catalog, which logs in.
        self._from_cache = bool(token_cache and token_cache.load())
        self.adapter = conn.block_storage
        # A microversion set in clouds.yaml (block_storage_default_microversion) is the ceiling.
        self.default_microversion = conn.config.get_default_microversion("block-storage")
        self.negotiated = False

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
        self.adapter = self.conn.block_storage

    def send(self, method, path, expect, json_body, params, microversion):
        token_before = self.token() if self._from_cache else None
        resp = self.adapter.request(path, method, json=json_body, params=params, microversion=microversion,
                                    raise_exc=False)
        if self.token_cache:
            self.token_cache.save()
        if self._from_cache and self.token() != token_before:
            # Cinder refused the cached token (a new cloud, a revoked token) and keystoneauth logged in
            # again; the endpoint still came from the old token's catalog, so rebuild and resend.
            self._from_cache = False
            self._rebuild_adapter()
            if resp.status_code not in expect:
                return self.send(method, path, expect, json_body, params, microversion)
        return resp

    def max_microversion(self):
        server_max = getattr(self.adapter.get_endpoint_data(), "max_microversion", None)
        return "%d.%d" % tuple(server_max) if server_max else None

    def roles(self):
        session = self.conn.session
        return session.auth.get_access(session).role_names or []

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
        return dict(endpoint=self.adapter.get_endpoint(), token=ref.auth_token, expires_at=ref.expires.timestamp(),
                    roles=list(ref.role_names or []), verify=bool(verify), cafile=cafile, cert=cert, key=key,
                    timeout=session.timeout)


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

    Anything it cannot finish the way the SDK would (a 401, an unreachable cloud on a read or before
    a write was sent, version discovery) raises StaleSession, and the client connects in full.
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
            self._http = build_opener(HTTPSHandler(context=tls_context(self.record)))
        return self._http

    def send(self, method, path, expect, json_body, params, microversion):
        record = self.record
        url = record["endpoint"].rstrip("/") + path
        query = [(k, v) for k, v in (params or {}).items() if v is not None]  # as requests drops None
        if query:
            url += "?" + urlencode(query, doseq=True)
        headers = {"X-Auth-Token": record["token"], "OpenStack-API-Version": "volume %s" % microversion,
                   "Accept": "application/json"}
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            headers["Content-Type"] = "application/json"
        headers["User-Agent"] = USER_AGENT
        try:
            client = self._client()
        except (OSError, ValueError) as exc:
            # A CA bundle or client certificate that moved since the record; nothing was sent yet.
            raise StaleSession("TLS settings: %s" % exc) from exc
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
        except (URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            if method == "GET" or isinstance(reason, ConnectionRefusedError):
                # Nothing was changed: the full connection retries and explains.
                raise StaleSession(str(reason)) from exc
            raise CinderopsError("could not reach the cloud: %s" % reason) from exc
        if resp.status_code == 401:
            raise StaleSession("Cinder refused the recorded token")
        return resp

    def max_microversion(self):
        raise StaleSession("microversion discovery goes through the SDK")

    def roles(self):
        return list(self.record["roles"])


class SessionKeeper(object):
    """Saves a record of the full connection once it has worked, for the next run to resume."""

    def __init__(self, store, key):
        self.store = store
        self.key = key
        self._saved = None

    def load(self):
        return self.store.load(self.key)

    def remember(self, transport, microversion, negotiated):
        """Called after every response: cheap unless the token or microversion changed since the last save."""
        if not isinstance(transport, SdkTransport):
            return  # a resumed session's record is already on disk
        state = (transport.token(), microversion)
        if state == self._saved:
            return
        self._saved = state  # also after a failed write: retrying it on every request would only cost time
        record = transport.session_record()
        if record is not None:
            record.update(microversion=microversion, negotiated=negotiated)
            self.store.save(self.key, record, transport.config_files)

    def forget(self):
        self.store.forget(self.key)
        self._saved = None


class CinderClient(object):
    """Cinder's v3 REST API, through the SDK's authenticated adapter or a resumed session."""

    def __init__(self, conn=None, sleep=time.sleep, token_cache=None, transport=None, full_connect=None,
                 keeper=None):
        self.transport = transport if transport is not None else SdkTransport(conn, token_cache)
        self._full_connect = full_connect
        self.keeper = keeper
        self._sleep = sleep
        self.requests = 0
        self.microversion = self.transport.default_microversion or PREFERRED_MICROVERSION
        self._negotiated = self.transport.negotiated

    def _connect_in_full(self):
        """Leave a resumed session for a full SDK connection (same inputs, so same microversion)."""
        if self._full_connect is None:
            raise CinderopsError("the resumed session failed and there is no full connection to fall back to")
        if self.keeper:
            self.keeper.forget()
        self.transport = self._full_connect()
        self._full_connect = None

    def is_admin(self):
        """Whether the token carries the admin role (Cinder's admin_api rule); costs no extra request."""
        try:
            roles = self.transport.roles()
        except Exception as exc:
            raise explain_connection_error("could not authenticate", exc)
        return "admin" in roles

    def supports(self, version):
        return _version_tuple(self.microversion) >= _version_tuple(version)

    def _negotiate(self):
        """After a 406: take the highest version both sides speak."""
        try:
            server = self.transport.max_microversion()
        except StaleSession:
            self._connect_in_full()
            server = self.transport.max_microversion()
        self._negotiated = True
        if server is None:
            self.microversion = "3.0"
        elif _version_tuple(server) < _version_tuple(self.microversion):
            self.microversion = server

    def request(self, method, path, action, expect=(200,), json=None, params=None):
        """One API call; returns the response for a status in ``expect``, else raises ApiError.

        Reads are retried on 429, 5xx and connection failures. Writes are not: a
        retried POST could make a duplicate, so callers look before they write again.
        """
        attempts = READ_RETRIES if method == "GET" else 1
        delay = 0.5
        for attempt in range(1, attempts + 1):
            try:
                self.requests += 1
                resp = self.transport.send(method, path, expect, json, params, self.microversion)
            except StaleSession:
                self._connect_in_full()
                return self.request(method, path, action, expect, json, params)
            except CinderopsError as exc:
                raise CinderopsError("%s: %s" % (action, exc)) from exc
            except Exception as exc:  # keystoneauth connection and auth errors
                err = explain_connection_error(action, exc)
                if attempt < attempts and _is_transient(exc):
                    self._sleep(delay)
                    delay *= 2
                    continue
                raise err
            if self.keeper and resp.status_code != 401:
                self.keeper.remember(self.transport, self.microversion, self._negotiated)
            if resp.status_code in expect:
                return resp
            if resp.status_code == 406 and not self._negotiated:
                tried = self.microversion
                self._negotiate()
                if self.microversion != tried:
                    return self.request(method, path, action, expect, json, params)
            if attempt < attempts and (resp.status_code == 429 or resp.status_code >= 500):
                self._sleep(delay)
                delay *= 2
                continue
            raise explain_http_error(action, resp, self.microversion)

    def get_json(self, path, action, params=None, missing_ok=False):
        """GET a resource; None for 404 when ``missing_ok``."""
        resp = self.request("GET", path, action, expect=(200, 404) if missing_ok else (200,), params=params)
        if resp.status_code == 404:
            return None
        return resp.json()

    def list_all(self, path, key, action, params=None, limit=None, marker=None):
        """Every item of a paginated collection, following Cinder's next links.

        The next page is asked for with ``marker=<last id>`` and the original query,
        not by the link's own URL: behind a proxy Cinder may hand back an internal host.
        ``limit`` caps the total; pages stay as large as Cinder serves.
        """
        params = dict(params or {})
        items = []
        while True:
            page_params = dict(params)
            page_params["limit"] = PAGE_SIZE if limit is None else min(PAGE_SIZE, limit - len(items))
            if marker:
                page_params["marker"] = marker
            body = self.request("GET", path, action, params=page_params).json()
            page = body.get(key, [])
            items.extend(page)
            has_next = any(link.get("rel") == "next" for link in body.get(key + "_links", []) or [])
            if not page or not has_next or (limit is not None and len(items) >= limit):
                return items
            marker = page[-1]["id"]


def _can_skip_identity_discovery(config):
    """Generic password auth against an explicit /v3 URL with a user domain: v3password does the same
    without first reading Keystone's version document."""
    auth = config.get("auth") or {}
    url = str(auth.get("auth_url") or "").rstrip("/")
    has_domain = any(auth.get(k) for k in ("user_domain_name", "user_domain_id", "user_id"))
    return config.get("auth_type") in (None, "password") and url.endswith("/v3") and has_domain


def _is_transient(exc):
    ksa_exceptions = _loaded("keystoneauth1.exceptions")
    if ksa_exceptions is not None:
        return isinstance(exc, (ksa_exceptions.ConnectFailure, ksa_exceptions.ConnectTimeout,
                                ksa_exceptions.RetriableConnectionFailure))
    return False


def explain_connection_error(action, exc):
    """Keystone and transport errors, worded for the person running the task."""
    name = type(exc).__name__
    text = str(exc).splitlines()[0] if str(exc) else name
    ksa_exceptions = _loaded("keystoneauth1.exceptions")
    sdk_exceptions = _loaded("openstack.exceptions")
    if ksa_exceptions is not None:
        if isinstance(exc, ksa_exceptions.Unauthorized):
            return CinderopsError("%s: authentication failed (check the credentials in auth or clouds.yaml): %s"
                                  % (action, text))
        if isinstance(exc, ksa_exceptions.SSLError):
            return CinderopsError("%s: TLS verification failed (set ca_cert to the cloud's CA bundle): %s"
                                  % (action, text))
        if isinstance(exc, (ksa_exceptions.ConnectFailure, ksa_exceptions.ConnectTimeout)):
            return CinderopsError("%s: could not reach the cloud: %s" % (action, text))
        if isinstance(exc, ksa_exceptions.EndpointNotFound):
            return CinderopsError("%s: the catalog has no block-storage endpoint for this region and interface: %s"
                                  % (action, text))
        if isinstance(exc, ksa_exceptions.MissingRequiredOptions):
            return CinderopsError("%s: incomplete credentials: %s" % (action, text))
    if sdk_exceptions is not None and isinstance(exc, sdk_exceptions.SDKException):
        return CinderopsError("%s: %s" % (action, text))
    return CinderopsError("%s: %s: %s" % (action, name, text))


class CinderopsModule(object):
    """Base class: ``argument_spec`` and ``module_kwargs`` per module, ``run()`` does the work."""

    argument_spec = {}
    module_kwargs = {}
    wait_options = True

    def __init__(self):
        spec = connection_argument_spec()
        if self.wait_options:
            spec.update(wait_argument_spec())
        spec.update(self.argument_spec)
        self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=True, **self.module_kwargs)
        self.params = self.ansible.params
        self._mask_cloud_secrets(self.params.get("cloud"))
        self.check_mode = self.ansible.check_mode
        self.diff_mode = self.ansible._diff
        self.client = None

    def _mask_cloud_secrets(self, value, key=""):
        """``cloud`` may be a dict with credentials in it; keep those out of every result, as no_log would."""
        if isinstance(value, dict):
            for k, v in value.items():
                self._mask_cloud_secrets(v, k)
        elif isinstance(value, list):
            for v in value:
                self._mask_cloud_secrets(v, key)
        elif isinstance(value, str) and value and any(word in key.lower() for word in SECRET_WORDS):
            self.ansible.no_log_values.add(value)

    def connect(self):
        """Connect like openstack.cloud: clouds.yaml, the ``cloud`` option, ``auth``, and OS_* variables.

        With ``auth_cache``, a run whose connection inputs match a recorded session resumes it
        without loading the SDK; the first request that the record cannot serve connects in full.
        """
        cloud = self.params["cloud"]
        if cloud is not None and not isinstance(cloud, (str, dict)):
            raise CinderopsError("cloud must be the name of a cloud in clouds.yaml or a dict of cloud settings")
        options = dict(
            auth_type=self.params["auth_type"],
            auth=self.params["auth"],
            region_name=self.params["region_name"],
            interface=self.params["interface"],
            verify=self.params["validate_certs"],
            cacert=self.params["ca_cert"],
            cert=self.params["client_cert"],
            key=self.params["client_key"],
            api_timeout=self.params["api_timeout"],
        )
        # Options left unset must not override what clouds.yaml or OS_* say.
        options = dict((k, v) for k, v in options.items() if v is not None)
        if isinstance(cloud, dict):
            options.update(cloud)
            cloud = None
        keeper = self._session_keeper(cloud, options) if self.params["auth_cache"] else None
        record = keeper.load() if keeper else None
        if record is not None:
            self.client = CinderClient(transport=ResumedTransport(record), keeper=keeper,
                                       full_connect=lambda: self._sdk_transport(cloud, options))
        else:
            self.client = CinderClient(transport=self._sdk_transport(cloud, options), keeper=keeper)
        return self.client

    @staticmethod
    def _session_keeper(cloud, options):
        try:
            os.getcwd()
        except OSError:
            return None  # no working directory: ./clouds.yaml cannot be checked
        key = fingerprint(dict(options, cloud=cloud), os.environ, os.getuid())
        return SessionKeeper(SessionStore(session_cache_dir(), min_life=TOKEN_MIN_LIFE), key)

    def _sdk_transport(self, cloud, options):
        openstack = _sdk()
        try:
            region = openstack.config.get_cloud_region(cloud=cloud, app_name="cinderops.snapshots",
                                                       app_version=COLLECTION_VERSION, **options)
            if "auth_type" not in options and _can_skip_identity_discovery(region.config):
                # Same credentials with the v3 plugin: saves the GET on Keystone's version document.
                region = openstack.config.get_cloud_region(cloud=cloud, app_name="cinderops.snapshots",
                                                           app_version=COLLECTION_VERSION, auth_type="v3password",
                                                           **options)
            conn = openstack.connection.Connection(config=region)
        except openstack.exceptions.ConfigException as exc:
            raise CinderopsError("could not load the cloud configuration: %s (clouds.yaml is searched in "
                                 "./clouds.yaml, ~/.config/openstack/ and /etc/openstack/, or OS_CLIENT_CONFIG_FILE)"
                                 % exc)
        except Exception as exc:  # keystoneauth: missing or inconsistent auth options
            raise explain_connection_error("could not load the cloud configuration", exc)
        cache = TokenCache(conn.session.auth) if self.params["auth_cache"] else None
        try:
            return SdkTransport(conn, token_cache=cache, config_files=_sdk_config_files(openstack))
        except Exception as exc:  # the SDK checks a configured microversion against the cloud here
            raise explain_connection_error("could not connect to Cinder", exc)

    def run(self):
        raise NotImplementedError

    def exit(self, **result):
        self.ansible.exit_json(**result)

    def __call__(self):
        failure = None
        try:
            self.run()
        except InputError as exc:
            failure = dict(msg=str(exc))
        except WaitError as exc:
            failure = dict(msg=str(exc), status=exc.status, waited=round(exc.waited, 1))
        except CinderopsError as exc:
            failure = dict(exc.extra, msg=str(exc))
        except Exception as exc:  # the boundary: never a traceback in the task output
            failure = dict(msg="unexpected error: %s: %s" % (type(exc).__name__, exc),
                           details=traceback.format_exc().splitlines()[-3:])
        # Outside the except blocks, so that Ansible does not attach the traceback of
        # an expected error to the result.
        if failure is not None:
            self.ansible.fail_json(**failure)
