# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared by the session, client and transport unit tests: a session record as a full connection writes it."""
from __future__ import annotations

NOW = 1_800_000_000.0


def record(**over):
    base = dict(endpoint="https://cinder.example:8776/v3/p1", token="tok-1", expires_at=NOW + 3600,
                roles=["member"], verify=True, cafile=None, cert=None, key=None, timeout=None,
                microversion="3.66", negotiated=False)
    base.update(over)
    return base


def list_snapshots(transport):
    return transport.send("GET", "/snapshots", (200,), None, None, "3.66")
