# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_report
short_description: Turn snapshot_rotation results into a report a person reads at a glance
version_added: 1.0.0
author: cinderops.snapshots maintainers (@cinderops)
description:
  - Takes the registered results of M(cinderops.snapshots.snapshot_rotation), run in a loop over policies, and returns
    a report per policy and volume, with the snapshots kept (per tier) and pruned with their reasons, the age of the
    newest good snapshot, what was skipped or failed, and a freshness verdict.
  - The C(cinderops.snapshots.rotation) role writes it as Markdown and JSON.
positional: _input
options:
  _input:
    description: The loop's C(results) list; each item's C(item.name) (or the result's C(policy.name)) names the policy.
    type: list
    elements: dict
    required: true
  now:
    description: The time to measure ages from, ISO 8601. Defaults to the current time (UTC).
    type: str
  max_staleness:
    description:
      - A duration (V(1y2m3d4h), V(m) is months). A volume whose newest available snapshot is older is listed in
        C(stale). Empty turns the check off.
    type: str
  check_mode:
    description: Mark the report as a check-mode plan.
    type: bool
    default: false
  max_restore_age:
    description:
      - A duration, as for O(max_staleness). A volume whose newest snapshot that a restore drill
        (M(cinderops.snapshots.snapshot_restore_drill)) proved restorable is older, or that has none, is listed in
        C(restore_stale).
    type: str
"""

EXAMPLES = r"""
- name: Rotate each policy
  cinderops.snapshots.snapshot_rotation:
    policy_name: "{{ item.name }}"
    volumes: "{{ item.volumes }}"
    policy: "{{ item.retention }}"
  loop: "{{ policies }}"
  register: runs
  failed_when: false

- name: Report
  ansible.builtin.debug:
    msg: "{{ (runs.results | cinderops.snapshots.rotation_report(max_staleness='2d')).summary }}"
"""

RETURN = r"""
_value:
  description: The report.
  type: dict
  contains:
    generated_at:
      description: When (UTC).
      type: str
    policies:
      description: Per policy, C(name), C(failed), C(msg), C(summary), C(counts) and C(volumes), each volume with
        C(volume_id), C(volume_name), C(created), C(kept) (a count), C(kept_by_tier), C(kept_snapshots), C(pruned),
        C(skipped), C(errors),
        C(newest_good) (C(name), C(created_at), C(age)), C(stale), C(newest_verified) (also C(verified_at)) and
        C(restore_stale).
      type: list
      elements: dict
    totals:
      description: Counts over everything.
      type: dict
    failures:
      description: One line per failure.
      type: list
      elements: str
    stale:
      description: One line per volume whose newest good snapshot is older than O(max_staleness).
      type: list
      elements: str
    restore_stale:
      description: One line per volume whose newest verified restorable snapshot is older than O(max_restore_age).
      type: list
      elements: str
    summary:
      description: Lines for the task output.
      type: list
      elements: str
    ok:
      description: True when nothing failed.
      type: bool
"""

from datetime import datetime, timezone

from ansible.errors import AnsibleFilterError

from ansible_collections.cinderops.snapshots.plugins.module_utils._report import ReportError, build_report
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import TimeError


def rotation_report(results, now=None, max_staleness=None, check_mode=False, max_restore_age=None):
    try:
        return build_report(results, now or datetime.now(timezone.utc), max_staleness=max_staleness,
                            check_mode=check_mode, max_restore_age=max_restore_age)
    except (ReportError, TimeError) as exc:
        raise AnsibleFilterError("rotation_report: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"rotation_report": rotation_report}
