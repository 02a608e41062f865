# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Modules' argument handling: bad input fails with one clear line before any connection is made."""
from __future__ import annotations

import json

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.cinderops.snapshots.plugins.module_utils import _module
from ansible_collections.cinderops.snapshots.plugins.modules import snapshot, snapshot_info, snapshot_metadata


@pytest.fixture(autouse=True)
def no_connection(monkeypatch):
    """Any attempt to connect fails the test: these checks must happen first."""
    def refuse(self):
        raise AssertionError("connect() was called")
    monkeypatch.setattr(_module.CinderopsModule, "connect", refuse)


def run_module(module_class, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exit_info:
            module_class()()
    out = json.loads(capsys.readouterr().out)
    return exit_info.value.code, out


@pytest.mark.parametrize("args, expect", [
    ({"volume": "v", "name": "a", "timeout": 0}, "timeout must be greater than 0"),
    ({"name": "a"}, "volume is required"),
    ({"volume": "v"}, "one of the following is required: id, name"),
    ({"volume": "v", "name": "x" * 256}, "name is 256 characters long"),
    ({"volume": "v", "name": "a", "description": "1\n2"}, "description must not contain a newline"),
    ({"volume": "v", "name": "a", "metadata": {"a/b": "c"}}, "metadata key 'a/b' is not accepted"),
    ({"volume": "v", "name": "a", "state": "gone"}, "value of state must be one of: present, absent"),
])
def test_snapshot_bad_input(args, expect, capsys):
    code, out = run_module(snapshot.SnapshotModule, args, capsys)
    assert code == 1 and out["failed"] and expect in out["msg"]
    assert "most recent call last" not in json.dumps(out)


# Regression tests for issue 10: inputs that did surprising, unsafe things. Each fails before any connection.
@pytest.mark.parametrize("args, expect", [
    ({"volume": "v", "name": ""}, "name must not be empty or blank"),
    ({"volume": "v", "name": "  ", "state": "absent"}, "name must not be empty or blank"),
    ({"volume": "", "name": "a"}, "volume must not be empty"),
    ({"id": "not-a-uuid", "state": "absent"}, "id must be a Cinder id"),
    ({"id": "2bb856e1-b3d8-4432-a858-09e4ce93938", "state": "absent"}, "id must be a Cinder id"),
    ({"volume": "v", "name": "a", "api_timeout": 0}, "api_timeout must be greater than 0"),
    ({"volume": "v", "name": "a", "api_timeout": -1}, "api_timeout must be greater than 0"),
    ({"volume": "v", "name": "a", "cloud": ""}, "cloud must not be empty"),
    ({"volume": "v", "name": "a", "auth_type": ""}, "auth_type must not be empty"),
    ({"volume": "v", "name": "a", "region_name": " "}, "region_name must not be empty"),
])
def test_snapshot_unsafe_input_fails_before_connecting(args, expect, capsys):
    code, out = run_module(snapshot.SnapshotModule, args, capsys)
    assert code == 1 and out["failed"] and expect in out["msg"], out


@pytest.mark.parametrize("args, expect", [
    ({"id": "not-a-uuid"}, "id must be a Cinder id"),
    ({"marker": "last"}, "marker must be a Cinder id"),
    ({"name": ""}, "name must not be empty or blank"),
    ({"volume": " "}, "volume must not be empty"),
    ({"api_timeout": 0}, "api_timeout must be greater than 0"),
])
def test_info_unsafe_input_fails_before_connecting(args, expect, capsys):
    code, out = run_module(snapshot_info.SnapshotInfoModule, args, capsys)
    assert code == 1 and out["failed"] and expect in out["msg"], out


def test_snapshot_secrets_are_no_log():
    spec = _module.connection_argument_spec()
    assert spec["auth"]["no_log"] and spec["client_key"]["no_log"]
    assert spec["validate_certs"].get("default") is None  # the cloud config decides; TLS on unless it says off


def test_snapshot_aliases_match_openstack_cloud(capsys):
    code, out = run_module(snapshot.SnapshotModule, {"display_name": "a", "timeout": -1, "volume": "v"}, capsys)
    assert "timeout" in out["msg"]


@pytest.mark.parametrize("args, expect", [
    ({"limit": -1}, "limit must be 0 or more"),
    ({"sort": ["name:sideways"]}, "must be key or key:asc or key:desc"),
    ({"sort": ["name"], "sort_key": "name"}, "mutually exclusive"),
    ({"metadata": {"": "x"}}, "is not accepted"),
])
def test_info_bad_input(args, expect, capsys):
    code, out = run_module(snapshot_info.SnapshotInfoModule, args, capsys)
    assert code == 1 and expect in out["msg"]


SID = "2bb856e1-b3d8-4432-a858-09e4ce939389"


@pytest.mark.parametrize("args, expect", [
    ({"id": SID}, "one of the following is required: metadata, keys"),
    ({"id": SID, "keys": ["a"]}, "state is present but all of the following are missing: metadata"),
    ({"id": SID, "keys": ["cinderops:policy"], "state": "absent"}, "reserved cinderops: namespace"),
    ({"id": SID, "keys": ["a/b"], "state": "absent"}, "key 'a/b' is not accepted"),
    ({"id": SID, "metadata": {"k": ["v"]}}, "must be a string"),
    ({"id": SID, "metadata": {"k": "v"}, "keys": ["k"], "purge": True, "state": "absent"}, "mutually exclusive"),
    ({"id": "not-a-uuid", "metadata": {"k": "v"}}, "id must be a Cinder id"),
    ({"volume": "v", "name": "  ", "metadata": {"k": "v"}}, "name must not be empty or blank"),
])
def test_metadata_bad_input(args, expect, capsys):
    code, out = run_module(snapshot_metadata.SnapshotMetadataModule, args, capsys)
    assert code == 1 and expect in out["msg"]


@pytest.mark.parametrize("policy", [3, 2.5, True])
def test_a_scalar_policy_is_refused_in_ansibles_words_not_a_traceback(policy, capsys):
    """ansible-core looked into a number given to a dict option with suboptions and died (found by the fuzzer)."""
    from ansible_collections.cinderops.snapshots.plugins.modules import snapshot_rotation
    args = {"policy_name": "p", "policy": policy, "volumes": ["v"]}
    code, out = run_module(snapshot_rotation.SnapshotRotationModule, args, capsys)
    assert code == 1 and out["failed"]
    assert "argument 'policy' is of type" in out["msg"] and "unable to convert to dict" in out["msg"]
    assert "most recent call last" not in json.dumps(out)


def test_only_the_scalar_option_loses_its_suboptions():
    spec = {"policy": {"type": "dict", "options": {"a": {"type": "int"}}},
            "items": {"type": "list", "elements": "dict", "options": {"b": {}}, "aliases": ["entries"]},
            "other": {"type": "dict", "options": {"c": {}}}}
    guarded = _module.without_crashing_sub_specs(spec, given={"policy": 3, "entries": [{"b": 1}, 7], "other": {}})
    assert "options" not in guarded["policy"] and "options" not in guarded["items"]
    assert guarded["other"] is spec["other"] and spec["policy"]["options"]  # the original is left alone
    assert _module.without_crashing_sub_specs(spec, given={"policy": {"a": 1}}) == spec
