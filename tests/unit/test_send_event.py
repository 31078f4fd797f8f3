"""send-event reaches every flow that listens, across pages of Kestra's flow search, and a broken
deployment of one flow neither stops the event reaching the others nor passes unreported."""

import pytest

from metaflow_kestra.compiler import event_trigger_id
from metaflow_kestra.deployment import Deployment
from metaflow_kestra.errors import KestraError
from metaflow_kestra.executions import send_event
from metaflow_kestra.kestra_flow import WEBHOOK


def listening_flow(flow_id, events):
    deployment = Deployment(flow_name=flow_id.title(), flow_file="f.py", kestra_namespace="ns",
                            kestra_flow_id=flow_id, events=[{"name": name, "parameters": {}} for name in events])
    flow = {"namespace": "ns", "id": flow_id, "variables": {"metaflow_deployment": deployment.to_json()},
            "triggers": []}
    if len(events) == 1:
        flow["triggers"] = [{"type": WEBHOOK, "id": event_trigger_id(events[0]), "key": "k-" + flow_id}]
    return flow


class FlowsOnKestra:
    """Kestra's flow search, 100 flows a page, and the webhooks it was sent."""

    def __init__(self, flows, receivers=()):
        self.flows, self.receivers, self.sent = flows, {r["id"]: r for r in receivers}, []

    def search_flows(self, namespace=None, labels=None):
        return list(self.flows)

    def flow(self, namespace, flow_id):
        from metaflow_kestra.client import KestraApiError

        if flow_id not in self.receivers:
            raise KestraApiError("no flow", type("Response", (), {"status_code": 404, "text": ""})())
        return self.receivers[flow_id]

    def webhook(self, namespace, flow_id, key, payload):
        self.sent.append((flow_id, key))


def test_a_flow_with_its_receivers_missing_is_reported_after_the_others_got_the_event():
    healthy = listening_flow("healthy", ["data.ready"])
    broken = listening_flow("both", ["data.ready", "model.retrain"])
    later = listening_flow("zlater", ["data.ready"])
    kestra = FlowsOnKestra([healthy, broken, later])
    with pytest.raises(KestraError, match=r"Sent event data.ready to ns.healthy, ns.zlater; but Kestra flow "
                                          r"ns.both waits for event data.ready at flow both.event-data.ready"):
        send_event(kestra, "data.ready", {})
    assert kestra.sent == [("healthy", "k-healthy"), ("zlater", "k-zlater")]
