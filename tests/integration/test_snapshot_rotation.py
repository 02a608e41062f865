# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cinderops.snapshots.snapshot_rotation through ansible-playbook against the real local cloud.

The two-year history is made of real snapshots: one is created through the API per
volume, cloned in Cinder's database (``cloud seed``), and every ``created_at`` is then
moved to the planned time (``cloud backdate``). The expected kept set is worked out
here from the timestamps by a small, separate implementation of restic's count rules,
and some members are checked by hand.
"""
from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import datetime, time as dtime, timedelta, timezone

import pytest

import cloudkit
from cloudkit import RequestLog, snapshot_status, unique, volume_status, wait_status
from playbooks import run_tasks
from restic_oracle import restic_kept

M = "cinderops.snapshots.snapshot_rotation"
OWNER = "cinderops:policy"
HOLD = "cinderops:hold"
UTC = timezone.utc
GFS = {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 2}


def rotation_task(args, cloud="local-admin"):
    # cloud is given explicitly, so these tests do not depend on the action group's module_defaults.
    return {"name": "t", M: dict(args, cloud=cloud), "register": "out", "ignore_errors": True}


def one(args, cloud="local-admin", **kw):
    task = run_tasks([rotation_task(args, cloud)], **kw).task("t")
    assert "most recent call last" not in json.dumps(task["result"]), task["result"]
    return task["outcome"], task["result"]


def ok(args, **kw):
    outcome, result = one(args, **kw)
    assert outcome in ("ok", "changed"), result.get("msg", result)
    return outcome == "changed", result


def by_name(result):
    return dict((v["volume_name"], v) for v in result["volumes"])


def ids(entries):
    return set(e["id"] for e in entries)


def server_snapshots(admin, volume_id):
    resp = admin.block_storage.get("/snapshots/detail", params={"volume_id": volume_id}, microversion="3.66")
    return dict((s["id"], s) for s in resp.json()["snapshots"])


def set_status(admin, snapshot_id, status):
    admin.block_storage.post("/snapshots/%s/action" % snapshot_id, json={"os-reset_status": {"status": status}},
                             microversion="3.0")


def rename(admin, snapshot_id, name):
    admin.block_storage.put("/snapshots/%s" % snapshot_id, json={"snapshot": {"name": name}})


def history_times(today, minute):
    """About two years of sparse history: 10 dailies, 9 weeklies, 22 monthlies and two very old ones."""
    days = list(range(1, 11)) + list(range(14, 71, 7))
    stamps = [datetime.combine(today - timedelta(days=d), dtime(1, minute), UTC) for d in days]
    for back in range(3, 25):
        year, month = today.year, today.month - back
        while month < 1:
            year, month = year - 1, month + 12
        stamps.append(datetime(year, month, 15, 1, minute, tzinfo=UTC))
    stamps += [datetime.combine(today - timedelta(days=d), dtime(1, minute), UTC) for d in (800, 900)]
    return stamps


def ts_text(value):
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def build_history(admin, volume, policy_name, prefix, times):
    """Real snapshots on ``volume`` with the given created_at times; returns {id: datetime}."""
    template = cloudkit.make_snapshot(admin, volume.id, name=prefix + "-00000", metadata={OWNER: policy_name})
    cloudkit.cloud_cli("seed", template.id, str(len(times) - 1), "--prefix", prefix)
    seeded = sorted((s for s in server_snapshots(admin, volume.id).values() if s["id"] != template.id),
                    key=lambda s: s["name"])
    assert len(seeded) == len(times) - 1
    placed = dict(zip([template.id] + [s["id"] for s in seeded], times))
    cloudkit.backdate(dict((sid, ts_text(t)) for sid, t in placed.items()))
    return placed


# ---------------------------------------------------------------------------------------------------- the big one

@pytest.fixture
def estate(admin, tracker):
    """Five volumes with two years of owned history each, plus the special cases; cleaned up afterwards."""
    tag = unique("rot")
    policy_name = "gfs-" + tag
    names = ["%s-plain" % tag, "%s-mixed" % tag, "%s-dependent" % tag, "%s-faildel" % tag, "%s-fail-create" % tag]
    # The test driver fails to create a volume whose name says fail-create, so that one is renamed afterwards:
    # from then on, its snapshots named after it ({volume} in name_format) fail instead.
    volumes = [admin.block_storage.create_volume(size=1, name=n.replace("fail-create", "to-fail"),
                                                 metadata={"rotation-test": tag}) for n in names]
    tracker.volumes.extend(v.id for v in volumes)
    for v in volumes:
        wait_status(lambda: volume_status(admin, v.id), "available", timeout=90)
    admin.block_storage.put("/volumes/%s" % volumes[-1].id, json={"volume": {"name": names[-1]}})
    today = datetime.now(UTC).date()
    prefixes = []
    histories = {}
    try:
        for n, (name, volume) in enumerate(zip(names, volumes)):
            prefix = "%s-h%d" % (tag, n)
            prefixes.append(prefix)
            histories[name] = build_history(admin, volume, policy_name, prefix, history_times(today, n))
        plain, mixed, dependent, faildel, failcreate = volumes
        special = {}

        def old(volume, days, name, metadata, status=None):
            snap = cloudkit.make_snapshot(admin, volume.id, name="%s-%s" % (tag, name), metadata=metadata)
            tracker.snapshots.append(snap.id)
            cloudkit.backdate({snap.id: ts_text(datetime.combine(today - timedelta(days=days), dtime(3), UTC))})
            if status:
                set_status(admin, snap.id, status)
            special[name] = snap.id
            return snap.id

        # mixed: a held one and an unowned one that the rules would drop, one in error, one stuck creating.
        old(mixed, 500, "held", {OWNER: policy_name, HOLD: "legal case 42"})
        old(mixed, 600, "unowned", {"team": "db"})
        old(mixed, 300, "error", {OWNER: policy_name}, status="error")
        old(mixed, 200, "creating", {OWNER: policy_name}, status="creating")
        # dependent: a volume made from the 800-day-old snapshot, which the rules drop.
        parent = [sid for sid, t in histories[names[2]].items() if (today - t.date()).days == 800][0]
        child = admin.block_storage.create_volume(size=1, snapshot_id=parent, name=tag + "-child")
        tracker.volumes.append(child.id)  # purged first (the tracker goes backwards)
        wait_status(lambda: volume_status(admin, child.id), "available", timeout=90)
        special["parent"], special["child"] = parent, child.id
        # faildel: the 900-day-old snapshot fails to delete (fault injected by name).
        doomed = [sid for sid, t in histories[names[3]].items() if (today - t.date()).days == 900][0]
        rename(admin, doomed, tag + "-fail-delete")
        special["doomed"] = doomed
        yield dict(tag=tag, policy_name=policy_name, names=names, volumes=volumes, histories=histories,
                   special=special, today=today)
    finally:
        # The clones go straight from the database; the rest (templates, specials, snapshots made by the
        # rotation, volumes) goes through the tracker, which purges each volume with its snapshots.
        for prefix in prefixes:
            cloudkit.cloud_cli("unseed", prefix)


def test_two_year_history_on_five_volumes(admin, estate):
    tag, policy_name, names = estate["tag"], estate["policy_name"], estate["names"]
    plain, mixed, dependent, faildel, failcreate = names
    special, histories, today = estate["special"], estate["histories"], estate["today"]
    args = dict(volume_metadata={"rotation-test": tag}, policy_name=policy_name, policy=GFS,
                name_format="{volume}-%Y%m%dT%H%M%SZ", snapshot_metadata={"job": "nightly"})

    # ------------------------------------------------ check mode: the full plan, no write
    time.sleep(0.5)  # let cinder-api log the set-up's last requests before counting starts
    log = RequestLog()
    changed, res = ok(args, check=True, diff=True)
    assert log.writes() == [] and changed
    plan = by_name(res)
    assert list(plan) == sorted(names)  # selection order: by name
    now = datetime.now(UTC)
    expected = restic_kept(dict(histories[plain], new=now), GFS)
    assert plan[plain]["created"]["id"] is None and plan[plain]["created"]["name"].startswith(plain + "-")
    assert ids(plan[plain]["pruned"]) == set(histories[plain]) - set(expected)
    assert ids(plan[plain]["kept"]) == (set(expected) - {"new"}) | {None}
    assert set(res["diff"]["before"]["volumes"]) == set("%s (%s)" % (n, v.id) for n, v in zip(names,
                                                                                              estate["volumes"]))

    # ------------------------------------------------ the real run
    log = RequestLog()
    outcome, res = one(args)
    got = by_name(res)
    assert outcome == "failed"
    # Both failures, named, in one line, after everything else was done.
    assert res["msg"].startswith("snapshot rotation failed on 2 of 5 volume(s): ")
    assert faildel in res["msg"] and failcreate in res["msg"] and "\n" not in res["msg"]
    assert sorted(f["volume_name"] for f in res["failures"]) == [failcreate, faildel]
    # The snapshots were listed once for the whole selection, filtered by the owner on the server; every
    # other listing is a poll round's window over the policy's recent snapshots, filtered the same way.
    listings = [r for r in log.cinder() if r[0] == "GET" and "/snapshots/detail" in r[1] and policy_name in r[1]]
    loads = [r for r in listings if "sort=" not in r[1]]
    assert len(loads) == 1 and "metadata=" in loads[0][1]
    assert all("sort=created_at" in r[1] or "sort=updated_at" in r[1] for r in listings if r not in loads)

    for name in (plain, mixed, dependent, faildel):
        vol = got[name]
        assert vol["due"] and vol["changed"], vol
        assert vol["created"]["status"] == "available" and vol["created"]["name"].startswith(name + "-")
        new_id = vol["created"]["id"]
        created_at = datetime.strptime(vol["created"]["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        expected = restic_kept(dict(histories[name], **{new_id: created_at}), GFS)
        drop = set(histories[name]) - set(expected)
        kept = dict((e["id"], e["reasons"]) for e in vol["kept"])
        assert set(kept) - set(special.values()) == set(expected), name
        for sid, reasons in expected.items():
            assert kept[sid] == reasons, (name, sid)
        if name == dependent:
            assert ids(vol["pruned"]) == drop - {special["parent"]}
            (skip,) = vol["skipped"]
            assert skip["id"] == special["parent"] and special["child"] in skip["reasons"][-1]
            assert not vol["errors"]
        elif name == faildel:
            assert ids(vol["pruned"]) == drop - {special["doomed"]}
            (skip,) = vol["skipped"]
            assert skip["id"] == special["doomed"] and skip["reasons"][-1] == "prune failed"
            (error,) = vol["errors"]
            assert "error_deleting" in error and special["doomed"] in error
        elif name == mixed:
            assert ids(vol["pruned"]) == drop
            assert kept[special["held"]] == ["hold"] and kept[special["creating"]] == ["status creating"]
            (skip,) = vol["skipped"]
            assert skip["id"] == special["error"] and skip["reasons"][0] == "status error"
            assert special["unowned"] not in json.dumps(vol)
        else:
            assert ids(vol["pruned"]) == drop and not vol["skipped"] and not vol["errors"]
        # What the cloud has now is exactly what the result says is left.
        on_server = server_snapshots(admin, vol["volume_id"])
        left = set(kept) | ids(vol["skipped"])
        if name == mixed:
            left.add(special["unowned"])
        assert set(on_server) == left, name
        assert on_server[new_id]["metadata"] == {OWNER: policy_name, "job": "nightly"}

    # Hand-checked members (plain volume): the new one and the six newest days are the dailies ...
    vol = got[plain]
    reasons = dict((e["id"], e["reasons"]) for e in vol["kept"])
    by_age = dict(((today - t.date()).days, sid) for sid, t in histories[plain].items())
    assert "daily" in reasons[vol["created"]["id"]]
    assert all("daily" in reasons[by_age[d]] for d in range(1, 7))
    assert by_age[10] not in reasons or "daily" not in reasons[by_age[10]]
    # ... the newest of last year is the second yearly, and the two oldest (2+ years back) go.
    last_year = max((t, sid) for sid, t in histories[plain].items() if t.year == today.year - 1)[1]
    assert "yearly" in reasons[last_year]
    assert {by_age[800], by_age[900]} <= ids(vol["pruned"])
    assert len(vol["kept"]) <= 7 + 4 + 12 + 2

    # The failed create: nothing pruned on that volume; what the rules would drop is skipped.
    vol = got[failcreate]
    assert vol["created"]["status"] == "error" and vol["pruned"] == []
    expected = restic_kept(histories[failcreate], GFS)
    assert ids(vol["kept"]) == set(expected)
    assert ids(vol["skipped"]) == set(histories[failcreate]) - set(expected)
    assert all(e["reasons"][-1] == "not pruned: the new snapshot of this volume failed" for e in vol["skipped"])
    assert "is in status error" in vol["errors"][0]
    assert set(server_snapshots(admin, vol["volume_id"])) == set(histories[failcreate]) | {vol["created"]["id"]}
    summary = res["summary"]
    assert summary["volumes"] == 5 and summary["created"] == 4 and summary["failed"] == 2

    # ------------------------------------------------ the second run changes nothing
    # (the fail-create volume is left out: it would try, and fail, again - as it should)
    again = dict(args, volume_metadata=None, volumes=[v.id for v in estate["volumes"][:4]])
    del again["volume_metadata"]
    log = RequestLog()
    changed, res2 = ok(again)
    assert not changed and log.writes() == []
    assert res2["summary"]["created"] == 0 and res2["summary"]["pruned"] == 0
    for vol in res2["volumes"]:
        assert not vol["due"] and "younger than min_interval" in vol["due_reason"]
        left = ids(got[vol["volume_name"]]["kept"]) | ({special["doomed"]} if vol["volume_name"] == faildel else set())
        assert ids(vol["kept"]) == left, vol["volume_name"]
    # The doomed snapshot is now error_deleting: kept untouched, no longer an error.
    assert snapshot_status(admin, special["doomed"]) == "error_deleting"
    assert "status error_deleting" in json.dumps(by_name(res2)[faildel]["kept"])


# ---------------------------------------------------------------------------------------------------- smaller cases


@pytest.mark.smoke
def test_member_user_rotates_with_server_side_owner_filter(demo, tracker):
    """A project member (not admin): the metadata filter is in Cinder's default allowlist."""
    vol = tracker.volume(demo)
    other = tracker.snapshot(demo, vol.id, name=unique("mine"))  # unowned: never touched
    policy_name = unique("p")
    args = dict(volumes=[vol.name], policy_name=policy_name, policy={"keep_last": 1, "min_interval": "0h"})
    changed, first = ok(args, cloud="local-demo")
    assert changed and first["volumes"][0]["created"]["status"] == "available"
    first_id = first["volumes"][0]["created"]["id"]
    changed, second = ok(args, cloud="local-demo")
    (v,) = second["volumes"]
    assert changed and ids(v["pruned"]) == {first_id} and ids(v["kept"]) == {v["created"]["id"]}
    assert snapshot_status(demo, first_id) is None and snapshot_status(demo, other.id) == "available"
    tracker.snapshots.append(v["created"]["id"])


@pytest.mark.smoke
@pytest.mark.parametrize("backend", ["rbd", "lvm"])
def test_a_snapshot_with_a_dependent_volume_is_never_pruned_on_either_backend(admin, tracker, backend):
    """The rotation cannot see a volume's backend (a member cannot), so it keeps a snapshot that volumes were
    made from on every backend, even where the backend (LVM) would delete it; the others are pruned."""
    vol = tracker.volume(volume_type=cloudkit.LVM_LIKE if backend == "lvm" else cloudkit.RBD_LIKE)
    args = dict(volumes=[vol.id], policy_name=unique("dep"), policy={"keep_last": 1, "min_interval": "0h"})
    made = []
    for _run in range(2):
        changed, res = ok(args)
        made.append(res["volumes"][0]["created"]["id"])
        tracker.snapshots.append(made[-1])
    child = admin.block_storage.create_volume(size=1, snapshot_id=made[1], name=unique("child"))
    tracker.volumes.append(child.id)
    wait_status(lambda: volume_status(admin, child.id), "available", timeout=60)
    changed, res = ok(args)
    (v,) = res["volumes"]
    tracker.snapshots.append(v["created"]["id"])
    assert changed and ids(v["kept"]) == {v["created"]["id"]}
    assert snapshot_status(admin, made[0]) is None  # pruned by the second run
    (skipped,) = v["skipped"]
    assert skipped["id"] == made[1] and snapshot_status(admin, made[1]) == "available"
    assert "not pruned: volumes were created from it: %s" % child.id in skipped["reasons"]


def test_min_interval_in_minutes_serves_an_hourly_schedule(demo, tracker):
    """min_interval 50min: a run 10 minutes later is not due, one 51 minutes later is (m would be months)."""
    vol = tracker.volume(demo)
    args = dict(volumes=[vol.id], policy_name=unique("hourly"), policy={"keep_last": 3, "min_interval": "50min"})
    changed, first = ok(args, cloud="local-demo")
    first_id = first["volumes"][0]["created"]["id"]
    tracker.snapshots.append(first_id)
    assert changed and first["policy"]["min_interval"] == "50min"
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    cloudkit.backdate({first_id: (now - timedelta(minutes=10)).strftime("%Y-%m-%dT%H:%M:%S")})
    changed, second = ok(args, cloud="local-demo")
    (v,) = second["volumes"]
    assert not changed and not v["due"] and "younger than min_interval 50min" in v["due_reason"]
    cloudkit.backdate({first_id: (now - timedelta(minutes=51)).strftime("%Y-%m-%dT%H:%M:%S")})
    changed, third = ok(args, cloud="local-demo")
    (v,) = third["volumes"]
    assert changed and v["due"] and v["created"]["status"] == "available"
    tracker.snapshots.append(v["created"]["id"])


def test_bad_input_fails_in_one_line_before_any_request(tracker):
    cases = [
        (dict(policy={"keep_dayly": 3}), "Unsupported parameters for (cinderops.snapshots.snapshot_rotation) module: "
                                         "policy.keep_dayly. Supported parameters include: cleanup_errors, keep_daily"),
        (dict(policy={"keep_daily": "seven"}), "argument 'keep_daily' is of type str found in 'policy'"),
        (dict(policy={}), "policy has no keep_"),
        (dict(policy={"keep_within": "2w"}), "invalid duration"),
        (dict(name_format="{vol}-%Y"), "unknown placeholder {vol}"),
        (dict(snapshot_metadata={OWNER: "other"}), "leave the key out"),
        (dict(max_workers=0), "max_workers must be between 1 and 32"),
        (dict(volumes=[]), "volumes is empty"),
        (dict(volumes=None, all_volumes=False), "select the volumes with one of"),
    ]
    # A cloud that does not exist: any attempt to connect would fail with another message.
    tasks = []
    for n, (extra, _unused) in enumerate(cases):
        args = dict(dict(volumes=["x"], policy_name="p", policy={"keep_last": 1}), **extra)
        args = dict((k, v) for k, v in args.items() if v is not None)
        tasks.append({"name": "case%d" % n, M: dict(args, cloud="no-such-cloud"), "ignore_errors": True})
    run = run_tasks(tasks)
    for n, (_unused, expected) in enumerate(cases):
        task = run.task("case%d" % n)
        assert task["outcome"] == "failed", task
        assert expected in task["result"]["msg"] and "\n" not in task["result"]["msg"], task["result"]["msg"]
        assert "most recent call last" not in json.dumps(task["result"])
    both = dict(volumes=["x"], all_volumes=True, policy_name="p", policy={"keep_last": 1}, cloud="local-admin")
    mutually = run_tasks([{"name": "t", M: both, "ignore_errors": True}]).task("t")
    assert mutually["outcome"] == "failed" and "mutually exclusive" in mutually["result"]["msg"]


def test_unknown_volume_fails_but_the_others_are_rotated(admin, tracker):
    vol = tracker.volume()
    outcome, res = one(dict(volumes=[vol.name, "no-such-volume-" + unique("x")], policy_name=unique("p"),
                            policy={"keep_last": 2}))
    assert outcome == "failed" and "1 of 2 volume(s)" in res["msg"] and "was not found" in res["msg"]
    made = by_name(res)[vol.name]["created"]
    tracker.snapshots.append(made["id"])
    assert made["status"] == "available" and snapshot_status(admin, made["id"]) == "available"


def test_each_new_snapshot_has_its_own_deadline_in_the_batch_wait(admin, tracker):
    """Issue 12, against the real cloud: one batch waits for every new snapshot, each with its own deadline. A
    backend that is too slow (the test driver's slow-N) fails that volume alone, named, with nothing pruned on it;
    the other volume's new snapshot is settled and its old one pruned in the same run."""
    policy = unique("deadline")
    fast, slow = tracker.volume(name=unique("fast")), tracker.volume(name=unique("slow-8"))
    old = dict((v.id, tracker.snapshot(admin, v.id, name=unique("old"), metadata={OWNER: policy}).id)
               for v in (fast, slow))
    outcome, res = one(dict(volumes=[fast.id, slow.id], policy_name=policy, timeout=3,
                            policy={"keep_last": 1, "min_interval": "0h"}, name_format="{volume}-%Y%m%dT%H%M%SZ"))
    got = by_name(res)
    tracker.snapshots.extend(v["created"]["id"] for v in got.values() if v["created"])
    assert outcome == "failed" and res["msg"].startswith("snapshot rotation failed on 1 of 2 volume(s): ")
    assert slow.name in res["msg"] and "timed out after 3." in res["msg"] and "to become available" in res["msg"]
    assert got[slow.name]["pruned"] == [] and snapshot_status(admin, old[slow.id]) == "available"
    assert got[fast.name]["created"]["status"] == "available" and not got[fast.name]["errors"]
    assert ids(got[fast.name]["pruned"]) == {old[fast.id]}
    wait_status(lambda: snapshot_status(admin, old[fast.id]), None, timeout=30)


# ---------------------------------------------------------------------------------------------------- thread safety

def _collection_path():
    base = os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(cloudkit.LOCAL, "collections"))
    for path in base.split(os.pathsep):
        if os.path.isdir(os.path.join(path, "ansible_collections", "cinderops", "snapshots")):
            return path
    pytest.skip("the collection is not laid out (scripts/lib.sh ensure_layout)")


def test_one_client_shared_by_many_threads_gets_every_answer_right(admin, tracker):
    """The rotation's workers share one CinderClient (one keystoneauth session): check that this is safe.

    16 threads, 20 requests each, over one fresh connection: every response belongs to its own
    request (no mix-ups), nothing fails, and Keystone is asked for a token exactly once.
    """
    path = _collection_path()
    if path not in sys.path:
        sys.path.insert(0, path)
    from ansible_collections.cinderops.snapshots.plugins.module_utils._client import CinderClient
    from ansible_collections.cinderops.snapshots.plugins.module_utils._snapshots import Snapshots
    from ansible_collections.cinderops.snapshots.plugins.module_utils._transport import SdkTransport
    import openstack

    vol = tracker.volume()
    snaps = [tracker.snapshot(admin, vol.id, name=unique("ts"), wait=False) for _unused in range(8)]
    for snap in snaps:
        wait_status(lambda: snapshot_status(admin, snap.id), "available", timeout=60)
    log = RequestLog()
    agent = unique("cinderops-threadtest")
    client = Snapshots(CinderClient(SdkTransport(openstack.connect(cloud="local-admin", app_name=agent))))
    start = threading.Barrier(16)
    mistakes, errors = [], []

    def worker(n):
        start.wait()
        for k in range(20):
            want = snaps[(n + k) % len(snaps)].id
            try:
                if k % 5 == 4:
                    got = [s["id"] for s in client.list({"volume_id": vol.id})]
                    if sorted(got) != sorted(s.id for s in snaps):
                        mistakes.append(("list", got))
                else:
                    got = client.get(want)
                    if got is None or got["id"] != want:
                        mistakes.append((want, got and got["id"]))
            except Exception as exc:  # collect, so the test can report everything
                errors.append(repr(exc))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and mistakes == []
    assert len([r for r in log.cinder() if r[0] == "GET"]) >= 16 * 20
    # All 16 threads started together on a connection that had no token yet: one token request.
    assert len([line for line in log.keystone() if agent in line and "POST /v3/auth/tokens" in line]) == 1
