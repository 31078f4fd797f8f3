"""The same workloads on Kestra 1.3 and Kestra 2.0, in one run (issue 15).

    python benchmarks/lines.py [--repeat 3] [--versions 1.3.31 2.0.0] [--output docs/benchmarks.md]

For each version it starts this project's local server (Kestra's own engine) on the
benchmark port, warms it up, and runs the 10-step linear flow and the 100-way foreach
with a local Metaflow run (the floor) and with `kestra run --wait`. The flow language
follows the server: ForEach on 1.3, Loop (an execution per item) on 2.0. It prints a
table and the ratios, and writes them into `--output` between the markers that
`benchmarks/run.py` keeps.
"""

import argparse
import os
import platform
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import (  # noqa: E402
    LINES_BEGIN, LINES_END, LOCAL, OURS, WORKLOADS, measure, median, overhead_per_task, spread, start_server,
    warm_up,
)

NAMES = ("10-step linear", "100-way foreach")


def run_version(version, repeat):
    """{workload name: {system: Row}} on a fresh server of `version`, and its Kestra version."""
    from benchmarks.systems import LocalRun, Ours

    server, state, client = start_server(version)
    try:
        warm_up(client)
        systems = [(LOCAL, lambda ws, c: LocalRun(ws), None), (OURS, Ours, None)]
        rows = {}
        for workload in (w for w in WORKLOADS if w.name in NAMES):
            rows[workload.name] = measure(workload, systems, repeat, client, state.pid, {})
        return rows, state.kestra_version
    finally:
        server.stop()


def table(results):
    """One row per workload and version: wall, execution, overhead per task, gaps, RSS."""
    lines = ["| workload | Kestra | local wall (s) | ours wall (s) | Kestra execution (s) | overhead / task (s) | "
             "engine gap between tasks (s) | server peak RSS (MiB) | result |",
             "|---|---|---|---|---|---|---|---|---|"]
    for name in NAMES:
        for version, rows in results:
            local, ours = rows[name][LOCAL], rows[name][OURS]
            over = overhead_per_task(ours, local)
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %.0f | %s |" % (
                name, version, spread(local.wall), spread(ours.wall), spread(ours.execution),
                "%.3f" % over if over is not None else "-", spread(ours.gaps, 3), ours.peak_rss_mb,
                "ok" if not ours.error else "**wrong**: %s" % ours.error.replace("|", "/")[:200]))
    return "\n".join(lines)


def ratios(results):
    """Each later version against the first, per workload: the wall-time ratio, and the difference
    per Metaflow task (a ratio of overheads means little once both runs beat the local floor)."""
    (base_version, base), others = results[0], results[1:]
    lines = ["| workload | versions | ours wall ratio | ours wall difference per task (s) | "
             "ours / local (wall), each version |", "|---|---|---|---|---|"]
    for name in NAMES:
        for version, rows in others:
            a, b = rows[name][OURS], base[name][OURS]
            if not (a.wall and b.wall):
                lines.append("| %s | %s / %s | - | - | - |" % (name, version, base_version))
                continue
            per_task = (median(a.wall) - median(b.wall)) / a.workload.tasks
            floors = ["%.2f" % (median(r[name][OURS].wall) / median(r[name][LOCAL].wall))
                      for r in (base, rows) if r[name][LOCAL].wall]
            lines.append("| %s | %s / %s | %.2f | %+.3f | %s |" % (
                name, version, base_version, median(a.wall) / median(b.wall), per_task,
                " / ".join(floors)))
    return "\n".join(lines)


def write_section(output, text):
    """Put `text` between the markers in the report (appended when they are not there yet)."""
    report = output.read_text() if output.exists() else "# Benchmarks\n"
    section = "%s\n%s\n%s" % (LINES_BEGIN, text, LINES_END)
    if LINES_BEGIN in report and LINES_END in report:
        report = report[:report.index(LINES_BEGIN)] + section + report[report.index(LINES_END) + len(LINES_END):]
    else:
        report = report.rstrip("\n") + "\n\n" + section + "\n"
    output.write_text(report)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", nargs="+", default=["1.3.31", "2.0.0"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    results = []
    for version in args.versions:
        rows, served = run_version(version, args.repeat)
        results.append((served, rows))
    body = "\n\n".join([table(results), ratios(results)])
    print(body)
    machine = "%s, %d CPUs, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version())
    command = "python benchmarks/lines.py " + " ".join(sys.argv[1:])
    write_section(Path(args.output), "\n".join([
        "## Kestra 1.3 and 2.0 side by side (issue 15)", "",
        "Command: `%s` (%s). Machine: %s. Each version on a fresh start of this project's local server "
        "(Kestra's engine), warmed up by one untimed run; min / median / max over %d runs. On 2.0 a foreach "
        "is a `Loop`, each item its own execution; on 1.3 a `ForEach` in the run's execution."
        % (command.strip(), time.strftime("%Y-%m-%d"), machine, args.repeat), "", body]))


if __name__ == "__main__":
    main()
