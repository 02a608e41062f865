# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a full openstacksdk connection resolved, kept so that the next module run can skip the SDK.

Importing openstacksdk (and with it requests) and reading clouds.yaml costs about half a second per
module run, more than all the API calls of an idempotent rerun. With ``auth_cache`` on, a connection
that worked leaves a record: the block-storage endpoint, the Keystone token with its expiry and roles,
the TLS settings and the microversion in use. A later run with the same inputs sends its requests
straight to that endpoint.

A record is found by a hash of everything that decides the connection: the module's connection
options (credentials included), the OS_* variables and the variables that move config files or CA
bundles, and the user. It is used only while every config file the SDK would look at is unchanged
(same mtime, size and inode, or still absent), the SDK itself is the same install, and the token
has ``min_life`` seconds left. The SDK also reads ``./clouds.yaml``: such files are recorded by
relative path, so a playbook run from another directory (AWX and cron start in fresh ones) reuses
the record unless that directory has a config file of its own. Anything else, and any 401, means
a full connection, which writes a new record.

Pure stdlib: no Ansible or SDK imports.
"""
from __future__ import annotations

import hashlib
import json
import os
import time

FORMAT = 1
# Besides OS_*: variables that change which files the SDK reads or which CAs requests trusts.
ENV_NAMES = ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "SNAP_REAL_HOME", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
REQUIRED_KEYS = ("endpoint", "token", "expires_at", "roles", "microversion", "files")


def fingerprint(options, environ, uid):
    """The record's key: a hash of the connection inputs (secrets included, so they never match others)."""
    env = dict((k, v) for k, v in environ.items() if k.startswith("OS_") or k in ENV_NAMES)
    blob = json.dumps({"format": FORMAT, "options": options, "env": env, "uid": uid},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def read_private(path):
    """The text of a file only this user can read or write, else None (a cache is never trusted otherwise)."""
    try:
        info = os.stat(path)
        if info.st_uid != os.getuid() or info.st_mode & 0o077:
            return None
        with open(path) as f:
            return f.read()
    except OSError:
        return None


def write_private(path, text):
    """Write atomically as mode 0600 in a 0700 directory; False if it cannot (a cache only costs speed)."""
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        tmp = "%s.%d.tmp" % (path, os.getpid())
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
        return True
    except OSError:
        return False


def file_signature(path):
    """(mtime_ns, size, inode) of a file, or None when it is absent; a relative path is the working directory's."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return [info.st_mtime_ns, info.st_size, info.st_ino]


class SessionStore(object):
    """Records as 0600 JSON files in a 0700 directory; anything odd about a file and it is ignored."""

    def __init__(self, directory, min_life=300, now=time.time):
        self.directory = directory
        self.min_life = min_life
        self._now = now

    def _path(self, key):
        return os.path.join(self.directory, key)

    def load(self, key):
        """The record for ``key`` if it is still true, else None."""
        text = read_private(self._path(key))
        if text is None:
            return None
        try:
            record = json.loads(text)
        except ValueError:
            return None
        if not isinstance(record, dict) or record.get("format") != FORMAT \
                or any(k not in record for k in REQUIRED_KEYS):
            return None
        try:
            if float(record["expires_at"]) - self._now() < self.min_life:
                return None
            files = dict(record["files"])
        except (TypeError, ValueError):
            return None
        if any(file_signature(p) != sig for p, sig in files.items()):
            return None
        return record

    def save(self, key, record, files):
        """Write ``record`` with the current signatures of ``files``; a failure only costs speed next time."""
        data = dict(record, format=FORMAT, files=dict((p, file_signature(p)) for p in files))
        try:
            text = json.dumps(data)
        except (TypeError, ValueError):
            return False
        return write_private(self._path(key), text)

    def forget(self, key):
        try:
            os.unlink(self._path(key))
        except OSError:
            pass
