"""The task-side pieces that do not need Metaflow to run a step."""

import json

from metaflow_kestra.executions import trigger_inputs
from metaflow_kestra.parameters import init_environment
from metaflow_kestra.runtime import index_path_from, outputs_line
from tests.flow_loading import load_flow


def test_index_path_comes_from_foreach_items_outermost_first():
    # Kestra lists parents closest first; a Switch parent has outputs but no value.
    parents = [{"outputs": {"value": "odd"}}, {"taskrun": {"value": "2"}}, {"taskrun": {"value": "0"}}]
    assert index_path_from(json.dumps(parents), "5") == (0, 2, 5)
    assert index_path_from(json.dumps(parents), None) == (0, 2)
    assert index_path_from(None, None) == ()


def test_the_branch_wrapper_item_is_not_an_index():
    assert index_path_from(json.dumps([{"taskrun": {"value": "3"}}]), "branch") == (3,)


def test_outputs_use_kestras_stdout_protocol():
    line = outputs_line({"a": [1]})
    assert line.startswith("::") and line.endswith("::")
    assert json.loads(line[2:-2]) == {"outputs": {"a": [1]}}


def test_input_values_become_init_environment_variables():
    kinds = {"text": "STRING", "n": "INT", "on": "BOOL", "cfg": "JSON", "x-y": "FLOAT", "unset": "STRING"}
    env = init_environment(kinds, {"text": "a\n{{b}}", "n": 3, "on": True, "cfg": {"k": 1}, "x-y": 2,
                                   "unset": None})
    assert env == {"METAFLOW_INIT_TEXT": "a\n{{b}}", "METAFLOW_INIT_N": "3", "METAFLOW_INIT_ON": "true",
                   "METAFLOW_INIT_CFG": '{"k": 1}', "METAFLOW_INIT_X_Y": "2.0"}


def test_trigger_options_become_kestra_input_fields():
    flow = load_flow("params_flow")
    fields = trigger_inputs(flow, {"text": "t", "count": 7, "flag": True, "config": {"a": 1}, "ratio": None})
    assert fields == {"text": "t", "count": "7", "flag": "true", "config": '{"a": 1}'}


def test_a_deployment_from_another_version_runs_when_its_format_is_known():
    import json

    import pytest

    from metaflow_kestra import __version__
    from metaflow_kestra.deployment import DEPLOYMENT_FORMAT, Deployment
    from metaflow_kestra.errors import KestraError

    written = json.loads(Deployment(flow_name="F", flow_file="f.py").to_json())
    assert written["written_by"] == __version__ and written["format"] == DEPLOYMENT_FORMAT
    newer_but_compatible = dict(written, written_by="9.9.9", some_future_field={"x": 1})
    assert Deployment.from_json(json.dumps(newer_but_compatible)).flow_name == "F"
    older = {"flow_name": "F", "flow_file": "f.py"}  # before the format existed: raw, not base64, values
    with pytest.raises(KestraError, match="before 0.1.0 .deployment format 0."):
        Deployment.from_json(json.dumps(older))
    incompatible = dict(written, written_by="9.9.9", format=DEPLOYMENT_FORMAT + 1)
    with pytest.raises(KestraError) as refused:
        Deployment.from_json(json.dumps(incompatible))
    assert "9.9.9" in str(refused.value) and __version__ in str(refused.value)


def test_a_worker_that_cannot_run_the_deployment_says_so_in_one_line(capsys):
    import json

    from metaflow_kestra.deployment import DEPLOYMENT_FORMAT, Deployment
    from metaflow_kestra.runtime import ENV_DEPLOYMENT, main

    newer = dict(json.loads(Deployment(flow_name="F", flow_file="f.py").to_json()), written_by="9.9.9",
                 format=DEPLOYMENT_FORMAT + 1)
    assert main({ENV_DEPLOYMENT: json.dumps(newer)}) == 1
    error = capsys.readouterr().err
    assert error.startswith("metaflow-kestra: This flow was deployed by metaflow-kestra 9.9.9") and "Traceback" not in error


def test_frozen_configs_go_in_the_task_working_directory(tmp_path, monkeypatch):
    """Kestra removes a task's working directory; a file in /tmp would outlive the task."""
    from metaflow_kestra.deployment import Deployment
    from metaflow_kestra.step_runner import StepRunner

    monkeypatch.chdir(tmp_path)
    deployment = Deployment(flow_name="F", flow_file="f.py", configs={"cfg": ["kv", "{}"]})
    runner = StepRunner(deployment, {}, "exec1", [], "f.py")
    options = runner._top_level()
    config_file = options[options.index("--local-config-file") + 1]
    assert config_file == str(tmp_path / "metaflow-kestra-configs.json") and (tmp_path / config_file).exists()


class _FinishedRun:
    """A run in which every task asked about finished successfully (Metaflow's `_task_ok`)."""

    def finished(self, pathspecs):
        return set(pathspecs)

    def next_attempt(self, pathspec):
        return 1

    def task(self, pathspec):
        return {"x": 1, "_task_ok": True}


class _Runner:
    def __init__(self):
        self.calls = []

    def step(self, *args, **kwargs):
        self.calls.append(("step", args))

    def clone(self, *args, **kwargs):
        self.calls.append(("clone", args))

    def init(self, *args, **kwargs):
        self.calls.append(("init", args))


def test_a_task_kestra_submits_again_after_it_finished_does_not_run_the_step_again():
    # Kestra 1.3 can resubmit a task run whose worker died after the task ended (the server
    # killed just after its result reached the executor): the step ran and must not run twice.
    from metaflow_kestra import runtime
    from metaflow_kestra.deployment import Deployment
    from metaflow_kestra.structure import build_structure
    from metaflow_kestra.task_spec import task_specs
    from tests.flow_loading import load_graph

    graph = load_graph("linear_flow")
    spec = task_specs(graph, build_structure(graph, "linear_flow"))["end"]
    environ = {runtime.ENV_DEPLOYMENT: Deployment(flow_name="LinearFlow", flow_file="f.py").to_json(),
               runtime.ENV_STEP: spec.to_json(), runtime.ENV_EXECUTION_ID: "abc"}
    runner, emitted = _Runner(), []
    runtime.run_task(environ, state=_FinishedRun(), runner=runner, emit=emitted.append)
    assert runner.calls == []
    [line] = emitted
    assert json.loads(line[2:-2])["outputs"]["pathspec"] == "LinearFlow/kestra-abc/end/end"
