# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_metrics
short_description: Turn a rotation report into Prometheus metrics (text exposition format)
version_added: 1.0.0
author: cinderops.snapshots maintainers (@cinderops)
description:
  - Takes the report of P(cinderops.snapshots.rotation_report#filter) and returns Prometheus metrics in the text
    exposition format, for node_exporter's textfile collector. Every metric is a gauge named C(cinderops_rotation_*).
  - Per run (label C(job)) C(last_run_start_timestamp_seconds), C(last_run_duration_seconds) and C(last_run_success).
    Per policy C(policy_failed). Per volume (labels C(policy), C(volume_id), C(volume_name))
    C(newest_snapshot_timestamp_seconds) and C(newest_snapshot_age_seconds) (the newest available snapshot the policy
    owns), C(newest_verified_restore_timestamp_seconds) and C(newest_verified_restore_age_seconds) (when restore drills
    have verified one), C(volume_snapshots) by C(outcome) (C(kept), C(created), C(pruned), C(skipped)) and
    C(volume_failures).
  - Ages are as of the run; alert on C(time() - cinderops_rotation_newest_snapshot_timestamp_seconds), which keeps
    growing when no run happens.
  - The P(cinderops.snapshots.rotation#role) role writes them for every run (write to a temporary file, then rename).
positional: _input
options:
  _input:
    description: The report (the output of P(cinderops.snapshots.rotation_report#filter)).
    type: dict
    required: true
  job:
    description: Names the run in the C(job) label, for example the report name.
    type: str
    required: true
  started_at:
    description: When the run started, as epoch seconds or ISO 8601.
    type: raw
    required: true
  finished_at:
    description: When the run finished, as epoch seconds or ISO 8601.
    type: raw
    required: true
  success:
    description: Whether the run succeeded (C(last_run_success)).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Write the metrics for node_exporter's textfile collector
  ansible.builtin.copy:
    content: >-
      {{ report | cinderops.snapshots.rotation_metrics(job='nightly', started_at=started, finished_at=now(utc=true).timestamp(),
         success=report.ok) }}
    dest: /var/lib/prometheus/node-exporter/cinderops_rotation.prom.staged
    mode: "0644"
"""

RETURN = r"""
_value:
  description: The metrics, one sample a line, with C(HELP) and C(TYPE) lines.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cinderops.snapshots.plugins.module_utils._metrics import MetricsError, render


def rotation_metrics(report, job, started_at, finished_at, success):
    try:
        return render(report, job, started_at, finished_at, success)
    except (MetricsError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("rotation_metrics: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"rotation_metrics": rotation_metrics}
