# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Cinder volume driver that stores nothing, for the project's local test cloud.

It runs inside the stock ``cinder-volume`` process, so every request goes through
Cinder's real API, scheduler, RPC and status machine. Faults are injected by the
resource's display name:

- ``fail-create`` -> the driver raises on create -> status ``error``;
- ``fail-delete`` -> the driver raises on delete -> status ``error_deleting``;
- ``slow-N``      -> sleep N seconds in create and delete, so ``creating`` and
  ``deleting`` can be observed.

A volume made from a snapshot also takes the snapshot's faults: a snapshot named
``fail-restore`` cannot be restored (the new volume goes to ``error``), and one
named ``slow-N`` restores slowly (restore drills use their own volume names).

Deleting a snapshot that still has volumes created from it depends on the
backend it imitates (``cinderops_backend_like`` in the backend's section):

- ``rbd`` (default): refused with ``SnapshotIsBusy``, as the RBD driver does for a
  snapshot with clones. Cinder accepts the delete with 202, then puts the snapshot
  back to ``available``.
- ``lvm``: deleted, as the LVM driver does: a volume made from an LVM snapshot is a
  full copy, independent of it.

The driver's interface is the same on every release the local cloud runs
(2024.1 to 2026.2).
"""
import re
import time

from oslo_config import cfg
from oslo_log import log as logging

from cinder import context as cinder_context
from cinder import exception
from cinder import objects
from cinder.volume import configuration
from cinder.volume import driver

LOG = logging.getLogger(__name__)

fake_opts = [
    cfg.StrOpt("cinderops_backend_like", default="rbd", choices=["rbd", "lvm"],
               help="Which real driver's handling of a snapshot with dependent volumes to imitate."),
]
cfg.CONF.register_opts(fake_opts, group=configuration.SHARED_CONF_GROUP)

_SLOW = re.compile(r"slow-(\d+)")


class InjectedFault(exception.VolumeBackendAPIException):
    """The fault a test asked for by naming the resource."""


def _name_of(resource):
    return getattr(resource, "display_name", None) or ""


def _inject(resource, operation):
    name = _name_of(resource)
    slow = _SLOW.search(name)
    if slow:
        time.sleep(int(slow.group(1)))
    if "fail-%s" % operation in name:
        raise InjectedFault(data="injected fail-%s for %s" % (operation, name))


class FakeDriver(driver.VolumeDriver):
    """Stores nothing; goes through Cinder's real status transitions."""

    VERSION = "1.0.0"
    CI_WIKI_NAME = "cinderops-local-cloud"

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.configuration.append_config_values(fake_opts)
        self._stats = {}

    def do_setup(self, context):
        pass

    def check_for_setup_error(self):
        pass

    def _update_volume_stats(self):
        backend = self.configuration.safe_get("volume_backend_name") or "fake"
        self._stats = {
            "volume_backend_name": backend,
            "vendor_name": "cinderops",
            "driver_version": self.VERSION,
            "storage_protocol": "fake",
            "cinderops_backend_like": self.configuration.cinderops_backend_like,
            "total_capacity_gb": 10000,
            "free_capacity_gb": 10000,
            "reserved_percentage": 0,
            "thin_provisioning_support": True,
            "thick_provisioning_support": False,
            "max_over_subscription_ratio": 20.0,
            "multiattach": True,
        }

    def get_volume_stats(self, refresh=False):
        if refresh or not self._stats:
            self._update_volume_stats()
        return self._stats

    # volumes
    def create_volume(self, volume):
        _inject(volume, "create")
        return {}

    def create_volume_from_snapshot(self, volume, snapshot):
        _inject(volume, "create")
        _inject(snapshot, "restore")
        return {}

    def create_cloned_volume(self, volume, src_vref):
        _inject(volume, "create")
        return {}

    def delete_volume(self, volume):
        _inject(volume, "delete")

    def extend_volume(self, volume, new_size):
        pass

    # snapshots
    def create_snapshot(self, snapshot):
        _inject(snapshot, "create")
        return {}

    def delete_snapshot(self, snapshot):
        if self.configuration.cinderops_backend_like == "rbd":
            # RBD: a snapshot with clones cannot go.
            ctx = cinder_context.get_admin_context()
            dependents = objects.VolumeList.get_all(ctx, filters={"snapshot_id": snapshot.id})
            if len(dependents):
                raise exception.SnapshotIsBusy(snapshot_name=snapshot.id)
        _inject(snapshot, "delete")

    # exports and connections: nothing to export, attachments still work
    def ensure_export(self, context, volume):
        pass

    def create_export(self, context, volume, connector):
        return {}

    def remove_export(self, context, volume):
        pass

    def create_export_snapshot(self, context, snapshot, connector):
        return {}

    def remove_export_snapshot(self, context, snapshot):
        pass

    def initialize_connection(self, volume, connector, **kwargs):
        return {"driver_volume_type": "fake", "data": {"volume_id": volume.id}}

    def initialize_connection_snapshot(self, snapshot, connector, **kwargs):
        return {"driver_volume_type": "fake", "data": {"snapshot_id": snapshot.id}}

    def terminate_connection(self, volume, connector, **kwargs):
        pass

    def terminate_connection_snapshot(self, snapshot, connector, **kwargs):
        pass

    def local_path(self, volume):
        raise NotImplementedError("the fake driver stores nothing")
