"""The script task types our server provides behave as Kestra's official plugin does.

Commands rendered once, `beforeCommands` first, `env` (rendered twice, as in Kestra), the
`::{"outputs": ...}::` protocol, `outputFiles`, `namespaceFiles`, python.Script's file.
"""

import time

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.scripts"

FLOW = r"""id: scripts
namespace: metaflow.scripts
inputs:
  - id: word
    type: STRING
    defaults: plain
    required: true
tasks:
  - id: shell
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    namespaceFiles:
      enabled: true
      include: ["/scripts-test/**"]
    env:
      GREETING: "hello"
    beforeCommands:
      - export BEFORE=first
    outputFiles: ["out.txt"]
    commands:
      - echo "$BEFORE $GREETING {{ inputs.word }}" > out.txt
      - cat scripts-test/data.txt >> out.txt
      - cat out.txt
      - echo '::{"outputs":{"answer":42,"word":"'"$(head -c 5 out.txt)"'"}}::'
  - id: py
    type: io.kestra.plugin.scripts.python.Script
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    script: |
      import json, os
      print("::" + json.dumps({"outputs": {"unbuffered": os.environ.get("PYTHONUNBUFFERED"),
                                           "previous": {{ outputs.shell.vars.answer }}}}) + "::")
  - id: pycommands
    type: io.kestra.plugin.scripts.python.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - python -c "print('::{\"outputs\":{\"ok\":true}}::')"
"""


def test_commands_before_commands_env_outputs_and_files(kestra_server, kestra_client):
    kestra_client.upload_namespace_file(NAMESPACE, "scripts-test/data.txt", b"from namespace files\n")
    kestra_client.deploy_flow(FLOW, NAMESPACE, "scripts")
    # A value with Pebble syntax: commands are rendered once, so it reaches the shell as written.
    execution = kestra_client.trigger(NAMESPACE, "scripts", inputs={"word": "{{ x }}"})
    final = kestra_client.wait(execution["id"], timeout=120)
    runs = {run["taskId"]: run for run in final["taskRunList"]}
    assert final["state"]["current"] == "SUCCESS", [(t, r["state"]["current"]) for t, r in runs.items()]
    outputs = {task_id: kestra_client.task_outputs(final["id"], run) for task_id, run in runs.items()}
    shell = outputs["shell"]
    assert shell["vars"] == {"answer": 42, "word": "first"} and shell["exitCode"] == 0
    assert "out.txt" in shell["outputFiles"]
    assert outputs["py"]["vars"] == {"unbuffered": "true", "previous": 42}
    assert outputs["pycommands"]["vars"] == {"ok": True}
    deadline = time.time() + 30
    while True:  # the indexer writes logs asynchronously
        lines = [entry["message"] for entry in kestra_client.logs(execution["id"], task_id="shell", min_level="DEBUG")]
        if any("Command succeed" in line for line in lines) or time.time() > deadline:
            break
        time.sleep(0.5)
    assert any("set -e" in line and "export BEFORE=first" in line for line in lines), lines
    assert "first hello {{ x }}" in lines and "from namespace files" in lines
