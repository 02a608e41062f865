# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""How CinderClient applies the retry policy and leaves a resumed session (fake transports, no network)."""
from __future__ import annotations

import pytest

from session_records import record

from ansible_collections.cinderops.snapshots.plugins.module_utils import _client, _errors


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
        raise _errors.StaleSession("discovery")

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
    return _client.CinderClient(resumed, reconnect=full_connect, keeper=keeper, sleep=lambda s: None), made


def test_resumed_session_serves_without_connecting_in_full():
    resumed = FakeResumed(Resp(200, '{"snapshot": {"id": "s"}}'))
    client, made = client_with(resumed, FakeFull())
    assert client.get_json("/snapshots/s", "read") == {"snapshot": {"id": "s"}}
    assert made == [] and resumed.sent == [("GET", "/snapshots/s", "3.66")]


def test_refused_token_connects_in_full_forgets_record_and_resends():
    keeper = FakeKeeper()
    full = FakeFull(Resp(200, '{"ok": 1}'))
    client, made = client_with(FakeResumed(_errors.StaleSession("401")), full, keeper)
    assert client.get_json("/snapshots/s", "read") == {"ok": 1}
    assert made == [full] and keeper.forgotten == 1
    assert full.sent == [("GET", "/snapshots/s", "3.66")]
    assert keeper.remembered == [("FakeFull", "3.66", False)]


def test_write_whose_answer_was_lost_is_not_resent_by_the_client():
    """Issue 10, defect 1: the resumed path raises the typed error, so the caller's look-before-resend runs."""
    full = FakeFull()
    resumed = FakeResumed(_errors.ConnectionLost("could not reach the cloud: connection reset", sent=True))
    client, made = client_with(resumed, full)
    with pytest.raises(_errors.ConnectionLost, match="^create: could not reach the cloud: connection reset$") as err:
        client.request("POST", "/snapshots", "create", expect=(202,), json={})
    assert err.value.sent and made == [] and full.sent == [] and len(resumed.sent) == 1


def test_write_that_was_never_sent_is_sent_again():
    resumed = FakeResumed(_errors.ConnectionLost("could not reach the cloud: refused", sent=False),
                          Resp(202, '{"snapshot": {"id": "s"}}'))
    client, _made = client_with(resumed, FakeFull())
    assert client.request("POST", "/snapshots", "create", expect=(202,), json={}).status_code == 202
    assert [m for m, _p, _v in resumed.sent] == ["POST", "POST"]


def test_reads_are_retried_on_lost_connections_and_5xx_on_the_same_session():
    resumed = FakeResumed(_errors.ConnectionLost("reset", sent=True), Resp(503, '{"x": {"message": "busy"}}'),
                          Resp(200, '{"ok": 1}'))
    client, made = client_with(resumed, FakeFull())
    assert client.get_json("/snapshots/s", "read") == {"ok": 1}
    assert len(resumed.sent) == 3 and made == []


def test_falling_back_to_the_full_connection_is_retried():
    """Issue 10, defect 3: one failed discovery request during the fall-back must not fail the run."""
    full = FakeFull(Resp(200, '{"ok": 1}'))
    attempts = []

    def reconnect():
        attempts.append(1)
        if len(attempts) == 1:
            raise _errors.ConnectionLost("could not connect to Cinder: version discovery failed", sent=False)
        return full
    client = _client.CinderClient(FakeResumed(_errors.StaleSession("401")), reconnect=reconnect,
                                  sleep=lambda s: None)
    assert client.get_json("/snapshots/s", "read") == {"ok": 1}
    assert len(attempts) == 2 and client.transport is full


def test_connecting_in_full_is_retried(monkeypatch):
    """Issue 10, defect 3: "Failed to create a working proxy ... No endpoint data found" at start is retried."""
    full = FakeFull()
    attempts = []

    def connect(cloud, options, token_cache_factory):
        attempts.append(cloud)
        if len(attempts) < 3:
            raise _errors.ConnectionLost("could not connect to Cinder: version discovery failed", sent=False)
        return full
    monkeypatch.setattr(_client.SdkTransport, "connect", staticmethod(connect))
    client = _client.connect("c", {}, auth_cache=False, sleep=lambda s: None)
    assert client.transport is full and attempts == ["c", "c", "c"]


def test_connecting_in_full_gives_up_with_the_reason(monkeypatch):
    def connect(cloud, options, token_cache_factory):
        raise _errors.ConnectionLost("could not connect to Cinder: version discovery failed", sent=False)
    monkeypatch.setattr(_client.SdkTransport, "connect", staticmethod(connect))
    with pytest.raises(_errors.ConnectionLost, match=r"version discovery failed \(gave up after 4 attempts\)"):
        _client.connect("c", {}, auth_cache=False, sleep=lambda s: None)


def test_pages_follow_markers_and_hold_one_page_at_a_time():
    pages = [Resp(200, '{"snapshots": [{"id": "a"}, {"id": "b"}], "snapshots_links": [{"rel": "next"}]}'),
             Resp(200, '{"snapshots": [{"id": "c"}]}')]
    resumed = FakeResumed(*pages)
    client, _made = client_with(resumed, FakeFull())
    seen = []
    for item in client.pages("/snapshots/detail", "snapshots", "list", page_size=2):
        seen.append((item["id"], len(resumed.sent)))
    # The second page is asked for only when the first one has been consumed.
    assert seen == [("a", 1), ("b", 1), ("c", 2)]


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


def test_a_marker_deleted_between_pages_steps_back_and_gives_nothing_twice():
    """Found by the chaos suite: a prune deleted the last item of a page before the next page was asked for."""
    pages = [Resp(200, '{"snapshots": [{"id": "a"}, {"id": "b"}, {"id": "c"}], "snapshots_links": [{"rel": "next"}]}'),
             Resp(404, '{"itemNotFound": {"message": "Snapshot c could not be found."}}'),
             Resp(200, '{"snapshots": [{"id": "d"}]}')]
    resumed = FakeResumed(*pages)
    client, _made = client_with(resumed, FakeFull())
    sent = []
    original = resumed.send

    def send(*args):
        sent.append(args[4])
        return original(*args)
    resumed.send = send
    assert [i["id"] for i in client.pages("/snapshots/detail", "snapshots", "list", page_size=3)] == \
        ["a", "b", "c", "d"]
    assert [p.get("marker") for p in sent] == [None, "c", "b"]


def test_a_marker_the_user_gave_that_is_gone_is_an_error():
    resumed = FakeResumed(Resp(404, '{"itemNotFound": {"message": "Snapshot m could not be found."}}'))
    client, _made = client_with(resumed, FakeFull())
    with pytest.raises(_errors.ApiError, match="404"):
        list(client.pages("/snapshots/detail", "snapshots", "list", marker="m"))


def _three_pages():
    return [Resp(200, '{"snapshots": [{"id": "a"}, {"id": "b"}], "snapshots_links": [{"rel": "next"}]}'),
            Resp(200, '{"snapshots": [{"id": "c"}, {"id": "d"}], "snapshots_links": [{"rel": "next"}]}'),
            Resp(200, '{"snapshots": [{"id": "e"}]}')]


def test_prefetch_asks_for_the_next_page_while_this_one_is_handed_out():
    """Issue 12: snapshot_info's work on a page overlaps Cinder's on the next (50,000 snapshots: 51 pages)."""
    import time
    resumed = FakeResumed(*_three_pages())
    client, _made = client_with(resumed, FakeFull())
    seen = []
    for item in client.pages("/snapshots/detail", "snapshots", "list", page_size=2, prefetch=True):
        deadline = time.monotonic() + 2
        while item["id"] in ("a", "c") and len(resumed.sent) < {"a": 2, "c": 3}[item["id"]]:
            assert time.monotonic() < deadline, "the next page was not asked for while this one was handed out"
            time.sleep(0.001)
        seen.append(item["id"])
    assert seen == ["a", "b", "c", "d", "e"] and len(resumed.sent) == 3  # the last page asks for nothing more


def test_prefetch_keeps_the_limit_and_the_deleted_marker_step_back():
    resumed = FakeResumed(*_three_pages())
    client, _made = client_with(resumed, FakeFull())
    got = [i["id"] for i in client.pages("/snapshots/detail", "snapshots", "list", page_size=2, limit=4,
                                         prefetch=True)]
    assert got == ["a", "b", "c", "d"] and len(resumed.sent) == 2  # no page beyond the limit
    pages = [Resp(200, '{"snapshots": [{"id": "a"}, {"id": "b"}, {"id": "c"}], "snapshots_links": [{"rel": "next"}]}'),
             Resp(404, '{"itemNotFound": {"message": "Snapshot c could not be found."}}'),
             Resp(200, '{"snapshots": [{"id": "d"}]}')]
    client, _made = client_with(FakeResumed(*pages), FakeFull())
    got = [i["id"] for i in client.pages("/snapshots/detail", "snapshots", "list", page_size=3, prefetch=True)]
    assert got == ["a", "b", "c", "d"]
