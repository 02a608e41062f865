# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Benchmark probe, loaded by bench/hook/python into every module process of a benchmark run.

When $CINDEROPS_BENCH_TRACE names a file, appends one JSON line per event to it:

- ``{"ev": "req", "pid", "t0", "t1", "method", "url", "status", "rid", "snap_status"}`` for every HTTP
  request sent through ``requests`` (keystoneauth and so openstacksdk send everything that way) or
  through urllib (a resumed cinderops.snapshots session sends through a ``urllib.request`` opener);
  ``snap_status`` is the snapshot's status for a GET of one snapshot, ``rid`` Cinder's request id;
- ``{"ev": "proc", "pid", "start", "end", "maxrss_kb", "argv0"}`` when the process exits.

``requests`` and ``urllib.request`` are patched lazily, when the module imports them, so a process that
never imports them (the ping floor) pays nothing for it. Times are ``time.time()`` (wall clock, comparable with server logs).
"""
import os

_TRACE = os.environ.get("CINDEROPS_BENCH_TRACE")

if _TRACE:
    import atexit
    import importlib.machinery
    import io
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

    def _patch_urllib(request_module):
        original = request_module.OpenerDirector.open

        def open_(self, fullurl, data=None, *args, **kwargs):
            method = fullurl.get_method() if hasattr(fullurl, "get_method") else ("POST" if data else "GET")
            url = fullurl.full_url if hasattr(fullurl, "full_url") else fullurl
            t0 = time.time()
            status, headers, body = None, {}, None
            try:
                resp = original(self, fullurl, data, *args, **kwargs)
                status, headers = resp.status, resp.headers
                if method == "GET" and status == 200 and _ONE_SNAPSHOT.search(url or ""):
                    # Read here and hand the caller a response that replays the body.
                    body = resp.read()
                    resp.fp = io.BytesIO(body)
                    resp.read = resp.fp.read
                return resp
            except Exception as exc:
                status = getattr(exc, "code", None)
                headers = getattr(exc, "headers", None) or {}
                raise
            finally:
                snap_status = None
                if body:
                    try:
                        snap_status = json.loads(body).get("snapshot", {}).get("status")
                    except Exception:
                        pass
                _emit({"ev": "req", "t0": t0, "t1": time.time(), "method": method, "url": url, "status": status,
                       "rid": headers.get("x-openstack-request-id"), "snap_status": snap_status})

        request_module.OpenerDirector.open = open_

    _PATCHES = {"requests.sessions": _patch, "urllib.request": _patch_urllib}

    class _Finder(object):
        """Runs the patch for a module right after the module is executed."""

        def find_spec(self, name, path=None, target=None):
            if name not in _PATCHES:
                return None
            spec = importlib.machinery.PathFinder.find_spec(name, path)
            if spec is None or spec.loader is None:
                return spec
            execute = spec.loader.exec_module

            def exec_module(module):
                execute(module)
                _PATCHES[name](module)

            spec.loader.exec_module = exec_module
            return spec

    sys.meta_path.insert(0, _Finder())

    def _at_exit():
        import resource
        _emit({"ev": "proc", "start": _START, "end": time.time(),
               "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "argv0": (sys.argv or [""])[0]})

    atexit.register(_at_exit)
