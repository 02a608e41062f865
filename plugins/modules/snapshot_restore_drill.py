#!/usr/bin/python
# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
module: snapshot_restore_drill
short_description: Prove that the newest snapshots of a rotation policy restore, and record the proof on them
version_added: 1.0.0
description:
  - For each selected volume, takes the newest C(available) snapshot that the rotation policy O(policy_name) owns,
    creates a test volume from it, waits until the test volume is C(available) (failing fast on C(error), with
    Cinder's reason), checks it (status, size, the snapshot it was made from, and the metadata it carries), records
    the result on the snapshot, deletes the test volume and waits until it is gone.
  - The result goes into the snapshot's reserved metadata keys C(cinderops:verified_at) (ISO 8601 UTC) and
    C(cinderops:verify_result) (C(ok), or C(failed) with the reason). P(cinderops.snapshots.rotation_report#filter)
    and the P(cinderops.snapshots.rotation#role) role show the newest verified restorable snapshot per volume from
    them, and can fail when it is older than a limit.
  - Every test volume carries the marker C(cinderops:drill) (the policy) and C(cinderops:drill_of) (the snapshot)
    from the request that creates it. A drill interrupted at any point (a failure, a timeout, kill -9) leaves only
    marked volumes, and every drill removes those first. A drill never touches a volume without the marker and
    never deletes a snapshot.
  - Two drills of one policy may run at once. A drill renews a lease on its test volumes (C(cinderops:drill_lease),
    on Cinder's clock) every 5 seconds for 20 seconds, so another drill leaves them alone (RV(in_use)) and removes
    a marked volume only once its lease has passed. A drill killed a moment ago is therefore cleaned up by the next
    one after at most 20 seconds of watching. Test volumes kept with O(stage=restore) hold a lease of O(timeout)
    seconds for the checks in between.
  - Before it creates anything, the drill reads the project's quota usage and refuses to start, with the numbers,
    when there is no room for a test volume; with less room than O(max_workers) test volumes it restores fewer at
    a time.
  - O(stage=restore) and O(stage=finish) split the drill for checks of one's own between them, as the
    P(cinderops.snapshots.restore_drill#role) role does.
author:
  - cinderops.snapshots maintainers (@cinderops)
options:
  policy_name:
    description:
      - The rotation policy whose snapshots are drilled (the value of their ownership marker C(cinderops:policy)).
    type: str
    required: true
  volumes:
    description:
      - The volumes whose newest owned snapshot is restored, by name or id.
      - Exactly one of O(volumes), O(volume_metadata) and O(all_volumes) selects the volumes (with O(stage=restore)
        or O(stage=full)).
    type: list
    elements: str
  volume_metadata:
    description: Drill every volume of the project whose metadata has all these keys with these values.
    type: dict
  all_volumes:
    description: Drill every volume of the project (test volumes of drills are never selected).
    type: bool
  stage:
    description:
      - V(full) restores, checks, records and cleans up.
      - V(restore) restores and checks, and keeps the test volumes that passed for further checks (returned in
        RV(drills)); V(finish) then records O(results) and removes them.
      - V(cleanup) only removes the test volumes earlier drills of this policy left.
    type: str
    default: full
    choices: [full, restore, finish, cleanup]
  results:
    description:
      - With O(stage=finish), the outcome of one's own checks, one item per kept test volume, each with
        C(test_volume_id), C(ok) (a boolean) and an optional C(message).
      - A kept test volume with no result is recorded as failed.
    type: list
    elements: dict
  max_workers:
    description: How many test volumes exist at the same time at most, from 1 to 8.
    type: int
    default: 2
  timeout:
    description: Seconds to wait at most for each test volume to become available, and to be deleted.
    type: int
    default: 600
extends_documentation_fragment:
  - cinderops.snapshots.cloud
  - cinderops.snapshots.wait.UNUSED_WAIT
  - cinderops.snapshots.attributes.ALL
notes:
  - Check mode lists what would be restored and which leftover test volumes would be removed, reads the quota, and
    creates nothing.
  - On clouds whose backend refuses to delete a snapshot while a volume made from it exists (RBD, for example), a
    snapshot cannot be pruned while its drill runs; the drill removes its test volume before it returns.
seealso:
  - module: cinderops.snapshots.snapshot_rotation
"""

EXAMPLES = r"""
- name: Prove that the nightly policy's newest snapshots restore
  cinderops.snapshots.snapshot_restore_drill:
    cloud: mycloud
    policy_name: nightly
    volume_metadata:
      backup: nightly
  register: drill

- name: Restore, run checks of one's own against the test volumes, then record and clean up
  module_defaults:
    group/cinderops.snapshots.snapshots:
      cloud: mycloud
  block:
    - name: Restore and keep the test volumes
      cinderops.snapshots.snapshot_restore_drill:
        policy_name: nightly
        volumes: [db-data]
        stage: restore
      register: restored

    - name: A check of one's own on the test volume
      ansible.builtin.debug:
        msg: "check {{ restored.drills[0].test_volume.id }} here"

    - name: Record the results and remove the test volumes
      cinderops.snapshots.snapshot_restore_drill:
        policy_name: nightly
        stage: finish
        results:
          - test_volume_id: "{{ restored.drills[0].test_volume.id }}"
            ok: true
            message: the application's own check passed
"""

RETURN = r"""
drills:
  description: One entry per drilled or selected volume.
  returned: always
  type: list
  elements: dict
  contains:
    volume_id:
      description: The volume whose snapshot was restored.
      type: str
      sample: 5aa119a8-d25b-45a7-8d1b-88e127885635
    volume_name:
      description: Its name.
      type: str
      sample: db-data
    snapshot:
      description: The snapshot that was restored (C(id), C(name), C(created_at), C(size)); null when there was none.
      type: dict
      sample: {"id": "2bb856e1-b3d8-4432-a858-09e4ce939389", "name": "nightly-20261126T020003Z",
               "created_at": "2026-11-26T02:00:03.000000", "size": 10}
    test_volume:
      description: The test volume (C(id), C(status), C(size)); its status is C(deleted) once it was removed.
      type: dict
      sample: {"id": "0c5d1a5e-8f0b-4a55-9b59-2f1c54f0c6d8", "status": "deleted", "size": 10}
    checks:
      description: The checks, each with C(name) (C(status), C(size), C(source), C(metadata), or C(user)), C(ok) and
        C(detail).
      type: list
      elements: dict
      sample: [{"name": "size", "ok": true, "detail": "10 GiB from a 10 GiB snapshot"}]
    result:
      description:
        - C(ok), C(failed), C(skipped) (no owned available snapshot), C(restored) (with O(stage=restore), kept
          for one's own checks) or C(would restore) (check mode).
      type: str
      sample: ok
    message:
      description: What happened, in one line.
      type: str
      sample: restored 2bb856e1-b3d8-4432-a858-09e4ce939389 (nightly-20261126T020003Z) to test volume 0c5d1a5e-8f0b-4a55-9b59-2f1c54f0c6d8
    verified_at:
      description: When the result was recorded on the snapshot (ISO 8601 UTC).
      type: str
      returned: when a result was recorded
      sample: "2026-11-26T03:00:00Z"
removed:
  description: Ids of test volumes that earlier drills left and that this run removed (in check mode, would remove).
  returned: always
  type: list
  elements: str
  sample: []
in_use:
  description:
    - Ids of test volumes of this policy that another drill is still working on (its lease is renewed, or it holds
      them for its own checks), which this run left alone.
  returned: always
  type: list
  elements: str
  sample: []
summary:
  description: Counts of the results.
  returned: always
  type: dict
  sample: {"ok": 3, "failed": 0, "skipped": 0, "restored": 0}
"""

from ansible_collections.cinderops.snapshots.plugins.module_utils._drill import STAGES, Drill
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, InputError
from ansible_collections.cinderops.snapshots.plugins.module_utils._module import CinderopsModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._rotation_options import build_policy, selection
from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots
from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import check_id, check_positive

MAX_WORKERS = 8


class SnapshotRestoreDrillModule(CinderopsModule):
    wait_options = False
    argument_spec = dict(
        policy_name=dict(type="str", required=True),
        volumes=dict(type="list", elements="str"),
        volume_metadata=dict(type="dict"),
        all_volumes=dict(type="bool"),
        stage=dict(type="str", default="full", choices=list(STAGES)),
        results=dict(type="list", elements="dict"),
        max_workers=dict(type="int", default=2),
        timeout=dict(type="int", default=600),
    )
    module_kwargs = dict(mutually_exclusive=[("volumes", "volume_metadata", "all_volumes")])

    def run(self):
        wanted = self.wanted()
        drill = Drill(Snapshots(self.connect()), wanted["policy_name"], wanted["selection"],
                      timeout=self.params["timeout"], max_workers=self.params["max_workers"],
                      check_mode=self.check_mode)
        outcome = drill.run(self.params["stage"], wanted["results"])
        summary = {}
        for entry in outcome["drills"]:
            summary[entry["result"]] = summary.get(entry["result"], 0) + 1
        acted = [d for d in outcome["drills"] if d.get("snapshot") and d["result"] != "skipped"]
        result = dict(changed=bool(outcome["removed"] or acted),
                      drills=outcome["drills"], removed=outcome["removed"], in_use=drill.in_use, summary=summary)
        failed = [d for d in outcome["drills"] if d["result"] == "failed"]
        if failed:
            raise CinderopsError("restore drill failed on %d of %d volume(s): %s" % (
                len(failed), len(outcome["drills"]),
                " | ".join("%s: %s" % (d["volume_name"] or d["volume_id"] or "?", d["message"]) for d in failed)),
                **result)
        self.exit(**result)

    def wanted(self):
        """Everything checked before any request."""
        params = self.params
        policy_name = build_policy({"keep_last": 1}, params["policy_name"]).name  # the same rules as a rotation's
        check_positive("timeout", params["timeout"])
        if not 1 <= params["max_workers"] <= MAX_WORKERS:
            raise InputError("max_workers must be between 1 and %d (got %d)" % (MAX_WORKERS, params["max_workers"]))
        stage = params["stage"]
        chosen = dict(volumes=params["volumes"], volume_metadata=params["volume_metadata"],
                      all_volumes=params["all_volumes"])
        if stage in ("full", "restore"):
            picked = selection(**chosen)
        elif any(v is not None for v in chosen.values()):
            raise InputError("volumes, volume_metadata and all_volumes select what to restore; with stage %s the "
                             "drill works on the test volumes it left, so leave them out" % stage)
        else:
            picked = None
        results = {}
        if params["results"] is not None:
            if stage != "finish":
                raise InputError("results are given with stage: finish (the outcome of one's own checks)")
            for n, item in enumerate(params["results"]):
                volume_id = check_id("results[%d].test_volume_id" % n, item.get("test_volume_id"))
                if volume_id is None or not isinstance(item.get("ok"), bool):
                    raise InputError("results[%d] needs test_volume_id (a test volume's id) and ok (true or false)"
                                     % n)
                results[volume_id] = {"ok": item["ok"], "message": str(item.get("message") or "")[:200] or None}
        return dict(policy_name=policy_name, selection=picked, results=results)


def main():
    SnapshotRestoreDrillModule()()


if __name__ == "__main__":
    main()
