#!/usr/bin/python
# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot
short_description: Create, update and delete an OpenStack Cinder volume snapshot
version_added: 1.0.0
description:
  - Makes one Cinder (Block Storage v3) volume snapshot match the desired state, changing only the difference.
  - A snapshot is found by O(id), or by O(volume) and O(name) together; never by name across the project, so two
    volumes can each have a snapshot of the same name.
  - Creates a missing snapshot (with metadata) and waits until it is C(available); updates the description and
    metadata in place, and renames it when it is addressed by O(id); deletes it and waits until it is gone.
  - Fails fast, with the reason, when a snapshot lands in C(error) or C(error_deleting), or when the backend refuses
    a delete because volumes were created from the snapshot.
  - Two runs of the same task at once (two schedules, two AWX nodes) end with one snapshot. Each run, once its
    snapshot is available, looks for another one of the same volume and name; the younger one is deleted by its
    own run, which then reports the older one, unchanged. A delete that another run got to first is waited for.
  - A create or delete whose answer is lost (a reset connection, a 5xx after Cinder acted) is sent again only after
    looking for its effect, so a retry never makes a duplicate.
author:
  - cinderops.snapshots maintainers (@cinderops)
options:
  id:
    description:
      - The snapshot's id (a UUID; anything else fails before any request). With O(state=present) the snapshot must
        exist; O(name) then renames it.
    type: str
  name:
    description:
      - The snapshot's name. Together with O(volume) it identifies the snapshot, compared exactly (Cinder's own name
        filter ignores case on MySQL and MariaDB).
      - At most 255 characters. Cinder strips leading and trailing spaces, and so does this module. An empty or
        blank name (for example a template that renders to nothing) is an error, never a match.
    type: str
    aliases: [display_name]
  volume:
    description:
      - The volume, by name or id. Needed to create a snapshot and to find one by O(name).
      - A name must match exactly one volume of the project.
    type: str
  description:
    description:
      - The snapshot's description; updated in place. At most 255 characters, without newlines.
      - Left alone when not given.
    type: str
    aliases: [display_description]
  metadata:
    description:
      - Metadata keys and values to set. Merged into the snapshot's metadata unless O(purge_metadata=true).
      - Keys are 1 to 255 letters, digits, spaces, C(-), C(_), C(:) and C(.) (what Cinder 2026.1 accepts); values are strings of
        at most 255 characters. Numbers and booleans are converted to strings (V(true)/V(false)).
      - Left alone when not given.
    type: dict
  purge_metadata:
    description:
      - With O(metadata), remove the keys that O(metadata) does not list.
      - Keys in the collection's reserved C(cinderops:) namespace (rotation ownership and holds) are kept.
    type: bool
    default: false
  force:
    description:
      - Allow a snapshot of an C(in-use) volume on clouds older than microversion 3.66.
      - From microversion 3.66 on, in-use volumes need no force and the flag is not sent (Cinder rejects
        C(force=false) there).
    type: bool
    default: false
  state:
    description: Whether the snapshot should exist.
    type: str
    default: present
    choices: [present, absent]
  force_delete:
    description:
      - With O(state=absent), delete with Cinder's C(os-force_delete) action, whatever the snapshot's status. It is the
        way out for a snapshot stuck in C(error_deleting) (a delete that failed on the backend) or in a transitional
        status. Needs an admin; other users get a clear failure.
      - Without it, a snapshot in C(error_deleting) fails the task with the reason.
    type: bool
    default: false
  reset_status:
    description:
      - Before anything else, set the snapshot's status in Cinder's database to this, with C(os-reset_status), when
        it differs. For an admin who knows the backend state, for example V(available) for a snapshot stuck in
        C(creating), or V(error) for one that can then be deleted normally. Nothing on the backend changes.
      - Needs an admin; other users get a clear failure. Check mode predicts the reset and sends nothing.
    type: str
    choices: [available, error]
extends_documentation_fragment:
  - cinderops.snapshots.cloud
  - cinderops.snapshots.wait
  - cinderops.snapshots.attributes.ALL
seealso:
  - module: cinderops.snapshots.snapshot_info
  - module: cinderops.snapshots.snapshot_metadata
  - module: openstack.cloud.volume_snapshot
"""

EXAMPLES = r"""
- name: Snapshot a volume (created once, then left alone)
  cinderops.snapshots.snapshot:
    cloud: mycloud
    volume: db-data
    name: db-data-before-upgrade
    description: Taken before the 2026.2 upgrade
    metadata:
      ticket: CHG-1234

- name: Set the connection once for every module of the collection
  module_defaults:
    group/cinderops.snapshots.snapshots:
      cloud: mycloud
  block:
    - name: Snapshot an in-use volume on an older cloud
      cinderops.snapshots.snapshot:
        volume: 5aa119a8-d25b-45a7-8d1b-88e127885635
        name: nightly
        force: true

    - name: Rename a snapshot and replace its metadata
      cinderops.snapshots.snapshot:
        id: 2bb856e1-b3d8-4432-a858-09e4ce939389
        name: db-data-golden
        metadata:
          keep: "forever"
        purge_metadata: true

    - name: Delete a snapshot and wait until it is gone
      cinderops.snapshots.snapshot:
        volume: db-data
        name: db-data-before-upgrade
        state: absent
"""

RETURN = r"""
snapshot:
  description:
    - The snapshot as Cinder reports it after the change, in the detail view.
    - In check mode, the predicted snapshot (fields Cinder would choose, such as the id, are null).
    - V(null) when O(state=absent).
  returned: always
  type: dict
  contains:
    id:
      description: The snapshot's id.
      type: str
      sample: 2bb856e1-b3d8-4432-a858-09e4ce939389
    name:
      description: The snapshot's name.
      type: str
      sample: db-data-before-upgrade
    description:
      description: The description.
      type: str
      sample: Taken before the 2026.2 upgrade
    volume_id:
      description: The id of the volume the snapshot was taken of.
      type: str
      sample: 5aa119a8-d25b-45a7-8d1b-88e127885635
    status:
      description: The status, for example V(available), V(creating) or V(error).
      type: str
      sample: available
    size:
      description: Size in GiB (the volume's size).
      type: int
      sample: 10
    metadata:
      description: All metadata keys and values.
      type: dict
      sample: {"ticket": "CHG-1234"}
    progress:
      description: Progress of the snapshot, as Cinder reports it (null right after a create or update).
      type: str
      sample: 100%
    project_id:
      description: The project that owns the snapshot (null right after a create or update).
      type: str
      sample: bab7d5c60cd041a0a36f7c4b6e1dd978
    user_id:
      description: The user who created the snapshot.
      type: str
      sample: 4f2ae3d3e9cd4d58a0b4ae2dc87ab0f9
    created_at:
      description: When the snapshot was created (UTC).
      type: str
      sample: "2026-11-26T18:31:16.000000"
    updated_at:
      description: When the snapshot was last updated (UTC).
      type: str
      sample: "2026-11-26T18:31:17.000000"
    group_snapshot_id:
      description: The group snapshot it belongs to, if any.
      type: str
      returned: when Cinder reports it
      sample: null
    consumes_quota:
      description: Whether the snapshot counts against the project's quota.
      type: bool
      returned: when Cinder reports it
      sample: true
reset_from:
  description: The status the snapshot had before O(reset_status) changed it.
  returned: when O(reset_status) changed the status
  type: str
  sample: error_deleting
diff:
  description: The changed fields before and after, metadata included.
  returned: when diff mode is on and something changed
  type: dict
  sample: {"before": {"description": "old"}, "after": {"description": "new"}}
"""

from ansible_collections.cinderops.snapshots.plugins.module_utils import _converge, _status
from ansible_collections.cinderops.snapshots.plugins.module_utils._diff import (
    apply_metadata, diff_of, field_changes, metadata_changes)
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._module import CinderopsModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots, named
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import label
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import (
    check_id, check_metadata, check_name, check_text)


class SnapshotModule(CinderopsModule):
    argument_spec = dict(
        id=dict(type="str"),
        name=dict(type="str", aliases=["display_name"]),
        volume=dict(type="str"),
        description=dict(type="str", aliases=["display_description"]),
        metadata=dict(type="dict"),
        purge_metadata=dict(type="bool", default=False),
        force=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        force_delete=dict(type="bool", default=False),
        reset_status=dict(type="str", choices=["available", "error"]),
    )
    module_kwargs = dict(required_one_of=[("id", "name")])

    def run(self):
        wanted = self.wanted()
        self.snapshots = Snapshots(self.connect())
        current, volume_id = self.snapshots.identify(wanted["id"], self.params["volume"], wanted["name"])
        current = self.reset(current)
        if self.params["state"] == "absent":
            self.make_absent(current)
        else:
            self.make_present(current, volume_id, wanted)

    # ---------------------------------------------------------------- what is wanted
    def wanted(self):
        """Validated desired fields, before any request."""
        snapshot_id = check_id("id", self.params["id"])
        name = check_name("name", self.params["name"])
        if self.params["volume"] is not None and not self.params["volume"].strip():
            raise InputError("volume must not be empty; give the volume's name or id")
        if self.params["force_delete"] and self.params["state"] != "absent":
            raise InputError("force_delete is for state: absent")
        if name is not None and not snapshot_id and not self.params["volume"]:
            raise InputError("volume is required to find or create snapshot %r by name (snapshots are never "
                             "looked up by name across the project); or give id" % name)
        return dict(
            id=snapshot_id,
            name=name,
            description=check_text("description", _strip(self.params["description"]), allow_newline=False),
            metadata=check_metadata("metadata", self.params["metadata"]),
        )

    # ---------------------------------------------------------------- the difference
    def make_present(self, current, volume_id, wanted):
        if current is None:
            return self.create(volume_id, wanted)
        current = self.settle(current)
        changes = {}
        if wanted["id"]:
            changes.update(field_changes(current, {"name": wanted["name"]}))
        changes.update(field_changes(current, {"description": wanted["description"]}))
        to_set, to_unset = {}, []
        if wanted["metadata"] is not None:
            to_set, to_unset = metadata_changes(current["metadata"], wanted["metadata"], self.params["purge_metadata"])
        after = dict(current, **changes)
        after["metadata"] = apply_metadata(current["metadata"], to_set, to_unset)
        changed = bool(changes or to_set or to_unset)
        if changed and not self.check_mode:
            if changes:
                updated = self.snapshots.update(current["id"], changes)
                after.update(dict((k, updated[k]) for k in ("name", "description", "updated_at")))
            if to_set or to_unset:
                after["metadata"] = self.snapshots.change_metadata(current["id"], current["metadata"], to_set, to_unset)
        self.finish(changed, current, after)

    def create(self, volume_id, wanted):
        if wanted["id"]:
            raise CinderopsError("id: snapshot %s does not exist; to create a snapshot give volume and name (Cinder "
                                 "chooses the id)" % wanted["id"])
        volume = self.snapshots.get_volume(volume_id)
        if volume is None:
            # An id-shaped name, or a volume that is not there.
            volume = self.snapshots.find_volume(self.params["volume"])
        predicted = dict(id=None, name=wanted["name"], description=wanted["description"], volume_id=volume["id"],
                         status="available", size=volume.get("size"), metadata=wanted["metadata"] or {},
                         progress=None, project_id=None, user_id=None, created_at=None, updated_at=None)
        if self.check_mode:
            return self.finish(True, None, predicted)
        snap = self.snapshots.create(volume["id"], name=wanted["name"], description=wanted["description"],
                                     metadata=wanted["metadata"], force=self.params["force"])
        snap, yielded = self.converge(snap, volume["id"], wanted["name"])
        self.finish(not yielded, None, snap)

    def converge(self, snap, volume_id, name):
        """The same task running twice at once makes two snapshots of one (volume, name): keep the oldest.

        Returns (snapshot, yielded): with ``yielded`` this run's snapshot was deleted in favour of an
        older one, and the task reports that one, unchanged (the other run made the change).
        """
        def rivals():
            return [s for s in named(self.snapshots.list({"volume_id": volume_id, "name": name}), name)
                    if s["id"] != snap["id"]]
        timeout = self.params["timeout"]
        if self.params["wait"]:
            snap = self.snapshots.wait_available(snap, timeout, known=snap)
        else:
            if _converge.decide(snap, rivals())[0] == _converge.KEEP:
                return snap, False
            snap = self.snapshots.wait_available(snap, timeout, known=snap)  # only to delete it
        return self.snapshots.settle_rivals(snap, rivals, timeout)

    def settle(self, current):
        """Wait out a snapshot that is still being made; refuse one in a failed state."""
        if current["status"] in _status.TRANSITIONAL and self.params["wait"]:
            current = self.snapshots.wait_available(current, self.params["timeout"])
        if current["status"] == _status.ERROR:
            raise CinderopsError("snapshot %s is in status error (its creation failed on the backend); remove it "
                                 "with state: absent and run again" % label(current), snapshot=current)
        if current["status"] == _status.ERROR_DELETING:
            raise CinderopsError("snapshot %s is in status error_deleting: an earlier delete failed on the backend; "
                                 "an admin can set reset_status: available to keep it, or remove it with state: "
                                 "absent and force_delete: true" % label(current), snapshot=current)
        if current["status"] == _status.DELETING:
            raise CinderopsError("snapshot %s is being deleted (status deleting); run again once it is gone to "
                                 "create it anew" % label(current), snapshot=current)
        return current

    def reset(self, current):
        """reset_status: the admin's override of the status, before anything else is decided."""
        wanted = self.params["reset_status"]
        if current is None or wanted is None or current["status"] == wanted:
            return current
        self.reset_from = current["status"]
        if self.check_mode:
            self.predict_admin("reset_status")
        else:
            self.snapshots.reset_status(current["id"], wanted)
        return dict(current, status=wanted)

    def predict_admin(self, option):
        """Check mode predicts what Cinder's admin-only policy would say, from the token's roles."""
        if not self.snapshots.client.is_admin():
            raise CinderopsError("%s needs an admin: Cinder's policy allows it only to admins, and this user's token "
                                 "has no admin role" % option)

    def make_absent(self, current):
        if current is None:
            return self.finish(False, None, None)
        status = current["status"]
        # A delete already under way (another run's, or Cinder's) is waited for below, not forced again.
        if self.params["force_delete"] and status not in (_status.DELETED, _status.DELETING):
            if self.check_mode:
                self.predict_admin("force_delete")
            else:
                if self.snapshots.force_delete(current["id"]) == "gone":
                    return self.finish(False, current, None)
                if self.params["wait"]:
                    self.snapshots.wait_deleted(current, self.params["timeout"],
                                                known=dict(current, status=_status.DELETING))
            return self.finish(True, current, None)
        if status == _status.ERROR_DELETING:
            raise CinderopsError("snapshot %s is in status error_deleting: an earlier delete failed on the backend; "
                                 "an admin can remove it with force_delete: true (or set reset_status: error and "
                                 "delete it again)" % label(current), snapshot=current)
        if status == _status.DELETING:
            # Someone else's delete is under way; wait for it, but it is not our change.
            if self.params["wait"] and not self.check_mode:
                self.snapshots.wait_deleted(current, self.params["timeout"])
            return self.finish(False, current, None)
        if status in _status.TRANSITIONAL:
            if not self.params["wait"]:
                raise CinderopsError("snapshot %s is %s and cannot be deleted yet; use wait: true" %
                                     (label(current), status))
            if not self.check_mode:
                current = self.snapshots.wait_available(current, self.params["timeout"])
        if self.check_mode:
            return self.finish(True, current, None)
        outcome = self.snapshots.delete(current["id"])
        if outcome != "gone" and self.params["wait"]:
            self.snapshots.wait_deleted(current, self.params["timeout"], known=dict(current, status=_status.DELETING))
        # "deleting": another run's delete got there first; "gone": it was already.
        self.finish(outcome == "accepted", current, None)

    # ---------------------------------------------------------------- result
    reset_from = None

    def finish(self, changed, before, after):
        result = dict(changed=changed or self.reset_from is not None, snapshot=after)
        if self.reset_from is not None:
            result["reset_from"] = self.reset_from
        if self.diff_mode and changed:
            if before is None or after is None:
                # Created or deleted: show the whole snapshot on one side.
                result["diff"] = {"before": _diff_view(before), "after": _diff_view(after)}
            else:
                result["diff"] = diff_of(_diff_view(before), _diff_view(after))
        self.exit(**result)


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _diff_view(snapshot):
    if snapshot is None:
        return {"state": "absent"}
    view = dict((k, snapshot.get(k)) for k in ("name", "description", "volume_id", "metadata"))
    view["state"] = "present"
    return view


def main():
    SnapshotModule()()


if __name__ == "__main__":
    main()
