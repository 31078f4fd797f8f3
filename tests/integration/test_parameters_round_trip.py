"""Parameter values reach the step exactly as the user gave them (stand-in engine)."""

import ast
import itertools

import pytest

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

TRICKY = "it's \"quoted\" '''triple''' back\\slash\nnew line {{ execution.id }} {% if x %}{# c #} ✓"
_ids = itertools.count(1)


def seen(workspace, run_id):
    start = workspace.artifacts("ParamsFlow", run_id)["steps"]["start"][0]
    return ast.literal_eval(dict(start)["seen"])


def run_compiled(workspace, fields):
    execution = "params%d" % next(_ids)
    engine = StandinEngine(workspace.compile("params_flow"), execution, inputs=fields, environ=workspace.env)
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    return "kestra-" + execution


def test_tricky_values_round_trip_exactly(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    fields = {"text": TRICKY, "count": "42", "ratio": "0.25", "flag": "true",
              "config": '{"a": "{{ b }}", "n": [1, 2.5, null]}', "needed": "{% endraw %}"}
    values = seen(workspace, run_compiled(workspace, fields))
    assert values == {"text": TRICKY, "count": 42, "ratio": 0.25, "flag": True,
                      "config": {"a": "{{ b }}", "n": [1, 2.5, None]}, "needed": "{% endraw %}"}


def test_defaults_apply_literally_and_match_a_local_run(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    local = workspace.run_locally("params_flow", "--needed", "x")
    on_kestra = run_compiled(workspace, {"needed": "x"})
    assert seen(workspace, on_kestra) == seen(workspace, local)
    assert seen(workspace, on_kestra)["text"] == "{{ execution.id }} {% raw %}"


def test_a_required_parameter_is_a_required_input(tmp_path):
    from metaflow_kestra import yaml_out

    inputs = {i["id"]: i for i in yaml_out.load(FlowWorkspace(tmp_path).compile("params_flow"))["inputs"]}
    assert inputs["needed"]["required"] is True and "defaults" not in inputs["needed"]
    assert [inputs[n]["type"] for n in ("text", "count", "ratio", "flag", "config")] == \
        ["STRING", "INT", "FLOAT", "BOOLEAN", "JSON"]
    assert inputs["text"]["description"] == "Any string at all"
    with pytest.raises(Exception, match="required"):
        StandinEngine(FlowWorkspace(tmp_path).compile("params_flow"), "x", inputs={})
