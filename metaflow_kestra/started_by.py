"""What started an execution, and what that means for its tasks.

- `kestra resume` labels the execution with the run to clone from (`Resume`);
- a Webhook trigger (a Metaflow event) carries a payload mapped to parameters;
- a Flow trigger (@trigger_on_finish) names the upstream execution, which the
  steps receive as `--trigger Flow/run` so `current.trigger` works as on Argo;
- an event gives the steps `current.trigger` through a step decorator of ours
  (`metaflow_extensions/kestra/plugins/kestra_event_trigger.py`).
"""

import json
import time

from . import ids

ORIGIN_LABEL = "metaflow-origin-run-id"
RERUN_LABEL = "metaflow-rerun-steps"


class Resume:
    """A resumed run (Metaflow's clone semantics): which origin, and which steps must run again.

    Read from the execution's labels, which `kestra resume` sets. A task clones
    its origin twin (same task id: ids are derived) when the twin finished and
    its step is not to be rerun; everything else runs.
    """

    def __init__(self, origin_run_id=None, rerun_steps=()):
        self.origin_run_id = origin_run_id
        self.rerun_steps = frozenset(rerun_steps)

    @classmethod
    def from_labels(cls, labels_json):
        labels = json.loads(labels_json) if labels_json else {}
        if isinstance(labels, list):  # [{key, value}] form
            labels = {label["key"]: label["value"] for label in labels}
        origin = labels.get(ORIGIN_LABEL) or None
        rerun = [step for step in (labels.get(RERUN_LABEL) or "").split(",") if step]
        return cls(origin, rerun)

    def origin_twin(self, step, task_id, state):
        """The origin task to clone for `step`/`task_id`, or None to run it."""
        if not self.origin_run_id or step in self.rerun_steps:
            return None
        twin = ids.pathspec(self.origin_run_id, step, task_id)
        return twin if state.finished([twin]) else None


def trigger_variables(text):
    """Kestra's `trigger` variables (a dict), or None when no trigger started the execution."""
    value = json.loads(text) if text else None
    return value if isinstance(value, dict) else None


def event_parameters(deployment, trigger):
    """Parameter values mapped from an event's payload (a webhook's JSON body)."""
    body = (trigger or {}).get("body")
    if not isinstance(body, dict):
        return {}
    values = {}
    for event in deployment.events:
        for parameter, payload_field in event.get("parameters", {}).items():
            if payload_field in body:
                values[parameter] = body[payload_field]
    return values


def upstream_trigger_options(deployment, trigger):
    """`--trigger Flow/run` for a run started by an upstream flow's success (sets current.trigger)."""
    if not trigger or trigger.get("flowId") not in deployment.upstream or not trigger.get("executionId"):
        return []
    upstream_run = ids.run_id_for(trigger["executionId"])
    return ["--trigger", "%s/%s" % (deployment.upstream[trigger["flowId"]], upstream_run)]


def trigger_options(deployment, trigger, now=time.time):
    """The top-level options that give the steps `current.trigger`: an upstream run, or an event."""
    return upstream_trigger_options(deployment, trigger) or event_trigger_options(deployment, trigger, now)


def event_trigger_options(deployment, trigger, now=time.time):
    """`--with kestra_event_trigger:events=...` for a run an event's webhook started.

    The event is named by its payload's `name` (send-event and KestraEvent set it, as ArgoEvent
    does), else by the deployment's only event; id and timestamp come from the payload too.
    """
    body = (trigger or {}).get("body")
    names = [event["name"] for event in deployment.events]
    if not isinstance(body, dict) or not names:
        return []
    name = body.get("name") if body.get("name") in names else (names[0] if len(names) == 1 else None)
    if name is None:
        return []
    timestamp = body.get("timestamp")
    event = {"name": name, "id": str(body["id"]) if body.get("id") is not None else None, "type": "event",
             "timestamp": timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else int(now())}
    return ["--with=kestra_event_trigger:events=%s" % encode_events([event])]


def encode_events(events):
    """The decorator's attribute: hex of the JSON, so no ',', ':' or '=' splits Metaflow's --with."""
    return "x" + json.dumps(events, sort_keys=True).encode("utf-8").hex()


def event_payload(name, payload, now=time.time):
    """The body sent to a webhook for event `name`: Metaflow's own fields, as ArgoEvent sends them
    (name, id, timestamp, utc_date, generated-by-metaflow), then the user's payload."""
    import datetime
    import uuid

    moment = now()
    return dict({"name": name, "id": str(uuid.uuid4()), "timestamp": int(moment),
                 "utc_date": datetime.datetime.fromtimestamp(moment, datetime.timezone.utc).strftime("%Y%m%d"),
                 "generated-by-metaflow": True}, **payload)
