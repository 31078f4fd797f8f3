"""What `--wait` prints while an execution runs: per step, how many tasks are done.

Pure functions of Kestra's execution JSON, so they are tested without a
server: a step task inside a ForEach has one task run per item, shown as
`score  12/20 done, 3 running`. On Kestra 2.x the task runs of a foreach's
items live in the Loop's sub-executions, which are passed in beside it.
"""

import time
from collections import Counter, OrderedDict

from . import states


ITEMS_SUFFIX = "_items"  # ForEachItem's task run that starts and counts the child executions


def step_summaries(execution, steps, loop_items=()):
    """{step: summary text} for the steps (Kestra task ids) that have task runs.

    A ForEachItem (a foreach body run as child executions) is summed up from the
    counters Kestra keeps on it, under "<foreach task> executions" (an execution runs one item
    or a batch of them). Kestra 2.x: `loop_items` are the Loop sub-executions of the run;
    their task runs count for their steps, and each Loop shows as "<foreach task> items".
    """
    counts = OrderedDict()
    for run in execution.get("taskRunList") or []:
        if run["taskId"] in steps:
            _count(counts, run["taskId"], run)
        elif run["taskId"].endswith(ITEMS_SUFFIX):
            children = child_counts(run)
            if children is not None:
                counts["%s executions" % run["taskId"][:-len(ITEMS_SUFFIX)]] = children
    for item in sorted(loop_items, key=lambda e: (e.get("state") or {}).get("startDate") or ""):
        loop_task = (item.get("loopRun") or {}).get("taskId")
        if loop_task:
            counts.setdefault("%s items" % loop_task, Counter())[item["state"]["current"]] += 1
        for run in item.get("taskRunList") or []:
            if run["taskId"] in steps:
                _count(counts, run["taskId"], run)
    return {step: _summary(counter) for step, counter in counts.items()}


# A task run waiting for a worker slot, or a child execution not started yet, is queued, not running.
QUEUED = frozenset(["CREATED", "QUEUED", "SUBMITTED"])
RETRIED = "retried"  # a key of the counters beside the states: task runs on their second attempt or later


def _count(counts, step, run):
    counter = counts.setdefault(step, Counter())
    counter[run["state"]["current"]] += 1
    if len(run.get("attempts") or ()) > 1:
        counter[RETRIED] += 1


def child_counts(task_run):
    """Counter of child execution states of a ForEachItem task run (None if it is not one)."""
    outputs = task_run.get("outputs") or {}
    total = outputs.get("numberOfBatches")
    if not isinstance(total, int):
        return None
    counter = Counter({state: n for state, n in (outputs.get("iterations") or {}).items() if n})
    counter["CREATED"] += max(0, total - sum(counter.values()))
    return +counter if sum(counter.values()) else Counter({"CREATED": total})


def _summary(counter):
    retried = counter[RETRIED]
    total = sum(n for state, n in counter.items() if state != RETRIED)
    done = sum(n for state, n in counter.items() if state in states.DONE)
    failed = sum(n for state, n in counter.items() if state in states.FAILED)
    queued = sum(n for state, n in counter.items() if state in QUEUED)
    running = total - done - failed - queued
    if total == 1:
        state = "failed" if failed else "done" if done else "queued" if queued else "running"
        return state + (" (retried)" if retried else "")
    parts = ["%d/%d done" % (done, total)]
    for count, what in ((running, "running"), (queued, "queued"), (failed, "failed"), (retried, "retried")):
        if count:
            parts.append("%d %s" % (count, what))
    return ", ".join(parts)


def failed_steps(execution, steps):
    """Task ids of the steps with a failed task run, in the order they ran."""
    failed = OrderedDict()
    for run in execution.get("taskRunList") or []:
        if run["taskId"] in steps and run["state"]["current"] in states.FAILED:
            failed[run["taskId"]] = True
    return list(failed)


class ProgressPrinter:
    """Prints each step's summary when it changes.

    `loop_items(execution)` gives the run's Loop sub-executions (Kestra 2.x); they are
    asked for every `loop_poll` seconds, and once more when the run has ended, unless the
    caller passes the items it already has.
    """

    def __init__(self, steps, echo, loop_items=None, loop_poll=2.0):
        self.steps = set(steps)
        self.echo = echo
        self.shown = {}
        self.loop_items = loop_items
        self.loop_poll = loop_poll
        self._items, self._asked = [], None

    def __call__(self, execution, loop_items=None):
        if loop_items is not None:
            self._items, self._asked = loop_items, time.monotonic()
        elif self.loop_items:
            ended = execution["state"]["current"] in states.TERMINAL
            if ended or self._asked is None or time.monotonic() - self._asked >= self.loop_poll:
                self._items, self._asked = self.loop_items(execution), time.monotonic()
        for step, summary in step_summaries(execution, self.steps, self._items).items():
            if self.shown.get(step) != summary:
                self.shown[step] = summary
                self.echo("  %-32s %s" % (step, summary))
