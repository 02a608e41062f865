# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which of two concurrent runs' snapshots survives: the rule every run applies the same way."""
from __future__ import annotations

import itertools

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._converge import KEEP, WAIT, YIELD, decide


def snap(sid, created, status="available"):
    return {"id": sid, "created_at": "2026-12-02T10:00:%02d.000000" % created, "status": status}


def test_no_rival_keeps():
    assert decide(snap("b", 5), []) == (KEEP, None)


def test_the_older_available_one_wins_and_the_younger_yields():
    older, younger = snap("a", 5), snap("b", 6)
    assert decide(older, [younger]) == (KEEP, None)
    assert decide(younger, [older]) == (YIELD, older)


def test_the_same_second_is_decided_by_the_id():
    a, b = snap("a", 5), snap("b", 5)
    assert decide(a, [b]) == (KEEP, None) and decide(b, [a]) == (YIELD, a)


def test_a_fraction_of_a_second_does_not_change_the_order():
    own = dict(snap("b", 5), created_at="2026-12-02T10:00:05.999999")
    assert decide(own, [snap("a", 5)])[0] == YIELD


def test_an_older_rival_still_creating_is_waited_for():
    assert decide(snap("b", 6), [snap("a", 5, "creating")]) == (WAIT, None)


@pytest.mark.parametrize("status", ["error", "deleting", "error_deleting"])
def test_an_older_rival_that_failed_or_is_going_never_wins(status):
    assert decide(snap("b", 6), [snap("a", 5, status)]) == (KEEP, None)


def test_younger_rivals_never_make_a_run_wait_or_yield():
    assert decide(snap("a", 5), [snap("b", 6, "creating"), snap("c", 7)]) == (KEEP, None)


def test_three_runs_converge_on_exactly_one_whatever_the_statuses():
    """Every run decides with the same facts: exactly one available snapshot is kept, and it is the oldest."""
    for statuses in itertools.product(["available", "error"], repeat=3):
        snaps = [snap(sid, n, status) for n, (sid, status) in enumerate(zip("abc", statuses))]
        own = [s for s in snaps if s["status"] == "available"]
        verdicts = [decide(s, [r for r in snaps if r is not s])[0] for s in own]
        if own:
            assert verdicts.count(KEEP) == 1 and verdicts[0] == KEEP, statuses
