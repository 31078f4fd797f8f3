"""Deployments carry their code: no source path in the YAML, runs survive the source moving away."""

import shutil

import pytest

from metaflow_kestra import code_package, yaml_out
from metaflow_kestra.errors import KestraError
from tests.flow_loading import flow_path
from tests.flow_runs import FlowWorkspace
from tests.standin_engine import StandinEngine


def project_copy(tmp_path, *names):
    """The sample flows copied into their own project directory (not the datastore's)."""
    source = tmp_path / "project-src"
    source.mkdir()
    for name in names:
        shutil.copy(flow_path(name), source / ("%s.py" % name))
    (source / "helpers.py").write_text("FACTOR = 3\n")
    return source


def test_yaml_names_no_path_of_the_flow_directory(tmp_path):
    workspace = FlowWorkspace(tmp_path / "work")
    (tmp_path / "work").mkdir()
    source = project_copy(tmp_path, "linear_flow")
    text = workspace.compile(str(source / "linear_flow.py"))
    assert str(source) not in text and "project-src" not in text
    deployment = yaml_out.load(text)["variables"]["metaflow_deployment"]
    assert '"flow_file":"linear_flow.py"' in deployment and '"code_sha":"' in deployment
    for task in yaml_out.load(text)["tasks"]:
        assert task["namespaceFiles"]["include"][0].startswith("metaflow-code/linearflow/")


def test_a_deployed_flow_runs_after_its_source_is_deleted_and_a_redeploy_runs_new_code(tmp_path):
    (tmp_path / "work").mkdir()
    workspace = FlowWorkspace(tmp_path / "work")
    workspace.env["METAFLOW_KESTRA_CODE_CACHE"] = str(tmp_path / "code-cache")
    source = project_copy(tmp_path, "linear_flow")
    flow_file = source / "linear_flow.py"
    flow_file.write_text(flow_file.read_text().replace("def start(self):", "def start(self):\n        import helpers\n        self.version = 'v1-%d' % helpers.FACTOR", 1))
    old_text = workspace.compile(str(flow_file))

    flow_file.write_text(flow_file.read_text().replace("'v1-%d'", "'v2-%d'"))
    new_text = workspace.compile(str(flow_file))
    assert yaml_out.load(old_text)["variables"] != yaml_out.load(new_text)["variables"]  # new sha

    shutil.rmtree(source)  # the user deletes (or moves) the project
    for text, execution, version in ((old_text, "old1", "v1-3"), (new_text, "new1", "v2-3")):
        engine = StandinEngine(text, execution, environ=workspace.env)
        assert engine.run() == "SUCCESS", "\n".join(engine.logs)
        start = dict(workspace.artifacts("LinearFlow", "kestra-" + execution, name="linear_flow")["steps"]["start"][0])
        assert start["version"] == repr(version)


def test_a_missing_package_fails_the_task_saying_which_and_why(tmp_path):
    with pytest.raises(KestraError, match="code package 0123456789ab is not in this task's working directory"):
        code_package.unpack(str(tmp_path / "metaflow-code/f/0123456789abcdef.tgz"), "0123456789abcdef",
                            root=str(tmp_path / "cache"))
