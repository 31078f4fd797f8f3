"""Metaflow's Deployer API for Kestra: `Deployer("flow.py").kestra(...).create()`.

Imports only `deployer_impl` at module level (importing `metaflow.runner.deployer`
here would be circular); the deployed-flow objects live in their own module.
"""

from typing import Any, ClassVar, Dict, Optional

from metaflow.runner.deployer_impl import DeployerImpl


class KestraDeployer(DeployerImpl):
    """Deployer for Kestra.

    Parameters (the options of `python flow.py kestra`)
    ----------
    kestra_host, kestra_user, kestra_password, kestra_token, kestra_tenant : str, optional
        Which Kestra server and credentials (default: environment, else the local server).
    kestra_namespace : str, optional, default "metaflow"
        Kestra namespace of the deployed flow.
    flow_id : str, optional
        Kestra flow id (default: the flow name in lowercase).
    """

    TYPE: ClassVar[Optional[str]] = "kestra"

    def __init__(self, deployer_kwargs: Dict[str, str], **kwargs):
        self._deployer_kwargs = deployer_kwargs
        super().__init__(**kwargs)

    @property
    def deployer_kwargs(self) -> Dict[str, Any]:
        return self._deployer_kwargs

    @staticmethod
    def deployed_flow_type():
        from .kestra_deployer_objects import KestraDeployedFlow

        return KestraDeployedFlow

    def create(self, **kwargs):
        """Deploy the flow to Kestra.

        Parameters
        ----------
        max_workers : int, optional, default 16
            How many items of a foreach run at once.
        foreach : str, optional, default "inline"
            "subflows" runs foreach items in child executions (Kestra ForEachItem): for
            foreaches of more than a few hundred items.
        foreach_batch : int, optional, default 100
            With foreach="subflows", the most items one child execution runs (max_workers at a
            time; the executions run one after another). 1 gives an execution per item.
        tags : List[str], optional
            Tags for the runs of this deployment.
        kestra_version : str, optional
            The Kestra version to write the flow for ("1.3", "2.0"...); default: the server's.
        authorize : str, optional
            The production token of a deployment another user made, to redeploy it.
        generate_new_token : bool, optional, default False
            Start a new production namespace (a new token) for the runs.
        given_token : str, optional
            Use this production token (runs go to namespace production:<token>).
        notify_on_error, notify_on_success : bool, optional
            Send the run's outcome to the services below after each run.
        notify_slack_webhook_url, notify_pager_duty_integration_key, notify_incident_io_api_key : str, optional
            Names of the Kestra secrets holding the Slack webhook URL, PagerDuty key, incident.io key.
        incident_io_alert_source_config_id : str, optional
        incident_io_metadata : str, optional
            A JSON object added to each incident.io alert.
        only_json : bool, optional, default False
            Compile without deploying; the YAML is in `deployed_flow.flow_yaml`.

        Returns
        -------
        KestraDeployedFlow

        Raises
        ------
        KestraDeployerError (a RuntimeError)
            With the command's one-line reason (bad option, server down, credentials refused...).
        """
        from .kestra_deployer_objects import KestraDeployedFlow, run_command

        content = run_command(self, "create", attributes=True, **kwargs)
        self.name, self.flow_name = content.get("name"), content.get("flow_name")
        self.metadata = content.get("metadata")
        self.additional_info = content.get("additional_info", {})
        return KestraDeployedFlow(deployer=self)

    def from_deployment(self, identifier: str, metadata: Optional[str] = None):
        """The deployed flow `<namespace>/<flow id>`, reached with this deployer's connection
        (`Deployer(flow).kestra(kestra_host=...).from_deployment("team/myflow")`)."""
        from .kestra_deployer_objects import CONNECTION_KWARGS, KestraDeployedFlow

        connection = {key: value for key, value in (self.deployer_kwargs or {}).items()
                      if key in CONNECTION_KWARGS and value is not None}
        return KestraDeployedFlow.from_deployment(identifier, metadata, **connection)
