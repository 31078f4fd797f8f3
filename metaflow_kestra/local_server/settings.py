"""Pinned versions, defaults and the environment variables that override them."""

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ServerError
from ..versions import supported_major

# Kestra 1.3 is the LTS line and our primary target. 1.3.31 is the newest 1.3
# release whose modules Maven can resolve: every module POM imports the
# release's BOM (io.kestra:platform), and 1.3.34's BOM is not published.
DEFAULT_KESTRA_VERSION = "1.3.31"
# The release of each line the local server runs when that line is asked for by major only.
LINE_VERSIONS = {1: DEFAULT_KESTRA_VERSION, 2: "2.0.0"}
DEFAULT_MAVEN_REPOSITORY = "https://repo.maven.apache.org/maven2"

DEFAULT_PORT = 8080
DEFAULT_MANAGEMENT_PORT = 8081
LOOPBACK = "127.0.0.1"

# The largest request body the local server reads (code packages and inputs travel in bodies).
DEFAULT_MAX_REQUEST_MB = 128

ENV_KESTRA_VERSION = "METAFLOW_KESTRA_VERSION"
ENV_MAVEN_REPOSITORY = "METAFLOW_KESTRA_MAVEN_REPOSITORY"
ENV_KESTRA_JAR = "METAFLOW_KESTRA_JAR"
ENV_HOME = "METAFLOW_KESTRA_HOME"
ENV_JAVA_OPTS = "METAFLOW_KESTRA_JAVA_OPTS"
ENV_START_TIMEOUT = "METAFLOW_KESTRA_START_TIMEOUT"
ENV_TASK_ENV = "METAFLOW_KESTRA_TASK_ENV"
ENV_MAX_REQUEST_MB = "METAFLOW_KESTRA_MAX_REQUEST_MB"
ENV_INSECURE_REPOSITORY = "METAFLOW_KESTRA_INSECURE_REPOSITORY"

def kestra_major(version):
    """The major version of a Kestra version string such as "1.3.31" or "2.0.0"."""
    major = supported_major(version)
    if major is None:
        raise ServerError("Kestra version %r is not one the local server can run: give a 1.x or 2.x "
                          "release, such as %s or 2.0.0 (--kestra-version or %s)."
                          % (version, DEFAULT_KESTRA_VERSION, ENV_KESTRA_VERSION))
    return major


def _positive_int(text, name):
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ServerError("%s must be a whole number of MiB of at least 1, not %r." % (name, text))
    return value


def default_home():
    """Where downloads are cached and the local server keeps its state."""
    configured = os.environ.get(ENV_HOME)
    if configured:
        return Path(configured).expanduser()
    cache_root = os.environ.get("XDG_CACHE_HOME") or os.path.join("~", ".cache")
    return Path(cache_root).expanduser() / "metaflow-kestra"


@dataclass(frozen=True)
class ServerSettings:
    """Everything that decides which server `start` runs and where."""

    kestra_version: str = DEFAULT_KESTRA_VERSION
    maven_repository: str = DEFAULT_MAVEN_REPOSITORY
    kestra_jar: str = None  # an official Kestra executable JAR to run instead of our server
    port: int = DEFAULT_PORT
    management_port: int = DEFAULT_MANAGEMENT_PORT
    home: Path = field(default_factory=default_home)
    # Kestra 2.x only: the port of the worker controller (gRPC, loopback). None: a free one at start.
    controller_port: int = None
    java_opts: tuple = ("-Xmx2g",)
    worker_threads: int = 16
    start_timeout: float = 240.0
    # The variables tasks get (names, or prefixes ending in "*"); None: all of `server start`'s.
    task_env: tuple = None
    max_request_mb: int = DEFAULT_MAX_REQUEST_MB
    # A plain-http Maven repository is refused unless the user says they trust the network.
    insecure_repository: bool = False
    # Variables of `server start`'s environment that Kestra gets as secrets of the same names
    # (`{{ secret('NAME') }}`, a flow's --secret NAME): Kestra's open-source edition reads them
    # as SECRET_<NAME>, base64, from its environment when it starts.
    secrets: tuple = ()

    @classmethod
    def from_environment(cls, **overrides):
        """Defaults, then environment variables, then explicit (non-None) options."""
        env = os.environ
        values = dict(
            kestra_version=env.get(ENV_KESTRA_VERSION, DEFAULT_KESTRA_VERSION),
            maven_repository=env.get(ENV_MAVEN_REPOSITORY, DEFAULT_MAVEN_REPOSITORY),
            kestra_jar=env.get(ENV_KESTRA_JAR) or None,
            home=default_home(),
        )
        if env.get(ENV_JAVA_OPTS):
            values["java_opts"] = tuple(env[ENV_JAVA_OPTS].split())
        if env.get(ENV_START_TIMEOUT):
            values["start_timeout"] = float(env[ENV_START_TIMEOUT])
        if env.get(ENV_TASK_ENV):
            values["task_env"] = tuple(name.strip() for name in env[ENV_TASK_ENV].split(",") if name.strip())
        if env.get(ENV_INSECURE_REPOSITORY, "").lower() in ("1", "true", "yes"):
            values["insecure_repository"] = True
        if env.get(ENV_MAX_REQUEST_MB):
            values["max_request_mb"] = _positive_int(env[ENV_MAX_REQUEST_MB], ENV_MAX_REQUEST_MB)
        values.update({k: v for k, v in overrides.items() if v is not None and v != ()})
        if overrides.get("port") is not None and overrides.get("management_port") is None:
            # A second server on another port must not meet the first one's health port: the
            # management port follows --port unless it is given (a new user's trial, issue 29).
            values["management_port"] = overrides["port"] + 1
        if values.get("max_request_mb") is not None and values["max_request_mb"] < 1:
            raise ServerError("--max-request-mb must be at least 1, not %s." % values["max_request_mb"])
        values["home"] = Path(values["home"]).expanduser()
        for name in values.get("secrets") or ():
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise ServerError("--secret %r: a secret is named like an environment variable (letters, digits "
                                  "and '_', not starting with a digit)." % name)
        return cls(**values)

    @property
    def kestra_major(self):
        """The major version (1 or 2): it decides the engine wiring, the sources and the Java."""
        return kestra_major(self.kestra_version)

    def checked_repository(self):
        """The Maven repository URL, if it is one we may download code from: https (or a
        file: mirror); plain http only when the user said so."""
        from urllib.parse import urlsplit

        scheme = urlsplit(self.maven_repository).scheme.lower()
        if scheme in ("https", "file") or (scheme == "http" and self.insecure_repository):
            return self.maven_repository
        if scheme == "http":
            raise ServerError(
                "The Maven repository %s is plain http: anyone on the network path could hand over "
                "other JARs, which the server would run. Use an https mirror, or, if you trust that "
                "network, pass --insecure-maven-repository (or set %s=1)."
                % (self.maven_repository, ENV_INSECURE_REPOSITORY))
        raise ServerError("The Maven repository %r is not an https:// (or file:) URL (--maven-repository or %s)."
                          % (self.maven_repository, ENV_MAVEN_REPOSITORY))

    @property
    def downloads_dir(self):
        return self.home / "maven"

    @property
    def state_dir(self):
        """One directory per port and Kestra line, so two servers never share state.

        Kestra 2 migrates a 1.x database one way, so each line keeps its own.
        """
        suffix = "" if self.kestra_major < 2 else "-k%d" % self.kestra_major
        return self.home / ("server-%d%s" % (self.port, suffix))

    @property
    def url(self):
        return "http://%s:%d" % (LOOPBACK, self.port)

    @property
    def health_url(self):
        return "http://%s:%d/health" % (LOOPBACK, self.management_port)
