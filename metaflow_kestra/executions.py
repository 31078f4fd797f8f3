"""Operating the executions of a deployed flow: start, follow, describe, resume, events.

What `python flow.py kestra trigger|run|status|logs|resume|send-event` do
once the flow is on Kestra (deploying it is `deploying`), without click.
"""

import datetime
import json
import time

from . import ids, states
from .errors import KestraError, flow_command
from .parameters import BOOLEAN, JSON, parameter_kinds
from .progress import ProgressPrinter, failed_steps
from .started_by import TAGS_LABEL  # the runtime reads the run's tags there

FLOW_LABEL = "metaflow-flow"
USER_LABEL = "metaflow-user"


def trigger_inputs(flow, values):
    """Kestra input fields from the `--<param>` values given on the command line."""
    kinds = parameter_kinds(flow)
    fields = {}
    for name, kind in kinds.items():
        value = values.get(name.replace("-", "_").lower())
        if value is None:
            continue
        if callable(value) and not isinstance(value, (str, bytes)):
            value = value(return_str=True)  # Metaflow's DelayedEvaluationParameter
        if kind == JSON and not isinstance(value, str):
            value = json.dumps(value)
        elif kind == BOOLEAN:
            value = "true" if value in (True, "true", "True", "1") else "false"
        fields[name] = str(value)
    return fields


def run_labels(flow_name, tags=()):
    from metaflow.util import get_username

    labels = {FLOW_LABEL: flow_name, USER_LABEL: get_username() or "unknown"}
    if tags:
        labels[TAGS_LABEL] = ",".join(tags)
    return labels


def start_execution(client, target, flow_name, inputs, tags=(), extra_labels=None):
    """Start an execution with its labels; return the Metaflow run id.

    Labels go in the trigger call: Kestra refuses to change the labels of an
    execution that is not terminated (HTTP 400). The run id needs no label:
    it is `kestra-<execution id>`.
    """
    client.check_supported()
    # Kestra starts executions of a deleted flow's last revision too: check first.
    client.flow(target.namespace, target.flow_id)
    labels = run_labels(flow_name, tags)
    labels.update(extra_labels or {})
    execution_id = client.trigger(target.namespace, target.flow_id, inputs=inputs, labels=labels)["id"]
    return ids.run_id_for(execution_id)


def execution_url(connection, target, execution_id):
    return "%s/ui/%s/executions/%s/%s/%s" % (
        connection.url, connection.tenant, target.namespace, target.flow_id, execution_id
    )


def follow(client, execution_id, steps, echo, timeout, explain=None):
    """Wait for the execution with live per-step progress; show failed steps' logs. Return its state.

    `explain(step, messages)` may turn a failed step's log messages into one line for people
    (worker_problems: a worker without Python or Metaflow), echoed after its logs."""
    loops = client.kestra_major() >= 2
    progress = ProgressPrinter(steps, echo, loop_items=client.loop_executions if loops else None)
    began = time.monotonic()
    execution = client.wait(execution_id, timeout=timeout, on_update=progress)
    if loops:
        progress(execution, settle_loop_items(client, execution, timeout - (time.monotonic() - began)))
    state = execution["state"]["current"]
    if state != "SUCCESS":
        for failed, step in failed_tasks(client, execution, set(steps)):
            where = "" if failed["id"] == execution_id else " (child execution %s)" % failed["id"]
            echo("--- logs of failed step %s%s ---" % (step, where))
            entries = settled_logs(client, failed["id"], step)
            for line in format_logs(entries)[-40:]:
                echo(line)
            explained = explain(step, [entry.get("message") or "" for entry in entries]) if explain else None
            if explained:
                echo(explained)
    return state


def settled_logs(client, execution_id, task_id):
    """A task's log entries once Kestra has stored them all (see `settled`)."""
    return settled(lambda: client.logs(execution_id, task_id=task_id), expected_tasks={task_id})


def settled(read_entries, expected_tasks=(), quiet=2.0, poll=0.5, timeout=15, now=time.monotonic):
    """Log entries, read until they have not changed for `quiet` seconds and every task in
    `expected_tasks` (tasks that ran) has lines, or until `timeout`.

    Kestra stores log lines through a queue, after the task run's state: right after a run ends
    its last lines (a failure's traceback, the last step's lines) may not be there yet. CI saw two
    reads half a second apart agree while the last step's lines were still on the way.
    """
    deadline = now() + timeout
    entries, same_reads, unchanged_since = None, 0, None
    while True:
        latest = read_entries()
        moment = now()
        if latest == entries:
            same_reads += 1
        else:
            entries, same_reads, unchanged_since = latest, 1, moment
        logged = {entry.get("taskId") for entry in entries if isinstance(entry, dict)}
        if same_reads >= 2 and moment - unchanged_since >= quiet and set(expected_tasks) <= logged:
            return entries
        if moment >= deadline:
            return entries
        time.sleep(poll)


def steps_that_ran(execution, steps):
    """The steps with a task run of this execution that ran to an end (these have log lines)."""
    return {run["taskId"] for run in execution.get("taskRunList") or ()
            if run.get("taskId") in steps and run["state"]["current"] in ("SUCCESS", "FAILED", "WARNING")}


def ended_recently(execution, seconds=60):
    """Whether the execution ended less than `seconds` ago (its logs may still be arriving)."""
    end = execution["state"].get("endDate")
    if execution["state"]["current"] not in states.TERMINAL or not end:
        return False
    ended = datetime.datetime.fromisoformat(end.replace("Z", "+00:00"))
    if ended.tzinfo is None:
        ended = ended.replace(tzinfo=datetime.timezone.utc)
    return (datetime.datetime.now(datetime.timezone.utc) - ended).total_seconds() < seconds


def settle_loop_items(client, execution, timeout, poll=0.5):
    """Kestra 2.x: wait for the Loop items still running under an execution that has ended.

    Kestra 2.0.0 ends a run when one item fails and lets the others run on; the run is not
    over for Metaflow (or for a Restart) until they end. Returns the items.
    """
    deadline = time.monotonic() + max(timeout, 0)
    while True:
        items = client.loop_executions(execution)
        running = [item for item in items if item["state"]["current"] not in states.TERMINAL]
        if not running:
            return items
        if time.monotonic() > deadline:
            raise KestraError("Execution %s ended %s, but %d of its foreach items are still running on Kestra."
                              % (execution["id"], execution["state"]["current"], len(running)))
        time.sleep(poll)


def failed_tasks(client, execution, steps, limit=3, settle=15, poll=0.5):
    """(execution, step) of failed steps: in the execution, then in its failed child executions
    (a foreach body run with `--foreach subflows`, or a Loop's items on Kestra 2.x), the first
    `limit` of them at each depth."""
    found = [(execution, step) for step in failed_steps(execution, steps)]
    for child in _failed_children(client, execution["id"], limit, settle, poll):
        found.extend(failed_tasks(client, client.execution(child["id"]), steps, limit, settle, poll))
    return found


def _failed_children(client, execution_id, limit, settle, poll):
    """The failed children of an execution that has ended, once the search shows them ended.

    Kestra's indexer stores an execution after its executor has moved on: right after a
    parent failed because a child did, the search may still show that child running (CI saw
    it). Waits up to `settle` seconds for no child to show as running; returns the first `limit`.
    """
    deadline = time.monotonic() + settle
    while client.child_executions(execution_id, states=states.ACTIVE, size=1) and time.monotonic() < deadline:
        time.sleep(poll)
    return client.child_executions(execution_id, states=states.FAILED, size=limit)


def run_logs(client, execution_id, task_id=None):
    """Log entries of the run: its execution's and those of the child executions it started
    (foreach bodies with `--foreach subflows`, Loop items on Kestra 2.x), at every depth, in time
    order, each with a `label` that tells foreach items and attempts apart (`score[1] attempt 2`)."""
    entries, todo = [], [(execution_id, None)]
    while todo:
        current, item = todo.pop()
        found = client.logs(current, task_id=task_id)
        if found:
            label_entries(found, client.execution(current), item)
            entries.extend(found)
        for child in client.child_executions(current, size=100000):
            child_item = (child.get("loopRun") or {}).get("index")
            todo.append((child["id"], child_item if child_item is not None else item))
    return sorted(entries, key=lambda entry: entry.get("timestamp") or "")


def label_entries(entries, execution, item=None):
    """Set each entry's `label`: its task, the foreach item its task run ran (the task run's value
    in-flow, else the item of the child execution), and its attempt when it is not the first."""
    values = {run["id"]: run.get("value") for run in execution.get("taskRunList") or []}
    for entry in entries:
        value = values.get(entry.get("taskRunId"))
        if value is None:
            value = item
        label = entry.get("taskId", "")
        if value is not None:
            label += "[%s]" % value
        attempt = entry.get("attemptNumber") or 0
        if attempt:
            label += " attempt %d" % (attempt + 1)
        entry["label"] = label
    return entries


def format_logs(entries):
    return ["%s %-5s [%s] %s" % (e.get("timestamp", "")[:19], e.get("level", ""), e.get("label") or e.get("taskId", ""),
                                 e.get("message", "")) for e in entries]


def graph_order(graph):
    """The flow's step names in the order the graph runs them (Metaflow's own iteration is by name)."""
    ordered = list(getattr(graph, "sorted_nodes", None) or ())
    return ordered + sorted(node.name for node in graph if node.name not in ordered)


def execution_of(run_id):
    """The execution id of a run id, given as `kestra-<id>` or as the pathspec `Flow/kestra-<id>`
    that `run --wait` prints."""
    flow, _, run = run_id.rpartition("/")
    try:
        if flow and "/" in flow:
            raise KestraError(run_id)
        return ids.execution_id_of(run if flow else run_id)
    except KestraError:
        raise KestraError(
            "%s is not a run started by Kestra: metaflow-kestra run ids look like kestra-<execution id> "
            "(or, as a pathspec, <Flow>/kestra-<execution id>)." % run_id
        )


def execution_of_flow(client, target, run_id):
    """The Kestra execution of `run_id`, checked to belong to this flow's deployment."""
    execution = client.execution(execution_of(run_id))
    if (execution.get("namespace"), execution.get("flowId")) != (target.namespace, target.flow_id):
        raise KestraError(
            "Run %s belongs to Kestra flow %s.%s, not %s.%s: run the command with that flow's file "
            "(or --kestra-namespace/--flow-id)." % (
                run_id, execution.get("namespace"), execution.get("flowId"), target.namespace, target.flow_id)
        )
    return execution


def describe_execution(execution, flow_name):
    state = execution["state"]
    return "%s/%s  %-9s started %s  ended %s" % (
        flow_name, ids.run_id_for(execution["id"]), state["current"],
        (state.get("startDate") or "-")[:19], (state.get("endDate") or "-")[:19],
    )


def descendants(graph, step):
    """`step` and every step after it (what `resume --step` runs again)."""
    seen, todo = [], [step]
    while todo:
        name = todo.pop(0)
        if name not in seen:
            seen.append(name)
            todo.extend(graph[name].out_funcs)
    return seen


def resume_execution(client, target, context, origin_run_id, step=None, tags=()):
    """Start an execution that clones the origin run's finished tasks (all but `step` and after)."""
    from .started_by import ORIGIN_LABEL, RERUN_LABEL

    origin = execution_of_flow(client, target, origin_run_id)
    if origin["state"]["current"] not in states.TERMINAL:
        # Metaflow's resume clones what finished: a run still going has not finished what it will.
        raise KestraError("Run %s is %s: resume clones a run that has ended. Wait for it (`%s`) or "
                          "stop it (`%s`), then resume it." % (
                              origin_run_id, origin["state"]["current"],
                              flow_command("kestra wait --run-id %s" % origin_run_id),
                              flow_command("kestra terminate --run-id %s" % origin_run_id)))
    if step is not None and step not in [node.name for node in context.graph]:
        raise KestraError("Flow %s has no step %r to resume from." % (context.flow_name, step))
    inputs = {name: _input_field(value) for name, value in (origin.get("inputs") or {}).items()
              if value is not None}
    extra = {ORIGIN_LABEL: origin_run_id}
    if step is not None:
        extra[RERUN_LABEL] = ",".join(descendants(context.graph, step))
    return start_execution(client, target, context.flow_name, inputs, tags, extra_labels=extra)


def restart_execution(client, target, run_id, settle=60):
    """Kestra's Restart of a failed run: its failed task runs start again, as their next Metaflow
    attempt of the same run (same run id). Returns once Kestra shows the restart."""
    execution = execution_of_flow(client, target, run_id)
    state = execution["state"]["current"]
    if state not in states.TERMINAL:
        raise KestraError("Run %s is %s: Kestra restarts only a failed run, and this one has not ended. "
                          "Wait for it (`%s`); if it fails, restart it then."
                          % (run_id, state, flow_command("kestra wait --run-id %s" % run_id)))
    if state != "FAILED":
        raise KestraError("Run %s is %s: Kestra restarts only a failed run. Use `%s` (with --step <step> "
                          "to run finished steps again) for a new run that reuses what finished."
                          % (run_id, state, flow_command("kestra resume --clone-run-id %s" % run_id)))
    if client.kestra_major() >= 2:
        _check_loops_restartable(client, execution, run_id, settle_loop_items(client, execution, settle))
    seen = len(execution["state"].get("histories") or [])
    client.restart(execution["id"])
    _settle(client, execution["id"], lambda now: len(now["state"].get("histories") or []) > seen, settle,
            "Kestra accepted the restart of run %s but did not start it within %ds." % (run_id, settle))


def suspend_execution(client, target, run_id, settle=60):
    """Pause a running run (Argo's suspend): tasks already running finish, no new task starts
    until `unsuspend_execution`. The executions running its foreach items pause too."""
    execution = execution_of_flow(client, target, run_id)
    if execution["state"]["current"] != "RUNNING":
        raise KestraError("Run %s is %s: only a running run can be suspended."
                          % (run_id, execution["state"]["current"]))
    client.pause(execution["id"])
    for child in client.child_executions(execution["id"], states=["RUNNING"]):
        _quietly(client.pause, child["id"])  # it may have ended meanwhile
    _settle(client, execution["id"], lambda now: now["state"]["current"] == "PAUSED", settle,
            "Kestra accepted the suspension of run %s but did not pause it within %ds." % (run_id, settle))


def unsuspend_execution(client, target, run_id, settle=60):
    """Resume a suspended run (Argo's unsuspend): it goes on from where it stopped."""
    execution = execution_of_flow(client, target, run_id)
    if execution["state"]["current"] != "PAUSED":
        raise KestraError("Run %s is %s: only a suspended run can be unsuspended."
                          % (run_id, execution["state"]["current"]))
    for child in client.child_executions(execution["id"], states=["PAUSED"]):
        _quietly(client.resume, child["id"])
    client.resume(execution["id"])
    _settle(client, execution["id"], lambda now: now["state"]["current"] != "PAUSED", settle,
            "Kestra accepted the resumption of run %s but it was still paused after %ds." % (run_id, settle))


def _quietly(action, execution_id):
    try:
        action(execution_id)
    except KestraError:
        pass


def _settle(client, execution_id, reached, seconds, message):
    """Wait until the execution read back satisfies `reached`: Kestra applies restarts, pauses and
    resumes through its queues, so the execution read right after the call may not show them yet."""
    deadline = time.monotonic() + seconds
    while not reached(client.execution(execution_id)):
        if time.monotonic() > deadline:
            raise KestraError(message)
        time.sleep(0.2)


def _check_loops_restartable(client, execution, run_id, items):
    """Kestra 2.0.0 can record a Loop as successful after one of its items failed (a later
    item's success overwrites the failure); its Restart then never runs that item again."""
    execution = client.execution(execution["id"])  # the Loop's state once its items have ended
    by_id = {item["id"]: item for item in items}
    by_id[execution["id"]] = execution
    for item in items:
        if item["state"]["current"] not in states.FAILED:
            continue
        parent = by_id.get(item.get("parentId"))
        if parent is None:
            continue
        if "taskRunList" not in parent:  # Kestra's own search leaves the task runs out
            parent = by_id[parent["id"]] = client.execution(parent["id"])
        loop_run = item.get("loopRun") or {}
        loop_state = next((run["state"]["current"] for run in parent.get("taskRunList") or []
                           if run["id"] == loop_run.get("taskRunId")), None)
        if loop_state is not None and loop_state not in states.FAILED:
            raise KestraError(
                "Run %s: Kestra %s recorded foreach %s as %s although its item %s failed, so Kestra's "
                "Restart cannot run that item again. Resume the run instead: `%s` reuses every task that "
                "finished." % (
                    run_id, client.server_version(), loop_run.get("taskId"), loop_state, loop_run.get("index"),
                    flow_command("kestra resume --clone-run-id %s" % run_id)))


def _input_field(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _event_receiver(client, flow, name):
    """The deployed receiver flow of event `name` for `flow` (which waits for several events)."""
    from .client import KestraApiError
    from .event_receivers import receiver_flow_id

    receiver_id = receiver_flow_id(flow["id"], name)
    try:
        return client.flow(flow["namespace"], receiver_id)
    except KestraApiError as error:
        if error.status_code != 404:
            raise
        raise KestraError("Kestra flow %s.%s waits for event %s at flow %s, which is not on the server: deploy "
                          "the Metaflow flow again (`kestra create`)." % (flow["namespace"], flow["id"], name,
                                                                          receiver_id))


def send_event(client, name, payload):
    """POST `payload` to the webhook of every deployed flow that @trigger-s on event `name`.

    The webhook's key is random (see compiler.kestra_triggers): it is read from each deployed
    flow, which the API shows only with credentials. A flow that waits for several events takes
    each at its receiver flow (event_receivers). Returns the (namespace, flow id) reached; a flow
    whose receiver is missing is reported (KestraError) once every other flow has the event.
    """
    from .compiler import event_trigger_id
    from .deployment import Deployment
    from .event_receivers import all_of
    from .kestra_flow import WEBHOOK

    from .started_by import event_payload

    body = event_payload(name, payload)
    reached, broken = [], []
    for flow in client.search_flows():
        text = (flow.get("variables") or {}).get("metaflow_deployment")
        try:
            deployment = Deployment.from_json(text) if text else None
            events = [event["name"] for event in deployment.events] if deployment else []
        except (KestraError, ValueError, KeyError, TypeError):
            continue  # not one of ours, or another version's: its own send-event serves it
        if name not in events:
            continue
        receiver = flow
        if all_of(events):
            if flow["id"] != deployment.kestra_flow_id:
                continue  # a foreach body's child flow: its flow's receiver takes the event
            try:
                receiver = _event_receiver(client, flow, name)
            except KestraError as error:  # the others still get the event; this one is reported
                broken.append(str(error))
                continue
        for trigger in receiver.get("triggers") or []:
            if trigger.get("type") == WEBHOOK and trigger.get("id") == event_trigger_id(name):
                client.webhook(receiver["namespace"], receiver["id"], trigger["key"], body)
                reached.append((flow["namespace"], flow["id"]))
    if broken:
        raise KestraError("%s; but %s" % (
            "Sent event %s to %s" % (name, ", ".join("%s.%s" % f for f in reached)) if reached
            else "Sent event %s to no flow" % name, " ".join(broken)))
    return reached
