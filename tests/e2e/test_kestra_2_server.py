"""The local server on Kestra 2.0.0's engine (issue 15): it builds, starts, and runs our task types.

Kestra 2 needs Java 25 and wires its worker to a controller over gRPC; this is the first proof
that the 2.0 line of the server works. The flow shapes on 2.0 come with the Loop compiler.
"""

import os

import pytest

from metaflow_kestra.client import KestraClient
from metaflow_kestra.connection import Connection
from metaflow_kestra.local_server.server import LocalServer
from metaflow_kestra.local_server.settings import ServerSettings
from metaflow_kestra.local_server.smoke import TASK_ID, run_smoke

from tests.conftest import E2E_PORT, start_test_server

pytestmark = pytest.mark.e2e

KESTRA_2_VERSION = os.environ.get("METAFLOW_KESTRA_TEST_VERSION_2", "2.0.0")
KESTRA_2_PORT = E2E_PORT + 10


@pytest.fixture(scope="module")
def kestra_2_server():
    server = LocalServer(ServerSettings.from_environment(
        kestra_version=KESTRA_2_VERSION, port=KESTRA_2_PORT, management_port=KESTRA_2_PORT + 1))
    state, reused = start_test_server(server)
    yield state
    if not reused:
        server.stop()


@pytest.fixture(scope="module")
def client_2(kestra_2_server):
    return KestraClient(Connection(kestra_2_server.url, kestra_2_server.username, kestra_2_server.password))


def test_the_server_reports_kestra_2_and_keeps_its_own_state(kestra_2_server, client_2):
    assert client_2.server_version() == KESTRA_2_VERSION
    assert client_2.kestra_major() == 2
    assert kestra_2_server.config_path.endswith(os.path.join("server-%d-k2" % KESTRA_2_PORT, "kestra-config.json"))


def test_a_script_task_runs_with_our_python_and_its_outputs_come_from_the_outputs_api(client_2):
    import sys

    finished, outputs = run_smoke(client_2)
    assert finished["state"]["current"] == "SUCCESS"
    # On 2.x the client reads outputs from GET /outputs/tasks/{id}/{taskRunId}.
    run = next(r for r in finished["taskRunList"] if r["taskId"] == TASK_ID)
    assert client_2.task_outputs(finished["id"], run)["vars"] == outputs
    assert outputs["python"] and os.path.realpath(outputs["python"]) == os.path.realpath(sys.executable)
    logs = client_2.logs(finished["id"], task_id=TASK_ID, min_level="DEBUG")
    assert logs, "the task's logs are readable on 2.0"


def test_kill_and_restart_use_the_2_0_action_paths(client_2):
    """The 2.x server also answers the 1.x paths, as Kestra 2.0 does: only the paths the client sent
    tell whether it used the `actions/` ones."""
    import yaml

    sent = []
    client_2.session.hooks["response"].append(lambda response, **_: sent.append(
        (response.request.method, response.request.path_url.split("/executions/", 1)[-1])))
    flow = {"id": "k2-actions", "namespace": "metaflow.kestra.k2", "tasks": [
        {"id": "fail", "type": "io.kestra.plugin.scripts.shell.Commands", "commands": ["exit 3"]}]}
    client_2.deploy_flow(yaml.safe_dump(flow), flow["namespace"], flow["id"])
    failed = client_2.wait(client_2.trigger(flow["namespace"], flow["id"])["id"], timeout=120)
    assert failed["state"]["current"] == "FAILED"
    client_2.restart(failed["id"])
    again = client_2.wait(failed["id"], timeout=120)
    assert again["state"]["current"] == "FAILED"
    assert again["taskRunList"][0]["attempts"][-1]["state"]["current"] == "FAILED"
    assert len(again["taskRunList"][0]["attempts"]) == 2

    flow["id"], flow["tasks"][0]["commands"] = "k2-kill", ["sleep 60"]
    client_2.deploy_flow(yaml.safe_dump(flow), flow["namespace"], flow["id"])
    running = client_2.trigger(flow["namespace"], flow["id"])
    client_2.kill(running["id"])
    assert client_2.wait(running["id"], timeout=120)["state"]["current"] == "KILLED"
    actions = [(method, path.split("/", 1)[1]) for method, path in sent if "/" in path and
               path.split("/", 1)[1] in ("restart", "kill", "actions/restart", "actions/kill")]
    assert actions == [("POST", "actions/restart"), ("DELETE", "actions/kill")]


def test_flows_are_updated_graphed_and_deleted_through_the_2_0_flow_service(kestra_2_server, client_2):
    import requests
    import yaml

    flow = {"id": "k2-flow", "namespace": "metaflow.kestra.k2", "tasks": [
        {"id": "one", "type": "io.kestra.plugin.scripts.shell.Commands", "commands": ["true"]}]}
    client_2.deploy_flow(yaml.safe_dump(flow), flow["namespace"], flow["id"])
    # A flow created again after a delete continues its old revisions, and the server's state
    # survives between test runs: compare with the revision the first deploy gave.
    created = client_2.flow(flow["namespace"], flow["id"])["revision"]
    flow["tasks"].append({"id": "two", "type": "io.kestra.plugin.scripts.shell.Commands", "commands": ["true"]})
    client_2.deploy_flow(yaml.safe_dump(flow), flow["namespace"], flow["id"])
    assert client_2.flow(flow["namespace"], flow["id"])["revision"] == created + 1
    graph = requests.get("%s/api/v1/main/flows/%s/%s/graph" % (kestra_2_server.url, flow["namespace"], flow["id"]),
                         auth=(kestra_2_server.username, kestra_2_server.password), timeout=30)
    assert graph.status_code == 200
    assert {"one", "two"} <= {node.get("task", {}).get("id") for node in graph.json()["nodes"]}
    client_2.delete_flow(flow["namespace"], flow["id"])
    assert flow["id"] not in [f["id"] for f in client_2.search_flows(namespace=flow["namespace"])]
