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
