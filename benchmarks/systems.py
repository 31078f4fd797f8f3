"""The three ways the benchmark runs a flow: Metaflow locally (the floor), this project on
Kestra, and the alternative package (PyPI metaflow-kestra 0.3.4) on the same Kestra.

Each `run` returns a Result: wall time from compile to the end, the Metaflow run id (to
compare its artifacts with the local run's), and, on Kestra, the execution (for the
engine's own figures) or what went wrong.
"""

import hashlib
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Optional

import yaml

from benchmarks.alternative import alternative_python

NAMESPACE = "bench"
# The alternative deploys under flow ids ours uses: its own namespace, so that the systems can run
# interleaved (ours refuses to replace a flow it did not deploy).
ALT_NAMESPACE = "bench.alternative"


@dataclass
class Result:
    wall: float
    compile: Optional[float] = None
    yaml_bytes: Optional[int] = None
    execution: Optional[dict] = None
    error: Optional[str] = None  # the run did not do what a local run does: why
    run_id: Optional[str] = None  # the Metaflow run, when there is one


def _timed(command, env, cwd):
    started = time.perf_counter()
    done = subprocess.run([str(part) for part in command], env=env, cwd=cwd, capture_output=True, text=True)
    return time.perf_counter() - started, done


def _last_line(done):
    lines = [line for line in (done.stderr + done.stdout).splitlines() if line.strip()]
    return lines[-1].strip() if lines else "exit %d" % done.returncode


def _run_successful(workspace, flow_name, run_id):
    """Whether Metaflow's client sees `flow_name/run_id` as a successful run (what a user checks)."""
    check = ("import sys\nfrom metaflow import Run, namespace\nnamespace(None)\n"
             "print(Run(sys.argv[1]).successful)")
    done = subprocess.run([sys.executable, "-c", check, "%s/%s" % (flow_name, run_id)], env=workspace.env,
                          cwd=workspace.root, capture_output=True, text=True)
    return done.stdout.strip() == "True"


MAX_SPLITS = 100000


class LocalRun:
    """`python flow.py run`: what Metaflow itself costs, the floor."""

    label = "local `run`"

    def __init__(self, workspace):
        self.workspace = workspace

    def run(self, flow_name, path):
        # Metaflow's local runtime refuses a foreach of more than 100 items unless told otherwise;
        # Kestra runs (ours and Argo's alike) have no such cap.
        run_id_file = self.workspace.root / (path.stem + ".local-run-id")
        run_id_file.unlink(missing_ok=True)
        wall, done = _timed([sys.executable, path, "run", "--max-num-splits", MAX_SPLITS,
                             "--run-id-file", run_id_file], self.workspace.env, self.workspace.root)
        run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
        return Result(wall=wall, error=None if done.returncode == 0 else _last_line(done), run_id=run_id)


class Ours:
    """`python flow.py kestra run --wait` (compile, package, deploy, trigger, follow)."""

    label = "metaflow-kestra (this)"

    def __init__(self, workspace, client, foreach="inline"):
        """`foreach`: the --foreach mode to deploy with, or None for no option (the default)."""
        self.workspace, self.client, self.foreach = workspace, client, foreach
        self.yaml_suffix = ".ours.yaml" if foreach == "inline" else ".ours-%s.yaml" % (foreach or "default")
        self.foreach_option = ["--foreach", foreach] if foreach else []

    def compile(self, path):
        out = self.workspace.root / (path.stem + self.yaml_suffix)
        wall, done = _timed([sys.executable, path, "kestra", "compile", out, "--package-file",
                             out.with_suffix(".tgz")] + self.foreach_option,
                            self.workspace.env, self.workspace.root)
        if done.returncode:
            raise RuntimeError("compile of %s failed: %s" % (path.name, _last_line(done)))
        return wall, len(out.read_bytes())

    def run(self, flow_name, path, max_workers=16):
        compile_time, size = self.compile(path)
        run_id_file = self.workspace.root / (path.stem + ".run-id")
        run_id_file.unlink(missing_ok=True)  # a file left by another system's run is not this run's
        wall, done = _timed([sys.executable, path, "kestra", "--kestra-namespace", NAMESPACE, "run", "--wait",
                             "--max-workers", max_workers, "--run-id-file", run_id_file,
                             "--wait-timeout", 7200] + self.foreach_option,
                            self.workspace.env, self.workspace.root)
        run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
        execution = with_child_task_runs(self.client, self.client.execution(run_id[len("kestra-"):])) if run_id else None
        error = None
        if done.returncode:
            error = _last_line(done)
        elif not _run_successful(self.workspace, flow_name, run_id):
            error = "Kestra SUCCESS, but the Metaflow run is not successful"
        return Result(wall=wall, compile=compile_time, yaml_bytes=size, execution=execution, error=error,
                      run_id=run_id)


def with_child_task_runs(client, execution):
    """The execution with the task runs of the child executions it started (at every depth)
    added to its own, so engine figures cover a foreach run as child executions too."""
    runs = list(execution.get("taskRunList") or [])
    todo = [execution["id"]]
    while todo:
        for child in client.child_executions(todo.pop(), size=100000):
            runs.extend(child.get("taskRunList") or [])
            todo.append(child["id"])
    return dict(execution, taskRunList=runs)


class Alternative:
    """metaflow-kestra 0.3.4 from PyPI, in its own virtualenv, deployed to the same server.

    It needs, and gets: its flow file at the absolute path it compiled it from,
    and a `python` (and `pip`) with Metaflow, itself and the `kestra` package
    first on the tasks' PATH, and a user name, which the only change to its YAML
    provides (an `env` in its own pluginDefaults, as a worker set up for it would have).
    Its own `create` calls untenanted /api/v1/flows, which Kestra 1.x does not
    serve, so its YAML is deployed and started with our client, as by hand.
    """

    label = "metaflow-kestra 0.3.4 (alternative)"
    yaml_suffix = ".alt.yaml"

    def __init__(self, workspace, client):
        self.workspace, self.client = workspace, client
        self.python = alternative_python()

    def compile(self, path, max_workers):
        out = self.workspace.root / (path.stem + ".alt.yaml")
        wall, done = _timed([self.python, path, "--no-pylint", "kestra", "compile", out, "--max-workers",
                             max_workers], self.workspace.env, self.workspace.root)
        if done.returncode:
            return wall, None, _last_line(done)
        return wall, out.read_text(), None

    def run(self, flow_name, path, max_workers=16, timeout=3600):
        started = time.perf_counter()
        compile_time, text, error = self.compile(path, max_workers)
        if error:
            return Result(wall=time.perf_counter() - started, compile=compile_time, error="compile: " + error)
        flow = yaml.safe_load(text)
        flow["namespace"] = ALT_NAMESPACE
        for defaults in flow.get("pluginDefaults") or []:
            defaults["values"].setdefault("env", {}).update({
                "PATH": "%s:/usr/bin:/bin" % (self.python.rsplit("/", 1)[0]),
                "METAFLOW_DATASTORE_SYSROOT_LOCAL": str(self.workspace.root),
                # A worker's user name: Metaflow refuses to run without one, and the server may
                # have been started where USER is unset (CI, a service).
                "METAFLOW_USER": self.workspace.env.get("METAFLOW_USER") or "bench",
            })
        self.client.deploy_flow(yaml.safe_dump(flow, sort_keys=False), ALT_NAMESPACE, flow["id"])
        execution_id = self.client.trigger(ALT_NAMESPACE, flow["id"], inputs={"seed": "1"})["id"]
        execution = self.client.wait(execution_id, timeout=timeout)
        wall = time.perf_counter() - started
        run_id = "kestra-" + hashlib.md5(execution_id.encode()).hexdigest()[:16]  # its own derivation
        error = None
        if execution["state"]["current"] != "SUCCESS":
            error = "Kestra %s" % execution["state"]["current"]
        elif not _run_successful(self.workspace, flow_name, run_id):
            error = "Kestra SUCCESS, but the Metaflow run is not successful"
        return Result(wall=wall, compile=compile_time, yaml_bytes=len(text.encode()), execution=execution,
                      error=error, run_id=run_id)
