"""Each task runs the Metaflow and the Metaflow extensions of its code package, as on Argo: a flow
using a decorator from an extension the deploying machine has (and the worker lacks) runs."""

import json
import textwrap

import pytest

from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.kestra_logs import log_text

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0

EXTENSION = {
    "metaflow_extensions/acme/plugins/mfextinit_acme.py": """
        STEP_DECORATORS_DESC = [("acme_stamp", ".stamp.AcmeStampDecorator")]
    """,
    "metaflow_extensions/acme/plugins/stamp.py": """
        from metaflow.decorators import StepDecorator


        class AcmeStampDecorator(StepDecorator):
            name = "acme_stamp"
            defaults = {"label": "acme"}

            def task_pre_step(self, step_name, task_datastore, metadata, run_id, task_id, flow, graph,
                              retry_count, max_user_code_retries, ubf_context, inputs):
                flow.acme_label = self.attributes["label"]
    """,
}

FLOW = """
    import metaflow
    from metaflow import FlowSpec, acme_stamp, step


    class AcmeFlow(FlowSpec):
        @acme_stamp(label="stamped by the company extension")
        @step
        def start(self):
            self.metaflow_file = metaflow.__file__
            self.next(self.end)

        @step
        def end(self):
            pass


    if __name__ == "__main__":
        AcmeFlow()
"""

_SEEN = r"""
import json, sys
from metaflow import Run, namespace
namespace(None)
start = Run(sys.argv[1])["start"].task.data
print(json.dumps({"label": start.acme_label, "metaflow_file": start.metaflow_file}))
"""


def deploying_machine_with_extension(workspace):
    """The flow file, with the acme extension importable by the deploying commands only (the
    Kestra worker, started before, has no such extension)."""
    extension_root = workspace.root / "company-extensions"
    for relative, source in EXTENSION.items():
        path = extension_root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    flow_file = workspace.root / "acme_flow.py"
    flow_file.write_text(textwrap.dedent(FLOW))
    workspace.env["PYTHONPATH"] = str(extension_root)
    return flow_file


def seen(workspace, run_id):
    return json.loads(workspace.client(_SEEN, "AcmeFlow/%s" % run_id))


def test_a_decorator_from_the_deploying_machine_s_extension_runs_on_a_worker_without_it(workspace):
    flow_file = deploying_machine_with_extension(workspace)
    local = seen(workspace, workspace.run_locally(str(flow_file)))
    _, run_id = run_on_kestra(workspace, str(flow_file))
    on_kestra = seen(workspace, run_id)
    assert on_kestra["label"] == local["label"] == "stamped by the company extension"
    # The step imported the package's Metaflow (the worker's lacks the extension).
    assert "/.mf_code/metaflow/" in on_kestra["metaflow_file"], on_kestra


def test_with_worker_metaflow_the_worker_s_own_metaflow_runs_the_step(workspace, kestra_client):
    flow_file = deploying_machine_with_extension(workspace)
    done, run_id = run_on_kestra(workspace, str(flow_file), "--worker-metaflow", check=False)
    assert done.returncode == 1
    logs = log_text(kestra_client, run_id[len("kestra-"):], task_id="start", expecting="acme_stamp")
    assert "acme_stamp" in logs
