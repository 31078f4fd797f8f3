"""Run one workload with every system, interleaved, and record every figure as plain data.

A workload's record: {name, family, tasks, repeat, order: [[system, ...] per repeat],
systems: {system: {not_run, runs}}}, each run {repeat, wall, execution_seconds, compile,
yaml_bytes, gaps, peak_rss_mb, run_id, error, reference, compared_with, correct, why_not}.
`correct` is true when the run's artifacts equal the local run's, false when they do not (or the
run failed), null when there was no local run to compare with; `why_not` says why in one line.
"""

import sys
import tempfile
import threading

from benchmarks import flows
from benchmarks.alternative import step_tasks
from benchmarks.correctness import difference, run_artifacts
from benchmarks.engine_figures import execution_seconds, task_gaps
from benchmarks.schedule import round_robin
from benchmarks.server import workspace
from benchmarks.workloads import LOCAL


class PeakRss:
    """Samples a process's resident memory while a block runs; `.peak` in MiB."""

    def __init__(self, pid):
        self.pid, self.peak, self._stop = pid, 0.0, threading.Event()

    def _rss(self):
        try:
            with open("/proc/%d/status" % self.pid) as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) / 1024.0
        except OSError:
            return 0.0
        return 0.0

    def _sample(self):
        while not self._stop.wait(0.2):
            self.peak = max(self.peak, self._rss())

    def __enter__(self):
        self.peak = self._rss()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _seconds(value):
    return round(value, 4) if value is not None else None


def measure(workload, systems, repeat, client, pid, wrong_before):
    """The record of `workload`: each of `systems` ([(name, make(workspace, client), families or
    None)]) run `repeat` times, in the order `round_robin` gives.

    `wrong_before`: {(system, family): why}, what went wrong on a smaller workload of a family; a
    system wrong here is added to it, and not run again here nor on the family's larger workloads.
    """
    record = {"name": workload.name, "family": workload.family, "tasks": workload.tasks, "repeat": repeat,
              "order": [], "systems": {}}
    makers = {}
    for label, make, families in systems:
        if families and workload.family not in families:
            continue
        why = workload.skip.get(label) or wrong_before.get((label, workload.family))
        record["systems"][label] = {"not_run": "not run: %s" % why if why else None, "runs": []}
        if not why:
            makers[label] = make
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        bench = workspace(tmp, client)
        flow_name, path = flows.write(tmp, workload.flow)
        made = {label: make(bench, client) for label, make in makers.items()}
        reference = None  # (run id, artifacts) of this workload's first successful local run
        for number, order in enumerate(round_robin(list(made), repeat), 1):
            ran = [label for label in order if (label, workload.family) not in wrong_before]
            record["order"].append(ran)
            for label in ran:
                print("  %s: %s (repeat %d) ..." % (workload.name, label, number), file=sys.stderr, flush=True)
                run, artifacts = _run_once(made[label], label, flow_name, path, bench, pid)
                run["repeat"] = number
                if label == LOCAL and reference is None and artifacts is not None:
                    reference = (run["run_id"], artifacts)
                _judge(run, artifacts, reference)
                record["systems"][label]["runs"].append(run)
                if run["correct"] is False:
                    wrong_before[(label, workload.family)] = "wrong on the %s already (%s)" % (
                        workload.name, run["why_not"])
    return record


def _run_once(system, label, flow_name, path, bench, pid):
    """(the run's figures, its artifacts or None when it failed) for one run of `system`."""
    from benchmarks.systems import Result

    with PeakRss(pid) as rss:
        try:
            result = system.run(flow_name, path)
        except Exception as err:  # the server failed under it: a result, not a crash
            result = Result(wall=0.0, error="%s: %s" % (type(err).__name__, str(err)[:300]))
    run = {"repeat": None, "wall": _seconds(result.wall) or None, "execution_seconds": None,
           "compile": _seconds(result.compile), "yaml_bytes": result.yaml_bytes, "gaps": [],
           "peak_rss_mb": round(rss.peak, 1), "run_id": result.run_id, "error": result.error}
    if result.execution:
        run["execution_seconds"] = _seconds(execution_seconds(result.execution))
        run["gaps"] = [_seconds(gap) for gap in task_gaps(result.execution, script_task_ids(bench, path, system))]
    artifacts = None
    if not result.error and result.run_id:
        try:
            artifacts = run_artifacts(bench, flow_name, result.run_id, path)
        except RuntimeError as err:
            run["error"] = str(err)
    elif not result.error:
        run["error"] = "no Metaflow run id"
    return run, artifacts


def _judge(run, artifacts, reference):
    """Fill in whether `run` is correct: its artifacts equal the reference local run's."""
    run["reference"] = reference is not None and reference[0] == run["run_id"]
    run["compared_with"] = reference[0] if reference and not run["reference"] else None
    if run["error"]:
        run["correct"], run["why_not"] = False, run["error"]
    elif reference is None:
        run["correct"], run["why_not"] = None, "no successful local run of this workload to compare with"
    else:
        why = None if run["reference"] else difference(reference[1], artifacts)
        run["correct"], run["why_not"] = why is None, why


def script_task_ids(bench, path, system):
    """Ids of the tasks that run a step in the YAML `system` compiled for `path`."""
    import yaml

    documents = yaml.safe_load_all((bench.root / (path.stem + system.yaml_suffix)).read_text())
    return {task for document in documents if document for task in step_tasks(document)}
