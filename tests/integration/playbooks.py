# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run real ansible-playbook processes against the local cloud and read back each task's result."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import yaml

from cloudkit import CLOUDS_YAML

HERE = os.path.dirname(os.path.abspath(__file__))


class PlaybookRun(object):
    def __init__(self, rc, stdout, stderr, tasks):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.tasks = tasks

    def task(self, name):
        # Role tasks are named "<role> : <task>".
        found = [t for t in self.tasks if t["task"] == name or t["task"].endswith(" : " + name)]
        assert found, "no task %r in %s\n%s" % (name, [t["task"] for t in self.tasks], self.stdout[-3000:])
        return found[-1]

    def result(self, name):
        return self.task(name)["result"]

    def outcome(self, name):
        return self.task(name)["outcome"]


def run_tasks(tasks, cloud="local-admin", check=False, diff=False, extra_vars=None, env=None, play_extra=None,
              timeout=900):
    """Run ``tasks`` (a list of task dicts) in one play on localhost with the collection's group defaults."""
    play = {
        "name": "cinderops integration",
        "hosts": "localhost",
        "gather_facts": False,
        "connection": "local",
        "module_defaults": {"group/cinderops.snapshots.snapshots": {"cloud": cloud}} if cloud else {},
        "tasks": tasks,
    }
    play.update(play_extra or {})
    return run_playbook([play], check=check, diff=diff, extra_vars=extra_vars, env=env, timeout=timeout)


def run_playbook(plays, check=False, diff=False, extra_vars=None, env=None, timeout=900, args=None, inventory=None):
    """``plays`` is a list of plays, or the name of a playbook (a path or a collection playbook's FQCN)."""
    with tempfile.TemporaryDirectory(prefix="cinderops-pb-") as tmp:
        if isinstance(plays, str):
            book = plays
        else:
            book = os.path.join(tmp, "play.yml")
            with open(book, "w") as f:
                yaml.safe_dump(plays, f, sort_keys=False)
        capture = os.path.join(tmp, "capture.json")
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), book]
        if inventory:
            argv += ["-i", inventory]
        else:
            argv += ["-i", "localhost,", "-e", "ansible_python_interpreter=%s" % sys.executable]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        for extra in ([extra_vars] if isinstance(extra_vars, (dict, str)) else extra_vars or []):
            argv += ["-e", extra if isinstance(extra, str) else json.dumps(extra)]
        argv += list(args or [])
        full_env = dict(os.environ)
        full_env.update({
            "OS_CLIENT_CONFIG_FILE": CLOUDS_YAML,
            "CINDEROPS_CAPTURE": capture,
            "ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
            "ANSIBLE_CALLBACKS_ENABLED": "cinderops_capture",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "0",
            "ANSIBLE_LOCALHOST_WARNING": "0",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        })
        full_env.update(env or {})
        proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=tmp, check=False)
        tasks = []
        if os.path.exists(capture):
            with open(capture) as f:
                tasks = json.load(f)
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, tasks)
