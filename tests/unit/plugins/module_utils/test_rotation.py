# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of rotation.py, and its plan/apply logic against a stand-in for ``Snapshots``.

The stand-in is only for these unit tests of the run's logic (ordering, retries, look
before POST, failure isolation); the integration tests drive the real cloud.
"""
from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone
from unittest.mock import ANY

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import rotation as rot
from ansible_collections.cinderops.snapshots.plugins.module_utils.cloud import ApiError, CinderopsError
from ansible_collections.cinderops.snapshots.plugins.module_utils.retention import OWNER_KEY, HOLD_KEY, normalize_policy
from ansible_collections.cinderops.snapshots.plugins.module_utils.validation import InputError

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)
POLICY = "nightly"


# ---------------------------------------------------------------------------------------------------- name_format

@pytest.mark.parametrize("fmt, expected", [
    (rot.DEFAULT_NAME_FORMAT, "nightly-20261126T020000Z"),
    ("{volume}-%Y-%m-%d", "db data-2026-11-26"),
    ("{volume_id}/{policy}", "vid-1/nightly"),
    ("  {policy} %H:%M  ", "nightly 02:00"),
    ("constant", "constant"),
    ("%G-W%V {policy}", "2026-W48 nightly"),
])
def test_render_name(fmt, expected):
    assert rot.render_name(fmt, NOW, "db data", "vid-1", POLICY) == expected


def test_render_name_takes_percent_and_braces_in_values_literally():
    assert rot.render_name("{volume}-%Y", NOW, "100%d-{x}", "vid", POLICY) == "100%d-{x}-2026"


def test_render_name_uses_the_id_for_unnamed_volumes():
    assert rot.render_name("{volume}", NOW, None, "vid-9", POLICY) == "vid-9"
    assert rot.render_name("{volume}", NOW, "", "vid-9", POLICY) == "vid-9"


def test_unknown_placeholder_is_a_clear_error():
    with pytest.raises(InputError, match=r"unknown placeholder \{vol\}; use \{volume\}"):
        rot.render_name("{vol}-%Y", NOW, "v", "id", POLICY)


@pytest.mark.parametrize("fmt", ["", "   ", None, 5])
def test_empty_name_format_is_refused(fmt):
    with pytest.raises(InputError, match="name_format"):
        rot.check_name_format(fmt, POLICY)


def test_check_name_format_accepts_default():
    assert rot.check_name_format(rot.DEFAULT_NAME_FORMAT, POLICY) == rot.DEFAULT_NAME_FORMAT


# ---------------------------------------------------------------------------------------------------- inputs

def test_build_policy_sets_the_name_and_cleanup_errors():
    policy = rot.build_policy({"keep_daily": 7}, " nightly ", cleanup_errors=True)
    assert policy.name == "nightly" and policy.cleanup_errors and policy.counts["keep_daily"] == 7
    assert rot.build_policy({"keep_daily": 7, "cleanup_errors": True}, "n").cleanup_errors


@pytest.mark.parametrize("policy, name, match", [
    ({}, "n", "policy: policy has no keep_"),
    ({"keep_dayly": 1}, "n", "policy: policy has unknown keys: keep_dayly"),
    ({"keep_within": "7x"}, "n", "policy: keep_within: invalid duration"),
    ({"keep_last": 1, "timezone": "Mars/Base"}, "n", "unknown time zone"),
    ({"keep_last": 1, "name": "other"}, "n", "differs from policy_name"),
    ({"keep_last": 1}, "", "policy_name must be a non-empty string"),
    ({"keep_last": 1}, "x" * 256, "256 characters"),
    ("keep_last=1", "n", "policy must be a dict"),
])
def test_bad_policy_is_one_line_input_error(policy, name, match):
    with pytest.raises(InputError, match=match) as info:
        rot.build_policy(policy, name)
    assert "\n" not in str(info.value)


def test_new_snapshot_metadata_adds_the_owner_and_stringifies():
    assert rot.new_snapshot_metadata({"copies": 2, "on": True}, POLICY) == {
        "copies": "2", "on": "true", OWNER_KEY: POLICY}
    assert rot.new_snapshot_metadata(None, POLICY) == {OWNER_KEY: POLICY}
    assert rot.new_snapshot_metadata({OWNER_KEY: POLICY}, POLICY) == {OWNER_KEY: POLICY}


def test_new_snapshot_metadata_refuses_another_owner_and_bad_keys():
    with pytest.raises(InputError, match="leave the key out"):
        rot.new_snapshot_metadata({OWNER_KEY: "weekly"}, POLICY)
    with pytest.raises(InputError, match="not accepted by Cinder"):
        rot.new_snapshot_metadata({"a/b": "x"}, POLICY)


@pytest.mark.parametrize("value", [0, -1, 33, None])
def test_workers_are_bounded(value):
    with pytest.raises(InputError, match="between 1 and 32"):
        rot.check_workers(value)


def test_selection_metadata():
    assert rot.selection_metadata({"backup": True, "tier": 1}) == {"backup": "true", "tier": "1"}
    with pytest.raises(InputError, match="at least one key"):
        rot.selection_metadata({})


# ---------------------------------------------------------------------------------------------------- selection

def vol(vid, name=None, status="available", snapshot_id=None, **metadata):
    return {"id": vid, "name": name, "status": status, "snapshot_id": snapshot_id, "metadata": metadata}


UUID1 = "11111111-1111-4111-8111-111111111111"
UUID2 = "22222222-2222-4222-8222-222222222222"
LISTING = [vol("v1", "db", backup="nightly"), vol("v2", "web", backup="weekly"), vol("v3", "twin"),
           vol("v4", "twin", backup="nightly"), vol("v5", None, backup="nightly", status="deleting"),
           vol("v6", "child", snapshot_id="s1"), vol("v7", "child2", snapshot_id="s1")]


def test_select_by_names_and_ids_dedupes_and_reports_problems():
    selected, unresolved, problems = rot.select_volumes(LISTING, refs=["db", "v2", "v1", "twin", "nope", UUID1, " "])
    assert [v["id"] for v in selected] == ["v1", "v2"]
    assert unresolved == [UUID1]
    assert [p[0] for p in problems] == ["twin", "nope", ""]
    assert "matches 2 volumes (v3, v4)" in problems[0][1]
    assert "was not found" in problems[1][1]


def test_select_by_metadata_skips_volumes_being_deleted():
    selected, unresolved, problems = rot.select_volumes(LISTING, metadata={"backup": "nightly"})
    assert [v["id"] for v in selected] == ["v1", "v4"] and not unresolved and not problems


def test_select_everything_in_a_stable_order():
    selected = rot.select_volumes(LISTING, everything=True)[0]
    assert [v["id"] for v in selected] == ["v6", "v7", "v1", "v3", "v4", "v2"]


def test_dependents_of():
    assert rot.dependents_of(LISTING) == {"s1": ["v6", "v7"]}


# ---------------------------------------------------------------------------------------------------- retries

def transient_error():
    from keystoneauth1 import exceptions as ksa
    try:
        try:
            raise ksa.ConnectFailure("connection reset")
        except ksa.ConnectFailure:
            raise CinderopsError("could not reach the cloud")
    except CinderopsError as exc:
        return exc


@pytest.mark.parametrize("exc, expected", [
    (ApiError("x", status_code=409), True),
    (ApiError("x", status_code=429), True),
    (ApiError("x", status_code=500), True),
    (ApiError("x", status_code=503), True),
    (ApiError("x", status_code=400), False),
    (ApiError("x", status_code=404), False),
    (ApiError("x", status_code=413), False),
    (CinderopsError("authentication failed"), False),
    (transient_error(), True),
])
def test_retryable(exc, expected):
    assert rot.retryable(exc) is expected


class Script(object):
    """A write that fails as scripted, then succeeds; records calls and sleeps."""

    def __init__(self, *failures):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_retry_write_backs_off_and_succeeds():
    sleeps = []
    call = Script(ApiError("busy", status_code=429), ApiError("oops", status_code=500))
    assert rot.retry_write(call, sleep=sleeps.append) == "done"
    assert call.calls == 3 and sleeps == [1.0, 2.0]


def test_retry_write_is_bounded_and_says_so():
    sleeps = []
    call = Script(*[ApiError("Cinder answered 503", status_code=503)] * 10)
    with pytest.raises(CinderopsError, match=r"Cinder answered 503 \(gave up after 4 attempts\)"):
        rot.retry_write(call, sleep=sleeps.append)
    assert call.calls == 4 and sleeps == [1.0, 2.0, 4.0]


def test_retry_write_does_not_retry_client_errors():
    call = Script(ApiError("bad", status_code=400))
    with pytest.raises(ApiError):
        rot.retry_write(call, sleep=lambda s: pytest.fail("slept"))
    assert call.calls == 1


def test_retry_write_looks_before_writing_again():
    call = Script(ApiError("gateway timeout", status_code=504))
    looks = []

    def look():
        looks.append(1)
        return "found"

    assert rot.retry_write(call, look=look, sleep=lambda s: None) == "found"
    assert call.calls == 1 and looks == [1]


def test_retry_write_writes_again_when_look_finds_nothing():
    call = Script(transient_error())
    assert rot.retry_write(call, look=lambda: None, sleep=lambda s: None) == "done"
    assert call.calls == 2


def test_describe_is_one_line():
    assert rot.describe(CinderopsError("a\nb")) == "a b"
    assert rot.describe(KeyError("k")) == "unexpected error: KeyError: 'k'"


# ---------------------------------------------------------------------------------------------------- the run

def ts(days_ago, hours=0):
    return (NOW - timedelta(days=days_ago, hours=hours)).strftime("%Y-%m-%dT%H:%M:%S.000000")


def snapshot(sid, volume_id, created, status="available", owner=POLICY, name=None, **metadata):
    meta = dict(metadata)
    if owner:
        meta[OWNER_KEY] = owner
    return {"id": sid, "volume_id": volume_id, "name": name or sid, "status": status, "created_at": created,
            "metadata": meta}


class FakeClient(object):
    def __init__(self, volumes):
        self.volumes = volumes
        self.listings = []

    def list_all(self, path, key, action, params=None, limit=None, marker=None):
        self.listings.append((path, params))
        return list(self.volumes)


class FakeSnapshots(object):
    """Records writes; behaviour per snapshot/volume name is scripted through the dicts below."""

    def __init__(self, volumes, snapshots):
        self.client = FakeClient(volumes)
        self.store = dict((s["id"], dict(s)) for s in snapshots)
        self.lock = threading.Lock()
        self.writes = []
        self.lists = []
        self.ids = ("new-%d" % n for n in itertools.count(1))
        self.create_failures = {}     # volume id -> [exceptions raised by POST]
        self.create_lands = {}        # volume id -> exceptions raised by a failing POST that still made it
        self.create_status = {}       # volume id -> final status after wait ("available" or "error")
        self.delete_outcome = {}      # snapshot id -> "refused" | "error_deleting" | exception
        self.gets = []

    def list(self, filters=None):
        filters = dict(filters or {})
        self.lists.append(filters)
        with self.lock:
            items = list(self.store.values())
        if "volume_id" in filters:
            items = [s for s in items if s["volume_id"] == filters["volume_id"]]
        if "name" in filters:
            items = [s for s in items if s["name"] == filters["name"]]
        if "metadata" in filters:
            assert filters["metadata"] == '{"%s": "%s"}' % (OWNER_KEY, POLICY)
            items = [s for s in items if s["metadata"].get(OWNER_KEY) == POLICY]
        return [dict(s) for s in items]

    def get_volume(self, volume_id):
        if volume_id == UUID2:
            return vol(UUID2, "elsewhere", **{})
        return None

    def get(self, snapshot_id):
        """A look at one snapshot: a pending create or delete settles as scripted when it is first looked at."""
        with self.lock:
            self.gets.append(snapshot_id)
            snap = self.store.get(snapshot_id)
            if snap and snap["status"] == "creating" and snapshot_id.startswith("new-"):
                final = self.create_status.get(snap["volume_id"], "available")
                snap["status"] = "creating" if final == "slow" else final
            elif snap and snap["status"] == "deleting":
                outcome = self.delete_outcome.get(snapshot_id)
                if outcome == "refused":
                    snap["status"] = "available"
                elif outcome == "error_deleting":
                    snap["status"] = "error_deleting"
                else:
                    self.store.pop(snapshot_id)
                    return None
            return dict(snap) if snap else None

    def refusal_reason(self, snap):
        return "volumes created from it: child-x"

    def create(self, volume_id, name=None, description=None, metadata=None, force=False):
        with self.lock:
            self.writes.append(("POST", volume_id, name))
            failures = self.create_failures.get(volume_id)
            exc = failures.pop(0) if failures else None
            if exc is not None and not getattr(exc, "landed", False):
                raise exc
            snap = snapshot(next(self.ids), volume_id, NOW.strftime("%Y-%m-%dT%H:%M:%S.000000"), "creating",
                            name=name)
            snap["metadata"] = dict(metadata or {})
            self.store[snap["id"]] = snap
            if exc is not None:
                raise exc  # Cinder made it, but the answer was an error
            return dict(snap)

    def delete(self, snapshot_id):
        with self.lock:
            self.writes.append(("DELETE", snapshot_id))
            outcome = self.delete_outcome.get(snapshot_id)
            if isinstance(outcome, list):
                if outcome:
                    raise outcome.pop(0)
            elif isinstance(outcome, Exception):
                raise outcome
            self.store[snapshot_id]["status"] = "deleting"
            return True


def keep_last(n, **extra):
    return normalize_policy(dict(extra, keep_last=n, name=POLICY))


def history(volume_id, count, start=1):
    """``count`` owned snapshots one day apart, the newest ``start`` days ago."""
    return [snapshot("%s-s%d" % (volume_id, n), volume_id, ts(start + n)) for n in range(count)]


class FakeClock(object):
    """Polling time that passes only when someone sleeps (shared by the worker threads)."""

    def __init__(self):
        self.now = 0.0
        self.lock = threading.Lock()
        self.pauses = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.pauses.append(seconds)
            self.now += seconds


def rotate(fake, policy, refs=None, **kwargs):
    kwargs.setdefault("sleep", lambda s: None)
    clock = FakeClock()
    kwargs.setdefault("poll_clock", {"clock": clock.clock, "sleep": clock.sleep})
    rotation = rot.Rotation(fake, policy, now=NOW, **kwargs)
    return rotation.run(rotation.load(refs=refs or [v["id"] for v in fake.client.volumes]))


def by_volume(results):
    return dict((r["volume_id"] or r["volume_name"], r) for r in results)


def ids(entries):
    return [e["id"] for e in entries]


def test_happy_path_creates_waits_replans_and_prunes():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 3) + history("b", 3))
    results = by_volume(rotate(fake, keep_last(3)))
    a = results["a"]
    assert a["due"] and a["changed"] and not a["errors"]
    assert a["created"]["name"] == "nightly-20261126T020000Z" and a["created"]["status"] == "available"
    assert a["created"]["reasons"] == ["last"]
    assert ids(a["kept"]) == [a["created"]["id"], "a-s0", "a-s1"]
    assert ids(a["pruned"]) == ["a-s2"] and a["pruned"][0]["reasons"] == ["not kept by any rule"]
    assert ids(results["b"]["pruned"]) == ["b-s2"]
    # One volume listing and one snapshot listing for the whole selection, filtered by owner.
    assert fake.client.listings == [("/volumes/detail", None)]
    assert fake.lists == [{"metadata": '{"%s": "%s"}' % (OWNER_KEY, POLICY)}]
    assert sorted(w[0] for w in fake.writes) == ["DELETE", "DELETE", "POST", "POST"]
    new = fake.store[a["created"]["id"]]
    assert new["metadata"] == {OWNER_KEY: POLICY}
    assert rot.summarize(list(results.values())) == {
        "volumes": 2, "due": 2, "created": 2, "kept": 6, "pruned": 2, "skipped": 0, "failed": 0}
    assert rot.failure_message(list(results.values())) is None


def test_polling_skips_the_look_that_would_repeat_the_202():
    """After a POST or DELETE the first look waits for the first pause; one look each when they settle fast."""
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    clock = FakeClock()
    rotation = rot.Rotation(fake, keep_last(3), now=NOW, poll_clock={"clock": clock.clock, "sleep": clock.sleep})
    (a,) = rotation.run(rotation.load(refs=["a"]))
    assert ids(a["pruned"]) == ["a-s2"] and fake.gets == ["new-1", "a-s2"] and clock.pauses == [0.25, 0.25]


def test_slow_polling_backs_off_to_the_cap():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 1))
    fake.create_status["a"] = "slow"
    clock = FakeClock()
    rotation = rot.Rotation(fake, keep_last(3), now=NOW, timeout=30,
                            poll_clock={"clock": clock.clock, "sleep": clock.sleep})
    (a,) = rotation.run(rotation.load(refs=["a"]))
    assert "timed out after 30" in a["errors"][0] and max(clock.pauses) == rot.POLL_MAX
    assert clock.pauses[:3] == [0.25, 0.375, 0.5625] and len(fake.gets) < 25


def test_single_volume_listing_is_filtered_by_volume_too():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 1))
    rotate(fake, keep_last(3), refs=["vol-a"])
    assert fake.lists[0] == {"metadata": '{"%s": "%s"}' % (OWNER_KEY, POLICY), "volume_id": "a"}


def test_check_mode_predicts_everything_and_writes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(3), check_mode=True)
    assert fake.writes == [] and fake.gets == []
    assert a["changed"] and a["created"]["id"] is None and a["created"]["status"] == "available"
    assert a["created"]["created_at"] == "2026-11-26T02:00:00Z"
    assert ids(a["kept"]) == [None, "a-s0", "a-s1"] and ids(a["pruned"]) == ["a-s2"]


def test_not_due_and_nothing_to_prune_is_unchanged():
    fake = FakeSnapshots([vol("a", "vol-a")], [snapshot("x", "a", ts(0, 0.5))])
    (a,) = rotate(fake, keep_last(3, min_interval="1h"))
    assert not a["due"] and "younger than min_interval" in a["due_reason"]
    assert not a["changed"] and a["created"] is None and fake.writes == []


def test_failed_new_snapshot_prunes_nothing_on_that_volume_only():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 5) + history("b", 5))
    fake.create_status["a"] = "error"
    results = rotate(fake, keep_last(2))
    res = by_volume(results)
    a, b = res["a"], res["b"]
    assert a["created"]["status"] == "error" and a["pruned"] == []
    assert ids(a["skipped"]) == ["a-s2", "a-s3", "a-s4"]
    assert all(e["reasons"][-1] == "not pruned: the new snapshot of this volume failed" for e in a["skipped"])
    assert len(a["errors"]) == 1 and "is in status error" in a["errors"][0]
    assert not [w for w in fake.writes if w[0] == "DELETE" and w[1].startswith("a-")]
    # The other volume is rotated normally.
    assert ids(b["pruned"]) == ["b-s1", "b-s2", "b-s3", "b-s4"] and not b["errors"]
    summary = rot.summarize(results)
    assert summary["created"] == 1 and summary["failed"] == 1
    message = rot.failure_message(results)
    assert message.startswith("snapshot rotation failed on 1 of 2 volume(s): vol-a (a): new snapshot")
    assert rot.failures(results) == [{"volume_id": "a", "volume_name": "vol-a", "msg": a["errors"][0]}]


def test_create_timeout_is_a_failure_and_prunes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    fake.create_status["a"] = "slow"
    (a,) = rotate(fake, keep_last(1))
    assert a["pruned"] == [] and "timed out" in a["errors"][0] and a["created"]["status"] == "creating"


def test_rejected_create_prunes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    fake.create_failures["a"] = [ApiError("Cinder answered 413: quota", status_code=413)]
    (a,) = rotate(fake, keep_last(1))
    assert a["created"] is None and a["pruned"] == [] and "quota" in a["errors"][0]
    assert [w[0] for w in fake.writes] == ["POST"]


def test_retried_create_that_landed_is_not_sent_again():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    landed = ApiError("Cinder answered 504", status_code=504)
    landed.landed = True
    fake.create_failures["a"] = [landed]
    (a,) = rotate(fake, keep_last(3))
    assert [w[0] for w in fake.writes].count("POST") == 1
    assert a["created"]["id"] == "new-1" and ids(a["pruned"]) == ["a-s2"] and not a["errors"]
    # The look searched the volume by the new name.
    assert {"volume_id": "a", "name": "nightly-20261126T020000Z"} in fake.lists


def test_retried_create_that_did_not_land_is_sent_again_once():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    fake.create_failures["a"] = [ApiError("Cinder answered 500", status_code=500)]
    sleeps = []
    (a,) = rotate(fake, keep_last(3), sleep=sleeps.append)
    assert [w[0] for w in fake.writes].count("POST") == 2 and sleeps == [1.0]
    assert a["created"]["id"] == "new-1" and not a["errors"]
    assert len([s for s in fake.store.values() if s["name"] == "nightly-20261126T020000Z"]) == 1


def test_look_ignores_an_older_snapshot_of_the_same_name():
    old = snapshot("old", "a", ts(2), name="nightly-20261126T020000Z")
    fake = FakeSnapshots([vol("a", "vol-a")], [old])
    fake.create_failures["a"] = [ApiError("Cinder answered 502", status_code=502)]
    (a,) = rotate(fake, keep_last(5))
    assert [w[0] for w in fake.writes].count("POST") == 2 and a["created"]["id"] == "new-1"


def test_known_dependents_are_skipped_without_a_delete():
    volumes = [vol("a", "vol-a"), vol("child", "child", snapshot_id="a-s2")]
    fake = FakeSnapshots(volumes, history("a", 4))
    (a,) = rotate(fake, keep_last(2), refs=["a"])
    assert ids(a["pruned"]) == ["a-s1", "a-s3"]
    assert ids(a["skipped"]) == ["a-s2"]
    assert a["skipped"][0]["reasons"] == ["not kept by any rule", "not pruned: volumes were created from it: child"]
    assert ("DELETE", "a-s2") not in fake.writes and not a["errors"]


def test_refused_delete_is_skipped_and_reported_not_failed_nor_retried():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    fake.delete_outcome["a-s2"] = "refused"
    (a,) = rotate(fake, keep_last(3))
    assert ids(a["skipped"]) == ["a-s2"] and "refused" in a["skipped"][0]["reasons"][-1]
    assert a["errors"] == [] and fake.writes.count(("DELETE", "a-s2")) == 1


def test_error_deleting_is_a_failure_and_the_rest_goes_on():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 4) + history("b", 4))
    fake.delete_outcome["a-s2"] = "error_deleting"
    res = by_volume(rotate(fake, keep_last(2)))
    a = res["a"]
    assert ids(a["pruned"]) == ["a-s1", "a-s3"] and ids(a["skipped"]) == ["a-s2"]
    assert a["skipped"][0]["reasons"][-1] == "prune failed"
    assert len(a["errors"]) == 1 and a["errors"][0].startswith("could not prune snapshot a-s2")
    assert ids(res["b"]["pruned"]) == ["b-s1", "b-s2", "b-s3"]


def test_delete_retried_on_conflict_then_done():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    fake.delete_outcome["a-s2"] = [ApiError("Cinder answered 409", status_code=409)]
    (a,) = rotate(fake, keep_last(3))
    assert fake.writes.count(("DELETE", "a-s2")) == 2 and ids(a["pruned"]) == ["a-s2"]


def test_delete_rejected_is_a_failure_but_not_a_change():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 2))
    fake.delete_outcome["a-s1"] = ApiError("Cinder answered 400: Invalid snapshot", status_code=400)
    (a,) = rotate(fake, keep_last(1), create=False)
    assert not a["changed"] and ids(a["skipped"]) == ["a-s1"] and "Invalid snapshot" in a["errors"][0]


def test_prune_off_and_create_off():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(1), prune=False)
    assert ids(a["skipped"]) == ["a-s0", "a-s1", "a-s2"] and a["skipped"][0]["reasons"][-1] == "not pruned: prune is off"
    assert [w[0] for w in fake.writes] == ["POST"]
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(1), create=False)
    assert a["created"] is None and ids(a["pruned"]) == ["a-s1", "a-s2"]


def test_error_snapshots_reported_or_cleaned_up():
    snaps = history("a", 2) + [snapshot("err", "a", ts(5), status="error"),
                               snapshot("held-err", "a", ts(6), status="error", **{HOLD_KEY: "legal"})]
    fake = FakeSnapshots([vol("a", "vol-a")], snaps)
    (a,) = rotate(fake, keep_last(5), create=False)
    assert ids(a["skipped"]) == ["err", "held-err"] and fake.writes == []
    assert a["skipped"][0]["reasons"] == ["status error", "not pruned: cleanup_errors: true deletes it"]
    assert a["skipped"][1]["reasons"][-1] == "not pruned: held"
    fake = FakeSnapshots([vol("a", "vol-a")], snaps)
    (a,) = rotate(fake, rot.build_policy({"keep_last": 5}, POLICY, cleanup_errors=True), create=False)
    assert ids(a["pruned"]) == ["err"] and a["pruned"][0]["reasons"] == ["error cleanup"]


def test_unsnapshottable_volume_fails_without_a_request():
    fake = FakeSnapshots([vol("a", "vol-a", status="error")], history("a", 3))
    (a,) = rotate(fake, keep_last(1))
    assert fake.writes == [] and "its status is error" in a["errors"][0] and a["pruned"] == []


def test_too_long_rendered_name_is_a_volume_failure():
    fake = FakeSnapshots([vol("a", "x" * 250)], [])
    (a,) = rotate(fake, keep_last(1), name_format="{volume}-%Y%m%d")
    assert fake.writes == [] and "259 characters long" in a["errors"][0]


def test_unresolved_and_ambiguous_volumes_are_failures_of_their_own():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("t1", "twin"), vol("t2", "twin")], history("a", 2))
    results = rotate(fake, keep_last(1), refs=["vol-a", "twin", UUID1, UUID2])
    res = by_volume(results)
    assert ids(res["a"]["pruned"]) == ["a-s0", "a-s1"]
    assert "matches 2 volumes" in res["twin"]["errors"][0] and res["twin"]["volume_id"] is None
    assert "was not found" in res[UUID1]["errors"][0]
    assert "not to the project of these credentials" in res[UUID2]["errors"][0]
    assert rot.summarize(results)["failed"] == 3 and [w for w in fake.writes if w[0] == "POST"] == [("POST", "a", ANY)]


def test_unexpected_exception_in_one_volume_is_contained():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 2) + history("b", 2))
    original = fake.create

    def create(volume_id, **kwargs):
        if volume_id == "a":
            raise RuntimeError("boom")
        return original(volume_id, **kwargs)

    fake.create = create
    res = by_volume(rotate(fake, keep_last(1)))
    assert res["a"]["errors"] == ["unexpected error: RuntimeError: boom"] and res["a"]["pruned"] == []
    assert ids(res["b"]["pruned"]) == ["b-s0", "b-s1"]


def test_many_volumes_concurrently_keep_their_order_and_results():
    volumes = [vol("v%02d" % n, "vol-%02d" % n) for n in range(40)]
    snaps = [s for v in volumes for s in history(v["id"], 4)]
    fake = FakeSnapshots(volumes, snaps)
    results = rotate(fake, keep_last(2), max_workers=8)
    assert [r["volume_id"] for r in results] == [v["id"] for v in volumes]
    for r in results:
        assert ids(r["pruned"]) == ["%s-s%d" % (r["volume_id"], n) for n in (1, 2, 3)], r
    assert rot.summarize(results)["pruned"] == 120
    assert len(fake.writes) == 40 + 120


def test_wait_off_does_not_count_the_creating_snapshot():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(3), wait=False)
    assert fake.gets == [] and a["created"]["status"] == "creating"
    assert a["created"]["reasons"] == ["status creating"]
    assert a["pruned"] == [] and a["pruned"] == []
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    (a,) = rotate(fake, keep_last(3), wait=False)
    assert ids(a["pruned"]) == ["a-s3"] and a["pruned"][0]["status"] == "deleting"


# ---------------------------------------------------------------------------------------------------- results

def test_rotation_diff_shows_changed_volumes_only():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 2) + [snapshot("b1", "b", ts(0, 0.2))])
    results = rotate(fake, keep_last(2, min_interval="1h"), check_mode=True)
    diff = rot.rotation_diff(results)
    assert list(diff["before"]["volumes"]) == ["vol-a (a)"]
    assert diff["before"]["volumes"]["vol-a (a)"] == ["2026-11-25T02:00:00Z a-s0", "2026-11-24T02:00:00Z a-s1"]
    assert diff["after"]["volumes"]["vol-a (a)"] == ["2026-11-26T02:00:00Z nightly-20261126T020000Z",
                                                     "2026-11-25T02:00:00Z a-s0"]


def test_summary_of_nothing():
    assert rot.summarize([]) == {"volumes": 0, "due": 0, "created": 0, "kept": 0, "pruned": 0, "skipped": 0,
                                 "failed": 0}
    assert rot.failure_message([]) is None and rot.failures([]) == []
