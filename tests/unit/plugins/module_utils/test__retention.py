# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import os
from datetime import date, datetime, timedelta, timezone

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import (
    HOLD_KEY,
    HOLD_UNTIL_KEY,
    OWNER_KEY,
    RESERVED_PREFIX,
    Policy,
    PolicyError,
    apply_policy,
    normalize_policy,
    plan_retention,
    plan_volume,
)
from ansible_collections.cinderops.snapshots.plugins.module_utils._timeutil import (
    Duration,
    format_timestamp,
    parse_timestamp,
)

UTC = timezone.utc
FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
POLICY = 'nightly'
BERLIN = 'Europe/Berlin'
NEW_YORK = 'America/New_York'

with open(os.path.join(FIXTURES, 'restic_policy_golden.json')) as _handle:
    GOLDEN = json.load(_handle)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def snap(sid, created, status='available', volume='vol-1', owner=POLICY, name=None, **metadata):
    """A snapshot dict as snapshot_info returns it; extra keyword arguments are metadata items."""
    meta = {}
    if owner is not None:
        meta[OWNER_KEY] = owner
    for key, value in metadata.items():
        meta[key] = value
    return {
        'id': sid,
        'volume_id': volume,
        'name': name if name is not None else 'snap-%s' % sid,
        'status': status,
        'created_at': created,
        'metadata': meta,
    }


def plan1(snapshots, policy, now, volume='vol-1', **kwargs):
    """Plan and return the single volume's plan."""
    result = plan_retention(snapshots, policy, now, **kwargs)
    return result['volumes'][volume]


def ids(entries):
    return [entry['id'] for entry in entries]


def reasons(entries):
    return dict((entry['id'], entry['reasons']) for entry in entries)


# ---------------------------------------------------------------------------
# restic's own golden data (internal/data/testdata/policy_keep_snapshots_N)

def _golden_identity(item):
    return (item['time'], tuple(item.get('tags') or ()), tuple(item.get('paths') or ()))


def _golden_keep_indexes(case):
    """Map the golden keep list to input indexes (duplicates are taken in input order)."""
    used = set()
    result = []
    for item in case['keep']:
        for index, source in enumerate(GOLDEN['snapshots']):
            if index not in used and _golden_identity(source) == _golden_identity(item):
                used.add(index)
                result.append(index)
                break
        else:  # pragma: no cover - fixture error
            raise AssertionError('golden item not found: %r' % (item,))
    return result


def _short(match):
    """restic's match text -> this engine's reason text."""
    oldest = match.startswith('oldest ')
    text = match[len('oldest '):] if oldest else match
    if text.endswith(' snapshot'):
        short = text[:-len(' snapshot')]
    elif text.startswith('within '):
        short = text
    else:
        tier, duration = text.split(' within ')
        short = 'within_%s %s' % (tier, duration)
    return 'oldest ' + short if oldest else short


GOLDEN_CASES = [pytest.param(case, id=case['id']) for case in GOLDEN['cases']]


def test_golden_fixture_is_complete():
    assert len(GOLDEN['snapshots']) == 103
    numbers = sorted(int(case['id'].rsplit('_', 1)[1]) for case in GOLDEN['cases'])
    assert numbers == [n for n in range(40) if n not in (0, 18, 19, 20)]


@pytest.mark.parametrize('case', GOLDEN_CASES)
def test_restic_golden_rule_walk(case):
    """apply_policy reproduces restic's kept list and its reason texts exactly."""
    times = [item['time'] for item in GOLDEN['snapshots']]
    result = apply_policy(times, case['policy'], GOLDEN['now'], style='restic')
    kept = [(index, matches) for index, matches in result if matches]
    assert [pair[0] for pair in kept] == _golden_keep_indexes(case)
    assert [pair[1] for pair in kept] == [item['matches'] for item in case['keep']]
    assert len(result) == len(times)


@pytest.mark.parametrize('case', GOLDEN_CASES)
def test_restic_golden_plan(case):
    """With everything owned and available, no holds and min_available 0, the plan keeps what restic keeps."""
    snapshots = [snap('s%03d' % index, item['time']) for index, item in enumerate(GOLDEN['snapshots'])]
    policy = dict(case['policy'], name=POLICY, min_available=0)
    plan = plan1(snapshots, policy, GOLDEN['now'])
    expected = ['s%03d' % index for index in _golden_keep_indexes(case)]
    assert ids(plan['keep']) == expected
    assert [entry['reasons'] for entry in plan['keep']] == [[_short(m) for m in item['matches']] for item in case['keep']]
    assert sorted(ids(plan['prune'])) == sorted(set('s%03d' % i for i in range(103)) - set(expected))
    assert all(entry['reasons'] == ['not kept by any rule'] for entry in plan['prune'])
    assert plan['errors'] == [] and plan['ignored'] == []


def test_restic_golden_refused_empty_policy():
    """Case 0 of restic's table is the empty policy; restic's forget refuses it, so does the engine."""
    with pytest.raises(PolicyError, match='no keep_'):
        apply_policy([item['time'] for item in GOLDEN['snapshots']], {}, GOLDEN['now'])


def test_restic_docs_keep_daily_4_on_weekly_backups():
    """doc/060_forget.rst: one backup every Sunday for 12 weeks, forget --keep-daily 4."""
    times = ['2019-09-01 11:00:00', '2019-09-08 11:00:00', '2019-09-15 11:00:00', '2019-09-22 11:00:00',
             '2019-09-29 11:00:00', '2019-10-06 11:00:00', '2019-10-13 11:00:00', '2019-10-20 11:00:00',
             '2019-10-27 11:00:00', '2019-11-03 11:00:00', '2019-11-10 11:00:00', '2019-11-17 11:00:00']
    names = ['0a1f9759', '46cfe4d5', 'f6b1f037', 'eb430a5d', '8cf1cb9a', '5d33b116', 'b9553125', 'e1a7b58b',
             '8f8018c0', '59403279', 'dfee9fb4', 'e1ae2f40']
    snapshots = [snap(sid, when) for sid, when in zip(names, times)]
    plan = plan1(snapshots, {'name': POLICY, 'keep_daily': 4, 'min_available': 0}, '2019-11-18T00:00:00Z')
    assert ids(plan['keep']) == ['e1ae2f40', 'dfee9fb4', '59403279', '8f8018c0']
    assert all(entry['reasons'] == ['daily'] for entry in plan['keep'])
    assert sorted(ids(plan['prune'])) == sorted(names[:8])


def test_restic_docs_daily_backups_for_100_years():
    """doc/060_forget.rst: daily backups for 100 years, --keep-daily 7 --keep-weekly 5 --keep-monthly 12 --keep-yearly 75.

    restic: 7 dailies, 4 more weeklies, 12 or 11 more monthlies, 75 or 74 more yearlies.  Those numbers hold
    for a history that ends on a Sunday (else the 7 dailies span two ISO weeks) whose previous month does not end
    on one of the 4 older Sundays, e.g. Sunday 2024-12-29.
    """
    end = utc(2024, 12, 29, 5)
    times = [end - timedelta(days=n) for n in range(36525)][::-1]
    policy = {'keep_daily': 7, 'keep_weekly': 5, 'keep_monthly': 12, 'keep_yearly': 75}
    result = [pair[1] for pair in apply_policy(times, policy, utc(2027, 1, 1)) if pair[1]]
    per_rule = dict((rule, sum(1 for r in result if rule in r)) for rule in ('daily', 'weekly', 'monthly', 'yearly'))
    assert per_rule == {'daily': 7, 'weekly': 5, 'monthly': 12, 'yearly': 75}
    weekly_extra = sum(1 for r in result if 'weekly' in r and 'daily' not in r)
    monthly_extra = sum(1 for r in result if 'monthly' in r and 'daily' not in r and 'weekly' not in r)
    yearly_extra = sum(1 for r in result if r == ['yearly'])
    assert weekly_extra == 4
    assert monthly_extra in (11, 12) and monthly_extra == 11
    assert yearly_extra in (74, 75) and yearly_extra == 74
    assert len(result) == 7 + weekly_extra + monthly_extra + yearly_extra


def test_restic_issue_4806_oldest_hourly():
    """restic issue #4806 / PR #5039: --keep-hourly 24 with two snapshots in the oldest hour keeps both,
    the older one as "oldest hourly snapshot" (third snapshot's time is an assumption; the issue elides it)."""
    times = ['2024-05-17T10:05:00Z', '2024-05-17T09:41:06Z', '2024-05-17T09:36:51Z']
    assert apply_policy(times, {'keep_hourly': 24}, '2024-05-18T00:00:00Z', style='restic') == [
        (0, ['hourly snapshot']), (1, ['hourly snapshot']), (2, ['oldest hourly snapshot'])]


# ---------------------------------------------------------------------------
# policy validation

def test_normalize_policy_defaults():
    policy = normalize_policy({'keep_daily': 7})
    assert isinstance(policy, Policy)
    assert policy.as_dict() == {
        'keep_last': 0, 'keep_hourly': 0, 'keep_daily': 7, 'keep_weekly': 0, 'keep_monthly': 0, 'keep_yearly': 0,
        'keep_within': None, 'keep_within_hourly': None, 'keep_within_daily': None, 'keep_within_weekly': None,
        'keep_within_monthly': None, 'keep_within_yearly': None,
        'min_available': 1, 'min_interval': '1h', 'timezone': 'UTC', 'cleanup_errors': False, 'name': None,
    }
    assert normalize_policy(policy) is policy
    assert policy == normalize_policy({'keep_daily': '7', 'keep_last': None})


def test_normalize_policy_values():
    policy = normalize_policy({
        'keep_last': 'unlimited', 'keep_hourly': -1, 'keep_daily': '7', 'keep_weekly': 4.0, 'keep_monthly': 0,
        'keep_within': '1y1d1m', 'keep_within_daily': ' 7d ', 'keep_within_hourly': '', 'keep_within_weekly': '0d',
        'min_available': '2', 'min_interval': '0h', 'timezone': 'Europe/Berlin', 'cleanup_errors': 'yes',
        'name': ' nightly ',
    }).as_dict()
    assert policy['keep_last'] == -1
    assert policy['keep_hourly'] == -1
    assert policy['keep_daily'] == 7
    assert policy['keep_weekly'] == 4
    assert policy['keep_within'] == '1y1m1d'
    assert policy['keep_within_daily'] == '7d'
    assert policy['keep_within_hourly'] is None
    assert policy['keep_within_weekly'] is None   # a zero duration turns the rule off, as in restic
    assert policy['min_available'] == 2
    assert policy['min_interval'] == '0h'
    assert policy['timezone'] == 'Europe/Berlin'
    assert policy['cleanup_errors'] is True
    assert policy['name'] == 'nightly'


@pytest.mark.parametrize('policy, message', [
    ({}, r'^policy has no keep_\* rule'),
    ({'name': 'x', 'min_available': 3}, r'^policy has no keep_\* rule'),
    ({'keep_last': 0, 'keep_daily': None, 'keep_within': '0d'}, r'^policy has no keep_\* rule'),
    ([], r'^policy must be a dict, got list$'),
    ('keep_daily=7', r'^policy must be a dict, got str$'),
    (None, r'^policy must be a dict, got null$'),
    ({'keep_daily': 7, 'keep_dayly': 3, 'foo': 1},
     r'^policy has unknown keys: foo, keep_dayly \(allowed: keep_last, keep_hourly, .*, name\)$'),
    ({'keep_daily': -2}, r'^keep_daily must be -1 \(unlimited\), 0 \(off\) or a positive integer, got -2$'),
    ({'keep_daily': True}, r'^keep_daily must be an integer \(-1 = unlimited, 0 = off\), got bool$'),
    ({'keep_weekly': 'many'}, r"^keep_weekly must be an integer \(-1 = unlimited, 0 = off\), got 'many'$"),
    ({'keep_monthly': 1.5}, r'^keep_monthly must be an integer \(-1 = unlimited, 0 = off\), got float$'),
    ({'keep_yearly': [1]}, r'^keep_yearly must be an integer .*, got list$'),
    ({'keep_within': '1w'}, r"^keep_within: invalid duration '1w'"),
    ({'keep_within_daily': 7}, r'^keep_within_daily must be a duration string like "1y2m3d4h", got int$'),
    ({'keep_daily': 7, 'min_available': -1}, r'^min_available must be an integer >= 0, got -1$'),
    ({'keep_daily': 7, 'min_available': True}, r'^min_available must be an integer >= 0, got True$'),
    ({'keep_daily': 7, 'min_available': 'two'}, r"^min_available must be an integer >= 0, got 'two'$"),
    ({'keep_daily': 7, 'min_interval': 'hourly'}, r"^min_interval: invalid duration 'hourly'"),
    ({'keep_daily': 7, 'timezone': 'Mars/Olympus_Mons'},
     r"^timezone: unknown time zone 'Mars/Olympus_Mons' \(use an IANA name like \"Europe/Berlin\"\)$"),
    ({'keep_daily': 7, 'timezone': '../../etc/passwd'}, r'^timezone: unknown time zone'),
    ({'keep_daily': 7, 'timezone': ''}, r'^timezone must be an IANA time zone name'),
    ({'keep_daily': 7, 'timezone': 1}, r'^timezone must be an IANA time zone name'),
    ({'keep_daily': 7, 'cleanup_errors': 'maybe'}, r"^cleanup_errors must be a boolean, got 'maybe'$"),
    ({'keep_daily': 7, 'cleanup_errors': 1}, r'^cleanup_errors must be a boolean, got 1$'),
    ({'keep_daily': 7, 'name': ''}, r"^name must be a non-empty string, got ''$"),
    ({'keep_daily': 7, 'name': 5}, r'^name must be a non-empty string, got 5$'),
])
def test_normalize_policy_errors(policy, message):
    with pytest.raises(PolicyError, match=message):
        normalize_policy(policy)


def test_policy_error_is_value_error_and_one_line():
    with pytest.raises(ValueError) as excinfo:
        normalize_policy({'keep_daily': 7, 'keep_within': '1w' * 100})
    assert '\n' not in str(excinfo.value)
    assert len(str(excinfo.value)) < 300


# ---------------------------------------------------------------------------
# ownership

NOW = '2026-11-26T18:31:16Z'


def test_reserved_keys():
    assert OWNER_KEY == 'cinderops:policy'
    assert HOLD_KEY == 'cinderops:hold'
    assert HOLD_UNTIL_KEY == 'cinderops:hold_until'
    assert all(key.startswith(RESERVED_PREFIX) for key in (OWNER_KEY, HOLD_KEY, HOLD_UNTIL_KEY))


def test_unowned_snapshots_are_ignored_and_not_counted():
    snapshots = [
        snap('a', '2026-11-26T12:00:00'),
        snap('b', '2026-11-26T17:00:00', owner=None),          # newer, no marker
        snap('c', '2026-11-26T16:00:00', owner='weekly'),      # another policy's
        snap('d', '2026-11-25T12:00:00'),
        {'id': 'e', 'volume_id': 'vol-1', 'name': 'e', 'status': 'available', 'created_at': '2026-11-26T18:00:00',
         'metadata': None},
    ]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert ids(plan['keep']) == ['a']
    assert plan['keep'][0]['reasons'] == ['last']
    assert ids(plan['prune']) == ['d']
    assert ids(plan['ignored']) == ['e', 'b', 'c']
    assert all(entry['reasons'] == ['not owned by policy nightly'] for entry in plan['ignored'])
    assert plan['newest']['id'] == 'a'


def test_policy_name_argument_overrides_policy_name():
    snapshots = [snap('a', '2026-11-26T12:00:00', owner='other'), snap('b', '2026-11-26T11:00:00')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 5}, NOW, policy_name='other')
    assert ids(plan['keep']) == ['a']
    assert ids(plan['ignored']) == ['b']
    assert plan_retention(snapshots, {'name': POLICY, 'keep_last': 5}, NOW, policy_name='other')['policy']['name'] == 'other'


def test_policy_name_must_be_a_string():
    with pytest.raises(PolicyError, match=r'^policy_name must be a string, got int$'):
        plan_retention([], {'keep_last': 1}, NOW, policy_name=7)


@pytest.mark.parametrize('policy_name', [None, '', '  '])
def test_policy_name_is_mandatory(policy_name):
    with pytest.raises(PolicyError, match=r'^policy name is required: pass policy_name or set policy.name'):
        plan_retention([], {'keep_last': 1}, NOW, policy_name=policy_name)


# ---------------------------------------------------------------------------
# holds

def test_held_snapshots_are_kept_and_not_counted():
    snapshots = [
        snap('held-new', '2026-11-26T12:00:00', **{HOLD_KEY: 'legal'}),
        snap('a', '2026-11-25T12:00:00'),
        snap('b', '2026-11-24T12:00:00'),
        snap('held-old', '2026-11-01T12:00:00', **{HOLD_KEY: ''}),
    ]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert reasons(plan['keep']) == {'held-new': ['hold'], 'a': ['last'], 'held-old': ['hold']}
    assert ids(plan['keep']) == ['held-new', 'a', 'held-old']
    assert ids(plan['prune']) == ['b']


@pytest.mark.parametrize('until, held, reason', [
    ('2026-12-01', True, 'hold until 2026-12-01'),
    ('2026-11-26', True, 'hold until 2026-11-26'),             # the whole day is held (policy time zone)
    ('2026-11-25', False, 'hold expired 2026-11-25'),
    ('2026-11-26T18:31:17Z', True, 'hold until 2026-11-26T18:31:17Z'),
    ('2026-11-26T18:31:16Z', False, 'hold expired 2026-11-26T18:31:16Z'),
    ('2026-11-26T18:00:00', False, 'hold expired 2026-11-26T18:00:00'),
    ('2026-11-26T19:00:00+01:00', False, 'hold expired 2026-11-26T19:00:00+01:00'),
    ('2026-11-26T20:00:00+01:00', True, 'hold until 2026-11-26T20:00:00+01:00'),
    ('next tuesday', True, 'hold until next tuesday (unparsable)'),
    ('2026-02-30', True, 'hold until 2026-02-30 (unparsable)'),
    ('', True, 'hold'),
])
def test_hold_until(until, held, reason):
    snapshots = [
        snap('a', '2026-11-26T12:00:00'),
        snap('h', '2026-11-20T12:00:00', **{HOLD_KEY: 'audit', HOLD_UNTIL_KEY: until}),
    ]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    if held:
        assert reasons(plan['keep'])['h'] == [reason]
        assert plan['prune'] == []
    else:
        assert reasons(plan['prune'])['h'] == ['not kept by any rule', reason]


def test_hold_until_without_hold_is_no_hold():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('b', '2026-11-20T12:00:00', **{HOLD_UNTIL_KEY: '2030-01-01'})]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert ids(plan['prune']) == ['b']


def test_hold_until_date_uses_policy_timezone():
    # now is 2026-11-26T23:30Z = 2026-11-27 00:30 in Berlin: a hold until 2026-11-26 has ended there, not in UTC
    snapshots = [snap('a', '2026-11-26T12:00:00'),
                 snap('h', '2026-11-20T12:00:00', **{HOLD_KEY: 'x', HOLD_UNTIL_KEY: '2026-11-26'})]
    now = '2026-11-26T23:30:00Z'
    berlin = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0, 'timezone': BERLIN}, now)
    assert ids(berlin['prune']) == ['h']
    utc_plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, now)
    assert ids(utc_plan['prune']) == []


def test_held_available_counts_for_min_available():
    snapshots = [snap('h', '2026-11-26T12:00:00', **{HOLD_KEY: 'x'}), snap('a', '2026-11-25T12:00:00'),
                 snap('b', '2026-11-24T12:00:00')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 2}, NOW)
    assert reasons(plan['keep']) == {'h': ['hold'], 'a': ['last']}
    assert ids(plan['prune']) == ['b']


# ---------------------------------------------------------------------------
# statuses

@pytest.mark.parametrize('status', ['creating', 'deleting', 'error_deleting', 'restoring', 'backing-up', 'unmanaging',
                                    'updating', 'CREATING'])
def test_transitional_statuses_are_kept_untouched(status):
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('t', '2026-11-01T12:00:00', status=status)]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert reasons(plan['keep']) == {'a': ['last'], 't': ['status %s' % status.lower()]}
    assert plan['prune'] == []


def test_transitional_snapshots_do_not_consume_counts():
    snapshots = [snap('c', '2026-11-26T17:00:00', status='creating'), snap('a', '2026-11-26T12:00:00'),
                 snap('b', '2026-11-25T12:00:00')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert reasons(plan['keep']) == {'c': ['status creating'], 'a': ['last']}
    assert ids(plan['prune']) == ['b']


def test_error_snapshots_are_reported():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('e', '2026-11-26T13:00:00', status='error'),
                 snap('eh', '2026-11-20T13:00:00', status='error', **{HOLD_KEY: 'x'})]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1}, NOW)
    assert ids(plan['keep']) == ['a']
    assert reasons(plan['errors']) == {'e': ['status error'], 'eh': ['status error', 'hold']}
    assert ids(plan['errors']) == ['e', 'eh']
    assert plan['prune'] == []


def test_error_snapshots_cleanup():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('e', '2026-11-26T13:00:00', status='error'),
                 snap('eh', '2026-11-20T13:00:00', status='error', **{HOLD_KEY: 'x'}),
                 snap('ex', '2026-11-20T14:00:00', status='error', owner='someone-else')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'cleanup_errors': True}, NOW)
    assert reasons(plan['prune']) == {'e': ['error cleanup']}
    assert reasons(plan['errors']) == {'eh': ['status error', 'hold']}
    assert ids(plan['ignored']) == ['ex']


# ---------------------------------------------------------------------------
# min_available

def test_min_available_keeps_newest_pruned_back():
    snapshots = [snap(str(n), '2026-11-%02dT12:00:00' % (20 - n)) for n in range(6)]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 3}, NOW)
    assert reasons(plan['keep']) == {'0': ['last'], '1': ['min_available'], '2': ['min_available']}
    assert ids(plan['prune']) == ['3', '4', '5']


def test_min_available_default_is_one():
    # keep_within measured from the newest snapshot always keeps it; min_available guards the rest of the rules
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('b', '2026-11-25T12:00:00')]
    assert normalize_policy({'keep_last': 1}).min_available == 1
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1}, NOW)
    assert ids(plan['keep']) == ['a']


def test_min_available_more_than_available():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('b', '2026-11-25T12:00:00', status='error')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 5}, NOW)
    assert ids(plan['keep']) == ['a'] and ids(plan['errors']) == ['b']


def test_min_available_zero():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('b', '2026-11-25T12:00:00')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert ids(plan['prune']) == ['b']


# ---------------------------------------------------------------------------
# due / min_interval

@pytest.mark.parametrize('created, min_interval, due, reason', [
    ('2026-11-26T17:31:16', '1h', True, 'newest snapshot a (2026-11-26T17:31:16Z) is at least min_interval 1h old'),
    ('2026-11-26T17:31:17', '1h', False, 'newest snapshot a (2026-11-26T17:31:17Z) is younger than min_interval 1h'),
    ('2026-11-26T18:31:16', '0h', True, 'min_interval is 0h, so a new snapshot is always due'),
    ('2026-11-27T18:31:16', '0h', True, 'min_interval is 0h, so a new snapshot is always due'),
    ('2026-11-27T18:31:16', '1h', False, 'newest snapshot a (2026-11-27T18:31:16Z) is younger than min_interval 1h'),
    ('2026-11-25T18:31:16', '1d', True, 'newest snapshot a (2026-11-25T18:31:16Z) is at least min_interval 1d old'),
    ('2026-11-25T18:31:17', '1d', False, 'newest snapshot a (2026-11-25T18:31:17Z) is younger than min_interval 1d'),
    ('1990-01-01T00:00:00', '9999y', False, 'newest snapshot a (1990-01-01T00:00:00Z) is younger than min_interval 9999y'),
    # An hourly schedule: the last run's snapshot was taken 59 min 40 s ago (this run started a little early).
    ('2026-11-26T17:31:36', '1h', False, 'newest snapshot a (2026-11-26T17:31:36Z) is younger than min_interval 1h'),
    ('2026-11-26T17:31:36', '50min', True,
     'newest snapshot a (2026-11-26T17:31:36Z) is at least min_interval 50min old'),
    ('2026-11-26T17:41:17', '50min', False,
     'newest snapshot a (2026-11-26T17:41:17Z) is younger than min_interval 50min'),
])
def test_due(created, min_interval, due, reason):
    plan = plan1([snap('a', created)], {'name': POLICY, 'keep_last': 1, 'min_interval': min_interval}, NOW)
    assert (plan['due'], plan['due_reason']) == (due, reason)
    assert plan['newest'] == {'id': 'a', 'name': 'snap-a', 'status': 'available', 'created_at': format_timestamp(parse_timestamp(created))}


def test_due_uses_calendar_months():
    policy = {'name': POLICY, 'keep_last': 1, 'min_interval': '1m'}
    # 2026-03-31 minus one month is "2026-02-31" = 2026-03-03
    assert plan1([snap('a', '2026-03-03T12:00:00')], policy, '2026-03-31T12:00:00Z')['due'] is True
    assert plan1([snap('a', '2026-03-03T12:00:01')], policy, '2026-03-31T12:00:00Z')['due'] is False


def test_due_counts_creating_and_not_errors():
    policy = {'name': POLICY, 'keep_last': 1}
    plan = plan1([snap('a', '2026-11-20T12:00:00'), snap('c', '2026-11-26T18:00:00', status='creating')], policy, NOW)
    assert plan['due'] is False and plan['newest']['id'] == 'c'
    plan = plan1([snap('e', '2026-11-26T18:00:00', status='error')], policy, NOW)
    assert plan['due'] is True
    assert plan['due_reason'] == 'no available or creating snapshot owned by policy nightly'
    assert plan['newest'] is None
    plan = plan1([snap('x', '2026-11-26T18:00:00', owner='other')], policy, NOW)
    assert (plan['due'], plan['due_reason'], plan['newest']) == (True, 'no snapshot yet', None)


def test_plan_volume_without_snapshots():
    plan = plan_volume('vol-9', [], {'name': POLICY, 'keep_daily': 7}, NOW)
    assert plan == {'volume_id': 'vol-9', 'due': True, 'due_reason': 'no snapshot yet', 'newest': None,
                    'keep': [], 'prune': [], 'errors': [], 'ignored': []}


def test_plan_volume_matches_plan_retention():
    snapshots = [snap('a', '2026-11-26T12:00:00'), snap('b', '2026-11-25T12:00:00'), snap('c', '2026-11-20T12:00:00')]
    policy = {'name': POLICY, 'keep_daily': 2, 'min_available': 0}
    assert plan_volume('vol-1', snapshots, policy, NOW) == plan_retention(snapshots, policy, NOW)['volumes']['vol-1']


def test_plan_volume_rejects_other_volumes():
    with pytest.raises(PolicyError, match=r"^snapshots\[0\] belongs to volume 'vol-1', not 'vol-2'$"):
        plan_volume('vol-2', [snap('a', '2026-11-26T12:00:00')], {'name': POLICY, 'keep_daily': 7}, NOW)


# ---------------------------------------------------------------------------
# ordering, grouping, output

def test_ties_keep_input_order():
    snapshots = [snap('first', '2026-11-26T12:00:00'), snap('second', '2026-11-26T12:00:00.000000Z'),
                 snap('third', '2026-11-26T13:00:00+01:00')]
    plan = plan1(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert ids(plan['keep']) == ['first']
    assert ids(plan['prune']) == ['second', 'third']


def test_grouping_per_volume_and_summary():
    snapshots = [
        snap('a1', '2026-11-26T12:00:00', volume='a'),
        snap('b1', '2026-11-26T12:00:00', volume='b'),
        snap('a2', '2026-11-25T12:00:00', volume='a'),
        snap('a3', '2026-11-24T12:00:00', volume='a', status='error'),
        snap('b2', '2026-11-26T18:00:00', volume='b', owner=None),
    ]
    result = plan_retention(snapshots, {'name': POLICY, 'keep_last': 1, 'min_available': 0}, NOW)
    assert list(result['volumes']) == ['a', 'b']
    assert ids(result['volumes']['a']['keep']) == ['a1'] and ids(result['volumes']['a']['prune']) == ['a2']
    assert ids(result['volumes']['b']['keep']) == ['b1'] and ids(result['volumes']['b']['ignored']) == ['b2']
    assert result['summary'] == {'volumes': 2, 'due': 2, 'keep': 2, 'prune': 1, 'errors': 1, 'ignored': 1}
    assert result['now'] == '2026-11-26T18:31:16Z'
    assert result['policy']['name'] == POLICY
    assert result['policy']['keep_last'] == 1


def test_output_is_plain_json():
    snapshots = [snap('a', datetime(2026, 11, 26, 12)), snap('b', '2026-11-25T12:00:00.5+01:00', status='creating'),
                 snap('c', '2026-11-20T12:00:00', status='error'), snap('d', '2026-11-19T12:00:00', owner=None)]
    result = plan_retention(snapshots, {'name': POLICY, 'keep_daily': 1, 'keep_within': '1d'},
                            datetime(2026, 11, 26, 18, tzinfo=UTC))
    assert json.loads(json.dumps(result)) == result
    entries = [e for vol in result['volumes'].values() for key in ('keep', 'prune', 'errors', 'ignored') for e in vol[key]]
    assert all(e['created_at'].endswith('Z') for e in entries)
    assert sorted(entries[0]) == ['created_at', 'id', 'name', 'reasons', 'status']
    assert result['volumes']['vol-1']['keep'][1]['created_at'] == '2026-11-25T11:00:00.500000Z'


@pytest.mark.parametrize('snapshots, message', [
    ('abc', r'^snapshots must be a list of snapshot dicts, got str$'),
    ({'id': 'a'}, r'^snapshots must be a list of snapshot dicts, got dict$'),
    (None, r'^snapshots must be a list of snapshot dicts, got null$'),
    (['a'], r'^snapshots\[0\] must be a dict, got str$'),
    ([{'id': 'a', 'volume_id': 'v', 'status': 'available'}], r'^snapshots\[0\] has no created_at$'),
    ([{'volume_id': 'v', 'status': 'available', 'created_at': NOW}], r'^snapshots\[0\] has no id$'),
    ([{'id': 'a', 'status': 'available', 'created_at': NOW}], r'^snapshots\[0\] has no volume_id$'),
    ([{'id': 'a', 'volume_id': 'v', 'created_at': NOW}], r'^snapshots\[0\] has no status$'),
    ([{'id': 'a', 'volume_id': 'v', 'status': 'available', 'created_at': NOW, 'metadata': ['x']}],
     r'^snapshots\[0\].metadata must be a dict or null, got list$'),
    ([{'id': 'a', 'volume_id': 'v', 'status': 3, 'created_at': NOW}], r'^snapshots\[0\].status must be a non-empty string, got 3$'),
    ([{'id': 'a', 'volume_id': 'v', 'status': 'available', 'created_at': NOW},
      {'id': 'b', 'volume_id': 'v', 'status': 'available', 'created_at': 'yesterday'}],
     r"^snapshots\[1\].created_at: cannot parse 'yesterday' as an ISO-8601 timestamp$"),
])
def test_bad_snapshots(snapshots, message):
    with pytest.raises(PolicyError, match=message):
        plan_retention(snapshots, {'name': POLICY, 'keep_daily': 7}, NOW)


def test_bad_now():
    with pytest.raises(PolicyError, match=r"^now: cannot parse 'soon' as an ISO-8601 timestamp$"):
        plan_retention([], {'name': POLICY, 'keep_daily': 7}, 'soon')
    with pytest.raises(PolicyError, match=r'^now must be an ISO-8601 string or a datetime, got null$'):
        plan_retention([], {'name': POLICY, 'keep_daily': 7}, None)


# ---------------------------------------------------------------------------
# rules: combinations, time zones, DST, ISO weeks, year boundaries

def keep_of(times, policy, now='2030-01-01T00:00:00Z'):
    """{time: reasons} of the kept snapshots (engine plan, all owned and available, min_available 0)."""
    snapshots = [snap(t, t) for t in times]
    plan = plan1(snapshots, dict(policy, name=POLICY, min_available=0), now)
    return reasons(plan['keep'])


def test_combination_reasons_list_every_rule():
    times = ['2026-11-26T12:00:00Z', '2026-11-26T08:00:00Z', '2026-11-25T13:00:00Z', '2026-11-10T12:00:00Z',
             '2026-10-10T12:00:00Z']
    kept = keep_of(times, {'keep_last': 2, 'keep_daily': 2, 'keep_weekly': 2, 'keep_monthly': 1, 'keep_yearly': 1,
                           'keep_within': '1d'}, now='2026-11-27T00:00:00Z')
    assert kept == {
        '2026-11-26T12:00:00Z': ['within 1d', 'last', 'daily', 'weekly', 'monthly', 'yearly'],
        '2026-11-26T08:00:00Z': ['within 1d', 'last'],
        '2026-11-25T13:00:00Z': ['within 1d', 'daily'],
        '2026-11-10T12:00:00Z': ['weekly'],
    }


def test_unlimited_counts():
    times = ['2026-11-26T12:00:00Z', '2026-11-26T08:00:00Z', '2026-11-25T12:00:00Z', '2026-10-25T12:00:00Z']
    assert keep_of(times, {'keep_daily': -1}) == {
        '2026-11-26T12:00:00Z': ['daily'], '2026-11-25T12:00:00Z': ['daily'], '2026-10-25T12:00:00Z': ['daily']}
    assert len(keep_of(times, {'keep_last': -1})) == 4


def test_oldest_rule_for_count_and_within_tiers():
    times = ['2026-11-26T12:00:00Z', '2026-11-26T08:00:00Z']
    assert keep_of(times, {'keep_daily': 5}) == {'2026-11-26T12:00:00Z': ['daily'], '2026-11-26T08:00:00Z': ['oldest daily']}
    assert keep_of(times, {'keep_daily': 1}) == {'2026-11-26T12:00:00Z': ['daily']}
    assert keep_of(times, {'keep_within_daily': '7d'}) == {
        '2026-11-26T12:00:00Z': ['within_daily 7d'], '2026-11-26T08:00:00Z': ['oldest within_daily 7d']}
    # the oldest snapshot outside the within window is not kept by the within rule
    times.append('2026-11-01T08:00:00Z')
    assert keep_of(times, {'keep_within_daily': '7d'}) == {'2026-11-26T12:00:00Z': ['within_daily 7d']}
    assert keep_of(times, {'keep_within_monthly': '1m'}) == {
        '2026-11-26T12:00:00Z': ['within_monthly 1m'], '2026-11-01T08:00:00Z': ['oldest within_monthly 1m']}


def test_keep_within_is_measured_from_the_newest_snapshot_not_now():
    times = ['2026-01-10T12:00:00Z', '2026-01-05T12:00:00Z', '2026-01-03T12:00:00Z']
    # a broken job: now is months later, but keep_within still keeps the last week of snapshots;
    # 01-03T12:00 is exactly latest - 7d and keep_within keeps only what is strictly newer
    assert keep_of(times, {'keep_within': '7d'}, now='2026-06-01T00:00:00Z') == {
        '2026-01-10T12:00:00Z': ['within 7d'], '2026-01-05T12:00:00Z': ['within 7d']}
    assert keep_of(times, {'keep_within': '7d1h'}, now='2026-06-01T00:00:00Z') == {
        '2026-01-10T12:00:00Z': ['within 7d1h'], '2026-01-05T12:00:00Z': ['within 7d1h'],
        '2026-01-03T12:00:00Z': ['within 7d1h']}
    assert '2026-01-03T12:00:00Z' not in keep_of(times, {'keep_within': '6d23h'}, now='2026-06-01T00:00:00Z')


def test_keep_within_ignores_future_snapshots_for_latest():
    times = ['2026-06-12T00:00:00Z', '2026-06-09T12:00:00Z', '2026-06-08T12:00:00Z', '2026-06-01T00:00:00Z']
    kept = keep_of(times, {'keep_within': '1d'}, now='2026-06-10T00:00:00Z')
    # latest is 06-09T12:00 (06-12 is in the future); the future snapshot is kept, 06-08T12:00 is not strictly newer
    assert kept == {'2026-06-12T00:00:00Z': ['within 1d'], '2026-06-09T12:00:00Z': ['within 1d']}
    # a snapshot exactly at now counts as "in the future" (restic: Before(now) is strict)
    kept = keep_of(times, {'keep_within': '1d'}, now='2026-06-09T12:00:00Z')
    assert sorted(kept) == ['2026-06-08T12:00:00Z', '2026-06-09T12:00:00Z', '2026-06-12T00:00:00Z']


def test_keep_within_when_every_snapshot_is_in_the_future():
    times = ['2026-06-12T00:00:00Z', '2026-06-09T12:00:00Z', '2020-06-01T00:00:00Z']
    # restic's latest is then Go's zero time: every snapshot is "within"
    assert keep_of(times, {'keep_within': '1d'}, now='2019-01-01T00:00:00Z') == dict((t, ['within 1d']) for t in times)
    assert keep_of(times, {'keep_within_yearly': '1d'}, now='2019-01-01T00:00:00Z') == {
        '2026-06-12T00:00:00Z': ['within_yearly 1d'], '2020-06-01T00:00:00Z': ['within_yearly 1d']}
    # count rules do not care about the future
    assert keep_of(times, {'keep_last': 1}, now='2019-01-01T00:00:00Z') == {'2026-06-12T00:00:00Z': ['last']}


def test_keep_within_huge_duration_keeps_everything():
    times = ['2026-06-12T00:00:00Z', '0001-01-01T00:00:00Z', '1000-06-01T00:00:00Z']
    assert keep_of(times, {'keep_within': '9999y'}) == dict((t, ['within 9999y']) for t in times)


@pytest.mark.parametrize('zone, kept, pruned', [
    # 02:30 CEST and 02:30 CET are the same local hour in Berlin
    (BERLIN, ['2026-10-25T02:30:00Z', '2026-10-25T01:30:00Z', '2026-10-24T23:30:00Z'], ['2026-10-25T00:30:00Z']),
    ('UTC', ['2026-10-25T02:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T00:30:00Z', '2026-10-24T23:30:00Z'], []),
])
def test_hourly_across_berlin_fall_back(zone, kept, pruned):
    times = ['2026-10-24T23:30:00Z', '2026-10-25T00:30:00Z', '2026-10-25T01:30:00Z', '2026-10-25T02:30:00Z']
    result = keep_of(times, {'keep_hourly': 10, 'timezone': zone})
    assert sorted(result) == sorted(kept)
    assert all(r == ['hourly'] for r in result.values())
    assert sorted(set(times) - set(result)) == sorted(pruned)


def test_hourly_across_new_york_fall_back():
    # 05:30Z = 01:30 EDT and 06:30Z = 01:30 EST
    times = ['2026-11-01T04:10:00Z', '2026-11-01T05:30:00Z', '2026-11-01T06:30:00Z', '2026-11-01T07:10:00Z']
    assert sorted(keep_of(times, {'keep_hourly': 10, 'timezone': NEW_YORK})) == [
        '2026-11-01T04:10:00Z', '2026-11-01T06:30:00Z', '2026-11-01T07:10:00Z']


def test_hourly_with_half_hour_offset():
    times = ['2026-11-01T00:40:00Z', '2026-11-01T00:20:00Z', '2026-10-31T12:00:00Z']  # 06:10 and 05:50 IST
    assert sorted(keep_of(times, {'keep_hourly': 10, 'timezone': 'Asia/Kolkata'})) == sorted(times)
    assert sorted(keep_of(times, {'keep_hourly': 10})) == ['2026-10-31T12:00:00Z', '2026-11-01T00:40:00Z']


@pytest.mark.parametrize('zone, kept', [
    (NEW_YORK, ['2026-11-02T05:30:00Z', '2026-11-02T04:30:00Z', '2026-11-01T03:30:00Z', '2026-10-30T12:00:00Z']),
    ('UTC', ['2026-11-02T05:30:00Z', '2026-11-01T04:30:00Z', '2026-10-30T12:00:00Z']),
])
def test_daily_across_new_york_fall_back(zone, kept):
    # New York: 11-01T03:30Z is Oct 31 23:30 EDT, 11-01T04:30Z is Nov 1 00:30 EDT,
    # 11-02T04:30Z is Nov 1 23:30 EST (a 25-hour day), 11-02T05:30Z is Nov 2 00:30 EST
    times = ['2026-10-30T12:00:00Z', '2026-11-01T03:30:00Z', '2026-11-01T04:30:00Z', '2026-11-02T04:30:00Z',
             '2026-11-02T05:30:00Z']
    result = keep_of(times, {'keep_daily': 10, 'timezone': zone})
    assert sorted(result) == sorted(kept)


@pytest.mark.parametrize('zone, latest, older, kept', [
    # spring forward: the calendar day before 12:00 CEST is 12:00 CET, 23 hours earlier
    (BERLIN, '2026-03-29T10:00:00Z', '2026-03-28T10:30:00Z', False),
    ('UTC', '2026-03-29T10:00:00Z', '2026-03-28T10:30:00Z', True),
    (BERLIN, '2026-03-29T10:00:00Z', '2026-03-28T11:00:01Z', True),
    # fall back: the calendar day before 13:00 CET is 13:00 CEST, 25 hours earlier
    (BERLIN, '2026-10-25T12:00:00Z', '2026-10-24T11:30:00Z', True),
    ('UTC', '2026-10-25T12:00:00Z', '2026-10-24T11:30:00Z', False),
    (NEW_YORK, '2026-11-01T17:00:00Z', '2026-10-31T16:30:00Z', True),
])
def test_keep_within_days_across_dst(zone, latest, older, kept):
    result = keep_of([latest, older], {'keep_within': '1d', 'timezone': zone})
    assert (older in result) is kept
    assert result[latest] == ['within 1d']


@pytest.mark.parametrize('zone, kept', [
    # 2020 has 53 ISO weeks: Mon 2020-12-28 .. Sun 2021-01-03 is 2020-W53
    ('UTC', ['2021-01-04T12:00:00Z', '2021-01-03T12:00:00Z', '2020-12-20T12:00:00Z']),
])
def test_iso_week_53_of_2020(zone, kept):
    times = ['2020-12-20T12:00:00Z', '2020-12-28T12:00:00Z', '2020-12-31T12:00:00Z', '2021-01-03T12:00:00Z',
             '2021-01-04T12:00:00Z']
    result = keep_of(times, {'keep_weekly': 10, 'timezone': zone})
    assert sorted(result) == sorted(kept)
    # the same snapshots by year: year boundary inside an ISO week
    assert keep_of(times, {'keep_yearly': 10}) == {
        '2021-01-04T12:00:00Z': ['yearly'], '2020-12-31T12:00:00Z': ['yearly'], '2020-12-20T12:00:00Z': ['oldest yearly']}


@pytest.mark.parametrize('zone, kept', [
    # 2027-01-03T23:30Z is Sunday of 2026-W53 in UTC but Monday 2027-W01 00:30 in Berlin
    (BERLIN, ['2027-01-03T23:30:00Z', '2027-01-03T12:00:00Z', '2026-12-20T12:00:00Z']),
    ('UTC', ['2027-01-03T23:30:00Z', '2026-12-20T12:00:00Z']),
])
def test_iso_week_53_of_2026(zone, kept):
    assert date(2026, 12, 28).isocalendar()[:2] == (2026, 53)
    times = ['2026-12-20T12:00:00Z', '2026-12-29T12:00:00Z', '2027-01-03T12:00:00Z', '2027-01-03T23:30:00Z']
    assert sorted(keep_of(times, {'keep_weekly': 10, 'timezone': zone})) == sorted(kept)


@pytest.mark.parametrize('zone, kept', [
    (BERLIN, ['2026-01-31T23:30:00Z', '2026-01-31T12:00:00Z', '2025-12-15T12:00:00Z']),
    ('UTC', ['2026-01-31T23:30:00Z', '2025-12-15T12:00:00Z']),
])
def test_monthly_boundary_in_zone(zone, kept):
    times = ['2025-12-15T12:00:00Z', '2026-01-15T12:00:00Z', '2026-01-31T12:00:00Z', '2026-01-31T23:30:00Z']
    assert sorted(keep_of(times, {'keep_monthly': 10, 'timezone': zone})) == sorted(kept)


@pytest.mark.parametrize('zone, kept', [
    (NEW_YORK, ['2026-01-01T03:00:00Z', '2024-06-01T12:00:00Z']),
    ('UTC', ['2026-01-01T03:00:00Z', '2025-12-31T12:00:00Z', '2024-06-01T12:00:00Z']),
])
def test_yearly_boundary_in_zone(zone, kept):
    times = ['2024-06-01T12:00:00Z', '2025-06-01T12:00:00Z', '2025-12-31T12:00:00Z', '2026-01-01T03:00:00Z']
    assert sorted(keep_of(times, {'keep_yearly': 10, 'timezone': zone})) == sorted(kept)


def test_apply_policy_short_and_restic_styles():
    times = ['2026-11-26T12:00:00Z', '2026-11-26T08:00:00Z']
    policy = {'keep_within_daily': '1m', 'keep_last': 1}
    assert apply_policy(times, policy, NOW) == [(0, ['last', 'within_daily 1m']), (1, ['oldest within_daily 1m'])]
    assert apply_policy(times, policy, NOW, style='restic') == [
        (0, ['last snapshot', 'daily within 1m']), (1, ['oldest daily within 1m'])]


def test_duration_type():
    duration = Duration(1, 2, 3, 4)
    assert duration.years == 1 and duration.hours == 4
    assert str(Duration(0, 0, 0, 0)) == '0h'
    assert Duration(0, 0, 0, 0).is_zero() and not duration.is_zero()


def test_reason_strings_are_documented():
    from ansible_collections.cinderops.snapshots.plugins.module_utils import _retention as retention
    for reason in ('``last``', '``hourly``', '``yearly``', '``oldest <tier>``', '``within <D>``', '``within_<tier> <D>``',
                   '``oldest within_<tier> <D>``', '``hold``', '``hold until <value>``', '``hold until <value> (unparsable)``',
                   '``hold expired <value>``', '``min_available``', '``status <status>``', '``not kept by any rule``',
                   '``error cleanup``', '``not owned by policy <name>``'):
        assert reason in retention.__doc__


def test_the_policy_doc_fragment_documents_the_one_definition():
    """snapshot_rotation's argument spec and the filter validate from POLICY_OPTIONS; the docs must say the same."""
    import yaml
    from ansible_collections.cinderops.snapshots.plugins.doc_fragments.retention_policy import ModuleDocFragment
    from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import POLICY_OPTIONS
    policy = yaml.safe_load(ModuleDocFragment.DOCUMENTATION)['options']['policy']
    documented = policy['suboptions']
    assert list(documented) == list(POLICY_OPTIONS)
    for key, spec in POLICY_OPTIONS.items():
        doc = documented[key]
        assert doc['type'] == spec['type'], key
        assert doc.get('default') == spec.get('default'), key
        text = ' '.join(doc['description'])
        assert 'For example V(' in text or key in ('min_interval', 'cleanup_errors'), key
