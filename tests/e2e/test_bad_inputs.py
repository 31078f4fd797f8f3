"""Every bad input we know of, through the real CLI and Deployer API, against the real local Kestra.

Each case must fail with a non-zero exit (or one exception), no traceback, and
one line naming what was wrong and what to do. `scripts/write-bad-inputs.sh` runs
this module with METAFLOW_KESTRA_BAD_INPUTS_DOC set, and it then writes what it saw
to docs/bad-inputs.md (paths, ports and ids made generic); a plain test run writes
nothing, so the work tree stays clean.
"""

import http.server
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import kestra_workspace
from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.flow_loading import flow_path

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"
DOWN = "http://127.0.0.1:9"  # nothing listens on the discard port
ROOT = Path(__file__).resolve().parents[2]
# Where to write the table of what the cases saw (scripts/write-bad-inputs.sh); unset: nowhere.
DOC_ENV = "METAFLOW_KESTRA_BAD_INPUTS_DOC"


@dataclass
class Case:
    what: str
    args: tuple  # after `python <flow>`; {placeholders} filled by `Places`
    expect: str  # in the message line
    flow: str = "linear_flow"
    env: dict = field(default_factory=dict)
    code: int = 1


K = ("kestra", "--kestra-namespace", NAMESPACE)

CLI_CASES = [
    Case("--kestra-host that is not a URL", ("kestra", "--kestra-host", "not-a-url", "create"),
         "is not a Kestra URL: give it as http://host:port"),
    Case("--kestra-host with another scheme", ("kestra", "--kestra-host", "ftp://example.com", "create"),
         "is not a Kestra URL"),
    Case("--kestra-host with no host", ("kestra", "--kestra-host", "http://", "create"), "is not a Kestra URL"),
    Case("a server that is down", ("kestra", "--kestra-host", DOWN, "create"),
         "Cannot reach Kestra at %s. Is the server running?" % DOWN),
    Case("a server that is not Kestra (404, no JSON)", ("kestra", "--kestra-host", "{not_kestra}", "status",
                                                        "--run-id", "kestra-nope"), "and not as Kestra does"),
    Case("a server of a Kestra version we do not support", ("kestra", "--kestra-host", "{old_kestra}", "create"),
         "runs version 0.22.4; metaflow-kestra works with Kestra 1.x (1.3 LTS) and 2.x"),
    Case("no server given and no local one running", ("kestra", "create"),
         "No Kestra server given and no local one is running", env={"METAFLOW_KESTRA_HOST": None,
                                                                      "METAFLOW_KESTRA_HOME": "{tmp}/home"}),
    Case("a wrong password", K + ("list-runs",), "rejected the credentials (HTTP 401)",
         env={"METAFLOW_KESTRA_PASSWORD": "wrong"}),
    Case("a token the server does not know", K + ("list-runs",), "rejected the credentials (HTTP 401)",
         env={"METAFLOW_KESTRA_USER": None, "METAFLOW_KESTRA_PASSWORD": None, "METAFLOW_KESTRA_TOKEN": "bad"}),
    Case("status of a run Kestra does not know", K + ("status", "--run-id", "kestra-nope"),
         "Kestra has no execution nope"),
    Case("terminate of a run Kestra does not know", K + ("terminate", "--run-id", "kestra-nope"),
         "Kestra has no execution nope"),
    Case("logs of a run Kestra does not know", K + ("logs", "--run-id", "kestra-nope"),
         "Kestra has no execution nope"),
    Case("a run id that is not a Kestra run's", K + ("status", "--run-id", "1234"),
         "1234 is not a run started by Kestra"),
    Case("a run of another flow", K + ("status", "--run-id", "{linear_run}"), "belongs to Kestra flow",
         flow="split_flow"),
    Case("trigger of a flow never deployed", K + ("--flow-id", "never-deployed", "trigger"),
         "Kestra has no flow never-deployed in namespace %s. Deploy it first" % NAMESPACE),
    Case("delete of a flow never deployed", K + ("--flow-id", "never-deployed", "delete"),
         "Kestra has no flow never-deployed"),
    Case("resume of a run Kestra does not know", K + ("resume", "--clone-run-id", "kestra-nope"),
         "Kestra has no execution nope"),
    Case("resume from a step the flow lacks", K + ("resume", "--clone-run-id", "{linear_run}", "--step", "nope"),
         "has no step 'nope' to resume from"),
    Case("restart of a run that succeeded", K + ("restart", "--run-id", "{linear_run}"),
         "Kestra restarts only a failed run"),
    Case("a parameter value of the wrong type", K + ("trigger", "--count", "many", "--needed", "x"),
         "Invalid value for '--count'", flow="params_flow", code=2),
    Case("a required parameter left out", K + ("--flow-id", "paramsflow", "trigger"),
         "Missing option '--needed'", flow="params_flow", code=2),
    Case("--payload that is not JSON", K + ("send-event", "go", "--payload", "{{nope"), "--payload is not valid JSON"),
    Case("an event no deployed flow listens to", K + ("send-event", "nobody-listens-to-this"),
         "No deployed flow on Kestra listens to event 'nobody-listens-to-this'"),
    Case("compile to a folder that does not exist", K + ("compile", "{tmp}/no/such/out.yaml"),
         "Cannot write the Kestra flow to {tmp}/no/such/out.yaml"),
    Case("--package-file in a folder that does not exist", K + ("compile", "-", "--package-file",
                                                                "{tmp}/no/such/code.tgz"),
         "Cannot write the code package to {tmp}/no/such/code.tgz"),
    Case("--run-id-file in a folder that does not exist", K + ("run", "--run-id-file", "{tmp}/no/such/id"),
         "Invalid value for '--run-id-file': folder {tmp}/no/such does not exist", code=2),
    Case("--workflow-timeout below 1", K + ("create", "--workflow-timeout", "-5"),
         "Invalid value for '--workflow-timeout': must be 1 or more, not -5", code=2),
    Case("--max-workers below 1", K + ("create", "--max-workers", "0"),
         "Invalid value for '--max-workers': must be 1 or more, not 0", code=2),
    Case("--foreach-batch below 1", K + ("create", "--foreach", "subflows", "--foreach-batch", "0"),
         "Invalid value for '--foreach-batch': must be 1 or more, not 0", code=2),
    Case("a --kestra-version no Kestra line has", K + ("compile", "--kestra-version", "3.1", "-"),
         "--kestra-version '3.1' is not a Kestra version metaflow-kestra writes flows for"),
    Case("--wait-timeout below 1", K + ("trigger", "--wait-timeout", "0"),
         "Invalid value for '--wait-timeout': must be 1 or more, not 0", code=2),
    Case("a task runner that does not exist", K + ("create", "--task-runner", "podman"),
         "Invalid value for '--task-runner'", code=2),
    Case("the Docker task runner with the local datastore", K + ("create", "--task-runner", "docker", "--image",
                                                                 "python:3.11"), "local datastore"),
    Case("a --secret that is no environment variable's name", K + ("create", "--secret", "1-TOKEN"),
         "--secret '1-TOKEN': a secret is named like an environment variable"),
    Case("a --docker-network Kestra would take for more", K + ("create", "--task-runner", "docker", "--image", "img:1",
                                                               "--docker-network", "host --privileged"),
         "--docker-network 'host --privileged' is not a Docker network mode"),
    Case("the Docker task runner with an S3 on this machine's loopback", ("--datastore=s3",) + K + (
        "create", "--task-runner", "docker", "--image", "img:1"),
         "METAFLOW_S3_ENDPOINT_URL (http://127.0.0.1:9) is this machine's loopback",
         env={"METAFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:9", "METAFLOW_DATASTORE_SYSROOT_S3": "s3://b/mf"}),
    Case("a flow with @parallel", K + ("create",), "@parallel", flow="parallel_flow"),
    Case("a flow with a loop", K + ("create",), "There is a loop in your flow: a->b->a", flow="looping_flow"),
]


class _NotKestra(http.server.BaseHTTPRequestHandler):
    """Some other web server: 404 with an empty body for everything."""

    def _answer(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, *args):
        pass


class _OldKestra(_NotKestra):
    """What Kestra 0.22 answers for its version (Maven Central serves no 0.x engine to run here)."""

    def do_GET(self):
        if self.path != "/api/v1/configs":
            return self._answer()
        body = b'{"version": "0.22.4", "edition": "OSS"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(handler):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, "http://127.0.0.1:%d" % server.server_address[1]


@pytest.fixture(scope="module")
def stand_ins():
    """{not_kestra, old_kestra}: URLs of HTTP servers that are not (a supported) Kestra."""
    servers = {name: _serve(handler) for name, handler in (("not_kestra", _NotKestra), ("old_kestra", _OldKestra))}
    yield {name: url for name, (_, url) in servers.items()}
    for server, _ in servers.values():
        server.shutdown()


@pytest.fixture(scope="module")
def places(tmp_path_factory, kestra_server, stand_ins):
    """What the cases' {placeholders} stand for: a finished run, a folder, the stand-ins' URLs."""
    root = tmp_path_factory.mktemp("bad-inputs")
    workspace = kestra_workspace(root, kestra_server)
    _, linear_run = run_on_kestra(workspace, "linear_flow")
    return dict(stand_ins, tmp=str(root), linear_run=linear_run, server=kestra_server.url)


@pytest.fixture(scope="module")
def seen():
    """(what, command, exit code, message) of each case, written to $METAFLOW_KESTRA_BAD_INPUTS_DOC at the end."""
    import os

    rows = {}
    yield rows
    if os.environ.get(DOC_ENV) and len(rows) == len(CLI_CASES) + len(DEPLOYER_CASES):
        _write_doc(rows, Path(os.environ[DOC_ENV]))


def message_line(stderr):
    """The one line a failing command ends with (its reason)."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.what for c in CLI_CASES])
def test_a_bad_input_to_the_cli_fails_with_one_actionable_line(case, places, kestra_server, seen):
    workspace = kestra_workspace(places["tmp"], kestra_server)
    for key, value in case.env.items():
        if value is None:
            workspace.env.pop(key, None)
        else:
            workspace.env[key] = value.format(**places)
    args = [arg.format(**places) for arg in case.args]
    done = workspace.flow_command(case.flow, *args, check=False)
    line = message_line(done.stderr)
    assert done.returncode == case.code, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert case.expect.format(**places) in line, done.stderr
    env = " ".join("%s=%s" % (key, value) if value is not None else "(no %s)" % key for key, value in case.env.items())
    command = "`%spython %s %s`" % (env + " " if env else "", Path(flow_path(case.flow)).name, " ".join(args))
    seen[case.what] = (_generic(command, places), done.returncode, _generic(line, places))


def _deployer(places, **connection):
    from metaflow import Deployer

    return Deployer(str(flow_path("linear_flow"))).kestra(kestra_namespace=NAMESPACE, **connection)


def _create_on_a_down_server(places, server):
    _deployer(places, kestra_host=DOWN).create()


def _create_with_a_bad_option(places, server):
    _deployer(places).create(max_workers=0)


def _create_with_wrong_credentials(places, server):
    _deployer(places, kestra_host=server.url, kestra_password="wrong").create()


def _trigger_a_deleted_flow(places, server):
    deployed = _deployer(places, flow_id="deleted-since").create()
    deployed.delete()
    deployed.trigger()


def _from_deployment_of_an_unknown_flow(places, server):
    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraDeployedFlow

    KestraDeployedFlow.from_deployment("%s/never-deployed" % NAMESPACE)


def _from_deployment_with_wrong_credentials(places, server):
    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraDeployedFlow

    KestraDeployedFlow.from_deployment("%s/linearflow" % NAMESPACE, kestra_host=server.url,
                                       kestra_user=server.username, kestra_password="wrong")


def _wait_for_completion_when_the_server_is_down(places, server):
    from metaflow_extensions.kestra.plugins.kestra_deployer_objects import KestraDeployedFlow

    run = KestraDeployedFlow.get_triggered_run("%s/linearflow" % NAMESPACE, places["linear_run"])
    run.deployer._deployer_kwargs["kestra_host"] = DOWN  # the server goes away while we wait
    run.wait_for_completion(check_interval=0.1, timeout=5)


def _deploy_a_task_type_the_server_lacks(places, server):
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import Connection

    client = KestraClient(Connection(server.url, server.username, server.password))
    client.deploy_flow("id: lacking\nnamespace: %s\ntasks:\n- id: a\n  type: io.kestra.plugin.nope.Task\n"
                       % NAMESPACE, NAMESPACE, "lacking")


DEPLOYER_CASES = [
    ("Deployer create() on a server that is down", 'Deployer(f).kestra(kestra_host="%s").create()' % DOWN,
     _create_on_a_down_server, "Cannot reach Kestra at %s" % DOWN),
    ("Deployer create() with an option out of range", "Deployer(f).kestra().create(max_workers=0)",
     _create_with_a_bad_option, "Invalid value for '--max-workers': must be 1 or more, not 0"),
    ("Deployer create() with wrong credentials", 'Deployer(f).kestra(kestra_password="wrong").create()',
     _create_with_wrong_credentials, "rejected the credentials (HTTP 401)"),
    ("Deployer trigger() of a flow deleted since", "deployed.delete(); deployed.trigger()",
     _trigger_a_deleted_flow, "Kestra has no flow deleted-since"),
    ("from_deployment() of a flow never deployed", 'KestraDeployedFlow.from_deployment("%s/never-deployed")'
     % NAMESPACE, _from_deployment_of_an_unknown_flow, "Kestra has no flow never-deployed in namespace %s" % NAMESPACE),
    ("from_deployment() with wrong credentials", 'KestraDeployedFlow.from_deployment(name, kestra_password="wrong")',
     _from_deployment_with_wrong_credentials, "rejected the credentials (HTTP 401)"),
    ("a task type the server has no plugin for", "client.deploy_flow(<a flow with type io.kestra.plugin.nope.Task>)",
     _deploy_a_task_type_the_server_lacks, "has no plugin for task type io.kestra.plugin.nope.Task, which flow "
     "%s.lacking uses" % NAMESPACE),
    ("wait_for_completion() when the server is down", "triggered.wait_for_completion()  # the server went away",
     _wait_for_completion_when_the_server_is_down, "Cannot reach Kestra at %s" % DOWN),
]


@pytest.mark.parametrize("what,code,action,expect", DEPLOYER_CASES, ids=[c[0] for c in DEPLOYER_CASES])
def test_a_bad_input_to_the_deployer_api_raises_one_line(what, code, action, expect, places, kestra_server, seen,
                                                         monkeypatch, tmp_path):
    workspace = kestra_workspace(tmp_path, kestra_server)
    for key, value in workspace.env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(Exception) as raised:
        action(places, kestra_server)
    message = str(raised.value)
    assert "\n" not in message and "Traceback" not in message, message
    assert expect in message, message
    seen[what] = ("`%s`" % code, type(raised.value).__name__, _generic(message, places))


def _generic(text, places):
    """The text with this run's folders, ports and ids made generic, so the doc is stable."""
    text = text.replace(str(ROOT) + "/", "")
    text = text.replace(places["tmp"], "<tmp>").replace(places["server"], "http://127.0.0.1:<port>")
    text = text.replace(places["not_kestra"], "http://127.0.0.1:<other port>")
    text = text.replace(places["old_kestra"], "http://127.0.0.1:<old Kestra's port>")
    text = text.replace(places["linear_run"], "kestra-<id>")
    return text


def _write_doc(rows, doc):
    lines = [
        "# Bad inputs and what they answer",
        "",
        "Written by `bash scripts/write-bad-inputs.sh` (it runs `tests/e2e/test_bad_inputs.py` on the"
        " real local Kestra and writes this page anew): every bad input it tries, the exit code (or the exception the Deployer API raises)"
        " and the one line the user sees. Folders, ports and ids are made generic.",
        "",
        "| bad input | command or Python call | exit code / exception | message |",
        "|---|---|---|---|",
    ]
    for what, (command, code, message) in rows.items():
        lines.append("| %s | %s | %s | %s |" % (what, _cell(command), code, _cell(message)))
    doc.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _cell(text):
    return text.replace("|", "\\|")
