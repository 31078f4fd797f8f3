"""Metaflow decorators and triggers on the real local Kestra."""

import subprocess
import sys
import time

import pytest

from tests.conftest import E2E_SECRET_VALUE
from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = pytest.mark.e2e
NAMESPACE = "metaflow.tests"

_ATTEMPTS = r"""
import sys
from metaflow import Task, namespace
namespace(None)
print(Task(sys.argv[1]).current_attempt)
"""


def kestra(workspace, name, *args, top_level=(), check=True):
    return workspace.flow_command(name, *top_level, "kestra", "--kestra-namespace", NAMESPACE, *args, check=check)


def test_retry_catch_environment_secrets_and_cards(workspace, kestra_client):
    done, run_id = run_on_kestra(workspace, "decorated_flow")
    run = workspace.artifacts("DecoratedFlow", run_id)
    assert run["successful"]
    attempt = subprocess.run([sys.executable, "-c", _ATTEMPTS, "DecoratedFlow/%s/start/start" % run_id],
                             env=workspace.env, capture_output=True, text=True)
    assert attempt.stdout.strip() == "1"
    configured = dict(run["steps"]["configured"][0])
    assert configured["greeting"] == repr("hello {{ world }} {% raw %}")
    assert configured["token_length"] == str(len(E2E_SECRET_VALUE))
    execution = kestra_client.execution(run_id[len("kestra-"):])
    logs = kestra_client.logs(execution["id"])
    assert E2E_SECRET_VALUE not in repr(execution) + repr(logs)


def test_a_step_past_its_timeout_fails(workspace):
    done, run_id = run_on_kestra(workspace, "timeout_flow", check=False)
    assert done.returncode == 1


def test_schedule_fires(workspace, kestra_client):
    source = (workspace.root / "every_minute_flow.py")
    source.write_text(
        "from metaflow import FlowSpec, schedule, step\n\n\n@schedule(cron='* * * * *')\n"
        "class EveryMinuteFlow(FlowSpec):\n    @step\n    def start(self):\n        self.next(self.end)\n\n"
        "    @step\n    def end(self):\n        pass\n\n\nif __name__ == '__main__':\n    EveryMinuteFlow()\n")
    subprocess.run([sys.executable, str(source), "kestra", "--kestra-namespace", NAMESPACE, "create"],
                   env=workspace.env, cwd=workspace.root, check=True)
    deadline = time.time() + 150
    while not kestra_client.search_executions(NAMESPACE, "everyminuteflow"):
        assert time.time() < deadline, "the schedule did not fire within 150 s"
        time.sleep(5)


def new_executions(kestra_client, flow_id, before, states=("SUCCESS",)):
    """Executions of `flow_id` in `states` that were not there `before` (the server keeps its state)."""
    return [e for e in kestra_client.search_executions(NAMESPACE, flow_id, states=list(states))
            if e["id"] not in before]


def execution_ids(kestra_client, flow_id):
    return {e["id"] for e in kestra_client.search_executions(NAMESPACE, flow_id, size=1000)}


def test_an_event_starts_the_flow_with_mapped_parameters(workspace, kestra_client):
    before = execution_ids(kestra_client, "eventflow")
    kestra(workspace, "event_flow", "create")
    kestra(workspace, "event_flow", "send-event", "data.ready", "--payload", '{"table_name": "sales"}')
    deadline = time.time() + 300
    while True:
        executions = new_executions(kestra_client, "eventflow", before)
        if executions:
            break
        assert time.time() < deadline
        time.sleep(3)
    run_id = "kestra-" + executions[0]["id"]
    start = dict(workspace.artifacts("EventFlow", run_id)["steps"]["start"][0])
    assert start["seen_table"] == repr("sales")


def test_finishing_the_upstream_starts_the_downstream(workspace, kestra_client):
    before = execution_ids(kestra_client, "downstreamflow")
    kestra(workspace, "downstream_flow", "create")
    _, upstream = run_on_kestra(workspace, "linear_flow")
    deadline = time.time() + 300
    while not new_executions(kestra_client, "downstreamflow", before):
        assert time.time() < deadline
        time.sleep(3)
    [execution] = new_executions(kestra_client, "downstreamflow", before)[:1]
    start = dict(workspace.artifacts("DownstreamFlow", "kestra-" + execution["id"])["steps"]["start"][0])
    assert start["upstream"] == repr("LinearFlow/%s" % upstream)


def test_a_branch_deploys_beside_production(workspace, kestra_client):
    kestra(workspace, "project_flow", "create", top_level=("--production",))
    before = kestra_client.flow(NAMESPACE, "demo.prod.projectflow")["revision"]
    kestra(workspace, "project_flow", "create", top_level=("--branch", "feature_x"))
    assert kestra_client.flow(NAMESPACE, "demo.test.feature_x.projectflow")
    assert kestra_client.flow(NAMESPACE, "demo.prod.projectflow")["revision"] == before
