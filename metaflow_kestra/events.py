"""Publishing Metaflow events to Kestra from Python, as `python flow.py kestra send-event` does.

    from metaflow_kestra.events import KestraEvent

    KestraEvent("data.ready").publish({"table": "sales"})

Every flow deployed to the server that `@trigger`s on the event starts, with the payload's
fields mapped to its parameters (Metaflow's `ArgoEvent` is the Argo counterpart). Connection
keywords as the Deployer's (`kestra_host`, `kestra_user`, `kestra_password`, `kestra_token`,
`kestra_tenant`), else the environment, else the local server.
"""

class KestraEvent:
    def __init__(self, name, payload=None, **connection):
        from .client import connection_arguments

        self.name = name
        self.payload = dict(payload or {})
        self._connection = connection_arguments(connection)  # unknown keywords: a TypeError, here

    def add_to_payload(self, key, value):
        """Add a field to the payload (a parameter of the triggered flows when @trigger maps it)."""
        self.payload[str(key)] = value
        return self

    def publish(self, payload=None, ignore_errors=False):
        """Fire the event; returns the (namespace, flow id) of every flow it started.

        A server that cannot be reached raises a KestraError, unless `ignore_errors`
        (then nothing is started and [] is returned), as ArgoEvent.publish offers.
        """
        from .client import connect
        from .errors import KestraError
        from .executions import send_event

        body = dict(self.payload, **(payload or {}))
        try:
            return send_event(connect(**self._connection), self.name, body)
        except KestraError:
            if ignore_errors:
                return []
            raise
