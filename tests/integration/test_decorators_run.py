"""Step decorators keep their meaning when the compiled flow runs (stand-in engine)."""

import subprocess
import sys

from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine

SECRET = "s3cr3t-value-{{ not-a-template }}"

_ATTEMPTS = r"""
import sys
from metaflow import Task, namespace
namespace(None)
print(Task(sys.argv[1]).current_attempt)
"""


def test_retry_catch_environment_secrets_config_and_cards(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    engine = StandinEngine(workspace.compile("decorated_flow"), "deco1", environ=workspace.env,
                           secrets={"MF_TEST_TOKEN": SECRET})
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    run = workspace.artifacts("DecoratedFlow", "kestra-deco1")
    assert run["successful"]
    start = dict(run["steps"]["start"][0])
    assert start["attempt"] == "1" and start["threshold"] == "7"  # retried once; Config frozen at deploy
    done = subprocess.run([sys.executable, "-c", _ATTEMPTS, "DecoratedFlow/kestra-deco1/start/start"],
                          env=workspace.env, capture_output=True, text=True)
    assert done.stdout.strip() == "1", done.stderr  # the client sees the second attempt
    assert "caught, not fatal" in dict(run["steps"]["end"][0])["problem_text"]  # @catch let it continue
    configured = dict(run["steps"]["configured"][0])
    assert configured["greeting"] == repr("hello {{ world }} {% raw %}")
    assert configured["token_length"] == str(len(SECRET))
    logs_and_outputs = "\n".join(engine.logs) + repr([r.outputs for r in engine.task_runs])
    assert SECRET not in logs_and_outputs and SECRET not in workspace.compile("decorated_flow")
    [cards] = [r.outputs["outputFiles"] for r in engine.task_runs if r.task_id == "configured"]
    assert list(cards) == ["metaflow-cards/configured-0-default.html"]
    assert "<html" in next(iter(cards.values())).lower()


def test_a_step_past_its_timeout_fails(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    text = workspace.compile("timeout_flow")
    assert "timeout: PT3S" in text
    engine = StandinEngine(text, "slow1", environ=workspace.env)
    assert engine.run() == "FAILED"
    assert not workspace.artifacts("TimeoutFlow", "kestra-slow1")["successful"]
