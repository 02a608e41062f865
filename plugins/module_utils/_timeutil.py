# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Durations, timestamps and calendar arithmetic, as restic (Go) does them. Pure.

* A duration is restic's ``1y2m3d4h`` (``m`` = months), plus ``min`` for minutes where a
  caller allows it (``min_interval``, ``max_staleness``).
* ``subtract_duration`` is Go's ``t.AddDate(-y, -m, -d).Add(-h)`` on the wall clock of the
  datetime's zone, with Go's overflow normalization (March 31 minus one month is "February 31",
  that is March 2 or 3) and Go's choice of offset inside a DST gap or overlap.
* Timestamps are read as Cinder writes them (naive means UTC) and written as ISO 8601 UTC
  ending in ``Z``.
"""
from __future__ import annotations

import re
from collections import namedtuple
from collections.abc import Mapping
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

UTC = timezone.utc
MINUTC = datetime.min.replace(tzinfo=UTC)
_ZERO = timedelta(0)


class TimeError(ValueError):
    """A duration, timestamp or time zone that cannot be used. The message is one line and names the field."""


class Duration(namedtuple('Duration', ['years', 'months', 'days', 'hours', 'minutes'], defaults=(0,))):
    """A restic duration: years, months, days and hours (all ints >= 0).

    ``minutes`` is not restic's: only ``min_interval`` and ``max_staleness`` take it
    (``50min``), because a schedule that fires hourly needs an interval under an hour.
    """

    __slots__ = ()

    def is_zero(self):
        return not (self.years or self.months or self.days or self.hours or self.minutes)

    def __str__(self):
        text = ''.join(
            '%d%s' % (value, unit)
            for value, unit in ((self.years, 'y'), (self.months, 'm'), (self.days, 'd'), (self.hours, 'h'),
                                (self.minutes, 'min'))
            if value)
        return text or '0h'


_DURATION_RE = re.compile(r'(?:[0-9]+(?:min|[ymdh]))+')
_DURATION_PART_RE = re.compile(r'([0-9]+)(min|[ymdh])')
_UNIT_NAMES = {'y': 'years', 'm': 'months', 'd': 'days', 'h': 'hours', 'min': 'minutes'}


def shorten(value, limit=60):
    text = repr(value)
    if len(text) > limit:
        text = text[:limit - 3] + '...'
    return text


def type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'bool'
    if isinstance(value, int):
        return 'int'
    if isinstance(value, float):
        return 'float'
    if isinstance(value, str):
        return 'str'
    if isinstance(value, Mapping):
        return 'dict'
    if isinstance(value, (list, tuple)):
        return 'list'
    return type(value).__name__


def parse_duration(text, what='duration', minutes=False):
    """Parse restic's duration grammar, e.g. ``1y2m3d4h`` (``m`` = months).

    Every part is optional but at least one is needed, the parts may come in any
    order (restic accepts ``1y1d1m``), each unit at most once, numbers are
    non-negative integers.  With ``minutes``, ``min`` is a unit too (``1h30min``).
    Returns a :class:`Duration`.
    """
    if isinstance(text, Duration):
        return text
    if not isinstance(text, str):
        raise TimeError('%s must be a duration string like "1y2m3d4h", got %s' % (what, type_name(text)))
    stripped = text.strip()
    units = '(y=years, m=months, d=days, h=hours%s)' % (', min=minutes' if minutes else '')
    if not stripped or not _DURATION_RE.fullmatch(stripped):
        raise TimeError(
            '%s: invalid duration %s; use restic\'s form like "7d", "1m14d" or "1y2m3d4h" %s'
            % (what, shorten(text), units))
    values = {}
    for number, unit in _DURATION_PART_RE.findall(stripped):
        if unit in values:
            raise TimeError('%s: invalid duration %s; unit "%s" is given twice' % (what, shorten(text), unit))
        values[unit] = int(number)
    if 'min' in values and not minutes:
        raise TimeError('%s: invalid duration %s; minutes ("min") are allowed only in min_interval and '
                        'max_staleness, restic\'s rules count in hours at least %s' % (what, shorten(text), units))
    return Duration(values.get('y', 0), values.get('m', 0), values.get('d', 0), values.get('h', 0),
                    values.get('min', 0))


def resolve_wall_clock(naive, tz):
    """Turn a wall-clock time in ``tz`` into an aware UTC datetime like Go's time.Date.

    Go looks up the offset in force at the wall-clock time read as UTC, and
    corrects it once if the result lies outside that offset's period.  That is
    ``unix - offset_at(unix - offset_at(unix))``, which picks the same instant
    as Go for times inside a DST gap or overlap.
    """
    as_utc = naive.replace(tzinfo=UTC)
    if tz is None or tz is UTC:
        return as_utc
    first = as_utc.astimezone(tz).utcoffset() or _ZERO
    if not first:
        return as_utc
    second = (as_utc - first).astimezone(tz).utcoffset() or _ZERO
    return as_utc - second


def subtract_or_none(ts, duration):
    """``ts.AddDate(-y, -m, -d).Add(-h)`` on ts's wall clock, as aware UTC; None means "before year 1"."""
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    tz = ts.tzinfo
    wall = ts.replace(tzinfo=None)
    try:
        month0 = wall.month - 1 - duration.months
        year = wall.year - duration.years + month0 // 12
        month = month0 % 12 + 1
        if year < 1:
            return None
        if year > 9999:  # pragma: no cover - durations are >= 0
            raise TimeError('duration subtraction went past year 9999')
        day = date(year, month, 1) + timedelta(days=wall.day - 1 - duration.days)
        naive = datetime.combine(day, wall.time())
        instant = resolve_wall_clock(naive, tz)
        return instant - timedelta(hours=duration.hours, minutes=duration.minutes)
    except (OverflowError, ValueError):
        return None


def subtract_duration(ts, d):
    """Return ``ts - d`` with Go's calendar arithmetic (see module docstring).

    ``ts`` should be an aware datetime (a naive one is taken as UTC); the
    calendar part is done on its own wall clock (so pass it in the policy's
    time zone).  ``d`` is a :class:`Duration` or a duration string.  The result
    is an aware datetime in UTC (UTC avoids Python's rule that a time in a DST
    overlap never compares equal to another zone's); a result before year 1 is
    clamped to ``datetime.min`` in UTC, meaning "everything".
    """
    if not isinstance(ts, datetime):
        raise TimeError('subtract_duration needs a datetime, got %s' % type_name(ts))
    result = subtract_or_none(ts, parse_duration(d))
    return MINUTC if result is None else result


_TIMESTAMP_RE = re.compile(
    r'(\d{4})-(\d{2})-(\d{2})'
    r'(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?'
    r'\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?')


def parse_iso(text):
    """Parse an ISO-8601 string. Returns (aware UTC datetime or naive date, had_time)."""
    match = _TIMESTAMP_RE.fullmatch(text.strip())
    if not match:
        raise ValueError('not ISO-8601')
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    if hour is None:
        if offset is not None:
            raise ValueError('offset without time')
        return date(int(year), int(month), int(day)), False
    micro = 0
    if fraction:
        micro = int((fraction + '000000')[:6])
    tzinfo = UTC
    if offset and offset not in ('Z', 'z', 'UTC'):
        sign = -1 if offset[0] == '-' else 1
        digits = offset[1:].replace(':', '')
        hours = int(digits[:2])
        minutes = int(digits[2:4] or 0)
        if hours > 23 or minutes > 59:
            raise ValueError('bad offset')
        tzinfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
    value = datetime(int(year), int(month), int(day), int(hour), int(minute), int(second or 0), micro, tzinfo=tzinfo)
    return value.astimezone(UTC), True


def parse_timestamp(value, what='timestamp'):
    """Return an aware UTC datetime for ``value``.

    Accepts an aware or naive ``datetime`` (naive means UTC) or an ISO-8601
    string as Cinder returns it (``2026-11-26T18:31:16.000000``, naive = UTC),
    optionally with ``Z`` or a ``+hh:mm`` offset.  A date alone means midnight
    UTC.  Anything else raises :class:`TimeError`.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            return value.replace(tzinfo=UTC)
        try:
            return value.astimezone(UTC)
        except (OverflowError, ValueError):
            raise TimeError('%s: %s is out of range' % (what, shorten(str(value))))
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, str):
        raise TimeError('%s must be an ISO-8601 string or a datetime, got %s' % (what, type_name(value)))
    try:
        parsed, had_time = parse_iso(value)
    except (ValueError, OverflowError):
        raise TimeError('%s: cannot parse %s as an ISO-8601 timestamp' % (what, shorten(value)))
    if not had_time:
        return datetime(parsed.year, parsed.month, parsed.day, tzinfo=UTC)
    return parsed


def format_timestamp(value):
    """ISO-8601 UTC text ending in ``Z`` (microseconds only when non-zero)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat() + 'Z'


def load_timezone(name):
    if not isinstance(name, str) or not name.strip():
        raise TimeError('timezone must be an IANA time zone name like "Europe/Berlin", got %s' % shorten(name))
    name = name.strip()
    if name == 'UTC':
        return UTC
    try:
        return ZoneInfo(name)
    except Exception:  # ZoneInfoNotFoundError, ValueError for malformed keys, OSError ...
        raise TimeError('timezone: unknown time zone %s (use an IANA name like "Europe/Berlin")' % shorten(name))
