"""Stored benchmark results: one JSON file per run under benchmarks/results/, from which
benchmarks/render.py writes docs/benchmarks.md. A figure on the page is then always one that
a command measured, on a known commit and machine, never one copied by hand.

A result holds: `kind` ("systems": benchmarks/run.py; "lines": benchmarks/lines.py), `command`,
`argv`, `started` / `finished` (UTC; `finished` is null in a run cut short), `commit`, `dirty`,
`changed` (what `git status --porcelain` listed), `machine`, and `servers`: per Kestra server, its
`kestra_version`, `line` and `workloads`, each with its systems' runs (see benchmarks/measure.py).
A run.py result also has `compile_at_scale` and `yaml_sizes`.
"""

import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
# What a benchmark run writes itself: not a change to the code it measures.
OUTPUTS = ("benchmarks/results/", "docs/benchmarks.md", "docs/benchmarks.svg")


def _git(*args):
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout if done.returncode == 0 else None


def source():
    """The commit measured and whether the tree differed from it (the benchmark's own outputs aside)."""
    commit = (_git("rev-parse", "--short", "HEAD") or "unknown").strip()
    status = _git("status", "--porcelain") or ""
    changed = [line for line in status.splitlines() if line.strip() and not line[3:].startswith(OUTPUTS)]
    return {"commit": commit, "dirty": bool(changed), "changed": changed}


def machine():
    return {"platform": platform.platform(), "processor": platform.processor() or platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version()}


def utc_now():
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def new_result(kind, script, argv):
    """The frame of a result, filled in before anything is measured."""
    result = {"schema": 1, "kind": kind, "command": shlex.join(["python", script] + list(argv)),
              "argv": list(argv), "started": utc_now(), "finished": None}
    result.update(source())
    result["machine"] = machine()
    result["servers"] = []
    return result


def file_name(result):
    """<UTC start, compact>-<kind>.json: sorts by time."""
    return "%s-%s.json" % (result["started"].replace("-", "").replace(":", ""), result["kind"])


def write(result, directory=RESULTS):
    """Write (or rewrite: a run saves after every workload) `result`; return its path."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / file_name(result)
    path.write_text(json.dumps(result, indent=2) + "\n")
    return path


def load_all(directory=RESULTS):
    """Every stored result, oldest first, each with its file name under `file`."""
    loaded = []
    for path in sorted(Path(directory).glob("*.json")):
        try:
            result = json.loads(path.read_text())
        except ValueError as err:
            print("skipping %s: %s" % (path, err), file=sys.stderr)
            continue
        result["file"] = path.name
        loaded.append(result)
    return sorted(loaded, key=lambda r: (r.get("started") or "", r["file"]))


def line(kestra_version):
    """1.3.31 -> 1.3: runs on one line of Kestra are compared with each other, not across lines."""
    return ".".join(str(kestra_version).split(".")[:2])
