"""The same workloads on Kestra 1.3 and Kestra 2.0, in one run (issue 15).

    python benchmarks/lines.py [--repeat 3] [--versions 1.3.31 2.0.0] [--only WORKLOAD ...]

For each version it starts this project's local server (Kestra's own engine) on the
benchmark port, warms it up, and runs the three-step flow, the 10-step linear flow and the
100-way foreach with a local Metaflow run (the floor) and with `kestra run --wait`, interleaved. The flow
language follows the server: ForEach on 1.3, Loop (an execution per item) on 2.0. It stores
one result (both versions) in benchmarks/results/ and renders docs/benchmarks.md, whose
1.3 / 2.0 section compares the versions within that one result.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import results as stored  # noqa: E402
from benchmarks.measure import measure  # noqa: E402
from benchmarks.run import server_record, systems  # noqa: E402
from benchmarks.server import start_server, warm_up  # noqa: E402
from benchmarks.workloads import LOCAL, OURS, SMALL_FLOW, WORKLOADS  # noqa: E402

NAMES = (SMALL_FLOW, "10-step linear", "100-way foreach")


def run_version(version, repeat, result, directory, only=None):
    """Measure on a fresh server of `version`, adding its record to `result` (stored after each workload)."""
    server, state, client, reused = start_server(version)
    try:
        record = server_record(state, reused)
        result["servers"].append(record)
        warm_up(client)
        for workload in (w for w in WORKLOADS if w.name in NAMES and (not only or any(p in w.name for p in only))):
            record["workloads"].append(measure(workload, systems(True, (LOCAL, OURS)), max(repeat, workload.min_repeat),
                                               client, state.pid, {}))
            stored.write(result, directory)
    finally:
        if not reused:
            server.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--versions", nargs="+", default=["1.3.31", "2.0.0"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", nargs="*", default=None, help="workloads whose name contains one of these")
    parser.add_argument("--results", default=str(stored.RESULTS), help="where to store the result")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="the page to render")
    args = parser.parse_args()

    from benchmarks.render import lines_section, render

    result = stored.new_result("lines", "benchmarks/lines.py", sys.argv[1:])
    for version in args.versions:
        run_version(version, args.repeat, result, args.results, args.only)
    result["finished"] = stored.utc_now()
    path = stored.write(result, args.results)
    print(lines_section([result]))
    print("stored %s; wrote %s" % (path, render(args.results, args.output)))


if __name__ == "__main__":
    main()
