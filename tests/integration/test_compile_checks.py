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


def test_compile_writes_kestra_2_with_the_option_and_1_x_when_no_server_answers(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    workspace.env.update(METAFLOW_KESTRA_HOST="http://127.0.0.1:9")  # nothing listens there
    one = yaml.safe_load(workspace.compile("foreach_flow"))
    two = yaml.safe_load(workspace.compile("foreach_flow", "--kestra-version", "2.0"))
    assert "pluginDefaults" in one and "pluginDefaults" not in two
    assert [t["type"].rsplit(".", 1)[-1] for t in one["tasks"]] == ["Commands", "ForEach", "Commands", "Commands"]
    assert [t["type"].rsplit(".", 1)[-1] for t in two["tasks"]] == ["Commands", "Loop", "Commands", "Commands"]
    done = workspace.flow_command("foreach_flow", "kestra", "compile", str(tmp_path / "f.yaml"),
                                  "--kestra-version", "2.0.0")
    assert "Wrote Kestra 2.x flow" in done.stderr
