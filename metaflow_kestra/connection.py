"""Which Kestra server to talk to, and with which credentials.

An explicit host (option or METAFLOW_KESTRA_HOST) wins; with none, the local
server started by `metaflow-kestra server start` is used with its
development credentials, so the main job needs no configuration at all.
"""

import os
from dataclasses import dataclass

from .errors import KestraError

ENV_HOST = "METAFLOW_KESTRA_HOST"
ENV_USER = "METAFLOW_KESTRA_USER"
ENV_PASSWORD = "METAFLOW_KESTRA_PASSWORD"
ENV_TOKEN = "METAFLOW_KESTRA_TOKEN"
ENV_TENANT = "METAFLOW_KESTRA_TENANT"
DEFAULT_TENANT = "main"


@dataclass(frozen=True)
class Connection:
    url: str
    username: str = None
    password: str = None
    token: str = None
    tenant: str = DEFAULT_TENANT

    @property
    def auth(self):
        if self.username is not None and self.password is not None:
            return (self.username, self.password)
        return None


def resolve_connection(host=None, username=None, password=None, token=None, tenant=None):
    """The connection to use, from options, then environment, then the local server."""
    env = os.environ
    host = host or env.get(ENV_HOST)
    username = username or env.get(ENV_USER)
    password = password or env.get(ENV_PASSWORD)
    token = token or env.get(ENV_TOKEN)
    tenant = tenant or env.get(ENV_TENANT) or DEFAULT_TENANT
    if host:
        return Connection(_checked_url(host), username, password, token, tenant)
    state = running_local_server()
    if state is None:
        raise KestraError(
            "No Kestra server given and no local one is running. Start one with "
            "`metaflow-kestra server start`, or pass --kestra-host (or set %s)." % ENV_HOST
        )
    return Connection(
        state.url,
        username or state.username,
        password or state.password,
        token,
        tenant,
    )


def _checked_url(host):
    """`host` without a trailing slash, if it is an http(s) URL with a host; else a KestraError."""
    from urllib.parse import urlsplit

    parts = urlsplit(host)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise KestraError(
            "--kestra-host %r (or %s) is not a Kestra URL: give it as http://host:port, e.g. "
            "http://127.0.0.1:8080." % (host, ENV_HOST)
        )
    return host.rstrip("/")


def running_local_server(port=None):
    """The state of the running local server (default port unless given), or None."""
    from .local_server.server import server_on
    from .local_server.settings import ServerSettings

    return server_on(ServerSettings.from_environment(port=port)).running_state()
