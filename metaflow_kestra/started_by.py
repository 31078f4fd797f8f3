"""What started an execution, and what that means for its tasks.

- `kestra resume` labels the execution with the run to clone from (`Resume`);
- a Webhook trigger (a Metaflow event) carries a payload mapped to parameters; a flow that
  waits for several events gets their payloads from its receiver flows (event_receivers);
- a Flow trigger (@trigger_on_finish) names the upstream execution, which the
  steps receive as `--trigger Flow/run` so `current.trigger` works as on Argo;
- an event gives the steps `current.trigger` through a step decorator of ours
  (`metaflow_extensions/kestra/plugins/kestra_event_trigger.py`).
"""

import json
import time

from . import ids
from .event_receivers import arrived_events

ORIGIN_LABEL = "metaflow-origin-run-id"
RERUN_LABEL = "metaflow-rerun-steps"
TAGS_LABEL = "metaflow-tags"  # the run's own tags, comma-separated (executions.run_labels)


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
        labels = execution_labels(labels_json)
        origin = labels.get(ORIGIN_LABEL) or None
        rerun = [step for step in (labels.get(RERUN_LABEL) or "").split(",") if step]
        return cls(origin, rerun)

    def origin_twin(self, step, task_id, state):
        """The origin task to clone for `step`/`task_id`, or None to run it."""
        if not self.origin_run_id or step in self.rerun_steps:
            return None
        twin = ids.pathspec(self.origin_run_id, step, task_id)
        return twin if state.finished([twin]) else None


def run_tags(labels_json):
    """The tags `trigger --tag`/`resume --tag` (or the Deployer's `tags=`) gave this run: the
    execution's metaflow-tags label, which start_execution sets."""
    return [tag for tag in (execution_labels(labels_json).get(TAGS_LABEL) or "").split(",") if tag]


def execution_labels(labels_json):
    """{key: value} of an execution's labels, given as Kestra's JSON (a map or [{key, value}])."""
    labels = json.loads(labels_json) if labels_json else {}
    if isinstance(labels, list):
        labels = {label["key"]: label["value"] for label in labels}
    return labels


def how_started(deployment, text):
    """(Kestra's trigger variables or None, [(event name, payload)]) of a run, from what its
    tasks are given: the `trigger` variables, or for a flow waiting on several events
    `[trigger, [payloads]]` (see event_receivers)."""
    value = json.loads(text) if text else None
    if isinstance(value, list):
        return arrived_events(deployment, value)
    trigger = value if isinstance(value, dict) else None
    return trigger, webhook_event(deployment, trigger)


def webhook_event(deployment, trigger):
    """[(event name, payload)] of a run an event's Webhook started, else [].

    The event is named by its payload's `name` (send-event and KestraEvent set it, as ArgoEvent
    does), else by the deployment's only event.
    """
    body = (trigger or {}).get("body")
    names = [event["name"] for event in deployment.events]
    if not isinstance(body, dict) or not names:
        return []
    name = body.get("name") if body.get("name") in names else (names[0] if len(set(names)) == 1 else None)
    return [(name, body)] if name is not None else []


def event_parameters(deployment, events):
    """Parameter values mapped from the payloads of the events that started the run, each
    event's mapping applied to its own payload."""
    values = {}
    for name, payload in events:
        for event in deployment.events:
            if event["name"] != name:
                continue
            for parameter, payload_field in event.get("parameters", {}).items():
                if payload_field in payload:
                    values[parameter] = payload[payload_field]
    return values


def upstream_trigger_options(deployment, trigger):
    """`--trigger Flow/run` for a run started by an upstream flow's success (sets current.trigger)."""
    if not trigger or trigger.get("flowId") not in deployment.upstream or not trigger.get("executionId"):
        return []
    upstream_run = ids.run_id_for(trigger["executionId"])
    return ["--trigger", "%s/%s" % (deployment.upstream[trigger["flowId"]], upstream_run)]


def trigger_options(deployment, trigger, events=(), now=time.time):
    """The top-level options that give the steps `current.trigger`: an upstream run, or events."""
    return upstream_trigger_options(deployment, trigger) or event_trigger_options(events, now)


def event_trigger_options(events, now=time.time):
    """`--with kestra_event_trigger:events=...` for a run that events started: each event's
    name, and the id and timestamp its payload carries (else none, and now)."""
    if not events:
        return []
    described = []
    for name, payload in events:
        timestamp = payload.get("timestamp")
        described.append({
            "name": name, "id": str(payload["id"]) if payload.get("id") is not None else None, "type": "event",
            "timestamp": timestamp if isinstance(timestamp, int) and not isinstance(timestamp, bool) else int(now()),
        })
    return ["--with=kestra_event_trigger:events=%s" % encode_events(described)]


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
