"""`@secrets(sources=["kestra.NAME"])`: a Kestra secret, resolved by Kestra's `secret()`.

The compiler puts `METAFLOW_KESTRA_SECRET_<NAME>: "{{ secret('NAME') | base64encode }}"`
into the task's environment (base64, so a secret holding Pebble syntax survives
Kestra's second render of `env`), so the value never appears in the flow's source or YAML;
this provider hands it to Metaflow's @secrets, which exposes it to the step
as the environment variable NAME.
"""

import base64
import os

from metaflow.exception import MetaflowException
from metaflow.plugins.secrets import SecretsProvider

ENV_PREFIX = "METAFLOW_KESTRA_SECRET_"


class KestraSecretsProvider(SecretsProvider):
    TYPE = "kestra"

    def get_secret_as_dict(self, secret_id, options={}, role=None):
        value = os.environ.get(ENV_PREFIX + secret_id)
        if value is None:
            raise MetaflowException(
                "Kestra secret %s is not available to this task: @secrets(sources=['kestra.%s']) works "
                "only in flows deployed with `python flow.py kestra create/run`, and the Kestra server "
                "must define the secret." % (secret_id, secret_id)
            )
        return {secret_id: base64.b64decode(value).decode("utf-8")}
