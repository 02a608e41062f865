# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cinderops.snapshots.snapshot_restore_drill and the restore_drill role against the real local cloud.

Faults come from the test driver: a snapshot named ``fail-restore`` cannot be restored (the
test volume goes to ``error``), one named ``slow-N`` restores in N seconds.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone

import yaml

import cloudkit
from cloudkit import snapshot_status, unique, wait_status
from playbooks import CLOUDS_YAML, run_tasks

M = "cinderops.snapshots.snapshot_restore_drill"
OWNER = "cinderops:policy"
DRILL = "cinderops:drill"


def one(args, cloud="local-admin", check=False):
    task = {"name": "t", M: dict(args, cloud=cloud), "register": "out", "ignore_errors": True}
    result = run_tasks([task], check=check).task("t")
    assert "most recent call last" not in json.dumps(result["result"]), result["result"]
    return result["outcome"], result["result"]


def drill_volumes(conn, policy):
    """The drill's test volumes of ``policy`` that exist now (any status but gone)."""
    resp = conn.block_storage.get("/volumes/detail", params={"metadata": json.dumps({DRILL: policy})})
    return [v for v in resp.json()["volumes"] if (v.get("metadata") or {}).get(DRILL) == policy]


def metadata_of(conn, snapshot_id):
    return conn.block_storage.get("/snapshots/%s" % snapshot_id).json()["snapshot"]["metadata"]


def owned_snapshot(tracker, conn, volume_id, policy, name=None):
    return tracker.snapshot(conn, volume_id, name=name or unique("snap"), metadata={OWNER: policy})


def test_drill_over_three_volumes_restores_records_and_leaves_nothing(admin, tracker):
    policy = unique("drill")
    volumes = [tracker.volume() for _volume in range(3)]
    newest, older = {}, {}
    for vol in volumes:
        old = owned_snapshot(tracker, admin, vol.id, policy)
        tracker.snapshot(admin, vol.id, name=unique("unowned"))  # never restored: not the policy's
        newest[vol.id] = owned_snapshot(tracker, admin, vol.id, policy)
        # Cinder keeps created_at to the second: the older one is made a day old.
        older[old.id] = (datetime.now(timezone.utc) - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
    cloudkit.backdate(older)
    args = dict(policy_name=policy, volumes=[v.name for v in volumes])

    outcome, planned = one(args, check=True)
    assert outcome == "changed" and planned["summary"] == {"would restore": 3}
    assert sorted(d["snapshot"]["id"] for d in planned["drills"]) == sorted(s.id for s in newest.values())
    assert drill_volumes(admin, policy) == []
    assert all("cinderops:verified_at" not in metadata_of(admin, s.id) for s in newest.values())

    outcome, res = one(args)
    assert outcome == "changed" and res["summary"] == {"ok": 3}, res
    for drill in res["drills"]:
        assert drill["snapshot"]["id"] == newest[drill["volume_id"]].id
        assert drill["test_volume"]["status"] == "deleted" and all(c["ok"] for c in drill["checks"])
        assert set(c["name"] for c in drill["checks"]) == {"status", "size", "source", "metadata"}
        meta = metadata_of(admin, drill["snapshot"]["id"])
        assert meta["cinderops:verify_result"] == "ok" and meta["cinderops:verified_at"] == drill["verified_at"]
        assert meta[OWNER] == policy and snapshot_status(admin, drill["snapshot"]["id"]) == "available"
    assert drill_volumes(admin, policy) == []

    # The rotation report shows the newest verified restorable snapshot per volume.
    rotation = run_tasks([{"name": "rotate", "cinderops.snapshots.snapshot_rotation": dict(
        volumes=[v.id for v in volumes], policy_name=policy, policy={"keep_last": 5}, create=False,
        cloud="local-admin"), "register": "rotated"},
        {"name": "report", "ansible.builtin.set_fact": {
            "report": "{{ [rotated] | cinderops.snapshots.rotation_report(max_restore_age='1d') }}"}}])
    report = rotation.result("report")["ansible_facts"]["report"]
    rows = report["policies"][0]["volumes"]
    assert sorted(r["newest_verified"]["id"] for r in rows) == sorted(s.id for s in newest.values())
    assert report["restore_stale"] == []


def test_snapshot_that_fails_to_restore_fails_with_the_reason_and_leaves_nothing(admin, tracker):
    policy = unique("drill")
    good_vol, bad_vol = tracker.volume(), tracker.volume()
    good = owned_snapshot(tracker, admin, good_vol.id, policy)
    bad = owned_snapshot(tracker, admin, bad_vol.id, policy, name=unique("fail-restore"))
    t0 = time.monotonic()
    outcome, res = one(dict(policy_name=policy, volumes=[good_vol.id, bad_vol.id], timeout=120))
    assert outcome == "failed" and time.monotonic() - t0 < 60
    assert "restore drill failed on 1 of 2 volume(s)" in res["msg"] and bad.id in res["msg"]
    assert "status error" in res["msg"], res["msg"]
    drills = dict((d["volume_id"], d) for d in res["drills"])
    assert drills[good_vol.id]["result"] == "ok" and drills[bad_vol.id]["result"] == "failed"
    assert drills[bad_vol.id]["test_volume"]["status"] == "deleted"
    assert metadata_of(admin, bad.id)["cinderops:verify_result"].startswith("failed: ")
    assert metadata_of(admin, good.id)["cinderops:verify_result"] == "ok"
    assert drill_volumes(admin, policy) == []
    assert snapshot_status(admin, bad.id) == "available"


def _drill_playbook(tmp_path, policy, volume_id):
    play = [{"hosts": "localhost", "gather_facts": False, "connection": "local", "tasks": [
        {"name": "drill", M: {"cloud": "local-admin", "policy_name": policy, "volumes": [volume_id],
                              "timeout": 120}}]}]
    path = tmp_path / "drill.yml"
    path.write_text(yaml.safe_dump(play))
    return str(path)


def test_drill_killed_mid_way_is_cleaned_up_by_the_next(admin, tracker, tmp_path):
    policy = unique("drill")
    vol = tracker.volume()
    snap = owned_snapshot(tracker, admin, vol.id, policy, name=unique("slow-6"))
    env = dict(os.environ, OS_CLIENT_CONFIG_FILE=CLOUDS_YAML, ANSIBLE_NOCOLOR="1")
    argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
            "-e", "ansible_python_interpreter=%s" % sys.executable, _drill_playbook(tmp_path, policy, vol.id)]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while not drill_volumes(admin, policy):
            assert proc.poll() is None and time.monotonic() < deadline, "the drill never made its test volume"
            time.sleep(0.2)
    finally:
        cloudkit.kill_tree(proc.pid)
        proc.wait()
    (left,) = drill_volumes(admin, policy)
    assert left["metadata"]["cinderops:drill_of"] == snap.id

    outcome, res = one(dict(policy_name=policy, volumes=[vol.id], timeout=120))
    assert outcome == "changed" and res["removed"] == [left["id"]], res
    assert res["summary"] == {"ok": 1}
    assert drill_volumes(admin, policy) == []
    assert cloudkit.volume_status(admin, left["id"]) is None and snapshot_status(admin, snap.id) == "available"


def test_drill_refuses_to_start_without_room_for_a_test_volume(admin, demo, tracker):
    policy = unique("drill")
    vol = tracker.volume(conn=demo)
    owned_snapshot(tracker, demo, vol.id, policy)
    url = "/os-quota-sets/%s" % demo.current_project_id
    before = admin.block_storage.get(url).json()["quota_set"]["volumes"]
    usage = admin.block_storage.get(url, params={"usage": "true"}).json()["quota_set"]["volumes"]
    limit = usage["in_use"] + usage["reserved"]
    assert admin.block_storage.put(url, json={"quota_set": {"volumes": limit}}).status_code == 200
    try:
        outcome, res = one(dict(policy_name=policy, volumes=[vol.id]), cloud="local-demo")
    finally:
        admin.block_storage.put(url, json={"quota_set": {"volumes": before}})
    assert outcome == "failed", res
    assert "the restore drill cannot start: quota volumes: project demo has 0 of %d volumes left" % limit \
        in res["msg"], res["msg"]
    assert drill_volumes(demo, policy) == []


def test_role_runs_the_users_checks_and_records_their_verdict(admin, tracker, tmp_path):
    policy = unique("drill")
    vol = tracker.volume()
    snap = owned_snapshot(tracker, admin, vol.id, policy)
    checks = tmp_path / "checks.yml"
    checks.write_text(yaml.safe_dump([
        {"name": "The restored volume is there", "cinderops.snapshots.snapshot_info": {
            "cloud": "local-admin", "volume": "{{ restore_drill_volume.id }}"}, "register": "seen"},
        {"name": "Application check", "ansible.builtin.assert": {
            "that": ["restore_drill_volume.id | length == 36", "seen.snapshots == []", "app_ok | bool"],
            "fail_msg": "the application data did not verify"}}]))
    role = {"name": "drill", "ansible.builtin.include_role": {"name": "cinderops.snapshots.restore_drill"},
            "vars": {"restore_drill_cloud": "local-admin", "restore_drill_policy_name": policy,
                     "restore_drill_volumes": [vol.id], "restore_drill_checks_tasks": str(checks)}}
    run = run_tasks([role], cloud=None, extra_vars={"app_ok": True})
    assert run.rc == 0, run.stdout[-3000:]
    assert metadata_of(admin, snap.id)["cinderops:verify_result"] == "ok"

    run = run_tasks([role], cloud=None, extra_vars={"app_ok": False})
    assert run.rc != 0 and "Restore drill failed" in run.stdout, run.stdout[-3000:]
    result = metadata_of(admin, snap.id)["cinderops:verify_result"]
    assert result.startswith("failed: Application check failed") and "did not verify" in result, result
    assert drill_volumes(admin, policy) == []
    wait_status(lambda: snapshot_status(admin, snap.id), "available", timeout=10)
