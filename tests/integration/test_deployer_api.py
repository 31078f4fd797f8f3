"""Metaflow's Deployer API finds our provider (compile only; the server round trip is in tests/e2e)."""

from tests.flow_loading import flow_path
from tests.flow_runs import FlowWorkspace

def test_create_only_json_returns_a_kestra_deployed_flow_with_its_yaml(tmp_path, monkeypatch):
    from metaflow import Deployer

    workspace = FlowWorkspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    deployer = Deployer(str(flow_path("params_flow")), env=workspace.env).kestra(kestra_namespace="team.ml")
    deployed = deployer.create(only_json=True, max_workers=4)
    assert type(deployed).__name__ == "KestraDeployedFlow"
    assert deployed.deployer.name == "team.ml/paramsflow"
    assert deployed.deployer.flow_name == "ParamsFlow"
    assert "concurrencyLimit" not in deployed.flow_yaml  # no foreach in this flow
    assert "id: paramsflow" in deployed.flow_yaml and "namespace: team.ml" in deployed.flow_yaml


def test_status_of_a_run_on_a_server_that_is_down_says_so():
    """A None status would make wait_for_completion() return at once, as if the run had ended."""
    import json
    import types

    import pytest

    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraTriggeredRun
    from metaflow_kestra.errors import KestraError

    deployer = types.SimpleNamespace(deployer_kwargs={"kestra_host": "http://127.0.0.1:9"})
    run = KestraTriggeredRun(deployer, json.dumps({"pathspec": "LinearFlow/kestra-abc", "name": "ns/linearflow"}))
    with pytest.raises(KestraError, match="Cannot reach Kestra at http://127.0.0.1:9"):
        run.wait_for_completion(check_interval=0.1, timeout=5)
