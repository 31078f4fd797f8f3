"""Metaflow ids derived from Kestra facts, so no task has to carry them.

- One Kestra execution is one Metaflow run: `kestra-<execution id>`.
- A task id follows from the step name, the foreach index path that leads
  to it (outermost first) and, for a recursive step, its iteration:
  `square-2`, `cell-1-0`, `loop-r3`. A join can therefore name its parents'
  tasks from the cardinalities alone, and a Kestra restart of a task re-runs
  the same Metaflow task as a new attempt.

Ids are unique across the run (they start with the step name), never
numeric (Metaflow's local metadata ignores numeric task ids) and use only
characters safe in paths and object keys.
"""

import re

from .errors import KestraError

RUN_ID_PREFIX = "kestra-"
PARAMETERS_STEP = "_parameters"
PARAMETERS_TASK_ID = "params"
_EXECUTION_ID = re.compile(r"^[A-Za-z0-9_-]+$")
_STEP_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TASK_ID = re.compile(r"^(?P<step>[A-Za-z_][A-Za-z0-9_]*)(?P<indices>(-\d+)*)(-r(?P<iteration>\d+))?$")


def run_id_for(execution_id):
    """The Metaflow run id of a Kestra execution."""
    if not execution_id or not _EXECUTION_ID.match(execution_id):
        raise KestraError(
            "Not a Kestra execution id: %r (expected letters, digits, '-' or '_')." % execution_id
        )
    return RUN_ID_PREFIX + execution_id


def execution_id_of(run_id):
    """The Kestra execution id behind a run id made by `run_id_for`."""
    if not run_id.startswith(RUN_ID_PREFIX) or len(run_id) == len(RUN_ID_PREFIX):
        raise KestraError(
            "Run %s was not started by Kestra (its id does not start with %r)."
            % (run_id, RUN_ID_PREFIX)
        )
    return run_id[len(RUN_ID_PREFIX):]


def task_id_for(step, index_path=(), iteration=None):
    """The task id of `step` at foreach `index_path` (and loop `iteration`, from 1)."""
    if not _STEP_NAME.match(step):
        raise ValueError("not a Metaflow step name: %r" % step)
    if any(int(i) < 0 for i in index_path):
        raise ValueError("foreach indices are never negative: %r" % (index_path,))
    task_id = step + "".join("-%d" % int(i) for i in index_path)
    if iteration is not None:
        if int(iteration) < 1:
            raise ValueError("loop iterations count from 1: %r" % iteration)
        task_id += "-r%d" % int(iteration)
    return task_id


def parse_task_id(task_id):
    """(step, index_path, iteration) of a task id made by `task_id_for`."""
    match = _TASK_ID.match(task_id)
    if not match:
        raise ValueError("not a metaflow-kestra task id: %r" % task_id)
    indices = tuple(int(i) for i in match.group("indices").split("-") if i)
    iteration = match.group("iteration")
    return match.group("step"), indices, int(iteration) if iteration else None


def pathspec(run_id, step, task_id):
    return "%s/%s/%s" % (run_id, step, task_id)


def parameters_pathspec(run_id):
    """Where `init` stores the run's parameters: the start step's input."""
    return pathspec(run_id, PARAMETERS_STEP, PARAMETERS_TASK_ID)
