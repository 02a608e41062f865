# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

# The documentation lives in __doc__ because the license header and the __future__ import come first.
__doc__ = """Pure retention engine: Cinder snapshots + policy + now -> plan with reasons.

The rule semantics are those of restic's ``forget`` policy as restic implements
it (``ApplyPolicy`` in restic's ``snapshot_policy.go``), applied per volume:

* Snapshots are grouped per ``volume_id`` and sorted newest first with a stable
  sort (ties keep their input order).
* Count rules ``keep_last``, ``keep_hourly``, ``keep_daily``, ``keep_weekly``,
  ``keep_monthly`` and ``keep_yearly`` (``-1`` = unlimited, ``0``/``None`` = off).
  Walking newest to oldest, a snapshot whose period (its position for ``last``;
  ``(y, m, d, h)``, ``(y, m, d)``, ISO ``(year, week)``, ``(y, m)``, ``y`` in the
  policy time zone) differs from the last period seen by that rule is kept while
  the rule's counter is ``> 0`` or ``-1``; the counter then drops by one.  The
  oldest snapshot of the walk is also kept by every rule that still has counts
  left, even when its period equals the last one seen ("oldest <rule>").
* ``keep_within: D`` keeps every snapshot strictly newer than ``latest - D``;
  ``latest`` is the newest snapshot of the walk that is strictly older than
  ``now`` (snapshots in the future are ignored for it).  When every snapshot is
  in the future, restic's ``latest`` is Go's zero time, so every snapshot is
  "within"; this engine does the same.
* ``keep_within_<tier>: D`` applies the tier's period rule without a counter,
  only to snapshots strictly newer than ``latest - D`` (with the same "oldest"
  rule).
* ``latest - D`` is calendar arithmetic like Go's
  ``t.AddDate(-y, -m, -d).Add(-h * time.Hour)`` done on the wall clock of the
  policy time zone, including Go's overflow normalization (March 31 minus one
  month is "February 31", i.e. March 2 or 3) and Go's choice of offset for
  wall-clock times that fall into a DST gap or overlap.  A duration reaching
  before year 1 means "everything".
* Periods are wall-clock values in the policy time zone, as restic computes
  them in the snapshot's zone: in a DST overlap the two 02:xx hours are one
  hourly period, a 23- or 25-hour day is one daily period.

On top of restic's rules this engine adds safety rules:

* only snapshots whose metadata ``cinderops:policy`` equals the policy name are
  candidates; every other snapshot is "ignored" (never pruned, never counted);
* held snapshots (``cinderops:hold`` present, any value) are always kept and do
  not take part in the rule walk (like restic's ``--keep-tag``, but they do not
  consume counts either).  ``cinderops:hold_until`` (ISO date or datetime)
  ends the hold once it is in the past; a date without a time holds through the
  whole day in the policy time zone; an unparsable value keeps the hold (fail
  safe);
* only ``available`` snapshots go through the rules; any other status except
  ``error`` (``creating``, ``deleting``, ``error_deleting``, ``restoring``,
  ``backing-up``, ...) is kept untouched; ``error`` snapshots are reported in
  ``errors``, or pruned when ``cleanup_errors`` is true (never when held);
* ``min_available`` (default 1): if fewer than N available owned snapshots are
  kept (held ones count), the newest pruned available ones are kept back.

Reason strings (stable, short):

====================================  =============================================
``last``                              kept by ``keep_last``
``hourly`` ... ``yearly``             kept by ``keep_hourly`` ... ``keep_yearly``
``oldest <tier>``                     restic's "oldest" rule for a count rule,
                                      e.g. ``oldest yearly``
``within <D>``                        kept by ``keep_within``, e.g. ``within 7d``
``within_<tier> <D>``                 kept by ``keep_within_<tier>``, e.g.
                                      ``within_daily 1m``
``oldest within_<tier> <D>``          restic's "oldest" rule for a within rule
``hold``                              held (``cinderops:hold``, no ``hold_until``)
``hold until <value>``                held, ``hold_until`` not reached yet
``hold until <value> (unparsable)``   held, ``hold_until`` could not be parsed
``hold expired <value>``              informational, added after the rule
                                      reasons: the hold ended, the rules decided
``min_available``                     kept back to honour ``min_available``
``status <status>``                   non-available status kept untouched
                                      (``keep``), or ``status error`` (``errors``)
``not kept by any rule``              pruned
``error cleanup``                     pruned ``error`` snapshot
                                      (``cleanup_errors: true``)
``not owned by policy <name>``        ignored (ownership marker missing/other)
====================================  =============================================

Everything returned by :func:`plan_retention` and :func:`plan_volume` is plain
JSON data (dict, list, str, int, bool, None); timestamps are ISO-8601 UTC
strings ending in ``Z``.
"""

import functools
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta

from ansible_collections.cinderops.snapshots.plugins.module_utils._status import AVAILABLE, CREATING, ERROR
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    TimeError, format_timestamp, load_timezone, parse_duration, parse_iso, parse_timestamp,
    resolve_wall_clock, shorten, subtract_or_none, type_name)


__all__ = [
    'OWNER_KEY', 'HOLD_KEY', 'HOLD_UNTIL_KEY', 'RESERVED_PREFIX',
    'COUNT_RULES', 'WITHIN_RULES', 'POLICY_KEYS', 'POLICY_OPTIONS', 'policy_options',
    'PolicyError', 'Policy', 'normalize_policy', 'apply_policy', 'plan_volume', 'plan_retention',
]

OWNER_KEY = 'cinderops:policy'
HOLD_KEY = 'cinderops:hold'
HOLD_UNTIL_KEY = 'cinderops:hold_until'
RESERVED_PREFIX = 'cinderops:'

TIERS = ('hourly', 'daily', 'weekly', 'monthly', 'yearly')
COUNT_RULES = ('keep_last',) + tuple('keep_' + t for t in TIERS)
WITHIN_RULES = ('keep_within',) + tuple('keep_within_' + t for t in TIERS)

# The one definition of a policy's keys, in Ansible's argument-spec format: snapshot_rotation's argument spec
# and the retention_plan filter's validation are built from it, and a unit test holds the policy doc fragment
# (plugins/doc_fragments/retention_policy.py) to it. Semantics (ranges, durations, zones) are normalize_policy's.
POLICY_OPTIONS = dict(
    [(key, dict(type='int')) for key in COUNT_RULES]
    + [(key, dict(type='str')) for key in WITHIN_RULES]
    + [('min_available', dict(type='int', default=1)),
       ('min_interval', dict(type='str', default='1h')),
       ('timezone', dict(type='str', default='UTC')),
       ('cleanup_errors', dict(type='bool', default=False)),
       ('name', dict(type='str'))])
POLICY_KEYS = tuple(POLICY_OPTIONS)

DEFAULT_MIN_AVAILABLE = POLICY_OPTIONS['min_available']['default']
DEFAULT_MIN_INTERVAL = POLICY_OPTIONS['min_interval']['default']
DEFAULT_TIMEZONE = POLICY_OPTIONS['timezone']['default']


def policy_options():
    """A fresh copy of POLICY_OPTIONS for an argument spec (Ansible writes into the specs it is given)."""
    return dict((key, dict(spec)) for key, spec in POLICY_OPTIONS.items())


# statuses counted as "a snapshot exists or is on its way" for the due check
_DUE_STATUSES = (AVAILABLE, CREATING)


class PolicyError(ValueError):
    """Bad policy or bad input. The message is one line and names the field."""


def _policy_errors(func):
    """The engine's entry points report a bad duration or timestamp as a PolicyError too."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except TimeError as exc:
            raise PolicyError(str(exc)) from None
    return wrapper


# ---------------------------------------------------------------------------
# policy

_TRUE_STRINGS = ('true', 'yes', 'on', '1')
_FALSE_STRINGS = ('false', 'no', 'off', '0')


class Policy(object):
    """A validated, normalized policy (see :func:`normalize_policy`)."""

    __slots__ = ('counts', 'withins', 'min_available', 'min_interval', 'timezone', 'tz', 'cleanup_errors', 'name')

    def __init__(self, counts, withins, min_available, min_interval, timezone_name, tz, cleanup_errors, name):
        self.counts = counts            # dict rule -> int (0 = off, -1 = unlimited)
        self.withins = withins          # dict rule -> Duration or None
        self.min_available = min_available
        self.min_interval = min_interval
        self.timezone = timezone_name
        self.tz = tz
        self.cleanup_errors = cleanup_errors
        self.name = name

    def has_rule(self):
        return any(self.counts.values()) or any(d is not None for d in self.withins.values())

    def as_dict(self):
        result = {}
        for key in COUNT_RULES:
            result[key] = self.counts[key]
        for key in WITHIN_RULES:
            value = self.withins[key]
            result[key] = None if value is None else str(value)
        result['min_available'] = self.min_available
        result['min_interval'] = str(self.min_interval)
        result['timezone'] = self.timezone
        result['cleanup_errors'] = self.cleanup_errors
        result['name'] = self.name
        return result

    def __eq__(self, other):
        return isinstance(other, Policy) and self.as_dict() == other.as_dict()

    def __ne__(self, other):
        return not self.__eq__(other)

    __hash__ = None

    def __repr__(self):
        return 'Policy(%r)' % (self.as_dict(),)


def _normalize_count(key, value):
    if value is None:
        return 0
    if isinstance(value, bool):
        raise PolicyError('%s must be an integer (-1 = unlimited, 0 = off), got bool' % key)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == 'unlimited':
            return -1
        if not re.fullmatch(r'[+-]?[0-9]+', text):
            raise PolicyError('%s must be an integer (-1 = unlimited, 0 = off), got %s' % (key, shorten(value)))
        value = int(text)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    elif not isinstance(value, int):
        raise PolicyError('%s must be an integer (-1 = unlimited, 0 = off), got %s' % (key, type_name(value)))
    if value < -1:
        raise PolicyError('%s must be -1 (unlimited), 0 (off) or a positive integer, got %d' % (key, value))
    return value


def _normalize_within(key, value):
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    duration = parse_duration(value, what=key)
    return None if duration.is_zero() else duration


def _normalize_bool(key, value):
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE_STRINGS + _FALSE_STRINGS:
        return value.strip().lower() in _TRUE_STRINGS
    raise PolicyError('%s must be a boolean, got %s' % (key, shorten(value)))


@_policy_errors
def normalize_policy(policy):
    """Validate a policy dict and return a :class:`Policy`.

    Keys: ``keep_last``, ``keep_hourly``, ``keep_daily``, ``keep_weekly``,
    ``keep_monthly``, ``keep_yearly`` (int, ``-1`` = unlimited, ``0``/``None`` =
    off; ``"unlimited"`` is accepted too), ``keep_within`` and
    ``keep_within_<tier>`` (duration strings; empty/zero = off),
    ``min_available`` (int >= 0, default 1), ``min_interval`` (duration, minutes
    allowed as ``min``, default ``1h``; ``0h`` = always due), ``timezone`` (IANA name, default ``UTC``),
    ``cleanup_errors`` (bool, default false), ``name`` (policy name).
    """
    if isinstance(policy, Policy):
        return policy
    if not isinstance(policy, Mapping):
        raise PolicyError('policy must be a dict, got %s' % type_name(policy))
    unknown = sorted(str(key) for key in policy if key not in POLICY_KEYS)
    if unknown:
        raise PolicyError('policy has unknown keys: %s (allowed: %s)' % (', '.join(unknown), ', '.join(POLICY_KEYS)))

    counts = dict((key, _normalize_count(key, policy.get(key))) for key in COUNT_RULES)
    withins = dict((key, _normalize_within(key, policy.get(key))) for key in WITHIN_RULES)

    min_available = policy.get('min_available')
    if min_available is None:
        min_available = DEFAULT_MIN_AVAILABLE
    elif isinstance(min_available, str) and re.fullmatch(r'\s*[0-9]+\s*', min_available):
        min_available = int(min_available)
    if isinstance(min_available, bool) or not isinstance(min_available, int) or min_available < 0:
        raise PolicyError('min_available must be an integer >= 0, got %s' % shorten(min_available))

    min_interval = policy.get('min_interval')
    if min_interval is None or (isinstance(min_interval, str) and not min_interval.strip()):
        min_interval = DEFAULT_MIN_INTERVAL
    min_interval = parse_duration(min_interval, what='min_interval', minutes=True)

    timezone_name = policy.get('timezone')
    if timezone_name is None:
        timezone_name = DEFAULT_TIMEZONE
    tz = load_timezone(timezone_name)
    timezone_name = timezone_name.strip()

    cleanup_errors = policy.get('cleanup_errors')
    cleanup_errors = False if cleanup_errors is None else _normalize_bool('cleanup_errors', cleanup_errors)

    name = policy.get('name')
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise PolicyError('name must be a non-empty string, got %s' % shorten(name))
        name = name.strip()

    result = Policy(counts, withins, min_available, min_interval, timezone_name, tz, cleanup_errors, name)
    if not result.has_rule():
        raise PolicyError(
            'policy has no keep_* rule (keep_last, keep_hourly, ..., keep_within, keep_within_daily, ...); '
            'an empty policy is refused, as restic refuses it')
    return result


# ---------------------------------------------------------------------------
# the restic rule walk

def _key_last(local, nr):
    return nr


def _key_hourly(local, nr):
    return (local.year, local.month, local.day, local.hour)


def _key_daily(local, nr):
    return (local.year, local.month, local.day)


def _key_weekly(local, nr):
    iso = local.isocalendar()
    return (iso[0], iso[1])


def _key_monthly(local, nr):
    return (local.year, local.month)


def _key_yearly(local, nr):
    return local.year


_TIER_KEYS = {
    'last': _key_last, 'hourly': _key_hourly, 'daily': _key_daily,
    'weekly': _key_weekly, 'monthly': _key_monthly, 'yearly': _key_yearly,
}

# a match is (rule, oldest, duration): rule is 'last'/'hourly'/... for count rules,
# 'within' for keep_within and 'within_<tier>' for keep_within_<tier>


def _reason_short(match):
    rule, oldest, duration = match
    text = rule if duration is None else '%s %s' % (rule, duration)
    return 'oldest ' + text if oldest else text


def _reason_restic(match):
    """The match text restic prints (``KeepReason.Matches``)."""
    rule, oldest, duration = match
    if rule == 'within':
        return 'within %s' % (duration,)
    if duration is None:
        text = '%s snapshot' % rule
    else:
        text = '%s within %s' % (rule[len('within_'):], duration)
    return 'oldest ' + text if oldest else text


def _local(ts_utc, tz):
    try:
        return ts_utc.astimezone(tz)
    except (OverflowError, ValueError):  # pragma: no cover - only near year 1 / 9999
        return ts_utc


def _walk(times, policy, now):
    """restic's ApplyPolicy over ``times`` (aware UTC, already sorted newest first).

    Returns one list of matches per snapshot (empty = not kept).
    """
    tz = policy.tz
    count_rules = []
    for key in COUNT_RULES:
        count = policy.counts[key]
        if count:
            tier = key[len('keep_'):]
            count_rules.append([count, _TIER_KEYS[tier], _UNSEEN, tier])
    within_rules = []
    within_all = policy.withins['keep_within']
    latest = None
    for ts in times:
        if ts < now:
            latest = ts
            break
    # threshold: None = "minus infinity" (latest is Go's zero time, or the duration reaches before year 1)
    within_all_threshold = None
    if within_all is not None and latest is not None:
        within_all_threshold = subtract_or_none(_local(latest, tz), within_all)
    for tier in TIERS:
        duration = policy.withins['keep_within_' + tier]
        if duration is not None:
            threshold = None if latest is None else subtract_or_none(_local(latest, tz), duration)
            within_rules.append([duration, threshold, _TIER_KEYS[tier], _UNSEEN, 'within_' + tier])

    last_nr = len(times) - 1
    results = []
    for nr, ts in enumerate(times):
        local = _local(ts, tz)
        matches = []
        if within_all is not None and (within_all_threshold is None or ts > within_all_threshold):
            matches.append(('within', False, within_all))
        for rule in count_rules:
            if rule[0] > 0 or rule[0] == -1:
                value = rule[1](local, nr)
                if value != rule[2] or nr == last_nr:
                    matches.append((rule[3], value == rule[2], None))
                    rule[2] = value
                    if rule[0] > 0:
                        rule[0] -= 1
        for rule in within_rules:
            if rule[1] is None or ts > rule[1]:
                value = rule[2](local, nr)
                if value != rule[3] or nr == last_nr:
                    matches.append((rule[4], value == rule[3], rule[0]))
                    rule[3] = value
        results.append(matches)
    return results


class _Unseen(object):
    __slots__ = ()

    def __repr__(self):  # pragma: no cover
        return '<unseen>'


_UNSEEN = _Unseen()


@_policy_errors
def apply_policy(times, policy, now, style='short'):
    """Apply only restic's rules (no ownership/status/holds/min_available).

    ``times`` is a list of timestamps (anything :func:`parse_timestamp`
    accepts) in any order.  Returns ``[(input_index, reasons), ...]`` newest
    first (stable for ties); ``reasons`` is empty for snapshots restic would
    remove.  ``style='restic'`` renders reasons exactly as restic prints them
    (``daily snapshot``, ``oldest yearly within 9999y`` ...), ``'short'`` as
    this engine's plan does (``daily``, ``oldest within_yearly 9999y`` ...).
    """
    pol = normalize_policy(policy)
    now = parse_timestamp(now, what='now')
    parsed = [parse_timestamp(value, what='times[%d]' % index) for index, value in enumerate(times)]
    order = sorted(range(len(parsed)), key=lambda index: parsed[index], reverse=True)
    render = _reason_restic if style == 'restic' else _reason_short
    walked = _walk([parsed[index] for index in order], pol, now)
    return [(index, [render(match) for match in matches]) for index, matches in zip(order, walked)]


# ---------------------------------------------------------------------------
# planning

class _Snap(object):
    __slots__ = ('index', 'id', 'name', 'status', 'created', 'metadata', 'owned', 'held', 'hold_reason',
                 'hold_note', 'reasons')

    def entry(self, with_reasons=True):
        result = {
            'id': self.id,
            'name': self.name,
            'status': self.status,
            'created_at': format_timestamp(self.created),
        }
        if with_reasons:
            result['reasons'] = list(self.reasons)
        return result


_REQUIRED_SNAPSHOT_KEYS = ('id', 'volume_id', 'status', 'created_at')


def _plain(value):
    """Plain str for ids/names/statuses (drops str subclasses such as Ansible's tagged strings)."""
    if value is None:
        return None
    if isinstance(value, str):
        return str(value)
    return value if isinstance(value, (int, float, bool)) else str(value)


def _check_snapshot(index, snapshot):
    where = 'snapshots[%d]' % index
    if not isinstance(snapshot, Mapping):
        raise PolicyError('%s must be a dict, got %s' % (where, type_name(snapshot)))
    for key in _REQUIRED_SNAPSHOT_KEYS:
        if snapshot.get(key) is None:
            raise PolicyError('%s has no %s' % (where, key))
    metadata = snapshot.get('metadata')
    if metadata is not None and not isinstance(metadata, Mapping):
        raise PolicyError('%s.metadata must be a dict or null, got %s' % (where, type_name(metadata)))
    status = snapshot.get('status')
    if not isinstance(status, str) or not status.strip():
        raise PolicyError('%s.status must be a non-empty string, got %s' % (where, shorten(status)))
    return where


def _hold_state(metadata, now, tz):
    """(held, keep_reason, note) for a snapshot's metadata."""
    if HOLD_KEY not in metadata:
        return False, None, None
    if HOLD_UNTIL_KEY not in metadata or metadata.get(HOLD_UNTIL_KEY) in (None, ''):
        return True, 'hold', None
    raw = metadata.get(HOLD_UNTIL_KEY)
    text = str(raw).strip()
    try:
        if isinstance(raw, datetime):
            until = parse_timestamp(raw)
        elif isinstance(raw, date):
            until = resolve_wall_clock(datetime(raw.year, raw.month, raw.day) + timedelta(days=1), tz)
        else:
            parsed, had_time = parse_iso(text)
            if had_time:
                until = parsed
            else:
                # a date holds through the whole day in the policy time zone
                until = resolve_wall_clock(datetime(parsed.year, parsed.month, parsed.day) + timedelta(days=1), tz)
    except (ValueError, OverflowError):
        return True, 'hold until %s (unparsable)' % text, None
    if until <= now:
        return False, None, 'hold expired %s' % text
    return True, 'hold until %s' % text, None


def _due(owned, name, policy, now):
    newest = None
    for snap in owned:
        if snap.status in _DUE_STATUSES:
            newest = snap
            break
    if not owned:
        return True, 'no snapshot yet', None
    if newest is None:
        return True, 'no available or creating snapshot owned by policy %s' % name, None
    entry = newest.entry(with_reasons=False)
    if policy.min_interval.is_zero():
        return True, 'min_interval is 0h, so a new snapshot is always due', entry
    threshold = subtract_or_none(_local(now, policy.tz), policy.min_interval)
    if threshold is not None and newest.created <= threshold:
        return True, 'newest snapshot %s (%s) is at least min_interval %s old' % (
            newest.id, entry['created_at'], policy.min_interval), entry
    return False, 'newest snapshot %s (%s) is younger than min_interval %s' % (
        newest.id, entry['created_at'], policy.min_interval), entry


def _plan_group(volume_id, records, policy, now, name):
    owner_reason = 'not owned by policy %s' % name
    # newest first, stable for ties (sorted() with reverse=True keeps input order of equal keys)
    records = sorted(records, key=lambda snap: snap.created, reverse=True)

    keep, prune, errors, ignored, candidates = [], [], [], [], []
    owned = []
    held_available = 0
    for snap in records:
        metadata = snap.metadata
        snap.owned = metadata.get(OWNER_KEY) == name
        snap.reasons = []
        if not snap.owned:
            snap.reasons.append(owner_reason)
            ignored.append(snap)
            continue
        owned.append(snap)
        snap.held, snap.hold_reason, snap.hold_note = _hold_state(metadata, now, policy.tz)
        if snap.status == ERROR:
            if snap.held:
                snap.reasons = ['status error', snap.hold_reason]
                errors.append(snap)
            elif policy.cleanup_errors:
                snap.reasons = ['error cleanup']
                prune.append(snap)
            else:
                snap.reasons = ['status error']
                errors.append(snap)
        elif snap.status == AVAILABLE:
            if snap.held:
                snap.reasons = [snap.hold_reason]
                held_available += 1
                keep.append(snap)
            else:
                candidates.append(snap)
        else:
            snap.reasons = ['status %s' % snap.status]
            if snap.held:
                snap.reasons.append(snap.hold_reason)
            keep.append(snap)

    walked = _walk([snap.created for snap in candidates], policy, now) if candidates else []
    kept_available = held_available
    pruned_candidates = []
    for snap, matches in zip(candidates, walked):
        if matches:
            snap.reasons = [_reason_short(match) for match in matches]
            kept_available += 1
            keep.append(snap)
        else:
            snap.reasons = ['not kept by any rule']
            pruned_candidates.append(snap)
    for snap in pruned_candidates:  # newest first
        if kept_available < policy.min_available:
            snap.reasons = ['min_available']
            kept_available += 1
            keep.append(snap)
        else:
            prune.append(snap)
    for snap in candidates:
        if snap.hold_note:
            snap.reasons.append(snap.hold_note)

    position = dict((id(snap), number) for number, snap in enumerate(records))

    def ordered(snaps):
        return [snap.entry() for snap in sorted(snaps, key=lambda snap: position[id(snap)])]

    due, due_reason, newest = _due(owned, name, policy, now)
    return {
        'volume_id': volume_id,
        'due': due,
        'due_reason': due_reason,
        'newest': newest,
        'keep': ordered(keep),
        'prune': ordered(prune),
        'errors': ordered(errors),
        'ignored': ordered(ignored),
    }


def _records(snapshots, first_index=0):
    records = []
    for offset, snapshot in enumerate(snapshots):
        index = first_index + offset
        where = _check_snapshot(index, snapshot)
        snap = _Snap()
        snap.index = index
        snap.id = _plain(snapshot.get('id'))
        snap.name = _plain(snapshot.get('name'))
        snap.status = str(snapshot.get('status')).strip().lower()
        snap.created = parse_timestamp(snapshot.get('created_at'), what='%s.created_at' % where)
        snap.metadata = snapshot.get('metadata') or {}
        records.append(snap)
    return records


def _policy_name(pol, policy_name):
    name = policy_name if policy_name is not None else pol.name
    if name is not None and not isinstance(name, str):
        raise PolicyError('policy_name must be a string, got %s' % type_name(name))
    if name is None or not name.strip():
        raise PolicyError(
            'policy name is required: pass policy_name or set policy.name '
            '(it is the ownership marker %s; only snapshots carrying it are candidates)' % OWNER_KEY)
    return name.strip()


def _check_list(snapshots):
    if isinstance(snapshots, (str, bytes)) or isinstance(snapshots, Mapping) or not isinstance(snapshots, (list, tuple)):
        raise PolicyError('snapshots must be a list of snapshot dicts, got %s' % type_name(snapshots))


@_policy_errors
def plan_volume(volume_id, snapshots, policy, now, policy_name=None):
    """Plan one volume. ``snapshots`` may be empty (then the volume is due: "no snapshot yet")."""
    pol = normalize_policy(policy)
    name = _policy_name(pol, policy_name)
    now = parse_timestamp(now, what='now')
    _check_list(snapshots)
    records = _records(snapshots)
    for snap, snapshot in zip(records, snapshots):
        if snapshot.get('volume_id') != volume_id:
            raise PolicyError('snapshots[%d] belongs to volume %s, not %s' % (
                snap.index, shorten(snapshot.get('volume_id')), shorten(volume_id)))
    return _plan_group(_plain(volume_id), records, pol, now, name)


def _summary(volumes):
    summary = {'volumes': len(volumes), 'due': 0, 'keep': 0, 'prune': 0, 'errors': 0, 'ignored': 0}
    for plan in volumes.values():
        if plan['due']:
            summary['due'] += 1
        for key in ('keep', 'prune', 'errors', 'ignored'):
            summary[key] += len(plan[key])
    return summary


@_policy_errors
def plan_retention(snapshots, policy, now, policy_name=None):
    """Plan every volume found in ``snapshots`` (see the module docstring for the output)."""
    pol = normalize_policy(policy)
    name = _policy_name(pol, policy_name)
    now = parse_timestamp(now, what='now')
    _check_list(snapshots)
    records = _records(snapshots)
    groups = {}
    order = []
    for snap, snapshot in zip(records, snapshots):
        volume_id = _plain(snapshot.get('volume_id'))
        if volume_id not in groups:
            groups[volume_id] = []
            order.append(volume_id)
        groups[volume_id].append(snap)
    volumes = {}
    for volume_id in order:
        volumes[volume_id] = _plan_group(volume_id, groups[volume_id], pol, now, name)
    policy_dict = pol.as_dict()
    policy_dict['name'] = name
    return {
        'policy': policy_dict,
        'now': format_timestamp(now),
        'volumes': volumes,
        'summary': _summary(volumes),
    }
