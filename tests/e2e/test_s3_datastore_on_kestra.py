"""A flow deployed with --datastore=s3 runs on Kestra with its artifacts in S3 (a local moto endpoint).

Credentials and the endpoint reach tasks through the worker's environment -- here the
server's, set by tests/conftest.py -- never through the generated YAML (that is checked in
tests/integration/test_s3_datastore.py).
"""

import pytest

from tests.conftest import E2E_S3_PORT, server_environment
from tests.e2e.conftest import kestra_workspace
from tests.e2e.test_flows_on_kestra import run_on_kestra

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extras")
pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


def process_environment(pid):
    """The environment a process runs with, where /proc tells it (else None)."""
    try:
        with open("/proc/%d/environ" % pid, "rb") as handle:
            entries = handle.read().split(b"\0")
    except OSError:
        return None
    return dict(entry.decode("utf-8", "replace").split("=", 1) for entry in entries if b"=" in entry)


@pytest.fixture(scope="module")
def s3_run(kestra_server, tmp_path_factory):
    """(workspace, run id, S3 client) of one ForeachFlow run on Kestra with the S3 datastore."""
    import boto3

    settings = {name: value for name, value in server_environment().items() if not name.startswith("SECRET_")}
    seen = process_environment(kestra_server.pid)
    if seen is not None and any(seen.get(name) != value for name, value in settings.items()):
        pytest.skip("the Kestra server at %s was started outside this test session without the S3 settings "
                    "of tests/conftest.py:server_environment" % kestra_server.url)
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=E2E_S3_PORT)
    server.start()
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
