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


def test_one_event_is_a_webhook_whose_key_cannot_be_guessed_from_the_event(tmp_path):
    # Kestra's webhooks take no credentials: the key is all that guards them.
    flow = compiled(FlowWorkspace(tmp_path), "one_event_flow")
    [trigger] = flow["triggers"]
    assert (trigger["type"].rsplit(".", 1)[1], trigger["id"]) == ("Webhook", "event-data-ready")
    assert len(trigger["key"]) >= 32 and "ready" not in trigger["key"]
    (tmp_path / "again").mkdir()
    [again] = compiled(FlowWorkspace(tmp_path / "again"), "one_event_flow")["triggers"]
    assert again["key"] != trigger["key"]


def test_several_events_wait_for_each_other_through_one_receiver_flow_each(tmp_path):
    flow, *receivers = yaml.safe_load_all(FlowWorkspace(tmp_path).compile("event_flow"))
    ids = ["eventflow.event-data.ready", "eventflow.event-model.retrain"]
    [trigger] = flow["triggers"]
    assert trigger["type"] == "io.kestra.plugin.core.trigger.Flow" and trigger["id"] == "events-arrived"
    assert trigger["preconditions"]["flows"] == [
        {"namespace": "metaflow", "flowId": flow_id, "states": ["SUCCESS"]} for flow_id in ids]
    assert [receiver["id"] for receiver in receivers] == ids
    for receiver, event in zip(receivers, ["data.ready", "model.retrain"]):
        [webhook] = receiver["triggers"]
        assert webhook["type"].endswith(".Webhook") and len(webhook["key"]) >= 32 and event not in webhook["key"]
        [keep] = receiver["tasks"]  # the payload, base64: no Pebble in it is ever rendered again
        assert (keep["type"], keep["key"], keep["value"]) == (
            "io.kestra.plugin.core.kv.Set", receiver["id"], "{{ trigger.body | toJson | base64encode }}")
    # The steps read the payloads the receivers kept.
    files = [task["inputFiles"] for task in flow["tasks"] if "inputFiles" in task]
    assert len(files) == 2 and all("kv('eventflow.event-model.retrain', errorOnMissing=false)" in str(found)
                                   for found in files)


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
