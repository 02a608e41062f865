# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""scripts/cells.py: the version table is made only from what the cells recorded, and refuses the rest."""
from __future__ import annotations

import importlib.util
import json
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_spec = importlib.util.spec_from_file_location("cells", os.path.join(REPO, "scripts", "cells.py"))
cells = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cells)

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="{errors}" failures="{failures}" skipped="{skipped}" tests="{tests}"/>
</testsuites>"""


def junit(tmp_path, name, tests, failures=0, errors=0, skipped=0):
    path = tmp_path / name
    path.write_text(JUNIT.format(tests=tests, failures=failures, errors=errors, skipped=skipped))
    return str(path)


def record(release="2026.2", cinder="29.0.0", python="3.12.1", passed=22, rc=0, suite="smoke", parts=None):
    rec = {"python": python, "ansible_core": "2.21.5", "openstacksdk": "4.22.0", "suite": suite, "rc": rc,
           "cloud": {"release": release, "cinder": cinder, "keystone": "30.0.0", "microversions": ["3.0", "3.71"],
                     "python": "3.11" if release == "2024.1" else "3.12"},
           "results": {"tests": passed, "passed": passed, "failures": 0, "errors": 0, "skipped": 0}}
    if parts:
        rec["parts"] = parts
    return rec


def all_records():
    recs = {name: record(release=cell["release"]) for name, cell in cells.CELLS.items()}
    recs["default"] = record(suite="full", parts=[["unit", 740], ["integration", 166]])
    recs["cinder-2024.1"] = record(release="2024.1", cinder="24.5.0", python="3.12.8")
    return recs


def test_junit_counts_add_up_every_report(tmp_path):
    counts = cells.junit_counts([junit(tmp_path, "a.xml", 10, failures=1, skipped=2),
                                 junit(tmp_path, "b.xml", 5, errors=1)])
    assert counts == {"tests": 15, "failures": 1, "errors": 1, "skipped": 2, "passed": 11}


def test_the_table_has_one_row_per_cell_with_what_it_ran():
    table = cells.render_table(all_records())
    rows = [line for line in table.splitlines() if line.startswith("| ") and not line.startswith("| Cell")]
    assert [r.split(" | ")[0][2:] for r in rows] == ["default"] + cells.CI_CELLS
    assert "ansible-2.19" in cells.SMOKE_CELLS and "ansible-2.19" not in table  # runs when named only
    assert "| default | unit + integration, all | 3.12 | 2.21.5 | 4.22.0 | 2026.2 | 29.0.0 / 30.0.0 | 3.12 " \
           "| 3.0 to 3.71 |" in table
    # The Python patch level is left out (it differs between machines that run the same cell), and so are the
    # test counts (they change with every test added; the run's summary has them).
    assert "| cinder-2025.1 | integration, smoke subset | 3.12 | 2.21.5 | 4.22.0 | 2025.1 | 29.0.0 / 30.0.0 | 3.12 " \
           in table
    assert "740" not in table


@pytest.mark.parametrize("damage", ["missing", "failed", "not run"])
def test_the_table_refuses_a_cell_that_did_not_pass(damage):
    recs = all_records()
    if damage == "missing":
        del recs["sdk-floor"]
    elif damage == "failed":
        recs["sdk-floor"]["rc"] = 1
    else:
        recs["sdk-floor"] = {"suite": "smoke", "rc": 1, "error": "the local cloud did not come up"}
    with pytest.raises(cells.CellError, match="cell sdk-floor has no passing record"):
        cells.render_table(recs)


def test_table_rewrites_a_stale_doc_and_says_so(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cells, "RECORDS", str(tmp_path / "records"))
    os.makedirs(cells.RECORDS)
    for name, rec in all_records().items():
        (tmp_path / "records" / (name + ".json")).write_text(json.dumps(rec))
    doc = tmp_path / "development.md"
    doc.write_text("before\n%s\n| stale |\n%s\nafter\n" % (cells.BEGIN, cells.END))
    monkeypatch.setattr(cells, "DOC", str(doc))
    assert cells.cmd_table() == 1
    assert "rewritten; commit it" in capsys.readouterr().out
    text = doc.read_text()
    assert text.startswith("before\n") and text.endswith("after\n") and "| stale |" not in text
    assert cells.cmd_table() == 0
    assert "matches what this run tested" in capsys.readouterr().out
    assert doc.read_text() == text


def test_unknown_cell_names_the_cells():
    with pytest.raises(cells.CellError, match="unknown cell.s. nope; cells: sdk-floor, ansible-2.17"):
        cells.check_names(["nope"])


def test_every_cell_names_a_constraints_file_or_the_dev_venv_and_a_release():
    releases = os.listdir(os.path.join(REPO, "tests", "cloud", "releases"))
    for name, cell in cells.CELLS.items():
        assert cell.get("venv") == "dev" or os.path.exists(os.path.join(REPO, cell["constraints"])), name
        assert cell["release"] + ".txt" in releases, name
