# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One vocabulary for Cinder's snapshot and volume statuses, and one way to name things in messages. Pure."""
from __future__ import annotations

# Cinder's SnapshotStatus (cinder/objects/fields.py).
AVAILABLE = "available"
CREATING = "creating"
DELETING = "deleting"
DELETED = "deleted"
ERROR = "error"
ERROR_DELETING = "error_deleting"
UPDATING = "updating"
RESTORING = "restoring"
BACKING_UP = "backing-up"
UNMANAGING = "unmanaging"
ALL = (AVAILABLE, BACKING_UP, CREATING, DELETED, DELETING, ERROR, ERROR_DELETING, RESTORING, UNMANAGING, UPDATING)

# On the way to available: wait for these.
TRANSITIONAL = (CREATING, UPDATING, RESTORING, BACKING_UP, UNMANAGING)
# The backend failed: never "ok".
FAILED = (ERROR, ERROR_DELETING)
# Cinder deletes a snapshot only in these (volume/api.py delete_snapshot).
DELETABLE = (AVAILABLE, ERROR)
# Gone, or going, after a delete was accepted.
GOING = (DELETING, DELETED)

# Volumes: Cinder snapshots only these (in-use needs force below microversion 3.66).
SNAPSHOTTABLE_VOLUME = (AVAILABLE, "in-use")
# Volumes on their way out are left out of metadata and all-volume selections.
VOLUME_GOING_AWAY = (DELETING,)


def label(snapshot):
    """How messages name a snapshot: ``<id> (<name>)``."""
    if snapshot.get("name"):
        return "%s (%s)" % (snapshot["id"], snapshot["name"])
    return snapshot["id"]


def volume_label(volume_id, volume_name=None):
    """How messages name a volume: ``<name> (<id>)``, or the id, or the reference that did not resolve."""
    if volume_name and volume_id:
        return "%s (%s)" % (volume_name, volume_id)
    return volume_id or repr(volume_name)
