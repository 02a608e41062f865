# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection as a user gets it: `ansible-galaxy collection build`, then `install` of the tarball into a fresh
path, and from there `ansible-doc` of every plugin and role, the rotate playbook against the local cloud, and an
execution environment built from the tarball with the shipped execution-environment.yml.

Nothing here sees the checkout or the dev layout: ANSIBLE_COLLECTIONS_PATH names only the fresh path. No container
engine is needed: `ansible-builder create` writes the image's build context, and the tests replay the two steps of
`ansible-builder build` that concern the collection (the galaxy stage's install in _build, then introspection).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
import yaml

from cloudkit import CLOUDS_YAML, unique

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def _load(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f)


GALAXY = _load(os.path.join(REPO, "galaxy.yml"))
FQCN = "%s.%s" % (GALAXY["namespace"], GALAXY["name"])
TARBALL = "%s-%s-%s.tar.gz" % (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])


def _run(argv, env=None, **kwargs):
    kwargs.setdefault("timeout", 600)
    full_env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1", **(env or {}))
    return subprocess.run(argv, capture_output=True, text=True, check=False, env=full_env, **kwargs)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """The built tarball (in its own directory, as a download would leave it) and the fresh install of it."""
    top = tmp_path_factory.mktemp("release")
    dist = top / "dist"
    res = _run([os.path.join(BIN, "ansible-galaxy"), "collection", "build", REPO, "--output-path", str(dist)])
    assert res.returncode == 0, res.stdout + res.stderr
    tarball = dist / TARBALL
    assert tarball.is_file(), os.listdir(str(dist))
    collections = top / "collections"
    res = _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", str(tarball),
                "-p", str(collections)], env=dict(ANSIBLE_COLLECTIONS_PATH=str(collections)))
    assert res.returncode == 0, res.stdout + res.stderr
    root = collections / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    # Only the fresh path: the dev layout and ~/.ansible must not be found.
    env = dict(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="false")
    return dict(tarball=tarball, root=root, env=env, top=top)


def _shipped(root, kind):
    folder = root / "plugins" / kind
    return sorted(p.stem for p in folder.glob("*.py") if p.name != "__init__.py")


def test_the_tarball_installs_what_ansible_loads(release):
    root = release["root"]
    with open(root / "MANIFEST.json", encoding="utf-8") as f:
        info = json.load(f)["collection_info"]
    assert (info["namespace"], info["name"], info["version"]) == (GALAXY["namespace"], GALAXY["name"], GALAXY["version"])
    for path in ("meta/runtime.yml", "meta/execution-environment.yml", "execution-environment.yml",
                 "requirements.txt", "bindep.txt", "playbooks/rotate.yml", "roles/rotation/meta/argument_specs.yml"):
        assert (root / path).is_file(), path
    assert not list(root.rglob("__pycache__"))
    with tarfile.open(str(release["tarball"])) as tar:
        names = tar.getnames()
    assert not [n for n in names if n.startswith(("bench/", "scripts/", ".local/", "tests/output/"))]


def test_ansible_doc_of_every_plugin_and_role(release):
    root, env = release["root"], release["env"]
    doc = os.path.join(BIN, "ansible-doc")
    wanted = {"module": _shipped(root, "modules"), "filter": _shipped(root, "filter"),
              "role": sorted(p.name for p in (root / "roles").iterdir() if (p / "meta" / "argument_specs.yml").is_file())}
    assert wanted["module"] and wanted["filter"] and wanted["role"]
    for kind, names in wanted.items():
        listed = _run([doc, "-t", kind, "-l", FQCN, "--json"], env=env)
        assert listed.returncode == 0, listed.stderr
        assert sorted(n.split(".")[-1] for n in json.loads(listed.stdout)) == names, kind
        for name in names:
            res = _run([doc, "-t", kind, "--json", "%s.%s" % (FQCN, name)], env=env)
            assert res.returncode == 0, "ansible-doc -t %s %s.%s: %s" % (kind, FQCN, name, res.stderr)
            data = json.loads(res.stdout)["%s.%s" % (FQCN, name)]
            if kind == "role":
                assert data["entry_points"]["main"]["short_description"], name
                assert data["entry_points"]["main"]["version_added"], name
            else:
                assert data["doc"]["short_description"] and data["doc"]["version_added"], name
                assert data["examples"] and data["return"], name
            text = _run([doc, "-t", kind, "%s.%s" % (FQCN, name)], env=env)
            # ansible-doc -t role warns about ansible-core's own _protomatter collection; ours must be clean.
            ours = [line for line in text.stderr.splitlines() if "WARNING" in line and "_protomatter" not in line]
            assert text.returncode == 0 and not ours, text.stderr


def test_the_rotate_playbook_runs_from_the_installed_collection(release, tracker, admin, tmp_path):
    vol = tracker.volume()
    policy = unique("release")
    extra = dict(rotation_cloud="local-admin", rotation_report_dir=str(tmp_path / "reports"),
                 rotation_policies=[dict(name=policy, volumes=[vol.id], retention=dict(keep_last=2))])
    argv = [os.path.join(BIN, "ansible-playbook"), "%s.rotate" % FQCN, "-e", json.dumps(extra),
            "-e", "ansible_python_interpreter=%s" % sys.executable]
    env = dict(release["env"], OS_CLIENT_CONFIG_FILE=CLOUDS_YAML, ANSIBLE_LOCALHOST_WARNING="0",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    res = _run(argv, env=env, cwd=str(tmp_path))
    assert res.returncode == 0, res.stdout[-4000:] + res.stderr[-2000:]
    snaps = list(admin.block_storage.snapshots(details=True, volume_id=vol.id))
    tracker.snapshots.extend(s.id for s in snaps)
    assert [s.status for s in snaps] == ["available"]
    assert snaps[0].metadata.get("cinderops:policy") == policy
    assert list((tmp_path / "reports").glob("*.md")), os.listdir(str(tmp_path))


@pytest.fixture(scope="module")
def ee_context(release, tmp_path_factory):
    """What a user does: the shipped definition copied from the installed collection beside the tarball."""
    builder = os.path.join(BIN, "ansible-builder")
    if not os.access(builder, os.X_OK):
        pytest.skip("ansible-builder is not installed")
    work = tmp_path_factory.mktemp("ee")
    shutil.copy(str(release["tarball"]), str(work))
    shutil.copy(str(release["root"] / "execution-environment.yml"), str(work))
    ctx = work / "context"
    res = _run([builder, "create", "-f", "execution-environment.yml", "-c", str(ctx),
                "--output-filename", "Containerfile"], cwd=str(work))
    assert res.returncode == 0, "ansible-builder create failed:\n%s%s" % (res.stdout, res.stderr)
    assert "Complete!" in res.stdout
    return ctx


def test_the_execution_environment_names_this_release(release):
    definition = _load(str(release["root"] / "execution-environment.yml"))
    assert definition["version"] == 3
    deps = definition["dependencies"]
    assert "ansible-core" in deps["ansible_core"]["package_pip"]
    assert "ansible-runner" in deps["ansible_runner"]["package_pip"]
    assert deps["galaxy"]["collections"] == [{"name": "collections/" + TARBALL, "type": "file"}]
    assert "python" not in deps and "system" not in deps  # introspection finds them in the collection


def test_the_image_context_holds_the_tarball_and_the_containerfile(ee_context, release):
    build = ee_context / "_build"
    assert (build / "collections" / TARBALL).read_bytes() == release["tarball"].read_bytes()
    wanted = {"collections": [{"name": "collections/" + TARBALL, "type": "file"}]}
    assert _load(str(build / "requirements.yml")) == wanted
    with open(ee_context / "Containerfile", encoding="utf-8") as f:
        text = f.read()
    assert "ansible-galaxy collection install" in text and "introspect" in text and "assemble" in text


def test_the_galaxy_stage_installs_the_release_and_introspection_finds_its_requirements(ee_context, tmp_path):
    """The image's galaxy stage runs `ansible-galaxy collection install -r requirements.yml` in /build."""
    dest = tmp_path / "image-collections"
    res = _run([os.path.join(BIN, "ansible-galaxy"), "collection", "install", "--offline", "-r", "requirements.yml",
                "-p", str(dest)], env=dict(ANSIBLE_COLLECTIONS_PATH=str(dest)), cwd=str(ee_context / "_build"))
    assert res.returncode == 0, "galaxy stage failed:\n%s%s" % (res.stdout, res.stderr)
    root = dest / "ansible_collections" / GALAXY["namespace"] / GALAXY["name"]
    with open(root / "MANIFEST.json", encoding="utf-8") as f:
        assert json.load(f)["collection_info"]["version"] == GALAXY["version"]
    res = _run([os.path.join(BIN, "ansible-builder"), "introspect", str(dest)])
    assert res.returncode == 0, res.stdout + res.stderr
    data = yaml.safe_load(res.stdout.split("\n", 1)[1])  # the first line is a comment header
    with open(os.path.join(REPO, "requirements.txt"), encoding="utf-8") as f:
        ours = [line.split("#")[0].strip() for line in f if line.split("#")[0].strip()]
    for line in ours:
        assert any(line in req for req in data["python"]), (line, data["python"])
    assert any("python3" in req for req in data["system"]), data["system"]
