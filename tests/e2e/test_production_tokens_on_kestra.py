"""Production namespaces as on Argo: runs tagged production:<token>, redeploys guarded by the token,
new tokens from the CLI and the Deployer."""

import json
import uuid

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"

_TAGS = r"""
import json, sys
from metaflow import Flow, Run, namespace
from metaflow.exception import MetaflowNamespaceMismatch
namespace(None)
run = Run(sys.argv[1])
seen = {}
for name in ("production:%s" % sys.argv[2], "user:tester"):
    namespace(name)
    try:
        seen[name] = [r.pathspec for r in Flow("LinearFlow").runs()]
    except MetaflowNamespaceMismatch:  # no run of the flow in that namespace
        seen[name] = []
print(json.dumps({"system_tags": sorted(run.system_tags), "seen": seen}))
"""

_DEPLOYER = r"""
import json, sys
from metaflow import Deployer
deployed = Deployer(sys.argv[1]).kestra(kestra_namespace=sys.argv[2], flow_id=sys.argv[3]).create(
    generate_new_token=True)
again = type(deployed).from_deployment("%s/%s" % (sys.argv[2], sys.argv[3]))
print(json.dumps([deployed.production_token, again.production_token]))
"""


def kestra(workspace, flow_id, *args, check=True, env=None):
    saved = dict(workspace.env)
    workspace.env.update(env or {})
    try:
        return workspace.flow_command("linear_flow", "kestra", "--kestra-namespace", NAMESPACE, "--flow-id", flow_id,
                                      *args, check=check)
    finally:
        workspace.env.clear()
        workspace.env.update(saved)


def announced_token(stderr):
    line = next(line for line in stderr.splitlines() if "Metaflow namespace production:" in line)
    return line.split("production:")[1].split(" ")[0].rstrip(".")


def test_runs_go_to_the_production_namespace_and_redeploys_need_the_token(workspace):
    from tests.flow_loading import flow_path

    flow_id = "prodtokens-%s" % uuid.uuid4().hex[:8]
    created = kestra(workspace, flow_id, "create")
    token = announced_token(created.stderr)
    assert token.startswith("%s-0-" % flow_id) and "(a new production token)" in created.stderr

    run_id_file = workspace.root / "run-id"
    kestra(workspace, flow_id, "trigger", "--wait", "--run-id-file", str(run_id_file))
    run_id = run_id_file.read_text()
    seen = json.loads(workspace.client(_TAGS, "LinearFlow/%s" % run_id, token))
    assert "production:%s" % token in seen["system_tags"] and "user:tester" not in seen["system_tags"]
    assert "LinearFlow/%s" % run_id in seen["seen"]["production:%s" % token]
    assert "LinearFlow/%s" % run_id not in seen["seen"]["user:tester"]

    # Another user, with their own token cache: refused without the token, in one line.
    bob = {"METAFLOW_USER": "bob", "METAFLOW_TOKEN_HOME": str(workspace.root / "bob-tokens")}
    refused = kestra(workspace, flow_id, "create", check=False, env=bob)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1] == (
        "Flow LinearFlow: Kestra flow %s.%s was deployed by user tester under a production token you did not "
        "give: ask them for it and deploy with --authorize TOKEN (or use another --flow-id)." % (NAMESPACE, flow_id))
    wrong = kestra(workspace, flow_id, "run", "--authorize", "not-it", check=False, env=bob)
    assert wrong.returncode == 1 and "was deployed by user tester" in wrong.stderr
    authorized = kestra(workspace, flow_id, "create", "--authorize", "production:%s" % token, env=bob)
    assert announced_token(authorized.stderr) == token
    assert announced_token(kestra(workspace, flow_id, "create", env=bob).stderr) == token  # cached

    # The owner starts a new namespace from the Deployer; the deployment reports it.
    tokens = json.loads(workspace.client(_DEPLOYER, flow_path("linear_flow"), NAMESPACE, flow_id).splitlines()[-1])
    assert tokens[0] == tokens[1] and tokens[0].startswith("%s-1-" % flow_id)
    given = kestra(workspace, flow_id, "create", "--new-token", "team-a")
    assert announced_token(given.stderr) == "team-a"


def test_a_flow_metaflow_kestra_did_not_deploy_is_not_replaced(workspace, kestra_client):
    flow_id = "handwritten-%s" % uuid.uuid4().hex[:8]
    kestra_client.deploy_flow("id: %s\nnamespace: %s\ntasks:\n- id: hello\n  type: io.kestra.plugin.core.log.Log\n"
                              "  message: hi\n" % (flow_id, NAMESPACE), NAMESPACE, flow_id)
    refused = kestra(workspace, flow_id, "create", check=False)
    assert refused.returncode == 1
    assert "Kestra flow %s.%s exists and was not deployed by metaflow-kestra" % (NAMESPACE, flow_id) in \
        refused.stderr.strip().splitlines()[-1]
    assert kestra_client.flow(NAMESPACE, flow_id)["tasks"][0]["id"] == "hello"
