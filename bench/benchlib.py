# Copyright (c) 2026 cinderops.snapshots contributors
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared helpers for the benchmarks (bench/bench_*.py), run by bench/run with the bench venv's python.

A benchmark in five lines::

    import benchlib as bl

    with bl.Project("mybench") as p:            # a project + member user of its own; all purged at exit
        vol = p.volume()                         # a volume (available), purged at exit
        runs = [p.playbook([{"name": "t", "cinderops.snapshots.snapshot": {"volume": vol.id, "name": "s"}}])
                for _ in range(bl.runs_wanted())]
        s = bl.summarize(runs)                   # {"wall": median s, "keystone": median, "cinder": median, ...}
        bl.write_results("mybench", {"summary": s}, bl.md_table(["wall s"], [[s["wall"]]]))

What the pieces do:

- ``Project(tag)`` (context manager): creates a project and a member user of its own through Keystone's
  system-scoped admin, and a clouds.yaml (temp dir) with the cloud ``bench`` for that user next to the local
  cloud's own clouds. Others run tests on the same cloud at the same time: a project of our own keeps their
  snapshots out of our listings and ours out of theirs, and lets Cinder's log be filtered by our user.
  ``p.conn`` (SDK, the bench user), ``p.admin`` (SDK, local-admin), ``p.volume()``, ``p.snapshot(volume_id)``,
  ``p.seed(template_id, count, prefix)`` (tests/cloud/cloud seed, unseeded at exit), ``p.playbook(tasks)``,
  ``p.python(code, args)`` (run_python as the bench user, ``$OS_CLOUD`` set), ``p.track_snapshot(id)``.
  On exit, every volume and snapshot of the project is purged, then the user and the project are deleted.
  Runs through the project get ``XDG_CACHE_HOME`` in its temp dir: a module's token cache starts cold with
  each project and is removed with it.
  ``Project(tag, own=False)`` uses the existing ``local-demo`` cloud instead (only what it made is purged).
- ``run_playbook(tasks, cloud=..., clouds_yaml=..., user_id=None) -> Run``: one ``ansible-playbook``
  process, one play on localhost (connection local, no facts, ``module_defaults`` giving ``cloud`` to both
  cinderops.snapshots and openstack.cloud), timed wall-clock from process start to exit.
  ``ansible_python_interpreter`` is bench/hook/python: the bench venv's python plus a probe
  (bench/hook/sitecustomize.py) that logs every HTTP request the module process sends and its peak RSS.
- ``Run``: ``wall`` (s), ``rc``, ``ok``, ``tasks`` (each task's result, as the integration tests capture them),
  ``requests`` (client-side records), ``keystone``/``cinder`` (request counts, client side: exact, per run,
  untouched by other users of the cloud), ``log_cinder`` (cinder-api.log access lines from our user or with a request id
  the process saw: the server-side cross-check; None without ``user_id``), ``log_keystone`` (lines in Keystone's access log during
  the run, minus keystonemiddleware's validations; it cannot tell users apart, so other clients' traffic
  lands there too), ``procs`` (module processes: start, end, maxrss_kb), ``module_s`` (module process time),
  ``startup_s`` (module process start to its first request), ``http_s`` (time spent in requests),
  ``first_cinder_s`` (the first authenticated Cinder request: with a token new to Cinder, it includes
  keystonemiddleware validating it with Keystone),
  ``maxrss_mb``; ``result()`` (last task's result), ``failure()``, ``brief()`` (the numbers as a dict),
  ``calls()`` (the requests as 'GET cinder /snapshots/detail?... 200' strings).
- ``run_python(code, args) -> Run``: a raw-SDK baseline; one ``python -c code`` process of the bench venv with
  the same probe, ``OS_CLIENT_CONFIG_FILE`` set; ``run.wall`` is its wall time, ``run.stdout`` its output.
- ``runs_wanted(default)``: N from $BENCH_RUNS (at least 5). ``median``, ``ratio(a, b)`` (a/b, 2 decimals),
  ``summarize(runs)``, ``md_table(headers, rows)``, ``write_results(name, data, markdown)`` (writes
  bench/results/<name>.json and .md), ``environment()`` (versions, cores, load).
- ``service_cpu()`` (CPU seconds each local-cloud service has used: cinder-api, cinder-volume, ..., read from
  /proc), ``cpu_delta(before, after)``, ``own_cpu()`` (CPU of this process's finished children: the playbooks),
  ``linear_fit(xs, ys)`` (slope, intercept, R²).
- ``volume_log_times(request_id, needle)``: timestamps of cinder-volume.log lines for a request id
  (e.g. when the backend finished a snapshot: "Create snapshot completed successfully").
"""
from __future__ import annotations

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

import yaml

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
RESULTS = os.path.join(BENCH, "results")
HOOK_PYTHON = os.path.join(BENCH, "hook", "python")
INTEGRATION = os.path.join(REPO, "tests", "integration")
sys.path.insert(0, INTEGRATION)

import cloudkit  # noqa: E402  (tests/integration: the local cloud's CLI, waits, purges, RequestLog)

CLOUDS_YAML = cloudkit.CLOUDS_YAML
PYTHON = sys.executable
BIN = os.path.dirname(PYTHON)
COLLECTIONS = os.path.join(cloudkit.LOCAL, "collections")
CALLBACKS = os.path.join(INTEGRATION, "callback_plugins")
MIN_RUNS = 5
GROUPS = ("group/cinderops.snapshots.snapshots", "group/openstack.cloud.openstack")


def module_defaults(tasks, cloud):
    """``cloud`` for the action groups of the collections the tasks use, as a user of that collection writes it.

    Only those groups: ansible-playbook resolves every action of a group named in module_defaults, and
    openstack.cloud's group has about 90, which cost either collection ~0.1 s if every play named both.
    """
    if not cloud:
        return {}
    used = set()
    for task in tasks:
        for key in task:
            used.add(".".join(key.split(".")[:2]))
    return dict((group, {"cloud": cloud}) for group in GROUPS if group[len("group/"):].rsplit(".", 1)[0] in used)


# ---------------------------------------------------------------- numbers

def runs_wanted(default=7):
    """How many runs per measurement: $BENCH_RUNS, never fewer than 5."""
    return max(MIN_RUNS, int(os.environ.get("BENCH_RUNS", default)))


def median(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 3) if values else None


def ratio(a, b):
    """a / b to two decimals; None when either is missing."""
    if a is None or not b:
        return None
    return round(float(a) / b, 2)


# ---------------------------------------------------------------- playbook runs

class Run(object):
    """One ansible-playbook process: timing, outcome, and the requests its module processes sent."""

    def __init__(self, wall, rc, stdout, stderr, tasks, trace, log_cinder, log_keystone):
        self.wall = round(wall, 3)
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.tasks = tasks
        self.requests = [r for r in trace if r.get("ev") == "req"]
        self.procs = [r for r in trace if r.get("ev") == "proc"]
        self.log_cinder = log_cinder
        self.log_keystone = log_keystone
        self.keystone = sum(1 for r in self.requests if _service(r["url"]) == "keystone")
        self.cinder = sum(1 for r in self.requests if _service(r["url"]) == "cinder")
        self.module_s = round(sum(p["end"] - p["start"] for p in self.procs), 3) if self.procs else None
        self.maxrss_mb = round(max(p["maxrss_kb"] for p in self.procs) / 1024.0, 1) if self.procs else None
        # Where the module process's time went: before its first request (interpreter, imports, config),
        # waiting on HTTP, and the rest (sleeps between polls, processing, exit).
        self.startup_s = self.http_s = None
        if len(self.procs) == 1 and self.requests:
            self.startup_s = round(min(r["t0"] for r in self.requests) - self.procs[0]["start"], 3)
            self.http_s = round(sum(r["t1"] - r["t0"] for r in self.requests), 3)
        # The first authenticated Cinder request of a process: when its token is new to Cinder,
        # keystonemiddleware validates it with Keystone before Cinder answers (server-side time).
        first = [r for r in self.requests if _service(r["url"]) == "cinder" and r["status"] != 401][:1]
        self.first_cinder_s = round(first[0]["t1"] - first[0]["t0"], 3) if first else None

    @property
    def ok(self):
        """rc 0 and no task failed."""
        return self.rc == 0 and all(t["outcome"] in ("ok", "changed", "skipped") for t in self.tasks)

    def result(self, index=-1):
        """The result dict of a task (the last one by default)."""
        return self.tasks[index]["result"] if self.tasks else {}

    def failure(self):
        """A short text saying why the run failed, for error messages."""
        for t in self.tasks:
            if t["outcome"] not in ("ok", "changed", "skipped"):
                return "%s: %s" % (t["task"], t["result"].get("msg"))
        return "rc %s: %s %s" % (self.rc, self.stdout[-1500:], self.stderr[-1500:])

    def brief(self):
        return {"wall": self.wall, "keystone": self.keystone, "cinder": self.cinder, "log_cinder": self.log_cinder,
                "log_keystone": self.log_keystone, "module_s": self.module_s, "startup_s": self.startup_s, "http_s": self.http_s,
                "first_cinder_s": self.first_cinder_s, "maxrss_mb": self.maxrss_mb}

    def calls(self):
        """The requests as short strings: 'GET cinder /snapshots/detail?volume_id=... 200' (project id dropped)."""
        from urllib.parse import urlsplit
        out = []
        for r in self.requests:
            parts = urlsplit(r["url"])
            path = parts.path
            for prefix in ("/v3/" + (_project_of(path) or "-") + "/",):
                path = path.replace(prefix, "/", 1)
            out.append("%s %s %s%s %s" % (r["method"], _service(r["url"]), path,
                                          "?" + parts.query if parts.query else "", r["status"]))
        return out


_KEYSTONE_NETLOC = None


def _project_of(path):
    """The project id in a Cinder path /v3/<project_id>/..., if any."""
    parts = path.split("/")
    if len(parts) > 3 and parts[1] == "v3" and len(parts[2]) == 32:
        return parts[2]
    return None


def _service(url):
    """'keystone', 'cinder' or 'other' for a request URL (Keystone = the auth_url's host:port)."""
    global _KEYSTONE_NETLOC
    from urllib.parse import urlsplit
    if _KEYSTONE_NETLOC is None:
        with open(CLOUDS_YAML) as f:
            clouds = yaml.safe_load(f)["clouds"]
        _KEYSTONE_NETLOC = urlsplit(clouds["local-admin"]["auth"]["auth_url"]).netloc
    netloc = urlsplit(url).netloc
    if netloc == _KEYSTONE_NETLOC:
        return "keystone"
    return "cinder" if netloc.endswith(":8776") else "other"


class _ServerLog(cloudkit.RequestLog):
    """cloudkit.RequestLog, with Cinder's lines narrowed to one user (its id is on every access line)."""

    def __init__(self, user_id=None):
        self.user_id = user_id
        super().__init__()

    def cinder_lines(self, request_ids=()):
        """Access lines from our user, or carrying one of ``request_ids`` (unauthenticated lines have no user)."""
        ids = set(r for r in request_ids if r)
        out = []
        for line in self._read(self.cinder_log, self._c0):
            if "eventlet.wsgi.server" not in line:
                continue
            rid = line.split(" req-", 1)[1].split(" ", 1)[0] if " req-" in line else None
            if (self.user_id and " %s " % self.user_id in line) or (rid and "req-" + rid in ids):
                out.append(line)
        return out


def environment_for_ansible(clouds_yaml=CLOUDS_YAML):
    """The environment every benchmark playbook runs with."""
    env = dict(os.environ)
    env.update({
        "OS_CLIENT_CONFIG_FILE": clouds_yaml,
        "ANSIBLE_COLLECTIONS_PATH": env.get("ANSIBLE_COLLECTIONS_PATH") or COLLECTIONS,
        "ANSIBLE_CALLBACK_PLUGINS": CALLBACKS,
        "ANSIBLE_CALLBACKS_ENABLED": "cinderops_capture",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "0",
        "CINDEROPS_BENCH_PYTHON": PYTHON,
        "PATH": BIN + os.pathsep + env.get("PATH", ""),
    })
    return env


def run_playbook(tasks, cloud="local-admin", clouds_yaml=CLOUDS_YAML, user_id=None, check=False, env=None,
                 timeout=900, play_extra=None):
    """Run ``tasks`` (list of task dicts) as one play in one ansible-playbook process; returns a Run.

    The clock covers the ansible-playbook process only (start to exit): writing the playbook before and
    reading the logs after are outside it.
    """
    play = {"name": "bench", "hosts": "localhost", "gather_facts": False, "connection": "local",
            "module_defaults": module_defaults(tasks, cloud), "tasks": tasks}
    play.update(play_extra or {})
    with tempfile.TemporaryDirectory(prefix="cinderops-bench-") as tmp:
        book = os.path.join(tmp, "play.yml")
        with open(book, "w") as f:
            yaml.safe_dump([play], f, sort_keys=False)
        capture = os.path.join(tmp, "capture.json")
        trace = os.path.join(tmp, "trace.jsonl")
        full_env = environment_for_ansible(clouds_yaml)
        full_env.update({"CINDEROPS_CAPTURE": capture, "CINDEROPS_BENCH_TRACE": trace})
        full_env.update(env or {})
        argv = [os.path.join(BIN, "ansible-playbook"), book, "-i", "localhost,", "-c", "local",
                "-e", "ansible_python_interpreter=%s" % HOOK_PYTHON]
        if check:
            argv.append("--check")
        log = _ServerLog(user_id)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, capture_output=True, text=True, env=full_env, timeout=timeout, cwd=tmp, check=False)
        wall = time.perf_counter() - t0
        tasks = json.load(open(capture)) if os.path.exists(capture) else []
        records = [json.loads(line) for line in open(trace)] if os.path.exists(trace) else []
        log_cinder = len(log.cinder_lines([r.get("rid") for r in records])) if user_id else None
        log_keystone = len(log.keystone())
    return Run(wall, proc.returncode, proc.stdout, proc.stderr, tasks, records, log_cinder, log_keystone)


def run_python(code, args=(), clouds_yaml=CLOUDS_YAML, user_id=None, env=None, timeout=900):
    """Run ``code`` (python -c) in one process of the bench venv, with the same probe as the modules; returns a Run.

    For raw openstacksdk baselines: the process does what a module process does (start the interpreter,
    import, authenticate, call the API), without Ansible. ``args`` arrive as ``sys.argv[1:]``; stdout is
    ``run.stdout``. ``run.wall`` is the process's wall time.
    """
    with tempfile.TemporaryDirectory(prefix="cinderops-bench-") as tmp:
        trace = os.path.join(tmp, "trace.jsonl")
        full_env = environment_for_ansible(clouds_yaml)
        full_env.update({"CINDEROPS_BENCH_TRACE": trace})
        full_env.update(env or {})
        log = _ServerLog(user_id)
        t0 = time.perf_counter()
        proc = subprocess.run([HOOK_PYTHON, "-c", code] + [str(a) for a in args], capture_output=True, text=True,
                              env=full_env, timeout=timeout, cwd=tmp, check=False)
        wall = time.perf_counter() - t0
        records = [json.loads(line) for line in open(trace)] if os.path.exists(trace) else []
        log_cinder = len(log.cinder_lines([r.get("rid") for r in records])) if user_id else None
        log_keystone = len(log.keystone())
    return Run(wall, proc.returncode, proc.stdout, proc.stderr, [], records, log_cinder, log_keystone)


def summarize(runs):
    """Medians over runs (wall, request counts, module time, RSS) plus min/max wall and n."""
    walls = [r.wall for r in runs]
    return {
        "n": len(runs),
        "wall": median(walls),
        "wall_min": min(walls) if walls else None,
        "wall_max": max(walls) if walls else None,
        "keystone": median([r.keystone for r in runs]),
        "cinder": median([r.cinder for r in runs]),
        "requests": median([r.keystone + r.cinder for r in runs]),
        "log_cinder": median([r.log_cinder for r in runs]),
        "module_s": median([r.module_s for r in runs]),
        "startup_s": median([r.startup_s for r in runs]),
        "http_s": median([r.http_s for r in runs]),
        "first_cinder_s": median([r.first_cinder_s for r in runs]),
        "maxrss_mb": max([r.maxrss_mb for r in runs if r.maxrss_mb is not None] or [None]) if runs else None,
        "walls": walls,
    }


# ---------------------------------------------------------------- cloud resources

def _admin_system():
    """An SDK connection as the cloud's admin with system scope (Keystone needs it to create projects)."""
    import openstack
    with open(CLOUDS_YAML) as f:
        auth = dict(yaml.safe_load(f)["clouds"]["local-admin"]["auth"])
    auth.pop("project_name", None)
    auth.pop("project_domain_name", None)
    return openstack.connect(auth_url=auth["auth_url"], username=auth["username"], password=auth["password"],
                             user_domain_name=auth["user_domain_name"], system_scope="all", region_name="RegionOne",
                             app_name="cinderops-bench")


def connect(cloud="local-admin", clouds_yaml=CLOUDS_YAML):
    """An SDK connection to one of the clouds in a clouds.yaml."""
    import openstack
    from openstack import config as os_config
    # load_envvars=False: $OS_CLIENT_CONFIG_FILE (bench/run exports the cloud's) would otherwise win over
    # config_files, and OS_* variables over the file.
    region = os_config.OpenStackConfig(config_files=[clouds_yaml], load_envvars=False).get_one(cloud=cloud)
    return openstack.connection.Connection(config=region, app_name="cinderops-bench")


class Project(object):
    """A project and member user of the benchmark's own, with clean-up of everything in it (see module doc)."""

    def __init__(self, tag="bench", own=True):
        self.tag = "cinderops-bench-%s-%s" % (tag, uuid.uuid4().hex[:6])
        self.own = own
        self.cloud = "bench" if own else "local-demo"
        self.clouds_yaml = CLOUDS_YAML
        self.user_id = self.project_id = None
        self.volumes, self.snapshots, self.prefixes = [], [], []
        self._tmp = None
        self._system = None
        self.admin = None
        self._project = self._user = None

    # -- lifecycle
    def __enter__(self):
        try:
            self._tmp = tempfile.mkdtemp(prefix="cinderops-bench-")
            self.admin = connect("local-admin")
            if self.own:
                self._create_identity()
            self.conn = connect(self.cloud, self.clouds_yaml)
            self.project_id = self.conn.current_project_id
            self.user_id = self.conn.current_user_id
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        self.cleanup()
        return False

    def _create_identity(self):
        password = uuid.uuid4().hex
        self._system = _admin_system()
        ident = self._system.identity
        project = ident.create_project(name=self.tag, domain_id="default", description="cinderops.snapshots bench")
        self._project = project
        user = ident.create_user(name=self.tag, password=password, domain_id="default",
                                 default_project_id=project.id)
        self._user = user
        role = next(iter(ident.roles(name="member")))
        ident.assign_project_role_to_user(project, user, role)
        with open(CLOUDS_YAML) as f:
            clouds = yaml.safe_load(f)
        base = dict(clouds["clouds"]["local-demo"])
        base["auth"] = dict(base["auth"], username=self.tag, password=password, project_name=self.tag)
        clouds["clouds"]["bench"] = base
        self.clouds_yaml = os.path.join(self._tmp, "clouds.yaml")
        with open(os.open(self.clouds_yaml, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            yaml.safe_dump(clouds, f, sort_keys=False)

    def cleanup(self):
        """Unseed, purge snapshots and volumes (every one in our own project), delete user and project."""
        errors = []
        for prefix in self.prefixes:
            _try(errors, cloudkit.cloud_cli, "unseed", prefix)
        self.prefixes = []
        volume_ids, snapshot_ids = list(self.volumes), list(self.snapshots)
        if self.own and self.project_id and self.admin is not None:
            q = {"all_tenants": 1, "project_id": self.project_id}
            resp = self.admin.block_storage.get("/snapshots", params=q)
            snapshot_ids += [s["id"] for s in resp.json().get("snapshots", [])]
            resp = self.admin.block_storage.get("/volumes", params=q)
            volume_ids += [v["id"] for v in resp.json().get("volumes", [])]
        for sid in dict.fromkeys(snapshot_ids):
            _try(errors, cloudkit.purge_snapshot, self.admin, sid)
        for vid in dict.fromkeys(volume_ids):
            _try(errors, cloudkit.purge_volume, self.admin, vid)
        self.volumes, self.snapshots = [], []
        if self._system is not None:
            if self._user is not None:
                _try(errors, self._system.identity.delete_user, self._user, ignore_missing=True)
            if self._project is not None:
                _try(errors, self._system.identity.delete_project, self._project, ignore_missing=True)
            self._system = None
        if self._tmp:
            _try(errors, _rmtree, self._tmp)
            self._tmp = None
        if errors:
            sys.stderr.write("bench clean-up: %d problem(s):\n  %s\n" % (len(errors), "\n  ".join(errors)))

    # -- resources
    def volume(self, name=None, size=1):
        """A new volume in the project, waited until available; purged at exit."""
        vol = cloudkit.make_volume(self.conn, name=name or cloudkit.unique("bench-vol"), size=size)
        self.volumes.append(vol.id)
        return vol

    def snapshot(self, volume_id, name=None, metadata=None, wait=True):
        """A new snapshot through the API (waited until available by default); purged at exit."""
        snap = cloudkit.make_snapshot(self.conn, volume_id, name=name or cloudkit.unique("bench-snap"),
                                      metadata=metadata, wait=wait)
        self.snapshots.append(snap.id)
        return snap

    def track_snapshot(self, snapshot_id):
        """Purge this snapshot at exit too (e.g. one a playbook created)."""
        if snapshot_id:
            self.snapshots.append(snapshot_id)

    def seed(self, template_id, count, prefix):
        """Clone ``template_id`` ``count`` times in Cinder's database (tests/cloud/cloud seed); unseeded at exit."""
        self.prefixes.append(prefix)
        cloudkit.cloud_cli("seed", template_id, str(count), "--prefix", prefix)

    def unseed(self, prefix):
        cloudkit.cloud_cli("unseed", prefix)
        if prefix in self.prefixes:
            self.prefixes.remove(prefix)

    def _env(self, env):
        # The modules' caches (cinderops.snapshots keeps Keystone tokens under $XDG_CACHE_HOME) live and
        # die with the project, and the user's own cache is left alone.
        return dict({"XDG_CACHE_HOME": os.path.join(self._tmp, "cache")}, **(env or {}))

    def playbook(self, tasks, **kwargs):
        """run_playbook as this project's user (and Cinder's log filtered by that user)."""
        kwargs["env"] = self._env(kwargs.get("env"))
        kwargs.setdefault("cloud", self.cloud)
        kwargs.setdefault("clouds_yaml", self.clouds_yaml)
        kwargs.setdefault("user_id", self.user_id)
        return run_playbook(tasks, **kwargs)

    def python(self, code, args=(), **kwargs):
        """run_python as this project's user: $OS_CLOUD names its cloud in $OS_CLIENT_CONFIG_FILE."""
        kwargs.setdefault("clouds_yaml", self.clouds_yaml)
        kwargs.setdefault("user_id", self.user_id)
        kwargs["env"] = dict(self._env(kwargs.get("env")), OS_CLOUD=self.cloud)
        return run_python(code, args, **kwargs)


def _try(errors, func, *args, **kwargs):
    try:
        func(*args, **kwargs)
    except Exception as exc:
        errors.append("%s%r: %s" % (getattr(func, "__name__", func), args[-1:], exc))


def _rmtree(path):
    import shutil
    shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------- server-side timestamps

def volume_log_times(request_id, needle):
    """Wall-clock timestamps (time.time() scale) of cinder-volume.log lines with ``request_id`` and ``needle``."""
    path = os.path.join(cloudkit.LOGS, "cinder-volume.log")
    out = []
    with open(path, "rb") as f:
        # The lines we want were written seconds ago: only read the log's tail.
        f.seek(max(0, os.path.getsize(path) - 4 * 1024 * 1024))
        for raw in f:
            line = raw.decode(errors="replace")
            if request_id in line and needle in line:
                stamp = datetime.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S.%f")
                out.append(stamp.replace(tzinfo=_local_tz()).timestamp())
    return out


# The local cloud's server processes, by what their command line shows (tests/cloud/localcloud.py starts them).
SERVICES = (("cinder-api", "bin/cinder-api "), ("cinder-volume", "bin/cinder-volume "),
            ("cinder-scheduler", "bin/cinder-scheduler "), ("keystone", "cinderops_keystone_wsgi"),
            ("mariadb", "mariadbd "), ("rabbitmq", "beam.smp "))


def service_cpu():
    """CPU seconds (user + system) each local-cloud service has used so far, summed over its processes.

    Take it before and after a run: the difference is what the run cost the cloud (other clients of the
    cloud, if any, count too). Reads /proc; {} where there is none.
    """
    tick = os.sysconf("SC_CLK_TCK")
    totals = dict((name, 0.0) for name, _unused in SERVICES)
    for pid in filter(str.isdigit, os.listdir("/proc") if os.path.isdir("/proc") else []):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            with open("/proc/%s/stat" % pid) as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        for name, needle in SERVICES:
            if needle in cmdline + " ":
                totals[name] += (int(fields[11]) + int(fields[12])) / float(tick)  # utime, stime
                break
    return totals


def cpu_delta(before, after):
    return dict((k, round(after.get(k, 0.0) - before.get(k, 0.0), 2)) for k in after)


def own_cpu():
    """CPU seconds of this process's finished children (ansible-playbook and its workers and modules)."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def linear_fit(xs, ys):
    """Least squares ``y = slope * x + intercept``; returns (slope, intercept, r_squared)."""
    n = float(len(xs))
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    slope = sxy / sxx
    intercept = my - slope * mx
    ss_tot = sum((y - my) ** 2 for y in ys)
    ss_res = sum((y - (slope * x + intercept)) ** 2 for x, y in zip(xs, ys))
    return slope, intercept, (1.0 - ss_res / ss_tot) if ss_tot else 1.0


def _local_tz():
    return datetime.datetime.now().astimezone().tzinfo


# ---------------------------------------------------------------- results

def md_table(headers, rows):
    """A Markdown table; None shows as an em dash."""
    def cell(v):
        return "—" if v is None else str(v)
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def environment():
    """What the figures were measured on."""
    from importlib.metadata import version
    env = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
           "python": platform.python_version(), "cores": os.cpu_count(),
           "loadavg": [round(x, 2) for x in os.getloadavg()], "machine": platform.machine()}
    for dist in ("ansible-core", "ansible", "openstacksdk", "keystoneauth1"):
        try:
            env[dist] = version(dist)
        except Exception:
            env[dist] = None
    return env


def write_results(name, data, markdown):
    """bench/results/<name>.json (data, compact) and bench/results/<name>.md (markdown); returns both paths."""
    os.makedirs(RESULTS, exist_ok=True)
    base = os.path.join(RESULTS, name)
    with open(base + ".json.tmp", "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(base + ".json.tmp", base + ".json")
    with open(base + ".md.tmp", "w") as f:
        f.write(markdown)
    os.replace(base + ".md.tmp", base + ".md")
    return base + ".json", base + ".md"
