"""Registers metaflow-kestra with Metaflow: the `kestra` command group and the Deployer API."""

CLIS_DESC = [("kestra", ".kestra_cli.cli")]
DEPLOYER_IMPL_PROVIDERS_DESC = [("kestra", ".kestra_deployer.KestraDeployer")]
