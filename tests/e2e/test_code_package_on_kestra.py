"""Deployments carry their code: runs on the real Kestra survive the source moving away, and a
redeploy runs the new code (the package comes from Kestra's namespace files, not the project)."""

import shutil
import uuid

import pytest

from metaflow_kestra import ids
from tests.flow_loading import flow_path

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"


def run_deployed(kestra_client, flow_id):
    """Start the deployed flow through the API (its source is gone: no `python flow.py` possible)."""
    from metaflow_kestra.deploying import Target
    from metaflow_kestra.executions import start_execution

    run_id = start_execution(kestra_client, Target(NAMESPACE, flow_id), "LinearFlow", {})
    assert kestra_client.wait(ids.execution_id_of(run_id), timeout=600)["state"]["current"] == "SUCCESS"
    return run_id


def test_a_deployed_flow_runs_after_its_source_moves_away_and_a_redeploy_runs_new_code(
        workspace, kestra_client, tmp_path):
    source = tmp_path / "project-src"
    source.mkdir()
    (source / "helpers.py").write_text("FACTOR = 3\n")
    flow_file = source / "linear_flow.py"
    # A fresh token makes a package no worker has cached: the task must get it from Kestra.
    flow_file.write_text("# %s\n" % uuid.uuid4().hex + flow_path("linear_flow").read_text().replace(
        "def start(self):", "def start(self):\n        import helpers\n        self.version = 'v1-%d' % helpers.FACTOR", 1))
    workspace.flow_command(str(flow_file), "kestra", "--kestra-namespace", NAMESPACE, "create")
    old_variables = kestra_client.flow(NAMESPACE, "linearflow")["variables"]

    moved = tmp_path / "moved-away"
    source.rename(moved)  # the user moves the project
    start = dict(workspace.artifacts("LinearFlow", run_deployed(kestra_client, "linearflow"),
                                     name="linear_flow")["steps"]["start"][0])
    assert start["version"] == repr("v1-3")

    flow_file = moved / "linear_flow.py"
    flow_file.write_text(flow_file.read_text().replace("'v1-%d'", "'v2-%d'"))
    workspace.flow_command(str(flow_file), "kestra", "--kestra-namespace", NAMESPACE, "create")
    assert kestra_client.flow(NAMESPACE, "linearflow")["variables"] != old_variables  # a new package sha
    shutil.rmtree(moved)  # ... and deletes it
    start = dict(workspace.artifacts("LinearFlow", run_deployed(kestra_client, "linearflow"),
                                     name="linear_flow")["steps"]["start"][0])
    assert start["version"] == repr("v2-3")
