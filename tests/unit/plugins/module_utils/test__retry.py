# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one retry policy: what is retried, what is looked for first, and the shared backoff schedule."""
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import _retry
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import (
    ApiError, CinderopsError, ConnectionLost)

LOST_AFTER_SENDING = ConnectionLost("could not reach the cloud: connection reset", sent=True)
NEVER_SENT = ConnectionLost("could not reach the cloud: connection refused", sent=False)


@pytest.mark.parametrize("exc, retryable, may_have_acted", [
    (ApiError("x", status_code=409), True, False),
    (ApiError("x", status_code=429), True, False),
    (ApiError("x", status_code=500), True, True),
    (ApiError("x", status_code=503), True, True),
    (ApiError("x", status_code=400), False, False),
    (ApiError("x", status_code=404), False, False),
    (ApiError("x", status_code=413), False, False),
    (CinderopsError("authentication failed"), False, False),
    (LOST_AFTER_SENDING, True, True),
    (NEVER_SENT, True, False),
])
def test_classification(exc, retryable, may_have_acted):
    assert _retry.retryable(exc) is retryable
    assert _retry.may_have_acted(exc) is may_have_acted


class Script(object):
    """A request that fails as scripted, then succeeds."""

    def __init__(self, *failures):
        self.failures = list(failures)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


def test_the_schedules_grow_with_the_time_waited():
    pauses = _retry.RETRY.pauses()
    assert [next(pauses) for _i in range(6)] == [0.5, 0.5, 1.0, 2.0, 4.0, 4.0]
    pauses = _retry.POLL.pauses()
    seq = [next(pauses) for _i in range(40)]
    assert seq[:4] == [0.05, 0.1, 0.1, 0.1] and max(seq) == 2.0
    # Documented worst case: at most this many polls in the first minute, and 30 a minute after that.
    assert _retry.POLL.per_minute() == 43


def test_reads_are_retried_and_back_off():
    sleeps = []
    call = Script(ApiError("busy", status_code=429), LOST_AFTER_SENDING, ApiError("oops", status_code=500))
    assert _retry.call(call, sleep=sleeps.append) == "done"
    assert call.calls == 4 and sleeps == [0.5, 0.5, 1.0]


def test_retries_are_bounded_and_say_so():
    call = Script(*[ApiError("Cinder answered 503", status_code=503, request_id="req-9")] * 10)
    with pytest.raises(ApiError, match=r"Cinder answered 503 \(gave up after 4 attempts\)") as err:
        _retry.call(call, sleep=lambda s: None)
    assert call.calls == 4 and err.value.status_code == 503 and err.value.request_id == "req-9"


def test_a_lost_connection_that_gives_up_stays_a_lost_connection():
    with pytest.raises(ConnectionLost, match=r"gave up after 4 attempts") as err:
        _retry.call(Script(*[LOST_AFTER_SENDING] * 5), sleep=lambda s: None)
    assert err.value.sent


def test_final_errors_are_not_retried():
    call = Script(ApiError("bad", status_code=400))
    with pytest.raises(ApiError):
        _retry.call(call, sleep=lambda s: pytest.fail("slept"))
    assert call.calls == 1


@pytest.mark.parametrize("failure", [LOST_AFTER_SENDING, ApiError("gateway timeout", status_code=504)])
def test_a_write_that_may_have_acted_is_not_sent_again_without_a_look(failure):
    call = Script(failure)
    with pytest.raises(type(failure)):
        _retry.call(call, repeatable=False, sleep=lambda s: pytest.fail("slept"))
    assert call.calls == 1


@pytest.mark.parametrize("failure", [NEVER_SENT, ApiError("busy", status_code=429),
                                     ApiError("conflict", status_code=409)])
def test_a_write_that_surely_did_not_act_is_sent_again(failure):
    call = Script(failure)
    looks = []
    assert _retry.call(call, repeatable=False, look=lambda: looks.append(1), sleep=lambda s: None) == "done"
    assert call.calls == 2 and looks == [], "nothing to look for: it did not act"


def test_a_write_that_may_have_acted_is_looked_for_before_it_is_sent_again():
    call = Script(LOST_AFTER_SENDING)
    assert _retry.call(call, repeatable=False, look=lambda: "found it", sleep=lambda s: None) == "found it"
    assert call.calls == 1


def test_a_write_is_sent_again_when_the_look_finds_nothing():
    call = Script(ApiError("Cinder answered 502", status_code=502), LOST_AFTER_SENDING)
    looks = []

    def look():
        looks.append(1)
    assert _retry.call(call, repeatable=False, look=look, sleep=lambda s: None) == "done"
    assert call.calls == 3 and looks == [1, 1]


def test_module_has_no_ansible_or_sdk_imports():
    import inspect
    source = inspect.getsource(_retry)
    assert "import ansible." not in source and "openstack" not in source and "keystoneauth" not in source
