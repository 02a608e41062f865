# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Cinder call about snapshots and their volumes, on top of ``CinderClient``.

Snapshots are returned as plain dicts in one shape (the detail view, flattened): id, name,
description, volume_id, status, size, metadata, progress, project_id, user_id, created_at,
updated_at (and group_snapshot_id, consumes_quota where Cinder sends them).

Names are compared exactly after Cinder's filter: on a MySQL/MariaDB-backed Cinder (most of
them) ``name=ho-snap`` also matches ``ho-SNAP``.

Writes that may have acted before their answer was lost are sent again only after looking for
their effect (``_retry.call`` with ``look``): a create is looked for on its volume by name, a
delete by the snapshot's status.
"""
from __future__ import annotations

import json
import time
from urllib.parse import quote

from ansible_collections.cinderops.snapshots.plugins.module_utils import _converge, _retry, _status, _waiting
from ansible_collections.cinderops.snapshots.plugins.module_utils._diff import apply_metadata
from ansible_collections.cinderops.snapshots.plugins.module_utils._quota import over_quota_detail, room
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import ApiError, CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._status import label, volume_label
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import looks_like_uuid, metadata_value

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


def named(items, name):
    """Only the items whose name is exactly ``name`` (Cinder's filter may ignore case)."""
    return [item for item in items if (item.get("name") or "") == name]


# ---------------------------------------------------------------------------------------------------- volumes

def _metadata_matches(volume, wanted):
    have = volume.get("metadata") or {}
    return all(k in have and str(have[k]) == v for k, v in wanted.items())


def selection_metadata(option, metadata):
    """volume_metadata values as Cinder stores them (strings); keys must be non-empty strings."""
    if not metadata:
        raise InputError("%s must name at least one key" % option)
    result = {}
    for key, value in metadata.items():
        if not isinstance(key, str) or not key:
            raise InputError("%s keys must be non-empty strings, got %r" % (option, key))
        result[key] = metadata_value(option, key, value)
    return result


def select_volumes(listing, refs=None, metadata=None, everything=False):
    """Pick volumes from a project's volume listing.

    ``refs``: names or ids; ``metadata``: every key must match; ``everything``: all volumes.
    Returns ``(selected, unresolved, problems)``: the volumes, in a stable order and without
    duplicates; the id-shaped refs not in the listing (the caller may look them up one by one);
    and ``[(ref, message)]`` for names that match no or several volumes.
    """
    selected, unresolved, problems, seen = [], [], [], set()

    def add(volume):
        if volume["id"] not in seen:
            seen.add(volume["id"])
            selected.append(volume)

    if refs is not None:
        by_id = dict((v["id"], v) for v in listing)
        by_name = {}
        for volume in listing:
            by_name.setdefault(volume.get("name") or "", []).append(volume)
        for ref in refs:
            ref = ref.strip() if isinstance(ref, str) else ref
            if not ref:
                problems.append((ref, "volumes: an empty volume reference was given"))
            elif ref in by_id:
                add(by_id[ref])
            elif len(by_name.get(ref, [])) == 1:
                add(by_name[ref][0])
            elif by_name.get(ref):
                ids = ", ".join(sorted(v["id"] for v in by_name[ref]))
                problems.append((ref, "volumes: volume name %r matches %d volumes (%s); give the volume's id instead"
                                 % (ref, len(by_name[ref]), ids)))
            elif looks_like_uuid(ref):
                unresolved.append(ref)
            else:
                problems.append((ref, "volumes: volume %r was not found (by id or name) in this project" % ref))
        return selected, unresolved, problems
    for volume in sorted(listing, key=lambda v: (v.get("name") or "", v["id"])):
        if volume.get("status") in _status.VOLUME_GOING_AWAY:
            continue
        if everything or (metadata and _metadata_matches(volume, metadata)):
            add(volume)
    return selected, unresolved, problems


def dependents_of(listing):
    """{snapshot id: [ids of volumes created from it]} from a volume listing."""
    result = {}
    for volume in listing:
        if volume.get("snapshot_id"):
            result.setdefault(volume["snapshot_id"], []).append(volume["id"])
    return result


class Snapshots(object):
    """Snapshot and volume operations; every call goes through one CinderClient."""

    def __init__(self, client, sleep=time.sleep):
        self.client = client
        self._sleep = sleep

    # ------------------------------------------------------------ volumes
    def get_volume(self, volume_id):
        body = self.client.get_json("/volumes/%s" % volume_id, "could not read volume %s" % volume_id,
                                    missing_ok=True)
        return body["volume"] if body else None

    def list_volumes(self):
        """Every volume of the project, with details (metadata, status, snapshot_id)."""
        return self.client.list_all("/volumes/detail", "volumes", "could not list volumes")

    def find_volume(self, name_or_id, option="volume"):
        """A volume by id or by exact name; CinderopsError naming ``option`` when none or several match."""
        if looks_like_uuid(name_or_id):
            volume = self.get_volume(name_or_id)
            if volume:
                return volume
        matches = named(self.client.list_all("/volumes", "volumes", "could not look up volume %r" % name_or_id,
                                             params={"name": name_or_id}), name_or_id)
        if not matches:
            raise CinderopsError("%s: volume %r was not found (by id or name) in this project" % (option, name_or_id))
        if len(matches) > 1:
            raise CinderopsError("%s: volume name %r matches %d volumes (%s); give the volume's id instead"
                                 % (option, name_or_id, len(matches), ", ".join(sorted(v["id"] for v in matches))))
        return matches[0]

    def list_volumes_with(self, metadata):
        """The project's volumes whose metadata has these keys and values (filtered by Cinder)."""
        return self.client.list_all("/volumes/detail", "volumes", "could not list volumes",
                                    params={"metadata": metadata_filter(metadata)})

    def create_volume(self, snapshot, name, metadata, lease=None):
        """A volume made from ``snapshot`` (its size), marked with ``metadata`` (and ``lease``) in the same request.

        A create whose answer was lost is looked for by its marker before it is sent again.
        """
        body = {"volume": {"snapshot_id": snapshot["id"], "size": snapshot.get("size") or 1, "name": name,
                           "metadata": dict(metadata, **(lease or {}))}}

        def post():
            resp = self.client.request("POST", "/volumes", "could not create a volume from snapshot %s"
                                       % label(snapshot), expect=(202, 200), json=body)
            return resp.json()["volume"]

        def look():
            found = [v for v in self.list_volumes_with(metadata) if v.get("snapshot_id") == snapshot["id"]]
            return max(found, key=lambda v: v.get("created_at") or "") if found else None
        return _retry.call(post, repeatable=False, look=look, sleep=self._sleep)

    def merge_volume_metadata(self, volume_id, metadata):
        """POST: set these keys on a volume, keep the others (setting them twice is harmless)."""
        self.client.request("POST", "/volumes/%s/metadata" % volume_id, "could not set metadata of volume %s"
                            % volume_id, json={"metadata": metadata}, repeatable=True)

    def delete_volume(self, volume_id):
        """DELETE a volume: "accepted", or "gone" when it already was; a lost answer is looked for first."""
        def send():
            resp = self.client.request("DELETE", "/volumes/%s" % volume_id, "could not delete volume %s" % volume_id,
                                       expect=(202, 204, 404))
            return "gone" if resp.status_code == 404 else "accepted"

        def look():
            current = self.get_volume(volume_id)
            return "accepted" if current is None or current.get("status") in ("deleting", "deleted") else None
        return _retry.call(send, repeatable=False, look=look, sleep=self._sleep)

    def wait_volume_available(self, volume, timeout, **clock):
        name = volume_label(volume["id"], volume.get("name"))
        return _waiting.wait_for(lambda: self.get_volume(volume["id"]),
                                 _waiting.BecomesAvailable(name, kind="volume",
                                                           reason=lambda v: self.user_message(v["id"])),
                                 timeout, known=volume, **clock)[0]

    def wait_volume_deleted(self, volume, timeout, **clock):
        name = volume_label(volume["id"], volume.get("name"))
        _waiting.wait_for(lambda: self.get_volume(volume["id"]), _waiting.IsGone(name, kind="volume"), timeout,
                          known=dict(volume, status="deleting"), **clock)

    def quota_usage(self):
        """The project's quota set with usage: {resource: {limit, in_use, reserved}}, and (project id, name)."""
        project_id, project_name = self.client.project()
        body = self.client.get_json("/os-quota-sets/%s" % project_id, "could not read the project's quotas",
                                    params={"usage": "true"})
        return body.get("quota_set") or {}, project_name or project_id

    def volume_id_of(self, volume_ref, verify=False):
        """A volume's id. A name is resolved now; an id is trusted (saving a request) unless ``verify``."""
        if not volume_ref:
            return None
        if looks_like_uuid(volume_ref) and not verify:
            return volume_ref
        return self.find_volume(volume_ref)["id"]

    # ------------------------------------------------------------ reading
    def get(self, snapshot_id):
        body = self.client.get_json("/snapshots/%s" % snapshot_id, "could not read snapshot %s" % snapshot_id,
                                    missing_ok=True)
        return normalize(body["snapshot"]) if body else None

    def iterate(self, filters=None, all_projects=False, details=True, sort=None, limit=None, marker=None,
                sort_key=None, sort_dir=None, page_size=None, prefetch=False):
        """Snapshots one page at a time (memory stays flat however many there are); see CinderClient.pages."""
        params = dict(filters or {})
        if all_projects:
            params["all_tenants"] = "1"
        for key, value in (("sort", sort), ("sort_key", sort_key), ("sort_dir", sort_dir)):
            if value:
                params[key] = value
        path = "/snapshots/detail" if details else "/snapshots"
        extra = {"page_size": page_size} if page_size else {}
        if prefetch:
            extra["prefetch"] = True
        for raw in self.client.pages(path, "snapshots", "could not list snapshots", params=params, limit=limit,
                                     marker=marker, **extra):
            yield normalize(raw)

    def list(self, filters=None, **kwargs):
        return list(self.iterate(filters, **kwargs))

    def find_on_volume(self, volume_id, name):
        """The snapshot named exactly ``name`` on one volume; CinderopsError when several match."""
        found = named(self.list({"volume_id": volume_id, "name": name}), name)
        if len(found) > 1:
            raise CinderopsError("%d snapshots named %r exist on volume %s (%s); address one by id"
                                 % (len(found), name, volume_id, ", ".join(sorted(s["id"] for s in found))),
                                 snapshot_ids=sorted(s["id"] for s in found))
        return found[0] if found else None

    def identify(self, snapshot_id=None, volume_ref=None, name=None):
        """The one snapshot the user means: by id, or by (volume, name). Returns (snapshot or None, volume id).

        Never by name across the project. When id and volume are both given they must agree.
        """
        volume_id = self.volume_id_of(volume_ref)
        if snapshot_id:
            snap = self.get(snapshot_id)
            if snap and volume_id and snap["volume_id"] != volume_id:
                raise CinderopsError("id: snapshot %s belongs to volume %s, not to volume %s; id and volume disagree"
                                     % (snap["id"], snap["volume_id"], volume_ref))
            return snap, volume_id
        if not volume_id:
            raise CinderopsError("volume is required to find snapshot %r by name (snapshots are never looked up by "
                                 "name across the project); or give id" % name)
        return self.find_on_volume(volume_id, name), volume_id

    def user_message(self, snapshot_id):
        """Cinder's newest user message about a snapshot or volume (why an action failed), if any."""
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
    def create(self, volume_id, name=None, description=None, metadata=None, force=False, known=()):
        """POST a snapshot; a lost answer is followed by a look for it on the volume before any resend.

        ``known``: ids of snapshots that existed before, so the look never takes one of them.
        """
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

        def post():
            resp = self.client.request("POST", "/snapshots", "could not create the snapshot of volume %s" % volume_id,
                                       expect=(202, 200), json={"snapshot": body})
            return normalize(resp.json()["snapshot"])
        try:
            return _retry.call(post, repeatable=False, sleep=self._sleep,
                               look=lambda: self.look_for_created(volume_id, name, metadata, known))
        except ApiError as exc:
            if exc.status_code == 400 and "in-use" in (exc.cinder_message or "") and not force:
                raise CinderopsError("%s; set force: true to snapshot an in-use volume on microversion %s (from "
                                     "3.66 on, force is not needed)" % (exc, self.client.microversion),
                                     status_code=400, request_id=exc.request_id)
            if exc.status_code == 413:
                raise self.explain_quota(exc)
            raise

    def look_for_created(self, volume_id, name, metadata=None, known=()):
        """After a create whose answer was lost: the snapshot it made after all, if any (the newest such)."""
        filters = {"volume_id": volume_id}
        if name:
            filters["name"] = name
        found = [s for s in self.list(filters) if s["id"] not in known and (s["name"] or None) == (name or None)
                 and all(s["metadata"].get(k) == v for k, v in (metadata or {}).items())]
        return max(found, key=_converge.order_key) if found else None

    def update(self, snapshot_id, fields):
        resp = self.client.request("PUT", "/snapshots/%s" % snapshot_id, "could not update snapshot %s" % snapshot_id,
                                   json={"snapshot": fields})
        return normalize(resp.json()["snapshot"])

    def merge_metadata(self, snapshot_id, metadata):
        """POST: set these keys, keep the others (setting them twice is harmless). Returns Cinder's whole metadata."""
        resp = self.client.request("POST", "/snapshots/%s/metadata" % snapshot_id,
                                   "could not set metadata of snapshot %s" % snapshot_id, json={"metadata": metadata},
                                   repeatable=True)
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
                                   expect=(200, 204, 404), repeatable=True)
        return resp.status_code != 404

    def change_metadata(self, snapshot_id, current, to_set, to_unset):
        """Write only the difference, in as few requests as Cinder allows; returns the metadata Cinder reports."""
        if to_unset:
            # One PUT replaces everything; cheaper than a DELETE per key.
            return self.replace_metadata(snapshot_id, apply_metadata(current, to_set, to_unset))
        if to_set:
            return self.merge_metadata(snapshot_id, to_set)
        return dict(current)

    def delete(self, snapshot_id):
        """DELETE. Returns "accepted", "gone" (it was already), or "deleting" (another delete is under way).

        A delete whose answer was lost is not sent again when the snapshot is already going.
        """
        def send():
            resp = self.client.request("DELETE", "/snapshots/%s" % snapshot_id,
                                       "could not delete snapshot %s" % snapshot_id, expect=(202, 204, 404))
            return "gone" if resp.status_code == 404 else "accepted"

        def look():
            current = self.get(snapshot_id)
            return "accepted" if current is None or current["status"] in _status.GOING else None
        try:
            return _retry.call(send, repeatable=False, look=look, sleep=self._sleep)
        except ApiError as exc:
            if exc.status_code != 400:
                raise
            # Cinder refuses a snapshot that is not available or error; another run may be deleting it.
            current = self.get(snapshot_id)
            if current is None:
                return "gone"
            if current["status"] in _status.GOING:
                return "deleting"
            raise

    # ------------------------------------------------------------ admin actions
    def _action(self, snapshot_id, body, what, option):
        action = list(body)[0]
        try:
            self.client.request("POST", "/snapshots/%s/action" % snapshot_id, "could not %s snapshot %s"
                                % (what, snapshot_id), expect=(202, 200), json=body, repeatable=True)
        except ApiError as exc:
            if exc.status_code == 403:
                raise CinderopsError("%s needs an admin: Cinder's policy allows %s only to admins, and it refused "
                                     "it for this user (403)%s" % (option, action, " [request id %s]"
                                                                   % exc.request_id if exc.request_id else ""),
                                     status_code=403, request_id=exc.request_id)
            raise

    def force_delete(self, snapshot_id):
        """Cinder's os-force_delete: deletes whatever the status (admins only). "accepted", or "gone" when it
        already was (another run's delete finished first)."""
        try:
            self._action(snapshot_id, {"os-force_delete": {}}, "force-delete", "force_delete")
        except ApiError as exc:
            if exc.status_code == 404:
                return "gone"
            raise
        return "accepted"

    def reset_status(self, snapshot_id, status):
        """Cinder's os-reset_status: overwrites the status in the database, nothing else (admins only)."""
        self._action(snapshot_id, {"os-reset_status": {"status": status}}, "reset the status of", "reset_status")

    def explain_quota(self, exc):
        """A 413 as the numbers behind it: which quota, its limit, what is in use. Falls back to the 413 itself."""
        try:
            quota_set, project = self.quota_usage()
        except CinderopsError:
            return exc
        for key in ("snapshots", "gigabytes"):
            limit = room(quota_set, key)
            if limit is not None and limit <= 0:
                return CinderopsError("%s (%s)" % (exc, over_quota_detail(quota_set, key, "project %s" % project)),
                                      status_code=413, request_id=exc.request_id)
        return exc

    # ------------------------------------------------------------ waiting
    def wait_available(self, snapshot, timeout, known=None, **clock):
        return _waiting.wait_for(lambda: self.get(snapshot["id"]), _waiting.BecomesAvailable(label(snapshot)),
                                 timeout, known=known, **clock)[0]

    def wait_deleted(self, snapshot, timeout, known=None, **clock):
        _waiting.wait_for(lambda: self.get(snapshot["id"]), _waiting.IsGone(label(snapshot), self.refusal_reason),
                          timeout, known=known, **clock)

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

    # ------------------------------------------------------------ concurrent creates
    def until_cinder_passes(self, server_seconds):
        """Sleep until Cinder's clock has surely passed ``server_seconds`` (a lower bound from its Date headers)."""
        if server_seconds is None:
            return
        at = self.client.server_clock.local_time_of(server_seconds)
        if at is None:
            self._sleep(2.0)  # no Date header seen: two seconds cover the second in question
            return
        pause = at - self.client.server_clock.clock()
        if pause > 0:
            self._sleep(pause + 0.01)

    def settle_rivals(self, own, rivals_of, timeout, **clock):
        """After ``own`` is available: keep it, or yield to an older rival (see ``_converge``).

        ``rivals_of()`` lists the other new snapshots of the same identity. Returns (snapshot, yielded):
        ``own``, or the rival it yielded to after deleting its own.
        """
        deadline = time.monotonic() + timeout
        pauses = _retry.POLL.pauses()
        self.until_cinder_passes(_converge.settles_at(own))
        while True:
            verdict, winner = _converge.decide(own, rivals_of())
            if verdict == _converge.KEEP:
                return own, False
            if verdict == _converge.YIELD:
                if self.delete(own["id"]) == "accepted":
                    self.wait_deleted(own, timeout, known=dict(own, status=_status.DELETING), **clock)
                return winner, True
            if time.monotonic() >= deadline:
                return own, False  # an older rival that never settles does not win
            self._sleep(next(pauses))
