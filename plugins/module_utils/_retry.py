# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one retry policy of the collection, and the one backoff schedule that retries and polls share.

Which failures are worth another try (``retryable``) and which may have taken effect
(``may_have_acted``) is decided here, for both transports, from the typed errors they raise:

* 409, 429 and 5xx answers, and lost connections, are retryable; everything else is final;
* a read, or a write that is safe to repeat (PUT, a metadata merge), is simply sent again;
* a write that may have acted (5xx, or a connection lost after the request went out) is sent
  again only after ``look()`` found no trace of it (look before you resend);
* a write that surely did not act (409, 429, never sent) is sent again.

The schedule: a pause is ``ratio`` times the time already spent waiting, at least ``floor`` and
at most ``cap``, and the first pause is ``first``. Retries use ratio 1 (0.5, 0.5, 1, 2, 4 s: the
classic doubling); polls use ratio 1/4, so a fast backend is seen within 0.1 s and a slow one is
asked at most every 2 s. Pure: no Ansible or SDK imports; sleep is injectable.
"""
from __future__ import annotations

import time

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import (
    ApiError, CinderopsError, ConnectionLost)

RETRY_STATUSES = (409, 429)
ATTEMPTS = 4


class Backoff(object):
    """Pauses that grow with the time already waited: first, then clamp(ratio * waited, floor, cap)."""

    def __init__(self, first, ratio, floor, cap):
        self.first = first
        self.ratio = ratio
        self.floor = floor
        self.cap = cap

    def pauses(self):
        waited = 0.0
        pause = self.first
        while True:
            yield pause
            waited += pause
            pause = min(self.cap, max(self.floor, self.ratio * waited))

    def per_minute(self):
        """The most pauses (so requests) the schedule makes in its first minute: its worst-case request rate."""
        count, waited = 0, 0.0
        for pause in self.pauses():
            waited += pause
            if waited > 60:
                return count
            count += 1


RETRY = Backoff(first=0.5, ratio=1.0, floor=0.5, cap=4.0)
POLL = Backoff(first=0.05, ratio=0.25, floor=0.1, cap=2.0)


def retryable(exc):
    """409, 429 and 5xx answers, and lost connections, are worth another try."""
    if isinstance(exc, ConnectionLost):
        return True
    if isinstance(exc, ApiError) and exc.status_code is not None:
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return False


def may_have_acted(exc):
    """Whether a failed write may still have taken effect in Cinder."""
    if isinstance(exc, ConnectionLost):
        return exc.sent
    return isinstance(exc, ApiError) and exc.status_code is not None and exc.status_code >= 500


def call(send, repeatable=True, look=None, attempts=ATTEMPTS, schedule=RETRY, sleep=time.sleep):
    """``send()`` until it succeeds, a final error, or ``attempts`` tries.

    ``repeatable``: sending twice does no harm (reads, PUTs). Otherwise a failure that may
    have acted is only followed by another send when ``look`` is given and returns None; what
    it returns otherwise is the outcome. The last error is raised with the number of attempts.
    """
    pauses = schedule.pauses()
    attempt = 1
    while True:
        try:
            return send()
        except CinderopsError as exc:
            if not retryable(exc) or (not repeatable and may_have_acted(exc) and look is None):
                raise
            if attempt >= attempts:
                raise gave_up(exc, attempt) from exc
            last = exc
        sleep(next(pauses))
        attempt += 1
        if look is not None and not repeatable and may_have_acted(last):
            found = look()
            if found is not None:
                return found


def gave_up(exc, attempts):
    """The last error again, saying how often it was tried."""
    message = "%s (gave up after %d attempts)" % (exc, attempts)
    if isinstance(exc, ApiError):
        return ApiError(message, exc.status_code, exc.request_id, exc.cinder_message)
    if isinstance(exc, ConnectionLost):
        return ConnectionLost(message, exc.sent)
    return CinderopsError(message, **exc.extra)
