"""Production tokens: which Metaflow namespace a deployment's runs go to, and who may redeploy it.

As on Argo (read at Metaflow 2.19.39, `argo_workflows_cli.resolve_token`): the first deployment
of a flow gets a new token, and its runs are tagged `production:<token>` (tasks run with
METAFLOW_PRODUCTION_TOKEN). A redeployment keeps the token. Another user may redeploy only with
`--authorize <token>`; `--generate-new-token` and `--new-token` start a new namespace. The token
is a namespace name, not a credential: every run shows it in its tags. Tokens are made, cached
(METAFLOW_HOME, or METAFLOW_TOKEN_HOME) and read with Metaflow's own functions, so a flow's
token cache is the one Argo and Step Functions use.
"""

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Optional

from .errors import KestraError

NAMESPACE_PREFIX = "production:"


@dataclass(frozen=True)
class TokenRequest:
    """What the user asked for on `create`/`run`: --authorize, --new-token, --generate-new-token."""

    authorize: Optional[str] = None
    given: Optional[str] = None
    generate_new: bool = False


@dataclass(frozen=True)
class PreviousDeployment:
    """The owner and token of the deployment already on Kestra (token None: deployed before tokens)."""

    owner: str
    token: Optional[str]


def bare(token):
    """`abc` for `production:abc` or `abc`, as Argo accepts both."""
    return token[len(NAMESPACE_PREFIX):] if token and token.startswith(NAMESPACE_PREFIX) else token


def token_prefix(flow_id, project_branch=None):
    """The name tokens of this deployment derive from (and are cached under), as Argo names it:
    mfprj-<hash of "project.branch"> under @project, else the flow's name on the scheduler."""
    if project_branch:
        digest = hashlib.sha1(project_branch.encode("utf-8")).digest()
        return ("mfprj-%s" % base64.b32encode(digest).decode("ascii")[:16]).lower()
    return flow_id.lower()


def previous_deployment(flow_json):
    """The PreviousDeployment recorded in a deployed Kestra flow's JSON (None when it has none).

    Read from the flow's `metaflow_deployment` variable without checking its format: an older
    metaflow-kestra's deployment still names its owner.
    """
    variables = flow_json.get("variables") or {}
    if "metaflow_deployment" not in variables:
        return None
    try:
        deployment = json.loads(variables["metaflow_deployment"])
    except (TypeError, ValueError):
        return None
    owner = (deployment.get("environment_variables") or {}).get("METAFLOW_USER", "")
    return PreviousDeployment(owner, deployment.get("production_token") or None)


def _generator():
    from metaflow.plugins.aws.step_functions.production_token import load_token, new_token, store_token

    return load_token, new_token, store_token


def resolve(request, previous, prefix, user, flow_label, is_project=False, echo=print, tokens=None):
    """The token for this deployment (stored in the token cache), or a KestraError when `user`
    may not redeploy: the previous deployment has a token, another owner, and `request` does not
    authorize with it.

    `flow_label` names the deployment in messages. `tokens`: (load, new, store) functions, by
    default Metaflow's.
    """
    load_token, new_token, store_token = tokens or _generator()
    previous_token = previous.token if previous else None
    if previous_token is not None:
        authorize = bare(request.authorize) if request.authorize else load_token(prefix)
        if previous.owner != user and authorize != previous_token:
            raise KestraError(
                "%s was deployed by user %s under a production token you did not give: ask them for it and "
                "deploy with --authorize TOKEN (or use another --flow-id)." % (flow_label, previous.owner or "?"))
    token = _chosen(request, previous_token, prefix, is_project, new_token)
    _announce(token, token != previous_token, echo)
    store_token(prefix, token)
    return token


def offline(request, prefix, is_project=False, tokens=None):
    """The token `compile` (or `create --only-json`) writes, with no server to ask: the given or a
    new one when asked, else the one cached by the last `create`, else the one a first `create`
    would make."""
    load_token, new_token, _ = tokens or _generator()
    if request.given or request.generate_new:
        return _chosen(request, None, prefix, is_project, new_token)
    return load_token(prefix) or new_token(prefix, None)


def _chosen(request, previous_token, prefix, is_project, new_token):
    if request.given:
        if is_project:
            # Tokens of a @project derive from its project and branch: a free-form one would not.
            raise KestraError("--new-token is not supported for a @project flow: use --generate-new-token.")
        return bare(request.given)
    if previous_token is None or request.generate_new:
        token = new_token(prefix, previous_token)
        if token is None:  # the previous token was not one Metaflow generated
            raise KestraError("--generate-new-token cannot follow a token given with --new-token: "
                              "give another with --new-token.")
        return token
    return previous_token


def _announce(token, is_new, echo):
    echo("Runs of this deployment are in Metaflow namespace %s%s%s" % (
        NAMESPACE_PREFIX, token, " (a new production token)." if is_new else "."))
    if is_new:
        echo('Read them with namespace("%s%s") (or namespace(None)); to let someone else redeploy this '
             "flow, give them the token: they deploy with --authorize %s." % (NAMESPACE_PREFIX, token, token))
