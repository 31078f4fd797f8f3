"""Notifications as on Argo: after a run, Slack, PagerDuty and incident.io hear its outcome (a receiver
on loopback stands in for all three; the endpoints are moved there as the guide says)."""

import json
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import E2E_SECRET_NAME, E2E_SECRET_VALUE, E2E_SLACK_SECRET_NAME, helper_ports
from tests.helper_servers import start_with_deadline

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"


def receiver():
    """The receiver's URL: the port the session's Kestra server knows (its Slack secret names it)."""
    return "http://127.0.0.1:%d" % helper_ports().notify


@pytest.fixture
def received(kestra_server):
    """What the receiver got: [(path, headers, JSON body)]."""
    got = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            got.append((self.path, dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    port = helper_ports().notify
    servers = []

    def serve():
        servers.append(ThreadingHTTPServer(("127.0.0.1", port), Handler))
        servers[0].serve_forever()

    start_with_deadline(serve, port, "The notification receiver")
    server = servers[0]
    yield got
    server.shutdown()
    server.server_close()


def notified_run(workspace, name, flow_id):
    workspace.env.update(METAFLOW_KESTRA_PAGER_DUTY_URL=receiver() + "/pd",
                         METAFLOW_KESTRA_INCIDENT_IO_URL=receiver() + "/iio")
    run_id_file = workspace.root / ("%s.run-id" % flow_id)
    done = workspace.flow_command(
        name, "kestra", "--kestra-namespace", NAMESPACE, "--flow-id", flow_id, "run", "--wait",
        "--run-id-file", str(run_id_file), "--notify-on-error", "--notify-on-success",
        "--notify-slack-webhook-url", E2E_SLACK_SECRET_NAME, "--notify-pager-duty-integration-key", E2E_SECRET_NAME,
        "--notify-incident-io-api-key", E2E_SECRET_NAME, "--incident-io-alert-source-config-id", "src-1",
        "--incident-io-metadata", '{"team": "ml"}', check=False)
    return done, run_id_file.read_text().strip()


def by_service(received):
    return {path.split("/")[1]: (path, headers, body) for path, headers, body in received}


def test_a_failed_run_alerts_every_service_once_with_its_run(workspace, received, kestra_client):
    flow_id = "notified-fail-%s" % uuid.uuid4().hex[:6]
    done, run_id = notified_run(workspace, "failing_flow", flow_id)
    assert done.returncode == 1
    # `run --wait` returns once the notification task has ended: everything has arrived.
    sent = by_service(received)
    assert sorted(sent) == ["iio", "pd", "slack"] and len(received) == 3
    assert sent["slack"][0] == "/slack/T000/B000/x"
    assert sent["slack"][2]["text"] == ":rotating_light: _FailingFlow/%s_ failed!" % run_id
    path, _, alert = sent["pd"]
    assert path == "/pd/v2/enqueue" and alert["event_action"] == "trigger"
    assert alert["routing_key"] == E2E_SECRET_VALUE
    assert alert["payload"]["summary"] == "Metaflow run FailingFlow/%s failed!" % run_id
    assert alert["links"][0]["href"].endswith("/executions/%s/%s/%s" % (NAMESPACE, flow_id, run_id[len("kestra-"):]))
    path, headers, incident = sent["iio"]
    assert path == "/iio/v2/alert_events/http/src-1" and headers["Authorization"] == "Bearer " + E2E_SECRET_VALUE
    assert incident["metadata"] == {"team": "ml", "run_status": "failed", "flow_name": "FailingFlow", "run_id": run_id}
    # The credentials stayed in Kestra's secrets: not in the flow Kestra holds.
    assert E2E_SECRET_VALUE not in json.dumps(kestra_client.flow(NAMESPACE, flow_id))
    assert "127.0.0.1:%d/slack" % helper_ports().notify not in json.dumps(kestra_client.flow(NAMESPACE, flow_id))


def test_a_successful_run_sends_changes(workspace, received):
    flow_id = "notified-ok-%s" % uuid.uuid4().hex[:6]
    done, run_id = notified_run(workspace, "linear_flow", flow_id)
    assert done.returncode == 0, done.stderr
    sent = by_service(received)
    assert len(received) == 3
    assert sent["slack"][2]["text"] == ":white_check_mark: _LinearFlow/%s_ succeeded!" % run_id
    assert sent["pd"][0] == "/pd/v2/change/enqueue"
    assert sent["pd"][2]["payload"]["summary"] == "Metaflow run LinearFlow/%s Succeeded" % run_id
    assert sent["iio"][2]["title"] == "Flow LinearFlow has succeeded."


def test_a_credential_given_as_a_value_is_refused_before_anything_is_deployed(workspace):
    done = workspace.flow_command("linear_flow", "kestra", "--kestra-namespace", NAMESPACE, "create",
                                  "--notify-on-error", "--notify-slack-webhook-url",
                                  "https://hooks.slack.com/services/T/B/secret", check=False)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == (
        "Flow LinearFlow: --notify-slack-webhook-url takes the name of the Kestra secret that holds it (letters, "
        "digits and '_', e.g. SLACK_WEBHOOK_URL), not the value: credentials never go into the Kestra flow.")
