"""Step and flow decorators mapped to Kestra settings, and refusals that name the decorator."""

import pytest

from metaflow_kestra.pebble import env_literal

from metaflow_kestra.decorators import (
    UnsupportedDecorator, iso_duration, standard_cron, step_settings,
)


class Deco:
    statically_defined, inserted_by = True, None  # written in the flow's source

    def __init__(self, name, retries=(0, 0), **attributes):
        self.name, self.attributes, self._retries = name, attributes, retries
        self.secs = attributes.get("secs", 0)

    def step_task_retry_count(self):
        return self._retries


class Node:
    def __init__(self, *decorators):
        self.name, self.decorators = "train", list(decorators)


def test_with_decorators_reach_the_step_command_and_round_trip():
    from metaflow.decorators import extract_step_decorator_from_decospec

    given = ['environment:vars={"A": "x,y", "B": "{{ not pebble }}"}', "retry:times=2,minutes_between_retries=0"]
    added = [extract_step_decorator_from_decospec(spec)[0] for spec in given]
    static = Deco("timeout", secs=5)
    settings = step_settings(Node(static, *added), "F")
    assert [spec.split(":")[0] for spec in settings.added] == ["environment", "retry"]
    again = [extract_step_decorator_from_decospec(spec)[0] for spec in settings.added]
    assert again[0].attributes["vars"] == {"A": "x,y", "B": "{{ not pebble }}"}
    assert [d.attributes for d in again] == [d.attributes for d in added]


def test_retry_and_catch_give_metaflow_attempts_to_kestra():
    settings = step_settings(Node(Deco("retry", (3, 0), minutes_between_retries=2), Deco("catch", (0, 1))), "F")
    assert (settings.max_attempts, settings.max_user_code_retries, settings.retry_interval_seconds) == (5, 3, 120)


def test_timeout_environment_resources_and_cards():
    settings = step_settings(Node(
        Deco("timeout", secs=90), Deco("environment", vars={"A": "{{ x }}"}),
        Deco("kubernetes", cpu=2, memory=4096, image="python:3.11"), Deco("card"),
    ), "F")
    assert settings.timeout_seconds == 90
    # Literal for both renders Kestra gives a script task's env.
    assert settings.environment == {"A": env_literal("{{ x }}")}
    assert settings.resources == {"cpu": "2", "memory": "4096", "image": "python:3.11"}
    assert settings.cards


def test_resource_fields_no_runner_honours_are_named_in_one_note():
    from metaflow.decorators import extract_step_decorator_from_decospec

    spec = 'kubernetes:gpu=1,gpu_vendor=nvidia,node_selector={"pool": "a"},tolerations=[{"key": "k"}],cpu=2'
    settings = step_settings(Node(extract_step_decorator_from_decospec(spec)[0]), "F")
    [note] = [note for note in settings.notes if "no Kestra task runner can honour" in note]
    assert note.startswith("Flow F, step train, @kubernetes: node_selector={'pool': 'a'}, tolerations=")
    assert "gpu=" not in note and "cpu=" not in note and "gpu_vendor" not in note
    assert settings.resources["gpu"] == "1"


def test_kestra_secrets_are_named_and_other_backends_left_to_metaflow():
    settings = step_settings(Node(Deco("secrets", sources=["kestra.DB_PASSWORD", "aws-secrets-manager.x",
                                                            {"type": "kestra", "id": "API_KEY"}])), "F")
    assert settings.secrets == ["DB_PASSWORD", "API_KEY"]


@pytest.mark.parametrize("deco,message", [
    (Deco("secrets", sources=["kestra.bad-name')}}"]), "Kestra secret names use letters"),
    (Deco("environment", vars={"NOT VALID": "x"}), "not an environment variable name"),
    (Deco("slurm"), "@slurm is not supported on Kestra"),
])
def test_refusals_name_the_flow_step_and_decorator(deco, message):
    with pytest.raises(UnsupportedDecorator, match=message) as err:
        step_settings(Node(deco), "TrainFlow")
    assert "Flow TrainFlow, step train" in str(err.value)


def test_unknown_decorators_are_forwarded_with_a_note():
    assert "forwarded" in step_settings(Node(Deco("my_company_tracing")), "F").notes[0]


def test_crons_and_durations():
    assert standard_cron("0 0 * * ? *", "x") == "0 0 * * *"
    assert standard_cron("*/5 1 * * 1", "x") == "*/5 1 * * 1"
    with pytest.raises(UnsupportedDecorator):
        standard_cron("every day", "x")
    assert iso_duration(0) == "PT1S" and iso_duration(120) == "PT120S"


def test_kubernetes_default_image_leaves_the_deployment_s_image_in_place():
    """@kubernetes fills in python:<version> when no image is given: that is no image of the user's."""
    from metaflow.decorators import extract_step_decorator_from_decospec

    class Node:
        name, decorators = "train", [extract_step_decorator_from_decospec("kubernetes:cpu=2,memory=1536")[0]]

    Node.decorators[0].external_init()
    settings = step_settings(Node, "F")
    assert settings.resources == {"cpu": "2", "memory": "1536"}

    class Chosen:
        name, decorators = "train", [extract_step_decorator_from_decospec("kubernetes:image=ghcr.io/a/b:1")[0]]

    assert step_settings(Chosen, "F").resources["image"] == "ghcr.io/a/b:1"
