# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation report as Prometheus metrics, in the text exposition format. Pure.

Written once per run into node_exporter's textfile collector directory, so every value is as of
the run. Times are exported as timestamps too (``*_timestamp_seconds``): alert on
``time() - cinderops_rotation_newest_snapshot_timestamp_seconds``, which keeps growing while no
run happens, rather than on the ages, which are frozen at the run's time.
"""
from __future__ import annotations

from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import TimeError, parse_timestamp

PREFIX = "cinderops_rotation_"
OUTCOMES = ("kept", "created", "pruned", "skipped")


class MetricsError(ValueError):
    pass


def escape_label(value):
    """A label value as the exposition format wants it: backslash, double quote and newline escaped."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value):
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return repr(float(value))


class Family(object):
    def __init__(self, name, help_text):
        self.name = PREFIX + name
        self.help = help_text
        self.samples = []

    def add(self, labels, value):
        self.samples.append((labels, value))

    def lines(self):
        out = ["# HELP %s %s" % (self.name, self.help), "# TYPE %s gauge" % self.name]
        for labels, value in self.samples:
            text = ",".join('%s="%s"' % (k, escape_label(v)) for k, v in labels)
            out.append("%s{%s} %s" % (self.name, text, _number(value)))
        return out


def _epoch(value, what):
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    try:
        return parse_timestamp(value).timestamp()
    except (TimeError, TypeError, ValueError):
        raise MetricsError("%s must be a time (epoch seconds or ISO 8601), got %r" % (what, value))


def render(report, job, started_at, finished_at, success):
    """Metrics of one run of the rotation role (``job`` names the run, e.g. the report name)."""
    if not isinstance(report, dict) or "policies" not in report:
        raise MetricsError("expected the rotation report (the rotation_report filter's output)")
    if not job:
        raise MetricsError("job must name the run (for example the report name)")
    start, end = _epoch(started_at, "started_at"), _epoch(finished_at, "finished_at")
    generated = _epoch(report["generated_at"], "the report's generated_at")
    run = [("job", job)]
    families = [
        Family("last_run_start_timestamp_seconds", "When the last rotation run started."),
        Family("last_run_duration_seconds", "How long the last rotation run took."),
        Family("last_run_success", "1 when the last rotation run succeeded (no failure, nothing stale), else 0."),
        Family("policy_failed", "1 when the policy failed as a whole or on any volume in the last run."),
        Family("newest_snapshot_timestamp_seconds", "When the newest available snapshot the policy owns was made."),
        Family("newest_snapshot_age_seconds", "Age of the newest available snapshot the policy owns, at the run."),
        Family("newest_verified_restore_timestamp_seconds",
               "When the newest snapshot that a restore drill proved restorable was made."),
        Family("newest_verified_restore_age_seconds",
               "Age of the newest snapshot that a restore drill proved restorable, at the run."),
        Family("volume_snapshots", "Snapshots of the volume by what the last run did with them."),
        Family("volume_failures", "Failures on the volume in the last run (a create, a prune, a plan)."),
    ]
    by_name = dict((f.name[len(PREFIX):], f) for f in families)
    by_name["last_run_start_timestamp_seconds"].add(run, start)
    by_name["last_run_duration_seconds"].add(run, max(0.0, end - start))
    by_name["last_run_success"].add(run, bool(success))
    for policy in report["policies"]:
        by_name["policy_failed"].add(run + [("policy", policy["name"])],
                                     bool(policy.get("failed") or (policy.get("counts") or {}).get("failed")))
        for volume in policy.get("volumes") or []:
            labels = run + [("policy", policy["name"]), ("volume_id", volume.get("volume_id") or ""),
                            ("volume_name", volume.get("volume_name") or "")]
            for key, family in (("newest_good", "newest_snapshot"), ("newest_verified", "newest_verified_restore")):
                snap = volume.get(key)
                if snap and snap.get("created_at"):
                    made = _epoch(snap["created_at"], key)
                    by_name[family + "_timestamp_seconds"].add(labels, made)
                    by_name[family + "_age_seconds"].add(labels, max(0.0, generated - made))
            counts = {"kept": volume.get("kept") or 0, "created": 1 if volume.get("created") else 0,
                      "pruned": len(volume.get("pruned") or []), "skipped": len(volume.get("skipped") or [])}
            for outcome in OUTCOMES:
                by_name["volume_snapshots"].add(labels + [("outcome", outcome)], counts[outcome])
            by_name["volume_failures"].add(labels, len(volume.get("errors") or []))
    lines = []
    for family in families:
        if family.samples:
            lines += family.lines()
    return "\n".join(lines) + "\n"
