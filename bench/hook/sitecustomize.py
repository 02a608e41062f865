# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark probe, loaded by bench/hook/python into every module process of a benchmark run.

When $CINDEROPS_BENCH_TRACE names a file, appends one JSON line per event to it:

- ``{"ev": "req", "pid", "t0", "t1", "method", "url", "status", "rid", "snap_status"}`` for every HTTP
  request sent through ``requests`` (keystoneauth and so openstacksdk send everything that way);
  ``snap_status`` is the snapshot's status for a GET of one snapshot, ``rid`` Cinder's request id;
- ``{"ev": "proc", "pid", "start", "end", "maxrss_kb", "argv0"}`` when the process exits.

``requests`` is patched lazily, when the module imports it, so a process that never imports it (the
ping floor) pays nothing for it. Times are ``time.time()`` (wall clock, comparable with server logs).
"""
import os

_TRACE = os.environ.get("CINDEROPS_BENCH_TRACE")

if _TRACE:
    import atexit
    import importlib.machinery
    import json
    import re
    import sys
    import time

    _START = time.time()
    _ONE_SNAPSHOT = re.compile(r"/snapshots/[0-9a-f-]{36}(\?|$)")

    def _emit(record):
        record["pid"] = os.getpid()
        with open(_TRACE, "a") as f:
            f.write(json.dumps(record) + "\n")

    def _patch(sessions):
        original = sessions.Session.send

        def send(self, request, **kwargs):
            t0 = time.time()
            resp = original(self, request, **kwargs)
            t1 = time.time()
            snap_status = None
            if request.method == "GET" and resp.status_code == 200 and _ONE_SNAPSHOT.search(request.url or "") \
                    and not kwargs.get("stream"):
                try:
                    snap_status = resp.json().get("snapshot", {}).get("status")
                except Exception:
                    pass
            _emit({"ev": "req", "t0": t0, "t1": t1, "method": request.method, "url": request.url,
                   "status": resp.status_code, "rid": resp.headers.get("x-openstack-request-id"),
                   "snap_status": snap_status})
            return resp

        sessions.Session.send = send

    class _Finder(object):
        """Runs _patch right after requests.sessions is executed."""

        def find_spec(self, name, path=None, target=None):
            if name != "requests.sessions":
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                _patch(module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Finder())

    def _at_exit():
        import resource
        _emit({"ev": "proc", "start": _START, "end": time.time(),
               "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "argv0": (sys.argv or [""])[0]})

    atexit.register(_at_exit)
