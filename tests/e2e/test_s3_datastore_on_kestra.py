"""A flow deployed with --datastore=s3 runs on Kestra with its artifacts in S3 (a local moto endpoint).

Credentials and the endpoint reach tasks through the worker's environment -- here the
server's, set by tests/conftest.py -- never through the generated YAML (that is checked in
tests/integration/test_s3_datastore.py).
"""

import pytest

from tests.conftest import helper_ports, process_environment, server_environment
from tests.e2e.conftest import kestra_workspace
from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.helper_servers import start_with_deadline

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extras")
pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


@pytest.fixture(scope="module")
def s3_run(kestra_server, tmp_path_factory):
    """(workspace, run id, S3 client) of one ForeachFlow run on Kestra with the S3 datastore."""
    import boto3

    settings = {name: value for name, value in server_environment().items() if not name.startswith("SECRET_")}
    seen = process_environment(kestra_server.pid)
    assert seen is None or all(seen.get(name) == value for name, value in settings.items()), (
        "the session's Kestra server lacks the S3 settings of tests/conftest.py:server_environment")
    port = helper_ports().s3
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    start_with_deadline(server.start, port, "The S3 server (moto)")
    try:
        s3 = boto3.client("s3", endpoint_url=settings["METAFLOW_S3_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"])
        s3.create_bucket(Bucket="flows")
        workspace = kestra_workspace(tmp_path_factory.mktemp("s3"), kestra_server)
        workspace.env.update(settings)
        workspace.env.update({"METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DATASTORE_SYSROOT_S3": "s3://flows/metaflow"})
        _, run_id = run_on_kestra(workspace, "foreach_flow")  # `run --wait`: fails unless the execution succeeds
        yield workspace, run_id, s3
    finally:
        server.stop()


def test_every_step_of_the_run_keeps_its_artifacts_in_s3(s3_run):
    _, run_id, s3 = s3_run
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="flows", Prefix="metaflow/ForeachFlow/%s/" % run_id)["Contents"]]
    steps = {key.split("/")[3] for key in keys}
    assert {"start", "square", "join", "end"} <= steps
    assert any(key.endswith("/0.DONE.lock") for key in keys if key.split("/")[3] == "end")


# Regression: with --datastore=s3 and local metadata the deployment did not carry
# METAFLOW_DATASTORE_SYSROOT_LOCAL, so tasks wrote their metadata under Kestra's temporary
# working directory and the client found no run.
def test_the_run_on_kestra_matches_a_local_run(s3_run):
    workspace, run_id, _ = s3_run
    local = workspace.artifacts("ForeachFlow", workspace.run_locally("foreach_flow"))
    on_kestra = workspace.artifacts("ForeachFlow", run_id)
    assert on_kestra["successful"] and on_kestra["steps"] == local["steps"]
