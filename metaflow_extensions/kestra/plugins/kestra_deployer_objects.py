"""The objects Metaflow's Deployer API hands back for Kestra deployments and runs."""

import json
import os
import sys
import tempfile
import time
from typing import ClassVar, Optional

from metaflow.client.core import get_metadata
from metaflow.exception import MetaflowException
from metaflow.runner.deployer import Deployer, DeployedFlow, TriggeredRun
from metaflow.runner.utils import get_lower_level_group, handle_timeout, temporary_fifo, with_dir

from metaflow_kestra.client import CONNECTION_KEYWORDS as CONNECTION_KWARGS
from metaflow_kestra.connection import ENV_PASSWORD, ENV_TOKEN
from metaflow_kestra.errors import KestraDeployerError, KestraError


def _deployer_errors(function):
    """The Deployer's calls that talk to Kestra themselves raise KestraDeployerError, as its commands do."""
    import functools

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except KestraDeployerError:
            raise
        except KestraError as error:
            raise KestraDeployerError(error.render()) from error

    return wrapper


def _connect(connection):
    """A client for the Deployer-style connection keywords (kestra_host=..., ...)."""
    from metaflow_kestra.client import connect_with_keywords

    return connect_with_keywords(connection)


def _client(deployer):
    kwargs = deployer.deployer_kwargs or {}
    return _connect({key: kwargs.get(key) for key in CONNECTION_KWARGS})


# Credentials reach the command through its environment, which only its owner can read: any
# user of the machine can read its command line (`ps`).
_SECRET_OPTIONS = {"kestra_password": ENV_PASSWORD, "kestra_token": ENV_TOKEN}


def _split_secrets(deployer_kwargs, env):
    """(the deployer's keywords without credentials, `env` with them added) for one command."""
    options, env = dict(deployer_kwargs or {}), dict(env or {})
    for key, variable in _SECRET_OPTIONS.items():
        value = options.pop(key, None)
        if value is not None:
            env[variable] = str(value)
    return options, env


def run_command(deployer, name, attributes=False, **kwargs):
    """Run `python flow.py kestra <name> ...` as Metaflow's own deployers do.

    With `attributes`, the command writes its deployer attributes to a FIFO and
    they are returned (parsed JSON). A command that fails raises
    KestraDeployerError with the one line it printed, not a dump of its output.
    """
    with temporary_fifo() as (fifo_path, fifo_fd):
        if attributes:
            kwargs["deployer_attribute_file"] = fifo_path
        options, env = _split_secrets(deployer.deployer_kwargs, deployer.env_vars)
        with with_dir(deployer.cwd or os.getcwd()):  # Config files resolve against the flow's cwd
            command = getattr(get_lower_level_group(
                deployer.api, deployer.top_level_kwargs, deployer.TYPE, options,
            ), name)(**kwargs)
        pid = deployer.spm.run_command(
            [sys.executable, *command], env=env, cwd=deployer.cwd, show_output=deployer.show_output,
        )
        command_obj = deployer.spm.get(pid)
        content = None
        try:
            if attributes:
                content = json.loads(handle_timeout(fifo_fd, command_obj, deployer.file_read_timeout))
        except RuntimeError:
            pass  # the command ended without writing them: its own message says why (below)
        command_obj.sync_wait()
        if command_obj.process.returncode != 0 or (attributes and content is None):
            raise KestraDeployerError("`python %s kestra %s` failed: %s" % (
                deployer.flow_file, name, _last_line(command_obj)))
        return content


def _last_line(command_obj):
    """The command's last line on stderr: metaflow-kestra and click print their one-line reason last."""
    try:
        with open(command_obj.log_files["stderr"], encoding="utf-8", errors="replace") as handle:
            lines = [line.strip() for line in handle if line.strip()]
    except (KeyError, OSError):
        lines = []
    return lines[-1] if lines else "it exited with code %s and printed nothing" % command_obj.process.returncode


_STAND_INS = []


def _stand_in_dir():
    """A directory for this process's stand-in flow files, removed when the process exits."""
    if not _STAND_INS:
        import atexit
        import shutil

        _STAND_INS.append(tempfile.mkdtemp(prefix="metaflow-kestra-deployed-"))
        atexit.register(shutil.rmtree, _STAND_INS[0], True)
    return _STAND_INS[0]


class KestraTriggeredRun(TriggeredRun):
    """A run started on Kestra: one Kestra execution."""

    @property
    def execution_id(self) -> str:
        return self.pathspec.split("/")[1][len("kestra-"):]

    @property
    def status(self) -> Optional[str]:
        """Kestra's state of the execution (CREATED, RUNNING, SUCCESS, FAILED, KILLED...).

        A server that is down, refuses the credentials or does not know the execution
        raises a KestraError saying so: a None here would end `wait_for_completion` at once.
        """
        return _client(self.deployer).execution(self.execution_id)["state"]["current"]

    @property
    def is_running(self) -> bool:
        """True until the execution has ended and its exit hooks too (Kestra ends the execution first)."""
        client = _client(self.deployer)
        return not client.ended(client.execution(self.execution_id))

    def wait_for_completion(self, check_interval: int = 5, timeout: Optional[int] = None):
        """Wait until the execution ends; TimeoutError after `timeout` seconds."""
        start = time.time()
        while self.is_running:
            if timeout is not None and time.time() - start > timeout:
                raise TimeoutError("Kestra execution %s did not finish within %ss." % (self.execution_id, timeout))
            time.sleep(check_interval)

    def terminate(self, **kwargs) -> bool:
        """Kill the Kestra execution (KestraDeployerError with the reason if Kestra refused)."""
        run_command(self.deployer, "terminate", run_id=self.pathspec.split("/")[1], **kwargs)
        return True

    def suspend(self, **kwargs) -> bool:
        """Suspend the run (Kestra's pause): running tasks finish, no new task starts."""
        run_command(self.deployer, "suspend", run_id=self.pathspec.split("/")[1], **kwargs)
        return True

    def unsuspend(self, **kwargs) -> bool:
        """Let the suspended run go on from where it stopped (Kestra's resume)."""
        run_command(self.deployer, "unsuspend", run_id=self.pathspec.split("/")[1], **kwargs)
        return True

    def restart(self) -> "KestraTriggeredRun":
        """Kestra's Restart of this failed run: its failed tasks run again as their next Metaflow
        attempt, in the same run (the returned run is this one)."""
        run_command(self.deployer, "restart", run_id=self.pathspec.split("/")[1])
        return self


class KestraDeployedFlow(DeployedFlow):
    """A flow deployed to Kestra; `name` is `<namespace>/<flow id>`."""

    TYPE: ClassVar[Optional[str]] = "kestra"

    @property
    def flow_yaml(self) -> Optional[str]:
        """The generated Kestra flow of an `only_json=True` create."""
        return getattr(self.deployer, "additional_info", {}).get("flow_yaml")

    @property
    def production_token(self) -> Optional[str]:
        """The production token of the deployment on Kestra (its runs are in namespace
        production:<token>); None if it has none or cannot be read."""
        from metaflow_kestra.errors import KestraError
        from metaflow_kestra.production_token import previous_deployment

        namespace, _, flow_id = self.deployer.name.rpartition("/")
        try:
            deployed = previous_deployment(_client(self.deployer).flow(namespace, flow_id))
        except KestraError:
            return None
        return deployed.token if deployed else None

    def trigger(self, **kwargs) -> KestraTriggeredRun:
        """Start an execution; keyword arguments are the flow's Parameters (and `tags`)."""
        content = run_command(self.deployer, "trigger", attributes=True, **kwargs)
        return KestraTriggeredRun(deployer=self.deployer, content=json.dumps(content))

    def resume(self, origin_run_id: str, step_to_rerun: Optional[str] = None, **kwargs) -> KestraTriggeredRun:
        """Start a run that clones the finished tasks of run `origin_run_id` and runs the rest.

        `step_to_rerun` runs that step and every step after it again, even if they finished.
        The run takes the origin run's Parameters, as Metaflow's `resume` does; keywords are the
        `resume` command's other options (`tags`).
        """
        if step_to_rerun is not None:
            kwargs["step"] = step_to_rerun
        content = run_command(self.deployer, "resume", attributes=True, origin_run_id=origin_run_id, **kwargs)
        return KestraTriggeredRun(deployer=self.deployer, content=json.dumps(content))

    def restart(self, run_id: str) -> KestraTriggeredRun:
        """Kestra's Restart of the failed run `run_id` (see `KestraTriggeredRun.restart`)."""
        return self.get_run(run_id).restart()

    def get_run(self, run_id: str) -> KestraTriggeredRun:
        """The run `run_id` (kestra-<execution id>) of this deployment."""
        return KestraTriggeredRun(deployer=self.deployer, content=json.dumps({
            "metadata": self.deployer.metadata,
            "pathspec": "%s/%s" % (self.deployer.flow_name, run_id),
            "name": run_id,
        }))

    def list_runs(self, which: Optional[str] = None):
        """This deployment's runs on Kestra, newest first (as `list-runs`): all, or only
        `which` of "running", "succeeded", "failed"."""
        from metaflow_kestra import ids, states

        if which is not None and which not in states.FILTERS:
            raise ValueError("which=%r: use one of %s, or None for every run."
                             % (which, ", ".join(sorted(states.FILTERS))))
        namespace, _, flow_id = self.deployer.name.rpartition("/")
        executions = _client(self.deployer).search_executions(namespace, flow_id, states.FILTERS.get(which, ()))
        return [self.get_run(ids.run_id_for(execution["id"])) for execution in executions]

    def delete(self, **kwargs) -> bool:
        """Remove the flow from Kestra (KestraDeployerError with the reason if it could not)."""
        run_command(self.deployer, "delete", **kwargs)
        return True

    @classmethod
    @_deployer_errors
    def from_deployment(cls, identifier: str, metadata: Optional[str] = None, **connection):
        """The deployed flow `<namespace>/<flow id>` (namespace `metaflow` if omitted).

        `connection`: kestra_host, kestra_user, kestra_password, kestra_token,
        kestra_tenant (default: the environment, else the local server); the
        returned flow and its runs keep using them.
        """
        from metaflow_kestra.deployed import describe_deployment, stand_in_flow_source

        namespace, _, flow_id = identifier.rpartition("/")
        namespace = namespace or "metaflow"
        description = describe_deployment(_connect(connection).flow(namespace, flow_id))
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, dir=_stand_in_dir()) as handle:
            handle.write(stand_in_flow_source(description))
        deployer = Deployer(handle.name, env={"METAFLOW_USER": description.user}).kestra(
            kestra_namespace=namespace, flow_id=flow_id, **connection,
        )
        deployer.name = "%s/%s" % (namespace, flow_id)
        deployer.flow_name = description.flow_name
        deployer.metadata = metadata or get_metadata()
        return cls(deployer=deployer)

    @classmethod
    @_deployer_errors
    def get_triggered_run(cls, identifier: str, run_id: str, metadata: Optional[str] = None, **connection):
        """The run `run_id` of deployed flow `identifier` (connection keywords as from_deployment's)."""
        return cls.from_deployment(identifier, metadata, **connection).get_run(run_id)

    @classmethod
    def list_deployed_flows(cls, flow_name: Optional[str] = None, **connection):
        """Every Metaflow flow deployed to Kestra (optionally only `flow_name`; connection as from_deployment's)."""
        from metaflow_kestra.executions import FLOW_LABEL

        labels = {FLOW_LABEL: flow_name} if flow_name else None
        for flow in _connect(connection).search_flows(labels=labels):
            if "metaflow_deployment" not in (flow.get("variables") or {}) or _is_foreach_body(flow):
                continue
            try:
                yield cls.from_deployment("%s/%s" % (flow["namespace"], flow["id"]), **connection)
            except MetaflowException:
                continue


def _is_foreach_body(flow):
    """A child flow that runs a foreach body for another deployed flow (not a deployment itself)."""
    from metaflow_kestra.compiler import BODY_LABEL

    labels = flow.get("labels") or []
    keys = labels.keys() if isinstance(labels, dict) else [label.get("key") for label in labels]
    return BODY_LABEL in keys
