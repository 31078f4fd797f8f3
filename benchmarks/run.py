"""This project, the alternative package and a local Metaflow run, side by side on Kestra's engine.

    python benchmarks/run.py [--repeat 3] [--repeat-large 1] [--only WORKLOAD ...]
                             [--no-alternative] [--systems SYSTEM ...] [--kestra-version V]

Starts its own local Kestra (this project's server, Kestra's real engine) on port 18480,
runs every workload with each system (interleaved, the order rotating each repeat), checks
each run's artifacts against the local run's, and stores everything it measured as one JSON
file in benchmarks/results/ (rewritten after each workload, so a run cut short keeps what it
measured). Then it renders docs/benchmarks.md from all stored results (benchmarks/render.py).
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import results as stored  # noqa: E402
from benchmarks.compile_scale import compile_scale  # noqa: E402
from benchmarks.measure import measure  # noqa: E402
from benchmarks.server import start_server, warm_up  # noqa: E402
from benchmarks.workloads import ALT, FOREACH_FAMILIES, LOCAL, OURS, OURS_SUB, SYSTEMS, WORKLOADS  # noqa: E402

YAML_BEFORE = "6277154"  # the last commit before the flow-level pluginDefaults (issue 13)


def systems(no_alternative=False, only=None):
    """[(name, make(workspace, client), families it runs on or None)], LOCAL first: the round
    robin's first repeat then has the local run, the reference for correctness, before the others."""
    from benchmarks.systems import Alternative, LocalRun, Ours

    chosen = [(LOCAL, lambda ws, c: LocalRun(ws), None), (OURS, lambda ws, c: Ours(ws, c, foreach=None), None),
              (OURS_SUB, lambda ws, c: Ours(ws, c, foreach="subflows"), FOREACH_FAMILIES)]
    if not no_alternative:
        chosen.append((ALT, Alternative, None))
    return [system for system in chosen if not only or system[0] in only]


def server_record(state, reused):
    return {"kestra_version": state.kestra_version, "line": stored.line(state.kestra_version), "url": state.url,
            "reused": reused, "workloads": []}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each small workload (min/median/max)")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs of each large workload")
    parser.add_argument("--only", nargs="*", default=None, help="workloads whose name contains one of these")
    parser.add_argument("--no-alternative", action="store_true", help="skip the alternative package")
    parser.add_argument("--systems", nargs="*", default=None, choices=SYSTEMS,
                        help="run only these systems (default: all)")
    parser.add_argument("--yaml-before", default=YAML_BEFORE, help="commit to compare YAML sizes with")
    parser.add_argument("--kestra-version", default=None,
                        help="Kestra version of the local server (default: the pinned 1.3 release)")
    parser.add_argument("--results", default=str(stored.RESULTS), help="where to store the result")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"), help="the page to render")
    args = parser.parse_args()

    from benchmarks.render import ratios_table, render, results_table
    from benchmarks.yaml_sizes import compare

    result = stored.new_result("systems", "benchmarks/run.py", sys.argv[1:])
    server, state, client, reused = start_server(args.kestra_version)
    try:
        result["servers"].append(server_record(state, reused))
        warm_up(client)
        result["compile_at_scale"] = compile_scale()
        result["yaml_sizes"] = compare(args.yaml_before)
        path = stored.write(result, args.results)
        chosen = systems(args.no_alternative, args.systems)
        wrong_before = {}
        for workload in (w for w in WORKLOADS if not args.only or any(part in w.name for part in args.only)):
            repeat = max(args.repeat_large if workload.large else args.repeat, workload.min_repeat)
            result["servers"][0]["workloads"].append(measure(workload, chosen, repeat, client, state.pid,
                                                             wrong_before))
            stored.write(result, args.results)
            print(results_table([result]), file=sys.stderr, flush=True)
        result["finished"] = stored.utc_now()
        stored.write(result, args.results)
    finally:
        if not reused:
            server.stop()
    print("\n\n".join([results_table([result]), ratios_table([result])]))
    print("stored %s; wrote %s" % (path, render(args.results, args.output)))


if __name__ == "__main__":
    main()
