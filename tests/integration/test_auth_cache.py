# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Keystone token cache (auth_cache) against the real Keystone and Cinder."""
from __future__ import annotations

import glob
import json
import os
import stat

import yaml

import cloudkit
from playbooks import run_tasks

INFO = {"name": "t", "cinderops.snapshots.snapshot_info": {"limit": 1}}


def cache_files(home):
    return sorted(glob.glob(os.path.join(str(home), "cinderops.snapshots", "auth", "*")))


def run(home, cloud="local-admin", task=None):
    result = run_tasks([task or INFO], cloud=cloud, env={"XDG_CACHE_HOME": str(home)})
    return result.task("t")


def token_of(path):
    with open(path) as f:
        return json.load(f)["auth_token"]


def test_token_is_cached_per_user_and_reused(tmp_path, cloud):
    assert run(tmp_path)["outcome"] == "ok"
    files = cache_files(tmp_path)
    assert len(files) == 1
    info = os.stat(files[0])
    assert stat.S_IMODE(info.st_mode) == 0o600 and stat.S_IMODE(os.stat(os.path.dirname(files[0])).st_mode) == 0o700
    token, mtime = token_of(files[0]), info.st_mtime
    assert run(tmp_path)["outcome"] == "ok"
    assert cache_files(tmp_path) == files and token_of(files[0]) == token and os.stat(files[0]).st_mtime == mtime
    # Another user gets a cache of its own, never admin's token.
    assert run(tmp_path, cloud="local-demo")["outcome"] == "ok"
    files2 = cache_files(tmp_path)
    assert len(files2) == 2 and token not in [token_of(f) for f in files2 if f not in files]
    # The password is not in the cache.
    with open(cloudkit.CLOUDS_YAML) as f:
        password = yaml.safe_load(f)["clouds"]["local-admin"]["auth"]["password"]
    assert all(password not in open(f).read() for f in files2)


def test_refused_token_is_replaced(tmp_path, cloud):
    run(tmp_path)
    path = cache_files(tmp_path)[0]
    with open(path) as f:
        state = json.load(f)
    state["auth_token"] = "gAAAAAB-not-a-token"
    with open(path, "w") as f:
        json.dump(state, f)
    task = run(tmp_path)
    assert task["outcome"] == "ok", task["result"]
    assert token_of(path) != "gAAAAAB-not-a-token"


def test_unsafe_cache_file_is_ignored_and_rewritten(tmp_path, cloud):
    run(tmp_path)
    path = cache_files(tmp_path)[0]
    os.chmod(path, 0o644)
    token = token_of(path)
    assert run(tmp_path)["outcome"] == "ok"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and token_of(path) != token


def test_auth_cache_false_writes_nothing(tmp_path, cloud):
    task = {"name": "t", "cinderops.snapshots.snapshot_info": {"limit": 1, "auth_cache": False}}
    assert run(tmp_path, task=task)["outcome"] == "ok"
    assert cache_files(tmp_path) == []


def test_wrong_password_never_uses_the_cached_token(tmp_path, cloud):
    run(tmp_path)
    with open(cloudkit.CLOUDS_YAML) as f:
        auth = yaml.safe_load(f)["clouds"]["local-admin"]["auth"]
    task = {"name": "t", "cinderops.snapshots.snapshot_info": {
        "cloud": None, "auth": dict(auth, password="wrong"), "auth_type": "password", "limit": 1}}
    result = run(tmp_path, cloud=None, task=task)
    assert result["outcome"] == "failed" and "authentication failed" in result["result"]["msg"]


def test_token_from_another_cloud_instance_is_replaced(tmp_path, cloud):
    """A cache written against an earlier cloud at the same URL: refused token, catalog with another project."""
    run(tmp_path)
    path = cache_files(tmp_path)[0]
    with open(path) as f:
        state = json.load(f)
    project = state["body"]["token"]["project"]["id"]
    other = "0" * 32
    text = json.dumps(state).replace(project, other).replace(state["auth_token"], "gAAAAAB-from-an-old-cloud")
    with open(path, "w") as f:
        f.write(text)
    for _i in range(2):
        task = run(tmp_path)
        assert task["outcome"] == "ok", task["result"]
    with open(path) as f:
        fresh = json.load(f)
    assert fresh["body"]["token"]["project"]["id"] == project and fresh["auth_token"] != "gAAAAAB-from-an-old-cloud"
