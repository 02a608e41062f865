# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

__doc__ = """Batch snapshot rotation: select volumes, plan with the retention engine, apply concurrently.

What to keep is decided by the pure engine (``retention.py``); this module runs a
rotation around it, for many volumes in one process:

1. one volume listing (``/volumes/detail``, every page) selects the volumes and
   shows which snapshots have dependent volumes (their ``snapshot_id``);
2. one snapshot listing for the whole selection, filtered on the server by the
   ownership marker (``metadata={"cinderops:policy": <name>}``; the engine checks
   ownership again, so an older Cinder that ignores the filter is still safe);
3. per volume, concurrently: plan, create the due snapshot and wait for it,
   re-plan with it, then prune (every delete is a job of its own, so a volume
   with a long history to trim does not hold the others up).

Safety: a volume whose new snapshot failed has nothing pruned; a snapshot with
dependent volumes is skipped and reported (known ones are not even tried; a
backend refusal is seen within a poll and never retried); one volume's failure
never stops the others, and the caller fails once at the end with every failure.
Writes are retried on 409, 429, 5xx and lost connections a bounded number of
times; before a create is sent again, the volume is searched for the snapshot
the failed attempt may have made after all (look before you POST again).

Threads share one ``CinderClient`` (one keystoneauth session). That is safe:

* keystoneauth's identity plugins fetch and refresh the token under a lock
  (``BaseIdentityPlugin.get_access``), and the first requests (the listings) run
  in the calling thread before any worker starts, so the token, the catalog, the
  endpoint discovery and the microversion negotiation are settled by then;
* requests' ``Session`` and urllib3's connection pool serve concurrent requests
  that use no cookies (Cinder sets none); the pool keeps 10 connections per host,
  so beyond 10 workers extra connections are opened and closed (slower, correct);
* ``CinderClient`` and ``Snapshots`` keep no per-request state (the client's
  request counter may undercount under threads; it is informational only);
* workers return outcomes; only the calling thread writes the results.

The integration tests check it against the real cloud: many threads on one
client get every response right, and a rotation with 8 workers authenticates once.
"""

import re
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone

from ansible_collections.cinderops.snapshots.plugins.module_utils.cloud import CinderopsError
from ansible_collections.cinderops.snapshots.plugins.module_utils.retention import (
    OWNER_KEY, PolicyError, format_timestamp, normalize_policy, parse_timestamp, plan_volume)
from ansible_collections.cinderops.snapshots.plugins.module_utils.snapshots import label, metadata_filter
from ansible_collections.cinderops.snapshots.plugins.module_utils.validation import (
    MAX_TEXT, InputError, check_metadata, looks_like_uuid, metadata_value)
from ansible_collections.cinderops.snapshots.plugins.module_utils.waiting import (
    FIRST_INTERVAL, WaitError, describe_status, judge_available, judge_deleted, wait_for)

try:
    from keystoneauth1 import exceptions as _ksa_exceptions
    _TRANSIENT = (_ksa_exceptions.RetriableConnectionFailure,)
except ImportError:  # pragma: no cover - keystoneauth comes with openstacksdk
    _TRANSIENT = ()

DEFAULT_NAME_FORMAT = "{policy}-%Y%m%dT%H%M%SZ"
PLACEHOLDERS = ("volume", "volume_id", "policy")
DEFAULT_WORKERS = 8
MAX_WORKERS = 32
WRITE_ATTEMPTS = 4
WRITE_DELAYS = (1.0, 2.0, 4.0)
RETRY_STATUSES = (409, 429)
# Cinder snapshots only these volume statuses (in-use needs force below microversion 3.66).
SNAPSHOTTABLE = ("available", "in-use")
# Volumes on their way out are left out of all_volumes / volume_metadata selections.
GOING_AWAY = ("deleting",)
# Stands in for the id of a snapshot that check mode predicts (the engine needs an id).
PREDICTED_ID = "(new snapshot)"
# Polling for the rotation's own creates and deletes: the first look after FIRST_INTERVAL (0.25 s), then
# backing off by 1.5 up to POLL_MAX. A worker is busy until it sees its snapshot settle, so a late look
# costs the whole run throughput; one GET every 2 s per worker at most is still light for the API.
POLL_MAX = 2.0

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


# ---------------------------------------------------------------------------------------------------- input

def render_name(name_format, when, volume_name, volume_id, policy_name):
    """``name_format`` for one volume: strftime codes on ``when``, then ``{volume}``, ``{volume_id}``, ``{policy}``.

    The placeholders are inserted after strftime, so a ``%`` in a volume name is taken literally.
    ``{volume}`` is the volume's name, or its id when it has none. Leading and trailing spaces
    are stripped, as Cinder does.
    """
    values = {"volume": volume_name or volume_id, "volume_id": volume_id, "policy": policy_name}
    parts = []
    position = 0
    try:
        for match in _PLACEHOLDER.finditer(name_format):
            key = match.group(1)
            if key not in values:
                raise InputError("name_format has an unknown placeholder {%s}; use {volume}, {volume_id} or {policy} "
                                 "with strftime codes such as %%Y%%m%%dT%%H%%M%%SZ" % key)
            parts.append(when.strftime(name_format[position:match.start()]))
            parts.append(str(values[key]))
            position = match.end()
        parts.append(when.strftime(name_format[position:]))
    except ValueError as exc:
        raise InputError("name_format %r is not a valid strftime format: %s" % (name_format, exc))
    return "".join(parts).strip()


def check_name_format(name_format, policy_name):
    """Validate ``name_format`` before any request; returns it."""
    if not isinstance(name_format, str) or not name_format.strip():
        raise InputError("name_format must be a non-empty string such as %r" % DEFAULT_NAME_FORMAT)
    sample = render_name(name_format, datetime(2026, 12, 31, 23, 59, 59, tzinfo=timezone.utc), "volume",
                         "00000000-0000-0000-0000-000000000000", policy_name)
    if not sample:
        raise InputError("name_format %r renders an empty name" % name_format)
    return name_format


def build_policy(policy, policy_name, cleanup_errors=False):
    """The engine's Policy from the module's options; InputError with one line on bad input."""
    if not isinstance(policy_name, str) or not policy_name.strip():
        raise InputError("policy_name must be a non-empty string (it is the ownership marker %s)" % OWNER_KEY)
    name = policy_name.strip()
    if len(name) > MAX_TEXT:
        raise InputError("policy_name is %d characters long; metadata values allow at most %d" % (len(name), MAX_TEXT))
    if not isinstance(policy, dict):
        raise InputError("policy must be a dict of keep_* rules, got %s" % type(policy).__name__)
    raw = dict(policy)
    if raw.get("name") not in (None, name):
        raise InputError("policy.name %r differs from policy_name %r; leave policy.name out" % (raw["name"], name))
    raw["name"] = name
    if cleanup_errors:
        raw["cleanup_errors"] = True
    try:
        return normalize_policy(raw)
    except PolicyError as exc:
        raise InputError("policy: %s" % exc)


def new_snapshot_metadata(metadata, policy_name):
    """The metadata every new snapshot gets: the user's keys plus the ownership marker."""
    result = check_metadata("snapshot_metadata", metadata) or {}
    if result.get(OWNER_KEY, policy_name) != policy_name:
        raise InputError("snapshot_metadata sets %s to %r, but this rotation owns its snapshots as %r; leave the key "
                         "out (it is added for you)" % (OWNER_KEY, result[OWNER_KEY], policy_name))
    result[OWNER_KEY] = policy_name
    return result


def check_workers(value):
    if value is None or value < 1 or value > MAX_WORKERS:
        raise InputError("max_workers must be between 1 and %d (got %s)" % (MAX_WORKERS, value))
    return value


# ---------------------------------------------------------------------------------------------------- selection

def _metadata_matches(volume, wanted):
    have = volume.get("metadata") or {}
    return all(k in have and str(have[k]) == v for k, v in wanted.items())


def selection_metadata(metadata):
    """volume_metadata values as Cinder stores them (strings); keys must be non-empty strings."""
    if not metadata:
        raise InputError("volume_metadata must name at least one key")
    result = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InputError("volume_metadata keys must be non-empty strings, got %r" % (key,))
        result[key] = metadata_value("volume_metadata", key, value)
    return result


def select_volumes(listing, refs=None, metadata=None, everything=False):
    """Pick volumes from a project's volume listing.

    ``refs``: names or ids; ``metadata``: every key must match; ``everything``: all volumes.
    Returns ``(selected, unresolved, problems)``: the volumes, in a stable order and
    without duplicates; the id-shaped refs not in the listing (the caller may look them
    up one by one); and ``[(ref, message)]`` for names that match no or several volumes.
    """
    selected, unresolved, problems, seen = [], [], [], set()

    def add(volume):
        if volume["id"] not in seen:
            seen.add(volume["id"])
            selected.append(volume)

    if refs is not None:
        by_id = dict((v["id"], v) for v in listing)
        by_name = {}
        for volume in listing:
            by_name.setdefault(volume.get("name") or "", []).append(volume)
        for ref in refs:
            ref = ref.strip() if isinstance(ref, str) else ref
            if not ref:
                problems.append((ref, "an empty volume reference was given"))
            elif ref in by_id:
                add(by_id[ref])
            elif len(by_name.get(ref, [])) == 1:
                add(by_name[ref][0])
            elif by_name.get(ref):
                ids = ", ".join(sorted(v["id"] for v in by_name[ref]))
                problems.append((ref, "volume name %r matches %d volumes (%s); give the volume's id instead"
                                 % (ref, len(by_name[ref]), ids)))
            elif looks_like_uuid(ref):
                unresolved.append(ref)
            else:
                problems.append((ref, "volume %r was not found (by id or name) in this project" % ref))
        return selected, unresolved, problems
    for volume in sorted(listing, key=lambda v: (v.get("name") or "", v["id"])):
        if volume.get("status") in GOING_AWAY:
            continue
        if everything or (metadata and _metadata_matches(volume, metadata)):
            add(volume)
    return selected, unresolved, problems


def dependents_of(listing):
    """{snapshot id: [ids of volumes created from it]} from a volume listing."""
    result = {}
    for volume in listing:
        if volume.get("snapshot_id"):
            result.setdefault(volume["snapshot_id"], []).append(volume["id"])
    return result


# ---------------------------------------------------------------------------------------------------- retries

def retryable(exc):
    """409, 429 and 5xx answers, and connections lost before an answer, are worth another try."""
    code = getattr(exc, "status_code", None)
    if code is not None:
        return code in RETRY_STATUSES or code >= 500
    return bool(_TRANSIENT) and isinstance(exc.__context__, _TRANSIENT)


def retry_write(call, look=None, attempts=WRITE_ATTEMPTS, delays=WRITE_DELAYS, sleep=time.sleep):
    """Run a write; retry it on 409, 429, 5xx and lost connections, at most ``attempts`` times in all.

    Before each retry, ``look()`` (when given) checks whether the failed attempt took
    effect after all (Cinder can act and still answer with an error, and a lost
    connection says nothing); whatever it returns, unless None, is the result and
    the write is not sent again. The last error is raised with the number of attempts.
    """
    attempt = 1
    while True:
        try:
            return call()
        except CinderopsError as exc:
            if not retryable(exc):
                raise
            if attempt >= attempts:
                raise CinderopsError("%s (gave up after %d attempts)" % (exc, attempt))
        sleep(delays[min(attempt - 1, len(delays) - 1)])
        attempt += 1
        if look is not None:
            found = look()
            if found is not None:
                return found


def describe(exc):
    """One line for any error a worker meets."""
    if isinstance(exc, (CinderopsError, WaitError, InputError, PolicyError)):
        text = str(exc)
    else:
        text = "unexpected error: %s: %s" % (type(exc).__name__, exc)
    return " ".join(text.split())


# ---------------------------------------------------------------------------------------------------- results

def _entry(snapshot, reasons=None):
    """A snapshot as the result lists it: id, name, status, created_at, reasons."""
    snapshot_id = snapshot.get("id")
    return {
        "id": None if snapshot_id == PREDICTED_ID else snapshot_id,
        "name": snapshot.get("name"),
        "status": snapshot.get("status"),
        "created_at": _timestamp(snapshot.get("created_at")),
        "reasons": list(snapshot.get("reasons", []) if reasons is None else reasons),
    }


def _timestamp(value):
    if value is None:
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except PolicyError:
        return value


def _newest_first(entries):
    return sorted(entries, key=lambda e: (e.get("created_at") or "", e.get("id") or ""), reverse=True)


class VolumeRun(object):
    """One volume's part of a rotation; written by one thread at a time, read by the caller."""

    def __init__(self, volume=None, ref=None):
        self.volume = volume
        self.ref = ref
        self.snapshots = []
        self.plan = None
        self.created = None
        self.create_failed = False
        self.kept = []
        self.pruned = []
        self.skipped = []
        self.errors = []
        self.to_delete = []
        self.changed = False

    @property
    def volume_id(self):
        return self.volume["id"] if self.volume else None

    @property
    def volume_name(self):
        return (self.volume.get("name") if self.volume else self.ref) or None

    def label(self):
        if self.volume is None:
            return repr(self.ref)
        if self.volume.get("name"):
            return "%s (%s)" % (self.volume["name"], self.volume["id"])
        return self.volume["id"]

    def result(self):
        plan = self.plan or {}
        return {
            "volume_id": self.volume_id,
            "volume_name": self.volume_name,
            "due": bool(plan.get("due")),
            "due_reason": plan.get("due_reason"),
            "created": self.created,
            "kept": _newest_first(self.kept),
            "pruned": _newest_first(self.pruned),
            "skipped": _newest_first(self.skipped),
            "errors": list(self.errors),
            "changed": self.changed,
        }


def summarize(results):
    """Counts over every volume's result."""
    summary = {"volumes": len(results), "due": 0, "created": 0, "kept": 0, "pruned": 0, "skipped": 0, "failed": 0}
    for result in results:
        summary["due"] += 1 if result["due"] else 0
        summary["created"] += 1 if result["created"] and result["created"].get("status") != "error" else 0
        for key in ("kept", "pruned", "skipped"):
            summary[key] += len(result[key])
        summary["failed"] += 1 if result["errors"] else 0
    return summary


def _volume_label(result):
    name, vid = result.get("volume_name"), result.get("volume_id")
    if name and vid:
        return "%s (%s)" % (name, vid)
    return vid or repr(name)


def failures(results):
    """[{volume_id, volume_name, msg}] for every error of every volume."""
    return [{"volume_id": r["volume_id"], "volume_name": r["volume_name"], "msg": msg}
            for r in results for msg in r["errors"]]


def failure_message(results):
    """The task's one-line message when any volume failed, or None."""
    failed = [r for r in results if r["errors"]]
    if not failed:
        return None
    parts = ["%s: %s" % (_volume_label(r), "; ".join(r["errors"])) for r in failed]
    return "snapshot rotation failed on %d of %d volume(s): %s" % (len(failed), len(results), " | ".join(parts))


def _diff_line(entry):
    return "%s %s" % (entry.get("created_at") or "(now)", entry.get("name") or entry.get("id"))


def rotation_diff(results):
    """Ansible's diff: per changed volume, its owned snapshots before and after."""
    before, after = {}, {}
    for result in results:
        if not result["changed"]:
            continue
        created = result["created"]
        existing = [e for e in result["kept"] + result["pruned"] + result["skipped"]
                    if not (created and e.get("id") == created.get("id") and e.get("name") == created.get("name"))]
        remaining = [e for e in existing if e not in result["pruned"]]
        if created:
            remaining.append(created)
        key = _volume_label(result)
        before[key] = sorted((_diff_line(e) for e in existing), reverse=True)
        after[key] = sorted((_diff_line(e) for e in remaining), reverse=True)
    return {"before": {"volumes": before}, "after": {"volumes": after}}


# ---------------------------------------------------------------------------------------------------- the run

def _known_first(state, fetch):
    """A fetch for ``waiting.wait_for`` whose first answer is ``state``, already known from a write's answer.

    ``wait_for`` looks at once; right after a POST or DELETE that look would only repeat what the 202 said
    (creating, deleting), so it is skipped and the first request goes out after the first pause.
    """
    pending = [state]

    def fetch_once_known():
        return pending.pop() if pending else fetch()
    return fetch_once_known


class Rotation(object):
    """Plans and applies one rotation. ``snapshots`` is a ``Snapshots`` (or, in unit tests, a stand-in)."""

    def __init__(self, snapshots, policy, now=None, name_format=DEFAULT_NAME_FORMAT, metadata=None, force=False,
                 create=True, prune=True, wait=True, timeout=180, max_workers=DEFAULT_WORKERS, check_mode=False,
                 sleep=time.sleep, write_attempts=WRITE_ATTEMPTS, write_delays=WRITE_DELAYS, poll_clock=None,
                 poll_max=POLL_MAX):
        self.snapshots = snapshots
        self.policy = policy
        self.policy_name = policy.name
        self.now = now or datetime.now(timezone.utc)
        self.name_format = name_format
        self.metadata = new_snapshot_metadata(metadata, self.policy_name)
        self.force = force
        self.create = create
        self.prune = prune
        self.wait = wait
        self.timeout = timeout
        self.max_workers = max_workers
        self.check_mode = check_mode
        self._sleep = sleep
        self._poll = dict(poll_clock or {}, first=FIRST_INTERVAL, maximum=poll_max)
        self._attempts = write_attempts
        self._delays = write_delays
        self.dependents = {}

    # ------------------------------------------------------------ reading (calling thread)
    def load(self, refs=None, metadata=None, everything=False):
        """Select the volumes and list their owned snapshots: two listings for the whole selection."""
        listing = self.snapshots.client.list_all("/volumes/detail", "volumes", "could not list volumes")
        self.dependents = dependents_of(listing)
        selected, unresolved, problems = select_volumes(listing, refs, metadata, everything)
        runs = [VolumeRun(volume) for volume in selected]
        for ref in unresolved:
            # Not in this project's listing. An admin can still see another project's volume by id, but its
            # snapshots are not in this project's listing and a new one would land in this project: refuse.
            try:
                volume = self.snapshots.get_volume(ref)
            except CinderopsError as exc:
                problems.append((ref, describe(exc)))
                continue
            if volume is None:
                problems.append((ref, "volume %r was not found (by id or name) in this project" % ref))
            else:
                owner = volume.get("os-vol-tenant-attr:tenant_id") or "another project"
                problems.append((ref, "volume %s belongs to %s, not to the project of these credentials; rotate it "
                                      "with credentials scoped to its project" % (ref, owner)))
        for ref, message in problems:
            run = VolumeRun(ref=ref)
            run.errors.append(message)
            runs.append(run)
        wanted = [r for r in runs if r.volume is not None]
        if wanted:
            filters = {"metadata": metadata_filter({OWNER_KEY: self.policy_name})}
            if len(wanted) == 1:
                filters["volume_id"] = wanted[0].volume_id
            by_volume = {}
            for snap in self.snapshots.list(filters):
                by_volume.setdefault(snap["volume_id"], []).append(snap)
            for run in wanted:
                run.snapshots = by_volume.get(run.volume_id, [])
        return runs

    # ------------------------------------------------------------ the whole run
    def run(self, runs):
        """Plan and (unless check mode) apply; returns the per-volume results."""
        work = [r for r in runs if r.volume is not None]
        for run in work:
            try:
                run.plan = plan_volume(run.volume_id, run.snapshots, self.policy, self.now, self.policy_name)
            except PolicyError as exc:
                run.errors.append("could not plan: %s" % exc)
        work = [r for r in work if r.plan is not None]
        workers = max(1, min(self.max_workers, len(work)))
        if self.check_mode or workers == 1:
            for run in work:
                self._guarded(self.prepare, run)
                for snap in run.to_delete:
                    self._record_delete(run, snap, self._guarded_delete(snap))
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                prepared = dict((pool.submit(self._guarded, self.prepare, run), run) for run in work)
                deletes = {}
                for future in as_completed(prepared):
                    run = prepared[future]
                    future.result()
                    for snap in run.to_delete:
                        deletes[pool.submit(self._guarded_delete, snap)] = (run, snap)
                for future in as_completed(deletes):
                    run, snap = deletes[future]
                    self._record_delete(run, snap, future.result())
        return [run.result() for run in runs]

    def _guarded(self, step, run):
        try:
            step(run)
        except Exception as exc:  # one volume's failure never stops the others
            run.errors.append(describe(exc))
            run.to_delete = []

    # ------------------------------------------------------------ one volume (a worker)
    def prepare(self, run):
        """Create the due snapshot, wait, re-plan; leaves the deletes to do in ``run.to_delete``."""
        plan = run.plan
        new = None
        if self.create and plan["due"]:
            new = self._create(run)
        if new is not None:
            plan = self._replan(run, new)
        run.kept = [_entry(s) for s in plan["keep"]]
        for snap in plan["errors"]:
            hint = "held" if len(snap["reasons"]) > 1 else "cleanup_errors: true deletes it"
            run.skipped.append(_entry(snap, snap["reasons"] + ["not pruned: %s" % hint]))
        for snap in plan["prune"]:
            if new is not None and snap["id"] == new["id"]:
                # Never happens with a sane policy (the newest is always kept); never delete what was just made.
                run.kept.append(_entry(snap, ["new snapshot"]))
            elif run.create_failed:
                run.skipped.append(_entry(snap, snap["reasons"] + ["not pruned: the new snapshot of this volume "
                                                                   "failed"]))
            elif not self.prune:
                run.skipped.append(_entry(snap, snap["reasons"] + ["not pruned: prune is off"]))
            elif snap["id"] in self.dependents:
                run.skipped.append(_entry(snap, snap["reasons"] + [
                    "not pruned: volumes were created from it: %s" % ", ".join(sorted(self.dependents[snap["id"]]))]))
            else:
                run.to_delete.append(snap)

    def _create(self, run):
        """The new snapshot (predicted in check mode); None, with run.create_failed, when it failed."""
        volume = run.volume
        name = render_name(self.name_format, self.now, volume.get("name"), volume["id"], self.policy_name)
        if len(name) > MAX_TEXT:
            return self._create_failed(run, None, "the snapshot name rendered from name_format is %d characters long; "
                                                  "Cinder allows at most %d" % (len(name), MAX_TEXT))
        if volume.get("status") not in SNAPSHOTTABLE:
            return self._create_failed(run, None, "cannot snapshot volume %s: its status is %s (it must be available "
                                                  "or in-use)" % (run.label(), volume.get("status")))
        if self.check_mode:
            run.changed = True
            new = {"id": PREDICTED_ID, "name": name, "volume_id": volume["id"], "status": "available",
                   "created_at": format_timestamp(self.now), "metadata": dict(self.metadata)}
            run.created = _entry(new, [])
            return new
        known = set(s["id"] for s in run.snapshots)
        try:
            new = retry_write(
                lambda: self.snapshots.create(volume["id"], name=name, metadata=self.metadata, force=self.force),
                look=lambda: self._look_for_created(volume["id"], name, known),
                attempts=self._attempts, delays=self._delays, sleep=self._sleep)
        except CinderopsError as exc:
            return self._create_failed(run, None, "could not create snapshot %r: %s" % (name, describe(exc)))
        run.changed = True
        run.created = _entry(new, [])
        if self.wait and new["status"] != "available":
            try:
                new = self._wait_available(new)
            except WaitError as exc:
                latest = dict(new, status=exc.status or new["status"])
                return self._create_failed(run, latest, "new snapshot %s failed: %s" % (label(new), describe(exc)))
            except CinderopsError as exc:
                return self._create_failed(run, new, "new snapshot %s: %s" % (label(new), describe(exc)))
        if new["status"] == "error":
            return self._create_failed(run, new, "new snapshot %s is in status error" % label(new))
        run.created = _entry(new, [])
        return new

    def _wait_available(self, new):
        """Until the new snapshot is available; the 202's body (status creating) stands for the first look."""
        fetch = _known_first(new, lambda: self.snapshots.get(new["id"]))
        result, _waited = wait_for(fetch, judge_available(label(new)), self.timeout, describe_status, **self._poll)
        return result

    def _wait_deleted(self, snap):
        """Until the snapshot is gone; Cinder set it to deleting before it answered 202, so the first look waits."""
        fetch = _known_first(dict(snap, status="deleting"), lambda: self.snapshots.get(snap["id"]))
        wait_for(fetch, judge_deleted(label(snap), self.snapshots.refusal_reason), self.timeout, describe_status,
                 **self._poll)

    def _create_failed(self, run, snapshot, message):
        run.create_failed = True
        run.errors.append(message)
        if snapshot is not None:
            run.created = _entry(snapshot, [])
        return None

    def _look_for_created(self, volume_id, name, known):
        """After a failed create: the snapshot that attempt made after all, if any."""
        found = [s for s in self.snapshots.list({"volume_id": volume_id, "name": name})
                 if s["id"] not in known and (s.get("metadata") or {}).get(OWNER_KEY) == self.policy_name]
        if not found:
            return None
        return sorted(found, key=lambda s: s.get("created_at") or "")[-1]

    def _replan(self, run, new):
        """The plan again, now with the new snapshot, as of its creation time if that is later."""
        when = self.now
        created = new.get("created_at")
        if created:
            when = max(when, parse_timestamp(created))
        snapshots = [s for s in run.snapshots if s["id"] != new["id"]] + [new]
        replanned = plan_volume(run.volume_id, snapshots, self.policy, when, self.policy_name)
        for snap in replanned["keep"]:
            if snap["id"] == new["id"]:
                run.created = _entry(snap)
        return replanned

    # ------------------------------------------------------------ one delete (a worker)
    def _guarded_delete(self, snap):
        """(verdict, detail, accepted): ("pruned", status or None), ("refused", why) or ("failed", message);
        ``accepted`` says whether Cinder took the delete. Never raises."""
        accepted = []
        try:
            return self.delete(snap, accepted)
        except Exception as exc:
            return "failed", "could not prune snapshot %s: %s" % (label(snap), describe(exc)), bool(accepted)

    def delete(self, snap, accepted):
        if self.check_mode:
            return "pruned", None, True
        retry_write(lambda: self.snapshots.delete(snap["id"]), look=lambda: self._look_for_deleted(snap["id"]),
                    attempts=self._attempts, delays=self._delays, sleep=self._sleep)
        accepted.append(True)
        if not self.wait:
            return "pruned", "deleting", True
        try:
            self._wait_deleted(snap)
        except WaitError as exc:
            if exc.status == "available":
                # The backend refused (dependent volumes): skipped and reported, never retried.
                return "refused", describe(exc), False
            raise
        return "pruned", None, True

    def _look_for_deleted(self, snapshot_id):
        """After a failed delete: True when that attempt was taken (the snapshot is gone or going)."""
        current = self.snapshots.get(snapshot_id)
        if current is None or current["status"] in ("deleting", "deleted", "error_deleting"):
            return True
        return None

    def _record_delete(self, run, snap, outcome):
        verdict, detail, accepted = outcome
        run.changed = run.changed or accepted
        if verdict == "pruned":
            entry = _entry(snap)
            if detail:
                entry["status"] = detail
            run.pruned.append(entry)
        elif verdict == "refused":
            run.skipped.append(_entry(snap, snap["reasons"] + ["not pruned: %s" % detail]))
        else:
            run.skipped.append(_entry(snap, snap["reasons"] + ["prune failed"]))
            run.errors.append(detail)
