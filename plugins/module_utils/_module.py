# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The base class every module stands on, and the options every module shares.

``CinderopsModule`` merges the connection (and wait) options into a module's spec, turns
them into a client the way openstack.cloud reads them (clouds.yaml, ``cloud:``, ``auth:``,
OS_*), and is the single error boundary: whatever goes wrong becomes one ``fail_json``.
"""
from __future__ import annotations

import io
import json
import os
import shutil
import sys
import tempfile
import traceback
import uuid
from contextlib import redirect_stdout

from ansible.module_utils.basic import AnsibleModule, _load_params
from ansible.module_utils.common.parameters import remove_values

from ansible_collections.cinderops.snapshots.plugins.module_utils import _client, _transport
from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import CinderopsError, InputError

SECRET_WORDS = ("password", "secret", "token", "key", "passcode")


def connection_argument_spec():
    """Connection options, named as openstack.cloud names them."""
    return dict(
        cloud=dict(type="raw"),
        auth=dict(type="dict", no_log=True),
        auth_type=dict(type="str"),
        region_name=dict(type="str"),
        interface=dict(type="str", default="public", choices=["admin", "internal", "public"], aliases=["endpoint_type"]),
        validate_certs=dict(type="bool", aliases=["verify"]),
        ca_cert=dict(type="str", aliases=["cacert"]),
        client_cert=dict(type="str", aliases=["cert"]),
        client_key=dict(type="str", no_log=True, aliases=["key"]),
        api_timeout=dict(type="int"),
        auth_cache=dict(type="bool", default=True),
        sdk_log_path=dict(type="str"),
        sdk_log_level=dict(type="str", default="INFO", choices=["INFO", "DEBUG"]),
    )


def wait_argument_spec():
    return dict(
        wait=dict(type="bool", default=True),
        timeout=dict(type="int", default=180),
    )


def connection_options(params):
    """(cloud, options) for the client factory; options left unset must not override clouds.yaml or OS_*."""
    cloud = params["cloud"]
    if cloud is not None and not isinstance(cloud, (str, dict)):
        raise InputError("cloud must be the name of a cloud in clouds.yaml or a dict of cloud settings")
    if isinstance(cloud, str) and not cloud.strip():
        raise InputError("cloud must not be empty; name a cloud of clouds.yaml, or leave cloud out to use OS_*")
    for option in ("auth_type", "region_name"):
        if params[option] is not None and not params[option].strip():
            raise InputError("%s must not be empty; leave it out to use the cloud configuration's" % option)
    if params["api_timeout"] is not None and params["api_timeout"] <= 0:
        raise InputError("api_timeout must be greater than 0 seconds (got %d)" % params["api_timeout"])
    for option in ("ca_cert", "client_cert", "client_key"):
        path = params[option]
        if path is not None and not os.path.isfile(os.path.expanduser(path)):
            raise InputError("%s must be the path of a readable file; %r is not one" % (option, path))
    log = params.get("sdk_log_path")
    if log is not None and (not log.strip() or not os.path.isdir(os.path.dirname(os.path.abspath(
            os.path.expanduser(log))))):
        raise InputError("sdk_log_path must be a file in an existing directory; %r is not" % log)
    options = dict(
        auth_type=params["auth_type"],
        auth=params["auth"],
        region_name=params["region_name"],
        interface=params["interface"],
        verify=params["validate_certs"],
        cacert=params["ca_cert"],
        cert=params["client_cert"],
        key=params["client_key"],
        api_timeout=params["api_timeout"],
    )
    options = dict((k, v) for k, v in options.items() if v is not None)
    if isinstance(cloud, dict):
        options.update(cloud)
        cloud = None
    return cloud, options


def without_crashing_sub_specs(spec, given):
    """``spec``, minus the suboptions of any dict option that was ``given`` a number or a boolean.

    ansible-core (2.17 to 2.21) looks into such a value for fallbacks before it checks its type, and the
    module dies with a TypeError traceback (``policy: 3``). Without the suboptions, Ansible refuses the
    value in its usual words ("argument 'policy' is of type int and we were unable to convert to dict").
    """
    guarded = dict(spec)
    for name, option in spec.items():
        if not option.get("options"):
            continue
        values = [given.get(key) for key in [name] + list(option.get("aliases") or [])]
        if option.get("type") == "list":
            values = [item for value in values if isinstance(value, list) for item in value]
        if any(isinstance(value, (bool, int, float)) for value in values):
            guarded[name] = dict((k, v) for k, v in option.items() if k != "options")
    return guarded


class CinderopsModule(object):
    """Base class: ``argument_spec`` and ``module_kwargs`` per module, ``run()`` does the work."""

    argument_spec = {}
    module_kwargs = {}
    wait_options = True

    def __init__(self):
        spec = connection_argument_spec()
        # Every module takes wait and timeout, as every openstack.cloud module does, so that shared
        # module_defaults work; modules that never wait ignore them (wait_options = False).
        spec.update(wait_argument_spec())
        spec.update(self.argument_spec)
        try:
            self.ansible = AnsibleModule(argument_spec=spec, supports_check_mode=True, **self.module_kwargs)
        except TypeError:  # ansible-core's crash on a scalar for a dict option (see without_crashing_sub_specs)
            self.ansible = AnsibleModule(argument_spec=without_crashing_sub_specs(spec, _load_params()),
                                         supports_check_mode=True, **self.module_kwargs)
        self.params = self.ansible.params
        self._mask_cloud_secrets(self.params.get("cloud"))
        self.check_mode = self.ansible.check_mode
        self.diff_mode = self.ansible._diff
        self.client = None

    def _mask_cloud_secrets(self, value, key=""):
        """``cloud`` may be a dict with credentials in it; keep those out of every result, as no_log would."""
        if isinstance(value, dict):
            for k, v in value.items():
                self._mask_cloud_secrets(v, str(k))
        elif isinstance(value, list):
            for v in value:
                self._mask_cloud_secrets(v, key)
        elif isinstance(value, str) and value and any(word in key.lower() for word in SECRET_WORDS):
            self.ansible.no_log_values.add(value)

    def check_wait_options(self):
        if self.wait_options and self.params["timeout"] <= 0:
            raise InputError("timeout must be greater than 0 seconds (got %d)" % self.params["timeout"])

    def connect(self):
        """The Cinder client for this task's connection options (validated before anything is sent)."""
        cloud, options = connection_options(self.params)
        log = self.params.get("sdk_log_path")
        if log:
            _transport.log_sdk(os.path.expanduser(log), self.params["sdk_log_level"])
        # With an SDK log asked for, the run connects through openstacksdk, so that the log is complete.
        self.client = _client.connect(cloud, options, auth_cache=self.params["auth_cache"], resume=not log)
        return self.client

    def run(self):
        raise NotImplementedError

    def exit(self, **result):
        self.ansible.exit_json(**result)

    def exit_with_items(self, key, items, **result):
        """exit_json with a result list that may be long, without holding it in memory.

        Ansible's exit_json copies the whole result (to mask no_log values) and serializes it into one
        string, so 50,000 snapshots would take several times their size. Here each item is masked and
        serialized on its own, as ``items`` (any iterable) yields it, into a temporary file; exit_json writes
        the rest of the result with a marker where the list goes, and the marker is replaced by the file
        as the output is written. Nothing is written until every item has been fetched, so a failure while
        listing is still an ordinary failed task.
        """
        with tempfile.TemporaryFile("w+") as spool:
            spool.write("[")
            for n, item in enumerate(items):
                spool.write((", " if n else "") + json.dumps(remove_values(item, self.ansible.no_log_values)))
            spool.write("]")
            marker = "cinderops-list-%s" % uuid.uuid4().hex
            captured = io.StringIO()
            exiting = None
            with redirect_stdout(captured):
                try:
                    self.ansible.exit_json(**dict(result, **{key: marker}))
                except SystemExit as exc:  # exit_json's own exit, let go once the output is written
                    exiting = exc
            text = captured.getvalue()
            quoted = json.dumps(marker)
            spool.seek(0)
            if text.count(quoted) != 1:  # a no_log value masked the marker: the plain way, in memory
                self.ansible.exit_json(**dict(result, **{key: json.load(spool)}))
            head, tail = text.split(quoted)
            sys.stdout.write(head)
            shutil.copyfileobj(spool, sys.stdout)
            sys.stdout.write(tail)
            sys.stdout.flush()
        raise exiting

    def __call__(self):
        failure = None
        try:
            self.check_wait_options()
            connection_options(self.params)  # bad connection input fails before any module work
            self.run()
        except CinderopsError as exc:
            failure = dict(exc.extra, msg=str(exc))
        except Exception as exc:  # the boundary: never a traceback in the task output
            failure = dict(msg="unexpected error: %s: %s" % (type(exc).__name__, exc),
                           details=traceback.format_exc().splitlines()[-3:])
        # Outside the except blocks, so that Ansible does not attach the traceback of
        # an expected error to the result.
        if failure is not None:
            self.ansible.fail_json(**failure)
