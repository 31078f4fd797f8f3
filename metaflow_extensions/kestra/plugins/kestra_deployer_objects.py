"""The objects Metaflow's Deployer API hands back for Kestra deployments and runs."""

import json
import sys
import tempfile
import time
from typing import ClassVar, Optional

from metaflow.client.core import get_metadata
from metaflow.exception import MetaflowException
from metaflow.runner.deployer import Deployer, DeployedFlow, TriggeredRun
from metaflow.runner.utils import get_lower_level_group, handle_timeout, temporary_fifo

_CONNECTION_KWARGS = {
    "kestra_host": "host", "kestra_user": "username", "kestra_password": "password",
    "kestra_token": "token", "kestra_tenant": "tenant",
}


def _client(deployer):
    from metaflow_kestra.flow_commands import client_for

    kwargs = deployer.deployer_kwargs or {}
    return client_for({ours: kwargs.get(theirs) for theirs, ours in _CONNECTION_KWARGS.items()})


def _run_command(deployer, name, **kwargs):
    """Run `python flow.py kestra <name> ...` as Metaflow's own deployer objects do."""
    command = getattr(get_lower_level_group(
        deployer.api, deployer.top_level_kwargs, deployer.TYPE, deployer.deployer_kwargs,
    ), name)(**kwargs)
    pid = deployer.spm.run_command(
        [sys.executable, *command], env=deployer.env_vars, cwd=deployer.cwd, show_output=deployer.show_output,
    )
    command_obj = deployer.spm.get(pid)
    command_obj.sync_wait()
    return command_obj.process.returncode == 0


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
        """Kill the Kestra execution; True if Kestra accepted."""
        return _run_command(self.deployer, "terminate", run_id=self.pathspec.split("/")[1], **kwargs)


class KestraDeployedFlow(DeployedFlow):
    """A flow deployed to Kestra; `name` is `<namespace>/<flow id>`."""

    TYPE: ClassVar[Optional[str]] = "kestra"

    @property
    def flow_yaml(self) -> Optional[str]:
        """The generated Kestra flow of an `only_json=True` create."""
        return getattr(self.deployer, "additional_info", {}).get("flow_yaml")

    def trigger(self, **kwargs) -> KestraTriggeredRun:
        """Start an execution; keyword arguments are the flow's Parameters (and `tags`)."""
        with temporary_fifo() as (attribute_file_path, attribute_file_fd):
            command = get_lower_level_group(
                self.deployer.api, self.deployer.top_level_kwargs, self.deployer.TYPE,
                self.deployer.deployer_kwargs,
            ).trigger(deployer_attribute_file=attribute_file_path, **kwargs)
            pid = self.deployer.spm.run_command(
                [sys.executable, *command], env=self.deployer.env_vars, cwd=self.deployer.cwd,
                show_output=self.deployer.show_output,
            )
            command_obj = self.deployer.spm.get(pid)
            content = handle_timeout(attribute_file_fd, command_obj, self.deployer.file_read_timeout)
            command_obj.sync_wait()
            if command_obj.process.returncode == 0:
                return KestraTriggeredRun(deployer=self.deployer, content=content)
        raise RuntimeError("Error triggering %s on Kestra" % self.deployer.flow_file)

    def delete(self, **kwargs) -> bool:
        """Remove the flow from Kestra; True if it was removed."""
        return _run_command(self.deployer, "delete", **kwargs)

    @classmethod
    def from_deployment(cls, identifier: str, metadata: Optional[str] = None):
        """The deployed flow `<namespace>/<flow id>` (namespace `metaflow` if omitted)."""
        from metaflow_kestra.deployed import describe_deployment, stand_in_flow_source

        namespace, _, flow_id = identifier.rpartition("/")
        namespace = namespace or "metaflow"
        from metaflow_kestra.flow_commands import client_for

        description = describe_deployment(client_for({}).flow(namespace, flow_id))
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False, dir=_stand_in_dir()) as handle:
            handle.write(stand_in_flow_source(description))
        deployer = Deployer(handle.name, env={"METAFLOW_USER": description.user}).kestra(
            kestra_namespace=namespace, flow_id=flow_id,
        )
        deployer.name = "%s/%s" % (namespace, flow_id)
        deployer.flow_name = description.flow_name
        deployer.metadata = metadata or get_metadata()
        return cls(deployer=deployer)

    @classmethod
    def get_triggered_run(cls, identifier: str, run_id: str, metadata: Optional[str] = None):
        deployed = cls.from_deployment(identifier, metadata)
        return KestraTriggeredRun(deployer=deployed.deployer, content=json.dumps({
            "metadata": deployed.deployer.metadata,
            "pathspec": "%s/%s" % (deployed.deployer.flow_name, run_id),
            "name": run_id,
        }))

    @classmethod
    def list_deployed_flows(cls, flow_name: Optional[str] = None):
        """Every Metaflow flow deployed to Kestra (optionally only `flow_name`)."""
        from metaflow_kestra.flow_commands import FLOW_LABEL, client_for

        labels = {FLOW_LABEL: flow_name} if flow_name else None
        for flow in client_for({}).search_flows(labels=labels):
            if "metaflow_deployment" not in (flow.get("variables") or {}):
                continue
            try:
                yield cls.from_deployment("%s/%s" % (flow["namespace"], flow["id"]))
            except MetaflowException:
                continue
