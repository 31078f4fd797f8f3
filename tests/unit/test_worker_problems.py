"""A failed step's log, read for what its worker lacks (the words of dash, bash and Python)."""

import pytest

from metaflow_kestra import worker_problems as wp


@pytest.mark.parametrize("messages,missing", [
    (["/bin/sh: 1: python: not found"], "`python`"),
    (["bash: line 1: python: command not found", "sh: python: not found"], "`python`"),
    (["/bin/sh: 1: /opt/venv/bin/python: not found"], "`/opt/venv/bin/python`"),
    (["/usr/bin/python: No module named metaflow_kestra"], "metaflow-kestra"),
    (["Traceback (most recent call last):", "ModuleNotFoundError: No module named 'metaflow'"], "Metaflow"),
    (["ValueError: caught, not fatal", "ModuleNotFoundError: No module named 'metaflow_custom'"], None),
    (["data file: No such file or directory"], None),
])
def test_what_the_worker_lacks_is_read_from_its_own_words(messages, missing):
    assert wp.missing_from_worker(messages) == missing


def test_the_step_s_image_is_found_in_its_task_whatever_runner_kestra_shows():
    process = {"type": "io.kestra.plugin.core.runner.Process"}  # the task's default, as the API shows it
    flow = {"pluginDefaults": [{"type": "io.kestra.plugin.scripts.shell.Commands",
                                "values": {"taskRunner": {"type": "io.kestra.plugin.scripts.runner.docker.Docker"}}}],
            "tasks": [{"id": "start", "containerImage": "img:1", "taskRunner": process},
                      {"id": "branches", "tasks": [{"id": "a", "containerImage": "img:2"}]}]}
    assert wp.step_runner(flow, "start") == ("docker", "img:1")
    assert wp.step_runner(flow, "a") == ("docker", "img:2")
    assert wp.step_runner({"tasks": [{"id": "start"}]}, "start") == ("process", None)


def test_the_line_names_the_flow_the_step_the_image_and_the_fix():
    line = wp.explain("LinearFlow", "start", "`python`", ("docker", "debian:12"))
    assert line.startswith("Flow LinearFlow, step start: the image debian:12 has no `python`")
    assert "metaflow-kestra image build" in line and "\n" not in line
    assert "the Kestra worker has no Metaflow" in wp.explain("F", "s", "Metaflow", ("process", None))


def test_a_secret_kestra_does_not_have_is_named_with_how_to_give_it():
    """A new user's first run with --secret (issue 29): Kestra's own words were the only clue."""
    messages = ["io.pebbletemplates.pebble.error.PebbleException: Cannot find secret for key "
                "'AWS_SECRET_ACCESS_KEY'. ({{ secret('AWS_SECRET_ACCESS_KEY') | base64encode }}:1)"]
    assert wp.missing_secret(messages) == "AWS_SECRET_ACCESS_KEY"
    assert wp.missing_secret(["Cannot find secret for key 'x y'"]) is None
    line = wp.explain_secret("QuickstartFlow", "start", "AWS_SECRET_ACCESS_KEY")
    assert line.startswith("Flow QuickstartFlow, step start: Kestra has no secret AWS_SECRET_ACCESS_KEY")
    assert "SECRET_AWS_SECRET_ACCESS_KEY" in line and "server start --secret AWS_SECRET_ACCESS_KEY" in line

    on_a_port = wp.explain_secret("F", "start", "TOKEN", "http://127.0.0.1:18480")
    assert "`metaflow-kestra server stop --port 18480`" in on_a_port
    assert "`metaflow-kestra server start --port 18480 --secret TOKEN`" in on_a_port
    assert "--port" not in wp.explain_secret("F", "start", "TOKEN", "https://kestra.example.com")
