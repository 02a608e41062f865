# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Durations, timestamps and Go's calendar arithmetic (_timeutil)."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import PolicyError, normalize_policy
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError,
    format_timestamp,
    parse_duration,
    parse_timestamp,
    subtract_duration,
)

UTC = timezone.utc


def utc(*args):
    return datetime(*args, tzinfo=UTC)


# ---------------------------------------------------------------------------
# durations

@pytest.mark.parametrize('text, expected, canonical', [
    ('1y2m3d4h', (1, 2, 3, 4), '1y2m3d4h'),
    ('7d', (0, 0, 7, 0), '7d'),
    ('1m14d', (0, 1, 14, 0), '1m14d'),
    ('1y1d1m', (1, 1, 1, 0), '1y1m1d'),
    ('13d23h', (0, 0, 13, 23), '13d23h'),
    (' 2h ', (0, 0, 0, 2), '2h'),
    ('0h', (0, 0, 0, 0), '0h'),
    ('0y0d', (0, 0, 0, 0), '0h'),
    ('9999y', (9999, 0, 0, 0), '9999y'),
    ('36m', (0, 36, 0, 0), '36m'),
    ('007d', (0, 0, 7, 0), '7d'),
])
def test_parse_duration(text, expected, canonical):
    duration = parse_duration(text)
    assert tuple(duration) == expected + (0,)
    assert (duration.years, duration.months, duration.days, duration.hours) == expected
    assert str(duration) == canonical
    assert parse_duration(str(duration)) == duration


@pytest.mark.parametrize('text, message', [
    ('', r'^duration: invalid duration \'\'; use restic'),
    ('   ', r'invalid duration'),
    ('1w', r'^duration: invalid duration \'1w\''),
    ('1.5d', r'invalid duration \'1.5d\''),
    ('-1d', r'invalid duration \'-1d\''),
    ('d', r'invalid duration \'d\''),
    ('12', r'invalid duration \'12\''),
    ('1D', r'invalid duration \'1D\''),
    ('1 d', r'invalid duration'),
    ('1y1y', r'^duration: invalid duration \'1y1y\'; unit "y" is given twice$'),
    (None, r'^duration must be a duration string like "1y2m3d4h", got null$'),
    (7, r'^duration must be a duration string like "1y2m3d4h", got int$'),
])
def test_parse_duration_errors(text, message):
    with pytest.raises(TimeError, match=message):
        parse_duration(text)


@pytest.mark.parametrize('text, expected, canonical', [
    ('50min', (0, 0, 0, 0, 50), '50min'),
    ('1h30min', (0, 0, 0, 1, 30), '1h30min'),
    ('30min1h', (0, 0, 0, 1, 30), '1h30min'),
    ('1m50min', (0, 1, 0, 0, 50), '1m50min'),  # m is still months
    ('0min', (0, 0, 0, 0, 0), '0h'),
])
def test_parse_duration_minutes_where_allowed(text, expected, canonical):
    duration = parse_duration(text, minutes=True)
    assert tuple(duration) == expected and str(duration) == canonical
    assert parse_duration(str(duration), minutes=True) == duration


@pytest.mark.parametrize('text, message', [
    ('50min', r'minutes \("min"\) are allowed only in min_interval and max_staleness'),
    ('1h1min', r'minutes \("min"\) are allowed only'),
])
def test_restic_rules_refuse_minutes(text, message):
    with pytest.raises(TimeError, match=message):
        parse_duration(text)
    with pytest.raises(PolicyError, match=r'^keep_within: invalid duration'):
        normalize_policy({'keep_within': text})


@pytest.mark.parametrize('text', ['1min1min', '5mins', '5mn', '1h 5min'])
def test_parse_duration_minutes_errors(text):
    with pytest.raises(TimeError, match=r'invalid duration .*min=minutes\)$|given twice'):
        parse_duration(text, minutes=True)


def test_parse_duration_names_the_field():
    with pytest.raises(PolicyError, match=r'^keep_within: invalid duration \'1w\''):
        normalize_policy({'keep_within': '1w'})


# ---------------------------------------------------------------------------
# Go's AddDate / Add arithmetic

BERLIN = 'Europe/Berlin'
NEW_YORK = 'America/New_York'


def zoned(name, *args):
    from zoneinfo import ZoneInfo
    return datetime(*args, tzinfo=ZoneInfo(name))


@pytest.mark.parametrize('start, duration, expected', [
    # AddDate normalization: "February 31" and friends
    (utc(2026, 3, 31, 12), '1m', utc(2026, 3, 3, 12)),
    (utc(2024, 3, 31, 12), '1m', utc(2024, 3, 2, 12)),
    (utc(2024, 2, 29), '1y', utc(2023, 3, 1)),
    (utc(2026, 1, 31), '2m', utc(2025, 12, 1)),
    (utc(2026, 3, 1), '1d', utc(2026, 2, 28)),
    (utc(2024, 3, 1), '1d', utc(2024, 2, 29)),
    (utc(2026, 1, 1), '1h', utc(2025, 12, 31, 23)),
    (utc(2026, 5, 31, 6), '1m1d', utc(2026, 4, 30, 6)),       # Go: Date(2026, April, 30), all parts at once
    (utc(2016, 1, 18, 12, 2, 3), '1y2m3d3h', utc(2014, 11, 15, 9, 2, 3)),  # restic golden case 29's threshold
    (utc(2016, 1, 18, 12, 2, 3), '2m2h', utc(2015, 11, 18, 10, 2, 3)),
    (utc(2026, 11, 26, 18, 31, 16, 500), '0h', utc(2026, 11, 26, 18, 31, 16, 500)),
    # huge durations mean "everything"
    (utc(2026, 1, 1), '9999y', datetime.min.replace(tzinfo=UTC)),
    (utc(2026, 1, 1), '2025y11m31d23h', datetime.min.replace(tzinfo=UTC)),
    (utc(2026, 1, 1), '99999999999d', datetime.min.replace(tzinfo=UTC)),
    (utc(2026, 1, 1), '99999999999999h', datetime.min.replace(tzinfo=UTC)),
    (utc(2026, 1, 1), '2025y', utc(1, 1, 1)),
    (utc(1, 1, 1, 1), '1h', utc(1, 1, 1)),
    (utc(1, 1, 1), '1h', datetime.min.replace(tzinfo=UTC)),
])
def test_subtract_duration_utc(start, duration, expected):
    assert subtract_duration(start, parse_duration(duration)) == expected
    assert subtract_duration(start, duration) == expected


@pytest.mark.parametrize('zone, start, duration, expected_utc', [
    # calendar days across DST: 23 h and 25 h days
    (BERLIN, (2026, 3, 29, 12), '1d', utc(2026, 3, 28, 11)),
    (BERLIN, (2026, 10, 25, 13), '1d', utc(2026, 10, 24, 11)),
    # hours are absolute time
    (BERLIN, (2026, 3, 29, 3, 30), '1h', utc(2026, 3, 29, 0, 30)),
    (BERLIN, (2026, 3, 29, 12), '24h', utc(2026, 3, 28, 10)),
    # wall clock in the spring gap: Go picks the offset before the gap when it is east of UTC ...
    (BERLIN, (2026, 3, 30, 2, 30), '1d', utc(2026, 3, 29, 1, 30)),
    # ... and the offset after the gap west of UTC (Python's fold=0 would give 07:30Z here)
    (NEW_YORK, (2026, 3, 9, 2, 30), '1d', utc(2026, 3, 8, 6, 30)),
    # wall clock in the autumn overlap: Go's lookup lands on the later (CET) instant in Berlin ...
    (BERLIN, (2026, 10, 26, 2, 30), '1d', utc(2026, 10, 25, 1, 30)),
    # ... and on the earlier (EDT) instant in New York
    (NEW_YORK, (2026, 11, 2, 1, 30), '1d', utc(2026, 11, 1, 5, 30)),
    # London: offset 0 before the gap, so Go's first lookup result is used as is
    ('Europe/London', (2026, 3, 30, 1, 30), '1d', utc(2026, 3, 29, 1, 30)),
    ('Europe/London', (2026, 10, 26, 1, 30), '1d', utc(2026, 10, 25, 1, 30)),
    # month arithmetic on the local calendar
    (BERLIN, (2026, 3, 31, 0, 30), '1m', utc(2026, 3, 2, 23, 30)),
    ('Asia/Kolkata', (2026, 1, 1, 3), '1y', utc(2024, 12, 31, 21, 30)),
])
def test_subtract_duration_zones(zone, start, duration, expected_utc):
    result = subtract_duration(zoned(zone, *start), duration)
    assert result == expected_utc
    assert result.utcoffset() is not None


def test_subtract_duration_naive_is_utc():
    assert subtract_duration(datetime(2026, 3, 31), '1m') == utc(2026, 3, 3)


def test_subtract_duration_bad_input():
    with pytest.raises(TimeError, match='needs a datetime'):
        subtract_duration('2026-01-01', '1d')
    with pytest.raises(TimeError, match='invalid duration'):
        subtract_duration(utc(2026, 1, 1), '1w')


# ---------------------------------------------------------------------------
# timestamps

@pytest.mark.parametrize('value, expected', [
    ('2026-11-26T18:31:16.000000', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T18:31:16.123456', utc(2026, 11, 26, 18, 31, 16, 123456)),
    ('2026-11-26T18:31:16.1234567', utc(2026, 11, 26, 18, 31, 16, 123456)),
    ('2014-08-13T10:20:30.1Z', utc(2014, 8, 13, 10, 20, 30, 100000)),
    ('2026-11-26T18:31:16Z', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T18:31:16z', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26 18:31:16', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T18:31', utc(2026, 11, 26, 18, 31)),
    ('2026-11-26T19:31:16+01:00', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T13:01:16-0530', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T20:31:16+02', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26T18:31:16 UTC', utc(2026, 11, 26, 18, 31, 16)),
    ('2026-11-26', utc(2026, 11, 26)),
    ('  2026-11-26T18:31:16Z  ', utc(2026, 11, 26, 18, 31, 16)),
    (datetime(2026, 11, 26, 18, 31, 16), utc(2026, 11, 26, 18, 31, 16)),
    (datetime(2026, 11, 26, 19, 31, 16, tzinfo=timezone(timedelta(hours=1))), utc(2026, 11, 26, 18, 31, 16)),
    (date(2026, 11, 26), utc(2026, 11, 26)),
])
def test_parse_timestamp(value, expected):
    result = parse_timestamp(value)
    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize('value, message', [
    ('garbage', r"^timestamp: cannot parse 'garbage' as an ISO-8601 timestamp$"),
    ('', r"^timestamp: cannot parse '' as an ISO-8601 timestamp$"),
    ('2026-13-01T00:00:00', r'cannot parse'),
    ('2026-02-30', r'cannot parse'),
    ('2026-11-26T25:00:00', r'cannot parse'),
    ('2026-11-26T18:31:16+25:00', r'cannot parse'),
    ('2026-11-26+01:00', r'cannot parse'),
    ('26.11.2026', r'cannot parse'),
    (1700000000, r'^timestamp must be an ISO-8601 string or a datetime, got int$'),
    (None, r'^timestamp must be an ISO-8601 string or a datetime, got null$'),
    (True, r'got bool$'),
    (['2026-01-01'], r'got list$'),
])
def test_parse_timestamp_errors(value, message):
    with pytest.raises(TimeError, match=message):
        parse_timestamp(value)


def test_format_timestamp():
    assert format_timestamp(utc(2026, 11, 26, 18, 31, 16)) == '2026-11-26T18:31:16Z'
    assert format_timestamp(utc(2014, 8, 13, 10, 20, 30, 100000)) == '2014-08-13T10:20:30.100000Z'
    assert format_timestamp(zoned(BERLIN, 2026, 7, 1, 12)) == '2026-07-01T10:00:00Z'
