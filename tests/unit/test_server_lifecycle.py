"""The supervisor around the server process: start, reuse, stop by pid, clear failures.

The process here is a stand-in (see standin_server.py); the real Kestra is
exercised by tests/e2e.
"""

import os
import socket
import stat
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


def make_server(tmp_path, mode="healthy", timeout=20.0, kestra_version=None, port=None, **more):
    settings = ServerSettings(
        home=tmp_path, port=port or free_port(), management_port=free_port(), start_timeout=timeout,
        **({"kestra_version": kestra_version} if kestra_version else {}), **more,
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


def mode_of(path):
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_each_state_directory_gets_its_own_random_password_kept_across_restarts(tmp_path):
    """Issue 26, finding 1: the password was fixed and published in the source
    (Metaflow-Kestra-1), and the state world-readable (755 directories, 644 files)."""
    first, second = make_server(tmp_path), make_server(tmp_path)
    passwords = []
    for server in (first, second):
        state, _ = server.start()
        try:
            passwords.append(state.password)
            assert mode_of(server.state_dir) == 0o700
            for name in ("password", "server.json", "kestra-config.json", "kestra.log"):
                assert mode_of(server.state_dir / name) == 0o600, name
            assert state.password not in server.state_file.read_text(), "server.json never holds it"
            assert state.password_file == str(server.state_dir / "password")
        finally:
            server.stop()
    assert passwords[0] != passwords[1] and "Metaflow-Kestra-1" not in passwords
    assert len(passwords[0]) >= 24
    again, _ = make_server(tmp_path, port=first.settings.port).start()
    try:
        assert again.password == passwords[0], "a restart keeps the state directory's password"
    finally:
        LocalServer(first.settings).stop()


def test_a_state_directory_made_by_an_older_release_is_tightened(tmp_path):
    server = make_server(tmp_path)
    server.state_dir.mkdir(parents=True, mode=0o755)
    os.chmod(server.state_dir, 0o755)
    (server.state_dir / "kestra-config.json").write_text("{}")
    os.chmod(server.state_dir / "kestra-config.json", 0o644)
    server.start()
    try:
        assert mode_of(server.state_dir) == 0o700
        assert mode_of(server.config_file) == 0o600
    finally:
        server.stop()


def test_a_state_directory_others_could_plant_is_refused(tmp_path):
    writable = make_server(tmp_path)
    writable.state_dir.mkdir(parents=True)
    os.chmod(writable.state_dir, 0o777)  # anyone could have put a config or a database in it
    with pytest.raises(ServerError, match="not private to this user"):
        writable.start()
    linked = make_server(tmp_path)
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    linked.state_dir.symlink_to(target)
    with pytest.raises(ServerError, match="it is a link"):
        linked.start()
    if os.getuid() == 0:  # as root, a directory of another user can be made here
        foreign = make_server(tmp_path)
        foreign.state_dir.mkdir(mode=0o700)
        os.chown(foreign.state_dir, 4321, 4321)
        with pytest.raises(ServerError, match="owner is uid 4321"):
            foreign.start()


def environment_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as handle:
        return dict(item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item)


@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="reads /proc")
def test_tasks_get_the_environment_of_server_start_or_only_what_the_allow_list_names(tmp_path, monkeypatch):
    monkeypatch.setenv("KEEP_THIS_TOKEN", "kept")
    monkeypatch.setenv("CLOUD_SECRET_KEY", "secret")
    for allowed, expect_secret in ((None, True), (("KEEP_*",), False)):
        server = make_server(tmp_path, task_env=allowed)
        state, _ = server.start()
        try:
            environment = environment_of(state.pid)
        finally:
            server.stop()
        assert environment[b"KEEP_THIS_TOKEN"] == b"kept"
        assert (b"CLOUD_SECRET_KEY" in environment) == expect_secret, allowed
        assert environment[b"PATH"].startswith(os.path.dirname(sys.executable).encode())
        assert b"HOME" in environment


def test_the_allow_list_comes_from_the_environment_or_the_option(monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_TASK_ENV", "AWS_*, METAFLOW_*,EXTRA")
    assert ServerSettings.from_environment().task_env == ("AWS_*", "METAFLOW_*", "EXTRA")
    assert ServerSettings.from_environment(task_env=("ONLY",)).task_env == ("ONLY",)
    monkeypatch.setenv("METAFLOW_KESTRA_MAX_REQUEST_MB", "0")
    with pytest.raises(ServerError, match="at least 1"):
        ServerSettings.from_environment()


def test_a_server_started_by_an_older_release_can_still_be_stopped(tmp_path):
    import json

    server = make_server(tmp_path)
    state, _ = server.start()
    recorded = json.loads(server.state_file.read_text())
    recorded["password"] = recorded.pop("password_file") and "Metaflow-Kestra-1"  # as 6b568e2 wrote it
    server.state_file.write_text(json.dumps(recorded))
    found = server.running_state()
    assert found is not None and found.pid == state.pid
    with pytest.raises(ServerError, match="Restart it"):
        found.password
    assert server.stop() and not alive(state.pid)


def test_a_health_port_that_answers_garbage_is_not_healthy_and_no_traceback():
    """CI, 2026-12-07: `server start` polled a health port in the ephemeral range before the JVM
    listened; the kernel connected the poll to itself (TCP self-connect), which read back its own
    request line, and http.client's BadStatusLine came out of `demo.sh` as a traceback."""
    import threading

    from metaflow_kestra.local_server.server import _http_ok

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def echo():
        connection, _ = listener.accept()
        with connection:
            connection.sendall(connection.recv(1024))  # what a self-connected socket reads: its request

    threading.Thread(target=echo, daemon=True).start()
    try:
        assert _http_ok("http://127.0.0.1:%d/health" % listener.getsockname()[1]) is False
    finally:
        listener.close()


# Issue 29, a new user's trial: the README's `--secret NAME` needs a Kestra secret NAME, and nothing
# said how the local server gets one (Kestra's open-source edition reads SECRET_<NAME>, base64, from
# its environment when it starts).

@pytest.mark.skipif(not os.path.exists("/proc/self/environ"), reason="reads /proc")
def test_secret_gives_kestra_the_variable_of_that_name_as_a_kestra_secret(tmp_path, monkeypatch):
    import base64

    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "s3cr3t/+=")
    server = make_server(tmp_path, secrets=("AWS_SECRET_ACCESS_KEY",), task_env=("KEEP_*",))
    state, _ = server.start()
    try:
        environment = environment_of(state.pid)
        assert base64.b64decode(environment[b"SECRET_AWS_SECRET_ACCESS_KEY"]) == b"s3cr3t/+="
        assert state.secrets == ["AWS_SECRET_ACCESS_KEY"]
        assert server.running_state().secrets == ["AWS_SECRET_ACCESS_KEY"]
        # The running server has it: starting again with it reuses the server.
        again, reused = make_server(tmp_path, port=server.settings.port, secrets=("AWS_SECRET_ACCESS_KEY",)).start()
        assert reused and again.pid == state.pid
    finally:
        server.stop()


def test_a_running_server_without_the_secret_says_to_restart_it(tmp_path, monkeypatch):
    monkeypatch.setenv("TOKEN", "t")
    server = make_server(tmp_path)
    server.start()
    try:
        later = make_server(tmp_path, port=server.settings.port, secrets=("TOKEN",))
        with pytest.raises(ServerError, match="running without the secret TOKEN.*server stop --port %d"
                                              % server.settings.port):
            later.start()
    finally:
        server.stop()


def test_a_running_server_with_another_value_of_the_secret_says_to_restart_it(tmp_path, monkeypatch):
    """A second trial: a server started from another shell held other credentials under the same
    name, and was reused without a word. Only a keyed digest of the value is recorded."""
    monkeypatch.setenv("TOKEN", "first-value")
    server = make_server(tmp_path, secrets=("TOKEN",))
    state, _ = server.start()
    try:
        assert "first-value" not in server.state_file.read_text()
        monkeypatch.setenv("TOKEN", "second-value")
        with pytest.raises(ServerError, match="running with another value of the secret TOKEN"):
            make_server(tmp_path, port=server.settings.port, secrets=("TOKEN",)).start()
        monkeypatch.setenv("TOKEN", "first-value")
        assert make_server(tmp_path, port=server.settings.port, secrets=("TOKEN",)).start()[1]
    finally:
        server.stop()


def test_a_secret_whose_variable_is_not_set_is_refused_before_anything_starts(tmp_path, monkeypatch):
    monkeypatch.delenv("NOT_SET_HERE", raising=False)
    with pytest.raises(ServerError, match="--secret NOT_SET_HERE: the variable NOT_SET_HERE is not set"):
        make_server(tmp_path, secrets=("NOT_SET_HERE",)).start()
    with pytest.raises(ServerError, match="--secret '1A': a secret is named like an environment variable"):
        ServerSettings.from_environment(secrets=("1A",))


def test_the_management_port_follows_the_port_unless_given():
    assert ServerSettings.from_environment(port=18480).management_port == 18481
    assert ServerSettings.from_environment(port=18480, management_port=19000).management_port == 19000
    assert ServerSettings.from_environment().management_port == 8081
