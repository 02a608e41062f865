# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cinderops.snapshots.snapshot through ansible-playbook against the real local cloud."""
from __future__ import annotations

import json
import time
import uuid

import pytest
import yaml

import cloudkit
from cloudkit import RequestLog, snapshot_status, unique, volume_status, wait_status
from playbooks import run_tasks

M = "cinderops.snapshots.snapshot"


def snap_task(args):
    return {"name": "t", M: args, "register": "out", "ignore_errors": True}


def one(args, **kw):
    """Run the module once; return (outcome, result)."""
    run = run_tasks([snap_task(args)], **kw)
    task = run.task("t")
    return task["outcome"], task["result"]


def ok(args, **kw):
    outcome, result = one(args, **kw)
    assert outcome in ("ok", "changed"), result.get("msg", result)
    return outcome == "changed", result


def failed(args, **kw):
    outcome, result = one(args, **kw)
    assert outcome == "failed", result
    # ansible-core >= 2.19 always sets "exception" to a placeholder; a real traceback must never be there.
    assert "most recent call last" not in json.dumps(result), result
    return result["msg"]


@pytest.fixture
def vol(tracker):
    return tracker.volume()


def server_snapshots(admin, volume_id):
    return admin.block_storage.get("/snapshots/detail", params={"volume_id": volume_id},
                                   microversion="3.66").json()["snapshots"]


# ---------------------------------------------------------------- present


@pytest.mark.smoke
def test_create_waits_until_available_then_rerun_is_unchanged(admin, vol):
    name = unique("snap")
    args = dict(volume=vol.name, name=name, description="first", metadata={"team": "db", "copies": 2, "on": True})
    changed, res = ok(args)
    snap = res["snapshot"]
    assert changed and snap["status"] == "available"
    assert snap["metadata"] == {"team": "db", "copies": "2", "on": "true"}
    for key in ("id", "name", "description", "volume_id", "status", "size", "metadata", "progress", "project_id",
                "user_id", "created_at", "updated_at"):
        assert key in snap
    assert snap["volume_id"] == vol.id and snap["size"] == 1 and snap["progress"] == "100%"
    assert snap["project_id"] == admin.current_project_id
    # The rerun, by volume name and by volume id, changes nothing.
    assert ok(args) == (False, ok(args)[1])
    changed, res = ok(dict(args, volume=vol.id))
    assert not changed and res["snapshot"]["id"] == snap["id"]
    assert [s["id"] for s in server_snapshots(admin, vol.id)] == [snap["id"]]


@pytest.mark.smoke
def test_update_description_and_merge_or_purge_metadata(admin, vol):
    name = unique("snap")
    ok(dict(volume=vol.id, name=name, metadata={"a": "1", "b": "2", "cinderops:policy": "nightly"}))
    changed, res = ok(dict(volume=vol.id, name=name, description="new text", metadata={"c": "3"}))
    assert changed and res["snapshot"]["description"] == "new text"
    assert res["snapshot"]["metadata"] == {"a": "1", "b": "2", "c": "3", "cinderops:policy": "nightly"}
    changed, res = ok(dict(volume=vol.id, name=name, metadata={"a": "9"}, purge_metadata=True))
    # Purge keeps the reserved ownership key.
    assert changed and res["snapshot"]["metadata"] == {"a": "9", "cinderops:policy": "nightly"}
    server = admin.block_storage.get("/snapshots/%s/metadata" % res["snapshot"]["id"]).json()["metadata"]
    assert server == {"a": "9", "cinderops:policy": "nightly"}
    assert ok(dict(volume=vol.id, name=name, metadata={"a": "9"}, purge_metadata=True))[0] is False
    # Options not given are left alone.
    changed, res = ok(dict(volume=vol.id, name=name))
    assert not changed and res["snapshot"]["description"] == "new text"


def test_rename_by_id(admin, vol):
    _changed, res = ok(dict(volume=vol.id, name=unique("old")))
    sid = res["snapshot"]["id"]
    new = unique("new")
    changed, res = ok(dict(id=sid, name=new))
    assert changed and res["snapshot"]["name"] == new
    assert admin.block_storage.get_snapshot(sid).name == new
    assert ok(dict(id=sid, name=new))[0] is False


def test_same_name_on_two_volumes_is_managed_independently(admin, tracker):
    v1, v2 = tracker.volume(), tracker.volume()
    name = unique("shared")
    _changed, r1 = ok(dict(volume=v1.id, name=name, description="one"))
    _changed, r2 = ok(dict(volume=v2.id, name=name, description="two"))
    assert r1["snapshot"]["id"] != r2["snapshot"]["id"]
    ok(dict(volume=v1.id, name=name, description="uno"))
    assert admin.block_storage.get_snapshot(r2["snapshot"]["id"]).description == "two"
    ok(dict(volume=v2.id, name=name, state="absent"))
    assert snapshot_status(admin, r1["snapshot"]["id"]) == "available"


def test_duplicate_names_on_one_volume_fail_and_list_ids(admin, tracker, vol):
    name = unique("dup")
    ids = sorted(tracker.snapshot(admin, vol.id, name=name).id for _i in range(2))
    msg = failed(dict(volume=vol.id, name=name, description="x"))
    assert "2 snapshots named" in msg and ids[0] in msg and ids[1] in msg


def test_name_with_spaces_is_stripped_like_cinder_does(admin, vol):
    name = unique("strip")
    ok(dict(volume=vol.id, name="  %s  " % name))
    changed, res = ok(dict(volume=vol.id, name=name))
    assert not changed and res["snapshot"]["name"] == name


def test_snapshot_still_creating_is_waited_for(admin, tracker, vol):
    name = unique("slow-2")
    snap = admin.block_storage.create_snapshot(volume_id=vol.id, name=name)
    tracker.snapshots.append(snap.id)
    changed, res = ok(dict(volume=vol.id, name=name))
    assert not changed and res["snapshot"]["status"] == "available" and res["snapshot"]["id"] == snap.id


@pytest.mark.smoke
def test_create_that_lands_in_error_fails_fast_naming_status_and_time(admin, tracker, vol):
    name = unique("fail-create")
    t0 = time.monotonic()
    outcome, res = one(dict(volume=vol.id, name=name, timeout=120))
    assert outcome == "failed" and time.monotonic() - t0 < 30
    assert "is in status error" in res["msg"] and name in res["msg"] and "after" in res["msg"]
    assert res["status"] == "error" and res["waited"] < 10
    sid = server_snapshots(admin, vol.id)[0]["id"]
    tracker.snapshots.append(sid)
    # A snapshot in error is never reported as ok: the rerun fails and says how to remove it.
    msg = failed(dict(volume=vol.id, name=name))
    assert "status error" in msg and "state: absent" in msg
    # ... and state=absent removes it.
    changed, _result = ok(dict(volume=vol.id, name=name, state="absent"))
    assert changed and snapshot_status(admin, sid) is None


# ---------------------------------------------------------------- absent


@pytest.mark.smoke
def test_delete_waits_until_gone_and_rerun_is_unchanged(admin, vol):
    name = unique("del")
    _changed, res = ok(dict(volume=vol.id, name=name))
    changed, res2 = ok(dict(volume=vol.id, name=name, state="absent"))
    assert changed and res2["snapshot"] is None
    assert snapshot_status(admin, res["snapshot"]["id"]) is None
    assert ok(dict(volume=vol.id, name=name, state="absent"))[0] is False
    assert ok(dict(id=res["snapshot"]["id"], state="absent"))[0] is False


@pytest.mark.smoke
def test_delete_into_error_deleting_fails_fast(admin, tracker, vol):
    snap = tracker.snapshot(admin, vol.id, name=unique("fail-delete"))
    t0 = time.monotonic()
    outcome, res = one(dict(id=snap.id, state="absent", timeout=120))
    assert outcome == "failed" and time.monotonic() - t0 < 30
    assert "error_deleting" in res["msg"] and snap.id in res["msg"]
    # Now already in error_deleting: fails at once, saying an admin must act.
    msg = failed(dict(id=snap.id, state="absent"))
    assert "error_deleting" in msg and "admin" in msg


@pytest.mark.smoke
@pytest.mark.parametrize("backend", ["rbd", "lvm"])
def test_delete_of_a_snapshot_with_a_dependent_volume_follows_the_backend(admin, tracker, backend):
    """RBD refuses (the snapshot is available again: a clear failure within a poll); LVM deletes it."""
    vol = tracker.volume(volume_type=cloudkit.LVM_LIKE if backend == "lvm" else cloudkit.RBD_LIKE)
    snap = tracker.snapshot(admin, vol.id, name=unique("busy"))
    child = admin.block_storage.create_volume(size=1, snapshot_id=snap.id, name=unique("child"))
    tracker.volumes.append(child.id)
    wait_status(lambda: volume_status(admin, child.id), "available", timeout=60)
    t0 = time.monotonic()
    outcome, res = one(dict(id=snap.id, state="absent", timeout=170))
    if backend == "rbd":
        assert outcome == "failed" and time.monotonic() - t0 < 30
        assert "refused" in res["msg"] and "available again" in res["msg"]
        assert child.id in res["msg"] or "busy" in res["msg"].lower() or "dependent" in res["msg"]
        assert res["waited"] < 10
        assert snapshot_status(admin, snap.id) == "available"
    else:
        assert outcome == "changed", res.get("msg", res)
        assert snapshot_status(admin, snap.id) is None
    assert volume_status(admin, child.id) == "available"


# ---------------------------------------------------------------- in-use volumes, microversions

def _attach(admin, volume_id):
    connector = {"initiator": "iqn.2026-11.org.cinderops:test", "ip": "127.0.0.1", "host": "cinderops-test",
                 "multipath": False, "platform": "x86_64", "os_type": "linux"}
    att = admin.block_storage.post("/attachments", json={"attachment": {
        "volume_uuid": volume_id, "instance_uuid": str(uuid.uuid4()), "connector": connector}},
        microversion="3.54").json()["attachment"]
    admin.block_storage.post("/attachments/%s/action" % att["id"], json={"os-complete": None}, microversion="3.54")
    wait_status(lambda: volume_status(admin, volume_id), "in-use", timeout=30)
    return att["id"]


@pytest.fixture
def in_use_volume(admin, tracker):
    vol = tracker.volume()
    _attach(admin, vol.id)
    # No Nova here, so Cinder cannot confirm a detach (DELETE /attachments asks Nova);
    # the tracker resets the volume to available/detached and deletes it.
    return vol


@pytest.fixture(scope="module")
def old_microversion_clouds(tmp_path_factory, cloud):
    """clouds.yaml with a cloud capped below 3.66 and one asking above the server's maximum."""
    with open(cloudkit.CLOUDS_YAML) as f:
        conf = yaml.safe_load(f)
    conf["clouds"]["local-admin-3.60"] = dict(conf["clouds"]["local-admin"], block_storage_default_microversion="3.60")
    conf["clouds"]["local-admin-3.99"] = dict(conf["clouds"]["local-admin"], block_storage_default_microversion="3.99")
    path = tmp_path_factory.mktemp("clouds") / "clouds.yaml"
    path.write_text(yaml.safe_dump(conf))
    return {"OS_CLIENT_CONFIG_FILE": str(path)}


@pytest.mark.smoke
def test_in_use_volume_from_3_66_needs_no_force(admin, in_use_volume):
    log = RequestLog()
    changed, res = ok(dict(volume=in_use_volume.id, name=unique("inuse")))
    assert changed and res["snapshot"]["status"] == "available"
    post = [r for r in log.cinder() if r[0] == "POST"]
    assert len(post) == 1 and post[0][2] == 202


def test_in_use_volume_before_3_66_needs_force(admin, in_use_volume, old_microversion_clouds):
    env = old_microversion_clouds
    msg = failed(dict(cloud="local-admin-3.60", volume=in_use_volume.id, name=unique("inuse")), env=env)
    assert "in-use" in msg and "force: true" in msg and "3.60" in msg
    changed, res = ok(dict(cloud="local-admin-3.60", volume=in_use_volume.id, name=unique("inuse"), force=True),
                      env=env)
    assert changed and res["snapshot"]["status"] == "available"
    # force=true at 3.66 is fine too: the module does not send it there.
    changed, res = ok(dict(volume=in_use_volume.id, name=unique("inuse"), force=True))
    assert changed


def test_configured_microversion_above_the_cloud_is_a_clear_error(admin, vol, old_microversion_clouds):
    msg = failed(dict(cloud="local-admin-3.99", volume=vol.id, name=unique("mv")), env=old_microversion_clouds)
    assert msg.startswith("could not connect to Cinder") and "3.99" in msg and "3.71" in msg
    assert server_snapshots(admin, vol.id) == []


# ---------------------------------------------------------------- check mode and diff mode


@pytest.mark.smoke
def test_check_mode_makes_no_write_and_predicts(admin, vol):
    name = unique("chk")
    log = RequestLog()
    outcome, res = one(dict(volume=vol.name, name=name, description="d", metadata={"k": "v"}), check=True, diff=True)
    assert outcome == "changed" and log.writes() == []
    assert res["snapshot"]["name"] == name and res["snapshot"]["metadata"] == {"k": "v"}
    assert res["snapshot"]["volume_id"] == vol.id and res["snapshot"]["id"] is None
    assert res["diff"]["before"] == {"state": "absent"} and res["diff"]["after"]["metadata"] == {"k": "v"}
    assert server_snapshots(admin, vol.id) == []
    # Real run, then check mode on an update and on a delete: still no writes, exact predictions.
    _changed, real = ok(dict(volume=vol.name, name=name, description="d", metadata={"k": "v"}))
    log.start()
    outcome, res = one(dict(volume=vol.id, name=name, description="e", metadata={"x": "1"}), check=True, diff=True)
    assert outcome == "changed" and log.writes() == []
    assert res["diff"] == {"before": {"description": "d", "metadata": {"k": "v"}},
                           "after": {"description": "e", "metadata": {"k": "v", "x": "1"}}}
    assert res["snapshot"]["id"] == real["snapshot"]["id"]
    outcome, res = one(dict(volume=vol.id, name=name, state="absent"), check=True, diff=True)
    assert outcome == "changed" and log.writes() == []
    assert res["diff"]["after"] == {"state": "absent"} and res["diff"]["before"]["state"] == "present"
    assert snapshot_status(admin, real["snapshot"]["id"]) == "available"
    outcome, res = one(dict(volume=vol.id, name=name, description="d"), check=True)
    assert outcome == "ok"


# ---------------------------------------------------------------- bad input, before any write

@pytest.mark.parametrize("args, expect", [
    (dict(volume="no-such-volume-xyz", name="a"), "volume 'no-such-volume-xyz' was not found"),
    (dict(volume="11111111-2222-3333-4444-555555555555", name="a"), "was not found"),
    (dict(volume="v", name="n" * 256), "name is 256 characters long"),
    (dict(volume="v", name="a", description="two\nlines"), "description must not contain a newline"),
    (dict(volume="v", name="a", description="d" * 300), "description is 300 characters long"),
    (dict(volume="v", name="a", metadata={"bad/key": "x"}), "metadata key 'bad/key' is not accepted"),
    (dict(volume="v", name="a", metadata={"k": "v" * 256}), "metadata['k'] is 256 characters long"),
    (dict(volume="v", name="a", metadata={"k": ["list"]}), "metadata['k'] must be a string"),
    (dict(volume="v", name="a", timeout=0), "timeout must be greater than 0"),
    (dict(name="a"), "volume is required"),
    (dict(id="11111111-2222-3333-4444-555555555555", name="a"), "does not exist"),
])
def test_bad_input_fails_before_any_write(cloud, args, expect):
    log = RequestLog()
    msg = failed(args)
    assert expect in msg
    assert log.writes() == []


def test_id_and_volume_that_disagree(admin, tracker):
    v1, v2 = tracker.volume(), tracker.volume()
    _changed, res = ok(dict(volume=v1.id, name=unique("s")))
    log = RequestLog()
    msg = failed(dict(id=res["snapshot"]["id"], volume=v2.id, description="x"))
    assert "id and volume disagree" in msg and log.writes() == []


def test_bad_credentials_and_unknown_cloud(cloud):
    msg = failed(dict(cloud="no-such-cloud", volume="v", name="a"))
    assert "no-such-cloud" in msg and "clouds.yaml" in msg
    bad_auth = {"auth_url": "http://127.0.0.1:5000/v3", "username": "admin", "password": "wrong",
                "project_name": "admin", "user_domain_name": "Default", "project_domain_name": "Default"}
    outcome, res = one(dict(cloud=None, auth=bad_auth, auth_type="password", volume="v", name="a"), cloud=None)
    assert outcome == "failed" and "authentication failed" in res["msg"]
    assert "wrong" not in str(res)


def test_demo_is_refused_admins_snapshot(admin, tracker, vol):
    snap = tracker.snapshot(admin, vol.id)
    msg = failed(dict(id=snap.id, description="mine now"), cloud="local-demo")
    assert "does not exist" in msg
    # To demo the snapshot does not exist (Cinder answers 404), so absent is a no-op, and it survives.
    changed, res = ok(dict(id=snap.id, state="absent"), cloud="local-demo")
    assert not changed and res["snapshot"] is None
    assert snapshot_status(admin, snap.id) == "available"


@pytest.mark.smoke
def test_reader_role_is_told_it_is_not_allowed(demo, tracker):
    vol = tracker.volume(conn=demo)
    msg = failed(dict(volume=vol.id, name=unique("ro")), cloud="local-reader")
    assert "403" in msg and "role" in msg and "request id req-" in msg


@pytest.mark.smoke
def test_quota_exceeded_names_the_quota(admin, demo, tracker):
    vol = tracker.volume(conn=demo)
    project = demo.current_project_id
    quota_url = "/os-quota-sets/%s" % project
    before = admin.block_storage.get(quota_url).json()["quota_set"]["snapshots"]
    # Cinder refuses a limit below what the project already holds: the limit is what it holds now.
    in_use = admin.block_storage.get(quota_url, params={"usage": "true"}).json()["quota_set"]["snapshots"]["in_use"]
    resp = admin.block_storage.put(quota_url, json={"quota_set": {"snapshots": in_use}})
    assert resp.status_code == 200, resp.text
    try:
        msg = failed(dict(volume=vol.id, name=unique("q")), cloud="local-demo")
    finally:
        admin.block_storage.put(quota_url, json={"quota_set": {"snapshots": before}})
    assert "413" in msg and "snapshots quota exceeded" in msg


def test_sdk_log_is_written_without_secrets(vol, tmp_path):
    """openstack.cloud's sdk_log_path and sdk_log_level: the SDK path logs, and never the password or the token."""
    with open(cloudkit.CLOUDS_YAML) as f:
        password = yaml.safe_load(f)["clouds"]["local-admin"]["auth"]["password"]
    log = tmp_path / "sdk.log"
    ok(dict(volume=vol.id, name=unique("logged"), sdk_log_path=str(log), sdk_log_level="DEBUG"))
    text = log.read_text()
    assert "REQ: curl" in text and "/snapshots" in text, text[:2000]
    assert password not in text
    assert "X-Auth-Token: {SHA256}" in text  # keystoneauth masks the token
    msg = failed(dict(volume=vol.id, name="n", sdk_log_path=str(tmp_path / "no" / "dir" / "sdk.log")))
    assert "sdk_log_path must be a file in an existing directory" in msg
