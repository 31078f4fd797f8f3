"""Compile time of a long chain: ours, the alternative's, and Metaflow's own `show` on the same
flow (what parsing the flow costs anyway), three times each."""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks import flows


def compile_scale(steps=900, times=3):
    """{steps, commands: [{label, times (s), error}]}; a command that fails is not run again."""
    from benchmarks.alternative import alternative_python

    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        _, path = flows.write(tmp, flows.linear_flow(steps))
        env = dict(os.environ, METAFLOW_USER=os.environ.get("METAFLOW_USER") or "bench")
        commands = [
            ("`python flow.py show`", [sys.executable, str(path), "show"]),
            ("ours: `kestra compile`", [sys.executable, str(path), "kestra", "compile", str(Path(tmp) / "o.yaml")]),
            ("alternative: `kestra compile`", [alternative_python(), str(path), "--no-pylint", "kestra", "compile",
                                               str(Path(tmp) / "a.yaml")]),
        ]
        figures = []
        for label, command in commands:
            entry = {"label": label, "times": [], "error": None}
            for _ in range(times):
                started = time.perf_counter()
                done = subprocess.run(command, env=env, cwd=tmp, capture_output=True, text=True)
                entry["times"].append(round(time.perf_counter() - started, 4))
                if done.returncode:
                    entry["error"] = "failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1][:120]
                    break
            figures.append(entry)
    return {"steps": steps, "commands": figures}
