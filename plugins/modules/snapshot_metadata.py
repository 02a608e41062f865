#!/usr/bin/python
# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot_metadata
short_description: Set, replace or delete metadata keys of an OpenStack Cinder volume snapshot
version_added: 1.0.0
description:
  - Makes the metadata of one Cinder (Block Storage v3) volume snapshot match the desired keys, writing only the
    difference; a rerun reports no change.
  - Sets keys with one merge request (other keys are untouched, so concurrent edits of different keys never lose
    one), replaces all keys with one request when O(purge_metadata=true), and deletes single keys one by one.
  - Keys in the collection's reserved C(cinderops:) namespace (rotation ownership C(cinderops:policy) and holds
    C(cinderops:hold), C(cinderops:hold_until)) may be set, but are kept by O(purge_metadata) and deleted only with
    O(allow_reserved=true).
author:
  - cinderops.snapshots maintainers (@cinderops)
options:
  id:
    description: The snapshot's id.
    type: str
  name:
    description: The snapshot's name; with O(volume) it identifies the snapshot.
    type: str
    aliases: [display_name]
  volume:
    description: The snapshot's volume, by name or id; needed with O(name).
    type: str
  metadata:
    description:
      - Keys and values. With O(state=present) they are set; with O(state=absent) these keys are deleted (their values
        are ignored).
      - Keys are 1 to 255 letters, digits, spaces, C(-), C(_), C(:) and C(.) (what Cinder 2026.1 accepts); values are strings of
        at most 255 characters. Numbers and booleans are converted to strings (V(true)/V(false)).
    type: dict
  keys:
    description: Keys to delete with O(state=absent). Keys that are already gone are fine.
    type: list
    elements: str
  state:
    description: Whether the keys should be there (V(present)) or not (V(absent)).
    type: str
    default: present
    choices: [present, absent]
  purge_metadata:
    description:
      - With O(state=present), the metadata becomes exactly O(metadata) (reserved keys aside).
      - The same name as M(cinderops.snapshots.snapshot)'s option; C(purge) is its old name.
    type: bool
    default: false
    aliases: [purge]
  allow_reserved:
    description: Allow O(purge_metadata) and O(state=absent) to delete keys in the reserved C(cinderops:) namespace.
    type: bool
    default: false
extends_documentation_fragment:
  - cinderops.snapshots.cloud
  - cinderops.snapshots.wait.UNUSED
  - cinderops.snapshots.attributes.ALL
seealso:
  - module: cinderops.snapshots.snapshot
  - module: cinderops.snapshots.snapshot_info
"""

EXAMPLES = r"""
- name: Tag a snapshot (other keys are left alone)
  cinderops.snapshots.snapshot_metadata:
    cloud: mycloud
    volume: db-data
    name: db-data-before-upgrade
    metadata:
      ticket: CHG-1234
      verified: true

- name: Hold a snapshot so that rotation never prunes it
  cinderops.snapshots.snapshot_metadata:
    cloud: mycloud
    id: 2bb856e1-b3d8-4432-a858-09e4ce939389
    metadata:
      "cinderops:hold": legal hold, case 42
      "cinderops:hold_until": "2027-06-30"

- name: Release the hold
  cinderops.snapshots.snapshot_metadata:
    cloud: mycloud
    id: 2bb856e1-b3d8-4432-a858-09e4ce939389
    keys: ["cinderops:hold", "cinderops:hold_until"]
    state: absent
    allow_reserved: true

- name: Make the metadata exactly this (reserved keys are kept)
  cinderops.snapshots.snapshot_metadata:
    cloud: mycloud
    id: 2bb856e1-b3d8-4432-a858-09e4ce939389
    metadata:
      owner: dba
    purge_metadata: true
"""

RETURN = r"""
metadata:
  description: The snapshot's whole metadata as Cinder has it after the change (read back from Cinder).
  returned: always
  type: dict
  sample: {"ticket": "CHG-1234", "verified": "true", "cinderops:policy": "nightly"}
snapshot_id:
  description: The id of the snapshot.
  returned: always
  type: str
  sample: 2bb856e1-b3d8-4432-a858-09e4ce939389
diff:
  description: The metadata before and after.
  returned: when diff mode is on and something changed
  type: dict
  sample: {"before": {"metadata": {"a": "1"}}, "after": {"metadata": {"a": "1", "b": "2"}}}
"""

from ansible_collections.cinderops.snapshots.plugins.module_utils._diff import (
    apply_metadata, is_reserved, metadata_changes)
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._module import CinderopsModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import (
    check_id, check_metadata, check_metadata_key, check_name)


class SnapshotMetadataModule(CinderopsModule):
    wait_options = False
    argument_spec = dict(
        id=dict(type="str"),
        name=dict(type="str", aliases=["display_name"]),
        volume=dict(type="str"),
        metadata=dict(type="dict"),
        keys=dict(type="list", elements="str", no_log=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        purge_metadata=dict(type="bool", default=False, aliases=["purge"]),
        allow_reserved=dict(type="bool", default=False),
    )
    module_kwargs = dict(
        required_one_of=[("id", "name"), ("metadata", "keys")],
        required_if=[("state", "present", ("metadata",))],
        mutually_exclusive=[("keys", "purge_metadata")],
    )

    def run(self):
        snapshot_id = check_id("id", self.params["id"])
        name = check_name("name", self.params["name"])
        if self.params["volume"] is not None and not self.params["volume"].strip():
            raise InputError("volume must not be empty; give the volume's name or id")
        if name is not None and not snapshot_id and not self.params["volume"]:
            raise InputError("volume is required to find snapshot %r by name (snapshots are never looked up by "
                             "name across the project); or give id" % name)
        wanted = check_metadata("metadata", self.params["metadata"])
        doomed = self.keys_to_delete(wanted)
        snapshots = Snapshots(self.connect())
        snap = snapshots.identify(snapshot_id, self.params["volume"], name)[0]
        if snap is None:
            raise CinderopsError("id: snapshot %s was not found" % snapshot_id if snapshot_id else
                                 "name: no snapshot named %r on volume %s" % (name, self.params["volume"]))
        current = snap["metadata"]
        if self.params["state"] == "present":
            to_set, to_unset = metadata_changes(current, wanted, self.params["purge_metadata"],
                                                keep_reserved=not self.params["allow_reserved"])
        else:
            to_set, to_unset = {}, sorted(k for k in doomed if k in current)
        changed = bool(to_set or to_unset)
        after = apply_metadata(current, to_set, to_unset)
        if changed and not self.check_mode:
            self.write(snapshots, snap, current, to_set, to_unset)
            # Read back what Cinder has: other writers may have changed other keys meanwhile.
            after = snapshots.get_metadata(snap["id"])
        result = dict(changed=changed, metadata=after, snapshot_id=snap["id"])
        if self.diff_mode and changed:
            result["diff"] = {"before": {"metadata": current}, "after": {"metadata": after}}
        self.exit(**result)

    def keys_to_delete(self, wanted):
        """For state=absent: the keys named by ``keys`` or by ``metadata``; reserved ones need allow_reserved."""
        if self.params["state"] != "absent":
            return []
        keys = list(self.params["keys"] or []) + list((wanted or {}).keys())
        for key in keys:
            check_metadata_key("keys", key)
            if is_reserved(key) and not self.params["allow_reserved"]:
                raise InputError("key %r is in the reserved cinderops: namespace (rotation ownership and holds); set "
                                 "allow_reserved: true to delete it" % key)
        return keys

    def write(self, snapshots, snap, current, to_set, to_unset):
        if self.params["state"] == "absent":
            for key in to_unset:
                snapshots.delete_metadata_key(snap["id"], key)
            return
        # present: one POST to merge, or one PUT when purging (the shared rule of the snapshot module too).
        snapshots.change_metadata(snap["id"], current, to_set, to_unset)


def main():
    SnapshotMetadataModule()()


if __name__ == "__main__":
    main()
