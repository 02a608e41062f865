# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure polling: a deadline, a backoff, and verdicts that end a wait early.

No Ansible or SDK imports; the clock and sleep are injectable so that unit tests
run a ten-minute wait in microseconds.
"""
from __future__ import annotations

import time

# Polling starts fast (snapshots usually settle in well under a second) and backs
# off so that long waits do not hammer the API.
FIRST_INTERVAL = 0.25
MAX_INTERVAL = 5.0
BACKOFF = 1.5

DONE = "done"
CONTINUE = "continue"


class WaitError(Exception):
    """A wait that ended without success; ``status`` is the last status seen."""

    def __init__(self, message, status=None, waited=0.0):
        super().__init__(message)
        self.status = status
        self.waited = waited


class WaitTimeout(WaitError):
    pass


class WaitFailed(WaitError):
    pass


def intervals(first=FIRST_INTERVAL, maximum=MAX_INTERVAL, factor=BACKOFF):
    """0.25, 0.375, 0.56, ... capped at ``maximum``."""
    interval = first
    while True:
        yield interval
        interval = min(maximum, interval * factor)


def wait_for(fetch, judge, timeout, describe, clock=time.monotonic, sleep=time.sleep, first=FIRST_INTERVAL,
             maximum=MAX_INTERVAL):
    """Call ``fetch()`` until ``judge(resource)`` says DONE, raises, or the deadline passes.

    ``judge`` returns DONE or CONTINUE, or returns a string: the reason to fail now.
    ``describe(resource)`` names the last state for the timeout message.
    Returns ``(resource, seconds waited)``.
    """
    if timeout <= 0:
        raise ValueError("timeout must be greater than 0")
    start = clock()
    deadline = start + timeout
    pauses = intervals(first, maximum)
    while True:
        resource = fetch()
        verdict = judge(resource)
        waited = clock() - start
        if verdict == DONE:
            return resource, waited
        if verdict != CONTINUE:
            raise WaitFailed("%s (after %.1fs)" % (verdict, waited), status=describe(resource), waited=waited)
        now = clock()
        if now >= deadline:
            raise WaitTimeout("timed out after %.1fs waiting; last status: %s" % (waited, describe(resource)),
                              status=describe(resource), waited=waited)
        sleep(min(next(pauses), max(0.0, deadline - now)))


def judge_available(name):
    """For a snapshot being created or still ``creating``: available is done, error is fatal."""

    def judge(snapshot):
        if snapshot is None:
            return "snapshot %s disappeared while waiting for it to become available" % name
        status = snapshot.get("status")
        if status == "available":
            return DONE
        if status in ("error", "error_deleting"):
            return "snapshot %s is in status %s" % (name, status)
        return CONTINUE
    return judge


def judge_deleted(name, refused_reason=None):
    """For a snapshot being deleted: gone is done; error_deleting, or a return to available, is fatal.

    Cinder accepts a delete with 202 and sets ``deleting`` before it answers; a later
    ``available`` means the backend refused (SnapshotIsBusy). ``refused_reason(snapshot)``
    says why, e.g. from Cinder's user messages.
    """

    def judge(snapshot):
        if snapshot is None or snapshot.get("status") == "deleted":
            return DONE
        status = snapshot.get("status")
        if status == "error_deleting":
            return "snapshot %s is in status error_deleting: the backend failed to delete it" % name
        if status == "available":
            why = refused_reason(snapshot) if refused_reason else None
            return "the backend refused to delete snapshot %s and it is available again%s" % (
                name, ": %s" % why if why else "")
        return CONTINUE
    return judge


def describe_status(snapshot):
    return "gone" if snapshot is None else snapshot.get("status")
