"""`python flow.py kestra ...`: the flow-level commands (thin; logic lives in metaflow_kestra)."""

from metaflow._vendor import click


@click.group()
def cli():
    pass


@cli.group(help="Compile, deploy, trigger and follow this flow on Kestra.")
@click.pass_obj
def kestra(obj):
    pass
