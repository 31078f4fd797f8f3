"""Which Metaflow a step runs: the code package's, in this process only when it is this one's."""

import json
import os
import shutil

import pytest

from metaflow_kestra import package_metaflow

V1 = json.dumps({"version": 0, "archive_format": "tgz", "mfcontent_version": 1})


@pytest.fixture(scope="module")
def running_copy(tmp_path_factory):
    """A package directory whose `.mf_code` holds this interpreter's Metaflow and extensions."""
    package = tmp_path_factory.mktemp("package")
    content = package / ".mf_code"
    for name in ("metaflow", "metaflow_extensions"):
        for location in package_metaflow._running_locations(name):
            if os.path.isdir(location):
                shutil.copytree(location, content / name, dirs_exist_ok=True,
                                ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (content / "metaflow_extensions" / "__init__.py").write_text("# placeholder Metaflow writes\n")
    (package / "flow.py").write_text("# the flow\n")
    return package


def fresh(running_copy, tmp_path):
    target = tmp_path / "package"
    shutil.copytree(running_copy, target)
    return str(target)


def test_the_step_environment_puts_the_package_content_first(tmp_path):
    env = package_metaflow.step_environment("/pkg", V1, {"PYTHONPATH": "/mine"})
    assert env == {"PYTHONPATH": "/pkg/.mf_code:/mine", "METAFLOW_EXTRACTED_ROOT": "/pkg"}
    assert package_metaflow.step_environment("/pkg", "", {})["PYTHONPATH"] == "/pkg/.mf_code"


def test_a_package_of_this_very_metaflow_may_run_in_this_process(running_copy, tmp_path):
    package = fresh(running_copy, tmp_path)
    assert package_metaflow.same_as_running(package, V1)
    assert any(name.startswith(".metaflow-kestra-same-as-") for name in os.listdir(package))  # remembered


def test_a_changed_metaflow_file_runs_in_a_child_process(running_copy, tmp_path):
    package = fresh(running_copy, tmp_path)
    with open(os.path.join(package, ".mf_code", "metaflow", "cli.py"), "a") as handle:
        handle.write("# changed on the deploying machine\n")
    assert not package_metaflow.same_as_running(package, V1)


def test_an_extension_the_worker_lacks_runs_in_a_child_process(running_copy, tmp_path):
    package = fresh(running_copy, tmp_path)
    extra = os.path.join(package, ".mf_code", "metaflow_extensions", "acme", "plugins")
    os.makedirs(extra)
    open(os.path.join(extra, "mfextinit_acme.py"), "w").close()
    assert not package_metaflow.same_as_running(package, V1)


def test_any_other_module_in_the_package_content_runs_in_a_child_process(running_copy, tmp_path):
    package = fresh(running_copy, tmp_path)
    with open(os.path.join(package, ".mf_code", "shadow.py"), "w") as handle:
        handle.write("X = 1\n")
    assert not package_metaflow.same_as_running(package, V1)
