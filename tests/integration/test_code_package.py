"""Deployments carry their code: no source path in the YAML, a missing package is named.

That runs survive the source moving away is checked on the real Kestra, in
tests/e2e/test_code_package_on_kestra.py.
"""

import yaml
import shutil

import pytest

from metaflow_kestra import code_package
from metaflow_kestra.errors import KestraError
from tests.flow_loading import flow_path
from tests.flow_runs import FlowWorkspace


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
    deployment = yaml.safe_load(text)["variables"]["metaflow_deployment"]
    assert '"flow_file":"linear_flow.py"' in deployment and '"code_sha":"' in deployment
    [defaults] = yaml.safe_load(text)["pluginDefaults"]  # every step lists the package: said once
    assert defaults["values"]["namespaceFiles"]["include"][0].startswith("metaflow-code/linearflow/")


def test_a_missing_package_fails_the_task_saying_which_and_why(tmp_path):
    with pytest.raises(KestraError, match="code package 0123456789ab is not in this task's working directory"):
        code_package.unpack(str(tmp_path / "metaflow-code/f/0123456789abcdef.tgz"), "0123456789abcdef",
                            root=str(tmp_path / "cache"))
