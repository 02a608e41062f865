# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


DOCUMENTATION = r"""
name: retention_plan
short_description: Plan which Cinder volume snapshots to keep and prune with a restic-style policy
version_added: 1.0.0
author: cinderops.snapshots maintainers (@cinderops)
description:
  - Applies a retention policy with the vocabulary and semantics of restic's C(forget) command to a list of Cinder volume
    snapshots, for example the C(snapshots) list returned by M(cinderops.snapshots.snapshot_info), and returns a plan
    per volume. Nothing is changed; the filter only computes.
  - Snapshots are grouped per C(volume_id) and sorted newest first (ties keep their input order).
    C(keep_last), C(keep_hourly), C(keep_daily), C(keep_weekly), C(keep_monthly) and C(keep_yearly) keep the newest
    snapshot of each of the last N periods that have one (V(-1) means unlimited); periods are computed in the policy's
    O(policy.timezone). The oldest snapshot is also kept by every rule that still has counts left, as restic does.
  - C(keep_within) keeps every snapshot strictly newer than the newest snapshot (that is not in the future) minus the
    duration, and C(keep_within_hourly|daily|weekly|monthly|yearly) apply the period rule without a counter to those
    snapshots only. Durations are written like restic's, V(1y2m3d4h) (V(m) is months), and subtracted with calendar
    arithmetic.
  - "Safety rules on top of restic's: only snapshots whose metadata C(cinderops:policy) equals the policy name are
    candidates (all others are listed in C(ignored) and never pruned); snapshots with a C(cinderops:hold) marker are
    always kept and are not counted (C(cinderops:hold_until) ends the hold once it is in the past); only C(available)
    snapshots go through the rules, other statuses are kept untouched, C(error) snapshots are reported or, with
    C(cleanup_errors), pruned; a volume never drops below C(min_available) available snapshots."
  - "Reasons are short stable strings: V(last), V(hourly), V(daily), V(weekly), V(monthly), V(yearly),
    V(oldest <rule>), V(within <D>), V(within_<tier> <D>), V(hold), V(hold until <date>), V(hold expired <date>),
    V(min_available), V(status <status>), V(not kept by any rule), V(error cleanup), V(not owned by policy <name>)."
positional: _input, policy
options:
  _input:
    description:
      - A list of snapshot dictionaries with at least the keys C(id), C(volume_id), C(name), C(status), C(created_at) and
        C(metadata) (which may be V(null)).
      - C(created_at) is an ISO-8601 timestamp as Cinder returns it (V(2026-11-26T18:31:16.000000), read as UTC) or with
        a V(Z) or V(+hh:mm) suffix.
    type: list
    elements: dict
    required: true
  now:
    description:
      - The reference time, as an ISO-8601 string or a datetime. A value without offset is UTC.
      - Defaults to the current time. Pass it explicitly to get a reproducible plan.
    type: raw
  policy_name:
    description:
      - The policy name (ownership marker). Overrides O(policy.name).
    type: str
extends_documentation_fragment:
  - cinderops.snapshots.retention_policy
seealso:
  - name: restic forget
    description: The restic documentation of the policy this filter follows.
    link: https://restic.readthedocs.io/en/stable/060_forget.html#removing-snapshots-according-to-a-policy
"""

EXAMPLES = r"""
---
- name: Plan the rotation of all snapshots listed by snapshot_info
  ansible.builtin.set_fact:
    rotation_plan: >-
      {{ snapshot_info_result.snapshots | cinderops.snapshots.retention_plan(policy, now=now_iso) }}
  vars:
    now_iso: "{{ now(utc=true).isoformat() }}"
    policy:
      name: nightly
      keep_daily: 7
      keep_weekly: 4
      keep_monthly: 12
      timezone: Europe/Berlin

- name: Show what would be deleted
  ansible.builtin.debug:
    msg: "{{ rotation_plan.volumes | dict2items | map(attribute='value.prune') | flatten | map(attribute='id') }}"

- name: Offline planning with restic's keep-within rules and an explicit policy name
  ansible.builtin.debug:
    msg: >-
      {{ snapshots | cinderops.snapshots.retention_plan({'keep_within': '2d', 'keep_within_daily': '1m'},
         now='2026-11-26T18:00:00Z', policy_name='hourly') }}
"""

RETURN = r"""
_value:
  description:
    - The plan. Only plain data (dictionaries, lists, strings, integers, booleans and null); timestamps are ISO-8601
      UTC strings ending in V(Z).
    - "C(policy): the normalized policy. C(now): the reference time."
    - "C(volumes): one entry per volume ID found in the input, with C(volume_id); C(due) and C(due_reason) (whether a new
      snapshot should be taken); C(newest) (the newest owned snapshot in status C(available) or C(creating), or V(null));
      and the lists C(keep), C(prune), C(errors) and C(ignored), newest first. Each list item has C(id), C(name),
      C(status), C(created_at) and C(reasons) (a list of strings)."
    - Every snapshot carrying the policy's ownership marker is in exactly one of C(keep), C(prune) and C(errors);
      all others are in C(ignored).
    - "C(summary): counts C(volumes), C(due), C(keep), C(prune), C(errors) and C(ignored)."
  type: dict
"""

from collections.abc import Mapping
from datetime import datetime, timezone

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator
from ansible.module_utils.errors import UnsupportedError

from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import (
    PolicyError,
    plan_retention,
    policy_options,
)

_POLICY_SPEC = dict(policy=dict(type='dict', required=True, options=policy_options()))


def _type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, str):
        return 'str'
    if isinstance(value, Mapping):
        return 'dict'
    if isinstance(value, (list, tuple)):
        return 'list'
    return type(value).__name__


def _validated(policy):
    """The policy checked against the same definition as snapshot_rotation's argument spec, defaults filled in."""
    result = ArgumentSpecValidator(_POLICY_SPEC).validate(dict(policy=dict(policy)))
    if result.error_messages:
        unsupported = [err for err in result.errors if isinstance(err, UnsupportedError)]
        prefix = 'unsupported policy key ' if unsupported else ''
        raise AnsibleFilterError('retention_plan: %s%s' % (prefix, '; '.join(result.error_messages)))
    return result.validated_parameters['policy']


def retention_plan(snapshots, policy=None, now=None, policy_name=None):
    """Return the retention plan for ``snapshots`` (see DOCUMENTATION)."""
    if isinstance(snapshots, (str, bytes)) or isinstance(snapshots, Mapping) or not isinstance(snapshots, (list, tuple)):
        raise AnsibleFilterError(
            'retention_plan: the input must be a list of snapshot dicts, got %s' % _type_name(snapshots))
    if policy is None:
        raise AnsibleFilterError('retention_plan: a policy (dict) is required, e.g. retention_plan({"name": "nightly", "keep_daily": 7})')
    if not isinstance(policy, Mapping):
        raise AnsibleFilterError('retention_plan: policy must be a dict, got %s' % _type_name(policy))
    policy = _validated(policy)
    if policy_name is not None and not isinstance(policy_name, str):
        raise AnsibleFilterError('retention_plan: policy_name must be a string, got %s' % _type_name(policy_name))
    if now is None:
        now = datetime.now(timezone.utc)
    try:
        return plan_retention(list(snapshots), dict(policy), now, policy_name=policy_name)
    except PolicyError as exc:
        raise AnsibleFilterError('retention_plan: %s' % exc) from exc


class FilterModule(object):
    """cinderops.snapshots retention filter."""

    def filters(self):
        return {
            'retention_plan': retention_plan,
        }
