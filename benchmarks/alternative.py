"""Compile every sample shape with this project and with the alternative package (PyPI
metaflow-kestra==0.3.4, in its own virtualenv), and compare what the generated flows contain.

    python benchmarks/alternative.py [--output docs/alternative.md]

No Kestra server is needed: this checks the compilers. For each shape it reports
whether every Metaflow step is a task of the generated flow, whether the YAML
parses, compile wall time and YAML size. (Run time on a server is in run.py.)
"""

import argparse
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ALTERNATIVE = "metaflow-kestra==0.3.4"
ALT_VENV = ROOT / ".bench" / "alternative-venv"
SHAPES = ["linear_flow", "split_flow", "foreach_flow", "nested_foreach_flow", "split_in_foreach_flow",
          "foreach_in_split_flow", "switch_flow", "switch_skip_flow", "switch_in_foreach_flow",
          "recursive_flow", "params_flow", "quickstart_flow"]


def alternative_python():
    python = ALT_VENV / "bin" / "python"
    if not python.exists():
        venv.create(ALT_VENV, with_pip=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", ALTERNATIVE], check=True)
    return str(python)


def step_tasks(flow_yaml):
    """Ids of the tasks that run a step (script tasks), anywhere in the flow."""
    found = []

    def walk(tasks):
        for task in tasks or []:
            if task.get("type", "").startswith("io.kestra.plugin.scripts."):
                found.append(task["id"])
            for key in ("tasks", "then", "else", "defaults"):
                walk(task.get(key))
            for case in (task.get("cases") or {}).values():
                walk(case)

    walk(flow_yaml.get("tasks"))
    return found


def compile_with(python, flow_file, output, workdir, env):
    started = time.perf_counter()
    done = subprocess.run([python, str(flow_file), "kestra", "compile", str(output)], cwd=workdir, env=env,
                          capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode:
        return {"error": (done.stderr.strip().splitlines() or ["exit %d" % done.returncode])[-1], "time": elapsed}
    text = output.read_text()
    try:
        parsed = yaml.safe_load(text)
    except yaml.YAMLError as err:
        return {"error": "YAML does not parse: %s" % str(err).splitlines()[0], "time": elapsed, "size": len(text)}
    return {"tasks": step_tasks(parsed), "time": elapsed, "size": len(text)}


def main():
    from tests.flow_loading import flow_path, load_graph

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", default=str(ROOT / "docs" / "alternative.md"))
    args = parser.parse_args()
    alt = alternative_python()
    env = dict(os.environ, METAFLOW_USER=os.environ.get("METAFLOW_USER", "bench"))
    rows = []
    workdir = ROOT / ".bench" / "compile"
    workdir.mkdir(parents=True, exist_ok=True)
    for shape in SHAPES:
        steps = sorted(node.name for node in load_graph(shape))
        row = {"shape": shape, "steps": len(steps)}
        for label, python in (("ours", sys.executable), ("alt", alt)):
            result = compile_with(python, flow_path(shape), workdir / ("%s-%s.yaml" % (shape, label)), workdir, env)
            row[label] = result
            if "tasks" in result:
                result["missing"] = sorted(set(steps) - set(result["tasks"]))
        rows.append(row)
    text = render(rows)
    print(text)
    Path(args.output).write_text(
        "# This project vs metaflow-kestra 0.3.4: what the compilers produce\n\n"
        "Command: `python benchmarks/alternative.py` (%s; the alternative installed from PyPI into its own "
        "virtualenv). No Kestra server involved.\n\n%s\n" % (time.strftime("%Y-%m-%d"), text)
    )


def render(rows):
    lines = ["| shape | steps | ours: steps as tasks | alternative: steps as tasks | ours compile (s) | "
             "alt compile (s) | ours YAML (KiB) | alt YAML (KiB) |", "|---|---|---|---|---|---|---|---|"]
    for row in rows:
        lines.append("| %s | %d | %s | %s | %.2f | %.2f | %s | %s |" % (
            row["shape"], row["steps"], coverage(row["ours"], row["steps"]), coverage(row["alt"], row["steps"]),
            row["ours"]["time"], row["alt"]["time"], size(row["ours"]), size(row["alt"])))
    return "\n".join(lines)


def coverage(result, steps):
    if "error" in result:
        return "compile failed: %s" % result["error"].replace("|", "/")[:120]
    if result["missing"]:
        return "%d/%d, missing %s" % (steps - len(result["missing"]), steps, ", ".join(result["missing"]))
    return "%d/%d" % (steps, steps)


def size(result):
    return "%.1f" % (result["size"] / 1024.0) if "size" in result else "-"


if __name__ == "__main__":
    main()
