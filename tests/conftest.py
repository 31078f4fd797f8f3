"""Shared fixtures: one real local Kestra server for the whole test session."""

import os
from dataclasses import dataclass

import pytest

from metaflow_kestra.errors import DownloadError
from metaflow_kestra.local_server.server import LocalServer
from metaflow_kestra.local_server.settings import ServerSettings
from tests.helper_servers import free_port

# Dedicated ports so the suite never touches a server the user runs on 8080.
E2E_PORT = int(os.environ.get("METAFLOW_KESTRA_TEST_PORT", "18080"))
E2E_MANAGEMENT_PORT = int(os.environ.get("METAFLOW_KESTRA_TEST_MANAGEMENT_PORT", "18081"))
# Set to 1 where Kestra must be obtainable: then an unobtainable server fails
# the run instead of skipping the end-to-end tests.
REQUIRE_E2E = os.environ.get("METAFLOW_KESTRA_REQUIRE_E2E") == "1"


# Kestra's open-source edition reads secrets from SECRET_<NAME> (base64) in the server's environment.
E2E_SECRET_NAME, E2E_SECRET_VALUE = "MF_TEST_TOKEN", "s3cr3t-for-e2e"
# The S3 endpoint (a moto server tests/e2e/test_s3_datastore_on_kestra.py starts) and its credentials
# reach tasks as a worker's environment does: from the server's environment.
E2E_S3_SECRET_KEY = "local-secret-key-for-tests"
# Notifications: a receiver on loopback (tests/e2e/test_notifications_on_kestra.py) stands in for
# Slack, PagerDuty and incident.io; the Slack webhook URL is a secret, as a real one is.
E2E_SLACK_SECRET_NAME = "MF_TEST_SLACK_URL"


@dataclass(frozen=True)
class HelperPorts:
    """The loopback ports of the session's helper servers. The Kestra server's environment names
    them, so they are chosen with the server: free ones (or METAFLOW_KESTRA_TEST_S3_PORT and
    METAFLOW_KESTRA_TEST_NOTIFY_PORT), or the ones of the matching server a session reuses."""

    s3: int
    notify: int

    @property
    def slack_url(self):
        return "http://127.0.0.1:%d/slack/T000/B000/x" % self.notify

    @classmethod
    def chosen(cls):
        env = os.environ
        return cls(s3=int(env.get("METAFLOW_KESTRA_TEST_S3_PORT") or free_port()),
                   notify=int(env.get("METAFLOW_KESTRA_TEST_NOTIFY_PORT") or free_port()))

    @classmethod
    def of_environment(cls, environment):
        """The ports a server's environment names (None if it names none)."""
        import base64
        from urllib.parse import urlsplit

        try:
            slack = base64.b64decode(environment["SECRET_" + E2E_SLACK_SECRET_NAME]).decode()
            return cls(s3=urlsplit(environment["METAFLOW_S3_ENDPOINT_URL"]).port, notify=urlsplit(slack).port)
        except (KeyError, ValueError):
            return None


_session_ports = []  # the HelperPorts of this session, once its server is started


def helper_ports():
    """The session's helper ports (chosen now if no server has been started yet)."""
    if not _session_ports:
        _session_ports.append(HelperPorts.chosen())
    return _session_ports[0]


def server_environment(ports=None):
    """What the test server's environment adds to this process's: the secrets and the S3 settings."""
    import base64

    ports = ports or helper_ports()
    return {
        "SECRET_" + E2E_SECRET_NAME: base64.b64encode(E2E_SECRET_VALUE.encode()).decode(),
        "SECRET_" + E2E_SLACK_SECRET_NAME: base64.b64encode(ports.slack_url.encode()).decode(),
        "METAFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:%d" % ports.s3,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": E2E_S3_SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
        # The same credentials as Kestra secrets, for steps in containers (`--secret`), which do not
        # see the worker's environment.
        "SECRET_AWS_ACCESS_KEY_ID": base64.b64encode(b"test").decode(),
        "SECRET_AWS_SECRET_ACCESS_KEY": base64.b64encode(E2E_S3_SECRET_KEY.encode()).decode(),
    }


def process_environment(pid):
    """The environment a process runs with, where /proc tells it (else None)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as handle:
            entries = handle.read().split(b"\0")
    except OSError:
        return None
    return dict(entry.decode("utf-8", "replace").split("=", 1) for entry in entries if b"=" in entry)


def serves_this_build(state, settings):
    """Whether a running server runs this checkout's server build, with this suite's environment
    (else a reused server would test an old build, or lack the secrets and S3 settings)."""
    from metaflow_kestra.local_server.build import build_key

    environment = process_environment(state.pid)
    if environment is None:
        return False
    ports = HelperPorts.of_environment(environment)
    if ports is None or (_session_ports and ports != _session_ports[0]):
        return False
    if any(environment.get(name) != value for name, value in server_environment(ports).items()):
        return False
    if settings.kestra_jar:
        return True
    with open("/proc/%d/cmdline" % state.pid, "rb") as handle:
        if build_key(settings).encode() not in handle.read():
            return False
    return serves_this_ui(state)


def serves_this_ui(state):
    """Whether the server serves the web UI built from this checkout's server/ui (it is keyed apart)."""
    import json

    from metaflow_kestra.local_server.build import server_sources
    from metaflow_kestra.local_server.ui_build import ui_hash, ui_sources

    try:
        with open(state.config_path) as handle:
            ui_dir = json.load(handle).get("local-server", {}).get("ui-dir")
    except (OSError, ValueError):
        return False
    return ui_dir is not None and os.path.basename(os.path.dirname(ui_dir)) == ui_hash(ui_sources(server_sources()))


def start_test_server(server):
    """`server.start()` with the test environment, which the server process inherits (tests that
    restart the session's server use this too, or its tasks lose the S3 settings and secret).
    A running server is reused only if it serves this build with this environment; else it is
    stopped and started again."""
    running = server.running_state()
    if running is not None:
        if serves_this_build(running, server.settings):
            if not _session_ports:
                _session_ports.append(HelperPorts.of_environment(process_environment(running.pid)))
        else:
            print("Restarting the Kestra server at %s: it is not this build's, or lacks this suite's environment."
                  % running.url, flush=True)
            server.stop()
    saved = dict(os.environ)
    os.environ.update(server_environment())
    try:
        return server.start()
    finally:
        os.environ.clear()
        os.environ.update(saved)


# The end-to-end tests this session ran, for the summary line CI's log is read by.
_E2E_NODEIDS = set()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under METAFLOW_KESTRA_REQUIRE_E2E=1 an end-to-end test that skips, for whatever reason
    (a fixture, `importorskip`, a skip in the test), fails: CI must not go green on what it never ran.
    An expected failure (`xfail`, a known engine bug) is not a skip and stays as it is."""
    outcome = yield
    report = outcome.get_result()
    if not item.get_closest_marker("e2e"):
        return
    _E2E_NODEIDS.add(item.nodeid)
    if REQUIRE_E2E and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reason = reason.removeprefix("Skipped: ")
        report.outcome = "failed"
        report.longrepr = "METAFLOW_KESTRA_REQUIRE_E2E=1: an end-to-end test may not skip (%s)" % reason


def pytest_terminal_summary(terminalreporter):
    """One line for CI's log: how many end-to-end tests passed, failed and skipped, on which Kestra."""
    if not _E2E_NODEIDS:
        return
    counts = []
    for outcome in ("passed", "failed", "error", "skipped", "xfailed", "xpassed"):
        nodeids = {r.nodeid for r in terminalreporter.stats.get(outcome, [])
                   if getattr(r, "nodeid", None) in _E2E_NODEIDS}
        counts.append("%d %s" % (len(nodeids), outcome))
    version = ServerSettings.from_environment(port=E2E_PORT, management_port=E2E_MANAGEMENT_PORT).kestra_version
    terminalreporter.write_line("end-to-end tests on Kestra %s: %s" % (version, ", ".join(counts)))


@pytest.fixture(scope="session")
def kestra_server():
    """Start (or reuse) a real local Kestra once per session; stop it at the end if we started it."""
    settings = ServerSettings.from_environment(port=E2E_PORT, management_port=E2E_MANAGEMENT_PORT)
    server = LocalServer(settings)
    try:
        state, reused = start_test_server(server)
    except DownloadError as err:
        if REQUIRE_E2E:
            raise
        pytest.skip("Kestra server unobtainable on this machine: %s" % err)
    yield state
    if not reused:
        server.stop()


@pytest.fixture(scope="session")
def kestra_client(kestra_server):
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import Connection

    return KestraClient(
        Connection(kestra_server.url, kestra_server.username, kestra_server.password)
    )
