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

# The Deployer's connection keywords (the `kestra` group's options) -> metaflow_kestra.client.connect's.
CONNECTION_KWARGS = {
    "kestra_host": "host", "kestra_user": "username", "kestra_password": "password",
    "kestra_token": "token", "kestra_tenant": "tenant",
}


class KestraDeployerError(RuntimeError):
    """A `python flow.py kestra ...` command the Deployer ran failed; the message is its one-line reason.

    A RuntimeError, as Metaflow's own deployers raise, so `except RuntimeError` keeps working.
    """


def _connect(connection):
    """A client for the Deployer-style connection keywords (kestra_host=..., ...)."""
    from metaflow_kestra.client import connect

    unknown = sorted(set(connection) - set(CONNECTION_KWARGS))
    if unknown:
        raise TypeError("Unknown Kestra connection argument(s) %s; use %s."
                        % (", ".join(unknown), ", ".join(sorted(CONNECTION_KWARGS))))
    return connect(**{CONNECTION_KWARGS[key]: value for key, value in connection.items()})


def _client(deployer):
    kwargs = deployer.deployer_kwargs or {}
    return _connect({key: kwargs.get(key) for key in CONNECTION_KWARGS})


def run_command(deployer, name, attributes=False, **kwargs):
    """Run `python flow.py kestra <name> ...` as Metaflow's own deployers do.

    With `attributes`, the command writes its deployer attributes to a FIFO and
    they are returned (parsed JSON). A command that fails raises
    KestraDeployerError with the one line it printed, not a dump of its output.
    """
    with temporary_fifo() as (fifo_path, fifo_fd):
        if attributes:
            kwargs["deployer_attribute_file"] = fifo_path
        with with_dir(deployer.cwd or os.getcwd()):  # Config files resolve against the flow's cwd
            command = getattr(get_lower_level_group(
                deployer.api, deployer.top_level_kwargs, deployer.TYPE, deployer.deployer_kwargs,
            ), name)(**kwargs)
        pid = deployer.spm.run_command(
            [sys.executable, *command], env=deployer.env_vars, cwd=deployer.cwd, show_output=deployer.show_output,
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
        from metaflow_kestra import states

        status = self.status
        return status is not None and status not in states.TERMINAL

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


class KestraDeployedFlow(DeployedFlow):
    """A flow deployed to Kestra; `name` is `<namespace>/<flow id>`."""

    TYPE: ClassVar[Optional[str]] = "kestra"

    @property
    def flow_yaml(self) -> Optional[str]:
        """The generated Kestra flow of an `only_json=True` create."""
        return getattr(self.deployer, "additional_info", {}).get("flow_yaml")

    def trigger(self, **kwargs) -> KestraTriggeredRun:
        """Start an execution; keyword arguments are the flow's Parameters (and `tags`)."""
        content = run_command(self.deployer, "trigger", attributes=True, **kwargs)
        return KestraTriggeredRun(deployer=self.deployer, content=json.dumps(content))

    def delete(self, **kwargs) -> bool:
        """Remove the flow from Kestra (KestraDeployerError with the reason if it could not)."""
        run_command(self.deployer, "delete", **kwargs)
        return True

    @classmethod
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
    def get_triggered_run(cls, identifier: str, run_id: str, metadata: Optional[str] = None, **connection):
        """The run `run_id` of deployed flow `identifier` (connection keywords as from_deployment's)."""
        deployed = cls.from_deployment(identifier, metadata, **connection)
        return KestraTriggeredRun(deployer=deployed.deployer, content=json.dumps({
            "metadata": deployed.deployer.metadata,
            "pathspec": "%s/%s" % (deployed.deployer.flow_name, run_id),
            "name": run_id,
        }))

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
