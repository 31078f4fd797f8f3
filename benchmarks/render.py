"""Write docs/benchmarks.md and its plot from the results stored in benchmarks/results/.

    python benchmarks/render.py [--results benchmarks/results] [--output docs/benchmarks.md]

The page is never edited by hand: every figure on it comes from a stored result, named on
its row by date and commit. Where results overlap, the newest wins; a ratio or overhead is
computed within one result only.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import results as stored  # noqa: E402
from benchmarks.correctness import RUN_DEPENDENT  # noqa: E402
from benchmarks.figures import (  # noqa: E402
    NON_POSITIVE, median, overhead_per_task, overhead_ratio, runs, source, spread, status, status_text, usable,
    wall_ratio, walls,
)
from benchmarks.plot import bars_svg  # noqa: E402
from benchmarks.workloads import ALT, LOCAL, OURS, OURS_SUB, SYSTEMS, WORKLOADS  # noqa: E402

PLOT_LABELS = {LOCAL: "local `run` (floor)", OURS: "metaflow-kestra (this)",
               OURS_SUB: "metaflow-kestra, --foreach subflows", ALT: "metaflow-kestra 0.3.4"}
ORDER = {workload.name: index for index, workload in enumerate(WORKLOADS)}


def _workloads(results, kind):
    """(result, server, workload record) of every stored result of `kind`, oldest first."""
    for result in results:
        if result.get("kind") != kind:
            continue
        for server in result.get("servers") or []:
            for workload in server.get("workloads") or []:
                yield result, server, workload


def _workload_key(line, workload):
    return line, ORDER.get(workload["name"], len(ORDER)), workload["tasks"], workload["name"]


def newest_systems(results):
    """{(line, workload name, system): (result, server, workload)}: per Kestra line, workload and
    system, the newest result that ran it (or, when none ran it, the newest that says why not)."""
    chosen = {}
    for result, server, workload in _workloads(results, "systems"):
        for name, system in workload["systems"].items():
            key = (stored.line(server["kestra_version"]), workload["name"], name)
            if runs(system) or key not in chosen or not runs(chosen[key][2]["systems"][name]):
                chosen[key] = (result, server, workload)
    return chosen


def newest_comparisons(results):
    """{(line, workload name): (result, server, workload)}: of the results that ran the workload with
    the most systems, the newest: its ratios and plot bars. A later run of fewer systems (a
    before/after of our own) does not hide the comparison with the others."""
    chosen = {}
    for result, server, workload in _workloads(results, "systems"):
        key = (stored.line(server["kestra_version"]), workload["name"])
        ran = sum(1 for system in workload["systems"].values() if runs(system))
        if key not in chosen or ran >= chosen[key][3]:
            chosen[key] = (result, server, workload, ran)
    return {key: value[:3] for key, value in chosen.items()}


def _ordered(chosen):
    """`chosen` by (line, workload order), as [(line, result, server, workload)]."""
    return sorted(((key[0], *value) for key, value in chosen.items()),
                  key=lambda item: _workload_key(item[0], item[3]))


def _label(line, name, lines):
    return name if len(lines) < 2 else "%s (Kestra %s)" % (name, line)


def results_table(results):
    chosen = newest_systems(results)
    if not chosen:
        return "(no stored result yet: `python benchmarks/run.py`)"
    lines_seen = {key[0] for key in chosen}
    out = ["| workload | tasks | system | wall (s) | Kestra execution (s) | overhead / task (s) | "
           "engine gap between tasks (s) | compile (s) | YAML (KiB) | server peak RSS (MiB) | result | run |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    order = {name: index for index, name in enumerate(SYSTEMS)}
    keys = sorted(chosen, key=lambda k: (_workload_key(k[0], chosen[k][2]), order.get(k[2], len(order)), k[2]))
    for line, name, label in keys:
        result, server, workload = chosen[(line, name, label)]
        system = workload["systems"][label]
        over = None if label == LOCAL else overhead_per_task(system, workload["systems"].get(LOCAL),
                                                             workload["tasks"])
        sizes = [run["yaml_bytes"] for run in runs(system) if run.get("yaml_bytes")]
        rss = [run["peak_rss_mb"] for run in runs(system) if run.get("peak_rss_mb")]
        out.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            _label(line, name, lines_seen), workload["tasks"], label, spread(walls(system)),
            spread([run.get("execution_seconds") for run in runs(system)]),
            "%.3f" % over if over is not None else "-",
            spread([gap for run in runs(system) for gap in run.get("gaps") or []], 3),
            spread([run.get("compile") for run in runs(system)]),
            "%.1f" % (sizes[-1] / 1024.0) if sizes else "-",
            "%.0f" % max(rss) if rss and label != LOCAL else "-", status_text(system), source(result)))
    return "\n".join(out)


def ratios_table(results):
    chosen = _ordered(newest_comparisons(results))
    if not chosen:
        return "(no stored result yet)"
    lines_seen = {item[0] for item in chosen}
    out = ["| workload | ours / local (wall) | ours, --foreach subflows / local (wall) | ours / alternative (wall) "
           "| ours / alternative (overhead per task) | run |", "|---|---|---|---|---|---|"]
    for line, result, server, workload in chosen:
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            _label(line, workload["name"], lines_seen), wall_ratio(workload, OURS, LOCAL),
            wall_ratio(workload, OURS_SUB, LOCAL), wall_ratio(workload, OURS, ALT),
            overhead_ratio(workload, OURS, ALT), source(result)))
    if any(NON_POSITIVE in row for row in out[2:]):
        out += ["", "%s Not given: an overhead per task at or below zero (a run at or below the local floor); "
                "a ratio of two overheads means nothing then. The overheads are in the results above." % NON_POSITIVE]
    return "\n".join(out)


def plot(results):
    """The SVG: per workload, the median wall time of each system, all from one result."""
    chosen = _ordered(newest_comparisons(results))
    lines_seen = {item[0] for item in chosen}
    groups = [(_label(line, workload["name"], lines_seen),
               {PLOT_LABELS.get(name, name): median(walls(system)) if usable(system) else None
                for name, system in workload["systems"].items()})
              for line, result, server, workload in chosen]
    return bars_svg(groups, [PLOT_LABELS[name] for name in SYSTEMS],
                    "Median wall time (a workload's bars: one run, scaled to the longest)")


def _newest_with(results, key):
    found = [result for result in results if result.get(key)]
    return found[-1] if found else None


def compile_table(results):
    result = _newest_with(results, "compile_at_scale")
    if result is None:
        return "(no stored result yet)"
    figures = result["compile_at_scale"]
    show = next((entry for entry in figures["commands"] if "show" in entry["label"]), None)
    out = ["| %d-step chain | wall (s), min / median / max | / `show` | run |" % figures["steps"], "|---|---|---|---|"]
    for entry in figures["commands"]:
        if entry.get("error"):
            out.append("| %s | %s | - | %s |" % (entry["label"], entry["error"].replace("|", "/"), source(result)))
            continue
        divide = show is not None and not show.get("error") and median(show["times"])
        out.append("| %s | %s | %s | %s |" % (entry["label"], spread(entry["times"]),
                                               "%.2f" % (median(entry["times"]) / median(show["times"]))
                                               if divide else "-", source(result)))
    return "\n".join(out)


def yaml_table(results):
    result = _newest_with(results, "yaml_sizes")
    if result is None:
        return "(no stored result yet)"
    sizes = result["yaml_sizes"]
    out = ["Bytes of YAML compiled by `compile_flow` for each sample shape (no code package), at commit "
           "`%s` (before) and in the tree measured (now), by `benchmarks/yaml_sizes.py`:" % sizes["before_commit"], "",
           "| shape | steps | before (bytes) | before / step | now (bytes) | now / step | run |",
           "|---|---|---|---|---|---|---|"]
    for shape in sizes["shapes"]:
        steps = shape["steps"]
        out.append("| %s | %d | %d | %d | %d | %d | %s |" % (
            shape["shape"], steps, shape["before_bytes"], shape["before_bytes"] // steps, shape["now_bytes"],
            shape["now_bytes"] // steps, source(result)))
    return "\n".join(out)


def lines_section(results):
    """Kestra 1.3 and 2.0 side by side (benchmarks/lines.py): per workload and version the
    newest result; the comparison between versions from the newest result that ran both."""
    rows, pairs = {}, {}
    for result, server, workload in _workloads(results, "lines"):
        rows[(workload["name"], server["kestra_version"])] = (result, server, workload)
    for result in (r for r in results if r.get("kind") == "lines"):
        names = {w["name"] for s in result.get("servers") or [] for w in s.get("workloads") or []}
        for name in names:
            versions = [(server["kestra_version"], workload) for server in result["servers"]
                        for workload in server["workloads"] if workload["name"] == name]
            if len(versions) >= 2:
                pairs[name] = (result, versions)
    if not rows:
        return "(not measured yet: `python benchmarks/lines.py`)"
    out = ["| workload | Kestra | local wall (s) | ours wall (s) | Kestra execution (s) | overhead / task (s) | "
           "engine gap between tasks (s) | server peak RSS (MiB) | result | run |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for (name, version), (result, server, workload) in sorted(
            rows.items(), key=lambda item: (ORDER.get(item[0][0], len(ORDER)), item[0][0], item[0][1])):
        local, ours = workload["systems"].get(LOCAL, {}), workload["systems"].get(OURS, {})
        over = overhead_per_task(ours, local, workload["tasks"])
        rss = [run["peak_rss_mb"] for run in runs(ours) if run.get("peak_rss_mb")]
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, version, spread(walls(local)), spread(walls(ours)),
            spread([run.get("execution_seconds") for run in runs(ours)]), "%.3f" % over if over is not None else "-",
            spread([gap for run in runs(ours) for gap in run.get("gaps") or []], 3),
            "%.0f" % max(rss) if rss else "-", status_text(ours), source(result)))
    if pairs:
        out += ["", "| workload | versions | ours wall ratio | ours wall difference per task (s) | "
                    "ours / local (wall), each version | run |", "|---|---|---|---|---|---|"]
        for name in sorted(pairs, key=lambda n: (ORDER.get(n, len(ORDER)), n)):
            result, versions = pairs[name]
            (base_version, base), others = versions[0], versions[1:]
            for version, workload in others:
                out.append("| %s | %s / %s | %s | %s | %s | %s |" % (
                    name, version, base_version, *_version_figures(base, workload), source(result)))
    return "\n".join(out)


def containers_section(results):
    """Steps in containers (benchmarks/containers.py): the newest result's table, per Kestra line."""
    from benchmarks.containers import table

    newest = {}
    for result in (r for r in results if r.get("kind") == "containers"):
        for server in result.get("servers") or []:
            if server.get("workloads"):
                newest[server["kestra_version"]] = (result, server)
    if not newest:
        return "(not measured yet: `python benchmarks/containers.py`)"
    out = []
    for version, (result, server) in sorted(newest.items()):
        out += ["Kestra %s, image `%s`; %s (`%s`):" % (version, server.get("image", "?"), source(result),
                                                      result.get("command", "?")), "", table(server["workloads"]), ""]
    return "\n".join(out).rstrip()


def modes_section(results):
    """The foreach width sweep (benchmarks/foreach_modes.py): per Kestra version and width, from
    the newest result that ran it, each mode and the default, and the default against the fastest
    mode of that result."""
    from benchmarks.workloads import DEFAULT_MODE, MODES

    newest = {}
    for result, server, workload in _workloads(results, "modes"):
        newest[(server["kestra_version"], workload["tasks"])] = (result, workload)
    if not newest:
        return "(not measured yet: `python benchmarks/foreach_modes.py`)"
    out = ["| Kestra | workload | local `run` wall (s) | %s | default / fastest mode | run |"
           % " | ".join("%s wall (s)" % mode for mode in MODES), "|---|---|---|%s---|---|" % ("---|" * len(MODES))]
    for (version, _), (result, workload) in sorted(newest.items(), key=lambda item: (
            [int(part) for part in item[0][0].split(".")], item[0][1])):
        systems = workload["systems"]
        cells = []
        for mode in [LOCAL] + list(MODES):
            system = systems.get(mode) or {}
            ok = status(system)[0] in ("ok", "unchecked")
            cells.append(spread(walls(system)) if ok and walls(system) else status_text(system) if system else "-")
        medians = {mode: median(walls(systems[mode])) for mode in MODES
                   if mode in systems and status(systems[mode])[0] in ("ok", "unchecked") and walls(systems[mode])}
        forced = [value for mode, value in medians.items() if mode != DEFAULT_MODE]
        fastest = min(forced) if forced else medians.get(DEFAULT_MODE)  # on 2.x the default is the only mode
        ratio = "%.2f" % (medians[DEFAULT_MODE] / fastest) if DEFAULT_MODE in medians and fastest else "-"
        out.append("| %s | %s | %s | %s | %s |" % (version, workload["name"], " | ".join(cells), ratio, source(result)))
    return "\n".join(out)


def _version_figures(base, other):
    """(wall ratio, difference per task, ours / local of each) of one workload on two versions."""
    a, b = other["systems"].get(OURS), base["systems"].get(OURS)
    floors = " / ".join(wall_ratio(w, OURS, LOCAL) for w in (base, other))
    if not (usable(a) and usable(b)):
        return "-", "-", floors
    per_task = (median(walls(a)) - median(walls(b))) / other["tasks"]
    return "%.2f" % (median(walls(a)) / median(walls(b))), "%+.3f" % per_task, floors


def files_table(results):
    if not results:
        return "(none yet)"
    out = ["| file | started (UTC) | commit | machine | Kestra | command |", "|---|---|---|---|---|---|"]
    for result in results:
        machine = result.get("machine") or {}
        versions = ", ".join("%s%s" % (s["kestra_version"], " (reused)" if s.get("reused") else "")
                             for s in result.get("servers") or []) or "-"
        out.append("| `%s` | %s%s | %s%s | %s, %s CPUs, Python %s | %s | `%s` |" % (
            result["file"], result.get("started"), "" if result.get("finished") else " (cut short)",
            result.get("commit"), " (dirty)" if result.get("dirty") else "", machine.get("platform"),
            machine.get("cpus"), machine.get("python"), versions, result.get("command", "").replace("|", "/")))
    return "\n".join(out)


def excluded_artifacts():
    if not RUN_DEPENDENT:
        return ("No artifact is left out: the benchmark flows (benchmarks/flows.py) store none that "
                "differs between runs (no run id, time or random value).")
    return "Left out, as they differ between runs: %s." % ", ".join("`%s`" % name for name in sorted(RUN_DEPENDENT))


def page(results, notes, plot_name="benchmarks.svg"):
    """The whole of docs/benchmarks.md for `results` (oldest first, as `results.load_all` gives them)."""
    return TEMPLATE.format(results=results_table(results), ratios=ratios_table(results), plot=plot_name,
                           compile=compile_table(results), sizes=yaml_table(results),
                           lines=lines_section(results), excluded=excluded_artifacts(), notes=notes.strip(),
                           containers=containers_section(results), modes=modes_section(results),
                           files=files_table(results)).rstrip() + "\n"


def render(directory=stored.RESULTS, output=ROOT / "docs" / "benchmarks.md"):
    """Read every stored result and write the page and its plot beside it; return the page's path."""
    results = stored.load_all(directory)
    output = Path(output)
    svg = output.with_name(output.stem + ".svg")
    svg.write_text(plot(results))
    output.write_text(page(results, (ROOT / "benchmarks" / "notes.md").read_text(), svg.name))
    return output


TEMPLATE = """# Benchmarks

<!-- Written by `python benchmarks/render.py` from benchmarks/results/: do not edit by hand. -->

Every figure here comes from a result stored in `benchmarks/results/` (one JSON file per run
of `python benchmarks/run.py` or `python benchmarks/lines.py`; all listed at the bottom with
their commands and machines); `python benchmarks/render.py` writes this page from them. Where
several results measured the same workload and system, the tables show the newest (a "not
run" only where no result ran it); the last column of each row names the result it comes from
by its date (UTC) and commit. Overheads and ratios are computed within one result only, never
between two: this machine's speed varies from day to day.

Server: this project's local server (Kestra's own engine), started by each run on port 18480 and
warmed up by one untimed run. Within a run every system runs each repeat once, interleaved, and
the order rotates from repeat to repeat (local, ours, subflows, alternative; then ours,
subflows, alternative, local; ...), so no system always runs last.

## Results

{results}

Columns: each timed figure is min / median / max over the repeated runs.
- *wall*: local: `python flow.py run`; ours: `python flow.py kestra run --wait` (compile, code
  package, deploy, trigger, follow); alternative: its `kestra compile`, then its YAML deployed,
  started and followed through the API (its own `create` calls an untenanted API path).
- *Kestra execution*: the execution's first to last state change.
- *overhead / task*: (median wall - median local wall of the same run) / Metaflow tasks.
- *engine gap between tasks*: per task run, its start minus the latest end of another step task
  before it (Kestra's state histories): the hand-over in a chain; in a foreach, the wait for a slot.
- *server peak RSS*: the Kestra JVM's resident memory, sampled every 0.2 s during the runs.
- *result*: ok when every run's artifacts equal those of the local run of the same workload in
  the same run (every step's tasks' artifacts without a leading underscore, compared by repr, as
  the e2e tests compare); **wrong** when a run failed or its artifacts differ (the first reason
  given), and then it is not run again, nor on the larger workloads of its family; *unchecked*
  when there was no local run to compare with. {excluded}

## Ratios

Each row from the result that ran the workload with the most systems (the newest of those);
every figure of a row from that one result.

{ratios}

![median wall time per workload]({plot})

## Compile time at scale

{compile}

## Generated YAML per step (issue 13)

{sizes}

## Kestra 1.3 and 2.0 side by side (issue 15)

`python benchmarks/lines.py`: each version on a fresh start of this project's local server,
warmed up by one untimed run; the three-step flow (issue 30: what a user feels on each iteration,
`kestra run --wait` from the command to the exit against `python flow.py run`), the 10-step linear
flow and the 100-way foreach, locally and with `kestra run --wait`. On 2.0 a foreach is a `Loop`, each item its own execution; on 1.3 a
`ForEach` in the run's execution. Versions are compared within one result only.

{lines}

## Foreach width sweep: each mode and the default (issue 30)

`python benchmarks/foreach_modes.py`: the benchmark's foreach (start, WIDTH items, a join with
WIDTH parents, end) deployed with no `--foreach` option (the default), with `--foreach inline` (a
`ForEach` in the run's execution) and with `--foreach subflows` (child executions of batches of
items), interleaved, on each Kestra line; on 2.x every foreach is a `Loop` whatever the option,
so only the default runs there. A local run up to 100 items is the floor and the reference the
artifacts are checked against (wider ones are *unchecked*). Walls are min / median / max; the
last ratio is the default's median over the fastest forced mode's (the target: at most 1.2).

{modes}

## Steps in containers (issue 29)

`python benchmarks/containers.py`: the 10-step chain and the 100-way foreach with the S3 datastore
(an S3 server on loopback), run three ways in one run, interleaved: a local `run`, `kestra run
--wait` on the Process runner (warm task starts), and with `--task-runner docker` (each task a
fresh container of the image `metaflow-kestra image build` makes, on the host's network). Each
container imports Metaflow cold and unpacks the code package; Kestra's own part (create the
container and its volume, copy the task's files in, remove both) was about 0.4 s of a task in
its TRACE log. Kestra runs checked against the local run's artifacts. Walls are min / median
/ max; ratios and the per-task difference are of medians.

{containers}

{notes}

## Stored results

{files}
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=str(stored.RESULTS), help="the directory of stored results")
    parser.add_argument("--output", default=str(ROOT / "docs" / "benchmarks.md"))
    args = parser.parse_args()
    print("wrote %s" % render(args.results, args.output))


if __name__ == "__main__":
    main()
