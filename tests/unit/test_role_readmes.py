# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Role READMEs are generated from meta/argument_specs.yml (scripts/role-readme), and the specs match defaults."""
from __future__ import annotations

import importlib.machinery
import importlib.util
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(REPO, "scripts", "role-readme")


def _load_script():
    loader = importlib.machinery.SourceFileLoader("role_readme", SCRIPT)
    spec = importlib.util.spec_from_loader("role_readme", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


role_readme = _load_script()
ROLES = [os.path.basename(d) for d in role_readme.roles(REPO)]
SPEC_ROLES = [r for r in ROLES if os.path.isfile(os.path.join(REPO, "roles", r, "meta", "argument_specs.yml"))]


def _params(roles):
    # Roles without an argument spec are reported as skipped, so a role that forgot its spec shows up.
    return [pytest.param(r, marks=() if r in roles else pytest.mark.skip(reason="no meta/argument_specs.yml"))
            for r in ROLES] or [pytest.param(None, marks=pytest.mark.skip(reason="no roles"))]


@pytest.mark.parametrize("role", _params(SPEC_ROLES))
def test_readme_is_generated_from_the_argument_spec(role):
    stale = role_readme.stale(REPO, {role})
    assert not stale, "roles/%s/README.md is stale or missing: run scripts/role-readme %s" % (role, role)


def _load_yaml(path):
    with open(path, encoding="utf-8") as f:
        return yaml.safe_load(f) or {}


def _is_template(value):
    return isinstance(value, str) and ("{{" in value or "{%" in value)


@pytest.mark.parametrize("role", _params(SPEC_ROLES))
def test_argument_spec_and_defaults_agree(role):
    """Every option typed and described, defaults/main.yml and the spec's defaults the same, nothing undocumented.

    A required option must not be in defaults/main.yml: role argument validation counts role defaults as given,
    so the requirement would never be enforced.
    """
    role_dir = os.path.join(REPO, "roles", role)
    main = (_load_yaml(os.path.join(role_dir, "meta", "argument_specs.yml")).get("argument_specs") or {}).get("main")
    if not main:
        pytest.skip("no main entry point")
    options = main.get("options") or {}
    defaults_file = os.path.join(role_dir, "defaults", "main.yml")
    defaults = _load_yaml(defaults_file) if os.path.isfile(defaults_file) else {}

    problems = []
    for name, spec in options.items():
        spec = spec or {}
        if not spec.get("description"):
            problems.append("%s has no description" % name)
        if "type" not in spec:
            problems.append("%s has no type" % name)
        if spec.get("type") == "list" and "elements" not in spec:
            problems.append("%s is a list without elements" % name)
        if spec.get("required"):
            if name in defaults:
                problems.append("%s is required but has a default in defaults/main.yml" % name)
        elif "default" in spec:
            if name not in defaults:
                problems.append("%s has a spec default but is not in defaults/main.yml" % name)
            elif _is_template(defaults[name]):
                pass  # computed in defaults/main.yml, described in words in the spec
            elif defaults[name] != spec["default"]:
                problems.append("%s: spec default %r != defaults/main.yml %r" % (name, spec["default"], defaults[name]))
        if spec.get("choices") and "default" in spec and spec["default"] not in spec["choices"]:
            problems.append("%s: default %r is not one of its choices" % (name, spec["default"]))
    for name in defaults:
        if name not in options:
            problems.append("%s is in defaults/main.yml but not documented in meta/argument_specs.yml" % name)
    assert not problems, "roles/%s:\n  %s" % (role, "\n  ".join(problems))


# The renderer itself, on a made-up role.
SPEC = """
argument_specs:
  main:
    short_description: Do a thing
    description:
      - First paragraph with C(code), V(a value), O(demo_mode=fast) and E(HOME).
      - Second with a pipe | and M(ns.col.mod).
    author: [Someone]
    options:
      demo_name:
        description: The name.
        type: str
        required: true
      demo_mode:
        description: How.
        type: str
        choices: [fast, slow]
        default: fast
      demo_items:
        description: Items.
        type: list
        elements: dict
        default: []
        options:
          key:
            description: [One key., V(Mon..Fri *-*-* 02:30:00) works.]
            type: str
  other:
    short_description: Another entry point
    options: {}
"""


@pytest.fixture
def fake_collection(tmp_path):
    (tmp_path / "galaxy.yml").write_text("namespace: ns\nname: col\nversion: 1.0.0\n")
    role = tmp_path / "roles" / "demo"
    (role / "meta").mkdir(parents=True)
    (role / "meta" / "argument_specs.yml").write_text(SPEC)
    (tmp_path / "roles" / "plain" / "tasks").mkdir(parents=True)
    return tmp_path


def test_render(fake_collection):
    text = role_readme.render(str(fake_collection / "roles" / "demo"), "ns.col")
    assert text.startswith("<!-- Generated by scripts/role-readme")
    assert "# ns.col.demo\n\nDo a thing.\n" in text
    # Ansible markup, rendered by antsibull-docs-parser (escaped Markdown, code as <code>).
    assert ("<code>code</code>\\, <code>a value</code>\\, <code>demo\\_mode\\=fast</code> and <code>HOME</code>"
            in text)
    assert "a pipe \\| and ns\\.col\\.mod" in text
    assert "| `demo_name` | str | **required** | The name\\. |" in text
    assert "| `demo_mode` | str | `fast` | How\\. <br><br> Choices: `fast`, `slow`. |" in text
    assert "| `demo_items` | list of dict | `[]` | Items\\. |" in text
    assert ("| `demo_items[].key` | str |  | One key\\. <br><br> <code>Mon\\.\\.Fri \\*\\-\\*\\-\\* 02\\:30\\:00</code> "
            "works\\. |") in text
    assert "## Entry point `main`" in text and "## Entry point `other`" in text
    assert "Use it with `tasks_from: other`." in text
    assert text.endswith("## Authors\n\n- Someone\n")


def test_cell_escapes_pipes():
    assert role_readme._cell("a | b\nc") == "a \\| b c"


def test_intro_and_examples_are_included(fake_collection):
    role = fake_collection / "roles" / "demo"
    (role / "README.intro.md").write_text("Intro text.\n")
    (role / "README.examples.md").write_text("```yaml\n- hosts: all\n```\n")
    text = role_readme.render(str(role), "ns.col")
    assert "README.intro.md, README.examples.md. Do not edit" in text
    assert text.index("Intro text.") < text.index("## Entry point")
    assert "## Examples\n\n```yaml\n- hosts: all\n```\n" in text


def test_check_and_write(fake_collection):
    root = str(fake_collection)

    def run(*args):
        return subprocess.run([sys.executable, SCRIPT, "--root", root] + list(args),
                              capture_output=True, text=True, check=False)

    res = run("--check")
    assert res.returncode == 1 and "stale: roles/demo/README.md" in res.stdout
    assert "plain" not in res.stdout  # no argument spec: skipped
    assert run().returncode == 0
    assert (fake_collection / "roles" / "demo" / "README.md").is_file()
    assert not (fake_collection / "roles" / "plain" / "README.md").exists()
    res = run("--check")
    assert res.returncode == 0 and res.stdout == ""
    (fake_collection / "roles" / "demo" / "README.md").write_text("hand-edited\n")
    assert run("--check", "demo").returncode == 1
    assert run("--check", "nosuchrole").returncode == 2


def _defined_names():
    """Every role variable a user can set (argument specs) and every name the roles define themselves (registered
    results, loop variables, facts, set_stats keys and task vars), plus the collection's plugin and role names."""
    import glob
    import re
    names = set(ROLES)
    for role in SPEC_ROLES:
        with open(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml")) as f:
            for entry in yaml.safe_load(f)["argument_specs"].values():
                names.update(entry.get("options") or {})
    for path in glob.glob(os.path.join(REPO, "roles", "*", "tasks", "*.yml")):
        with open(path) as f:
            text = f.read()
        names.update(re.findall(r"(?m)^\s*(?:- )?(\w+):", text))
        names.update(re.findall(r"(?:register|loop_var):\s*(\w+)", text))
    for path in glob.glob(os.path.join(REPO, "playbooks", "*.yml")):
        with open(path) as f:
            names.update(re.findall(r"(\w+)\s*\|\s*default\(", f.read()))  # read by the collection's playbooks
    for kind in ("modules", "filter"):
        plugins = glob.glob(os.path.join(REPO, "plugins", kind, "*.py"))
        names.update(os.path.splitext(os.path.basename(p))[0] for p in plugins)
    return names


def test_every_role_variable_the_docs_name_exists():
    """A documented variable that nothing reads is a trap (rotation_dry_run once looked like a dry run)."""
    import glob
    import re
    defined = _defined_names()
    docs = [os.path.join(REPO, "README.md")] + glob.glob(os.path.join(REPO, "docs", "**", "*.md"), recursive=True)
    docs += glob.glob(os.path.join(REPO, "docs", "**", "*.rst"), recursive=True)  # the docsite guides
    docs += glob.glob(os.path.join(REPO, "roles", "*", "README*.md"))
    docs += glob.glob(os.path.join(REPO, "roles", "*", "meta", "*.yml"))
    docs += glob.glob(os.path.join(REPO, "examples", "**", "*.yml"), recursive=True)
    docs += glob.glob(os.path.join(REPO, "changelogs", "fragments", "*.yml"))
    unknown = {}
    for path in docs:
        with open(path) as f:
            for name in re.findall(r"(?<![\w.-])((?:rotation|restore_drill)_[a-z0-9_]+)", f.read()):
                if name not in defined:
                    unknown.setdefault(name, os.path.relpath(path, REPO))
    assert not unknown, "named in the docs but defined nowhere: %s" % unknown
