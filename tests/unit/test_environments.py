"""Metaflow environments on the worker: what is missing is said in one line; the cached package
is never changed by a bootstrap that moves files out of it."""

import os
import shutil

import pytest

from metaflow_kestra.environments import check_worker_has, environment_class, private_mirror
from metaflow_kestra.errors import KestraError


@pytest.mark.parametrize("name,tool", [("uv", "uv"), ("pypi", "micromamba"), ("conda", "micromamba")])
def test_a_worker_without_the_bootstrap_s_tool_is_told_what_to_install(name, tool):
    with pytest.raises(KestraError) as raised:
        check_worker_has(name, "TrainFlow", "start", which=lambda command: None)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Flow TrainFlow, step start: --environment=%s needs `%s`" % (name, tool))
    assert "install" in message
    check_worker_has(name, "TrainFlow", "start", which=lambda command: "/usr/bin/" + command)


def test_an_environment_the_worker_s_metaflow_lacks_is_refused_naming_it():
    assert environment_class("uv", "F").TYPE == "uv"
    with pytest.raises(KestraError, match="--environment=nix, which the worker's Metaflow does not know"):
        environment_class("nix", "F")


def test_moving_a_file_out_of_the_mirror_leaves_the_package_as_it_was(tmp_path):
    package = tmp_path / "package"
    (package / ".mf_meta").mkdir(parents=True)
    (package / ".mf_meta" / "uv.lock").write_text("lock")
    (package / "flow.py").write_text("flow")
    work = tmp_path / "work"
    work.mkdir()
    mirror = private_mirror(str(package), str(work))
    shutil.move(os.path.join(mirror, ".mf_meta", "uv.lock"), str(work / "uv.lock"))  # as uv's bootstrap does
    assert (work / "uv.lock").read_text() == "lock"
    assert (package / ".mf_meta" / "uv.lock").read_text() == "lock"
    assert open(os.path.join(mirror, "flow.py")).read() == "flow"
