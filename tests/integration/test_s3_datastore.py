"""A flow deployed with --datastore=s3 runs with its artifacts in S3 (a local moto endpoint).

Credentials and the endpoint reach tasks through the worker's environment (on
Kestra: the server's environment or secrets), never through the generated YAML.
"""

import pytest

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extras")

SECRET_KEY = "local-secret-key-for-tests"


@pytest.fixture(scope="module")
def s3_endpoint():
    import boto3

    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = "http://%s:%d" % (host, port)
    boto3.client("s3", endpoint_url=url, region_name="us-east-1", aws_access_key_id="test",
                 aws_secret_access_key=SECRET_KEY).create_bucket(Bucket="flows")
    yield url
    server.stop()


def test_s3_datastore_end_to_end(tmp_path, s3_endpoint):
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update({
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": "s3://flows/metaflow",
        "METAFLOW_S3_ENDPOINT_URL": s3_endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    text = workspace.compile("foreach_flow")
    assert '"datastore":"s3"' in text and "s3://flows/metaflow" in text
    assert SECRET_KEY not in text and s3_endpoint not in text

    engine = StandinEngine(text, "s3run", environ=workspace.env)
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    local = workspace.artifacts("ForeachFlow", workspace.run_locally("foreach_flow"))
    on_kestra = workspace.artifacts("ForeachFlow", "kestra-s3run")
    assert on_kestra["successful"] and on_kestra["steps"] == local["steps"]

    import boto3

    keys = [o["Key"] for o in boto3.client(
        "s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
        aws_secret_access_key=SECRET_KEY).list_objects_v2(Bucket="flows", Prefix="metaflow/ForeachFlow/")["Contents"]]
    assert any("/kestra-s3run/" in key for key in keys)  # the run's task metadata and artifacts are in S3
