"""Every flow command fails with one actionable line and exit 1 (no traceback).

A small HTTP stand-in answers like Kestra does for these cases (401 for bad
credentials, 404 for unknown flows and executions). It checks our messages
only; the same commands against the real Kestra are in tests/e2e.
"""

import base64
import http.server
import threading

import pytest

from tests.flow_runs import FlowWorkspace

GOOD = "Basic " + base64.b64encode(b"me@example.com:right").decode()


class _Kestra(http.server.BaseHTTPRequestHandler):
    def _answer(self):
        if self.headers.get("Authorization") != GOOD:
            self.send_response(401)
        else:
            self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"message": "Not Found"}')

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


def _serving(handler):
    """Serve `handler` on a free loopback port; yield its URL."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()


@pytest.fixture(scope="module")
def kestra_url():
    yield from _serving(_Kestra)


def cli(tmp_path, url, *args, password="right"):
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update(METAFLOW_KESTRA_HOST=url, METAFLOW_KESTRA_USER="me@example.com",
                         METAFLOW_KESTRA_PASSWORD=password)
    return workspace.flow_command("linear_flow", "kestra", *args, check=False)


@pytest.mark.parametrize("args,message", [
    (("status", "--run-id", "kestra-nope"), "Kestra has no execution nope"),
    (("terminate", "--run-id", "kestra-nope"), "Kestra has no execution nope"),
    (("logs", "--run-id", "kestra-nope"), "Kestra has no execution nope"),
    (("trigger",), "Kestra has no flow linearflow in namespace metaflow. Deploy it first"),
    (("delete",), "Kestra has no flow linearflow in namespace metaflow"),
    (("status", "--run-id", "1234"), "1234 is not a run started by Kestra"),
])
def test_unknown_things_get_one_actionable_line(tmp_path, kestra_url, args, message):
    done = cli(tmp_path, kestra_url, *args)
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_wrong_credentials_are_named(tmp_path, kestra_url):
    done = cli(tmp_path, kestra_url, "list-runs", password="wrong")
    assert done.returncode == 1
    assert "rejected the credentials (HTTP 401)" in done.stderr


def test_a_server_that_is_down_is_named(tmp_path):
    done = cli(tmp_path, "http://127.0.0.1:9", "create")
    assert done.returncode == 1
    assert "Cannot reach Kestra at http://127.0.0.1:9" in done.stderr


class _NotKestra(_Kestra):
    """Some other web server: 404 with an empty body for everything."""

    def _answer(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture(scope="module")
def not_kestra_url():
    yield from _serving(_NotKestra)


def test_a_server_that_is_not_kestra_is_named(tmp_path, not_kestra_url):
    done = cli(tmp_path, not_kestra_url, "status", "--run-id", "kestra-nope")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "not as Kestra does" in done.stderr and not_kestra_url in done.stderr


@pytest.mark.parametrize("host", ["not-a-url", "ftp://example.com", "http://"])
def test_a_host_that_is_not_an_http_url_is_refused(tmp_path, host):
    done = cli(tmp_path, host, "create")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "--kestra-host" in done.stderr and "http://" in done.stderr


def test_an_unwritable_output_path_is_one_line(tmp_path):
    done = FlowWorkspace(tmp_path).flow_command("linear_flow", "kestra", "compile", str(tmp_path / "no" / "such" /
                                                "out.yaml"), check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "Cannot write" in done.stderr and "out.yaml" in done.stderr


@pytest.mark.parametrize("option", ["--workflow-timeout", "--max-workers"])
@pytest.mark.parametrize("value", ["-5", "0"])
def test_option_values_out_of_range_are_refused_before_anything_is_deployed(tmp_path, option, value):
    done = FlowWorkspace(tmp_path).flow_command("linear_flow", "kestra", "compile", "-", option, value, check=False)
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert option in done.stderr
