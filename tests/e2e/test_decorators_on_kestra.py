"""Metaflow decorators and triggers on the real local Kestra."""

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import E2E_SECRET_VALUE
from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.flow_loading import flow_path
from tests.kestra_logs import log_text

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"

_ATTEMPTS = r"""
import sys
from metaflow import Task, namespace
namespace(None)
print(Task(sys.argv[1]).current_attempt)
"""


def kestra(workspace, name, *args, top_level=(), check=True):
    return workspace.flow_command(name, *top_level, "kestra", "--kestra-namespace", NAMESPACE, *args, check=check)


def stored_file(kestra_server, uri):
    """A file in the server's internal storage (our server's API has no download endpoint for outputs)."""
    assert uri.startswith("kestra:///"), uri
    return (Path(kestra_server.config_path).parent / "storage" / "main" / uri[len("kestra:///"):]).read_text()


def test_retry_catch_environment_secrets_config_and_cards(workspace, kestra_client, kestra_server):
    done, run_id = run_on_kestra(workspace, "decorated_flow")
    run = workspace.artifacts("DecoratedFlow", run_id)
    assert run["successful"]
    start = dict(run["steps"]["start"][0])
    assert start["attempt"] == "1" and start["threshold"] == "7"  # retried once; Config frozen at deploy
    attempt = subprocess.run([sys.executable, "-c", _ATTEMPTS, "DecoratedFlow/%s/start/start" % run_id],
                             env=workspace.env, capture_output=True, text=True)
    assert attempt.stdout.strip() == "1", attempt.stderr  # the client sees the second attempt
    assert "caught, not fatal" in dict(run["steps"]["end"][0])["problem_text"]  # @catch let it continue
    configured = dict(run["steps"]["configured"][0])
    assert configured["greeting"] == repr("hello {{ world }} {% raw %}")
    assert configured["token_length"] == str(len(E2E_SECRET_VALUE))
    execution = kestra_client.execution(run_id[len("kestra-"):])
    log_text(kestra_client, execution["id"], steps=("start", "risky", "configured", "end"))  # all stored
    logs = kestra_client.logs(execution["id"])
    assert E2E_SECRET_VALUE not in repr(execution) + repr(logs)
    assert E2E_SECRET_VALUE not in repr(kestra_client.flow(NAMESPACE, "decoratedflow"))
    assert E2E_SECRET_VALUE not in workspace.compile("decorated_flow")
    # Kestra 2 keeps task outputs behind its outputs API, 1.x in the task run: the client knows where.
    [cards] = [kestra_client.task_outputs(execution["id"], r)["outputFiles"]
               for r in execution["taskRunList"] if r["taskId"] == "configured"]
    assert list(cards) == ["metaflow-cards/configured-0-default.html"]
    assert "<html" in stored_file(kestra_server, next(iter(cards.values()))).lower()


_TIMED_OUT = r"""
import sys
from metaflow import Run, namespace
namespace(None)
task = Run(sys.argv[1])["start"].task
exception = task.exception
print(getattr(exception, "type", type(exception).__name__) if exception else None, task.data.before_timeout)
"""


def timed_out_start(workspace, run_id):
    return workspace.client(_TIMED_OUT, "TimeoutFlow/%s" % run_id).split()


def test_a_step_past_its_timeout_records_what_a_local_run_records(workspace):
    """Metaflow's @timeout fires first and records the exception and the artifacts so far;
    Kestra's task timeout stays as the backstop."""
    local = workspace.flow_command("timeout_flow", "run", check=False)
    assert local.returncode != 0
    local_run_id = (workspace.root / ".metaflow" / "TimeoutFlow" / "latest_run").read_text().strip()
    done, run_id = run_on_kestra(workspace, "timeout_flow", check=False)
    assert done.returncode == 1
    assert not workspace.artifacts("TimeoutFlow", run_id)["successful"]
    on_kestra, local = timed_out_start(workspace, run_id), timed_out_start(workspace, local_run_id)
    assert on_kestra == local and local[1] == "written" and "Timeout" in local[0], (on_kestra, local)


_DEADLINE = r"""
import sys
from metaflow import Run, namespace
namespace(None)
task = Run(sys.argv[1])["wait"].task
exception = task.exception
print(getattr(exception, "type", type(exception).__name__) if exception else None)
print(getattr(exception, "message", str(exception)) if exception else None)
"""


def test_the_workflow_timeout_ends_a_running_task_and_metaflow_records_why(workspace, kestra_client):
    """Kestra's SLA fails the execution at the deadline, killing the running task; Metaflow records
    the task's TimeoutError, as Argo's deadline ends the pods."""
    started = time.time()
    done, run_id = run_on_kestra(workspace, "slow_flow", "--workflow-timeout", "20", "--seconds", "300",
                                 check=False)
    assert done.returncode == 1 and time.time() - started < 120, done.stdout + done.stderr
    execution = kestra_client.execution(run_id[len("kestra-"):])
    assert execution["state"]["current"] == "FAILED"
    # Ended at the deadline, not after its 300 s: KILLED, or FAILED when the step's own TimeoutError
    # (raised on Kestra's SIGTERM) ends the process before Kestra records the kill.
    assert {run["taskId"]: run["state"]["current"] for run in execution["taskRunList"]}["wait"] in ("KILLED", "FAILED")
    recorded = workspace.client(_DEADLINE, "SlowFlow/%s" % run_id)
    kind = recorded.splitlines()[0]
    assert "TimeoutError" in kind and "--workflow-timeout of 20s: Kestra ended it" in recorded, recorded


def hook_records(workspace):
    path = workspace.root / "exit-hooks.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    path.unlink(missing_ok=True)
    return records


def test_exit_hooks_run_once_after_the_run_with_its_outcome(workspace, kestra_client, monkeypatch):
    """As a local run (and Argo): the success hook after a success, the error hook after a failure,
    once each, given the run; each shows in Kestra as a task of its own."""
    flow_file = workspace.root / "exit_hook_flow.py"  # a local run finds hooks in the working directory
    flow_file.write_text(flow_path("exit_hook_flow").read_text())
    local_ok = workspace.run_locally(str(flow_file))
    workspace.flow_command(str(flow_file), "run", "--fail", "true", check=False)
    local = hook_records(workspace)
    assert [(r["hook"], r["successful"]) for r in local] == [("celebrate", True), ("raise_the_alarm", False)]
    assert local[0]["run"] == "ExitHookFlow/%s" % local_ok

    _, ok = run_on_kestra(workspace, str(flow_file))
    done, failed = run_on_kestra(workspace, str(flow_file), "--fail", "true", check=False)
    assert done.returncode == 1
    # `run --wait` returns once the hooks have run (Kestra 2.0 ends the execution before them).
    on_kestra = hook_records(workspace)
    assert on_kestra == [{"hook": "celebrate", "run": "ExitHookFlow/%s" % ok, "successful": True},
                         {"hook": "raise_the_alarm", "run": "ExitHookFlow/%s" % failed, "successful": False}]
    runs = {run["taskId"]: run["state"]["current"]
            for run in kestra_client.execution(failed[len("kestra-"):])["taskRunList"]}
    assert runs["exit-hook-error-raise_the_alarm"] == "SUCCESS"
    assert runs.get("exit-hook-success-celebrate", "SKIPPED") == "SKIPPED"

    # The Deployer API's run is running until its hook has run too, as an Argo workflow's onExit.
    from metaflow import Deployer

    monkeypatch.chdir(workspace.root)
    for key, value in workspace.env.items():
        monkeypatch.setenv(key, value)
    triggered = Deployer(str(flow_file), env=workspace.env).kestra(kestra_namespace=NAMESPACE).create().trigger(
        fail=True)
    triggered.wait_for_completion(check_interval=0.2, timeout=600)
    assert hook_records(workspace) == [{"hook": "raise_the_alarm", "run": triggered.pathspec, "successful": False}]


def test_schedule_fires(workspace, kestra_client):
    source = (workspace.root / "every_minute_flow.py")
    source.write_text(
        "from metaflow import FlowSpec, schedule, step\n\n\n@schedule(cron='* * * * *')\n"
        "class EveryMinuteFlow(FlowSpec):\n    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n\nif __name__ == '__main__':\n    EveryMinuteFlow()\n")
    before = execution_ids(kestra_client, "everyminuteflow")
    subprocess.run([sys.executable, str(source), "kestra", "--kestra-namespace", NAMESPACE, "create"],
                   env=workspace.env, cwd=workspace.root, check=True)
    try:
        revision = kestra_client.flow(NAMESPACE, "everyminuteflow")["revision"]

        def fired():  # by this deployment (an earlier one may have fired meanwhile)
            return [e for e in new_executions(kestra_client, "everyminuteflow", before)
                    if e["flowRevision"] >= revision]

        deadline = time.time() + 150
        while not fired():
            assert time.time() < deadline, "the schedule did not fire (and succeed) within 150 s"
            time.sleep(5)
        [execution] = fired()[:1]
        assert workspace.artifacts("EveryMinuteFlow", "kestra-" + execution["id"], name=str(source))["successful"]
    finally:
        # An every-minute schedule left deployed would run for the rest of the suite.
        kestra_client.delete_flow(NAMESPACE, "everyminuteflow")


def new_executions(kestra_client, flow_id, before, states=("SUCCESS",)):
    """Executions of `flow_id` in `states` that were not there `before` (the server keeps its state)."""
    return [e for e in kestra_client.search_executions(NAMESPACE, flow_id, states=list(states))
            if e["id"] not in before]


def execution_ids(kestra_client, flow_id):
    return {e["id"] for e in kestra_client.search_executions(NAMESPACE, flow_id, size=1000)}


def wait_for_new_execution(kestra_client, flow_id, before, timeout=300):
    deadline = time.time() + timeout
    while True:
        executions = new_executions(kestra_client, flow_id, before)
        if executions:
            return executions[0]
        assert time.time() < deadline, "no new successful execution of %s within %d s" % (flow_id, timeout)
        time.sleep(3)


def test_an_event_starts_the_flow_with_mapped_parameters(workspace, kestra_client):
    before = execution_ids(kestra_client, "oneeventflow")
    kestra(workspace, "one_event_flow", "create")
    kestra(workspace, "one_event_flow", "send-event", "data.ready", "--payload",
           '{"table_name": "{{ sales }}", "other": 1}')
    run_id = "kestra-" + wait_for_new_execution(kestra_client, "oneeventflow", before)["id"]
    run = workspace.artifacts("OneEventFlow", run_id)["steps"]
    start, end = dict(run["start"][0]), dict(run["end"][0])
    assert start["seen_table"] == repr("{{ sales }}")
    # current.trigger in every step, as on Argo: the event's name, id and time.
    assert start["start_trigger"] == end["end_trigger"] == repr([("data.ready", True, "datetime", "event")])


def test_an_event_published_from_python_starts_the_flow_and_its_name_is_no_key(workspace, kestra_client,
                                                                                 kestra_server):
    import requests

    from metaflow_kestra.events import KestraEvent

    before = execution_ids(kestra_client, "oneeventflow")
    kestra(workspace, "one_event_flow", "create")
    guessed = requests.post(kestra_server.url + "/api/v1/main/executions/webhook/%s/oneeventflow/data.ready"
                            % NAMESPACE, json={"table_name": "guessed"}, timeout=30)
    assert guessed.status_code == 404, guessed.text  # the event's name opens nothing
    event = KestraEvent("data.ready", kestra_host=kestra_server.url, kestra_user=kestra_server.username,
                        kestra_password=kestra_server.password)
    event.add_to_payload("table_name", "from python")
    assert ("metaflow.tests", "oneeventflow") in event.publish()
    run_id = "kestra-" + wait_for_new_execution(kestra_client, "oneeventflow", before)["id"]
    start = dict(workspace.artifacts("OneEventFlow", run_id)["steps"]["start"][0])
    assert start["seen_table"] == repr("from python")
    assert start["start_trigger"] == repr([("data.ready", True, "datetime", "event")])


RECEIVERS = {"data.ready": "eventflow.event-data.ready", "model.retrain": "eventflow.event-model.retrain"}


def _received(kestra_client, event, before):
    """Wait until the receiver flow of `event` has kept a payload not seen `before`, then give
    Kestra's Flow trigger the time it takes to start the flow if it would."""
    execution = wait_for_new_execution(kestra_client, RECEIVERS[event], before[event], timeout=120)
    before[event].add(execution["id"])
    time.sleep(8)


def test_a_flow_of_two_events_starts_once_both_have_arrived(workspace, kestra_client, kestra_server):
    import requests

    from metaflow_kestra.events import KestraEvent

    seen = {event: execution_ids(kestra_client, receiver) for event, receiver in RECEIVERS.items()}
    before = execution_ids(kestra_client, "eventflow")
    kestra(workspace, "event_flow", "create")
    for receiver in RECEIVERS.values():
        guessed = requests.post(kestra_server.url + "/api/v1/main/executions/webhook/%s/%s/%s"
                                % (NAMESPACE, receiver, receiver.rsplit("-", 1)[0]), json={}, timeout=30)
        assert guessed.status_code == 404, guessed.text
    kestra(workspace, "event_flow", "send-event", "data.ready", "--payload", '{"table_name": "{{ sales }}"}')
    _received(kestra_client, "data.ready", seen)
    assert new_executions(kestra_client, "eventflow", before, states=()) == []  # one of two: no run
    published = KestraEvent("model.retrain", {"table_name": "not mapped from this event"},
                            kestra_host=kestra_server.url, kestra_user=kestra_server.username,
                            kestra_password=kestra_server.password).publish()
    assert published == [(NAMESPACE, "eventflow")]
    execution = wait_for_new_execution(kestra_client, "eventflow", before)
    run = workspace.artifacts("EventFlow", "kestra-" + execution["id"])["steps"]
    start, end = dict(run["start"][0]), dict(run["end"][0])
    assert start["seen_table"] == repr("{{ sales }}")  # data.ready's mapping, from data.ready's payload
    assert start["start_trigger"] == end["end_trigger"] == repr(  # Metaflow lists the latest first
        [("model.retrain", True, "datetime", "event"), ("data.ready", True, "datetime", "event")])
    # Firing resets the wait: the second event alone again starts nothing, the first then does.
    before.add(execution["id"])
    kestra(workspace, "event_flow", "send-event", "model.retrain")
    _received(kestra_client, "model.retrain", seen)
    assert new_executions(kestra_client, "eventflow", before, states=()) == []
    kestra(workspace, "event_flow", "send-event", "data.ready", "--payload", '{"table_name": "second"}')
    again = wait_for_new_execution(kestra_client, "eventflow", before)
    assert dict(workspace.artifacts("EventFlow", "kestra-" + again["id"])["steps"]["start"][0])[
        "seen_table"] == repr("second")
    # A run started by hand reads no event, though the receivers keep the last payloads.
    done, run_id = run_on_kestra(workspace, "event_flow")
    assert dict(workspace.artifacts("EventFlow", run_id)["steps"]["start"][0])["start_trigger"] == "None"
    kestra(workspace, "event_flow", "delete")
    left = {flow["id"] for flow in kestra_client.search_flows(NAMESPACE)}
    assert not left & ({"eventflow"} | set(RECEIVERS.values()))


def test_finishing_the_upstream_starts_the_downstream(workspace, kestra_client):
    before = execution_ids(kestra_client, "downstreamflow")
    kestra(workspace, "downstream_flow", "create")
    _, upstream = run_on_kestra(workspace, "linear_flow")
    execution = wait_for_new_execution(kestra_client, "downstreamflow", before)
    start = dict(workspace.artifacts("DownstreamFlow", "kestra-" + execution["id"])["steps"]["start"][0])
    assert start["upstream"] == repr("LinearFlow/%s" % upstream)  # current.trigger.run


def test_the_event_triggered_example_pair_runs(workspace, kestra_client):
    before = execution_ids(kestra_client, "trainoningestflow")
    kestra(workspace, "train_on_ingest_flow", "create")
    kestra(workspace, "ingest_flow", "create")
    kestra(workspace, "ingest_flow", "send-event", "data.arrived", "--payload", '{"path": "s3://bucket/day=1"}')
    execution = wait_for_new_execution(kestra_client, "trainoningestflow", before)
    start = dict(workspace.artifacts("TrainOnIngestFlow", "kestra-" + execution["id"],
                                     name="train_on_ingest_flow")["steps"]["start"][0])
    assert start["rows"] == "170"


@pytest.mark.parametrize("top_level,flow_id,branch", [
    ((), "demo.user.tester.projectflow", "user.tester"),
    (("--branch", "feature_x"), "demo.test.feature_x.projectflow", "test.feature_x"),
    (("--production",), "demo.prod.projectflow", "prod"),
])
def test_project_branches_run_side_by_side(workspace, kestra_client, top_level, flow_id, branch):
    _, run_id = run_on_kestra(workspace, "project_flow", top_level=top_level)
    assert kestra_client.execution(run_id[len("kestra-"):])["flowId"] == flow_id
    start = dict(workspace.artifacts("ProjectFlow", run_id)["steps"]["start"][0])
    assert start["branch"] == repr(branch)


def test_a_branch_deploys_beside_production(workspace, kestra_client):
    kestra(workspace, "project_flow", "create", top_level=("--production",))
    before = kestra_client.flow(NAMESPACE, "demo.prod.projectflow")["revision"]
    kestra(workspace, "project_flow", "create", top_level=("--branch", "feature_x"))
    assert kestra_client.flow(NAMESPACE, "demo.test.feature_x.projectflow")
    assert kestra_client.flow(NAMESPACE, "demo.prod.projectflow")["revision"] == before
