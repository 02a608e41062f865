# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The restore drill's own decisions: the checks of a test volume and the recorded result."""
from __future__ import annotations

from ansible_collections.cinderops.snapshots.plugins.module_utils._drill import (
    DRILL_KEY, DRILL_OF_KEY, check_restored, verify_result)

SNAP = {"id": "s1", "size": 10}
MARKER = {DRILL_KEY: "nightly", DRILL_OF_KEY: "s1"}


def volume(**over):
    base = {"id": "v1", "status": "available", "size": 10, "snapshot_id": "s1", "metadata": dict(MARKER, extra="x")}
    base.update(over)
    return base


def failed(checks):
    return [c["name"] for c in checks if not c["ok"]]


def test_a_good_restore_passes_every_check():
    checks = check_restored(volume(), SNAP, MARKER)
    assert [c["name"] for c in checks] == ["status", "size", "source", "metadata"] and failed(checks) == []


def test_each_check_can_fail():
    assert failed(check_restored(volume(status="error"), SNAP, MARKER)) == ["status"]
    assert failed(check_restored(volume(size=5), SNAP, MARKER)) == ["size"]
    assert failed(check_restored(volume(snapshot_id="other"), SNAP, MARKER)) == ["source"]
    checks = check_restored(volume(metadata={DRILL_KEY: "nightly"}), SNAP, MARKER)
    assert failed(checks) == ["metadata"] and checks[-1]["detail"] == "missing or changed: cinderops:drill_of"


def test_the_recorded_result_fits_cinder():
    assert verify_result(True) == "ok"
    assert verify_result(False, "restoring s1 failed:\nvolume is in status error") == \
        "failed: restoring s1 failed: volume is in status error"
    long = verify_result(False, "x" * 400)
    assert len(long) == 255 and long.endswith("...")


# ---------------------------------------------------------------- leases: leftovers of a stopped drill vs a live one

from ansible_collections.cinderops.snapshots.plugins.module_utils._drill import (  # noqa: E402
    HEARTBEAT, LEASE, LEASE_KEY, lease_of, lease_text, renewal, sort_leftovers)

NOW = 1764800000.0


def leased(vid, seconds_from_now):
    meta = dict(MARKER)
    if seconds_from_now is not None:
        meta[LEASE_KEY] = lease_text(NOW + seconds_from_now)
    return {"id": vid, "metadata": meta}


def test_a_lease_reads_back_to_the_second_after_the_time_it_was_made_for():
    assert lease_of(leased("v", 30)) == NOW + 31 and lease_of(leased("v", None)) is None
    assert lease_of({"metadata": {LEASE_KEY: "tomorrow"}}) is None


def test_leftovers_are_dead_watched_or_held_by_their_lease():
    dead, watched, held = sort_leftovers(
        [leased("none", None), leased("passed", -5), leased("beat", LEASE - 1),
         leased("edge", LEASE + HEARTBEAT - 1), leased("checks", 600), {"id": "bad", "metadata": {LEASE_KEY: "x"}}],
        NOW)
    assert [v["id"] for v in dead] == ["none", "passed", "bad"]
    assert [v["id"] for v in watched] == ["beat", "edge"] and [v["id"] for v in held] == ["checks"]


def test_a_watched_volume_is_alive_when_renewed_dead_when_its_lease_passes_or_gone():
    before = leased("v", 20)
    assert renewal(before, None, NOW) == "gone"
    assert renewal(before, leased("v", 30), NOW) == "alive"
    assert renewal(before, leased("v", 20), NOW) is None  # not yet renewed, not yet passed: keep watching
    assert renewal(before, leased("v", 20), NOW + 22) == "dead"
    assert renewal(before, leased("v", None), NOW) == "dead"
