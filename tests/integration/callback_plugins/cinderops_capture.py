# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback: writes every task result as JSON to $CINDEROPS_CAPTURE."""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: cinderops_capture
type: aggregate
short_description: Capture task results for the integration tests
description: Writes every task result as JSON to the file named by E(CINDEROPS_CAPTURE).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cinderops_capture"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.results = []

    def _add(self, result, outcome):
        res = dict(result._result)
        if outcome == "ok" and res.get("changed"):
            outcome = "changed"
        self.results.append({"task": result._task.get_name(), "host": result._host.get_name(), "outcome": outcome,
                             "result": res})

    def v2_runner_on_ok(self, result):
        self._add(result, "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._add(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._add(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._add(result, "unreachable")

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("CINDEROPS_CAPTURE")
        if path:
            with open(path, "w") as f:
                json.dump(self.results, f, default=str)
