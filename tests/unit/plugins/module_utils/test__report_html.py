# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report as a picture: every snapshot a mark of the right kind, escaped text, aggregation, bad data."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

from ansible_collections.cinderops.snapshots.plugins.module_utils import _report_html as html
from ansible_collections.cinderops.snapshots.plugins.module_utils._report import build_report

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=timezone.utc)


def at(hours_ago):
    return (NOW - timedelta(hours=hours_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def snap(name, hours_ago, reasons, status="available", **extra):
    return dict({"id": "s-" + name, "name": name, "status": status, "created_at": at(hours_ago), "reasons": reasons},
                **extra)


def vol(name, kept=(), pruned=(), skipped=(), created=None, errors=()):
    return {"volume_id": "id-" + name, "volume_name": name, "kept": list(kept), "pruned": list(pruned),
            "skipped": list(skipped), "created": created, "errors": list(errors)}


def run(name, *volumes, failed=False, msg=None):
    return {"item": {"name": name}, "volumes": list(volumes), "failed": failed, "msg": msg, "summary": {}}


class Page(HTMLParser):
    """The rendered page's marks per volume, flags, and anything that would be fetched."""

    def __init__(self, text):
        super().__init__()
        self.volume = None
        self.marks = {}
        self.flags = {}
        self.titles = []
        self.fetches = []
        self.scripts = 0
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if "volume" in classes and "data-volume-id" in attrs:
            self.volume = attrs["data-volume-id"]
            self.marks[self.volume] = []
        if tag == "rect" and "mark" in classes:
            self.marks[self.volume].append(classes[-1] if "aggregate" not in classes else ("agg", classes[-1],
                                                                                           attrs["data-count"]))
        if tag == "path" and "flag" in classes and self.volume:
            self.flags.setdefault(self.volume, []).append(classes[-1])
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if attrs.get(key):
                self.fetches.append(attrs[key])
        self._in_title = tag == "title"

    def handle_data(self, data):
        if self._in_title:
            self.titles.append(data)

    def handle_endtag(self, tag):
        self._in_title = False


def render(*runs, **kw):
    return html.render(build_report(list(runs), NOW, **kw))


def test_every_snapshot_is_one_mark_coloured_by_what_happened_to_it():
    db = vol("db", kept=[snap("a", 10, ["daily", "weekly"]), snap("b", 24 * 40, ["oldest monthly"]),
                         snap("h", 24 * 400, ["hold", "yearly"]), snap("c", 2, ["status creating"], "creating"),
                         snap("v", 30, ["within 3d"], verify_result="ok", verified_at=at(1))],
             created=snap("new", 0.1, ["last"]), pruned=[snap("p", 24 * 9, ["not kept by any rule"])],
             skipped=[snap("e", 5, ["status error", "not pruned: cleanup_errors: true deletes it"], "error"),
                      snap("d", 24 * 12, ["daily", "not pruned: volumes were created from it: x"])])
    page = Page(render(run("nightly", db, vol("empty"))))
    assert sorted(page.marks["id-db"]) == sorted(["kept-daily", "kept-monthly", "held", "kept-other", "kept-within",
                                                  "created", "pruned", "error", "skipped"])
    assert page.marks["id-empty"] == []
    assert sorted(page.flags["id-db"]) == ["newest-good", "newest-verified"]
    # Hovering a pruned or skipped mark gives the Markdown report's reasons.
    assert any("p (" in t and "pruned: not kept by any rule" in t for t in page.titles)
    assert any("volumes were created from it: x" in t for t in page.titles)
    assert page.scripts == 0 and page.fetches == []


def test_text_is_escaped_and_the_page_fetches_nothing():
    evil = vol('<img src="http://x/y.png">', kept=[snap("<script>alert(1)</script>", 3, ["last"])],
               errors=['create failed: "quota" <b>'])
    text = render(run("p<i>", evil, failed=False))
    page = Page(text)
    assert page.scripts == 0 and page.fetches == [] and "<script>alert" not in text
    assert "default-src 'none'" in text and "&lt;script&gt;" in text
    assert "http://" not in text.replace('http://x/y.png', "")


def test_two_years_of_hourlies_are_aggregated_and_every_snapshot_is_counted():
    hourly = [snap("h%05d" % n, n, ["hourly"] if n < 48 else []) for n in range(24 * 730)]
    kept, pruned = [s for s in hourly if s["reasons"]], [s for s in hourly if not s["reasons"]]
    text = render(run("p", vol("big", kept=kept, pruned=pruned)))
    page = Page(text)
    marks = page.marks["id-big"]
    assert all(m[0] == "agg" for m in marks) and len(marks) <= 2 * html.WIDTH // html.COLUMN + 2
    assert sum(int(m[2]) for m in marks) == len(hourly)
    assert sum(int(m[2]) for m in marks if m[1] == "kept-hourly") == 48
    assert 'data-snapshots="%d"' % len(hourly) in text


def test_bad_data_renders():
    # An empty run, a failed policy without volumes, a volume without snapshots, a snapshot without a time.
    assert "No policy ran." in render()
    text = render(run("broken", failed=True, msg="could not connect"),
                  run("p", vol("none"), vol("odd", kept=[dict(snap("t", 1, ["last"]), created_at=None)])))
    page = Page(text)
    assert page.marks["id-none"] == [] and page.marks["id-odd"] == ["kept-last"]
    assert "FAILED: could not connect" in text


def test_four_hundred_volumes_are_one_row_each():
    volumes = [vol("v%03d" % n, kept=[snap("s%03d" % n, n, ["daily"])]) for n in range(400)]
    page = Page(render(run("fleet", *volumes)))
    assert len(page.marks) == 400 and all(len(m) == 1 for m in page.marks.values())
