"""Metaflow environments on the worker (`--environment=uv`, `@pypi`/`@conda`): bootstrap, then
the environment's interpreter, as Argo runs a step.

Argo's step command runs `environment.bootstrap_commands(step, datastore)` in the
container, then starts the step with `environment.executable(step)`. Here the same
commands of Metaflow's own environment class run in the task's working directory
(a bash script; Metaflow's `mflog` helpers become plain echoes, since the task
already keeps its output for Metaflow), and the variables they export reach the
step, which runs in a child process with that interpreter. Nothing of the
environments' logic is copied: the commands and the interpreter are theirs.

A bootstrap may move packaged files (uv moves `uv.lock` and `pyproject.toml` into
the working directory): it reads the package through a private mirror of links,
so the shared, cached copy of the package is never changed.
"""

import os
import shlex
import shutil
import subprocess
import tempfile
import time

from .errors import KestraError

# What an environment's bootstrap needs on the worker, and what to say when it is missing.
NEEDS = {
    "uv": ("uv", "install uv in the worker's Python (`pip install uv`) or image"),
    "conda": ("micromamba", "install micromamba on the worker (or in the image) and make conda channels reachable"),
    "pypi": ("micromamba", "install micromamba on the worker (or in the image) and make PyPI and conda channels "
                           "reachable"),
}
_PREAMBLE = [
    "set -e",
    'mflog(){ echo "$1"; }',  # Metaflow's bootstrap helpers; the task keeps its own output for Metaflow
    "flush_mflogs(){ :; }",
]


def environment_class(name, flow_name):
    """Metaflow's environment class named `name` (its TYPE), from the worker's Metaflow."""
    from metaflow.plugins import ENVIRONMENTS

    for cls in ENVIRONMENTS:
        if cls.TYPE == name:
            return cls
    raise KestraError(
        "Flow %s was deployed with --environment=%s, which the worker's Metaflow does not know: install the "
        "Metaflow extension that provides it on the worker." % (flow_name, name)
    )


def check_worker_has(name, flow_name, step, which=shutil.which):
    """One line naming what to install when the worker lacks what the environment's bootstrap needs."""
    need = NEEDS.get(name)
    if need and which(need[0]) is None:
        raise KestraError(
            "Flow %s, step %s: --environment=%s needs `%s` on the worker, which has none on its PATH: %s."
            % (flow_name, step, name, need[0], need[1])
        )


def bootstrap(deployment, step, package_dir, env, workdir=None):
    """Run the environment's bootstrap for `step`; return (the step's environment, its interpreter argv)."""
    cls = environment_class(deployment.environment, deployment.flow_name)
    check_worker_has(deployment.environment, deployment.flow_name, step)
    environment = cls(None)  # the bootstrap and the interpreter depend on the step, not on the flow object
    commands = list(environment.bootstrap_commands(step, deployment.datastore))
    executable = environment.executable(step, default=None) or "python"
    workdir = os.path.abspath(workdir or os.getcwd())
    env = dict(env)
    env["METAFLOW_EXTRACTED_ROOT"] = private_mirror(package_dir, workdir)
    exported = os.path.join(tempfile.mkdtemp(prefix=".metaflow-kestra-env-", dir=workdir), "environ")
    script = "\n".join(_PREAMBLE + commands + ["env -0 > %s" % shlex.quote(exported)])
    started = time.monotonic()
    done = subprocess.run(["bash", "-c", script], cwd=workdir, env=env)
    if done.returncode:
        raise KestraError(
            "Flow %s, step %s: the bootstrap of environment %s failed (exit status %d); its output is above."
            % (deployment.flow_name, step, deployment.environment, done.returncode)
        )
    print("metaflow-kestra: environment %s bootstrapped for step %s in %.2f s."
          % (deployment.environment, step, time.monotonic() - started), flush=True)
    with open(exported, "rb") as handle:
        pairs = [item.split(b"=", 1) for item in handle.read().split(b"\0") if b"=" in item]
    return {key.decode(): value.decode() for key, value in pairs}, shlex.split(executable)


def private_mirror(package_dir, workdir):
    """A directory in `workdir` whose entries link to the package's: what a bootstrap moves is a link.

    `.mf_meta` (where Metaflow puts environment files such as uv.lock) is a real directory of
    links, one level deeper, since moving a file inside a linked directory would move the original.
    """
    mirror = tempfile.mkdtemp(prefix=".metaflow-kestra-package-", dir=workdir)
    for name in os.listdir(package_dir):
        source = os.path.join(package_dir, name)
        if name == ".mf_meta" and os.path.isdir(source):
            os.mkdir(os.path.join(mirror, name))
            for inner in os.listdir(source):
                os.symlink(os.path.join(source, inner), os.path.join(mirror, name, inner))
        else:
            os.symlink(source, os.path.join(mirror, name))
    return mirror
