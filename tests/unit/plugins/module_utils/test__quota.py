# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Quota arithmetic: room per quota, handed out in order, with the numbers when it runs out."""
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._quota import (
    Ledger, over_quota_detail, room)

QUOTA = {"snapshots": {"limit": 10, "in_use": 7, "reserved": 1}, "gigabytes": {"limit": -1, "in_use": 50},
         "snapshots_ssd": {"limit": 3, "in_use": 3, "reserved": 0}, "gigabytes_ssd": {"limit": 100, "in_use": 20}}


def test_room_counts_reserved_and_unlimited():
    assert room(QUOTA, "snapshots") == 2
    assert room(QUOTA, "gigabytes") is None and room(QUOTA, "no_such_quota") is None
    assert room({"snapshots": {"limit": 5, "in_use": 9}}, "snapshots") == 0


def test_room_is_handed_out_in_order_and_refused_with_the_numbers():
    ledger = Ledger(QUOTA, "project demo")
    for _n in range(5):
        ledger.note_need("snapshots", 10)
    assert ledger.take("snapshots", 10) is None
    assert ledger.take("snapshots", 10) is None
    assert ledger.take("snapshots", 10) == ("quota snapshots: project demo has 2 of 10 snapshots left (8 in use or "
                                            "reserved); this run needs 5")


def test_per_volume_type_quotas_count_too():
    ledger = Ledger(QUOTA, "project demo")
    ledger.note_need("snapshots", 10, "ssd")
    assert ledger.take("snapshots", 10, "ssd").startswith("quota snapshots_ssd: project demo has 0 of 3")
    assert ledger.take("snapshots", 10, "hdd") is None, "another type is not limited"


def test_gigabytes_run_out_before_the_count():
    ledger = Ledger({"snapshots": {"limit": -1}, "gigabytes": {"limit": 100, "in_use": 85}}, "project demo")
    ledger.note_need("snapshots", 10)
    ledger.note_need("snapshots", 10)
    assert ledger.take("snapshots", 10) is None
    assert "quota gigabytes: project demo has 15 of 100 GiB left" in ledger.take("snapshots", 10)


def test_freed_room_can_be_taken_again():
    ledger = Ledger({"snapshots": {"limit": 1, "in_use": 1}, "gigabytes": {"limit": -1}})
    assert ledger.take("snapshots", 1) is not None
    ledger.free("snapshots", 1)
    assert ledger.take("snapshots", 1) is None


def test_a_413_explained_with_the_numbers():
    assert over_quota_detail(QUOTA, "snapshots", "project demo") == \
        "project demo snapshots: limit 10, in use 7, reserved 1"
    assert over_quota_detail(QUOTA, "volumes") is None


@pytest.mark.parametrize("message, quota", [
    # Cinder's own texts (cinder/exception.py: SnapshotLimitExceeded, VolumeSizeExceedsAvailableQuota,
    # VolumeLimitExceeded, VolumeSizeExceedsLimit).
    ("Maximum number of snapshots allowed (10) exceeded", "snapshots"),
    ("Requested volume or snapshot exceeds allowed gigabytes quota. Requested 1G, quota is 10G and 10G has been "
     "consumed.", "gigabytes"),
    ("Requested volume or snapshot exceeds allowed gigabytes_lvm quota. Requested 1G, quota is 10G and 10G has been "
     "consumed.", "gigabytes"),
    ("Maximum number of volumes allowed (10) exceeded for quota 'volumes'.", "volumes"),
    ("Requested volume size 5G is larger than maximum allowed limit 2G.", "gigabytes"),
    ("Something else", None),
])
def test_the_quota_a_413_is_about(message, quota):
    """The gigabytes text names snapshots too; it was reported as the snapshots quota."""
    from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import quota_name
    assert quota_name(message) == quota


class _Answer(object):
    """An HTTP answer as the transports hand it to explain_http_error."""

    def __init__(self, status_code, body):
        self.status_code, self._body, self.headers, self.text = status_code, body, {}, ""

    def json(self):
        return self._body


@pytest.mark.parametrize("message, expected", [
    ("Maximum number of snapshots allowed (10) exceeded",
     "(snapshots quota exceeded; raise the project's quota or remove snapshots)"),
    # Cinder 2026.2's QuotaUsageOverflow (cinder/db/api.py quota_reserve): raising the quota would not help.
    ("Quota usage would overflow for resources: ['gigabytes']. The requested operation would exceed the maximum "
     "allowed value (2147483647) for quota tracking.",
     "(Cinder's usage counter for the gigabytes quota would pass its largest value; raising the quota does not "
     "help: ask the cloud's operators)"),
])
def test_a_413_says_what_would_help(message, expected):
    from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import explain_http_error
    err = explain_http_error("could not create the snapshot", _Answer(413, {"overLimit": {"code": 413,
                                                                                          "message": message}}))
    assert str(err) == "could not create the snapshot: Cinder answered 413 Request Entity Too Large: %s %s" % (
        message, expected)
