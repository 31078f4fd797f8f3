"""Warm task starts: which tasks may share a warm interpreter, and the hand-over to it."""

import json
import os
import subprocess
import sys
import time

import pytest

from metaflow_kestra import warm_start
from metaflow_kestra.deployment import DEPLOYMENT_FORMAT, Deployment
from metaflow_kestra.private_dirs import is_private

BASE = {"HOME": "/home/u", "PATH": "/usr/bin", "METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data"}


def test_tasks_of_one_configuration_share_a_server_and_no_other_does():
    key = warm_start.fingerprint(BASE)
    per_task = dict(BASE, METAFLOW_KESTRA_STEP='{"step": "b"}', PWD="/tmp/x", WORKING_DIR="/tmp/x")
    assert warm_start.fingerprint(per_task) == key
    for name, value in (("METAFLOW_DATASTORE_SYSROOT_LOCAL", "/other"), ("METAFLOW_PROFILE", "p"),
                        ("PYTHONPATH", "/lib"), ("HOME", "/home/v")):
        assert warm_start.fingerprint(dict(BASE, **{name: value})) != key, name


def test_flows_of_other_production_tokens_share_a_server():
    # Metaflow reads METAFLOW_PRODUCTION_TOKEN when it tags a run, not when it is imported, and
    # every deployed flow has its own token: keying on it would make every flow's tasks start cold.
    key = warm_start.fingerprint(dict(BASE, METAFLOW_PRODUCTION_TOKEN="a-1"))
    assert warm_start.fingerprint(dict(BASE, METAFLOW_PRODUCTION_TOKEN="b-2")) == key
    assert warm_start.fingerprint(BASE) == key


def test_the_deployment_variables_are_part_of_the_task_environment():
    deployment = Deployment(flow_name="F", flow_file="f.py",
                            environment_variables={"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/deployed"})
    env = warm_start.task_environment(dict(BASE, METAFLOW_KESTRA_DEPLOYMENT=deployment.to_json()))
    assert env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] == "/deployed"
    assert warm_start.task_environment(dict(BASE, METAFLOW_KESTRA_DEPLOYMENT="not json")) == dict(
        BASE, METAFLOW_KESTRA_DEPLOYMENT="not json")


def test_turned_off_or_in_a_shared_directory_a_task_runs_cold(tmp_path):
    off = dict(BASE, METAFLOW_KESTRA_WARM_START="0", METAFLOW_KESTRA_WARM_DIR=str(tmp_path / "w"))
    assert warm_start.run(off) is None and not (tmp_path / "w").exists()
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    assert warm_start.run(dict(BASE, METAFLOW_KESTRA_WARM_DIR=str(shared))) is None
    assert os.listdir(shared) == []


def _task_env(folder, idle="60"):
    """A task whose deployment this worker refuses in one line: a probe that needs no flow."""
    newer = dict(json.loads(Deployment(flow_name="F", flow_file="f.py").to_json()),
                 written_by="9.9.9", format=DEPLOYMENT_FORMAT + 1)
    env = dict(os.environ, METAFLOW_KESTRA_WARM_DIR=str(folder), METAFLOW_KESTRA_WARM_IDLE=idle,
               METAFLOW_KESTRA_DEPLOYMENT=json.dumps(newer))
    env.pop("METAFLOW_KESTRA_WARM_START", None)
    return env


def _task(env):
    return subprocess.run([sys.executable, "-m", "metaflow_kestra.task"], env=env, capture_output=True,
                          text=True, timeout=60)


_PROBE = """
import sys
from metaflow_kestra import warm_start
status = warm_start.run()
print("warm" if status is not None else "cold", status)
"""


def _hand_over(env):
    """What `python -m metaflow_kestra.task` does first: (how it ran, the task's exit status, stderr)."""
    done = subprocess.run([sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, timeout=60)
    how, status = done.stdout.split()[-2:]
    return how, status, done.stderr


def _socket(folder, timeout=30):
    """The server's socket (its name is the key the task computes: sys.path differs in pytest)."""
    deadline = time.time() + timeout
    while not list(folder.glob("*.sock")):
        assert time.time() < deadline, "no server socket appeared in %s" % folder
        time.sleep(0.1)
    return next(folder.glob("*.sock"))


@pytest.fixture
def folder(tmp_path):
    folder = tmp_path / "w"
    yield folder
    subprocess.run(["pkill", "-f", "metaflow_kestra.warm_server %s" % folder])


def test_the_second_cold_task_starts_a_server_and_later_tasks_run_in_it(folder):
    env = _task_env(folder)
    cold = [_task(env) for _ in range(2)]
    _socket(folder)
    how, status, warm_err = _hand_over(env)
    assert (how, status) == ("warm", "1")  # run by the server, on the caller's stdout and stderr
    assert [done.returncode for done in cold] == [1, 1]
    assert warm_err == cold[0].stderr == cold[1].stderr
    assert warm_err.startswith("metaflow-kestra: This flow was deployed by metaflow-kestra 9.9.9")
    assert (folder.stat().st_mode & 0o777) == 0o700


def test_an_idle_server_exits_and_removes_its_socket(folder):
    env = _task_env(folder, idle="1")
    for _ in range(2):
        _task(env)
    socket_path = _socket(folder)
    deadline = time.time() + 20
    while socket_path.exists():
        assert time.time() < deadline, "the idle server did not exit"
        time.sleep(0.2)
    assert _task(env).returncode == 1  # and a task still runs, cold


def test_a_stale_socket_means_a_cold_start(folder):
    env = _task_env(folder)
    folder.mkdir(mode=0o700)
    _task(env)
    key = next(folder.glob("*.seen")).name[:-len(".seen")]
    (folder / (key + ".sock")).write_text("")  # left by a server that was SIGKILLed
    assert _hand_over(env)[:2] == ("cold", "None")
    assert _task(env).returncode == 1
    socket_path = _socket(folder)  # the server that started replaced the stale socket
    deadline = time.time() + 30
    while _hand_over(env)[0] != "warm":
        assert time.time() < deadline and socket_path.exists()
        time.sleep(0.2)


# Issue 26, findings 2 and 3: a warm interpreter carried one flow's secrets into another flow's
# steps, and its directory could be a link another user planted.

def test_a_server_serves_one_deployment():
    one = dict(BASE, METAFLOW_KESTRA_DEPLOYMENT='{"flow_name": "A"}')
    assert warm_start.fingerprint(one) == warm_start.fingerprint(dict(one))
    assert warm_start.fingerprint(dict(BASE, METAFLOW_KESTRA_DEPLOYMENT='{"flow_name": "B"}')) != \
        warm_start.fingerprint(one)


def test_a_redeployed_flow_keeps_its_warm_server():
    """Issue 30: a flow deployed again with new code (a new code package, new tags) is still the
    same flow: its tasks find the interpreter its previous run warmed up, instead of starting cold.
    The server has imported only Metaflow and this package, never a flow's code."""
    def env(**fields):
        deployment = Deployment(flow_name="A", flow_file="a.py", kestra_namespace="ns", kestra_flow_id="a", **fields)
        return dict(BASE, METAFLOW_KESTRA_DEPLOYMENT=deployment.to_json())

    first = env(code_sha="1" * 40, tags=["x"])
    assert warm_start.fingerprint(env(code_sha="2" * 40, tags=["y"], workflow_timeout=60)) == \
        warm_start.fingerprint(first)
    other_flow = json.loads(first["METAFLOW_KESTRA_DEPLOYMENT"])
    for field, value in (("kestra_flow_id", "b"), ("kestra_namespace", "other"), ("flow_name", "B")):
        changed = dict(first, METAFLOW_KESTRA_DEPLOYMENT=json.dumps(dict(other_flow, **{field: value})))
        assert warm_start.fingerprint(changed) != warm_start.fingerprint(first), field
    # What Metaflow reads when imported still counts: the deployment's METAFLOW_ variables.
    assert warm_start.fingerprint(warm_start.task_environment(env(environment_variables={"METAFLOW_X": "1"}))) != \
        warm_start.fingerprint(warm_start.task_environment(first))


def test_the_server_starts_in_root_with_only_the_variables_of_its_key(tmp_path, monkeypatch):
    import subprocess as subprocess_module

    started = []
    monkeypatch.setattr(subprocess_module, "Popen", lambda *args, **kwargs: started.append((args, kwargs)))
    env = dict(BASE, METAFLOW_KESTRA_DEPLOYMENT='{"flow_name": "A"}', METAFLOW_KESTRA_SECRET_TOKEN="s3cret",
               API_KEY="from-environment-decorator", AWS_SECRET_ACCESS_KEY="cloud", METAFLOW_KESTRA_WARM_IDLE="5",
               PYTHONPATH="/lib")
    folder = str(tmp_path / "w")
    assert is_private(folder)
    for _ in range(2):  # the second cold task in a while starts it
        warm_start._maybe_start_server(folder, "k", env)
    [(args, kwargs)] = started
    assert kwargs["env"] == {"HOME": "/home/u", "PATH": "/usr/bin", "METAFLOW_DATASTORE_SYSROOT_LOCAL": "/data",
                             "PYTHONPATH": "/lib", "METAFLOW_KESTRA_WARM_IDLE": "5"}
    assert kwargs["cwd"] == "/"
    command = args[0]
    assert "-m" not in command and command[1] == "-c" and "del sys.path[0]" in command[2]


def test_a_link_to_a_private_directory_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    link = tmp_path / "planted"
    link.symlink_to(mine)
    assert is_private(str(mine)) and not is_private(str(link))
    assert warm_start.run(dict(BASE, METAFLOW_KESTRA_WARM_DIR=str(link))) is None
    assert os.listdir(mine) == []


def test_the_runtime_directory_is_preferred_when_private(tmp_path):
    runtime = tmp_path / "run-user"
    runtime.mkdir(mode=0o700)
    assert warm_start.directory({"XDG_RUNTIME_DIR": str(runtime)}) == str(runtime / "metaflow-kestra-warm")
    runtime.chmod(0o755)
    assert warm_start.directory({"XDG_RUNTIME_DIR": str(runtime)}) == "/tmp/metaflow-kestra-warm-%d" % os.getuid()


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to listen as another user")
def test_a_socket_another_user_listens_on_is_not_used():
    """Our descriptors and environment go only to a server running as us (SO_PEERCRED)."""
    import shutil
    import socket
    import tempfile

    folder = tempfile.mkdtemp(prefix="warm-peer-")  # in /tmp: pytest's tmp_path is closed to others
    os.chmod(folder, 0o777)
    path = os.path.join(folder, "k.sock")
    child = os.fork()
    if child == 0:  # the other user: nobody
        try:
            os.setgid(65534)
            os.setuid(65534)
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind(path)
            listener.listen(1)
            time.sleep(5)
        finally:
            os._exit(0)
    try:
        deadline = time.time() + 5
        while not os.path.exists(path):
            assert time.time() < deadline
            time.sleep(0.05)
        assert warm_start._connect(path) is None
    finally:
        os.kill(child, 9)
        os.waitpid(child, 0)
        shutil.rmtree(folder, ignore_errors=True)
