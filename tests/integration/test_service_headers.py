"""A flow deployed with --metadata=service: its tasks get the service's headers from a Kestra
secret, never from the YAML, and decode them before Metaflow reads its configuration.

Not run end to end: no published Metaflow metadata service that runs here keeps the run ids a
scheduler gives (metaflow-local-service 0.2.0 assigns its own to every run and task it creates).
"""

import base64
import json

import yaml

from metaflow_kestra.warm_start import SERVICE_HEADERS_B64, apply_service_headers, task_environment
from tests.flow_runs import FlowWorkspace

HEADERS = {"x-api-key": "service-key-not-for-yaml"}


def service_workspace(tmp_path, **extra):
    tmp_path.mkdir(parents=True, exist_ok=True)
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update({"METAFLOW_DEFAULT_METADATA": "service", "METAFLOW_SERVICE_URL": "http://127.0.0.1:9",
                          "METAFLOW_SERVICE_HEADERS": json.dumps(HEADERS)}, **extra)
    return workspace


def step_envs(text):
    """Each step task's env as Kestra applies it: the flow's plugin defaults, then the task's own."""
    flow = yaml.safe_load(text)
    shared = {}
    for defaults in flow.get("pluginDefaults") or []:
        shared.update(defaults["values"].get("env") or {})
    return [dict(shared, **(task.get("env") or {})) for task in flow["tasks"]]


def test_the_headers_come_from_a_kestra_secret_and_never_sit_in_the_yaml(tmp_path):
    text = service_workspace(tmp_path).compile("linear_flow")
    assert "service-key-not-for-yaml" not in text
    envs = step_envs(text)
    assert envs and all(env[SERVICE_HEADERS_B64] == "{{ secret('METAFLOW_SERVICE_HEADERS') | base64encode }}"
                        for env in envs)


def test_the_secret_s_name_can_be_chosen_and_must_be_a_name(tmp_path):
    text = service_workspace(tmp_path / "a", METAFLOW_KESTRA_SERVICE_HEADERS_SECRET="TEAM_HEADERS").compile(
        "linear_flow")
    assert all(env[SERVICE_HEADERS_B64] == "{{ secret('TEAM_HEADERS') | base64encode }}" for env in step_envs(text))
    workspace = service_workspace(tmp_path / "b", METAFLOW_KESTRA_SERVICE_HEADERS_SECRET="x') }}{{ y")
    done = workspace.flow_command("linear_flow", "kestra", "compile", "-", check=False)
    assert done.returncode == 1 and "a Kestra secret name uses letters, digits and '_'" in done.stderr


def test_a_task_decodes_the_headers_before_metaflow_reads_them():
    encoded = base64.b64encode(json.dumps(HEADERS).encode()).decode()
    env = {SERVICE_HEADERS_B64: encoded}
    apply_service_headers(env)
    assert json.loads(env["METAFLOW_SERVICE_HEADERS"]) == HEADERS
    # The warm interpreter a task may use is keyed by what Metaflow reads: the decoded headers too.
    assert json.loads(task_environment({SERVICE_HEADERS_B64: encoded})["METAFLOW_SERVICE_HEADERS"]) == HEADERS
