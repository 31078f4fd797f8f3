"""Parameters become typed Kestra inputs; a required one is a required input.

That values reach the step exactly as the user gave them is checked on the real Kestra
(tests/e2e/test_flows_on_kestra.py, tests/e2e/test_hostile_strings_on_kestra.py).
"""

import yaml
from tests.flow_runs import FlowWorkspace


def test_a_required_parameter_is_a_required_input(tmp_path):
    inputs = {i["id"]: i for i in yaml.safe_load(FlowWorkspace(tmp_path).compile("params_flow"))["inputs"]}
    assert inputs["needed"]["required"] is True and "defaults" not in inputs["needed"]
    assert [inputs[n]["type"] for n in ("text", "count", "ratio", "flag", "config")] == \
        ["STRING", "INT", "FLOAT", "BOOL", "JSON"]  # BOOLEAN is deprecated in Kestra 1.3, gone in 2.0
    assert inputs["text"]["description"] == "Any string at all"
