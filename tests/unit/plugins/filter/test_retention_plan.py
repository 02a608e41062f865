# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.cinderops.snapshots.plugins.filter import retention_plan as plugin
from ansible_collections.cinderops.snapshots.plugins.filter.retention_plan import FilterModule
from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import OWNER_KEY, plan_retention

NOW = '2026-11-26T18:31:16Z'
POLICY = {'name': 'nightly', 'keep_daily': 2, 'keep_weekly': 1, 'timezone': 'Europe/Berlin'}


def _snap(sid, created, volume='vol-1', status='available', owner='nightly'):
    return {'id': sid, 'volume_id': volume, 'name': sid, 'status': status, 'created_at': created,
            'metadata': {OWNER_KEY: owner} if owner else None}


SNAPSHOTS = [
    _snap('a', '2026-11-26T12:00:00.000000'),
    _snap('b', '2026-11-26T08:00:00.000000'),
    _snap('c', '2026-11-25T12:00:00.000000'),
    _snap('d', '2026-11-20T12:00:00.000000'),
    _snap('e', '2026-11-10T12:00:00.000000', status='error'),
    _snap('x', '2026-11-26T17:00:00.000000', owner=None),
    _snap('v2', '2026-11-01T12:00:00.000000', volume='vol-2'),
]


def retention_plan(*args, **kwargs):
    return FilterModule().filters()['retention_plan'](*args, **kwargs)


def test_filter_is_registered():
    filters = FilterModule().filters()
    assert list(filters) == ['retention_plan']
    assert callable(filters['retention_plan'])


def test_filter_equals_engine():
    result = retention_plan(SNAPSHOTS, POLICY, now=NOW)
    assert result == plan_retention(SNAPSHOTS, POLICY, NOW)
    volume = result['volumes']['vol-1']
    assert [entry['id'] for entry in volume['keep']] == ['a', 'c']
    assert [entry['id'] for entry in volume['prune']] == ['b', 'd']
    assert [entry['id'] for entry in volume['errors']] == ['e']
    assert [entry['id'] for entry in volume['ignored']] == ['x']
    assert result['summary'] == {'volumes': 2, 'due': 2, 'keep': 3, 'prune': 2, 'errors': 1, 'ignored': 1}
    assert json.loads(json.dumps(result)) == result


def test_filter_policy_name_and_datetime_now():
    now = datetime(2026, 11, 26, 18, 31, 16, tzinfo=timezone.utc)
    policy = dict(POLICY)
    del policy['name']
    result = retention_plan(SNAPSHOTS, policy, now=now, policy_name='nightly')
    assert result == plan_retention(SNAPSHOTS, POLICY, NOW)


def test_filter_now_defaults_to_current_time():
    before = datetime.now(timezone.utc).replace(microsecond=0)
    result = retention_plan(SNAPSHOTS, POLICY)
    after = datetime.now(timezone.utc) + timedelta(seconds=1)
    now = datetime.strptime(result['now'][:19], '%Y-%m-%dT%H:%M:%S').replace(tzinfo=timezone.utc)
    assert before <= now <= after


def test_filter_accepts_tuples_and_empty_lists():
    assert retention_plan((), POLICY, now=NOW)['volumes'] == {}
    assert retention_plan(tuple(SNAPSHOTS), POLICY, now=NOW) == retention_plan(SNAPSHOTS, POLICY, now=NOW)


@pytest.mark.parametrize('args, kwargs, message', [
    (('abc', POLICY), {'now': NOW}, r'^retention_plan: the input must be a list of snapshot dicts, got str$'),
    (({'id': 'a'}, POLICY), {'now': NOW}, r'^retention_plan: the input must be a list of snapshot dicts, got dict$'),
    ((None, POLICY), {'now': NOW}, r'^retention_plan: the input must be a list of snapshot dicts, got null$'),
    ((42, POLICY), {'now': NOW}, r'^retention_plan: the input must be a list of snapshot dicts, got int$'),
    ((SNAPSHOTS,), {'now': NOW}, r'^retention_plan: a policy \(dict\) is required'),
    ((SNAPSHOTS, ['keep_daily', 7]), {'now': NOW}, r'^retention_plan: policy must be a dict, got list$'),
    ((SNAPSHOTS, 'keep_daily=7'), {'now': NOW}, r'^retention_plan: policy must be a dict, got str$'),
    ((SNAPSHOTS, POLICY), {'now': 'tomorrow'},
     r"^retention_plan: now: cannot parse 'tomorrow' as an ISO-8601 timestamp$"),
    ((SNAPSHOTS, POLICY), {'now': 12}, r'^retention_plan: now must be an ISO-8601 string or a datetime, got int$'),
    ((SNAPSHOTS, {'name': 'nightly'}), {'now': NOW}, r'^retention_plan: policy has no keep_\* rule'),
    ((SNAPSHOTS, {}), {'now': NOW}, r'^retention_plan: policy has no keep_\* rule'),
    ((SNAPSHOTS, {'keep_daily': 7}), {'now': NOW},
     r'^retention_plan: policy name is required: pass policy_name or set policy.name'),
    ((SNAPSHOTS, {'keep_daily': 7}), {'now': NOW, 'policy_name': 5}, r'^retention_plan: policy_name must be a string, got int$'),
    ((SNAPSHOTS, dict(POLICY, keep_dialy=3)), {'now': NOW},
     r'^retention_plan: unsupported policy key policy.keep_dialy. Supported parameters include: cleanup_errors, '),
    ((SNAPSHOTS, dict(POLICY, keep_daily='seven')), {'now': NOW},
     r"^retention_plan: argument 'keep_daily' is of type str found in 'policy'. and we were unable to convert to int"),
    ((SNAPSHOTS, dict(POLICY, cleanup_errors='maybe')), {'now': NOW},
     r"^retention_plan: argument 'cleanup_errors' is of type str .* convert to bool"),
    ((SNAPSHOTS, dict(POLICY, keep_within='1w')), {'now': NOW}, r"^retention_plan: keep_within: invalid duration '1w'"),
    ((SNAPSHOTS, dict(POLICY, timezone='Moon/Base')), {'now': NOW}, r"^retention_plan: timezone: unknown time zone 'Moon/Base'"),
    ((['a'], POLICY), {'now': NOW}, r'^retention_plan: snapshots\[0\] must be a dict, got str$'),
    (([{'id': 'a', 'volume_id': 'v', 'status': 'available'}], POLICY), {'now': NOW},
     r'^retention_plan: snapshots\[0\] has no created_at$'),
])
def test_filter_errors(args, kwargs, message):
    with pytest.raises(AnsibleFilterError, match=message) as excinfo:
        retention_plan(*args, **kwargs)
    assert '\n' not in str(excinfo.value.message)


def test_documentation_is_valid_yaml():
    doc = yaml.safe_load(plugin.DOCUMENTATION)
    assert doc['name'] == 'retention_plan'
    assert doc['version_added'] == '1.0.0'
    assert set(doc['options']) == {'_input', 'now', 'policy_name'}  # policy comes from the doc fragment
    assert doc['extends_documentation_fragment'] == ['cinderops.snapshots.retention_policy']
    assert doc['positional'] == '_input, policy'
    examples = yaml.safe_load(plugin.EXAMPLES)
    assert isinstance(examples, list) and examples
    assert '_value' in yaml.safe_load(plugin.RETURN)


@pytest.mark.parametrize('kind, name', [('filter', 'cinderops.snapshots.retention_plan'),
                                        ('module', 'cinderops.snapshots.snapshot_rotation')])
def test_ansible_doc_shows_every_policy_key_as_a_typed_suboption(kind, name):
    import json
    import os
    import subprocess
    import sys
    from ansible_collections.cinderops.snapshots.plugins.module_utils._retention import POLICY_OPTIONS
    doc_cmd = os.path.join(os.path.dirname(sys.executable), 'ansible-doc')
    res = subprocess.run([doc_cmd, '-t', kind, '--json', name], capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    policy = json.loads(res.stdout)[name]['doc']['options']['policy']
    assert policy['required'] is True and policy['type'] == 'dict'
    got = dict((key, (doc['type'], doc.get('default'))) for key, doc in policy['suboptions'].items())
    assert got == dict((key, (spec['type'], spec.get('default'))) for key, spec in POLICY_OPTIONS.items())
