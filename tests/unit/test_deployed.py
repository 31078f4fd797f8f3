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


def test_the_deployer_classes_and_their_one_error_import_from_the_package():
    """Issue 27, item 6: no documented import path, and from_deployment raised KestraApiError or
    KestraError, which were not the Deployer's error."""
    import subprocess
    import sys

    import pytest

    import metaflow_kestra
    from metaflow_kestra.errors import KestraError

    assert metaflow_kestra.KestraDeployedFlow.__name__ == "KestraDeployedFlow"
    assert issubclass(metaflow_kestra.KestraDeployerError, RuntimeError)
    assert issubclass(metaflow_kestra.KestraDeployerError, KestraError)
    with pytest.raises(metaflow_kestra.KestraDeployerError, match="Cannot reach Kestra at http://127.0.0.1:9"):
        metaflow_kestra.KestraDeployedFlow.from_deployment("team/none", kestra_host="http://127.0.0.1:9")
    light = subprocess.run([sys.executable, "-c", "import sys, metaflow_kestra; print('metaflow' in sys.modules)"],
                           capture_output=True, text=True)
    assert light.stdout.strip() == "False", "a worker importing the package must not import Metaflow"
