# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers for integration tests: the local cloud's CLI, SDK connections, waits and clean-up.

Everything here talks to the real local cloud (tests/cloud); nothing is mocked.
"""
from __future__ import annotations

import json
import os
import subprocess
import time
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLOUD_CLI = os.path.join(REPO, "tests", "cloud", "cloud")
LOCAL = os.environ.get("CINDEROPS_LOCAL", os.path.join(REPO, ".local"))
STATE = os.environ.get("CINDEROPS_CLOUD_DIR", os.path.join(LOCAL, "cloud"))
CLOUDS_YAML = os.path.join(STATE, "clouds.yaml")
LOGS = os.path.join(STATE, "logs")


def cloud_cli(*args, env=None, check=True, timeout=600):
    full_env = dict(os.environ)
    full_env.update(env or {})
    res = subprocess.run([CLOUD_CLI] + list(args), capture_output=True, text=True, env=full_env, timeout=timeout, check=False)
    if check and res.returncode != 0:
        raise AssertionError("cloud %s failed (%d): %s%s" % (" ".join(args), res.returncode, res.stdout, res.stderr))
    return res


def connect(cloud):
    import openstack
    os.environ["OS_CLIENT_CONFIG_FILE"] = CLOUDS_YAML
    return openstack.connect(cloud=cloud, app_name="cinderops-tests")


def unique(prefix="t"):
    return "%s-%s" % (prefix, uuid.uuid4().hex[:8])


def backdate(created):
    """{snapshot_id: 'YYYY-MM-DDTHH:MM:SS'} -> created_at moved in Cinder's database."""
    res = subprocess.run([CLOUD_CLI, "backdate", "--file", "-"], input=json.dumps(created), capture_output=True,
                         text=True, timeout=120, check=False)
    if res.returncode != 0:
        raise AssertionError("backdate failed: %s" % res.stderr)


def wait_status(get, want, timeout=60, seen=None):
    """Poll get() -> status (None when gone) until want; record every status seen."""
    deadline = time.monotonic() + timeout
    status = None
    while time.monotonic() < deadline:
        status = get()
        if seen is not None and (not seen or seen[-1] != status):
            seen.append(status)
        if status == want:
            return status
        time.sleep(0.1)
    raise AssertionError("still %r after %ss, wanted %r (seen %s)" % (status, timeout, want, seen))


def snapshot_status(conn, snapshot_id):
    resp = conn.block_storage.get("/snapshots/%s" % snapshot_id)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json()["snapshot"]["status"]


def volume_status(conn, volume_id):
    resp = conn.block_storage.get("/volumes/%s" % volume_id)
    if resp.status_code == 404:
        return None
    resp.raise_for_status()
    return resp.json()["volume"]["status"]


# The local cloud's volume types: the default one's backend refuses to delete a snapshot that has
# volumes made from it (like RBD); cinderops-lvm's allows it (like LVM). See tests/cloud/localcloud.py BACKENDS.
RBD_LIKE = None
LVM_LIKE = "cinderops-lvm"


def make_volume(conn, name=None, size=1, volume_type=None):
    extra = {"volume_type": volume_type} if volume_type else {}
    vol = conn.block_storage.create_volume(size=size, name=name or unique("vol"), **extra)
    wait_status(lambda: volume_status(conn, vol.id), "available", timeout=90)
    return vol


def make_snapshot(conn, volume_id, name=None, metadata=None, wait=True, force=False):
    snap = conn.block_storage.create_snapshot(volume_id=volume_id, name=name or unique("snap"),
                                              metadata=metadata or {}, force=force)
    if wait:
        wait_status(lambda: snapshot_status(conn, snap.id), "available", timeout=90)
    return snap


def purge_snapshot(admin, snapshot_id):
    """Remove a snapshot whatever its state: rename away injected faults, reset, delete."""
    status = snapshot_status(admin, snapshot_id)
    if status is None:
        return
    admin.block_storage.put("/snapshots/%s" % snapshot_id, json={"snapshot": {"name": "cleanup"}})
    if status not in ("available", "error"):
        admin.block_storage.post("/snapshots/%s/action" % snapshot_id,
                                 json={"os-reset_status": {"status": "available"}}, microversion="3.0")
    admin.block_storage.delete("/snapshots/%s" % snapshot_id)
    wait_status(lambda: snapshot_status(admin, snapshot_id), None, timeout=90)


def purge_volume(admin, volume_id):
    """Remove a volume and its snapshots, whatever their state."""
    status = volume_status(admin, volume_id)
    if status is None:
        return
    resp = admin.block_storage.get("/snapshots/detail", params={"all_tenants": 1, "volume_id": volume_id})
    for snap in resp.json().get("snapshots", []):
        purge_snapshot(admin, snap["id"])
    admin.block_storage.put("/volumes/%s" % volume_id, json={"volume": {"name": "cleanup"}})
    if status not in ("available", "error", "error_restoring", "error_extending", "error_managing"):
        admin.block_storage.post("/volumes/%s/action" % volume_id,
                                 json={"os-reset_status": {"status": "available", "attach_status": "detached"}})
    admin.block_storage.delete("/volumes/%s" % volume_id, params={"cascade": True})
    wait_status(lambda: volume_status(admin, volume_id), None, timeout=120)


def kill_tree(pid):
    """SIGKILL a process and every process under it, module processes included.

    ansible-playbook's workers start sessions of their own (setsid), so killing the playbook's
    process group would leave the worker and the module it runs alive. Stopped first, so that
    nothing can start a child between the listing and the kill.
    """
    import signal

    def children():
        found = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/stat" % entry) as f:
                        found.setdefault(int(f.read().rsplit(")", 1)[1].split()[1]), []).append(int(entry))
                except (OSError, IndexError, ValueError):
                    continue
        return found

    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        try:
            os.kill(current, signal.SIGSTOP)
        except ProcessLookupError:
            continue
        todo += children().get(current, [])
    for member in tree:
        try:
            os.kill(member, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- request counting (from the cloud's own logs)

_CINDER_LINE = None


class RequestLog(object):
    """Counts client requests seen by Cinder and Keystone between start() and stop().

    Cinder: eventlet's access lines in cinder-api.log. Keystone: gunicorn's access
    log, leaving out keystonemiddleware's own token validations (server side).
    """

    def __init__(self):
        self.cinder_log = os.path.join(LOGS, "cinder-api.log")
        self.keystone_log = os.path.join(LOGS, "keystone-access.log")
        self.start()

    def start(self):
        time.sleep(0.2)  # eventlet logs a request after answering it: let the last one before start() land
        self._c0 = os.path.getsize(self.cinder_log)
        self._k0 = os.path.getsize(self.keystone_log)
        return self

    def _read(self, path, offset):
        time.sleep(0.2)  # let the servers flush their last line
        with open(path, "rb") as f:
            f.seek(offset)
            return f.read().decode(errors="replace").splitlines()

    def cinder(self):
        import re
        global _CINDER_LINE
        _CINDER_LINE = _CINDER_LINE or re.compile(r'"(GET|POST|PUT|DELETE|PATCH|HEAD) (\S+) HTTP/[\d.]+" status: (\d+)')
        out = []
        for line in self._read(self.cinder_log, self._c0):
            if "eventlet.wsgi.server" in line:
                m = _CINDER_LINE.search(line)
                if m:
                    out.append((m.group(1), m.group(2), int(m.group(3))))
        return out

    def keystone(self):
        return [line for line in self._read(self.keystone_log, self._k0)
                if "python-keystoneclient" not in line and "keystonemiddleware" not in line and line.strip()]

    def writes(self):
        return [r for r in self.cinder() if r[0] != "GET"]
