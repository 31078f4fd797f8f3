"""`from_deployment` rebuilds a flow file from what Kestra stores, without running user strings."""

import ast

import pytest

from metaflow_kestra.deployed import describe_deployment, stand_in_flow_source
from metaflow_kestra.deployment import Deployment
from metaflow_kestra.errors import KestraError

HOSTILE_HELP = "'''); import os; os.system('echo pwned') #\n\"\"\" {{ x }}"


def flow_json():
    deployment = Deployment(flow_name="TrainFlow", flow_file="/x.py",
                            environment_variables={"METAFLOW_USER": "ana"})
    return {
        "namespace": "team", "id": "trainflow",
        "variables": {"metaflow_deployment": deployment.to_json()},
        "inputs": [
            {"id": "alpha", "type": "FLOAT", "description": HOSTILE_HELP, "required": False},
            {"id": "cfg", "type": "JSON", "required": True},
        ],
    }


def test_description_reads_the_deployment_and_inputs():
    description = describe_deployment(flow_json())
    assert (description.flow_name, description.user) == ("TrainFlow", "ana")
    assert [(p.name, p.type, p.required) for p in description.parameters] == [
        ("alpha", "FLOAT", False), ("cfg", "JSON", True)]


def test_stand_in_source_keeps_help_text_as_data():
    source = stand_in_flow_source(describe_deployment(flow_json()))
    tree = ast.parse(source)
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and getattr(node.func, "id", "") == "Parameter"]
    helps = [kw.value.value for call in calls for kw in call.keywords if kw.arg == "help"]
    assert helps == [HOSTILE_HELP, ""]
    assert not any(isinstance(node, ast.Import) and node.names[0].name == "os" for node in ast.walk(tree))


def test_a_flow_not_deployed_by_us_is_refused():
    with pytest.raises(KestraError, match="not deployed by metaflow-kestra"):
        describe_deployment({"namespace": "a", "id": "b", "variables": {}})
