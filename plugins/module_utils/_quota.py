# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Quota arithmetic: how many snapshots (or test volumes) a project still has room for. Pure.

Input is Cinder's quota set with usage (``GET /os-quota-sets/{project}?usage=true``): per resource
``{"limit": N, "in_use": U, "reserved": R}``, ``-1`` meaning unlimited, and per volume type
``snapshots_<type>``, ``gigabytes_<type>``, ``volumes_<type>``. A snapshot counts against
``snapshots`` and ``gigabytes`` (its size; Cinder's ``no_snapshot_gb_quota`` option, which no
user can see, would exempt it, so counting it is the safe side), and against the per-type quotas of
its volume's type.
"""
from __future__ import annotations


def _usage(quota_set, key):
    value = quota_set.get(key)
    if not isinstance(value, dict) or value.get("limit") is None:
        return None
    limit = int(value["limit"])
    used = int(value.get("in_use") or 0) + int(value.get("reserved") or 0)
    return limit, used


def room(quota_set, key):
    """Units left under quota ``key``; None when unlimited or not set."""
    usage = _usage(quota_set, key)
    if usage is None or usage[0] < 0:
        return None
    limit, used = usage
    return max(0, limit - used)


def keys_for(kind, volume_type=None):
    """The quotas one new ``kind`` ("snapshots" or "volumes") counts against: ``(key, unit)`` pairs."""
    keys = [(kind, "count"), ("gigabytes", "size")]
    if volume_type:
        keys += [("%s_%s" % (kind, volume_type), "count"), ("gigabytes_%s" % volume_type, "size")]
    return keys


class Ledger(object):
    """Room that is handed out in order: each request takes what it needs, or is refused with the numbers."""

    def __init__(self, quota_set, project=None):
        self.quota_set = quota_set or {}
        self.project = project or "the project"
        self.left = {}
        self.needed = {}

    def _left(self, key):
        if key not in self.left:
            self.left[key] = room(self.quota_set, key)
        return self.left[key]

    def note_need(self, kind, size, volume_type=None):
        """Count what the whole run needs, for the message."""
        for key, unit in keys_for(kind, volume_type):
            self.needed[key] = self.needed.get(key, 0) + (1 if unit == "count" else size)

    def free(self, kind, size, volume_type=None):
        """Room given back (a snapshot deleted first, to make room)."""
        for key, unit in keys_for(kind, volume_type):
            left = self._left(key)
            if left is not None:
                self.left[key] = left + (1 if unit == "count" else size)

    def take(self, kind, size, volume_type=None):
        """Take the room for one new ``kind`` of ``size`` GiB: None when it fits, else the message why not."""
        short = []
        for key, unit in keys_for(kind, volume_type):
            left = self._left(key)
            want = 1 if unit == "count" else size
            if left is not None and left < want:
                short.append(key)
        if short:
            return self.explain(short[0], kind)
        for key, unit in keys_for(kind, volume_type):
            if self.left.get(key) is not None:
                self.left[key] -= 1 if unit == "count" else size
        return None

    def explain(self, key, kind):
        limit, used = _usage(self.quota_set, key)
        unit = "GiB" if key.startswith("gigabytes") else kind
        return ("quota %s: %s has %d of %d %s left (%d in use or reserved); this run needs %d"
                % (key, self.project, max(0, limit - used), limit, unit, used, self.needed.get(key, 0)))


def over_quota_detail(quota_set, quota, project=None):
    """For a 413: what the quota says now, as '<quota>: limit L, in use U, reserved R'."""
    value = (quota_set or {}).get(quota)
    if not isinstance(value, dict):
        return None
    return "%s%s: limit %s, in use %s, reserved %s" % ("%s " % project if project else "", quota, value.get("limit"),
                                                       value.get("in_use"), value.get("reserved"))
