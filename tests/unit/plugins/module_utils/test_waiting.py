# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure wait loop, on an injected clock: a ten-minute wait runs in microseconds."""
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import waiting
from ansible_collections.cinderops.snapshots.plugins.module_utils.waiting import (
    CONTINUE, DONE, WaitFailed, WaitTimeout, describe_status, intervals, judge_available, judge_deleted, wait_for)


class FakeClock(object):
    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def statuses(*seq):
    """fetch() that returns snapshots with these statuses, then repeats the last."""
    items = list(seq)

    def fetch():
        status = items.pop(0) if len(items) > 1 else items[0]
        return None if status is None else {"id": "s1", "status": status}
    return fetch


def run(fetch, judge, timeout=60, clk=None):
    clk = clk or FakeClock()
    return wait_for(fetch, judge, timeout, describe_status, clock=clk.clock, sleep=clk.sleep), clk


def test_backoff_starts_at_most_half_a_second_and_caps_at_five():
    gen = intervals()
    seq = [next(gen) for _i in range(20)]
    assert seq[0] <= 0.5
    assert all(b >= a for a, b in zip(seq, seq[1:]))
    assert max(seq) == 5.0 and seq[-1] == 5.0


def test_available_after_a_few_polls():
    (snap, waited), clk = run(statuses("creating", "creating", "available"), judge_available("s1"))
    assert snap["status"] == "available"
    assert clk.sleeps == [0.25, 0.375]
    assert waited == pytest.approx(0.625)


def test_done_at_once_does_not_sleep():
    (snap, waited), clk = run(statuses("available"), judge_available("s1"))
    assert clk.sleeps == [] and waited == 0


def test_error_fails_fast_with_name_status_and_time():
    with pytest.raises(WaitFailed) as err:
        run(statuses("creating", "creating", "creating", "error"), judge_available("snap-x"))
    assert "snapshot snap-x is in status error" in str(err.value)
    assert "(after 1.2s)" in str(err.value)
    assert err.value.status == "error" and err.value.waited == pytest.approx(0.25 + 0.375 + 0.5625)


@pytest.mark.parametrize("final", ["error", "error_deleting"])
def test_available_wait_fails_on_both_error_statuses(final):
    with pytest.raises(WaitFailed):
        run(statuses("creating", final), judge_available("s1"))


def test_vanishing_while_waiting_for_available_fails():
    with pytest.raises(WaitFailed) as err:
        run(statuses("creating", None), judge_available("s1"))
    assert "disappeared" in str(err.value) and err.value.status == "gone"


def test_timeout_is_a_deadline_not_a_count():
    clk = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        run(statuses("creating"), judge_available("s1"), timeout=600, clk=clk)
    assert clk.now - 1000.0 == pytest.approx(600)
    assert err.value.status == "creating" and "last status: creating" in str(err.value)
    # After the backoff reaches 5 s the poll stays there: about 125 polls in 10 minutes, not thousands.
    assert len(clk.sleeps) < 130 and max(clk.sleeps) <= 5.0


def test_last_sleep_is_cut_to_the_deadline():
    clk = FakeClock()
    with pytest.raises(WaitTimeout):
        run(statuses("creating"), judge_available("s1"), timeout=1, clk=clk)
    assert sum(clk.sleeps) == pytest.approx(1.0)


@pytest.mark.parametrize("timeout", [0, -5])
def test_timeout_must_be_positive(timeout):
    with pytest.raises(ValueError):
        run(statuses("available"), judge_available("s1"), timeout=timeout)


def test_delete_done_when_gone_or_deleted():
    snap = run(statuses("deleting", "deleting", None), judge_deleted("s1"))[0][0]
    assert snap is None
    snap = run(statuses("deleting", "deleted"), judge_deleted("s1"))[0][0]
    assert snap["status"] == "deleted"


def test_delete_error_deleting_fails_fast():
    with pytest.raises(WaitFailed) as err:
        run(statuses("deleting", "error_deleting"), judge_deleted("s1"))
    assert "error_deleting" in str(err.value) and err.value.waited < 1


def test_refused_delete_fails_within_one_poll_of_the_return_to_available():
    asked = []

    def reason(snap):
        asked.append(snap["id"])
        return "volumes created from it: v1"
    clk = FakeClock()
    with pytest.raises(WaitFailed) as err:
        run(statuses("deleting", "deleting", "available"), judge_deleted("s1", reason), timeout=600, clk=clk)
    assert len(clk.sleeps) == 2, "failed on the first poll that saw available"
    assert "refused" in str(err.value) and "volumes created from it: v1" in str(err.value)
    assert asked == ["s1"]


def test_judges_return_continue_on_transitional_statuses():
    assert judge_available("s")({"status": "creating"}) == CONTINUE
    assert judge_available("s")({"status": "available"}) == DONE
    assert judge_deleted("s")({"status": "deleting"}) == CONTINUE
    assert judge_deleted("s")(None) == DONE


def test_module_has_no_ansible_or_sdk_imports():
    import inspect
    source = inspect.getsource(waiting)
    assert "import ansible" not in source and "openstack" not in source.split('"""', 2)[2]
