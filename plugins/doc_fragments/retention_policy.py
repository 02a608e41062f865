# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment(object):

    # The retention policy of snapshot_rotation and the retention_plan filter. Its keys, types and defaults
    # must equal POLICY_OPTIONS in plugins/module_utils/_retention.py, from which both validate;
    # tests/unit/plugins/module_utils/test__retention.py holds them together.
    DOCUMENTATION = r"""
options:
  policy:
    description:
      - The retention rules, with the vocabulary and semantics of restic's C(forget) command. A snapshot is kept if
        any rule keeps it.
      - At least one C(keep_*) rule is required; an empty policy is refused, as restic refuses it.
      - The C(keep_<period>) counts take the newest snapshot of each of the last N periods that have one; the
        oldest snapshot is also kept by every rule that still has counts left, as restic does.
      - The C(keep_within*) durations count back from the newest snapshot, not from now. A duration is a sequence
        of a number and a unit, C(y) years, C(m) months, C(d) days, C(h) hours, for example V(1y2m3d4h).
      - A bad policy fails the task before any request is made, with a message that names the key.
    type: dict
    required: true
    suboptions:
      keep_last:
        description:
          - Keep the N newest snapshots. V(-1) keeps all of them; V(0) or V(null) turns the rule off.
          - For example V(3).
        type: int
      keep_hourly:
        description:
          - Keep the newest snapshot of each of the last N hours that have one. V(-1) means every hour.
          - For example V(24).
        type: int
      keep_daily:
        description:
          - Keep the newest snapshot of each of the last N days that have one. V(-1) means every day.
          - For example V(7).
        type: int
      keep_weekly:
        description:
          - Keep the newest snapshot of each of the last N ISO weeks (Monday to Sunday) that have one.
          - For example V(4).
        type: int
      keep_monthly:
        description:
          - Keep the newest snapshot of each of the last N calendar months that have one.
          - For example V(12).
        type: int
      keep_yearly:
        description:
          - Keep the newest snapshot of each of the last N calendar years that have one.
          - For example V(3).
        type: int
      keep_within:
        description:
          - Keep every snapshot taken within this duration of the newest snapshot.
          - For example V(2d).
        type: str
      keep_within_hourly:
        description:
          - Keep the newest snapshot of every hour within this duration of the newest snapshot.
          - For example V(48h).
        type: str
      keep_within_daily:
        description:
          - Keep the newest snapshot of every day within this duration of the newest snapshot.
          - For example V(14d).
        type: str
      keep_within_weekly:
        description:
          - Keep the newest snapshot of every ISO week within this duration of the newest snapshot.
          - For example V(2m).
        type: str
      keep_within_monthly:
        description:
          - Keep the newest snapshot of every month within this duration of the newest snapshot.
          - For example V(1y).
        type: str
      keep_within_yearly:
        description:
          - Keep the newest snapshot of every year within this duration of the newest snapshot.
          - For example V(5y).
        type: str
      min_available:
        description:
          - Never keep fewer than this many C(available) owned snapshots per volume; when the rules would keep fewer,
            the newest of the pruned ones are kept back.
          - V(0) turns the floor off. For example V(2).
        type: int
        default: 1
      min_interval:
        description:
          - A new snapshot is due only when the newest owned C(available) or C(creating) snapshot is at least this
            old. V(0h) means a new snapshot is always due.
          - Unlike the keep rules it also takes minutes, written C(min) (V(50min), V(1h30min)); C(m) is months.
          - Set it a little under the schedule's period, for example V(50min) for an hourly schedule or V(20h) for a
            daily one. A run that starts a few seconds earlier in its period than the last one (timer accuracy, a slow
            previous run) would otherwise find the newest snapshot too young and skip.
        type: str
        default: 1h
      timezone:
        description:
          - The IANA time zone in which hours, days, weeks, months and years are counted; a day ends at midnight
            in this zone.
          - For example V(Europe/Berlin).
        type: str
        default: UTC
      cleanup_errors:
        description:
          - Prune owned snapshots in status C(error) instead of only reporting them.
          - For M(cinderops.snapshots.snapshot_rotation) the same as its O(cinderops.snapshots.snapshot_rotation#module:cleanup_errors)
            option; either one turns it on.
        type: bool
        default: false
      name:
        description:
          - The policy's name, the value of the ownership marker C(cinderops:policy).
          - M(cinderops.snapshots.snapshot_rotation) takes the name from its O(cinderops.snapshots.snapshot_rotation#module:policy_name)
            option; when given here too, it must be equal.
          - The P(cinderops.snapshots.retention_plan#filter) filter needs it unless its C(policy_name) argument is given.
          - For example V(nightly).
        type: str
"""
