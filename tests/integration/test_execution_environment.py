# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment definition (execution-environment.yml) without a container engine or a cloud.

`ansible-builder create` writes the build context offline; the tests check what it holds, then replay the
image's galaxy stage (`ansible-galaxy collection install -r requirements.yml` in _build) and the builder
stage's introspection on the result, the two steps of `ansible-builder build` that concern this collection.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EE_FILE = os.path.join(REPO, "execution-environment.yml")
# What Ansible loads from an installed collection; all of it must reach the image.
RUNTIME_CONTENT = ("galaxy.yml", "meta", "plugins", "roles", "playbooks")


def _tool(name):
    path = shutil.which(name) or os.path.join(os.path.dirname(sys.executable), name)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not installed" % name)
    return path


def _run(argv, **kwargs):
    kwargs.setdefault("timeout", 300)
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)


def _load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


def _requirement_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.split("#", 1)[0].strip() for line in f if line.split("#", 1)[0].strip()]


def _files(top):
    found = set()
    for root, dirs, files in os.walk(top):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        found.update(os.path.relpath(os.path.join(root, f), top) for f in files if not f.endswith(".pyc"))
    return found


@pytest.fixture(scope="module")
def definition():
    return _load(EE_FILE)


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    builder = _tool("ansible-builder")
    ctx = tmp_path_factory.mktemp("ee") / "context"
    res = _run([builder, "create", "-f", EE_FILE, "-c", str(ctx), "--output-filename", "Containerfile"], cwd=REPO)
    assert res.returncode == 0, "ansible-builder create failed:\n%s%s" % (res.stdout, res.stderr)
    assert "Complete!" in res.stdout
    return ctx


@pytest.fixture(scope="module")
def installed(context, tmp_path_factory):
    """The collection installed the way the image's galaxy stage does it."""
    galaxy = _tool("ansible-galaxy")
    dest = tmp_path_factory.mktemp("ee-collections")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1")
    res = _run([galaxy, "collection", "install", "--offline", "-r", "requirements.yml", "-p", str(dest)],
               cwd=str(context / "_build"), env=env)
    assert res.returncode == 0, "galaxy stage failed:\n%s%s" % (res.stdout, res.stderr)
    return dest


def test_definition_is_builder_v3(definition):
    assert definition["version"] == 3
    assert definition["images"]["base_image"]["name"]
    deps = definition["dependencies"]
    assert "ansible-core" in deps["ansible_core"]["package_pip"]
    assert "ansible-runner" in deps["ansible_runner"]["package_pip"]
    assert deps["python"] == "requirements.txt"
    assert deps["system"] == "bindep.txt"
    for key in ("galaxy", "python", "system"):
        assert os.path.isfile(os.path.join(REPO, deps[key])), deps[key]


def test_galaxy_requirements_install_the_collection_from_the_context(definition):
    reqs = _load(os.path.join(REPO, definition["dependencies"]["galaxy"]))
    assert reqs["collections"] == [{"name": "./collection", "type": "dir"}]


def test_all_runtime_content_is_copied(definition):
    listed = {(f["src"], f["dest"]) for f in definition.get("additional_build_files", [])}
    for name in RUNTIME_CONTENT:
        if os.path.exists(os.path.join(REPO, name)):
            dest = "collection" if os.path.isfile(os.path.join(REPO, name)) else "collection/" + name
            assert (name, dest) in listed, "execution-environment.yml does not copy %s to %s" % (name, dest)


def test_containerfile(context, definition):
    with open(context / "Containerfile", encoding="utf-8") as f:
        text = f.read()
    assert 'ARG EE_BASE_IMAGE="%s"' % definition["images"]["base_image"]["name"] in text
    refs = [line for line in text.splitlines() if line.startswith("ARG ANSIBLE_INSTALL_REFS=")]
    assert refs and "ansible-core" in refs[0] and "ansible-runner" in refs[0]
    assert "ansible-galaxy collection install" in text
    assert "introspect" in text and "assemble" in text


def test_context_has_our_python_and_system_requirements(context):
    got_pip = _requirement_lines(context / "_build" / "requirements.txt")
    got_bindep = _requirement_lines(context / "_build" / "bindep.txt")
    for line in _requirement_lines(os.path.join(REPO, "requirements.txt")):
        assert line in got_pip
    assert any(line.startswith("openstacksdk") for line in got_pip)
    for line in _requirement_lines(os.path.join(REPO, "bindep.txt")):
        assert line in got_bindep


def test_context_has_the_collection(context):
    build = context / "_build"
    assert _load(build / "requirements.yml") == _load(os.path.join(REPO, "meta", "ee-requirements.yml"))
    for name in RUNTIME_CONTENT:
        src = os.path.join(REPO, name)
        if os.path.isdir(src):
            assert _files(build / "collection" / name) == _files(src), name
        elif os.path.isfile(src):
            assert (build / "collection" / name).is_file(), name


def test_galaxy_stage_installs_the_collection(installed):
    galaxy = _load(os.path.join(REPO, "galaxy.yml"))
    root = installed / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
    with open(root / "MANIFEST.json", encoding="utf-8") as f:
        info = json.load(f)["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (galaxy["namespace"], galaxy["name"], galaxy["version"])
    assert (root / "meta" / "runtime.yml").is_file()
    assert (root / "roles" / "rotation_schedule" / "meta" / "argument_specs.yml").is_file()
    assert (root / "plugins" / "modules").is_dir()
    if os.path.isfile(os.path.join(REPO, "playbooks", "rotate.yml")):
        assert (root / "playbooks" / "rotate.yml").is_file()
    assert not list(root.rglob("__pycache__"))


def test_builder_introspection_finds_the_collection_requirements(installed):
    res = _run([_tool("ansible-builder"), "introspect", str(installed)])
    assert res.returncode == 0, res.stdout + res.stderr
    data = yaml.safe_load(res.stdout.split("\n", 1)[1])  # first line is a comment header
    assert any(req.startswith("openstacksdk") for req in data["python"])
    assert data["system"]
