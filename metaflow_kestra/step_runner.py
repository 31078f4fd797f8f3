"""Runs Metaflow's own commands (`init`, `step`, `step --clone-only`) for one task."""

import contextlib
import os
import runpy
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback

from . import ids
from .parameters import init_environment

CONFIGS_FILE = "metaflow-kestra-configs.json"  # frozen Config values, for --local-config-file


class TaskFailed(Exception):
    """The step (or init) exited non-zero; its own output already says why."""

    def __init__(self, returncode):
        super().__init__("exit status %d" % returncode)
        self.returncode = returncode


class StepRunner:
    """Runs Metaflow commands for one deployment, with the interpreter running us."""

    def __init__(self, deployment, environ, execution_id=None, trigger_options=(), flow_file=None,
                 added_decorators=(), step_env=None, in_process=True, deadline=None, environment=None,
                 run_tags=()):
        """`step_env`: what a step process needs to run the code package's Metaflow (PYTHONPATH);
        `in_process`: whether this interpreter's Metaflow is that one, so a step may run here;
        `run_tags`: the tags this run was started with, beside the deployment's."""
        self.deployment = deployment
        self.run_tags = list(run_tags)
        self.added_decorators = list(added_decorators)  # the step's `--with` decorators
        self.in_process_allowed = in_process
        self.deadline = deadline  # when --workflow-timeout ends the run (epoch seconds), if it does
        # A Metaflow environment's bootstrap (environments.bootstrap), run before the first command:
        # it gives the commands' environment and interpreter. Its steps never run in this process.
        self.environment = environment
        self.executable = [sys.executable]
        if environment is not None:
            self.in_process_allowed = False
        self.flow_file = flow_file or deployment.flow_file
        self.execution_id = execution_id
        self.trigger_options = list(trigger_options)
        self.config_file = None
        self.environ = dict(environ)
        self.environ.update(deployment.environment_variables)
        self.environ.update(step_env or {})
        self.from_package = flow_file is not None
        if self.from_package:
            # The code cache keeps exactly the package's files (code_package.unpack): no bytecode
            # may be written beside them, by this process or by the step's.
            self.environ["PYTHONDONTWRITEBYTECODE"] = "1"

    def init(self, run_id, input_values):
        """Metaflow's `init` (the run's `_parameters` task): in a fork of this interpreter when its
        Metaflow is the step's, saving an interpreter start per run, and leaving this process free
        to run the start step itself."""
        env = dict(self.environ)
        env.update(init_environment(self.deployment.parameters, input_values))
        args = ["init", "--run-id", run_id, "--task-id", ids.PARAMETERS_TASK_ID] + self._tags()
        if self.in_process_allowed and _can_fork():
            self._run_forked(args, env)
        else:
            self._call(args, env)

    def step(self, step, run_id, task_id, paths, split_index=None, in_process=False, attempt=0,
             user_retries=0):
        """Run one Metaflow task; `in_process` saves an interpreter start (once per process)."""
        with _input_paths_file(paths) as inputs:
            args = [
                "step", step, "--run-id", run_id, "--task-id", task_id,
                "--retry-count", str(attempt), "--max-user-code-retries", str(user_retries),
                "--input-paths-filename", inputs,
            ]
            if split_index is not None:
                args += ["--split-index", str(split_index)]
            if in_process and self.in_process_allowed:
                self._run_here(args + self._tags())
            else:
                self._call(args + self._tags(), self.environ)

    def clone(self, step, run_id, task_id, paths, origin, attempt=0):
        """Copy the finished origin task into this run (Metaflow's `step --clone-only`)."""
        with _input_paths_file(paths) as inputs:
            self._call([
                "step", step, "--run-id", run_id, "--task-id", task_id, "--retry-count", str(attempt),
                "--input-paths-filename", inputs,
                "--clone-only", origin, "--clone-run-id", origin.split("/")[0],
            ] + self._tags(), self.environ)
        print("metaflow-kestra: cloned %s/%s from %s (resume)." % (run_id, task_id, origin), flush=True)

    def exit_hook(self, function, run_pathspec):
        """Metaflow's own exit_hook_script: the function (of the flow file, or an import path),
        given the Run when it takes one. The client reads the deployment's metadata and datastore."""
        env = dict(self.environ)
        env["METAFLOW_DEFAULT_METADATA"] = self.deployment.metadata
        env["METAFLOW_DEFAULT_DATASTORE"] = self.deployment.datastore
        if self.deployment.datastore != "local" and self.deployment.datastore_root:
            env["METAFLOW_DATASTORE_SYSROOT_%s" % self.deployment.datastore.upper()] = self.deployment.datastore_root
        command = [sys.executable, "-m", "metaflow.plugins.exit_hook.exit_hook_script",
                   os.path.basename(self.flow_file), function, run_pathspec]
        returncode = subprocess.call(command, env=env, cwd=os.path.dirname(os.path.abspath(self.flow_file)))
        if returncode:
            raise TaskFailed(returncode)

    def _top_level(self):
        options = self.deployment.top_level_options() + self.trigger_options
        options += ["--with=%s" % spec for spec in self.added_decorators]
        if self.deployment.configs:
            if self.config_file is None:
                # In the task's working directory, which Kestra removes after the task.
                self.config_file = os.path.abspath(CONFIGS_FILE)
                self.deployment.write_configs(self.config_file)
            options += self.deployment.config_options(self.config_file)
        return options

    def _tags(self):
        return [arg for tag in self.tags() for arg in ("--tag", tag)]

    def tags(self):
        """The deployment's and the run's tags, and tags naming the Kestra flow and execution (findable
        both ways)."""
        tags = list(self.deployment.tags)
        tags += [tag for tag in self.run_tags if tag not in tags]
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
        if self.from_package:
            sys.dont_write_bytecode = True  # as PYTHONDONTWRITEBYTECODE above, for this process
        # Metaflow registers some pickled classes (ForeachFrame) on __main__ when
        # first imported; the flow's own __main__ must carry them too.
        main = sys.modules["__main__"]
        carried = {
            name: value for name, value in vars(main).items()
            if isinstance(value, type) and value.__module__ == "__main__"
        }
        try:
            with _recording_the_deadline(self.deadline, self.deployment.workflow_timeout):
                runpy.run_path(flow_file, init_globals=carried, run_name="__main__")
            returncode = 0
        except SystemExit as stop:
            returncode = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        finally:
            sys.argv, sys.path[:] = saved_argv, saved_path
            sys.stdout.flush()
        if returncode:
            raise TaskFailed(returncode)

    def _run_forked(self, args, env):
        """`python flow.py <args>` with environment `env`, in a child of this process (`_run_here` there)."""
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child: never returns
            status = 1
            try:
                os.environ.clear()
                os.environ.update(env)
                self._run_here(args)
                status = 0
            except TaskFailed as failed:
                status = failed.returncode
            except BaseException:  # noqa: B036 - reported, then the child ends with status 1
                traceback.print_exc()
            finally:
                try:
                    sys.stdout.flush()
                    sys.stderr.flush()
                finally:
                    os._exit(status)
        returncode = os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1])  # as subprocess's: -N for signal N
        if returncode:
            raise TaskFailed(returncode)

    def _call(self, args, env):
        if self.environment is not None:
            extra = {key: value for key, value in env.items() if self.environ.get(key) != value}
            self.environ, self.executable = self.environment(self.environ)
            self.environment = None  # once per task
            env = dict(self.environ, **extra)
        command = self.executable + [self.flow_file] + self._top_level() + args
        returncode = subprocess.call(command, env=env)
        if returncode:
            raise TaskFailed(returncode)


def _can_fork():
    """Whether a fork of this process is safe: a POSIX system, and no thread besides this one."""
    return hasattr(os, "fork") and threading.active_count() == 1


@contextlib.contextmanager
def _recording_the_deadline(deadline, seconds):
    """While the step runs here: a SIGTERM at the run's deadline (Kestra's SLA ending the run)
    becomes a TimeoutError in the step, which Metaflow records as the task's exception with the
    artifacts so far, as it does for @timeout. Any other SIGTERM ends the process as before."""
    if not deadline:
        yield
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_term(signum, frame):
        if time.time() >= deadline - 1:
            signal.signal(signal.SIGTERM, previous)  # a second one is not caught again
            raise TimeoutError("The run exceeded its --workflow-timeout of %ds: Kestra ended it, and this "
                               "task with it." % seconds)
        signal.signal(signal.SIGTERM, previous)
        os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _input_paths_file(paths):
    """A file holding the input pathspecs (a foreach join's list can exceed a command line)."""
    with tempfile.NamedTemporaryFile("w", suffix=".inputs", delete=False) as handle:
        handle.write(",".join(paths))
    try:
        yield handle.name
    finally:
        os.unlink(handle.name)
