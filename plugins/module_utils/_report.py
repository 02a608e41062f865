# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation report: what a person reads at a glance after a run (pure; no Ansible or SDK imports).

Input: the registered results of ``snapshot_rotation``, one per policy (a loop's
``results``). Output: a JSON-able dict with, per policy and volume, the snapshots
kept (per tier) and pruned with their reasons, the age of the newest good
snapshot, what was skipped or failed, and the freshness verdict.
"""
from __future__ import annotations

from ansible_collections.cinderops.snapshots.plugins.module_utils._results import COUNTED, volume_counts
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import AVAILABLE
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError, format_timestamp, parse_duration, parse_timestamp, subtract_duration)


class ReportError(ValueError):
    pass


def _tier(reason):
    """'oldest daily' -> daily, 'within 7d' -> within, 'within_daily 1m' -> within_daily, 'status creating' -> status."""
    words = reason.split()
    if words and words[0] == "oldest" and len(words) > 1:
        return words[1]
    return words[0] if words else reason


def age_text(seconds):
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return "%dd %dh" % (days, hours)
    if hours:
        return "%dh %dm" % (hours, minutes)
    return "%dm" % minutes


def _newest_good(volume):
    """The newest available snapshot after the run: the new one, or the newest kept."""
    candidates = [s for s in volume.get("kept") or [] if s.get("status") == AVAILABLE]
    created = volume.get("created")
    if created and created.get("status") == AVAILABLE and created.get("created_at"):
        candidates.append(created)
    dated = [(parse_timestamp(s["created_at"]), s) for s in candidates if s.get("created_at")]
    if not dated:
        return None
    return max(dated, key=lambda pair: pair[0])


def _newest_verified(volume):
    """The newest kept snapshot whose last restore drill passed: (created, snapshot) or None."""
    verified = [s for s in volume.get("kept") or [] if s.get("verify_result") == "ok" and s.get("created_at")]
    dated = [(parse_timestamp(s["created_at"]), s) for s in verified]
    return max(dated, key=lambda pair: pair[0]) if dated else None


def _short(snapshot):
    return dict((k, snapshot.get(k)) for k in ("id", "name", "status", "created_at", "reasons"))


def volume_report(volume, now, stale_before, restore_stale_before=None):
    tiers = {}
    for snap in volume.get("kept") or []:
        for tier in sorted(set(_tier(r) for r in snap.get("reasons") or [])):
            tiers[tier] = tiers.get(tier, 0) + 1
    newest = _newest_good(volume)
    row = {
        "volume_id": volume.get("volume_id"),
        "volume_name": volume.get("volume_name"),
        "created": _short(volume["created"]) if volume.get("created") else None,
        "kept": len(volume.get("kept") or []),
        "kept_by_tier": tiers,
        "kept_snapshots": [_short(s) for s in volume.get("kept") or []],
        "pruned": [_short(s) for s in volume.get("pruned") or []],
        "skipped": [_short(s) for s in volume.get("skipped") or []],
        "errors": list(volume.get("errors") or []),
        "newest_good": None,
        "stale": False,
        "newest_verified": None,
        "restore_stale": False,
    }
    verified = _newest_verified(volume)
    if verified:
        when, snap = verified
        age = (now - when).total_seconds()
        row["newest_verified"] = {"id": snap.get("id"), "name": snap.get("name"), "created_at": format_timestamp(when),
                                  "verified_at": snap.get("verified_at"), "age_seconds": int(age),
                                  "age": age_text(age)}
    if restore_stale_before is not None:
        row["restore_stale"] = verified is None or verified[0] < restore_stale_before
    if newest:
        when, snap = newest
        age = (now - when).total_seconds()
        row["newest_good"] = {"id": snap.get("id"), "name": snap.get("name"), "created_at": format_timestamp(when),
                              "age_seconds": int(age), "age": age_text(age)}
    if stale_before is not None:
        row["stale"] = newest is None or newest[0] < stale_before
    return row


def _limit(now, value, what):
    if not value:
        return None
    try:
        return subtract_duration(now, parse_duration(str(value), what, minutes=True))
    except TimeError as exc:
        raise ReportError(str(exc))


def build_report(runs, now, max_staleness=None, check_mode=False, max_restore_age=None):
    """``runs``: the loop results of snapshot_rotation tasks (each with ``item.name`` or ``policy.name``).

    ``max_staleness``: a volume whose newest good snapshot is older is stale. ``max_restore_age``: a volume
    whose newest snapshot that a restore drill proved restorable is older (or that has none) is too.
    """
    if not isinstance(runs, list):
        raise ReportError("expected the list of snapshot_rotation results (the loop's results)")
    now = parse_timestamp(now)
    stale_before = _limit(now, max_staleness, "max_staleness")
    restore_stale_before = _limit(now, max_restore_age, "max_restore_age")
    policies, failures, stale, restore_stale = [], [], [], []
    totals = dict((key, 0) for key in ("volumes",) + COUNTED)
    for run in runs:
        if not isinstance(run, dict):
            raise ReportError("each result must be a dict, got %s" % type(run).__name__)
        item = run.get(run.get("ansible_loop_var") or "item") or {}
        name = item.get("name") if isinstance(item, dict) else None
        name = name or (run.get("policy") or {}).get("name") or "?"
        results = run.get("volumes") or []
        volumes = [volume_report(v, now, stale_before, restore_stale_before) for v in results]
        # With failed_when: false the result says failed: false; a module that stopped early
        # returns a msg and no volumes, and one that finished with errors lists its failures.
        failed = bool(run.get("failed") or run.get("failures") or ("volumes" not in run and run.get("msg")))
        counts = dict((key, 0) for key in ("volumes",) + COUNTED)
        counts["volumes"] = len(results)
        for result in results:
            for key, value in volume_counts(result).items():
                counts[key] += value
        if failed and not counts["failed"]:
            counts["failed"] = 1  # the policy failed as a whole (bad input, no connection): one failure, counted once
        entry = {"name": name, "failed": failed, "msg": run.get("msg") if failed else None,
                 "summary": run.get("summary") or {}, "counts": counts, "volumes": volumes}
        policies.append(entry)
        for key in totals:
            totals[key] += counts[key]
        for vol in volumes:
            for err in vol["errors"]:
                failures.append("%s / %s: %s" % (name, vol["volume_name"] or vol["volume_id"], err))
            if vol["stale"]:
                newest = vol["newest_good"]
                stale.append("%s / %s: %s (limit %s)" % (
                    name, vol["volume_name"] or vol["volume_id"],
                    "newest good snapshot is %s old" % newest["age"] if newest else "no good snapshot", max_staleness))
            if vol["restore_stale"]:
                verified = vol["newest_verified"]
                restore_stale.append("%s / %s: %s (limit %s)" % (
                    name, vol["volume_name"] or vol["volume_id"],
                    "newest verified restorable snapshot is %s old" % verified["age"] if verified else
                    "no snapshot was proved restorable", max_restore_age))
        if entry["failed"] and not any(v["errors"] for v in volumes):
            failures.append("%s: %s" % (name, entry["msg"] or "the rotation task failed"))
    summary = ["%s: %d volume(s), %d created, %d kept, %d pruned, %d skipped, %d failed%s" % (
        p["name"], p["counts"]["volumes"], p["counts"]["created"], p["counts"]["kept"], p["counts"]["pruned"],
        p["counts"]["skipped"], p["counts"]["failed"], " (check mode: nothing was changed)" if check_mode else "")
        for p in policies]
    summary += ["FAILED " + f for f in failures] + ["STALE " + s for s in stale]
    summary += ["UNVERIFIED " + s for s in restore_stale]
    return {"generated_at": format_timestamp(now), "check_mode": bool(check_mode),
            "max_staleness": str(max_staleness) if max_staleness else None,
            "max_restore_age": str(max_restore_age) if max_restore_age else None, "policies": policies,
            "totals": totals, "failures": failures, "stale": stale, "restore_stale": restore_stale,
            "summary": summary, "ok": not failures}
