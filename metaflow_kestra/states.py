"""Kestra's execution and task-run states, in one place (the names of Kestra's State.Type)."""

SUCCESS = "SUCCESS"
# Ended without a failure / with one; together, every state in which nothing more happens.
DONE = frozenset([SUCCESS, "WARNING", "SKIPPED"])
FAILED = ("FAILED", "KILLED", "CANCELLED")
TERMINAL = DONE | frozenset(FAILED)
# Not ended yet.
ACTIVE = ("CREATED", "QUEUED", "RUNNING", "PAUSED", "RESTARTED", "KILLING")

# `list-runs --running/--succeeded/--failed`: the states each option asks Kestra for.
FILTERS = {"running": list(ACTIVE), "succeeded": [SUCCESS], "failed": list(FAILED)}
