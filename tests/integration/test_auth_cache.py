# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Keystone token cache and resumed sessions (auth_cache) against the real Keystone and Cinder."""
from __future__ import annotations

import glob
import json
import os
import shutil
import socket
import stat
import sys

import pytest
import yaml

import cloudkit
from playbooks import run_tasks

INFO = {"name": "t", "cinderops.snapshots.snapshot_info": {"limit": 1}}


def cache_files(home):
    return sorted(glob.glob(os.path.join(str(home), "cinderops.snapshots", "auth", "*")))


def session_files(home):
    return sorted(glob.glob(os.path.join(str(home), "cinderops.snapshots", "sessions", "*")))


def forget_sessions(home):
    """Drop the resumable sessions, so that the next run goes through openstacksdk and the token cache."""
    shutil.rmtree(os.path.join(str(home), "cinderops.snapshots", "sessions"), ignore_errors=True)


def read_record(path):
    with open(path) as f:
        return json.load(f)


def write_record(path, record):
    with open(path, "w") as f:
        json.dump(record, f)


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
    forget_sessions(tmp_path)
    task = run(tmp_path)
    assert task["outcome"] == "ok", task["result"]
    assert token_of(path) != "gAAAAAB-not-a-token"


def test_unsafe_cache_file_is_ignored_and_rewritten(tmp_path, cloud):
    run(tmp_path)
    path = cache_files(tmp_path)[0]
    os.chmod(path, 0o644)
    token = token_of(path)
    forget_sessions(tmp_path)
    assert run(tmp_path)["outcome"] == "ok"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and token_of(path) != token


def test_auth_cache_false_writes_nothing(tmp_path, cloud):
    task = {"name": "t", "cinderops.snapshots.snapshot_info": {"limit": 1, "auth_cache": False}}
    assert run(tmp_path, task=task)["outcome"] == "ok"
    assert cache_files(tmp_path) == [] and session_files(tmp_path) == []


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
    forget_sessions(tmp_path)
    for _i in range(2):
        task = run(tmp_path)
        assert task["outcome"] == "ok", task["result"]
    with open(path) as f:
        fresh = json.load(f)
    assert fresh["body"]["token"]["project"]["id"] == project and fresh["auth_token"] != "gAAAAAB-from-an-old-cloud"


# ---------------------------------------------------------------- resumed sessions

def imports_of(run_result_log):
    with open(run_result_log) as f:
        return set(line.rsplit("|", 1)[-1].strip() for line in f if line.startswith("import time:"))


def traced_run(home, log, cloud="local-admin", task=None, env=None):
    """A run whose module process logs its imports (python -X importtime) to ``log``."""
    wrapper = os.path.join(str(home), "python-importtime")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec %s -X importtime \"$@\" 2>>%s\n" % (sys.executable, log))
    os.chmod(wrapper, 0o755)
    if os.path.exists(log):
        os.unlink(log)
    result = run_tasks([task or INFO], cloud=cloud, env=dict({"XDG_CACHE_HOME": str(home)}, **(env or {})),
                       extra_vars={"ansible_python_interpreter": wrapper})
    return result.task("t"), imports_of(log)


@pytest.mark.smoke
def test_rerun_resumes_the_session_without_openstacksdk(tmp_path, cloud):
    log = str(tmp_path / "imports.log")
    first, imported = traced_run(tmp_path, log)
    assert first["outcome"] == "ok", first["result"]
    assert "openstack" in imported  # the first run connects in full ...
    records = session_files(tmp_path)
    assert len(records) == 1 and stat.S_IMODE(os.stat(records[0]).st_mode) == 0o600
    record = read_record(records[0])
    assert record["endpoint"].startswith("http://127.0.0.1:") and "/v3/" in record["endpoint"]
    assert "admin" in record["roles"] and record["microversion"] == "3.66"
    with open(cloudkit.CLOUDS_YAML) as f:
        password = yaml.safe_load(f)["clouds"]["local-admin"]["auth"]["password"]
    assert password not in open(records[0]).read()
    log_requests = cloudkit.RequestLog()
    second, imported = traced_run(tmp_path, log)
    assert second["outcome"] == "ok", second["result"]
    assert "openstack" not in imported and "requests" not in imported  # ... a rerun needs neither,
    # nor Ansible's urls wrapper, which pulls in cryptography and is compiled from source in every run
    assert "ansible.module_utils.urls" not in imported and "cryptography" not in imported
    assert "urllib.request" in imported
    assert second["result"]["snapshots"] == first["result"]["snapshots"]
    assert log_requests.keystone() == [] and len(log_requests.cinder()) == 1


def test_refused_recorded_token_connects_in_full_and_rewrites_the_record(tmp_path, cloud):
    assert run(tmp_path)["outcome"] == "ok"
    path = session_files(tmp_path)[0]
    record = read_record(path)
    write_record(path, dict(record, token="gAAAAAB-not-a-token"))
    task = run(tmp_path)
    assert task["outcome"] == "ok", task["result"]
    assert read_record(path)["token"] not in ("gAAAAAB-not-a-token", None)


def test_unreachable_recorded_endpoint_connects_in_full(tmp_path, cloud):
    assert run(tmp_path)["outcome"] == "ok"
    path = session_files(tmp_path)[0]
    record = read_record(path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    write_record(path, dict(record, endpoint="http://127.0.0.1:%d/v3/x" % closed))
    task = run(tmp_path)
    assert task["outcome"] == "ok", task["result"]
    assert read_record(path)["endpoint"] == record["endpoint"]


def test_changed_clouds_yaml_is_read_again(tmp_path, cloud):
    """A record never outlives the config it came from: a wrong password in an edited clouds.yaml fails."""
    config = tmp_path / "clouds.yaml"
    shutil.copy(cloudkit.CLOUDS_YAML, str(config))
    env = {"OS_CLIENT_CONFIG_FILE": str(config)}
    assert run_tasks([INFO], env=dict(env, XDG_CACHE_HOME=str(tmp_path))).task("t")["outcome"] == "ok"
    assert len(session_files(tmp_path)) == 1
    data = yaml.safe_load(config.read_text())
    data["clouds"]["local-admin"]["auth"]["password"] = "wrong"
    config.write_text(yaml.safe_dump(data))
    task = run_tasks([INFO], env=dict(env, XDG_CACHE_HOME=str(tmp_path))).task("t")
    assert task["outcome"] == "failed" and "authentication failed" in task["result"]["msg"]
