"""The `metaflow-kestra` console command: the local server and its smoke check.

Thin on purpose: parse options, call `local_server`, print for people.
Every failure is a `KestraError` rendered on stderr with a non-zero exit.
"""

import json
import sys
import time

import click

from . import __version__
from .errors import KestraError
from .errors import reports_errors as _reports_errors_with
from .local_server.server import LocalServer, server_on
from .local_server.settings import (
    DEFAULT_MANAGEMENT_PORT,
    DEFAULT_MAX_REQUEST_MB,
    DEFAULT_PORT,
    ServerSettings,
)


reports_errors = _reports_errors_with(click.secho)


@click.group(help="Run Metaflow flows on Kestra.")
@click.version_option(__version__, prog_name="metaflow-kestra", message="%(prog)s %(version)s")
def main():
    pass


@main.group(help="A local Kestra server: Kestra's own engine (H2 database, local storage, loopback only) "
                  "with its REST API; or an official Kestra JAR with --kestra-jar.")
def server():
    pass


port_option = click.option(
    "--port", type=int, default=None,
    help="Port of the API and UI (default %d)." % DEFAULT_PORT,
)


@server.command(help="Build (once) and start a local Kestra, then wait until it answers.")
@click.option("--kestra-version", default=None,
              help="Version of Kestra's engine modules (env METAFLOW_KESTRA_VERSION).")
@click.option("--kestra-jar", default=None, type=click.Path(dir_okay=False),
              help="Run this official Kestra executable JAR (with its UI) instead of our server "
                   "(env METAFLOW_KESTRA_JAR).")
@click.option("--maven-repository", default=None,
              help="Maven repository to download from, https or file: (env METAFLOW_KESTRA_MAVEN_REPOSITORY).")
@click.option("--insecure-maven-repository", "insecure_repository", is_flag=True, default=None,
              help="Accept a plain-http Maven repository (env METAFLOW_KESTRA_INSECURE_REPOSITORY=1).")
@port_option
@click.option("--management-port", type=int, default=None,
              help="Port of the health endpoint (default %d)." % DEFAULT_MANAGEMENT_PORT)
@click.option("--timeout", "start_timeout", type=float, default=None,
              help="Seconds to wait for the server to become healthy.")
@click.option("--task-env", multiple=True, metavar="NAME",
              help="Pass only this variable (or prefix ending in *, e.g. 'AWS_*') of this environment "
                   "to tasks; repeatable. Default: tasks get all of it, as a local run would "
                   "(env METAFLOW_KESTRA_TASK_ENV, comma-separated).")
@click.option("--secret", "secrets", multiple=True, metavar="NAME",
              help="Give Kestra this variable of this environment as the secret NAME (what a flow's "
                   "--secret NAME and {{ secret('NAME') }} read); repeatable. Only the name goes on the "
                   "command line. Kestra reads secrets when it starts: a running server without it must "
                   "be stopped first.")
@click.option("--max-request-mb", type=int, default=None,
              help="Largest request body the server reads, in MiB (default %d; env "
                   "METAFLOW_KESTRA_MAX_REQUEST_MB)." % DEFAULT_MAX_REQUEST_MB)
@reports_errors
def start(**options):
    options["task_env"] = tuple(options["task_env"]) or None
    options["secrets"] = tuple(options["secrets"])
    settings = ServerSettings.from_environment(**options)
    began = time.monotonic()
    state, reused = LocalServer(settings).start()
    verb = "is already running" if reused else "started in %.1fs" % (time.monotonic() - began)
    click.echo("Kestra %s %s (pid %d)." % (state.kestra_version, verb, state.pid))
    if state.has_ui:
        click.echo("  UI:       %s" % state.ui_url)
    else:
        click.echo("  server:   metaflow-kestra's local server (Kestra's engine and REST API; no UI)")
    click.echo("  API:      %s" % state.api_url)
    click.echo("  health:   %s" % state.health_url)
    click.echo("  user:     %s" % state.username)
    click.echo("  password: in %s (readable by you only; this package's commands read it there)"
               % state.password_file)
    if state.secrets:
        click.echo("  secrets:  %s" % ", ".join(state.secrets))
    click.echo("  log:      %s" % state.log_path)


@server.command(help="Stop the local Kestra started by `server start` (by its pid).")
@port_option
@reports_errors
def stop(port):
    server_ = server_on(ServerSettings.from_environment(port=port))
    if server_.stop():
        click.echo("Stopped the local Kestra on port %d." % server_.settings.port)
    else:
        click.echo("No local Kestra is running on port %d; nothing to stop." % server_.settings.port)


@server.command(help="Say whether the local Kestra is serving; exits 1 when it is not.")
@port_option
@click.option("--json", "as_json", is_flag=True,
              help="Print the server's addresses, user and password file as JSON, for scripts.")
@reports_errors
def status(port, as_json):
    server_ = server_on(ServerSettings.from_environment(port=port))
    state = server_.running_state()
    healthy = state is not None and server_.is_healthy(state)
    if as_json:
        click.echo(json.dumps(status_record(server_, state, healthy), indent=2))
        sys.exit(0 if healthy else 1)
    if state is None:
        click.echo("No local Kestra is running on port %d." % server_.settings.port)
        sys.exit(1)
    if not healthy:
        click.echo("Kestra (pid %d) is running but %s does not answer." % (state.pid, state.health_url))
        sys.exit(1)
    where = state.ui_url if state.has_ui else state.api_url
    click.echo("Kestra %s is serving at %s (pid %d)." % (state.kestra_version, where, state.pid))


def status_record(server_, state, healthy):
    """What `server status --json` prints: enough for a script to log in, never the password."""
    if state is None:
        return {"running": False, "healthy": False, "port": server_.settings.port}
    return {
        "running": True,
        "healthy": healthy,
        "port": server_.settings.port,
        "pid": state.pid,
        "kestra_version": state.kestra_version,
        "url": state.url,
        "api_url": state.api_url,
        "health_url": state.health_url,
        "ui_url": state.ui_url if state.has_ui else None,
        "username": state.username,
        "password_file": state.password_file,
        "log": state.log_path,
    }


@server.command(help="Show the local Kestra's log.")
@port_option
@click.option("-n", "--lines", type=int, default=200, show_default=True, help="How many last lines.")
@reports_errors
def logs(port, lines):
    server_ = server_on(ServerSettings.from_environment(port=port))
    if not server_.log_file.exists():
        raise KestraError("No log at %s: the local Kestra was never started on this port."
                          % server_.log_file)
    click.echo(server_.log_tail(lines), nl=False)


@main.command(help="Deploy and run a one-task Kestra flow that checks the server runs our tasks.")
@click.option("--kestra-host", default=None, help="Kestra URL (default: the local server).")
@click.option("--kestra-user", default=None)
@click.option("--kestra-password", default=None)
@reports_errors
def smoke(kestra_host, kestra_user, kestra_password):
    from .client import KestraClient
    from .connection import resolve_connection
    from .local_server.smoke import run_smoke

    client = KestraClient(resolve_connection(kestra_host, kestra_user, kestra_password))
    execution, outputs = run_smoke(client)
    state = execution["state"]["current"]
    click.echo("Smoke execution %s: %s" % (execution["id"], state))
    for name, value in sorted(outputs.items()):
        click.echo("  %s: %s" % (name, value))
    if state != "SUCCESS":
        raise KestraError("The smoke flow ended %s; see `metaflow-kestra server logs`." % state)
@main.group(help="Container images for Kestra's Docker task runner (`--task-runner docker --image ...`).")
def image():
    pass


@image.command(help="Build the image each step runs in: Python, and Metaflow and metaflow-kestra at this machine's "
                    "versions (plus boto3 and the flow's requirements), on --base or on a Debian base built here.")
@click.option("--tag", required=True, help="The image's name, e.g. registry.example.com/team/flows:1.")
@click.option("--base", default=None,
              help="Base image with Python 3 and its venv module (e.g. python:3.11-slim). Default: Debian "
                   "bookworm's python3, built here with debootstrap (needs root).")
@click.option("--requirements", "requirements_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="A pip requirements file of the flow's own dependencies, installed into the image too.")
@click.option("--debian-mirror", default=None,
              help="Debian mirror for the default base (default: this machine's apt mirror).")
@reports_errors
def build(tag, base, requirements_file, debian_mirror):
    from .containers import worker_image

    echo = lambda message: click.echo(message, err=True)  # noqa: E731
    tag, holds, built = worker_image.build(tag, base=base, requirements_file=requirements_file,
                                           echo=echo, mirror=debian_mirror)
    click.echo("%s %s: %s." % ("Built image" if built else "Image up to date:", tag, holds))
    click.echo("Deploy with: python flow.py --datastore=s3 kestra create --task-runner docker --image %s "
               "[--secret AWS_ACCESS_KEY_ID --secret AWS_SECRET_ACCESS_KEY] [--docker-network host]" % tag)
    click.echo("  --secret NAME: each step gets the Kestra secret NAME as the variable NAME (the S3 credentials); "
               "--docker-network host: steps reach servers on the worker's loopback (a local S3).")
    click.echo("Kestra's workers must be able to pull it: `docker push %s` to a registry they reach "
               "(or build it on each worker; a local server's worker uses this machine's images)." % tag)


if __name__ == "__main__":
    main()
