"""Integration tests reach no Kestra server they did not start: not one named by the developer's
environment, nor the developer's own local server (its answer would change what `compile` writes)."""

import socket
import threading

import yaml

from tests.flow_runs import FlowWorkspace


def test_compile_in_a_workspace_asks_no_server_of_the_developers_environment(tmp_path, monkeypatch):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    listener.settimeout(0.2)
    reached = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, _ = listener.accept()
            except socket.timeout:
                continue
            reached.append(connection)
            connection.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    monkeypatch.setenv("METAFLOW_KESTRA_HOST", "http://127.0.0.1:%d" % listener.getsockname()[1])
    monkeypatch.setenv("METAFLOW_KESTRA_PASSWORD", "the-developers-password")
    monkeypatch.setenv("METAFLOW_KESTRA_HOME", str(tmp_path / "the-developers-home"))
    try:
        workspace = FlowWorkspace(tmp_path)
        flow = yaml.safe_load(workspace.compile("linear_flow"))
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert reached == []
    assert "tasks" in flow  # written for the default line, 1.x, as with no server at all
    assert "METAFLOW_KESTRA_PASSWORD" not in workspace.env
    assert workspace.env["METAFLOW_KESTRA_HOME"].startswith(str(tmp_path))
    assert not workspace.env["METAFLOW_KESTRA_HOME"].startswith(str(tmp_path / "the-developers-home"))
