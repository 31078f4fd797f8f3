"""Twenty executions of one deployment at once on the real Kestra: distinct runs, nothing overwritten."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from metaflow_kestra import ids
from metaflow_kestra.client import KestraClient
from metaflow_kestra.deploying import Target
from metaflow_kestra.executions import start_execution

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.tests"
EXECUTIONS = 20


def test_twenty_concurrent_executions_keep_their_own_runs(workspace, kestra_client):
    workspace.flow_command("params_flow", "kestra", "--kestra-namespace", NAMESPACE, "create")
    target = Target.of("ParamsFlow", NAMESPACE, None)

    def start(i):  # a client per thread, as each `kestra trigger` process has its own
        return start_execution(KestraClient(kestra_client.connection), target, "ParamsFlow", {"needed": "value-%d" % i})

    with ThreadPoolExecutor(max_workers=EXECUTIONS) as pool:
        run_ids = list(pool.map(start, range(EXECUTIONS)))
    assert len(set(run_ids)) == EXECUTIONS
    states = [kestra_client.wait(ids.execution_id_of(run_id), timeout=900)["state"]["current"] for run_id in run_ids]
    assert states == ["SUCCESS"] * EXECUTIONS
    for i, run_id in enumerate(run_ids):
        run = workspace.artifacts("ParamsFlow", run_id)
        assert run["successful"]
        assert "'needed': 'value-%d'" % i in dict(run["steps"]["start"][0])["seen"]
