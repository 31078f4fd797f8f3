"""What `python flow.py kestra <command>` does, without click.

The plugin CLI parses options and calls these; they build the deployment,
compile, talk to Kestra through `KestraClient` and report for people.
"""

import json
import os
import sys
from dataclasses import dataclass

from . import code_package, ids, yaml_out
from .client import KestraClient
from .compiler import CompileOptions, compile_flow, default_flow_id
from .connection import resolve_connection
from .decorators import flow_triggers
from .deployment import Deployment
from .errors import KestraError
from .parameters import BOOLEAN, JSON, parameter_kinds
from .progress import ProgressPrinter, failed_steps

FLOW_LABEL = "metaflow-flow"
USER_LABEL = "metaflow-user"
TAGS_LABEL = "metaflow-tags"


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
        )

    def code_package(self):
        return code_package.build(self.flow, self.environment, self.echo, self.package_suffixes)

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


def make_deployment(context, target, tags=(), triggers=None, workflow_timeout=0, package=None):
    from metaflow.util import get_username

    env = {"METAFLOW_USER": get_username() or "kestra"}
    if context.datastore_type == "local":
        # Local metadata finds its root through this variable, not --datastore-root.
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(context.datastore_root)
    elif context.metadata_type == "local":
        # Remote datastore, local metadata: tasks record the run where this machine's
        # client looks, not in the task's temporary working directory.
        from metaflow.plugins.datastores.local_storage import LocalStorage

        local_root = LocalStorage.get_datastore_root_from_config(lambda *args, **kwargs: None)
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(local_root)
    if context.metadata_type == "service":
        from metaflow.metaflow_config import SERVICE_URL

        env["METAFLOW_SERVICE_URL"] = SERVICE_URL or ""
    return Deployment(
        flow_name=context.flow_name,
        flow_file=package.flow_file if package else context.flow_file,
        code_path=package.namespace_path(target.flow_id) if package else "",
        code_sha=package.sha if package else "",
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
    )


@dataclass
class DeployOptions:
    """What `compile`, `create` and `run` share (click options of the same names)."""

    max_workers: int = 16
    tags: tuple = ()
    workflow_timeout: int = 0
    task_runner: str = "process"
    image: str = ""
    worker_python: str = "python"

    def compile_options(self, target):
        return CompileOptions(namespace=target.namespace, flow_id=target.flow_id, max_workers=self.max_workers,
                              python=self.worker_python, task_runner=self.task_runner, image=self.image or "")


def compile_to_yaml(context, target, settings=None, echo=None):
    """(YAML text, code package) of the Kestra flow for this Metaflow flow.

    The YAML names the package's namespace file; `deploy` uploads both.
    """
    settings = settings or DeployOptions()
    options = settings.compile_options(target)
    tags, workflow_timeout = settings.tags, settings.workflow_timeout
    triggers = flow_triggers(context.flow, context.flow_name, upstream_flow_id)
    package = context.code_package()
    deployment = make_deployment(context, target, tags, triggers, workflow_timeout, package)
    kestra = compile_flow(context.flow, context.graph, deployment, options, triggers)
    for note in kestra.notes:
        (echo or (lambda text: print(text, file=sys.stderr)))("Note: " + note)
    return yaml_out.dump(kestra.to_dict()), package


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


def client_for(connection_options):
    return KestraClient(resolve_connection(**connection_options))


def deploy(client, text, package, target):
    """Upload the code package (a namespace file), then create or update the Kestra flow."""
    client.upload_namespace_file(target.namespace, package.namespace_path(target.flow_id), package.blob)
    client.deploy_flow(text, target.namespace, target.flow_id)


def trigger_inputs(flow, values):
    """Kestra input fields from the `--<param>` values given on the command line."""
    kinds = parameter_kinds(flow)
    fields = {}
    for name, kind in kinds.items():
        value = values.get(name.replace("-", "_").lower())
        if value is None:
            continue
        if callable(value) and not isinstance(value, (str, bytes)):
            value = value(return_str=True)  # Metaflow's DelayedEvaluationParameter
        if kind == JSON and not isinstance(value, str):
            value = json.dumps(value)
        elif kind == BOOLEAN:
            value = "true" if value in (True, "true", "True", "1") else "false"
        fields[name] = str(value)
    return fields


def run_labels(flow_name, tags=()):
    from metaflow.util import get_username

    labels = {FLOW_LABEL: flow_name, USER_LABEL: get_username() or "unknown"}
    if tags:
        labels[TAGS_LABEL] = ",".join(tags)
    return labels


def start_execution(client, target, flow_name, inputs, tags=(), extra_labels=None):
    """Start an execution with its labels; return the Metaflow run id.

    Labels go in the trigger call: Kestra refuses to change the labels of an
    execution that is not terminated (HTTP 400). The run id needs no label:
    it is `kestra-<execution id>`.
    """
    # Kestra starts executions of a deleted flow's last revision too: check first.
    client.flow(target.namespace, target.flow_id)
    labels = run_labels(flow_name, tags)
    labels.update(extra_labels or {})
    execution_id = client.trigger(target.namespace, target.flow_id, inputs=inputs, labels=labels)["id"]
    return ids.run_id_for(execution_id)


def execution_url(connection, target, execution_id):
    return "%s/ui/%s/executions/%s/%s/%s" % (
        connection.url, connection.tenant, target.namespace, target.flow_id, execution_id
    )


def follow(client, execution_id, steps, echo, timeout):
    """Wait for the execution with live per-step progress; show failed steps' logs. Return its state."""
    execution = client.wait(execution_id, timeout=timeout, on_update=ProgressPrinter(steps, echo))
    state = execution["state"]["current"]
    if state != "SUCCESS":
        for step in failed_steps(execution, set(steps)):
            echo("--- logs of failed step %s ---" % step)
            for line in format_logs(client.logs(execution_id, task_id=step))[-40:]:
                echo(line)
    return state


def format_logs(entries):
    return ["%s %-5s [%s] %s" % (e.get("timestamp", "")[:19], e.get("level", ""), e.get("taskId", ""),
                                 e.get("message", "")) for e in entries]


def execution_of(run_id):
    try:
        return ids.execution_id_of(run_id)
    except KestraError:
        raise KestraError(
            "%s is not a run started by Kestra: metaflow-kestra run ids look like kestra-<execution id>."
            % run_id
        )


def execution_of_flow(client, target, run_id):
    """The Kestra execution of `run_id`, checked to belong to this flow's deployment."""
    execution = client.execution(execution_of(run_id))
    if (execution.get("namespace"), execution.get("flowId")) != (target.namespace, target.flow_id):
        raise KestraError(
            "Run %s belongs to Kestra flow %s.%s, not %s.%s: run the command with that flow's file "
            "(or --kestra-namespace/--flow-id)." % (
                run_id, execution.get("namespace"), execution.get("flowId"), target.namespace, target.flow_id)
        )
    return execution


def describe_execution(execution, flow_name):
    state = execution["state"]
    return "%s/%s  %-9s started %s  ended %s" % (
        flow_name, ids.run_id_for(execution["id"]), state["current"],
        (state.get("startDate") or "-")[:19], (state.get("endDate") or "-")[:19],
    )


def descendants(graph, step):
    """`step` and every step after it (what `resume --step` runs again)."""
    seen, todo = [], [step]
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo.extend(graph[name].out_funcs)
    return seen


def resume_execution(client, target, context, origin_run_id, step=None, tags=()):
    """Start an execution that clones the origin run's finished tasks (all but `step` and after)."""
    from .started_by import ORIGIN_LABEL, RERUN_LABEL

    origin = execution_of_flow(client, target, origin_run_id)
    if step is not None and step not in [node.name for node in context.graph]:
        raise KestraError("Flow %s has no step %r to resume from." % (context.flow_name, step))
    inputs = {name: _input_field(value) for name, value in (origin.get("inputs") or {}).items()
              if value is not None}
    extra = {ORIGIN_LABEL: origin_run_id}
    if step is not None:
        extra[RERUN_LABEL] = ",".join(descendants(context.graph, step))
    return start_execution(client, target, context.flow_name, inputs, tags, extra_labels=extra)


def _input_field(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def send_event(client, name, payload):
    """POST `payload` to the webhook of every deployed flow that @trigger-s on event `name`.

    Returns the (namespace, flow id) of the flows it reached.
    """
    from .kestra_flow import WEBHOOK

    reached = []
    for flow in client.search_flows():
        for trigger in flow.get("triggers") or []:
            if trigger.get("type") == WEBHOOK and trigger.get("key") == name:
                client.webhook(flow["namespace"], flow["id"], name, payload)
                reached.append((flow["namespace"], flow["id"]))
    return reached
