"""Registers metaflow-kestra with Metaflow: the `kestra` commands, the Deployer API, Kestra secrets,
and the step decorator that sets `current.trigger` for event-started runs."""

CLIS_DESC = [("kestra", ".kestra_cli.cli")]
DEPLOYER_IMPL_PROVIDERS_DESC = [("kestra", ".kestra_deployer.KestraDeployer")]
SECRETS_PROVIDERS_DESC = [("kestra", ".kestra_secrets.KestraSecretsProvider")]
STEP_DECORATORS_DESC = [("kestra_event_trigger", ".kestra_event_trigger.KestraEventTriggerDecorator")]
