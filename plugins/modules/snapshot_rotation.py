#!/usr/bin/python
# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot_rotation
short_description: Take scheduled snapshots of many Cinder volumes and prune them by a retention policy
version_added: 1.0.0
description:
  - Runs one rotation of a named retention policy over a selection of OpenStack Cinder (Block Storage v3) volumes, in
    one process and concurrently across volumes.
  - For every volume it plans with the collection's retention engine (restic's C(forget) rules, see
    P(cinderops.snapshots.retention_plan#filter) for the exact semantics), creates the new snapshot when one is due and
    waits until it is C(available), plans again with it, and deletes the snapshots no rule keeps.
  - Only snapshots that carry the ownership marker C(cinderops:policy) with the value O(policy_name) are ever
    counted or pruned; the module adds that marker to every snapshot it creates. Snapshots with a hold
    (C(cinderops:hold), optionally C(cinderops:hold_until)) are always kept, and a volume never drops below the
    policy's C(min_available) available snapshots.
  - A new snapshot is due only when the newest owned snapshot is older than the policy's C(min_interval) (default
    C(1h)), so a schedule that fires twice changes nothing the second time.
  - If the new snapshot of a volume fails, nothing on that volume is pruned. A snapshot that has volumes created
    from it is skipped and reported, never retried. One volume's failure never stops the others; after all volumes
    are done, the task fails with a list of every failure.
  - Requests that Cinder answers with 409, 429 or 5xx, or that lose their connection, are tried up to 4 times with
    a growing pause; before a create or delete that may have taken effect is sent again, its effect is looked for,
    so a retry never makes a duplicate.
  - The snapshots are listed once for the whole selection, filtered on the server by the ownership marker, and the
    volumes once for the project. While it waits, the rotation asks Cinder with one listing per poll round for all
    its pending snapshots (each snapshot is first looked at after 0.05 s, then after a quarter of the time waited,
    at most every 2 s), and a round waits until what the last one cost cinder-api is at most 5% of its time (0.4 s
    after a listing of 100 snapshots); the few snapshots still pending after a large listing are looked at with
    single GETs, which then cost Cinder less.
  - Two rotations of one policy over the same volumes at once (an AWX schedule and a cron entry, two AWX nodes)
    end as one would. Where both made a new snapshot, the run whose snapshot is younger deletes it and keeps the
    other run's (see C(notes)); a snapshot the other run is already deleting is waited for, not a failure.
author:
  - cinderops.snapshots maintainers (@cinderops)
options:
  volumes:
    description:
      - The volumes to rotate, by name or id. A name must match exactly one volume of the project.
      - Exactly one of O(volumes), O(volume_metadata) and O(all_volumes) selects the volumes.
      - A volume that is not found or whose name is ambiguous is a failure of that volume; the others are rotated.
    type: list
    elements: str
  volume_metadata:
    description:
      - Rotate every volume of the project whose metadata has all these keys with these values.
      - Values are compared as strings (V(true)/V(false) for booleans). Volumes being deleted are left out.
    type: dict
  all_volumes:
    description:
      - Rotate every volume of the project, except volumes being deleted.
    type: bool
  policy_name:
    description:
      - The policy's name. It is the value of the ownership marker C(cinderops:policy) on the snapshots this rotation
        creates, counts and prunes; snapshots of other policies and snapshots without the marker are never touched.
      - At most 255 characters.
    type: str
    required: true
  name_format:
    description:
      - The name of each new snapshot. C(strftime) codes are filled in with the rotation's start time in UTC;
        C({volume}) is the volume's name (its id when it has none), C({volume_id}) its id and C({policy}) the
        O(policy_name).
      - The rendered name must be at most 255 characters.
    type: str
    default: "{policy}-%Y%m%dT%H%M%SZ"
  snapshot_metadata:
    description:
      - Metadata for every new snapshot. The ownership marker C(cinderops:policy=<policy_name>) is always added.
      - Keys are 1 to 255 letters, digits, spaces, C(-), C(_), C(:) and C(.); values are strings of at most 255 characters.
        Numbers and booleans are converted to strings.
    type: dict
  force:
    description:
      - Allow snapshots of C(in-use) volumes on clouds older than microversion 3.66. From 3.66 on it is not needed
        and not sent.
    type: bool
    default: false
  create:
    description:
      - Create the new snapshot on volumes where one is due. With V(false) the rotation only prunes.
    type: bool
    default: true
  prune:
    description:
      - Delete the snapshots the policy does not keep. With V(false) they are reported under C(skipped).
    type: bool
    default: true
  cleanup_errors:
    description:
      - Also delete owned snapshots in status C(error) (unless held). Otherwise they are reported under C(skipped).
      - Owned snapshots stuck in C(error_deleting) (a delete that failed on the backend) are force-deleted with
        Cinder's C(os-force_delete) when the credentials are an admin's, and reported in C(pruned) with the reason
        C(force-deleted); for other users they are reported in C(skipped).
    type: bool
    default: false
  make_room:
    description:
      - Before anything is created, the rotation reads the project's quota usage (snapshots and gigabytes, and the
        per-volume-type quotas of each volume's type) and hands the room out in selection order.
      - A volume whose new snapshot does not fit fails before any write, with the numbers, and nothing on it is
        pruned. With V(true), the snapshots its plan prunes even without a new snapshot (so never below
        C(min_available)) are deleted first, oldest first, until the new one fits; the volume's C(notes) say so.
    type: bool
    default: false
  approved_plan:
    description:
      - The plan a person approved, that is the RV(plan) of an earlier run in check mode (as an AWX workflow passes it from a
        plan job through an approval node to an apply job), or only its fingerprint.
      - The rotation computes its plan afresh and applies it only when it has the same fingerprint. Otherwise it
        changes nothing and fails with the differences (when the whole plan was given). It never deletes a snapshot
        the approved plan does not delete.
    type: raw
  max_workers:
    description:
      - How many volumes (and deletes) are worked on at the same time, from 1 to 32.
    type: int
    default: 8
    aliases: [parallelism]
  wait:
    description:
      - Wait until each new snapshot is C(available) before the volume is planned again and pruned, and until each
        pruned snapshot is gone.
      - With V(false), a new snapshot still C(creating) is not counted, so pruning proceeds as if it did not exist
        yet and can never remove a snapshot that a failed new one would have replaced. Deletes are then not
        followed up, and a refused delete is not noticed until the next run. A concurrent run's new snapshot is
        not looked for either, so two runs at once may leave two new snapshots, which the rules prune later.
    type: bool
    default: true
  timeout:
    description:
      - How many seconds to wait at most for each snapshot. Must be greater than 0.
    type: int
    default: 180
extends_documentation_fragment:
  - cinderops.snapshots.retention_policy
  - cinderops.snapshots.cloud
  - cinderops.snapshots.wait
  - cinderops.snapshots.attributes.ALL
notes:
  - Check mode returns the full plan, including the snapshot that would be created and what would be pruned after
    it, and sends no write request.
  - The volumes are those of the project the credentials are scoped to.
seealso:
  - module: cinderops.snapshots.snapshot
  - module: cinderops.snapshots.snapshot_info
  - plugin: cinderops.snapshots.retention_plan
    plugin_type: filter
  - name: restic forget policy
    description: The retention rules this module implements.
    link: https://restic.readthedocs.io/en/stable/060_forget.html
"""

EXAMPLES = r"""
- name: Nightly rotation of the database volumes, grandfather-father-son
  cinderops.snapshots.snapshot_rotation:
    cloud: mycloud
    volume_metadata:
      backup: nightly
    policy_name: nightly
    policy:
      keep_daily: 7
      keep_weekly: 4
      keep_monthly: 12
      keep_yearly: 2
      min_interval: 20h
      timezone: Europe/Berlin
  register: rotation

- name: Show what was pruned
  ansible.builtin.debug:
    msg: "{{ rotation.volumes | map(attribute='pruned') | flatten | map(attribute='name') }}"

- name: Hourly snapshots of two volumes, named after the volume, kept for two days
  cinderops.snapshots.snapshot_rotation:
    cloud: mycloud
    volumes:
      - db-data
      - 5aa119a8-d25b-45a7-8d1b-88e127885635
    policy_name: hourly
    policy:
      keep_within: 2d
      min_interval: 50min
    name_format: "{volume}-hourly-%Y%m%d-%H%M"
    snapshot_metadata:
      team: dba

- name: Only prune (no new snapshots) every volume of the project, cleaning up failed snapshots too
  cinderops.snapshots.snapshot_rotation:
    cloud: mycloud
    all_volumes: true
    policy_name: nightly
    policy:
      keep_last: 14
    create: false
    cleanup_errors: true
    max_workers: 16

- name: Preview a rotation
  cinderops.snapshots.snapshot_rotation:
    cloud: mycloud
    all_volumes: true
    policy_name: nightly
    policy:
      keep_daily: 7
  check_mode: true
  diff: true
"""

RETURN = r"""
volumes:
  description:
    - One entry per selected volume (and per volume reference that could not be resolved), in selection order.
    - Snapshot lists hold the snapshots owned by the policy, newest first, each with C(id), C(name), C(status),
      C(created_at) (ISO 8601 UTC) and C(reasons).
  returned: always
  type: list
  elements: dict
  contains:
    volume_id:
      description: The volume's id (null when the reference could not be resolved).
      type: str
      sample: 5aa119a8-d25b-45a7-8d1b-88e127885635
    volume_name:
      description: The volume's name, or the reference that could not be resolved.
      type: str
      sample: db-data
    due:
      description: Whether a new snapshot was due before this run.
      type: bool
      sample: true
    due_reason:
      description: Why a new snapshot was or was not due.
      type: str
      sample: "newest snapshot 2bb856e1-b3d8-4432-a858-09e4ce939389 (2026-11-25T02:00:03Z) is at least min_interval 20h old"
    created:
      description:
        - The snapshot this run created (in check mode, would create, with a null C(id)); null when none.
        - Its C(status) is C(error) when the creation failed.
      type: dict
      sample: {"id": "0c5d1a5e-8f0b-4a55-9b59-2f1c54f0c6d8", "name": "nightly-20261126T020003Z", "status": "available",
               "created_at": "2026-11-26T02:00:03Z", "reasons": ["daily", "weekly", "monthly", "yearly"]}
    kept:
      description:
        - Snapshots kept, with the rules that kept them (for example C(daily), C(oldest yearly), C(hold),
          C(min_available), C(status creating)).
        - A snapshot that a restore drill (M(cinderops.snapshots.snapshot_restore_drill)) checked also has
          C(verified_at) and C(verify_result).
      type: list
      elements: dict
      sample: [{"id": "2bb856e1-b3d8-4432-a858-09e4ce939389", "name": "nightly-20261125T020003Z",
                "status": "available", "created_at": "2026-11-25T02:00:03Z", "reasons": ["daily"]}]
    pruned:
      description:
        - Snapshots deleted by this run (in check mode, that would be deleted). C(status) is C(deleting) when
          O(wait=false).
      type: list
      elements: dict
      sample: [{"id": "6f1e4a9b-0d3c-4c1e-b1a2-7e8d9c0b1a2f", "name": "nightly-20261118T020001Z",
                "status": "available", "created_at": "2026-11-18T02:00:01Z", "reasons": ["not kept by any rule"]}]
    skipped:
      description:
        - Snapshots the policy does not keep but that were left in place, with the reason as the last entry of
          C(reasons), for example volumes created from them, the new snapshot of the volume failed, O(prune=false),
          a backend that refused the delete, or status C(error) without O(cleanup_errors).
      type: list
      elements: dict
      sample: [{"id": "9a8b7c6d-5e4f-4a3b-2c1d-0e9f8a7b6c5d", "name": "nightly-20261010T020002Z",
                "status": "available", "created_at": "2026-10-10T02:00:02Z",
                "reasons": ["not kept by any rule", "not pruned: volumes were created from it: 1d2c3b4a-0000-4000-8000-000000000001"]}]
    errors:
      description: What failed on this volume, one line each. Any error fails the task at the end.
      type: list
      elements: str
      sample: []
    notes:
      description: What a concurrent run of the same policy changed about this volume's rotation, one line each.
      type: list
      elements: str
      sample: ["a concurrent run of this policy made snapshot 0c5d1a5e-8f0b-4a55-9b59-2f1c54f0c6d8
                (nightly-20261126T020003Z) first; this run deleted its own 7f1a2b3c-4d5e-4f60-8a71-92b3c4d5e6f7
                (nightly-20261126T020003Z) and kept that one"]
    changed:
      description: Whether this run created or deleted anything on this volume.
      type: bool
      sample: true
summary:
  description: Counts over all volumes.
  returned: always
  type: dict
  contains:
    volumes:
      description: Volumes in the result.
      type: int
      sample: 5
    due:
      description: Volumes where a new snapshot was due.
      type: int
      sample: 5
    created:
      description: New snapshots (that did not fail).
      type: int
      sample: 5
    kept:
      description: Snapshots kept.
      type: int
      sample: 125
    pruned:
      description: Snapshots pruned.
      type: int
      sample: 5
    skipped:
      description: Snapshots left in place although the policy does not keep them.
      type: int
      sample: 0
    failed:
      description: Volumes with at least one error.
      type: int
      sample: 0
  sample: {"volumes": 5, "due": 5, "created": 5, "kept": 125, "pruned": 5, "skipped": 0, "failed": 0}
failures:
  description: Every error, with its volume. The task fails when this list is not empty.
  returned: always
  type: list
  elements: dict
  sample: [{"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "volume_name": "db-data",
            "msg": "new snapshot 0c5d1a5e-8f0b-4a55-9b59-2f1c54f0c6d8 (nightly-20261126T020003Z) failed: snapshot is in status error (after 1.2s)"}]
policy:
  description: The policy as the engine understood it, with every rule and default.
  returned: always
  type: dict
  sample: {"keep_last": 0, "keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 2,
           "min_available": 1, "min_interval": "20h", "timezone": "Europe/Berlin", "cleanup_errors": false,
           "name": "nightly"}
plan:
  description:
    - What the rotation would change (in check mode), set out to change (with O(approved_plan)) or changed, to
      approve before it runs.
    - C(creates) (per volume C(volume_id), C(volume_name), C(name), C(name_format), C(metadata)), C(deletes) (per
      snapshot C(volume_id), C(volume_name), C(snapshot_id), C(name), C(created_at)), C(summary) (one line), and
      C(fingerprint), a hash of exactly what would be created and deleted, independent of the order and of the time
      the names carry. Give it, or its fingerprint, as O(approved_plan).
  returned: always
  type: dict
  sample: {"fingerprint": "sha256:0f3c...", "summary": "5 snapshot(s) to create and 5 to delete on 5 volume(s)",
           "creates": [{"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "volume_name": "db-data",
                        "name": "nightly-20261126T020001Z", "name_format": "{policy}-%Y%m%dT%H%M%SZ",
                        "metadata": {"cinderops:policy": "nightly"}}],
           "deletes": [{"volume_id": "5aa119a8-d25b-45a7-8d1b-88e127885635", "volume_name": "db-data",
                        "snapshot_id": "6f1e4a9b-0d3c-4c1e-b1a2-7e8d9c0b1a2f", "name": "nightly-20261118T020001Z",
                        "created_at": "2026-11-18T02:00:01Z"}]}
plan_differences:
  description: With O(approved_plan), how the fresh plan differs from the approved one (why nothing was changed).
  returned: when the plan changed since it was approved
  type: list
  elements: str
  sample: ["+ delete snapshot 6f1e4a9b-0d3c-4c1e-b1a2-7e8d9c0b1a2f of db-data"]
now:
  description: The time the rotation planned with (UTC); new snapshot names are rendered from it.
  returned: always
  type: str
  sample: "2026-11-26T02:00:01Z"
diff:
  description: Per changed volume, its owned snapshots (creation time and name) before and after.
  returned: when diff mode is on and something changed
  type: dict
  sample: {"before": {"volumes": {"db-data (5aa1...)": ["2026-11-25T02:00:03Z nightly-20261125T020003Z"]}},
           "after": {"volumes": {"db-data (5aa1...)": ["2026-11-26T02:00:03Z nightly-20261126T020003Z",
                                                      "2026-11-25T02:00:03Z nightly-20261125T020003Z"]}}}
"""

from datetime import datetime, timezone

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError
from ansible_collections.cinderops.snapshots.plugins.module_utils._module import CinderopsModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._plan import check_approved, difference
from ansible_collections.cinderops.snapshots.plugins.module_utils._results import (
    failure_message, failures, rotation_diff, summarize)
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import policy_options
from ansible_collections.cinderops.snapshots.plugins.module_utils._rotation import Rotation
from ansible_collections.cinderops.snapshots.plugins.module_utils._rotation_options import (
    DEFAULT_NAME_FORMAT, DEFAULT_WORKERS, RotationOptions)
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import format_timestamp


class SnapshotRotationModule(CinderopsModule):
    argument_spec = dict(
        volumes=dict(type="list", elements="str"),
        volume_metadata=dict(type="dict"),
        all_volumes=dict(type="bool"),
        policy_name=dict(type="str", required=True),
        policy=dict(type="dict", required=True, options=policy_options()),
        name_format=dict(type="str", default=DEFAULT_NAME_FORMAT),
        snapshot_metadata=dict(type="dict"),
        force=dict(type="bool", default=False),
        create=dict(type="bool", default=True),
        prune=dict(type="bool", default=True),
        cleanup_errors=dict(type="bool", default=False),
        max_workers=dict(type="int", default=DEFAULT_WORKERS, aliases=["parallelism"]),
        make_room=dict(type="bool", default=False),
        approved_plan=dict(type="raw"),
    )
    module_kwargs = dict(mutually_exclusive=[("volumes", "volume_metadata", "all_volumes")])

    def run(self):
        # Everything is checked before the first request, so bad input never half-applies.
        options = RotationOptions.from_params(self.params, check_mode=self.check_mode)
        approved = None
        if self.params["approved_plan"] is not None:
            approved = check_approved(self.params["approved_plan"])
        now = datetime.now(timezone.utc).replace(microsecond=0)

        rotation = Rotation(Snapshots(self.connect()), options, now=now)
        runs = rotation.load()
        if approved is not None and not self.check_mode:
            # Plan first (nothing sent), compare, and apply only that plan.
            plan = self.same_as_approved(rotation.plan(runs), approved)
            results = rotation.run(runs, allowed_deletes=set(d["snapshot_id"] for d in plan["deletes"]))
        else:
            results = rotation.run(runs)
            plan = rotation.plan_of(results)
            if approved is not None:  # check mode predicts what the apply would say
                self.same_as_approved(plan, approved)
        for warning in rotation.warnings:
            self.ansible.warn(warning)

        result = dict(
            plan=plan,
            changed=any(r["changed"] for r in results),
            volumes=results,
            summary=summarize(results),
            failures=failures(results),
            policy=options.policy.as_dict(),
            now=format_timestamp(now),
        )
        if self.diff_mode and result["changed"]:
            result["diff"] = rotation_diff(results)
        message = failure_message(results)
        if message:
            raise CinderopsError(message, **result)
        self.exit(**result)

    @staticmethod
    def same_as_approved(plan, approved):
        """The plan, when its fingerprint is the approved one; otherwise fail, changing nothing, with the differences."""
        fingerprint, approved_plan = approved
        if plan["fingerprint"] != fingerprint:
            lines = difference(approved_plan, plan)
            raise CinderopsError(
                "approved_plan: the plan changed since it was approved (approved %s, now %s), so nothing was "
                "changed%s" % (fingerprint, plan["fingerprint"], ": " + "; ".join(lines) if lines else
                               "; give the whole plan, not only its fingerprint, to see the differences"),
                changed=False, plan=plan, plan_differences=lines)
        return plan


def main():
    SnapshotRotationModule()()


if __name__ == "__main__":
    main()
