# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure polling: a deadline, the collection's poll schedule, and verdicts that end a wait early.

No Ansible or SDK imports; the clock and sleep are injectable so that unit tests run a
ten-minute wait in microseconds.
"""
from __future__ import annotations

import time

from ansible_collections.cinderops.snapshots.plugins.module_utils import _status
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import WaitFailed, WaitTimeout
from ansible_collections.cinderops.snapshots.plugins.module_utils._retry import POLL

DONE = "done"
CONTINUE = "continue"


def describe_status(snapshot):
    return "gone" if snapshot is None else snapshot.get("status")


class Judge(object):
    """Decides a wait from what was fetched: DONE, CONTINUE, or a string (the reason to fail now).

    ``goal`` completes "waiting for ..." in a timeout message, so that the message names the snapshot.
    """

    goal = "the snapshot"

    def __call__(self, snapshot):
        raise NotImplementedError


class BecomesAvailable(Judge):
    """A snapshot (or volume) being created, or still ``creating``: available is done, error is fatal.

    ``reason(resource)``, when given, says why it failed (Cinder's user message).
    """

    def __init__(self, name, kind="snapshot", reason=None):
        self.name = "%s %s" % (kind, name)
        self.reason = reason
        self.goal = "%s to become available" % self.name

    def __call__(self, resource):
        if resource is None:
            return "%s disappeared while waiting for it to become available" % self.name
        status = resource.get("status")
        if status == _status.AVAILABLE:
            return DONE
        if status in _status.FAILED:
            why = self.reason(resource) if self.reason else None
            return "%s is in status %s%s" % (self.name, status, ": %s" % why if why else "")
        return CONTINUE


class IsGone(Judge):
    """A snapshot being deleted: gone is done; error_deleting, or a return to available, is fatal.

    Cinder accepts a delete with 202 and sets ``deleting`` before it answers; a later
    ``available`` means the backend refused (SnapshotIsBusy). ``refused_reason(snapshot)``
    says why, e.g. from Cinder's user messages.
    """

    def __init__(self, name, refused_reason=None, kind="snapshot"):
        self.name = "%s %s" % (kind, name)
        self.refused_reason = refused_reason
        self.goal = "%s to be deleted" % self.name

    def __call__(self, resource):
        if resource is None or resource.get("status") == _status.DELETED:
            return DONE
        status = resource.get("status")
        if status in (_status.ERROR_DELETING, _status.ERROR):
            return "%s is in status %s: the backend failed to delete it" % (self.name, status)
        if status == _status.AVAILABLE:
            why = self.refused_reason(resource) if self.refused_reason else None
            return "the backend refused to delete %s and it is available again%s" % (
                self.name, ": %s" % why if why else "")
        return CONTINUE


def wait_for(fetch, judge, timeout, describe=describe_status, clock=time.monotonic, sleep=time.sleep,
             schedule=POLL, known=None):
    """Call ``fetch()`` until ``judge(resource)`` says DONE, fails, or the deadline passes.

    ``known``, when given, stands for the first fetch: a state already known from a write's
    answer (creating, deleting), so the first request goes out after the first pause.
    Returns ``(resource, seconds waited)``.
    """
    if timeout <= 0:
        raise ValueError("timeout must be greater than 0")
    start = clock()
    deadline = start + timeout
    pauses = schedule.pauses()
    pending = [known] if known is not None else []
    while True:
        resource = pending.pop() if pending else fetch()
        verdict = judge(resource)
        waited = clock() - start
        if verdict == DONE:
            return resource, waited
        if verdict != CONTINUE:
            raise WaitFailed("%s (after %.1fs)" % (verdict, waited), status=describe(resource), waited=waited)
        now = clock()
        if now >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting for %s; last status: %s"
                              % (waited, judge.goal, describe(resource)), status=describe(resource), waited=waited)
        sleep(min(next(pauses), max(0.0, deadline - now)))


# ---------------------------------------------------------------------------------------------------- many at once

CREATE = "create"
DELETE = "delete"
PENDING = "pending"
FAILED = "failed"
REFUSED = "refused"
TIMED_OUT = "timed out"


class Tracked(object):
    """One snapshot a batch wait follows: what is wanted of it, since when, and the verdict once there is one."""

    __slots__ = ("id", "kind", "snapshot", "since", "deadline", "next_look", "accepted", "verdict", "detail")

    def __init__(self, snapshot, kind, now, timeout, accepted=True, schedule=POLL):
        self.id = snapshot["id"]
        self.kind = kind
        self.snapshot = snapshot
        self.since = now
        self.deadline = now + timeout
        self.next_look = now + schedule.first
        self.accepted = accepted  # for a delete: Cinder took ours (False: another run's delete was under way)
        self.verdict = PENDING
        self.detail = None

    @property
    def name(self):
        return _status.label(self.snapshot)


class BatchWait(object):
    """Waits for many snapshots at once: the caller fetches one listing per round and hands it to ``observe``.

    Each tracked snapshot keeps the schedule it would have alone (first look after ``schedule.first``,
    then a pause of a quarter of the time it has waited, 0.1 to 2 s); a round is due when any snapshot's
    next look is, and one listing serves every snapshot. The caller may hold the next round back
    (``pace``): what a round costs Cinder grows with the listing, so a large batch is asked less often.
    Verdicts are the single waits' ones:

    * create: ``available`` is done; ``error``/``error_deleting``, vanishing or a delete is a failure;
    * delete: gone is done; ``error_deleting`` is a failure; ``available`` again means the backend
      refused (dependent volumes), seen within one round;
    * each snapshot has its own deadline.

    Pure: the clock is injected and nothing here sends a request.
    """

    def __init__(self, timeout, clock=time.monotonic, schedule=POLL):
        self.timeout = timeout
        self.clock = clock
        self.schedule = schedule
        self.tracked = {}
        self.quiet_until = None

    def pace(self, gap):
        """No round before ``gap`` seconds from now (deadlines included: a verdict may come that much late)."""
        self.quiet_until = self.clock() + gap

    def track(self, snapshot, kind, accepted=True):
        item = Tracked(snapshot, kind, self.clock(), self.timeout, accepted=accepted, schedule=self.schedule)
        self.tracked[item.id] = item
        return item

    def pending(self, kind=None):
        return [t for t in self.tracked.values() if t.verdict == PENDING and (kind is None or t.kind == kind)]

    def next_round(self):
        """When the next round is due (clock time), or None when nothing is pending."""
        pending = self.pending()
        if not pending:
            return None
        due = min(min(t.next_look, t.deadline) for t in pending)
        return due if self.quiet_until is None else max(due, self.quiet_until)

    def observe(self, kind, seen, only=None):
        """A round's answer for the pending snapshots of ``kind`` (or only those with ids in ``only``).

        ``seen`` maps ids to snapshots. A judged id missing from it is gone: pass only complete
        answers (a listing window that covers every tracked snapshot, or single GETs with None for 404).
        Returns the snapshots that reached a verdict in this round.
        """
        now = self.clock()
        decided = []
        for item in self.pending(kind):
            if only is not None and item.id not in only:
                continue
            snapshot = seen.get(item.id)
            if snapshot is not None:
                item.snapshot = snapshot
            verdict, detail = (self._create_verdict if kind == CREATE else self._delete_verdict)(item, snapshot)
            if verdict == PENDING and now >= item.deadline:
                goal = "to become available" if kind == CREATE else "to be deleted"
                verdict, detail = TIMED_OUT, "timed out after %.1fs waiting for snapshot %s %s; last status: %s" % (
                    now - item.since, item.name, goal, describe_status(snapshot))
            if verdict == PENDING:
                waited = now - item.since
                item.next_look = now + min(self.schedule.cap, max(self.schedule.floor, self.schedule.ratio * waited))
            else:
                item.verdict, item.detail = verdict, detail
                decided.append(item)
        return decided

    @staticmethod
    def _create_verdict(item, snapshot):
        if snapshot is None:
            return FAILED, "snapshot %s disappeared while waiting for it to become available" % item.name
        status = snapshot.get("status")
        if status == _status.AVAILABLE:
            return DONE, None
        if status in _status.FAILED or status in _status.GOING:
            return FAILED, "snapshot %s is in status %s" % (item.name, status)
        return PENDING, None

    @staticmethod
    def _delete_verdict(item, snapshot):
        status = None if snapshot is None else snapshot.get("status")
        if status in (None, _status.DELETED):
            return DONE, None
        if status == _status.ERROR_DELETING:
            return FAILED, "snapshot %s is in status error_deleting: the backend failed to delete it" % item.name
        if status == _status.AVAILABLE:
            return REFUSED, "the backend refused to delete snapshot %s and it is available again" % item.name
        if status == _status.DELETING:
            return PENDING, None
        return FAILED, "snapshot %s went to status %s while being deleted" % (item.name, status)
