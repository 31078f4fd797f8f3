"""The start task's `init` (Metaflow's command that records the run's parameters) runs in a fork
of the task's interpreter, which has imported Metaflow already, not in a new interpreter: a cold
start there cost every run a second interpreter start (issue 30). The task's own process must
stay as it was, so that its step can still run in it."""

import json
import shutil

from tests.flow_loading import flow_path
from tests.flow_runs import FlowWorkspace

RUN_INIT = r"""
import json, os, subprocess, sys
import metaflow  # what a warm task has imported when its runtime starts
from metaflow_kestra.deployment import Deployment
from metaflow_kestra.step_runner import StepRunner, TaskFailed


def no_new_interpreter(*args, **kwargs):
    raise AssertionError("init started a new interpreter: %r" % (args,))


subprocess.call = no_new_interpreter
flow_file, root, values = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
deployment = Deployment(flow_name="ParamsFlow", flow_file=flow_file, datastore_root=root,
                        parameters={"text": "STRING", "count": "INT", "ratio": "FLOAT", "flag": "BOOL",
                                    "config": "JSON", "needed": "STRING"})
try:
    StepRunner(deployment, dict(os.environ), "exec1", []).init("kestra-exec1", values)
    status = 0
except TaskFailed as failed:
    status = failed.returncode
print(json.dumps({"status": status, "flow_imported_here": "metaflow.cli" in sys.modules}))
"""

READ_PARAMETERS = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
data = Run("ParamsFlow/kestra-exec1")["_parameters"].task.data
print(json.dumps({"needed": data.needed, "count": data.count, "text": data.text}))
"""


def _init(workspace, values):
    flow_file = workspace.root / "params_flow.py"
    shutil.copy(flow_path("params_flow"), flow_file)
    done = workspace.client(RUN_INIT, flow_file, workspace.root / ".metaflow", json.dumps(values))
    return json.loads(done.strip().splitlines()[-1])


def test_init_runs_in_a_fork_and_records_the_parameters(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    result = _init(workspace, {"needed": "given", "count": 7})
    assert result == {"status": 0, "flow_imported_here": False}
    assert json.loads(workspace.client(READ_PARAMETERS)) == {
        "needed": "given", "count": 7, "text": "{{ execution.id }} {% raw %}"}


def test_a_failing_init_in_the_fork_fails_the_task(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    result = _init(workspace, {})  # `needed` is required
    assert result["status"] != 0 and result["flow_imported_here"] is False
