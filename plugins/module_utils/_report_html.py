# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation report as a picture: one timeline per volume, in one self-contained HTML page. Pure.

Input is the report of ``_report.build_report``. Every snapshot the run looked at (kept, created,
pruned, skipped) is a mark on its volume's timeline, coloured by what happened to it; hovering a
mark shows its name, time and the reasons the Markdown report gives. The newest good and the
newest verified restorable snapshot are flagged.

The time axis is logarithmic in age (now at the right), so that a week of dailies and years of
monthlies are both readable on one line. At 400 volumes the page scrolls (one 24 px row each).
A volume with more than ``MAX_MARKS`` snapshots (two years of hourlies) is drawn aggregated: one
mark per 3 px column and outcome, whose hover text gives the count and the time range.

Nothing is fetched: no scripts, fonts or images; a Content-Security-Policy says so to the browser.
"""
from __future__ import annotations

import math
from html import escape

from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import TimeError, parse_timestamp

WIDTH = 900
PAD = 12  # room for the axis labels at both ends
ROW = 24
MARK = (3, 14)
MAX_MARKS = 600
COLUMN = 3
TICKS = (("1h", 1), ("1d", 24), ("1w", 24 * 7), ("1m", 24 * 30), ("3m", 24 * 91), ("1y", 24 * 365),
         ("2y", 24 * 730), ("5y", 24 * 1826))
COLOURS = {
    "created": "#2563eb", "held": "#7c3aed", "pruned": "#cbd5e1", "error": "#991b1b", "skipped": "#f59e0b",
    "kept-last": "#0f766e", "kept-hourly": "#14b8a6", "kept-daily": "#16a34a", "kept-weekly": "#65a30d",
    "kept-monthly": "#0891b2", "kept-yearly": "#1e3a8a", "kept-within": "#059669", "kept-other": "#4d7c0f",
}
MEANING = {
    "created": "created by this run", "held": "kept: held (cinderops:hold)", "pruned": "pruned by this run",
    "error": "in error (not counted; cleanup_errors deletes it)", "skipped": "skipped (see its reasons)",
    "kept-last": "kept: keep_last", "kept-hourly": "kept: hourly tier", "kept-daily": "kept: daily tier",
    "kept-weekly": "kept: weekly tier", "kept-monthly": "kept: monthly tier", "kept-yearly": "kept: yearly tier",
    "kept-within": "kept: a keep_within rule", "kept-other": "kept: min_available, status or another rule",
}
TIERS = ("last", "hourly", "daily", "weekly", "monthly", "yearly")
STYLE = """
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:16px;color:#111827}
h1{font-size:18px;margin:0 0 8px}h2{font-size:15px;margin:20px 0 4px}
.bad{color:#991b1b;font-weight:600}.ok{color:#166534;font-weight:600}
ul.lines{margin:4px 0;padding-left:18px}
.legend{display:flex;flex-wrap:wrap;gap:4px 14px;margin:8px 0}
.legend span{display:inline-flex;align-items:center;gap:4px}
.legend i{display:inline-block;width:10px;height:12px}
.volume{display:flex;align-items:center;height:24px;border-bottom:1px solid #f3f4f6}
.volume .name{width:260px;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding-right:8px}
.volume.failed .name{color:#991b1b;font-weight:600}
.axis text{font-size:10px;fill:#6b7280}.axis line{stroke:#d1d5db}
.flag{fill:none;stroke-width:2}.newest-good{stroke:#111827}.newest-verified{stroke:#7c3aed}
"""


def category(snapshot, outcome):
    """The colour class of a snapshot: what happened to it (and for a kept one, which tier kept it)."""
    reasons = snapshot.get("reasons") or []
    if outcome in ("created", "pruned"):
        return outcome
    if outcome == "skipped":
        return "error" if str(snapshot.get("status", "")).startswith("error") else "skipped"
    if "hold" in reasons:
        return "held"
    tiers = [r.split()[-1] for r in reasons if r.split() and r.split()[-1] in TIERS]
    if tiers:
        return "kept-" + tiers[0]
    if any(r.startswith("within") for r in reasons):
        return "kept-within"
    return "kept-other"


def volume_snapshots(volume):
    """[(snapshot, outcome)] for every snapshot of the volume in the report."""
    out = [(s, "kept") for s in volume.get("kept_snapshots") or []]
    if volume.get("created"):
        out.append((volume["created"], "created"))
    out += [(s, "pruned") for s in volume.get("pruned") or []]
    out += [(s, "skipped") for s in volume.get("skipped") or []]
    return out


def created(snapshot):
    """When the snapshot was made; None when the report has no readable time for it."""
    try:
        return parse_timestamp(snapshot.get("created_at"))
    except (TimeError, TypeError, ValueError):
        return None


class Axis(object):
    """Age (hours before now) to x: logarithmic, so that recent and old history are both readable."""

    def __init__(self, now, oldest_hours):
        self.now = now
        self.span = math.log1p(max(oldest_hours, 24.0))

    def age_hours(self, when):
        return max(0.0, (self.now - when).total_seconds() / 3600.0)

    def x(self, age_hours):
        return round(PAD + WIDTH * (1.0 - min(1.0, math.log1p(age_hours) / self.span)), 1)


def _title(snapshot, outcome):
    reasons = ", ".join(snapshot.get("reasons") or []) or "no rule"
    return "%s (%s), %s: %s" % (snapshot.get("name") or snapshot.get("id"), snapshot.get("created_at"), outcome,
                                reasons)


def _marks(volume, axis):
    dated = []
    for snap, outcome in volume_snapshots(volume):
        when = created(snap)  # one without a readable time is still drawn, at the oldest end
        dated.append((axis.age_hours(when) if when else None, snap, outcome))
    parts = []
    y = (ROW - MARK[1]) // 2
    if len(dated) <= MAX_MARKS:
        for age, snap, outcome in dated:
            x = axis.x(age) if age is not None else PAD
            parts.append('<rect class="mark %s" x="%s" y="%d" width="%d" height="%d" fill="%s" data-id="%s">'
                         '<title>%s</title></rect>' % (category(snap, outcome), x, y, MARK[0], MARK[1],
                                                       COLOURS[category(snap, outcome)], escape(str(snap.get("id"))),
                                                       escape(_title(snap, outcome))))
        return parts, len(dated)
    buckets = {}
    for age, snap, outcome in dated:
        x = axis.x(age) if age is not None else PAD
        key = (int(x // COLUMN), category(snap, outcome))
        buckets.setdefault(key, []).append(snap)
    for (column, kind), snaps in sorted(buckets.items()):
        times = sorted(str(s.get("created_at")) for s in snaps)
        parts.append('<rect class="mark aggregate %s" x="%d" y="%d" width="%d" height="%d" fill="%s" data-count="%d">'
                     '<title>%d snapshots, %s, %s to %s</title></rect>' % (
                         kind, column * COLUMN, y, COLUMN, MARK[1], COLOURS[kind], len(snaps), len(snaps),
                         escape(MEANING[kind]), escape(times[0]), escape(times[-1])))
    return parts, len(dated)


def _flags(volume, axis):
    parts = []
    flags = (("newest_good", "newest-good", "M%s 1 v22"), ("newest_verified", "newest-verified", "M%s 3 v18"))
    for key, kind, shape in flags:
        snap = volume.get(key)
        when = created(snap) if snap else None
        if when:
            x = axis.x(axis.age_hours(when)) + 1
            parts.append('<path class="flag %s" d="%s"><title>%s: %s (%s old)</title></path>' % (
                kind, shape % x, kind.replace("-", " "), escape(str(snap.get("name"))), escape(str(snap.get("age")))))
    return parts


def _axis_svg(axis):
    ticks = ['<line x1="%d" y1="14" x2="%d" y2="14"/>' % (PAD, PAD + WIDTH)]
    for label, hours in TICKS:
        if math.log1p(hours) <= axis.span:
            x = axis.x(hours)
            ticks.append('<line x1="%s" y1="10" x2="%s" y2="18"/><text x="%s" y="9" text-anchor="middle">%s</text>'
                         % (x, x, x, label))
    ticks.append('<text x="%d" y="9" text-anchor="middle">now</text>' % (PAD + WIDTH))
    return ('<div class="volume"><div class="name">age (logarithmic)</div><svg class="axis" width="%d" height="20">'
            '%s</svg></div>' % (WIDTH + 2 * PAD, "".join(ticks)))


def _oldest_hours(policy, now):
    ages = [(now - when).total_seconds() / 3600.0 for volume in policy.get("volumes") or []
            for when in (created(snap) for snap, _outcome in volume_snapshots(volume)) if when is not None]
    return max(ages or [24.0])


def _policy(policy, now):
    axis = Axis(now, _oldest_hours(policy, now))
    head = '<section class="policy" data-policy="%s"><h2>Policy %s%s</h2>' % (
        escape(policy["name"]), escape(policy["name"]),
        ' <span class="bad">FAILED: %s</span>' % escape(policy.get("msg") or "") if policy.get("failed") else "")
    rows = [head, _axis_svg(axis)]
    for volume in policy.get("volumes") or []:
        marks, count = _marks(volume, axis)
        failed = bool(volume.get("errors"))
        label = volume.get("volume_name") or volume.get("volume_id")
        rows.append('<div class="volume%s" data-volume-id="%s" data-snapshots="%d"><div class="name" title="%s">%s'
                    '</div><svg width="%d" height="%d">%s</svg></div>' % (
                        " failed" if failed else "", escape(str(volume.get("volume_id"))), count,
                        escape("; ".join(volume.get("errors") or []) or str(label)), escape(str(label)), WIDTH + 2 * PAD,
                        ROW, "".join(marks + _flags(volume, axis))))
    if not policy.get("volumes"):
        rows.append('<p class="none">No volume was selected.</p>')
    rows.append("</section>")
    return "".join(rows)


def render(report, title="Snapshot rotation report"):
    """The whole page, as one string."""
    now = parse_timestamp(report["generated_at"])
    totals = report.get("totals") or {}
    lines = ["FAILED " + line for line in report.get("failures") or []]
    lines += ["STALE " + line for line in report.get("stale") or []]
    lines += ["UNVERIFIED " + line for line in report.get("restore_stale") or []]
    legend = "".join('<span><i style="background:%s"></i>%s</span>' % (COLOURS[k], escape(MEANING[k]))
                     for k in COLOURS)
    legend += ('<span><svg width="6" height="14"><path class="flag newest-good" d="M3 0 v14"/></svg>newest good'
               '</span><span><svg width="6" height="14"><path class="flag newest-verified" d="M3 2 v10"/></svg>newest '
               'verified restorable</span>')
    body = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        "<title>%s</title><style>%s</style></head><body>" % (escape(title), STYLE),
        "<h1>%s%s</h1>" % (escape(title), " (check mode: planned, nothing changed)" if report.get("check_mode")
                           else ""),
        '<p>Generated %s. <span class="%s">%s</span>: %d volume(s), %d created, %d kept, %d pruned, %d skipped, '
        "%d failed.</p>" % (escape(report["generated_at"]), "ok" if report.get("ok") else "bad",
                            "OK" if report.get("ok") else "FAILED", totals.get("volumes", 0), totals.get("created", 0),
                            totals.get("kept", 0), totals.get("pruned", 0), totals.get("skipped", 0),
                            totals.get("failed", 0)),
        '<ul class="lines">%s</ul>' % "".join("<li>%s</li>" % escape(line) for line in lines) if lines else "",
        '<div class="legend">%s</div>' % legend,
        "<p>Hover a mark for the snapshot's name, time and the rules that decided it. The time axis is logarithmic "
        "in age. Volumes with more than %d snapshots are drawn aggregated (one mark per %d px and outcome).</p>"
        % (MAX_MARKS, COLUMN),
    ]
    body += [_policy(policy, now) for policy in report.get("policies") or []]
    if not report.get("policies"):
        body.append("<p>No policy ran.</p>")
    body.append("</body></html>\n")
    return "\n".join(body)
