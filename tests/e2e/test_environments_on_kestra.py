"""Metaflow environments on Kestra: a `--environment=uv` flow project runs each step in the
environment its uv.lock pins, bootstrapped on the worker as Argo does, and records what a local
`run --environment=uv` records."""

import json
import shutil
import subprocess
import sys
import textwrap
from importlib.metadata import version

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0

# A package the worker's own Python does not have (checked below), pinned by the project's uv.lock.
PACKAGE, PINNED = "pyfiglet", "1.0.4"

FLOW = """
    from metaflow import FlowSpec, step


    class UvFlow(FlowSpec):
        @step
        def start(self):
            from importlib.metadata import version

            import pyfiglet

            self.pyfiglet_version = version("pyfiglet")
            self.banner_lines = len(pyfiglet.figlet_format("uv").splitlines())
            self.next(self.end)

        @step
        def end(self):
            import sys

            self.interpreter_is_the_projects = ".venv" in sys.executable


    if __name__ == "__main__":
        UvFlow()
"""

_SEEN = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
run = Run(sys.argv[1])
print(json.dumps({"successful": run.successful, "version": run["start"].task.data.pyfiglet_version,
                  "lines": run["start"].task.data.banner_lines,
                  "venv": run["end"].task.data.interpreter_is_the_projects}))
"""


def uv_project(workspace):
    """The workspace as a uv project: pyproject.toml (Metaflow and the pinned package), uv.lock, the flow."""
    uv = shutil.which("uv", path=workspace.env["PATH"])
    assert uv, "uv is a dev dependency of this project (pyproject.toml)"
    (workspace.root / "pyproject.toml").write_text(textwrap.dedent("""
        [project]
        name = "uv-flow-project"
        version = "0.1.0"
        requires-python = ">=3.9"
        dependencies = ["metaflow==%s", "%s==%s"]
    """ % (version("metaflow"), PACKAGE, PINNED)))
    (workspace.root / "uv_flow.py").write_text(textwrap.dedent(FLOW))
    subprocess.run([uv, "lock", "--quiet"], cwd=workspace.root, env=workspace.env, check=True)
    return uv


def seen(workspace, run_id):
    return json.loads(workspace.client(_SEEN, "UvFlow/%s" % run_id))


def test_a_uv_project_runs_each_step_in_its_locked_environment(workspace):
    assert subprocess.run([sys.executable, "-c", "import %s" % PACKAGE]).returncode != 0, \
        "the worker's Python must lack the package for this test to mean anything"
    uv = uv_project(workspace)
    flow_file = str(workspace.root / "uv_flow.py")
    # A local run as Metaflow documents it for uv: in the synced project's environment.
    subprocess.run([uv, "sync", "--quiet"], cwd=workspace.root, env=workspace.env, check=True)
    local_id_file = workspace.root / "local.run-id"
    subprocess.run([uv, "run", "--no-sync", "python", flow_file, "--environment=uv", "run",
                    "--run-id-file", str(local_id_file)], cwd=workspace.root, env=workspace.env, check=True,
                   capture_output=True)
    shutil.rmtree(workspace.root / ".venv")  # the worker builds its own from the code package
    local = seen(workspace, local_id_file.read_text())

    _, run_id = run_on_kestra(workspace, flow_file, top_level=["--environment=uv"])
    on_kestra = seen(workspace, run_id)
    assert local == on_kestra == {"successful": True, "version": PINNED, "lines": local["lines"], "venv": True}
    print("uv flow: %s %s recorded on Kestra (run %s) and locally" % (PACKAGE, on_kestra["version"], run_id))
