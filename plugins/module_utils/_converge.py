# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""When two runs create the same snapshot at once, which one survives. Pure.

Two runs that want one new snapshot (the same ``snapshot`` task twice, the same rotation from
an AWX schedule and a cron entry) can both decide to create, because neither sees the other's
snapshot before its own POST. Locks do not help across hosts, so the runs agree afterwards:

* Each run, once its own new snapshot ``own`` is ``available``, looks at its *rivals*: the other
  new snapshots of the same identity (the same volume and name for ``snapshot``; the same volume
  and policy, made after the run's own listing, for a rotation).
* Snapshots are ordered by ``(created_at, id)``. That order is the same for every run, because it
  comes from Cinder's records, not from the runs' clocks.
* Cinder stores ``created_at`` to the second, so two snapshots made in the same second are ordered
  by their (random) ids, and the one with the lower id may have been made later. So a run looks
  at its rivals only with a listing sent after Cinder's clock has passed the second after its own
  snapshot's (``settles_at``; the client learns Cinder's clock from its Date headers). By then
  every snapshot of the same second or earlier exists, so every run compares the same snapshots.
* A run whose own snapshot has an older rival still ``creating`` waits for it to settle.
* A run whose own snapshot has an older ``available`` rival **yields**: it deletes its own and
  reports the oldest available rival as the snapshot it wanted. Otherwise it keeps its own.

Why this converges: the oldest available snapshot of the identity never has an older available
rival, so nobody deletes it; every other available one has it as an older rival, so its run
deletes it. Waiting only ever points at older snapshots, so no two runs wait for each other. A
rival that fails (``error``) or goes away never wins, so a run never yields to nothing, and a
volume never loses its new snapshot because of another run. The result is the state one run
would have reached: one new snapshot.
"""
from __future__ import annotations

import calendar
import time

from ansible_collections.cinderops.snapshots.plugins.module_utils import _status

KEEP = "keep"
YIELD = "yield"
WAIT = "wait"


def order_key(snapshot):
    """Oldest first, the same for every run: Cinder's stored created_at (to the second), then the id.

    Pass snapshots as a GET or a listing shows them: a create's own answer may carry a fraction of a
    second that the database rounds away.
    """
    return ((snapshot.get("created_at") or "")[:19], snapshot.get("id") or "")


def settles_at(snapshot):
    """Cinder's time (epoch seconds) after which a listing shows every rival that could be as old as ``snapshot``."""
    text = (snapshot.get("created_at") or "")[:19]
    try:
        created = calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%S"))
    except ValueError:
        return None
    # Stored to the second (MySQL rounds, MariaDB truncates): whatever is stored with this second or an
    # earlier one was inserted before the next second began, on the clocks of Cinder's API hosts, which
    # NTP keeps far closer together than a second.
    return created + 1


def decide(own, rivals):
    """(KEEP, None), (WAIT, None) or (YIELD, winner) for ``own`` against ``rivals`` (other new snapshots)."""
    mine = order_key(own)
    older = sorted((r for r in rivals if r.get("id") != own.get("id") and order_key(r) < mine), key=order_key)
    if any(r.get("status") in _status.TRANSITIONAL for r in older):
        return WAIT, None
    available = [r for r in older if r.get("status") == _status.AVAILABLE]
    if available:
        return YIELD, available[0]
    return KEEP, None
