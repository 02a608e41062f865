# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The changelog fragments make release notes a user reads: ``antsibull-changelog release`` for galaxy.yml's version,
run on a copy of the collection, lists every module, filter, role and playbook, has a release summary, and carries no
development infrastructure (that goes to ``trivial``) and no prose that repeats the generated listings."""
from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
DATE = "2026-12-03"
# ansible-core's own internal collection has neither MANIFEST.json nor galaxy.yml; ansible-doc warns about it.
FOREIGN_WARNING = "_protomatter"
GENERATED = ("New Modules", "New Plugins", "New Roles", "New Playbooks")
CHANGE_SECTIONS = ("Major Changes", "Minor Changes", "Breaking Changes / Porting Guide", "Deprecated Features",
                   "Removed Features (previously deprecated)", "Security Fixes", "Bugfixes", "Known Issues")


def _galaxy():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        return yaml.safe_load(f)


def _copy_collection(root):
    """The tracked files and the new ones git does not ignore, as ansible_collections/NS/NAME under root."""
    galaxy = _galaxy()
    dest = os.path.join(str(root), "ansible_collections", galaxy["namespace"], galaxy["name"])
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=True).stdout.split(b"\0")
    for name in filter(None, (n.decode() for n in listed)):
        src = os.path.join(REPO, name)
        if os.path.isfile(src):  # a tracked file deleted in the work tree is listed too
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(src, os.path.join(dest, name))
    return dest


def _parse(text, version):
    """{section title: entries} of one release of CHANGELOG.rst; a subsection is 'Section/Sub'.

    Release Summary holds its paragraph as one entry.
    """
    lines = text.splitlines()
    headings = []
    for i in range(len(lines) - 1):
        under = lines[i + 1]
        if lines[i].strip() and under and len(set(under)) == 1 and under[0] in "=-~" and len(under) >= len(lines[i]):
            headings.append((i, under[0], lines[i].strip()))
    start = [i for i, char, title in headings if char == "=" and title == "v" + version]
    assert len(start) == 1, "no (or several) v%s release heading in CHANGELOG.rst" % version
    sections, current, parent = {}, None, None
    i = start[0] + 2
    heading_at = dict((h[0], h) for h in headings)
    while i < len(lines):
        if i in heading_at:
            char, title = heading_at[i][1:]
            if char == "=":
                break  # the next release
            if char == "-":
                parent = current = title
            else:
                current = "%s/%s" % (parent, title)
            sections[current] = []
            i += 2
            continue
        line = lines[i]
        if current is not None and line.strip():
            if line.startswith("- "):
                sections[current].append(line[2:].strip())
            elif line.startswith("  ") and sections[current]:
                sections[current][-1] += " " + line.strip()
            elif current == "Release Summary":
                if sections[current]:
                    sections[current][-1] += " " + line.strip()
                else:
                    sections[current].append(line.strip())
            else:
                sections[current].append(line.strip())
        i += 1
    return sections


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    root = tmp_path_factory.mktemp("changelog")
    collection = _copy_collection(root)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(root), PATH=BIN + os.pathsep + os.environ.get("PATH", ""))
    tool = os.path.join(BIN, "antsibull-changelog")
    version = str(_galaxy()["version"])
    lint = subprocess.run([tool, "lint"], cwd=collection, env=env, capture_output=True, text=True, check=False)
    made = subprocess.run([tool, "release", "--version", version, "--date", DATE], cwd=collection, env=env,
                          capture_output=True, text=True, check=False)
    path = os.path.join(collection, "CHANGELOG.rst")
    text = None
    if os.path.isfile(path):
        with open(path, encoding="utf-8") as f:
            text = f.read()
    return dict(lint=lint, made=made, text=text, version=version, namespace="%(namespace)s.%(name)s" % _galaxy())


@pytest.fixture(scope="module")
def sections(release):
    assert release["made"].returncode == 0, release["made"].stdout + release["made"].stderr
    assert release["text"], "antsibull-changelog release wrote no CHANGELOG.rst"
    return _parse(release["text"], release["version"])


def _foreign(line):
    return FOREIGN_WARNING in line


def test_fragments_lint_clean(release):
    lint = release["lint"]
    problems = [line for line in (lint.stdout + lint.stderr).splitlines() if line.strip() and not _foreign(line)]
    assert lint.returncode == 0 and problems == [], "antsibull-changelog lint:\n" + "\n".join(problems)


def test_release_warns_about_nothing_of_ours(release):
    made = release["made"]
    assert made.returncode == 0, made.stdout + made.stderr
    warnings = [line for line in (made.stdout + made.stderr).splitlines()
                if re.search(r"warn|error", line, re.I) and not _foreign(line)]
    assert warnings == []  # for example "Found no release_summary section in the changelog for this release"


def test_the_release_notes_are_valid_rst(release, sections):
    from docutils.core import publish_doctree
    from docutils import nodes
    overrides = {"report_level": 5, "halt_level": 5, "warning_stream": False}
    doctree = publish_doctree(release["text"], settings_overrides=overrides)
    messages = [m.astext() for m in doctree.findall(nodes.system_message) if m["level"] >= 2]
    assert messages == []


def test_release_summary(sections):
    summary = sections.get("Release Summary") or []
    assert len(summary) == 1 and len(summary[0].split()) >= 20, summary


def _listed(entries, namespace):
    """The names of 'ns.col.name - Short description.' entries."""
    names = []
    for entry in entries:
        match = re.match(r"%s\.(\w+) - \S" % re.escape(namespace), entry)
        assert match, "not a listing entry: %r" % entry
        names.append(match.group(1))
    return sorted(names)


def _names(pattern):
    return sorted(os.path.splitext(os.path.basename(p))[0] for p in glob.glob(os.path.join(REPO, pattern))
                  if not os.path.basename(p).startswith("__"))


def test_new_modules_lists_every_module(release, sections):
    expected = _names("plugins/modules/*.py")
    assert expected
    assert _listed(sections.get("New Modules", []), release["namespace"]) == expected


def test_new_filters_lists_every_filter(release, sections):
    expected = _names("plugins/filter/*.py")
    assert expected
    assert _listed(sections.get("New Plugins/Filter", []), release["namespace"]) == expected


def test_new_roles_lists_every_role_with_an_argument_spec(release, sections):
    expected = sorted(os.path.basename(os.path.dirname(os.path.dirname(p)))
                      for p in glob.glob(os.path.join(REPO, "roles", "*", "meta", "argument_specs.yml")))
    assert expected
    assert _listed(sections.get("New Roles", []), release["namespace"]) == expected


def test_new_playbooks_lists_every_playbook(release, sections):
    expected = sorted(set(_names("playbooks/*.yml") + _names("playbooks/*.yaml")))
    assert expected
    assert _listed(sections.get("New Playbooks", []), release["namespace"]) == expected


def _change_entries(sections):
    entries = [(title, entry) for title, items in sections.items() if title in CHANGE_SECTIONS for entry in items]
    assert entries, "no change entries at all in %s" % sorted(sections)
    return entries


def test_only_known_sections(sections):
    known = set(CHANGE_SECTIONS) | {"Release Summary"}
    unknown = [t for t in sections if t not in known and t.split("/")[0] not in GENERATED]
    assert unknown == []  # a "Trivial" section would be one


def test_every_entry_names_what_it_changes_first(sections):
    """'snapshot_rotation - ...', 'rotation role - ...', 'All modules - ...': the subject, then what changed."""
    unnamed = [entry for _section, entry in _change_entries(sections)
               if not re.match(r"^[\w.][\w.,/ -]{0,80}? - \S", entry) or entry.startswith("``")]
    assert unnamed == []


def test_no_entry_repeats_the_generated_listings(sections):
    """New modules, filters, roles and playbooks are listed by antsibull-changelog itself."""
    repeated = [entry for _section, entry in _change_entries(sections)
                if re.search(r"\bnew (?:modules?|filters?|roles?|playbooks?|plugins?)\b", entry, re.I)]
    assert repeated == []


def _trivial_entries():
    entries = []
    for path in glob.glob(os.path.join(REPO, "changelogs", "fragments", "*.yml")):
        with open(path, encoding="utf-8") as f:
            fragment = yaml.safe_load(f) or {}
        entries += [" ".join(str(e).split()) for e in fragment.get("trivial") or []]
    return entries


def test_development_infrastructure_stays_out(release, sections):
    """The test cloud, test suites, benchmarks, scripts and internal refactors belong in trivial fragments."""
    text = " ".join(entry for items in sections.values() for entry in items)
    internal = re.findall(r"(?:\btests?/|\bscripts/|\bbench/|\bbench_\w+|module_utils|\.local/)", text)
    assert internal == []
    flat = " ".join(release["text"].split())
    leaked = [entry for entry in _trivial_entries() if entry[:60] in flat]
    assert leaked == []
