"""What Kestra's own records say about an execution: its duration and the engine's delay
between one task ending and the next starting (from the task runs' state histories)."""

import bisect
from datetime import datetime


def _time(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def execution_seconds(execution):
    """First to last state change of the execution."""
    histories = execution["state"]["histories"]
    return _time(histories[-1]["date"]) - _time(histories[0]["date"])


def _span(task_run):
    """(first RUNNING, end) of a task run's last attempt as Kestra recorded it, or None."""
    histories = task_run["state"].get("histories") or []
    running = [_time(h["date"]) for h in histories if h["state"] == "RUNNING"]
    if not running or len(histories) < 2:
        return None
    return running[-1], _time(histories[-1]["date"])


def task_gaps(execution, script_task_ids):
    """For each script task run: seconds from the latest end of another script task before it
    started to its start. In a chain that is the engine's hand-over between consecutive tasks;
    in a foreach, the wait for a free slot once one ends."""
    spans = sorted(span for span in (_span(run) for run in execution.get("taskRunList") or []
                                     if run["taskId"] in script_task_ids) if span)
    ends = sorted(end for _, end in spans)
    gaps = []
    for start, _ in spans[1:]:
        before = bisect.bisect_right(ends, start)
        if before:
            gaps.append(start - ends[before - 1])
    return gaps
