"""Fixtures of the end-to-end tests (the server itself is in tests/conftest.py)."""

import pytest

from tests.flow_runs import FlowWorkspace


def kestra_workspace(root, kestra_server):
    """A FlowWorkspace at `root` whose `kestra` commands reach `kestra_server`."""
    workspace = FlowWorkspace(root)
    workspace.env.update({
        "METAFLOW_KESTRA_HOST": kestra_server.url,
        "METAFLOW_KESTRA_USER": kestra_server.username,
        "METAFLOW_KESTRA_PASSWORD": kestra_server.password,
    })
    return workspace


@pytest.fixture
def workspace(tmp_path, kestra_server):
    return kestra_workspace(tmp_path, kestra_server)


def deployed_flows(client):
    """(namespace, id) of every flow on the test server."""
    return {(flow["namespace"], flow["id"]) for flow in client.search_flows()}


@pytest.fixture(scope="module", autouse=True)
def deletes_what_it_deploys(request):
    """A module's tests leave no flow deployed: a flow with a trigger left behind would start on
    later tests' runs (a `@trigger_on_finish` downstream flow, an event's receivers)."""
    if not any("kestra_server" in item.fixturenames for item in request.session.items
               if item.module is request.module):
        yield
        return
    client = request.getfixturevalue("kestra_client")
    before = deployed_flows(client)
    yield
    for namespace, flow_id in sorted(deployed_flows(client) - before):
        client.delete_flow(namespace, flow_id)
