"""Wall time of flows run locally and on Kestra's engine, side by side.

    python benchmarks/run.py [--repeat 3] [--output docs/benchmarks.md]

Prints a table and writes it, with the machine and the command, to the
output file. Kestra figures need a reachable server: the local one
(`metaflow-kestra server start`, started here if none runs), or
METAFLOW_KESTRA_HOST...; without one the rows say why they are missing.
"""

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
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


def kestra_client_or_reason():
    """(client, None) if a Kestra server answers (starting the local one if none is given), else (None, why)."""
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import ENV_HOST, resolve_connection, running_local_server
    from metaflow_kestra.errors import KestraError
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings

    try:
        if not os.environ.get(ENV_HOST) and running_local_server() is None:
            LocalServer(ServerSettings.from_environment()).start()
        client = KestraClient(resolve_connection(), timeout=30)
        client._request("GET", "flows/search", params={"size": 1})
    except KestraError as err:
        return None, str(err)
    return client, None


def execution_seconds(execution):
    """The execution's own duration, from Kestra's state (first to last state change)."""
    def parse(text):
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    histories = execution["state"]["histories"]
    return (parse(histories[-1]["date"]) - parse(histories[0]["date"])).total_seconds()


def measure(label, flow, tasks, workspace, client, repeat):
    root, env = workspace.root, workspace.env
    name, path = flows.write(root, flow)
    row = {"workload": label, "tasks": tasks, "local": [], "kestra": [], "execution": [], "compile": []}
    for attempt in range(repeat):
        row["local"].append(timed([sys.executable, path, "run"], env, root)[0])
        started = time.perf_counter()
        text = workspace.compile(str(path))
        row["compile"].append(time.perf_counter() - started)
        row["yaml_kb"] = len(text.encode()) / 1024.0
        if client is not None:
            run_id_file = root / ("%s-%d.run-id" % (name, attempt))
            row["kestra"].append(timed([sys.executable, path, "kestra", "run", "--wait", "--run-id-file",
                                        str(run_id_file)], env, root)[0])
            execution_id = run_id_file.read_text().strip()[len("kestra-"):]
            row["execution"].append(execution_seconds(client.execution(execution_id)))
    return row


def spread(values):
    return "%.2f / %.2f / %.2f" % (min(values), statistics.median(values), max(values)) if values else "n/a"


def table(rows, unavailable):
    lines = [
        "| workload | tasks | local `run` (s) | Kestra `run --wait` (s) | Kestra execution (s) | "
        "overhead / task (s) | Kestra / local | compile (s) | YAML (KiB) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        local = statistics.median(row["local"])
        kestra = statistics.median(row["kestra"]) if row["kestra"] else None
        lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %.1f |" % (
            row["workload"], row["tasks"], spread(row["local"]), spread(row["kestra"]), spread(row["execution"]),
            "%.3f" % ((kestra - local) / row["tasks"]) if kestra else "n/a",
            "%.2f" % (kestra / local) if kestra else "n/a",
            spread(row["compile"]), row["yaml_kb"],
        ))
    if unavailable:
        lines += ["", "Kestra columns are n/a: %s" % unavailable]
    return "\n".join(lines)


def server_description(client):
    if client is None:
        return "none"
    try:
        version = client.session.get(client.connection.url + "/api/v1/configs", timeout=10).json().get("version")
    except Exception:  # a description only: never fail the benchmark over it
        version = "unknown version"
    return "Kestra %s at %s" % (version, client.connection.url)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each workload (min/median/max)")
    args = parser.parse_args()
    client, unavailable = kestra_client_or_reason()
    rows = []
    from tests.flow_runs import FlowWorkspace

    with tempfile.TemporaryDirectory() as tmp:
        workspace = FlowWorkspace(tmp)
        for label, flow, tasks in WORKLOADS:
            rows.append(measure(label, flow, tasks, workspace, client, args.repeat))
    text = table(rows, unavailable)
    print(text)
    machine = "%s, %s, %d CPUs, Python %s" % (
        platform.platform(), platform.processor() or platform.machine(), os.cpu_count(), platform.python_version())
    Path(args.output).write_text(
        "# Benchmarks\n\nCommand: `python benchmarks/run.py --repeat %d` (%s).\n\nMachine: %s.\n\n"
        "Server: %s.\n\n%s\n\n%s\n" % (args.repeat, time.strftime("%Y-%m-%d"), machine,
                                       server_description(client), text, _NOTES)
    )


_NOTES = """Columns (each timed figure is min / median / max over the repeated runs):
- *local `run`*: `python flow.py run` with the local datastore: Metaflow's own floor.
- *Kestra `run --wait`*: `python flow.py kestra run --wait` on Kestra's engine: compile, code
  package upload, deploy, trigger, then follow to the end.
- *Kestra execution*: the execution's own duration, from its first to its last state change.
- *overhead / task*: (median Kestra `run --wait` - median local `run`) / number of Metaflow tasks.
- *compile*: `python flow.py kestra compile --package-file ...` wall time (interpreter start and
  building the code package included)."""


if __name__ == "__main__":
    main()
