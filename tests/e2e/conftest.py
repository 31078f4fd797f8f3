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
