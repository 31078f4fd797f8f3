"""Start, stop and inspect the local Kestra server.

By default the server is this project's own (the Java module in `server/`:
Kestra's engine modules plus the REST API and script task types), built once
by `build.ensure_built`. With --kestra-jar it is an official Kestra
executable instead. Both serve a web UI at /ui/: ours is `server/ui/`, built once by
`ui_build.ensure_ui_built`.

The server runs detached, in its own process group, logging to a file in its
state directory. `server.json` beside the log records the pid and how to
reach the server; `stop` kills that pid only after checking that the process
is still the one we started (its command line names our config file), so a
recycled pid is never killed.
"""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import asdict, dataclass, field, replace

from ..errors import ServerError
from .build import SERVER_MAIN_CLASS, ensure_built, server_sources
from .credentials import PASSWORD_FILE, USERNAME, password_for, private_state_dir, read_private, write_private
from .java import find_java, required_java
from .kestra_config import write_config
from .settings import LINE_VERSIONS, LOOPBACK
from .ui_build import ensure_ui_built

POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 30
LOG_TAIL_LINES = 40


@dataclass
class ServerState:
    """What `server.json` records about a running server."""

    pid: int
    url: str
    health_url: str
    username: str
    password_file: str  # readable by this user only: the password is never in server.json
    kestra_version: str
    config_path: str
    log_path: str
    started_at: float
    distribution: str = "metaflow-kestra"  # or "official" (a Kestra JAR, with its UI)
    ui: bool = False  # our server serves the web UI (server/ui) at /ui/
    secrets: list = field(default_factory=list)  # the names of the Kestra secrets it was started with
    # {name: HMAC-SHA256 of the value, keyed with the server's password}: a start from a shell that holds
    # another value is told, and no value is kept here.
    secret_digests: dict = field(default_factory=dict)

    @property
    def password(self):
        try:
            return read_private(self.password_file).strip()
        except OSError as error:
            raise ServerError("Could not read the local server's password from %s: %s. Restart it "
                              "with `metaflow-kestra server stop` and `server start`."
                              % (self.password_file, error.strerror))

    @property
    def api_url(self):
        return self.url + "/api/v1/main"

    @property
    def ui_url(self):
        return self.url + "/ui/"

    @property
    def has_ui(self):
        return self.distribution == "official" or self.ui


class LocalServer:
    """One local Kestra server, identified by its state directory (one per port)."""

    def __init__(self, settings, launch_command=None, log=None):
        self.settings = settings
        self.state_dir = settings.state_dir
        self.state_file = self.state_dir / "server.json"
        self.log_file = self.state_dir / "kestra.log"
        # JSON for our server, application.yml for an official JAR.
        self.config_file = self.state_dir / ("application.yml" if settings.kestra_jar else "kestra-config.json")
        # Tests replace how the server process is built; users never need to.
        self._launch_command = launch_command or self._kestra_command
        self._log = log or (lambda message: print(message, file=sys.stderr, flush=True))

    # -- queries ---------------------------------------------------------

    def running_state(self):
        """The recorded state if its process is alive and is ours, else None."""
        state = self._read_state()
        if state and _is_our_process(state.pid, state.config_path):
            return state
        return None

    def is_healthy(self, state=None):
        state = state or self.running_state()
        return bool(state) and _http_ok(state.health_url)

    # -- commands --------------------------------------------------------

    def start(self):
        """Start the server (or reuse the one already running); return (state, reused)."""
        state = self.running_state()
        if state:
            missing = [name for name in self.settings.secrets if name not in state.secrets]
            changed = [name for name in self.settings.secrets if name in state.secrets and name in os.environ
                       and state.secret_digests.get(name) != secret_digest(state.password, os.environ[name])]
            for names, how in ((missing, "without"), (changed, "with another value of")):
                if names:
                    raise ServerError(
                        "The local Kestra on port %d is running %s the secret%s %s, and Kestra reads its secrets "
                        "when it starts: stop it with `metaflow-kestra server stop --port %d`, then start it again "
                        "with --secret for each secret its flows use." % (
                            self.settings.port, how, "s" if len(names) > 1 else "", ", ".join(names),
                            self.settings.port))
            self._wait_until_healthy(state, process=None)
            return state, True
        secrets = kestra_secrets(self.settings.secrets, os.environ)
        self._forget_state()
        for port in (self.settings.port, self.settings.management_port):
            if _port_in_use(port):
                raise ServerError(
                    "Port %d on %s is already in use by another program (not a Kestra "
                    "server started by metaflow-kestra). Stop that program, or choose "
                    "other ports with --port and --management-port." % (port, LOOPBACK)
                )
        if self.settings.kestra_major >= 2 and self.settings.controller_port is None:
            # Kestra 2's worker reaches its controller over gRPC, even in one JVM.
            self.settings = replace(self.settings, controller_port=_free_port())
        private_state_dir(self.state_dir)
        password = password_for(self.state_dir)
        self._ui_dir = None
        command = self._launch_command(self)  # builds the server and its UI first, once
        write_config(self.settings, self.config_file, password, ui_dir=self._ui_dir)
        process = self._spawn(command, secrets)
        state = ServerState(
            pid=process.pid,
            url=self.settings.url,
            health_url=self.settings.health_url,
            username=USERNAME,
            password_file=str(self.state_dir / PASSWORD_FILE),
            kestra_version=self.settings.kestra_version,
            config_path=str(self.config_file),
            log_path=str(self.log_file),
            started_at=time.time(),
            distribution="official" if self.settings.kestra_jar else "metaflow-kestra",
            ui=self._ui_dir is not None,
            secrets=sorted(name[len(SECRET_PREFIX):] for name in secrets),
            secret_digests={name: secret_digest(password, os.environ[name]) for name in self.settings.secrets},
        )
        write_private(self.state_file, json.dumps(asdict(state), indent=2))
        self._wait_until_healthy(state, process)
        return state, False

    def stop(self):
        """Stop the server this package started; return False if none was running."""
        state = self.running_state()
        if not state:
            self._forget_state()
            return False
        _terminate_group(state.pid)
        self._forget_state()
        return True

    def log_tail(self, lines=LOG_TAIL_LINES):
        if not self.log_file.exists():
            return ""
        with open(self.log_file, errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))

    # -- internals -------------------------------------------------------

    def _kestra_command(self, _server):
        """Provision Java and the server (built once); return the server command."""
        settings = self.settings
        java = find_java(minimum=required_java(settings.kestra_major), kestra=settings.kestra_version)
        if settings.kestra_jar:
            if not os.path.isfile(str(settings.kestra_jar)):
                raise ServerError("The Kestra JAR %s does not exist." % settings.kestra_jar)
            return [java.executable, *settings.java_opts, "-jar", str(settings.kestra_jar),
                    "server", "local", "--config", str(self.config_file)]
        built = ensure_built(settings, java, self._log)
        try:
            self._ui_dir = ensure_ui_built(settings.home, server_sources(), self._log)
        except ServerError as error:  # the API works without its UI: say so, and serve it
            self._log("The web UI could not be built, so this server has none (the API is unaffected): %s%s"
                      % (error, "\n" + error.detail if getattr(error, "detail", None) else ""))
        return [java.executable, *settings.java_opts, "@%s" % built.java_arguments_file(),
                SERVER_MAIN_CLASS, str(self.config_file)]

    def _spawn(self, command, secrets=None):
        environment = worker_environment(os.environ, self.settings.task_env)
        environment.update(secrets or {})
        log = os.fdopen(os.open(str(self.log_file), os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o600), "ab")
        os.fchmod(log.fileno(), 0o600)
        try:
            return subprocess.Popen(
                command,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=str(self.state_dir),
                env=environment,
                start_new_session=True,
            )
        except OSError as err:
            raise ServerError("Could not run %s: %s" % (command[0], err))
        finally:
            log.close()

    def _wait_until_healthy(self, state, process):
        timeout = self.settings.start_timeout
        deadline = time.monotonic() + timeout
        self._log("Waiting for Kestra at %s (up to %ds)..." % (state.health_url, timeout))
        while time.monotonic() < deadline:
            if _http_ok(state.health_url):
                return
            if process is not None and process.poll() is not None:
                self._forget_state()
                raise ServerError(
                    "The Kestra server exited with code %s before it became healthy. "
                    "Last lines of %s:" % (process.returncode, self.log_file),
                    detail=self.log_tail(),
                )
            time.sleep(POLL_SECONDS)
        _terminate_group(state.pid)
        self._forget_state()
        raise ServerError(
            "The Kestra server did not become healthy within %ds (%s never answered 200); "
            "it was stopped. Raise the limit with METAFLOW_KESTRA_START_TIMEOUT if this "
            "machine is slow. Last lines of %s:" % (timeout, state.health_url, self.log_file),
            detail=self.log_tail(),
        )

    def _read_state(self):
        try:
            recorded = json.loads(read_private(self.state_file))
            # A server started by an older release recorded its (fixed) password here: it can still be
            # stopped; its password is not read (`password` says to restart it).
            recorded.pop("password", None)
            recorded.setdefault("password_file", str(self.state_dir / "password-of-an-older-release"))
            return ServerState(**recorded)
        except (OSError, ValueError, TypeError):
            return None

    def _forget_state(self):
        try:
            self.state_file.unlink()
        except FileNotFoundError:
            pass


def server_on(settings):
    """The local server running on `settings.port`, of whichever Kestra line; else the one `settings` names.

    Each line keeps its own state directory, so `server stop --port P` must look in both.
    """
    others = [replace(settings, kestra_version=version) for major, version in sorted(LINE_VERSIONS.items())
              if major != settings.kestra_major]
    for candidate in [settings] + others:
        server = LocalServer(candidate)
        if server.running_state() is not None:
            return server
    return LocalServer(settings)


# What a task needs of the environment whatever the allow-list: where programs, home, user
# name, locale, time zone and temporary files are.
TASK_ENV_ALWAYS = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_*", "TZ", "TMPDIR", "XDG_RUNTIME_DIR",
                   "METAFLOW_USER")


def running_servers(settings):
    """The local servers running under `settings.home`, on any port and either Kestra line, by port."""
    import re

    found = {}
    try:
        candidates = sorted(settings.home.iterdir())
    except OSError:
        return found
    for directory in candidates:
        match = re.fullmatch(r"server-(\d+)(?:-k(\d+))?", directory.name)
        if not match:
            continue
        major = int(match.group(2) or 1)
        if major not in LINE_VERSIONS:
            continue
        candidate = replace(settings, port=int(match.group(1)), kestra_version=LINE_VERSIONS[major])
        state = LocalServer(candidate).running_state()
        if state is not None:
            found[candidate.port] = state
    return found


SECRET_PREFIX = "SECRET_"


def kestra_secrets(names, environ):
    """{SECRET_<NAME>: base64 value} for Kestra's open-source secrets: `names` (--secret) from
    `environ`, and the SECRET_ variables set there already (the by-hand way Kestra documents)."""
    import base64

    secrets = {name: value for name, value in environ.items() if name.startswith(SECRET_PREFIX) and value}
    for name in names:
        if name not in environ:
            raise ServerError("--secret %s: the variable %s is not set in this shell. Export it (its value "
                              "becomes the Kestra secret %s), then start the server again." % (name, name, name))
        secrets[SECRET_PREFIX + name] = base64.b64encode(environ[name].encode("utf-8")).decode("ascii")
    return secrets


def secret_digest(password, value):
    """HMAC-SHA256 of a secret's value keyed with the server's password: tells two values apart,
    and shows nothing of either to whoever reads server.json without the password file."""
    import hashlib
    import hmac

    return hmac.new(password.encode("utf-8"), value.encode("utf-8"), hashlib.sha256).hexdigest()


def worker_environment(environ, allowed=None):
    """The server's environment: the caller's, with this Python first on PATH.

    Tasks on the Process runner inherit it, so `python` in a task is the
    interpreter (and virtualenv) of the user who started the server, with
    metaflow and this package importable, and the credentials a local run
    would have (a datastore on S3 needs them). With `allowed` (names, or
    prefixes ending in `*`), only those pass, besides TASK_ENV_ALWAYS.
    """
    if allowed is None:
        environment = dict(environ)
    else:
        patterns = TASK_ENV_ALWAYS + tuple(allowed)
        environment = {name: value for name, value in environ.items() if _matches(name, patterns)}
    python_bin = os.path.dirname(sys.executable)
    environment["PATH"] = os.pathsep.join([python_bin, environ.get("PATH", "")])
    return environment


def _matches(name, patterns):
    return any(name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern
               for pattern in patterns)


def _http_ok(url, timeout=2.0):
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError, http.client.HTTPException):
        # HTTPException: no HTTP answer at all, e.g. a poll of a port nobody listens on yet that the
        # kernel connected to itself (TCP self-connect, ports in the ephemeral range): not healthy yet.
        return False


def _port_in_use(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex((LOOPBACK, port)) == 0


def _free_port():
    """A loopback port nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def _is_our_process(pid, config_path):
    command_line = _command_line(pid)
    return command_line is not None and config_path in command_line


def _command_line(pid):
    """The command line of `pid`, or None if no such process is alive."""
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return None
    proc = "/proc/%d/cmdline" % pid
    if os.path.exists(proc):
        with open(proc, "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode("utf-8", "replace")
    try:
        return subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True
        ).stdout
    except OSError:
        return None


def _terminate_group(pid):
    """SIGTERM the server's process group, then SIGKILL it after a grace period."""
    for sig, wait in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not _alive(pid):
                return
            time.sleep(0.2)


def _alive(pid):
    """Whether the process `pid` still runs. A child of ours is alive until it is reaped: its main
    thread shows as a zombie while its other threads are still exiting (and holding its ports).
    Someone else's zombie is dead for our purposes: we cannot reap it."""
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
        ours = True
    except ChildProcessError:
        waited, ours = 0, False
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    if ours:
        return True
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().split()[2] != "Z"
    except OSError:
        return True
