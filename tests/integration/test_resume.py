"""`resume` semantics: finished tasks of the origin run are cloned, the rest runs (stand-in engine)."""

from metaflow_kestra.flow_commands import descendants
from metaflow_kestra.started_by import ORIGIN_LABEL, RERUN_LABEL
from tests.flow_loading import load_graph
from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine


def step_values(workspace, run_id, step, name):
    return [dict(task)[name] for task in workspace.artifacts("ResumableFlow", run_id)["steps"][step]]


def test_resume_clones_finished_steps_and_runs_the_failed_one_and_after(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    fix = tmp_path / "resumable-flow-fixed"
    text = workspace.compile("resumable_flow")

    assert StandinEngine(text, "origin", environ=workspace.env).run() == "FAILED"
    fix.write_text("ok")
    resumed = StandinEngine(text, "resumed", environ=workspace.env,
                            labels={ORIGIN_LABEL: "kestra-origin"})
    assert resumed.run() == "SUCCESS", "\n".join(resumed.logs)

    run = workspace.artifacts("ResumableFlow", "kestra-resumed")
    assert run["successful"] and set(run["steps"]) == {"start", "prepare", "check", "end"}
    for step, name in (("start", "token"), ("prepare", "prepared")):
        assert step_values(workspace, "kestra-resumed", step, name) == \
            step_values(workspace, "kestra-origin", step, name)  # cloned, not rerun
    assert "cloned kestra-resumed/prepare from kestra-origin/prepare/prepare" in "\n".join(log for log in resumed.logs if log.startswith("[prepare]"))


def test_resume_from_a_step_reruns_it_and_everything_after(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    (tmp_path / "resumable-flow-fixed").write_text("ok")
    text = workspace.compile("resumable_flow")
    assert StandinEngine(text, "first", environ=workspace.env).run() == "SUCCESS"
    rerun = ",".join(descendants(load_graph("resumable_flow"), "prepare"))
    assert rerun == "prepare,check,end"
    again = StandinEngine(text, "again", environ=workspace.env,
                          labels={ORIGIN_LABEL: "kestra-first", RERUN_LABEL: rerun})
    assert again.run() == "SUCCESS"
    assert step_values(workspace, "kestra-again", "start", "token") == \
        step_values(workspace, "kestra-first", "start", "token")
    assert step_values(workspace, "kestra-again", "prepare", "prepared") != \
        step_values(workspace, "kestra-first", "prepare", "prepared")
