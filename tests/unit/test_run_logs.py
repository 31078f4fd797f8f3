"""How `kestra logs` shows a run (issue 27, item 5): steps in the graph's order, foreach items and
attempts told apart."""

from metaflow_kestra.executions import format_logs, graph_order, label_entries
from tests.flow_loading import load_graph


def test_steps_come_in_the_order_the_graph_runs_them():
    assert graph_order(load_graph("foreach_flow")) == ["start", "square", "join", "end"]
    assert [node.name for node in load_graph("foreach_flow")] != ["start", "square", "join", "end"], \
        "Metaflow's own iteration is by name: the order above is not given for free"


def entry(task_id, task_run_id, message, attempt=0):
    return {"taskId": task_id, "taskRunId": task_run_id, "attemptNumber": attempt, "message": message,
            "timestamp": "2026-12-07T06:00:00.000Z", "level": "INFO"}


def test_foreach_items_and_later_attempts_are_labelled():
    execution = {"taskRunList": [{"id": "r0", "taskId": "square", "value": "0"},
                                 {"id": "r1", "taskId": "square", "value": "1"},
                                 {"id": "s", "taskId": "start"}]}
    entries = label_entries([entry("square", "r0", "a"), entry("square", "r1", "b", attempt=1),
                             entry("start", "s", "c")], execution)
    assert [e["label"] for e in entries] == ["square[0]", "square[1] attempt 2", "start"]
    assert format_logs(entries)[1] == "2026-12-07T06:00:00 INFO  [square[1] attempt 2] b"


def test_a_child_executions_entries_carry_its_item():
    child = {"taskRunList": [{"id": "c", "taskId": "square"}]}
    assert label_entries([entry("square", "c", "x")], child, item=4)[0]["label"] == "square[4]"
