# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Inputs and states that did surprising, unsafe things (issue 10), against the real local cloud.

Each of these failed before the fix: an empty name created or deleted unnamed snapshots, a name
matched its case variants on MariaDB, a typo'd id read as "not found", a snapshot stuck in
error_deleting was "ok", a bad api_timeout failed late, and a timeout did not say what it waited for.
"""
from __future__ import annotations

import json

import pytest

from cloudkit import RequestLog, snapshot_status, unique, wait_status
from playbooks import run_tasks

SNAPSHOT = "cinderops.snapshots.snapshot"
INFO = "cinderops.snapshots.snapshot_info"
METADATA = "cinderops.snapshots.snapshot_metadata"


def one(module, args, **kw):
    task = run_tasks([{"name": "t", module: args, "register": "out", "ignore_errors": True}], **kw).task("t")
    assert "most recent call last" not in json.dumps(task["result"]), task["result"]
    return task["outcome"], task["result"]


def fails_before_any_request(module, args):
    log = RequestLog()
    outcome, result = one(module, args)
    assert outcome == "failed", result
    assert log.cinder() == [], "no request may be sent for bad input"
    return result["msg"]


@pytest.fixture
def vol(tracker):
    return tracker.volume()


def set_status(admin, snapshot_id, status):
    resp = admin.block_storage.post("/snapshots/%s/action" % snapshot_id,
                                    json={"os-reset_status": {"status": status}}, microversion="3.0")
    assert resp.status_code == 202, resp.text


@pytest.mark.parametrize("name", ["", "  "])
@pytest.mark.parametrize("state", ["present", "absent"])
def test_an_empty_or_blank_name_is_an_error_never_a_match(admin, tracker, vol, name, state):
    unnamed = tracker.snapshot(admin, vol.id, name="")
    msg = fails_before_any_request(SNAPSHOT, dict(volume=vol.id, name=name, state=state))
    assert "name must not be empty or blank" in msg
    assert snapshot_status(admin, unnamed.id) == "available", "the unnamed snapshot is untouched"
    resp = admin.block_storage.get("/snapshots/detail", params={"volume_id": vol.id}, microversion="3.66")
    assert [s["id"] for s in resp.json()["snapshots"]] == [unnamed.id], "and nothing was created"


def test_names_match_exactly_on_a_case_insensitive_database(admin, tracker, vol):
    lower = tracker.snapshot(admin, vol.id, name="ho-snap")
    upper = tracker.snapshot(admin, vol.id, name="ho-SNAP")
    # The cloud's MariaDB really does ignore case (this is what made the defect).
    raw = admin.block_storage.get("/snapshots/detail", params={"name": "ho-snap", "volume_id": vol.id},
                                  microversion="3.66").json()["snapshots"]
    assert sorted(s["id"] for s in raw) == sorted([lower.id, upper.id])
    outcome, res = one(INFO, dict(volume=vol.id, name="ho-snap"))
    assert outcome == "ok" and [s["id"] for s in res["snapshots"]] == [lower.id]
    outcome, res = one(INFO, dict(volume=vol.id, name="ho-snap", limit=1))
    assert [s["id"] for s in res["snapshots"]] == [lower.id]
    # The snapshot module finds exactly one, so it is unchanged rather than "2 snapshots named".
    outcome, res = one(SNAPSHOT, dict(volume=vol.id, name="ho-SNAP"))
    assert outcome == "ok" and res["snapshot"]["id"] == upper.id
    outcome, res = one(METADATA, dict(volume=vol.id, name="ho-snap", metadata={"k": "v"}))
    assert outcome == "changed" and res["snapshot_id"] == lower.id


def test_volume_names_match_exactly_too(admin, tracker):
    name = unique("Case-Vol")
    vol = tracker.volume(name=name)
    outcome, res = one(SNAPSHOT, dict(volume=name.lower(), name="s"))
    assert outcome == "failed" and "was not found" in res["msg"]
    outcome, res = one(SNAPSHOT, dict(volume=name, name="s"), check=True)
    assert outcome == "changed" and res["snapshot"]["volume_id"] == vol.id


def test_present_on_error_deleting_fails_with_the_reason(admin, tracker, vol):
    snap = tracker.snapshot(admin, vol.id, name=unique("stuck"))
    set_status(admin, snap.id, "error_deleting")
    for args in (dict(id=snap.id), dict(volume=vol.id, name=snap.name), dict(id=snap.id, description="x")):
        outcome, res = one(SNAPSHOT, args)
        assert outcome == "failed" and "is in status error_deleting" in res["msg"], res
        assert res["snapshot"]["id"] == snap.id


@pytest.mark.parametrize("module, args, option", [
    (SNAPSHOT, dict(id="not-a-uuid", state="absent"), "id"),
    (SNAPSHOT, dict(id="not-a-uuid", description="x"), "id"),
    (INFO, dict(id="not-a-uuid"), "id"),
    (INFO, dict(marker="not-a-uuid"), "marker"),
    (METADATA, dict(id="not-a-uuid", metadata={"k": "v"}), "id"),
])
def test_a_malformed_id_fails_before_any_request_naming_the_option(cloud, module, args, option):
    msg = fails_before_any_request(module, args)
    assert msg.startswith("%s must be a Cinder id" % option) and "not-a-uuid" in msg


@pytest.mark.parametrize("module, args", [(SNAPSHOT, dict(volume="v", name="a")), (INFO, {}),
                                          (METADATA, dict(volume="v", name="a", metadata={"k": "v"}))])
@pytest.mark.parametrize("api_timeout", [0, -1])
def test_api_timeout_must_be_positive(cloud, module, args, api_timeout):
    msg = fails_before_any_request(module, dict(args, api_timeout=api_timeout))
    assert msg.startswith("api_timeout must be greater than 0")


def test_a_wait_that_times_out_names_the_snapshot(admin, tracker, vol):
    name = unique("slow-6")
    outcome, res = one(SNAPSHOT, dict(volume=vol.id, name=name, timeout=2))
    assert outcome == "failed"
    assert "timed out after" in res["msg"] and "waiting for snapshot" in res["msg"] and name in res["msg"]
    assert res["msg"].endswith("to become available; last status: creating")
    snap_id = [s for s in admin.block_storage.get("/snapshots/detail", params={"volume_id": vol.id}).json()
               ["snapshots"] if s["name"] == name][0]["id"]
    tracker.snapshots.append(snap_id)
    wait_status(lambda: snapshot_status(admin, snap_id), "available", timeout=30)
