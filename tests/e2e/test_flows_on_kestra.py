"""Every graph shape and parameter type on the real local Kestra: `kestra run --wait` leaves a local run's artifacts."""

import ast

import pytest

from metaflow_kestra.client import KestraApiError
from tests.shapes import SHAPES, TRICKY
from tests.kestra_logs import log_text

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"


def run_on_kestra(workspace, name, *params, check=True, top_level=()):
    run_id_file = workspace.root / ("%s.kestra-run-id" % name)
    done = workspace.flow_command(
        name, *top_level, "kestra", "--kestra-namespace", NAMESPACE, "run", "--wait",
        "--run-id-file", str(run_id_file), *params, check=check,
    )
    return done, run_id_file.read_text().strip() if run_id_file.exists() else None


@pytest.mark.parametrize("name,flow_name,params", SHAPES, ids=lambda v: v if isinstance(v, str) else None)
def test_shape_on_kestra_matches_a_local_run(workspace, name, flow_name, params):
    cli_params = [arg for key, value in params for arg in ("--%s" % key, value)]
    local = workspace.artifacts(flow_name, workspace.run_locally(name, *cli_params))
    _, run_id = run_on_kestra(workspace, name, *cli_params)
    assert run_id.startswith("kestra-")
    on_kestra = workspace.artifacts(flow_name, run_id)
    assert on_kestra["successful"]
    assert on_kestra["steps"] == local["steps"]


def test_failing_step_fails_the_execution_and_stops_there(workspace, kestra_client):
    done, run_id = run_on_kestra(workspace, "failing_flow", check=False)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    assert run_id and not workspace.artifacts("FailingFlow", run_id)["successful"]
    execution = kestra_client.execution(run_id[len("kestra-"):])
    assert execution["state"]["current"] == "FAILED"
    assert [run["taskId"] for run in execution["taskRunList"]] == ["start", "boom"]
    logs = log_text(kestra_client, execution["id"], task_id="boom", expecting="this step fails on purpose")
    assert "this step fails on purpose" in logs


def seen(workspace, run_id):
    start = workspace.artifacts("ParamsFlow", run_id)["steps"]["start"][0]
    return ast.literal_eval(dict(start)["seen"])


def test_tricky_values_of_every_type_round_trip_exactly(workspace):
    _, run_id = run_on_kestra(workspace, "params_flow", "--text", TRICKY, "--count", "42", "--ratio", "0.25",
                              "--flag", "true", "--config", '{"a": "{{ b }}", "n": [1, 2.5, null]}',
                              "--needed", "{% endraw %}")
    assert seen(workspace, run_id) == {"text": TRICKY, "count": 42, "ratio": 0.25, "flag": True,
                                       "config": {"a": "{{ b }}", "n": [1, 2.5, None]}, "needed": "{% endraw %}"}


def test_defaults_apply_literally_and_match_a_local_run(workspace):
    local = workspace.run_locally("params_flow", "--needed", "x")
    _, on_kestra = run_on_kestra(workspace, "params_flow", "--needed", "x")
    assert seen(workspace, on_kestra) == seen(workspace, local)
    assert seen(workspace, on_kestra)["text"] == "{{ execution.id }} {% raw %}"


def test_kestra_refuses_an_execution_without_a_required_parameter(workspace, kestra_client):
    workspace.flow_command("params_flow", "kestra", "--kestra-namespace", NAMESPACE, "create")
    before = {e["id"] for e in kestra_client.search_executions(NAMESPACE, "paramsflow", size=1000)}
    with pytest.raises(KestraApiError, match="required") as refused:
        kestra_client.trigger(NAMESPACE, "paramsflow", inputs={})
    assert refused.value.status_code == 422
    assert {e["id"] for e in kestra_client.search_executions(NAMESPACE, "paramsflow", size=1000)} == before
