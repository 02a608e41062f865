# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sample volumes with a snapshot history, on the local cloud (for the demo, molecule and tests).

    python tests/cloud/sample.py make  --prefix demo --volumes 3 --policy nightly [--cloud local-admin]
    python tests/cloud/sample.py clean --prefix demo [--cloud local-admin]

``make`` creates volumes PREFIX-db, PREFIX-web, ... (reusing ones that exist) and, on each
new volume, real snapshots owned by the policy (metadata cinderops:policy) whose created_at
is then moved back in Cinder's database: one a day for the last 10 days, one a week for
the last 8 weeks, and one a month for the last two years (40 or 41 in all, as the series overlap on
the calendar; ``--history small``: one a day for the last 3 days). Prints the volumes, and the history's
timestamps (``history``), as JSON.
Needs openstacksdk (the dev venv's python) and the cloud up.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import openstack

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ["db", "web", "logs", "cache", "queue", "search", "mail", "files"]


def history(now, size="full"):
    """Timestamps of a realistic two-year history, newest first, one per day/week/month (``small``: 3 days)."""
    stamps = set()
    base = now.replace(hour=2, minute=0, second=0, microsecond=0)
    if size == "small":
        return [base - datetime.timedelta(days=days) for days in (1, 2, 3)]
    for days in range(1, 11):
        stamps.add(base - datetime.timedelta(days=days))
    for weeks in range(2, 9):
        stamps.add(base - datetime.timedelta(weeks=weeks))
    year, month = base.year, base.month
    for _i in range(24):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        stamps.add(base.replace(year=year, month=month, day=1))
    return sorted(stamps, reverse=True)


def wait(getter, want, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = getter()
        if status == want:
            return
        if status and status.startswith("error"):
            raise SystemExit("error: status %s" % status)
        time.sleep(0.3)
    raise SystemExit("error: timed out waiting for %s" % want)


def make(conn, args):
    now = datetime.datetime.now(datetime.timezone.utc)
    existing = dict((v.name, v) for v in conn.block_storage.volumes(name=None) if v.name and
                    v.name.startswith(args.prefix + "-"))
    volumes, fresh = [], []
    for name in NAMES[:args.volumes]:
        full = "%s-%s" % (args.prefix, name)
        vol = existing.get(full)
        if vol is None:
            vol = conn.block_storage.create_volume(size=1, name=full, metadata={"rotation": args.prefix})
            fresh.append(vol)
        volumes.append(vol)
    for vol in fresh:
        wait(lambda v=vol: conn.block_storage.get_volume(v.id).status, "available")
    stamps = history(now, args.history)
    jobs = [(vol, ts) for vol in fresh for ts in stamps]

    def snap(job):
        vol, ts = job
        name = ts.strftime(args.policy + "-%Y%m%dT%H%M%SZ")
        s = conn.block_storage.create_snapshot(volume_id=vol.id, name=name,
                                               metadata={"cinderops:policy": args.policy})
        return s.id, ts
    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(snap, jobs))
    for sid, _ts in made:
        wait(lambda s=sid: conn.block_storage.get_snapshot(s).status, "available")
    if made:
        moves = dict((sid, ts.strftime("%Y-%m-%dT%H:%M:%S")) for sid, ts in made)
        subprocess.run([os.path.join(HERE, "cloud"), "backdate", "--file", "-"], input=json.dumps(moves), text=True,
                       check=True, capture_output=True)
    print(json.dumps({"volumes": [{"id": v.id, "name": v.name} for v in volumes], "snapshots_made": len(made),
                      "history": [ts.strftime("%Y-%m-%dT%H:%M:%SZ") for ts in stamps]}))


def clean(conn, args):
    for vol in list(conn.block_storage.volumes()):
        if not (vol.name or "").startswith(args.prefix + "-"):
            continue
        for snap in list(conn.block_storage.snapshots(volume_id=vol.id)):
            conn.block_storage.delete_snapshot(snap.id, ignore_missing=True)
        deadline = time.monotonic() + 120
        while list(conn.block_storage.snapshots(volume_id=vol.id)) and time.monotonic() < deadline:
            time.sleep(0.5)
        conn.block_storage.delete_volume(vol.id, ignore_missing=True)
    print(json.dumps({"cleaned": args.prefix}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("action", choices=["make", "clean"])
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--volumes", type=int, default=3)
    parser.add_argument("--policy", default="nightly")
    parser.add_argument("--cloud", default="local-admin")
    parser.add_argument("--history", choices=["full", "small"], default="full")
    args = parser.parse_args()
    os.environ.setdefault("OS_CLIENT_CONFIG_FILE", os.path.join(os.environ.get("CINDEROPS_LOCAL", os.path.join(
        os.path.dirname(os.path.dirname(HERE)), ".local")), "cloud", "clouds.yaml"))
    conn = openstack.connect(cloud=args.cloud)
    (make if args.action == "make" else clean)(conn, args)


if __name__ == "__main__":
    sys.exit(main())
