"""When an execution is over: Kestra gives it its final state before its exit hooks start."""

from metaflow_kestra.client import unfinished_tasks


def execution(*runs):
    return {"state": {"current": "FAILED"},
            "taskRunList": [{"taskId": task, "state": {"current": state}} for task, state in runs]}


def test_a_failed_run_whose_error_hook_has_not_started_is_not_over():
    # What Kestra 1.3 and 2.0 both show for a moment (seen polling every 20 ms).
    seen = execution(("start", "SUCCESS"), ("each", "FAILED"), ("exit-hook-success-ok", "SKIPPED"))
    assert unfinished_tasks(seen, {"exit-hook-success-ok", "exit-hook-error-alarm"}) == ["exit-hook-error-alarm"]


def test_a_hook_submitted_or_running_is_not_over():
    for state in ("CREATED", "SUBMITTED", "RUNNING", "KILLING", "RETRYING"):
        assert unfinished_tasks(execution(("start", "FAILED"), ("exit-hook-error-alarm", state)),
                                {"exit-hook-error-alarm"}) == ["exit-hook-error-alarm"]


def test_every_hook_ended_or_skipped_is_over():
    ended = execution(("start", "FAILED"), ("exit-hook-success-ok", "SKIPPED"), ("exit-hook-error-alarm", "FAILED"))
    assert unfinished_tasks(ended, {"exit-hook-success-ok", "exit-hook-error-alarm"}) == []
    assert unfinished_tasks(execution(("start", "SUCCESS"))) == []


def test_logs_of_a_run_that_just_ended_are_read_until_they_stop_growing():
    from metaflow_kestra.executions import settled

    reads = iter([["a"], ["a", "b"], ["a", "b", "c"], ["a", "b", "c"], ["never read"]])
    assert settled(lambda: next(reads), poll=0, quiet=0) == ["a", "b", "c"]


def entry(task):
    return {"taskId": task, "message": "line of %s" % task}


def test_logs_are_read_until_every_step_that_ran_has_lines():
    # Seen in CI: two reads half a second apart agreed, and the last step's lines came later still.
    from metaflow_kestra.executions import settled

    reads = iter([[entry("begin")], [entry("begin")], [entry("begin")], [entry("begin"), entry("finish")],
                  [entry("begin"), entry("finish")], ["never read"]])
    assert settled(lambda: next(reads), expected_tasks={"begin", "finish"}, poll=0, quiet=0) == [
        entry("begin"), entry("finish")]


def test_logs_must_stay_unchanged_for_the_quiet_time():
    from metaflow_kestra.executions import settled

    clock = iter(range(100))
    reads = iter([["a"], ["a"], ["a", "b"], ["a", "b"], ["a", "b"], ["a", "b"], ["never read"]])
    assert settled(lambda: next(reads), poll=0, quiet=2, now=lambda: next(clock)) == ["a", "b"]


def test_a_step_that_never_logs_costs_the_timeout_only():
    from metaflow_kestra.executions import settled

    clock = iter(range(100))
    assert settled(lambda: [entry("begin")], expected_tasks={"silent"}, poll=0, quiet=0, timeout=5,
                   now=lambda: next(clock)) == [entry("begin")]


def test_only_a_run_that_ended_in_the_last_minute_counts_as_just_ended():
    import datetime

    from metaflow_kestra.executions import ended_recently

    def ended(seconds_ago, state="FAILED"):
        when = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=seconds_ago)
        return {"state": {"current": state, "endDate": when.isoformat().replace("+00:00", "Z")}}

    assert ended_recently(ended(5)) and not ended_recently(ended(120))
    assert not ended_recently(ended(5, state="RUNNING"))
    assert not ended_recently({"state": {"current": "SUCCESS"}})


def test_the_steps_expected_to_have_logs_are_those_that_ran():
    from metaflow_kestra.executions import steps_that_ran

    seen = execution(("begin", "SUCCESS"), ("middle", "FAILED"), ("skipped", "SKIPPED"), ("finish", "KILLED"),
                     ("start-foreach", "SUCCESS"))
    assert steps_that_ran(seen, ["begin", "middle", "skipped", "finish"]) == {"begin", "middle"}


class ChildSearchLagging:
    """A 1.x server whose search shows a failed child RUNNING for a moment after its parent
    failed: Kestra's indexer stores executions after the executor has moved on (seen in CI)."""

    def __init__(self, running_reads):
        self.running_reads = running_reads
        self.child = {"id": "child", "state": {"current": "FAILED"},
                      "taskRunList": [{"taskId": "work", "state": {"current": "FAILED"}}]}

    def child_executions(self, execution_id, states=(), size=1000):
        if execution_id != "parent":
            return []
        current = "RUNNING" if self.running_reads > 0 else "FAILED"
        self.running_reads -= 1
        found = [dict(self.child, state={"current": current})]
        return [child for child in found if not states or child["state"]["current"] in states]

    def execution(self, execution_id):
        return self.child


def test_the_failed_child_of_a_failed_run_is_found_while_the_search_still_shows_it_running():
    from metaflow_kestra.executions import failed_tasks

    parent = {"id": "parent", "state": {"current": "FAILED"},
              "taskRunList": [{"taskId": "work", "state": {"current": "FAILED"}}]}
    found = failed_tasks(ChildSearchLagging(running_reads=3), parent, {"work"}, poll=0)
    assert [(execution["id"], step) for execution, step in found] == [("parent", "work"), ("child", "work")]


def test_a_short_run_is_read_often_and_a_long_one_less():
    from metaflow_kestra.client import poll_interval

    assert [poll_interval(t) for t in (0, 1.9, 2, 4.9, 5, 29.9, 30, 3600)] == [0.05, 0.05, 0.1, 0.1, 0.25, 0.25,
                                                                              0.5, 0.5]
