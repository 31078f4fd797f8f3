"""Start a task in a warm interpreter, when one is waiting: saves importing Metaflow per task.

A Metaflow step process spends about 0.2 s importing Metaflow before it does
anything, and a local `run` pays that per task too. On a worker that runs many
tasks, the first tasks run cold as usual, and the second of them starts a warm
server (`warm_server`): an interpreter that has imported Metaflow and this
package, and forks a fresh process per task. Later tasks connect to it over a
Unix socket in a directory private to this user, hand over their stdin, stdout,
stderr, environment and working directory, and wait for the exit status.

The server is keyed by everything Metaflow reads when first imported (its
METAFLOW_* configuration, the interpreter, PYTHON* variables, the installed
packages) and by the task's deployed flow, so a task never runs under another
configuration, and one flow's tasks never share an interpreter with another
flow's; a flow deployed again with new code keeps its interpreter (it imports no
flow code). It is started with only the variables of its key, in `/`: what
the task that started it had besides (secrets, @environment values, cloud
credentials) is not in its environment block, which every process forked from it
shows in /proc/self/environ. It exits after METAFLOW_KESTRA_WARM_IDLE seconds
without a task (120 by default). METAFLOW_KESTRA_WARM_START=0 turns all of it off.

This module is imported before anything else in every task: it imports only
the standard library's lightest modules.
"""

import array
import hashlib
import json
import os
import signal
import socket
import struct
import sys
import time

from .private_dirs import is_private

ENABLE_ENV = "METAFLOW_KESTRA_WARM_START"
IDLE_ENV = "METAFLOW_KESTRA_WARM_IDLE"
DIRECTORY_ENV = "METAFLOW_KESTRA_WARM_DIR"
DEFAULT_IDLE_SECONDS = 120
# The metadata service's headers, base64, from a Kestra secret (apply_service_headers).
SERVICE_HEADERS_B64 = "METAFLOW_SERVICE_HEADERS_B64"
# Set in a task a warm server started: the pid of its supervisor process.
SERVER_ENV = "METAFLOW_KESTRA_WARM_SERVER"
# Variables a task may change without changing what `import metaflow` computes.
_PER_TASK_PREFIXES = ("METAFLOW_KESTRA_",)
# Per-flow variables Metaflow reads only when it tags a run (metaflow.util, metaflow_environment),
# so one warm interpreter serves every deployed flow.
_READ_WHEN_USED = ("METAFLOW_PRODUCTION_TOKEN",)
_KEYED_NAMES = ("HOME", "PATH", "VIRTUAL_ENV", "LANG", "TZ", "USER", "LOGNAME", "USERNAME",
                "LD_LIBRARY_PATH", "LD_PRELOAD")
DEPLOYMENT_ENV = "METAFLOW_KESTRA_DEPLOYMENT"
_KEYED_PREFIXES = ("METAFLOW_", "PYTHON", "LC_")
_PACKAGES = ("metaflow", "metaflow_kestra", "metaflow_extensions")


def enabled(environ):
    return environ.get(ENABLE_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def idle_seconds(environ):
    try:
        return max(1.0, float(environ.get(IDLE_ENV) or DEFAULT_IDLE_SECONDS))
    except ValueError:
        return float(DEFAULT_IDLE_SECONDS)


def directory(environ):
    """Where the sockets live: short (a socket path is limited to ~100 bytes) and private. The
    user's runtime directory (XDG_RUNTIME_DIR, private to them by the system) when there is one."""
    if environ.get(DIRECTORY_ENV):
        return environ[DIRECTORY_ENV]
    runtime = environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and is_private(runtime, create=False):
        return os.path.join(runtime, "metaflow-kestra-warm")
    return "/tmp/metaflow-kestra-warm-%d" % os.getuid()


def _keyed(name):
    return ((name in _KEYED_NAMES or name.startswith(_KEYED_PREFIXES))
            and not name.startswith(_PER_TASK_PREFIXES) and name not in _READ_WHEN_USED)


def fingerprint(environ):
    """What a warm interpreter must share with a task to run it as a cold start would, and the
    task's flow: a warm interpreter serves one deployed flow's tasks only, across its redeployments."""
    keyed = sorted((name, value) for name, value in environ.items() if _keyed(name))
    deployment = hashlib.sha256(_flow_identity(environ.get(DEPLOYMENT_ENV, "")).encode()).hexdigest()
    # sys.path[0] is the working directory, which is new for every task.
    facts = [sys.executable, sys.version, sys.path[1:], keyed, _installed(), deployment]
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:20]


def _flow_identity(deployment_json):
    """The deployed flow a task belongs to (Kestra namespace, flow id, Metaflow flow), not the
    deployment's whole text: the server imports no flow code, and a flow deployed again with a new
    code package is the same flow, whose next run should find its interpreter warm."""
    try:
        deployment = json.loads(deployment_json)
        return json.dumps([deployment.get(field) for field in ("kestra_namespace", "kestra_flow_id", "flow_name")])
    except (ValueError, AttributeError):
        return deployment_json  # the cold path reports a broken deployment properly


def server_environment(env):
    """The warm server's whole environment: the variables of its key (and how long to idle)."""
    server = {name: value for name, value in env.items() if _keyed(name)}
    if env.get(IDLE_ENV):
        server[IDLE_ENV] = env[IDLE_ENV]
    return server


def _installed():
    """The installed packages' locations and change times: an upgrade starts a new server."""
    found = []
    for entry in sys.path[1:]:
        for name in _PACKAGES:
            try:
                found.append((entry, name, os.stat(os.path.join(entry, name)).st_mtime_ns))
            except OSError:
                pass
    return found


def task_environment(environ):
    """The task's environment with its deployment's variables applied, as the task will see it."""
    env = dict(environ)
    apply_service_headers(env)
    deployment = environ.get("METAFLOW_KESTRA_DEPLOYMENT")
    if deployment:
        try:
            env.update(json.loads(deployment).get("environment_variables") or {})
        except (ValueError, AttributeError):
            pass  # the cold path reports a broken deployment properly
    return env


def apply_service_headers(env):
    """METAFLOW_SERVICE_HEADERS from the base64 a task got from a Kestra secret (see compiler).

    Done before Metaflow is imported (it reads the headers once); the variable is a
    METAFLOW_ one, so warm interpreters of other headers are never shared.
    """
    value = env.get(SERVICE_HEADERS_B64)
    if value:
        import base64

        env["METAFLOW_SERVICE_HEADERS"] = base64.b64decode(value).decode("utf-8")


def run(environ=None):
    """The task's exit status from a warm server, or None to run it cold here."""
    environ = os.environ if environ is None else environ
    if not enabled(environ):
        return None
    env = task_environment(environ)
    folder = directory(environ)
    try:
        if not is_private(folder):  # our sockets run code as this user
            return None
        key = fingerprint(env)
        connection = _connect(os.path.join(folder, key + ".sock"))
        if connection is None:
            _maybe_start_server(folder, key, env)
            return None
    except OSError:
        return None
    with connection:
        return _hand_over(connection, env)


def _connect(path):
    """A connection to the warm server at `path`, if one listens there and runs as this user."""
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
        credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    except OSError:
        connection.close()
        return None
    _, uid, _ = struct.unpack("3i", credentials)
    if uid != os.getuid():  # not our server: it would get our descriptors and environment
        connection.close()
        return None
    return connection


def _hand_over(connection, env):
    """Send our descriptors and environment; relay signals; return the task's exit status."""
    request = json.dumps({"env": env, "cwd": os.getcwd()}).encode()
    try:
        connection.sendmsg([struct.pack("!I", len(request)), request],
                           [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [0, 1, 2]))])
        reader = connection.makefile("rb")
        started = _message(reader)
    except OSError:
        started = None
    if not started or "pid" not in started:
        return None  # the server went away before starting the task: run it cold
    pid = started["pid"]

    def relay(signum, _frame):
        try:
            os.killpg(pid, signum)
        except OSError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, relay)
    try:
        finished = _message(reader)
    except OSError:
        finished = None
    if not finished or "status" not in finished:
        print("metaflow-kestra: the warm task process %d ended without an exit status." % pid,
              file=sys.stderr, flush=True)
        return 1
    return finished["status"]


def _message(reader):
    header = reader.read(4)
    if len(header) < 4:
        return None
    (size,) = struct.unpack("!I", header)
    return json.loads(reader.read(size))


def send(connection, message):
    body = json.dumps(message).encode()
    connection.sendall(struct.pack("!I", len(body)) + body)


def _maybe_start_server(folder, key, env):
    """Start a warm server on the second cold task in a while: a one-task worker never needs one."""
    marker = os.path.join(folder, key + ".seen")
    try:
        recent = time.time() - os.stat(marker).st_mtime < idle_seconds(env)
    except OSError:
        recent = False
    with open(marker, "a"):
        os.utime(marker)
    if not recent:
        return
    import subprocess

    with open(os.devnull, "r+b") as null:
        subprocess.Popen(
            [sys.executable, "-c", _SERVER_MAIN, folder, key],
            env=server_environment(env), stdin=null, stdout=null, stderr=null, close_fds=True,
            start_new_session=True, cwd="/",
        )


# `python -m` would put the working directory first on sys.path; `-c` puts "" there: dropped, so
# no directory's files shadow a module the server imports.
_SERVER_MAIN = "import sys; del sys.path[0]; from metaflow_kestra.warm_server import main; sys.exit(main(sys.argv[1:]))"
