# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What restic's count rules keep, worked out apart from the collection's engine: the integration tests'
expectation for a history of real snapshots (whose overlaps between tiers depend on the calendar)."""
from __future__ import annotations


PERIOD = {
    "keep_daily": lambda t: t.date(),
    "keep_weekly": lambda t: t.isocalendar()[:2],
    "keep_monthly": lambda t: (t.year, t.month),
    "keep_yearly": lambda t: t.year,
}


def restic_kept(times, rules):
    """{id: [reasons]} that restic's count rules keep, for {id: datetime}; written apart from the engine.

    Newest first, each rule keeps the first snapshot of every new period while its count lasts,
    and the oldest snapshot too when the count is not used up ("oldest" rule).
    """
    order = sorted(times, key=lambda i: times[i], reverse=True)
    kept = {}
    for rule, count in rules.items():
        last = None
        for n, sid in enumerate(order):
            if count == 0:
                break
            period = PERIOD[rule](times[sid])
            if period != last or n == len(order) - 1:
                reason = rule[len("keep_"):]
                kept.setdefault(sid, []).append(reason if period != last else "oldest " + reason)
                last = period
                count -= 1
    return kept
