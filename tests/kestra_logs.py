"""Read an execution's logs from Kestra in a test, allowing for Kestra's log queue.

Kestra stores log lines asynchronously, after the task run's state: a test that reads them
the moment a run ends can see a traceback cut short (seen in CI on a loaded machine).
"""

import time


def log_text(client, execution_id, task_id=None, expecting=None, steps=(), timeout=30, poll=0.5):
    """The messages, one per line: once they hold `expecting`, or (without it) once the product's
    `executions.settled` says they are all there (unchanged for 2 s, and each of `steps` or `task_id`
    that ran has lines: CI saw two reads agree while a step's lines were still queued); at the
    deadline, whatever is there, so the test's own assertion says what is missing."""
    if expecting is None:
        from metaflow_kestra.executions import settled, steps_that_ran

        ran = steps_that_ran(client.execution(execution_id), set(steps) | ({task_id} if task_id else set()))
        entries = settled(lambda: client.logs(execution_id, task_id=task_id), expected_tasks=ran,
                          timeout=timeout, poll=poll)
        return "\n".join(entry["message"] for entry in entries)
    deadline = time.monotonic() + timeout
    while True:
        again = "\n".join(entry["message"] for entry in client.logs(execution_id, task_id=task_id))
        if expecting in again:
            return again
        if time.monotonic() > deadline:
            return again
        time.sleep(poll)
