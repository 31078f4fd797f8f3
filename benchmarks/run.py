"""Wall time of flows run locally, on Kestra, and (for reference) on the stand-in engine.

    python benchmarks/run.py [--output docs/benchmarks.md]

Prints a table and writes it, with the machine and the command, to the
output file. Kestra figures need a reachable server (the local one from
`metaflow-kestra server start`, or METAFLOW_KESTRA_HOST...); without one the
rows say why they are missing. The stand-in engine (tests/standin_engine.py)
runs the generated YAML one task after another on this machine: it measures
our per-task runtime cost without Kestra's scheduling, and is not Kestra.
"""

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import flows  # noqa: E402

WORKLOADS = [
    ("10-step linear", flows.linear_flow(10), 10),
    ("20-way foreach", flows.foreach_flow(20), 23),
]


def timed(command, env, cwd):
    started = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError("%s failed:\n%s%s" % (" ".join(map(str, command)), done.stdout, done.stderr[-2000:]))
    return elapsed, done


def kestra_reason():
    """None if a Kestra server answers (starting the local one if none is given), else why not."""
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import ENV_HOST, resolve_connection, running_local_server
    from metaflow_kestra.errors import KestraError
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings

    try:
        if not os.environ.get(ENV_HOST) and running_local_server() is None:
            LocalServer(ServerSettings.from_environment()).start()
        client = KestraClient(resolve_connection(), timeout=5)
        client._request("GET", "flows/search", params={"size": 1})
    except KestraError as err:
        return str(err)
    return None


def measure(label, flow, tasks, workspace, kestra_unavailable):
    from tests.standin_engine import StandinEngine

    root, env = workspace.root, workspace.env
    name, path = flows.write(root, flow)
    row = {"workload": label, "tasks": tasks}
    row["local"], _ = timed([sys.executable, path, "run"], env, root)
    started = time.perf_counter()
    text = workspace.compile(str(path))
    row["compile"] = time.perf_counter() - started
    row["yaml_kb"] = len(text.encode()) / 1024.0
    engine = StandinEngine(text, "bench%d" % time.time_ns(), environ=env)
    started = time.perf_counter()
    if engine.run() != "SUCCESS":
        raise RuntimeError("\n".join(engine.logs))
    row["standin"] = time.perf_counter() - started
    if kestra_unavailable is None:
        row["kestra"], _ = timed([sys.executable, path, "kestra", "run", "--wait"], env, root)
    return row


def table(rows, kestra_unavailable):
    lines = [
        "| workload | tasks | local `run` (s) | Kestra (s) | Kestra overhead / task (s) | stand-in (s) | "
        "stand-in overhead / task (s) | compile (s) | YAML (KiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        kestra = row.get("kestra")
        lines.append("| %s | %d | %.2f | %s | %s | %.2f | %.3f | %.2f | %.1f |" % (
            row["workload"], row["tasks"], row["local"],
            "%.2f" % kestra if kestra else "n/a",
            "%.3f" % ((kestra - row["local"]) / row["tasks"]) if kestra else "n/a",
            row["standin"], (row["standin"] - row["local"]) / row["tasks"],
            row["compile"], row["yaml_kb"],
        ))
    if kestra_unavailable:
        lines.append("")
        lines.append("Kestra columns are n/a: %s" % kestra_unavailable)
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    unavailable = kestra_reason()
    rows = []
    from tests.flow_runs import FlowWorkspace

    with tempfile.TemporaryDirectory() as tmp:
        workspace = FlowWorkspace(tmp)
        for label, flow, tasks in WORKLOADS:
            rows.append(measure(label, flow, tasks, workspace, unavailable))
    text = table(rows, unavailable)
    print(text)
    machine = "%s, %s, %d CPUs, Python %s" % (
        platform.platform(), platform.processor() or platform.machine(), os.cpu_count(), platform.python_version())
    Path(args.output).write_text(
        "# Benchmarks\n\nCommand: `python benchmarks/run.py` (one run, same machine, %s).\n\n"
        "Machine: %s.\n\n%s\n\n%s\n" % (time.strftime("%Y-%m-%d"), machine, text, _NOTES)
    )


_NOTES = """Columns:
- *local `run`*: `python flow.py run` with the local datastore: Metaflow's own floor.
- *Kestra*: `python flow.py kestra run --wait` against a real Kestra (deploy, trigger, follow).
- *overhead / task*: (time - local) / number of Metaflow tasks.
- *stand-in*: the generated YAML executed task by task by tests/standin_engine.py (our
  task command and runtime, no Kestra scheduling; not Kestra, a lower bound on our share).
  It runs foreach items one after another, while the local run runs up to 16 at once,
  so its foreach overhead includes lost parallelism.
- *compile*: `python flow.py kestra compile --package-file ...` wall time (interpreter start and
  building the code package included)."""


if __name__ == "__main__":
    main()
