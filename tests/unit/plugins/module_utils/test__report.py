# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._report import ReportError, age_text, build_report

NOW = "2026-11-26T12:00:00Z"


def vol(name, kept=(), pruned=(), skipped=(), created=None, errors=()):
    return {"volume_id": "id-" + name, "volume_name": name, "kept": list(kept), "pruned": list(pruned),
            "skipped": list(skipped), "created": created, "errors": list(errors)}


def snap(name, created_at, reasons, status="available"):
    return {"id": "s-" + name, "name": name, "status": status, "created_at": created_at, "reasons": reasons}


def run(name, *volumes, failed=False, msg=None):
    return {"item": {"name": name}, "volumes": list(volumes), "failed": failed, "msg": msg, "summary": {}}


def test_tiers_newest_good_and_pruned_reasons():
    v = vol("db", kept=[snap("a", "2026-11-26T02:00:00Z", ["daily", "weekly"]),
                        snap("b", "2026-11-19T02:00:00Z", ["weekly", "oldest monthly"]),
                        snap("c", "2026-11-25T02:00:00Z", ["status creating"], status="creating")],
            pruned=[snap("d", "2026-11-18T02:00:00Z", ["not kept by any rule"])])
    report = build_report([run("nightly", v)], NOW)
    row = report["policies"][0]["volumes"][0]
    assert row["kept_by_tier"] == {"daily": 1, "weekly": 2, "monthly": 1, "status": 1}
    assert row["newest_good"]["name"] == "a" and row["newest_good"]["age"] == "10h 0m"
    assert row["pruned"][0]["reasons"] == ["not kept by any rule"]
    assert report["ok"] and report["failures"] == [] and report["totals"]["pruned"] == 1
    assert report["summary"][0].startswith("nightly: 1 volume(s), 0 created, 3 kept, 1 pruned")
    json.dumps(report)


def test_created_snapshot_is_the_newest_good():
    v = vol("db", kept=[snap("old", "2026-11-20T00:00:00Z", ["daily"])],
            created=snap("new", "2026-11-26T11:59:00Z", ["daily"]))
    row = build_report([run("p", v)], NOW)["policies"][0]["volumes"][0]
    assert row["newest_good"]["name"] == "new" and row["newest_good"]["age"] == "1m"


@pytest.mark.parametrize("limit, stale", [("1d", False), ("9h", True), ("", False), (None, False),
                                          ("601min", False), ("9h59min", True)])
def test_staleness(limit, stale):
    v = vol("db", kept=[snap("a", "2026-11-26T02:00:00Z", ["daily"])])
    report = build_report([run("p", v)], NOW, max_staleness=limit)
    assert report["policies"][0]["volumes"][0]["stale"] is stale
    assert bool(report["stale"]) is stale
    if stale:
        assert report["stale"] == ["p / db: newest good snapshot is 10h 0m old (limit %s)" % limit]


def test_volume_without_good_snapshot_is_stale():
    v = vol("db", kept=[snap("a", "2026-11-26T02:00:00Z", ["status creating"], status="creating")])
    report = build_report([run("p", v)], NOW, max_staleness="1d")
    assert report["stale"] == ["p / db: no good snapshot (limit 1d)"]


def test_failures_are_listed_per_volume_and_per_policy():
    v = vol("db", errors=["new snapshot failed: status error"])
    report = build_report([run("p", v, failed=True, msg="1 volume failed"), run("q", failed=True, msg="bad policy")],
                          NOW)
    assert report["failures"] == ["p / db: new snapshot failed: status error", "q: bad policy"]
    # One failed volume and one policy that failed as a whole: the totals, each policy's counts and the
    # summary lines agree (they used to say 1, 0 and "1 failed").
    assert not report["ok"] and report["totals"]["failed"] == 2
    assert [p["counts"]["failed"] for p in report["policies"]] == [1, 1]
    assert report["summary"][1] == "q: 0 volume(s), 0 created, 0 kept, 0 pruned, 0 skipped, 1 failed"
    assert "FAILED q: bad policy" in report["summary"]


def test_bad_input():
    with pytest.raises(ReportError, match="expected the list"):
        build_report({"volumes": []}, NOW)
    with pytest.raises(ReportError, match="max_staleness"):
        build_report([], NOW, max_staleness="two days")


@pytest.mark.parametrize("seconds, text", [(0, "0m"), (59, "0m"), (3600, "1h 0m"), (90061, "1d 1h"), (-5, "0m")])
def test_age_text(seconds, text):
    assert age_text(seconds) == text


def test_failure_seen_through_failed_when_false_and_loop_var():
    early = {"ansible_loop_var": "rotation_policy", "rotation_policy": {"name": "p"}, "failed": False,
             "msg": "could not connect: bad password", "failed_when_result": False}
    report = build_report([early], NOW)
    assert report["failures"] == ["p: could not connect: bad password"] and not report["ok"]
    finished = {"ansible_loop_var": "rotation_policy", "rotation_policy": {"name": "q"}, "failed": False,
                "volumes": [vol("db", errors=["boom"])], "failures": [{"volume_name": "db", "msg": "boom"}]}
    assert build_report([finished], NOW)["failures"] == ["q / db: boom"]
