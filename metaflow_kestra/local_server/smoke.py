"""A hand-written Kestra flow that proves the local server runs our tasks.

One Process-runner shell task runs this machine's Python and reports, with
Kestra's `::{"outputs": ...}::` stdout protocol, which interpreter ran and
which Metaflow it imported: the two facts every generated flow relies on.
"""

import yaml

NAMESPACE = "metaflow.kestra.smoke"
FLOW_ID = "server-smoke"
TASK_ID = "python_environment"

REPORT = (
    "import json, sys, metaflow; "
    "print('::' + json.dumps({'outputs': {'python': sys.executable, "
    "'metaflow_version': metaflow.__version__}}) + '::')"
)


def smoke_flow():
    return {
        "id": FLOW_ID,
        "namespace": NAMESPACE,
        "description": "metaflow-kestra: checks that tasks run with the user's Python and Metaflow",
        "tasks": [
            {
                "id": TASK_ID,
                "type": "io.kestra.plugin.scripts.shell.Commands",
                "taskRunner": {"type": "io.kestra.plugin.core.runner.Process"},
                "commands": ['python -c "%s"' % REPORT],
            }
        ],
    }


def run_smoke(client, timeout=300):
    """Deploy and run the smoke flow; return (execution JSON, task outputs)."""
    client.deploy_flow(yaml.safe_dump(smoke_flow(), sort_keys=False), NAMESPACE, FLOW_ID)
    execution = client.trigger(NAMESPACE, FLOW_ID)
    finished = client.wait(execution["id"], timeout=timeout)
    outputs = {}
    for task_run in finished.get("taskRunList") or []:
        if task_run.get("taskId") == TASK_ID:
            # Script tasks put what the `::{"outputs": ...}::` line said under `vars`.
            outputs = client.task_outputs(finished["id"], task_run).get("vars") or {}
    return finished, outputs
