# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

# Property tests for the retention engine: 12,000 random histories in total (hypothesis).

import json
from datetime import datetime, timedelta, timezone

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import (
    HOLD_KEY,
    HOLD_UNTIL_KEY,
    OWNER_KEY,
    apply_policy,
    normalize_policy,
    plan_retention,
)
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import parse_timestamp, subtract_duration

UTC = timezone.utc
POLICY = 'rot'
BASE = datetime(2024, 1, 1, tzinfo=UTC)
SPAN_MINUTES = 3 * 366 * 24 * 60

ZONES = ['UTC', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe', 'Pacific/Chatham',
         'America/Sao_Paulo']
DURATIONS = ['1h', '12h', '1d', '2d', '7d', '13d23h', '1m', '1m14d', '2m2h', '1y', '1y2m3d3h', '9999y']
STATUSES = ['available'] * 8 + ['creating', 'deleting', 'error', 'error_deleting', 'restoring', 'backing-up']
TRANSITIONAL = set(STATUSES) - set(['available', 'error'])
OWNERS = [POLICY] * 5 + ['other', None]
HOLDS = ['none'] * 8 + ['hold', 'future', 'past', 'garbage', 'date']

SETTINGS = dict(deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# Each snapshot and each policy is drawn from one big integer that is decoded below: hypothesis spends its time
# per draw, and this keeps 10,000+ histories well under a minute (shrinking still goes towards simple values).
COUNT_VALUES = [0, 0, 0, -1, 1, 2, 3, 4, 6]
WITHIN_VALUES = [None] * 4 + DURATIONS
MIN_INTERVALS = ['0h', '1h', '1d', '7d', '1m']
VOLUMES = ['vol-a', 'vol-b', 'vol-c']
# minutes that put snapshots next to DST changes, day/week/month/year boundaries and on top of each other
SPECIAL_MINUTES = sorted(set(
    int((moment - BASE).total_seconds() // 60) + delta
    for moment in (datetime(2024, 3, 31, 1, tzinfo=UTC), datetime(2024, 10, 27, 1, tzinfo=UTC),
                   datetime(2025, 3, 9, 7, tzinfo=UTC), datetime(2025, 11, 2, 6, tzinfo=UTC),
                   datetime(2025, 12, 31, 23, 30, tzinfo=UTC), datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
                   datetime(2026, 1, 4, 0, tzinfo=UTC), datetime(2025, 1, 31, 22, tzinfo=UTC))
    for delta in (-61, -60, -30, -1, 0, 1, 30, 60, 1440)))


def _pick(number, choices):
    return number // len(choices), choices[number % len(choices)]


@st.composite
def policies(draw, with_extras=True):
    number = draw(st.integers(0, 2 ** 96))
    policy = {}
    for key in ('keep_last', 'keep_hourly', 'keep_daily', 'keep_weekly', 'keep_monthly', 'keep_yearly'):
        number, value = _pick(number, COUNT_VALUES)
        if value:
            policy[key] = value
    for key in ('keep_within', 'keep_within_hourly', 'keep_within_daily', 'keep_within_weekly', 'keep_within_monthly',
                'keep_within_yearly'):
        number, value = _pick(number, WITHIN_VALUES)
        if value:
            policy[key] = value
    number, fallback = _pick(number, ['keep_last', 'keep_daily', 'keep_weekly', 'keep_within_daily'])
    if not policy:
        policy[fallback] = 2 if fallback != 'keep_within_daily' else '7d'
    number, policy['timezone'] = _pick(number, ZONES)
    if with_extras:
        number, policy['min_available'] = _pick(number, [1, 0, 2, 3, 4])
        number, policy['min_interval'] = _pick(number, MIN_INTERVALS)
        number, policy['cleanup_errors'] = _pick(number, [False, True])
    policy['name'] = POLICY
    return policy


def _created_value(form, instant):
    if form == 0:
        return instant.replace(tzinfo=None).strftime('%Y-%m-%dT%H:%M:%S.%f')   # Cinder's form
    if form == 1:
        return instant.strftime('%Y-%m-%dT%H:%M:%SZ')
    if form == 2:
        return instant
    return instant.astimezone(timezone(timedelta(hours=-3))).isoformat()


_MINUTES = st.one_of(st.integers(0, SPAN_MINUTES), st.sampled_from(SPECIAL_MINUTES))


@st.composite
def histories(draw, safe_only=False):
    """(snapshots, now, policy). safe_only: everything owned, available, no holds."""
    now = BASE + timedelta(minutes=draw(st.integers(-30 * 24 * 60, SPAN_MINUTES + 30 * 24 * 60)))
    size = draw(st.integers(0, 24))
    raw = draw(st.lists(st.tuples(_MINUTES, st.integers(0, 2 ** 40)), min_size=size, max_size=size))
    snapshots = []
    for number, (minute, attributes) in enumerate(raw):
        attributes, second = _pick(attributes, [0, 0, 1, 59])
        attributes, form = _pick(attributes, [0, 1, 2, 3])
        attributes, volume = _pick(attributes, VOLUMES)
        attributes, status = _pick(attributes, STATUSES)
        attributes, owner = _pick(attributes, OWNERS)
        attributes, hold = _pick(attributes, HOLDS)
        attributes, null_metadata = _pick(attributes, [False, True])
        instant = BASE + timedelta(minutes=minute, seconds=second)
        metadata = {}
        if safe_only:
            status = 'available'
            metadata[OWNER_KEY] = POLICY
        else:
            if owner is not None:
                metadata[OWNER_KEY] = owner
            if hold != 'none':
                metadata[HOLD_KEY] = 'reason'
            if hold == 'future':
                metadata[HOLD_UNTIL_KEY] = (now + timedelta(days=3)).strftime('%Y-%m-%dT%H:%M:%SZ')
            elif hold == 'past':
                metadata[HOLD_UNTIL_KEY] = (now - timedelta(days=3)).strftime('%Y-%m-%d')
            elif hold == 'garbage':
                metadata[HOLD_UNTIL_KEY] = 'whenever'
            elif hold == 'date':
                metadata[HOLD_UNTIL_KEY] = now.strftime('%Y-%m-%d')
        snapshots.append({
            'id': 'snap-%02d' % number,
            'volume_id': volume,
            'name': 'n%d' % number,
            'status': status,
            'created_at': _created_value(form, instant),
            'metadata': None if (null_metadata and not metadata) else metadata,
        })
    policy = draw(policies())
    if safe_only:
        policy['min_available'] = 0
    return snapshots, now, policy


def _is_held(snapshot, now, policy):
    metadata = snapshot['metadata'] or {}
    if HOLD_KEY not in metadata:
        return False
    until = metadata.get(HOLD_UNTIL_KEY)
    if until is None or until == 'whenever':
        return True
    if len(until) == 10:  # a date holds through that whole day in the policy's time zone
        day = datetime.strptime(until, '%Y-%m-%d') + timedelta(days=1)
        return day.replace(tzinfo=normalize_policy(policy).tz) > now
    return parse_timestamp(until) > now


def _check_plan(snapshots, now, policy, result):
    by_id = dict((snapshot['id'], snapshot) for snapshot in snapshots)
    buckets = {}
    for volume in result['volumes'].values():
        for key in ('keep', 'prune', 'errors', 'ignored'):
            for entry in volume[key]:
                assert entry['id'] not in buckets, 'snapshot in two buckets'
                buckets[entry['id']] = key
    assert set(buckets) == set(by_id), 'every snapshot appears exactly once'
    for sid, key in buckets.items():
        owned = (by_id[sid]['metadata'] or {}).get(OWNER_KEY) == POLICY
        assert (key == 'ignored') is (not owned)
    return buckets


@settings(max_examples=3000, **SETTINGS)
@given(histories())
def test_safety_never_prunes_held_unowned_or_transitional(history):
    snapshots, now, policy = history
    result = plan_retention(snapshots, policy, now)
    buckets = _check_plan(snapshots, now, policy, result)
    for snapshot in snapshots:
        key = buckets[snapshot['id']]
        if key != 'prune':
            continue
        assert (snapshot['metadata'] or {}).get(OWNER_KEY) == POLICY
        assert not _is_held(snapshot, now, policy)
        assert snapshot['status'] not in TRANSITIONAL
        if snapshot['status'] == 'error':
            assert policy['cleanup_errors']
    assert json.loads(json.dumps(result)) == result


@settings(max_examples=2500, **SETTINGS)
@given(histories())
def test_newest_available_owned_snapshot_is_kept(history):
    snapshots, now, policy = history
    result = plan_retention(snapshots, policy, now)
    for volume_id, volume in result['volumes'].items():
        available = [(parse_timestamp(s['created_at']), -index, s['id']) for index, s in enumerate(snapshots)
                     if s['volume_id'] == volume_id and s['status'] == 'available'
                     and (s['metadata'] or {}).get(OWNER_KEY) == POLICY]
        if available:
            newest = max(available)[2]
            assert newest in [entry['id'] for entry in volume['keep']]


@settings(max_examples=2500, **SETTINGS)
@given(histories())
def test_min_available_floor(history):
    snapshots, now, policy = history
    result = plan_retention(snapshots, policy, now)
    for volume_id, volume in result['volumes'].items():
        available = [s for s in snapshots if s['volume_id'] == volume_id and s['status'] == 'available'
                     and (s['metadata'] or {}).get(OWNER_KEY) == POLICY]
        kept = [entry for entry in volume['keep'] if entry['status'] == 'available']
        assert len(kept) >= min(policy['min_available'], len(available))
        # min_available never keeps more than needed
        floor = [entry for entry in kept if entry['reasons'] == ['min_available']]
        if floor:
            assert len(kept) == min(policy['min_available'], len(available))


@settings(max_examples=2000, **SETTINGS)
@given(histories())
def test_due_and_bucket_partition(history):
    snapshots, now, policy = history
    result = plan_retention(snapshots, policy, now)
    assert result['summary']['volumes'] == len(set(s['volume_id'] for s in snapshots))
    threshold = subtract_duration(now.astimezone(normalize_policy(policy).tz), policy['min_interval'])
    for volume_id, volume in result['volumes'].items():
        live = [parse_timestamp(s['created_at']) for s in snapshots
                if s['volume_id'] == volume_id and s['status'] in ('available', 'creating')
                and (s['metadata'] or {}).get(OWNER_KEY) == POLICY]
        if not live or policy['min_interval'] == '0h':
            assert volume['due'] is True
        else:
            assert volume['due'] is (max(live) <= threshold)
            assert volume['newest']['created_at'] == max(live).strftime('%Y-%m-%dT%H:%M:%SZ')


# ---------------------------------------------------------------------------
# an independent transliteration of restic's ApplyPolicy (Go), for comparison

_PERIOD_FORMATS = [('last', None), ('hourly', '%Y%m%d%H'), ('daily', '%Y%m%d'), ('weekly', '%G%V'),
                   ('monthly', '%Y%m'), ('yearly', '%Y')]


def reference_restic(times, policy, now):
    """Straight port of restic's ApplyPolicy loop; returns {input index: [restic match texts]}."""
    from zoneinfo import ZoneInfo
    tz = UTC if policy['timezone'] == 'UTC' else ZoneInfo(policy['timezone'])
    order = sorted(range(len(times)), key=lambda i: times[i], reverse=True)
    latest = None
    for i in order:
        if times[i] < now and (latest is None or times[i] > latest):
            latest = times[i]

    def threshold(duration):
        if latest is None:
            return None
        value = subtract_duration(latest.astimezone(tz), duration)
        return None if value == datetime.min.replace(tzinfo=UTC) else value

    buckets = []
    for name, fmt in _PERIOD_FORMATS:
        count = policy.get('keep_' + name) or 0
        buckets.append({'count': count, 'fmt': fmt, 'last': None, 'reason': name + ' snapshot'})
    within = policy.get('keep_within')
    within_t = threshold(within) if within else None
    within_buckets = []
    for name, fmt in _PERIOD_FORMATS[1:]:
        duration = policy.get('keep_within_' + name)
        if duration:
            within_buckets.append({'within': duration, 't': threshold(duration), 'fmt': fmt, 'last': None,
                                   'reason': name + ' within'})
    result = {}
    for nr, i in enumerate(order):
        cur = times[i]
        local = cur.astimezone(tz)
        matches = []
        if within and (within_t is None or cur > within_t):
            matches.append('within %s' % str(normalize_policy({'keep_within': within}).withins['keep_within']))
        for b in buckets:
            if b['count'] > 0 or b['count'] == -1:
                val = nr if b['fmt'] is None else local.strftime(b['fmt'])
                if val != b['last'] or nr == len(order) - 1:
                    reason = b['reason']
                    if val == b['last'] and nr == len(order) - 1:
                        reason = 'oldest ' + reason
                    b['last'] = val
                    if b['count'] > 0:
                        b['count'] -= 1
                    matches.append(reason)
        for b in within_buckets:
            if b['t'] is None or cur > b['t']:
                val = local.strftime(b['fmt'])
                if val != b['last'] or nr == len(order) - 1:
                    reason = b['reason']
                    if val == b['last'] and nr == len(order) - 1:
                        reason = 'oldest ' + reason
                    b['last'] = val
                    canonical = normalize_policy({'keep_within': b['within']}).withins['keep_within']
                    matches.append('%s %s' % (reason, canonical))
        result[i] = matches
    return result


@settings(max_examples=2000, **SETTINGS)
@given(histories(safe_only=True))
def test_matches_restic_reference(history):
    """Everything owned and available, no holds, min_available 0: the kept set and reasons equal restic's."""
    snapshots, now, policy = history
    times = [parse_timestamp(s['created_at']) for s in snapshots]
    expected = reference_restic(times, policy, now)
    got = dict(apply_policy(times, policy, now, style='restic'))
    assert got == expected
    result = plan_retention(snapshots, policy, now)
    kept = set(entry['id'] for volume in result['volumes'].values() for entry in volume['keep'])
    for volume_id in set(s['volume_id'] for s in snapshots):
        indexes = [i for i, s in enumerate(snapshots) if s['volume_id'] == volume_id]
        reference = reference_restic([times[i] for i in indexes], policy, now)
        assert set(snapshots[indexes[j]]['id'] for j, matches in reference.items() if matches) == \
            set(snapshots[i]['id'] for i in indexes) & kept
