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


def test_deployer_credentials_never_reach_the_command_line(tmp_path, monkeypatch):
    """Every user of the machine can read a process's arguments (`ps`); only its owner can read
    its environment (issue 26, finding 4)."""
    import pytest
    from metaflow import Deployer

    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraDeployerError

    workspace = FlowWorkspace(tmp_path)
    monkeypatch.chdir(tmp_path)
    password, token = "pw-5e1d0c3a-not-in-ps", "tok-9b7f2e11-not-in-ps"
    deployer = Deployer(str(flow_path("linear_flow")), env=workspace.env).kestra(
        kestra_host="http://127.0.0.1:9", kestra_user="someone", kestra_password=password, kestra_token=token)
    with pytest.raises(KestraDeployerError, match="Cannot reach Kestra at http://127.0.0.1:9"):
        deployer.create()
    [command] = [deployer.spm.get(pid) for pid in deployer.spm.commands]
    assert command.command and not any(password in part or token in part for part in command.command)
    assert command.env["METAFLOW_KESTRA_PASSWORD"] == password and command.env["METAFLOW_KESTRA_TOKEN"] == token
    assert "someone" in command.command  # what is not a secret stays an option
