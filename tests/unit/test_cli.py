"""Console and flow-level commands: present, and non-zero exits with one readable line."""

import os
import socket
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from metaflow_kestra.cli import main
from metaflow_kestra.client import KestraClient
from metaflow_kestra.connection import Connection, resolve_connection
from metaflow_kestra.errors import KestraError


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_HOME", str(tmp_path / "home"))
    for name in ("METAFLOW_KESTRA_HOST", "METAFLOW_KESTRA_USER", "METAFLOW_KESTRA_PASSWORD",
                 "METAFLOW_KESTRA_TENANT"):
        monkeypatch.delenv(name, raising=False)


def test_status_exits_non_zero_when_no_server_runs():
    result = CliRunner().invoke(main, ["server", "status", "--port", "18999"])
    assert result.exit_code == 1
    assert "No local Kestra is running on port 18999" in result.output


def test_version_says_which_release():
    from metaflow_kestra import __version__

    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.strip() == "metaflow-kestra %s" % __version__


def test_stop_without_server_is_a_no_op():
    result = CliRunner().invoke(main, ["server", "stop", "--port", "18999"])
    assert result.exit_code == 0 and "nothing to stop" in result.output


def test_logs_without_server_says_why():
    result = CliRunner().invoke(main, ["server", "logs", "--port", "18999"])
    assert result.exit_code == 1 and "never started" in result.output


def test_start_with_a_missing_jar_fails_clearly(tmp_path):
    result = CliRunner().invoke(
        main, ["server", "start", "--port", "18998", "--management-port", "18997",
               "--kestra-jar", str(tmp_path / "missing.jar")],
    )
    assert result.exit_code == 1
    assert "missing.jar does not exist" in result.output
    assert "Traceback" not in result.output


def test_without_host_and_without_local_server_the_client_says_what_to_do():
    with pytest.raises(KestraError, match="metaflow-kestra server start"):
        resolve_connection()


def test_explicit_host_wins():
    connection = resolve_connection(host="http://kestra.internal:8080/", username="u", password="p")
    assert connection == Connection("http://kestra.internal:8080", "u", "p", None, "main")


def test_status_json_without_a_server_says_so_and_exits_1():
    import json

    result = CliRunner().invoke(main, ["server", "status", "--port", "18999", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output) == {"running": False, "healthy": False, "port": 18999}


@pytest.mark.parametrize("tenant", ["..", "%2E%2E", "a/b", "-x", "", "main?x=1", "t" * 101])
def test_a_tenant_that_is_not_an_id_is_refused_before_any_request(tenant, monkeypatch):
    """Issue 26, finding 10: the tenant is a segment of every API path."""
    if tenant == "":
        monkeypatch.setenv("METAFLOW_KESTRA_TENANT", "../x")
    with pytest.raises(KestraError, match="not a Kestra tenant id"):
        resolve_connection(host="http://127.0.0.1:1", tenant=tenant or None)


def test_a_tenant_id_passes():
    assert resolve_connection(host="http://127.0.0.1:1", tenant="team-a_1").tenant == "team-a_1"


def test_a_server_that_is_down_gets_one_actionable_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = KestraClient(Connection("http://127.0.0.1:%d" % port))
    with pytest.raises(KestraError, match="Cannot reach Kestra at http://127.0.0.1:%d" % port):
        client.execution("nope")


def test_smoke_without_server_exits_non_zero():
    result = CliRunner().invoke(main, ["smoke"])
    assert result.exit_code == 1 and "no local one is running" in result.output


def test_flow_has_a_kestra_command_group(tmp_path):
    flow = tmp_path / "hello_flow.py"
    flow.write_text(textwrap.dedent('''
        from metaflow import FlowSpec, step

        class HelloFlow(FlowSpec):
            @step
            def start(self):
                self.next(self.end)

            @step
            def end(self):
                pass

        if __name__ == "__main__":
            HelloFlow()
    '''))
    # Metaflow refuses "root" as a user name unless METAFLOW_USER says otherwise.
    env = dict(os.environ, METAFLOW_USER="tester")
    result = subprocess.run(
        [sys.executable, str(flow), "kestra", "--help"],
        capture_output=True, text=True, cwd=str(tmp_path), env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "Compile, deploy, trigger and follow this flow on Kestra" in result.stdout
    # Issue 27, item 6: a group option after the command got only click's "no such option".
    misplaced = subprocess.run(
        [sys.executable, str(flow), "kestra", "run", "--kestra-host", "http://127.0.0.1:9"],
        capture_output=True, text=True, cwd=str(tmp_path), env=env,
    )
    assert misplaced.returncode == 2
    assert ("--kestra-host is an option of the `kestra` group: give it before the command, as in "
            "`python hello_flow.py kestra --kestra-host ... run ...`") in misplaced.stderr
    unknown = subprocess.run([sys.executable, str(flow), "kestra", "run", "--bogus"],
                             capture_output=True, text=True, cwd=str(tmp_path), env=env)
    assert unknown.returncode == 2 and "no such option: --bogus" in unknown.stderr


def test_advice_names_the_users_flow_file_inside_its_command_and_flow_py_elsewhere():
    """Issue 27, item 6: error messages named flow.py instead of the user's file."""
    from metaflow_kestra import errors

    try:
        assert errors.flow_command("kestra create") == "python flow.py kestra create"
        errors.set_flow_file("/home/me/project/my_flow.py")
        assert errors.flow_command("kestra create") == "python my_flow.py kestra create"
    finally:
        errors.set_flow_file(None)
