"""current.trigger for event-started runs: what the runtime passes the steps, and what the step
decorator makes of it."""

from metaflow_kestra.deployment import Deployment
from metaflow_kestra.started_by import encode_events, event_payload, event_trigger_options, trigger_options

EVENTS = [{"name": "data.ready", "parameters": {"table": "table_name"}}, {"name": "model.retrain", "parameters": {}}]


def deployment(events=EVENTS, upstream=None):
    return Deployment(flow_name="EventFlow", flow_file="event_flow.py", events=events, upstream=upstream or {})


def decoded(options):
    import metaflow  # noqa: F401  (Metaflow loads its plugins first, as in a task)
    from metaflow_extensions.kestra.plugins.kestra_event_trigger import decode_events

    (option,) = options
    assert option.startswith("--with=kestra_event_trigger:events=x")
    return decode_events(option.split("events=", 1)[1])


def test_an_event_sent_by_metaflow_kestra_is_named_by_its_payload():
    body = event_payload("model.retrain", {"table_name": "a,b:c=d {{ x }}"}, now=lambda: 1700000000.5)
    assert body["timestamp"] == 1700000000 and body["utc_date"] == "20231114" and body["generated-by-metaflow"]
    assert decoded(event_trigger_options(deployment(), {"body": body})) == [
        {"name": "model.retrain", "id": body["id"], "timestamp": 1700000000, "type": "event"}]


def test_a_payload_without_metaflow_s_fields_names_the_only_event_and_now():
    only = deployment(events=EVENTS[:1])
    assert decoded(event_trigger_options(only, {"body": {"table_name": "t"}}, now=lambda: 5.0)) == [
        {"name": "data.ready", "id": None, "timestamp": 5, "type": "event"}]
    assert event_trigger_options(deployment(), {"body": {"table_name": "t"}}) == []  # which of two: unknown


def test_no_event_no_option():
    assert event_trigger_options(deployment(), None) == []
    assert event_trigger_options(deployment(events=[]), {"body": {"name": "data.ready"}}) == []
    assert trigger_options(deployment(), {"date": "2026-12-05T00:00:00Z"}) == []  # a schedule


def test_an_upstream_run_wins_over_an_event_reading():
    upstream = deployment(upstream={"linearflow": "LinearFlow"})
    assert trigger_options(upstream, {"flowId": "linearflow", "executionId": "abc"}) == [
        "--trigger", "LinearFlow/kestra-abc"]


def test_the_encoding_survives_metaflow_s_with_parsing():
    from metaflow.decorators import StepDecorator

    value = encode_events([{"name": "a,b=c:d", "id": "1", "timestamp": 1, "type": "event"}])
    _, attributes = StepDecorator.extract_args_kwargs_from_decorator_spec("events=%s" % value)
    assert attributes == {"events": value}
