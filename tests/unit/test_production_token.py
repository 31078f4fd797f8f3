"""Production tokens decided as Argo decides them (Metaflow 2.19.39 `resolve_token`), with Metaflow's
own token generator and cache (in a temporary METAFLOW_TOKEN_HOME)."""

import json

import pytest

from metaflow_kestra.errors import KestraError
from metaflow_kestra.production_token import (
    PreviousDeployment, TokenRequest, bare, offline, previous_deployment, resolve, token_prefix)


@pytest.fixture(autouse=True)
def token_home(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_TOKEN_HOME", str(tmp_path))
    return tmp_path


def deploy(request=TokenRequest(), previous=None, user="ana", prefix="myflow", is_project=False):
    said = []
    token = resolve(request, previous, prefix, user, "Kestra flow metaflow.myflow", is_project, said.append)
    return token, said


def first_token(prefix="myflow"):
    from metaflow.plugins.aws.step_functions.production_token import new_token

    return new_token(prefix)


def test_a_first_deployment_gets_metaflow_s_first_token_and_caches_it(token_home):
    token, said = deploy()
    assert token == first_token() and token.startswith("myflow-0-")
    assert json.loads((token_home / "myflow").read_text()) == {"production_token": token}
    assert "namespace production:%s (a new production token)" % token in said[0]
    assert "--authorize %s" % token in said[1]


def test_a_redeployment_keeps_the_token():
    token, said = deploy(previous=PreviousDeployment("ana", "myflow-0-abcd"))
    assert token == "myflow-0-abcd" and said == ["Runs of this deployment are in Metaflow namespace "
                                                 "production:myflow-0-abcd."]


def test_another_user_needs_the_token():
    with pytest.raises(KestraError) as refused:
        deploy(previous=PreviousDeployment("ana", "myflow-0-abcd"), user="bob")
    assert str(refused.value).startswith("Kestra flow metaflow.myflow was deployed by user ana under a production "
                                         "token you did not give")
    with pytest.raises(KestraError):
        deploy(TokenRequest(authorize="wrong"), PreviousDeployment("ana", "myflow-0-abcd"), user="bob")
    for given in ("myflow-0-abcd", "production:myflow-0-abcd"):
        assert deploy(TokenRequest(authorize=given), PreviousDeployment("ana", "myflow-0-abcd"), user="bob")[0] \
            == "myflow-0-abcd"


def test_an_authorized_token_is_remembered_for_the_next_deployment():
    deploy(TokenRequest(authorize="myflow-0-abcd"), PreviousDeployment("ana", "myflow-0-abcd"), user="bob")
    assert deploy(previous=PreviousDeployment("ana", "myflow-0-abcd"), user="bob")[0] == "myflow-0-abcd"


def test_new_tokens_given_or_generated():
    previous = PreviousDeployment("ana", first_token())
    assert deploy(TokenRequest(given="production:mine"), previous)[0] == "mine"
    generated = deploy(TokenRequest(generate_new=True), previous)[0]
    assert generated.startswith("myflow-1-") and generated != previous.token
    with pytest.raises(KestraError, match="cannot follow a token given with --new-token"):
        deploy(TokenRequest(generate_new=True), PreviousDeployment("ana", "mine"))


def test_a_project_takes_no_free_form_token():
    with pytest.raises(KestraError, match="not supported for a @project"):
        deploy(TokenRequest(given="mine"), prefix=token_prefix("x", "proj.user.ana"), is_project=True)


def test_prefixes_are_argo_s():
    # What Argo's resolve_workflow_name gives for project "proj", branch "user.ana".
    import base64
    from hashlib import sha1

    assert token_prefix("x", "proj.user.ana") == (
        "mfprj-%s" % base64.b32encode(sha1(b"proj.user.ana").digest()).decode()[:16]).lower()
    assert token_prefix("MyFlow") == "myflow"


def test_deployments_before_tokens_and_flows_not_ours():
    assert previous_deployment({"variables": {}}) is None
    old = {"variables": {"metaflow_deployment": json.dumps({"environment_variables": {"METAFLOW_USER": "ana"}})}}
    assert previous_deployment(old) == PreviousDeployment("ana", None)
    # A deployment without a token guards nothing: anyone's deploy gives it a first token.
    assert deploy(previous=previous_deployment(old), user="bob")[0] == first_token()


def test_compile_writes_the_given_the_cached_or_the_first_token():
    assert offline(TokenRequest(), "myflow") == first_token()
    deploy(TokenRequest(given="cached"))
    assert offline(TokenRequest(), "myflow") == "cached"
    assert offline(TokenRequest(given="production:given"), "myflow") == "given"
    assert bare("production:a") == "a" and bare("a") == "a" and bare(None) is None
