# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations


class ModuleDocFragment(object):

    DOCUMENTATION = r"""
options:
  cloud:
    description:
      - Name of a cloud in C(clouds.yaml), or a dict of cloud settings (as in C(clouds.yaml)).
      - When not given, the C(OS_*) environment variables and C(OS_CLOUD) are used, as with M(openstack.cloud.volume_snapshot).
      - C(clouds.yaml) is read from the current directory, C(~/.config/openstack/), C(/etc/openstack/), or the file
        named by E(OS_CLIENT_CONFIG_FILE).
    type: raw
  auth:
    description:
      - Credentials and the Keystone URL, with the keys of the O(auth_type) plugin, for example C(auth_url),
        C(username), C(password), C(project_name), C(user_domain_name) and C(project_domain_name), or
        C(application_credential_id) and C(application_credential_secret).
      - Overrides what the O(cloud) says. Never logged.
    type: dict
  auth_type:
    description:
      - Keystone authentication plugin, for example C(password), C(v3password), C(token) or
        C(v3applicationcredential). The default comes from the cloud configuration, else C(password).
    type: str
  region_name:
    description: Region of the block-storage endpoint.
    type: str
  interface:
    description: Which endpoint of the catalog to use.
    type: str
    default: public
    choices: [admin, internal, public]
    aliases: [endpoint_type]
  validate_certs:
    description:
      - Verify the TLS certificates of Keystone and Cinder.
      - When not given, the cloud configuration decides, and verification is on unless it says otherwise.
    type: bool
    aliases: [verify]
  ca_cert:
    description: Path to a CA bundle that verifies the cloud's certificates. The file must exist.
    type: str
    aliases: [cacert]
  client_cert:
    description: Path to a client certificate, for clouds that require one. The file must exist.
    type: str
    aliases: [cert]
  client_key:
    description: Path to the key of O(client_cert). The file must exist. Never logged.
    type: str
    aliases: [key]
  api_timeout:
    description:
      - Timeout in seconds for each API request; greater than 0. A request that times out counts as a lost
        connection, and is retried like one.
    type: int
  auth_cache:
    description:
      - Reuse the Keystone token across tasks, so that a task costs no request to Keystone (and no token
        validation by Cinder) while the token is valid.
      - The token, never the password, is kept in C($XDG_CACHE_HOME/cinderops.snapshots/auth/) (by default
        C(~/.cache/...)), in a file of mode 0600 named by a hash of the auth URL, the credentials and the scope, so
        other credentials never reuse it. It is used until 5 minutes before it expires; a token that Cinder refuses
        is replaced.
      - A task whose connection inputs are the same as an earlier task's (these options, the C(OS_*) variables,
        and unchanged C(clouds.yaml), C(secure.yaml) and openstacksdk files, including a C(clouds.yaml) in the
        working directory) also reuses what
        that task resolved (the block-storage endpoint, the token, the TLS settings and the microversion) from
        C(.../cinderops.snapshots/sessions/), and does not load openstacksdk at all, which saves about half a second
        per task. Any 401, unreachable endpoint or needed version discovery falls back to a full connection.
        Clouds that use a vendor C(profile) always connect in full.
      - Set to V(false) to authenticate afresh in every task, as M(openstack.cloud.volume_snapshot) does.
    type: bool
    default: true
  sdk_log_path:
    description:
      - Write openstacksdk's and keystoneauth's log to this file, as M(openstack.cloud.volume_snapshot) does.
        keystoneauth masks tokens and passwords in what it logs.
      - With a log asked for, the task connects through openstacksdk even when O(auth_cache) could resume an earlier
        task's session, so that every request is in the log.
    type: str
  sdk_log_level:
    description: The level of the O(sdk_log_path) log.
    type: str
    default: INFO
    choices: [INFO, DEBUG]
requirements:
  - python >= 3.9
  - openstacksdk >= 4.0.0
notes:
  - The modules talk to Cinder's v3 API with microversion 3.66 and fall back to the cloud's highest version when it
    is older. A C(block_storage_default_microversion) in C(clouds.yaml) sets a lower ceiling.
  - All modules of this collection are in the action group C(cinderops.snapshots.snapshots), so
    C(module_defaults) can set the connection options once.
"""
