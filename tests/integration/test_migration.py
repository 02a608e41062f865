# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The migration guide's converted example play (examples/migration/after.yml) runs against the local cloud."""
from __future__ import annotations

import os

from cloudkit import REPO, snapshot_status, unique
from playbooks import run_playbook

AFTER = os.path.join(REPO, "examples", "migration", "after.yml")


def test_the_converted_play_runs(admin, tracker):
    vol = tracker.volume(name=unique("migrate"))
    run = run_playbook(AFTER, extra_vars={"migration_cloud": "local-admin", "migration_volume": vol.name})
    assert run.rc == 0, run.stdout[-3000:]
    created = run.result("Snapshot the volume before the upgrade")["snapshot"]
    assert created["name"] == "before-upgrade" and created["status"] == "available"
    assert run.result("Show it")["msg"] == "%s is available" % created["id"]
    assert run.result("Count them")["msg"] == "1 snapshot(s)"
    assert run.outcome("Delete the snapshot after the upgrade") == "changed"
    assert snapshot_status(admin, created["id"]) is None
