"""The local server answers Kestra's REST API as Kestra's web server (1.x) does, refusals included.

These are the answers our client relies on; each was read in Kestra's controllers
(ExecutionController, FlowController, LogController, NamespaceFileController, 1.x).
"""

import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.api"

SLEEPY = """id: sleepy
namespace: metaflow.api
labels:
  team: data
triggers:
  - id: hook
    type: io.kestra.plugin.core.trigger.Webhook
    key: right-key
tasks:
  - id: nap
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - sleep 30
"""


@pytest.fixture(scope="module")
def api(kestra_server):
    session = requests.Session()
    session.auth = (kestra_server.username, kestra_server.password)
    base = kestra_server.url + "/api/v1/main/"

    def call(method, path, **kwargs):
        return session.request(method, base + path, timeout=30, **kwargs)

    yaml_headers = {"Content-Type": "application/x-yaml"}
    if call("GET", "flows/%s/sleepy" % NAMESPACE).status_code == 404:
        assert call("POST", "flows", data=SLEEPY, headers=yaml_headers).status_code == 200
    call.yaml_headers = yaml_headers
    return call


def running_execution(api):
    execution = api("POST", "executions/%s/sleepy" % NAMESPACE, params=[("labels", "who:test")]).json()
    deadline = time.time() + 60
    while api("GET", "executions/" + execution["id"]).json()["state"]["current"] != "RUNNING":
        assert time.time() < deadline
        time.sleep(0.2)
    return execution


def test_labels_go_in_with_the_trigger_and_cannot_change_while_running(api):
    execution = running_execution(api)
    labels = {(label["key"], label["value"]) for label in execution["labels"]}
    assert {("who", "test"), ("team", "data"), ("system.from", "api")} <= labels
    assert execution["url"].endswith("/ui/main/executions/%s/sleepy/%s" % (NAMESPACE, execution["id"]))
    refused = api("POST", "executions/%s/labels" % execution["id"], json=[{"key": "k", "value": "v"}])
    assert (refused.status_code, refused.text) == (400, "The execution is not terminated")
    restart = api("POST", "executions/%s/restart" % execution["id"])
    assert restart.status_code == 409 and restart.json()["message"].startswith("Illegal state:")
    assert api("DELETE", "executions/%s/kill" % execution["id"]).status_code == 202
    deadline = time.time() + 60
    while api("GET", "executions/" + execution["id"]).json()["state"]["current"] != "KILLED":
        assert time.time() < deadline
        time.sleep(0.5)
    relabeled = api("POST", "executions/%s/labels" % execution["id"], json=[{"key": "k", "value": "v"}])
    assert relabeled.status_code == 200
    assert {"key": "k", "value": "v"} in relabeled.json()["labels"]
    assert any(label["key"] == "system.correlationId" for label in relabeled.json()["labels"])


def test_system_labels_are_kestras_own(api):
    refused = api("POST", "executions/%s/sleepy" % NAMESPACE, params=[("labels", "system.readOnly:true")])
    assert refused.status_code == 422


def test_flow_create_update_get_and_their_refusals(api):
    duplicate = api("POST", "flows", data=SLEEPY, headers=api.yaml_headers)
    assert duplicate.status_code == 422 and "Flow id already exists" in duplicate.json()["message"]
    invalid = api("POST", "flows", data=SLEEPY.replace("sleepy", "broken").replace(
        "io.kestra.plugin.scripts.shell.Commands", "io.kestra.plugin.NoSuchTask"), headers=api.yaml_headers)
    assert invalid.status_code == 422
    assert api("PUT", "flows/%s/nothing-here" % NAMESPACE, data=SLEEPY, headers=api.yaml_headers).status_code == 404
    flow = api("GET", "flows/%s/sleepy" % NAMESPACE).json()
    assert "source" not in flow and flow["revision"] >= 1
    assert "source" in api("GET", "flows/%s/sleepy" % NAMESPACE, params={"source": "true"}).json()
    found = api("GET", "flows/search", params={"filters[namespace][EQUALS]": NAMESPACE}).json()
    assert found["total"] >= 1 and {f["id"] for f in found["results"]} >= {"sleepy"}


def test_unknown_things_are_404(api):
    assert api("GET", "executions/no-such-execution").status_code == 404
    missing = api("POST", "executions/%s/no-such-flow" % NAMESPACE)
    assert missing.status_code == 404 and missing.json()["message"] == "Not Found: Requested Flow is not found."
    assert api("GET", "flows/%s/no-such-flow" % NAMESPACE).status_code == 404


def test_webhooks_check_the_key_and_need_no_credentials(kestra_server):
    url = kestra_server.url + "/api/v1/main/executions/webhook/%s/sleepy/" % NAMESPACE
    assert requests.post(url + "wrong-key", json={}, timeout=30).status_code == 404
    fired = requests.post(url + "right-key", json={"x": 1}, timeout=30)
    assert fired.status_code == 200 and fired.json()["flowId"] == "sleepy"


def test_namespace_files_round_trip(api):
    path = "/metaflow-kestra/test/hello.txt"
    files = {"fileContent": ("hello.txt", b"hello \x00 bytes", "application/octet-stream")}
    assert api("POST", "namespaces/%s/files" % NAMESPACE, params={"path": path}, files=files).status_code == 200
    got = api("GET", "namespaces/%s/files" % NAMESPACE, params={"path": path})
    assert got.status_code == 200 and got.content == b"hello \x00 bytes"
    assert api("DELETE", "namespaces/%s/files" % NAMESPACE, params={"path": path}).status_code == 200
    assert api("GET", "namespaces/%s/files" % NAMESPACE, params={"path": path}).status_code == 404
