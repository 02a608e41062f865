# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Batch snapshot rotation: select volumes, plan with the retention engine, apply, and agree with concurrent runs.

What to keep is decided by the pure engine (``_retention``); this runs a rotation around it, for
many volumes in one process:

1. one volume listing (``/volumes/detail``, every page) selects the volumes and shows which
   snapshots have dependent volumes (their ``snapshot_id``);
2. one snapshot listing for the whole selection, filtered on the server by the ownership marker;
3. the due creates are sent by a pool of workers (a lost answer is looked for before any resend);
4. one loop waits for every pending snapshot at once, with **one listing per poll round** for all
   of them (``_waiting.BatchWait``): the policy's snapshots created since the run's listing
   (``sort=created_at:desc``) while creates are pending, and those updated since the earliest
   pending delete (``sort=updated_at:desc``) while deletes are pending. When only a few snapshots
   are still pending and the last listing was much larger, single GETs are cheaper, and after each
   round the next one waits until the round's cost is a small share of cinder-api's time (see
   ``GET_MS``);
5. as soon as a volume's new snapshot is available and no concurrent run has an older one
   (``_converge``), the volume is planned again with it and its prunes are sent.

Safety: a volume whose new snapshot failed has nothing pruned; a snapshot with dependent volumes
is skipped and reported (known ones are not even tried; a backend refusal is seen within a round
and never retried); a snapshot another run is already deleting is waited for, not an error; one
volume's failure never stops the others, and the caller fails once at the end with every failure.

Threads share one ``CinderClient``: the listings run in the calling thread before any worker
starts, so the token, the endpoint and the microversion are settled; workers only send writes and
return outcomes; only the calling thread changes the results.
"""
from __future__ import annotations

import copy
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from datetime import datetime, timedelta, timezone

from ansible_collections.cinderops.snapshots.plugins.module_utils import _converge, _status, _waiting
from ansible_collections.cinderops.snapshots.plugins.module_utils._drill import VERIFIED_AT_KEY, VERIFY_RESULT_KEY
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, one_line
from ansible_collections.cinderops.snapshots.plugins.module_utils._plan import plan_of
from ansible_collections.cinderops.snapshots.plugins.module_utils._quota import Ledger
from ansible_collections.cinderops.snapshots.plugins.module_utils._results import PREDICTED_ID, VolumeRun, entry
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import (
    OWNER_KEY, PolicyError, plan_volume)
from ansible_collections.cinderops.snapshots.plugins.module_utils._rotation_options import render_name
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import (
    dependents_of, metadata_filter, select_volumes)
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import label
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError, format_timestamp, parse_timestamp)
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import MAX_TEXT

# Cinder's clocks and ours differ: the listing windows reach this far back (NTP keeps cloud hosts far closer).
WINDOW_MARGIN = timedelta(seconds=60)
# What a read costs cinder-api, in CPU milliseconds (measured on the local cloud: bench/results/scale.md,
# "cost model"): a single GET, and a listing page by the number of snapshots it holds. So a listing of k
# snapshots costs as much as (LIST_MS + ITEM_MS * k) / GET_MS single GETs: 1.2 for a few, 3.5 for 100;
# single GETs are used when fewer snapshots are due than that.
GET_MS = 5.5
LIST_MS = 6.5
ITEM_MS = 0.13
# Poll rounds may take this share of one cinder-api core: after a round that cost c ms, the next comes no
# sooner than c / POLL_SHARE ms later (0.4 s after a listing of 100 snapshots, 2 s at most).
POLL_SHARE = 0.05
# Windows are read in pages as large as Cinder serves: one page is a complete picture (see Rotation.window).
WINDOW_PAGE = 1000
FORCED = "force-deleted: it was in error_deleting (an admin's os-force_delete)"


def with_verification(item, metadata):
    """A kept snapshot's entry, with the result of its last restore drill when there was one."""
    metadata = metadata or {}
    if VERIFIED_AT_KEY in metadata:
        item["verified_at"] = metadata[VERIFIED_AT_KEY]
        item["verify_result"] = metadata.get(VERIFY_RESULT_KEY)
    return item


class Rotation(object):
    """Plans and applies one rotation. ``snapshots`` is a ``Snapshots`` (or, in unit tests, a stand-in)."""

    def __init__(self, snapshots, options, now=None, clock=time.monotonic, sleep=time.sleep):
        self.snapshots = snapshots
        self.options = options
        self.policy = options.policy
        self.policy_name = options.policy_name
        self.now = now or datetime.now(timezone.utc)
        self.clock = clock
        self.sleep = sleep
        self.dependents = {}
        self.known = set()
        self.rounds = 0
        self._clock_offset = None
        self._window_start = None
        self._window_size = {_waiting.CREATE: None, _waiting.DELETE: None}
        self.allowed_deletes = None
        self.quota = None  # (quota set, project) once read; False when it could not be read
        self.warnings = []
        self._can_force = None

    @property
    def can_force(self):
        """Whether the credentials may force-delete (the admin role); only asked when a snapshot needs it."""
        if self._can_force is None:
            self._can_force = self.options.cleanup_errors and self.snapshots.client.is_admin()
        return self._can_force

    @can_force.setter
    def can_force(self, value):
        self._can_force = value

    # ------------------------------------------------------------ reading (calling thread)
    def load(self):
        """Select the volumes and list their owned snapshots: two listings for the whole selection."""
        listing = self.snapshots.list_volumes()
        self.dependents = dependents_of(listing)
        selected, unresolved, problems = select_volumes(listing, **self.options.selection)
        runs = [VolumeRun(volume) for volume in selected]
        for ref in unresolved:
            # Not in this project's listing. An admin can still see another project's volume by id, but its
            # snapshots are not in this project's listing and a new one would land in this project: refuse.
            try:
                volume = self.snapshots.get_volume(ref)
            except CinderopsError as exc:
                problems.append((ref, one_line(exc)))
                continue
            if volume is None:
                problems.append((ref, "volumes: volume %r was not found (by id or name) in this project" % ref))
            else:
                owner = volume.get("os-vol-tenant-attr:tenant_id") or "another project"
                problems.append((ref, "volumes: volume %s belongs to %s, not to the project of these credentials; "
                                      "rotate it with credentials scoped to its project" % (ref, owner)))
        for ref, message in problems:
            run = VolumeRun(ref=ref)
            run.errors.append(message)
            runs.append(run)
        wanted = [r for r in runs if r.volume is not None]
        self._mark_clock()
        if wanted:
            by_volume = {}
            for snap in self.snapshots.iterate(self._owned_filter(wanted)):
                by_volume.setdefault(snap["volume_id"], []).append(snap)
                self.known.add(snap["id"])
            for run in wanted:
                run.snapshots = by_volume.get(run.volume_id, [])
        return runs

    def _owned_filter(self, runs):
        filters = {"metadata": metadata_filter({OWNER_KEY: self.policy_name})}
        if len(runs) == 1:
            filters["volume_id"] = runs[0].volume_id
        return filters

    def _mark_clock(self):
        """Where the creates window starts: Cinder's time at the listing, less a margin for its clocks."""
        self._window_start = self._server_now() - WINDOW_MARGIN

    def _server_now(self):
        """Cinder's time (a lower bound from its Date headers), or ours when it sent none."""
        now = self.snapshots.client.server_clock.now()
        return datetime.fromtimestamp(now, timezone.utc) if now is not None else datetime.now(timezone.utc)

    # ------------------------------------------------------------ the whole run
    def run(self, runs, allowed_deletes=None):
        """Plan and (unless check mode) apply; returns the per-volume results.

        ``allowed_deletes``: with an approved plan, the snapshot ids it deletes; nothing else is deleted.
        """
        work = [r for r in runs if r.volume is not None]
        for run in work:
            try:
                run.plan = self._plan(run)
            except PolicyError as exc:
                run.errors.append("could not plan: %s" % exc)
        work = [r for r in work if r.plan is not None]
        self._volumes = work
        self.allowed_deletes = allowed_deletes
        self.preflight(work)
        if self.options.check_mode:
            for run in work:
                self._predict(run)
        elif work:
            _Apply(self, work).run()
        return [run.result() for run in runs]

    def plan(self, runs):
        """The plan a check-mode run would return for these volumes (computed on copies; nothing is sent)."""
        planner = Rotation(self.snapshots, copy.copy(self.options), now=self.now, clock=self.clock, sleep=self.sleep)
        planner.options.check_mode = True
        planner.dependents, planner.known, planner.quota = self.dependents, self.known, self.quota
        planner.can_force = self.can_force
        results = planner.run(copy.deepcopy(runs))
        self.quota = planner.quota
        self.warnings = planner.warnings
        return self.plan_of(results)

    def plan_of(self, results):
        return plan_of(results, self.options.name_format, self.options.metadata)

    def _plan(self, run):
        return plan_volume(run.volume_id, run.snapshots, self.policy, self.now, self.policy_name)

    # ------------------------------------------------------------ quota preflight
    def preflight(self, work):
        """Before anything is created: does the project have room for every due new snapshot?

        A volume without room fails before any write (nothing on it is created or pruned), unless
        ``make_room``: then the snapshots its plan prunes even without a new one (so never below
        min_available) go first, oldest first, until the new one fits.
        """
        due = [r for r in work if self.options.create and r.plan["due"] and self._new_name(r)[1] is None]
        if not due:
            return
        if self.quota is None:
            try:
                self.quota = self.snapshots.quota_usage()
            except CinderopsError as exc:
                self.warnings.append("the project's quota could not be read, so the run did not check that its "
                                     "snapshots fit: %s" % one_line(exc))
                self.quota = False
        if not self.quota:
            return
        quota_set, project = self.quota
        ledger = Ledger(quota_set, "project %s" % project)
        for run in due:
            ledger.note_need("snapshots", run.volume.get("size") or 1, run.volume.get("volume_type"))
        for run in due:
            size, kind = run.volume.get("size") or 1, run.volume.get("volume_type")
            problem = ledger.take("snapshots", size, kind)
            if problem and self.options.make_room:
                problem = self._make_room(run, ledger, size, kind, problem)
            if problem:
                self._create_failed(run, None, "not created, so as not to exceed the project's quota: %s" % problem)

    def _make_room(self, run, ledger, size, kind, problem):
        """Prune what the plan prunes without the new snapshot, oldest first, until it fits; None once it does."""
        safe = [s for s in reversed(run.plan["prune"]) if s["id"] not in self.dependents
                and (self.allowed_deletes is None or s["id"] in self.allowed_deletes)]
        made = []
        for snap in safe:
            if not self.options.check_mode:
                try:
                    if self.snapshots.delete(snap["id"]) != "gone":
                        self.snapshots.wait_deleted(snap, self.options.timeout,
                                                    known=dict(snap, status=_status.DELETING))
                except CinderopsError as exc:
                    run.errors.append("could not make room: could not prune snapshot %s: %s"
                                      % (label(snap), one_line(exc)))
                    break
            made.append(snap)
            run.pruned.append(entry(snap, snap["reasons"] + ["pruned first, to make room for the new snapshot"]))
            run.changed = True
            ledger.free("snapshots", size, kind)
            problem = ledger.take("snapshots", size, kind)
            if problem is None:
                break
        if made:
            gone = set(s["id"] for s in made)
            run.snapshots = [s for s in run.snapshots if s["id"] not in gone]
            run.plan = self._plan(run)
            run.notes.append("made room for the new snapshot: pruned %d snapshot(s) first (%s)"
                             % (len(made), "it fits now" if problem is None else "still short: %s" % problem))
        return problem

    def _predict(self, run):
        """Check mode: the snapshot that would be made, and what would be pruned after it; nothing is sent."""
        new = None
        if self.options.create and run.plan["due"] and not run.create_failed:
            name, problem = self._new_name(run)
            if problem:
                self._create_failed(run, None, problem)
            else:
                run.changed = True
                new = {"id": PREDICTED_ID, "name": name, "volume_id": run.volume_id, "status": _status.AVAILABLE,
                       "created_at": format_timestamp(self.now), "metadata": dict(self.options.metadata)}
                run.created = entry(new, [])
        doomed, forced = self.settle_plan(run, new)
        for snap in doomed:
            run.changed = True
            run.pruned.append(entry(snap))
        for snap in forced:
            run.changed = True
            run.pruned.append(entry(snap, snap["reasons"] + [FORCED]))

    # ------------------------------------------------------------ one volume
    def _new_name(self, run):
        """(name, None) for the volume's new snapshot, or (None, why it cannot be made)."""
        volume = run.volume
        name = render_name(self.options.name_format, self.now, volume.get("name"), volume["id"], self.policy_name)
        if len(name) > MAX_TEXT:
            return None, ("the snapshot name rendered from name_format is %d characters long; Cinder allows at most %d"
                          % (len(name), MAX_TEXT))
        if volume.get("status") not in _status.SNAPSHOTTABLE_VOLUME:
            return None, ("cannot snapshot volume %s: its status is %s (it must be available or in-use)"
                          % (run.label(), volume.get("status")))
        return name, None

    def _create_failed(self, run, snapshot, message):
        run.create_failed = True
        run.errors.append(message)
        if snapshot is not None:
            run.created = entry(snapshot, [])

    def _replan(self, run, new):
        """The plan again, now with the new snapshot, as of its creation time if that is later."""
        when = self.now
        try:
            when = max(when, parse_timestamp(new.get("created_at") or when))
        except TimeError:
            pass
        snapshots = [s for s in run.snapshots if s["id"] != new["id"]] + [new]
        replanned = plan_volume(run.volume_id, snapshots, self.policy, when, self.policy_name)
        for snap in replanned["keep"]:
            if snap["id"] == new["id"]:
                run.created = entry(snap)
        return replanned

    def settle_plan(self, run, new):
        """Kept, skipped and to-be-pruned of one volume once its new snapshot (or None) is known.

        Returns (snapshots to delete, snapshots to force-delete: owned ``error_deleting`` ones with
        ``cleanup_errors``, when the credentials are an admin's).
        """
        plan = self._replan(run, new) if new is not None else run.plan
        verification = dict((s["id"], s["metadata"]) for s in run.snapshots)
        forced = []
        run.kept = []
        for snap in plan["keep"]:
            if snap["status"] == _status.ERROR_DELETING and snap["reasons"] == ["status error_deleting"] \
                    and self.options.cleanup_errors and self.options.prune and not run.create_failed:
                if self.can_force:
                    if self.allowed_deletes is None or snap["id"] in self.allowed_deletes:
                        forced.append(snap)
                        continue
                else:
                    run.skipped.append(entry(snap, snap["reasons"] + [
                        "not pruned: a snapshot in error_deleting needs an admin's force delete"]))
                    continue
            run.kept.append(with_verification(entry(snap), verification.get(snap["id"])))
        for snap in plan["errors"]:
            hint = "held" if len(snap["reasons"]) > 1 else "cleanup_errors: true deletes it"
            run.skipped.append(entry(snap, snap["reasons"] + ["not pruned: %s" % hint]))
        doomed = []
        for snap in plan["prune"]:
            if new is not None and snap["id"] == new["id"]:
                # Never happens with a sane policy (the newest is always kept); never delete what was just made.
                run.kept.append(entry(snap, ["new snapshot"]))
            elif run.create_failed:
                run.skipped.append(entry(snap, snap["reasons"] + ["not pruned: the new snapshot of this volume "
                                                                  "failed"]))
            elif not self.options.prune:
                run.skipped.append(entry(snap, snap["reasons"] + ["not pruned: prune is off"]))
            elif snap["id"] in self.dependents:
                run.skipped.append(entry(snap, snap["reasons"] + [
                    "not pruned: volumes were created from it: %s" % ", ".join(sorted(self.dependents[snap["id"]]))]))
            elif self.allowed_deletes is not None and snap["id"] not in self.allowed_deletes:
                run.skipped.append(entry(snap, snap["reasons"] + ["not pruned: not in the approved plan"]))
            else:
                doomed.append(snap)
        return doomed, forced

    # ------------------------------------------------------------ writes (workers)
    def create(self, run, name):
        known = self.known | set(s["id"] for s in run.snapshots)
        return self.snapshots.create(run.volume_id, name=name, metadata=self.options.metadata,
                                     force=self.options.force, known=known)

    def delete(self, snap):
        return self.snapshots.delete(snap["id"])

    def force_delete(self, snap):
        return self.snapshots.force_delete(snap["id"])

    # ------------------------------------------------------------ listing windows (calling thread)
    def window(self, kind, since):
        """({id: snapshot}, complete) of the policy's snapshots created (or, for deletes, updated) since ``since``.

        ``complete`` is False when the window took more than one page: a snapshot whose updated_at
        changed between two pages may have moved to a page already read, so its absence proves nothing.
        """
        key = "created_at" if kind == _waiting.CREATE else "updated_at"
        filters = self._owned_filter(self._volumes)
        seen = {}
        read = 0
        for snap in self.snapshots.iterate(filters, sort="%s:desc" % key, page_size=WINDOW_PAGE):
            read += 1
            stamp = snap.get(key)
            if stamp is None:
                continue  # never updated (still creating): sorted last by MySQL, first by PostgreSQL
            try:
                if parse_timestamp(stamp) < since:
                    break
            except TimeError:
                continue
            seen[snap["id"]] = snap
        self._window_size[kind] = len(seen)
        return seen, read <= WINDOW_PAGE

    def singles_are_cheaper(self, kind, due):
        size = self._window_size[kind]
        return size is not None and due * GET_MS < listing_ms(size)


def listing_ms(items):
    """What a listing page of ``items`` snapshots costs cinder-api (CPU ms; see GET_MS)."""
    return LIST_MS + ITEM_MS * items


def round_gap(cost_ms):
    """How long after a round that cost ``cost_ms`` the next may come (seconds; see POLL_SHARE)."""
    return min(_waiting.POLL.cap, cost_ms / 1000.0 / POLL_SHARE)


class _Apply(object):
    """One real run: creates, one batch wait for everything, convergence with concurrent runs, prunes."""

    def __init__(self, rotation, work):
        self.rot = rotation
        self.options = rotation.options
        self.work = work
        self.waiter = _waiting.BatchWait(self.options.timeout, clock=rotation.clock)
        self.futures = {}
        self.owner = {}  # tracked snapshot id -> (run, role, planned snapshot); role: create, prune or yield
        # run -> [its available new snapshot, deadline, local time before which no window can judge it]
        self.rivals_pending = {}
        self.delete_since = {}  # tracked delete id -> Cinder's time when it was sent
        self.round_cost = 0.0  # what this poll round's requests cost cinder-api (CPU ms)
        self.pool = None

    def run(self):
        workers = max(1, min(self.options.max_workers, len(self.work)))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            self.pool = pool
            for run in self.work:
                self.start(run)
            while self.futures or self.waiter.pending() or self.rivals_pending:
                self.step()

    # ------------------------------------------------------------ the loop
    def submit(self, job, run, role, snap=None):
        self.futures[self.pool.submit(job)] = (run, role, snap)

    def step(self):
        """Take finished writes, else wait for the next write or poll round, whichever comes first."""
        finished = [f for f in self.futures if f.done()]
        for future in finished:
            self.written(future, *self.futures.pop(future))
        if finished:
            return
        due = self.waiter.next_round()  # paced by what the last round cost
        if self.rivals_pending:
            ready = min(not_before for _own, _deadline, not_before in self.rivals_pending.values())
            if self.waiter.quiet_until is not None:
                ready = max(ready, self.waiter.quiet_until)  # a round that judges rivals is paced too
            due = ready if due is None else min(due, ready)
        if due is None:
            wait(list(self.futures), return_when=FIRST_COMPLETED)
            return
        pause = due - self.rot.clock()
        if pause > 0:
            if self.futures:
                wait(list(self.futures), timeout=pause, return_when=FIRST_COMPLETED)
                return
            self.rot.sleep(pause)
        self.poll()

    def judgeable_at(self, own):
        """The local time after which a listing shows every rival as old as ``own`` (see _converge)."""
        at = self.rot.snapshots.client.server_clock.local_time_of(_converge.settles_at(own) or 0)
        return self.rot.clock() + 2.0 if at is None else at

    def poll(self):
        self.rot.rounds += 1
        self.round_cost = 0.0
        now = self.rot.clock()
        creates = [t for t in self.waiter.pending(_waiting.CREATE) if min(t.next_look, t.deadline) <= now]
        judgeable = any(not_before <= now for _own, _deadline, not_before in self.rivals_pending.values())
        if creates or judgeable:
            self.observe(_waiting.CREATE, creates, self.rot._window_start, force_listing=judgeable)
        deletes = [t for t in self.waiter.pending(_waiting.DELETE) if min(t.next_look, t.deadline) <= now]
        if deletes:
            since = min(self.delete_since[t.id] for t in self.waiter.pending(_waiting.DELETE)) - WINDOW_MARGIN
            self.observe(_waiting.DELETE, deletes, since)
        self.waiter.pace(round_gap(self.round_cost))

    def observe(self, kind, due, since, force_listing=False):
        """One round for one kind: a listing window for every pending snapshot, or single GETs for the due ones."""
        window = None
        if not force_listing and self.rot.singles_are_cheaper(kind, len(due)):
            self.round_cost += GET_MS * len(due)
            decided = self.waiter.observe(kind, dict((t.id, self.rot.snapshots.get(t.id)) for t in due),
                                          only=set(t.id for t in due))
        else:
            sent = self.rot.clock()
            window, complete = self.rot.window(kind, since)
            self.round_cost += listing_ms(len(window))
            seen = dict(window)
            if not complete:
                for item in self.waiter.pending(kind):
                    if item.id not in seen:
                        self.round_cost += GET_MS
                        seen[item.id] = self.rot.snapshots.get(item.id)
            decided = self.waiter.observe(kind, seen)
        for item in decided:
            run, role, planned = self.owner.pop(item.id)
            if kind == _waiting.CREATE:
                self.created(run, item)
            else:
                self.deleted(run, role, planned, item.verdict, item.snapshot, item.detail, item.accepted)
        if kind == _waiting.CREATE and window is not None:
            self.judge_rivals(window, sent)

    # ------------------------------------------------------------ creates
    def start(self, run):
        if not (self.options.create and run.plan["due"]) or run.create_failed:
            return self.prune(run, None)
        name, problem = self.rot._new_name(run)
        if problem:
            self.rot._create_failed(run, None, problem)
            return self.prune(run, None)
        self.submit(lambda: self.rot.create(run, name), run, "create")
        return None

    def written(self, future, run, role, snap):
        try:
            outcome = future.result()
        except Exception as exc:  # one write's failure never stops the others
            return self.write_failed(run, role, snap, exc)
        if role == "create":
            run.changed = True
            run.created = entry(outcome, [])
            if not self.options.wait:
                # Not waited for: the engine keeps a creating snapshot untouched and does not count it, so
                # nothing it would replace is pruned.
                return self.with_new(run, outcome)
            # Tracked even when the answer says available: the rivals are judged by Cinder's stored created_at,
            # which a listing shows (the POST's answer may carry a time the database rounds).
            self.owner[outcome["id"]] = (run, role, outcome)
            self.waiter.track(outcome, _waiting.CREATE)
            return None
        # a delete: "accepted", "deleting" (another run's delete is under way), or "gone"
        accepted = outcome == "accepted"
        if outcome == "gone":
            return self.deleted(run, role, snap, _waiting.DONE, dict(snap, status=_status.DELETED), None, False)
        if not self.options.wait:
            return self.deleted(run, role, snap, _waiting.DONE, dict(snap, status=_status.DELETING), None, accepted)
        self.owner[snap["id"]] = (run, role, snap)
        self.delete_since[snap["id"]] = self.rot._server_now()
        self.waiter.track(dict(snap, status=_status.DELETING), _waiting.DELETE, accepted=accepted)
        return None

    def write_failed(self, run, role, snap, exc):
        if role == "create":
            self.rot._create_failed(run, None, "could not create the new snapshot: %s" % one_line(exc))
            return self.prune(run, None)
        if role == "yield":
            run.errors.append("could not delete this run's duplicate snapshot %s: %s" % (label(snap), one_line(exc)))
            return None
        run.skipped.append(entry(snap, snap["reasons"] + ["prune failed"]))
        run.errors.append("could not prune snapshot %s: %s" % (label(snap), one_line(exc)))
        return None

    def created(self, run, item):
        if item.verdict == _waiting.DONE:
            run.created = entry(item.snapshot, [])
            self.rivals_pending[run] = [item.snapshot, item.deadline, self.judgeable_at(item.snapshot)]
            return
        self.rot._create_failed(run, item.snapshot, "new snapshot %s failed: %s" % (item.name, item.detail))
        self.prune(run, None)

    def judge_rivals(self, window, sent):
        """Each volume whose new snapshot is available: keep it, or yield to an older one of a concurrent run.

        Only on a window that was asked for after Cinder's clock passed the second after the snapshot's.
        """
        for run, pending in list(self.rivals_pending.items()):
            own, deadline, not_before = pending
            if sent < not_before:
                continue
            rivals = [s for s in window.values() if s["volume_id"] == run.volume_id and s["id"] != own["id"]
                      and s["id"] not in self.rot.known]
            verdict, winner = _converge.decide(own, rivals)
            if verdict == _converge.WAIT and self.rot.clock() < deadline:
                pending[2] = self.rot.clock() + 0.5  # an older rival is still being made: look again soon
                continue
            del self.rivals_pending[run]
            if verdict == _converge.YIELD:
                run.notes.append("a concurrent run of this policy made snapshot %s first; this run deleted its own "
                                 "%s and kept that one" % (label(winner), label(own)))
                self.submit(lambda own=own: self.rot.delete(own), run, "yield", own)
                self.with_new(run, winner)
            else:
                self.with_new(run, own)

    def with_new(self, run, new):
        """The volume's new snapshot is settled: plan again with it, and prune."""
        run.created = entry(new, [])
        run.new = new
        self.prune(run, new)

    # ------------------------------------------------------------ prunes
    def prune(self, run, new):
        try:
            doomed, forced = self.rot.settle_plan(run, new)
        except PolicyError as exc:
            run.errors.append("could not plan: %s" % exc)
            return
        for snap in doomed:
            self.submit(lambda snap=snap: self.rot.delete(snap), run, "prune", snap)
        for snap in forced:
            snap = dict(snap, reasons=snap["reasons"] + [FORCED])
            self.submit(lambda snap=snap: self.rot.force_delete(snap), run, "prune", snap)

    def deleted(self, run, role, planned, verdict, latest, detail, accepted):
        """A delete has an outcome: ``planned`` is the snapshot as planned (with reasons), ``latest`` as last seen."""
        if role == "yield":
            if verdict != _waiting.DONE:
                run.errors.append("this run's duplicate snapshot %s could not be deleted: %s" % (label(planned), detail))
            return
        reasons = list(planned.get("reasons") or [])
        if verdict == _waiting.DONE:
            run.changed = run.changed or accepted
            status = latest.get("status") if latest and latest.get("status") == _status.DELETING else planned["status"]
            pruned = entry(dict(planned, status=status), reasons if accepted else reasons + ["deleted by another run"])
            run.pruned.append(pruned)
        elif verdict == _waiting.REFUSED:
            why = self.rot.snapshots.refusal_reason(planned)
            run.skipped.append(entry(planned, reasons + ["not pruned: %s: %s" % (detail, why)]))
        else:
            run.skipped.append(entry(planned, reasons + ["prune failed"]))
            run.errors.append("could not prune snapshot %s: %s" % (label(planned), detail))
