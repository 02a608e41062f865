# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options: {}
"""

    ALL = r"""
options: {}
attributes:
  check_mode:
    description: Can run in C(check_mode) and return changed status prediction without modifying the cloud.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in C(check_mode)), when in diff mode.
    support: full
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
  action_group:
    description: Use C(group/cinderops.snapshots.snapshots) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cinderops.snapshots.snapshots
"""

    INFO = r"""
options: {}
attributes:
  check_mode:
    description: Runs the same in check mode; it never changes anything.
    support: full
    details: This is an info module.
  diff_mode:
    description: Nothing changes, so there is no diff.
    support: N/A
  idempotent:
    description: It only reads.
    support: full
  action_group:
    description: Use C(group/cinderops.snapshots.snapshots) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - cinderops.snapshots.snapshots
"""
