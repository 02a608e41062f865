# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure desired-versus-actual comparison (no Ansible or SDK imports)."""
from __future__ import annotations

RESERVED_PREFIX = "cinderops:"


def is_reserved(key):
    return key.startswith(RESERVED_PREFIX)


def metadata_changes(current, desired, purge=False, keep_reserved=True):
    """What to write so that metadata matches ``desired``.

    Returns ``(to_set, to_unset)``: keys whose value must be written, and keys to
    delete. Without ``purge`` nothing is deleted (merge). With ``purge``, keys not
    in ``desired`` go, except reserved ``cinderops:*`` keys when ``keep_reserved``.
    """
    current = current or {}
    desired = desired or {}
    to_set = dict((k, v) for k, v in desired.items() if current.get(k) != v)
    to_unset = []
    if purge:
        to_unset = sorted(k for k in current if k not in desired and not (keep_reserved and is_reserved(k)))
    return to_set, to_unset


def apply_metadata(current, to_set, to_unset):
    """The metadata that results from a change (used for check mode and diffs)."""
    result = dict(current or {})
    for key in to_unset:
        result.pop(key, None)
    result.update(to_set)
    return result


def field_changes(current, desired):
    """Fields of ``desired`` (None means: leave alone) that differ from ``current``.

    ``None`` and ``""`` are the same text to Cinder (an unset description reads back
    as null), so they compare equal.
    """
    changes = {}
    for key, want in desired.items():
        if want is None:
            continue
        have = current.get(key)
        if (have or "") != (want or ""):
            changes[key] = want
    return changes


def diff_of(before, after):
    """Ansible's ``diff`` for two dicts, limited to the keys that changed."""
    keys = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    return {"before": dict((k, before.get(k)) for k in keys), "after": dict((k, after.get(k)) for k in keys)}
