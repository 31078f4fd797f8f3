"""What `kestra compile` decides on its own: refusals, step timeouts, what `resume --step` reruns.

Running the compiled flows is the job of tests/e2e, on the real Kestra.
"""

import yaml
from metaflow_kestra.executions import descendants
from tests.flow_loading import load_graph
from tests.flow_runs import FlowWorkspace


def test_an_invalid_graph_is_refused_by_metaflows_checks_before_compiling(tmp_path):
    done = FlowWorkspace(tmp_path).flow_command("dead_end_flow", "kestra", "compile", "-", check=False)
    assert done.returncode != 0
    assert "middle" in done.stderr + done.stdout
    assert "Traceback" not in done.stderr


def test_a_step_timeout_is_the_task_timeout_plus_a_grace_period(tmp_path):
    # Was exactly PT3S: Kestra then killed the task as Metaflow's @timeout fired, before
    # Metaflow could record the exception and artifacts (issue 13). Kestra's is the backstop.
    text = FlowWorkspace(tmp_path).compile("timeout_flow")
    assert [task.get("timeout") for task in yaml.safe_load(text)["tasks"]] == ["PT63S", None]


def test_resume_from_a_step_reruns_it_and_every_step_after():
    assert ",".join(descendants(load_graph("resumable_flow"), "prepare")) == "prepare,check,end"
