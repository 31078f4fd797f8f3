"""A stand-in for Kestra's executor, for integration tests of compiler + runtime.

NOT Kestra, and no substitute for the e2e tests against the real server: it
runs a generated flow's YAML on this machine the way Kestra's engine is
documented and coded to (task runs, ForEach values on direct children,
`parents` closest first, outputs keyed by iteration values, `currentEachOutput`),
and renders only the handful of expressions the compiler emits, failing loudly
on anything else. It lets every graph shape be checked against a local
Metaflow run here, where no Kestra server can be obtained.

Branches of Parallel and ForEach items run one after the other (concurrency
is Kestra's job, not what is being tested).
"""

import glob
import json
import os
import re
import shutil
import subprocess
import tempfile
from datetime import datetime, timezone
from dataclasses import dataclass, field
from typing import Optional

import yaml

# Where the stand-in's "Kestra" keeps namespace files (an environment entry of the engine's environ).
NAMESPACE_FILES_ENV = "STANDIN_NAMESPACE_FILES"
_OUTPUTS_LINE = re.compile(r"^::(\{.*\})::$")
_EXPRESSION = re.compile(r"\{\{(.*?)\}\}|\{%\s*raw\s*%\}(.*?)\{%\s*endraw\s*%\}", re.S)


class StandinFailure(Exception):
    pass


@dataclass
class TaskRun:
    task_id: str
    value: Optional[str]
    parent: Optional["TaskRun"]
    outputs: dict = field(default_factory=dict)


class StandinEngine:
    def __init__(self, flow_yaml, execution_id, inputs=None, environ=None, labels=None, secrets=None,
                 trigger=None):
        self.flow = yaml.safe_load(flow_yaml)
        self.execution_id = execution_id
        self.secrets = dict(secrets or {})
        self.trigger = trigger  # Kestra's `trigger` variables, when a trigger started the execution
        self.start_date = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        # Kestra copies the flow's labels onto each execution, then adds the trigger's.
        self.labels = dict(self.flow.get("labels") or {}, **(labels or {}))
        self.inputs = self._inputs_with_defaults(inputs or {})
        self.environ = dict(os.environ if environ is None else environ)
        self.task_runs = []
        self.logs = []
        self.succeeded = {}  # script task runs kept by a restart: key -> outputs

    def run(self):
        """Run the flow; return "SUCCESS" or "FAILED"."""
        try:
            self._run_tasks(self.flow["tasks"], parent=None, value=None)
        except StandinFailure as failure:
            self.logs.append("FAILED: %s" % failure)
            return "FAILED"
        return "SUCCESS"

    def restart(self):
        """Kestra's Restart: keep the successful task runs, run the failed ones again, go on."""
        self.task_runs = []
        return self.run()

    # -- engine ----------------------------------------------------------

    @staticmethod
    def _key(run):
        values, current = [], run
        while current is not None:
            values.append((current.task_id, current.value))
            current = current.parent
        return tuple(values)

    def _run_tasks(self, tasks, parent, value):
        for task in tasks:
            self._run_task(task, parent, value)

    def _run_task(self, task, parent, value):
        run = TaskRun(task["id"], value, parent)
        self.task_runs.append(run)
        kind = task["type"].rsplit(".", 1)[-1]
        if kind == "Commands":
            self._run_commands(task, run)
        elif kind == "Log":
            self.render(task["message"], run)
        elif kind in ("Sequential", "Parallel"):
            self._run_tasks(task["tasks"], run, None)
        elif kind == "ForEach":
            values = task["values"]
            if isinstance(values, str):
                values = json.loads(self.render(values, run))
            for item in values:
                self._run_tasks(task["tasks"], run, str(item))
        elif kind == "Switch":
            chosen = self.render(task["value"], run)
            run.outputs = {"value": chosen, "defaults": chosen not in task["cases"]}
            tasks = task["cases"].get(chosen, task.get("defaults"))
            if not tasks:
                raise StandinFailure("No task found on switch %s for value %r" % (task["id"], chosen))
            self._run_tasks(tasks, run, None)
        else:
            raise StandinFailure("stand-in engine does not know task type %s" % task["type"])

    def _run_commands(self, task, run):
        kept = self.succeeded.get(self._key(run))
        if kept is not None:
            run.outputs = kept
            return
        attempts = (task.get("retry") or {}).get("maxAttempt", 1)
        for attempt in range(1, attempts + 1):
            try:
                self._attempt(task, run)
                break
            except StandinFailure:
                if attempt == attempts:
                    raise
                self.logs.append("[%s] retrying (attempt %d of %d)" % (task["id"], attempt + 1, attempts))
        self.succeeded[self._key(run)] = run.outputs

    def _attempt(self, task, run):
        """One attempt, in a fresh working directory, as the Process task runner gives."""
        env = dict(self.environ)
        env.update({name: self.render(text, run) for name, text in (task.get("env") or {}).items()})
        timeout = _seconds(task["timeout"]) if task.get("timeout") else None
        run.outputs = {}
        with tempfile.TemporaryDirectory() as workdir:
            self._copy_namespace_files(task, workdir)
            for command in task["commands"]:
                command = self.render(command, run)
                try:
                    done = subprocess.run(command, shell=True, env=env, capture_output=True, text=True,
                                          cwd=workdir, timeout=timeout)
                except subprocess.TimeoutExpired:
                    self.logs.append("[%s] timed out after %ss" % (task["id"], timeout))
                    raise StandinFailure("task %s timed out after %ss" % (task["id"], timeout))
                self.logs.append("[%s] %s\n%s%s" % (task["id"], command, done.stdout, done.stderr))
                for line in done.stdout.splitlines():
                    match = _OUTPUTS_LINE.match(line.strip())
                    if match:
                        run.outputs.setdefault("vars", {}).update(json.loads(match.group(1))["outputs"])
                if done.returncode:
                    raise StandinFailure("task %s exited %d:\n%s" % (task["id"], done.returncode, done.stderr[-3000:]))
            files = {}
            for pattern in task.get("outputFiles") or []:
                for path in glob.glob(os.path.join(workdir, pattern)):
                    with open(path, encoding="utf-8") as handle:
                        files[os.path.relpath(path, workdir)] = handle.read()
            if files:
                run.outputs["outputFiles"] = files

    def _copy_namespace_files(self, task, workdir):
        """What `namespaceFiles: {enabled, include}` does: copy matching files into the working directory."""
        spec = task.get("namespaceFiles") or {}
        if not spec.get("enabled"):
            return
        store = self.environ.get(NAMESPACE_FILES_ENV)
        for pattern in spec.get("include") or []:
            for path in glob.glob(os.path.join(store, pattern)) if store else []:
                destination = os.path.join(workdir, os.path.relpath(path, store))
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copyfile(path, destination)

    # -- Kestra's variables ------------------------------------------------

    def parents(self, run):
        """Kestra's `parents`: enclosing task runs closest first, those with a value or outputs."""
        result, current = [], run.parent
        while current is not None:
            entry = {}
            if current.value is not None:
                entry["taskrun"] = {"value": current.value}
            if current.outputs:
                entry["outputs"] = current.outputs
            if entry:
                result.append(entry)
            current = current.parent
        return result

    def outputs(self):
        """Kestra's `outputs`: per task id, nested by the values of valued ancestors, then its own."""
        result = {}
        for run in self.task_runs:
            if not run.outputs:
                continue
            keys = []
            current = run.parent
            while current is not None:
                if current.value is not None:
                    keys.insert(0, current.value)
                current = current.parent
            if run.value is not None:
                keys.append(run.value)
            node = result.setdefault(run.task_id, {})
            for key in keys[:-1]:
                node = node.setdefault(key, {})
            if keys:
                node[keys[-1]] = run.outputs
            else:
                node.update(run.outputs)
        return result

    def current_each_output(self, outputs, run):
        for parent in reversed(self.parents(run)):
            if "taskrun" in parent:
                outputs = outputs[parent["taskrun"]["value"]]
        if run.value is None:
            raise StandinFailure("currentEachOutput from %s, which is not a ForEach item" % run.task_id)
        return outputs[run.value]

    def render(self, text, run):
        return _EXPRESSION.sub(lambda match: self._expression(match, run), text)

    def _expression(self, match, run):
        if match.group(2) is not None:
            return match.group(2)
        expression = match.group(1).strip()
        to_json = expression.endswith("| toJson")
        if to_json:
            expression = expression[: -len("| toJson")].strip()
        value = self._evaluate(expression, run)
        if to_json:
            return json.dumps(value)
        if isinstance(value, (dict, list)):
            return json.dumps(value)
        return str(value)

    def _evaluate(self, expression, run):
        if expression == "execution.id":
            return self.execution_id
        if expression == "execution.startDate":
            return self.start_date
        if expression == "(trigger ?? '')":
            return self.trigger if self.trigger is not None else ""
        secret = re.fullmatch(r"secret\('([A-Za-z0-9_]+)'\)", expression)
        if secret:
            return self.secrets[secret.group(1)]
        if expression == "taskrun.value":
            if run.value is None:
                raise StandinFailure("Missing variable: 'value' on 'taskrun' in task %s" % run.task_id)
            return run.value
        if expression == "parents":
            return self.parents(run)
        if expression == "inputs":
            return self.inputs
        if expression == "labels":
            return self.labels
        literal = re.fullmatch(r"'((?:[^'\\]|\\.)*)'", expression)
        if literal:
            return re.sub(r"\\(.)", r"\1", literal.group(1))
        variable = re.fullmatch(r"vars\.(\w+)", expression)
        if variable:
            return self.flow["variables"][variable.group(1)]
        output = re.fullmatch(r"(currentEachOutput\(outputs\.([\w-]+)\)|outputs\.([\w-]+))\.vars\.(\w+)", expression)
        if output:
            task_id = output.group(2) or output.group(3)
            outputs = self.outputs()[task_id]
            if output.group(2):
                outputs = self.current_each_output(outputs, run)
            return outputs["vars"][output.group(4)]
        raise StandinFailure("stand-in engine cannot render {{ %s }}" % expression)

    def _inputs_with_defaults(self, given):
        values = {}
        for spec in self.flow.get("inputs") or []:
            name = spec["id"]
            if name in given:
                values[name] = _typed(spec["type"], given[name])
            elif "defaults" in spec:
                values[name] = _typed(spec["type"], self.render(spec["defaults"], None)
                                      if isinstance(spec["defaults"], str) else spec["defaults"])
            elif spec.get("required"):
                raise StandinFailure("input %s is required" % name)
            else:
                values[name] = None
        return values


def _typed(kind, value):
    if not isinstance(value, str):
        return value
    if kind == "INT":
        return int(value)
    if kind == "FLOAT":
        return float(value)
    if kind == "BOOLEAN":
        return value.lower() == "true"
    if kind == "JSON":
        return json.loads(value)
    return value


def _seconds(duration):
    match = re.fullmatch(r"PT(\d+)S", duration)
    if not match:
        raise StandinFailure("stand-in engine reads durations as PT<n>S, got %r" % duration)
    return int(match.group(1))
