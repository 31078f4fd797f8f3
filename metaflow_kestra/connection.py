"""Which Kestra server to talk to, and with which credentials.

An explicit host (option or METAFLOW_KESTRA_HOST) wins; with none, the local
server started by `metaflow-kestra server start` is used (the one on the
default port, else the only one running), with its own credentials, so the
main job needs no configuration at all. A host that names a local server of
ours (loopback, its port) gets that server's credentials too, and the API URL
`server start` prints (`.../api/v1/main`) is taken as the server's.
"""

import os
import re
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
    tenant_given = tenant or env.get(ENV_TENANT)
    if host:
        url, url_tenant = _split_api_url(_checked_url(host))
        tenant = _checked_tenant(tenant_given or url_tenant or DEFAULT_TENANT)
        state = None if (username or password or token) else _local_server_at(url)
        if state is not None:  # a local server of ours: its own credentials
            username, password = state.username, state.password
        return Connection(url, username, password, token, tenant)
    tenant = _checked_tenant(tenant_given or DEFAULT_TENANT)
    state = _the_local_server()
    return Connection(
        state.url,
        username or state.username,
        password or state.password,
        token,
        tenant,
    )


_TENANT = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,99}")


def _checked_tenant(tenant):
    """`tenant` if it is a tenant id (it becomes a segment of every API path); else a KestraError."""
    if not _TENANT.fullmatch(tenant):
        raise KestraError(
            "--kestra-tenant %r (or %s) is not a Kestra tenant id: use letters, digits, '_' and '-', "
            "starting with a letter or a digit (the default is %r)." % (tenant, ENV_TENANT, DEFAULT_TENANT))
    return tenant


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


def _split_api_url(url):
    """(server URL, tenant or None): `server start` prints the API as http://host:port/api/v1/main,
    and people pass that on; Kestra's clients want the server's root."""
    match = re.fullmatch(r"(.+?)/api/v1(?:/([^/?#]+))?/?", url)
    if match:
        return match.group(1), match.group(2)
    return url, None


def _local_server_at(url):
    """The running local server that `url` (on loopback) names, or None."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "localhost") or parts.path:
        return None
    return running_local_server(parts.port or 80)


def _the_local_server():
    """The local server on the default port, else the only one running; else a KestraError."""
    from .local_server.server import running_servers
    from .local_server.settings import ServerSettings

    state = running_local_server()
    if state is not None:
        return state
    running = running_servers(ServerSettings.from_environment())
    if len(running) == 1:
        return next(iter(running.values()))
    if running:
        raise KestraError(
            "No Kestra server given, and local ones run on ports %s: pass the one to use, e.g. "
            "--kestra-host %s (or set %s)." % (", ".join(map(str, sorted(running))),
                                               running[min(running)].url, ENV_HOST))
    raise KestraError(
        "No Kestra server given and no local one is running. Start one with "
        "`metaflow-kestra server start`, or pass --kestra-host (or set %s)." % ENV_HOST
    )


def running_local_server(port=None):
    """The state of the running local server (default port unless given), or None."""
    from .local_server.server import server_on
    from .local_server.settings import ServerSettings

    return server_on(ServerSettings.from_environment(port=port)).running_state()
