"""The worker image's recipe and what a deployment hands a container (no Docker engine needed)."""

import shlex

import pytest

from metaflow_kestra.containers import debian_base, worker_image
from metaflow_kestra.deploying import container_environment, secret_names
from metaflow_kestra.errors import KestraError


def test_the_install_script_quotes_every_requirement_and_checks_the_imports():
    hostile = "pkg; rm -rf / #"
    script = worker_image.install_script(["/build/metaflow_kestra-1-py3-none-any.whl", "metaflow==2.19.39", hostile])
    assert shlex.quote(hostile) in script and "pkg; rm" not in script.replace(shlex.quote(hostile), "")
    assert script.index(". /build/pip.env") < script.index("python3 -m venv /opt/metaflow-kestra")
    assert script.endswith("/opt/metaflow-kestra/bin/python -c 'import metaflow, metaflow_kestra.task'")


def test_the_image_is_rebuilt_exactly_when_an_input_changes():
    base = worker_image.inputs_digest("sha256:b", {"metaflow": "2.19.39"}, "code", "")
    assert base == worker_image.inputs_digest("sha256:b", {"metaflow": "2.19.39"}, "code", "")
    for changed in (worker_image.inputs_digest("sha256:c", {"metaflow": "2.19.39"}, "code", ""),
                    worker_image.inputs_digest("sha256:b", {"metaflow": "2.19.40"}, "code", ""),
                    worker_image.inputs_digest("sha256:b", {"metaflow": "2.19.39"}, "code2", ""),
                    worker_image.inputs_digest("sha256:b", {"metaflow": "2.19.39"}, "code", "numpy\n")):
        assert changed != base


def test_the_code_digest_follows_this_package_s_python_files(tmp_path, monkeypatch):
    assert worker_image.code_digest() == worker_image.code_digest()
    assert len(worker_image.code_digest()) == 64


def test_pip_settings_stay_in_a_private_file_and_out_of_the_image(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_INDEX_URL", "https://user:s3cret@pypi.example.com/simple")
    monkeypatch.delenv("PIP_EXTRA_INDEX_URL", raising=False)
    worker_image._write_pip_settings(str(tmp_path))
    settings = tmp_path / "pip.env"
    assert settings.stat().st_mode & 0o077 == 0
    assert "export PIP_INDEX_URL=https://user:s3cret@pypi.example.com/simple" in settings.read_text()


@pytest.mark.parametrize("text,mirror", [
    ("Types: deb\nURIs: http://mirror.example.com/debian\nSuites: bookworm\n", "http://mirror.example.com/debian"),
    ("deb [signed-by=/k.gpg] https://deb.example.org/debian bookworm main\n", "https://deb.example.org/debian"),
    ("# nothing here\n", debian_base.DEFAULT_MIRROR),
])
def test_the_debian_mirror_is_the_one_apt_uses(tmp_path, text, mirror):
    sources = tmp_path / "sources"
    sources.write_text(text)
    assert debian_base.apt_mirror([str(sources)]) == mirror


def test_the_base_tag_changes_with_the_ca_bundle_the_image_trusts(tmp_path):
    bundle = tmp_path / "ca.crt"
    bundle.write_text("one")
    first = debian_base.base_tag("http://m/debian", str(bundle))
    bundle.write_text("two")
    assert debian_base.base_tag("http://m/debian", str(bundle)) != first
    assert first.startswith("metaflow-kestra-base:bookworm-")


def test_containers_get_the_datastore_settings_but_no_credentials(monkeypatch):
    from metaflow import metaflow_config

    monkeypatch.setattr(metaflow_config, "S3_ENDPOINT_URL", "http://127.0.0.1:9000", raising=False)
    monkeypatch.setattr(metaflow_config, "DATASTORE_SYSROOT_S3", "s3://bucket/metaflow", raising=False)
    env = container_environment()
    assert env["METAFLOW_S3_ENDPOINT_URL"] == "http://127.0.0.1:9000"
    assert env["METAFLOW_DATASTORE_SYSROOT_S3"] == "s3://bucket/metaflow"
    assert not any("SECRET" in name or name.startswith("AWS_") for name in env)


def test_secret_names_come_from_the_option_and_the_environment(monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_SECRETS", "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY")
    assert secret_names(["TOKEN", "AWS_ACCESS_KEY_ID"], "F") == ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "TOKEN"]
    monkeypatch.delenv("METAFLOW_KESTRA_SECRETS")
    for bad in ("1ABC", "A-B", "A')}}{{x", ""):
        with pytest.raises(KestraError, match="Flow F: --secret"):
            secret_names([bad], "F")


def test_image_build_refuses_a_tag_that_is_no_image_reference_in_one_line():
    from click.testing import CliRunner

    from metaflow_kestra.cli import main

    done = CliRunner().invoke(main, ["image", "build", "--tag", "Team Flows:{{ x }}"])
    assert done.exit_code == 1
    assert done.output.strip().splitlines() == [
        "--tag 'Team Flows:{{ x }}' is not an image reference such as registry.example.com/team/flows:1."]


def test_image_build_without_docker_says_how_to_get_it(monkeypatch, tmp_path):
    from click.testing import CliRunner

    from metaflow_kestra.cli import main

    monkeypatch.setenv("PATH", str(tmp_path))
    done = CliRunner().invoke(main, ["image", "build", "--tag", "flows:1"])
    assert done.exit_code == 1
    [line] = done.output.strip().splitlines()
    assert line.startswith("No `docker` command on PATH: install Docker")


def test_a_failed_install_is_the_error_reported_not_the_cleanup_after_it(monkeypatch, tmp_path):
    """pip's failure is what the user reads; removing the build container afterwards stays quiet."""
    from metaflow_kestra.containers import docker
    from metaflow_kestra.containers.docker import ContainerError

    calls = []

    def fake_run(args, what, **kwargs):
        calls.append(args[0])
        if args[0] == "rm":  # as Docker answers when `run` never created the container
            raise ContainerError("Removing the build container: `docker rm` failed: No such container")
        if args[0] == "run":
            raise ContainerError("Installing Metaflow into the image: `docker run` failed: ERROR: No matching "
                                 "distribution found for numpy==0.0.1")
        return "sha256:base" if args[0] == "image" else ""

    monkeypatch.setattr(docker, "engine_version", lambda: "20.10")
    monkeypatch.setattr(docker, "image_labels", lambda ref: {} if ref == "base:1" else None)
    monkeypatch.setattr(docker, "image_config", lambda ref, field: None)
    monkeypatch.setattr(docker, "run", fake_run)
    monkeypatch.setattr(docker, "remove_container", lambda name: calls.append("rm"))
    monkeypatch.setattr(worker_image, "source_tree", lambda: None)
    with pytest.raises(ContainerError, match="No matching distribution found for numpy==0.0.1"):
        worker_image.build("flows:1", base="base:1", echo=lambda message: None)
    assert calls[-2:] == ["run", "rm"]
