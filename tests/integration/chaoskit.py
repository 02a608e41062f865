# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The chaos suite's parts, shared by tests/integration/test_chaos.py (CI size) and bench/chaos (full size).

A chaos trial runs real rotations through the fault proxy (tests/cloud/faultproxy.py) in front
of the real Cinder, kills them, or runs two at once, and then checks the promises against what
the cloud holds, with the retention engine as the judge:

* duplicates: a volume has more than one new snapshot of the policy from one due cycle;
* over-prunes: a snapshot is gone that the engine keeps for the pre-run history plus one new snapshot;
* below the floor: a volume has fewer available owned snapshots than ``min_available``;
* convergence: a clean rerun succeeds, and the one after it changes nothing.
"""
from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time as dtime, timedelta, timezone

import yaml

import cloudkit
from cloudkit import CLOUDS_YAML, unique, volume_status, wait_status

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "cloud"))
from faultproxy import FaultProxy  # noqa: E402

OWNER = "cinderops:policy"
UTC = timezone.utc
CINDER_PORT = int(os.environ.get("CINDEROPS_CINDER_PORT", "8776"))
POLICY = {"keep_daily": 3, "min_available": 2, "min_interval": "20h"}
HISTORY_DAYS = 6  # days 1..6 ago: a rotation keeps today's and two more dailies, and prunes three


def engine():
    """The collection's retention engine, from the laid-out collection."""
    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(REPO, ".local", "collections"))
    path = collections.split(os.pathsep)[0]
    if path not in sys.path:
        sys.path.insert(0, path)
    from ansible_collections.cinderops.snapshots.plugins.module_utils import _retention
    return _retention


# ---------------------------------------------------------------------------------------------------- the cloud

class ChaosCloud(object):
    """A fault proxy in front of Cinder, and a clouds.yaml whose cloud ``chaos`` reaches Cinder only through it."""

    def __init__(self, seed=0, base="local-demo", directory=None):
        self.proxy = FaultProxy(upstream="http://127.0.0.1:%d" % CINDER_PORT, seed=seed, stall_seconds=1.0).start()
        self.directory = directory or tempfile.mkdtemp(prefix="cinderops-chaos-")
        with open(CLOUDS_YAML) as f:
            clouds = yaml.safe_load(f)["clouds"]
        clouds["chaos"] = dict(clouds[base], block_storage_endpoint_override="%s/v3/%%(project_id)s" % self.proxy.url)
        self.clouds_yaml = os.path.join(self.directory, "clouds.yaml")
        with open(self.clouds_yaml, "w") as f:
            yaml.safe_dump({"clouds": clouds}, f)
        os.chmod(self.clouds_yaml, 0o600)
        self.cache = os.path.join(self.directory, "cache")

    def env(self, **extra):
        env = {"OS_CLIENT_CONFIG_FILE": self.clouds_yaml, "XDG_CACHE_HOME": self.cache}
        env.update(extra)
        return env

    def faults(self, rate, kinds=("500", "503", "reset", "stall", "drop"), methods=None):
        self.proxy.configure(rate=rate, faults=kinds, methods=methods)

    def calm(self):
        self.proxy.configure(rate=0.0)
        self.proxy.clear()

    def close(self):
        self.proxy.stop()


# ---------------------------------------------------------------------------------------------------- the estate

class Estate(object):
    """Volumes of the demo project with ``HISTORY_DAYS`` days of owned history each."""

    def __init__(self, admin, demo, count, tag=None):
        self.admin, self.demo = admin, demo
        self.tag = tag or unique("chaos")
        self.policy_name = "chaos-" + self.tag
        self.volumes = []
        self.seeded = []
        with ThreadPoolExecutor(8) as pool:
            made = list(pool.map(lambda n: demo.block_storage.create_volume(
                size=1, name="%s-v%03d" % (self.tag, n), metadata={"chaos": self.tag}), range(count)))
        for vol in made:
            wait_status(lambda: volume_status(demo, vol.id), "available", timeout=120)
            self.volumes.append(vol.id)
        today = datetime.now(UTC).date()
        times = [datetime.combine(today - timedelta(days=d), dtime(1, 0), UTC) for d in range(1, HISTORY_DAYS + 1)]
        with ThreadPoolExecutor(8) as pool:
            templates = list(pool.map(lambda vid: cloudkit.make_snapshot(
                demo, vid, name="%s-h" % self.tag, metadata={OWNER: self.policy_name}), self.volumes))
        placed = {}
        for n, (vid, template) in enumerate(zip(self.volumes, templates)):
            prefix = "%s-%03d" % (self.tag, n)
            cloudkit.cloud_cli("seed", template.id, str(HISTORY_DAYS - 1), "--prefix", prefix)
            self.seeded.append(prefix)
            clones = sorted((s for s in self.owned()[vid] if s["id"] != template.id), key=lambda s: s["name"])
            for snap, when in zip([{"id": template.id}] + clones, times):
                placed[snap["id"]] = when.strftime("%Y-%m-%dT%H:%M:%S")
        cloudkit.backdate(placed)

    def owned(self):
        """{volume id: [the policy's snapshots on it]}, from Cinder, as the admin sees them."""
        resp = self.admin.block_storage.get("/snapshots/detail", params={
            "all_tenants": 1, "metadata": json.dumps({OWNER: self.policy_name}), "limit": 5000}, microversion="3.66")
        resp.raise_for_status()
        result = dict((vid, []) for vid in self.volumes)
        for snap in resp.json()["snapshots"]:
            result.setdefault(snap["volume_id"], []).append(snap)
        return result

    def age_one_day(self):
        """Move every owned snapshot a day into the past: tomorrow's run is due again."""
        moved = {}
        for snaps in self.owned().values():
            for snap in snaps:
                when = datetime.strptime(snap["created_at"][:19], "%Y-%m-%dT%H:%M:%S") - timedelta(days=1)
                moved[snap["id"]] = when.strftime("%Y-%m-%dT%H:%M:%S")
        cloudkit.backdate(moved)

    def settle(self, timeout=120):
        """Wait until nothing of the policy is creating or deleting (after a kill, work may still be under way)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = [s for snaps in self.owned().values() for s in snaps if s["status"] in ("creating", "deleting")]
            if not busy:
                return
            time.sleep(0.5)
        raise AssertionError("snapshots still busy after %ss" % timeout)

    def cleanup(self):
        for prefix in self.seeded:
            cloudkit.cloud_cli("unseed", prefix)
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda vid: cloudkit.purge_volume(self.admin, vid), self.volumes))


# ---------------------------------------------------------------------------------------------------- runs

def rotation_play(estate, cloud="chaos", auth_cache=True, workers=8, timeout=120):
    return [{"name": "chaos rotation", "hosts": "localhost", "gather_facts": False, "connection": "local",
             "tasks": [{"name": "rotate", "cinderops.snapshots.snapshot_rotation": {
                 "cloud": cloud, "auth_cache": auth_cache, "volume_metadata": {"chaos": estate.tag},
                 "policy_name": estate.policy_name, "policy": POLICY, "max_workers": workers, "timeout": timeout},
                 "register": "out", "ignore_errors": True}]}]


class Run(object):
    """One ansible-playbook process: start it, kill it, or wait for its result."""

    def __init__(self, plays, env):
        self.tmp = tempfile.mkdtemp(prefix="cinderops-chaos-run-")
        book = os.path.join(self.tmp, "play.yml")
        with open(book, "w") as f:
            yaml.safe_dump(plays, f, sort_keys=False)
        self.capture = os.path.join(self.tmp, "capture.json")
        full_env = dict(os.environ, CINDEROPS_CAPTURE=self.capture, ANSIBLE_NOCOLOR="1",
                        ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                        ANSIBLE_CALLBACKS_ENABLED="cinderops_capture", ANSIBLE_LOCALHOST_WARNING="0",
                        ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
        full_env.update(env)
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), book, "-i", "localhost,",
                "-e", "ansible_python_interpreter=%s" % sys.executable]
        self.proc = subprocess.Popen(argv, cwd=self.tmp, env=full_env, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, start_new_session=True)
        self.started = time.monotonic()

    def kill(self):
        """SIGKILL the playbook, its worker and the module process (cloudkit.kill_tree: not one process group)."""
        cloudkit.kill_tree(self.proc.pid)
        self.proc.communicate()

    def result(self, timeout=600):
        out, _err = self.proc.communicate(timeout=timeout)
        self.output = out
        tasks = []
        if os.path.exists(self.capture):
            with open(self.capture) as f:
                tasks = json.load(f)
        found = [t for t in tasks if t["task"] == "rotate"]
        assert found, "no result:\n%s" % out[-3000:]
        return found[-1]["outcome"], found[-1]["result"]


def rotate(chaos, estate, **kwargs):
    return Run(rotation_play(estate, **kwargs), chaos.env()).result()


# ---------------------------------------------------------------------------------------------------- the judge

def plan_before(estate, now=None):
    """What the engine would prune per volume for the current history plus one new snapshot now."""
    retention = engine()
    now = now or datetime.now(UTC)
    plans = {}
    for vid, snaps in estate.owned().items():
        new = {"id": "(new)", "volume_id": vid, "status": "available", "created_at": now.strftime(
            "%Y-%m-%dT%H:%M:%S"), "metadata": {OWNER: estate.policy_name}}
        plan = retention.plan_volume(vid, snaps + [new], dict(POLICY, name=estate.policy_name), now)
        plans[vid] = {"ids": set(s["id"] for s in snaps), "prunable": set(s["id"] for s in plan["prune"])}
    return plans


def judge(estate, plans, since):
    """Count broken promises now, against ``plans`` (from ``plan_before``) made at ``since`` (UTC)."""
    figures = {"duplicates": 0, "over_prunes": 0, "below_floor": 0, "details": []}
    floor = POLICY["min_available"]
    for vid, snaps in estate.owned().items():
        have = set(s["id"] for s in snaps)
        new = [s for s in snaps if s["id"] not in plans[vid]["ids"]
               and datetime.strptime(s["created_at"][:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC) >= since]
        if len(new) > 1:
            figures["duplicates"] += len(new) - 1
            figures["details"].append("%s: %d new snapshots %s" % (vid, len(new), sorted(s["id"] for s in new)))
        gone = plans[vid]["ids"] - have
        over = gone - plans[vid]["prunable"]
        if over:
            figures["over_prunes"] += len(over)
            figures["details"].append("%s: pruned beyond the plan: %s" % (vid, sorted(over)))
        available = [s for s in snaps if s["status"] == "available"]
        if len(available) < floor:
            figures["below_floor"] += 1
            figures["details"].append("%s: %d available, floor %d" % (vid, len(available), floor))
    return figures


def failures(outcome, result):
    """The run's failures as lines (empty when it succeeded)."""
    if outcome != "failed":
        return []
    return [f["msg"] for f in result.get("failures") or []] or [result.get("msg", "failed")]


def converges(chaos, estate):
    """A clean rerun succeeds and the one after it changes nothing: (ok, details)."""
    chaos.calm()
    outcome, result = rotate(chaos, estate)
    if failures(outcome, result):
        return False, "clean rerun failed: %s" % failures(outcome, result)
    outcome, result = rotate(chaos, estate)
    if outcome != "ok":
        return False, "second clean rerun: %s %s" % (outcome, failures(outcome, result) or result.get("summary"))
    return True, None


def server_now(admin):
    """Cinder's clock (the Date header), so that "new since" compares against Cinder's created_at."""
    from email.utils import parsedate_to_datetime
    resp = admin.block_storage.get("/snapshots", params={"limit": 1})
    return parsedate_to_datetime(resp.headers["Date"]).astimezone(UTC)


def kill_points(seed, count, low, high):
    rng = random.Random(seed)
    return [round(rng.uniform(low, high), 2) for _n in range(count)]


def together(*runs_factories):
    """Start several runs at once (each a callable that returns a Run); wait for all; results in order."""
    barrier = threading.Barrier(len(runs_factories))
    runs = [None] * len(runs_factories)

    def start(n):
        barrier.wait()
        runs[n] = runs_factories[n]()
    threads = [threading.Thread(target=start, args=(n,)) for n in range(len(runs_factories))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return [run.result() for run in runs]
