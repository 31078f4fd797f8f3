"""Deploying a flow: from `python flow.py kestra compile|create|run` to a flow on Kestra.

The plugin CLI parses options and calls these: they build the deployment
record, compile the Kestra flow, write it out, and upload it with its code
package. Operating the executions of a deployed flow is `executions`.
"""

import os
import re
import sys
from dataclasses import dataclass

from . import code_package, yaml_out
from .compiler import CompileOptions, compile_flow, default_flow_id
from .decorators import ENV_NAME, flow_triggers
from .deployment import Deployment
from .errors import KestraError
from .parameters import parameter_kinds
from .notifications import NotifyOptions, notification_spec
from .production_token import TokenRequest
from .versions import supported_major

# Kestra secrets every step gets as environment variables, besides --secret (comma-separated).
SECRETS_ENV = "METAFLOW_KESTRA_SECRETS"
# The Kestra secret that holds METAFLOW_SERVICE_HEADERS for the tasks, and how to name another.
DEFAULT_SERVICE_HEADERS_SECRET = "METAFLOW_SERVICE_HEADERS"
SERVICE_HEADERS_SECRET_ENV = "METAFLOW_KESTRA_SERVICE_HEADERS_SECRET"


STARTED_PACKAGE = "kestra_started_package"  # where `create`/`run` keep the package they began, on click's obj


@dataclass
class FlowContext:
    """The Metaflow side of a `python flow.py kestra ...` call (from click's `obj`)."""

    flow: object
    graph: object
    flow_name: str
    flow_file: str
    metadata_type: str
    environment_type: str
    datastore_type: str
    datastore_root: str
    environment: object = None
    echo: object = None
    package_suffixes: object = None
    started_package: object = None  # the code package `start_package` began, if it did

    @classmethod
    def from_obj(cls, obj):
        return cls(
            flow=obj.flow,
            graph=obj.graph,
            flow_name=obj.flow.name,
            flow_file=os.path.abspath(sys.argv[0]),
            metadata_type=obj.metadata.TYPE,
            environment_type=obj.environment.TYPE,
            datastore_type=obj.flow_datastore.TYPE,
            datastore_root=obj.flow_datastore.datastore_root,
            environment=obj.environment,
            echo=obj.echo,
            package_suffixes=getattr(obj, "package_suffixes", None),
            started_package=getattr(obj, STARTED_PACKAGE, None),
        )

    def start_package(self):
        """Begin the code package (Metaflow makes it in a thread): a deploy then reaches the server
        and compiles while it is made, instead of after (issue 30: a small flow's fixed costs)."""
        return code_package.start(self.flow, self.environment, self.echo, self.package_suffixes)

    def code_package(self):
        return code_package.build(self.flow, self.environment, self.echo, self.package_suffixes,
                                  started=self.started_package)

    @property
    def steps(self):
        return [node.name for node in self.graph]


@dataclass
class Target:
    """Where the flow lives on Kestra."""

    namespace: str
    flow_id: str

    @classmethod
    def of(cls, flow_name, namespace, flow_id=None):
        return cls(namespace, flow_id or default_flow_id(flow_name, project_branch()))


def project_branch():
    """"project.branch" of a flow under @project (branch as Metaflow names it: user.ana, prod, test.x)."""
    from metaflow import current

    project, flow = current.get("project_name"), current.get("project_flow_name")
    if not project or not flow:
        return None
    return flow.rsplit(".", 1)[0]


def upstream_flow_id(flow_name, scope):
    """The Kestra flow id of an upstream flow named by @trigger_on_finish."""
    return default_flow_id(flow_name, scope or project_branch())


def extra_top_level_options(flow):
    """Flow decorators' top-level options (e.g. @project's --branch)."""
    from metaflow.decorators import flow_decorators
    from metaflow.util import dict_to_cli_options

    options = {}
    for deco in flow_decorators(flow):
        options.update(deco.get_top_level_options())
    options.pop("trigger", None)  # the runtime passes the upstream run itself
    return list(dict_to_cli_options(options))


def frozen_configs(flow):
    """The flow's Config values as resolved now ({name: [value, is_plain]}): fixed for the deployment."""
    from metaflow.user_configs.config_parameters import dump_config_values

    return dump_config_values(flow).get("user_configs", {})


# Metaflow's configuration that a step in a container needs and, unlike a step on the worker,
# cannot find in the worker's environment: where the datastore and cards are and how to reach
# them. Argo passes the same to its pods. Credentials are not among them (see --secret).
CONTAINER_CONFIG = ("S3_ENDPOINT_URL", "DATASTORE_SYSROOT_S3", "DATATOOLS_S3ROOT", "CARD_S3ROOT",
                    "S3_SERVER_SIDE_ENCRYPTION", "DATASTORE_SYSROOT_AZURE", "CARD_AZUREROOT",
                    "AZURE_STORAGE_BLOB_SERVICE_ENDPOINT", "DATASTORE_SYSROOT_GS", "CARD_GSROOT",
                    "DEFAULT_SECRETS_BACKEND_TYPE")


def container_environment():
    """{METAFLOW_<NAME>: value} of CONTAINER_CONFIG as this machine's Metaflow has it."""
    from metaflow import metaflow_config

    values = {name: getattr(metaflow_config, name, None) for name in CONTAINER_CONFIG}
    return {"METAFLOW_" + name: str(value) for name, value in values.items() if value not in (None, "")}


def secret_names(names, flow_name):
    """--secret names (and METAFLOW_KESTRA_SECRETS, comma-separated), checked: each is both a Kestra
    secret's name and the environment variable a step gets it as."""
    chosen = list(names) + [name.strip() for name in os.environ.get(SECRETS_ENV, "").split(",") if name.strip()]
    for name in chosen:
        if not ENV_NAME.match(name):
            raise KestraError("Flow %s: --secret %r: a secret is named like an environment variable "
                              "(letters, digits and '_', not starting with a digit)." % (flow_name, name))
    return sorted(set(chosen))


def make_deployment(context, target, tags=(), triggers=None, workflow_timeout=0, package=None,
                    worker_metaflow=False, production_token="", notifications=None, secrets=(),
                    container=False):
    from metaflow.util import get_username

    env = {"METAFLOW_USER": get_username() or "kestra"}
    if container:
        env.update(container_environment())
        env["METAFLOW_KESTRA_WARM_START"] = "0"  # a fresh container per task: no warm interpreter to reuse
    if production_token:
        # Metaflow tags the runs production:<token> instead of user:<name>, as on Argo.
        env["METAFLOW_PRODUCTION_TOKEN"] = production_token
    if context.datastore_type == "local":
        # Local metadata finds its root through this variable, not --datastore-root.
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(context.datastore_root)
    elif context.metadata_type == "local":
        # Remote datastore, local metadata: tasks record the run where this machine's
        # client looks, not in the task's temporary working directory.
        from metaflow.plugins.datastores.local_storage import LocalStorage

        local_root = LocalStorage.get_datastore_root_from_config(lambda *args, **kwargs: None)
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(local_root)
    headers_secret = ""
    if context.metadata_type == "service":
        from metaflow.metaflow_config import SERVICE_HEADERS, SERVICE_URL

        env["METAFLOW_SERVICE_URL"] = SERVICE_URL or ""
        if SERVICE_HEADERS:
            # Credentials: never in the YAML. Tasks read them from a Kestra secret.
            headers_secret = os.environ.get(SERVICE_HEADERS_SECRET_ENV) or DEFAULT_SERVICE_HEADERS_SECRET
            if not re.match(r"^[A-Za-z0-9_]+$", headers_secret):
                raise KestraError("%s=%r: a Kestra secret name uses letters, digits and '_'."
                                  % (SERVICE_HEADERS_SECRET_ENV, headers_secret))
    return Deployment(
        flow_name=context.flow_name,
        flow_file=package.flow_file if package else context.flow_file,
        code_path=package.namespace_path(target.flow_id) if package else "",
        code_sha=package.sha if package else "",
        code_files_sha=package.files_sha if package else "",
        code_metadata=package.metadata if package else "",
        worker_metaflow=worker_metaflow,
        service_headers_secret=headers_secret,
        kestra_namespace=target.namespace,
        kestra_flow_id=target.flow_id,
        metadata=context.metadata_type,
        environment=context.environment_type,
        datastore=context.datastore_type,
        datastore_root=context.datastore_root,
        tags=list(tags),
        parameters=parameter_kinds(context.flow),
        environment_variables=env,
        extra_options=extra_top_level_options(context.flow),
        configs=frozen_configs(context.flow),
        events=[{"name": e.name, "parameters": e.parameters} for e in (triggers.events if triggers else [])],
        upstream=dict(triggers.upstream) if triggers else {},
        workflow_timeout=int(workflow_timeout or 0),
        production_token=production_token,
        notifications=notifications or {},
        secret_environment=list(secrets),
    )


@dataclass
class DeployOptions:
    """What `compile`, `create` and `run` share (click options of the same names)."""

    max_workers: int = 16
    tags: tuple = ()
    workflow_timeout: int = 0
    task_runner: str = "process"
    image: str = ""
    docker_network: str = ""
    worker_python: str = "python"
    secrets: tuple = ()  # Kestra secrets every step gets as environment variables of the same names
    foreach: str = "inline"
    foreach_batch: int = 100
    kestra_version: str = ""  # the Kestra whose flow language to write; "" = the server's
    worker_metaflow: bool = False  # steps run the worker's Metaflow, not the code package's
    token_request: TokenRequest = TokenRequest()  # --authorize, --new-token, --generate-new-token
    production_token: str = ""  # the token decided for this deployment (see with_production_token)
    notify: NotifyOptions = NotifyOptions()  # --notify-* (notifications.py)
    executions_url: str = ""  # the Kestra UI's page of this flow's executions, for notifications' links

    def compile_options(self, target, kestra_major=1):
        return CompileOptions(namespace=target.namespace, flow_id=target.flow_id, max_workers=self.max_workers,
                              python=self.worker_python, task_runner=self.task_runner, image=self.image or "",
                              docker_network=self.docker_network or "",
                              foreach=self.foreach, foreach_batch=self.foreach_batch, kestra_major=kestra_major)


def major_of(version, flow_name):
    """1 for "1.3" or "1.3.31", 2 for "2.0.0"; a KestraError for anything else."""
    major = supported_major(version)
    if major is None:
        raise KestraError("Flow %s: --kestra-version %r is not a Kestra version metaflow-kestra writes flows for "
                          "(1.x, e.g. 1.3, or 2.x, e.g. 2.0)." % (flow_name, version))
    return major


def target_kestra_major(settings, flow_name, client=None, probe=None):
    """The Kestra line to compile for: --kestra-version, else the server's, else 1.x (the LTS).

    `client` is the server the flow is about to be deployed to: a --kestra-version of
    another major is refused, since that server would reject or misrun the flow. `probe`
    gives a client to ask when nothing is deployed (`compile`); a server it cannot
    reach leaves the default.
    """
    asked = major_of(settings.kestra_version, flow_name) if settings.kestra_version else None
    if client is not None:
        client.check_supported()  # a version it cannot drive is refused first, in its own words
        major = client.kestra_major()
        if asked is not None and asked != major:
            raise KestraError(
                "Flow %s: --kestra-version %s writes a flow for Kestra %d.x, but the server at %s runs %s. "
                "Drop --kestra-version to write for the server's version." % (
                    flow_name, settings.kestra_version, asked, client.connection.url, client.server_version()))
        return major
    if asked is not None:
        return asked
    if probe is not None:
        try:
            return probe().kestra_major()
        except KestraError:
            pass
    return 1


def with_production_token(settings, context, target, client=None, echo=None):
    """`settings` with the production token of this deployment: decided against the deployment
    already on the server `client` talks to (`create`, `run`), or offline (`compile`)."""
    import dataclasses

    from . import production_token as tokens

    branch = project_branch()
    prefix = tokens.token_prefix(target.flow_id, branch)
    if client is None:
        token = tokens.offline(settings.token_request, prefix, is_project=branch is not None)
    else:
        from metaflow.util import get_username

        token = tokens.resolve(settings.token_request, previous_deployment(client, target), prefix,
                               get_username() or "kestra", "Flow %s: Kestra flow %s.%s" % (
                                   context.flow_name, target.namespace, target.flow_id),
                               is_project=branch is not None, echo=echo or print)
    return dataclasses.replace(settings, production_token=token)


def previous_deployment(client, target):
    """The owner and token of the deployment on Kestra (None if there is none); a KestraError when
    a flow by that id exists that metaflow-kestra did not deploy (deploying would replace it)."""
    from .client import KestraApiError
    from .production_token import previous_deployment as recorded

    try:
        flow = client.flow(target.namespace, target.flow_id)
    except KestraApiError as error:
        if error.status_code != 404:
            raise
        return None
    previous = recorded(flow)
    if previous is None:
        raise KestraError(
            "Kestra flow %s.%s exists and was not deployed by metaflow-kestra: deploying would replace it. "
            "Deploy under another --flow-id or --kestra-namespace, or delete that flow in Kestra first."
            % (target.namespace, target.flow_id))
    return previous


def compile_to_yaml(context, target, settings=None, echo=None, kestra_major=1):
    """(YAML text, code package) of the Kestra flow for this Metaflow flow.

    The YAML names the package's namespace file; `deploy` uploads both. With
    `--foreach subflows` it holds the flow, then the child flows of its foreach
    bodies, one YAML document each.
    """
    settings = settings or DeployOptions()
    options = settings.compile_options(target, kestra_major)
    tags, workflow_timeout = settings.tags, settings.workflow_timeout
    triggers = flow_triggers(context.flow, context.flow_name, upstream_flow_id)
    package = context.code_package()
    notifications = notification_spec(settings.notify, context.flow_name, os.environ, settings.executions_url)
    deployment = make_deployment(context, target, tags, triggers, workflow_timeout, package,
                                 settings.worker_metaflow, settings.production_token, notifications,
                                 secrets=secret_names(settings.secrets, context.flow_name),
                                 container=settings.task_runner == "docker")
    kestra = compile_flow(context.flow, context.graph, deployment, options, triggers)
    for note in kestra.notes:
        (echo or (lambda text: print(text, file=sys.stderr)))("Note: " + note)
    flows = kestra.with_children()
    if len(flows) == 1:
        return yaml_out.dump(kestra.to_dict()), package
    return yaml_out.dump_all([flow.to_dict() for flow in flows]), package


def write_yaml(text, destination):
    if destination == "-":
        sys.stdout.write(text)
        return
    write_file(destination, text.encode("utf-8"), "the Kestra flow")


def write_file(path, data, what):
    """Write `data` (bytes) to `path`; a path that cannot be written is a KestraError naming it."""
    try:
        with open(path, "wb") as handle:
            handle.write(data)
    except OSError as err:
        raise KestraError("Cannot write %s to %s: %s. Check that the folder exists and is writable."
                          % (what, path, err.strerror or err))


def deploy(client, text, package, target):
    """Upload the code package (a namespace file), then create or update the Kestra flow.

    Child flows (foreach bodies) go first, so the flow never starts one that is missing
    or stale; those of an earlier deployment that this one no longer starts are removed.
    Returns the ids of the child flows.
    """
    client.check_supported()
    client.upload_namespace_file(target.namespace, package.namespace_path(target.flow_id), package.blob)
    documents = yaml_out.documents(text)
    if len(documents) == 1:
        documents = [text]  # sent as written
    flows = [(yaml_out.flow_id_of(document), document) for document in documents]
    before = deployed_children(client, target.namespace, target.flow_id)
    for flow_id, document in reversed(flows):
        client.deploy_flow(document, target.namespace, flow_id)
    for stale in sorted(set(before) - {flow_id for flow_id, _ in flows}):
        client.delete_flow(target.namespace, stale)
    return [flow_id for flow_id, _ in flows[1:]]


def deployed_children(client, namespace, flow_id):
    """Ids of the child flows the deployed flow starts (its ForEachItem tasks), at every depth,
    and of the receiver flows of its events.

    [] when the flow is not deployed.
    """
    from .client import KestraApiError
    from .kestra_flow import FOR_EACH_ITEM, walk_task_dicts

    try:
        flow = client.flow(namespace, flow_id)
    except KestraApiError as error:
        if error.status_code != 404:
            raise
        return []
    children = []
    for task in walk_task_dicts(flow.get("tasks") or []):
        if task.get("type") == FOR_EACH_ITEM and task.get("namespace") == namespace and task.get("flowId"):
            children.append(task["flowId"])
            children.extend(deployed_children(client, namespace, task["flowId"]))
    return children + event_receivers_of(flow)


def event_receivers_of(flow):
    """Ids of the receiver flows of a deployed flow that waits for several events."""
    from .event_receivers import ARRIVED_TRIGGER, receiver_flow_id
    from .kestra_flow import FLOW_TRIGGER

    found = []
    for trigger in flow.get("triggers") or []:
        if trigger.get("type") != FLOW_TRIGGER or trigger.get("id") != ARRIVED_TRIGGER:
            continue
        upstream = trigger.get("dependsOn") or (trigger.get("preconditions") or {}).get("flows") or []
        found.extend(
            condition["flowId"] for condition in upstream
            if condition.get("namespace") == flow["namespace"]
            and str(condition.get("flowId", "")).startswith(receiver_flow_id(flow["id"], ""))
        )
    return found


def delete_deployed(client, target):
    """Remove the flow and the child flows it starts."""
    children = deployed_children(client, target.namespace, target.flow_id)
    client.delete_flow(target.namespace, target.flow_id)
    for child in children:
        client.delete_flow(target.namespace, child)
