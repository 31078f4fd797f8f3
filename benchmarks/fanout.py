"""How Kestra's engine scales a fan-out: one in-flow ForEach, or a subflow execution per item.

Three shapes: an in-flow ForEach; a ForEach whose every iteration starts the
child flow (Subflow); and ForEachItem, which starts one child execution per
line of a file and keeps only counters in the parent.

    python benchmarks/fanout.py [--widths 100 1000] [--concurrency 16]

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
from benchmarks.run import start_server  # noqa: E402

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


SHAPES = {"inflow": ("in-flow ForEach", in_flow), "subflow": ("Subflow per item", per_item_subflow),
          "foreachitem": ("ForEachItem", for_each_item)}


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
    parser.add_argument("--shapes", nargs="*", choices=sorted(SHAPES), default=sorted(SHAPES))
    args = parser.parse_args()
    _, _, client = start_server()
    client.deploy_flow(yaml.safe_dump(child(), sort_keys=False), NAMESPACE, "child")
    lines = ["| items | shape | wall (s) | execution (s) | per item (s) | state |", "|---|---|---|---|---|---|"]
    for width in args.widths:
        for label, make in (SHAPES[name] for name in args.shapes):
            wall, execution = timed(client, make(width, args.concurrency))
            lines.append("| %d | %s | %.1f | %.1f | %.3f | %s |" % (
                width, label, wall, execution_seconds(execution), wall / width, execution["state"]["current"]))
            print(lines[-1], file=sys.stderr, flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
