"""The Docker CLI, run with explicit arguments (never through a shell) and errors for people."""

import json
import shutil
import subprocess

from ..errors import KestraError


class ContainerError(KestraError):
    """A container image could not be built or inspected."""


def docker_binary():
    path = shutil.which("docker")
    if not path:
        raise ContainerError(
            "No `docker` command on PATH: install Docker (on Debian: apt-get install docker.io) and start "
            "its daemon (dockerd), then try again.")
    return path


def run(args, what, capture=True, input_stream=None, timeout=None):
    """`docker ARGS`; its stdout. A failure is one ContainerError naming `what` and Docker's last line."""
    command = [docker_binary()] + list(args)
    try:
        done = subprocess.run(command, stdin=input_stream, stdout=subprocess.PIPE if capture else None,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ContainerError("%s: `docker %s` did not finish within %d s." % (what, args[0], timeout))
    if done.returncode != 0:
        raise ContainerError("%s: `docker %s` failed: %s" % (what, args[0], last_line(done.stderr)))
    return (done.stdout or b"").decode("utf-8", "replace")


def remove_container(name):
    """`docker rm -f NAME`, quietly: a cleanup that must not hide the failure it follows."""
    subprocess.run([docker_binary(), "rm", "-f", name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def last_line(output):
    lines = [line.strip() for line in (output or b"").decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1] if lines else "(no message)"


def engine_version():
    """The Docker engine's version; a ContainerError that says how to start it when none answers."""
    docker_binary()
    try:
        return run(["version", "--format", "{{.Server.Version}}"], "Reaching the Docker engine", timeout=30).strip()
    except ContainerError as error:
        raise ContainerError(
            "No Docker engine answers (%s). Start it (as root: `dockerd &`, or `systemctl start docker`) "
            "and make sure this user may use /var/run/docker.sock." % str(error).split(": ", 1)[-1])


def image_labels(reference):
    """The labels of local image `reference`, or None when this engine has no such image."""
    command = [docker_binary(), "image", "inspect", "--format", "{{json .Config.Labels}}", reference]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if done.returncode != 0:
        return None
    return json.loads(done.stdout.decode("utf-8") or "null") or {}


def image_id(reference):
    return run(["image", "inspect", "--format", "{{.Id}}", reference], "Inspecting image %s" % reference).strip()


def image_config(reference, field):
    """A field of local image `reference`'s config (Entrypoint, Cmd, Env...), as JSON data."""
    text = run(["image", "inspect", "--format", "{{json .Config.%s}}" % field, reference],
               "Inspecting image %s" % reference)
    return json.loads(text or "null")
