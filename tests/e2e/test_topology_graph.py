"""The topology Kestra's UI draws, from the server's graph endpoint: every step, branches and loops."""

import pytest

from tests.e2e.test_operations_on_kestra import NAMESPACE, kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0


def graph(kestra_client, flow_id):
    return kestra_client._request("GET", "flows/%s/%s/graph" % (NAMESPACE, flow_id)).json()


def task_ids(flow_graph):
    return {node["task"]["id"] for node in flow_graph["nodes"] if node.get("task")}


@pytest.mark.parametrize("name,flow_id,steps,cluster_type", [
    ("split_flow", "splitflow", {"start", "left", "right", "right2", "join", "end"}, "Parallel"),
    ("foreach_flow", "foreachflow", {"start", "square", "join", "end"}, "ForEach"),  # Loop on Kestra 2
])
def test_every_step_is_a_node_and_branches_are_clusters(workspace, kestra_client, name, flow_id, steps,
                                                        cluster_type):
    kestra(workspace, name, "create")
    flow_graph = graph(kestra_client, flow_id)
    assert steps <= task_ids(flow_graph)
    cluster_tasks = {c["cluster"]["taskNode"]["task"]["type"].rsplit(".", 1)[-1] for c in flow_graph["clusters"]
                     if c["cluster"].get("taskNode")}
    if cluster_type == "ForEach" and kestra_client.kestra_major() >= 2:
        cluster_type = "Loop"
    assert cluster_type in cluster_tasks
    assert flow_graph["edges"]
