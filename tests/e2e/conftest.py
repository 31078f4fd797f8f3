"""Fixtures of the end-to-end tests (the server itself is in tests/conftest.py)."""

import pytest

from tests.flow_runs import FlowWorkspace


@pytest.fixture
def workspace(tmp_path, kestra_server):
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update({
        "METAFLOW_KESTRA_HOST": kestra_server.url,
        "METAFLOW_KESTRA_USER": kestra_server.username,
        "METAFLOW_KESTRA_PASSWORD": kestra_server.password,
    })
    return workspace
