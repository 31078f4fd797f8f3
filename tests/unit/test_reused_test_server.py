"""The test session reuses a running Kestra server only when it serves this build, with this suite's
environment (its secrets, S3 settings and helper ports); else it would test an old build."""

import json
import os
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest

from metaflow_kestra.local_server.build import build_key, server_sources
from metaflow_kestra.local_server.ui_build import ui_hash, ui_sources
from metaflow_kestra.local_server.settings import ServerSettings
from tests.conftest import HelperPorts, serves_this_build, server_environment


@pytest.fixture(autouse=True)
def no_session_server(monkeypatch):
    """As before a session's first server: in the whole suite the e2e tests ran one already, and a
    server is then reused only with that session's helper ports."""
    import tests.conftest

    monkeypatch.setattr(tests.conftest, "_session_ports", [])


@pytest.fixture
def process(tmp_path):
    started = []

    def start(argument, environment, ui=None):
        config = tmp_path / ("config-%d.json" % len(started))
        ui = ui_hash(ui_sources(server_sources())) if ui is None else ui
        config.write_text(json.dumps({"local-server": {"ui-dir": str(tmp_path / "ui" / ui / "dist")}}))
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", argument],
                                 env=dict(os.environ, **environment))
        started.append(child)
        deadline = time.monotonic() + 10
        while argument.encode() not in open("/proc/%d/cmdline" % child.pid, "rb").read():  # until it has exec'd
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return SimpleNamespace(pid=child.pid, config_path=str(config))

    yield start
    for child in started:
        child.kill()
        child.wait()


def test_a_server_of_this_build_and_environment_is_reused(process, tmp_path):
    settings = ServerSettings(home=tmp_path)
    ports = HelperPorts(s3=40001, notify=40002)
    state = process("@%s/build/%s/java-arguments" % (tmp_path, build_key(settings)), server_environment(ports))
    assert serves_this_build(state, settings)
    assert HelperPorts.of_environment(server_environment(ports)) == ports


def test_a_server_of_another_ui_build_is_not(process, tmp_path):
    settings = ServerSettings(home=tmp_path)
    state = process("@%s/build/%s/java-arguments" % (tmp_path, build_key(settings)),
                    server_environment(HelperPorts(s3=40001, notify=40002)), ui="0000000000000000")
    assert not serves_this_build(state, settings)


def test_a_server_of_another_build_is_not(process, tmp_path):
    settings = ServerSettings(home=tmp_path)
    state = process("@%s/build/1.3.31-0000000000000000/java-arguments" % tmp_path,
                    server_environment(HelperPorts(s3=40001, notify=40002)))
    assert not serves_this_build(state, settings)


def test_a_server_of_other_helper_ports_than_the_sessions_is_not(process, tmp_path, monkeypatch):
    import tests.conftest

    settings = ServerSettings(home=tmp_path)
    state = process("@%s/build/%s/java-arguments" % (tmp_path, build_key(settings)),
                    server_environment(HelperPorts(s3=40001, notify=40002)))
    monkeypatch.setattr(tests.conftest, "_session_ports", [HelperPorts(s3=40003, notify=40004)])
    assert not serves_this_build(state, settings)


def test_a_server_without_the_suites_secrets_is_not(process, tmp_path):
    settings = ServerSettings(home=tmp_path)
    environment = server_environment(HelperPorts(s3=40001, notify=40002))
    environment["AWS_SECRET_ACCESS_KEY"] = "another"
    state = process("@%s/build/%s/java-arguments" % (tmp_path, build_key(settings)), environment)
    assert not serves_this_build(state, settings)
    assert HelperPorts.of_environment({"PATH": "/bin"}) is None
