"""What Metaflow's decorators mean on Kestra, decided at compile time.

Step decorators become properties of the step's task (`StepSettings`):

    @retry / @catch      Kestra task retry; each Kestra attempt is the next Metaflow attempt
    @timeout             Kestra task timeout (Metaflow enforces it in the step too)
    @environment         task environment variables (made literal for both of Pebble's renders of `env`)
    @secrets             sources of type `kestra` read Kestra secrets via `secret()`
    @resources, @kubernetes, @batch
                         resource hints: recorded; the Process task runner cannot enforce them
    @card                cards are written and attached to the task as output files

A decorator given with `--with` also reaches the step's own command (as Argo
passes it), so it acts in the task as in a local `run --with`.

@exit_hook functions (`exit_hooks`) run after the execution, in Kestra's `afterExecution`.
Flow decorators become triggers (`flow_triggers`): @schedule -> Schedule,
@trigger -> Webhook (one per event), @trigger_on_finish -> Flow trigger on the
upstream's success. Decorators that need an orchestrator feature we do not
provide are refused with the step and decorator named.
"""

import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .errors import KestraError
from .pebble import env_literal

# Step decorators that need an orchestrator feature Kestra's tasks do not give us.
# (@parallel changes the graph's shape: `structure` refuses it, naming its launcher.)
REFUSED = {
    "slurm": "it submits the step to a Slurm cluster, which a Kestra task does not do",
    "nvidia": "it runs the step on NVIDIA's cloud, which a Kestra task does not do",
}
# Decorators that act inside the step process or are handled below: forwarded.
KNOWN = {"retry", "catch", "timeout", "environment", "secrets", "resources", "kubernetes", "batch",
         "card", "conda", "pypi", "uv", "conda_base", "pypi_base"}
# Decorators Metaflow or other schedulers attach for themselves: ignored.
INTERNAL_SUFFIX = "_internal"
RESOURCE_HINTS = ("resources", "kubernetes", "batch")
KESTRA_SECRETS_TYPE = "kestra"
SECRET_ENV_PREFIX = "METAFLOW_KESTRA_SECRET_"  # read by the `kestra` secrets provider
CARDS_DIR = "metaflow-cards"
_SECRET_ID = re.compile(r"^[A-Za-z0-9_]+$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")  # an environment variable's name


class UnsupportedDecorator(KestraError):
    pass


@dataclass
class StepSettings:
    max_attempts: int = 1
    retry_interval_seconds: int = 0
    max_user_code_retries: int = 0
    timeout_seconds: Optional[int] = None
    environment: Dict[str, str] = field(default_factory=dict)
    secrets: List[str] = field(default_factory=list)  # Kestra secret names
    resources: Dict[str, str] = field(default_factory=dict)
    cards: bool = False
    notes: List[str] = field(default_factory=list)
    # Decorators given on the command line (`--with`): the task's step command gets them too.
    added: List[str] = field(default_factory=list)


def step_settings(node, flow_name):
    """The Kestra-side settings of a graph node's step decorators."""
    settings = StepSettings()
    user_retries = error_retries = 0
    for deco in node.decorators:
        name = deco.name
        where = "Flow %s, step %s, @%s" % (flow_name, node.name, name)
        if name in REFUSED:
            raise UnsupportedDecorator(
                "%s is not supported on Kestra: %s. Remove it to deploy this flow on Kestra." % (where, REFUSED[name])
            )
        if name.endswith(INTERNAL_SUFFIX):
            continue
        if not deco.statically_defined and not deco.inserted_by:
            settings.added.append(decorator_spec(deco))
        users, errors = deco.step_task_retry_count()
        user_retries, error_retries = max(user_retries, users), max(error_retries, errors)
        if name == "retry":
            settings.retry_interval_seconds = int(float(deco.attributes.get("minutes_between_retries") or 0) * 60)
        elif name == "timeout":
            settings.timeout_seconds = int(deco.secs) or None
        elif name == "environment":
            settings.environment.update(_environment(deco.attributes.get("vars") or {}, where))
        elif name == "secrets":
            settings.secrets.extend(_kestra_secrets(deco.attributes.get("sources") or [], where))
        elif name in RESOURCE_HINTS:
            settings.resources.update(_resources(deco))
            settings.notes.append("%s: resources apply with --task-runner docker; the Process task runner "
                                  "does not limit them." % where)
            ignored = _unhonoured_fields(deco)
            if ignored:
                settings.notes.append("%s: %s no Kestra task runner can honour: ignored." % (
                    where, ", ".join("%s=%r" % (key, deco.attributes[key]) for key in ignored)))
        elif name == "card":
            settings.cards = True
        elif name not in KNOWN:
            settings.notes.append("%s is forwarded to the step as is (it must only affect the step process)." % where)
    settings.max_user_code_retries = user_retries
    settings.max_attempts = user_retries + error_retries + 1
    return settings


def decorator_spec(deco):
    """`name:attr=value,...` as `--with` takes it, for an argument list (no shell in between).

    Metaflow's `make_decorator_spec` escapes the quotes of JSON values for the shell Argo
    runs its command in; our step command is an argument list, so the values stay as they are.
    """
    import json

    deco.external_init()
    attributes = []
    for name, value in deco.attributes.items():
        if value is None:
            continue
        text = str(value) if isinstance(value, (int, float, str)) else json.dumps(value)
        attributes.append("%s=%s" % (name, text))
    return "%s:%s" % (deco.name, ",".join(attributes)) if attributes else deco.name


def _environment(variables, where):
    env = {}
    for key, value in variables.items():
        if not ENV_NAME.match(str(key)):
            raise UnsupportedDecorator("%s: %r is not an environment variable name." % (where, key))
        env[str(key)] = env_literal(str(value))
    return env


def _kestra_secrets(sources, where):
    """Names of the Kestra secrets among @secrets sources (others are Metaflow's to fetch)."""
    from metaflow.plugins.secrets.secrets_spec import SecretSpec

    names = []
    for source in sources:
        try:
            spec = (SecretSpec.secret_spec_from_dict(source, None) if isinstance(source, dict)
                    else SecretSpec.secret_spec_from_str(source, None))
        except Exception:
            continue  # no default backend configured: Metaflow reports it in the task
        if spec.secrets_backend_type != KESTRA_SECRETS_TYPE:
            continue
        if not _SECRET_ID.match(spec.secret_id):
            raise UnsupportedDecorator(
                "%s: Kestra secret names use letters, digits and '_' only, got %r." % (where, spec.secret_id)
            )
        names.append(spec.secret_id)
    return names


# What the Docker task runner honours of @resources/@kubernetes/@batch: cpu -> cpu.cpus, memory ->
# memory.memory (MB), gpu -> deviceRequests (NVIDIA), shared_memory -> shmSize (MB), image.
HONOURED_RESOURCES = ("cpu", "memory", "gpu", "image", "shared_memory")


def _resources(deco):
    """What the Docker runner honours of the decorator. Its image only when the user gave one:
    @kubernetes fills in python:<version> by itself, which must not replace --image."""
    given = getattr(deco, "_user_defined_attributes", None)
    hints = {}
    for key in HONOURED_RESOURCES:
        if key == "image" and given is not None and key not in given:
            continue
        value = deco.attributes.get(key)
        if value not in (None, "", 0, "0"):
            hints[key] = str(value)
    return hints


def _unhonoured_fields(deco):
    """The decorator's fields set to something other than their default that no task runner here
    honours (node_selector, tolerations, queue...), in declaration order."""
    try:
        baseline = type(deco)()
        baseline.external_init()
        deco.external_init()
    except Exception:  # noqa: BLE001 - a decorator we cannot compare: say nothing rather than guess
        return []
    return [key for key, value in deco.attributes.items()
            if key not in HONOURED_RESOURCES and value != baseline.attributes.get(key)
            and not (key == "gpu_vendor" and str(value).lower() == "nvidia")]


def iso_duration(seconds):
    return "PT%dS" % max(int(seconds), 1)


# -- flow level ----------------------------------------------------------


@dataclass
class EventMapping:
    name: str
    parameters: Dict[str, str]  # Metaflow parameter -> payload field


@dataclass
class FlowTriggers:
    schedule: Optional[str] = None
    timezone: Optional[str] = None
    events: List[EventMapping] = field(default_factory=list)
    upstream: Dict[str, str] = field(default_factory=dict)  # Kestra flow id -> Metaflow flow name


@dataclass(frozen=True)
class ExitHook:
    function: str  # a function of the flow file, or an import path (Metaflow's exit_hook_script)
    on_success: bool  # else on error


def exit_hooks(flow, flow_name):
    """The functions of the flow's @exit_hook decorators, in order: success hooks, then error hooks."""
    from metaflow.decorators import flow_decorators

    hooks = []
    for deco in flow_decorators(flow):
        if deco.name != "exit_hook":
            continue
        for key, on_success in (("on_success", True), ("on_error", False)):
            for function in deco.attributes.get(key) or []:
                name = function if isinstance(function, str) else getattr(function, "__name__", None)
                if not name:
                    raise UnsupportedDecorator("Flow %s, @exit_hook(%s=...): %r is neither a function nor "
                                               "the name of one." % (flow_name, key, function))
                hooks.append(ExitHook(name, on_success))
    return hooks


def flow_triggers(flow, flow_name, flow_id_for=str.lower):
    """@schedule, @trigger and @trigger_on_finish of a flow, resolved at deploy time.

    `flow_id_for(name, project_branch)` gives the Kestra flow id of an upstream
    flow (project_branch is "project.branch" when the trigger names one).
    """
    from metaflow.decorators import flow_decorators

    triggers = FlowTriggers()
    for deco in flow_decorators(flow):
        where = "Flow %s, @%s" % (flow_name, deco.name)
        if deco.name == "schedule" and getattr(deco, "schedule", None):
            triggers.schedule = standard_cron(deco.schedule, where)
            triggers.timezone = deco.timezone
        elif deco.name == "trigger":
            for event in deco.triggers:
                triggers.events.append(_event_mapping(event, where))
        elif deco.name == "trigger_on_finish":
            for trigger in deco.triggers:
                scope = "%s.%s" % (trigger["project"], trigger["branch"]) if trigger.get("project") else None
                triggers.upstream[flow_id_for(trigger["flow"], scope)] = trigger["flow"]
    return triggers


def _event_mapping(event, where):
    from metaflow.parameters import deploy_time_eval

    name = str(deploy_time_eval(event["name"]))
    parameters = deploy_time_eval(event.get("parameters")) or {}
    if not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", name):
        raise UnsupportedDecorator(
            "%s: event name %r must use letters, digits, '_', '.' and '-' (it becomes a webhook key)."
            % (where, name)
        )
    return EventMapping(name, {str(k): str(v) for k, v in dict(parameters).items()})


def standard_cron(expression, where):
    """A 5-field cron Kestra accepts from Metaflow's (AWS-style 6-field ones included)."""
    fields = expression.split()
    if len(fields) == 6:
        fields = fields[:5]  # drop AWS's year field
    if len(fields) != 5:
        raise UnsupportedDecorator("%s: %r is not a cron expression Kestra understands." % (where, expression))
    return " ".join("*" if part == "?" else part for part in fields)
