"""Metaflow's own logs after a Kestra run: `Task.stdout`/`.stderr` and `python flow.py logs` show
what each task printed, as after a local run, on cold and warm starts and for every attempt."""

import json

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0

_LOGS = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
out, warm = {}, set()
for step in Run(sys.argv[1]):
    out[step.id] = sorted([task.stdout, task.stderr] for task in step)
    warm.update(task["started_warm"].data for task in step if "started_warm" in task)
print(json.dumps({"logs": out, "warm": sorted(warm)}))
"""


def task_logs(workspace, pathspec):
    """{logs: {step: sorted [stdout, stderr] per task}, warm: [whether tasks started warm]} of a run,
    read with Metaflow's client."""
    return json.loads(workspace.client(_LOGS, pathspec))


def without_runtime_lines(logs):
    """A local run's logs hold the local runtime's own last line ("Task failed."), which no
    scheduler's task writes: Argo's logs lack it too."""
    return {step: [[text.replace("\nTask failed.\n", "\n") for text in pair] for pair in tasks]
            for step, tasks in logs.items()}


def test_each_task_s_logs_are_what_a_local_run_s_are(workspace):
    local = task_logs(workspace, "PrintingFlow/" + workspace.run_locally("printing_flow"))["logs"]
    _, run_id = run_on_kestra(workspace, "printing_flow")
    read = task_logs(workspace, "PrintingFlow/" + run_id)
    assert read["warm"] == [False, True], "both cold and warm starts must be covered"
    on_kestra = read["logs"]
    assert on_kestra["start"] == [["start says hello on stdout\n", "start warns on stderr\n"]]
    assert on_kestra["end"] == [["multi\nline\noutput\nno newline at the end\n", ""]]
    assert on_kestra == without_runtime_lines(local)


def test_the_logs_command_shows_each_attempt(workspace):
    _, run_id = run_on_kestra(workspace, "printing_flow")

    def logs(*args):
        done = workspace.flow_command("printing_flow", "logs", "%s/wobbly" % run_id, *args)
        return done.stdout + done.stderr

    assert "attempt 1 starts" in logs()
    first = logs("--attempt", "0")
    assert "attempt 0 starts" in first and "the first attempt fails on purpose" in first
