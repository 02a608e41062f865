# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The snapshot API layer's own decisions, over an in-memory stand-in for CinderClient.

Exact names after Cinder's case-insensitive filter, look-before-resend on lost writes, a delete
that another run got to first, and the convergence of concurrent creates. The integration tests
prove the same against the real cloud with faults injected in front of it.
"""
from __future__ import annotations

import itertools
import json

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import (
    ApiError, CinderopsError, ConnectionLost)
from ansible_collections.cinderops.snapshots.plugins.module_utils._client import ServerClock
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots

VOL = "5aa119a8-d25b-45a7-8d1b-88e127885635"


class Resp(object):
    def __init__(self, status_code, body=None):
        self.status_code = status_code
        self.headers = {}
        self.text = json.dumps(body) if body is not None else ""

    def json(self):
        return json.loads(self.text)


class FakeClient(object):
    """Snapshots in memory; ``faults`` maps (method, path suffix) to exceptions raised before or after acting."""

    microversion = "3.66"

    def __init__(self, snapshots=(), volumes=(), server_time="Wed, 02 Dec 2026 10:00:00 GMT"):
        self.now = [0.0]
        self.server_clock = ServerClock(lambda: self.now[0])
        self.server_clock.observe(server_time, arrived=0.0)
        self.store = dict((s["id"], dict(s)) for s in snapshots)
        self.volumes = list(volumes)
        self.sent = []
        self.faults = {}
        self.ids = ("new-%d" % n for n in itertools.count(1))
        self.clock = itertools.count(10)

    def supports(self, version):
        return True

    def _fault(self, method, path, when):
        for (m, suffix, at), errors in self.faults.items():
            if m == method and path.endswith(suffix) and at == when and errors:
                raise errors.pop(0)

    def request(self, method, path, action, expect=(200,), json=None, params=None, repeatable=None):
        self.sent.append((method, path))
        self._fault(method, path, "before")
        if method == "POST" and path == "/snapshots":
            snap = dict(json["snapshot"], id=next(self.ids), status="creating",
                        created_at="2026-12-02T10:00:%02d.000000" % next(self.clock))
            snap.setdefault("metadata", {})
            self.store[snap["id"]] = snap
            resp = Resp(202, {"snapshot": snap})
        elif method == "DELETE":
            snap = self.store.get(path.split("/")[-1])
            if snap is None:
                resp = Resp(404, {"itemNotFound": {"message": "not found"}})
            elif snap["status"] not in ("available", "error"):
                resp = Resp(400, {"badRequest": {"message": "Invalid snapshot: Snapshot status must be available or "
                                                            "error and must not be part of a group."}})
            else:
                snap["status"] = "deleting"
                resp = Resp(202)
        else:
            raise AssertionError("unexpected request %s %s" % (method, path))
        self._fault(method, path, "after")
        if resp.status_code not in expect:
            raise ApiError("%s: Cinder answered %d" % (action, resp.status_code), status_code=resp.status_code,
                           cinder_message=resp.json()[list(resp.json())[0]]["message"])
        return resp

    def get_json(self, path, action, params=None, missing_ok=False):
        self.sent.append(("GET", path))
        snap = self.store.get(path.split("/")[-1])
        if snap and snap["status"] == "deleting" and snap["id"].startswith(("b", "new-")):
            del self.store[snap["id"]]  # the backend finishes a delete by the next look
            return None
        return {"snapshot": dict(snap)} if snap else None

    def pages(self, path, key, action, params=None, limit=None, marker=None, page_size=None):
        self.sent.append(("GET", path, dict(params or {})))
        if key == "volumes":
            name = (params or {}).get("name")
            return iter([v for v in self.volumes if name is None or v["name"].lower() == name.lower()])
        items = list(self.store.values())
        for field in ("volume_id", "name"):
            if field in (params or {}):
                # Like MySQL: the name filter ignores case.
                items = [s for s in items if (s.get(field) or "").lower() == params[field].lower()]
        return iter([dict(s) for s in items])

    def list_all(self, path, key, action, params=None, limit=None, marker=None):
        return list(self.pages(path, key, action, params=params))


def snap(sid, name, status="available", created=1, **metadata):
    return {"id": sid, "name": name, "volume_id": VOL, "status": status, "metadata": metadata,
            "created_at": "2026-12-02T09:00:%02d.000000" % created}


def posts(client):
    return [s for s in client.sent if s[:2] == ("POST", "/snapshots")]


# ---------------------------------------------------------------------------------------------------- names

def test_names_are_compared_exactly_after_the_server_filter():
    """Issue 10, defect 7: MySQL's collation makes name=ho-snap match ho-SNAP too."""
    client = FakeClient([snap("a", "ho-SNAP"), snap("b", "ho-snap")])
    assert Snapshots(client).find_on_volume(VOL, "ho-snap")["id"] == "b"
    assert Snapshots(client).find_on_volume(VOL, "HO-snap") is None


def test_volume_names_are_compared_exactly_too():
    client = FakeClient(volumes=[{"id": "v1", "name": "DB-data"}, {"id": "v2", "name": "db-data"}])
    assert Snapshots(client).find_volume("db-data")["id"] == "v2"
    with pytest.raises(CinderopsError, match="volume 'Db-Data' was not found"):
        Snapshots(client).find_volume("Db-Data")


# ---------------------------------------------------------------------------------------------------- creates

def test_a_create_whose_answer_was_lost_is_found_and_not_sent_again():
    client = FakeClient()
    client.faults[("POST", "/snapshots", "after")] = [ConnectionLost("create: reset", sent=True)]
    made = Snapshots(client, sleep=lambda s: None).create(VOL, name="nightly", metadata={"cinderops:policy": "p"})
    assert made["id"] == "new-1" and len(posts(client)) == 1 and len(client.store) == 1


def test_a_create_that_failed_before_acting_is_sent_again_after_looking():
    client = FakeClient()
    client.faults[("POST", "/snapshots", "before")] = [ApiError("Cinder answered 502", status_code=502)]
    made = Snapshots(client, sleep=lambda s: None).create(VOL, name="nightly")
    assert made["id"] == "new-1" and len(posts(client)) == 2 and len(client.store) == 1


def test_the_look_never_takes_a_snapshot_that_existed_before():
    client = FakeClient([snap("old", "nightly")])
    client.faults[("POST", "/snapshots", "before")] = [ConnectionLost("create: reset", sent=True)]
    made = Snapshots(client, sleep=lambda s: None).create(VOL, name="nightly", known={"old"})
    assert made["id"] == "new-1" and len(posts(client)) == 2


def test_the_look_needs_the_exact_name_and_metadata():
    client = FakeClient([snap("other", "NIGHTLY", **{"cinderops:policy": "p"}),
                         snap("unowned", "nightly")])
    client.faults[("POST", "/snapshots", "before")] = [ConnectionLost("create: reset", sent=True)]
    made = Snapshots(client, sleep=lambda s: None).create(VOL, name="nightly", metadata={"cinderops:policy": "p"})
    assert made["id"] == "new-1"


def test_an_in_use_volume_without_force_gets_advice():
    client = FakeClient()
    message = "Volume status must be available, but current status is: in-use."
    client.faults[("POST", "/snapshots", "before")] = [
        ApiError("x: Cinder answered 400", status_code=400, cinder_message=message)]
    with pytest.raises(CinderopsError, match="set force: true"):
        Snapshots(client, sleep=lambda s: None).create(VOL, name="n")


# ---------------------------------------------------------------------------------------------------- deletes

def test_a_delete_that_another_run_got_to_first_is_not_an_error():
    """Issue 10, defect 4: both runs delete the same old snapshot; the second gets 400 (status deleting)."""
    client = FakeClient([snap("s1", "old", status="deleting")])
    assert Snapshots(client).delete("s1") == "deleting"


def test_a_delete_of_a_snapshot_that_is_gone_says_so():
    assert Snapshots(FakeClient()).delete("s1") == "gone"


def test_a_delete_whose_answer_was_lost_is_looked_for_not_sent_again():
    client = FakeClient([snap("s1", "old")])
    client.faults[("DELETE", "/snapshots/s1", "after")] = [ConnectionLost("delete: reset", sent=True)]
    assert Snapshots(client, sleep=lambda s: None).delete("s1") == "accepted"
    assert [s for s in client.sent if s[0] == "DELETE"] == [("DELETE", "/snapshots/s1")]


def test_a_delete_refused_for_another_reason_still_fails():
    client = FakeClient([snap("s1", "old", status="creating")])
    with pytest.raises(ApiError, match="400"):
        Snapshots(client).delete("s1")


# ---------------------------------------------------------------------------------------------------- concurrent creates

def test_a_younger_duplicate_yields_to_the_older_and_deletes_itself():
    older, own = snap("a", "n", created=1), snap("b", "n", created=2)
    client = FakeClient([older, own])
    kept, yielded = Snapshots(client, sleep=lambda s: None).settle_rivals(own, lambda: [dict(older)], timeout=5)
    assert yielded and kept["id"] == "a"
    assert ("DELETE", "/snapshots/b") in client.sent


def test_the_older_one_is_kept_and_nothing_is_deleted():
    own, younger = snap("a", "n", created=1), snap("b", "n", created=2)
    client = FakeClient([own, younger])
    kept, yielded = Snapshots(client, sleep=lambda s: None).settle_rivals(own, lambda: [dict(younger)], timeout=5)
    assert not yielded and kept["id"] == "a" and not [s for s in client.sent if s[0] == "DELETE"]


def test_an_older_rival_is_waited_for_and_never_won_by_failing():
    own = snap("b", "n", created=2)
    answers = [[snap("a", "n", "creating", created=1)], [snap("a", "n", "error", created=1)]]
    client = FakeClient([own])
    kept, yielded = Snapshots(client, sleep=lambda s: None).settle_rivals(own, lambda: answers.pop(0), timeout=5)
    assert not yielded and kept["id"] == "b" and answers == []


def test_rivals_are_looked_at_only_after_cinder_passed_the_next_second():
    """The race the full-size chaos bench found: B, made later in the same second as A, has the lower id.

    A looked before B existed and kept its own; B saw A as "younger" by id and kept its own too. A look is
    now only taken once Cinder's clock has passed the second after the snapshot's, when both exist.
    """
    own = snap("b", "n", created=5)  # 09:00:05
    client = FakeClient([own], server_time="Wed, 02 Dec 2026 09:00:05 GMT")
    looked_at = []

    def sleep(seconds):
        client.now[0] += seconds

    def rivals():
        looked_at.append(client.server_clock.now())
        return [snap("a", "n", created=5)]
    kept, yielded = Snapshots(client, sleep=sleep).settle_rivals(own, rivals, timeout=5)
    second_after = 1796202006  # 2026-12-02T09:00:06Z
    assert looked_at and looked_at[0] >= second_after
    assert yielded and kept["id"] == "a"


def test_the_server_clock_is_a_lower_bound_that_learns_from_every_answer():
    now = [0.0]
    clock = ServerClock(lambda: now[0])
    assert clock.now() is None and clock.local_time_of(100) is None
    clock.observe("Wed, 02 Dec 2026 09:00:05 GMT")
    now[0] = 0.4
    assert clock.now() == pytest.approx(1796202005.4)
    clock.observe("Wed, 02 Dec 2026 09:00:06 GMT")  # the second ticked over: the bound jumps ahead
    assert clock.now() == pytest.approx(1796202006.0)
    clock.observe("Wed, 02 Dec 2026 09:00:05 GMT")  # an older answer never moves it back
    assert clock.now() == pytest.approx(1796202006.0)
    assert clock.local_time_of(1796202007) == pytest.approx(1.4)
    clock.observe("not a date")
    assert clock.now() == pytest.approx(1796202006.0)
