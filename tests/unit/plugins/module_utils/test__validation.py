# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._validation import (
    InputError, check_metadata, check_metadata_key, check_text, check_positive, looks_like_uuid)


@pytest.mark.parametrize("value, ok", [
    ("5aa119a8-d25b-45a7-8d1b-88e127885635", True),
    ("5AA119A8D25B45A78D1B88E127885635", True),
    ("db-data", False),
    ("5aa119a8-d25b-45a7-8d1b-88e12788563", False),
    ("", False),
    (None, False),
])
def test_looks_like_uuid(value, ok):
    assert looks_like_uuid(value) is ok


def test_text_limits():
    assert check_text("name", "x" * 255) == "x" * 255
    assert check_text("name", None) is None
    with pytest.raises(InputError, match="name is 256 characters long; Cinder allows at most 255"):
        check_text("name", "x" * 256)
    with pytest.raises(InputError, match="description must not contain a newline"):
        check_text("description", "a\nb", allow_newline=False)
    with pytest.raises(InputError, match="newline"):
        check_text("description", "a\rb", allow_newline=False)


@pytest.mark.parametrize("key", ["a", "A-b_c:d.e f", "cinderops:policy", "k" * 255])
def test_good_keys(key):
    assert check_metadata_key("metadata", key) == key


@pytest.mark.parametrize("key", ["", "a/b", "a=b", "a@b", "a+b", "ключ", "k" * 256, 5])
def test_bad_keys_name_the_key(key):
    with pytest.raises(InputError, match="metadata key"):
        check_metadata_key("metadata", key)


def test_metadata_scalars_become_strings_users_expect():
    assert check_metadata("metadata", {"a": 1, "b": 1.5, "c": True, "d": False, "e": "x"}) == {
        "a": "1", "b": "1.5", "c": "true", "d": "false", "e": "x"}
    assert check_metadata("metadata", None) is None


@pytest.mark.parametrize("value", [None, ["x"], {"k": "v"}])
def test_non_scalar_values_are_refused(value):
    with pytest.raises(InputError, match=r"metadata\['k'\] must be a string"):
        check_metadata("metadata", {"k": value})


def test_long_value_is_refused():
    with pytest.raises(InputError, match=r"metadata\['k'\] is 256 characters long"):
        check_metadata("metadata", {"k": "v" * 256})


@pytest.mark.parametrize("timeout, ok", [(1, True), (None, True), (0, False), (-1, False)])
def test_timeout(timeout, ok):
    if ok:
        assert check_positive("timeout", timeout) == timeout
    else:
        with pytest.raises(InputError, match="timeout must be greater than 0"):
            check_positive("timeout", timeout)
