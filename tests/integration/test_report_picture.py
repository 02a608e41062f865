# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The rotation report's picture and metrics, from a real rotation on the local cloud, checked with the real parts:
headless Chromium renders the HTML page, and Debian's node_exporter serves the metrics file to a scrape that the
official Prometheus parser reads."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from html.parser import HTMLParser

import pytest
import yaml

from cloudkit import REPO, unique
from playbooks import run_playbook
from test_rotation_role import sample

parser = pytest.importorskip("prometheus_client.parser")
CHROMIUM = shutil.which("chromium")
NODE_EXPORTER = shutil.which("prometheus-node-exporter")
OUTPUT = os.path.join(REPO, "tests", "output", "report-picture")
RULES = {"keep_daily": 7, "keep_weekly": 4, "keep_monthly": 12, "keep_yearly": 2, "min_interval": "20h"}


@pytest.fixture(scope="module")
def rotated(cloud, tmp_path_factory):
    """A real rotation of two volumes with two years of history, through the rotate playbook, with metrics on."""
    prefix = unique("pic")
    made = sample("make", prefix)
    tmp = tmp_path_factory.mktemp("picture")
    data = {"rotation_cloud": "local-admin", "rotation_report_dir": str(tmp / "reports"),
            "rotation_report_name": "report", "rotation_metrics_dir": str(tmp / "textfile"),
            "rotation_policies": [{"name": "nightly", "volume_metadata": {"rotation": prefix}, "retention": RULES},
                                  {"name": "nothing-selected", "volume_metadata": {"rotation": "no-" + prefix},
                                   "retention": RULES}]}
    path = tmp / "vars.yml"
    path.write_text(yaml.safe_dump(data))
    started = time.time()
    run = run_playbook("cinderops.snapshots.rotate", extra_vars="@%s" % path)
    assert run.rc == 0, run.stdout[-3000:]
    yield {"dir": tmp, "volumes": made["volumes"], "started": started, "finished": time.time(),
           "report": json.loads((tmp / "reports" / "report.json").read_text())}
    sample("clean", prefix)


def chromium(*args, timeout=120):
    """Headless Chromium as the env skill's probe runs it: no network of its own, a fresh profile."""
    profile = os.path.join(OUTPUT, "profile")
    shutil.rmtree(profile, ignore_errors=True)
    argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--user-data-dir=%s" % profile, "--enable-logging=stderr", "--log-level=0"] + list(args)
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def console_lines(stderr):
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class Marks(HTMLParser):
    def __init__(self, text):
        super().__init__()
        self.volume, self.marks, self.flags = None, {}, {}
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "volume" in classes and "data-volume-id" in attrs:
            self.volume = attrs["data-volume-id"]
            self.marks[self.volume] = []
        elif tag == "rect" and "mark" in classes:
            self.marks[self.volume].append(classes[-1])
        elif tag == "path" and "flag" in classes:
            self.flags.setdefault(self.volume, []).append(classes[-1])


def test_the_console_check_sees_errors(tmp_path):
    """The control: a page that logs and throws is caught, so a clean result below means something."""
    assert CHROMIUM, "chromium is missing (scripts/test installs it)"
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><script>console.error("control-error"); nope();</script>'
                    '<img src="https://example.invalid/x.png"></body></html>')
    res = chromium("--dump-dom", "file://%s" % page)
    lines = console_lines(res.stderr)
    assert any("control-error" in line for line in lines) and any("nope is not defined" in line for line in lines)


def test_the_report_renders_in_chromium_with_a_mark_per_snapshot(rotated):
    page = rotated["dir"] / "reports" / "report.html"
    res = chromium("--dump-dom", "file://%s" % page)
    assert res.returncode == 0, res.stderr[-2000:]
    assert console_lines(res.stderr) == [], console_lines(res.stderr)
    dom = Marks(res.stdout)
    (nightly, empty) = rotated["report"]["policies"]
    assert empty["volumes"] == [] and "nothing-selected" in res.stdout
    assert sorted(dom.marks) == sorted(v["id"] for v in rotated["volumes"])
    for volume in nightly["volumes"]:
        marks = dom.marks[volume["volume_id"]]
        expected = volume["kept"] + (1 if volume["created"] else 0) + len(volume["pruned"]) + len(volume["skipped"])
        assert len(marks) == expected and expected > 20, (len(marks), expected)
        assert marks.count("created") == 1 and marks.count("pruned") == len(volume["pruned"])
        assert sum(1 for m in marks if m.startswith("kept-") or m == "held") == volume["kept"]
        assert dom.flags[volume["volume_id"]] == ["newest-good"]
    os.makedirs(OUTPUT, exist_ok=True)
    shot = os.path.join(OUTPUT, "rotation-report.png")
    res = chromium("--screenshot=%s" % shot, "--window-size=1280,720", "--hide-scrollbars", "file://%s" % page)
    assert res.returncode == 0 and os.path.getsize(shot) > 10000, res.stderr[-2000:]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_node_exporter_serves_the_metrics_of_the_run(rotated):
    assert NODE_EXPORTER, "prometheus-node-exporter is missing (scripts/test installs it)"
    textfile = rotated["dir"] / "textfile"
    assert [p.name for p in textfile.iterdir()] == ["cinderops_rotation_report.prom"]
    port = free_port()
    proc = subprocess.Popen([NODE_EXPORTER, "--collector.disable-defaults", "--collector.textfile",
                             "--collector.textfile.directory=%s" % textfile, "--web.listen-address=127.0.0.1:%d" % port],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        body = None
        for _attempt in range(100):
            try:
                with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5) as resp:
                    body = resp.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert body is not None, "node_exporter did not answer"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    got = {}
    for family in parser.text_string_to_metric_families(body):
        for s in family.samples:
            got[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert got[("node_textfile_scrape_error", ())] == 0
    run = (("job", "report"),)
    assert rotated["started"] - 1 <= got[("cinderops_rotation_last_run_start_timestamp_seconds", run)] \
        <= rotated["finished"]
    assert 0 < got[("cinderops_rotation_last_run_duration_seconds", run)] < rotated["finished"] - rotated["started"]
    assert got[("cinderops_rotation_last_run_success", run)] == 1
    (nightly, _empty) = rotated["report"]["policies"]
    for volume in nightly["volumes"]:
        labels = dict(job="report", policy="nightly", volume_id=volume["volume_id"], volume_name=volume["volume_name"])
        key = tuple(sorted(labels.items()))
        assert abs(got[("cinderops_rotation_newest_snapshot_age_seconds", key)] - volume["newest_good"]["age_seconds"]) < 1
        for outcome, count in (("kept", volume["kept"]), ("created", 1), ("pruned", len(volume["pruned"]))):
            assert got[("cinderops_rotation_volume_snapshots", tuple(sorted(dict(labels, outcome=outcome).items())))] \
                == count
        assert got[("cinderops_rotation_volume_failures", key)] == 0
    assert not re.search(r"cinderops_rotation_\w+\{[^}]*policy=\"nothing-selected\",volume", body)
