# Copyright (c) 2026 cinderops.snapshots contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Keystone + Cinder on 127.0.0.1, for the collection's tests, benchmarks and demo.

    tests/cloud/cloud up        install what is missing, start, verify, write clouds.yaml
    tests/cloud/cloud install   install the release's venv only (nothing starts)
    tests/cloud/cloud down      stop the processes this tool started (by pid)
    tests/cloud/cloud status    what runs, on which port, and where the logs are
    tests/cloud/cloud env       shell exports for OS_CLIENT_CONFIG_FILE
    tests/cloud/cloud backdate ID=TIMESTAMP [ID=TIMESTAMP ...]   move created_at into the past
    tests/cloud/cloud seed TEMPLATE_ID COUNT --prefix P          clone a snapshot COUNT times (bulk data)
    tests/cloud/cloud unseed P                                   remove what seed made
    tests/cloud/cloud sql "STATEMENT"                            run SQL on the cinder database
    tests/cloud/cloud reset     down, then wipe the cloud's state (keeps the venv)

    CINDEROPS_OPENSTACK_RELEASE=2025.1 tests/cloud/cloud up     that release's Cinder and Keystone (RELEASES)

Each OpenStack release has its own server venv (.local/venv-cloud-RELEASE), installed with that
release's constraints, so switching releases never reinstalls another. The cloud's data (its
database) belongs to one release: switching resets it.

Stock layout: MariaDB and RabbitMQ (Debian packages) as private instances,
Keystone (fernet, gunicorn), cinder-volume, cinder-scheduler and cinder-api as the
stock processes, with a test volume driver that stores nothing
(lib/cinderops_fake_driver.py). Everything lives under one state directory.

Only the standard library is used here, so this runs on the system python3.
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
LOCAL = os.environ.get("CINDEROPS_LOCAL", os.path.join(REPO, ".local"))
STATE = os.environ.get("CINDEROPS_CLOUD_DIR", os.path.join(LOCAL, "cloud"))
SERVER_PACKAGES = ["keystonemiddleware", "gunicorn", "PyMySQL"]

# The releases the local cloud can run. "pythons": the server Python minors it installs and runs on
# (checked here; the release's own tested runtimes are wider or narrower, see docs/development.md).
# "constraints": the release's upper constraints (vendored), or for the current release a frozen working set.
RELEASES = {
    "2026.2": {"cinder": "29.0.0", "keystone": "30.0.0", "pythons": ("3.12", "3.13"),
               "constraints": "releases/2026.2.txt", "extra": []},
    "2025.1": {"cinder": "26.3.0", "keystone": "27.1.0", "pythons": ("3.12",),
               "constraints": "releases/2025.1.txt", "extra": []},
    # 2024.1's taskflow imports asyncore (gone in Python 3.12), and its services import pkg_resources
    # (gone from setuptools 81).
    "2024.1": {"cinder": "24.5.0", "keystone": "25.0.0", "pythons": ("3.11",),
               "constraints": "releases/2024.1.txt", "extra": ["setuptools<81"]},
}
DEFAULT_RELEASE = "2026.2"
RELEASE_VARIABLE = "CINDEROPS_OPENSTACK_RELEASE"
RELEASE = DEFAULT_RELEASE   # set by choose_release() before anything is installed or started
VENV = None
DEBIAN_PACKAGES = {"mariadbd": "mariadb-server", "mariadb": "mariadb-client",
                   "/usr/lib/rabbitmq/bin/rabbitmq-server": "rabbitmq-server", "epmd": "erlang-base"}

PORT_VARIABLES = {
    "mariadb": ("CINDEROPS_MARIADB_PORT", 33306),
    "epmd": ("CINDEROPS_EPMD_PORT", 34369),
    "rabbitmq": ("CINDEROPS_RABBITMQ_PORT", 35672),
    "keystone": ("CINDEROPS_KEYSTONE_PORT", 5000),
    "cinder-api": ("CINDEROPS_CINDER_PORT", 8776),
}


def env_port(variable, default):
    """A TCP port from the environment; a bad value is reported later as one line, not a traceback."""
    raw = os.environ.get(variable)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        return raw


PORTS = {service: env_port(variable, default) for service, (variable, default) in PORT_VARIABLES.items()}
# Erlang's distribution port; RabbitMQ's default is the AMQP port + 20000, which can overflow.
DIST_PORT = env_port("CINDEROPS_RABBITMQ_DIST_PORT", PORTS["rabbitmq"] + 20000
                     if isinstance(PORTS["rabbitmq"], int) else None)
HOST = "127.0.0.1"
REGION = "RegionOne"
# A private test cloud on loopback: fixed, documented test passwords.
ADMIN_PASSWORD = "cinderops-admin"
DEMO_PASSWORD = "cinderops-demo"
READER_PASSWORD = "cinderops-reader"
OPS_PASSWORD = "cinderops-ops"
SERVICE_PASSWORD = "cinderops-service"
DB_PASSWORD = "cinderops-db"
VOLUME_HOST = "cinderops-local"

# Start order matters: the volume service must be listening before the scheduler
# starts, or its capability broadcast is lost for 60 s ("No valid backend").
SERVICES = ["mariadb", "epmd", "rabbitmq", "keystone", "cinder-volume", "cinder-scheduler", "cinder-api"]

START_TIMEOUT = {"mariadb": 60, "epmd": 10, "rabbitmq": 90, "keystone": 90,
                 "cinder-volume": 90, "cinder-scheduler": 60, "cinder-api": 90}


class CloudError(Exception):
    """One line for the user: what failed and which log to read."""


def log_path(service):
    return os.path.join(STATE, "logs", service + ".log")


def pid_path(service):
    return os.path.join(STATE, "pids", service + ".pid")


def say(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------- processes

def read_pid(service):
    try:
        with open(pid_path(service)) as f:
            pid, started = f.read().split()
        return int(pid), started
    except (OSError, ValueError):
        return None, None


def _proc_start_time(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def running_pid(service):
    """The pid we recorded, if that very process (same start time) still runs."""
    pid, started = read_pid(service)
    if pid is None:
        return None
    state = None
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    if state == "Z" or _proc_start_time(pid) != started:
        return None
    return pid


def spawn(service, argv, env=None, cwd=None):
    os.makedirs(os.path.dirname(log_path(service)), exist_ok=True)
    os.makedirs(os.path.dirname(pid_path(service)), exist_ok=True)
    logf = open(log_path(service), "ab")
    logf.write(("\n==== %s starting %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"), " ".join(argv))).encode())
    logf.flush()
    full_env = dict(os.environ)
    full_env.update(env or {})
    proc = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            env=full_env, cwd=cwd or STATE, start_new_session=True)
    logf.close()
    with open(pid_path(service), "w") as f:
        f.write("%d %s\n" % (proc.pid, _proc_start_time(proc.pid)))
    return proc


def stop(service, timeout=20):
    pid = running_pid(service)
    if pid is None:
        _remove(pid_path(service))
        return False
    # Each service was started in its own session: its process group holds
    # exactly the processes it forked (gunicorn and oslo workers, erl children).
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            break
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and running_pid(service):
            time.sleep(0.1)
        if not running_pid(service):
            break
    _remove(pid_path(service))
    return True


def _remove(path):
    try:
        os.remove(path)
    except OSError:
        pass


def port_open(port, host=HOST):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def check_ports_valid():
    for service, port in sorted(PORTS.items()):
        if not isinstance(port, int) or not 0 < port < 65536:
            raise CloudError("%s: %s=%r is not a TCP port (1-65535)" % (service, PORT_VARIABLES[service][0], port))
    if not isinstance(DIST_PORT, int) or not 0 < DIST_PORT < 65536:
        raise CloudError("rabbitmq: its Erlang distribution port %r is not a TCP port (1-65535); it defaults to "
                         "CINDEROPS_RABBITMQ_PORT + 20000, so lower that or set CINDEROPS_RABBITMQ_DIST_PORT"
                         % (DIST_PORT,))


def check_port_free(service, port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((HOST, port))
        except OSError:
            variable = "CINDEROPS_%s_PORT" % service.upper().replace("-API", "").replace("-", "_")
            raise CloudError("%s: port %s:%d is busy (another process listens there); set %s to move it; log: %s"
                             % (service, HOST, port, variable, log_path(service)))


def wait_until(service, proc_or_pid, ready, timeout):
    """Poll ready() until true; fail at once with the log path if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        if ready():
            return
        if isinstance(proc_or_pid, subprocess.Popen):
            if proc_or_pid.poll() is not None:
                raise CloudError("%s died on start (exit %s); log: %s%s"
                                 % (service, proc_or_pid.returncode, log_path(service), _log_hint(service)))
        elif not running_pid(service):
            raise CloudError("%s died on start; log: %s%s" % (service, log_path(service), _log_hint(service)))
        if time.monotonic() > deadline:
            raise CloudError("%s did not become ready within %ds; log: %s%s"
                             % (service, timeout, log_path(service), _log_hint(service)))
        time.sleep(0.25)


def _log_hint(service):
    """The last error-looking line of a log, so the one-line failure says why."""
    try:
        with open(log_path(service), "rb") as f:
            f.seek(0, 2)
            f.seek(max(0, f.tell() - 20000))
            lines = f.read().decode(errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if re.search(r"ERROR|CRITICAL|Error|error:|Traceback|exception", line):
            return " (last error: %s)" % line.strip()[:300]
    return ""


def run(argv, service, env=None, timeout=300, input_text=None):
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        res = subprocess.run(argv, env=full_env, capture_output=True, text=True, timeout=timeout,
                             input=input_text, cwd=STATE, check=False)
    except subprocess.TimeoutExpired:
        raise CloudError("%s: '%s' timed out after %ds; log: %s" % (service, " ".join(argv[:3]), timeout,
                                                                    log_path(service)))
    with open(log_path(service), "a") as f:
        f.write("$ %s\n%s%s" % (" ".join(argv), res.stdout, res.stderr))
    if res.returncode != 0:
        last = (res.stderr.strip() or res.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise CloudError("%s: '%s' failed (exit %d): %s; log: %s"
                         % (service, " ".join(os.path.basename(a) for a in argv[:2]), res.returncode,
                            last[0][:300], log_path(service)))
    return res.stdout


# ---------------------------------------------------------------- installation

def release_file():
    return os.path.join(STATE, "release")


def recorded_release():
    """The release whose data the state directory holds (None before the first 'up')."""
    try:
        with open(release_file()) as f:
            return f.read().strip() or None
    except OSError:
        return None


def choose_release():
    """The release to run: CINDEROPS_OPENSTACK_RELEASE, else the one that runs now, else the default.

    An unknown name, or a release that does not install on the chosen Python, is refused here,
    in one line, before anything is installed.
    """
    global RELEASE, VENV
    wanted = os.environ.get(RELEASE_VARIABLE, "").strip()
    supported = ", ".join(sorted(RELEASES, reverse=True))
    if wanted and wanted not in RELEASES:
        raise CloudError("%s=%s is not a release this cloud can run; supported: %s (default %s)"
                         % (RELEASE_VARIABLE, wanted, supported, DEFAULT_RELEASE))
    if not wanted:
        running = recorded_release()
        wanted = running if running in RELEASES and any(running_pid(s) for s in SERVICES) else DEFAULT_RELEASE
    RELEASE = wanted
    VENV = os.environ.get("CINDEROPS_CLOUD_VENV", os.path.join(LOCAL, "venv-cloud-" + RELEASE))
    return RELEASE


def python_minor(python):
    try:
        out = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                             capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except OSError:
        return None
    return out or None


def find_server_python():
    """Python for the release's server venv: CINDEROPS_CLOUD_PYTHON, else the first of its Pythons found."""
    pythons = RELEASES[RELEASE]["pythons"]
    wanted = os.environ.get("CINDEROPS_CLOUD_PYTHON")
    if wanted:
        minor = python_minor(wanted)
        if minor is None:
            raise CloudError("CINDEROPS_CLOUD_PYTHON=%s is not a Python that runs here; %s=%s needs Python %s"
                             % (wanted, RELEASE_VARIABLE, RELEASE, " or ".join(pythons)))
        if minor not in pythons:
            raise CloudError("%s=%s does not install on Python %s (CINDEROPS_CLOUD_PYTHON=%s); it needs Python %s; "
                             "supported releases: %s" % (RELEASE_VARIABLE, RELEASE, minor, wanted, " or ".join(pythons),
                                                         ", ".join(sorted(RELEASES, reverse=True))))
        return wanted
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = []
    for minor in pythons:
        candidates += sorted(glob.glob(os.path.join(pyenv_root, "versions", minor + ".*", "bin", "python" + minor)))
        candidates += [shutil.which("python" + minor) or "", "/usr/bin/python" + minor]
    for cand in candidates:
        if cand and os.path.exists(cand) and os.access(cand, os.X_OK):
            return cand
    raise CloudError("%s=%s needs Python %s, which is not on this machine (pyenv or /usr/bin); set "
                     "CINDEROPS_CLOUD_PYTHON, or choose another release: %s"
                     % (RELEASE_VARIABLE, RELEASE, " or ".join(pythons), ", ".join(sorted(RELEASES, reverse=True))))


def ensure_debian_packages():
    missing = sorted({pkg for cmd, pkg in DEBIAN_PACKAGES.items()
                      if not (os.path.exists(cmd) if cmd.startswith("/") else shutil.which(cmd))})
    if not missing:
        return
    if os.geteuid() != 0 or os.environ.get("CINDEROPS_NO_INSTALL"):
        raise CloudError("packages: missing Debian packages %s; run: sudo apt-get install -y %s"
                         % (", ".join(missing), " ".join(missing)))
    say("installing Debian packages: %s" % " ".join(missing))
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
    run(["apt-get", "update", "-qq"], "apt", env=env, timeout=600)
    run(["apt-get", "install", "-y", "-qq", "--no-install-recommends"] + missing, "apt", env=env, timeout=900)


def constraints_path():
    return os.path.join(HERE, RELEASES[RELEASE]["constraints"])


def server_requirements():
    release = RELEASES[RELEASE]
    return (["cinder==" + release["cinder"], "keystone==" + release["keystone"]] + SERVER_PACKAGES
            + release["extra"])


def _venv_digest():
    with open(constraints_path(), "rb") as f:
        digest = hashlib.sha256(f.read())
    digest.update(" ".join(server_requirements()).encode())
    return digest.hexdigest()


def ensure_venv():
    marker = os.path.join(VENV, ".cinderops-constraints")
    digest = _venv_digest()
    if os.path.exists(vbin("python")) and python_minor(vbin("python")) not in RELEASES[RELEASE]["pythons"]:
        shutil.rmtree(VENV)   # made with a Python this release does not run on
    try:
        with open(marker) as f:
            if f.read().strip() == digest and os.path.exists(os.path.join(VENV, "bin", "cinder-api")):
                return
    except OSError:
        pass
    python = find_server_python()
    say("installing OpenStack %s's venv (%s) with %s" % (RELEASE, VENV, python))
    os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
    if not os.path.exists(os.path.join(VENV, "bin", "python")):
        run([python, "-m", "venv", VENV], "venv")
    pip = [os.path.join(VENV, "bin", "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    run(pip + ["-c", constraints_path()] + server_requirements(), "venv", timeout=1200)
    with open(marker, "w") as f:
        f.write(digest + "\n")


def installed_version(package):
    out = subprocess.run([vbin("python"), "-c", "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))",
                          package], capture_output=True, text=True, check=False).stdout.strip()
    return out or None


def version_tuple(text):
    return tuple(int(p) for p in re.findall(r"\d+", text or "")[:3])


def vbin(name):
    return os.path.join(VENV, "bin", name)


def venv_etc(*parts):
    """Files that the cinder wheel installs under the venv's etc/."""
    return os.path.join(VENV, "etc", "cinder", *parts)


# ---------------------------------------------------------------- MariaDB

def mariadb_socket():
    return os.path.join(STATE, "mariadb", "mariadb.sock")


def mysql(sql, database=None, service="mariadb", timeout=120):
    argv = ["mariadb", "--no-defaults", "--socket=" + mariadb_socket(), "-u", "root", "--batch", "--skip-column-names"]
    if database:
        argv.append(database)
    return run(argv, service, input_text=sql, timeout=timeout)


def start_mariadb():
    datadir = os.path.join(STATE, "mariadb", "data")
    if not os.path.exists(os.path.join(datadir, "mysql")):
        os.makedirs(datadir, exist_ok=True)
        run(["mariadb-install-db", "--no-defaults", "--datadir=" + datadir, "--user=root",
             "--auth-root-authentication-method=socket", "--skip-test-db"], "mariadb", timeout=300)
    proc = spawn("mariadb", ["mariadbd", "--no-defaults", "--datadir=" + datadir, "--socket=" + mariadb_socket(),
                             "--port=%d" % PORTS["mariadb"], "--bind-address=" + HOST, "--user=root",
                             "--skip-name-resolve", "--innodb-buffer-pool-size=128M", "--max-connections=500",
                             "--innodb-flush-log-at-trx-commit=2",
                             "--pid-file=" + os.path.join(STATE, "mariadb", "mariadbd.pid")])

    def ready():
        return os.path.exists(mariadb_socket()) and subprocess.run(
            ["mariadb-admin", "--no-defaults", "--socket=" + mariadb_socket(), "-u", "root", "ping"],
            capture_output=True, check=False).returncode == 0
    wait_until("mariadb", proc, ready, START_TIMEOUT["mariadb"])
    statements = []
    for db in ("keystone", "cinder"):
        statements.append("CREATE DATABASE IF NOT EXISTS %s CHARACTER SET utf8mb4;" % db)
        statements.append("CREATE USER IF NOT EXISTS '%s'@'127.0.0.1' IDENTIFIED BY '%s';" % (db, DB_PASSWORD))
        statements.append("GRANT ALL PRIVILEGES ON %s.* TO '%s'@'127.0.0.1';" % (db, db))
    mysql("\n".join(statements))


def db_url(db):
    return "mysql+pymysql://%s:%s@%s:%d/%s?charset=utf8" % (db, DB_PASSWORD, HOST, PORTS["mariadb"], db)


# ---------------------------------------------------------------- RabbitMQ

def rabbit_env():
    base = os.path.join(STATE, "rabbitmq")
    return {
        "HOME": base,
        "RABBITMQ_NODENAME": "rabbit@localhost",
        "RABBITMQ_NODE_IP_ADDRESS": HOST,
        "RABBITMQ_NODE_PORT": str(PORTS["rabbitmq"]),
        "RABBITMQ_DIST_PORT": str(DIST_PORT),
        "ERL_EPMD_ADDRESS": HOST,
        "ERL_EPMD_PORT": str(PORTS["epmd"]),
        "RABBITMQ_MNESIA_BASE": os.path.join(base, "mnesia"),
        "RABBITMQ_LOG_BASE": os.path.join(base, "log"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": os.path.join(base, "enabled_plugins"),
        "RABBITMQ_CONFIG_FILE": os.path.join(base, "rabbitmq"),
        "RABBITMQ_PID_FILE": os.path.join(base, "rabbitmq.pid"),
        "RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS": "-kernel inet_dist_use_interface {127,0,0,1}",
        "RABBITMQ_LOGS": "-",
    }


# Debian's /usr/sbin/rabbitmqctl switches to the rabbitmq user and its HOME (and so
# another Erlang cookie); the real one under /usr/lib talks to our private node.
RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def start_epmd():
    # Our own epmd, on its own port, so that teardown can stop it by pid.
    proc = spawn("epmd", ["epmd", "-address", HOST, "-port", str(PORTS["epmd"])],
                 env={"ERL_EPMD_ADDRESS": HOST, "ERL_EPMD_PORT": str(PORTS["epmd"])})
    wait_until("epmd", proc, lambda: port_open(PORTS["epmd"]), START_TIMEOUT["epmd"])


def start_rabbitmq():
    env = rabbit_env()
    os.makedirs(env["RABBITMQ_LOG_BASE"], exist_ok=True)
    with open(env["RABBITMQ_ENABLED_PLUGINS_FILE"], "w") as f:
        f.write("[].\n")
    with open(env["RABBITMQ_CONFIG_FILE"] + ".conf", "w") as f:
        f.write("loopback_users.guest = true\nlisteners.tcp.1 = %s:%d\n" % (HOST, PORTS["rabbitmq"]))
    proc = spawn("rabbitmq", ["/usr/lib/rabbitmq/bin/rabbitmq-server"], env=env)

    def ready():
        if not port_open(PORTS["rabbitmq"]):
            return False
        return subprocess.run([RABBITMQCTL, "-q", "await_startup", "--timeout", "5"], env={**os.environ, **env},
                              capture_output=True, check=False).returncode == 0
    wait_until("rabbitmq", proc, ready, START_TIMEOUT["rabbitmq"])


# ---------------------------------------------------------------- Keystone

def write_ini(path, sections):
    lines = []
    for section, values in sections.items():
        lines.append("[%s]" % section)
        lines += ["%s = %s" % (k, v) for k, v in values.items()]
        lines.append("")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write("\n".join(lines))


def keystone_conf():
    return os.path.join(STATE, "keystone", "keystone.conf")


def keystone_url():
    return "http://%s:%d/v3" % (HOST, PORTS["keystone"])


def start_keystone():
    base = os.path.join(STATE, "keystone")
    write_ini(keystone_conf(), {
        "DEFAULT": {"debug": "false"},
        "database": {"connection": db_url("keystone")},
        "token": {"provider": "fernet", "expiration": "86400"},
        "fernet_tokens": {"key_repository": os.path.join(base, "fernet-keys")},
        "fernet_receipts": {"key_repository": os.path.join(base, "fernet-keys")},
        "credential": {"key_repository": os.path.join(base, "credential-keys")},
        "cache": {"enabled": "false"},
        "oslo_policy": {"enforce_new_defaults": "true", "enforce_scope": "true"},
        "identity": {"password_hash_rounds": "4"},
    })
    env = {"OS_KEYSTONE_CONFIG_FILES": keystone_conf()}
    manage = [vbin("keystone-manage"), "--config-file", keystone_conf()]
    marker = os.path.join(base, ".bootstrapped")
    if not os.path.exists(marker):
        run(manage + ["db_sync"], "keystone", env=env)
        for what in ("fernet_setup", "credential_setup"):
            run(manage + [what, "--keystone-user", "root", "--keystone-group", "root"], "keystone", env=env)
        run(manage + ["bootstrap", "--bootstrap-password", ADMIN_PASSWORD, "--bootstrap-username", "admin",
                      "--bootstrap-project-name", "admin", "--bootstrap-role-name", "admin",
                      "--bootstrap-service-name", "keystone", "--bootstrap-region-id", REGION,
                      "--bootstrap-admin-url", keystone_url() + "/", "--bootstrap-internal-url", keystone_url() + "/",
                      "--bootstrap-public-url", keystone_url() + "/"], "keystone", env=env)
        open(marker, "w").close()
    access_log = os.path.join(STATE, "logs", "keystone-access.log")
    # gunicorn 25.1 added a control socket (off here: one cloud, no admin channel); older ones lack the flag.
    control = ["--no-control-socket"] if version_tuple(installed_version("gunicorn")) >= (25, 1) else []
    argv = [vbin("gunicorn"), "-b", "%s:%d" % (HOST, PORTS["keystone"]), "-w", "1", "-k", "gthread",
            "--threads", "4", "--timeout", "120", "--access-logfile", access_log,
            "--access-logformat", '%(h)s "%(r)s" %(s)s %(b)s "%(a)s" %(M)sms',
            "--chdir", os.path.join(HERE, "lib")] + control + ["cinderops_keystone_wsgi:application"]
    proc = spawn("keystone", argv, env=env)
    wait_until("keystone", proc, lambda: http_status(keystone_url()) == 200, START_TIMEOUT["keystone"])


def http_status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, OSError):
        return None


class Api(object):
    """A tiny JSON client for bootstrap and readiness (the cloud must not need the SDK)."""

    def __init__(self, token=None):
        self.token = token

    def call(self, method, url, body=None, expect=(200, 201, 202, 204), headers=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        req.add_header("Accept", "application/json")
        req.add_header("User-Agent", "cinderops-localcloud")
        if self.token:
            req.add_header("X-Auth-Token", self.token)
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else None), resp.headers
        except urllib.error.HTTPError as e:
            raw = e.read()
            if e.code in expect:
                return e.code, None, e.headers
            raise CloudError("%s %s -> HTTP %d: %s" % (method, url, e.code, raw.decode(errors="replace")[:300]))

    @classmethod
    def login(cls, user, password, project=None, system=False):
        scope = {"system": {"all": True}} if system else {
            "project": {"name": project, "domain": {"id": "default"}}}
        body = {"auth": {"identity": {"methods": ["password"], "password": {
            "user": {"name": user, "domain": {"id": "default"}, "password": password}}}, "scope": scope}}
        data, headers = cls().call("POST", keystone_url() + "/auth/tokens", body)[1:]
        api = cls(headers["X-Subject-Token"])
        api.catalog = data["token"].get("catalog", [])
        api.project_id = (data["token"].get("project") or {}).get("id")
        return api


def ensure_identity():
    marker = os.path.join(STATE, "keystone", ".identity-3")
    if os.path.exists(marker):
        return
    api = Api.login("admin", ADMIN_PASSWORD, system=True)
    ks = keystone_url()

    def find(kind, name, key=None):
        data = api.call("GET", "%s/%s?name=%s" % (ks, kind, name))[1]
        items = data[key or kind]
        return items[0]["id"] if items else None

    def ensure(kind, name, body, key):
        found = find(kind, name)
        if found:
            return found
        data = api.call("POST", "%s/%s" % (ks, kind), {key: body})[1]
        return data[key]["id"]

    roles = {r: ensure("roles", r, {"name": r}, "role") for r in ("admin", "member", "reader", "service")}
    projects = {p: ensure("projects", p, {"name": p, "domain_id": "default"}, "project")
                for p in ("admin", "service", "demo", "ops")}
    users = {
        "cinder": ensure("users", "cinder", {"name": "cinder", "domain_id": "default", "password": SERVICE_PASSWORD,
                                             "default_project_id": projects["service"]}, "user"),
        "demo": ensure("users", "demo", {"name": "demo", "domain_id": "default", "password": DEMO_PASSWORD,
                                         "default_project_id": projects["demo"]}, "user"),
        "ops": ensure("users", "ops", {"name": "ops", "domain_id": "default", "password": OPS_PASSWORD,
                                       "default_project_id": projects["ops"]}, "user"),
        "reader": ensure("users", "reader", {"name": "reader", "domain_id": "default", "password": READER_PASSWORD,
                                             "default_project_id": projects["demo"]}, "user"),
    }
    for user, project, role in (("cinder", "service", "admin"), ("cinder", "service", "service"),
                                ("demo", "demo", "member"), ("reader", "demo", "reader"), ("ops", "ops", "member")):
        api.call("PUT", "%s/projects/%s/users/%s/roles/%s" % (ks, projects[project], users[user], roles[role]))
    data = api.call("GET", ks + "/services?type=block-storage")[1]
    service_id = data["services"][0]["id"] if data["services"] else api.call(
        "POST", ks + "/services", {"service": {"name": "cinder", "type": "block-storage"}})[1]["service"]["id"]
    data = api.call("GET", ks + "/endpoints?service_id=" + service_id)[1]
    have = {e["interface"] for e in data["endpoints"]}
    for interface in ("public", "internal", "admin"):
        if interface not in have:
            api.call("POST", ks + "/endpoints", {"endpoint": {
                "service_id": service_id, "interface": interface, "region_id": REGION,
                "url": "http://%s:%d/v3/%%(project_id)s" % (HOST, PORTS["cinder-api"])}})
    open(marker, "w").close()


# ---------------------------------------------------------------- Cinder

# Two backends of the test driver, as real clouds mix them: deleting a snapshot that has volumes made
# from it is refused like RBD does ("fake", the default volume type's) or allowed like LVM does
# ("fake-lvm", volume type cinderops-lvm). backend -> (behaviour, volume type).
BACKENDS = {"fake": ("rbd", "__DEFAULT__"), "fake-lvm": ("lvm", "cinderops-lvm")}


def cinder_conf():
    return os.path.join(STATE, "cinder", "cinder.conf")


def write_cinder_conf():
    base = os.path.join(STATE, "cinder")
    for sub in ("locks", "coordination", "state"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    backends = {backend: {"volume_driver": "cinderops_fake_driver.FakeDriver", "volume_backend_name": backend,
                          "cinderops_backend_like": like} for backend, (like, _type) in BACKENDS.items()}
    write_ini(cinder_conf(), {
        **backends,
        "DEFAULT": {
            "my_ip": HOST, "host": VOLUME_HOST, "auth_strategy": "keystone",
            "transport_url": "rabbit://guest:guest@%s:%d/" % (HOST, PORTS["rabbitmq"]),
            "api_paste_config": venv_etc("api-paste.ini"),
            "rootwrap_config": venv_etc("rootwrap.conf"),
            "resource_query_filters_file": venv_etc("resource_filters.json"),
            "state_path": os.path.join(base, "state"),
            "osapi_volume_listen": HOST, "osapi_volume_listen_port": str(PORTS["cinder-api"]),
            "osapi_volume_workers": "1",
            "enabled_backends": ",".join(BACKENDS), "default_volume_type": "__DEFAULT__",
            "periodic_interval": "5", "report_interval": "5", "scheduler_driver_init_wait_time": "3",
            "quota_volumes": "1000", "quota_snapshots": "10000", "quota_gigabytes": "1000000",
            "quota_backups": "1000", "quota_backup_gigabytes": "1000000", "quota_groups": "100",
            "debug": "false",
        },
        "database": {"connection": db_url("cinder"), "max_pool_size": "20", "max_overflow": "20"},
        "oslo_concurrency": {"lock_path": os.path.join(base, "locks")},
        # Secure RBAC on every release: Cinder 2026.2 enforces it by default, 2025.1 and older ship
        # enforce_new_defaults=False (a reader may write there). Same roles, same answers on every release.
        "oslo_policy": {"enforce_new_defaults": "true"},
        "coordination": {"backend_url": "file://" + os.path.join(base, "coordination")},
        "oslo_messaging_notifications": {"driver": "noop"},
        "oslo_messaging_rabbit": {"heartbeat_timeout_threshold": "0"},
        "keystone_authtoken": {
            "auth_url": "http://%s:%d" % (HOST, PORTS["keystone"]),
            "www_authenticate_uri": "http://%s:%d" % (HOST, PORTS["keystone"]),
            "auth_type": "password", "username": "cinder", "password": SERVICE_PASSWORD,
            "project_name": "service", "user_domain_id": "default", "project_domain_id": "default",
            "service_token_roles_required": "true",
        },
    })


def cinder_env():
    return {"PYTHONPATH": os.path.join(HERE, "lib")}


def start_cinder(service):
    argv = [vbin(service), "--config-file", cinder_conf(), "--log-file", log_path(service)]
    return spawn(service, argv, env=cinder_env())


def log_contains(service, needle, since):
    return log_count(service, needle, since) > 0


def log_count(service, needle, since):
    try:
        with open(log_path(service), "rb") as f:
            f.seek(since)
            return f.read().count(needle.encode())
    except OSError:
        return 0


def log_size(service):
    try:
        return os.path.getsize(log_path(service))
    except OSError:
        return 0


def start_cinder_services():
    write_cinder_conf()
    marker = os.path.join(STATE, "cinder", ".db_synced")
    if not os.path.exists(marker):
        run([vbin("cinder-manage"), "--config-file", cinder_conf(), "db", "sync"], "cinder-manage", env=cinder_env())
        open(marker, "w").close()
    since = log_size("cinder-volume")
    proc = start_cinder("cinder-volume")
    wait_until("cinder-volume", proc, lambda: log_count("cinder-volume", "Driver post RPC initialization completed",
                                                        since) >= len(BACKENDS), START_TIMEOUT["cinder-volume"])
    since = log_size("cinder-scheduler")
    proc = start_cinder("cinder-scheduler")
    wait_until("cinder-scheduler", proc, lambda: log_contains("cinder-scheduler", "Starting cinder-scheduler", since)
               or log_contains("cinder-scheduler", "Creating RPC server", since), START_TIMEOUT["cinder-scheduler"])
    proc = start_cinder("cinder-api")
    wait_until("cinder-api", proc, lambda: http_status("http://%s:%d/" % (HOST, PORTS["cinder-api"])) in (200, 300),
               START_TIMEOUT["cinder-api"])


def cinder_url(api):
    return "http://%s:%d/v3/%s" % (HOST, PORTS["cinder-api"], api.project_id)


def wait_status(api, url, key, want, timeout, gone_ok=False):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        status, data = api.call("GET", url, expect=(200, 404))[:2]
        if status == 404:
            if gone_ok:
                return "gone"
            raise CloudError("readiness: %s vanished" % url)
        last = data[key]["status"]
        if last == want:
            return last
        if last.startswith("error"):
            break
        time.sleep(0.2)
    raise CloudError("readiness: %s ended in status %r instead of %r; logs: %s, %s"
                     % (key, last, want, log_path("cinder-scheduler"), log_path("cinder-volume")))


def ensure_volume_types():
    """One volume type per test backend (the default type goes to the RBD-like one); idempotent."""
    api = Api.login("admin", ADMIN_PASSWORD, project="admin")
    base = cinder_url(api)
    types = {t["name"]: t["id"] for t in api.call("GET", base + "/types?is_public=None")[1]["volume_types"]}
    for backend, (_like, type_name) in BACKENDS.items():
        type_id = types.get(type_name) or api.call("POST", base + "/types", {"volume_type": {
            "name": type_name, "description": "cinderops test backend %s" % backend}})[1]["volume_type"]["id"]
        api.call("POST", "%s/types/%s/extra_specs" % (base, type_id),
                 {"extra_specs": {"volume_backend_name": backend}})


def round_trip(volume_type, timeout=120):
    """A real create -> available -> delete -> gone, retried while the scheduler learns the backend."""
    api = Api.login("admin", ADMIN_PASSWORD, project="admin")
    base = cinder_url(api)
    deadline = time.monotonic() + timeout
    while True:
        data = api.call("POST", base + "/volumes", {"volume": {"size": 1, "name": "cinderops-readiness",
                                                               "volume_type": volume_type}})[1]
        vol_url = "%s/volumes/%s" % (base, data["volume"]["id"])
        try:
            wait_status(api, vol_url, "volume", "available", 60)
            break
        except CloudError:
            # "No valid backend" until the volume service's capabilities reach the scheduler.
            api.call("DELETE", vol_url, expect=(202, 404))
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    api.call("DELETE", vol_url, expect=(202,))
    wait_status(api, vol_url, "volume", "deleted", 60, gone_ok=True)


def cinder_api_versions():
    """cinder-api's own microversion range, as it reports it."""
    try:
        with urllib.request.urlopen("http://%s:%d/" % (HOST, PORTS["cinder-api"]), timeout=10) as resp:
            raw = resp.read()
    except urllib.error.HTTPError as e:   # 300 Multiple Choices carries the list too
        raw = e.read()
    data = json.loads(raw or b"{}")
    for version in data.get("versions", []):
        if version.get("id") == "v3.0":
            return version.get("min_version"), version.get("version")
    return None, None


def set_default_quotas():
    """Quotas come from cinder.conf; this checks the admin project sees them."""
    api = Api.login("admin", ADMIN_PASSWORD, project="admin")
    data = api.call("GET", "%s/os-quota-sets/%s" % (cinder_url(api), api.project_id))[1]
    quota = data["quota_set"]
    if quota["snapshots"] < 6000 or quota["volumes"] < 500:
        raise CloudError("cinder-api: quotas too low (snapshots %s, volumes %s); log: %s"
                         % (quota["snapshots"], quota["volumes"], log_path("cinder-api")))


# ---------------------------------------------------------------- clouds.yaml

def clouds_yaml_path():
    return os.path.join(STATE, "clouds.yaml")


def write_clouds_yaml():
    def cloud(user, password, project):
        return ("    auth:\n      auth_url: http://%s:%d/v3\n      username: %s\n      password: %s\n"
                "      project_name: %s\n      user_domain_name: Default\n      project_domain_name: Default\n"
                "    region_name: %s\n    interface: public\n    identity_api_version: 3\n"
                % (HOST, PORTS["keystone"], user, password, project, REGION))
    text = ("# Written by tests/cloud/cloud up: the project's local test cloud on %s.\n"
            "clouds:\n  local-admin:\n%s  local-demo:\n%s  local-ops:\n%s  local-reader:\n%s"
            % (HOST, cloud("admin", ADMIN_PASSWORD, "admin"), cloud("demo", DEMO_PASSWORD, "demo"),
               cloud("ops", OPS_PASSWORD, "ops"), cloud("reader", READER_PASSWORD, "demo")))
    with open(clouds_yaml_path(), "w") as f:
        f.write(text)
    os.chmod(clouds_yaml_path(), 0o600)


# ---------------------------------------------------------------- commands

def all_running():
    return all(running_pid(s) for s in SERVICES)


def release_summary():
    return "OpenStack %s (cinder %s, keystone %s)" % (RELEASE, RELEASES[RELEASE]["cinder"],
                                                      RELEASES[RELEASE]["keystone"])


def switch_release_if_needed(args):
    """The state directory holds one release's database: another release starts from fresh data."""
    previous = recorded_release()
    if previous is None and os.path.isdir(os.path.join(STATE, "mariadb")):
        previous = DEFAULT_RELEASE   # data made before releases were recorded
    if previous in (None, RELEASE):
        return
    say("switching the local cloud from OpenStack %s to %s: its data is reset (the %s venv is kept)"
        % (previous, RELEASE, previous))
    cmd_down(args, quiet=True)
    for sub in ("mariadb", "rabbitmq", "keystone", "cinder", "clouds.yaml", "release.json"):
        path = os.path.join(STATE, sub)
        if os.path.isdir(path):
            shutil.rmtree(path)
        else:
            _remove(path)


def write_release_record():
    """What runs, for the tests and the version table: release, versions, cinder-api's microversions."""
    min_version, max_version = cinder_api_versions()
    record = {"release": RELEASE, "cinder": installed_version("cinder"), "keystone": installed_version("keystone"),
              "python": python_minor(vbin("python")), "microversions": [min_version, max_version],
              "backends": {name: like for name, (like, _type) in BACKENDS.items()}}
    with open(os.path.join(STATE, "release.json"), "w") as f:
        json.dump(record, f, indent=1, sort_keys=True)


def cmd_up(args):
    t0 = time.monotonic()
    check_ports_valid()
    choose_release()
    find_server_python()
    if (recorded_release() == RELEASE and all_running() and http_status(keystone_url()) == 200
            and os.path.exists(clouds_yaml_path())):
        try:
            Api.login("admin", ADMIN_PASSWORD, project="admin")
            ensure_identity()
            write_clouds_yaml()
            say("local cloud is already up: %s (clouds.yaml: %s)" % (release_summary(), clouds_yaml_path()))
            return 0
        except CloudError:
            pass
    switch_release_if_needed(args)
    if any(running_pid(s) for s in SERVICES):
        say("some services run and some do not: restarting the cloud")
        cmd_down(args, quiet=True)
    os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
    ensure_debian_packages()
    ensure_venv()
    for service in ("mariadb", "epmd", "rabbitmq", "keystone", "cinder-api"):
        check_port_free(service, PORTS[service])
    check_port_free("rabbitmq", DIST_PORT)
    t_install = time.monotonic() - t0
    try:
        with open(release_file(), "w") as f:
            f.write(RELEASE + "\n")
        start_mariadb()
        start_epmd()
        start_rabbitmq()
        start_keystone()
        ensure_identity()
        start_cinder_services()
        ensure_volume_types()
        for _like, volume_type in BACKENDS.values():
            round_trip(volume_type)
        set_default_quotas()
        write_release_record()
    except BaseException:
        cmd_down(args, quiet=True)
        raise
    write_clouds_yaml()
    say("local cloud is up in %.1fs (%.1fs installing): %s, keystone %s, cinder http://%s:%d; clouds.yaml: %s "
        "(clouds local-admin, local-demo)" % (time.monotonic() - t0, t_install, release_summary(), keystone_url(),
                                              HOST, PORTS["cinder-api"], clouds_yaml_path()))
    return 0


def cmd_install(args):
    """Install the release's venv only (nothing starts): lets a CI step prepare a release ahead."""
    choose_release()
    find_server_python()
    os.makedirs(os.path.join(STATE, "logs"), exist_ok=True)
    ensure_venv()
    say("%s is installed in %s" % (release_summary(), VENV))
    return 0


def cmd_down(args, quiet=False):
    stopped = [s for s in reversed(SERVICES) if stop(s)]
    if not quiet:
        say("stopped: %s" % (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args):
    up = 0
    for service in SERVICES:
        pid = running_pid(service)
        port = PORTS.get(service)
        state = "running pid %d" % pid if pid else "stopped"
        if pid and port:
            state += ", port %d %s" % (port, "open" if port_open(port) else "CLOSED")
        up += bool(pid)
        say("%-17s %-32s log: %s" % (service, state, log_path(service)))
    say("release: %s" % (("OpenStack %s" % recorded_release()) if recorded_release() else "none yet"))
    say("clouds.yaml: %s" % clouds_yaml_path())
    say("state: %s" % STATE)
    say("cloud is %s" % ("up" if up == len(SERVICES) else "down" if up == 0 else "partly up (run 'up' again)"))
    return 0 if up == len(SERVICES) else 3


def cmd_env(args):
    say("export OS_CLIENT_CONFIG_FILE=%s" % clouds_yaml_path())
    return 0


def cmd_sql(args):
    sys.stdout.write(mysql(args.statement, database="cinder", service="sql"))
    return 0


_UUID = re.compile(r"^[0-9a-f-]{36}$")
_TS = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|\+00:00)?$")


def cmd_backdate(args):
    """Move snapshots' created_at (UTC) in Cinder's own database."""
    pairs = list(args.pairs)
    if args.file:
        with (sys.stdin if args.file == "-" else open(args.file)) as f:
            pairs += ["%s=%s" % (k, v) for k, v in json.load(f).items()]
    if not pairs:
        raise CloudError("backdate: give ID=TIMESTAMP pairs or --file")
    statements = []
    for pair in pairs:
        sid, ts = (pair.split("=", 1) + [""])[:2]
        if not _UUID.match(sid) or not _TS.match(ts):
            raise CloudError("backdate: %r is not SNAPSHOT_ID=YYYY-MM-DDTHH:MM:SS (UTC)" % pair)
        ts = ts.replace("T", " ").rstrip("Z").replace("+00:00", "")
        statements.append("UPDATE snapshots SET created_at='%s' WHERE id='%s' AND deleted=0;" % (ts, sid))
    statements.append("SELECT ROW_COUNT();")
    mysql("\n".join(statements), database="cinder", service="sql")
    say("moved created_at of %d snapshot(s)" % len(statements[:-1]))
    return 0


_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def cmd_seed(args):
    """Clone one real snapshot COUNT times in Cinder's database (bulk histories for pagination and benchmarks).

    The clones are ordinary rows: the API lists, shows, updates and deletes them. They are
    marked use_quota=0, so deleting them through the API leaves the quota usage right.
    Names are PREFIX-00001 ..., created_at one minute apart going back from the template.
    """
    if not _UUID.match(args.template) or not _PREFIX.match(args.prefix) or not 0 < args.count <= 100000:
        raise CloudError("seed: give TEMPLATE_SNAPSHOT_ID COUNT (1-100000) --prefix [A-Za-z0-9_.-]")
    sql = """
INSERT INTO snapshots (created_at, updated_at, deleted, id, volume_id, user_id, project_id, status, progress,
                       volume_size, display_name, display_description, volume_type_id, use_quota)
SELECT t.created_at - INTERVAL s.seq MINUTE, t.updated_at, 0, UUID(), t.volume_id, t.user_id, t.project_id,
       'available', '100%%', t.volume_size, CONCAT('%(prefix)s-', LPAD(s.seq, 5, '0')), t.display_description,
       t.volume_type_id, 0
FROM snapshots t JOIN seq_1_to_%(count)d s WHERE t.id = '%(template)s' AND t.deleted = 0;
INSERT INTO snapshot_metadata (created_at, updated_at, deleted, snapshot_id, `key`, value)
SELECT NOW(), NOW(), 0, n.id, m.`key`, m.value
FROM snapshots n JOIN snapshots t ON t.id = '%(template)s'
JOIN snapshot_metadata m ON m.snapshot_id = t.id AND m.deleted = 0
WHERE n.volume_id = t.volume_id AND n.deleted = 0 AND n.display_name LIKE '%(prefix)s-%%';
SELECT COUNT(*) FROM snapshots WHERE display_name LIKE '%(prefix)s-%%' AND deleted = 0;
""" % {"prefix": args.prefix, "count": args.count, "template": args.template}
    count = mysql(sql, database="cinder", service="sql").strip().splitlines()[-1]
    say("seeded %s snapshot(s) named %s-NNNNN" % (count, args.prefix))
    return 0


def cmd_unseed(args):
    """Soft-delete seeded snapshots (as Cinder does), without going through the driver."""
    if not _PREFIX.match(args.prefix):
        raise CloudError("unseed: bad prefix %r" % args.prefix)
    sql = """
UPDATE snapshot_metadata m JOIN snapshots s ON s.id = m.snapshot_id SET m.deleted = 1, m.deleted_at = NOW()
WHERE s.display_name LIKE '%(prefix)s-%%' AND s.deleted = 0 AND s.use_quota = 0;
UPDATE snapshots SET deleted = 1, deleted_at = NOW(), status = 'deleted'
WHERE display_name LIKE '%(prefix)s-%%' AND deleted = 0 AND use_quota = 0;
SELECT ROW_COUNT();
""" % {"prefix": args.prefix}
    count = mysql(sql, database="cinder", service="sql").strip().splitlines()[-1]
    say("removed %s seeded snapshot(s)" % count)
    return 0


def cmd_reset(args):
    cmd_down(args)
    if os.path.isdir(STATE):
        shutil.rmtree(STATE)
    say("removed %s" % STATE)
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="tests/cloud/cloud", description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("up", help="install what is missing, start and verify the cloud").set_defaults(func=cmd_up)
    sub.add_parser("install", help="install the release's venv without starting anything").set_defaults(
        func=cmd_install)
    sub.add_parser("down", help="stop the processes this tool started").set_defaults(func=cmd_down)
    sub.add_parser("status", help="what runs and where the logs are").set_defaults(func=cmd_status)
    sub.add_parser("env", help="print OS_CLIENT_CONFIG_FILE export").set_defaults(func=cmd_env)
    sub.add_parser("reset", help="down, then wipe the state directory").set_defaults(func=cmd_reset)
    p = sub.add_parser("backdate", help="move snapshots' created_at into the past")
    p.add_argument("pairs", nargs="*", metavar="ID=TIMESTAMP")
    p.add_argument("--file", help="JSON object {id: timestamp}; - for stdin")
    p.set_defaults(func=cmd_backdate)
    p = sub.add_parser("seed", help="clone a snapshot COUNT times in the database (bulk test data)")
    p.add_argument("template", metavar="TEMPLATE_SNAPSHOT_ID")
    p.add_argument("count", type=int)
    p.add_argument("--prefix", required=True)
    p.set_defaults(func=cmd_seed)
    p = sub.add_parser("unseed", help="remove the snapshots seeded with this prefix")
    p.add_argument("prefix")
    p.set_defaults(func=cmd_unseed)
    p = sub.add_parser("sql", help="run SQL on the cinder database (tests only)")
    p.add_argument("statement")
    p.set_defaults(func=cmd_sql)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CloudError as e:
        print("error: %s" % e, file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
