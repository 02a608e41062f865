# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Cinder call about snapshots and their volumes, on top of ``CinderClient``.

Snapshots are returned as plain dicts in one shape (the detail view, flattened):
id, name, description, volume_id, status, size, metadata, progress, project_id,
user_id, created_at, updated_at (and group_snapshot_id, consumes_quota where
Cinder sends them).
"""
from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.cinderops.snapshots.plugins.module_utils.cloud import ApiError, CinderopsError
from ansible_collections.cinderops.snapshots.plugins.module_utils.diff import apply_metadata
from ansible_collections.cinderops.snapshots.plugins.module_utils.validation import looks_like_uuid
from ansible_collections.cinderops.snapshots.plugins.module_utils import waiting

FIELDS = ("id", "name", "description", "volume_id", "status", "size", "metadata", "progress", "project_id",
          "user_id", "created_at", "updated_at", "group_snapshot_id", "consumes_quota")
EXTENDED = "os-extended-snapshot-attributes:"


def normalize(raw):
    """Cinder's snapshot body -> the collection's snapshot dict."""
    if raw is None:
        return None
    snap = dict((k, raw.get(k)) for k in FIELDS)
    snap["progress"] = raw.get(EXTENDED + "progress", raw.get("progress"))
    snap["project_id"] = raw.get(EXTENDED + "project_id", raw.get("project_id"))
    snap["metadata"] = dict(raw.get("metadata") or {})
    for optional in ("group_snapshot_id", "consumes_quota"):
        if optional not in raw:
            snap.pop(optional)
    return snap


def metadata_filter(metadata):
    """Cinder's ``metadata`` query value: a dict literal it parses with ast.literal_eval.

    A literal Cinder cannot parse silently matches nothing, so always build it here.
    """
    return json.dumps(metadata, sort_keys=True)


def label(snapshot):
    """How messages name a snapshot."""
    if snapshot.get("name"):
        return "%s (%s)" % (snapshot["id"], snapshot["name"])
    return snapshot["id"]


class Snapshots(object):
    """Snapshot operations; every call goes through one CinderClient."""

    def __init__(self, client):
        self.client = client

    # ------------------------------------------------------------ volumes
    def get_volume(self, volume_id):
        body = self.client.get_json("/volumes/%s" % volume_id, "could not read volume %s" % volume_id,
                                    missing_ok=True)
        return body["volume"] if body else None

    def find_volume(self, name_or_id):
        """A volume by id or by name; CinderopsError when none or several match."""
        if looks_like_uuid(name_or_id):
            volume = self.get_volume(name_or_id)
            if volume:
                return volume
        matches = self.client.list_all("/volumes", "volumes", "could not look up volume %r" % name_or_id,
                                       params={"name": name_or_id})
        if not matches:
            raise CinderopsError("volume %r was not found (by id or name) in this project" % name_or_id)
        if len(matches) > 1:
            raise CinderopsError("volume name %r matches %d volumes (%s); give the volume's id instead"
                                 % (name_or_id, len(matches), ", ".join(sorted(v["id"] for v in matches))))
        return matches[0]

    # ------------------------------------------------------------ reading
    def get(self, snapshot_id):
        body = self.client.get_json("/snapshots/%s" % snapshot_id, "could not read snapshot %s" % snapshot_id,
                                    missing_ok=True)
        return normalize(body["snapshot"]) if body else None

    def list(self, filters=None, all_projects=False, details=True, sort=None, limit=None, marker=None, sort_key=None,
             sort_dir=None):
        params = dict(filters or {})
        if all_projects:
            params["all_tenants"] = "1"
        if sort:
            params["sort"] = sort
        if sort_key:
            params["sort_key"] = sort_key
        if sort_dir:
            params["sort_dir"] = sort_dir
        path = "/snapshots/detail" if details else "/snapshots"
        raw = self.client.list_all(path, "snapshots", "could not list snapshots", params=params, limit=limit,
                                   marker=marker)
        return [normalize(s) for s in raw]

    def find_on_volume(self, volume_id, name):
        """The snapshot named ``name`` on one volume; CinderopsError when several match."""
        found = [s for s in self.list({"volume_id": volume_id, "name": name}) if (s["name"] or "") == name]
        if len(found) > 1:
            raise CinderopsError("%d snapshots named %r exist on volume %s (%s); address one by id"
                                 % (len(found), name, volume_id, ", ".join(sorted(s["id"] for s in found))),
                                 snapshot_ids=sorted(s["id"] for s in found))
        return found[0] if found else None

    def volume_id_of(self, volume_ref, verify=False):
        """A volume's id. A name is resolved now; an id is trusted (saving a request) unless ``verify``."""
        if not volume_ref:
            return None
        if looks_like_uuid(volume_ref) and not verify:
            return volume_ref
        return self.find_volume(volume_ref)["id"]

    def identify(self, snapshot_id=None, volume_ref=None, name=None):
        """The one snapshot the user means: by id, or by (volume, name). Returns (snapshot or None, volume id).

        Never by name across the project. When id and volume are both given they must agree.
        """
        volume_id = self.volume_id_of(volume_ref)
        if snapshot_id:
            snap = self.get(snapshot_id)
            if snap and volume_id and snap["volume_id"] != volume_id:
                raise CinderopsError("snapshot %s belongs to volume %s, not to volume %s; id and volume disagree"
                                     % (snap["id"], snap["volume_id"], volume_ref))
            return snap, volume_id
        if not volume_id:
            raise CinderopsError("volume is required to find snapshot %r by name (snapshots are never looked up by "
                                 "name across the project); or give id" % name)
        return self.find_on_volume(volume_id, name), volume_id

    def user_message(self, snapshot_id):
        """Cinder's newest user message about a snapshot (why an action failed), if any."""
        if not self.client.supports("3.3"):
            return None
        try:
            body = self.client.get_json("/messages", "could not read user messages",
                                        params={"resource_uuid": snapshot_id, "sort": "created_at:desc"})
        except ApiError:
            return None
        messages = [m for m in body.get("messages", []) if m.get("resource_uuid") == snapshot_id]
        return messages[0].get("user_message") if messages else None

    # ------------------------------------------------------------ writing
    def create(self, volume_id, name=None, description=None, metadata=None, force=False):
        body = {"volume_id": volume_id}
        if name is not None:
            body["name"] = name
        if description is not None:
            body["description"] = description
        if metadata:
            body["metadata"] = metadata
        # From 3.66 in-use volumes need no force, and force=false is a 400.
        if force and not self.client.supports("3.66"):
            body["force"] = True
        try:
            resp = self.client.request("POST", "/snapshots", "could not create the snapshot of volume %s" % volume_id,
                                       expect=(202, 200), json={"snapshot": body})
        except ApiError as exc:
            if exc.status_code == 400 and "in-use" in (exc.cinder_message or "") and not force:
                raise CinderopsError("%s; set force: true to snapshot an in-use volume on microversion %s (from "
                                     "3.66 on, force is not needed)" % (exc, self.client.microversion),
                                     status_code=400, request_id=exc.request_id)
            raise
        return normalize(resp.json()["snapshot"])

    def update(self, snapshot_id, fields):
        resp = self.client.request("PUT", "/snapshots/%s" % snapshot_id, "could not update snapshot %s" % snapshot_id,
                                   json={"snapshot": fields})
        return normalize(resp.json()["snapshot"])

    def merge_metadata(self, snapshot_id, metadata):
        """POST: set these keys, keep the others. Returns the whole metadata Cinder now has."""
        resp = self.client.request("POST", "/snapshots/%s/metadata" % snapshot_id,
                                   "could not set metadata of snapshot %s" % snapshot_id, json={"metadata": metadata})
        return resp.json()["metadata"]

    def replace_metadata(self, snapshot_id, metadata):
        """PUT: the metadata becomes exactly this. Returns what Cinder now has."""
        resp = self.client.request("PUT", "/snapshots/%s/metadata" % snapshot_id,
                                   "could not replace metadata of snapshot %s" % snapshot_id,
                                   json={"metadata": metadata})
        return resp.json()["metadata"]

    def get_metadata(self, snapshot_id):
        return self.client.get_json("/snapshots/%s/metadata" % snapshot_id,
                                    "could not read metadata of snapshot %s" % snapshot_id)["metadata"]

    def delete_metadata_key(self, snapshot_id, key):
        """DELETE one key; a key that is already gone is fine. Returns False when it was gone."""
        resp = self.client.request("DELETE", "/snapshots/%s/metadata/%s" % (snapshot_id, quote(key, safe=":")),
                                   "could not delete metadata key %r of snapshot %s" % (key, snapshot_id),
                                   expect=(200, 204, 404))
        return resp.status_code != 404

    def change_metadata(self, snapshot_id, current, to_set, to_unset):
        """Write only the difference, in as few requests as Cinder allows.

        Returns the metadata Cinder reports afterwards.
        """
        if to_unset:
            # One PUT replaces everything; cheaper than a DELETE per key.
            return self.replace_metadata(snapshot_id, apply_metadata(current, to_set, to_unset))
        if to_set:
            return self.merge_metadata(snapshot_id, to_set)
        return dict(current)

    def delete(self, snapshot_id):
        """DELETE; False when it was already gone."""
        resp = self.client.request("DELETE", "/snapshots/%s" % snapshot_id,
                                   "could not delete snapshot %s" % snapshot_id, expect=(202, 204, 404))
        return resp.status_code != 404

    # ------------------------------------------------------------ waiting
    def wait_available(self, snapshot, timeout, **clock):
        return waiting.wait_for(lambda: self.get(snapshot["id"]), waiting.judge_available(label(snapshot)),
                                timeout, waiting.describe_status, **clock)[0]

    def wait_deleted(self, snapshot, timeout, **clock):
        waiting.wait_for(lambda: self.get(snapshot["id"]),
                         waiting.judge_deleted(label(snapshot), self.refusal_reason), timeout,
                         waiting.describe_status, **clock)

    def refusal_reason(self, snapshot):
        """Why a backend refused a delete: Cinder's user message, and dependent volumes if we may list them."""
        reasons = []
        message = self.user_message(snapshot["id"])
        if message:
            reasons.append(message)
        try:
            dependents = self.client.list_all("/volumes", "volumes", "could not list dependent volumes",
                                              params={"snapshot_id": snapshot["id"]}, limit=20)
        except ApiError:
            dependents = []
        if dependents:
            reasons.append("volumes created from it: %s" % ", ".join(v["id"] for v in dependents))
        elif not message:
            reasons.append("it most likely has dependent volumes (volumes created from it)")
        return "; ".join(reasons)
