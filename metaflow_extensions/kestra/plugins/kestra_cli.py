"""`python flow.py kestra ...`: the flow-level commands (thin; logic lives in metaflow_kestra)."""

import functools
import sys

from metaflow import parameters
from metaflow._vendor import click

DEFAULT_NAMESPACE = "metaflow"


def _reports_errors(command):
    """A KestraError (or a Metaflow error) becomes one readable message and exit code 1."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from metaflow_kestra.errors import KestraError

        try:
            return command(*args, **kwargs)
        except KestraError as err:
            click.secho(err.render(), fg="red", err=True)
            sys.exit(1)

    return wrapper


@click.group()
def cli():
    pass


@cli.group(help="Compile, deploy, trigger and follow this flow on Kestra.")
@click.option("--kestra-host", default=None, help="Kestra URL (env METAFLOW_KESTRA_HOST; default: the local server).")
@click.option("--kestra-user", default=None, help="Basic-auth user (env METAFLOW_KESTRA_USER).")
@click.option("--kestra-password", default=None, help="Basic-auth password (env METAFLOW_KESTRA_PASSWORD).")
@click.option("--kestra-token", default=None, help="API token, instead of user/password (env METAFLOW_KESTRA_TOKEN).")
@click.option("--kestra-tenant", default=None, help="Tenant (env METAFLOW_KESTRA_TENANT; default main).")
@click.option("--kestra-namespace", default=DEFAULT_NAMESPACE, show_default=True,
              help="Kestra namespace of the deployed flow.")
@click.option("--flow-id", default=None, help="Kestra flow id (default: the flow name in lowercase).")
@click.pass_obj
def kestra(obj, kestra_host, kestra_user, kestra_password, kestra_token, kestra_tenant,
           kestra_namespace, flow_id):
    # Metaflow's own graph checks first, as every scheduler integration does.
    obj.check(obj.graph, obj.flow, obj.environment, pylint=obj.pylint)
    obj.kestra_connection = dict(
        host=kestra_host, username=kestra_user, password=kestra_password,
        token=kestra_token, tenant=kestra_tenant,
    )
    obj.kestra_namespace = kestra_namespace
    obj.kestra_flow_id = flow_id


def _compile_options(obj, max_workers):
    from metaflow_kestra.compiler import CompileOptions

    return CompileOptions(
        namespace=obj.kestra_namespace, flow_id=obj.kestra_flow_id or "", max_workers=max_workers,
    )


def _flow_id(obj):
    from metaflow_kestra.compiler import default_flow_id

    return obj.kestra_flow_id or default_flow_id(obj.flow.name)


max_workers_option = click.option(
    "--max-workers", default=16, show_default=True, type=int,
    help="How many items of a foreach run at once (Kestra ForEach concurrencyLimit).",
)
tag_option = click.option(
    "--tag", "tags", multiple=True, default=None, help="Tag for the runs of this deployment (repeatable).",
)
run_id_file_option = click.option(
    "--run-id-file", default=None, type=str, help="Write the ID of the Metaflow run to this file.",
)
wait_option = click.option(
    "--wait/--no-wait", default=False, show_default=True,
    help="Follow the execution and exit 0 only if it succeeds.",
)
timeout_option = click.option(
    "--wait-timeout", default=3600, show_default=True, type=int,
    help="With --wait, give up after this many seconds.",
)


@kestra.command(help="Write the Kestra flow for this Metaflow flow (default <flow-id>.yaml; '-' for stdout).")
@click.argument("file", required=False, default=None)
@max_workers_option
@tag_option
@click.pass_obj
@_reports_errors
def compile(obj, file, max_workers, tags):
    from metaflow_kestra.flow_commands import FlowContext, compile_to_yaml, write_yaml

    flow_id, text = compile_to_yaml(FlowContext.from_obj(obj), _compile_options(obj, max_workers), tags or ())
    destination = file or "%s.yaml" % flow_id
    write_yaml(text, destination)
    if destination != "-":
        obj.echo("Wrote Kestra flow *%s* to %s." % (flow_id, destination))


@kestra.command(help="Deploy this flow to Kestra (create it, or update it in place).")
@max_workers_option
@tag_option
@click.pass_obj
@_reports_errors
def create(obj, max_workers, tags):
    _deploy(obj, max_workers, tags)


def _deploy(obj, max_workers, tags):
    from metaflow_kestra.flow_commands import FlowContext, deploy

    client, flow_id = deploy(
        FlowContext.from_obj(obj), _compile_options(obj, max_workers), obj.kestra_connection, tags or (),
    )
    obj.echo("Deployed *%s* to Kestra namespace *%s* at %s."
             % (flow_id, obj.kestra_namespace, client.connection.url))
    return client, flow_id


@parameters.add_custom_parameters(deploy_mode=False)
@kestra.command(help="Start an execution of the deployed flow (parameters as --<name> value).")
@run_id_file_option
@wait_option
@timeout_option
@click.pass_obj
@_reports_errors
def trigger(obj, run_id_file, wait, wait_timeout, **kwargs):
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import resolve_connection

    client = KestraClient(resolve_connection(**obj.kestra_connection))
    _start(obj, client, _flow_id(obj), run_id_file, wait, wait_timeout, kwargs)


@parameters.add_custom_parameters(deploy_mode=False)
@kestra.command(help="Deploy this flow and start an execution (parameters as --<name> value).")
@max_workers_option
@tag_option
@run_id_file_option
@wait_option
@timeout_option
@click.pass_obj
@_reports_errors
def run(obj, max_workers, tags, run_id_file, wait, wait_timeout, **kwargs):
    client, flow_id = _deploy(obj, max_workers, tags)
    _start(obj, client, flow_id, run_id_file, wait, wait_timeout, kwargs)


def _start(obj, client, flow_id, run_id_file, wait, wait_timeout, values):
    from metaflow_kestra import ids
    from metaflow_kestra.flow_commands import execution_url, follow, start_execution, trigger_inputs

    namespace = obj.kestra_namespace
    execution_id = start_execution(client, namespace, flow_id, obj.flow.name, trigger_inputs(obj.flow, values))
    run_id = ids.run_id_for(execution_id)
    if run_id_file:
        with open(run_id_file, "w") as handle:
            handle.write(run_id)
    url = execution_url(client.connection, namespace, flow_id, execution_id)
    obj.echo("Started Kestra execution *%s*: Metaflow run *%s/%s*." % (execution_id, obj.flow.name, run_id))
    obj.echo("Kestra UI: %s" % url)
    if not wait:
        return
    state = follow(client, execution_id, obj.echo_always, wait_timeout)
    obj.echo("Execution %s ended %s. Metaflow run: %s/%s" % (execution_id, state, obj.flow.name, run_id))
    if state != "SUCCESS":
        sys.exit(1)
