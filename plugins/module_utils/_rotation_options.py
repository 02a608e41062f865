# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a rotation run is told to do, checked before any request so that bad input never half-applies. Pure."""
from __future__ import annotations

import re
from datetime import datetime, timezone

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import (
    OWNER_KEY, PolicyError, normalize_policy)
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import selection_metadata
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import (
    MAX_TEXT, check_metadata, check_positive, check_storable)

DEFAULT_NAME_FORMAT = "{policy}-%Y%m%dT%H%M%SZ"
DEFAULT_WORKERS = 8
MAX_WORKERS = 32

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


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
    """Validate ``name_format``; returns it."""
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
    name = check_storable("policy_name", policy_name.strip())
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


def selection(volumes=None, volume_metadata=None, all_volumes=None):
    """Which volumes: ``dict(refs=...)``, ``dict(metadata=...)`` or ``dict(everything=True)``."""
    if volumes is not None:
        if not volumes:
            raise InputError("volumes is empty; list volume names or ids, or use volume_metadata or all_volumes")
        blank = [ref for ref in volumes if not isinstance(ref, str) or not ref.strip()]
        if blank:
            raise InputError("volumes must not contain empty names (got %r)" % (blank[0],))
        return dict(refs=list(volumes))
    if volume_metadata is not None:
        return dict(metadata=selection_metadata("volume_metadata", volume_metadata))
    if all_volumes:
        return dict(everything=True)
    raise InputError("select the volumes with one of volumes, volume_metadata or all_volumes: true")


class RotationOptions(object):
    """Everything one rotation is told, validated; the run reads its settings from here."""

    def __init__(self, policy_name, policy, selection=None, name_format=DEFAULT_NAME_FORMAT, snapshot_metadata=None,
                 force=False, create=True, prune=True, cleanup_errors=False, wait=True, timeout=180,
                 max_workers=DEFAULT_WORKERS, check_mode=False, make_room=False):
        self.policy = build_policy(policy, policy_name, cleanup_errors)
        self.policy_name = self.policy.name
        self.selection = selection if selection is not None else dict(everything=True)
        self.name_format = check_name_format(name_format, self.policy_name)
        self.metadata = new_snapshot_metadata(snapshot_metadata, self.policy_name)
        self.force = bool(force)
        self.create = bool(create)
        self.prune = bool(prune)
        self.wait = bool(wait)
        self.timeout = check_positive("timeout", timeout)
        self.max_workers = check_workers(max_workers)
        self.check_mode = bool(check_mode)
        self.make_room = bool(make_room)
        self.cleanup_errors = self.policy.cleanup_errors

    @classmethod
    def from_params(cls, params, check_mode=False):
        """From ``snapshot_rotation``'s parameters."""
        return cls(params["policy_name"], params["policy"],
                   selection=selection(params["volumes"], params["volume_metadata"], params["all_volumes"]),
                   name_format=params["name_format"], snapshot_metadata=params["snapshot_metadata"],
                   force=params["force"], create=params["create"], prune=params["prune"],
                   cleanup_errors=params["cleanup_errors"], wait=params["wait"], timeout=params["timeout"],
                   max_workers=params["max_workers"], check_mode=check_mode, make_room=params["make_room"])
