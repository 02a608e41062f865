# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure wait loop and the batch wait, on an injected clock: a ten-minute wait runs in microseconds."""
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import _waiting
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import WaitFailed, WaitTimeout
from ansible_collections.cinderops.snapshots.plugins.module_utils._retry import POLL
from ansible_collections.cinderops.snapshots.plugins.module_utils._waiting import (
    CONTINUE, CREATE, DELETE, DONE, FAILED, PENDING, REFUSED, TIMED_OUT, BatchWait, BecomesAvailable, IsGone,
    wait_for)


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


def run(fetch, judge, timeout=60, clk=None, known=None):
    clk = clk or FakeClock()
    return wait_for(fetch, judge, timeout, clock=clk.clock, sleep=clk.sleep, known=known), clk


def test_available_after_a_few_polls_on_the_shared_schedule():
    (snap, waited), clk = run(statuses("creating", "creating", "available"), BecomesAvailable("s1"))
    assert snap["status"] == "available"
    pauses = POLL.pauses()
    assert clk.sleeps == [next(pauses), next(pauses)] == [0.05, 0.1]
    assert waited == pytest.approx(0.15)


def test_a_known_first_state_saves_the_first_request():
    fetched = []

    def fetch():
        fetched.append(1)
        return {"id": "s1", "status": "available"}
    (snap, _waited), clk = run(fetch, BecomesAvailable("s1"), known={"id": "s1", "status": "creating"})
    assert snap["status"] == "available" and fetched == [1] and clk.sleeps == [0.05]


def test_done_at_once_does_not_sleep():
    (snap, waited), clk = run(statuses("available"), BecomesAvailable("s1"))
    assert clk.sleeps == [] and waited == 0


def test_error_fails_fast_with_name_status_and_time():
    with pytest.raises(WaitFailed) as err:
        run(statuses("creating", "creating", "creating", "error"), BecomesAvailable("snap-x"))
    assert "snapshot snap-x is in status error" in str(err.value)
    assert err.value.status == "error" and err.value.waited == pytest.approx(0.05 + 0.1 + 0.1)


@pytest.mark.parametrize("final", ["error", "error_deleting"])
def test_available_wait_fails_on_both_error_statuses(final):
    with pytest.raises(WaitFailed):
        run(statuses("creating", final), BecomesAvailable("s1"))


def test_vanishing_while_waiting_for_available_fails():
    with pytest.raises(WaitFailed) as err:
        run(statuses("creating", None), BecomesAvailable("s1"))
    assert "disappeared" in str(err.value) and err.value.status == "gone"


def test_timeout_is_a_deadline_names_the_snapshot_and_backs_off():
    clk = FakeClock()
    with pytest.raises(WaitTimeout) as err:
        run(statuses("creating"), BecomesAvailable("2bb8 (nightly)"), timeout=600, clk=clk)
    assert clk.now - 1000.0 == pytest.approx(600)
    assert err.value.status == "creating"
    # Issue 10, defect 11: the message names the snapshot it waited for.
    assert "waiting for snapshot 2bb8 (nightly) to become available; last status: creating" in str(err.value)
    # The pause grows with the time waited and stays at 2 s: about 310 polls in 10 minutes, not thousands.
    assert len(clk.sleeps) < 320 and max(clk.sleeps) == 2.0


def test_last_sleep_is_cut_to_the_deadline():
    clk = FakeClock()
    with pytest.raises(WaitTimeout):
        run(statuses("creating"), BecomesAvailable("s1"), timeout=1, clk=clk)
    assert sum(clk.sleeps) == pytest.approx(1.0)


@pytest.mark.parametrize("timeout", [0, -5])
def test_timeout_must_be_positive(timeout):
    with pytest.raises(ValueError):
        run(statuses("available"), BecomesAvailable("s1"), timeout=timeout)


def test_delete_done_when_gone_or_deleted():
    snap = run(statuses("deleting", "deleting", None), IsGone("s1"))[0][0]
    assert snap is None
    snap = run(statuses("deleting", "deleted"), IsGone("s1"))[0][0]
    assert snap["status"] == "deleted"


def test_delete_error_deleting_fails_fast():
    with pytest.raises(WaitFailed) as err:
        run(statuses("deleting", "error_deleting"), IsGone("s1"))
    assert "error_deleting" in str(err.value) and err.value.waited < 1


def test_delete_timeout_names_the_snapshot():
    with pytest.raises(WaitTimeout, match="waiting for snapshot s1 to be deleted; last status: deleting"):
        run(statuses("deleting"), IsGone("s1"), timeout=5)


def test_refused_delete_fails_within_one_poll_of_the_return_to_available():
    asked = []

    def reason(snap):
        asked.append(snap["id"])
        return "volumes created from it: v1"
    clk = FakeClock()
    with pytest.raises(WaitFailed) as err:
        run(statuses("deleting", "deleting", "available"), IsGone("s1", reason), timeout=600, clk=clk)
    assert len(clk.sleeps) == 2, "failed on the first poll that saw available"
    assert "refused" in str(err.value) and "volumes created from it: v1" in str(err.value)
    assert asked == ["s1"]


def test_judges_return_continue_on_transitional_statuses():
    assert BecomesAvailable("s")({"status": "creating"}) == CONTINUE
    assert BecomesAvailable("s")({"status": "available"}) == DONE
    assert IsGone("s")({"status": "deleting"}) == CONTINUE
    assert IsGone("s")(None) == DONE


def test_module_has_no_ansible_or_sdk_imports():
    import inspect
    source = inspect.getsource(_waiting)
    assert "import ansible." not in source and "openstack" not in source.split('"""', 2)[2]


# ---------------------------------------------------------------------------------------------------- batch wait

def snap(sid, status):
    return {"id": sid, "name": "n-" + sid, "status": status}


def batch(clk, timeout=60):
    return BatchWait(timeout, clock=clk.clock)


def test_first_round_is_due_after_the_first_pause_of_the_youngest():
    clk = FakeClock()
    waiter = batch(clk)
    assert waiter.next_round() is None
    waiter.track(snap("a", "creating"), CREATE)
    clk.now += 5
    waiter.observe(CREATE, {"a": snap("a", "creating")})  # a has waited 5 s: its next look is 1.25 s away
    waiter.track(snap("b", "creating"), CREATE)
    # b was just added: the round comes 0.05 s after it, not on a's slower schedule.
    assert waiter.next_round() == pytest.approx(clk.now + 0.05)


def test_one_listing_settles_many_creates_and_fails_errors_fast():
    clk = FakeClock()
    waiter = batch(clk)
    for sid in ("a", "b", "c", "d"):
        waiter.track(snap(sid, "creating"), CREATE)
    clk.now += 0.2
    decided = waiter.observe(CREATE, {"a": snap("a", "available"), "b": snap("b", "error"),
                                      "c": snap("c", "creating"), "d": snap("d", "error_deleting")})
    verdicts = dict((t.id, (t.verdict, t.detail)) for t in decided)
    assert verdicts["a"] == (DONE, None)
    assert verdicts["b"] == (FAILED, "snapshot b (n-b) is in status error")
    assert verdicts["d"][0] == FAILED and "error_deleting" in verdicts["d"][1]
    assert [t.id for t in waiter.pending()] == ["c"]


def test_a_create_that_vanishes_from_the_listing_fails():
    clk = FakeClock()
    waiter = batch(clk)
    waiter.track(snap("a", "creating"), CREATE)
    (item,) = waiter.observe(CREATE, {})
    assert item.verdict == FAILED and "disappeared" in item.detail


def test_a_delete_that_vanishes_is_done_and_error_deleting_fails():
    clk = FakeClock()
    waiter = batch(clk)
    waiter.track(snap("a", "deleting"), DELETE)
    waiter.track(snap("b", "deleting"), DELETE)
    waiter.track(snap("c", "deleting"), DELETE)
    decided = dict((t.id, t) for t in waiter.observe(DELETE, {"b": snap("b", "error_deleting"),
                                                              "c": snap("c", "deleting")}))
    assert decided["a"].verdict == DONE
    assert decided["b"].verdict == FAILED and "error_deleting" in decided["b"].detail
    assert "c" not in decided and waiter.tracked["c"].verdict == PENDING


def test_a_refused_delete_is_seen_within_one_round():
    clk = FakeClock()
    waiter = batch(clk)
    waiter.track(snap("a", "deleting"), DELETE)
    assert waiter.observe(DELETE, {"a": snap("a", "deleting")}) == []
    (item,) = waiter.observe(DELETE, {"a": snap("a", "available")})
    assert item.verdict == REFUSED and "refused" in item.detail


def test_each_snapshot_has_its_own_deadline():
    clk = FakeClock()
    waiter = batch(clk, timeout=10)
    waiter.track(snap("old", "creating"), CREATE)
    clk.now += 6
    waiter.track(snap("new", "creating"), CREATE)
    clk.now += 5  # old has waited 11 s, new 5 s
    listing = {"old": snap("old", "creating"), "new": snap("new", "creating")}
    (item,) = waiter.observe(CREATE, listing)
    assert item.id == "old" and item.verdict == TIMED_OUT
    assert "waiting for snapshot old (n-old) to become available; last status: creating" in item.detail
    assert [t.id for t in waiter.pending()] == ["new"]
    # The next round is due by the remaining one's deadline at the latest.
    assert waiter.next_round() <= waiter.tracked["new"].deadline


def test_only_judges_the_snapshots_a_single_get_answered_for():
    clk = FakeClock()
    waiter = batch(clk)
    waiter.track(snap("a", "deleting"), DELETE)
    waiter.track(snap("b", "deleting"), DELETE)
    decided = waiter.observe(DELETE, {"a": None}, only={"a"})
    assert [t.id for t in decided] == ["a"] and waiter.tracked["b"].verdict == PENDING


def test_the_pause_grows_with_the_time_waited_up_to_the_cap():
    clk = FakeClock()
    waiter = batch(clk, timeout=600)
    waiter.track(snap("a", "creating"), CREATE)
    gaps = []
    for _round in range(40):
        due = waiter.next_round()
        gaps.append(round(due - clk.now, 3))
        clk.now = due
        waiter.observe(CREATE, {"a": snap("a", "creating")})
    assert gaps[0] == 0.05 and gaps[1] == 0.1 and max(gaps) == 2.0
    assert all(b >= a for a, b in zip(gaps[1:], gaps[2:]))


def test_a_paced_round_waits_for_the_gap_even_when_a_snapshot_is_due():
    clk = FakeClock()
    waiter = batch(clk)
    waiter.track(snap("a", "creating"), CREATE)
    start = clk.now
    assert waiter.next_round() == pytest.approx(start + POLL.first)
    waiter.pace(1.5)
    assert waiter.next_round() == pytest.approx(start + 1.5)  # a's own first look is held back
    waiter.pace(0.0)
    assert waiter.next_round() == pytest.approx(start + POLL.first)
