# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ansible-galaxy collection build ships: what a user needs, never what tools generated in the tree."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_the_tarball_ships_no_generated_files_and_no_development_tools(tmp_path):
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout.split(b"\0")
    tree = tmp_path / "snapshots"
    for name in filter(None, (n.decode() for n in tracked)):
        if os.path.isfile(os.path.join(REPO, name)):
            os.makedirs(os.path.dirname(str(tree / name)), exist_ok=True)
            shutil.copy2(os.path.join(REPO, name), str(tree / name))
    # What ansible-lint and antsibull-changelog leave behind in a working tree.
    (tree / ".ansible" / "collections").mkdir(parents=True)
    (tree / ".ansible" / "collections" / "junk.yml").write_text("x: 1\n")
    (tree / "changelogs" / ".plugin-cache.yaml").write_text("plugins: {}\n")
    (tree / "plugins" / "modules" / "__pycache__").mkdir()
    (tree / "plugins" / "modules" / "__pycache__" / "snapshot.cpython-312.pyc").write_bytes(b"\0")
    galaxy = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
    res = subprocess.run([galaxy, "collection", "build", str(tree), "--output-path", str(tmp_path)],
                         capture_output=True, text=True, check=False)
    assert res.returncode == 0, res.stderr
    with tarfile.open(str(tmp_path / "cinderops-snapshots-1.0.0.tar.gz")) as tar:
        names = tar.getnames()
    tops = set(n.split("/")[0] for n in names)
    assert {"plugins", "roles", "playbooks", "meta", "docs", "tests", "changelogs", "README.md",
            "MANIFEST.json", "FILES.json"} <= tops, tops
    leaked = [n for n in names if n.startswith((".ansible/", "bench", "scripts", ".local", ".ci", "tests/output"))
              or n.endswith((".pyc", ".plugin-cache.yaml", "pytest.ini")) or "__pycache__" in n]
    assert leaked == []


def test_the_execution_environment_installs_this_release():
    """The shipped execution-environment.yml names the tarball of galaxy.yml's version (bump both together)."""
    import yaml
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        galaxy = yaml.safe_load(f)
    with open(os.path.join(REPO, "execution-environment.yml")) as f:
        definition = yaml.safe_load(f)
    tarball = "%s-%s-%s.tar.gz" % (galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert definition["dependencies"]["galaxy"]["collections"] == [{"name": "collections/" + tarball, "type": "file"}]
    assert definition["additional_build_files"] == [{"src": "cinderops-snapshots-*.tar.gz", "dest": "collections"}]
