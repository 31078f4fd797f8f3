"""The Kestra the benchmarks run on: this project's local server on its own port, with its own
state, so a benchmark never touches the server a user or the test suite runs."""

import sys
import tempfile

from benchmarks import flows

BENCH_PORT = 18480


def start_server(kestra_version=None):
    """(server, state, client, reused): `reused` when the server was running already (then a
    benchmark leaves it running, and does not stop it)."""
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import Connection
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings

    server = LocalServer(ServerSettings.from_environment(port=BENCH_PORT, management_port=BENCH_PORT + 1,
                                                         kestra_version=kestra_version))
    state, reused = server.start()
    client = KestraClient(Connection(state.url, state.username, state.password), timeout=120)
    clear_benchmark_flows(client)
    return server, state, client, reused


def clear_benchmark_flows(client):
    """Delete the flows earlier benchmark runs left in the benchmarks' namespaces: each system
    deploys anew, and ours refuses to replace a flow it did not deploy."""
    from benchmarks.systems import ALT_NAMESPACE, NAMESPACE

    for namespace in (NAMESPACE, ALT_NAMESPACE):
        for flow in client.search_flows(namespace=namespace):
            client.delete_flow(flow["namespace"], flow["id"])


def workspace(directory, client):
    """A Metaflow root in `directory` whose Kestra is `client`'s server."""
    from tests.flow_runs import FlowWorkspace

    bench = FlowWorkspace(directory)
    bench.env.update(METAFLOW_KESTRA_HOST=client.connection.url, METAFLOW_KESTRA_USER=client.connection.username,
                     METAFLOW_KESTRA_PASSWORD=client.connection.password)
    return bench


def warm_up(client):
    """One untimed run on the server first: a JVM just started is slower until its code is compiled."""
    from benchmarks.systems import Ours

    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        flow_name, path = flows.write(tmp, flows.foreach_flow(20))
        print("  warming the server up (untimed) ...", file=sys.stderr, flush=True)
        Ours(workspace(tmp, client), client).run(flow_name, path)
