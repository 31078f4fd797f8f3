"""`--foreach subflows` on the real local Kestra: each foreach item runs as a child execution
(Kestra's ForEachItem), and the Metaflow run is the same as a local one."""

import subprocess
import sys

import pytest

from tests.shapes import SHAPES

pytestmark = pytest.mark.e2e
NAMESPACE = "metaflow.tests.subflows"
FOREACH_SHAPES = [shape for shape in SHAPES if "foreach" in shape[0]]


def run_with_subflows(workspace, name, *params, check=True):
    run_id_file = workspace.root / ("%s.kestra-run-id" % name)
    done = workspace.flow_command(
        name, "kestra", "--kestra-namespace", NAMESPACE, "run", "--foreach", "subflows", "--wait",
        "--run-id-file", str(run_id_file), *params, check=check,
    )
    return done, run_id_file.read_text().strip() if run_id_file.exists() else None


def children_of(client, execution_id):
    """Every execution started (at any depth) by the ForEachItem tasks of `execution_id`."""
    found = []
    for child in client.child_executions(execution_id):
        found.append(child)
        found.extend(children_of(client, child["id"]))
    return found


@pytest.mark.parametrize("name,flow_name,params", FOREACH_SHAPES, ids=lambda v: v if isinstance(v, str) else None)
def test_foreach_shape_as_subflows_matches_a_local_run(workspace, kestra_client, name, flow_name, params):
    cli_params = [arg for key, value in params for arg in ("--%s" % key, value)]
    local = workspace.artifacts(flow_name, workspace.run_locally(name, *cli_params))
    done, run_id = run_with_subflows(workspace, name, *cli_params)
    on_kestra = workspace.artifacts(flow_name, run_id)
    assert on_kestra["successful"]
    assert on_kestra["steps"] == local["steps"]
    execution = kestra_client.execution(run_id[len("kestra-"):])
    types = {run["taskId"]: run for run in execution["taskRunList"]}
    assert not any(task_id.endswith("-foreach") and "value" in run and run["value"]
                   for task_id, run in types.items())
    children = children_of(kestra_client, execution["id"])
    assert children and all(child["state"]["current"] == "SUCCESS" for child in children)
    assert "foreach" in done.stdout + done.stderr  # the progress names the foreach's child executions


def test_nested_foreach_child_executions_carry_the_run(workspace, kestra_client):
    _, run_id = run_with_subflows(workspace, "nested_foreach_flow")
    execution_id = run_id[len("kestra-"):]
    children = children_of(kestra_client, execution_id)
    flows = sorted({child["flowId"] for child in children})
    assert flows == ["nestedforeachflow.start", "nestedforeachflow.start.row"]
    for child in children:
        assert child["inputs"]["metaflow_execution"] == execution_id
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from metaflow import Step, namespace; namespace(None); "
         "print(' '.join(sorted(t.id for t in Step(sys.argv[1]))))", "NestedForeachFlow/%s/cell" % run_id],
        env=workspace.env, cwd=str(workspace.root), capture_output=True, text=True, check=True)
    cells = done.stdout.split()
    assert "cell-0-0" in cells and len(cells) == len(set(cells))
    logs = workspace.flow_command("nested_foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "logs",
                                  "--run-id", run_id).stdout
    assert "--- start ---" in logs and "--- cell ---" in logs and "--- join_cols ---" in logs


def test_a_failing_item_fails_the_run_and_shows_its_logs(workspace, kestra_client):
    done, run_id = run_with_subflows(workspace, "failing_foreach_flow", check=False)
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert "item 2 fails on purpose" in output
    execution = kestra_client.execution(run_id[len("kestra-"):])
    assert execution["state"]["current"] == "FAILED"
    assert not workspace.artifacts("FailingForeachFlow", run_id)["successful"]


def test_delete_removes_the_child_flows_and_a_redeploy_inline_drops_them(workspace, kestra_client):
    workspace.flow_command("foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "create",
                           "--foreach", "subflows")
    ids = {flow["id"] for flow in kestra_client.search_flows(NAMESPACE)}
    assert {"foreachflow", "foreachflow.start"} <= ids
    workspace.flow_command("foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "create")
    assert "foreachflow.start" not in {flow["id"] for flow in kestra_client.search_flows(NAMESPACE)}
    workspace.flow_command("foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "create",
                           "--foreach", "subflows")
    workspace.flow_command("foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "delete")
    assert not {"foreachflow", "foreachflow.start"} & {flow["id"] for flow in kestra_client.search_flows(NAMESPACE)}


def test_kestra_restart_retries_only_the_failed_child_execution(workspace, kestra_client):
    done, run_id = run_with_subflows(workspace, "flaky_flow", "--foreach-batch", "1", check=False)
    assert done.returncode == 1
    execution_id = run_id[len("kestra-"):]
    workspace.flow_command("flaky_flow", "kestra", "--kestra-namespace", NAMESPACE, "restart", "--run-id", run_id,
                           "--wait")
    assert kestra_client.execution(execution_id)["state"]["current"] == "SUCCESS"
    run = workspace.artifacts("FlakyFlow", run_id)
    assert run["successful"] and dict(run["steps"]["join"][0])["attempts"] == "[0, 1]"
    children = kestra_client.child_executions(execution_id)
    assert len(children) == 2 and all(child["state"]["current"] == "SUCCESS" for child in children)


def test_resume_clones_the_items_that_finished(workspace):
    done, origin = run_with_subflows(workspace, "resumable_foreach_flow", check=False)
    assert done.returncode == 1
    (workspace.root / "resumable-foreach-fixed").write_text("ok")
    run_id_file = workspace.root / "resumed.run-id"
    workspace.flow_command("resumable_foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "resume",
                           "--clone-run-id", origin, "--wait", "--run-id-file", str(run_id_file))
    resumed = run_id_file.read_text()
    before = workspace.artifacts("ResumableForeachFlow", origin)["steps"]["work"]
    after = workspace.artifacts("ResumableForeachFlow", resumed)
    assert after["successful"]
    tokens = lambda tasks: {dict(task)["token"] for task in tasks}  # noqa: E731
    # The failed item's task kept its artifacts too: two tokens are cloned, item 1 ran again.
    assert len(tokens(after["steps"]["work"])) == 3
    assert len(tokens(before) & tokens(after["steps"]["work"])) == 2


def test_a_wide_foreach_runs_its_items_in_batches_and_restart_finishes_the_failed_batch(workspace, kestra_client):
    # Ten items in batches of three: four child executions, one after another, one item at a time.
    done, run_id = run_with_subflows(workspace, "batched_foreach_flow", "--foreach-batch", "3",
                                     "--max-workers", "1", check=False)
    assert done.returncode == 1 and "item 4 fails on purpose" in done.stdout + done.stderr
    execution_id = run_id[len("kestra-"):]
    children = kestra_client.child_executions(execution_id)
    assert len(children) == 4

    def items_run(child):
        runs = kestra_client.execution(child["id"])["taskRunList"]
        return {int(run["value"]): run["state"]["current"] for run in runs if run["taskId"] == "work"}

    batches = sorted((items_run(child) for child in children), key=lambda items: min(items))
    assert batches[0] == {0: "SUCCESS", 1: "SUCCESS", 2: "SUCCESS"}
    assert batches[1] == {3: "SUCCESS", 4: "FAILED"}  # a batch runs in turn: item 5 waits for item 4

    (workspace.root / "batched-foreach-fixed").write_text("ok")
    workspace.flow_command("batched_foreach_flow", "kestra", "--kestra-namespace", NAMESPACE, "restart",
                           "--run-id", run_id, "--wait")
    assert kestra_client.execution(execution_id)["state"]["current"] == "SUCCESS"
    after = kestra_client.child_executions(execution_id)
    assert len(after) == 4 and all(child["state"]["current"] == "SUCCESS" for child in after)
    assert sorted(item for child in after for item in items_run(child)) == list(range(10))
    run = workspace.artifacts("BatchedForeachFlow", run_id)
    assert run["successful"] and len(run["steps"]["work"]) == 10  # one Metaflow task per item
    assert dict(run["steps"]["join"][0])["squares"] == repr([i * i for i in range(10)])
