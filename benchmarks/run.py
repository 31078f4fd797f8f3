"""This project, the alternative package and a local Metaflow run, side by side on Kestra's engine.

    python benchmarks/run.py [--repeat 3] [--repeat-large 1] [--only WORKLOAD ...]
                             [--no-alternative] [--kestra-version V] [--output docs/benchmarks.md]

Starts its own local Kestra (this project's server, Kestra's real engine) on
port 18480, runs every workload with each system, and prints a table and the
ratios; `--output` also gets the machine, the command, an SVG plot and the
generated-YAML sizes per step (this tree against `--yaml-before`).
"""

import argparse
import os
import platform
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import flows  # noqa: E402
from benchmarks.alternative import step_tasks  # noqa: E402
from benchmarks.engine_figures import execution_seconds, task_gaps  # noqa: E402
from benchmarks.plot import bars_svg  # noqa: E402

BENCH_PORT = 18480
LOCAL, OURS, OURS_SUB, ALT = "local", "ours", "ours, --foreach subflows", "alternative"
SYSTEMS = (LOCAL, OURS, OURS_SUB, ALT)
YAML_BEFORE = "6277154"  # the last commit before the flow-level pluginDefaults (issue 13)


@dataclass
class Workload:
    name: str
    flow: tuple
    tasks: int
    large: bool = False
    family: str = ""  # a system wrong on one workload of a family is not run on its larger ones
    skip: dict = field(default_factory=dict)  # {system: why it is not run on this workload}


INLINE_AT_SCALE = ("an in-flow ForEach costs Kestra 1.3 time quadratic in its items (benchmarks/fanout.py: "
                   "1,000 trivial items took 434 s, against 43 s as ForEachItem); this is what "
                   "--foreach subflows is for")

WORKLOADS = [
    Workload("10-step linear", flows.linear_flow(10), flows.linear_tasks(10), family="linear"),
    Workload("100-way foreach", flows.foreach_flow(100), flows.foreach_tasks(100), family="foreach"),
    Workload("3-level nested foreach (4x4x4)", flows.nested_foreach_flow((4, 4, 4)),
             flows.nested_foreach_tasks((4, 4, 4)), family="nested"),
    Workload("200-step linear", flows.linear_flow(200), flows.linear_tasks(200), large=True, family="linear"),
    Workload("1,000-way foreach", flows.foreach_flow(1000), flows.foreach_tasks(1000), large=True,
             family="foreach", skip={OURS: INLINE_AT_SCALE}),
    Workload("10,000-parent join", flows.foreach_flow(10000), flows.foreach_tasks(10000), large=True,
             family="foreach", skip={OURS: INLINE_AT_SCALE}),
]


@dataclass
class Row:
    workload: Workload
    system: str
    wall: list = field(default_factory=list)
    execution: list = field(default_factory=list)
    compile: list = field(default_factory=list)
    gaps: list = field(default_factory=list)
    yaml_bytes: int = None
    peak_rss_mb: float = 0.0
    error: str = None


class PeakRss:
    """Samples a process's resident memory while a block runs; `.peak` in MiB."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def _rss(self):
        try:
            with open("/proc/%d/status" % self.pid) as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            return 0.0
        return 0.0

    def _sample(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def start_server(kestra_version=None):
    """This project's local Kestra on the benchmark's own port (its own state, the shared build)."""
    from metaflow_kestra.client import KestraClient
    from metaflow_kestra.connection import Connection
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings

    server = LocalServer(ServerSettings.from_environment(port=BENCH_PORT, management_port=BENCH_PORT + 1,
                                                         kestra_version=kestra_version))
    state, _ = server.start()
    return server, state, KestraClient(Connection(state.url, state.username, state.password), timeout=120)


def warm_up(client):
    """One untimed run on the server first: a JVM just started is slower until its code is compiled."""
    from benchmarks.systems import Ours
    from tests.flow_runs import FlowWorkspace

    with tempfile.TemporaryDirectory(prefix="bench-warm-") as tmp:
        workspace = FlowWorkspace(tmp)
        workspace.env.update(METAFLOW_KESTRA_HOST=client.connection.url,
                             METAFLOW_KESTRA_USER=client.connection.username,
                             METAFLOW_KESTRA_PASSWORD=client.connection.password)
        flow_name, path = flows.write(tmp, flows.foreach_flow(20))
        print("  warming the server up (untimed) ...", file=sys.stderr, flush=True)
        Ours(workspace, client).run(flow_name, path)


def measure(workload, systems, repeat, client, pid, wrong_before):
    """Rows (one per system) for `workload`, each run `repeat` times.

    `wrong_before`: {(system, family): what went wrong on a smaller workload of that family}.
    """
    from tests.flow_runs import FlowWorkspace

    rows = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for label, make, families in systems:
            if families and workload.family not in families:
                continue
            if label in workload.skip:
                rows[label] = Row(workload, label, error="not run: %s" % workload.skip[label])
                continue
            if (label, workload.family) in wrong_before:
                rows[label] = Row(workload, label, error="not run: %s" % wrong_before[(label, workload.family)])
                continue
            workspace = FlowWorkspace(tmp)
            workspace.env.update(METAFLOW_KESTRA_HOST=client.connection.url,
                                 METAFLOW_KESTRA_USER=client.connection.username,
                                 METAFLOW_KESTRA_PASSWORD=client.connection.password)
            flow_name, path = flows.write(tmp, workload.flow)
            system = make(workspace, client)
            row = rows[label] = Row(workload, label)
            for _ in range(repeat):
                print("  %s: %s ..." % (workload.name, label), file=sys.stderr, flush=True)
                with PeakRss(pid) as rss:
                    try:
                        result = system.run(flow_name, path)
                    except Exception as err:  # the server failed under it: a result, not a crash
                        result = Result(wall=0.0, error="%s: %s" % (type(err).__name__, str(err)[:300]))
                row.peak_rss_mb = max(row.peak_rss_mb, rss.peak)
                if result.wall:
                    row.wall.append(result.wall)
                if result.compile is not None:
                    row.compile.append(result.compile)
                    row.yaml_bytes = result.yaml_bytes
                if result.execution:
                    row.execution.append(execution_seconds(result.execution))
                    row.gaps.extend(task_gaps(result.execution, script_task_ids(workspace, path, label)))
                if result.error:
                    row.error = result.error
                    wrong_before[(label, workload.family)] = "wrong on the %s already (%s)" % (
                        workload.name, result.error)
                    break  # a workload it gets wrong is reported as wrong, not timed again
    return rows


def script_task_ids(workspace, path, label):
    import yaml

    suffix = {ALT: ".alt.yaml", OURS_SUB: ".ours-subflows.yaml"}.get(label, ".ours.yaml")
    documents = yaml.safe_load_all((workspace.root / (path.stem + suffix)).read_text())
    return {task for document in documents if document for task in step_tasks(document)}


def spread(values, digits=2):
    if not values:
        return "-"
    form = "%%.%df" % digits
    return " / ".join(form % v for v in (min(values), statistics.median(values), max(values)))


def median(values):
    return statistics.median(values) if values else None


def overhead_per_task(row, floor):
    if row is None or row.error or not row.wall or floor is None or not floor.wall:
        return None
    return (median(row.wall) - median(floor.wall)) / row.workload.tasks


def results_table(all_rows):
    lines = ["| workload | tasks | system | wall (s) | Kestra execution (s) | overhead / task (s) | "
             "engine gap between tasks (s) | compile (s) | YAML (KiB) | server peak RSS (MiB) | result |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for rows in all_rows:
        floor = rows.get(LOCAL)
        for label in SYSTEMS:
            row = rows.get(label)
            if row is None:
                continue
            over = overhead_per_task(row, floor) if label != LOCAL else None
            lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                row.workload.name, row.workload.tasks, label, spread(row.wall), spread(row.execution),
                "%.3f" % over if over is not None else "-", spread(row.gaps, 3), spread(row.compile),
                "%.1f" % (row.yaml_bytes / 1024.0) if row.yaml_bytes else "-",
                "%.0f" % row.peak_rss_mb if label != LOCAL else "-",
                _result(row)))
    return "\n".join(lines)


def _result(row):
    if not row.error:
        return "ok"
    if row.error.startswith("not run:"):
        return row.error.replace("|", "/")[:200]
    return "**wrong**: %s" % row.error.replace("|", "/")[:200]


def ratios_table(all_rows):
    lines = ["| workload | ours / local (wall) | ours, --foreach subflows / local (wall) | ours / alternative (wall) "
             "| ours / alternative (overhead per task) |",
             "|---|---|---|---|---|"]

    def ratio(a, b):
        return "%.2f" % (a / b) if a is not None and b else "-"

    for rows in all_rows:
        local, ours, sub, alt = rows.get(LOCAL), rows.get(OURS), rows.get(OURS_SUB), rows.get(ALT)
        floor = median(local.wall) if local and not local.error else None
        if ours is None:
            continue
        sub_ratio = ratio(median(sub.wall), floor) if sub and not sub.error else ("wrong" if sub else "-")
        if ours.error:
            lines.append("| %s | %s | %s | - | - |" % (ours.workload.name, _result(ours), sub_ratio))
            continue

        alt_ok = alt is not None and not alt.error
        lines.append("| %s | %s | %s | %s | %s |" % (
            ours.workload.name, ratio(median(ours.wall), floor), sub_ratio,
            ratio(median(ours.wall), median(alt.wall)) if alt_ok else ("alternative wrong" if alt else "-"),
            ratio(overhead_per_task(ours, local), overhead_per_task(alt, local)) if alt_ok else "-"))
    return "\n".join(lines)


def compile_scale(steps=900):
    """Compile time of a `steps`-step chain: ours, the alternative's, and `show` on the same flow."""
    import subprocess

    from benchmarks.alternative import alternative_python

    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        _, path = flows.write(tmp, flows.linear_flow(steps))
        env = dict(os.environ, METAFLOW_USER=os.environ.get("METAFLOW_USER") or "bench")
        figures = {}
        commands = {
            "`python flow.py show`": [sys.executable, str(path), "show"],
            "ours: `kestra compile`": [sys.executable, str(path), "kestra", "compile", str(Path(tmp) / "o.yaml")],
            "alternative: `kestra compile`": [alternative_python(), str(path), "--no-pylint", "kestra", "compile",
                                              str(Path(tmp) / "a.yaml")],
        }
        for label, command in commands.items():
            times = []
            for _ in range(3):
                started = time.perf_counter()
                done = subprocess.run(command, env=env, cwd=tmp, capture_output=True, text=True)
                times.append(time.perf_counter() - started)
                if done.returncode:
                    figures[label] = "failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1][:120]
                    break
            else:
                figures[label] = times
    return figures


def compile_table(figures, steps=900):
    show = figures.get("`python flow.py show`")
    lines = ["| %d-step chain | wall (s), min / median / max of 3 | / `show` |" % steps, "|---|---|---|"]
    for label, value in figures.items():
        if isinstance(value, str):
            lines.append("| %s | %s | - |" % (label, value))
        else:
            lines.append("| %s | %s | %s |" % (label, spread(value), "%.2f" % (median(value) / median(show))
                                                if isinstance(show, list) else "-"))
    return "\n".join(lines)


def yaml_table(before):
    from benchmarks.yaml_sizes import SHAPES, sizes, sizes_at

    now, then = sizes(SHAPES), sizes_at(before, SHAPES)
    lines = ["| shape | steps | before (bytes) | before / step | now (bytes) | now / step |",
             "|---|---|---|---|---|---|"]
    for shape in SHAPES:
        (old, steps), (new, _) = then[shape], now[shape]
        lines.append("| %s | %d | %d | %d | %d | %d |" % (shape, steps, old, old // steps, new, new // steps))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    parser.add_argument("--repeat", type=int, default=3, help="runs of each small workload (min/median/max)")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs of each large workload")
    parser.add_argument("--only", nargs="*", default=None, help="workloads whose name contains one of these")
    parser.add_argument("--no-alternative", action="store_true", help="skip the alternative package")
    parser.add_argument("--systems", nargs="*", default=None, choices=SYSTEMS,
                        help="run only these systems (default: all)")
    parser.add_argument("--yaml-before", default=YAML_BEFORE, help="commit to compare YAML sizes with")
    parser.add_argument("--kestra-version", default=None,
                        help="Kestra version of the local server (default: the pinned 1.3 release)")
    args = parser.parse_args()

    from benchmarks.systems import Alternative, LocalRun, Ours

    server, state, client = start_server(args.kestra_version)
    warm_up(client)
    foreach_families = {"foreach", "nested"}
    systems = [(LOCAL, lambda ws, c: LocalRun(ws), None), (OURS, Ours, None),
               (OURS_SUB, lambda ws, c: Ours(ws, c, foreach="subflows"), foreach_families)]
    if not args.no_alternative:
        systems.append((ALT, Alternative, None))
    if args.systems:
        systems = [system for system in systems if system[0] in args.systems]
    chosen = [w for w in WORKLOADS if not args.only or any(part in w.name for part in args.only)]
    compile_figures = compile_table(compile_scale())
    sizes = yaml_table(args.yaml_before)
    all_rows, wrong_before = [], {}
    for workload in chosen:
        repeat = args.repeat_large if workload.large else args.repeat
        all_rows.append(measure(workload, systems, repeat, client, state.pid, wrong_before))
        print(results_table(all_rows[-1:]), file=sys.stderr, flush=True)
        # Written after every workload: a run cut short keeps what it measured.
        text, ratios = results_table(all_rows), ratios_table(all_rows)
        write_report(args, state, text, ratios, compile_figures, sizes, all_rows)
    print("\n\n".join([text, ratios, compile_figures, sizes]))


def write_report(args, state, text, ratios, compile_figures, sizes, all_rows):
    output = Path(args.output)
    plot = output.with_name("benchmarks.svg")
    labels = {LOCAL: "local `run` (floor)", OURS: "metaflow-kestra (this)",
              OURS_SUB: "metaflow-kestra, --foreach subflows", ALT: "metaflow-kestra 0.3.4"}
    groups = [(rows[OURS].workload.name, {labels[k]: (median(r.wall) if not r.error else None)
                                          for k, r in rows.items()}) for rows in all_rows if OURS in rows]
    plot.write_text(bars_svg(groups, [labels[k] for k in SYSTEMS],
                             "Median wall time per workload (each row scaled to its longest bar)"))
    machine = "%s, %s, %d CPUs, Python %s" % (
        platform.platform(), platform.processor() or platform.machine(), os.cpu_count(), platform.python_version())
    command = "python benchmarks/run.py " + " ".join(sys.argv[1:])
    output.write_text(TEMPLATE.format(
        command=command.strip(), date=time.strftime("%Y-%m-%d"), machine=machine,
        server="this project's local server: Kestra %s's engine at %s" % (state.kestra_version, state.url),
        results=text, ratios=ratios, plot=plot.name, compile=compile_figures, sizes=sizes,
        before=args.yaml_before, notes=(ROOT / "benchmarks" / "notes.md").read_text().strip(),
        lines=kept_section(output)))


LINES_BEGIN, LINES_END = "<!-- kestra lines: benchmarks/lines.py -->", "<!-- end kestra lines -->"


def kept_section(output):
    """The Kestra 1.3 / 2.0 section `benchmarks/lines.py` wrote into the report, kept as it is."""
    text = output.read_text() if output.exists() else ""
    if LINES_BEGIN in text and LINES_END in text:
        return text[text.index(LINES_BEGIN):text.index(LINES_END) + len(LINES_END)]
    return "%s\n(not measured yet: `python benchmarks/lines.py`)\n%s" % (LINES_BEGIN, LINES_END)


TEMPLATE = """# Benchmarks

Command: `{command}` ({date}).

Machine: {machine}.

Server: {server}, started by the benchmark and warmed up by one untimed run; all three systems
run on it in the same run.

## Results

{results}

Columns: each timed figure is min / median / max over the repeated runs.
- *wall*: local: `python flow.py run`; ours: `python flow.py kestra run --wait` (compile, code
  package, deploy, trigger, follow); alternative: its `kestra compile`, then its YAML deployed,
  started and followed through the API (its own `create` calls an untenanted API path).
- *Kestra execution*: the execution's first to last state change.
- *overhead / task*: (median wall - median local wall) / Metaflow tasks.
- *engine gap between tasks*: per task run, its start minus the latest end of another step task
  before it (Kestra's state histories): the hand-over in a chain; in a foreach, the wait for a slot.
- *server peak RSS*: the Kestra JVM's resident memory, sampled every 0.2 s during the runs.
- *result*: **wrong** when the run did not end as a local run does (the reason given), and then
  it is not run again.

## Ratios

{ratios}

![median wall time per workload]({plot})

## Compile time at scale

{compile}

## Generated YAML per step (issue 13)

Bytes of YAML compiled by `compile_flow` for each sample shape (no code package), at commit
`{before}` (before) and in this tree (now), by `benchmarks/yaml_sizes.py`:

{sizes}

{lines}

{notes}
"""


if __name__ == "__main__":
    main()
