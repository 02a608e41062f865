# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""TokenCache with keystoneauth's real AccessInfo, no network."""
from __future__ import annotations

import datetime
import json
import os
import stat

from keystoneauth1 import access

from ansible_collections.cinderops.snapshots.plugins.module_utils._session_cache import TokenCache


def body(expires_in):
    expires = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=expires_in))
    return {"token": {"expires_at": expires.strftime("%Y-%m-%dT%H:%M:%S.000000Z"), "methods": ["password"],
                      "user": {"id": "u", "name": "n", "domain": {"id": "default"}}}}


class FakeAuth(object):
    """The keystoneauth plugin surface TokenCache uses."""

    def __init__(self, cache_id="id-1"):
        self.cache_id = cache_id
        self.auth_ref = None

    def get_cache_id(self):
        return self.cache_id

    def get_auth_state(self):
        return json.dumps({"auth_token": self.auth_ref.auth_token, "body": self.auth_ref._data})

    def set_auth_state(self, data):
        if not data:
            self.auth_ref = None
            return
        state = json.loads(data)
        self.auth_ref = access.create(body=state["body"], auth_token=state["auth_token"])


def test_round_trip_and_mode(tmp_path):
    auth = FakeAuth()
    auth.auth_ref = access.create(body=body(3600), auth_token="tok-1")
    TokenCache(auth, str(tmp_path)).save()
    files = os.listdir(tmp_path)
    assert len(files) == 1 and stat.S_IMODE(os.stat(tmp_path / files[0]).st_mode) == 0o600
    fresh = FakeAuth()
    assert TokenCache(fresh, str(tmp_path)).load() and fresh.auth_ref.auth_token == "tok-1"


def test_soon_expiring_token_is_not_used(tmp_path):
    auth = FakeAuth()
    auth.auth_ref = access.create(body=body(120), auth_token="tok-old")
    TokenCache(auth, str(tmp_path)).save()
    fresh = FakeAuth()
    assert not TokenCache(fresh, str(tmp_path)).load() and fresh.auth_ref is None


def test_other_credentials_do_not_see_the_token(tmp_path):
    auth = FakeAuth("id-1")
    auth.auth_ref = access.create(body=body(3600), auth_token="tok-1")
    TokenCache(auth, str(tmp_path)).save()
    other = FakeAuth("id-2")
    assert not TokenCache(other, str(tmp_path)).load() and other.auth_ref is None


def test_garbage_and_unsafe_files_are_ignored(tmp_path):
    auth = FakeAuth()
    cache = TokenCache(auth, str(tmp_path))
    os.makedirs(os.path.dirname(cache.path), exist_ok=True)
    with open(cache.path, "w") as f:
        f.write("{not json")
    os.chmod(cache.path, 0o600)
    assert not cache.load() and auth.auth_ref is None
    auth.auth_ref = access.create(body=body(3600), auth_token="tok-1")
    cache.save()
    os.chmod(cache.path, 0o644)
    fresh = FakeAuth()
    assert not TokenCache(fresh, str(tmp_path)).load()


def test_plugins_without_cache_id_are_not_cached(tmp_path):
    auth = FakeAuth(None)
    cache = TokenCache(auth, str(tmp_path))
    assert cache.path is None and not cache.load()
    cache.save()
    assert os.listdir(tmp_path) == []
