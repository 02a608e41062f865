# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure input checks, run before any request so that bad input never half-applies."""
from __future__ import annotations

import re

from ansible_collections.cinderops.snapshots.plugins.module_utils._errors import InputError

MAX_TEXT = 255
# What Cinder 2026.1 accepts in snapshot metadata keys (api/schemas/snapshot_metadata.py);
# older releases accept more, but a key outside this set cannot be rewritten on 2026.1+.
METADATA_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$")


def looks_like_uuid(value):
    return bool(value) and bool(UUID.match(value))


def check_id(option, value):
    """A Cinder id (a UUID), checked before any request so that a typo never reads as "not found"."""
    if value is None:
        return None
    if not isinstance(value, str) or not looks_like_uuid(value.strip()):
        raise InputError("%s must be a Cinder id (a UUID such as 2bb856e1-b3d8-4432-a858-09e4ce939389), got %r"
                         % (option, value))
    return value.strip()


def check_name(option, value):
    """A name to find or create by: never empty, because an empty name would match unnamed snapshots.

    Leading and trailing spaces are stripped, as Cinder strips them.
    """
    if value is None:
        return None
    stripped = value.strip()
    if not stripped:
        raise InputError("%s must not be empty or blank (%r); an empty name would match every unnamed snapshot"
                         % (option, value))
    return check_text(option, stripped)


def check_storable(option, value):
    """Text Cinder's database can hold: MySQL's ``utf8`` (Cinder's default charset) stores at most 3 bytes
    per character, so an emoji or another character beyond U+FFFF makes Cinder answer 500."""
    wide = [c for c in value if ord(c) > 0xFFFF]
    if wide:
        raise InputError("%s contains %r, a character beyond U+FFFF that Cinder's database (MySQL utf8) cannot store"
                         % (option, wide[0]))
    return value


def check_text(option, value, allow_newline=True):
    if value is None:
        return None
    check_storable(option, value)
    if len(value) > MAX_TEXT:
        raise InputError("%s is %d characters long; Cinder allows at most %d" % (option, len(value), MAX_TEXT))
    if not allow_newline and ("\n" in value or "\r" in value):
        raise InputError("%s must not contain a newline (Cinder rejects it)" % option)
    return value


def metadata_value(option, key, value):
    """Scalars become the strings a user would expect: true/false, 3, 1.5."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return value
    raise InputError("%s[%r] must be a string (or a number or boolean, which is converted), not %s"
                     % (option, key, type(value).__name__))


def check_metadata_key(option, key):
    if not isinstance(key, str) or not METADATA_KEY.fullmatch(key):
        raise InputError("%s key %r is not accepted by Cinder: keys are 1-255 characters of letters, digits, "
                         "space and - _ : ." % (option, key))
    return key


def check_metadata(option, metadata):
    """Validate keys and values and convert scalar values to strings."""
    if metadata is None:
        return None
    result = {}
    for key, value in metadata.items():
        check_metadata_key(option, key)
        text = check_storable("%s[%r]" % (option, key), metadata_value(option, key, value))
        if len(text) > MAX_TEXT:
            raise InputError("%s[%r] is %d characters long; Cinder allows at most %d"
                             % (option, key, len(text), MAX_TEXT))
        result[key] = text
    return result


def check_positive(option, value):
    if value is not None and value <= 0:
        raise InputError("%s must be greater than 0 (got %s)" % (option, value))
    return value
