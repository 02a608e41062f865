# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``CinderClient``: Cinder's v3 REST API over a transport, and ``connect``, the one factory that builds it.

The client sends every request with an explicit microversion (3.66 unless the cloud or
clouds.yaml says less; a 406 negotiates down once), applies the collection's retry policy
(``_retry``), follows pages, leaves a resumed session for a full connection when the session
goes stale, and turns error answers into one-line ``ApiError``s with Cinder's request id.

Threads may share one client: its only mutable state is the transport (replaced once, under
a lock, when a resumed session falls back), the negotiated microversion (settled by the first
requests, which run before any worker starts) and counters.
"""
from __future__ import annotations

import functools
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from email.utils import parsedate_to_datetime

from ansible_collections.cinderops.snapshots.plugins.module_utils import _retry
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import (
    CinderopsError, ConnectionLost, StaleSession, explain_http_error)
from ansible_collections.cinderops.snapshots.plugins.module_utils._session_cache import (
    SessionKeeper, SessionStore, TokenCache, cache_dir, fingerprint)
from ansible_collections.cinderops.snapshots.plugins.module_utils._transport import ResumedTransport, SdkTransport

# Highest microversion the modules ask for. 3.66 lets an in-use volume be
# snapshotted without force; nothing above it changes snapshots.
PREFERRED_MICROVERSION = "3.66"
# Pages as large as Cinder serves by default (osapi_max_limit).
PAGE_SIZE = 1000


class ServerClock(object):
    """A lower bound of Cinder's clock, learnt from the Date headers of its answers.

    A Date header is Cinder's time in whole seconds, floored, when it answered; the answer came
    back later. So at any later moment Cinder's clock reads at least that Date plus the time
    since the answer arrived. The best such bound over all answers is kept. Concurrent runs use
    it to know when a second has surely passed on Cinder's side (``_converge``).
    """

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._offset = None  # max over answers of (Date in epoch seconds - local time it arrived)

    def observe(self, date_header, arrived=None):
        try:
            server = parsedate_to_datetime(date_header).timestamp() if date_header else None
        except (TypeError, ValueError):
            server = None
        if server is None:
            return
        offset = server - (self.clock() if arrived is None else arrived)
        if self._offset is None or offset > self._offset:
            self._offset = offset

    def now(self):
        """Cinder's time (epoch seconds) is at least this; None before any answer had a Date."""
        return None if self._offset is None else self._offset + self.clock()

    def local_time_of(self, server_seconds):
        """The local clock time by which Cinder's clock has surely reached ``server_seconds``."""
        return None if self._offset is None else server_seconds - self._offset


def version_tuple(text):
    major, minor = str(text).split(".")
    return int(major), int(minor)


class CinderClient(object):
    """Cinder's v3 REST API through one transport; ``reconnect()`` makes the full connection a resumed one falls back to."""

    def __init__(self, transport, reconnect=None, keeper=None, sleep=time.sleep, clock=time.monotonic):
        self.transport = transport
        self._reconnect = reconnect
        self.keeper = keeper
        self._sleep = sleep
        self._lock = threading.Lock()
        self.requests = 0  # informational; may undercount under threads
        self.server_clock = ServerClock(clock)
        self.microversion = transport.default_microversion or PREFERRED_MICROVERSION
        self._negotiated = transport.negotiated

    # ------------------------------------------------------------ connection state
    def _connect_in_full(self, stale):
        """Leave a resumed session for a full SDK connection (same inputs, so same microversion)."""
        with self._lock:
            if self.transport is not stale:
                return  # another thread already did
            if self._reconnect is None:
                raise CinderopsError("the resumed session failed and there is no full connection to fall back to")
            if self.keeper:
                self.keeper.forget()
            self.transport = _retry.call(self._reconnect, sleep=self._sleep)
            self._reconnect = None

    def is_admin(self):
        """Whether the token carries the admin role (Cinder's admin_api rule); costs no extra request."""
        return "admin" in self.transport.roles()

    def project(self):
        """(id, name) of the project the credentials are scoped to; costs no extra request."""
        return self._on_working_transport(lambda transport: transport.project())

    def _on_working_transport(self, call):
        """``call(transport)``, on the full connection when the resumed session cannot serve it (nothing was sent)."""
        while True:
            transport = self.transport
            try:
                return call(transport)
            except StaleSession:
                self._connect_in_full(transport)

    def supports(self, version):
        return version_tuple(self.microversion) >= version_tuple(version)

    def _negotiate(self):
        """After a 406: take the highest version both sides speak."""
        server = self._on_working_transport(
            lambda transport: _retry.call(transport.max_microversion, sleep=self._sleep))
        self._negotiated = True
        if server is None:
            self.microversion = "3.0"
        elif version_tuple(server) < version_tuple(self.microversion):
            self.microversion = server

    # ------------------------------------------------------------ requests
    def _send(self, method, path, action, expect, json_body, params):
        """One answer from Cinder, whatever transport and microversion it takes; no retries here."""
        while True:
            transport = self.transport
            tried = self.microversion
            self.requests += 1
            try:
                resp = transport.send(method, path, expect, json_body, params, tried)
            except StaleSession:
                self._connect_in_full(transport)  # nothing was sent: send again on the full connection
                continue
            except ConnectionLost as exc:
                raise ConnectionLost("%s: %s" % (action, exc), sent=exc.sent) from exc
            except CinderopsError as exc:
                raise CinderopsError("%s: %s" % (action, exc)) from exc
            self.server_clock.observe(resp.headers.get("Date"))
            if self.keeper and resp.status_code != 401:
                self.keeper.remember(transport, self.microversion, self._negotiated)
            if resp.status_code == 406 and not self._negotiated:
                self._negotiate()
                if self.microversion != tried:
                    continue
            return resp

    def request(self, method, path, action, expect=(200,), json=None, params=None, repeatable=None):
        """One API call; returns the response for a status in ``expect``, else raises ApiError.

        ``repeatable`` (default: GET, HEAD and PUT) says whether sending it twice is harmless.
        Failures are retried by the collection's policy; a write that may have acted is not
        sent again here: the caller looks for its effect first (see ``_retry.call``).
        """
        if repeatable is None:
            repeatable = method in ("GET", "HEAD", "PUT")

        def send_once():
            resp = self._send(method, path, action, expect, json, params)
            if resp.status_code not in expect:
                raise explain_http_error(action, resp, self.microversion)
            return resp
        return _retry.call(send_once, repeatable=repeatable, sleep=self._sleep)

    def get_json(self, path, action, params=None, missing_ok=False):
        """GET a resource; None for 404 when ``missing_ok``."""
        resp = self.request("GET", path, action, expect=(200, 404) if missing_ok else (200,), params=params)
        if resp.status_code == 404:
            return None
        return resp.json()

    def pages(self, path, key, action, params=None, limit=None, marker=None, page_size=PAGE_SIZE, prefetch=False):
        """Every item of a paginated collection, one page in memory at a time.

        The next page is asked for with ``marker=<last id>`` and the original query, not by the
        link's own URL: behind a proxy Cinder may hand back an internal host. ``limit`` caps the
        total. A marker that was deleted meanwhile (Cinder answers 404) is replaced by the item
        before it, and what the page had already given is not given twice.

        With ``prefetch``, the next page is asked for (in a second thread) while this one's items are
        handed out, so the caller's work on a page overlaps Cinder's work on the next: for a caller
        that reads everything. One that stops early has paid for one page it did not read.
        """
        params = dict(params or {})
        count = 0
        given = set()  # ids of the last page: a step back to an earlier marker repeats some of them
        backups = []

        def fetch(marker, taken):
            page_params = dict(params)
            page_params["limit"] = page_size if limit is None else min(page_size, limit - taken)
            if marker:
                page_params["marker"] = marker
            return self.request("GET", path, action, expect=(200, 404) if marker else (200,), params=page_params)

        pool = ThreadPoolExecutor(max_workers=1) if prefetch else None
        ahead = None
        try:
            while True:
                resp = ahead.result() if ahead is not None else fetch(marker, count)
                ahead = None
                if resp.status_code == 404:
                    if not backups:
                        raise explain_http_error(action, resp, self.microversion)
                    marker = backups.pop()
                    continue
                body = resp.json()
                page = body.get(key) or []
                has_next = any(link.get("rel") == "next" for link in body.get(key + "_links") or [])
                del body, resp
                new = [item for item in page if item.get("id") not in given]
                last = not page or not has_next or (limit is not None and count + len(new) >= limit)
                if not last:
                    given = set(item["id"] for item in page)
                    backups = [item["id"] for item in page[:-1]]
                    marker = page[-1]["id"]
                    if pool is not None:
                        ahead = pool.submit(fetch, marker, count + len(new))
                del page
                for item in new:
                    count += 1
                    yield item
                if last:
                    return
        finally:
            if pool is not None:
                pool.shutdown(wait=False)

    def list_all(self, path, key, action, params=None, limit=None, marker=None):
        return list(self.pages(path, key, action, params=params, limit=limit, marker=marker))


def _session_keeper(cloud, options):
    try:
        os.getcwd()
    except OSError:
        return None  # no working directory: ./clouds.yaml cannot be checked
    key = fingerprint(dict(options, cloud=cloud), os.environ, os.getuid())
    return SessionKeeper(SessionStore(cache_dir("sessions")), key)


def connect(cloud, options, auth_cache=True, sleep=time.sleep, resume=True):
    """The client for these connection inputs.

    With ``auth_cache``, a run whose inputs match a recorded session resumes it without loading
    openstacksdk; the first request the record cannot serve connects in full. Connecting in full
    (login, catalog, version discovery) is retried like a read.
    """
    full = functools.partial(SdkTransport.connect, cloud, options, TokenCache if auth_cache else None)
    keeper = _session_keeper(cloud, options) if auth_cache else None
    record = keeper.load() if keeper and resume else None
    if record is not None:
        return CinderClient(ResumedTransport(record), reconnect=full, keeper=keeper, sleep=sleep)
    return CinderClient(_retry.call(full, sleep=sleep), keeper=keeper, sleep=sleep)
