"""How Kestra's engine scales a fan-out: one in-flow ForEach, or a subflow execution per item.

Four shapes: an in-flow ForEach; a ForEach whose every iteration starts the
child flow (Subflow); ForEachItem, which starts one child execution per line of
a file and keeps only counters in the parent; and ForEachItem over batches (what
`--foreach subflows` deploys): each line lists up to --batch items, and each
child execution runs its batch in an in-flow ForEach, the batches one after
another (`--batch-children` at a time).

    python benchmarks/fanout.py [--widths 100 1000] [--concurrency 16] [--batch 100]

The tasks are trivial (`true` on the Process runner), so the figures are the
engine's own cost, not Metaflow's. Starts the benchmark's local server (port
18480) if it is not running; prints a table. docs/benchmarks.md cites it for the
choice between the two for a Metaflow foreach.
"""

import argparse
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine_figures import execution_seconds  # noqa: E402
from benchmarks.server import start_server  # noqa: E402

NAMESPACE = "bench.fanout"
SHELL = "io.kestra.plugin.scripts.shell.Commands"


def _item_task():
    return {"id": "item", "type": SHELL, "commands": ["true"]}


def in_flow(width, concurrency):
    """One execution: ForEach over `width` values, one task per value."""
    return {"id": "inflow%d" % width, "namespace": NAMESPACE, "tasks": [
        {"id": "each", "type": "io.kestra.plugin.core.flow.ForEach", "values": list(range(width)),
         "concurrencyLimit": concurrency, "tasks": [_item_task()]}]}


def child():
    return {"id": "child", "namespace": NAMESPACE, "inputs": [{"id": "value", "type": "STRING"}],
            "tasks": [_item_task()]}


def per_item_subflow(width, concurrency):
    """ForEach over `width` values, each starting the child flow and waiting for it."""
    return {"id": "subflows%d" % width, "namespace": NAMESPACE, "tasks": [
        {"id": "each", "type": "io.kestra.plugin.core.flow.ForEach", "values": list(range(width)),
         "concurrencyLimit": concurrency, "tasks": [
             {"id": "run", "type": "io.kestra.plugin.core.flow.Subflow", "namespace": NAMESPACE, "flowId": "child",
              "inputs": {"value": "{{ taskrun.value }}"}, "wait": True, "transmitFailed": True}]}]}


def for_each_item(width, concurrency):
    """A task writes `width` lines; ForEachItem starts the child flow once per line."""
    return {"id": "foreachitem%d" % width, "namespace": NAMESPACE, "tasks": [
        {"id": "make", "type": SHELL, "outputFiles": ["items.txt"],
         "commands": ["seq 0 %d > items.txt" % (width - 1)]},
        {"id": "each", "type": "io.kestra.plugin.core.flow.ForEachItem",
         "items": "{{ outputs.make.outputFiles['items.txt'] }}", "batch": {"rows": 1},
         "namespace": NAMESPACE, "flowId": "child", "inputs": {"value": "{{ taskrun.iteration }}"},
         "wait": True, "transmitFailed": True}]}


def batch_child(concurrency, children):
    """Runs the items its `items` file lists (a JSON list), `concurrency` at a time."""
    return {"id": "batchchild", "namespace": NAMESPACE, "inputs": [{"id": "items", "type": "FILE"}],
            "concurrency": {"limit": children, "behavior": "QUEUE"},
            "tasks": [{"id": "each", "type": "io.kestra.plugin.core.flow.ForEach",
                       "values": "{{ read(inputs.items) }}", "concurrencyLimit": concurrency,
                       "tasks": [_item_task()]}]}


def batches(width, batch):
    """A task writes `width` items as JSON lists of `batch`; ForEachItem starts a child per list."""
    script = "import json; [print(json.dumps(list(range(s, min(s + %d, %d))))) for s in range(0, %d, %d)]" % (
        batch, width, width, batch)
    return {"id": "batches%d" % width, "namespace": NAMESPACE, "tasks": [
        {"id": "make", "type": SHELL, "outputFiles": ["items.txt"], "commands": ["python3 -c '%s' > items.txt" % script]},
        {"id": "each", "type": "io.kestra.plugin.core.flow.ForEachItem",
         "items": "{{ outputs.make.outputFiles['items.txt'] }}", "batch": {"rows": 1},
         "namespace": NAMESPACE, "flowId": "batchchild", "inputs": {"items": "{{ taskrun.items }}"},
         "wait": True, "transmitFailed": True}]}


# name: (label, flow for `width` items given the command's arguments)
SHAPES = {
    "inflow": ("in-flow ForEach", lambda width, args: in_flow(width, args.concurrency)),
    "subflow": ("Subflow per item", lambda width, args: per_item_subflow(width, args.concurrency)),
    "foreachitem": ("ForEachItem", lambda width, args: for_each_item(width, args.concurrency)),
    "batches": ("ForEachItem over batches", lambda width, args: batches(width, args.batch)),
}


def timed(client, flow, timeout=7200):
    client.deploy_flow(yaml.safe_dump(flow, sort_keys=False), NAMESPACE, flow["id"])
    started = time.perf_counter()
    execution_id = client.trigger(NAMESPACE, flow["id"])["id"]
    execution = client.wait(execution_id, timeout=timeout, poll=1.0)
    return time.perf_counter() - started, execution


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", type=int, nargs="*", default=[100, 1000])
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=100, help="items per child execution (batches)")
    parser.add_argument("--batch-children", type=int, default=1, help="batch executions at once (batches)")
    parser.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), default=sorted(SHAPES))
    args = parser.parse_args()
    _, _, client, _ = start_server()
    client.deploy_flow(yaml.safe_dump(child(), sort_keys=False), NAMESPACE, "child")
    client.deploy_flow(yaml.safe_dump(batch_child(args.concurrency, args.batch_children), sort_keys=False),
                       NAMESPACE, "batchchild")

    lines = ["| items | shape | wall (s) | execution (s) | per item (s) | state |", "|---|---|---|---|---|---|"]
    for width in args.widths:
        for name in args.shapes:
            label, make = SHAPES[name]
            if name == "batches":
                label += " of %d, %d at a time" % (args.batch, args.batch_children)
            wall, execution = timed(client, make(width, args))
            lines.append("| %d | %s | %.1f | %.1f | %.3f | %s |" % (
                width, label, wall, execution_seconds(execution), wall / width, execution["state"]["current"]))
            print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
