# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: rotation_report_html
short_description: Draw a rotation report as a self-contained HTML page with one timeline per volume
version_added: 1.0.0
author: cinderops.snapshots maintainers (@cinderops)
description:
  - Takes the report of P(cinderops.snapshots.rotation_report#filter) and returns one HTML page. Every snapshot the run
    looked at is a mark on its volume's timeline, coloured by what happened to it (created, kept and by which tier,
    held, pruned, skipped, in error); hovering a mark shows its name, time and the rules that decided it. The newest
    good and the newest verified restorable snapshot are flagged; a legend explains the colours.
  - The page fetches nothing (no scripts, fonts or images) and says so with a Content-Security-Policy.
  - The time axis is logarithmic in age, so that a week of dailies and years of monthlies are both readable. With many
    volumes the page scrolls (one row each). A volume with more than 600 snapshots is drawn aggregated, one mark per
    3 pixel column and outcome, whose hover text gives the count and time range.
  - The P(cinderops.snapshots.rotation#role) role writes it beside the Markdown and JSON reports.
positional: _input
options:
  _input:
    description: The report (the output of P(cinderops.snapshots.rotation_report#filter)).
    type: dict
    required: true
  title:
    description: The page's title.
    type: str
    default: Snapshot rotation report
"""

EXAMPLES = r"""
- name: Write the report as a picture
  ansible.builtin.copy:
    content: "{{ report | cinderops.snapshots.rotation_report_html }}"
    dest: /var/lib/cinderops/rotation.html
    mode: "0640"
"""

RETURN = r"""
_value:
  description: The HTML page.
  type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.cinderops.snapshots.plugins.module_utils._report_html import render
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import TimeError


def rotation_report_html(report, title="Snapshot rotation report"):
    if not isinstance(report, dict) or "policies" not in report or "generated_at" not in report:
        raise AnsibleFilterError("rotation_report_html: expected the report of cinderops.snapshots.rotation_report")
    try:
        return render(report, title=title)
    except (TimeError, KeyError, TypeError) as exc:
        raise AnsibleFilterError("rotation_report_html: the report is not one rotation_report made: %s" % exc)


class FilterModule(object):
    def filters(self):
        return {"rotation_report_html": rotation_report_html}
