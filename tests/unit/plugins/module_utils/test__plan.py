# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Plan fingerprints: stable under order and timing noise, changed by any real difference."""
from __future__ import annotations

import copy
import json

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import _plan
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import InputError

FMT = "{policy}-%Y%m%dT%H%M%SZ"
META = {"cinderops:policy": "nightly", "team": "db"}


def result(vid, created_name=None, pruned=()):
    return {"volume_id": vid, "volume_name": "vol-" + vid,
            "created": {"id": None, "name": created_name} if created_name else None,
            "pruned": [{"id": sid, "name": "n-" + sid, "created_at": "2026-11-01T00:00:00Z"} for sid in pruned]}


def test_a_plan_lists_creates_and_deletes_with_a_summary():
    plan = _plan.plan_of([result("v2", "nightly-1", ["s3"]), result("v1", None, ["s1", "s2"])], FMT, META)
    assert [c["volume_id"] for c in plan["creates"]] == ["v2"]
    assert [(d["volume_id"], d["snapshot_id"]) for d in plan["deletes"]] == [("v1", "s1"), ("v1", "s2"), ("v2", "s3")]
    assert plan["summary"] == "1 snapshot(s) to create and 3 to delete on 2 volume(s)"
    assert _plan.FINGERPRINT.match(plan["fingerprint"])


def test_the_fingerprint_ignores_order_and_the_time_in_names():
    one = _plan.plan_of([result("v1", "nightly-20261126T015500Z", ["s1"]), result("v2", None, ["s2"])], FMT, META)
    two = _plan.plan_of([result("v2", None, ["s2"]), result("v1", "nightly-20261126T020500Z", ["s1"])], FMT, META)
    assert one["fingerprint"] == two["fingerprint"]


@pytest.mark.parametrize("change", [
    lambda rs: rs.append(result("v3", "x")),                      # a volume is now due
    lambda rs: rs[0]["pruned"].append({"id": "s9"}),              # one more delete
    lambda rs: rs[0]["pruned"].pop(),                             # one fewer
    lambda rs: rs[1].update(created={"id": None, "name": "y"}),   # a create
])
def test_any_real_difference_changes_it(change):
    base = [result("v1", "nightly-1", ["s1"]), result("v2", None, ["s2"])]
    changed = copy.deepcopy(base)
    change(changed)
    assert _plan.plan_of(base, FMT, META)["fingerprint"] != _plan.plan_of(changed, FMT, META)["fingerprint"]
    assert _plan.plan_of(base, FMT, META)["fingerprint"] != _plan.plan_of(base, FMT, dict(META, team="web"))[
        "fingerprint"]


def test_an_approved_plan_survives_json_and_is_checked_against_its_own_fingerprint():
    plan = _plan.plan_of([result("v1", "n", ["s1"])], FMT, META)
    through_awx = json.loads(json.dumps(plan))
    assert _plan.check_approved(through_awx) == (plan["fingerprint"], through_awx)
    assert _plan.check_approved(plan["fingerprint"]) == (plan["fingerprint"], None)
    edited = copy.deepcopy(through_awx)
    edited["deletes"].append({"volume_id": "v1", "snapshot_id": "s-extra"})
    with pytest.raises(InputError, match="does not match its own fingerprint"):
        _plan.check_approved(edited)


@pytest.mark.parametrize("value, match", [
    ("sha256:abc", "its fingerprint"), (3, "the plan of a check-mode run"), ({"fingerprint": "x"}, "check-mode run"),
    ({"fingerprint": "x", "creates": [{}], "deletes": []}, "not a plan this collection made"),
])
def test_bad_approved_plans_name_the_option(value, match):
    with pytest.raises(InputError, match="^approved_plan"):
        _plan.check_approved(value)
    with pytest.raises(InputError, match=match):
        _plan.check_approved(value)


def test_the_difference_says_what_changed():
    approved = _plan.plan_of([result("v1", "n", ["s1"]), result("v2", None, ["s2"])], FMT, META)
    fresh = _plan.plan_of([result("v1", None, ["s1", "s3"]), result("v2", None, [])], FMT, META)
    assert _plan.difference(approved, fresh) == [
        "- create a snapshot of vol-v1 (no longer due)", "+ delete snapshot s3 of vol-v1",
        "- delete snapshot s2 of vol-v2 (now kept, or gone)"]
    assert _plan.difference(None, fresh) == []
