"""What the README promises and no other test checked: execution labels and run tags, --max-workers
as the engine runs it, list-runs --running/--failed, and --kestra-token with a non-default tenant."""

import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.helper_servers import free_port, start_with_deadline

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"

_TAGS = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
print(json.dumps(sorted(Run(sys.argv[1]).tags)))
"""

_WINDOWS = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
print(json.dumps(Run(sys.argv[1])["join"].task.data.windows))
"""


def kestra(workspace, name, *args, check=True):
    return workspace.flow_command(name, "kestra", "--kestra-namespace", NAMESPACE, *args, check=check)


def most_at_once(windows):
    """The most of these (began, ended) windows that overlap at one moment."""
    events = sorted([(began, 1) for began, _ in windows] + [(ended, -1) for _, ended in windows])
    running = most = 0
    for _, change in events:
        running += change
        most = max(most, running)
    return most


def test_an_execution_is_labelled_and_its_run_tagged_as_the_readme_says(workspace, kestra_client):
    kestra(workspace, "linear_flow", "create")
    run_id_file = workspace.root / "tagged.run-id"
    kestra(workspace, "linear_flow", "trigger", "--wait", "--tag", "team:ml", "--tag", "nightly",
           "--run-id-file", str(run_id_file))
    run_id = run_id_file.read_text().strip()
    execution_id = run_id[len("kestra-"):]
    labels = {label["key"]: label["value"] for label in kestra_client.execution(execution_id)["labels"]}
    assert labels["metaflow-flow"] == "LinearFlow"
    assert labels["metaflow-user"] == "tester"
    assert labels["metaflow-tags"] == "team:ml,nightly"
    tags = json.loads(workspace.client(_TAGS, "LinearFlow/" + run_id))
    assert {"team:ml", "nightly", "kestra-execution:%s" % execution_id,
            "kestra-flow:%s.linearflow" % NAMESPACE} <= set(tags), tags


def test_max_workers_bounds_the_foreach_items_running_at_once(workspace):
    _, run_id = run_on_kestra(workspace, "concurrency_flow", top_level=())
    windows = json.loads(workspace.client(_WINDOWS, "ConcurrencyFlow/" + run_id))
    assert most_at_once(windows) >= 3  # the default (16) lets all six run together
    run_id_file = workspace.root / "two.run-id"
    kestra(workspace, "concurrency_flow", "run", "--max-workers", "2", "--wait", "--run-id-file", str(run_id_file))
    windows = json.loads(workspace.client(_WINDOWS, "ConcurrencyFlow/" + run_id_file.read_text().strip()))
    assert len(windows) == 6 and most_at_once(windows) == 2, windows


def test_list_runs_shows_running_and_failed_runs_apart(workspace, kestra_client):
    _, failed = run_on_kestra(workspace, "failing_flow", check=False)
    run_id_file = workspace.root / "slow.run-id"
    kestra(workspace, "slow_flow", "run", "--run-id-file", str(run_id_file))
    running = run_id_file.read_text().strip()
    try:
        deadline = time.time() + 120
        while kestra_client.execution(running[len("kestra-"):])["state"]["current"] != "RUNNING":
            assert time.time() < deadline, "the slow run never ran"
            time.sleep(0.5)
        assert running in kestra(workspace, "slow_flow", "list-runs", "--running").stdout
        assert running not in kestra(workspace, "slow_flow", "list-runs", "--failed").stdout
        assert failed in kestra(workspace, "failing_flow", "list-runs", "--failed").stdout
        assert failed not in kestra(workspace, "failing_flow", "list-runs", "--running").stdout
        assert failed not in kestra(workspace, "failing_flow", "list-runs", "--succeeded").stdout
    finally:
        kestra(workspace, "slow_flow", "terminate", "--run-id", running)


class _TenantTokenGate:
    """A loopback gate in front of the local Kestra standing in for an Enterprise one: it lets
    through only requests for `tenant` that carry `Bearer <token>`, records them, and forwards them
    to the real server with its own credentials (the open-source edition knows one tenant, `main`,
    and no tokens)."""

    def __init__(self, server, tenant, token):
        self.server, self.tenant, self.token = server, tenant, token
        self.seen, self.refused = [], []
        self.port = free_port()
        gate = self

        class Handler(BaseHTTPRequestHandler):
            def _forward(self):
                import requests

                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if not self.path.startswith("/api/"):
                    # As Kestra serves its UI's page to anyone (the client asks whether there is one,
                    # without credentials): answered as the local server answers, not an API call.
                    answer = requests.get(gate.server.url + self.path, timeout=30)
                    self.send_response(answer.status_code)
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                    return
                prefix = "/api/v1/%s/" % gate.tenant
                untenanted = self.path.split("?")[0] == "/api/v1/configs"  # Kestra's, for every tenant
                if self.headers.get("Authorization") != "Bearer %s" % gate.token or not (
                        untenanted or self.path.startswith(prefix)):
                    gate.refused.append((self.command, self.path, self.headers.get("Authorization")))
                    self.send_response(401)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"message": "Unauthorized"}')
                    return
                gate.seen.append((self.command, self.path))
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host")}
                target = self.path if untenanted else "/api/v1/main/" + self.path[len(prefix):]
                answer = requests.request(self.command, gate.server.url + target,
                                          data=body, headers=headers,
                                          auth=(gate.server.username, gate.server.password), timeout=120)
                self.send_response(answer.status_code)
                for key, value in answer.headers.items():
                    if key.lower() not in ("transfer-encoding", "connection", "content-encoding", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(answer.content)))
                self.end_headers()
                self.wfile.write(answer.content)

            do_GET = do_POST = do_PUT = do_DELETE = _forward

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler, bind_and_activate=False)

    def __enter__(self):
        def serve():
            self.http.server_bind()
            self.http.server_activate()
            self.http.serve_forever()

        start_with_deadline(serve, self.port, "The tenant and token gate")
        return self

    def __exit__(self, *_):
        self.http.shutdown()
        self.http.server_close()


def test_every_call_carries_the_token_and_the_tenant(workspace, kestra_server):
    with _TenantTokenGate(kestra_server, "team-a", "tok-123") as gate:
        for name in ("METAFLOW_KESTRA_USER", "METAFLOW_KESTRA_PASSWORD"):
            workspace.env.pop(name)
        workspace.env.update(METAFLOW_KESTRA_HOST="http://127.0.0.1:%d" % gate.port)
        run_id_file = workspace.root / "gated.run-id"
        kestra(workspace, "linear_flow", "--kestra-token", "tok-123", "--kestra-tenant", "team-a", "run", "--wait",
               "--run-id-file", str(run_id_file))
        run_id = run_id_file.read_text().strip()
        workspace.env.update(METAFLOW_KESTRA_TOKEN="tok-123", METAFLOW_KESTRA_TENANT="team-a")
        assert "SUCCESS" in kestra(workspace, "linear_flow", "status", "--run-id", run_id).stdout
        assert "--- end ---" in kestra(workspace, "linear_flow", "logs", "--run-id", run_id).stdout
    assert gate.refused == []
    paths = [path for _, path in gate.seen]
    assert any(path.startswith("/api/v1/team-a/flows") for path in paths), paths
    assert any(path.startswith("/api/v1/team-a/executions/%s/%s" % (NAMESPACE, "linearflow")) for path in paths)
    assert any(path.startswith("/api/v1/team-a/logs/") for path in paths), paths
    assert workspace.artifacts("LinearFlow", run_id)["successful"]


def test_send_event_reaches_a_listener_past_the_first_page_of_flows(workspace, kestra_client):
    """Kestra answers a flow search a page at a time: the 101st flow must hear its event too."""
    import yaml

    for number in range(101):
        flow = {"id": "aaa-filler-%03d" % number, "namespace": NAMESPACE,
                "tasks": [{"id": "noop", "type": "io.kestra.plugin.core.log.Log", "message": "filler"}]}
        kestra_client.deploy_flow(yaml.safe_dump(flow), NAMESPACE, flow["id"])
    assert len([f for f in kestra_client.search_flows(NAMESPACE) if f["id"].startswith("aaa-filler-")]) == 101
    kestra(workspace, "one_event_flow", "create")
    sent = kestra(workspace, "one_event_flow", "send-event", "data.ready", "--payload", '{"table_name": "t"}')
    assert "Sent event data.ready to %s.oneeventflow." % NAMESPACE in sent.stdout + sent.stderr
