"""Pinned versions, defaults and the environment variables that override them."""

import os
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

# A fixed development user for the local server only (Kestra 1.x requires
# basic auth; the username must be an e-mail address, the password needs an
# upper-case letter and a digit).
LOCAL_USERNAME = "admin@metaflow-kestra.dev"
LOCAL_PASSWORD = "Metaflow-Kestra-1"

ENV_KESTRA_VERSION = "METAFLOW_KESTRA_VERSION"
ENV_MAVEN_REPOSITORY = "METAFLOW_KESTRA_MAVEN_REPOSITORY"
ENV_KESTRA_JAR = "METAFLOW_KESTRA_JAR"
ENV_HOME = "METAFLOW_KESTRA_HOME"
ENV_JAVA_OPTS = "METAFLOW_KESTRA_JAVA_OPTS"
ENV_START_TIMEOUT = "METAFLOW_KESTRA_START_TIMEOUT"

def kestra_major(version):
    """The major version of a Kestra version string such as "1.3.31" or "2.0.0"."""
    major = supported_major(version)
    if major is None:
        raise ServerError("Kestra version %r is not one the local server can run: give a 1.x or 2.x "
                          "release, such as %s or 2.0.0 (--kestra-version or %s)."
                          % (version, DEFAULT_KESTRA_VERSION, ENV_KESTRA_VERSION))
    return major


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
        values.update({k: v for k, v in overrides.items() if v is not None})
        values["home"] = Path(values["home"]).expanduser()
        return cls(**values)

    @property
    def kestra_major(self):
        """The major version (1 or 2): it decides the engine wiring, the sources and the Java."""
        return kestra_major(self.kestra_version)

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
