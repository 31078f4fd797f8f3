"""What a Kestra task runs: one Metaflow step (and `init` before `start`).

Kestra gives the task a few facts through its environment: the deployment
(static JSON), the step's `TaskSpec`, the execution id, the values of its
enclosing ForEach iterations and, for `start`, the flow's inputs. From those
this module derives the run id, task id, input paths and split index, runs
`python flow.py step ...` and reports outputs with Kestra's stdout protocol
(`::{"outputs": ...}::`), so the worker needs no Kestra package.
"""

import json
import os
import runpy
import subprocess
import sys
import tempfile

from . import code_package, ids
from .errors import KestraError
from .deployment import Deployment
from .parameters import init_environment
from .task_spec import MissingInput, RunState, TaskSpec, input_paths, iteration_input_paths

ENV_DEPLOYMENT = "METAFLOW_KESTRA_DEPLOYMENT"
ENV_STEP = "METAFLOW_KESTRA_STEP"
ENV_EXECUTION_ID = "METAFLOW_KESTRA_EXECUTION_ID"
ENV_PARENTS = "METAFLOW_KESTRA_PARENTS"
ENV_VALUE = "METAFLOW_KESTRA_VALUE"
ENV_INPUTS = "METAFLOW_KESTRA_INPUTS"
ENV_LABELS = "METAFLOW_KESTRA_LABELS"
ENV_TRIGGER = "METAFLOW_KESTRA_TRIGGER"
ENV_EXECUTION_START = "METAFLOW_KESTRA_EXECUTION_START"
ORIGIN_LABEL = "metaflow-origin-run-id"
RERUN_LABEL = "metaflow-rerun-steps"


class TaskRefused(Exception):
    """The task cannot run as asked; the message says why and what to do."""


class TaskFailed(Exception):
    """The step (or init) exited non-zero; its own output already says why."""

    def __init__(self, returncode):
        super().__init__("exit status %d" % returncode)
        self.returncode = returncode


def index_path_from(parents_json, own_value):
    """The foreach index path (outermost first) from Kestra's `parents` and `taskrun.value`.

    Kestra lists the enclosing task runs closest first; those that are items of
    a ForEach carry its value. Our ForEach items are decimal indices; the
    single-item ForEach that wraps a branch uses a non-numeric value and is skipped.
    """
    values = []
    for parent in reversed(json.loads(parents_json) if parents_json else []):
        value = (parent.get("taskrun") or {}).get("value")
        if value is not None:
            values.append(str(value))
    if own_value:
        values.append(own_value)
    return tuple(int(value) for value in values if value.isdigit())


class Resume:
    """A resumed run (Metaflow's clone semantics): which origin, and which steps must run again.

    Read from the execution's labels, which `kestra resume` sets. A task clones
    its origin twin (same task id: ids are derived) when the twin finished and
    its step is not to be rerun; everything else runs.
    """

    def __init__(self, origin_run_id=None, rerun_steps=()):
        self.origin_run_id = origin_run_id
        self.rerun_steps = frozenset(rerun_steps)

    @classmethod
    def from_labels(cls, labels_json):
        labels = json.loads(labels_json) if labels_json else {}
        if isinstance(labels, list):  # [{key, value}] form
            labels = {label["key"]: label["value"] for label in labels}
        origin = labels.get(ORIGIN_LABEL) or None
        rerun = [step for step in (labels.get(RERUN_LABEL) or "").split(",") if step]
        return cls(origin, rerun)

    def origin_twin(self, step, task_id, state):
        """The origin task to clone for `step`/`task_id`, or None to run it."""
        if not self.origin_run_id or step in self.rerun_steps:
            return None
        twin = ids.pathspec(self.origin_run_id, step, task_id)
        return twin if state.finished([twin]) else None


def outputs_line(outputs):
    return "::%s::" % json.dumps({"outputs": outputs}, separators=(",", ":"))


class DatastoreRunState(RunState):
    """Run facts read from the Metaflow datastore the deployment writes to."""

    def __init__(self, deployment):
        from metaflow.datastore import FlowDataStore
        from metaflow.plugins import DATASTORES

        impl = next(d for d in DATASTORES if d.TYPE == deployment.datastore)
        root = deployment.datastore_root or impl.get_datastore_root_from_config(print)
        self.store = FlowDataStore(deployment.flow_name, storage_impl=impl, ds_root=root)

    def finished(self, pathspecs):
        if not pathspecs:
            return set()
        done = self.store.get_task_datastores(pathspecs=list(pathspecs))
        return {ds.pathspec for ds in done}

    def num_splits(self, pathspec):
        return self.task(pathspec)["_foreach_num_splits"]

    def last_iteration(self, run_id, step, index_path):
        prefix = ids.task_id_for(step, index_path) + "-r"
        done = self.store.get_task_datastores(run_id=run_id, steps=[step])
        iterations = [
            ids.parse_task_id(ds.task_id)[2] for ds in done if ds.task_id.startswith(prefix)
        ]
        return max(iterations) if iterations else None

    def next_attempt(self, pathspec):
        """0 for a task never started, else one more than its latest attempt.

        A Kestra Restart (or retry) of a task therefore runs a new attempt of the
        same Metaflow task, and the client shows every attempt.
        """
        started = self.store.get_task_datastores(pathspecs=[pathspec], allow_not_done=True)
        return max((ds.attempt + 1 for ds in started), default=0)

    def task(self, pathspec):
        run_id, step, task_id = pathspec.split("/")
        return self.store.get_task_datastore(run_id, step, task_id)


class StepRunner:
    """Runs Metaflow commands for one deployment, with the interpreter running us."""

    def __init__(self, deployment, environ, execution_id=None, trigger_options=(), flow_file=None):
        self.deployment = deployment
        self.flow_file = flow_file or deployment.flow_file
        self.execution_id = execution_id
        self.trigger_options = list(trigger_options)
        self.config_file = None
        self.environ = dict(environ)
        self.environ.update(deployment.environment_variables)

    def init(self, run_id, input_values):
        env = dict(self.environ)
        env.update(init_environment(self.deployment.parameters, input_values))
        self._call(
            ["init", "--run-id", run_id, "--task-id", ids.PARAMETERS_TASK_ID] + self._tags(), env
        )

    def step(self, step, run_id, task_id, paths, split_index=None, in_process=False, attempt=0,
             user_retries=0):
        """Run one Metaflow task; `in_process` saves an interpreter start (once per process)."""
        with tempfile.NamedTemporaryFile("w", suffix=".inputs", delete=False) as handle:
            handle.write(",".join(paths))
        try:
            args = [
                "step", step, "--run-id", run_id, "--task-id", task_id,
                "--retry-count", str(attempt), "--max-user-code-retries", str(user_retries),
                "--input-paths-filename", handle.name,
            ]
            if split_index is not None:
                args += ["--split-index", str(split_index)]
            if in_process:
                self._run_here(args + self._tags())
            else:
                self._call(args + self._tags(), self.environ)
        finally:
            os.unlink(handle.name)

    def clone(self, step, run_id, task_id, paths, origin, attempt=0):
        """Copy the finished origin task into this run (Metaflow's `step --clone-only`)."""
        with tempfile.NamedTemporaryFile("w", suffix=".inputs", delete=False) as handle:
            handle.write(",".join(paths))
        try:
            self._call([
                "step", step, "--run-id", run_id, "--task-id", task_id, "--retry-count", str(attempt),
                "--input-paths-filename", handle.name,
                "--clone-only", origin, "--clone-run-id", origin.split("/")[0],
            ] + self._tags(), self.environ)
        finally:
            os.unlink(handle.name)
        print("metaflow-kestra: cloned %s/%s from %s (resume)." % (run_id, task_id, origin), flush=True)

    def _top_level(self):
        options = self.deployment.top_level_options() + self.trigger_options
        if self.deployment.configs:
            if self.config_file is None:
                handle, self.config_file = tempfile.mkstemp(suffix=".configs.json")
                os.close(handle)
                self.deployment.write_configs(self.config_file)
            options += self.deployment.config_options(self.config_file)
        return options

    def _tags(self):
        return [arg for tag in self.tags() for arg in ("--tag", tag)]

    def tags(self):
        """The deployment's tags, and tags naming the Kestra flow and execution (findable both ways)."""
        tags = list(self.deployment.tags)
        if self.deployment.kestra_flow_id:
            tags.append("kestra-flow:%s.%s" % (self.deployment.kestra_namespace, self.deployment.kestra_flow_id))
        if self.execution_id:
            tags.append("kestra-execution:%s" % self.execution_id)
        return tags

    def _run_here(self, args):
        """`python flow.py <args>` in this interpreter: the flow file runs as __main__."""
        flow_file = self.flow_file
        saved_argv, saved_path = sys.argv, list(sys.path)
        sys.argv = [flow_file] + self._top_level() + args
        sys.path.insert(0, os.path.dirname(os.path.abspath(flow_file)))
        # Metaflow registers some pickled classes (ForeachFrame) on __main__ when
        # first imported; the flow's own __main__ must carry them too.
        main = sys.modules["__main__"]
        carried = {
            name: value for name, value in vars(main).items()
            if isinstance(value, type) and value.__module__ == "__main__"
        }
        try:
            runpy.run_path(flow_file, init_globals=carried, run_name="__main__")
            returncode = 0
        except SystemExit as stop:
            returncode = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        finally:
            sys.argv, sys.path[:] = saved_argv, saved_path
            sys.stdout.flush()
        if returncode:
            raise TaskFailed(returncode)

    def _call(self, args, env):
        command = [sys.executable, self.flow_file] + self._top_level() + args
        returncode = subprocess.call(command, env=env)
        if returncode:
            raise TaskFailed(returncode)


def run_task(environ, state=None, runner=None, emit=print):
    """Run the task described by `environ`; emit its Kestra outputs line."""
    deployment = Deployment.from_json(environ[ENV_DEPLOYMENT])
    spec = TaskSpec.from_json(environ[ENV_STEP])
    run_id = ids.run_id_for(environ[ENV_EXECUTION_ID])
    index_path = index_path_from(environ.get(ENV_PARENTS), environ.get(ENV_VALUE))
    state = state or DatastoreRunState(deployment)
    link_local_datastore(deployment)
    trigger = _trigger(environ.get(ENV_TRIGGER))
    _check_workflow_timeout(deployment, environ.get(ENV_EXECUTION_START))
    runner = runner or StepRunner(deployment, environ, environ[ENV_EXECUTION_ID],
                                  upstream_trigger_options(deployment, trigger), flow_file_of(deployment))
    resume = Resume.from_labels(environ.get(ENV_LABELS))

    if spec.start and not state.finished([ids.parameters_pathspec(run_id)]):
        inputs = json.loads(environ.get(ENV_INPUTS) or "{}")
        inputs.update(event_parameters(deployment, trigger))
        runner.init(run_id, inputs)
    split_index = index_path[-1] if spec.split_index else None

    iteration = 1 if spec.loop else None
    while True:
        task_id = ids.task_id_for(spec.step, index_path, iteration)
        pathspec = ids.pathspec(run_id, spec.step, task_id)
        if iteration is None or not state.finished([pathspec]):
            if iteration is None:
                paths = input_paths(spec, run_id, index_path, state)
            else:
                paths = iteration_input_paths(spec, run_id, index_path, iteration, state)
            twin = resume.origin_twin(spec.step, task_id, state)
            if twin:
                runner.clone(spec.step, run_id, task_id, paths, twin, attempt=_attempt(state, pathspec))
            else:
                runner.step(spec.step, run_id, task_id, paths, split_index, in_process=not spec.loop,
                            attempt=_attempt(state, pathspec), user_retries=spec.user_retries)
        task = state.task(pathspec)
        next_steps = _next_steps(task) if spec.chooses else []
        if iteration is None or spec.step not in next_steps:
            break
        iteration += 1

    if spec.cards:
        export_cards("%s/%s" % (deployment.flow_name, pathspec))
    emit(outputs_line(_outputs(deployment, spec, pathspec, task, next_steps, iteration)))


def flow_file_of(deployment):
    """The flow file to run: inside the unpacked code package the deployment pins."""
    if not deployment.code_path:
        return deployment.flow_file
    return os.path.join(code_package.unpack(os.path.abspath(deployment.code_path), deployment.code_sha),
                        deployment.flow_file)


def link_local_datastore(deployment, workdir="."):
    """Make `.metaflow` in the task's working directory point at the local datastore.

    Metaflow writes local cards under the first `.metaflow` found from the
    working directory upwards (METAFLOW_CARD_LOCALROOT is not honoured by `card create` in 2.19.39), and
    a Kestra task runs in a fresh temporary directory: without this link, cards
    would land in that directory and be lost.
    """
    if deployment.datastore != "local" or not deployment.datastore_root:
        return
    link = os.path.join(workdir, ".metaflow")
    if not os.path.lexists(link):
        os.makedirs(deployment.datastore_root, exist_ok=True)
        os.symlink(deployment.datastore_root, link)


def _trigger(text):
    """Kestra's `trigger` variables (a dict), or None when no trigger started the execution."""
    value = json.loads(text) if text else None
    return value if isinstance(value, dict) else None


def event_parameters(deployment, trigger):
    """Parameter values mapped from an event's payload (a webhook's JSON body)."""
    body = (trigger or {}).get("body")
    if not isinstance(body, dict):
        return {}
    values = {}
    for event in deployment.events:
        for parameter, payload_field in event.get("parameters", {}).items():
            if payload_field in body:
                values[parameter] = body[payload_field]
    return values


def upstream_trigger_options(deployment, trigger):
    """`--trigger Flow/run` for a run started by an upstream flow's success (sets current.trigger)."""
    if not trigger or trigger.get("flowId") not in deployment.upstream or not trigger.get("executionId"):
        return []
    upstream_run = ids.run_id_for(trigger["executionId"])
    return ["--trigger", "%s/%s" % (deployment.upstream[trigger["flowId"]], upstream_run)]


def _check_workflow_timeout(deployment, started):
    if not deployment.workflow_timeout or not started:
        return
    from datetime import datetime, timezone

    begun = datetime.fromisoformat(started.replace("Z", "+00:00"))
    elapsed = (datetime.now(timezone.utc) - begun).total_seconds()
    if elapsed > deployment.workflow_timeout:
        raise TaskRefused(
            "The run has exceeded its --workflow-timeout of %ds (%.0fs since it started): not starting "
            "more tasks." % (deployment.workflow_timeout, elapsed)
        )


def export_cards(task_pathspec, directory=None):
    """Write the task's rendered cards as HTML files Kestra attaches to the task (outputFiles)."""
    from metaflow import Task, namespace
    from metaflow.cards import get_cards

    from .decorators import CARDS_DIR

    directory = directory or CARDS_DIR
    os.makedirs(directory, exist_ok=True)
    namespace(None)
    for index, card in enumerate(get_cards(Task(task_pathspec))):
        name = "%s-%d-%s.html" % (task_pathspec.split("/")[2], index, card.type)
        with open(os.path.join(directory, name), "w", encoding="utf-8") as handle:
            handle.write(card.get())


def _attempt(state, pathspec):
    from metaflow.metaflow_config import MAX_ATTEMPTS

    attempt = state.next_attempt(pathspec)
    if attempt >= MAX_ATTEMPTS:
        raise TaskRefused(
            "Task %s has already used Metaflow's %d attempts, so it cannot run again in this "
            "run. Start a new run, or resume this one with `python flow.py kestra resume`."
            % (pathspec, MAX_ATTEMPTS)
        )
    return attempt


def _next_steps(task):
    """The steps a finished task transitioned to (Metaflow's `_transition`)."""
    transition = task["_transition"] if "_transition" in task else None
    return list(transition[0]) if transition else []


def _outputs(deployment, spec, pathspec, task, next_steps, iteration):
    full = "%s/%s" % (deployment.flow_name, pathspec)
    artifacts = sorted(name for name, _ in task.items() if not name.startswith("_"))
    outputs = {
        "pathspec": full,
        "artifacts": artifacts,
        "load": "from metaflow import Task; Task(%r).data" % full,
    }
    if spec.fans_out:
        count = task["_foreach_num_splits"]
        outputs["foreach_cardinality"] = count
        outputs["foreach_values"] = [str(i) for i in range(count)]
    if spec.chooses:
        outputs["next_step"] = next_steps[0]
    if iteration is not None:
        outputs["iterations"] = iteration
    return outputs


def main(environ=None):
    environ = os.environ if environ is None else environ
    # Metaflow reads its configuration when first imported: settle it before that.
    environ.update(Deployment.from_json(environ[ENV_DEPLOYMENT]).environment_variables)
    try:
        run_task(environ)
    except TaskFailed as failure:
        return failure.returncode
    except (MissingInput, TaskRefused, KestraError) as problem:
        print("metaflow-kestra: %s" % problem, file=sys.stderr)
        return 1
    return 0
