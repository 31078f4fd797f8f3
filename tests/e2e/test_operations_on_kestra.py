"""Operating deployed flows on the real local Kestra: CLI commands, Deployer API, Restart."""

import time

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.flow_loading import flow_path

pytestmark = pytest.mark.e2e
NAMESPACE = "metaflow.tests"


def kestra(workspace, name, *args, check=True):
    return workspace.flow_command(name, "kestra", "--kestra-namespace", NAMESPACE, *args, check=check)


def test_status_list_runs_logs_and_delete(workspace):
    _, run_id = run_on_kestra(workspace, "linear_flow")
    assert "SUCCESS" in kestra(workspace, "linear_flow", "status", "--run-id", run_id).stdout
    assert run_id in kestra(workspace, "linear_flow", "list-runs", "--succeeded").stdout
    logs = kestra(workspace, "linear_flow", "logs", "--run-id", run_id).stdout
    assert "--- start ---" in logs and "--- end ---" in logs
    kestra(workspace, "linear_flow", "delete")
    assert kestra(workspace, "linear_flow", "trigger", check=False).returncode == 1


def test_terminate_kills_the_execution_and_the_run_is_not_successful(workspace):
    run_id_file = workspace.root / "slow.run-id"
    kestra(workspace, "slow_flow", "run", "--run-id-file", str(run_id_file))
    run_id = run_id_file.read_text()
    time.sleep(10)
    kestra(workspace, "slow_flow", "terminate", "--run-id", run_id)
    deadline = time.time() + 120
    while "KILLED" not in kestra(workspace, "slow_flow", "status", "--run-id", run_id).stdout:
        assert time.time() < deadline
        time.sleep(2)
    assert not workspace.artifacts("SlowFlow", run_id)["successful"]


def test_kestra_restart_continues_the_same_metaflow_run(workspace, kestra_client):
    done, run_id = run_on_kestra(workspace, "flaky_flow", check=False)
    assert done.returncode == 1
    execution_id = run_id[len("kestra-"):]
    kestra_client.restart(execution_id)
    time.sleep(1)
    assert kestra_client.wait(execution_id, timeout=600)["state"]["current"] == "SUCCESS"
    run = workspace.artifacts("FlakyFlow", run_id)
    assert run["successful"] and dict(run["steps"]["join"][0])["attempts"] == "[0, 1]"


def test_deployer_api_round_trip(workspace, monkeypatch):
    from metaflow import Deployer

    monkeypatch.chdir(workspace.root)
    for key, value in workspace.env.items():
        monkeypatch.setenv(key, value)
    deployed = Deployer(str(flow_path("switch_flow")), env=workspace.env).kestra(
        kestra_namespace=NAMESPACE).create()
    triggered = deployed.trigger(level="low")
    triggered.wait_for_completion(check_interval=1, timeout=600)
    assert triggered.status == "SUCCESS"
    assert triggered.run.successful and triggered.run["after"].task.data.path == "low"

    found = type(deployed).from_deployment("%s/switchflow" % NAMESPACE)
    slow = Deployer(str(flow_path("slow_flow")), env=workspace.env).kestra(kestra_namespace=NAMESPACE).create()
    running = slow.trigger(seconds=300)
    time.sleep(5)
    assert running.is_running and running.terminate()
    running.wait_for_completion(check_interval=1, timeout=120)
    assert running.status == "KILLED"
    assert found.delete() and slow.delete()


def test_resume_clones_the_steps_before_the_failure(workspace):
    done, origin = run_on_kestra(workspace, "resumable_flow", check=False)
    assert done.returncode == 1
    (workspace.root / "resumable-flow-fixed").write_text("ok")
    run_id_file = workspace.root / "resumed.run-id"
    kestra(workspace, "resumable_flow", "resume", "--clone-run-id", origin, "--wait",
           "--run-id-file", str(run_id_file))
    resumed = run_id_file.read_text()
    first = workspace.artifacts("ResumableFlow", origin)["steps"]
    second = workspace.artifacts("ResumableFlow", resumed)
    assert second["successful"]
    assert second["steps"]["start"] == first["start"] and second["steps"]["prepare"] == first["prepare"]
