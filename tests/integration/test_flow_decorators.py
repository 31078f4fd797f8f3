"""Flow decorators become Kestra triggers and flow ids; their runs behave as on Argo (stand-in engine)."""

import pytest

from metaflow_kestra import yaml_out
from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine


def compiled(workspace, name, *top_level):
    text = workspace.compile(name, top_level=top_level)
    return text, yaml_out.load(text)


def test_schedule_becomes_a_standard_cron_schedule(tmp_path):
    _, flow = compiled(FlowWorkspace(tmp_path), "scheduled_flow")
    assert flow["triggers"] == [{"id": "schedule", "type": "io.kestra.plugin.core.trigger.Schedule",
                                 "cron": "*/5 * * * *", "timezone": "Europe/Paris"}]


def test_each_event_is_a_webhook_and_its_payload_maps_to_parameters(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    text, flow = compiled(workspace, "event_flow")
    assert [(t["type"].rsplit(".", 1)[1], t["key"]) for t in flow["triggers"]] == [
        ("Webhook", "data.ready"), ("Webhook", "model.retrain")]
    engine = StandinEngine(text, "evt1", environ=workspace.env,
                           trigger={"body": {"table_name": "{{ sales }}", "other": 1}})
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    start = dict(workspace.artifacts("EventFlow", "kestra-evt1")["steps"]["start"][0])
    assert start["seen_table"] == repr("{{ sales }}")


def test_trigger_on_finish_waits_for_the_upstream_and_exposes_its_run(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    upstream = StandinEngine(workspace.compile("linear_flow"), "up1", environ=workspace.env)
    assert upstream.run() == "SUCCESS"
    text, flow = compiled(workspace, "downstream_flow")
    [trigger] = flow["triggers"]
    assert trigger["preconditions"]["flows"] == [
        {"namespace": "metaflow", "flowId": "linearflow", "states": ["SUCCESS"]}]
    engine = StandinEngine(text, "down1", environ=workspace.env,
                           trigger={"namespace": "metaflow", "flowId": "linearflow", "executionId": "up1",
                                    "state": "SUCCESS"})
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    start = dict(workspace.artifacts("DownstreamFlow", "kestra-down1")["steps"]["start"][0])
    assert start["upstream"] == repr("LinearFlow/kestra-up1")  # current.trigger.run


@pytest.mark.parametrize("top_level,flow_id,branch", [
    ((), "demo.user.tester.projectflow", "user.tester"),
    (("--branch", "feature_x"), "demo.test.feature_x.projectflow", "test.feature_x"),
    (("--production",), "demo.prod.projectflow", "prod"),
])
def test_project_branches_deploy_side_by_side(tmp_path, top_level, flow_id, branch):
    workspace = FlowWorkspace(tmp_path)
    text, flow = compiled(workspace, "project_flow", *top_level)
    assert flow["id"] == flow_id
    engine = StandinEngine(text, "proj1", environ=workspace.env)
    assert engine.run() == "SUCCESS", "\n".join(engine.logs)
    start = dict(workspace.artifacts("ProjectFlow", "kestra-proj1")["steps"]["start"][0])
    assert start["branch"] == repr(branch)


def test_the_event_triggered_example_pair_runs(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    ingest = StandinEngine(workspace.compile("ingest_flow"), "ing1", environ=workspace.env,
                           trigger={"body": {"path": "s3://bucket/day=1"}})
    assert ingest.run() == "SUCCESS", "\n".join(ingest.logs)
    train = StandinEngine(workspace.compile("train_on_ingest_flow"), "trn1", environ=workspace.env,
                          trigger={"namespace": "metaflow", "flowId": "ingestflow", "executionId": "ing1"})
    assert train.run() == "SUCCESS", "\n".join(train.logs)
    assert dict(workspace.artifacts("TrainOnIngestFlow", "kestra-trn1")["steps"]["start"][0])["rows"] == "170"


def test_the_scheduled_example_compiles_to_a_schedule(tmp_path):
    _, flow = compiled(FlowWorkspace(tmp_path), "nightly_report_flow")
    assert flow["triggers"][0]["cron"] == "30 2 * * *"
