"""What `python flow.py kestra compile|create|trigger|run` do, without click.

The plugin CLI parses options and calls these; they build the deployment,
compile, talk to Kestra through `KestraClient` and report for people.
"""

import json
import os
import sys
from dataclasses import dataclass

from . import yaml_out
from .client import KestraClient
from .compiler import compile_flow
from .connection import resolve_connection
from .deployment import Deployment
from .parameters import BOOLEAN, JSON, parameter_kinds

FLOW_LABEL = "metaflow-flow"


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
        )


def make_deployment(context, tags=()):
    from metaflow.util import get_username

    env = {"METAFLOW_USER": get_username() or "kestra"}
    if context.datastore_type == "local":
        # Local metadata finds its root through this variable, not --datastore-root.
        env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = os.path.dirname(context.datastore_root)
    if context.metadata_type == "service":
        from metaflow.metaflow_config import SERVICE_URL

        env["METAFLOW_SERVICE_URL"] = SERVICE_URL or ""
    return Deployment(
        flow_name=context.flow_name,
        flow_file=context.flow_file,
        metadata=context.metadata_type,
        environment=context.environment_type,
        datastore=context.datastore_type,
        datastore_root=context.datastore_root,
        tags=list(tags),
        parameters=parameter_kinds(context.flow),
        environment_variables=env,
    )


def compile_to_yaml(context, options, tags=()):
    """(flow id, YAML text) of the Kestra flow for this Metaflow flow."""
    kestra = compile_flow(context.flow, context.graph, make_deployment(context, tags), options)
    return kestra.id, yaml_out.dump(kestra.to_dict())


def write_yaml(text, destination):
    if destination == "-":
        sys.stdout.write(text)
        return
    with open(destination, "w", encoding="utf-8") as handle:
        handle.write(text)


def deploy(context, options, connection_options, tags=()):
    """Create or update the Kestra flow; return (client, flow id)."""
    flow_id, text = compile_to_yaml(context, options, tags)
    client = KestraClient(resolve_connection(**connection_options))
    client.deploy_flow(text, options.namespace, flow_id)
    return client, flow_id


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


def start_execution(client, namespace, flow_id, flow_name, inputs):
    execution = client.trigger(namespace, flow_id, inputs=inputs, labels={FLOW_LABEL: flow_name})
    return execution["id"]


def execution_url(connection, namespace, flow_id, execution_id):
    return "%s/ui/%s/executions/%s/%s/%s" % (
        connection.url, connection.tenant, namespace, flow_id, execution_id
    )


def follow(client, execution_id, echo, timeout):
    """Wait for the execution, printing each task run's state changes; return the final state."""
    seen = {}

    def on_update(execution):
        for run in execution.get("taskRunList") or []:
            key = (run["taskId"], run.get("value"))
            state = run["state"]["current"]
            if seen.get(key) != state:
                seen[key] = state
                label = run["taskId"] if run.get("value") is None else "%s[%s]" % key
                echo("  %-40s %s" % (label, state))

    execution = client.wait(execution_id, timeout=timeout, on_update=on_update)
    return execution["state"]["current"]
