"""Every graph shape on the real local Kestra: `kestra run --wait` leaves a local run's artifacts."""

import pytest

from tests.integration.test_compiled_flows_run import SHAPES
from tests.integration.test_parameters_round_trip import TRICKY

pytestmark = pytest.mark.e2e


def run_on_kestra(workspace, name, *params, check=True):
    run_id_file = workspace.root / ("%s.kestra-run-id" % name)
    done = workspace.flow_command(
        name, "kestra", "--kestra-namespace", "metaflow.tests", "run", "--wait",
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


def test_failing_step_makes_run_wait_exit_non_zero(workspace):
    done, run_id = run_on_kestra(workspace, "failing_flow", check=False)
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr
    assert run_id and not workspace.artifacts("FailingFlow", run_id)["successful"]


def test_tricky_parameter_values_round_trip(workspace):
    import ast

    _, run_id = run_on_kestra(workspace, "params_flow", "--text", TRICKY, "--needed", "{% endraw %}",
                              "--config", '{"a": "{{ b }}"}')
    start = dict(workspace.artifacts("ParamsFlow", run_id)["steps"]["start"][0])
    seen = ast.literal_eval(start["seen"])
    assert seen["text"] == TRICKY and seen["needed"] == "{% endraw %}" and seen["config"] == {"a": "{{ b }}"}
