# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The local cloud itself: injected faults, refused deletes, backdating, isolation, and its CLI's errors.

These go through openstacksdk straight to the real Keystone and Cinder, so the
modules' tests can trust what the cloud does.
"""
from __future__ import annotations

import os
import shutil
import socket
import stat
import sys
import time

import pytest

import cloudkit
from cloudkit import snapshot_status, unique, volume_status, wait_status


def test_snapshot_round_trip_goes_through_real_statuses(admin, tracker):
    vol = tracker.volume()
    snap = admin.block_storage.create_snapshot(volume_id=vol.id, name=unique("plain"))
    tracker.snapshots.append(snap.id)
    assert snap.status == "creating"
    wait_status(lambda: snapshot_status(admin, snap.id), "available", timeout=30)
    admin.block_storage.delete_snapshot(snap.id)
    wait_status(lambda: snapshot_status(admin, snap.id), None, timeout=30)


def test_fail_create_snapshot_lands_in_error(admin, tracker):
    vol = tracker.volume()
    snap = admin.block_storage.create_snapshot(volume_id=vol.id, name=unique("fail-create"))
    tracker.snapshots.append(snap.id)
    seen = []
    wait_status(lambda: snapshot_status(admin, snap.id), "error", timeout=30, seen=seen)
    assert seen[0] in ("creating", "error")
    assert "available" not in seen


def test_fail_create_volume_lands_in_error(admin, tracker):
    vol = admin.block_storage.create_volume(size=1, name=unique("fail-create"))
    tracker.volumes.append(vol.id)
    wait_status(lambda: volume_status(admin, vol.id), "error", timeout=60)


def test_fail_delete_snapshot_lands_in_error_deleting(admin, tracker):
    vol = tracker.volume()
    snap = tracker.snapshot(admin, vol.id, name=unique("fail-delete"))
    admin.block_storage.delete_snapshot(snap.id)
    seen = []
    wait_status(lambda: snapshot_status(admin, snap.id), "error_deleting", timeout=30, seen=seen)
    assert None not in seen
    # A plain DELETE of an error_deleting snapshot is refused by the API.
    resp = admin.block_storage.delete("/snapshots/%s" % snap.id)
    assert resp.status_code == 400


def test_slow_snapshot_is_seen_creating_then_deleting(admin, tracker):
    vol = tracker.volume()
    snap = admin.block_storage.create_snapshot(volume_id=vol.id, name=unique("slow-2"))
    tracker.snapshots.append(snap.id)
    t0 = time.monotonic()
    seen = []
    wait_status(lambda: snapshot_status(admin, snap.id), "available", timeout=30, seen=seen)
    assert seen[0] == "creating" and time.monotonic() - t0 >= 1.5
    admin.block_storage.delete_snapshot(snap.id)
    seen = []
    t0 = time.monotonic()
    wait_status(lambda: snapshot_status(admin, snap.id), None, timeout=30, seen=seen)
    assert "deleting" in seen and time.monotonic() - t0 >= 1.5


def test_delete_with_dependent_volume_is_refused_after_202(admin, tracker):
    vol = tracker.volume()
    snap = tracker.snapshot(admin, vol.id)
    child = admin.block_storage.create_volume(size=1, snapshot_id=snap.id, name=unique("child"))
    tracker.volumes.append(child.id)
    wait_status(lambda: volume_status(admin, child.id), "available", timeout=60)
    resp = admin.block_storage.delete("/snapshots/%s" % snap.id)
    assert resp.status_code == 202
    seen = []
    wait_status(lambda: snapshot_status(admin, snap.id), "available", timeout=30, seen=seen)
    # Cinder went to deleting, the driver refused (SnapshotIsBusy), and the snapshot came back.
    assert seen[-1] == "available" and None not in seen
    messages = admin.block_storage.get("/messages", microversion="3.3").json()["messages"]
    assert any(m.get("resource_uuid") == snap.id for m in messages)


def test_delete_with_dependent_volume_goes_on_the_lvm_like_backend(admin, tracker):
    vol = tracker.volume(volume_type=cloudkit.LVM_LIKE)
    snap = tracker.snapshot(admin, vol.id)
    child = admin.block_storage.create_volume(size=1, snapshot_id=snap.id, name=unique("child"))
    tracker.volumes.append(child.id)
    wait_status(lambda: volume_status(admin, child.id), "available", timeout=60)
    assert admin.block_storage.delete("/snapshots/%s" % snap.id).status_code == 202
    wait_status(lambda: snapshot_status(admin, snap.id), None, timeout=30)
    assert volume_status(admin, child.id) == "available"
    placed = admin.block_storage.get("/volumes/%s" % vol.id).json()["volume"]
    assert placed["volume_type"] == cloudkit.LVM_LIKE


def test_backdated_created_at_is_read_back_through_the_api(admin, tracker):
    vol = tracker.volume()
    snaps = [tracker.snapshot(admin, vol.id) for _i in range(3)]
    wanted = {snaps[0].id: "2024-02-29T12:00:00", snaps[1].id: "2025-12-31T23:59:59", snaps[2].id: "2019-01-01T00:00:00"}
    cloudkit.backdate(wanted)
    for sid, ts in wanted.items():
        got = admin.block_storage.get_snapshot(sid).created_at
        assert got.startswith(ts), (sid, got, ts)
    listed = [s.id for s in admin.block_storage.snapshots(volume_id=vol.id)]
    # The API's default order is created_at desc: the database edit is what Cinder serves.
    assert listed == [snaps[1].id, snaps[0].id, snaps[2].id]


def test_demo_member_cannot_see_or_delete_admin_snapshot(admin, demo, tracker):
    vol = tracker.volume()
    snap = tracker.snapshot(admin, vol.id)
    assert demo.block_storage.get("/snapshots/%s" % snap.id).status_code == 404
    assert demo.block_storage.delete("/snapshots/%s" % snap.id).status_code == 404
    assert snap.id not in [s.id for s in demo.block_storage.snapshots(all_projects=True)]
    assert snapshot_status(admin, snap.id) == "available"


def test_quotas_hold_6000_snapshots_and_500_volumes(admin, demo):
    for conn in (admin, demo):
        project = conn.current_project_id
        quota = conn.block_storage.get("/os-quota-sets/%s" % project).json()["quota_set"]
        assert quota["snapshots"] >= 6000 and quota["volumes"] >= 500


def test_up_when_already_up_says_so_fast(cloud):
    t0 = time.monotonic()
    res = cloud.cloud_cli("up")
    assert "already up" in res.stdout
    assert time.monotonic() - t0 < 10
    status = cloud.cloud_cli("status")
    assert "cloud is up" in status.stdout and "cinder-volume.log" in status.stdout


# ------------------------------------------------------------ the CLI's one-line failures

def _free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _isolated_env(tmp_path, **ports):
    """Ports of a private cloud that are free now: below Linux's ephemeral range (32768 and up), where
    outgoing connections take theirs, with RabbitMQ's distribution port (AMQP + 20000) below it too."""
    env = {"CINDEROPS_CLOUD_DIR": str(tmp_path / "state")}
    names = ("MARIADB", "EPMD", "RABBITMQ", "KEYSTONE", "CINDER")
    for step in range(500):
        base = 10000 + ((os.getpid() + step) % 500) * 5
        wanted = [base + i for i in range(len(names))]
        if all(_free(p) for p in wanted + [base + 2 + 20000]):
            break
    for i, name in enumerate(names):
        env["CINDEROPS_%s_PORT" % name] = str(ports.get(name, base + i))
    return env


@pytest.mark.parametrize("variables, expected", [
    ({"CINDEROPS_KEYSTONE_PORT": "70000"}, "error: keystone: CINDEROPS_KEYSTONE_PORT=70000 is not a TCP port"),
    ({"CINDEROPS_MARIADB_PORT": "db"}, "error: mariadb: CINDEROPS_MARIADB_PORT='db' is not a TCP port"),
    ({"CINDEROPS_RABBITMQ_PORT": "50000"}, "error: rabbitmq: its Erlang distribution port 70000 is not a TCP port"),
])
def test_bad_port_is_one_line_naming_the_variable(tmp_path, variables, expected):
    env = _isolated_env(tmp_path)
    env.update(variables)
    res = cloudkit.cloud_cli("up", env=env, check=False, timeout=60)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(expected), lines[0]


@pytest.mark.parametrize("variables, expected", [
    ({"CINDEROPS_OPENSTACK_RELEASE": "zed"},
     "error: CINDEROPS_OPENSTACK_RELEASE=zed is not a release this cloud can run; supported: 2026.2, 2025.1, "
     "2024.1 (default 2026.2)"),
    ({"CINDEROPS_OPENSTACK_RELEASE": "2024.1", "CINDEROPS_CLOUD_PYTHON": "PY312"},
     "error: CINDEROPS_OPENSTACK_RELEASE=2024.1 does not install on Python 3.12 (CINDEROPS_CLOUD_PYTHON="),
    ({"CINDEROPS_OPENSTACK_RELEASE": "2025.1", "CINDEROPS_CLOUD_PYTHON": "/no/such/python"},
     "error: CINDEROPS_CLOUD_PYTHON=/no/such/python is not a Python that runs here; CINDEROPS_OPENSTACK_RELEASE"
     "=2025.1 needs Python 3.12"),
])
def test_bad_release_is_one_line_before_anything_is_installed_or_reset(tmp_path, variables, expected):
    env = _isolated_env(tmp_path)
    env.update(variables)
    if env.get("CINDEROPS_CLOUD_PYTHON") == "PY312":
        env["CINDEROPS_CLOUD_PYTHON"] = sys.executable   # the tests' own Python 3.12
    # A state directory that holds another release's data: a refused switch must leave it alone.
    state = tmp_path / "state"
    (state / "mariadb").mkdir(parents=True)
    (state / "release").write_text("2026.2\n")
    venv = tmp_path / "venv"
    env["CINDEROPS_CLOUD_VENV"] = str(venv)
    res = cloudkit.cloud_cli("up", env=env, check=False, timeout=60)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith(expected), lines[0]
    assert (state / "mariadb").is_dir() and (state / "release").read_text() == "2026.2\n"
    assert not venv.exists() and "switching" not in res.stdout


def test_busy_port_is_one_line_naming_service_and_log(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        t0 = time.monotonic()
        res = cloudkit.cloud_cli("up", env=_isolated_env(tmp_path, KEYSTONE=port), check=False, timeout=120)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: keystone: port 127.0.0.1:%d is busy" % port)
    assert str(tmp_path / "state" / "logs" / "keystone.log") in lines[0]
    assert time.monotonic() - t0 < 60


def test_service_dying_on_start_is_one_line_naming_service_and_log(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for name in ("mariadbd", "mariadb-install-db"):
        path = fake_bin / name
        path.write_text("#!/bin/sh\necho 'mariadbd: [ERROR] Aborting: injected by the test' >&2\nexit 1\n"
                        if name == "mariadbd" else "#!/bin/sh\nmkdir -p \"${2#--datadir=}/mysql\"\n")
        path.chmod(path.stat().st_mode | stat.S_IEXEC)
    env = _isolated_env(tmp_path)
    env["PATH"] = "%s:%s" % (fake_bin, os.environ["PATH"])
    t0 = time.monotonic()
    res = cloudkit.cloud_cli("up", env=env, check=False, timeout=120)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: mariadb died on start (exit 1); log: %s" % (tmp_path / "state/logs/mariadb.log"))
    assert "injected by the test" in lines[0]
    assert time.monotonic() - t0 < 60


def test_missing_package_is_one_line_when_install_is_not_allowed(tmp_path):
    # A PATH without the MariaDB and Erlang binaries, and installing forbidden.
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    for tool in ("python3", "sh", "env", "bash", "readlink", "dirname"):
        real = shutil.which(tool)
        if real:
            os.symlink(real, fake_bin / tool)
    env = _isolated_env(tmp_path)
    env.update({"PATH": str(fake_bin), "CINDEROPS_NO_INSTALL": "1"})
    res = cloudkit.cloud_cli("up", env=env, check=False, timeout=60)
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert lines[0].startswith("error: packages: missing Debian packages")
    assert "mariadb-server" in lines[0] and "apt-get install" in lines[0]


@pytest.mark.parametrize("bad", ["not-a-uuid=2024-01-01T00:00:00", "%s=yesterday" % ("0" * 8 + "-0000-0000-0000-" + "0" * 12)])
def test_backdate_rejects_bad_input(cloud, bad):
    res = cloud.cloud_cli("backdate", bad, check=False)
    assert res.returncode == 1 and "is not SNAPSHOT_ID=" in res.stderr
