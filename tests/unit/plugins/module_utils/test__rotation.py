# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation's options, volume selection, and its plan/apply logic against a stand-in for ``Snapshots``.

The stand-in is only for these unit tests of the run's logic (ordering, batch waits, convergence
with a concurrent run, failure isolation); the integration tests drive the real cloud.
"""
from __future__ import annotations

import itertools
import threading
from datetime import datetime, timedelta, timezone
from unittest.mock import ANY

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import _results as res
from ansible_collections.cinderops.snapshots.plugins.module_utils import _rotation as rot
from ansible_collections.cinderops.snapshots.plugins.module_utils import _rotation_options as opts
from ansible_collections.cinderops.snapshots.plugins.module_utils import _snapshots as api
from ansible_collections.cinderops.snapshots.plugins.module_utils._client import ServerClock
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import ApiError, CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import HOLD_KEY, OWNER_KEY

UTC = timezone.utc
NOW = datetime(2026, 11, 26, 2, 0, 0, tzinfo=UTC)
POLICY = "nightly"


# ---------------------------------------------------------------------------------------------------- name_format

@pytest.mark.parametrize("fmt, expected", [
    (opts.DEFAULT_NAME_FORMAT, "nightly-20261126T020000Z"),
    ("{volume}-%Y-%m-%d", "db data-2026-11-26"),
    ("{volume_id}/{policy}", "vid-1/nightly"),
    ("  {policy} %H:%M  ", "nightly 02:00"),
    ("constant", "constant"),
    ("%G-W%V {policy}", "2026-W48 nightly"),
])
def test_render_name(fmt, expected):
    assert opts.render_name(fmt, NOW, "db data", "vid-1", POLICY) == expected


def test_render_name_takes_percent_and_braces_in_values_literally():
    assert opts.render_name("{volume}-%Y", NOW, "100%d-{x}", "vid", POLICY) == "100%d-{x}-2026"


def test_render_name_uses_the_id_for_unnamed_volumes():
    assert opts.render_name("{volume}", NOW, None, "vid-9", POLICY) == "vid-9"
    assert opts.render_name("{volume}", NOW, "", "vid-9", POLICY) == "vid-9"


def test_unknown_placeholder_is_a_clear_error():
    with pytest.raises(InputError, match=r"unknown placeholder \{vol\}; use \{volume\}"):
        opts.render_name("{vol}-%Y", NOW, "v", "id", POLICY)


@pytest.mark.parametrize("fmt", ["", "   ", None, 5])
def test_empty_name_format_is_refused(fmt):
    with pytest.raises(InputError, match="name_format"):
        opts.check_name_format(fmt, POLICY)


def test_check_name_format_accepts_default():
    assert opts.check_name_format(opts.DEFAULT_NAME_FORMAT, POLICY) == opts.DEFAULT_NAME_FORMAT


# ---------------------------------------------------------------------------------------------------- inputs

def test_build_policy_sets_the_name_and_cleanup_errors():
    policy = opts.build_policy({"keep_daily": 7}, " nightly ", cleanup_errors=True)
    assert policy.name == "nightly" and policy.cleanup_errors and policy.counts["keep_daily"] == 7
    assert opts.build_policy({"keep_daily": 7, "cleanup_errors": True}, "n").cleanup_errors


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
        opts.build_policy(policy, name)
    assert "\n" not in str(info.value)


def test_new_snapshot_metadata_adds_the_owner_and_stringifies():
    assert opts.new_snapshot_metadata({"copies": 2, "on": True}, POLICY) == {
        "copies": "2", "on": "true", OWNER_KEY: POLICY}
    assert opts.new_snapshot_metadata(None, POLICY) == {OWNER_KEY: POLICY}
    assert opts.new_snapshot_metadata({OWNER_KEY: POLICY}, POLICY) == {OWNER_KEY: POLICY}


def test_new_snapshot_metadata_refuses_another_owner_and_bad_keys():
    with pytest.raises(InputError, match="leave the key out"):
        opts.new_snapshot_metadata({OWNER_KEY: "weekly"}, POLICY)
    with pytest.raises(InputError, match="not accepted by Cinder"):
        opts.new_snapshot_metadata({"a/b": "x"}, POLICY)


@pytest.mark.parametrize("value", [0, -1, 33, None])
def test_workers_are_bounded(value):
    with pytest.raises(InputError, match="between 1 and 32"):
        opts.check_workers(value)


def test_selection_metadata():
    assert api.selection_metadata("volume_metadata", {"backup": True, "tier": 1}) == {"backup": "true", "tier": "1"}
    with pytest.raises(InputError, match="volume_metadata must name at least one key"):
        api.selection_metadata("volume_metadata", {})


@pytest.mark.parametrize("kwargs, match", [
    (dict(volumes=[]), "volumes is empty"),
    (dict(volumes=["db", "  "]), "volumes must not contain empty names"),
    (dict(), "select the volumes with one of"),
])
def test_selection_is_checked_before_any_request(kwargs, match):
    with pytest.raises(InputError, match=match):
        opts.selection(**kwargs)


def test_options_check_everything_at_once():
    with pytest.raises(InputError, match="timeout must be greater than 0"):
        opts.RotationOptions("p", {"keep_last": 1}, timeout=0)
    with pytest.raises(InputError, match="max_workers must be between 1 and 32"):
        opts.RotationOptions("p", {"keep_last": 1}, max_workers=0)
    options = opts.RotationOptions(" p ", {"keep_last": 1}, snapshot_metadata={"n": 1})
    assert options.policy_name == "p" and options.metadata == {"n": "1", OWNER_KEY: "p"}


# ---------------------------------------------------------------------------------------------------- selection

def vol(vid, name=None, status="available", snapshot_id=None, **metadata):
    return {"id": vid, "name": name, "status": status, "snapshot_id": snapshot_id, "metadata": metadata}


UUID1 = "11111111-1111-4111-8111-111111111111"
UUID2 = "22222222-2222-4222-8222-222222222222"
LISTING = [vol("v1", "db", backup="nightly"), vol("v2", "web", backup="weekly"), vol("v3", "twin"),
           vol("v4", "twin", backup="nightly"), vol("v5", None, backup="nightly", status="deleting"),
           vol("v6", "child", snapshot_id="s1"), vol("v7", "child2", snapshot_id="s1")]


def test_select_by_names_and_ids_dedupes_and_reports_problems():
    selected, unresolved, problems = api.select_volumes(LISTING, refs=["db", "v2", "v1", "twin", "nope", UUID1, " "])
    assert [v["id"] for v in selected] == ["v1", "v2"]
    assert unresolved == [UUID1]
    assert [p[0] for p in problems] == ["twin", "nope", ""]
    assert "matches 2 volumes (v3, v4)" in problems[0][1]
    assert "was not found" in problems[1][1]


def test_select_by_metadata_skips_volumes_being_deleted():
    selected, unresolved, problems = api.select_volumes(LISTING, metadata={"backup": "nightly"})
    assert [v["id"] for v in selected] == ["v1", "v4"] and not unresolved and not problems


def test_select_everything_in_a_stable_order():
    selected = api.select_volumes(LISTING, everything=True)[0]
    assert [v["id"] for v in selected] == ["v6", "v7", "v1", "v3", "v4", "v2"]


def test_dependents_of():
    assert api.dependents_of(LISTING) == {"s1": ["v6", "v7"]}


# ---------------------------------------------------------------------------------------------------- the run

SERVER_DATE = "Thu, 26 Nov 2026 02:00:00 GMT"  # Cinder's clock at NOW


def ts(days_ago, hours=0, seconds=0):
    return (NOW - timedelta(days=days_ago, hours=hours, seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.000000")


def snapshot(sid, volume_id, created, status="available", owner=POLICY, name=None, **metadata):
    meta = dict(metadata)
    if owner:
        meta[OWNER_KEY] = owner
    return {"id": sid, "volume_id": volume_id, "name": name or sid, "status": status, "created_at": created,
            "updated_at": None, "metadata": meta}


class FakeClient(object):
    def __init__(self):
        self.server_clock = ServerClock(lambda: 0.0)
        self.server_clock.observe(SERVER_DATE, arrived=0.0)


class FakeSnapshots(object):
    """A cloud in memory. A pending create or delete settles as scripted when it is first looked at
    (a GET or a listing window), one step per look."""

    def __init__(self, volumes, snapshots):
        self.client = FakeClient()
        self.volumes = volumes
        self.store = dict((s["id"], dict(s)) for s in snapshots)
        self.lock = threading.Lock()
        self.writes = []
        self.listings = []
        self.volume_listings = 0
        self.gets = []
        self.ids = ("new-%d" % n for n in itertools.count(1))
        self.create_failures = {}     # volume id -> [exceptions raised by POST]
        self.create_status = {}       # volume id -> "available", "error" or "slow" (stays creating)
        self.delete_outcome = {}      # snapshot id -> "refused" | "error_deleting" | "deleting" | exception | [exc]
        self.rivals = {}              # volume id -> snapshot another run creates right after our POST
        self.clock = None
        self.quota_set = {}           # Cinder's quota set with usage; {} is unlimited
        self.quota_reads = 0

    # ------------------------------------------------------------ how snapshots settle
    def _settle(self, snap):
        if snap["status"] == "creating" and snap["id"].startswith(("new-", "rival-")):
            final = self.create_status.get(snap["volume_id"], "available")
            if final != "slow":
                snap["status"] = final
                snap["updated_at"] = ts(0)
        elif snap["status"] == "deleting":
            outcome = self.delete_outcome.get(snap["id"])
            if outcome == "refused":
                snap["status"], snap["updated_at"] = "available", ts(0)
            elif outcome == "error_deleting":
                snap["status"], snap["updated_at"] = "error_deleting", ts(0)
            elif outcome != "stuck":
                del self.store[snap["id"]]

    # ------------------------------------------------------------ the API
    def quota_usage(self):
        self.quota_reads += 1
        if isinstance(self.quota_set, Exception):
            raise self.quota_set
        return self.quota_set, "demo"

    def list_volumes(self):
        self.volume_listings += 1
        return list(self.volumes)

    def get_volume(self, volume_id):
        if volume_id == UUID2:
            return vol(UUID2, "elsewhere")
        return None

    def iterate(self, filters=None, sort=None, page_size=None, **kwargs):
        filters = dict(filters or {})
        self.listings.append(dict(filters, sort=sort, at=self.clock.now if self.clock else None))
        assert filters["metadata"] == '{"%s": "%s"}' % (OWNER_KEY, POLICY)
        with self.lock:
            if sort:
                for snap in list(self.store.values()):
                    self._settle(snap)
            items = [dict(s) for s in self.store.values() if s["metadata"].get(OWNER_KEY) == POLICY]
        if "volume_id" in filters:
            items = [s for s in items if s["volume_id"] == filters["volume_id"]]
        if sort:
            key = sort.split(":")[0]
            items.sort(key=lambda s: (s[key] is not None, s[key] or ""), reverse=True)
        return iter(items)

    def get(self, snapshot_id):
        with self.lock:
            self.gets.append(snapshot_id)
            snap = self.store.get(snapshot_id)
            if snap:
                self._settle(snap)
            snap = self.store.get(snapshot_id)
            return dict(snap) if snap else None

    def wait_deleted(self, snapshot, timeout, known=None):
        """The real wait's judge over this fake's GETs (make_room deletes one at a time)."""
        from ansible_collections.cinderops.snapshots.plugins.module_utils import _waiting
        clock = self.clock or FakeClock()
        _waiting.wait_for(lambda: self.get(snapshot["id"]), _waiting.IsGone(snapshot["id"]), timeout, known=known,
                          clock=clock.clock, sleep=clock.sleep)

    def refusal_reason(self, snap):
        return "volumes created from it: child-x"

    def create(self, volume_id, name=None, metadata=None, force=False, known=()):
        with self.lock:
            self.writes.append(("POST", volume_id, name))
            failures = self.create_failures.get(volume_id)
            if failures:
                raise failures.pop(0)
            snap = snapshot(next(self.ids), volume_id, ts(0), "creating", name=name)
            snap["metadata"] = dict(metadata or {})
            self.store[snap["id"]] = snap
            rival = self.rivals.get(volume_id)
            if rival:
                self.store[rival["id"]] = dict(rival)
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
            elif outcome == "deleting":
                self.store[snapshot_id]["status"] = "deleting"
                return "deleting"
            self.store[snapshot_id]["status"] = "deleting"
            self.store[snapshot_id]["updated_at"] = ts(0)
            return "accepted"


def options(policy=None, **kwargs):
    return opts.RotationOptions(POLICY, policy or {"keep_last": 3}, **kwargs)


def keep_last(n, **extra):
    return dict(extra, keep_last=n)


def history(volume_id, count, start=1):
    """``count`` owned snapshots one day apart, the newest ``start`` days ago."""
    return [snapshot("%s-s%d" % (volume_id, n), volume_id, ts(start + n)) for n in range(count)]


class FakeClock(object):
    """Polling time that passes only when the run sleeps."""

    def __init__(self):
        self.now = 0.0
        self.pauses = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.pauses.append(round(seconds, 3))
        self.now += seconds


def rotate(fake, policy, refs=None, clock=None, **kwargs):
    clock = clock or FakeClock()
    fake.client.server_clock.clock = clock.clock
    fake.clock = clock
    selection = dict(refs=refs or [v["id"] for v in fake.volumes])
    rotation = rot.Rotation(fake, options(policy, selection=selection, **kwargs), now=NOW, clock=clock.clock,
                            sleep=clock.sleep)
    return rotation.run(rotation.load())


def by_volume(results):
    return dict((r["volume_id"] or r["volume_name"], r) for r in results)


def ids(entries):
    return [e["id"] for e in entries]


def windows(fake):
    return [entry["sort"] for entry in fake.listings if entry["sort"]]


def test_happy_path_creates_waits_replans_and_prunes():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 3) + history("b", 3))
    results = by_volume(rotate(fake, keep_last(3)))
    a = results["a"]
    assert a["due"] and a["changed"] and not a["errors"] and a["notes"] == []
    assert a["created"]["name"] == "nightly-20261126T020000Z" and a["created"]["status"] == "available"
    assert a["created"]["reasons"] == ["last"]
    assert ids(a["kept"]) == [a["created"]["id"], "a-s0", "a-s1"]
    assert ids(a["pruned"]) == ["a-s2"] and a["pruned"][0]["reasons"] == ["not kept by any rule"]
    assert ids(results["b"]["pruned"]) == ["b-s2"]
    # One volume listing and one snapshot listing for the whole selection, filtered by owner ...
    owner_filter = '{"%s": "%s"}' % (OWNER_KEY, POLICY)
    assert fake.volume_listings == 1 and fake.listings[0] == {"metadata": owner_filter, "sort": None, "at": 0.0}
    # ... and every wait served by listing windows: no GET per snapshot.
    assert fake.gets == [] and set(windows(fake)) == {"created_at:desc", "updated_at:desc"}
    assert sorted(w[0] for w in fake.writes) == ["DELETE", "DELETE", "POST", "POST"]
    assert fake.store[a["created"]["id"]]["metadata"] == {OWNER_KEY: POLICY}
    assert res.summarize(list(results.values())) == {
        "volumes": 2, "due": 2, "created": 2, "kept": 6, "pruned": 2, "skipped": 0, "failed": 0}
    assert res.failure_message(list(results.values())) is None


def test_one_listing_per_round_whatever_the_number_of_volumes():
    volumes = [vol("v%02d" % n, "vol-%02d" % n) for n in range(30)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 4)])
    clock = FakeClock()
    results = rotate(fake, keep_last(3), clock=clock)
    assert all(ids(r["pruned"]) == ["%s-s2" % r["volume_id"], "%s-s3" % r["volume_id"]] for r in results)
    # 30 creates and 60 deletes, each settled by the first look: a round for the creates, one more once
    # Cinder's clock has passed the next second (to judge any concurrent run's snapshots), one for the deletes.
    assert windows(fake) == ["created_at:desc", "created_at:desc", "updated_at:desc"] and fake.gets == []
    # The new snapshots were made at 02:00:00 on Cinder's clock: their rivals are judged from 02:00:01 on.
    assert [e["at"] for e in fake.listings if e["sort"]][1] >= 1.0
    assert clock.pauses[0] == rot._waiting.POLL.first


def test_slow_creation_times_out_per_snapshot_naming_it_and_prunes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    fake.create_status["a"] = "slow"
    clock = FakeClock()
    (a,) = rotate(fake, keep_last(1), clock=clock, timeout=30)
    assert "timed out after 30.0s waiting for snapshot new-1 (nightly-20261126T020000Z) to become available" \
        in a["errors"][0]
    assert a["pruned"] == [] and a["created"]["status"] == "creating"
    assert max(clock.pauses) == 2.0 and len(windows(fake)) + len(fake.gets) < 40


def test_single_volume_listing_is_filtered_by_volume_too():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 1))
    rotate(fake, keep_last(3), refs=["vol-a"])
    assert all(entry["volume_id"] == "a" for entry in fake.listings)


def test_check_mode_predicts_everything_and_writes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(3), check_mode=True)
    assert fake.writes == [] and fake.gets == [] and windows(fake) == []
    assert a["changed"] and a["created"]["id"] is None and a["created"]["status"] == "available"
    assert a["created"]["created_at"] == "2026-11-26T02:00:00Z"
    assert ids(a["kept"]) == [None, "a-s0", "a-s1"] and ids(a["pruned"]) == ["a-s2"]


def test_not_due_and_nothing_to_prune_is_unchanged():
    fake = FakeSnapshots([vol("a", "vol-a")], [snapshot("x", "a", ts(0, 0.5))])
    (a,) = rotate(fake, keep_last(3, min_interval="1h"))
    assert not a["due"] and "younger than min_interval" in a["due_reason"]
    assert not a["changed"] and a["created"] is None and fake.writes == [] and windows(fake) == []


def test_failed_new_snapshot_prunes_nothing_on_that_volume_only():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 5) + history("b", 5))
    fake.create_status["a"] = "error"
    results = rotate(fake, keep_last(2))
    got = by_volume(results)
    a, b = got["a"], got["b"]
    assert a["created"]["status"] == "error" and a["pruned"] == []
    assert ids(a["skipped"]) == ["a-s2", "a-s3", "a-s4"]
    assert all(e["reasons"][-1] == "not pruned: the new snapshot of this volume failed" for e in a["skipped"])
    assert len(a["errors"]) == 1 and "is in status error" in a["errors"][0]
    assert not [w for w in fake.writes if w[0] == "DELETE" and w[1].startswith("a-")]
    assert ids(b["pruned"]) == ["b-s1", "b-s2", "b-s3", "b-s4"] and not b["errors"]
    summary = res.summarize(results)
    assert summary["created"] == 1 and summary["failed"] == 1
    message = res.failure_message(results)
    assert message.startswith("snapshot rotation failed on 1 of 2 volume(s): vol-a (a): new snapshot")
    assert res.failures(results) == [{"volume_id": "a", "volume_name": "vol-a", "msg": a["errors"][0]}]


def test_rejected_create_prunes_nothing():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    fake.create_failures["a"] = [ApiError("Cinder answered 413: quota", status_code=413)]
    (a,) = rotate(fake, keep_last(1))
    assert a["created"] is None and a["pruned"] == [] and "quota" in a["errors"][0]
    assert [w[0] for w in fake.writes] == ["POST"]


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
    assert "volumes created from it: child-x" in a["skipped"][0]["reasons"][-1]
    assert a["errors"] == [] and fake.writes.count(("DELETE", "a-s2")) == 1


def test_error_deleting_is_a_failure_and_the_rest_goes_on():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 4) + history("b", 4))
    fake.delete_outcome["a-s2"] = "error_deleting"
    got = by_volume(rotate(fake, keep_last(2)))
    a = got["a"]
    assert ids(a["pruned"]) == ["a-s1", "a-s3"] and ids(a["skipped"]) == ["a-s2"]
    assert a["skipped"][0]["reasons"][-1] == "prune failed"
    assert len(a["errors"]) == 1 and a["errors"][0].startswith("could not prune snapshot a-s2")
    assert ids(got["b"]["pruned"]) == ["b-s1", "b-s2", "b-s3"]


def test_a_snapshot_another_run_is_deleting_is_waited_for_not_a_failure():
    """Issue 10, defect 4: two runs prune the same snapshot; the second one's delete must not fail the run."""
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 2))
    fake.delete_outcome["a-s1"] = "deleting"
    (a,) = rotate(fake, keep_last(1), create=False)
    assert a["errors"] == [] and ids(a["pruned"]) == ["a-s1"]
    assert a["pruned"][0]["reasons"] == ["not kept by any rule", "deleted by another run"]
    assert not a["changed"], "the other run made this change"


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
    (a,) = rotate(fake, keep_last(5), create=False, cleanup_errors=True)
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
    got = by_volume(results)
    assert ids(got["a"]["pruned"]) == ["a-s0", "a-s1"]
    assert "matches 2 volumes" in got["twin"]["errors"][0] and got["twin"]["volume_id"] is None
    assert "was not found" in got[UUID1]["errors"][0]
    assert "not to the project of these credentials" in got[UUID2]["errors"][0]
    assert res.summarize(results)["failed"] == 3 and [w for w in fake.writes if w[0] == "POST"] == [("POST", "a", ANY)]


def test_unexpected_exception_in_one_volume_is_contained():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 2) + history("b", 2))
    original = fake.create

    def create(volume_id, **kwargs):
        if volume_id == "a":
            raise RuntimeError("boom")
        return original(volume_id, **kwargs)

    fake.create = create
    got = by_volume(rotate(fake, keep_last(1)))
    assert got["a"]["errors"] == ["could not create the new snapshot: unexpected error: RuntimeError: boom"]
    assert got["a"]["pruned"] == [] and ids(got["b"]["pruned"]) == ["b-s0", "b-s1"]


def test_many_volumes_concurrently_keep_their_order_and_results():
    volumes = [vol("v%02d" % n, "vol-%02d" % n) for n in range(40)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 4)])
    results = rotate(fake, keep_last(2), max_workers=8)
    assert [r["volume_id"] for r in results] == [v["id"] for v in volumes]
    for r in results:
        assert ids(r["pruned"]) == ["%s-s%d" % (r["volume_id"], n) for n in (1, 2, 3)], r
    assert res.summarize(results)["pruned"] == 120
    assert len(fake.writes) == 40 + 120


def test_wait_off_does_not_count_the_creating_snapshot():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    (a,) = rotate(fake, keep_last(3), wait=False)
    assert fake.gets == [] and windows(fake) == [] and a["created"]["status"] == "creating"
    assert a["created"]["reasons"] == ["status creating"] and a["pruned"] == []
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    (a,) = rotate(fake, keep_last(3), wait=False)
    assert ids(a["pruned"]) == ["a-s3"] and a["pruned"][0]["status"] == "deleting"


def test_few_pending_after_a_large_window_are_looked_at_one_by_one():
    """The measured crossover: one slow create among 30 is looked at with single GETs, not 30-item listings."""
    volumes = [vol("v%02d" % n, "vol-%02d" % n) for n in range(30)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 1)])
    fake.create_status["v00"] = "slow"
    clock = FakeClock()
    results = by_volume(rotate(fake, keep_last(1, min_interval="1h"), clock=clock, timeout=5))
    assert "timed out" in results["v00"]["errors"][0]
    assert all(not r["errors"] for vid, r in results.items() if vid != "v00")
    # A 30-item window costs cinder-api as much as 1.9 single GETs: the slow one alone goes one by one.
    assert rot.listing_ms(30) > rot.GET_MS
    slow = [g for g in fake.gets if g == "new-1"]
    assert len(slow) >= 3 and set(fake.gets) == {"new-1"}, fake.gets


def test_one_due_snapshot_is_looked_at_with_a_get_and_several_with_a_small_listing():
    """Measured: a GET costs cinder-api less than the smallest listing, two GETs more than a listing of 30."""
    assert rot.GET_MS < rot.listing_ms(1) and 2 * rot.GET_MS > rot.listing_ms(30)
    volumes = [vol("v%02d" % n, "vol-%02d" % n) for n in range(30)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 2)])
    fake.delete_outcome["v00-s1"] = "stuck"
    (first,) = [r for r in rotate(fake, keep_last(1, min_interval="1h"), clock=FakeClock(), create=False, timeout=5)
                if r["volume_id"] == "v00"]
    assert "timed out" in first["errors"][0]
    # One listing while all 30 deletes are pending; the stuck one alone is then looked at with GETs.
    assert windows(fake).count("updated_at:desc") == 1 and len(fake.gets) >= 3 and set(fake.gets) == {"v00-s1"}


def test_rounds_are_paced_by_what_the_last_one_cost_cinder():
    """A round that listed k snapshots holds the next back for listing_ms(k) / POLL_SHARE, at most 2 s."""
    assert rot.round_gap(rot.listing_ms(100)) == pytest.approx((6.5 + 13.0) / 1000 / 0.05)
    assert rot.round_gap(rot.GET_MS) == pytest.approx(0.11)
    assert rot.round_gap(rot.listing_ms(5000)) == 2.0
    volumes = [vol("v%03d" % n, "vol-%03d" % n) for n in range(100)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 1)])
    for v in volumes:
        fake.create_status[v["id"]] = "slow"
    clock = FakeClock()
    rotate(fake, keep_last(1, min_interval="1h"), clock=clock, timeout=20)
    listing_times = [entry["at"] for entry in fake.listings if entry["sort"]]
    gaps = [round(b - a, 3) for a, b in zip(listing_times, listing_times[1:])]
    assert gaps and min(gaps) >= rot.round_gap(rot.listing_ms(100)) - 1e-6, gaps
    # 20 s of waiting for 100 snapshots: about 20 rounds instead of one every 0.1 to 2 s per snapshot.
    assert len(listing_times) <= 25


# ---------------------------------------------------------------------------------------------------- concurrent runs

def rival(sid, volume_id, seconds_ago, status="available"):
    """A new snapshot of the same policy that a concurrent run made after this run's listing."""
    return snapshot(sid, volume_id, ts(0, seconds=seconds_ago), status=status, name="rival")


def test_an_older_rival_from_a_concurrent_run_wins_and_this_run_deletes_its_own():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    fake.rivals["a"] = rival("rival-1", "a", seconds_ago=2)
    (a,) = rotate(fake, keep_last(3))
    assert "new-1" not in fake.store and "rival-1" in fake.store
    assert ("DELETE", "new-1") in fake.writes
    assert a["created"]["id"] == "rival-1" and ids(a["kept"])[0] == "rival-1"
    assert ids(a["pruned"]) == ["a-s2", "a-s3"] and not a["errors"]
    assert "made snapshot rival-1 (rival) first" in a["notes"][0]


def test_a_younger_rival_does_not_make_this_run_yield():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    later = rival("rival-1", "a", seconds_ago=0)
    later["created_at"] = (NOW + timedelta(seconds=3)).strftime("%Y-%m-%dT%H:%M:%S.000000")
    fake.rivals["a"] = later
    (a,) = rotate(fake, keep_last(3))
    assert a["created"]["id"] == "new-1" and ("DELETE", "new-1") not in fake.writes and a["notes"] == []


def test_an_older_rival_that_fails_never_wins():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 3))
    fake.rivals["a"] = rival("rival-1", "a", seconds_ago=2, status="error")
    (a,) = rotate(fake, keep_last(3))
    assert a["created"]["id"] == "new-1" and ("DELETE", "new-1") not in fake.writes


# ---------------------------------------------------------------------------------------------------- results

def test_rotation_diff_shows_changed_volumes_only():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 2) + [snapshot("b1", "b", ts(0, 0.2))])
    results = rotate(fake, keep_last(2, min_interval="1h"), check_mode=True)
    diff = res.rotation_diff(results)
    assert list(diff["before"]["volumes"]) == ["vol-a (a)"]
    assert diff["before"]["volumes"]["vol-a (a)"] == ["2026-11-25T02:00:00Z a-s0", "2026-11-24T02:00:00Z a-s1"]
    assert diff["after"]["volumes"]["vol-a (a)"] == ["2026-11-26T02:00:00Z nightly-20261126T020000Z",
                                                     "2026-11-25T02:00:00Z a-s0"]


def test_summary_of_nothing():
    assert res.summarize([]) == {"volumes": 0, "due": 0, "created": 0, "kept": 0, "pruned": 0, "skipped": 0,
                                 "failed": 0}
    assert res.failure_message([]) is None and res.failures([]) == []


def test_a_window_of_more_than_one_page_is_confirmed_by_single_gets(monkeypatch):
    """Between two pages a snapshot's updated_at may move it to a page already read: its absence proves nothing."""
    monkeypatch.setattr(rot, "WINDOW_PAGE", 2)
    volumes = [vol("v%d" % n, "vol-%d" % n) for n in range(4)]
    fake = FakeSnapshots(volumes, [s for v in volumes for s in history(v["id"], 2)])
    results = rotate(fake, keep_last(2))
    assert all(len(r["pruned"]) == 1 and not r["errors"] for r in results)
    assert fake.gets, "the absent ones were looked at one by one"


# ---------------------------------------------------------------- quota preflight, make_room, approved deletes

def quota(limit, in_use, reserved=0):
    return {"snapshots": {"limit": limit, "in_use": in_use, "reserved": reserved},
            "gigabytes": {"limit": -1, "in_use": 0, "reserved": 0}}


def test_preflight_fails_what_does_not_fit_before_any_write_in_selection_order():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b"), vol("c", "vol-c")],
                         history("a", 3) + history("b", 3) + history("c", 3))
    fake.quota_set = quota(10, 9)
    results = by_volume(rotate(fake, keep_last(3), refs=["a", "b", "c"]))
    assert results["a"]["created"]["status"] == "available" and ids(results["a"]["pruned"]) == ["a-s2"]
    for vid in ("b", "c"):
        assert results[vid]["created"] is None and results[vid]["pruned"] == []
        assert results[vid]["errors"] == ["not created, so as not to exceed the project's quota: quota snapshots: "
                                          "project demo has 1 of 10 snapshots left (9 in use or reserved); this run "
                                          "needs 3"]
    # The only writes are volume a's: one create, one prune.
    assert sorted(w[0] for w in fake.writes) == ["DELETE", "POST"] and fake.quota_reads == 1


def test_make_room_prunes_what_the_plan_prunes_anyway_oldest_first_never_below_the_floor():
    fake = FakeSnapshots([vol("a", "vol-a"), vol("b", "vol-b")], history("a", 4) + history("b", 1))
    fake.quota_set = quota(5, 5)
    results = by_volume(rotate(fake, keep_last(2, min_available=1), make_room=True))
    a, b = results["a"], results["b"]
    # a: keep_last 2 prunes a-s2 and a-s3 even without a new snapshot; the oldest goes first and makes room.
    first = [p for p in a["pruned"] if "pruned first, to make room for the new snapshot" in p["reasons"]]
    assert ids(first) == ["a-s3"] and a["created"]["status"] == "available" and not a["errors"]
    assert sorted(ids(a["pruned"])) == ["a-s1", "a-s2", "a-s3"]
    assert any("made room for the new snapshot: pruned 1 snapshot(s) first (it fits now)" in n for n in a["notes"])
    # b has one snapshot, which its plan keeps: nothing can go, so its create fails and nothing is written.
    assert b["created"] is None and b["pruned"] == [] and "quota snapshots" in b["errors"][0]
    assert [w for w in fake.writes if w[1] == "b" or "b-" in str(w[1])] == []


def test_an_unreadable_quota_is_a_warning_and_the_run_goes_on():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 2))
    fake.quota_set = CinderopsError("could not read the project's quotas: Cinder answered 403")
    selection = dict(refs=["a"])
    clock = FakeClock()
    fake.client.server_clock.clock = clock.clock
    fake.clock = clock
    rotation = rot.Rotation(fake, options(keep_last(2), selection=selection), now=NOW, clock=clock.clock,
                            sleep=clock.sleep)
    (result,) = rotation.run(rotation.load())
    assert result["created"]["status"] == "available"
    assert len(rotation.warnings) == 1 and "quota could not be read" in rotation.warnings[0]


def test_approved_deletes_limit_what_is_pruned():
    fake = FakeSnapshots([vol("a", "vol-a")], history("a", 4))
    clock = FakeClock()
    fake.client.server_clock.clock = clock.clock
    fake.clock = clock
    rotation = rot.Rotation(fake, options(keep_last(2), selection=dict(refs=["a"])), now=NOW, clock=clock.clock,
                            sleep=clock.sleep)
    (result,) = rotation.run(rotation.load(), allowed_deletes={"a-s3"})
    assert ids(result["pruned"]) == ["a-s3"]
    skipped = dict((s["id"], s) for s in result["skipped"])
    assert set(skipped) == {"a-s1", "a-s2"} and all("not in the approved plan" in " ".join(s["reasons"])
                                                    for s in skipped.values())
