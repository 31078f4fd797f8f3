"""What an environment step costs on Kestra: a uv project's flow against the same flow without it.

    python benchmarks/environments.py [--repeat 3] [--steps 5]

Starts this project's local Kestra on the benchmark port (as benchmarks/run.py), writes a uv
project (pyproject.toml + uv.lock pinning pyfiglet) with a linear flow of `--steps` steps, and
runs it on Kestra with `--environment=uv` and, as the baseline, the same flow with the default
environment (the import of pyfiglet left out). Prints the median wall time of each, the median
task duration Kestra recorded, the median uv bootstrap per task (from the task logs), and the
ratios. The answer it gives: whether a warm interpreter per environment would pay (the saving a
warm start brings is the import of Metaflow, `python benchmarks/import_time.py`, against what the
bootstrap costs per task).
"""

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from datetime import datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.server import start_server  # noqa: E402

BOOTSTRAP = re.compile(r"environment uv bootstrapped for step \S+ in ([0-9.]+) s")


def flow_source(steps, with_package):
    names = ["start"] + ["s%d" % i for i in range(1, steps - 1)] + ["end"]
    body = ["from metaflow import FlowSpec, step", "", "", "class EnvBenchFlow(FlowSpec):"]
    for index, name in enumerate(names):
        body += ["    @step", "    def %s(self):" % name]
        if with_package:
            body += ["        import pyfiglet", "        self.lines = len(pyfiglet.figlet_format('x').splitlines())"]
        else:
            body += ["        self.lines = 0"]
        if index + 1 < len(names):
            body += ["        self.next(self.%s)" % names[index + 1]]
        body += [""]
    body += ["", "if __name__ == '__main__':", "    EnvBenchFlow()", ""]
    return "\n".join(body)


def project(root, steps, with_package):
    root.mkdir(parents=True)
    (root / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "env-bench"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["metaflow==%s", "pyfiglet==1.0.4"]
    """ % version("metaflow")))
    (root / "flow.py").write_text(flow_source(steps, with_package))
    uv = shutil.which("uv") or str(Path(sys.executable).with_name("uv"))
    subprocess.run([uv, "lock", "--quiet"], cwd=root, check=True)
    return root / "flow.py"


def run_once(flow_file, env, top_level, client):
    id_file = flow_file.parent / "run-id"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, str(flow_file), *top_level, "kestra", "--kestra-namespace", "bench",
                           "run", "--wait", "--run-id-file", str(id_file)], cwd=flow_file.parent, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit("the run failed: %s" % (done.stderr.strip().splitlines() or ["?"])[-1])
    execution_id = id_file.read_text().strip()[len("kestra-"):]
    execution = client.execution(execution_id)
    durations = [_seconds(run["state"]) for run in execution["taskRunList"]]
    bootstraps = [float(m.group(1)) for entry in client.logs(execution_id)
                  for m in [BOOTSTRAP.search(entry.get("message") or "")] if m]
    return wall, durations, bootstraps


def _seconds(state):
    start, end = state["startDate"], state["endDate"]
    parse = lambda text: datetime.fromisoformat(text.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    server, state, client, _ = start_server()
    rows = {}
    try:
        with tempfile.TemporaryDirectory(prefix="bench-env-") as tmp:
            env = dict(os.environ, METAFLOW_KESTRA_HOST=state.url, METAFLOW_KESTRA_USER=state.username,
                       METAFLOW_KESTRA_PASSWORD=state.password, METAFLOW_DATASTORE_SYSROOT_LOCAL=tmp,
                       METAFLOW_USER=os.environ.get("METAFLOW_USER") or "bench")
            cases = [("default environment", project(Path(tmp) / "plain", args.steps, False), []),
                     ("--environment=uv", project(Path(tmp) / "uv", args.steps, True), ["--environment=uv"])]
            for label, flow_file, top_level in cases:
                runs = [run_once(flow_file, env, top_level, client) for _ in range(args.repeat)]
                rows[label] = (statistics.median(r[0] for r in runs),
                               statistics.median(d for r in runs for d in r[1]),
                               statistics.median([b for r in runs for b in r[2]] or [0.0]))
    finally:
        server.stop()
    print("| %d-step flow, %d runs each | run wall (median) | task duration (median) | bootstrap per task |"
          % (args.steps, args.repeat))
    print("|---|---|---|---|")
    for label, (wall, task, boot) in rows.items():
        print("| %s | %.1f s | %.2f s | %.2f s |" % (label, wall, task, boot))
    plain, uv = rows["default environment"], rows["--environment=uv"]
    print("\nuv / default: run %.2fx, task %.2fx; the bootstrap is %.0f%% of a uv task"
          % (uv[0] / plain[0], uv[1] / plain[1], 100 * uv[2] / uv[1] if uv[1] else 0))


if __name__ == "__main__":
    main()
