"""Registers metaflow-kestra with Metaflow: the `kestra` command group of a flow."""

CLIS_DESC = [("kestra", ".kestra_cli.cli")]
