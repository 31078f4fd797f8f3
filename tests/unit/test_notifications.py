"""Notifications: the options checked at deploy time, and what is sent (Argo's messages)."""

import json

import pytest

from metaflow_kestra.errors import KestraError
from metaflow_kestra.notifications import NotifyOptions, messages, notification_spec, send

ALL = NotifyOptions(on_error=True, on_success=True, slack="SLACK_URL", pager_duty="PD_KEY", incident_io="IIO_KEY",
                    incident_io_alert_source_config_id="src-1", incident_io_metadata='{"team": "ml"}')


def spec(options=ALL, environ=None):
    return notification_spec(options, "TrainFlow", environ or {}, "http://kestra:8080/ui/main/executions/ns/f/")


def test_nothing_asked_nothing_sent():
    assert notification_spec(NotifyOptions(slack="X"), "TrainFlow", {}) == {}


@pytest.mark.parametrize("options,says", [
    (NotifyOptions(on_error=True), "need where to send"),
    (NotifyOptions(on_error=True, slack="https://hooks.slack.com/services/T/B/x"),
     "--notify-slack-webhook-url takes the name of the Kestra secret that holds it"),
    (NotifyOptions(on_success=True, pager_duty="a key"), "--notify-pager-duty-integration-key takes the name"),
    (NotifyOptions(on_error=True, incident_io="K"), "need --incident-io-alert-source-config-id"),
    (NotifyOptions(on_error=True, incident_io="K", incident_io_alert_source_config_id="s", incident_io_metadata="{"),
     "--incident-io-metadata is not valid JSON"),
    (NotifyOptions(on_error=True, incident_io="K", incident_io_alert_source_config_id="s", incident_io_metadata="[1]"),
     "must be a JSON object"),
])
def test_bad_options_are_one_line_naming_the_flow(options, says):
    with pytest.raises(KestraError) as refused:
        notification_spec(options, "TrainFlow", {})
    assert str(refused.value).startswith("Flow TrainFlow: ") and says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_endpoints_default_to_the_services_and_may_be_overridden():
    assert spec()["endpoints"] == {"pager_duty": "https://events.pagerduty.com", "incident_io": "https://api.incident.io"}
    moved = spec(environ={"METAFLOW_KESTRA_PAGER_DUTY_URL": "http://127.0.0.1:9/pd/",
                          "METAFLOW_KESTRA_INCIDENT_IO_URL": "http://127.0.0.1:9/iio"})["endpoints"]
    assert moved == {"pager_duty": "http://127.0.0.1:9/pd", "incident_io": "http://127.0.0.1:9/iio"}


def test_a_failed_run_raises_alerts_as_argo_does():
    sent = {service: (url, body) for service, url, _, body in messages(spec(), "TrainFlow", "kestra-abc", "abc", False)}
    link = "http://kestra:8080/ui/main/executions/ns/f/abc"
    assert sent["slack"][1]["text"] == ":rotating_light: _TrainFlow/kestra-abc_ failed!"
    assert link in json.dumps(sent["slack"][1]["blocks"])
    assert sent["pager_duty"] == ("https://events.pagerduty.com/v2/enqueue", {
        "event_action": "trigger", "links": [{"href": link, "text": "Kestra UI"}],
        "payload": {"source": "kestra-abc", "severity": "info", "summary": "Metaflow run TrainFlow/kestra-abc failed!",
                    "custom_details": {"Flow": "TrainFlow", "Run ID": "kestra-abc"}}})
    url, body = sent["incident_io"]
    assert url == "https://api.incident.io/v2/alert_events/http/src-1"
    assert body["title"] == "Flow TrainFlow has failed." and body["idempotency_key"] == "kestra-abc"
    assert body["metadata"] == {"team": "ml", "run_status": "failed", "flow_name": "TrainFlow", "run_id": "kestra-abc"}
    assert body["source_url"] == link and body["status"] == "firing"


def test_a_successful_run_sends_changes():
    sent = {service: (url, body) for service, url, _, body in messages(spec(), "TrainFlow", "kestra-abc", "abc", True)}
    assert sent["slack"][1]["text"] == ":white_check_mark: _TrainFlow/kestra-abc_ succeeded!"
    assert sent["pager_duty"][0] == "https://events.pagerduty.com/v2/change/enqueue"
    assert sent["pager_duty"][1]["payload"]["summary"] == "Metaflow run TrainFlow/kestra-abc Succeeded"
    assert sent["incident_io"][1]["title"] == "Flow TrainFlow has succeeded."


def test_credentials_go_where_each_service_wants_them_and_never_into_messages(capsys):
    posted = []

    def post(url, body, headers):
        posted.append((url, body, headers))
        if "incident" in url:
            raise OSError("refused by %s" % headers["Authorization"])

    credentials = {"slack": "http://127.0.0.1:1/hook", "pager_duty": "pd-key", "incident_io": "iio-key"}
    assert send(spec(), "TrainFlow", "kestra-abc", "abc", False, credentials, post=post) == ["incident_io"]
    assert posted[0][0] == "http://127.0.0.1:1/hook"
    assert posted[1][1]["routing_key"] == "pd-key"
    assert posted[2][2] == {"Authorization": "Bearer iio-key"}
    printed = capsys.readouterr().out
    assert "could not notify incident_io: refused by Bearer ***" in printed and "iio-key" not in printed
