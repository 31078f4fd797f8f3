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

_DUMP = r"""
import json, runpy, sys
import __main__
from metaflow import Run, namespace
# Artifacts of classes defined in the flow file unpickle as __main__.<name>.
vars(__main__).update(runpy.run_path(sys.argv[2], run_name="flow_module"))
namespace(None)
run = Run(sys.argv[1])
out = {"successful": run.successful, "steps": {}}
for step in run:
    tasks = []
    for task in step:
        tasks.append(sorted((a.id, repr(a.data)) for a in task.artifacts if not a.id.startswith("_")))
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
        self.env.setdefault("METAFLOW_USER", "tester")
        self.env["METAFLOW_DEFAULT_DATASTORE"] = "local"
        self.env["METAFLOW_DEFAULT_METADATA"] = "local"

    def flow_command(self, name, *args, check=True):
        command = [sys.executable, str(flow_path(name))] + list(args)
        done = subprocess.run(command, cwd=self.root, env=self.env, capture_output=True, text=True)
        if check and done.returncode:
            raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(command), done.returncode,
                                                             done.stdout, done.stderr))
        return done

    def run_locally(self, name, *params):
        run_id_file = self.root / ("%s.local-run-id" % name)
        self.flow_command(name, "run", "--run-id-file", str(run_id_file), *params)
        return run_id_file.read_text().strip()

    def compile(self, name, *options):
        target = self.root / ("%s.yaml" % name)
        self.flow_command(name, "kestra", "compile", str(target), *options)
        return target.read_text()

    def artifacts(self, flow_name, run_id, name=None):
        """{successful, steps: {step: sorted [(artifact, repr)] per task}} of a run of sample `name`."""
        name = name or _sample_name(flow_name)
        done = subprocess.run([sys.executable, "-c", _DUMP, "%s/%s" % (flow_name, run_id), str(flow_path(name))],
                              cwd=self.root, env=self.env, capture_output=True, text=True)
        if done.returncode:
            raise AssertionError(done.stderr)
        return json.loads(done.stdout)


def _sample_name(flow_name):
    """tests/flows/<snake_case>.py for a flow class name: SplitInForeachFlow -> split_in_foreach_flow."""
    import re

    return re.sub(r"(?<!^)(?=[A-Z])", "_", flow_name).lower()
