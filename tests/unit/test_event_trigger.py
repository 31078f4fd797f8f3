"""current.trigger for event-started runs: what the runtime passes the steps, and what the step
decorator makes of it."""

from metaflow_kestra.deployment import Deployment
import base64
import json

from metaflow_kestra.started_by import encode_events, event_parameters, event_payload, how_started, trigger_options

EVENTS = [{"name": "data.ready", "parameters": {"table": "table_name"}}, {"name": "model.retrain", "parameters": {}}]


def deployment(events=EVENTS, upstream=None):
    return Deployment(flow_name="EventFlow", flow_file="event_flow.py", events=events, upstream=upstream or {},
                      kestra_namespace="ns", kestra_flow_id="eventflow")


def options(deployment, trigger, now=lambda: 5.0):
    """What the runtime passes the steps for a run Kestra started with `trigger` variables."""
    given = json.dumps(trigger) if trigger is not None else ""
    return trigger_options(deployment, *how_started(deployment, given), now=now)


def decoded(options):
    import metaflow  # noqa: F401  (Metaflow loads its plugins first, as in a task)
    from metaflow_extensions.kestra.plugins.kestra_event_trigger import decode_events

    (option,) = options
    assert option.startswith("--with=kestra_event_trigger:events=x")
    return decode_events(option.split("events=", 1)[1])


def test_an_event_sent_by_metaflow_kestra_is_named_by_its_payload():
    body = event_payload("model.retrain", {"table_name": "a,b:c=d {{ x }}"}, now=lambda: 1700000000.5)
    assert body["timestamp"] == 1700000000 and body["utc_date"] == "20231114" and body["generated-by-metaflow"]
    assert decoded(options(deployment(events=EVENTS[1:]), {"body": body})) == [
        {"name": "model.retrain", "id": body["id"], "timestamp": 1700000000, "type": "event"}]


def test_a_payload_without_metaflow_s_fields_names_the_only_event_and_now():
    only = deployment(events=EVENTS[:1])
    assert decoded(options(only, {"body": {"table_name": "t"}})) == [
        {"name": "data.ready", "id": None, "timestamp": 5, "type": "event"}]
    assert options(deployment(), {"body": {"table_name": "t"}}) == []  # which of two: unknown


def test_no_event_no_option():
    assert options(deployment(), None) == []
    assert options(deployment(events=[]), {"body": {"name": "data.ready"}}) == []
    assert options(deployment(), {"date": "2026-12-05T00:00:00Z"}) == []  # a schedule


def test_an_upstream_run_wins_over_an_event_reading():
    upstream = deployment(upstream={"linearflow": "LinearFlow"})
    assert options(upstream, {"flowId": "linearflow", "executionId": "abc"}) == [
        "--trigger", "LinearFlow/kestra-abc"]


def test_the_encoding_survives_metaflow_s_with_parsing():
    from metaflow.decorators import StepDecorator

    value = encode_events([{"name": "a,b=c:d", "id": "1", "timestamp": 1, "type": "event"}])
    _, attributes = StepDecorator.extract_args_kwargs_from_decorator_spec("events=%s" % value)
    assert attributes == {"events": value}


def stored(payload):
    """What a receiver flow keeps in the KV store: base64 of the webhook body's JSON."""
    return base64.b64encode(json.dumps(payload).encode()).decode()


def test_a_flow_waiting_for_several_events_reads_each_one_s_payload():
    first = event_payload("data.ready", {"table_name": "sales"}, now=lambda: 100.0)
    second = event_payload("model.retrain", {"table_name": "not mapped here"}, now=lambda: 200.0)
    trigger = {"namespace": "ns", "flowId": "eventflow.event-model.retrain", "executionId": "r2"}
    given = json.dumps([trigger, [stored(first), stored(second)]])
    seen, events = how_started(deployment(), given)
    assert seen == trigger and [name for name, _ in events] == ["data.ready", "model.retrain"]
    assert event_parameters(deployment(), events) == {"table": "sales"}  # each event's own mapping
    assert decoded(trigger_options(deployment(), seen, events)) == [
        {"name": "data.ready", "id": first["id"], "timestamp": 100, "type": "event"},
        {"name": "model.retrain", "id": second["id"], "timestamp": 200, "type": "event"}]


def test_payloads_kept_from_earlier_events_are_not_read_by_a_run_started_otherwise():
    kept = [stored({"table_name": "old"}), stored({})]
    for trigger in ("", {"date": "2026-12-05T00:00:00Z"},  # by hand; a schedule
                    {"namespace": "other", "flowId": "eventflow.event-data.ready"},
                    {"namespace": "ns", "flowId": "someflow"}):
        _, events = how_started(deployment(), json.dumps([trigger, kept]))
        assert events == []


def test_a_receiver_that_stored_nothing_readable_gives_no_event():
    trigger = {"namespace": "ns", "flowId": "eventflow.event-data.ready"}
    for value in (None, "", "not base64!", stored(["a list"]), 7):
        _, events = how_started(deployment(), json.dumps([trigger, [value, stored({"x": 1})]]))
        assert events == [("model.retrain", {"x": 1})]


def test_the_tags_a_run_was_started_with_come_from_its_label():
    from metaflow_kestra.started_by import run_tags

    assert run_tags('{"metaflow-tags": "team:ml,nightly", "metaflow-flow": "F"}') == ["team:ml", "nightly"]
    assert run_tags('[{"key": "metaflow-tags", "value": "a"}]') == ["a"]
    assert run_tags("") == [] and run_tags('{"metaflow-flow": "F"}') == []
