"""`python flow.py kestra ...`: the flow-level commands (thin; logic lives in metaflow_kestra)."""

import functools
import json
import sys

from metaflow import parameters
from metaflow._vendor import click

from metaflow_kestra.errors import reports_errors

DEFAULT_NAMESPACE = "metaflow"


_reports_errors = reports_errors(click.secho)


@click.group()
def cli():
    pass


class _KestraGroup(click.Group):
    """The `kestra` group: an option of the group given after the command gets a hint, not only
    click's "no such option" (`kestra run --kestra-host URL` is a common slip)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except click.NoSuchOption as error:
            group_options = {name for param in self.params for name in getattr(param, "opts", ())}
            if error.option_name not in group_options:
                raise
            from metaflow_kestra.errors import flow_command

            command = error.ctx.info_name if error.ctx is not None else "<command>"
            raise click.UsageError(
                "%s is an option of the `kestra` group: give it before the command, as in `%s`." % (
                    error.option_name, flow_command("kestra %s ... %s ..." % (error.option_name, command))),
                ctx=error.ctx)
        finally:
            # The command is done; what is left is the interpreter's exit, whose garbage collections
            # walk every object Metaflow and the command made: 0.1-0.25 s of a small flow's
            # `run --wait` here (issue 30). Frozen objects are skipped; atexit handlers still run.
            import gc

            gc.freeze()


@cli.group(cls=_KestraGroup, help="Compile, deploy, trigger and follow this flow on Kestra.")
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
    import sys

    from metaflow_kestra.deploying import Target
    from metaflow_kestra.errors import set_flow_file
    from metaflow_kestra.graph_checks import run_checks

    set_flow_file(sys.argv[0])  # the flow file, as Metaflow's CLI was started

    # Metaflow's own graph checks first, as every scheduler integration does.
    run_checks(obj)
    obj.kestra_connection = dict(
        host=kestra_host, username=kestra_user, password=kestra_password,
        token=kestra_token, tenant=kestra_tenant,
    )
    obj.kestra_target = Target.of(obj.flow.name, kestra_namespace, flow_id)


def _context(obj):
    from metaflow_kestra.deploying import FlowContext

    return FlowContext.from_obj(obj)


def _start_package(obj):
    """Begin the flow's code package now: Metaflow makes it in its own thread while we reach the server."""
    from metaflow_kestra.deploying import STARTED_PACKAGE, FlowContext

    setattr(obj, STARTED_PACKAGE, FlowContext.from_obj(obj).start_package())


def _client(obj):
    from metaflow_kestra.client import connect

    return connect(**obj.kestra_connection)


def _probe_client(obj):
    """A client for asking the server's version quickly (compile works without a server)."""
    client = _client(obj)
    client.timeout = 3
    return client


def _compiled(obj, settings, client=None, with_major=False):
    """(YAML, code package) for the server `client` talks to, or the one `compile` may reach
    (and the Kestra major version written for, `with_major`)."""
    import dataclasses

    from metaflow_kestra.deploying import compile_to_yaml, target_kestra_major, with_production_token
    from metaflow_kestra.executions import execution_url

    major = target_kestra_major(settings, obj.flow.name, client=client,
                                probe=None if client else (lambda: _probe_client(obj)))
    settings = with_production_token(settings, _context(obj), obj.kestra_target, client, obj.echo)
    if client is not None:  # notifications link to the run's page in this server's UI (+ execution id)
        settings = dataclasses.replace(settings, executions_url=execution_url(client.connection, obj.kestra_target, ""))
    text, package = compile_to_yaml(_context(obj), obj.kestra_target, settings, obj.echo, kestra_major=major)
    return (text, package, major) if with_major else (text, package)


def _at_least_one(ctx, param, value):
    """A positive count (click's IntRange would suit, but Metaflow's Deployer API cannot map it)."""
    if value is not None and value < 1:
        raise click.BadParameter("must be 1 or more, not %d" % value)
    return value


tag_option = click.option(
    "--tag", "tags", multiple=True, default=None, help="Tag for the runs of this deployment (repeatable).",
)
_DEPLOY_OPTIONS = [
    click.option("--max-workers", default=16, show_default=True, type=int, callback=_at_least_one,
                 help="How many items of a foreach run at once (Kestra ForEach concurrencyLimit)."),
    tag_option,
    click.option("--workflow-timeout", default=None, type=int, callback=_at_least_one,
                 help="Fail a run once it has run this many seconds (no task starts after; running ones are cut)."),
    click.option("--task-runner", type=click.Choice(["process", "docker"]), default="process", show_default=True,
                 help="Kestra task runner: process (on the worker) or docker (a container per task)."),
    click.option("--image", default=None, help="Container image for --task-runner docker (Python, Metaflow and "
                 "metaflow-kestra installed); @kubernetes(image=...) overrides it per step."),
    click.option("--docker-network", default=None, metavar="MODE",
                 help="With --task-runner docker: the containers' network mode (Kestra's networkMode), e.g. host, "
                 "so steps reach servers on the worker's loopback such as a local S3. Default: the runner's."),
    click.option("--worker-python", default="python", show_default=True,
                 help="The Python on the worker (or in the image) that has Metaflow and metaflow-kestra."),
    click.option("--secret", "secrets", multiple=True, default=None, metavar="NAME",
                 help="A Kestra secret every step gets as the environment variable NAME, e.g. the "
                 "AWS_SECRET_ACCESS_KEY a container needs for an S3 datastore; repeatable (also env "
                 "METAFLOW_KESTRA_SECRETS, comma-separated)."),
    click.option("--foreach", "foreach", type=click.Choice(["inline", "subflows"]), default="inline",
                 show_default=True,
                 help="inline: a foreach's items are task runs of the run's execution (Kestra ForEach). "
                 "subflows: child executions of a flow holding the foreach body run the items (Kestra "
                 "ForEachItem), --foreach-batch items each; use it for foreaches of more than a few "
                 "hundred items."),
    click.option("--foreach-batch", default=100, show_default=True, type=int, callback=_at_least_one,
                 help="With --foreach subflows: the most items one child execution runs, --max-workers at a "
                 "time; the child executions run one after another. 1: an execution per item, "
                 "--max-workers of them at a time. A body with a foreach nested in it runs an item per "
                 "execution."),
    click.option("--worker-metaflow", is_flag=True, default=False,
                 help="Run each step with the worker's Metaflow and extensions instead of those in the code "
                 "package (which the deploying machine's are, as on Argo)."),
    click.option("--kestra-version", default=None,
                 help="The Kestra version to write the flow for (1.3, 2.0...). Default: the version of the "
                 "server it deploys to (for compile, the server's if one answers, else 1.3)."),
    click.option("--authorize", default=None,
                 help="Redeploy a flow another user deployed, with the production token they give you "
                 "(cached in METAFLOW_HOME afterwards)."),
    click.option("--generate-new-token", is_flag=True, default=False,
                 help="Start a new production namespace for this flow's runs (a new token)."),
    click.option("--new-token", "given_token", default=None,
                 help="Use this production token (runs go to namespace production:<token>)."),
    click.option("--notify-on-error", is_flag=True, default=False,
                 help="Notify the services below when a run fails (or is killed)."),
    click.option("--notify-on-success", is_flag=True, default=False,
                 help="Notify the services below when a run succeeds."),
    click.option("--notify-slack-webhook-url", default=None,
                 help="The Kestra secret that holds the Slack incoming webhook URL (its name, not the URL)."),
    click.option("--notify-pager-duty-integration-key", default=None,
                 help="The Kestra secret that holds the PagerDuty Events v2 integration key (its name)."),
    click.option("--notify-incident-io-api-key", default=None,
                 help="The Kestra secret that holds the incident.io API key (its name)."),
    click.option("--incident-io-alert-source-config-id", default=None,
                 help="The incident.io alert source that receives the alerts."),
    click.option("--incident-io-metadata", default=None,
                 help="JSON object of metadata added to each incident.io alert."),
]


def deploy_options(command):
    """The options of compile/create/run, passed on as one `settings` (a DeployOptions)."""
    for option in reversed(_DEPLOY_OPTIONS):
        command = option(command)

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        from metaflow_kestra.deploying import DeployOptions
        from metaflow_kestra.notifications import NotifyOptions
        from metaflow_kestra.production_token import TokenRequest

        kwargs["settings"] = DeployOptions(
            max_workers=kwargs.pop("max_workers"), tags=tuple(kwargs.pop("tags") or ()),
            workflow_timeout=kwargs.pop("workflow_timeout") or 0, task_runner=kwargs.pop("task_runner"),
            image=kwargs.pop("image") or "", worker_python=kwargs.pop("worker_python"),
            secrets=tuple(kwargs.pop("secrets") or ()), docker_network=kwargs.pop("docker_network") or "",
            foreach=kwargs.pop("foreach"), foreach_batch=kwargs.pop("foreach_batch"),
            kestra_version=kwargs.pop("kestra_version") or "", worker_metaflow=kwargs.pop("worker_metaflow"),
            token_request=TokenRequest(authorize=kwargs.pop("authorize"), given=kwargs.pop("given_token"),
                                       generate_new=kwargs.pop("generate_new_token")),
            notify=NotifyOptions(
                on_error=kwargs.pop("notify_on_error"), on_success=kwargs.pop("notify_on_success"),
                slack=kwargs.pop("notify_slack_webhook_url"), pager_duty=kwargs.pop("notify_pager_duty_integration_key"),
                incident_io=kwargs.pop("notify_incident_io_api_key"),
                incident_io_alert_source_config_id=kwargs.pop("incident_io_alert_source_config_id"),
                incident_io_metadata=kwargs.pop("incident_io_metadata")),
        )
        return command(*args, **kwargs)

    return wrapper
def _writable_file(ctx, param, value):
    """A file we can write later: checked now, so a bad path fails before anything is deployed or started."""
    import os

    if value is not None:
        folder = os.path.dirname(os.path.abspath(value))
        if not os.path.isdir(folder):
            raise click.BadParameter("folder %s does not exist" % folder)
        if not os.access(folder, os.W_OK) or os.path.isdir(value):
            raise click.BadParameter("cannot write %s" % value)
    return value


run_id_file_option = click.option(
    "--run-id-file", default=None, type=str, callback=_writable_file,
    help="Write the ID of the Metaflow run to this file.",
)
wait_option = click.option(
    "--wait/--no-wait", default=False, show_default=True,
    help="Follow the execution with live progress and exit 0 only if it succeeds.",
)
timeout_option = click.option(
    "--wait-timeout", default=3600, show_default=True, type=int, callback=_at_least_one,
    help="With --wait, give up after this many seconds.",
)
attribute_file_option = click.option(
    "--deployer-attribute-file", default=None, type=str, hidden=True,
    help="Write deployment attributes here (used by Metaflow's Deployer API).",
)
def start_options(command):
    """The options of the commands that start an execution (trigger, run, resume)."""
    for option in (attribute_file_option, timeout_option, wait_option, run_id_file_option):
        command = option(command)
    return command


run_id_option = click.option("--run-id", required=True,
                             help="Metaflow run id (kestra-<execution id>, or the pathspec <Flow>/kestra-<execution id>).")


def command(*args, options=(), **kwargs):
    """A `kestra` subcommand: its options (top first), click's obj, and errors as one line, exit 1."""
    def decorator(function):
        function = click.pass_obj(_reports_errors(function))
        for option in reversed(options):
            function = option(function)
        return kestra.command(*args, **kwargs)(function)

    return decorator


@command(help="Write the Kestra flow for this Metaflow flow (default <flow-id>.yaml; '-' for stdout).", options=[
    click.argument("file", required=False, default=None),
    deploy_options,
    click.option("--package-file", default=None, type=click.Path(dir_okay=False),
                  help="Also write the code package the flow runs (upload it as the namespace file the YAML names)."),
])
def compile(obj, file, package_file, settings):
    from metaflow_kestra.deploying import write_file, write_yaml

    text, package, major = _compiled(obj, settings, with_major=True)
    destination = file or "%s.yaml" % obj.kestra_target.flow_id
    write_yaml(text, destination)
    if package_file:
        write_file(package_file, package.blob, "the code package")
    if destination != "-":
        obj.echo("Wrote Kestra %d.x flow *%s* to %s (code package %s, %.1f MB, namespace file %s)." % (
            major, obj.kestra_target.flow_id, destination, package.sha[:12], package.size / 1e6,
            package.namespace_path(obj.kestra_target.flow_id)))


@command(help="Deploy this flow to Kestra (create it, or update it in place).", options=[
    deploy_options,
    click.option("--only-json", is_flag=True, default=False,
                  help="Print the generated Kestra flow (YAML) instead of deploying it."),
    attribute_file_option,
])
def create(obj, only_json, deployer_attribute_file, settings):
    _start_package(obj)
    client = None if only_json else _client(obj)
    text, package = _compiled(obj, settings, client)
    # Written before deploying, as Argo does: the Deployer API reads it from a pipe.
    _write_attributes(deployer_attribute_file, obj, additional_info={"flow_yaml": text} if only_json else None)
    if only_json:
        sys.stdout.write(text)
    else:
        _deploy(obj, text, package, client)


def _deploy(obj, text, package, client):
    from metaflow_kestra.deploying import deploy
    from metaflow_kestra.event_receivers import receiver_flow_id

    children = deploy(client, text, package, obj.kestra_target)
    obj.echo("Deployed *%s* to Kestra namespace *%s* at %s (code package %s)."
             % (obj.kestra_target.flow_id, obj.kestra_target.namespace, client.connection.url, package.sha[:12]))
    receivers = [child for child in children if child.startswith(receiver_flow_id(obj.kestra_target.flow_id, ""))]
    bodies = [child for child in children if child not in receivers]
    if bodies:
        obj.echo("Its foreach bodies run as executions of %s." % ", ".join(bodies))
    if receivers:
        obj.echo("It starts once each of its events has arrived at its receiver flow: %s." % ", ".join(receivers))
    return client


def _write_attributes(path, obj, pathspec=None, additional_info=None):
    if not path:
        return
    payload = {"name": "%s/%s" % (obj.kestra_target.namespace, obj.kestra_target.flow_id),
               "flow_name": obj.flow.name, "metadata": obj.metadata.metadata_str()}
    if pathspec:
        payload["pathspec"] = pathspec
    if additional_info is not None:
        payload["additional_info"] = additional_info
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(payload, handle)


def flow_parameter_options(cmd):
    """Metaflow's `--<parameter>` options (as Argo's trigger has them), each read from
    METAFLOW_RUN_<NAME> when not given, as a local `run` reads it."""
    from metaflow_kestra.parameters import run_default_variable

    before = {id(option) for option in cmd.params}
    cmd = parameters.add_custom_parameters(deploy_mode=False)(cmd)
    for option in cmd.params:
        if id(option) not in before:
            option.envvar = run_default_variable(option.name)
    return cmd


@flow_parameter_options
@command(help="Start an execution of the deployed flow (parameters as --<name> value).", options=[
    start_options,
    tag_option,
])
def trigger(obj, run_id_file, wait, wait_timeout, tags, deployer_attribute_file, **kwargs):
    _start(obj, _client(obj), run_id_file, wait, wait_timeout, tags or (), deployer_attribute_file, kwargs)


@flow_parameter_options
@command(help="Deploy this flow and start an execution (parameters as --<name> value).", options=[
    deploy_options,
    start_options,
])
def run(obj, run_id_file, wait, wait_timeout, deployer_attribute_file, settings, **kwargs):
    _start_package(obj)
    client = _client(obj)
    text, package = _compiled(obj, settings, client)
    _deploy(obj, text, package, client)
    _start(obj, client, run_id_file, wait, wait_timeout, settings.tags, deployer_attribute_file, kwargs)


@command(help="Start a run that reuses the finished tasks of a failed run and runs the rest.", options=[
    click.option("--clone-run-id", "--origin-run-id", "origin_run_id", required=True,
                  help="The run to resume (kestra-<execution id>)."),
    click.option("--step", default=None, help="Run this step and all after it again, even if they finished."),
    start_options,
    tag_option,
])
def resume(obj, origin_run_id, step, run_id_file, wait, wait_timeout, tags, deployer_attribute_file):
    from metaflow_kestra.executions import resume_execution

    client = _client(obj)
    run_id = resume_execution(client, obj.kestra_target, _context(obj), origin_run_id, step, tags or ())
    obj.echo("Resuming run *%s*: finished tasks are cloned, the rest runs again." % origin_run_id)
    _follow_started(obj, client, run_id, run_id_file, wait, wait_timeout, deployer_attribute_file)


@command(help="Restart a failed run on Kestra: its failed tasks run again as their next attempt, in the same run.",
         options=[run_id_option, wait_option, timeout_option])
def restart(obj, run_id, wait, wait_timeout):
    from metaflow_kestra.executions import restart_execution

    client = _client(obj)
    restart_execution(client, obj.kestra_target, run_id)
    obj.echo("Restarted run *%s* on Kestra: its failed tasks run again." % run_id)
    _follow_started(obj, client, run_id, None, wait, wait_timeout, None, verb="Restarted")


def _start(obj, client, run_id_file, wait, wait_timeout, tags, attribute_file, values):
    from metaflow_kestra.executions import start_execution, trigger_inputs

    run_id = start_execution(client, obj.kestra_target, obj.flow.name, trigger_inputs(obj.flow, values), tags)
    _follow_started(obj, client, run_id, run_id_file, wait, wait_timeout, attribute_file)


def _follow_started(obj, client, run_id, run_id_file, wait, wait_timeout, attribute_file, verb="Started"):
    from metaflow_kestra import ids
    from metaflow_kestra.executions import execution_url

    target = obj.kestra_target
    execution_id = ids.execution_id_of(run_id)
    if run_id_file:
        from metaflow_kestra.deploying import write_file

        write_file(run_id_file, run_id.encode(), "the run id")
    pathspec = "%s/%s" % (obj.flow.name, run_id)
    _write_attributes(attribute_file, obj, pathspec=pathspec)
    url = execution_url(client.connection, target, execution_id) if client.has_ui() else None
    obj.echo("%s Kestra execution *%s*: Metaflow run *%s*." % (verb, execution_id, pathspec))
    if url:
        obj.echo("Kestra UI: %s" % url)
    if not wait:
        return
    _wait_for(obj, client, run_id, execution_id, wait_timeout, pathspec, url)


def _worker_problem_explainer(obj, client):
    """explain(step, messages) for `follow`: one line when a step's worker lacks Python or Metaflow, or
    its Kestra a secret the flow reads."""
    from metaflow_kestra import worker_problems

    def explain(step, messages):
        secret = worker_problems.missing_secret(messages)
        if secret:
            return worker_problems.explain_secret(obj.flow.name, step, secret, client.connection.url)
        missing = worker_problems.missing_from_worker(messages)
        if not missing:
            return None
        target = obj.kestra_target
        runner = worker_problems.step_runner(client.flow(target.namespace, target.flow_id), step)
        return worker_problems.explain(obj.flow.name, step, missing, runner)

    return explain


def _wait_for(obj, client, run_id, execution_id, wait_timeout, pathspec, url):
    """Follow the execution to its end with progress; exit 1 unless it succeeded. A wait that
    times out says that the run goes on, and how to wait for it again."""
    from metaflow_kestra.errors import KestraError, WaitTimedOut, flow_command
    from metaflow_kestra.executions import follow

    try:
        state = follow(client, execution_id, [node.name for node in obj.graph], obj.echo_always, wait_timeout,
                       explain=_worker_problem_explainer(obj, client))
    except WaitTimedOut as stopped:
        raise KestraError("%s The run goes on on Kestra: wait for it again with `%s`, or stop it with `%s`."
                          % (stopped, flow_command("kestra wait --run-id %s" % run_id),
                             flow_command("kestra terminate --run-id %s" % run_id)))
    obj.echo_always("Execution %s ended %s. Metaflow run: %s%s"
                    % (execution_id, state, pathspec, "  Kestra UI: %s" % url if url else ""))
    if state != "SUCCESS":
        sys.exit(1)


@command(help="Wait for a run to end, with live progress; exit 0 only if it succeeded.", options=[
    run_id_option, click.option("--wait-timeout", default=3600, show_default=True, type=int,
                                callback=_at_least_one, help="Give up after this many seconds."),
])
def wait(obj, run_id, wait_timeout):
    from metaflow_kestra.executions import execution_of_flow, execution_url

    client = _client(obj)
    execution = execution_of_flow(client, obj.kestra_target, run_id)
    run = "kestra-%s" % execution["id"]
    url = execution_url(client.connection, obj.kestra_target, execution["id"]) if client.has_ui() else None
    _wait_for(obj, client, run, execution["id"], wait_timeout, "%s/%s" % (obj.flow.name, run), url)


@command(help="Show the state of a run on Kestra.", options=[
    run_id_option,
])
def status(obj, run_id):
    from metaflow_kestra.executions import describe_execution, execution_of_flow

    execution = execution_of_flow(_client(obj), obj.kestra_target, run_id)
    obj.echo_always(describe_execution(execution, obj.flow.name), err=False)  # data: stdout


@command("list-runs", help="List this flow's runs on Kestra, newest first.", options=[
    click.option("--running", "which", flag_value="running", help="Only runs not finished yet."),
    click.option("--succeeded", "which", flag_value="succeeded", help="Only successful runs."),
    click.option("--failed", "which", flag_value="failed", help="Only failed or killed runs."),
])
def list_runs(obj, which):
    from metaflow_kestra import states
    from metaflow_kestra.executions import describe_execution

    target = obj.kestra_target
    executions = _client(obj).search_executions(target.namespace, target.flow_id, states.FILTERS.get(which, ()))
    if not executions:
        obj.echo("No %sruns of *%s* on Kestra." % ("%s " % which if which else "", target.flow_id))
    for execution in executions:
        obj.echo_always(describe_execution(execution, obj.flow.name), err=False)  # data: stdout


@command(help="Kill a run's Kestra execution (the Metaflow run will not be successful).", options=[
    run_id_option,
])
def terminate(obj, run_id):
    from metaflow_kestra.executions import execution_of_flow

    from metaflow_kestra import states
    from metaflow_kestra.errors import KestraError

    client = _client(obj)
    execution = execution_of_flow(client, obj.kestra_target, run_id)
    state = execution["state"]["current"]
    if state in states.TERMINAL:
        raise KestraError("Run %s already ended %s: there is nothing to kill." % (run_id, state))
    client.kill(execution["id"])
    obj.echo("Asked Kestra to kill the execution of run *%s* (it was %s)." % (run_id, state))


@command(help="Suspend a running run: tasks already running finish, no new task starts until unsuspend.",
         options=[run_id_option])
def suspend(obj, run_id):
    from metaflow_kestra.executions import suspend_execution

    suspend_execution(_client(obj), obj.kestra_target, run_id)
    obj.echo("Suspended run *%s*: `unsuspend --run-id %s` lets it go on." % (run_id, run_id))


@command(help="Let a suspended run go on from where it stopped.", options=[run_id_option])
def unsuspend(obj, run_id):
    from metaflow_kestra.executions import unsuspend_execution

    unsuspend_execution(_client(obj), obj.kestra_target, run_id)
    obj.echo("Unsuspended run *%s*." % run_id)


@command(help="Remove this flow from Kestra.")
def delete(obj):
    from metaflow_kestra.deploying import delete_deployed

    target = obj.kestra_target
    delete_deployed(_client(obj), target)
    obj.echo("Deleted *%s* from Kestra namespace *%s*." % (target.flow_id, target.namespace))


@command(help="Print Kestra's logs of a run, grouped by step.", options=[
    run_id_option,
    click.option("--step", default=None, help="Only this step's logs."),
])
def logs(obj, run_id, step):
    from metaflow_kestra.executions import (
        ended_recently, execution_of_flow, format_logs, graph_order, run_logs, settled, steps_that_ran)

    client = _client(obj)
    execution = execution_of_flow(client, obj.kestra_target, run_id)
    steps = graph_order(obj.graph) if step is None else [step]
    read = lambda: run_logs(client, execution["id"], task_id=step)  # noqa: E731
    if ended_recently(execution):  # Kestra may still be storing its last lines
        entries = settled(read, expected_tasks=steps_that_ran(execution, steps))
    else:
        entries = read()
    for name in steps:
        lines = format_logs([e for e in entries if e.get("taskId") == name])
        if lines:
            obj.echo_always("--- %s ---" % name, err=False)
            for line in lines:
                obj.echo_always(line, err=False)


@command("send-event", help="Fire event NAME: start every deployed flow that @trigger-s on it.", options=[
    click.argument("name"),
    click.option("--payload", default="{}", help="The event's JSON payload (mapped to parameters by @trigger)."),
])
def send_event(obj, name, payload):
    from metaflow_kestra.errors import KestraError
    from metaflow_kestra.executions import send_event as fire

    try:
        body = json.loads(payload)
    except ValueError as err:
        raise KestraError("--payload is not valid JSON: %s" % err)
    reached = fire(_client(obj), name, body)
    if not reached:
        raise KestraError("No deployed flow on Kestra listens to event %r (@trigger(event=%r))." % (name, name))
    for namespace, flow_id in reached:
        obj.echo("Sent event *%s* to %s.%s." % (name, namespace, flow_id))
