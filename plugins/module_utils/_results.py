# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a rotation reports: one result per volume, the counts over them, failures and the diff. Pure.

``snapshot_rotation`` returns these, and the rotation report (``_report``) reads them back, so
both count the same way (``volume_counts``).
"""
from __future__ import annotations

from ansible_collections.cinderops.snapshots.plugins.module_utils import _status
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import volume_label
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError, format_timestamp, parse_timestamp)

# Stands in for the id of a snapshot that check mode predicts (the engine needs an id).
PREDICTED_ID = "(new snapshot)"
COUNTED = ("created", "kept", "pruned", "skipped", "failed")


def _timestamp(value):
    if value is None:
        return None
    try:
        return format_timestamp(parse_timestamp(value))
    except TimeError:
        return value


def entry(snapshot, reasons=None):
    """A snapshot as the result lists it: id, name, status, created_at, reasons."""
    snapshot_id = snapshot.get("id")
    return {
        "id": None if snapshot_id == PREDICTED_ID else snapshot_id,
        "name": snapshot.get("name"),
        "status": snapshot.get("status"),
        "created_at": _timestamp(snapshot.get("created_at")),
        "reasons": list(snapshot.get("reasons", []) if reasons is None else reasons),
    }


def _newest_first(entries):
    return sorted(entries, key=lambda e: (e.get("created_at") or "", e.get("id") or ""), reverse=True)


class VolumeRun(object):
    """One volume's part of a rotation; written by one thread at a time, read by the caller."""

    def __init__(self, volume=None, ref=None):
        self.volume = volume
        self.ref = ref
        self.snapshots = []
        self.plan = None
        self.new = None  # the new snapshot (this run's, or one adopted from a concurrent run)
        self.created = None
        self.create_failed = False
        self.kept = []
        self.pruned = []
        self.skipped = []
        self.errors = []
        self.notes = []
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
        return volume_label(self.volume_id, self.volume.get("name"))

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
            "notes": list(self.notes),
            "changed": self.changed,
        }


def volume_counts(result):
    """What one volume's result counts for: a created snapshot only when it did not fail."""
    created = result.get("created")
    return {
        "created": 1 if created and created.get("status") not in _status.FAILED else 0,
        "kept": len(result.get("kept") or []),
        "pruned": len(result.get("pruned") or []),
        "skipped": len(result.get("skipped") or []),
        "failed": 1 if result.get("errors") else 0,
    }


def summarize(results):
    """Counts over every volume's result."""
    summary = {"volumes": len(results), "due": sum(1 for r in results if r.get("due"))}
    summary.update(dict((key, 0) for key in COUNTED))
    for result in results:
        for key, value in volume_counts(result).items():
            summary[key] += value
    return summary


def failures(results):
    """[{volume_id, volume_name, msg}] for every error of every volume."""
    return [{"volume_id": r["volume_id"], "volume_name": r["volume_name"], "msg": msg}
            for r in results for msg in r["errors"]]


def failure_message(results):
    """The task's one-line message when any volume failed, or None."""
    failed = [r for r in results if r["errors"]]
    if not failed:
        return None
    parts = ["%s: %s" % (volume_label(r["volume_id"], r["volume_name"]), "; ".join(r["errors"])) for r in failed]
    return "snapshot rotation failed on %d of %d volume(s): %s" % (len(failed), len(results), " | ".join(parts))


def _diff_line(item):
    return "%s %s" % (item.get("created_at") or "(now)", item.get("name") or item.get("id"))


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
        key = volume_label(result["volume_id"], result["volume_name"])
        before[key] = sorted((_diff_line(e) for e in existing), reverse=True)
        after[key] = sorted((_diff_line(e) for e in remaining), reverse=True)
    return {"before": {"volumes": before}, "after": {"volumes": after}}
