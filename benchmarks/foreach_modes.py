"""A foreach of each width, with each foreach mode and with the default, on each Kestra line (issue 30).

    python benchmarks/foreach_modes.py [--widths 1 10 100 1000] [--versions 1.3.31 2.0.0]
                                       [--repeat 3] [--slow]

The flow is the benchmark's foreach (start -> WIDTH items -> a join with WIDTH parents -> end).
Per version it starts this project's local server (Kestra's own engine) on the benchmark port,
warms it up, and runs each width with `kestra run --wait` deployed with no --foreach option (the
default), with `--foreach inline` and with `--foreach subflows`, interleaved, plus a local run at
widths up to 100 (the reference the artifacts are compared with, and the floor). On Kestra 2.x
the modes write the same flow (a Loop), so only the default runs there. An in-flow ForEach of
1,000 items or more on 1.3 costs minutes that grow with the square of its items
(benchmarks/fanout.py): it runs only with --slow.

It stores one result ("modes") in benchmarks/results/ and renders docs/benchmarks.md, whose width
sweep shows, per line and width, each mode and the default against the fastest mode.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import flows  # noqa: E402
from benchmarks import results as stored  # noqa: E402
from benchmarks.measure import measure  # noqa: E402
from benchmarks.run import server_record  # noqa: E402
from benchmarks.server import start_server, warm_up  # noqa: E402
from benchmarks.workloads import DEFAULT_MODE, INLINE_AT_SCALE, LOCAL, MODES, Workload  # noqa: E402

LOCAL_UP_TO = 100  # widths above run no local reference: a local run of 1,000 items takes minutes


def sweep_workload(width, major, slow):
    skip = {}
    if width > LOCAL_UP_TO:
        skip[LOCAL] = "widths above %d run no local reference (minutes each)" % LOCAL_UP_TO
    if major >= 2:
        for mode in MODES:
            if mode != DEFAULT_MODE:
                skip[mode] = "Kestra 2.x runs every foreach as a Loop: the modes write the same flow"
    elif width >= 1000 and not slow:
        skip[MODES[1]] = INLINE_AT_SCALE + " (run with --slow)"
    return Workload("%s-way foreach" % format(width, ","), flows.foreach_flow(width), flows.foreach_tasks(width),
                    family="sweep-%d" % width, skip=skip, min_repeat=1)


def mode_systems():
    """[(label, make(workspace, client), None)]: the local run, then the default and each mode."""
    from benchmarks.systems import LocalRun, Ours

    options = {DEFAULT_MODE: None, MODES[1]: "inline", MODES[2]: "subflows"}
    return [(LOCAL, lambda ws, c: LocalRun(ws), None)] + [
        (label, (lambda ws, c, foreach=options[label]: Ours(ws, c, foreach=foreach)), None) for label in MODES]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widths", nargs="+", type=int, default=[1, 10, 100, 1000])
    parser.add_argument("--versions", nargs="+", default=["1.3.31", "2.0.0"])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each width up to 100")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs of each larger width")
    parser.add_argument("--slow", action="store_true", help="also run the in-flow ForEach at 1,000 items and more on 1.3")
    parser.add_argument("--results", default=str(stored.RESULTS), help="where to store the result")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="the page to render")
    args = parser.parse_args()

    from benchmarks.render import modes_section, render

    result = stored.new_result("modes", "benchmarks/foreach_modes.py", sys.argv[1:])
    for version in args.versions:
        server, state, client, reused = start_server(version)
        try:
            record = server_record(state, reused)
            result["servers"].append(record)
            warm_up(client)
            for width in args.widths:
                workload = sweep_workload(width, int(version.split(".")[0]), args.slow)
                repeat = args.repeat if width <= LOCAL_UP_TO else args.repeat_large
                record["workloads"].append(measure(workload, mode_systems(), repeat, client, state.pid, {}))
                stored.write(result, args.results)
                print(modes_section([result]), file=sys.stderr, flush=True)
        finally:
            if not reused:
                server.stop()
    result["finished"] = stored.utc_now()
    path = stored.write(result, args.results)
    print(modes_section([result]))
    print("stored %s; wrote %s" % (path, render(args.results, args.output)))


if __name__ == "__main__":
    main()
