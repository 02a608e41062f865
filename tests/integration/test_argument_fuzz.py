# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module's argument spec, fuzzed with hypothesis, in check mode against the real local cloud.

Each generated set of options is run through the module's ``main()`` in this process (the way
ansible-core's own unit tests run modules), with the options Ansible would hand it. Promises:
no traceback and no non-JSON output (what Ansible reports as MODULE FAILURE), no "unexpected
error", and every failure names the option it is about. Check mode sends no writes; the test
also checks that with the cloud's own request log.

A small sample also goes through a real ansible-playbook, so that the in-process harness is
known to behave like the real thing.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import sys

import pytest

from cloudkit import CLOUDS_YAML, RequestLog

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("CINDEROPS_FUZZ_EXAMPLES", "300"))
MODULES = ("snapshot", "snapshot_info", "snapshot_metadata", "snapshot_rotation", "snapshot_restore_drill")
UUIDS = ["2bb856e1-b3d8-4432-a858-09e4ce939389", "00000000-0000-0000-0000-000000000000"]
# What a user might really type, typos and templating accidents included.
TEXT = st.one_of(st.sampled_from(["", " ", "db-data", "nightly", "x" * 256, "a/b", "line\nbreak", "ho-SNAP",
                                  "not-a-uuid", "%(project_id)s", "{volume}-%Y", "-1", "true"] + UUIDS),
                 st.text(max_size=40))
SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-5, 10 ** 6), st.floats(allow_nan=False, width=32), TEXT)
# Connection options stay on this cloud: a fuzzed auth_url would make the run wait on the network, not test us.
CONNECTION = {
    "cloud": st.sampled_from(["local-demo", "local-demo", "local-demo", "no-such-cloud", "", 5]),
    "api_timeout": st.one_of(st.sampled_from([None, 30]), st.integers(-2, 2)),
    "interface": st.sampled_from(["public", "internal", "bogus"]),
    "auth_cache": st.one_of(st.booleans(), st.sampled_from(["yes", "maybe"])),
    "validate_certs": st.one_of(st.none(), st.booleans()),
    "wait": st.one_of(st.booleans(), st.sampled_from(["no", "perhaps"])),
    "timeout": st.one_of(st.integers(-3, 600), st.sampled_from(["60", "soon"])),
    # Paths that cannot be written: a fuzzed log file would land in the working directory.
    "sdk_log_path": st.sampled_from(["", " ", "/nonexistent/dir/sdk.log"]),
    "sdk_log_level": st.sampled_from(["INFO", "DEBUG", "bogus", ""]),
}
POLICY = st.dictionaries(
    st.sampled_from(["keep_last", "keep_daily", "keep_weekly", "keep_within", "keep_within_daily", "min_interval",
                     "min_available", "timezone", "cleanup_errors", "name", "keep_dayly"]),
    st.one_of(st.integers(-3, 30), st.sampled_from(["7d", "1y2m", "50min", "Europe/Berlin", "Mars/Base", "x", "",
                                                    "unlimited", True])), max_size=4)


def value_for(name, spec):
    """A strategy for one option, from its spec: mostly valid values, often wrong ones."""
    if name in CONNECTION:
        return CONNECTION[name]
    if name == "policy":
        return st.one_of(POLICY, st.sampled_from(["keep_last=1", 3]))
    choices = spec.get("choices")
    if choices:
        return st.one_of(st.sampled_from(list(choices)), st.sampled_from(["bogus", ""]))
    kind = spec.get("type", "str")
    if kind == "bool":
        return st.one_of(st.booleans(), st.sampled_from(["yes", "off", "maybe", 2]))
    if kind == "int":
        return st.one_of(st.integers(-5, 50), st.sampled_from(["10", "ten", 1.5]))
    if kind == "dict":
        return st.one_of(st.dictionaries(TEXT, SCALAR, max_size=3), st.sampled_from(["k=v", 1]))
    if kind == "list":
        return st.one_of(st.lists(TEXT, max_size=3), st.sampled_from(["a,b", 7]))
    if kind == "raw":
        return st.one_of(TEXT, st.dictionaries(TEXT, SCALAR, max_size=2))
    return st.one_of(TEXT, st.integers(-1, 5))


def module(name):
    collection = os.environ["ANSIBLE_COLLECTIONS_PATH"].split(os.pathsep)[0]
    if collection not in sys.path:
        sys.path.insert(0, collection)
    import importlib
    return importlib.import_module("ansible_collections.cinderops.snapshots.plugins.modules.%s" % name)


def full_spec(mod):
    """The module's whole argument spec, as AnsibleModule sees it (shared options merged in)."""
    from ansible_collections.cinderops.snapshots.plugins.module_utils import _module
    cls = [c for c in vars(mod).values() if isinstance(c, type) and issubclass(c, _module.CinderopsModule)
           and c is not _module.CinderopsModule][0]
    spec = _module.connection_argument_spec()
    if cls.wait_options:
        spec.update(_module.wait_argument_spec())
    spec.update(cls.argument_spec)
    return spec


def arguments(spec):
    """Sets of options: each option left out or set; names sometimes given by an alias."""
    names = sorted(spec)
    options = dict((name, st.one_of(st.just(OMIT), value_for(name, spec[name]))) for name in names)
    return st.fixed_dictionaries(options).map(lambda d: dict((k, v) for k, v in d.items() if v is not OMIT))


OMIT = object()


def near_valid(spec, base):
    """A valid set of options with up to two of them replaced or added at random."""
    names = sorted(spec)
    return st.dictionaries(st.sampled_from(names), st.nothing(), max_size=0).flatmap(
        lambda _empty: st.lists(st.sampled_from(names), max_size=2, unique=True)).flatmap(
        lambda chosen: st.fixed_dictionaries(dict((n, value_for(n, spec[n])) for n in chosen))).map(
        lambda changed: dict(base, **changed))


def run_in_process(mod, args):
    """The module's main() with these options in check mode: (exit code, the one JSON document it printed)."""
    from ansible.module_utils.testing import patch_module_args
    out = io.StringIO()
    with patch_module_args(dict(args, _ansible_check_mode=True)), contextlib.redirect_stdout(out):
        try:
            mod.main()
            code = 0
        except SystemExit as exc:
            code = exc.code
    text = out.getvalue()
    try:
        return code, json.loads(text)
    except ValueError:
        raise AssertionError("MODULE FAILURE: output is not one JSON document: %r (args %r)" % (text[:500], args))


def names_an_option(msg, spec, args=None):
    """Whether ``msg`` names an option. Ansible masks every no_log value in a module's output, even inside
    other words (client_key "_" turns policy_name into policy********name), so names are looked for the
    way Ansible prints them."""
    secrets = set(str(v) for k, v in (args or {}).items() if v not in (None, "") and (spec.get(k) or {}).get("no_log"))
    words = set()
    for name, option in spec.items():
        words.add(name)
        words.update(option.get("aliases") or [])
    for secret in secrets:
        words |= set(word.replace(secret, "********") for word in list(words))
    return any(re.search(r"(?<![\w-])%s(?![\w-])" % re.escape(word), msg) for word in words)


def check_result(code, result, args, spec):
    blob = json.dumps(result)
    assert "most recent call last" not in blob and "Traceback" not in blob, (args, result)
    if result.get("failed"):
        msg = result.get("msg")
        assert code == 1 and isinstance(msg, str) and msg, (args, result)
        assert "unexpected error" not in msg, (args, msg)
        if msg.startswith("Failed to log to syslog (embedded null character)"):
            # ansible-core's own refusal, in AnsibleModule before the module runs: a NUL in an argument.
            assert "\\x00" in repr(args) or "\\u0000" in repr(args), (args, msg)
            return
        assert names_an_option(msg, spec, args), "the failure does not name an option: %r (args %r)" % (msg, args)
    else:
        assert code == 0, (args, result)


@pytest.fixture(scope="module")
def fuzz_env(cloud, demo):
    """A volume and a snapshot of the demo project, so that valid options reach the cloud and succeed."""
    import cloudkit
    os.environ["OS_CLIENT_CONFIG_FILE"] = CLOUDS_YAML
    vol = cloudkit.make_volume(demo, name=cloudkit.unique("fuzz"))
    snap = cloudkit.make_snapshot(demo, vol.id, name="fuzz-snap")
    yield {"snapshot": dict(cloud="local-demo", volume=vol.id, name="fuzz-new"),
           "snapshot_info": dict(cloud="local-demo", volume=vol.id),
           "snapshot_metadata": dict(cloud="local-demo", id=snap.id, metadata={"k": "v"}),
           "snapshot_rotation": dict(cloud="local-demo", volumes=[vol.id], policy_name="fuzz",
                                     policy={"keep_last": 3}),
           "snapshot_restore_drill": dict(cloud="local-demo", volumes=[vol.id], policy_name="fuzz")}
    admin = cloudkit.connect("local-admin")
    cloudkit.purge_volume(admin, vol.id)


@pytest.mark.parametrize("name", MODULES)
def test_fuzzed_arguments_never_crash_and_name_the_option(fuzz_env, name):
    mod = module(name)
    spec = full_spec(mod)
    valid = fuzz_env[name]
    stats = {"runs": 0, "failed": 0}
    log = RequestLog()

    @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(st.one_of(arguments(spec), near_valid(spec, valid)))
    def fuzz(args):
        code, result = run_in_process(mod, args)
        check_result(code, result, args, spec)
        stats["runs"] += 1
        stats["failed"] += 1 if result.get("failed") else 0

    fuzz()
    assert stats["runs"] >= EXAMPLES
    # Mostly invalid input by design, but some sets must get through to the cloud and succeed.
    assert 0 < stats["failed"] < stats["runs"], stats
    print("%s: %d runs, %d failed as they should" % (name, stats["runs"], stats["failed"]))
    assert log.writes() == [], "check mode sent a write"


def test_the_in_process_harness_agrees_with_ansible_playbook(fuzz_env):
    """A few sets through a real ansible-playbook: same outcome and message as in-process."""
    from playbooks import run_tasks
    mod = module("snapshot")
    spec = full_spec(mod)
    samples = [dict(cloud="local-demo", volume="v", name=""), dict(cloud="local-demo", id="not-a-uuid"),
               dict(cloud="local-demo", volume="no-such-volume", name="n", timeout="soon"),
               dict(cloud="no-such-cloud", volume="v", name="n"), dict(cloud="local-demo", volume="v", name="n",
                                                                       state="bogus")]
    run = run_tasks([{"name": "t%d" % n, "cinderops.snapshots.snapshot": args, "ignore_errors": True}
                     for n, args in enumerate(samples)], cloud=None, check=True)
    for n, args in enumerate(samples):
        code, result = run_in_process(mod, args)
        check_result(code, result, args, spec)
        real = run.result("t%d" % n)
        assert (run.outcome("t%d" % n) == "failed") == bool(result.get("failed")), (args, real, result)
        assert real.get("msg") == result.get("msg"), (args, real, result)
