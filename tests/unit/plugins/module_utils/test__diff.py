# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import pytest

from ansible_collections.cinderops.snapshots.plugins.module_utils._diff import (
    apply_metadata, diff_of, field_changes, is_reserved, metadata_changes)


@pytest.mark.parametrize("current, desired, purge, keep, to_set, to_unset", [
    ({}, {"a": "1"}, False, True, {"a": "1"}, []),
    ({"a": "1"}, {"a": "1"}, False, True, {}, []),
    ({"a": "1"}, {"a": "2"}, False, True, {"a": "2"}, []),
    ({"a": "1", "b": "2"}, {"a": "1"}, False, True, {}, []),
    ({"a": "1", "b": "2"}, {"a": "1"}, True, True, {}, ["b"]),
    ({"a": "1", "cinderops:policy": "p"}, {}, True, True, {}, ["a"]),
    ({"a": "1", "cinderops:policy": "p"}, {}, True, False, {}, ["a", "cinderops:policy"]),
    ({"z": "1", "y": "2"}, {"x": "3"}, True, True, {"x": "3"}, ["y", "z"]),
    (None, None, True, True, {}, []),
])
def test_metadata_changes(current, desired, purge, keep, to_set, to_unset):
    got_set, got_unset = metadata_changes(current, desired, purge, keep_reserved=keep)
    assert got_set == to_set and got_unset == to_unset
    # Applying the change yields the desired keys, plus what was kept.
    result = apply_metadata(current, got_set, got_unset)
    assert all(result[k] == v for k, v in (desired or {}).items())


def test_apply_metadata_does_not_mutate():
    current = {"a": "1"}
    assert apply_metadata(current, {"b": "2"}, ["a"]) == {"b": "2"}
    assert current == {"a": "1"}


def test_reserved_namespace():
    assert is_reserved("cinderops:hold") and not is_reserved("cinderops") and not is_reserved("x:cinderops:")


@pytest.mark.parametrize("current, desired, expect", [
    ({"description": "a"}, {"description": "b"}, {"description": "b"}),
    ({"description": "a"}, {"description": None}, {}),
    ({"description": None}, {"description": ""}, {}),
    ({"description": ""}, {"description": None}, {}),
    ({"name": "x", "description": "d"}, {"name": "y", "description": "d"}, {"name": "y"}),
])
def test_field_changes_leave_unset_options_alone(current, desired, expect):
    assert field_changes(current, desired) == expect


def test_diff_of_lists_only_changed_keys():
    before = {"name": "a", "description": "x", "metadata": {"k": "1"}}
    after = {"name": "a", "description": "y", "metadata": {"k": "1", "j": "2"}}
    assert diff_of(before, after) == {"before": {"description": "x", "metadata": {"k": "1"}},
                                      "after": {"description": "y", "metadata": {"k": "1", "j": "2"}}}
    assert diff_of(before, before) == {"before": {}, "after": {}}
