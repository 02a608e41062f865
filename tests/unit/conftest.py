# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make ``ansible_collections.cinderops.snapshots`` importable for plain pytest runs.

scripts/test lays the collection out under .local/collections (ANSIBLE_COLLECTIONS_PATH);
ansible-test units does the same on its own.
"""
from __future__ import annotations

import os
import sys

_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
for _path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", os.path.join(_REPO, ".local", "collections")).split(os.pathsep):
    if os.path.isdir(os.path.join(_path, "ansible_collections", "cinderops", "snapshots")) and _path not in sys.path:
        sys.path.insert(0, _path)
        break
