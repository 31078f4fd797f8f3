"""What the page says about stored measurements: the spread of a figure, whether a system's
runs were correct, and the figures derived from two systems, which only ever come from the
same stored result (a machine's speed varies from day to day, so figures of two runs do not
divide)."""

import statistics

from benchmarks.workloads import LOCAL


def spread(values, digits=2):
    """min / median / max, or "-"."""
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    form = "%%.%df" % digits
    return " / ".join(form % v for v in (min(values), statistics.median(values), max(values)))


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def runs(system):
    return (system or {}).get("runs") or []


def walls(system):
    return [run["wall"] for run in runs(system) if run.get("wall")]


def status(system):
    """("ok" | "wrong" | "unchecked" | "not run", why): a system's runs on one workload."""
    if system.get("not_run"):
        return "not run", system["not_run"]
    for run in runs(system):
        if run.get("correct") is False:
            return "wrong", run.get("why_not") or run.get("error") or "?"
    for run in runs(system):
        if run.get("correct") is None:
            return "unchecked", run.get("why_not") or "not compared with a local run"
    return ("ok", None) if runs(system) else ("not run", "not run")


def status_text(system):
    word, why = status(system)
    if word == "ok":
        return "ok"
    why = why.replace("|", "/")[:200]
    if word == "not run":
        return why if why.startswith("not run") else "not run: %s" % why
    return "**wrong**: %s" % why if word == "wrong" else "unchecked: %s" % why


def usable(system):
    """A system whose wall times may enter a ratio: it ran, and it was correct every time."""
    return system is not None and status(system)[0] == "ok" and bool(walls(system))


def overhead_per_task(system, floor, tasks):
    """(median wall - median local wall) / tasks: `system` and `floor` from the same workload record."""
    if not (usable(system) and usable(floor)) or not tasks:
        return None
    return (median(walls(system)) - median(walls(floor))) / tasks


def wall_ratio(workload, a, b):
    """median wall of system `a` / that of `b`, both of `workload` (one stored record); else why not."""
    systems = workload["systems"]
    if a not in systems or b not in systems:
        return "-"
    for name in (a, b):
        if not usable(systems[name]):
            word = status(systems[name])[0]
            return "-" if word == "ok" else "%s %s" % (name, word)
    return "%.2f" % (median(walls(systems[a])) / median(walls(systems[b])))


NON_POSITIVE = "\u00b9"  # the footnote mark of an overhead ratio left out


def overhead_ratio(workload, a, b):
    """Overhead per task of `a` / that of `b` (one stored record). Not printed when either
    overhead is at or below zero: below the local floor, a ratio of overheads means nothing."""
    systems = workload["systems"]
    floor = systems.get(LOCAL)
    over_a = overhead_per_task(systems.get(a), floor, workload["tasks"])
    over_b = overhead_per_task(systems.get(b), floor, workload["tasks"])
    if over_a is None or over_b is None:
        return "-"
    if over_a <= 0 or over_b <= 0:
        return "-" + NON_POSITIVE
    return "%.2f" % (over_a / over_b)


def source(result):
    """Which stored result a row comes from: its date (UTC) and commit."""
    return "%s, %s%s" % ((result.get("started") or "?")[:10], result.get("commit") or "?",
                         " (dirty)" if result.get("dirty") else "")
