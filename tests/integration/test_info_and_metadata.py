# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""cinderops.snapshots.snapshot_info and snapshot_metadata through ansible-playbook against the real local cloud."""
from __future__ import annotations

import json

import pytest

import cloudkit
from cloudkit import RequestLog, unique
from playbooks import run_tasks

INFO = "cinderops.snapshots.snapshot_info"
META = "cinderops.snapshots.snapshot_metadata"


def one(module, args, **kw):
    run = run_tasks([{"name": "t", module: args, "ignore_errors": True}], **kw)
    task = run.task("t")
    return task["outcome"], task["result"]


def ok(module, args, **kw):
    outcome, result = one(module, args, **kw)
    assert outcome in ("ok", "changed"), result.get("msg", result)
    return outcome == "changed", result


def failed(module, args, **kw):
    outcome, result = one(module, args, **kw)
    assert outcome == "failed", result
    assert "most recent call last" not in json.dumps(result), result
    return result["msg"]


def snapshot_gets(log):
    return [r for r in log.cinder() if r[0] == "GET" and "/snapshots" in r[1]]


@pytest.fixture(scope="module")
def seeded(cloud, admin):
    """A volume with 1,200 snapshots (1 real + 1,199 clones in the DB) and another with 3 tagged ones."""
    big = cloudkit.make_volume(admin, name=unique("big"))
    small = cloudkit.make_volume(admin, name=unique("small"))
    prefix = unique("seed")
    template = cloudkit.make_snapshot(admin, big.id, name=prefix + "-00000", metadata={"batch": prefix, "tier": "bulk"})
    cloudkit.cloud_cli("seed", template.id, "1199", "--prefix", prefix)
    tagged = [cloudkit.make_snapshot(admin, small.id, name=unique("tag"), metadata={"batch": prefix, "tier": t})
              for t in ("gold", "gold", "silver")]
    yield {"big": big, "small": small, "prefix": prefix, "template": template, "tagged": tagged}
    cloudkit.cloud_cli("unseed", prefix)
    for vol in (big, small):
        cloudkit.purge_volume(admin, vol.id)


# ---------------------------------------------------------------- snapshot_info


@pytest.mark.smoke
def test_info_follows_every_page_past_1000(seeded):
    log = RequestLog()
    _changed, res = ok(INFO, {"volume": seeded["big"].id})
    snaps = res["snapshots"]
    assert len(snaps) == 1200 and len({s["id"] for s in snaps}) == 1200
    assert all(s["volume_id"] == seeded["big"].id for s in snaps)
    # Newest first by default.
    assert snaps[0]["name"] == seeded["prefix"] + "-00000" and snaps[-1]["name"] == seeded["prefix"] + "-01199"
    pages = snapshot_gets(log)
    assert len(pages) == 2 and all("volume_id=" in p[1] for p in pages)


@pytest.mark.smoke
def test_info_limit_marker_and_exactly_full_page(seeded):
    log = RequestLog()
    _changed, res = ok(INFO, {"volume": seeded["big"].id, "limit": 1000})
    assert len(res["snapshots"]) == 1000
    # A limit reached: no extra request for the empty page.
    assert len(snapshot_gets(log)) == 1
    _changed, rest = ok(INFO, {"volume": seeded["big"].id, "marker": res["snapshots"][-1]["id"]})
    assert len(rest["snapshots"]) == 200
    assert not {s["id"] for s in rest["snapshots"]} & {s["id"] for s in res["snapshots"]}
    _changed, few = ok(INFO, {"volume": seeded["big"].name, "limit": 3, "sort": ["name:asc"]})
    assert [s["name"] for s in few["snapshots"]] == ["%s-%05d" % (seeded["prefix"], i) for i in range(3)]


@pytest.mark.smoke
def test_info_metadata_filter_is_applied_by_the_server(seeded):
    log = RequestLog()
    _changed, res = ok(INFO, {"metadata": {"batch": seeded["prefix"], "tier": "gold"}})
    assert sorted(s["id"] for s in res["snapshots"]) == sorted(s.id for s in seeded["tagged"][:2])
    gets = snapshot_gets(log)
    assert len(gets) == 1 and "metadata=" in gets[0][1]
    _changed, res = ok(INFO, {"metadata": {"batch": seeded["prefix"]}, "volume": seeded["small"].id, "status": "available"})
    assert len(res["snapshots"]) == 3
    _changed, res = ok(INFO, {"metadata": {"batch": "nothing-has-this"}})
    assert res["snapshots"] == []


def test_info_by_id_name_and_summary_view(seeded):
    sid = seeded["tagged"][0].id
    _changed, res = ok(INFO, {"id": sid})
    assert [s["id"] for s in res["snapshots"]] == [sid] and res["snapshots"][0]["progress"] == "100%"
    _changed, res = ok(INFO, {"id": sid, "volume": seeded["big"].id})
    assert res["snapshots"] == []
    _changed, res = ok(INFO, {"id": "11111111-2222-3333-4444-555555555555"})
    assert res["snapshots"] == []
    _changed, res = ok(INFO, {"name": seeded["tagged"][2].name, "details": False})
    assert len(res["snapshots"]) == 1 and res["snapshots"][0]["progress"] is None
    assert res["snapshots"][0]["metadata"]["tier"] == "silver"
    outcome, res = one(INFO, {"id": sid}, check=True)
    assert outcome == "ok" and len(res["snapshots"]) == 1


def test_info_all_projects_as_admin_and_as_demo(admin, demo, tracker):
    vol = tracker.volume(conn=demo)
    mine = tracker.snapshot(demo, vol.id, name=unique("demo"))
    _changed, res = ok(INFO, {"all_projects": True, "name": mine.name})
    assert [s["id"] for s in res["snapshots"]] == [mine.id]
    assert res["snapshots"][0]["project_id"] == demo.current_project_id
    _changed, res = ok(INFO, {"name": mine.name})
    assert res["snapshots"] == []
    _changed, res = ok(INFO, {"project_id": demo.current_project_id, "volume": vol.id})
    assert [s["id"] for s in res["snapshots"]] == [mine.id]
    msg = failed(INFO, {"all_projects": True}, cloud="local-demo")
    assert "not an admin" in msg
    msg = failed(INFO, {"project_id": admin.current_project_id}, cloud="local-demo")
    assert "not an admin" in msg
    _changed, res = ok(INFO, {"volume": vol.id}, cloud="local-demo")
    assert [s["id"] for s in res["snapshots"]] == [mine.id]


@pytest.mark.parametrize("args, expect", [
    ({"sort": ["bogus_key:asc"]}, "Invalid sort key"),
    ({"sort": ["name:up"]}, "must be key or key:asc or key:desc"),
    ({"sort_key": "created_at", "sort_dir": "sideways"}, "value of sort_dir must be one of"),
    ({"limit": -1}, "limit must be 0 or more"),
    ({"volume": "no-such-volume-for-info"}, "volume 'no-such-volume-for-info' was not found"),
    ({"volume": "11111111-2222-3333-4444-555555555555"}, "was not found"),
    ({"status": "sleeping"}, "value of status must be one of"),
    ({"metadata": {"bad/key": "x"}}, "is not accepted by Cinder"),
    ({"sort": ["name"], "sort_key": "name"}, "mutually exclusive"),
])
def test_info_bad_input_is_a_clear_error(cloud, args, expect):
    assert expect in failed(INFO, args)


# ---------------------------------------------------------------- snapshot_metadata

@pytest.fixture
def snap(admin, tracker):
    vol = tracker.volume()
    return tracker.snapshot(admin, vol.id, name=unique("meta"), metadata={"keep": "me", "cinderops:policy": "p1"})


def server_metadata(admin, sid):
    return admin.block_storage.get("/snapshots/%s/metadata" % sid).json()["metadata"]


@pytest.mark.smoke
def test_metadata_merge_rerun_and_read_back(admin, snap):
    changed, res = ok(META, {"id": snap.id, "metadata": {"a": "1", "n": 5, "b": True}})
    assert changed and res["metadata"] == {"keep": "me", "cinderops:policy": "p1", "a": "1", "n": "5", "b": "true"}
    assert server_metadata(admin, snap.id) == res["metadata"] and res["snapshot_id"] == snap.id
    log = RequestLog()
    changed, _result = ok(META, {"id": snap.id, "metadata": {"a": "1", "n": 5}})
    assert not changed and log.writes() == []


def test_metadata_by_volume_and_name(admin, snap):
    changed, res = ok(META, {"volume": snap.volume_id, "name": snap.name, "metadata": {"x": "y"}})
    assert changed and server_metadata(admin, snap.id)["x"] == "y"


@pytest.mark.smoke
def test_metadata_writes_only_the_difference(admin, snap):
    log = RequestLog()
    ok(META, {"id": snap.id, "metadata": {"keep": "me", "new": "v"}})
    writes = log.writes()
    assert len(writes) == 1 and writes[0][0] == "POST" and writes[0][1].endswith("/metadata")
    log.start()
    ok(META, {"id": snap.id, "metadata": {"only": "this"}, "purge_metadata": True})
    writes = log.writes()
    assert len(writes) == 1 and writes[0][0] == "PUT"
    # purge keeps the reserved ownership key
    assert server_metadata(admin, snap.id) == {"only": "this", "cinderops:policy": "p1"}
    log.start()
    changed, res = ok(META, {"id": snap.id, "keys": ["only", "never-was-there"], "state": "absent"})
    writes = log.writes()
    assert changed and [w[0] for w in writes] == ["DELETE"] and res["metadata"] == {"cinderops:policy": "p1"}
    assert ok(META, {"id": snap.id, "keys": ["only"], "state": "absent"})[0] is False


def test_metadata_reserved_keys_need_allow_reserved(admin, snap):
    log = RequestLog()
    msg = failed(META, {"id": snap.id, "keys": ["cinderops:policy"], "state": "absent"})
    assert "reserved" in msg and "allow_reserved" in msg and log.writes() == []
    # Setting a hold is allowed without the switch.
    changed, _result = ok(META, {"id": snap.id, "metadata": {"cinderops:hold": "audit"}})
    assert changed
    changed, res = ok(META, {"id": snap.id, "metadata": {"keep": "me"}, "purge": True, "allow_reserved": True})
    assert changed and res["metadata"] == {"keep": "me"} == server_metadata(admin, snap.id)


@pytest.mark.smoke
def test_metadata_check_and_diff_mode(admin, snap):
    log = RequestLog()
    outcome, res = one(META, {"id": snap.id, "metadata": {"z": "1"}, "purge": True}, check=True, diff=True)
    assert outcome == "changed" and log.writes() == []
    assert res["diff"]["before"]["metadata"] == {"keep": "me", "cinderops:policy": "p1"}
    assert res["diff"]["after"]["metadata"] == {"z": "1", "cinderops:policy": "p1"} == res["metadata"]
    assert server_metadata(admin, snap.id) == {"keep": "me", "cinderops:policy": "p1"}


@pytest.mark.parametrize("args, expect", [
    ({"metadata": {"k" * 256: "v"}}, "is not accepted by Cinder"),
    ({"metadata": {"k": "v" * 256}}, "is 256 characters long"),
    ({"metadata": {"a=b": "v"}}, "key 'a=b' is not accepted"),
    ({"metadata": {"k": {"nested": 1}}}, "must be a string"),
    ({"keys": ["bad/key"], "state": "absent"}, "key 'bad/key' is not accepted"),
])
def test_metadata_bad_input_fails_before_any_write(snap, args, expect):
    log = RequestLog()
    args = dict(args, id=snap.id)
    msg = failed(META, args)
    assert expect in msg and log.writes() == []


def test_metadata_snapshot_not_found(cloud):
    msg = failed(META, {"id": "11111111-2222-3333-4444-555555555555", "metadata": {"a": "b"}})
    assert "was not found" in msg


def test_concurrent_edits_of_different_keys_lose_nothing(admin, snap):
    keys_a = dict(("a%02d" % i, str(i)) for i in range(10))
    keys_b = dict(("b%02d" % i, str(i)) for i in range(10))
    tasks = []
    for i in range(10):
        for side, keys in (("a", keys_a), ("b", keys_b)):
            tasks.append({"name": "%s%d" % (side, i), META: {"id": snap.id, "metadata": {k: v for k, v in keys.items()
                                                                                         if int(k[1:]) == i}},
                          "async": 60, "poll": 0, "register": "job_%s%d" % (side, i)})
    tasks.append({"name": "wait", "ansible.builtin.async_status": {"jid": "{{ item.ansible_job_id }}"},
                  "register": "done", "until": "done.finished", "retries": 120, "delay": 0.5,
                  "loop": "{{ [%s] }}" % ", ".join("job_a%d, job_b%d" % (i, i) for i in range(10))})
    run = run_tasks(tasks)
    assert run.rc == 0, run.stdout[-3000:]
    meta = server_metadata(admin, snap.id)
    for k, v in list(keys_a.items()) + list(keys_b.items()):
        assert meta.get(k) == v, (k, meta)
