# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Admin recovery from Cinder's stuck states, and quota preflight, against the real local cloud.

Stuck states come from the test driver (``fail-delete`` in a name puts a snapshot in
``error_deleting``) or from an admin's ``os-reset_status``; quotas are set low for the test
on the member project and put back afterwards.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

import pytest

from cloudkit import snapshot_status, unique, wait_status
from playbooks import run_tasks

SNAPSHOT = "cinderops.snapshots.snapshot"
ROTATION = "cinderops.snapshots.snapshot_rotation"
OWNER = "cinderops:policy"


def one(module, args, cloud="local-admin", check=False):
    task = {"name": "t", module: dict(args, cloud=cloud), "register": "out", "ignore_errors": True}
    result = run_tasks([task], check=check).task("t")
    assert "most recent call last" not in json.dumps(result["result"]), result["result"]
    return result["outcome"], result["result"]


def set_status(admin, snapshot_id, status):
    resp = admin.block_storage.post("/snapshots/%s/action" % snapshot_id,
                                    json={"os-reset_status": {"status": status}}, microversion="3.0")
    assert resp.status_code == 202, resp.text


def rename(admin, snapshot_id, name):
    resp = admin.block_storage.put("/snapshots/%s" % snapshot_id, json={"snapshot": {"name": name}})
    assert resp.status_code == 200, resp.text


def volume_snapshots(conn, volume_id):
    resp = conn.block_storage.get("/snapshots/detail", params={"volume_id": volume_id}, microversion="3.66")
    return dict((s["id"], s) for s in resp.json()["snapshots"])


@contextmanager
def snapshot_quota(admin, project_id, room):
    """The project's snapshot quota set to what it holds now plus ``room``; put back afterwards."""
    url = "/os-quota-sets/%s" % project_id
    before = admin.block_storage.get(url).json()["quota_set"]["snapshots"]
    usage = admin.block_storage.get(url, params={"usage": "true"}).json()["quota_set"]["snapshots"]
    limit = usage["in_use"] + usage["reserved"] + room
    resp = admin.block_storage.put(url, json={"quota_set": {"snapshots": limit}})
    assert resp.status_code == 200, resp.text
    try:
        yield limit
    finally:
        admin.block_storage.put(url, json={"quota_set": {"snapshots": before}})


# ---------------------------------------------------------------- force delete and reset status

@pytest.mark.smoke
def test_force_delete_recovers_error_deleting_for_an_admin_and_is_refused_for_a_member(admin, demo, tracker):
    vol = tracker.volume(conn=demo)
    snap = tracker.snapshot(demo, vol.id, name=unique("fail-delete"))
    outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent", timeout=60), cloud="local-demo")
    assert outcome == "failed" and "error_deleting" in res["msg"]
    # Already stuck: the message names the way out.
    outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent"), cloud="local-demo")
    assert outcome == "failed" and "force_delete: true" in res["msg"]

    # A member is refused, in check mode (predicted from the token's roles) and for real, and nothing changes.
    for check in (True, False):
        outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent", force_delete=True), cloud="local-demo",
                           check=check)
        assert outcome == "failed" and "force_delete" in res["msg"] and "admin" in res["msg"], res
    assert snapshot_status(admin, snap.id) == "error_deleting"

    # The backend is mended (the name no longer injects the fault); an admin's check mode predicts, then acts.
    rename(admin, snap.id, unique("mended"))
    outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent", force_delete=True), check=True)
    assert outcome == "changed" and snapshot_status(admin, snap.id) == "error_deleting"
    outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent", force_delete=True))
    assert outcome == "changed" and res["snapshot"] is None
    assert snapshot_status(admin, snap.id) is None
    outcome, res = one(SNAPSHOT, dict(id=snap.id, state="absent", force_delete=True))
    assert outcome == "ok"


@pytest.mark.smoke
def test_reset_status_for_an_admin_is_predicted_in_check_mode_and_refused_for_a_member(admin, demo, tracker):
    vol = tracker.volume(conn=demo)
    snap = tracker.snapshot(demo, vol.id, name=unique("stuck"))
    set_status(admin, snap.id, "error_deleting")
    outcome, res = one(SNAPSHOT, dict(id=snap.id), cloud="local-demo")
    assert outcome == "failed" and "error_deleting" in res["msg"] and "reset_status" in res["msg"]

    for check in (True, False):
        outcome, res = one(SNAPSHOT, dict(id=snap.id, reset_status="available"), cloud="local-demo", check=check)
        assert outcome == "failed" and "reset_status needs an admin" in res["msg"], res
    outcome, res = one(SNAPSHOT, dict(id=snap.id, reset_status="available"), check=True)
    assert outcome == "changed" and res["reset_from"] == "error_deleting"
    assert snapshot_status(admin, snap.id) == "error_deleting"

    outcome, res = one(SNAPSHOT, dict(id=snap.id, reset_status="available"))
    assert outcome == "changed" and res["reset_from"] == "error_deleting"
    assert res["snapshot"]["status"] == "available" and snapshot_status(admin, snap.id) == "available"
    outcome, res = one(SNAPSHOT, dict(id=snap.id, reset_status="available"))
    assert outcome == "ok" and "reset_from" not in res


def test_rotation_force_deletes_owned_error_deleting_for_an_admin_and_skips_it_for_a_member(admin, demo, tracker):
    policy = unique("recover")
    args = dict(policy_name=policy, policy={"keep_last": 1, "min_interval": "0h"}, cleanup_errors=True,
                create=False)
    # A member: reported as skipped, untouched.
    member_vol = tracker.volume(conn=demo)
    member_snap = tracker.snapshot(demo, member_vol.id, metadata={OWNER: policy})
    tracker.snapshot(demo, member_vol.id, metadata={OWNER: policy})
    set_status(admin, member_snap.id, "error_deleting")
    outcome, res = one(ROTATION, dict(args, volumes=[member_vol.id]), cloud="local-demo")
    assert outcome == "ok", res
    (volume,) = res["volumes"]
    skipped = dict((s["id"], s) for s in volume["skipped"])
    assert "needs an admin's force delete" in " ".join(skipped[member_snap.id]["reasons"])
    assert snapshot_status(admin, member_snap.id) == "error_deleting"

    # An admin: force-deleted, and the report says which recovery it used.
    vol = tracker.volume()
    stuck = tracker.snapshot(admin, vol.id, metadata={OWNER: policy})
    good = tracker.snapshot(admin, vol.id, metadata={OWNER: policy})
    set_status(admin, stuck.id, "error_deleting")
    outcome, res = one(ROTATION, dict(args, volumes=[vol.id]))
    assert outcome == "changed", res
    (volume,) = res["volumes"]
    pruned = dict((s["id"], s) for s in volume["pruned"])
    assert list(pruned) == [stuck.id] and "force-deleted" in " ".join(pruned[stuck.id]["reasons"])
    wait_status(lambda: snapshot_status(admin, stuck.id), None, timeout=60)
    assert snapshot_status(admin, good.id) == "available"


# ---------------------------------------------------------------- quota

def test_snapshot_module_explains_413_with_the_quota_numbers(admin, demo, tracker):
    vol = tracker.volume(conn=demo)
    with snapshot_quota(admin, demo.current_project_id, room=0) as limit:
        outcome, res = one(SNAPSHOT, dict(volume=vol.id, name=unique("q")), cloud="local-demo")
    assert outcome == "failed" and "413" in res["msg"]
    assert "snapshots: limit %d, in use %d" % (limit, limit) in res["msg"], res["msg"]


@pytest.fixture
def quota_estate(demo, tracker):
    """Three member volumes, each with two owned snapshots of one policy."""
    policy = unique("quota")
    volumes = [tracker.volume(conn=demo) for _volume in range(3)]
    for vol in volumes:
        for _snapshot in range(2):
            tracker.snapshot(demo, vol.id, metadata={OWNER: policy})
    return policy, volumes


def test_quota_preflight_fails_what_does_not_fit_before_any_write(admin, demo, quota_estate, tracker):
    policy, volumes = quota_estate
    before = dict((v.id, set(volume_snapshots(demo, v.id))) for v in volumes)
    args = dict(volumes=[v.id for v in volumes], policy_name=policy, policy={"keep_last": 1, "min_interval": "0h"})
    with snapshot_quota(admin, demo.current_project_id, room=1) as limit:
        outcome, res = one(ROTATION, args, cloud="local-demo")
    assert outcome == "failed", res
    results = dict((v["volume_id"], v) for v in res["volumes"])
    first, rest = volumes[0], volumes[1:]
    tracker.snapshots.append(results[first.id]["created"]["id"])
    assert results[first.id]["created"]["status"] == "available" and len(results[first.id]["pruned"]) == 2
    for vol in rest:
        entry = results[vol.id]
        assert entry["created"] is None and entry["pruned"] == [], entry
        message = " ".join(entry["errors"])
        # The numbers as the run found them: room for one, three due.
        assert "quota snapshots: project demo has 1 of %d snapshots left (%d in use or reserved); this run needs 3" \
            % (limit, limit - 1) in message, message
        # Nothing on it was written: the same snapshots as before.
        assert set(volume_snapshots(demo, vol.id)) == before[vol.id]


def test_make_room_prunes_first_never_below_the_floor_and_then_creates(admin, demo, quota_estate, tracker):
    policy, volumes = quota_estate
    args = dict(volumes=[v.id for v in volumes], policy_name=policy, make_room=True,
                policy={"keep_last": 1, "min_interval": "0h", "min_available": 1})
    with snapshot_quota(admin, demo.current_project_id, room=0):
        outcome, planned = one(ROTATION, args, cloud="local-demo", check=True)
        assert outcome == "changed" and not planned.get("failures"), planned
        outcome, res = one(ROTATION, args, cloud="local-demo")
    assert outcome == "changed", res
    for volume in res["volumes"]:
        tracker.snapshots.append(volume["created"]["id"])
        assert volume["created"]["status"] == "available" and not volume["errors"]
        first = [p for p in volume["pruned"] if "pruned first, to make room for the new snapshot" in p["reasons"]]
        assert len(first) == 1 and any("made room for the new snapshot" in n for n in volume["notes"]), volume
        left = volume_snapshots(demo, volume["volume_id"])
        assert list(left) == [volume["created"]["id"]] and left[volume["created"]["id"]]["status"] == "available"
