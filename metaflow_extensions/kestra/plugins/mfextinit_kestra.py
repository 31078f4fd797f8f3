"""Registers metaflow-kestra with Metaflow: the `kestra` commands, the Deployer API, Kestra secrets."""

CLIS_DESC = [("kestra", ".kestra_cli.cli")]
DEPLOYER_IMPL_PROVIDERS_DESC = [("kestra", ".kestra_deployer.KestraDeployer")]
SECRETS_PROVIDERS_DESC = [("kestra", ".kestra_secrets.KestraSecretsProvider")]
