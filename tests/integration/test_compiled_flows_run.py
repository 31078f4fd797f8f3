"""Every graph shape, compiled and run by the stand-in engine, leaves a local run's artifacts.

This exercises compiler, YAML, runtime and input-path logic together on this
machine; the same checks against the real Kestra live in tests/e2e.
"""

import itertools

import pytest

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

SHAPES = [
    ("linear_flow", "LinearFlow", []),
    ("split_flow", "SplitFlow", []),
    ("foreach_flow", "ForeachFlow", []),
    ("nested_foreach_flow", "NestedForeachFlow", []),
    ("split_in_foreach_flow", "SplitInForeachFlow", []),
    ("foreach_in_split_flow", "ForeachInSplitFlow", []),
    ("switch_flow", "SwitchFlow", []),
    ("switch_flow", "SwitchFlow", [("level", "low")]),
    ("switch_skip_flow", "SwitchSkipFlow", []),
    ("switch_skip_flow", "SwitchSkipFlow", [("mode", "careful")]),
    ("switch_in_foreach_flow", "SwitchInForeachFlow", []),
    ("recursive_flow", "RecursiveFlow", []),
    ("custom_class_flow", "CustomClassFlow", []),
    ("quickstart_flow", "QuickstartFlow", [("scale", "5"), ("label", "{{ not a template }}")]),
]
_executions = itertools.count(1)


def run_on_standin(workspace, name, params):
    text = workspace.compile(name)
    execution_id = "standin%d" % next(_executions)
    engine = StandinEngine(text, execution_id, inputs=dict(params), environ=workspace.env)
    state = engine.run()
    assert state == "SUCCESS", "\n".join(engine.logs)
    return "kestra-" + execution_id, engine


@pytest.mark.parametrize("name,flow_name,params", SHAPES, ids=lambda v: v if isinstance(v, str) else None)
def test_shape_matches_a_local_run(tmp_path, name, flow_name, params):
    workspace = FlowWorkspace(tmp_path)
    cli_params = [arg for key, value in params for arg in ("--%s" % key, value)]
    local = workspace.artifacts(flow_name, workspace.run_locally(name, *cli_params))
    run_id, _ = run_on_standin(workspace, name, params)
    on_kestra = workspace.artifacts(flow_name, run_id)
    assert on_kestra["successful"]
    assert on_kestra["steps"] == local["steps"]


def test_a_failing_step_fails_the_execution_and_stops_there(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    engine = StandinEngine(workspace.compile("failing_flow"), "standin-fail", environ=workspace.env)
    assert engine.run() == "FAILED"
    assert "this step fails on purpose" in "\n".join(engine.logs)
    assert [run.task_id for run in engine.task_runs] == ["start", "boom"]


def test_an_invalid_graph_is_refused_by_metaflows_checks_before_compiling(tmp_path):
    done = FlowWorkspace(tmp_path).flow_command("dead_end_flow", "kestra", "compile", "-", check=False)
    assert done.returncode != 0
    assert "middle" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
