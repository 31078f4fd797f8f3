"""Kestra's Restart of a failed execution continues the same Metaflow run (stand-in engine)."""

import subprocess
import sys

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

_ATTEMPTS = r"""
import sys
from metaflow import Task, namespace
namespace(None)
print(Task(sys.argv[1]).current_attempt)
"""


def test_restart_runs_a_new_attempt_of_the_failed_task_and_the_run_succeeds(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    engine = StandinEngine(workspace.compile("flaky_flow"), "restart1", environ=workspace.env)
    assert engine.run() == "FAILED"
    assert not workspace.artifacts("FlakyFlow", "kestra-restart1")["successful"]

    assert engine.restart() == "SUCCESS", "\n".join(engine.logs)
    run = workspace.artifacts("FlakyFlow", "kestra-restart1")
    assert run["successful"]
    assert dict(run["steps"]["join"][0])["attempts"] == "[0, 1]"
    # The item that succeeded the first time was not run again.
    ran = [log for log in engine.logs if log.startswith("[flaky]")]
    assert len(ran) == 3
    done = subprocess.run([sys.executable, "-c", _ATTEMPTS, "FlakyFlow/kestra-restart1/flaky/flaky-1"],
                          env=workspace.env, capture_output=True, text=True, cwd=tmp_path)
    assert done.stdout.strip() == "1", done.stderr  # the client sees the second attempt
