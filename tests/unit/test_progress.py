from metaflow_kestra.progress import ProgressPrinter, failed_steps, step_summaries


def run(task_id, state, value=None):
    return {"taskId": task_id, "value": value, "state": {"current": state}}


EXECUTION = {"taskRunList": [
    run("start", "SUCCESS"), run("start-foreach", "RUNNING"),
    run("score", "SUCCESS", "0"), run("score", "SUCCESS", "1"), run("score", "RUNNING", "2"),
    run("score", "FAILED", "3"),
]}


def test_foreach_steps_show_counts_and_single_tasks_their_state():
    assert step_summaries(EXECUTION, {"start", "score"}) == {
        "start": "done", "score": "2/4 done, 1 running, 1 failed",
    }


def test_failed_steps_in_order():
    assert failed_steps(EXECUTION, {"start", "score"}) == ["score"]


def test_printer_prints_only_changes():
    lines = []
    printer = ProgressPrinter(["start", "score"], lines.append)
    printer(EXECUTION)
    printer(EXECUTION)
    assert len(lines) == 2


def test_queued_is_told_apart_from_running_and_retries_show():
    """Issue 27, items 4 and 5: queued child executions counted as running, and --wait did not show
    a retry."""
    retried = dict(run("score", "RUNNING", "0"), attempts=[{"state": {"current": "FAILED"}},
                                                          {"state": {"current": "RUNNING"}}])
    execution = {"taskRunList": [run("start", "SUCCESS"), retried, run("score", "CREATED", "1"),
                                 run("score", "QUEUED", "2"), run("score", "SUCCESS", "3")]}
    assert step_summaries(execution, {"start", "score"}) == {
        "start": "done", "score": "1/4 done, 1 running, 2 queued, 1 retried"}
    alone = {"taskRunList": [dict(run("end", "RUNNING"), attempts=[{}, {}])]}
    assert step_summaries(alone, {"end"}) == {"end": "running (retried)"}
    assert step_summaries({"taskRunList": [run("end", "CREATED")]}, {"end"}) == {"end": "queued"}


def test_child_executions_not_started_are_queued():
    items = run("score_items", "RUNNING")
    items["outputs"] = {"numberOfBatches": 5, "iterations": {"SUCCESS": 1, "RUNNING": 1}}
    assert step_summaries({"taskRunList": [items]}, {"score"}) == {
        "score executions": "1/5 done, 1 running, 3 queued"}
