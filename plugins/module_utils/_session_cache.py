# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The caches that spare a module run work: Keystone tokens, and whole resolved sessions.

``TokenCache`` keeps a Keystone token (never the password) for keystoneauth to reuse.
``SessionStore`` and ``SessionKeeper`` keep what a full openstacksdk connection resolved, so that
the next module run can skip the SDK.

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

Pure stdlib: no Ansible or SDK imports (``TokenCache`` is handed keystoneauth's auth plugin).
"""
from __future__ import annotations

import hashlib
import json
import os
import time

FORMAT = 1
# A cached token or session is reused until this many seconds before it expires.
TOKEN_MIN_LIFE = 300
# Besides OS_*: variables that change which files the SDK reads or which CAs requests trusts.
ENV_NAMES = ("HOME", "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "SNAP_REAL_HOME", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
REQUIRED_KEYS = ("endpoint", "token", "expires_at", "roles", "microversion", "files")


def cache_dir(kind):
    """``$XDG_CACHE_HOME/cinderops.snapshots/<kind>`` (``~/.cache`` when unset)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "cinderops.snapshots", kind)


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

    def __init__(self, directory, min_life=TOKEN_MIN_LIFE, now=time.time):
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


class SessionKeeper(object):
    """Saves a record of a full connection once it has worked, for the next run to resume."""

    def __init__(self, store, key):
        self.store = store
        self.key = key
        self._saved = None

    def load(self):
        return self.store.load(self.key)

    def remember(self, transport, microversion, negotiated):
        """Called after every response: cheap unless the token or microversion changed since the last save."""
        record_of = getattr(transport, "session_record", None)
        if record_of is None:
            return  # a resumed session's record is already on disk
        state = (transport.token(), microversion)
        if state == self._saved:
            return
        self._saved = state  # also after a failed write: retrying it on every request would only cost time
        record = record_of()
        if record is not None:
            record.update(microversion=microversion, negotiated=negotiated)
            self.store.save(self.key, record, transport.config_files)

    def forget(self):
        self.store.forget(self.key)
        self._saved = None


class TokenCache(object):
    """Reuses a Keystone token across module runs: the token only, never the password.

    Keyed by keystoneauth's cache id, a hash of the auth URL, the credentials and the
    scope, so other credentials never get this token. The file is the user's own, mode
    0600 in a 0700 directory; anything else about it and it is ignored. A token that
    Cinder refuses (401) is replaced by keystoneauth, and the new one is saved.
    """

    def __init__(self, auth, directory=None):
        self.auth = auth
        self.path = None
        self.saved = False
        self._token = None
        try:
            cache_id = auth.get_cache_id()
        except Exception:
            cache_id = None
        if cache_id:
            name = hashlib.sha256(cache_id.encode("utf-8")).hexdigest()
            self.path = os.path.join(directory or cache_dir("auth"), name)

    def load(self):
        state = read_private(self.path) if self.path else None
        if state is None:
            return False
        try:
            self.auth.set_auth_state(state)
            if self.auth.auth_ref is None or self.auth.auth_ref.will_expire_soon(TOKEN_MIN_LIFE):
                self.auth.set_auth_state(None)
                return False
        except (ValueError, KeyError, TypeError):
            self.auth.set_auth_state(None)
            return False
        self.saved = True  # nothing new to write unless keystoneauth re-authenticates
        self._token = self.auth.auth_ref.auth_token
        return True

    def save(self):
        if not self.path:
            return
        ref = getattr(self.auth, "auth_ref", None)
        if ref is None or (self.saved and self._token == ref.auth_token):
            return
        try:
            state = self.auth.get_auth_state()
            json.loads(state)
        except (TypeError, ValueError):
            return
        if write_private(self.path, state):  # one that cannot be written only costs a token request next time
            self.saved = True
            self._token = ref.auth_token
