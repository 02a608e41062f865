# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The caches: the resumable-session record (fingerprint, store, keeper)."""
from __future__ import annotations

import os
import stat

import pytest

from session_records import NOW, record

from ansible_collections.cinderops.snapshots.plugins.module_utils import _session_cache, _transport
from ansible_collections.cinderops.snapshots.plugins.module_utils._session_cache import (
    SessionStore, file_signature, fingerprint)


@pytest.fixture
def store(tmp_path):
    return SessionStore(str(tmp_path / "sessions"), min_life=300, now=lambda: NOW)


@pytest.fixture
def clouds_yaml(tmp_path):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds: {}\n")
    return str(path)


# ------------------------------------------------------------------ fingerprint

def test_fingerprint_changes_with_every_input():
    base = fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "PATH": "/bin"}, 0)
    assert base == fingerprint({"auth": {"password": "p"}, "cloud": "a"}, {"PATH": "/bin", "OS_CLOUD": "x"}, 0)
    variants = [
        fingerprint({"cloud": "a", "auth": {"password": "q"}}, {"OS_CLOUD": "x"}, 0),  # another password
        fingerprint({"cloud": "b", "auth": {"password": "p"}}, {"OS_CLOUD": "x"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "y"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "XDG_CONFIG_HOME": "/c"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "REQUESTS_CA_BUNDLE": "/ca"}, 0),
        fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x"}, 1000),
    ]
    assert base not in variants and len(set(variants)) == len(variants)
    # Unrelated variables do not matter.
    assert base == fingerprint({"cloud": "a", "auth": {"password": "p"}}, {"OS_CLOUD": "x", "PATH": "/usr/bin"}, 0)


def test_fingerprint_does_not_contain_the_secret():
    key = fingerprint({"auth": {"password": "hunter2"}}, {}, 0)
    assert "hunter2" not in key and len(key) == 64


# ------------------------------------------------------------------ store

def test_round_trip_is_private(store, clouds_yaml, tmp_path):
    assert store.save("k", record(), [clouds_yaml, str(tmp_path / "absent.yaml")])
    path = os.path.join(store.directory, "k")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(store.directory).st_mode) == 0o700
    loaded = store.load("k")
    assert loaded["token"] == "tok-1" and loaded["endpoint"].endswith("/v3/p1")
    assert loaded["files"][clouds_yaml] == file_signature(clouds_yaml)
    assert loaded["files"][str(tmp_path / "absent.yaml")] is None
    assert store.load("other-key") is None


def test_changed_config_file_invalidates(store, clouds_yaml):
    store.save("k", record(), [clouds_yaml])
    with open(clouds_yaml, "a") as f:
        f.write("# edited\n")
    assert store.load("k") is None


def test_config_file_that_appears_invalidates(store, tmp_path):
    later = tmp_path / "secure.yaml"
    store.save("k", record(), [str(later)])
    assert store.load("k") is not None
    later.write_text("clouds: {}\n")
    assert store.load("k") is None


def test_relative_candidates_are_checked_in_the_current_directory(store, tmp_path, monkeypatch):
    first, second = tmp_path / "run1", tmp_path / "run2"
    first.mkdir()
    second.mkdir()
    monkeypatch.chdir(first)
    store.save("k", record(), ["clouds.yaml"])
    monkeypatch.chdir(second)
    assert store.load("k") is not None  # a fresh directory without its own clouds.yaml
    (second / "clouds.yaml").write_text("clouds: {}\n")
    assert store.load("k") is None


def test_removed_file_invalidates(store, clouds_yaml):
    # The SDK's own __init__.py is one of the files: uninstalling or upgrading it invalidates.
    store.save("k", record(), [clouds_yaml])
    os.unlink(clouds_yaml)
    assert store.load("k") is None


@pytest.mark.parametrize("expires_in, usable", [(3600, True), (301, True), (299, False), (-10, False)])
def test_token_must_have_min_life_left(store, clouds_yaml, expires_in, usable):
    store.save("k", record(expires_at=NOW + expires_in), [clouds_yaml])
    assert (store.load("k") is not None) is usable


def test_loose_permissions_or_garbage_are_ignored(store, clouds_yaml):
    store.save("k", record(), [clouds_yaml])
    path = os.path.join(store.directory, "k")
    os.chmod(path, 0o644)
    assert store.load("k") is None
    os.chmod(path, 0o600)
    with open(path, "w") as f:
        f.write("{not json")
    assert store.load("k") is None
    with open(path, "w") as f:
        f.write('{"format": 1, "token": "t"}')  # keys missing
    assert store.load("k") is None


def test_forget_removes_and_unwritable_store_only_costs_speed(tmp_path, clouds_yaml):
    store = SessionStore(str(tmp_path / "s"), now=lambda: NOW)
    store.save("k", record(), [clouds_yaml])
    store.forget("k")
    assert store.load("k") is None
    store.forget("k")  # twice is fine
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert SessionStore(str(blocker / "sub"), now=lambda: NOW).save("k", record(), []) is False


class CountingStore(object):
    def __init__(self):
        self.saved = []

    def save(self, key, record, files):
        self.saved.append((key, record["token"], record["microversion"]))
        return True


def test_keeper_writes_once_per_token_and_microversion_and_never_for_a_resumed_session():
    store = CountingStore()
    keeper = _session_cache.SessionKeeper(store, "k")
    from test__transport import fake_conn
    conn = fake_conn()
    transport = _transport.SdkTransport(conn)
    for _i in range(3):
        keeper.remember(transport, "3.66", False)
    assert store.saved == [("k", "tok-sdk", "3.66")]
    keeper.remember(transport, "3.60", True)  # negotiated down
    conn.session.auth.auth_ref.auth_token = "tok-new"  # keystoneauth logged in again
    keeper.remember(transport, "3.60", True)
    assert store.saved[1:] == [("k", "tok-sdk", "3.60"), ("k", "tok-new", "3.60")]
    keeper.remember(_transport.ResumedTransport(record()), "3.66", False)
    assert len(store.saved) == 3
