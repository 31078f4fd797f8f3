"""The supervisor around the server process: start, reuse, stop by pid, clear failures.

The process here is a stand-in (see standin_server.py); the real Kestra is
exercised by tests/e2e.
"""

import os
import socket
import sys
from pathlib import Path

import pytest

from metaflow_kestra.errors import ServerError
from metaflow_kestra.local_server.server import LocalServer, server_on
from metaflow_kestra.local_server.settings import ServerSettings

STANDIN = str(Path(__file__).with_name("standin_server.py"))


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_server(tmp_path, mode="healthy", timeout=20.0, kestra_version=None):
    settings = ServerSettings(
        home=tmp_path, port=free_port(), management_port=free_port(), start_timeout=timeout,
        **({"kestra_version": kestra_version} if kestra_version else {}),
    )

    def launch(server):
        return [sys.executable, STANDIN, mode, str(server.config_file),
                str(settings.port), str(settings.management_port)]

    return LocalServer(settings, launch_command=launch, log=lambda message: None)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_start_reuse_stop(tmp_path):
    server = make_server(tmp_path)
    state, reused = server.start()
    try:
        assert not reused and server.is_healthy()
        assert server.config_file.exists() and server.state_file.exists()
        again, reused = server.start()
        assert reused and again.pid == state.pid
    finally:
        assert server.stop()
    assert server.running_state() is None
    assert not server.state_file.exists()
    assert not server.stop(), "a second stop has nothing to stop"


def test_a_recycled_pid_is_not_ours(tmp_path):
    server = make_server(tmp_path)
    state, _ = server.start()
    try:
        record = server.state_file.read_text().replace(str(state.pid), str(os.getpid()))
        server.state_file.write_text(record)
        assert server.running_state() is None, "our own pytest process must not be taken for Kestra"
    finally:
        os.killpg(state.pid, 9)


def test_port_taken_by_someone_else_is_refused(tmp_path):
    server = make_server(tmp_path)
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", server.settings.port))
        squatter.listen()
        with pytest.raises(ServerError, match="Port %d .* already in use" % server.settings.port):
            server.start()


def test_a_crashing_server_shows_its_log(tmp_path):
    server = make_server(tmp_path, mode="crash")
    with pytest.raises(ServerError) as caught:
        server.start()
    assert "exited with code 3" in str(caught.value)
    assert "boom: cannot open database" in caught.value.render()
    assert server.running_state() is None


def test_a_server_that_never_answers_times_out_and_is_stopped(tmp_path):
    server = make_server(tmp_path, mode="silent", timeout=2.0)
    with pytest.raises(ServerError, match="did not become healthy within 2s") as caught:
        server.start()
    log = caught.value.render()
    assert "stand-in pid" in log
    pid = int(log.split("stand-in pid ")[1].split()[0])
    assert not alive(pid), "the server that timed out must have been killed"
    assert server.running_state() is None


def test_stop_and_status_find_the_server_on_a_port_whichever_kestra_line_it_runs(tmp_path):
    server = make_server(tmp_path, kestra_version="2.0.0")
    state, _ = server.start()
    try:
        # `server stop --port P` knows only the port: the default line's state dir is empty.
        asked = ServerSettings(home=tmp_path, port=server.settings.port)
        assert LocalServer(asked).running_state() is None
        found = server_on(asked)
        assert found.state_dir == server.state_dir and found.running_state().pid == state.pid
    finally:
        assert server_on(ServerSettings(home=tmp_path, port=server.settings.port)).stop()
    assert server_on(ServerSettings(home=tmp_path, port=server.settings.port)).running_state() is None
