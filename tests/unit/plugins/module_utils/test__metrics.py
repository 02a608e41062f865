# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rotation metrics, read back with the official Prometheus text parser."""
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils import _metrics as metrics
from ansible_collections.cinderops.snapshots.plugins.module_utils._report import build_report

parser = pytest.importorskip("prometheus_client.parser")

NOW = "2026-11-26T12:00:00Z"
NOW_EPOCH = 1795694400.0


def snap(name, created_at, reasons, **extra):
    return dict({"id": "s-" + name, "name": name, "status": "available", "created_at": created_at,
                 "reasons": reasons}, **extra)


def samples(text):
    out = {}
    for family in parser.text_string_to_metric_families(text):
        assert family.type == "gauge" and family.documentation
        for sample in family.samples:
            out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return out


def report(**kw):
    db = {"volume_id": "id-db", "volume_name": 'db "main"\\prod\n', "created": snap("n", "2026-11-26T11:00:00Z", []),
          "kept": [snap("a", "2026-11-26T02:00:00Z", ["daily"], verify_result="ok", verified_at="2026-11-26T03:00:00Z"),
                   snap("b", "2026-11-20T02:00:00Z", ["weekly"])],
          "pruned": [snap("p", "2026-11-01T02:00:00Z", [])], "skipped": [], "errors": []}
    bare = {"volume_id": "id-bare", "volume_name": "bare", "created": None, "kept": [], "pruned": [], "skipped": [],
            "errors": ["could not create: quota"]}
    runs = [{"item": {"name": "nightly"}, "volumes": [db, bare], "failed": False, "summary": {}},
            {"item": {"name": "broken"}, "failed": True, "msg": "no connection"}]
    return build_report(runs, NOW, **kw)


def labels(policy, volume_id, volume_name, **extra):
    return tuple(sorted(dict(job="nightly-run", policy=policy, volume_id=volume_id, volume_name=volume_name,
                             **extra).items()))


def test_every_figure_reads_back_through_the_official_parser():
    text = metrics.render(report(), "nightly-run", NOW_EPOCH - 90, NOW_EPOCH, False)
    got = samples(text)
    run = (("job", "nightly-run"),)
    assert got[("cinderops_rotation_last_run_start_timestamp_seconds", run)] == NOW_EPOCH - 90
    assert got[("cinderops_rotation_last_run_duration_seconds", run)] == 90
    assert got[("cinderops_rotation_last_run_success", run)] == 0
    db = labels("nightly", "id-db", 'db "main"\\prod\n')
    assert got[("cinderops_rotation_newest_snapshot_age_seconds", db)] == 3600
    assert got[("cinderops_rotation_newest_snapshot_timestamp_seconds", db)] == NOW_EPOCH - 3600
    assert got[("cinderops_rotation_newest_verified_restore_age_seconds", db)] == 10 * 3600
    for outcome, count in (("kept", 2), ("created", 1), ("pruned", 1), ("skipped", 0)):
        key = labels("nightly", "id-db", 'db "main"\\prod\n', outcome=outcome)
        assert got[("cinderops_rotation_volume_snapshots", key)] == count
    bare = labels("nightly", "id-bare", "bare")
    assert got[("cinderops_rotation_volume_failures", bare)] == 1
    assert ("cinderops_rotation_newest_snapshot_age_seconds", bare) not in got  # no good snapshot: no sample
    assert got[("cinderops_rotation_policy_failed", (("job", "nightly-run"), ("policy", "nightly")))] == 1
    assert got[("cinderops_rotation_policy_failed", (("job", "nightly-run"), ("policy", "broken")))] == 1


def test_names_follow_prometheus_conventions():
    text = metrics.render(report(), "j", NOW, NOW, True)
    names = set(line.split("{")[0] for line in text.splitlines() if not line.startswith("#"))
    assert all(n.startswith("cinderops_rotation_") and n == n.lower() and "__" not in n for n in names)
    assert all(n.endswith(("_seconds", "_success", "_failed", "_snapshots", "_failures")) for n in names)
    assert not any(n.endswith("_total") for n in names)  # gauges, not counters


def test_bad_input_is_a_clear_error():
    with pytest.raises(metrics.MetricsError, match="expected the rotation report"):
        metrics.render([], "j", NOW, NOW, True)
    with pytest.raises(metrics.MetricsError, match="started_at must be a time"):
        metrics.render(report(), "j", "yesterday", NOW, True)
    with pytest.raises(metrics.MetricsError, match="job must name the run"):
        metrics.render(report(), "", NOW, NOW, True)
