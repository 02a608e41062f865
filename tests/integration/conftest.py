# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Integration fixtures: the real local cloud, SDK connections, and resources cleaned up after each test."""
from __future__ import annotations

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cloudkit  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def _own_token_cache(tmp_path_factory):
    """The modules' token cache (auth_cache) of this test session only, not the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))


@pytest.fixture(scope="session")
def cloud():
    """Bring the local cloud up (a no-op when it is already up)."""
    cloudkit.cloud_cli("up", timeout=1800)
    return cloudkit


@pytest.fixture(scope="session")
def admin(cloud):
    return cloudkit.connect("local-admin")


@pytest.fixture(scope="session")
def demo(cloud):
    return cloudkit.connect("local-demo")


class Tracker(object):
    """Volumes made by a test, purged (with their snapshots) when it ends."""

    def __init__(self, admin):
        self.admin = admin
        self.volumes = []
        self.snapshots = []

    def volume(self, conn=None, name=None, volume_type=None):
        vol = cloudkit.make_volume(conn or self.admin, name=name, volume_type=volume_type)
        self.volumes.append(vol.id)
        return vol

    def snapshot(self, conn, volume_id, **kwargs):
        snap = cloudkit.make_snapshot(conn, volume_id, **kwargs)
        self.snapshots.append(snap.id)
        return snap

    def cleanup(self):
        # Volumes made from snapshots first, so their snapshots can go.
        for vol_id in reversed(self.volumes):
            cloudkit.purge_volume(self.admin, vol_id)
        for snap_id in self.snapshots:
            cloudkit.purge_snapshot(self.admin, snap_id)


@pytest.fixture
def tracker(admin):
    t = Tracker(admin)
    yield t
    t.cleanup()
