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
