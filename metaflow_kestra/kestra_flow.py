"""A plain data model of the Kestra flow we generate.

Only the constructs the compiler emits, each with a `to_dict()` that gives
Kestra's property names; `yaml_out.dump` turns the result into text. Values
that Kestra renders are built by the compiler (expressions of our own) or
passed through `pebble.literal` (user strings): this module does not judge.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Union

SHELL_COMMANDS = "io.kestra.plugin.scripts.shell.Commands"
PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
DOCKER_RUNNER = "io.kestra.plugin.scripts.runner.docker.Docker"
PARALLEL = "io.kestra.plugin.core.flow.Parallel"
SEQUENTIAL = "io.kestra.plugin.core.flow.Sequential"
FOR_EACH = "io.kestra.plugin.core.flow.ForEach"
FOR_EACH_ITEM = "io.kestra.plugin.core.flow.ForEachItem"
LOOP = "io.kestra.plugin.core.flow.Loop"  # Kestra 2.x: each item runs as a sub-execution
SWITCH = "io.kestra.plugin.core.flow.Switch"
LOG = "io.kestra.plugin.core.log.Log"
SCHEDULE = "io.kestra.plugin.core.trigger.Schedule"
WEBHOOK = "io.kestra.plugin.core.trigger.Webhook"
FLOW_TRIGGER = "io.kestra.plugin.core.trigger.Flow"
KV_SET = "io.kestra.plugin.core.kv.Set"


def _without_none(pairs):
    return {key: value for key, value in pairs if value is not None}


@dataclass
class ScriptTask:
    """One Metaflow step: a shell command on the Process task runner."""

    id: str
    commands: Optional[List[str]]  # None: the flow's plugin defaults give them
    env: Dict[str, str] = field(default_factory=dict)
    description: Optional[str] = None
    retry: Optional[dict] = None
    timeout: Optional[str] = None  # ISO-8601 duration
    output_files: List[str] = field(default_factory=list)
    namespace_files: List[str] = field(default_factory=list)  # copied into the working directory
    input_files: Dict[str, str] = field(default_factory=dict)  # file name -> rendered content
    task_runner: Optional[Dict[str, object]] = field(default_factory=lambda: {"type": PROCESS_RUNNER})
    container_image: Optional[str] = None
    run_if: Optional[str] = None  # Kestra's runIf: a Pebble condition (our own text, never a user's)
    allow_failure: bool = False  # a failure shows on the task without failing the execution

    def to_dict(self):
        return _without_none([
            ("id", self.id),
            ("type", SHELL_COMMANDS),
            ("description", self.description),
            ("runIf", self.run_if),
            ("allowFailure", True if self.allow_failure else None),
            ("retry", self.retry),
            ("timeout", self.timeout),
            ("taskRunner", dict(self.task_runner) if self.task_runner else None),
            ("containerImage", self.container_image),
            ("namespaceFiles", {"enabled": True, "include": list(self.namespace_files)}
             if self.namespace_files else None),
            ("env", dict(self.env) or None),
            ("inputFiles", dict(self.input_files) or None),
            ("commands", list(self.commands) if self.commands is not None else None),
            ("outputFiles", list(self.output_files) or None),
        ])


@dataclass
class LogTask:
    id: str
    message: str

    def to_dict(self):
        return {"id": self.id, "type": LOG, "message": self.message}


@dataclass
class KvSetTask:
    """Stores a text under `key` in the flow's namespace KV store."""
    id: str
    key: str
    value: str

    def to_dict(self):
        return {"id": self.id, "type": KV_SET, "key": self.key, "value": self.value, "kvType": "STRING"}


def _flowable(kind, task_id, tasks, description=None, **properties):
    """A group task as Kestra writes it: id, type, description, its own properties, then its tasks."""
    return _without_none([("id", task_id), ("type", kind), ("description", description), *properties.items(),
                          ("tasks", [task.to_dict() for task in tasks])])


@dataclass
class ParallelTask:
    id: str
    tasks: list
    description: Optional[str] = None

    def to_dict(self):
        return _flowable(PARALLEL, self.id, self.tasks, self.description)


@dataclass
class SequentialTask:
    id: str
    tasks: list

    def to_dict(self):
        return _flowable(SEQUENTIAL, self.id, self.tasks)


@dataclass
class ForEachTask:
    id: str
    values: Union[str, List[str]]
    concurrency_limit: int
    tasks: list
    description: Optional[str] = None

    def to_dict(self):
        return _flowable(FOR_EACH, self.id, self.tasks, self.description,
                         values=self.values, concurrencyLimit=self.concurrency_limit)


@dataclass
class LoopTask:
    """Kestra 2.x's foreach: each item of `values` runs `tasks` in a sub-execution of its own.

    `concurrencyLimit` is set every time: Loop's default is one item at a time.
    """

    id: str
    values: str
    concurrency_limit: int
    tasks: list
    description: Optional[str] = None

    def to_dict(self):
        return _flowable(LOOP, self.id, self.tasks, self.description,
                         values=self.values, concurrencyLimit=self.concurrency_limit)


@dataclass
class ForEachItemTask:
    """One child execution of flow `flow_id` per line of the file at `items` (Kestra's ForEachItem).

    The parent keeps counters, not a task run per item, so its size does not grow with the items.
    """

    id: str
    items: str
    namespace: str
    flow_id: str
    inputs: Dict[str, str]
    description: Optional[str] = None

    def to_dict(self):
        return _without_none([
            ("id", self.id), ("type", FOR_EACH_ITEM), ("description", self.description),
            ("items", self.items), ("batch", {"rows": 1}),
            ("namespace", self.namespace), ("flowId", self.flow_id), ("inputs", dict(self.inputs)),
            ("inheritLabels", True), ("wait", True), ("transmitFailed", True),
        ])


@dataclass
class SwitchTask:
    id: str
    value: str
    cases: Dict[str, list]
    description: Optional[str] = None

    def to_dict(self):
        return _without_none([
            ("id", self.id), ("type", SWITCH), ("description", self.description),
            ("value", self.value),
            ("cases", {key: [task.to_dict() for task in tasks] for key, tasks in self.cases.items()}),
        ])


@dataclass
class Input:
    id: str
    type: str
    required: bool
    defaults: object = None
    description: Optional[str] = None

    def to_dict(self):
        return _without_none([
            ("id", self.id), ("type", self.type), ("description", self.description),
            ("required", self.required), ("defaults", self.defaults),
        ])


@dataclass
class KestraFlow:
    id: str
    namespace: str
    tasks: list
    description: Optional[str] = None
    labels: Dict[str, str] = field(default_factory=dict)
    inputs: List[Input] = field(default_factory=list)
    variables: Dict[str, str] = field(default_factory=dict)
    triggers: List[dict] = field(default_factory=list)
    plugin_defaults: List[dict] = field(default_factory=list)  # [{type, values}]
    concurrency: Optional[dict] = None  # {limit, behavior}: how many executions of it run at once
    sla: List[dict] = field(default_factory=list)  # Kestra SLAs: [{id, type, behavior, duration}]
    after_execution: list = field(default_factory=list)  # tasks run once the execution has ended
    notes: List[str] = field(default_factory=list)  # for the person compiling; not part of the YAML
    children: list = field(default_factory=list)  # KestraFlows its ForEachItem tasks start

    def to_dict(self):
        return _without_none([
            ("id", self.id), ("namespace", self.namespace), ("description", self.description),
            ("labels", dict(self.labels) or None),
            ("inputs", [i.to_dict() for i in self.inputs] or None),
            ("variables", dict(self.variables) or None),
            ("concurrency", dict(self.concurrency) if self.concurrency else None),
            ("sla", list(self.sla) or None),
            ("pluginDefaults", list(self.plugin_defaults) or None),
            ("tasks", [task.to_dict() for task in self.tasks]),
            ("afterExecution", [task.to_dict() for task in self.after_execution] or None),
            ("triggers", list(self.triggers) or None),
        ])


    def with_children(self):
        """This flow and every flow it starts, this one first."""
        flows = [self]
        for child in self.children:
            flows.extend(child.with_children())
        return flows


def share_plugin_defaults(tasks):
    """Move what every step task says alike into the flow's `pluginDefaults`, as a Kestra
    user writes it once; return that list. Kestra merges the defaults into each task
    (maps such as `env` key by key, the task's own values winning), so each task runs as
    before."""
    steps = [task for task in walk_tasks(tasks) if isinstance(task, ScriptTask)]
    if len(steps) < 2:
        return []
    shared = {}
    first = steps[0]
    if first.task_runner and all(step.task_runner == first.task_runner for step in steps):
        shared["taskRunner"] = dict(first.task_runner)
        for step in steps:
            step.task_runner = None
    if first.namespace_files and all(step.namespace_files == first.namespace_files for step in steps):
        shared["namespaceFiles"] = {"enabled": True, "include": list(first.namespace_files)}
        for step in steps:
            step.namespace_files = []
    if first.commands is not None and all(step.commands == first.commands for step in steps):
        shared["commands"] = list(first.commands)
        for step in steps:
            step.commands = None
    common_env = {key: value for key, value in first.env.items()
                  if all(step.env.get(key) == value for step in steps)}
    if common_env:
        shared["env"] = common_env
        for step in steps:
            step.env = {key: value for key, value in step.env.items() if key not in common_env}
    return [{"type": SHELL_COMMANDS, "values": shared}] if shared else []


def walk_tasks(tasks):
    """Every task in `tasks`, depth first, flowable tasks before their children."""
    for task in tasks:
        yield task
        children = []
        if isinstance(task, SwitchTask):
            children = [t for case in task.cases.values() for t in case]
        elif hasattr(task, "tasks"):
            children = task.tasks
        yield from walk_tasks(children)


def walk_task_dicts(tasks):
    """Every task of a flow as Kestra returns it (plain dicts), depth first."""
    for task in tasks:
        yield task
        children = list(task.get("tasks") or [])
        for case in (task.get("cases") or {}).values():
            children.extend(case)
        for key in ("errors", "finally", "then", "else", "default"):
            value = task.get(key)
            if isinstance(value, list):
                children.extend(value)
        yield from walk_task_dicts(children)
