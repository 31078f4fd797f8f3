"""Flow decorators become Kestra triggers and flow ids (compiled YAML).

Their runs -- an event's payload mapped to parameters, the upstream run of
@trigger_on_finish, @project branches side by side, the example pair -- are
checked on the real Kestra in tests/e2e/test_decorators_on_kestra.py.
"""

import yaml
import pytest

from tests.flow_runs import FlowWorkspace


def compiled(workspace, name, *top_level):
    return yaml.safe_load(workspace.compile(name, top_level=top_level))


def test_schedule_becomes_a_standard_cron_schedule(tmp_path):
    flow = compiled(FlowWorkspace(tmp_path), "scheduled_flow")
    assert flow["triggers"] == [{"id": "schedule", "type": "io.kestra.plugin.core.trigger.Schedule",
                                 "cron": "*/5 * * * *", "timezone": "Europe/Paris"}]


def test_each_event_is_a_webhook_whose_key_cannot_be_guessed_from_the_event(tmp_path):
    # Kestra's webhooks take no credentials: the key is all that guards them.
    flow = compiled(FlowWorkspace(tmp_path), "event_flow")
    assert [(t["type"].rsplit(".", 1)[1], t["id"]) for t in flow["triggers"]] == [
        ("Webhook", "event-data-ready"), ("Webhook", "event-model-retrain")]
    keys = [t["key"] for t in flow["triggers"]]
    assert all(len(key) >= 32 and "ready" not in key and "retrain" not in key for key in keys)
    (tmp_path / "again").mkdir()
    again = [t["key"] for t in compiled(FlowWorkspace(tmp_path / "again"), "event_flow")["triggers"]]
    assert len(set(keys + again)) == 4


def test_trigger_on_finish_waits_for_the_upstream_in_the_same_namespace(tmp_path):
    [trigger] = compiled(FlowWorkspace(tmp_path), "downstream_flow")["triggers"]
    assert trigger["preconditions"]["flows"] == [
        {"namespace": "metaflow", "flowId": "linearflow", "states": ["SUCCESS"]}]


@pytest.mark.parametrize("top_level,flow_id", [
    ((), "demo.user.tester.projectflow"),
    (("--branch", "feature_x"), "demo.test.feature_x.projectflow"),
    (("--production",), "demo.prod.projectflow"),
])
def test_project_branches_get_their_own_flow_ids(tmp_path, top_level, flow_id):
    assert compiled(FlowWorkspace(tmp_path), "project_flow", *top_level)["id"] == flow_id


def test_the_event_triggered_example_pair_compiles_to_a_webhook_and_an_upstream_trigger(tmp_path):
    workspace = FlowWorkspace(tmp_path)
    assert [(t["type"].rsplit(".", 1)[1], t["id"]) for t in compiled(workspace, "ingest_flow")["triggers"]] == [
        ("Webhook", "event-data-arrived")]
    [trigger] = compiled(workspace, "train_on_ingest_flow")["triggers"]
    assert trigger["preconditions"]["flows"][0]["flowId"] == "ingestflow"


def test_the_scheduled_example_compiles_to_a_schedule(tmp_path):
    flow = compiled(FlowWorkspace(tmp_path), "nightly_report_flow")
    assert flow["triggers"][0]["cron"] == "30 2 * * *"
