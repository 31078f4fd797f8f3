"""What a Kestra task runs: one Metaflow step (and `init` before the flow's start step).

Kestra gives the task a few facts through its environment: the deployment
(static JSON), the step's `TaskSpec`, the execution id, the values of its
enclosing ForEach iterations and, for the start step, the flow's inputs. From those
this module derives the run id, task id, input paths and split index, runs
`python flow.py step ...` and reports outputs with Kestra's stdout protocol
(`::{"outputs": ...}::`), so the worker needs no Kestra package.
"""

import contextlib
import functools
import json
import os
import sys

from . import code_package, environments, ids, package_metaflow
from .decorators import SECRET_ENV_PREFIX
from .container_limits import cgroup_memory_limit, limit_s3_workers
from .deployment import Deployment
from .errors import KestraError
from .pebble import decoded
from .run_state import DatastoreRunState
from .started_by import Resume, event_parameters, how_started, run_tags, trigger_options
from .step_runner import StepRunner, TaskFailed
from .task_logs import CapturedLogs
from .warm_start import apply_service_headers
from .task_spec import MissingInput, TaskSpec, input_paths, iteration_input_paths

ENV_DEPLOYMENT = "METAFLOW_KESTRA_DEPLOYMENT"
ENV_STEP = "METAFLOW_KESTRA_STEP"
ENV_EXECUTION_ID = "METAFLOW_KESTRA_EXECUTION_ID"
ENV_PARENTS = "METAFLOW_KESTRA_PARENTS"
ENV_VALUE = "METAFLOW_KESTRA_VALUE"
ENV_LABELS = "METAFLOW_KESTRA_LABELS"
# An @exit_hook task instead of a step: {"function": name, "on_success": bool}.
ENV_HOOK = "METAFLOW_KESTRA_HOOK"
# A notification task instead of a step: {"on_success": bool} (what to send: the deployment's notifications).
ENV_NOTIFY = "METAFLOW_KESTRA_NOTIFY"
# Kestra 2.x: the Loop item a task runs in (`item | toJson`: its value and its parents' values).
ENV_LOOP_ITEM = "METAFLOW_KESTRA_LOOP_ITEM"
# A foreach step's outputs that pass the run's facts into its Loop's sub-executions (Kestra 2.x
# shows a sub-execution its parent's execution and trigger only, not the root's).
ROOT_EXECUTION_OUTPUT = "execution_id"
ROOT_START_OUTPUT = "execution_start"
ROOT_TRIGGER_OUTPUT = "trigger"
# Files Kestra writes into the task's working directory (the task's `inputFiles`), base64.
INPUTS_FILE = "metaflow-kestra-inputs.b64"
TRIGGER_FILE = "metaflow-kestra-trigger.b64"
ENV_EXECUTION_START = "METAFLOW_KESTRA_EXECUTION_START"
# In a foreach body's child flow: the index path of the foreach task (JSON) and this item.
ENV_PATH = "METAFLOW_KESTRA_INDEX_PATH"
ENV_ITEM = "METAFLOW_KESTRA_ITEM"
# A foreach step whose items run as child executions writes them here, one child per line (ForEachItem).
ENV_ITEMS_FILE = "METAFLOW_KESTRA_ITEMS_FILE"
ITEMS_FILE = "metaflow-kestra-items.txt"
# Set (to the items per child execution, `--foreach-batch`) when each child runs a batch of items:
# each line of the items file is then a JSON list of item indices, not one index.
ENV_BATCH_SIZE = "METAFLOW_KESTRA_BATCH_SIZE"
# Past this many items an in-flow ForEach is slow on Kestra 1.3 (its cost grows with the square
# of the items: docs/benchmarks.md), and the foreach step says so in its log.
LARGE_INLINE_FOREACH = 300


class TaskRefused(Exception):
    """The task cannot run as asked; the message says why and what to do."""


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


def loop_index_path(item_json):
    """The foreach index path (outermost first) of a Kestra 2.x Loop item (`item | toJson`).

    `item.parents` lists the enclosing Loop items outermost first; each value is one of
    our decimal indices.
    """
    if not item_json:
        return ()
    item = json.loads(item_json)
    values = [parent.get("value") for parent in item.get("parents") or []] + [item.get("value")]
    if not all(isinstance(value, str) and value.isdigit() for value in values):
        raise TaskRefused("%s must be a Loop item over foreach indices, not %r." % (ENV_LOOP_ITEM, item_json))
    return tuple(int(value) for value in values)


def child_index_path(path_json, item):
    """The index path a child execution's inputs give: its foreach task's path, then its item.

    A child that runs a batch of items has no item input: its in-flow ForEach gives the item.
    """
    if path_json is None:
        return ()
    path = json.loads(path_json)
    if not isinstance(path, list) or not all(isinstance(i, int) and i >= 0 for i in path):
        raise TaskRefused("%s must be a JSON list of foreach indices, not %r." % (ENV_PATH, path_json))
    if item is None:
        return tuple(path)
    if not str(item).isdigit():
        raise TaskRefused("%s must be a foreach index, not %r." % (ENV_ITEM, item))
    return tuple(path) + (int(item),)


def write_items(path, count, batch=None):
    """The file ForEachItem splits into one child execution per line.

    Without `batch`, a line is an index (0..count-1). With it, a line is a JSON list of up
    to `batch` consecutive indices: the items one child execution runs.
    """
    if batch is None:
        lines = ("%d\n" % i for i in range(count))
    else:
        lines = (json.dumps(list(range(start, min(start + batch, count))), separators=(",", ":")) + "\n"
                 for start in range(0, count, max(1, batch)))
    with open(path, "w", encoding="ascii") as handle:
        handle.write("".join(lines))


def large_foreach_warning(flow_name, step, count):
    return ("metaflow-kestra: warning: flow %s, step %s: this foreach has %d items. Kestra 1.3 runs an "
            "in-flow ForEach in time that grows with the square of its items; deploy with "
            "`--foreach subflows` to run each item as its own execution." % (flow_name, step, count))


def _input_file(name):
    """The content of an input file Kestra wrote into the working directory, or None."""
    try:
        with open(name, encoding="ascii") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def outputs_line(outputs):
    return "::%s::" % json.dumps({"outputs": outputs}, separators=(",", ":"))


def run_task(environ, state=None, runner=None, emit=print):
    """Run the task described by `environ`; emit its Kestra outputs line."""
    deployment = Deployment.from_json(environ[ENV_DEPLOYMENT])
    spec = TaskSpec.from_json(environ[ENV_STEP])
    run_id = ids.run_id_for(environ[ENV_EXECUTION_ID])
    index_path = (child_index_path(environ.get(ENV_PATH), environ.get(ENV_ITEM))
                  + index_path_from(decoded(environ.get(ENV_PARENTS)), decoded(environ.get(ENV_VALUE)))
                  + loop_index_path(decoded(environ.get(ENV_LOOP_ITEM))))
    state = state or DatastoreRunState(deployment)
    link_local_datastore(deployment)
    trigger, events = how_started(deployment, decoded(_input_file(TRIGGER_FILE)))
    _check_workflow_timeout(deployment, environ.get(ENV_EXECUTION_START))
    runner = runner or step_runner_for(deployment, environ, spec, trigger_options(deployment, trigger, events))
    resume = Resume.from_labels(decoded(environ.get(ENV_LABELS)))

    if spec.start and not state.finished([ids.parameters_pathspec(run_id)]):
        inputs = json.loads(decoded(_input_file(INPUTS_FILE)) or "{}")
        inputs.update(event_parameters(deployment, events))
        runner.init(run_id, inputs)
    split_index = index_path[-1] if spec.split_index else None

    iteration = 1 if spec.loop else None
    while True:
        task_id = ids.task_id_for(spec.step, index_path, iteration)
        pathspec = ids.pathspec(run_id, spec.step, task_id)
        # A finished task is not run again: Kestra resubmits a task run whose worker died even
        # when its result had already gone through (the server killed just after the task).
        if state.finished([pathspec]):
            if iteration is None:
                print("metaflow-kestra: task %s/%s already finished successfully: not running it again."
                      % (deployment.flow_name, pathspec), flush=True)
        else:
            if iteration is None:
                paths = input_paths(spec, run_id, index_path, state)
            else:
                paths = iteration_input_paths(spec, run_id, index_path, iteration, state)
            twin = resume.origin_twin(spec.step, task_id, state)
            if twin:
                runner.clone(spec.step, run_id, task_id, paths, twin, attempt=_attempt(state, pathspec))
            else:
                attempt = _attempt(state, pathspec)
                with kept_for_metaflow(state, run_id, spec.step, task_id, attempt):
                    runner.step(spec.step, run_id, task_id, paths, split_index, in_process=not spec.loop,
                                attempt=attempt, user_retries=spec.user_retries)
        task = state.task(pathspec)
        next_steps = _next_steps(task) if spec.chooses else []
        if iteration is None or spec.step not in next_steps:
            break
        iteration += 1

    if spec.cards:
        export_cards("%s/%s" % (deployment.flow_name, pathspec))
    items_file = environ.get(ENV_ITEMS_FILE) if spec.fans_out else None
    if items_file:
        batch = environ.get(ENV_BATCH_SIZE)
        write_items(items_file, task["_foreach_num_splits"], int(batch) if batch else None)
    elif spec.fans_out and task["_foreach_num_splits"] > LARGE_INLINE_FOREACH:
        print(large_foreach_warning(deployment.flow_name, spec.step, task["_foreach_num_splits"]), flush=True)
    outputs = _outputs(deployment, spec, pathspec, task, next_steps, iteration, index_path, listed=not items_file)
    if spec.fans_out:
        outputs.update(root_facts(environ))
    emit(outputs_line(outputs))


def run_exit_hook(environ, runner=None):
    """Run one @exit_hook function with the run, as Metaflow's local runtime and Argo do."""
    deployment = Deployment.from_json(environ[ENV_DEPLOYMENT])
    hook = json.loads(environ[ENV_HOOK])
    run_id = ids.run_id_for(environ[ENV_EXECUTION_ID])
    runner = runner or step_runner_for(deployment, environ, TaskSpec(step="_exit_hook", depth=0), [])
    pathspec = "%s/%s" % (deployment.flow_name, run_id)
    print("metaflow-kestra: exit hook %s of run %s (the run %s)."
          % (hook["function"], pathspec, "succeeded" if hook.get("on_success") else "did not succeed"), flush=True)
    runner.exit_hook(hook["function"], pathspec)


def notify(environ, post=None):
    """Send the run's notifications (a notification task); 1 if a service could not be reached."""
    from .notifications import CREDENTIAL_ENV, send

    deployment = Deployment.from_json(environ[ENV_DEPLOYMENT])
    succeeded = bool(json.loads(environ[ENV_NOTIFY])["on_success"])
    credentials = {service: decoded(environ.get(CREDENTIAL_ENV % service.upper())) or ""
                   for service in deployment.notifications["secrets"]}
    failed = send(deployment.notifications, deployment.flow_name, ids.run_id_for(environ[ENV_EXECUTION_ID]),
                  environ[ENV_EXECUTION_ID], succeeded, credentials, post=post)
    return 1 if failed else 0


@contextlib.contextmanager
def kept_for_metaflow(state, run_id, step, task_id, attempt):
    """Capture what the task prints and save it as the attempt's logs in Metaflow's datastore."""
    logs = CapturedLogs()
    try:
        with logs:
            yield
    finally:
        try:
            logs.save(state.log_store(run_id, step, task_id, attempt))
        finally:
            logs.close()


def root_facts(environ):
    """What a foreach step passes into the items it starts: the run's execution id, start and
    trigger (Kestra 2.x Loop items read them from here; 1.x ignores them)."""
    facts = {ROOT_EXECUTION_OUTPUT: environ[ENV_EXECUTION_ID]}
    if environ.get(ENV_EXECUTION_START):
        facts[ROOT_START_OUTPUT] = environ[ENV_EXECUTION_START]
    trigger = _input_file(TRIGGER_FILE)
    if trigger is not None:
        facts[ROOT_TRIGGER_OUTPUT] = trigger
    return facts


def step_runner_for(deployment, environ, spec, trigger_options):
    """A StepRunner for the flow file inside the unpacked code package the deployment pins, with
    the package's Metaflow (see package_metaflow) unless the deployment says the worker's."""
    deadline = run_deadline(deployment, environ.get(ENV_EXECUTION_START))
    tags = run_tags(decoded(environ.get(ENV_LABELS)))
    if not deployment.code_path:
        return StepRunner(deployment, environ, environ[ENV_EXECUTION_ID], trigger_options,
                          added_decorators=spec.added_decorators, deadline=deadline, run_tags=tags)
    package_dir = code_package.unpack(os.path.abspath(deployment.code_path), deployment.code_sha,
                                      files_sha=deployment.code_files_sha)
    step_env, in_process = {}, True
    if not deployment.worker_metaflow:
        step_env = package_metaflow.step_environment(package_dir, deployment.code_metadata, environ)
        in_process = package_metaflow.same_as_running(package_dir, deployment.code_metadata)
    environment = None  # or its bootstrap, which the runner calls with the step's environment
    if deployment.environment != "local":
        environment = functools.partial(environments.bootstrap, deployment, spec.step, package_dir)
    return StepRunner(deployment, environ, environ[ENV_EXECUTION_ID], trigger_options,
                      os.path.join(package_dir, deployment.flow_file), spec.added_decorators,
                      step_env=step_env, in_process=in_process, deadline=deadline, environment=environment,
                      run_tags=tags)


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


def _started_at(started):
    """The run's start (Kestra's ISO date of the execution) in epoch seconds."""
    from datetime import datetime

    return datetime.fromisoformat(started.replace("Z", "+00:00")).timestamp()


def run_deadline(deployment, started):
    """When the run's --workflow-timeout ends it (epoch seconds), or None."""
    if not deployment.workflow_timeout or not started:
        return None
    return _started_at(started) + deployment.workflow_timeout


def _check_workflow_timeout(deployment, started):
    if not deployment.workflow_timeout or not started:
        return
    import time

    elapsed = time.time() - _started_at(started)
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


def _outputs(deployment, spec, pathspec, task, next_steps, iteration, index_path=(), listed=True):
    """Kestra outputs of the task; a foreach step's items are listed only for an in-flow ForEach."""
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
        outputs["index_path"] = json.dumps(list(index_path))
        if listed:
            outputs["foreach_values"] = [str(i) for i in range(count)]
    if spec.chooses:
        outputs["next_step"] = next_steps[0]
    if iteration is not None:
        outputs["iterations"] = iteration
    return outputs


def apply_secret_environment(environ, names):
    """Each --secret NAME from the Kestra secret the compiler put in METAFLOW_KESTRA_SECRET_NAME."""
    for name in names:
        value = decoded(environ.get(SECRET_ENV_PREFIX + name))
        if value is None:
            raise TaskRefused("Kestra secret %s (deployed with --secret %s) did not reach this task: "
                              "redeploy the flow." % (name, name))
        environ[name] = value


def main(environ=None):
    environ = os.environ if environ is None else environ
    try:
        # Metaflow reads its configuration when first imported: settle it before that.
        deployment = Deployment.from_json(environ[ENV_DEPLOYMENT])
        environ.update(deployment.environment_variables)
        limit_s3_workers(environ, cgroup_memory_limit())
        apply_service_headers(environ)
        apply_secret_environment(environ, deployment.secret_environment)
        if environ.get(ENV_NOTIFY):
            return notify(environ)
        if environ.get(ENV_HOOK):
            run_exit_hook(environ)
        else:
            run_task(environ)
    except TaskFailed as failure:
        return failure.returncode
    except (MissingInput, TaskRefused, KestraError) as problem:
        print("metaflow-kestra: %s" % problem, file=sys.stderr)
        return 1
    return 0
