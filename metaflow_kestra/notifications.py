"""Run notifications to Slack, PagerDuty and incident.io, sending what Argo sends.

Read at Metaflow 2.19.39 (`argo_workflows.py`: `_slack_error_template`, `_pager_duty_alert_template`,
`_incident_io_alert_template` and their success twins). At deploy time `notification_spec` checks
the options and names, for each service, the Kestra secret that holds its credential: a webhook
URL or a key never goes into the Kestra flow. After the run, an afterExecution task of the
outcome (`compiler.notification_tasks`) calls `send`, which only uses the standard library.
"""

import json
import re
from dataclasses import dataclass
from typing import Optional

from .errors import KestraError

SERVICES = ("slack", "pager_duty", "incident_io")
_SECRET_NAME = re.compile(r"^[A-Za-z0-9_]+$")
# Where PagerDuty's and incident.io's APIs are; a deployment may point them elsewhere (a relay, a
# test receiver on loopback) with these variables. Slack's webhook URL is the secret itself.
ENDPOINT_VARIABLES = {"pager_duty": "METAFLOW_KESTRA_PAGER_DUTY_URL", "incident_io": "METAFLOW_KESTRA_INCIDENT_IO_URL"}
DEFAULT_ENDPOINTS = {"pager_duty": "https://events.pagerduty.com", "incident_io": "https://api.incident.io"}
OPTION_NAMES = {"slack": "--notify-slack-webhook-url", "pager_duty": "--notify-pager-duty-integration-key",
                "incident_io": "--notify-incident-io-api-key"}
# The environment variable of a notification task that carries a service's credential.
CREDENTIAL_ENV = "METAFLOW_KESTRA_NOTIFY_%s"


@dataclass(frozen=True)
class NotifyOptions:
    """Argo's notification options; the three credentials are names of Kestra secrets."""

    on_error: bool = False
    on_success: bool = False
    slack: Optional[str] = None
    pager_duty: Optional[str] = None
    incident_io: Optional[str] = None
    incident_io_alert_source_config_id: Optional[str] = None
    incident_io_metadata: Optional[str] = None  # JSON object


def notification_spec(options, flow_name, environ, executions_url=""):
    """What the notification tasks need ({} when nothing is to be sent), or a KestraError naming
    the flow, the option and what to do."""
    secrets = {service: getattr(options, service) for service in SERVICES if getattr(options, service)}
    if not (options.on_error or options.on_success):
        return {}
    if not secrets:
        raise KestraError(
            "Flow %s: --notify-on-error/--notify-on-success need where to send: --notify-slack-webhook-url, "
            "--notify-pager-duty-integration-key or --notify-incident-io-api-key." % flow_name)
    for service, name in secrets.items():
        if not _SECRET_NAME.match(name):
            raise KestraError(
                "Flow %s: %s takes the name of the Kestra secret that holds it (letters, digits and '_', e.g. "
                "SLACK_WEBHOOK_URL), not the value: credentials never go into the Kestra flow."
                % (flow_name, OPTION_NAMES[service]))
    metadata = {}
    if "incident_io" in secrets:
        if not options.incident_io_alert_source_config_id:
            raise KestraError("Flow %s: incident.io alerts need --incident-io-alert-source-config-id." % flow_name)
        try:
            metadata = json.loads(options.incident_io_metadata) if options.incident_io_metadata else {}
        except ValueError as error:
            raise KestraError("Flow %s: --incident-io-metadata is not valid JSON: %s" % (flow_name, error))
        if not isinstance(metadata, dict):
            raise KestraError("Flow %s: --incident-io-metadata must be a JSON object." % flow_name)
    endpoints = {service: (environ.get(variable) or DEFAULT_ENDPOINTS[service]).rstrip("/")
                 for service, variable in ENDPOINT_VARIABLES.items() if service in secrets}
    return {"on_error": bool(options.on_error), "on_success": bool(options.on_success), "secrets": secrets,
            "endpoints": endpoints, "incident_io_config_id": options.incident_io_alert_source_config_id or "",
            "incident_io_metadata": metadata, "executions_url": executions_url}


def messages(spec, flow_name, run_id, execution_id, succeeded):
    """[(service, url or None for the secret's, headers, JSON body)] for the run's outcome."""
    pathspec = "%s/%s" % (flow_name, run_id)
    link = spec["executions_url"] + execution_id if spec.get("executions_url") else ""
    out = []
    if "slack" in spec["secrets"]:
        text = (":white_check_mark: _%s_ succeeded!" if succeeded else ":rotating_light: _%s_ failed!") % pathspec
        body = {"text": text}
        if link:
            body["blocks"] = [
                {"type": "context", "elements": [{"type": "mrkdwn", "text": " :information_source: *<%s>*" % link}]},
                {"type": "divider"},
                {"type": "section", "text": {"type": "mrkdwn", "text": text}},
            ]
        out.append(("slack", None, {}, body))
    if "pager_duty" in spec["secrets"]:
        links = [{"href": link, "text": "Kestra UI"}] if link else []
        details = {"Flow": flow_name, "Run ID": run_id}
        if succeeded:  # a change event
            body = {"payload": {"summary": "Metaflow run %s Succeeded" % pathspec, "source": run_id,
                                "custom_details": details}, "links": links}
            url = spec["endpoints"]["pager_duty"] + "/v2/change/enqueue"
        else:  # an alert
            body = {"event_action": "trigger", "payload": {
                "source": run_id, "severity": "info", "summary": "Metaflow run %s failed!" % pathspec,
                "custom_details": details}, "links": links}
            url = spec["endpoints"]["pager_duty"] + "/v2/enqueue"
        out.append(("pager_duty", url, {}, body))  # routing_key: the secret, added by `send`
    if "incident_io" in spec["secrets"]:
        outcome = "succeeded" if succeeded else "failed"
        body = {
            "idempotency_key": run_id, "status": "firing",
            "title": "Flow %s has %s." % (flow_name, outcome),
            "description": "Metaflow run %s %s!%s" % (
                pathspec, outcome, "\n\nSee details for the run at:\n\n[Kestra UI](%s)" % link if link else ""),
            "source_url": link or None,
            "metadata": dict(spec.get("incident_io_metadata") or {}, run_status=outcome, flow_name=flow_name,
                             run_id=run_id),
        }
        url = "%s/v2/alert_events/http/%s" % (spec["endpoints"]["incident_io"], spec["incident_io_config_id"])
        out.append(("incident_io", url, {}, body))
    return out


def send(spec, flow_name, run_id, execution_id, succeeded, credentials, post=None):
    """Send every message; return the services that could not be reached (each said on stdout)."""
    post = post or _post
    failed = []
    for service, url, headers, body in messages(spec, flow_name, run_id, execution_id, succeeded):
        credential = credentials.get(service) or ""
        if service == "slack":
            url = credential
        elif service == "pager_duty":
            body = dict(body, routing_key=credential)
        else:
            headers = dict(headers, Authorization="Bearer %s" % credential)
        try:
            post(url, body, headers)
            print("metaflow-kestra: notified %s that %s/%s %s." % (
                service, flow_name, run_id, "succeeded" if succeeded else "failed"), flush=True)
        except Exception as error:  # any failure: say it, try the other services
            print("metaflow-kestra: could not notify %s: %s" % (service, _without(error, credential)), flush=True)
            failed.append(service)
    return failed


def _without(error, credential):
    text = str(error)
    return text.replace(credential, "***") if credential else text


def _post(url, body, headers, timeout=30):
    import urllib.request

    request = urllib.request.Request(url, data=json.dumps(body).encode("utf-8"), method="POST",
                                     headers=dict({"Content-Type": "application/json"}, **headers))
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
