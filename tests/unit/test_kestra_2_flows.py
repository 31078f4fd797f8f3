"""The flow language of Kestra 2.x (issue 15): Loop for foreach, no plugin defaults, dependsOn.

The e2e suites prove these flows on the 2.0 engine; these pin what the compiler writes.
"""

import json

import pytest

from metaflow_kestra import kestra_flow as k
from metaflow_kestra.client import descendants_of
from metaflow_kestra.compiler import kestra_triggers
from metaflow_kestra.decorators import FlowTriggers
from metaflow_kestra.deploying import DeployOptions, target_kestra_major
from metaflow_kestra.errors import KestraError
from metaflow_kestra.progress import step_summaries
from metaflow_kestra.runtime import TaskRefused, loop_index_path, root_facts
from tests.unit.test_compiler import SHAPES, by_id, compiled


@pytest.mark.parametrize("name", SHAPES)
def test_on_2_x_every_step_task_carries_its_runner_and_command_and_no_foreach_remains(name):
    kestra = compiled(name, kestra_major=2)
    assert kestra.plugin_defaults == [] and "pluginDefaults" not in kestra.to_dict()
    types = {task.to_dict()["type"] for task in k.walk_tasks(kestra.tasks)}
    assert not types & {k.FOR_EACH, k.FOR_EACH_ITEM}
    for task in k.walk_tasks(kestra.tasks):
        if isinstance(task, k.ScriptTask):
            assert task.task_runner == {"type": k.PROCESS_RUNNER}
            assert task.commands == ["python -m metaflow_kestra.task"]
            assert "METAFLOW_KESTRA_PARENTS" not in task.env and "METAFLOW_KESTRA_VALUE" not in task.env
    assert "currentEachOutput" not in json.dumps(kestra.to_dict())


def test_a_foreach_is_a_loop_over_the_reported_items_with_max_workers_at_once():
    loop = by_id(compiled("foreach_flow", max_workers=3, kestra_major=2))["start-foreach"]
    assert isinstance(loop, k.LoopTask) and loop.to_dict()["type"] == "io.kestra.plugin.core.flow.Loop"
    assert loop.values == "{{ outputs.start.vars.foreach_values | toJson }}"
    assert loop.concurrency_limit == 3


def test_inside_a_loop_the_run_s_facts_come_from_the_foreach_step_that_started_it():
    tasks = by_id(compiled("nested_foreach_flow", kestra_major=2))
    assert tasks["start"].env["METAFLOW_KESTRA_EXECUTION_ID"] == "{{ execution.id }}"
    assert "METAFLOW_KESTRA_LOOP_ITEM" not in tasks["start"].env
    outer, inner = tasks["start-foreach"], tasks["row-foreach"]
    assert inner in outer.tasks
    assert inner.values == "{{ outputs.row.vars.foreach_values | toJson }}"  # a sibling: plain outputs
    assert tasks["row"].env["METAFLOW_KESTRA_EXECUTION_ID"] == "{{ outputs.start.vars.execution_id }}"
    assert tasks["cell"].env["METAFLOW_KESTRA_EXECUTION_ID"] == "{{ outputs.row.vars.execution_id }}"
    assert tasks["cell"].env["METAFLOW_KESTRA_LOOP_ITEM"] == "{{ item | toJson | base64encode }}"
    assert tasks["join_rows"].env["METAFLOW_KESTRA_EXECUTION_ID"] == "{{ execution.id }}"


def test_a_branch_with_a_switch_inside_a_loop_needs_no_wrapper():
    kestra = compiled("switch_in_foreach_flow", kestra_major=2)
    switch = next(t for t in k.walk_tasks(kestra.tasks) if isinstance(t, k.SwitchTask))
    assert switch.value.startswith("{{ outputs.") and "currentEachOutput" not in switch.value
    loops = [t for t in k.walk_tasks(kestra.tasks) if isinstance(t, k.LoopTask)]
    assert len(loops) == 1


def test_subflows_mean_nothing_more_on_2_x_and_say_so():
    kestra = compiled("foreach_flow", foreach="subflows", kestra_major=2)
    assert kestra.children == []
    assert any(isinstance(t, k.LoopTask) for t in k.walk_tasks(kestra.tasks))
    assert any("--foreach subflows" in note for note in kestra.notes)


def test_an_unknown_kestra_line_is_refused_with_the_option_to_change():
    with pytest.raises(KestraError, match="--kestra-version"):
        compiled("linear_flow", kestra_major=3)


def test_the_flow_trigger_says_depends_on_in_2_x_and_preconditions_in_1_x():
    triggers = FlowTriggers(upstream={"upflow": "UpFlow"})
    [two] = kestra_triggers(triggers, "ns", kestra_major=2)
    assert two["dependsOn"] == [{"namespace": "ns", "flowId": "upflow", "states": ["SUCCESS"]}]
    assert "preconditions" not in two
    [one] = kestra_triggers(triggers, "ns", kestra_major=1)
    assert one["preconditions"]["flows"] == two["dependsOn"] and "dependsOn" not in one


def test_the_index_path_of_a_loop_item_is_its_parents_values_then_its_own():
    item = {"index": 1, "value": "6", "parent": {"index": 0, "value": "0"},
            "parents": [{"index": 2, "value": "2"}, {"index": 0, "value": "0"}]}
    assert loop_index_path(json.dumps(item)) == (2, 0, 6)
    assert loop_index_path(json.dumps({"index": 0, "value": "3"})) == (3,)
    assert loop_index_path(None) == ()
    with pytest.raises(TaskRefused, match="METAFLOW_KESTRA_LOOP_ITEM"):
        loop_index_path(json.dumps({"index": 0, "value": "a"}))


def test_a_foreach_step_passes_the_run_s_facts_on(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    environ = {"METAFLOW_KESTRA_EXECUTION_ID": "root1"}
    assert root_facts(environ) == {"execution_id": "root1"}
    (tmp_path / "metaflow-kestra-trigger.b64").write_text("eyJhIjoxfQ==")
    environ["METAFLOW_KESTRA_EXECUTION_START"] = "2026-12-03T06:30:25Z"
    assert root_facts(environ) == {"execution_id": "root1", "execution_start": "2026-12-03T06:30:25Z",
                                   "trigger": "eyJhIjoxfQ=="}


def test_loop_items_count_for_their_steps_and_their_loop():
    root = {"taskRunList": [{"taskId": "start", "state": {"current": "SUCCESS"}},
                            {"taskId": "start-foreach", "state": {"current": "RUNNING"}}]}
    items = [{"loopRun": {"taskId": "start-foreach"}, "state": {"current": state},
              "taskRunList": [{"taskId": "square", "state": {"current": state}}]}
             for state in ("SUCCESS", "SUCCESS", "RUNNING")]
    summaries = step_summaries(root, {"start", "square"}, items)
    assert summaries == {"start": "done", "start-foreach items": "2/3 done, 1 running",
                         "square": "2/3 done, 1 running"}


def test_only_the_sub_executions_under_the_run_are_its_loop_items():
    found = [{"id": "a", "parentId": "root"}, {"id": "b", "parentId": "a"}, {"id": "x", "parentId": "other"},
             {"id": "c", "parentId": "root"}, {"id": "loop1", "parentId": "loop2"}, {"id": "loop2", "parentId": "loop1"}]
    assert [e["id"] for e in descendants_of("root", found)] == ["a", "b", "c"]


class _Server:
    def __init__(self, version):
        self.version = version
        self.connection = type("C", (), {"url": "http://127.0.0.1:1"})()

    def server_version(self):
        return self.version

    def check_supported(self):
        pass

    def kestra_major(self):
        return int(self.version.split(".")[0])


def test_the_target_line_is_the_option_else_the_server_s_else_1_x():
    assert target_kestra_major(DeployOptions(), "F") == 1
    assert target_kestra_major(DeployOptions(kestra_version="2.0"), "F") == 2
    assert target_kestra_major(DeployOptions(), "F", client=_Server("2.0.0")) == 2
    assert target_kestra_major(DeployOptions(), "F", probe=lambda: _Server("2.0.0")) == 2

    def unreachable():
        raise KestraError("Cannot reach Kestra")
    assert target_kestra_major(DeployOptions(), "F", probe=unreachable) == 1
    with pytest.raises(KestraError, match="runs 1.3.31"):
        target_kestra_major(DeployOptions(kestra_version="2.0.0"), "F", client=_Server("1.3.31"))
    with pytest.raises(KestraError, match="--kestra-version '3.1'"):
        target_kestra_major(DeployOptions(kestra_version="3.1"), "F")


def test_an_untested_server_version_is_told_once_in_one_line_and_an_unknown_major_refused():
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import Connection

    said = []
    client = KestraClient(Connection("http://127.0.0.1:9", "u", "p"))
    for version in ("1.3.31", "2.0.0"):
        client._version = version
        client.check_supported(warn=said.append)
    assert said == []
    client._version = "2.1.3"
    client.check_supported(warn=said.append)
    client.check_supported(warn=said.append)
    [line] = said
    assert "2.1.3" in line and "1.3.x and 2.0.x" in line and "\n" not in line
    client._version = "3.0.0"
    with pytest.raises(KestraError, match="runs version 3.0.0"):
        client.check_supported(warn=said.append)


def test_three_deep_each_loop_s_tasks_read_the_run_from_the_foreach_step_one_level_up():
    tasks = by_id(compiled("deep_foreach_flow", kestra_major=2))
    expected = {"start": "{{ execution.id }}", "a": "{{ outputs.start.vars.execution_id }}",
                "b": "{{ outputs.a.vars.execution_id }}", "c": "{{ outputs.b.vars.execution_id }}",
                "join_c": "{{ outputs.a.vars.execution_id }}", "join_b": "{{ outputs.start.vars.execution_id }}",
                "join_a": "{{ execution.id }}", "end": "{{ execution.id }}"}
    assert {step: tasks[step].env["METAFLOW_KESTRA_EXECUTION_ID"] for step in expected} == expected
