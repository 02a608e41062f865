#!/usr/bin/python
# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot_info
short_description: List OpenStack Cinder volume snapshots, filtered by the server
version_added: 1.0.0
description:
  - Lists Cinder (Block Storage v3) volume snapshots, following every page.
  - Every filter, including O(metadata), is applied by Cinder, not in Python, so large projects list fast.
  - Returns a list, V([]) when nothing matches. Never changes anything.
author:
  - cinderops.snapshots maintainers (@cinderops)
options:
  id:
    description: Only the snapshot with this id (a UUID; anything else fails before any request).
    type: str
  name:
    description:
      - Only snapshots with exactly this name. Cinder's own filter ignores case on MySQL and MariaDB; the module
        compares exactly afterwards. An empty or blank name is an error.
    type: str
    aliases: [display_name]
  volume:
    description:
      - Only snapshots of this volume, by name or id. A volume name that matches no volume is an error, not an empty
        list.
    type: str
  status:
    description: Only snapshots in this status.
    type: str
    choices: [available, backing-up, creating, deleted, deleting, error, error_deleting, restoring, unmanaging, updating]
  metadata:
    description:
      - Only snapshots whose metadata has every one of these keys with these values. Filtered by Cinder.
      - Numbers and booleans are compared as the strings they become (V(true)/V(false)).
    type: dict
  all_projects:
    description:
      - List the snapshots of every project. Needs an admin; for other users the task fails rather than silently
        listing only their own project.
    type: bool
    default: false
  project_id:
    description: Only snapshots of this project. Admin only; implies O(all_projects).
    type: str
  details:
    description:
      - Return the detail view (with C(progress), C(project_id), C(user_id)). With V(false), the shorter summary view.
    type: bool
    default: true
  sort:
    description:
      - Sort keys with optional directions, for example V(created_at:desc) or V(name:asc). Cinder adds
        C(created_at) and C(id) as tie-breakers. The default order is newest first.
    type: list
    elements: str
  sort_key:
    description: The older single sort key. Use O(sort) instead. Cannot be combined with O(sort).
    type: str
  sort_dir:
    description: Direction for O(sort_key).
    type: str
    choices: [asc, desc]
  limit:
    description: The most snapshots to return in total. Pages are still as large as Cinder serves.
    type: int
  marker:
    description: Resume listing after the snapshot with this id (as returned by a previous, limited call).
    type: str
extends_documentation_fragment:
  - cinderops.snapshots.cloud
  - cinderops.snapshots.wait.UNUSED
  - cinderops.snapshots.attributes.INFO
seealso:
  - module: cinderops.snapshots.snapshot
  - module: openstack.cloud.volume_snapshot_info
"""

EXAMPLES = r"""
- name: All snapshots of one volume, newest first
  cinderops.snapshots.snapshot_info:
    cloud: mycloud
    volume: db-data
  register: db_snapshots

- name: Snapshots that the nightly rotation policy owns
  cinderops.snapshots.snapshot_info:
    cloud: mycloud
    metadata:
      "cinderops:policy": nightly
    status: available
    sort: [created_at:asc]

- name: Every snapshot in error, across projects (admin)
  cinderops.snapshots.snapshot_info:
    cloud: mycloud-admin
    all_projects: true
    status: error

- name: The first 100, then the next 100
  cinderops.snapshots.snapshot_info:
    cloud: mycloud
    limit: 100
    marker: "{{ previous.snapshots[-1].id }}"
"""

RETURN = r"""
snapshots:
  description:
    - The matching snapshots, in the same shape as the RV(cinderops.snapshots.snapshot#module:snapshot) of
      M(cinderops.snapshots.snapshot); V([]) when nothing matches.
    - With O(details=false), only id, name, description, volume_id, status, size, metadata, created_at and
      updated_at are set; the other keys are null.
  returned: always
  type: list
  elements: dict
  sample:
    - id: 2bb856e1-b3d8-4432-a858-09e4ce939389
      name: nightly-20261126T020000Z
      description: null
      volume_id: 5aa119a8-d25b-45a7-8d1b-88e127885635
      status: available
      size: 10
      metadata: {"cinderops:policy": "nightly"}
      progress: 100%
      project_id: bab7d5c60cd041a0a36f7c4b6e1dd978
      user_id: 4f2ae3d3e9cd4d58a0b4ae2dc87ab0f9
      created_at: "2026-11-26T02:00:03.000000"
      updated_at: "2026-11-26T02:00:04.000000"
"""

from itertools import islice

from ansible_collections.cinderops.snapshots.plugins.module_utils import _status
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._module import CinderopsModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots, metadata_filter
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import (
    check_id, check_metadata, check_name)


class SnapshotInfoModule(CinderopsModule):
    wait_options = False
    argument_spec = dict(
        id=dict(type="str"),
        name=dict(type="str", aliases=["display_name"]),
        volume=dict(type="str"),
        status=dict(type="str", choices=list(_status.ALL)),
        metadata=dict(type="dict"),
        all_projects=dict(type="bool", default=False),
        project_id=dict(type="str"),
        details=dict(type="bool", default=True),
        sort=dict(type="list", elements="str"),
        sort_key=dict(type="str", no_log=False),
        sort_dir=dict(type="str", choices=["asc", "desc"]),
        limit=dict(type="int"),
        marker=dict(type="str"),
    )
    module_kwargs = dict(mutually_exclusive=[("sort", "sort_key"), ("sort", "sort_dir")])

    def run(self):
        wanted = self.wanted()
        snapshots = Snapshots(self.connect())
        filters = self.server_filters(snapshots, wanted)
        all_projects = self.params["all_projects"] or bool(self.params["project_id"])
        if all_projects and not snapshots.client.is_admin():
            raise CinderopsError("all_projects and project_id need an admin, and this user is not an admin in its "
                                 "project (Cinder would silently list only the user's own project)")
        if wanted["id"]:
            found = self.by_id(snapshots, wanted["id"], filters, wanted["metadata"])
        elif self.params["limit"] == 0:
            found = []
        else:
            found = self.listing(snapshots, filters, all_projects, wanted)
        self.exit_with_items("snapshots", found, changed=False)

    def wanted(self):
        """Every option checked here, so that a typo fails before any request."""
        if self.params["limit"] is not None and self.params["limit"] < 0:
            raise InputError("limit must be 0 or more (got %d)" % self.params["limit"])
        if self.params["volume"] is not None and not self.params["volume"].strip():
            raise InputError("volume must not be empty; give the volume's name or id, or leave volume out")
        if self.params["project_id"] is not None and not self.params["project_id"].strip():
            raise InputError("project_id must not be empty")
        return dict(
            id=check_id("id", self.params["id"]),
            marker=check_id("marker", self.params["marker"]),
            name=check_name("name", self.params["name"]),
            metadata=check_metadata("metadata", self.params["metadata"]),
            sort=self.wanted_sort(),
        )

    def wanted_sort(self):
        """``key[:dir]`` items."""
        if not self.params["sort"]:
            return None
        for item in self.params["sort"]:
            key, _sep, direction = item.partition(":")
            if not key.strip() or direction not in ("", "asc", "desc"):
                raise InputError("sort item %r must be key or key:asc or key:desc" % item)
        return ",".join(self.params["sort"])

    def server_filters(self, snapshots, wanted):
        filters = {}
        if self.params["volume"]:
            filters["volume_id"] = snapshots.volume_id_of(self.params["volume"], verify=True)
        if wanted["name"]:
            filters["name"] = wanted["name"]
        for key in ("status", "project_id"):
            if self.params[key]:
                filters[key] = self.params[key]
        if wanted["metadata"]:
            if not snapshots.client.supports("3.22"):
                raise CinderopsError("metadata: the metadata filter needs microversion 3.22; this cloud speaks %s"
                                     % snapshots.client.microversion)
            filters["metadata"] = metadata_filter(wanted["metadata"])
        return filters

    def listing(self, snapshots, filters, all_projects, wanted):
        """Every page, streamed into the result (one page in memory at a time). Cinder's name filter may
        ignore case, so names are compared exactly here, and ``limit`` counts only the exact matches."""
        limit = self.params["limit"]
        found = snapshots.iterate(filters, all_projects=all_projects, details=self.params["details"],
                                  sort=wanted["sort"], limit=None if wanted["name"] else limit,
                                  marker=wanted["marker"], sort_key=self.params["sort_key"],
                                  sort_dir=self.params["sort_dir"], prefetch=not wanted["name"])
        if wanted["name"]:
            found = (s for s in found if s["name"] == wanted["name"])
        return islice(found, limit) if limit is not None else found

    def by_id(self, snapshots, snapshot_id, filters, metadata):
        """One GET; the other filters still apply, so the answer is the same as a listing's."""
        snap = snapshots.get(snapshot_id)
        if snap is None:
            return []
        for key in ("volume_id", "name", "status", "project_id"):
            if key in filters and snap.get(key) != filters[key]:
                return []
        if metadata and any(snap["metadata"].get(k) != v for k, v in metadata.items()):
            return []
        return [snap]


def main():
    SnapshotInfoModule()()


if __name__ == "__main__":
    main()
