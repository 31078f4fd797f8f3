"""Kestra's execution and task-run states, in one place (the names of Kestra's State.Type)."""

SUCCESS = "SUCCESS"
# Ended without a failure / with one; together, every state in which nothing more happens.
DONE = frozenset([SUCCESS, "WARNING", "SKIPPED"])
FAILED = ("FAILED", "KILLED", "CANCELLED")
TERMINAL = DONE | frozenset(FAILED)
# Not ended yet.
ACTIVE = ("CREATED", "QUEUED", "RUNNING", "PAUSED", "RESTARTED", "KILLING")
# A task run not ended yet. Kestra (1.3 and 2.0) gives an execution its final state before its
# afterExecution tasks (exit hooks) start, so a run is over only when each has a task run, ended.
WORKING = frozenset(["CREATED", "SUBMITTED", "RUNNING", "KILLING", "RETRYING"])

# `list-runs --running/--succeeded/--failed`: the states each option asks Kestra for.
FILTERS = {"running": list(ACTIVE), "succeeded": [SUCCESS], "failed": list(FAILED)}
