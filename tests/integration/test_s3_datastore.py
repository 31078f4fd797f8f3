"""A flow deployed with --datastore=s3 names its datastore, never its credentials or endpoint.

Credentials and the endpoint reach tasks through the worker's environment (on
Kestra: the server's environment or secrets), never through the generated YAML.
The run itself, against a local moto endpoint, is tests/e2e/test_s3_datastore_on_kestra.py.
"""

from tests.flow_runs import FlowWorkspace

SECRET_KEY = "local-secret-key-for-tests"
ENDPOINT = "http://127.0.0.1:9"  # never contacted: compiling does not touch the datastore


def test_the_yaml_names_the_s3_datastore_and_no_credentials(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update({
        "METAFLOW_DEFAULT_DATASTORE": "s3",
        "METAFLOW_DATASTORE_SYSROOT_S3": "s3://flows/metaflow",
        "METAFLOW_S3_ENDPOINT_URL": ENDPOINT,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": "us-east-1",
    })
    text = workspace.compile("foreach_flow")
    assert '"datastore":"s3"' in text and "s3://flows/metaflow" in text
    assert SECRET_KEY not in text and ENDPOINT not in text
