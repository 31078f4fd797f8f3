"""Warm task starts on the real local Kestra: later tasks fork from a warm interpreter, behave as
cold ones do, and die with their Kestra task."""

import os
import time

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.e2e.test_operations_on_kestra import NAMESPACE, kestra
from tests.e2e.test_reliability_on_kestra import _start_killable

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
STEPS = ["start", "one", "two", "three", "end"]


def _values(workspace, run_id, name):
    steps = workspace.artifacts("WarmFlow", run_id)["steps"]
    return {step: dict(steps[step][0])[name] for step in STEPS}


def test_later_tasks_start_warm_and_see_their_own_task(workspace):
    _, first = run_on_kestra(workspace, "warm_flow")
    _, second = run_on_kestra(workspace, "warm_flow")
    # The first two tasks run cold (the second starts the warm server); later ones fork from it.
    assert [_values(workspace, first, "started_warm")[step] for step in STEPS[:2]] == ["False", "False"]
    assert set(_values(workspace, second, "started_warm").values()) == {"True"}
    # Issue 26, finding 2: the warm server was started with the environment of the task that
    # started it, which every later task (of any flow) then read in /proc/self/environ.
    assert set(_values(workspace, second, "started_with_task_variables").values()) == {"[]"}
    for run_id in (first, second):
        assert workspace.artifacts("WarmFlow", run_id)["successful"]
        for step, seen in _values(workspace, run_id, "seen_step").items():
            assert '"step":"%s"' % step in seen.replace(" ", "")  # its own task's environment
        assert len(set(_values(workspace, run_id, "pid").values())) == len(STEPS)
        directories = _values(workspace, run_id, "working_directory")
        assert len(set(directories.values())) == len(STEPS)  # each in its own Kestra working directory


def test_terminating_a_warm_task_kills_its_process(workspace):
    # A warm interpreter serves one deployment: one whole run of this flow starts its server.
    warm_up = workspace.root / "warm-up"
    warm_up.mkdir()
    (warm_up / "killed").write_text("")  # its `work` step finishes at once
    workspace.flow_command("killable_flow", "kestra", "--kestra-namespace", NAMESPACE, "run", "--wait",
                           "--folder", str(warm_up))
    run_id, folder = _start_killable(workspace)
    pid = int((folder / "pid").read_text())
    assert "metaflow_kestra.warm_server" in _command_line(_parent(pid))  # the step runs warm
    kestra(workspace, "killable_flow", "terminate", "--run-id", run_id)
    deadline = time.time() + 60
    while _alive(pid):
        assert time.time() < deadline, "the step process %d outlived its killed Kestra task" % pid
        time.sleep(0.5)


def _alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _parent(pid):
    with open("/proc/%d/stat" % pid) as stat:
        return int(stat.read().split(")")[-1].split()[1])


def _command_line(pid):
    with open("/proc/%d/cmdline" % pid, "rb") as cmdline:
        return cmdline.read().replace(b"\0", b" ").decode()
