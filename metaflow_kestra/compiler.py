"""A Metaflow flow -> the data model of a Kestra flow (see `kestra_flow`).

Recursive over the structure tree, so every nesting compiles the same way:

    Step / Loop  -> a script task named after the step (a loop runs its iterations inside)
    Parallel     -> `Parallel`, one entry per branch (a `Sequential` when a branch has several tasks)
    ForEach      -> `ForEach` over the foreach step's reported items, `concurrencyLimit` = max workers;
                    with `foreach="subflows"`, a `ForEachItem` that starts a child flow (the
                    foreach body, compiled the same way) once per item
    Switch       -> `Switch` on the step the switch step reports it chose

That is Kestra 1.x's flow language. For Kestra 2.x (`kestra_major=2`) a foreach
is a `Loop`, each item a sub-execution; see "Kestra 2.x" below.

Kestra keys a task's outputs inside a ForEach by the iteration values of its
enclosing task runs, and `currentEachOutput` can only find a sibling's output
from a direct child of a ForEach. So inside a ForEach, a branch that holds a
ForEach or Switch is wrapped in a single-item ForEach (item "branch") instead
of a `Sequential`: its tasks become direct children, and the runtime ignores
that non-numeric item when it derives the index path.

A child flow's tasks learn from its inputs what a task of the parent reads
from Kestra: the root execution (the run id), the index path so far and the
item. No task run of a body lives in the parent execution, so a foreach of
thousands of items keeps every execution small (`benchmarks/fanout.py`).

Kestra 2.x: a foreach is a `Loop` over the same values, and each item runs in a
sub-execution of its own, so `--foreach subflows` changes nothing there. Inside
an item, siblings' outputs are plain `outputs.<task>` (no `currentEachOutput`,
no wrapper) and `item` gives the index path. A sub-execution sees its parent's
`execution` and `trigger` one level up only, so tasks inside a Loop read the run's
facts (execution id, start, trigger) from the outputs of the foreach step that
started the Loop, which read them one level further up. There are no
`pluginDefaults` in 2.x: every step task carries its own runner and commands,
and the Flow trigger says `dependsOn`, not `preconditions`.
"""

import re
import secrets
from dataclasses import dataclass, replace

from . import kestra_flow as k
from .pebble import encoded, inert_json, literal
from .decorators import CARDS_DIR, SECRET_ENV_PREFIX, FlowTriggers, exit_hooks, iso_duration, step_settings
from .errors import KestraError
from .event_receivers import ARRIVED_PRECONDITION, ARRIVED_TRIGGER, all_of, receiver_flow_id
from .parameters import environment_defaults, kestra_inputs
from .warm_start import SERVICE_HEADERS_B64
from .runtime import (
    ENV_BATCH_SIZE, ENV_DEPLOYMENT, ENV_EXECUTION_ID, ENV_EXECUTION_START, ENV_HOOK, ENV_ITEM, ENV_ITEMS_FILE, ENV_NOTIFY,
    ENV_LABELS, ENV_LOOP_ITEM, ENV_PARENTS, ENV_PATH, ENV_STEP, ENV_VALUE, INPUTS_FILE, ITEMS_FILE, TRIGGER_FILE,
    ROOT_EXECUTION_OUTPUT, ROOT_START_OUTPUT, ROOT_TRIGGER_OUTPUT,
)
from .structure import (
    ForEach, Loop, Parallel, Step, Switch, UnsupportedFlow, build_structure, foreaches_in, start_step, steps_in,
)
from .task_spec import task_specs

BRANCH_ITEM = "branch"
FLOW_LABEL = "metaflow-flow"
BODY_LABEL = "metaflow-foreach-body"  # on a child flow: the parent flow id and the foreach step
DEPLOYMENT_VARIABLE = "metaflow_deployment"
TASK_COMMAND = "-m metaflow_kestra.task"
RESERVED_FLOW_IDS = frozenset(
    ["pause", "resume", "force-run", "change-status", "kill", "executions", "search", "source",
     "disable", "enable"]
)
_KESTRA_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_-]*$")
_FLOW_ID = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9._-]{0,99}$")
_NAMESPACE = re.compile(r"^[a-z0-9][a-z0-9._-]*$")

FOREACH_MODES = ("inline", "subflows")
# The inputs of a foreach body's child flow: what its tasks would read from the root execution.
CHILD_EXECUTION = "metaflow_execution"
CHILD_STARTED = "metaflow_execution_start"
CHILD_TRIGGER = "metaflow_trigger"
CHILD_PATH = "metaflow_index_path"
CHILD_ITEM = "metaflow_item"
CHILD_ITEMS = "metaflow_items"  # a batch child: the file holding the JSON list of its items

# Seconds Kestra lets a step run past its @timeout, for Metaflow to record the timeout.
TIMEOUT_GRACE_SECONDS = 60
WORKFLOW_TIMEOUT_SLA = "workflow-timeout"  # the id of the SLA --workflow-timeout compiles to
# When an @exit_hook task runs (our own Pebble text): on success, or on any other end.
HOOK_CONDITIONS = {True: "{{ execution.state == 'SUCCESS' }}", False: "{{ execution.state != 'SUCCESS' }}"}


@dataclass(frozen=True)
class CompileOptions:
    namespace: str = "metaflow"
    flow_id: str = ""
    max_workers: int = 16
    python: str = "python"  # the worker's interpreter (with Metaflow and this package)
    task_runner: str = "process"  # or "docker"
    image: str = ""  # default container image for the docker task runner
    docker_network: str = ""  # the containers' Docker network mode (Kestra's networkMode); "" = the runner's
    foreach: str = "inline"  # or "subflows": foreach items run in child executions
    foreach_batch: int = 100  # subflows: the most items one child execution runs (one after another)
    kestra_major: int = 1  # the Kestra line whose flow language to write (1.x or 2.x)

    @property
    def loops(self):
        """Whether a foreach is a Kestra 2.x `Loop` (each item a sub-execution)."""
        return self.kestra_major >= 2


def default_flow_id(flow_name, project_branch=None):
    """`trainflow`, or `project.branch.trainflow` under @project (so branches never collide)."""
    flow_id = flow_name if not project_branch else "%s.%s" % (project_branch, flow_name)
    return re.sub(r"[^a-z0-9._-]", "-", flow_id.lower())


def compile_flow(flow, graph, deployment, options, triggers=None):
    """The `KestraFlow` for `flow` (a FlowSpec instance) deployed as `deployment`."""
    flow_name = deployment.flow_name
    flow_id = options.flow_id or default_flow_id(flow_name)
    _check_ids(flow_name, flow_id, options, graph)
    tree = build_structure(graph, flow_name)
    settings = {node.name: step_settings(node, flow_name) for node in graph}
    specs = {
        name: replace(spec, user_retries=settings[name].max_user_code_retries, cards=settings[name].cards,
                      added_decorators=tuple(settings[name].added))
        for name, spec in task_specs(graph, tree).items()
    }
    triggers = triggers or FlowTriggers()
    builder = _Builder(graph, specs, settings, deployment, options, triggers, flow_id, tree)
    tasks = builder.sequence(tree, _Place())
    hooks = builder.exit_hook_tasks(exit_hooks(flow, flow_name), start_step(graph, flow_name))
    hooks += builder.notification_tasks(start_step(graph, flow_name))
    return k.KestraFlow(
        id=flow_id,
        namespace=options.namespace,
        description=_docstring(flow) or "Metaflow flow %s" % flow_name,
        labels={FLOW_LABEL: flow_name},
        inputs=kestra_inputs(flow, flow_name),
        variables={DEPLOYMENT_VARIABLE: deployment.to_json()},
        plugin_defaults=[] if options.loops else k.share_plugin_defaults(tasks + hooks),
        tasks=tasks,
        triggers=kestra_triggers(triggers, options.namespace, options.kestra_major, flow_id),
        sla=workflow_sla(deployment.workflow_timeout),
        after_execution=hooks,
        notes=[note for name in settings for note in settings[name].notes] + _line_notes(graph, options)
        + _service_notes(deployment) + _environment_default_notes(flow, flow_name)
        + _container_notes(deployment, options),
        children=builder.children + event_receivers(triggers, flow_id, flow_name, options.namespace),
    )


def workflow_sla(seconds):
    """Kestra's SLA that fails an execution still running `seconds` after it started, its running
    tasks killed (`--workflow-timeout`, as Argo's activeDeadlineSeconds)."""
    if not seconds:
        return []
    return [{"id": WORKFLOW_TIMEOUT_SLA, "type": "MAX_DURATION", "behavior": "FAIL",
             "duration": iso_duration(seconds)}]


def child_flow_id(parent_flow_id, split_step):
    """The Kestra flow id of the child flow that runs the body of foreach `split_step`."""
    return "%s.%s" % (parent_flow_id, split_step)


def _service_notes(deployment):
    if not deployment.service_headers_secret:
        return []
    return ["Flow %s: the metadata service's headers (METAFLOW_SERVICE_HEADERS) reach its tasks from the Kestra "
            "secret %s, never through the YAML: create that secret on the Kestra server (open-source Kestra: "
            "SECRET_%s=<base64 of the headers' JSON> in its environment)."
            % (deployment.flow_name, deployment.service_headers_secret, deployment.service_headers_secret)]


def _container_notes(deployment, options):
    mount = local_metadata_mount(deployment, options)
    if not mount:
        return []
    return ["Flow %s: with local metadata, each step's container mounts %s, where this machine's Metaflow "
            "client reads runs. The Kestra worker must run on this machine and allow Docker volumes (its "
            "configuration: volume-enabled: true for %s); for workers elsewhere deploy with --metadata=service."
            % (deployment.flow_name, mount, k.DOCKER_RUNNER)]


def _check_reachable_from_containers(deployment):
    """Refuse an endpoint on this machine's loopback (a local S3, a metadata service) that steps in
    containers would call: inside a container 127.0.0.1 is the container itself, unless it runs on
    the worker's network, and Metaflow retries a refused connection as transient, for an hour."""
    from urllib.parse import urlsplit

    for name, value in sorted(deployment.environment_variables.items()):
        if not name.endswith(("_URL", "_ENDPOINT")):
            continue
        try:
            host = (urlsplit(value).hostname or "").lower()
        except ValueError:
            continue
        if host == "localhost" or host == "::1" or re.fullmatch(r"127(\.\d{1,3}){3}", host):
            raise UnsupportedFlow(
                "Flow %s: --task-runner docker: %s (%s) is this machine's loopback, which a step's "
                "container reaches only on the worker's own network. Deploy with --docker-network host "
                "(the worker must then run on this machine), or use an address the containers can reach."
                % (deployment.flow_name, name, value))


def local_metadata_mount(deployment, options):
    """The local metadata's folder that containers mount at the same path, or None.

    Local metadata lives on the deploying machine (METAFLOW_DATASTORE_SYSROOT_LOCAL/.metaflow);
    a container writes it where the client reads it only through a mount.
    """
    root = deployment.environment_variables.get("METAFLOW_DATASTORE_SYSROOT_LOCAL")
    if options.task_runner != "docker" or deployment.metadata != "local" or not root:
        return None
    return root.rstrip("/") + "/.metaflow"


def _environment_default_notes(flow, flow_name):
    return ["Flow %s, parameter %r: its deployed default is %s from this environment, as a local `run` would "
            "take it." % (flow_name, name, variable) for name, variable in environment_defaults(flow).items()]


def _line_notes(graph, options):
    if options.loops and options.foreach == "subflows" and any(node.type == "foreach" for node in graph):
        return ["Kestra %d.x runs every foreach item as an execution of its own (Loop): --foreach subflows "
                "and --foreach-batch change nothing there." % options.kestra_major]
    return []


def kestra_triggers(triggers, namespace, kestra_major=1, flow_id="flow"):
    """Kestra triggers for @schedule, @trigger events and @trigger_on_finish.

    The Flow trigger waits for every upstream flow (within Kestra's default one-day
    window): `preconditions` in Kestra 1.x, `dependsOn` in 2.x. One event is a Webhook;
    several are a Flow trigger over their receiver flows (event_receivers).
    """
    result = []
    if triggers.schedule:
        schedule = {"id": "schedule", "type": k.SCHEDULE, "cron": triggers.schedule}
        if triggers.timezone:
            schedule["timezone"] = triggers.timezone
        result.append(schedule)
    names = _unique(event.name for event in triggers.events)
    if all_of(names):
        receivers = [receiver_flow_id(flow_id, name) for name in names]
        result.append(_flow_trigger(ARRIVED_TRIGGER, ARRIVED_PRECONDITION, namespace, receivers, kestra_major))
    else:
        result.extend(webhook(event_trigger_id(name)) for name in names)
    if triggers.upstream:
        result.append(_flow_trigger("upstream-finished", "upstream-succeeded", namespace, triggers.upstream,
                                    kestra_major))
    return result


def webhook(trigger_id):
    """A Webhook trigger. Kestra's webhooks take no credentials: a random key, which `send-event`
    and KestraEvent read back from the deployed flow with the API's credentials, so the event's
    name opens nothing."""
    return {"id": trigger_id, "type": k.WEBHOOK, "key": secrets.token_urlsafe(32)}


def _flow_trigger(trigger_id, precondition_id, namespace, flow_ids, kestra_major):
    """A Flow trigger that fires once every one of `flow_ids` has succeeded."""
    upstream = [{"namespace": namespace, "flowId": flow_id, "states": ["SUCCESS"]} for flow_id in flow_ids]
    trigger = {"id": trigger_id, "type": k.FLOW_TRIGGER}
    if kestra_major >= 2:
        trigger["dependsOn"] = upstream
    else:
        trigger["preconditions"] = {"id": precondition_id, "flows": upstream}
    return trigger


def event_receivers(triggers, flow_id, flow_name, namespace):
    """The receiver flows of a flow that waits for several events (see event_receivers): each
    stores its event's payload under its own id in the namespace's KV store."""
    names = _unique(event.name for event in triggers.events)
    if not all_of(names):
        return []
    for name in names:
        if not _FLOW_ID.match(receiver_flow_id(flow_id, name)):
            raise KestraError(
                "Flow %s, @trigger: the flow receiving event %s would be %r, over Kestra's 100 characters. "
                "Choose a shorter --flow-id or event name." % (flow_name, name, receiver_flow_id(flow_id, name)))
    return [k.KestraFlow(
        id=receiver_flow_id(flow_id, name),
        namespace=namespace,
        description="Receives Metaflow event %s for flow %s (%s), which starts once each of its events %s has "
                    "arrived." % (name, flow_name, flow_id, ", ".join(names)),
        tasks=[k.KvSetTask(id="keep-payload", key=receiver_flow_id(flow_id, name),
                           value=encoded("trigger.body | toJson"))],
        triggers=[webhook(event_trigger_id(name))],
    ) for name in names]


def trigger_fact(triggers, flow_id):
    """How a run's tasks learn what started it: Kestra's `trigger` variables, and for a flow
    waiting on several events, the payloads its receivers stored (names ours: checked ids)."""
    names = _unique(event.name for event in triggers.events)
    if not all_of(names):
        return TRIGGER_FACT
    stored = ", ".join("kv('%s', errorOnMissing=false)" % receiver_flow_id(flow_id, name) for name in names)
    return (encoded("[(trigger ?? ''), [%s]] | toJson" % stored), CHILD_TRIGGER, ROOT_TRIGGER_OUTPUT)


def _unique(items):
    seen = []
    for item in items:
        if item not in seen:
            seen.append(item)
    return seen


def event_trigger_id(name):
    """The id of the Webhook trigger of @trigger event `name`."""
    return "event-%s" % _id_part(name)


def _id_part(text):
    """`text` as part of a Kestra id (letters, digits, '_' and '-')."""
    return re.sub(r"[^a-zA-Z0-9_-]", "-", text)


@dataclass(frozen=True)
class _Place:
    """Where a task sits: inside some ForEach, and whether it is a direct child of one."""

    in_foreach: bool = False
    direct: bool = False


# Facts of the run's root execution: (how the root reads it, the child flow input, the
# output of a foreach step that passes it into its Loop's sub-executions).
EXECUTION_FACT = ("{{ execution.id }}", CHILD_EXECUTION, ROOT_EXECUTION_OUTPUT)
START_FACT = ("{{ execution.startDate }}", CHILD_STARTED, ROOT_START_OUTPUT)
TRIGGER_FACT = (encoded("(trigger ?? '') | toJson"), CHILD_TRIGGER, ROOT_TRIGGER_OUTPUT)


@dataclass(frozen=True)
class _Scope:
    """Whose execution a task runs in: the root flow's, a foreach body's child flow's, or
    (Kestra 2.x) a Loop item's sub-execution, started by foreach step `loop_split`."""

    flow_id: str
    child: bool = False
    batch: bool = False  # a child that runs a batch of items in turn (its ForEach gives the item)
    loop_split: str = ""

    def root(self, fact):
        """An expression for a fact of the root execution, read in this scope."""
        expression, child_input, split_output = fact
        if self.loop_split:
            return "{{ outputs.%s.vars.%s }}" % (self.loop_split, split_output)
        return "{{ inputs.%s }}" % child_input if self.child else expression


class _Builder:
    def __init__(self, graph, specs, settings, deployment, options, triggers, flow_id="flow", tree=None):
        self.graph = graph
        self.scope = _Scope(flow_id)
        self.children = []  # child flows of the root, for foreach bodies (foreach="subflows")
        self.deployment = deployment
        self.specs = specs
        self.settings = settings
        self.options = options
        self.has_inputs = bool(deployment.parameters)
        self.workflow_timeout = deployment.workflow_timeout
        self.code_files = [deployment.code_path] if deployment.code_path else []
        # What every step gets from Kestra secrets: the metadata service's headers, and each --secret
        # (the runtime sets it as NAME). Names checked at deploy: [A-Za-z0-9_]+.
        self.secret_env = {SECRET_ENV_PREFIX + name: encoded("secret('%s')" % name)
                           for name in deployment.secret_environment}
        if deployment.service_headers_secret:
            self.secret_env[SERVICE_HEADERS_B64] = encoded("secret('%s')" % deployment.service_headers_secret)
        self.flow_name = deployment.flow_name
        if options.task_runner == "docker" and deployment.datastore == "local":
            raise UnsupportedFlow(
                "Flow %s: --task-runner docker runs each step in its own container, which cannot see this "
                "machine's local datastore. Deploy with a remote datastore (e.g. --datastore=s3)." % self.flow_name
            )
        if options.task_runner == "docker" and options.docker_network != "host":
            _check_reachable_from_containers(deployment)
        self.reads_trigger = bool(triggers.events or triggers.upstream)
        self.trigger_fact = trigger_fact(triggers, flow_id)
        self.foreach_bodies = {block.split: block.body for block in foreaches_in(tree)} if tree else {}

    def sequence(self, seq, place):
        tasks = []
        for item in seq.items:
            if isinstance(item, (Step, Loop)):
                tasks.append(self.step_task(item.name if isinstance(item, Step) else item.step, place))
            elif isinstance(item, Parallel):
                tasks.append(k.ParallelTask(
                    id="%s-branches" % item.split,
                    tasks=[self.branch(branch, place) for branch in item.branches],
                ))
            elif isinstance(item, ForEach) and self.options.loops:
                tasks.append(self.loop(item, place))
            elif isinstance(item, ForEach) and self.options.foreach == "subflows":
                tasks.append(self.foreach_item(item))
            elif isinstance(item, ForEach):
                body = _Place(in_foreach=True, direct=True)
                tasks.append(k.ForEachTask(
                    id="%s-foreach" % item.split,
                    values=self.output(item.split, "foreach_values", place, "toJson"),
                    concurrency_limit=self.options.max_workers,
                    tasks=self.sequence(item.body, body),
                ))
            elif isinstance(item, Switch):
                tasks.append(k.SwitchTask(
                    id="%s-switch" % item.step,
                    value=self.output(item.step, "next_step", place),
                    cases={
                        target: self.case(item.step, target, branch, place)
                        for target, branch in item.cases
                    },
                ))
            else:
                raise TypeError("not a structure block: %r" % (item,))
        return tasks

    def loop(self, item, place):
        """Kestra 2.x: a Loop over the split's items, each item's body in a sub-execution."""
        parent = self.scope
        self.scope = replace(parent, loop_split=item.split)
        try:
            tasks = self.sequence(item.body, _Place())
        finally:
            self.scope = parent
        return k.LoopTask(
            id="%s-foreach" % item.split,
            values=self.output(item.split, "foreach_values", place, "toJson"),
            concurrency_limit=self.options.max_workers,
            tasks=tasks,
        )

    def foreach_item(self, item):
        """A ForEachItem over the split's items file, starting the body's child flow once per item."""
        parent = self.scope
        child_id = child_flow_id(parent.flow_id, item.split)
        place = len(self.children)  # this child before those of foreaches nested in it
        batch = self.runs_batches(item.split)
        self.scope = _Scope(child_id, child=True, batch=batch)
        try:
            if batch:
                tasks = [k.ForEachTask(
                    id="%s-batch" % item.split,
                    values="{{ read(inputs.%s) }}" % CHILD_ITEMS,
                    concurrency_limit=self.options.max_workers,
                    tasks=self.sequence(item.body, _Place(in_foreach=True, direct=True)),
                )]
            else:
                tasks = self.sequence(item.body, _Place())
        finally:
            self.scope = parent
        inputs = {
            CHILD_EXECUTION: parent.root(EXECUTION_FACT),
            CHILD_PATH: "{{ outputs.%s.vars.index_path }}" % item.split,
        }
        child_inputs = [
            k.Input(CHILD_EXECUTION, "STRING", True, description="The Kestra execution of the Metaflow run"),
            k.Input(CHILD_PATH, "STRING", True, description="The foreach indices that lead here (JSON)"),
        ]
        if batch:
            inputs[CHILD_ITEMS] = "{{ taskrun.items }}"
            child_inputs.append(k.Input(CHILD_ITEMS, "FILE", True,
                                        description="The items of foreach step %s this execution runs "
                                                    "in turn (a JSON list)" % item.split))
        else:
            inputs[CHILD_ITEM] = "{{ taskrun.iteration }}"
            child_inputs.append(k.Input(CHILD_ITEM, "INT", True,
                                        description="The item of foreach step %s" % item.split))
        if self.workflow_timeout:
            inputs[CHILD_STARTED] = parent.root(START_FACT)
            child_inputs.append(k.Input(CHILD_STARTED, "STRING", True, description="When the run started"))
        if self.reads_trigger:
            inputs[CHILD_TRIGGER] = parent.root(self.trigger_fact)
            child_inputs.append(k.Input(CHILD_TRIGGER, "STRING", True,
                                        description="What started the run (base64 JSON)"))
        self.children.insert(place, k.KestraFlow(
            id=child_id,
            namespace=self.options.namespace,
            description="The body of foreach step %s of Metaflow flow %s: one execution per item, "
                        "started by %s." % (item.split, self.flow_name, parent.flow_id),
            labels={FLOW_LABEL: self.flow_name, BODY_LABEL: "%s/%s" % (parent.flow_id, item.split)},
            inputs=child_inputs,
            variables={DEPLOYMENT_VARIABLE: self.deployment.to_json()},
            # A foreach body's execution ends, at the latest, as long after it started as the run may last.
            sla=workflow_sla(self.workflow_timeout),
            # Batches run one after another, max_workers items at a time inside each: Kestra 1.3's
            # executor slows down with many live executions (docs/benchmarks.md).
            concurrency={"limit": 1 if batch else self.options.max_workers, "behavior": "QUEUE"},
            plugin_defaults=k.share_plugin_defaults(tasks),
            tasks=tasks,
        ))
        return k.ForEachItemTask(
            id="%s-foreach" % item.split,
            items="{{ outputs.%s.outputFiles['%s'] }}" % (item.split, ITEMS_FILE),
            namespace=self.options.namespace, flow_id=child_id, inputs=inputs,
        )

    def runs_batches(self, split):
        """Whether foreach `split`'s child executions each run a batch of items (no foreach nested in it).

        A nested ForEachItem cannot sit in the batch's ForEach: its split subtask is not a direct
        child of the ForEach, so `currentEachOutput` cannot find the items file from there.
        """
        if self.options.foreach != "subflows" or self.options.foreach_batch <= 1:
            return False
        body = self.foreach_bodies[split]
        return not any(self.specs[step].fans_out for step in steps_in(body))

    def branch(self, seq, place):
        """One branch of a Parallel: a single task, or a group that runs in order."""
        if len(seq.items) == 1 and isinstance(seq.items[0], (Step, Loop)):
            return self.sequence(seq, _Place(place.in_foreach, False))[0]
        wrapper = self.wrapped(seq, place)
        if wrapper:
            return wrapper
        return k.SequentialTask(id="%s-branch" % _first_step(seq),
                                tasks=self.sequence(seq, _Place(place.in_foreach, False)))

    def case(self, switch_step, target, seq, place):
        """The tasks of one Switch case (a case that goes straight on still needs a task)."""
        if not seq.items:
            return [k.LogTask(
                id="%s-to-%s" % (switch_step, target),
                message="Step %s chose %s: nothing to run in this case." % (switch_step, target),
            )]
        wrapper = self.wrapped(seq, place)
        if wrapper:
            return [wrapper]
        return self.sequence(seq, _Place(place.in_foreach, False))

    def wrapped(self, seq, place):
        """The single-item ForEach a branch inside a ForEach needs when it reads sibling outputs, else None."""
        if not (place.in_foreach and _reads_sibling_outputs(seq)):
            return None
        return k.ForEachTask(
            id="%s-branch" % _first_step(seq), values=[BRANCH_ITEM], concurrency_limit=1,
            tasks=self.sequence(seq, _Place(True, True)),
        )

    def output(self, step, name, place, filter_name=None):
        """An expression for an output of `step`, a sibling of the task that reads it."""
        if place.in_foreach and not place.direct:
            raise AssertionError("step %s: sibling outputs are unreachable here" % step)
        source = ("currentEachOutput(outputs.%s)" if place.in_foreach else "outputs.%s") % step
        expression = "%s.vars.%s" % (source, name)
        if filter_name:
            expression += " | %s" % filter_name
        return "{{ %s }}" % expression

    def step_task(self, step, place):
        spec = self.specs[step]
        scope = self.scope
        env = {
            ENV_DEPLOYMENT: "{{ vars.%s }}" % DEPLOYMENT_VARIABLE,
            ENV_STEP: spec.to_json(),
            ENV_EXECUTION_ID: scope.root(EXECUTION_FACT),
            ENV_LABELS: encoded("labels | toJson"),
        }
        if scope.child:
            env[ENV_PATH] = "{{ inputs.%s }}" % CHILD_PATH
            if not scope.batch:
                env[ENV_ITEM] = "{{ inputs.%s }}" % CHILD_ITEM
        output_files = []
        if spec.fans_out and self.options.foreach == "subflows" and not self.options.loops:
            env[ENV_ITEMS_FILE] = ITEMS_FILE
            if self.runs_batches(step):
                env[ENV_BATCH_SIZE] = str(self.options.foreach_batch)
            output_files.append(ITEMS_FILE)
        if scope.loop_split:
            env[ENV_LOOP_ITEM] = encoded("item | toJson")
        if place.in_foreach:
            env[ENV_PARENTS] = encoded("parents | toJson")
        if place.direct:
            env[ENV_VALUE] = encoded("taskrun.value")
        # Inputs and trigger payloads go in files: they may be large, and Linux caps one
        # environment variable at 128 KiB.
        input_files = {}
        if spec.start and self.has_inputs:
            input_files[INPUTS_FILE] = encoded("inputs | toJson")
        if self.reads_trigger:
            input_files[TRIGGER_FILE] = scope.root(self.trigger_fact)
        if self.workflow_timeout:
            env[ENV_EXECUTION_START] = scope.root(START_FACT)
        settings = self.settings[step]
        env.update(settings.environment)
        env.update(self.secret_env)
        for name in settings.secrets:
            env[SECRET_ENV_PREFIX + name] = encoded("secret('%s')" % name)  # name checked: [A-Za-z0-9_]+
        # Metaflow's @timeout fires first and records the exception and the artifacts so far;
        # Kestra's task timeout, a grace period later, is the backstop for a step that hangs.
        step_timeout = settings.timeout_seconds + TIMEOUT_GRACE_SECONDS if settings.timeout_seconds else 0
        timeouts = [t for t in (step_timeout, self.workflow_timeout) if t]
        return k.ScriptTask(
            id=step,
            description=_cleaned(self.graph[step].doc),
            env=env,
            commands=self.task_command(),
            retry=_retry(settings),
            timeout=iso_duration(min(timeouts)) if timeouts else None,
            output_files=output_files + (["%s/*.html" % CARDS_DIR] if settings.cards else []),
            namespace_files=self.code_files,
            input_files=input_files,
            **self.runner(step, settings),
        )

    def exit_hook_tasks(self, hooks, start):
        """An afterExecution task per @exit_hook function, run only on the outcome it is for.

        It runs the task command with the function's name instead of a step (the runtime calls
        Metaflow's own exit_hook_script), in the start step's runner and image, as Argo does.
        A hook that fails shows as a failed task without changing the run's outcome.
        """
        tasks, seen = [], set()
        for hook in hooks:
            kind = "success" if hook.on_success else "error"
            base = "exit-hook-%s-%s" % (kind, _id_part(hook.function))
            task_id, number = base, 1
            while task_id in seen:
                number += 1
                task_id = "%s-%d" % (base, number)
            seen.add(task_id)
            tasks.append(self.after_run_task(
                task_id, start, hook.on_success,
                "@exit_hook %s of Metaflow flow %s: runs once the run has %s."
                % (hook.function, self.flow_name, "succeeded" if hook.on_success else "failed"),
                dict({ENV_HOOK: inert_json({"function": hook.function, "on_success": hook.on_success})},
                     **self.secret_env),
                namespace_files=self.code_files,
            ))
        return tasks

    def notification_tasks(self, start):
        """An afterExecution task per outcome to notify about (--notify-on-error/-success).

        The credentials come from the Kestra secrets the options name, base64-encoded into the
        task's environment; the task sends what Argo sends (notifications.py) and, like an exit
        hook, cannot change the run's outcome.
        """
        spec = self.deployment.notifications
        if not spec:
            return []
        from .notifications import CREDENTIAL_ENV

        credentials = {CREDENTIAL_ENV % service.upper(): encoded("secret('%s')" % name)
                       for service, name in sorted(spec["secrets"].items())}  # names checked: [A-Za-z0-9_]+
        tasks = []
        for on_success in (False, True):
            if not spec["on_success" if on_success else "on_error"]:
                continue
            tasks.append(self.after_run_task(
                "notify-on-%s" % ("success" if on_success else "error"), start, on_success,
                "Tells %s that a run of Metaflow flow %s has %s." % (
                    ", ".join(sorted(spec["secrets"])), self.flow_name, "succeeded" if on_success else "failed"),
                dict({ENV_NOTIFY: inert_json({"on_success": on_success})}, **credentials),
            ))
        return tasks

    def after_run_task(self, task_id, start, on_success, description, env, **fields):
        """An afterExecution task that runs the task command once the run has succeeded (or
        failed), in the start step's runner; it may fail without changing the run's outcome."""
        return k.ScriptTask(
            id=task_id,
            description=description,
            run_if=HOOK_CONDITIONS[on_success],
            allow_failure=True,
            env=dict({ENV_DEPLOYMENT: "{{ vars.%s }}" % DEPLOYMENT_VARIABLE,
                      ENV_EXECUTION_ID: "{{ execution.id }}"}, **env),
            commands=self.task_command(),
            **dict(fields, **self.runner(start, self.settings[start])),
        )

    def task_command(self):
        """The step's one command: the worker's Python (--worker-python) and our task module. Kestra
        renders `commands` once, so the Python's path goes through `literal`, as written."""
        return [literal("%s %s" % (self.options.python, TASK_COMMAND))]

    def runner(self, step, settings):
        """The task runner: Process, or Docker with the image and @resources/@kubernetes limits."""
        if self.options.task_runner == "process":
            return {}
        image = settings.resources.get("image") or self.options.image
        if not image:
            raise UnsupportedFlow(
                "Flow %s, step %s: the docker task runner needs an image: pass --image, or give the step "
                "@kubernetes(image=...)." % (self.flow_name, step)
            )
        if not _IMAGE_REFERENCE.fullmatch(image):
            raise UnsupportedFlow(
                "Flow %s, step %s: the container image %r (from @kubernetes(image=...) or --image) is not an "
                "image reference such as registry.example.com/team/image:tag or image@sha256:<digest>."
                % (self.flow_name, step, image))
        runner = {"type": k.DOCKER_RUNNER}
        if self.options.docker_network:
            runner["networkMode"] = self.options.docker_network
        mount = local_metadata_mount(self.deployment, self.options)
        if mount:
            if not _MOUNTABLE.fullmatch(mount):
                raise UnsupportedFlow(
                    "Flow %s: the local metadata folder %r cannot be mounted into containers (Kestra renders "
                    "volumes: a path of letters, digits, '/', '.', '_' and '-' only). Set "
                    "METAFLOW_DATASTORE_SYSROOT_LOCAL to such a path, or deploy with --metadata=service."
                    % (self.flow_name, mount))
            runner["volumes"] = ["%s:%s" % (mount, mount)]
        if settings.resources.get("cpu"):
            runner["cpu"] = {"cpus": float(settings.resources["cpu"])}
        if settings.resources.get("memory"):
            runner["memory"] = {"memory": "%sMB" % int(float(settings.resources["memory"]))}
        if settings.resources.get("gpu"):
            runner["deviceRequests"] = [{"driver": "nvidia", "count": int(float(settings.resources["gpu"])),
                                         "capabilities": [["gpu"]]}]
        if settings.resources.get("shared_memory"):
            runner["shmSize"] = "%sMB" % int(float(settings.resources["shared_memory"]))
        return {"task_runner": runner, "container_image": image}


# A container image reference, after the grammar of Docker's distribution/reference: an optional
# registry (host[:port]/), lower-case path components, an optional tag and digest. Kestra renders
# containerImage, so nothing else (no template, no space, no option) may reach it.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?(?::[0-9]+)?/)?"
    r"{component}(?:/{component})*"
    r"(?::\w[\w.-]{{0,127}})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{{32,}})?".format(component=_PATH_COMPONENT))


_NETWORK_MODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*(?::[A-Za-z0-9][A-Za-z0-9_.-]*)?")
_MOUNTABLE = re.compile(r"/[A-Za-z0-9/._-]*")


def is_image_reference(text):
    """Whether `text` is a container image reference (and nothing Kestra would render)."""
    return bool(_IMAGE_REFERENCE.fullmatch(text or ""))


def _retry(settings):
    """Kestra's retry for Metaflow's attempts (maxAttempts counts the first one too).

    `maxAttempts`, not the deprecated `maxAttempt` that Kestra 2.0 no longer reads.
    """
    if settings.max_attempts <= 1:
        return None
    return {"type": "constant", "interval": iso_duration(settings.retry_interval_seconds),
            "maxAttempts": settings.max_attempts}


def _first_step(seq):
    item = seq.items[0]
    return item.name if isinstance(item, Step) else item.step


def _reads_sibling_outputs(seq):
    return any(isinstance(item, (ForEach, Switch)) for item in seq.items)


def _docstring(obj):
    return _cleaned(getattr(obj, "__doc__", None) if obj is not None else None)


def _cleaned(doc):
    """A docstring as its author reads it: indentation of the source removed (None if empty)."""
    import inspect

    return inspect.cleandoc(doc) if doc and doc.strip() else None


def _check_ids(flow_name, flow_id, options, graph):
    if not _FLOW_ID.match(flow_id) or flow_id in RESERVED_FLOW_IDS:
        raise KestraError(
            "Flow %s: %r cannot be a Kestra flow id (up to 100 letters, digits, '.', '_' and '-', not one of "
            "Kestra's reserved ids %s). Choose one with --flow-id."
            % (flow_name, flow_id, ", ".join(sorted(RESERVED_FLOW_IDS)))
        )
    if not _NAMESPACE.match(options.namespace):
        raise KestraError(
            "Flow %s: %r is not a Kestra namespace (lowercase letters, digits, '.', '_', '-')."
            % (flow_name, options.namespace)
        )
    if options.task_runner not in ("process", "docker"):
        raise KestraError("Flow %s: --task-runner must be process or docker." % flow_name)
    if options.docker_network and not _NETWORK_MODE.fullmatch(options.docker_network):
        raise KestraError("Flow %s: --docker-network %r is not a Docker network mode (host, bridge, none, a "
                          "network's name or container:<name>)." % (flow_name, options.docker_network))
    if options.foreach not in FOREACH_MODES:
        raise KestraError("Flow %s: --foreach must be one of %s." % (flow_name, ", ".join(FOREACH_MODES)))
    if not isinstance(options.foreach_batch, int) or options.foreach_batch < 1:
        raise KestraError("Flow %s: --foreach-batch must be 1 or more, not %r." % (flow_name, options.foreach_batch))
    if options.kestra_major not in (1, 2):
        raise KestraError("Flow %s: metaflow-kestra writes flows for Kestra 1.x and 2.x, not %r.x; check "
                          "--kestra-version." % (flow_name, options.kestra_major))
    if options.foreach == "subflows" and not options.loops:
        for node in graph:
            child_id = child_flow_id(flow_id, node.name)
            if node.type == "foreach" and not _FLOW_ID.match(child_id):
                raise KestraError(
                    "Flow %s, step %s: the child flow id %r of its foreach is over Kestra's 100 characters. "
                    "Choose a shorter --flow-id." % (flow_name, node.name, child_id))
    if options.max_workers < 1:
        raise KestraError("Flow %s: --max-workers must be at least 1." % flow_name)
    for node in graph:
        if not _KESTRA_ID.match(node.name):
            raise UnsupportedFlow(
                "Flow %s, step %s: Kestra task ids must start with a letter or digit; "
                "rename the step." % (flow_name, node.name)
            )
