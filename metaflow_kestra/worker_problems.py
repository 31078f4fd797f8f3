"""What a failed step's log says its worker (or Kestra) lacks, said in one line with what to do.

A step whose container image (or Kestra worker) has no Python, no Metaflow or no
metaflow-kestra fails before any of our code runs, with the shell's or Python's words
for it; a step whose Kestra has no secret the flow reads (--secret NAME) fails with
Pebble's. `run --wait` and `wait` read those words in the step's log and name the flow,
the step, what is missing and the fix.
"""

import re

# (pattern in the step's log, what is missing); the first that matches wins.
_MISSING = [
    (re.compile(r"No module named '?metaflow_kestra"), "metaflow-kestra"),
    (re.compile(r"No module named '?metaflow'?(?:$|\s)"), "Metaflow"),
    # dash: "/bin/sh: 1: python: not found"; bash: "bash: line 1: python: command not found"
    (re.compile(r"(?:^|[\s:])(/?[\w./-]*python[\d.]*): (?:command not found|not found|No such file or directory)\s*$"),
     "interpreter"),
]


def missing_from_worker(messages):
    """'`python`', 'Metaflow' or 'metaflow-kestra' when the log messages show the step's worker
    lacks it, else None."""
    for message in messages:
        for pattern, missing in _MISSING:
            match = pattern.search(message)
            if not match:
                continue
            return "`%s`" % match.group(1) if missing == "interpreter" else missing
    return None


_NO_SECRET = re.compile(r"Cannot find secret for key '([A-Za-z_][A-Za-z0-9_]*)'")


def missing_secret(messages):
    """The name of the Kestra secret the log messages say Kestra does not have, else None."""
    for message in messages:
        match = _NO_SECRET.search(message)
        if match:
            return match.group(1)
    return None


def explain_secret(flow_name, step, name, kestra_url=""):
    """The one line for a step that reads a Kestra secret the server does not have (on `kestra_url`)."""
    from urllib.parse import urlsplit

    try:
        where = urlsplit(kestra_url)
        port = " --port %d" % where.port if where.hostname in ("127.0.0.1", "localhost") and where.port else ""
    except ValueError:
        port = ""
    return ("Flow %s, step %s: Kestra has no secret %s, which the flow reads (--secret %s, or @secrets). Kestra's "
            "open-source edition takes it from its environment variable SECRET_%s (base64) when it starts: on the "
            "local server, export %s and run `metaflow-kestra server stop%s`, then `metaflow-kestra server "
            "start%s --secret %s` with a --secret for every other secret its flows use too."
            % (flow_name, step, name, name, name, name, port, port, name))


def step_runner(flow, step):
    """("docker", image) or ("process", None): how the deployed flow (Kestra's JSON) runs `step`.

    A step task has a `containerImage` exactly when it runs in a container (the compiler sets
    one per task); its `taskRunner` is no guide: Kestra's JSON shows each task's default runner,
    not the flow's pluginDefaults that replace it at run time.
    """
    for task in _tasks(flow.get("tasks") or []):
        if task.get("id") == step and task.get("containerImage"):
            return "docker", task["containerImage"]
    return "process", None


def _tasks(tasks):
    for task in tasks:
        yield task
        for key in ("tasks", "then", "else", "errors", "finally"):
            children = task.get(key)
            if isinstance(children, list):
                yield from _tasks(children)
        for branch in (task.get("cases") or {}).values():
            yield from _tasks(branch)


def explain(flow_name, step, missing, runner):
    """The one line for a step whose worker lacks `missing`, where `runner` is step_runner's answer."""
    kind, image = runner
    if kind == "docker":
        return ("Flow %s, step %s: the image %s has no %s, which every step needs. Build one with `metaflow-kestra "
                "image build --tag NAME` and deploy with --image NAME (or name the image's Python with "
                "--worker-python)." % (flow_name, step, image, missing))
    return ("Flow %s, step %s: the Kestra worker has no %s, which every step needs. Install metaflow and "
            "metaflow-kestra in the worker's Python and name it with --worker-python, or run steps in "
            "containers (--task-runner docker)." % (flow_name, step, missing))
