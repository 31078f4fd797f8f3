"""`--with` decorators reach every step on Kestra, as Argo passes them: each behaves in the task
as in a local `run --with ...` (retry, catch, card, timeout, environment)."""

import json

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0

WITH = ["--with", "retry:times=1,minutes_between_retries=0", "--with", "catch:var=failure", "--with", "card",
        "--with", "timeout:seconds=5", "--with", 'environment:vars={"GREETING": "hi there"}']

_SEEN = r"""
import json, sys
from metaflow import Run, namespace
from metaflow.cards import get_cards
namespace(None)
run = Run(sys.argv[1])
steps = {}
for step in run:
    task = step.task
    data = task.data
    failure = getattr(data, "failure", None)
    steps[step.id] = {
        "attempt": task.current_attempt,
        "cards": len(get_cards(task)),
        "failure": getattr(failure, "type", None) if failure is not None else None,
        "values": {name: getattr(data, name, None) for name in ("greeting", "attempt", "before_failure", "finished")},
    }
print(json.dumps({"successful": run.successful, "steps": steps}))
"""


def seen(workspace, pathspec):
    return json.loads(workspace.client(_SEEN, pathspec))


def test_with_decorators_behave_in_each_task_as_in_a_local_run(workspace, kestra_client):
    local = seen(workspace, "UndecoratedFlow/" + workspace.run_locally_with(WITH, "undecorated_flow"))
    _, run_id = run_on_kestra(workspace, "undecorated_flow", top_level=WITH)
    assert local["successful"] and local["steps"]["slow"]["failure"] and local["steps"]["flaky"]["attempt"] == 1
    assert all(step["cards"] == 1 for step in local["steps"].values())
    if kestra_client.kestra_major() >= 2 and _retried_twice(kestra_client, run_id):
        # Seen on Kestra 2.0.0's engine with any @retry (not only --with): a failed attempt's retry
        # also starts a second task run of the step, and the execution can end before a later
        # step's retries ran. Not ours to fix in the task; tracked in the closing note of issue 24.
        pytest.xfail("Kestra 2.0.0 started a retried step twice (duplicate task run)")
    on_kestra = seen(workspace, "UndecoratedFlow/" + run_id)
    assert on_kestra == local


def _retried_twice(client, run_id):
    runs = client.execution(run_id[len("kestra-"):]).get("taskRunList") or []
    step_ids = [run["taskId"] for run in runs]
    return len(step_ids) != len(set(step_ids))
