"""`@trigger(events=[a, b])`: Metaflow starts the flow once every one of the events has arrived.

Kestra has no trigger that waits for several webhooks, but its Flow trigger waits for several
flows. So each event gets a receiver flow (`<flow id>.event-<name>`): its Webhook stores the
event's payload in the namespace's KV store (key: the receiver's id) and ends. The flow itself
has a Flow trigger over its receivers (`preconditions` on Kestra 1.x, `dependsOn` on 2.x),
which fires once each receiver has run since the last firing, within Kestra's one-day window.
Its tasks are given `[Kestra's trigger variables, [each receiver's stored payload]]` and read
the events from it when a receiver started the run.

Light: the runtime imports it on the worker.
"""

import base64
import json

# The Flow trigger over the receivers, and its 1.x precondition.
ARRIVED_TRIGGER = "events-arrived"
ARRIVED_PRECONDITION = "all-events"


def all_of(names):
    """Whether a flow with these @trigger events waits for all of them (more than one)."""
    return len(set(names)) > 1


def receiver_flow_id(flow_id, name):
    """The Kestra flow (and KV key) that receives event `name` (letters, digits, '_', '.', '-')."""
    return "%s.event-%s" % (flow_id, name)


def event_names(deployment):
    """The deployment's @trigger event names, each once, in order."""
    names = []
    for event in deployment.events:
        if event["name"] not in names:
            names.append(event["name"])
    return names


def arrived_events(deployment, given):
    """(Kestra's trigger variables or None, [(event name, payload)]) from what a task of an
    all-of flow is given. Events only when a receiver started the run: the KV store keeps the
    last payloads, which a run started by hand must not see."""
    if not (isinstance(given, list) and len(given) == 2):
        return None, []
    trigger, stored = given
    if not isinstance(trigger, dict):
        return None, []
    names = event_names(deployment)
    receivers = {receiver_flow_id(deployment.kestra_flow_id, name) for name in names}
    if trigger.get("namespace") != deployment.kestra_namespace or trigger.get("flowId") not in receivers:
        return trigger, []
    events = []
    for name, value in zip(names, stored if isinstance(stored, list) else []):
        payload = _payload(value)
        if payload is not None:
            events.append((name, payload))
    return trigger, events


def _payload(value):
    """A receiver's stored value (base64 of the webhook body's JSON) as a dict, or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        payload = json.loads(base64.b64decode(value).decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    return payload if isinstance(payload, dict) else None
