# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation role and the collection playbook cinderops.snapshots.rotate, against the real local cloud:
report, idempotence, check mode, freshness, failures, secrets, a three-project fleet, and an AWX-style run."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timezone

import pytest
import yaml

import cloudkit
from cloudkit import REPO, RequestLog, unique
from playbooks import run_playbook
from restic_oracle import restic_kept

SAMPLE = os.path.join(REPO, "tests", "cloud", "sample.py")
PLAYBOOK = "cinderops.snapshots.rotate"
COUNTS = {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 2}
RULES = dict(COUNTS, min_interval="20h")


def sample(action, prefix, cloud="local-admin", volumes=2, size="full"):
    res = subprocess.run([sys.executable, SAMPLE, action, "--prefix", prefix, "--volumes", str(volumes), "--cloud", cloud,
                          "--policy", "nightly", "--history", size], capture_output=True, text=True, timeout=600,
                         check=False)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def history(cloud):
    """Two volumes with two years of history (40 or 41 snapshots each, by the calendar), shared by the tests
    below in file order: the ones that change nothing first, then the rotation itself."""
    prefix = unique("rot")
    made = sample("make", prefix)
    HISTORY[:] = [datetime.strptime(t, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc) for t in made["history"]]
    yield prefix, made["volumes"]
    sample("clean", prefix)


# The fixture's snapshot times (one history, the same on each volume).
HISTORY = []


def expected_counts():
    """(kept, pruned) per volume once a rotation now adds its snapshot. How many the tiers share depends on
    the calendar (a month's first day among the dailies, a week's newest also the month's), so the
    expectation is worked out from the history's times, apart from the engine."""
    times = dict(enumerate(HISTORY), new=datetime.now(timezone.utc))
    kept = len(restic_kept(times, COUNTS))
    return kept, len(times) - kept


@pytest.fixture
def small_history(cloud):
    prefix = unique("rots")
    made = sample("make", prefix, size="small")
    yield prefix, made["volumes"]
    sample("clean", prefix)


def vars_file(tmp_path, prefix, **extra):
    data = {"rotation_cloud": "local-admin", "rotation_report_dir": str(tmp_path / "reports"),
            "rotation_report_name": "report",
            "rotation_policies": [{"name": "nightly", "volume_metadata": {"rotation": prefix}, "retention": RULES}]}
    data.update(extra)
    path = tmp_path / "vars.yml"
    path.write_text(yaml.safe_dump(data))
    return "@%s" % path


def rotation_task(run):
    return run.task("Rotate the snapshots of each policy")


def test_check_mode_plans_without_writing(history, tmp_path):
    prefix, _volumes = history
    log = RequestLog()
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix)], check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert log.writes() == []
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    _kept, pruned = expected_counts()
    assert report["check_mode"] and report["totals"]["pruned"] == 2 * pruned
    assert "check mode" in (tmp_path / "reports" / "report.md").read_text()


def test_rotation_check_mode_is_a_dry_run_that_publishes_plans(history, tmp_path):
    """Issue 13: the schedule role's docs once suggested a rotation_dry_run that nothing read."""
    prefix, _volumes = history
    log = RequestLog()
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix, rotation_check_mode=True)])
    assert run.rc == 0, run.stdout[-3000:]
    assert log.writes() == []
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    _kept, pruned = expected_counts()
    assert report["check_mode"] and report["totals"]["pruned"] == 2 * pruned
    assert rotation_task(run)["result"]["results"][0]["plan"]["fingerprint"].startswith("sha256:")


def test_unset_connection_options_leave_the_cloud_configuration_alone(history, tmp_path):
    """Issue 13: rotation_validate_certs defaulted to true and was always passed on, overriding a cloud's verify."""
    prefix, _volumes = history
    invocation = {"ANSIBLE_INJECT_INVOCATION": "1"}  # ansible-core 2.19 and newer return it only when asked
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix)], check=True, env=invocation)
    assert run.rc == 0, run.stdout[-3000:]
    args = rotation_task(run)["result"]["results"][0]["invocation"]["module_args"]
    assert args["validate_certs"] is None and args["client_cert"] is None and args["sdk_log_path"] is None
    assert args["interface"] == "public" and args["auth_cache"] is True  # the modules' own defaults
    # What the role now passes on reaches the module (and is checked there).
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix, rotation_client_cert="/nonexistent/cert.pem",
                                                       rotation_validate_certs=False)], check=True, env=invocation)
    result = rotation_task(run)["result"]["results"][0]
    assert result["invocation"]["module_args"]["validate_certs"] is False
    assert "client_cert must be the path of a readable file" in result["msg"]


def test_freshness_fails_or_warns(history, tmp_path):
    prefix, _volumes = history
    stale_policy = [{"name": "nightly", "volume_metadata": {"rotation": prefix}, "retention": RULES, "create": False,
                     "prune": False}]
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix, rotation_policies=stale_policy,
                                                       rotation_max_staleness="12h")])
    assert run.rc != 0
    failed = run.task("Fail on stale volumes")
    assert failed["outcome"] == "failed" and "newest good snapshot is" in failed["result"]["msg"]
    assert "(limit 12h)" in failed["result"]["msg"]
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix, rotation_policies=stale_policy,
                                                       rotation_max_staleness="12h",
                                                       rotation_staleness_action="warn")])
    assert run.rc == 0 and run.outcome("Warn about stale volumes") == "ok"
    assert run.outcome("Fail on stale volumes") == "skipped"


def test_one_failing_policy_does_not_stop_the_others(admin, small_history, tmp_path):
    prefix, volumes = small_history
    policies = [{"name": "broken", "volumes": ["no-such-volume-" + prefix], "retention": RULES},
                {"name": "nightly", "volume_metadata": {"rotation": prefix}, "retention": RULES}]
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix, rotation_policies=policies)])
    assert run.rc != 0
    final = run.task("Fail when anything failed")
    assert final["outcome"] == "failed" and "broken" in final["result"]["msg"]
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert not report["ok"] and any(f.startswith("broken") for f in report["failures"])
    nightly = [p for p in report["policies"] if p["name"] == "nightly"][0]
    assert not nightly["failed"] and sum(1 for v in nightly["volumes"] if v["created"]) == 2


def test_secrets_never_reach_the_output(history, tmp_path):
    prefix, _volumes = history
    with open(cloudkit.CLOUDS_YAML) as f:
        auth = yaml.safe_load(f)["clouds"]["local-admin"]["auth"]
    # Plan only (check mode): this test is about what is printed, not what changes.
    extra = vars_file(tmp_path, prefix, rotation_cloud="", rotation_auth=auth, rotation_auth_type="password",
                      rotation_region_name="RegionOne")
    run = run_playbook(PLAYBOOK, extra_vars=[extra], args=["-vvv"], env={"OS_CLIENT_CONFIG_FILE": "/nonexistent"},
                       check=True)
    assert run.rc == 0, run.stdout[-3000:]
    assert auth["password"] not in run.stdout and auth["password"] not in run.stderr
    assert auth["password"] not in json.dumps(run.tasks)
    assert auth["password"] not in (tmp_path / "reports" / "report.json").read_text()


def test_rotate_creates_prunes_reports_and_second_run_changes_nothing(admin, history, tmp_path):
    prefix, volumes = history
    kept, pruned = expected_counts()
    assert len(HISTORY) in (40, 41) and kept in range(19, 23)  # the fixture is what the expectation assumes
    run = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix)])
    assert run.rc == 0, run.stdout[-3000:]
    result = rotation_task(run)["result"]["results"][0]
    assert result["changed"] and result["summary"]["created"] == 2
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["ok"] and report["totals"]["volumes"] == 2 and report["totals"]["created"] == 2
    for row in report["policies"][0]["volumes"]:
        # 7 daily, 4 weekly, 12 monthly and 2 yearly; with the overlaps between tiers, 19 to 22 snapshots.
        assert row["kept"] == kept and row["kept_by_tier"] == {"daily": 7, "weekly": 4, "monthly": 12, "yearly": 2}
        assert len(row["pruned"]) == pruned and all(p["reasons"] == ["not kept by any rule"] for p in row["pruned"])
        assert row["newest_good"]["age"] == "0m"
    markdown = (tmp_path / "reports" / "report.md").read_text()
    assert "## Policy `nightly`" in markdown and "daily 7" in markdown and "pruned `nightly-" in markdown
    summary = run.result("Summarise the run")["msg"]
    assert summary[0].startswith("nightly: 2 volume(s), 2 created, %d kept, %d pruned" % (2 * kept, 2 * pruned))
    # What is left in the cloud is what the report says.
    for vol in volumes:
        left = admin.block_storage.get("/snapshots/detail", params={"volume_id": vol["id"]}).json()["snapshots"]
        assert len(left) == kept
    log = RequestLog()
    again = run_playbook(PLAYBOOK, extra_vars=[vars_file(tmp_path, prefix)])
    assert again.rc == 0 and not any(t["outcome"] == "changed" for t in again.tasks)
    assert log.writes() == []


def test_fleet_of_three_projects_in_parallel(admin, demo, tmp_path, cloud):
    clouds = ["local-admin", "local-demo", "local-ops"]
    for name in clouds:
        sample("make", "fleet", cloud=name, volumes=1, size="small")
    try:
        inventory = os.path.join(REPO, "examples", "fleet", "inventory.yml")
        run = run_playbook(PLAYBOOK, inventory=inventory,
                           extra_vars=["@" + os.path.join(REPO, "examples", "fleet", "vars.yml"),
                                       {"rotation_report_dir": str(tmp_path)}], args=["-f", "3"])
        assert run.rc == 0, run.stdout[-3000:]
        hosts = sorted(t["host"] for t in run.tasks if t["task"].endswith("Rotate the snapshots of each policy"))
        assert hosts == ["project-admin", "project-demo", "project-ops"]
        for host in hosts:
            report = json.loads((tmp_path / ("rotation-%s.json" % host)).read_text())
            assert report["ok"] and report["totals"]["volumes"] == 1 and report["totals"]["created"] == 1
        # Each project's own volume got its own new snapshot.
        for name in clouds:
            conn = cloudkit.connect(name)
            vols = [v for v in conn.block_storage.volumes() if (v.name or "").startswith("fleet-")]
            assert len(vols) == 1
            snaps = list(conn.block_storage.snapshots(volume_id=vols[0].id))
            assert snaps and any(s.name.startswith("nightly-%s" % snaps[0].created_at[:4]) for s in snaps)
    finally:
        for name in clouds:
            sample("clean", "fleet", cloud=name)


def test_awx_style_run_through_ansible_runner(admin, small_history, tmp_path):
    """The way AWX runs a job: a private data dir, extra vars, and the OpenStack credential injected as a
    clouds.yaml (cloud `devstack`) referenced by OS_CLIENT_CONFIG_FILE."""
    import ansible_runner
    prefix, volumes = small_history
    data = tmp_path / "job"
    for sub in ("env", "inventory", "project"):
        (data / sub).mkdir(parents=True)
    with open(cloudkit.CLOUDS_YAML) as f:
        admin_cloud = yaml.safe_load(f)["clouds"]["local-admin"]
    credential = tmp_path / "awx-credential-clouds.yaml"
    credential.write_text(yaml.safe_dump({"clouds": {"devstack": admin_cloud}}))
    (data / "env" / "extravars").write_text(yaml.safe_dump({
        "rotation_cloud": "devstack", "rotation_report_dir": str(tmp_path / "reports"),
        "rotation_policies": [{"name": "nightly", "volume_metadata": {"rotation": prefix}, "retention": RULES}]}))
    (data / "env" / "envvars").write_text(yaml.safe_dump({
        "OS_CLIENT_CONFIG_FILE": str(credential),
        "ANSIBLE_COLLECTIONS_PATH": os.environ["ANSIBLE_COLLECTIONS_PATH"]}))
    (data / "inventory" / "hosts").write_text(
        "localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    shutil.copy(os.path.join(REPO, "examples", "awx", "rotate.yml"), data / "project" / "rotate.yml")
    env_path = os.path.dirname(sys.executable) + os.pathsep + os.environ["PATH"]
    old_path = os.environ["PATH"]
    os.environ["PATH"] = env_path
    try:
        result = ansible_runner.run(private_data_dir=str(data), playbook="rotate.yml", quiet=True)
    finally:
        os.environ["PATH"] = old_path
    assert result.status == "successful" and result.rc == 0, result.stdout.read()[-3000:]
    events = list(result.events)
    rotated = [e for e in events if e.get("event") == "runner_item_on_ok"
               and e["event_data"].get("task") == "Rotate the snapshots of each policy"
               and e["event_data"].get("role") == "rotation"]
    assert len(rotated) == 1 and rotated[0]["event_data"]["res"]["summary"]["created"] == 2
    assert any(e.get("event") == "playbook_on_stats" for e in events)
    for vol in volumes:
        snaps = admin.block_storage.get("/snapshots/detail", params={"volume_id": vol["id"]}).json()["snapshots"]
        assert len(snaps) == 4 and all(s["metadata"].get("cinderops:policy") == "nightly" for s in snaps)
