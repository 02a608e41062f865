# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Restore drills: prove that a policy's newest snapshot restores, and record the proof on it.

Per selected volume: take the newest ``available`` snapshot the policy owns, make a test volume
from it, wait until it is ``available`` (failing fast on ``error``, with Cinder's reason), check it,
record the result on the snapshot (``cinderops:verified_at``, ``cinderops:verify_result``), delete
the test volume and wait until it is gone.

Nothing leaks: a test volume carries its marker (``cinderops:drill`` = the policy, and
``cinderops:drill_of`` = the snapshot) from the request that creates it, so a drill interrupted at
any point (failure, timeout, kill -9) leaves only marked volumes, and every drill removes those
first. A drill never touches a volume without the marker, and never deletes a snapshot.

Two drills at once never remove each other's test volumes. Each test volume also carries a lease
(``cinderops:drill_lease``, a time on Cinder's clock) that its drill renews every ``HEARTBEAT``
seconds while it works on it. A marked volume whose lease has passed was left by a drill that
stopped: it is removed. One with a live heartbeat lease is watched until it is renewed (its drill
is alive: left alone), gone, or its lease passes (removed), so a drill killed a moment ago is
still cleaned up by the next one, at most ``LEASE`` seconds later. A volume kept for the user's
checks (stage ``restore``) holds a longer lease, ``timeout`` seconds, and is left alone until then.

Stages, for the role (whose users add checks of their own between restore and finish):
``full`` (everything), ``restore`` (restore and check, keep the test volumes), ``finish`` (record
the results, given per test volume, and remove the test volumes) and ``cleanup`` (only remove what
earlier drills left).
"""
from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

from ansible_collections.cinderops.snapshots.plugins.module_utils import _status
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, one_line
from ansible_collections.cinderops.snapshots.plugins.module_utils._quota import Ledger
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import OWNER_KEY
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import metadata_filter, select_volumes
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import label
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError, format_timestamp, parse_timestamp)
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import MAX_TEXT

DRILL_KEY = "cinderops:drill"
DRILL_OF_KEY = "cinderops:drill_of"
DRILL_RUN_KEY = "cinderops:drill_run"
LEASE_KEY = "cinderops:drill_lease"
VERIFIED_AT_KEY = "cinderops:verified_at"
VERIFY_RESULT_KEY = "cinderops:verify_result"
STAGES = ("full", "restore", "finish", "cleanup")
OK = "ok"
# A live drill renews its test volumes' lease every HEARTBEAT seconds, for LEASE seconds.
HEARTBEAT = 5
LEASE = 20
WATCH_POLL = 2


def lease_of(volume):
    """The test volume's lease as epoch seconds on Cinder's clock; None when it has none (or an unreadable one)."""
    value = (volume.get("metadata") or {}).get(LEASE_KEY)
    try:
        return parse_timestamp(value).timestamp() if value else None
    except TimeError:
        return None


def lease_text(seconds):
    return format_timestamp(datetime.fromtimestamp(int(seconds) + 1, timezone.utc))


def sort_leftovers(volumes, now):
    """Marked test volumes as (dead, watched, held): dead ones (lease passed or none) are removed; watched
    ones have a heartbeat lease (their drill is alive or died within LEASE seconds); held ones are kept for
    another drill's user checks until their longer lease passes."""
    dead, watched, held = [], [], []
    for volume in volumes:
        lease = lease_of(volume)
        if lease is None or lease <= now:
            dead.append(volume)
        elif lease - now <= LEASE + HEARTBEAT:
            watched.append(volume)
        else:
            held.append(volume)
    return dead, watched, held


def renewal(before, after, now):
    """A watched volume seen again: "gone", "alive" (its lease was renewed), "dead" (lease passed) or None."""
    if after is None:
        return "gone"
    lease = lease_of(after)
    if lease is not None and lease > (lease_of(before) or 0):
        return "alive"
    if lease is None or lease <= now:
        return "dead"
    return None


class Heartbeat(object):
    """Renews the lease of this run's live test volumes, from a thread, until stopped."""

    def __init__(self, drill):
        self.drill = drill
        self.volumes = set()
        self.lock = threading.Lock()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name="cinderops-drill-heartbeat")
        self.thread.daemon = True

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stopped.set()
        self.thread.join()

    def add(self, volume_id):
        with self.lock:
            self.volumes.add(volume_id)

    def discard(self, volume_id):
        with self.lock:
            self.volumes.discard(volume_id)

    def _beat(self):
        while not self.stopped.wait(HEARTBEAT):
            with self.lock:
                live = list(self.volumes)
            for volume_id in live:
                try:
                    self.drill.snapshots.merge_volume_metadata(volume_id, {LEASE_KEY: self.drill.lease(LEASE)})
                except CinderopsError:
                    pass  # a missed beat; the lease outlives two more


def verify_result(ok, message=None):
    """The value recorded in ``cinderops:verify_result``: ``ok``, or ``failed: <why>`` (at most 255 characters)."""
    if ok:
        return OK
    text = "failed: %s" % " ".join((message or "the drill failed").split())
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 3] + "..."


def check_restored(volume, snapshot, marker):
    """The checks of a restored test volume: [{name, ok, detail}]."""
    checks = [
        {"name": "status", "ok": volume.get("status") == _status.AVAILABLE,
         "detail": "status %s" % volume.get("status")},
        {"name": "size", "ok": (volume.get("size") or 0) >= (snapshot.get("size") or 0),
         "detail": "%s GiB from a %s GiB snapshot" % (volume.get("size"), snapshot.get("size"))},
        {"name": "source", "ok": volume.get("snapshot_id") == snapshot["id"],
         "detail": "made from snapshot %s" % volume.get("snapshot_id")},
    ]
    metadata = volume.get("metadata") or {}
    missing = sorted(k for k, v in marker.items() if metadata.get(k) != v)
    checks.append({"name": "metadata", "ok": not missing,
                   "detail": "missing or changed: %s" % ", ".join(missing) if missing else
                   "the drill's marker and %d other key(s)" % (len(metadata) - len(marker))})
    return checks


class Drill(object):
    """One drill run over the selected volumes of one policy (``snapshots`` is a ``Snapshots``)."""

    def __init__(self, snapshots, policy_name, selection, timeout=600, max_workers=2, check_mode=False,
                 now=time.time, sleep=time.sleep):
        self.snapshots = snapshots
        self.sleep = sleep
        self.heartbeat = None
        self.in_use = []
        self.run_id = uuid.uuid4().hex
        self.policy_name = policy_name
        self.selection = selection
        self.timeout = timeout
        self.max_workers = max_workers
        self.check_mode = check_mode
        self.now = now
        self.marker_of_policy = {DRILL_KEY: policy_name}

    # ------------------------------------------------------------ what is there
    def leftovers(self):
        """Test volumes of this policy that earlier drills left (interrupted, or kept for the user's checks)."""
        return self.snapshots.list_volumes_with(self.marker_of_policy)

    def targets(self):
        """[(volume, newest available owned snapshot or None)] for the selection, and the selection's problems."""
        listing = self.snapshots.list_volumes()
        test_volumes = set(v["id"] for v in listing if (v.get("metadata") or {}).get(DRILL_KEY))
        selected, unresolved, problems = select_volumes(
            [v for v in listing if v["id"] not in test_volumes], **self.selection)
        problems += [(ref, "volumes: volume %r was not found in this project" % ref) for ref in unresolved]
        owned = {}
        if selected:
            filters = {"metadata": metadata_filter({OWNER_KEY: self.policy_name}), "status": _status.AVAILABLE}
            if len(selected) == 1:
                filters["volume_id"] = selected[0]["id"]
            for snap in self.snapshots.iterate(filters):
                if snap["metadata"].get(OWNER_KEY) == self.policy_name and snap["status"] == _status.AVAILABLE:
                    best = owned.get(snap["volume_id"])
                    if best is None or (snap["created_at"] or "") > (best["created_at"] or ""):
                        owned[snap["volume_id"]] = snap
        return [(v, owned.get(v["id"])) for v in selected], problems

    # ------------------------------------------------------------ stages
    def run(self, stage, results=None):
        removed = self.remove_leftovers() if stage in ("full", "restore", "cleanup") else []
        if stage == "cleanup":
            return {"drills": [], "removed": removed}
        if stage == "finish":
            with Heartbeat(self) as self.heartbeat:
                return {"drills": self.finish(results or {}), "removed": removed}
        targets, problems = self.targets()
        drills = [self._skipped(volume) for volume, snap in targets if snap is None]
        todo = [(volume, snap) for volume, snap in targets if snap is not None]
        drills += [{"volume_id": None, "volume_name": ref, "result": "failed", "message": message, "snapshot": None,
                    "test_volume": None, "checks": []} for ref, message in problems]
        if todo:
            self.max_workers = self.preflight(todo)
        with Heartbeat(self) as self.heartbeat:
            with ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(todo) or 1))) as pool:
                done = list(pool.map(lambda pair: self.one(pair[0], pair[1], keep=stage == "restore"), todo))
        return {"drills": sorted(done, key=lambda d: (d["volume_name"] or "", d["volume_id"] or "")) + drills,
                "removed": removed}

    def preflight(self, todo):
        """Refuse to start when the project has no room for a test volume; fewer at a time when room is short."""
        quota_set, project = self.snapshots.quota_usage()
        ledger = Ledger(quota_set, "project %s" % project)
        workers = min(self.max_workers, len(todo))
        biggest = max(todo, key=lambda pair: pair[1].get("size") or 0)
        for _n in range(workers):
            ledger.note_need("volumes", biggest[1].get("size") or 1, biggest[0].get("volume_type"))
        fits = 0
        for _n in range(workers):
            problem = ledger.take("volumes", biggest[1].get("size") or 1, biggest[0].get("volume_type"))
            if problem:
                if fits == 0:
                    raise CinderopsError("the restore drill cannot start: %s (one test volume at a time needs "
                                         "a volume and %s GiB)" % (problem, biggest[1].get("size") or 1))
                break
            fits += 1
        return fits

    def server_now(self):
        """Cinder's clock when known (leases are judged on it, whatever the hosts' clocks say), else ours."""
        return self.snapshots.client.server_clock.now() or self.now()

    def lease(self, seconds):
        return lease_text(self.server_now() + seconds)

    def remove_leftovers(self):
        """Remove test volumes that earlier drills left; returns their ids (in check mode: would remove).

        Test volumes of a drill that is still running are left alone (listed in ``in_use``).
        """
        dead, watched, held = sort_leftovers(self.leftovers(), self.server_now())
        self.in_use = [v["id"] for v in held]
        if self.check_mode:
            self.in_use += [v["id"] for v in watched]
        else:
            dead += self._watch(watched)
        if self.check_mode:
            return [v["id"] for v in dead]
        for volume in dead:
            self._remove(volume)
        return [v["id"] for v in dead]

    def _watch(self, watched):
        """Watch heartbeat leases until each is renewed (alive: left in ``in_use``), gone, or passed (dead)."""
        dead = []
        pending = dict((v["id"], v) for v in watched)
        deadline = max([lease_of(v) for v in watched] or [0]) + 1
        while pending:
            now = self.server_now()
            for volume_id, before in list(pending.items()):
                verdict = renewal(before, self.snapshots.get_volume(volume_id), now)
                if verdict == "dead":
                    dead.append(before)
                elif verdict == "alive":
                    self.in_use.append(volume_id)
                if verdict is not None:
                    del pending[volume_id]
            if pending and now >= deadline:
                dead += list(pending.values())  # no renewal however long: its drill stopped
                break
            if pending:
                self.sleep(WATCH_POLL)
        return dead

    def _remove(self, volume):
        if volume.get("status") in _status.TRANSITIONAL:
            try:
                volume = self.snapshots.wait_volume_available(volume, self.timeout)
            except CinderopsError:
                volume = self.snapshots.get_volume(volume["id"]) or volume  # error: delete it anyway
        if self.snapshots.delete_volume(volume["id"]) == "accepted":
            self.snapshots.wait_volume_deleted(volume, self.timeout)

    def _skipped(self, volume):
        return {"volume_id": volume["id"], "volume_name": volume.get("name"), "result": "skipped",
                "message": "no available snapshot owned by policy %s" % self.policy_name, "snapshot": None,
                "test_volume": None, "checks": []}

    def one(self, volume, snap, keep=False):
        """Restore one snapshot and check it; record and clean up unless ``keep`` (the role's own checks follow)."""
        drill = {"volume_id": volume["id"], "volume_name": volume.get("name"), "result": None, "message": None,
                 "snapshot": {"id": snap["id"], "name": snap.get("name"), "created_at": snap.get("created_at"),
                              "size": snap.get("size")},
                 "test_volume": None, "checks": []}
        if self.check_mode:
            drill.update(result="would restore", message="check mode: nothing was created")
            return drill
        # The run's own id too: a lost create is looked for by this marker, never adopting another run's volume.
        marker = dict(self.marker_of_policy, **{DRILL_OF_KEY: snap["id"], DRILL_RUN_KEY: self.run_id})
        test = None
        try:
            test = self.snapshots.create_volume(snap, "cinderops-drill-%s" % snap["id"][:8], marker,
                                                lease={LEASE_KEY: self.lease(LEASE)})
            self.heartbeat.add(test["id"])
            drill["test_volume"] = {"id": test["id"], "status": test.get("status"), "size": test.get("size")}
            test = self.snapshots.wait_volume_available(test, self.timeout)
            drill["test_volume"].update(status=test.get("status"), size=test.get("size"))
            drill["checks"] = check_restored(test, snap, marker)
            failed = [c for c in drill["checks"] if not c["ok"]]
            drill["result"] = "failed" if failed else OK
            drill["message"] = "; ".join("%s: %s" % (c["name"], c["detail"]) for c in failed) or \
                "restored %s to test volume %s" % (label(snap), test["id"])
        except CinderopsError as exc:
            drill.update(result="failed", message="restoring %s failed: %s" % (label(snap), one_line(exc)))
        if keep and test is not None and drill["result"] == OK:
            # Kept for the user's checks: a lease that outlasts them, since no heartbeat runs meanwhile.
            self.snapshots.merge_volume_metadata(test["id"], {LEASE_KEY: self.lease(self.timeout)})
            self.heartbeat.discard(test["id"])
            drill["result"] = "restored"
            return drill
        drill["verified_at"] = self.record(snap["id"], drill["result"] == OK, drill["message"])
        if test is not None:
            self._cleanup_into(drill, test)
        return drill

    def finish(self, results):
        """Record the results of the role's own checks for each kept test volume, then remove the volumes."""
        drills = []
        now = self.server_now()
        for test in self.leftovers():
            if test["id"] not in results and (lease_of(test) or 0) > now:
                self.in_use.append(test["id"])  # another drill's, still within its lease
                continue
            snapshot_id = (test.get("metadata") or {}).get(DRILL_OF_KEY)
            given = results.get(test["id"], {})
            ok = bool(given.get("ok", False))
            message = given.get("message") or ("the checks passed" if ok else "no result was given for test volume "
                                                                              "%s" % test["id"])
            drill = {"volume_id": None, "volume_name": None, "result": OK if ok else "failed", "message": message,
                     "snapshot": {"id": snapshot_id}, "test_volume": {"id": test["id"], "status": test.get("status")},
                     "checks": [{"name": "user", "ok": ok, "detail": message}]}
            snap = self.snapshots.get(snapshot_id) if snapshot_id else None
            if snap is not None:
                drill["volume_id"] = snap["volume_id"]
                drill["snapshot"].update(name=snap.get("name"), created_at=snap.get("created_at"))
                if snap["metadata"].get(OWNER_KEY) == self.policy_name:
                    drill["verified_at"] = self.record(snapshot_id, ok, message)
            self._cleanup_into(drill, test)
            drills.append(drill)
        return drills

    def _cleanup_into(self, drill, test):
        self.heartbeat.discard(test["id"])
        try:
            self._remove(test)
            drill["test_volume"]["status"] = "deleted"
        except CinderopsError as exc:
            drill["result"] = "failed"
            drill["message"] = "%s; the test volume %s could not be removed: %s" % (
                drill["message"], test["id"], one_line(exc))

    def record(self, snapshot_id, ok, message):
        """The result on the snapshot, in the reserved keys (a merge: the snapshot's other keys stay); returns the
        time recorded, so that what the task returns is what the snapshot says."""
        stamp = self._stamp()
        self.snapshots.merge_metadata(snapshot_id, {VERIFIED_AT_KEY: stamp, VERIFY_RESULT_KEY: verify_result(ok, message)})
        return stamp

    def _stamp(self):
        return format_timestamp(datetime.fromtimestamp(int(self.now()), timezone.utc))
