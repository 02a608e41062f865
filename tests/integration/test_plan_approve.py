# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan, approve, apply: two AWX workflow nodes run with ansible-runner against the real local cloud.

AWX runs each node as an ansible-runner job; the ``set_stats`` data of one job (its artifacts,
in the ``playbook_on_stats`` event) becomes extra variables of the next. The plan job runs the
rotate playbook in check mode; the approval node passes nothing of its own; the apply job runs it
for real with the artifacts.
"""
from __future__ import annotations

import os
import shutil
import sys

import pytest
import yaml

import cloudkit
from cloudkit import REPO, snapshot_status, unique

OWNER = "cinderops:policy"
RULES = {"keep_last": 2, "min_interval": "0h"}


def run_job(tmp_path, name, extravars, check=False):
    """One AWX job: a private data dir with the project's playbook; returns (status, artifacts, events)."""
    import ansible_runner
    data = tmp_path / name
    for sub in ("env", "inventory", "project"):
        (data / sub).mkdir(parents=True)
    (data / "env" / "extravars").write_text(yaml.safe_dump(extravars))
    (data / "env" / "envvars").write_text(yaml.safe_dump({
        "OS_CLIENT_CONFIG_FILE": cloudkit.CLOUDS_YAML,
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"],
        "PATH": os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]}))
    (data / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    shutil.copy(os.path.join(REPO, "examples", "awx", "rotate.yml"), data / "project" / "rotate.yml")
    result = ansible_runner.run(private_data_dir=str(data), playbook="rotate.yml", quiet=True,
                                cmdline="--check" if check else None)
    events = list(result.events)
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    artifacts = stats[-1]["event_data"].get("artifact_data") or {} if stats else {}
    return result.status, artifacts, events


def rotation_result(events):
    found = [e["event_data"]["res"] for e in events if e.get("event") in ("runner_item_on_ok", "runner_item_on_failed")
             and e["event_data"].get("task") == "Rotate the snapshots of each policy"]
    assert len(found) == 1, [e.get("event") for e in events]
    return found[0]


def owned(admin, volume_ids, policy):
    out = {}
    for volume_id in volume_ids:
        resp = admin.block_storage.get("/snapshots/detail", params={"volume_id": volume_id})
        out.update((s["id"], s) for s in resp.json()["snapshots"] if s["metadata"].get(OWNER) == policy)
    return out


@pytest.fixture
def estate(admin, tracker, tmp_path):
    """Two volumes with three owned snapshots each; the job's variables select them by metadata."""
    policy, label = unique("appr"), unique("sel")
    volumes = []
    for _volume in range(2):
        vol = tracker.volume()
        admin.block_storage.put("/volumes/%s/metadata" % vol.id, json={"metadata": {"rotation": label}})
        for _snapshot in range(3):
            tracker.snapshot(admin, vol.id, metadata={OWNER: policy})
        volumes.append(vol.id)
    extravars = {"rotation_cloud": "local-admin", "rotation_report_dir": str(tmp_path / "reports"),
                 "rotation_policies": [{"name": policy, "volume_metadata": {"rotation": label}, "retention": RULES}]}
    return policy, volumes, extravars


def test_apply_runs_exactly_the_approved_plan(admin, estate, tmp_path, tracker):
    policy, volumes, extravars = estate
    before = owned(admin, volumes, policy)
    status, artifacts, _events = run_job(tmp_path, "plan", extravars, check=True)
    assert status == "successful"
    plan = artifacts["rotation_plans"][policy]
    assert plan["fingerprint"].startswith("sha256:") and len(plan["creates"]) == 2 and len(plan["deletes"]) == 4
    assert artifacts["rotation_plan_summary"] == ["%s: 2 snapshot(s) to create and 4 to delete on 2 volume(s)" % policy]
    assert owned(admin, volumes, policy) == before  # the plan job wrote nothing

    # The approval node passes the artifacts on; the apply job gets them as extra variables.
    status, applied, events = run_job(tmp_path, "apply", dict(extravars, **artifacts))
    assert status == "successful"
    result = rotation_result(events)
    tracker.snapshots.extend(v["created"]["id"] for v in result["volumes"])
    assert result["plan"]["fingerprint"] == plan["fingerprint"]
    deleted = set(before) - set(owned(admin, volumes, policy))
    assert deleted == set(d["snapshot_id"] for d in plan["deletes"])
    assert sorted(v["volume_id"] for v in result["volumes"] if v["created"]) == sorted(volumes)
    assert "rotation_plans" not in applied and applied["rotation_report_ok"] in (True, "True")


def test_a_plan_that_changed_since_approval_changes_nothing_and_says_what_changed(admin, estate, tmp_path):
    policy, volumes, extravars = estate
    status, artifacts, _events = run_job(tmp_path, "plan", extravars, check=True)
    assert status == "successful"
    plan = artifacts["rotation_plans"][policy]
    # Between approval and apply, someone puts a hold on a snapshot the plan would delete.
    held = plan["deletes"][0]["snapshot_id"]
    admin.block_storage.post("/snapshots/%s/metadata" % held, json={"metadata": {"cinderops:hold": "audit"}})
    before = owned(admin, volumes, policy)

    status, _applied, events = run_job(tmp_path, "apply", dict(extravars, **artifacts))
    assert status == "failed"
    result = rotation_result(events)
    assert "the plan changed since it was approved" in result["msg"], result["msg"]
    assert "- delete snapshot %s" % held in result["msg"]
    assert result["plan_differences"] == ["- delete snapshot %s of %s (now kept, or gone)" % (
        held, plan["deletes"][0]["volume_name"])]
    assert owned(admin, volumes, policy) == before  # nothing created, nothing deleted
    assert snapshot_status(admin, held) == "available"
