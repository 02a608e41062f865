# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A rotation's plan as a person approves it: what would be created and deleted, and its fingerprint. Pure.

The fingerprint is a hash of exactly what the plan would change: per volume the snapshot to create
(its name format, with the time left out, and its metadata) and the snapshot ids to delete. It is
independent of the order of volumes and of timing noise (the time a name would carry, how long a
snapshot took), so a plan made at 01:55 and the same plan computed again at 02:05 have the same
fingerprint, and any real difference (a volume added, a snapshot that is now kept, one more to
delete) changes it.
"""
from __future__ import annotations

import hashlib
import json
import re

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import InputError

FINGERPRINT = re.compile(r"^sha256:[0-9a-f]{64}$")


def plan_of(results, name_format, metadata):
    """The plan of a rotation from its (predicted) per-volume results."""
    creates, deletes = [], []
    for result in results:
        if result.get("volume_id") is None:
            continue
        if result.get("created") is not None:
            creates.append({"volume_id": result["volume_id"], "volume_name": result.get("volume_name"),
                            "name": result["created"].get("name"), "name_format": name_format,
                            "metadata": dict(sorted(metadata.items()))})
        for entry in result.get("pruned") or []:
            deletes.append({"volume_id": result["volume_id"], "volume_name": result.get("volume_name"),
                            "snapshot_id": entry["id"], "name": entry.get("name"),
                            "created_at": entry.get("created_at")})
    creates.sort(key=lambda c: c["volume_id"])
    deletes.sort(key=lambda d: (d["volume_id"], d["snapshot_id"]))
    plan = {"creates": creates, "deletes": deletes}
    plan["fingerprint"] = fingerprint(plan)
    plan["summary"] = summary(plan)
    return plan


def _essence(plan):
    """Exactly what the plan changes: no names rendered from the time, no display fields."""
    creates = sorted((c["volume_id"], c["name_format"], sorted((c.get("metadata") or {}).items()))
                     for c in plan.get("creates") or [])
    deletes = sorted((d["volume_id"], d["snapshot_id"]) for d in plan.get("deletes") or [])
    return {"creates": creates, "deletes": deletes}


def fingerprint(plan):
    blob = json.dumps(_essence(plan), sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def summary(plan):
    volumes = set(c["volume_id"] for c in plan["creates"]) | set(d["volume_id"] for d in plan["deletes"])
    return "%d snapshot(s) to create and %d to delete on %d volume(s)" % (
        len(plan["creates"]), len(plan["deletes"]), len(volumes))


def check_approved(value, option="approved_plan"):
    """The approved plan as given: a plan (the RV of a check-mode run) or only its fingerprint.

    A plan whose content no longer matches its own fingerprint (edited, or mangled on the way) is refused.
    Returns (fingerprint, plan or None).
    """
    if isinstance(value, str):
        if not FINGERPRINT.match(value.strip()):
            raise InputError("%s must be the plan of a check-mode run, or its fingerprint (sha256:<64 hex>), got %r"
                             % (option, value[:80]))
        return value.strip(), None
    if not isinstance(value, dict) or not isinstance(value.get("fingerprint"), str) \
            or not isinstance(value.get("creates"), list) or not isinstance(value.get("deletes"), list):
        raise InputError("%s must be the plan of a check-mode run (with fingerprint, creates and deletes), or its "
                         "fingerprint" % option)
    try:
        actual = fingerprint(value)
    except (KeyError, TypeError, AttributeError):
        raise InputError("%s is not a plan this collection made: its creates or deletes lack volume_id, "
                         "name_format or snapshot_id" % option)
    if actual != value["fingerprint"]:
        raise InputError("%s does not match its own fingerprint (%s, computed %s): it was changed after the plan "
                         "was made" % (option, value["fingerprint"], actual))
    return actual, value


def difference(approved, fresh):
    """Lines that say how the fresh plan differs from the approved one (empty when only a fingerprint was approved)."""
    if approved is None:
        return []
    lines = []
    old, new = _essence(approved), _essence(fresh)
    names = dict((c["volume_id"], c.get("volume_name") or c["volume_id"]) for c in
                 (approved.get("creates") or []) + (fresh.get("creates") or []))
    names.update((d["volume_id"], d.get("volume_name") or d["volume_id"]) for d in
                 (approved.get("deletes") or []) + (fresh.get("deletes") or []))
    for item in new["creates"]:
        if item not in old["creates"]:
            lines.append("+ create a snapshot of %s" % names.get(item[0], item[0]))
    for item in old["creates"]:
        if item not in new["creates"]:
            lines.append("- create a snapshot of %s (no longer due)" % names.get(item[0], item[0]))
    for volume_id, snapshot_id in new["deletes"]:
        if (volume_id, snapshot_id) not in old["deletes"]:
            lines.append("+ delete snapshot %s of %s" % (snapshot_id, names.get(volume_id, volume_id)))
    for volume_id, snapshot_id in old["deletes"]:
        if (volume_id, snapshot_id) not in new["deletes"]:
            lines.append("- delete snapshot %s of %s (now kept, or gone)" % (snapshot_id, names.get(volume_id, volume_id)))
    return lines
