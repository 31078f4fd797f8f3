"""`--foreach subflows`: each foreach body is a child flow started by a ForEachItem, and a
child task derives its Metaflow ids from its inputs alone."""

import pytest

from metaflow_kestra import kestra_flow as k
from metaflow_kestra import progress, runtime, yaml_out
import json

from metaflow_kestra.compiler import (
    BRANCH_ITEM, CHILD_EXECUTION, CHILD_ITEM, CHILD_ITEMS, CHILD_PATH, FLOW_LABEL, BODY_LABEL,
)
from metaflow_kestra.errors import KestraError
from tests.unit.test_compiler import SHAPES, compiled, effective


def step_tasks(flow):
    return [task for task in k.walk_tasks(flow.tasks) if isinstance(task, k.ScriptTask)]


BATCH_VALUES = "{{ read(inputs.%s) }}" % CHILD_ITEMS


@pytest.mark.parametrize("name", SHAPES)
def test_every_step_runs_in_exactly_one_flow_and_no_flow_holds_an_unbounded_foreach(name):
    # A child's in-flow ForEach runs one batch (at most runtime.MAX_BATCH items), or is the
    # single-item wrapper of a branch: no execution's ForEach grows with the foreach's items.
    flows = compiled(name, foreach="subflows").with_children()
    steps = [task.id for flow in flows for task in step_tasks(flow)]
    inline = [task.id for task in step_tasks(compiled(name))]
    assert sorted(steps) == sorted(inline)
    for flow in flows:
        for task in k.walk_tasks(flow.tasks):
            if isinstance(task, k.ForEachTask):
                assert task.values in (BATCH_VALUES, [BRANCH_ITEM]), (flow.id, task.id)
                assert task.values == [BRANCH_ITEM] or flow.tasks == [task]
    assert len({flow.id for flow in flows}) == len(flows)


def test_a_foreach_without_a_nested_foreach_runs_batches_of_items_in_each_child():
    root = compiled("foreach_flow", foreach="subflows", flow_id="ff")
    [child] = root.children
    call = next(t for t in root.tasks if isinstance(t, k.ForEachItemTask))
    assert call.inputs[CHILD_ITEMS] == "{{ taskrun.items }}" and CHILD_ITEM not in call.inputs
    assert [(i.id, i.type) for i in child.inputs if i.id in (CHILD_ITEMS, CHILD_ITEM)] == [(CHILD_ITEMS, "FILE")]
    [batch] = child.tasks
    assert isinstance(batch, k.ForEachTask) and batch.values == BATCH_VALUES and batch.concurrency_limit == 16
    # Batches run one after another: max_workers items run at once, in one live child execution.
    assert child.concurrency == {"limit": 1, "behavior": "QUEUE"}
    split = next(t for t in step_tasks(root) if t.env.get(runtime.ENV_ITEMS_FILE))
    assert split.env[runtime.ENV_BATCH_SIZE] == "100"
    for task in step_tasks(child):
        env = effective(child, task)["env"]
        assert runtime.ENV_ITEM not in env and env[runtime.ENV_PATH] == "{{ inputs.%s }}" % CHILD_PATH
        assert runtime.ENV_VALUE in env  # the item, from the batch's ForEach


def test_a_batch_of_one_is_an_execution_per_item_max_workers_at_a_time():
    root = compiled("foreach_flow", foreach="subflows", flow_id="ff", foreach_batch=1, max_workers=4)
    [child] = root.children
    call = next(t for t in root.tasks if isinstance(t, k.ForEachItemTask))
    assert call.inputs[CHILD_ITEM] == "{{ taskrun.iteration }}" and CHILD_ITEMS not in call.inputs
    assert not any(isinstance(t, k.ForEachTask) for t in k.walk_tasks(child.tasks))
    assert child.concurrency == {"limit": 4, "behavior": "QUEUE"}
    split = next(t for t in step_tasks(root) if t.env.get(runtime.ENV_ITEMS_FILE))
    assert runtime.ENV_BATCH_SIZE not in split.env


@pytest.mark.parametrize("batch", [0, -1, "3"])
def test_a_foreach_batch_below_one_is_refused(batch):
    with pytest.raises(KestraError, match="--foreach-batch"):
        compiled("foreach_flow", foreach="subflows", foreach_batch=batch)


@pytest.mark.parametrize("count,batch", [(0, 100), (1, 100), (10, 3), (1000, 100), (10000, 100), (12345, 7)])
def test_a_batched_items_file_holds_every_index_once_in_order(tmp_path, count, batch):
    path = tmp_path / "items.txt"
    runtime.write_items(str(path), count, batch)
    batches = [json.loads(line) for line in path.read_text().splitlines()]
    assert [i for items in batches for i in items] == list(range(count))
    assert len(batches) == -(-count // batch) and all(1 <= len(items) <= batch for items in batches)


def test_nested_foreach_children_forward_the_root_execution_and_the_index_path():
    root = compiled("nested_foreach_flow", foreach="subflows", flow_id="nf")
    flows = {flow.id: flow for flow in root.with_children()}
    assert list(flows) == ["nf", "nf.start", "nf.start.row"]
    start_each = next(t for t in root.tasks if isinstance(t, k.ForEachItemTask))
    assert start_each.flow_id == "nf.start"
    assert start_each.inputs == {CHILD_EXECUTION: "{{ execution.id }}",
                                 CHILD_PATH: "{{ outputs.start.vars.index_path }}",
                                 CHILD_ITEM: "{{ taskrun.iteration }}"}
    row_each = next(t for t in flows["nf.start"].tasks if isinstance(t, k.ForEachItemTask))
    assert row_each.inputs[CHILD_EXECUTION] == "{{ inputs.%s }}" % CHILD_EXECUTION
    cell = next(t for t in step_tasks(flows["nf.start.row"]))
    env = effective(flows["nf.start.row"], cell)["env"]
    assert env[runtime.ENV_EXECUTION_ID] == "{{ inputs.%s }}" % CHILD_EXECUTION
    assert env[runtime.ENV_PATH] == "{{ inputs.%s }}" % CHILD_PATH
    assert runtime.ENV_ITEM not in env  # the innermost foreach runs batches: its ForEach gives the item
    assert flows["nf.start.row"].labels == {FLOW_LABEL: "NestedForeachFlow", BODY_LABEL: "nf.start/row"}
    assert flows["nf.start"].concurrency == {"limit": 16, "behavior": "QUEUE"}
    row = next(t for t in step_tasks(flows["nf.start"]) if t.id == "row")
    assert row.output_files == [runtime.ITEMS_FILE] and row.env[runtime.ENV_ITEMS_FILE] == runtime.ITEMS_FILE


def test_the_yaml_is_one_document_per_flow_parent_first():
    root = compiled("nested_foreach_flow", foreach="subflows", flow_id="nf")
    text = yaml_out.dump_all([flow.to_dict() for flow in root.with_children()])
    assert [yaml_out.flow_id_of(doc) for doc in yaml_out.documents(text)] == ["nf", "nf.start", "nf.start.row"]


def test_a_child_flow_id_over_kestras_limit_is_refused_with_what_to_do():
    with pytest.raises(KestraError, match="--flow-id"):
        compiled("foreach_flow", foreach="subflows", flow_id="f" * 98)


def test_an_unknown_foreach_mode_is_refused():
    with pytest.raises(KestraError, match="--foreach"):
        compiled("foreach_flow", foreach="sideways")


def test_a_child_task_index_path_is_its_foreach_path_then_its_item():
    assert runtime.child_index_path("[]", "3") == (3,)
    assert runtime.child_index_path("[1, 0]", "7") == (1, 0, 7)
    assert runtime.child_index_path(None, None) == ()
    assert runtime.child_index_path("[2]", None) == (2,)  # a batch child: its ForEach adds the item
    with pytest.raises(runtime.TaskRefused):
        runtime.child_index_path('["x"]', "1")
    with pytest.raises(runtime.TaskRefused):
        runtime.child_index_path("[]", "-1")


def test_the_items_file_has_one_index_per_line(tmp_path):
    path = tmp_path / "items.txt"
    runtime.write_items(str(path), 10000)
    lines = path.read_text().splitlines()
    assert lines[0] == "0" and lines[-1] == "9999" and len(lines) == 10000


def test_progress_counts_child_executions_from_the_foreachitem_counters():
    execution = {"taskRunList": [
        {"taskId": "start", "state": {"current": "SUCCESS"}},
        {"taskId": "start-foreach_items", "state": {"current": "RUNNING"},
         "outputs": {"numberOfBatches": 1000, "iterations": {"SUCCESS": 400, "RUNNING": 16, "CREATED": 584}}},
    ]}
    assert progress.step_summaries(execution, {"start"}) == {
        "start": "done", "start-foreach executions": "400/1000 done, 16 running, 584 queued"}
    just_started = {"taskRunList": [{"taskId": "s-foreach_items", "state": {"current": "RUNNING"},
                                     "outputs": {"numberOfBatches": 5}}]}
    assert progress.step_summaries(just_started, set()) == {"s-foreach executions": "0/5 done, 5 queued"}


def test_children_forward_the_root_trigger_and_start_date():
    from metaflow_kestra.compiler import CHILD_STARTED, CHILD_TRIGGER, CompileOptions, compile_flow
    from metaflow_kestra.decorators import EventMapping, FlowTriggers
    from metaflow_kestra.deployment import Deployment
    from tests.flow_loading import load_flow, load_graph

    deployment = Deployment(flow_name="NestedForeachFlow", flow_file="/f.py", workflow_timeout=600)
    triggers = FlowTriggers(events=[EventMapping("ready", {})])
    root = compile_flow(load_flow("nested_foreach_flow"), load_graph("nested_foreach_flow"), deployment,
                        CompileOptions(flow_id="nf", foreach="subflows"), triggers)
    flows = {flow.id: flow for flow in root.with_children()}
    outer_call = next(t for t in root.tasks if isinstance(t, k.ForEachItemTask))
    assert outer_call.inputs[CHILD_STARTED] == "{{ execution.startDate }}"
    assert "trigger" in outer_call.inputs[CHILD_TRIGGER]
    inner_call = next(t for t in flows["nf.start"].tasks if isinstance(t, k.ForEachItemTask))
    assert inner_call.inputs[CHILD_TRIGGER] == "{{ inputs.%s }}" % CHILD_TRIGGER
    cell = effective(flows["nf.start.row"], step_tasks(flows["nf.start.row"])[0])
    assert cell["inputFiles"][runtime.TRIGGER_FILE] == "{{ inputs.%s }}" % CHILD_TRIGGER
    assert cell["env"][runtime.ENV_EXECUTION_START] == "{{ inputs.%s }}" % CHILD_STARTED
    assert not flows["nf.start.row"].triggers  # only the root flow is triggered
    # --workflow-timeout: Kestra's SLA ends the run (and bounds each foreach body's execution).
    deadline = [{"id": "workflow-timeout", "type": "MAX_DURATION", "behavior": "FAIL", "duration": "PT600S"}]
    assert all(flow.to_dict()["sla"] == deadline for flow in flows.values())


def test_a_large_inline_foreach_warns_and_names_the_option():
    message = runtime.large_foreach_warning("BigFlow", "start", 1000)
    assert "BigFlow" in message and "start" in message and "1000" in message and "--foreach subflows" in message
