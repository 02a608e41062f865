# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Wait until the snapshot is C(available) after a create, or gone after a delete.
      - The wait fails at once when the snapshot lands in C(error) or C(error_deleting), or when the backend refuses
        a delete and the snapshot returns to C(available).
      - The first look comes 0.05 seconds after the request; each later pause is a quarter of the time already
        waited, at least 0.1 and at most 2 seconds. So a fast backend is seen within 0.1 seconds of finishing, and
        a slow one is asked at most 43 times in the first minute and 30 times a minute after that.
    type: bool
    default: true
  timeout:
    description: How many seconds to wait at most. Must be greater than 0.
    type: int
    default: 180
"""

    # For modules that never wait: the options are accepted, so that module_defaults shared with
    # openstack.cloud (whose every module takes wait and timeout) work.
    UNUSED = r"""
options:
  wait:
    description:
      - Accepted and ignored, so that C(module_defaults) shared with C(openstack.cloud) modules work; this module
        does not wait.
    type: bool
    default: true
  timeout:
    description:
      - Accepted and ignored, so that C(module_defaults) shared with C(openstack.cloud) modules work.
    type: int
    default: 180
"""

    # For modules with a timeout of their own: only wait is accepted and ignored.
    UNUSED_WAIT = r"""
options:
  wait:
    description:
      - Accepted and ignored, so that C(module_defaults) shared with C(openstack.cloud) modules work; this module
        always waits, up to its O(timeout).
    type: bool
    default: true
"""
