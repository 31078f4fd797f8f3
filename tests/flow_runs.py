"""Run a sample flow locally or compile it, in an isolated Metaflow root, and read its artifacts.

Every Metaflow call goes through a subprocess with the root in its
environment, so tests never depend on what this process imported first.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

from metaflow_kestra.local_server.server import worker_environment
from tests.flow_loading import flow_path

# A run's artifacts as JSON, {successful, steps: {step: [sorted [name, value] per task]}}, read by
# Metaflow's client in its own process (argv: FLOW/RUN_ID, the flow file, "repr" or "digest").
# Values are reprs, or the first 16 hex digits of their SHA-256: benchmarks/correctness.py
# compares a 10,000-task run, whose reprs in full would be half a gigabyte.
DUMP_ARTIFACTS = r"""
import hashlib, json, runpy, sys
import __main__
from metaflow import Run, namespace
# Artifacts of classes defined in the flow file unpickle as __main__.<name>.
vars(__main__).update(runpy.run_path(sys.argv[2], run_name="flow_module"))
namespace(None)
digest = sys.argv[3] == "digest"


def value(data):
    text = repr(data)
    return hashlib.sha256(text.encode()).hexdigest()[:16] if digest else text


run = Run(sys.argv[1])
out = {"successful": run.successful, "steps": {}}
for step in run:
    tasks = []
    for task in step:
        tasks.append(sorted([a.id, value(a.data)] for a in task.artifacts if not a.id.startswith("_")))
    out["steps"][step.id] = sorted(tasks)
print(json.dumps(out))
"""


class FlowWorkspace:
    """A directory holding one Metaflow root (`.metaflow`) for the runs of a test."""

    def __init__(self, root):
        self.root = Path(root)
        # What a task on the local server's Process runner sees: this Python first on PATH.
        self.env = worker_environment(os.environ)
        self.env["METAFLOW_DATASTORE_SYSROOT_LOCAL"] = str(self.root)
        self.env["METAFLOW_USER"] = "tester"  # fixed: flow ids under @project name the user
        self.env["METAFLOW_DEFAULT_DATASTORE"] = "local"
        self.env["METAFLOW_DEFAULT_METADATA"] = "local"
        self.env["METAFLOW_TOKEN_HOME"] = str(self.root / "production-tokens")  # not ~/.metaflowconfig
        # No Kestra server but the one a test names (tests/e2e/conftest.py): none from the developer's
        # environment, and not the developer's local server (its version would change what compile writes).
        for name in ("METAFLOW_KESTRA_HOST", "METAFLOW_KESTRA_USER", "METAFLOW_KESTRA_PASSWORD",
                     "METAFLOW_KESTRA_TOKEN", "METAFLOW_KESTRA_TENANT"):
            self.env.pop(name, None)
        self.env["METAFLOW_KESTRA_HOME"] = str(self.root / "kestra-home")

    def flow_command(self, name, *args, check=True):
        """`python <flow> args...` for a sample flow's name (or a flow file's absolute path)."""
        script = name if os.path.isabs(str(name)) else flow_path(name)
        command = [sys.executable, str(script)] + list(args)
        done = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True)
        if check and done.returncode:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(command), done.returncode,
                                                             done.stdout, done.stderr))
        return done

    def run_locally(self, name, *params):
        return self.run_locally_with((), name, *params)

    def run_locally_with(self, top_level, name, *params):
        """A local `run`, with top-level options (`--with ...`) before the command."""
        run_id_file = self.root / ("%s.local-run-id" % os.path.basename(str(name)))
        self.flow_command(name, *top_level, "run", "--run-id-file", str(run_id_file), *params)
        return run_id_file.read_text().strip()

    def compile(self, name, *options, top_level=()):
        """The flow's Kestra YAML, from `kestra compile` (its code package is written beside it)."""
        stem = os.path.basename(str(name)).replace(".py", "")
        target = self.root / ("%s.yaml" % stem)
        package = self.root / ("%s.tgz" % stem)
        self.flow_command(name, *top_level, "kestra", "compile", str(target), "--package-file", str(package),
                          *options)
        return target.read_text()

    def client(self, script, *args):
        """The stdout of `script` (Python reading runs with Metaflow's client) run in this workspace."""
        done = subprocess.run([sys.executable, "-c", script, *map(str, args)], cwd=self.root, env=self.env,
                              capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(done.stderr)
        return done.stdout

    def artifacts(self, flow_name, run_id, name=None):
        """{successful, steps: {step: sorted [(artifact, repr)] per task}} of a run of sample `name`
        (or of a flow file's absolute path)."""
        name = name or _sample_name(flow_name)
        script = name if os.path.isabs(str(name)) else flow_path(name)
        return json.loads(self.client(DUMP_ARTIFACTS, "%s/%s" % (flow_name, run_id), script, "repr"))


def _sample_name(flow_name):
    """tests/flows/<snake_case>.py for a flow class name: SplitInForeachFlow -> split_in_foreach_flow."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", flow_name).lower()
