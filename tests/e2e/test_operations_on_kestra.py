"""Operating deployed flows on the real local Kestra: CLI commands, Deployer API, Restart."""

import re
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.flow_loading import flow_path
from tests.kestra_logs import log_text

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"


def kestra(workspace, name, *args, check=True):
    return workspace.flow_command(name, "kestra", "--kestra-namespace", NAMESPACE, *args, check=check)


def test_status_list_runs_logs_and_delete(workspace):
    _, run_id = run_on_kestra(workspace, "linear_flow")
    assert "SUCCESS" in kestra(workspace, "linear_flow", "status", "--run-id", run_id).stdout
    assert run_id in kestra(workspace, "linear_flow", "list-runs", "--succeeded").stdout
    logs = kestra(workspace, "linear_flow", "logs", "--run-id", run_id).stdout
    assert "--- start ---" in logs and "--- end ---" in logs
    assert logs.index("--- start ---") < logs.index("--- end ---"), "the graph's order, not the names'"
    kestra(workspace, "linear_flow", "delete")
    assert kestra(workspace, "linear_flow", "trigger", check=False).returncode == 1


def test_a_secret_kestra_does_not_have_ends_the_wait_with_one_line_that_says_how_to_give_it(workspace):
    """Issue 29, a new user's trial: the step failed with Pebble's `Cannot find secret for key` only."""
    done, _ = run_on_kestra(workspace, "linear_flow", "--secret", "METAFLOW_KESTRA_TEST_NO_SUCH_SECRET", check=False)
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if "Kestra has no secret" in line]
    assert line.startswith("Flow LinearFlow, step start: Kestra has no secret METAFLOW_KESTRA_TEST_NO_SUCH_SECRET")
    assert re.search(r"`metaflow-kestra server start --port \d+ --secret METAFLOW_KESTRA_TEST_NO_SUCH_SECRET`", line), line


def test_a_finished_run_answers_to_its_pathspec_and_cannot_be_terminated(workspace):
    """Issue 27, items 3 and 4: the pathspec `run --wait` prints was refused by --run-id, and
    terminate of a finished run said it asked Kestra to kill it, and exited 0."""
    done, run_id = run_on_kestra(workspace, "linear_flow")
    pathspec = "LinearFlow/" + run_id
    assert pathspec in done.stdout + done.stderr
    assert "SUCCESS" in kestra(workspace, "linear_flow", "status", "--run-id", pathspec).stdout
    refused = kestra(workspace, "linear_flow", "terminate", "--run-id", pathspec, check=False)
    assert refused.returncode == 1 and "already ended SUCCESS: there is nothing to kill" in refused.stderr
    waited = kestra(workspace, "linear_flow", "wait", "--run-id", run_id)
    assert "ended SUCCESS" in waited.stdout + waited.stderr
    # The link printed for Kestra's UI opens on the local server's UI too (issue 28; before it, a 404).
    link = re.search(r"Kestra UI: (\S+)", done.stdout + done.stderr).group(1)
    assert link.endswith("/ui/main/executions/%s/linearflow/%s" % (NAMESPACE, run_id[len("kestra-"):]))
    page = requests.get(link, timeout=30)
    assert page.status_code == 200 and page.headers["Content-Type"].startswith("text/html")


def test_terminate_kills_the_execution_and_the_run_is_not_successful(workspace, kestra_client):
    run_id_file = workspace.root / "slow.run-id"
    gave_up = kestra(workspace, "slow_flow", "run", "--run-id-file", str(run_id_file), "--wait", "--wait-timeout", "1",
                     check=False)
    run_id = run_id_file.read_text()
    # Issue 27, item 4: a wait that gives up says the run goes on, and how to wait again.
    assert gave_up.returncode == 1
    assert "The run goes on on Kestra" in gave_up.stderr
    assert "python slow_flow.py kestra wait --run-id %s" % run_id in gave_up.stderr
    # ...and a running run is neither restarted nor resumed (resume quietly started a second run).
    before = len(kestra_client.search_executions(NAMESPACE, "slowflow"))
    refused = kestra(workspace, "slow_flow", "restart", "--run-id", run_id, check=False)
    assert refused.returncode == 1 and "has not ended" in refused.stderr, refused.stderr
    refused = kestra(workspace, "slow_flow", "resume", "--clone-run-id", run_id, check=False)
    assert refused.returncode == 1 and "resume clones a run that has ended" in refused.stderr, refused.stderr
    assert len(kestra_client.search_executions(NAMESPACE, "slowflow")) == before
    deadline = time.time() + 120
    while "wait" not in _running_tasks(kestra_client, run_id[len("kestra-"):]):
        assert time.time() < deadline, "the slow step never started"
        time.sleep(0.5)
    kestra(workspace, "slow_flow", "terminate", "--run-id", run_id)
    while "KILLED" not in kestra(workspace, "slow_flow", "status", "--run-id", run_id).stdout:
        assert time.time() < deadline
        time.sleep(2)
    assert not workspace.artifacts("SlowFlow", run_id)["successful"]


def test_terminate_stops_the_foreach_items_that_are_running(workspace, kestra_client):
    from metaflow_kestra import states
    from metaflow_kestra.executions import settle_loop_items

    run_id_file = workspace.root / "slow-foreach.run-id"
    pid_dir = workspace.root / "slow-foreach-pids"
    pid_dir.mkdir()
    kestra(workspace, "slow_foreach_flow", "run", "--run-id-file", str(run_id_file), "--pid_dir", str(pid_dir))
    execution_id = run_id_file.read_text()[len("kestra-"):]
    deadline = time.time() + 120
    while _running_tasks(kestra_client, execution_id).count("work") < 2 or len(list(pid_dir.glob("item-*.pid"))) < 2:
        assert time.time() < deadline, "the two foreach items never ran together"
        time.sleep(1)
    kestra(workspace, "slow_foreach_flow", "terminate", "--run-id", "kestra-" + execution_id)
    while kestra_client.execution(execution_id)["state"]["current"] != "KILLED":
        assert time.time() < deadline + 60
        time.sleep(1)
    # Kestra 1 runs the items as task runs of the execution; Kestra 2 as executions of their own,
    # which the kill must reach too. Either way both items ran, and both were stopped. Kestra 1.3
    # may mark the execution KILLED before the worker reports an item's task run killed: polled.
    while True:
        execution = kestra_client.execution(execution_id)
        items = settle_loop_items(kestra_client, execution, timeout=60)
        if kestra_client.kestra_major() >= 2:
            ended = [item["state"]["current"] for item in items]
        else:
            assert items == []
            ended = [run["state"]["current"] for run in execution["taskRunList"] if run["taskId"] == "work"]
        if len(ended) == 2 and all(state in states.FAILED for state in ended):
            break
        assert time.time() < deadline + 120, ended
        time.sleep(1)
    assert "work" not in _running_tasks(kestra_client, execution_id)
    # Kestra's record is not enough: the processes that ran the two items must be gone too (a
    # warm start runs a step in a process that Kestra did not start, and never signals itself).
    pids = {path.name: int(path.read_text()) for path in pid_dir.glob("item-*.pid")}
    assert len(pids) == 2, pids
    deadline = time.time() + 30
    while any(_process_alive(pid) for pid in pids.values()):
        assert time.time() < deadline, "the killed items still run: %s" % {
            name: pid for name, pid in pids.items() if _process_alive(pid)}
        time.sleep(0.5)


def _process_alive(pid):
    """Whether `pid` runs (a zombie has ended)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _running_tasks(client, execution_id):
    """Task ids of the run's task runs still running (one per run), in its execution and its Loop items."""
    from metaflow_kestra import states

    execution = client.execution(execution_id)
    runs = list(execution.get("taskRunList") or [])
    for item in client.loop_executions(execution):
        runs.extend(client.execution(item["id"]).get("taskRunList") or [])
    return [run["taskId"] for run in runs if run["state"]["current"] not in states.TERMINAL]


_ATTEMPTS = r"""
import sys
from metaflow import Task, namespace
namespace(None)
print(Task(sys.argv[1]).current_attempt)
"""


def item_attempts(client, execution, task_id):
    """{foreach item: attempt states} of a task inside a foreach: task runs of the execution on
    Kestra 1.x (ForEach), of its Loop items' sub-executions on 2.x."""
    if client.kestra_major() < 2:
        return {r["value"]: [a["state"]["current"] for a in r["attempts"]]
                for r in execution["taskRunList"] if r["taskId"] == task_id}
    found = {}
    for item in client.loop_executions(execution):
        for run in client.execution(item["id"])["taskRunList"]:
            if run["taskId"] == task_id:
                found[str(item["loopRun"]["index"])] = [a["state"]["current"] for a in run["attempts"]]
    return found


def test_kestra_restart_continues_the_same_metaflow_run(workspace, kestra_client):
    done, run_id = run_on_kestra(workspace, "flaky_flow", check=False)
    assert done.returncode == 1
    assert not workspace.artifacts("FlakyFlow", run_id)["successful"]
    execution_id = run_id[len("kestra-"):]
    restarted = kestra(workspace, "flaky_flow", "restart", "--run-id", run_id, "--wait")
    assert "ended SUCCESS" in restarted.stderr
    execution = kestra_client.execution(execution_id)
    assert execution["state"]["current"] == "SUCCESS"
    run = workspace.artifacts("FlakyFlow", run_id)
    assert run["successful"] and dict(run["steps"]["join"][0])["attempts"] == "[0, 1]"
    # A new attempt of the failed item only: the item that succeeded the first time was not run again.
    assert item_attempts(kestra_client, execution, "flaky") == {"0": ["SUCCESS"], "1": ["FAILED", "SUCCESS"]}
    done = subprocess.run([sys.executable, "-c", _ATTEMPTS, "FlakyFlow/%s/flaky/flaky-1" % run_id],
                          env=workspace.env, capture_output=True, text=True, cwd=workspace.root)
    assert done.stdout.strip() == "1", done.stderr  # the client sees the second attempt


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
    deadline = time.time() + 120
    while not running.is_running:
        assert time.time() < deadline, "the triggered run never ran"
        time.sleep(0.5)
    assert running.terminate()
    running.wait_for_completion(check_interval=1, timeout=120)
    assert running.status == "KILLED"
    assert found.delete() and slow.delete()


def test_deployer_api_resumes_restarts_and_lists_runs(workspace, monkeypatch):
    from metaflow import Deployer

    monkeypatch.chdir(workspace.root)
    for key, value in workspace.env.items():
        monkeypatch.setenv(key, value)
    deployer = Deployer(str(flow_path("resumable_flow")), env=workspace.env).kestra(kestra_namespace=NAMESPACE)
    deployed = deployer.create()
    failed = deployed.trigger()
    failed.wait_for_completion(check_interval=1, timeout=600)
    assert failed.status == "FAILED"
    assert [run.pathspec for run in deployed.list_runs("failed")][:1] == [failed.pathspec]
    assert failed.pathspec not in [run.pathspec for run in deployed.list_runs("succeeded")]

    (workspace.root / "resumable-flow-fixed").write_text("ok")
    restarted = deployed.restart(failed.pathspec.split("/")[1])
    assert restarted.pathspec == failed.pathspec
    restarted.wait_for_completion(check_interval=1, timeout=600)
    # (`.run` reads the metadata this process first used: another test's; a subprocess reads this one's.)
    assert restarted.status == "SUCCESS"
    assert workspace.artifacts("ResumableFlow", restarted.pathspec.split("/")[1])["successful"]

    origin = failed.pathspec.split("/")[1]
    resumed = deployed.resume(origin_run_id=origin, step_to_rerun="check")
    resumed.wait_for_completion(check_interval=1, timeout=600)
    assert resumed.status == "SUCCESS" and resumed.pathspec != failed.pathspec
    resumed_id = resumed.pathspec.split("/")[1]
    assert step_values(workspace, resumed_id, "start", "token") == step_values(workspace, origin, "start", "token")
    assert step_values(workspace, resumed_id, "check", "checked") == ["True"]
    assert [run.pathspec for run in deployed.list_runs()][:2] == [resumed.pathspec, failed.pathspec]

    found = deployer.from_deployment("%s/resumableflow" % NAMESPACE)
    assert {resumed.pathspec, failed.pathspec} <= {run.pathspec for run in found.list_runs("succeeded")}
    with pytest.raises(ValueError, match="which='done'"):
        found.list_runs("done")
    assert found.delete()


def test_suspend_lets_running_tasks_finish_and_starts_nothing_until_unsuspend(workspace, kestra_client,
                                                                              monkeypatch):
    from metaflow import Deployer

    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraDeployerError

    monkeypatch.chdir(workspace.root)
    for key, value in workspace.env.items():
        monkeypatch.setenv(key, value)
    deployed = Deployer(str(flow_path("slow_flow")), env=workspace.env).kestra(kestra_namespace=NAMESPACE).create()
    run = deployed.trigger(seconds=8)
    deadline = time.time() + 120
    while _task_states(kestra_client, run.execution_id).get("wait") != "RUNNING":
        assert time.time() < deadline, "the slow step never started"
        time.sleep(0.5)
    assert run.suspend() and run.status == "PAUSED"
    with pytest.raises(KestraDeployerError, match="only a running run can be suspended"):
        run.suspend()
    # The running step ends meanwhile (it sleeps 8 s); the next one must not start.
    while _task_states(kestra_client, run.execution_id)["wait"] != "SUCCESS":
        assert time.time() < deadline, "the slow step did not finish while the run was paused"
        time.sleep(0.5)
    quiet_until = time.time() + 5  # the executor starts a next task within a second of the last's end
    while time.time() < quiet_until:
        tasks = _task_states(kestra_client, run.execution_id)
        assert run.status == "PAUSED" and "end" not in tasks, tasks
        time.sleep(0.5)
    assert run.unsuspend()
    run.wait_for_completion(check_interval=1, timeout=300)
    assert run.status == "SUCCESS"
    assert workspace.artifacts("SlowFlow", run.pathspec.split("/")[1])["successful"]
    with pytest.raises(KestraDeployerError, match="only a suspended run can be unsuspended"):
        run.unsuspend()
    assert deployed.delete()


def _work_states(client, execution_id):
    """The states of the `work` items' last attempts, in the execution and its Loop items (Kestra 1.3
    marks a running item's task run FAILED when the execution fails; its attempt still runs)."""
    execution = client.execution(execution_id)
    runs = list(execution.get("taskRunList") or [])
    for item in client.loop_executions(execution):
        runs.extend(client.execution(item["id"]).get("taskRunList") or [])
    return [((run.get("attempts") or [run])[-1])["state"]["current"] for run in runs if run["taskId"] == "work"]


def _task_states(client, execution_id):
    return {run["taskId"]: run["state"]["current"] for run in client.execution(execution_id).get("taskRunList") or []}


def step_values(workspace, run_id, step, name):
    return [dict(task)[name] for task in workspace.artifacts("ResumableFlow", run_id)["steps"][step]]


def test_resume_clones_the_steps_before_the_failure(workspace, kestra_client):
    done, origin = run_on_kestra(workspace, "resumable_flow", check=False)
    assert done.returncode == 1
    assert not workspace.artifacts("ResumableFlow", origin)["successful"]
    (workspace.root / "resumable-flow-fixed").write_text("ok")
    run_id_file = workspace.root / "resumed.run-id"
    kestra(workspace, "resumable_flow", "resume", "--clone-run-id", origin, "--wait",
           "--run-id-file", str(run_id_file))
    resumed = run_id_file.read_text()
    run = workspace.artifacts("ResumableFlow", resumed)
    assert run["successful"] and set(run["steps"]) == {"start", "prepare", "check", "end"}
    assert dict(run["steps"]["check"][0]).get("checked") == "True"  # ran again: the failed task is not cloned
    for step, name in (("start", "token"), ("prepare", "prepared")):
        assert step_values(workspace, resumed, step, name) == step_values(workspace, origin, step, name)  # cloned
    cloned = "cloned %s/prepare from %s/prepare/prepare" % (resumed, origin)
    assert cloned in log_text(kestra_client, resumed[len("kestra-"):], task_id="prepare", expecting=cloned)


def test_resume_from_a_step_reruns_it_and_everything_after(workspace):
    (workspace.root / "resumable-flow-fixed").write_text("ok")
    _, first = run_on_kestra(workspace, "resumable_flow")
    run_id_file = workspace.root / "again.run-id"
    kestra(workspace, "resumable_flow", "resume", "--clone-run-id", first, "--step", "prepare", "--wait",
           "--run-id-file", str(run_id_file))
    again = run_id_file.read_text()
    assert workspace.artifacts("ResumableFlow", again)["successful"]
    assert step_values(workspace, again, "start", "token") == step_values(workspace, first, "start", "token")
    assert step_values(workspace, again, "prepare", "prepared") != step_values(workspace, first, "prepare", "prepared")


def test_resume_and_logs_know_the_start_and_end_steps_the_flow_names(workspace, kestra_client):
    _, first = run_on_kestra(workspace, "named_ends_flow")
    logs = kestra(workspace, "named_ends_flow", "logs", "--run-id", first).stdout
    assert "--- begin ---" in logs and "--- finish ---" in logs
    run_id_file = workspace.root / "named.run-id"
    kestra(workspace, "named_ends_flow", "resume", "--clone-run-id", first, "--step", "middle", "--wait",
           "--run-id-file", str(run_id_file))
    again = run_id_file.read_text()
    run = workspace.artifacts("NamedEndsFlow", again)
    assert run["successful"] and set(run["steps"]) == {"begin", "middle", "finish"}
    cloned = "cloned %s/begin from %s/begin/begin" % (again, first)
    assert cloned in log_text(kestra_client, again[len("kestra-"):], task_id="begin", expecting=cloned)
    assert "cloned" not in log_text(kestra_client, again[len("kestra-"):], task_id="middle")


def test_an_item_failing_while_another_runs_fails_the_run_without_joining_partial_results(workspace, kestra_client):
    # The race, made certain: the item that succeeds waits until Kestra has recorded the other's failure.
    release = workspace.root / "release"
    run_id_file = workspace.root / "late.run-id"
    waiting = subprocess.Popen(
        [sys.executable, str(flow_path("late_failure_flow")), "kestra", "--kestra-namespace", NAMESPACE, "run",
         "--wait", "--run-id-file", str(run_id_file), "--release", str(release)],
        cwd=workspace.root, env=workspace.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 300
    while not (run_id_file.exists() and run_id_file.read_text().strip()):
        assert waiting.poll() is None and time.time() < deadline, waiting.communicate()
        time.sleep(0.5)
    run_id = run_id_file.read_text().strip()
    while "FAILED" not in _work_states(kestra_client, run_id[len("kestra-"):]):
        assert time.time() < deadline, "the failing item never failed"
        time.sleep(0.5)
    assert "RUNNING" in _work_states(kestra_client, run_id[len("kestra-"):])
    release.write_text("go")
    _, stderr = waiting.communicate(timeout=600)
    assert waiting.returncode == 1, stderr
    run = workspace.artifacts("LateFailureFlow", run_id)
    assert not run["successful"] and "end" not in run["steps"]
    assert "join" not in run["steps"], "the join must not run on the items that finished only"
    restarted = kestra(workspace, "late_failure_flow", "restart", "--run-id", run_id, check=False)
    if kestra_client.kestra_major() >= 2:
        # Kestra 2.0.0 records the Loop as successful once the late item succeeds, so its Restart
        # would never run the failed item again: the command says so and names what works.
        assert restarted.returncode == 1, restarted.stderr
        [line] = [text for text in restarted.stderr.splitlines() if "resume --clone-run-id %s" % run_id in text]
        assert "Restart cannot run that item again" in line
    else:
        assert restarted.returncode == 0, restarted.stderr
