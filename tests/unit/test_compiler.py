"""The compiled Kestra flow for each shape: ids, nesting and the expressions we emit."""

import yaml
import pytest

from metaflow_kestra import kestra_flow as k
from dataclasses import replace

from metaflow_kestra.compiler import CompileOptions, compile_flow
from metaflow_kestra.deployment import Deployment
from metaflow_kestra.errors import KestraError
from metaflow_kestra.parameters import parameter_kinds
from metaflow_kestra.task_spec import TaskSpec
from metaflow_kestra import yaml_out
from tests.flow_loading import load_flow, load_graph

SHAPES = ["linear_flow", "split_flow", "foreach_flow", "nested_foreach_flow", "split_in_foreach_flow",
          "foreach_in_split_flow", "switch_flow", "switch_skip_flow", "switch_in_foreach_flow",
          "recursive_flow"]


def compiled(name, **options):
    flow = load_flow(name)
    deployment = Deployment(flow_name=type(flow).__name__, flow_file="/nowhere/flow.py",
                            parameters=parameter_kinds(flow))
    return compile_flow(flow, load_graph(name), deployment, CompileOptions(**options))


def by_id(kestra):
    return {task.id: task for task in k.walk_tasks(kestra.tasks)}


def effective(kestra, task):
    """The task's properties once Kestra applies the flow's plugin defaults (maps merged, the task's own
    values winning), as the e2e tests confirm the engine does."""
    merged = {}
    for defaults in kestra.plugin_defaults:
        if defaults["type"] == task.to_dict()["type"]:
            merged.update({key: dict(value) if isinstance(value, dict) else value
                           for key, value in defaults["values"].items()})
    for key, value in task.to_dict().items():
        merged[key] = dict(merged.get(key) or {}, **value) if isinstance(value, dict) and key == "env" else value
    return merged


@pytest.mark.parametrize("name", SHAPES)
def test_every_step_is_one_script_task_named_after_it(name):
    kestra = compiled(name)
    scripts = [t for t in k.walk_tasks(kestra.tasks) if isinstance(t, k.ScriptTask)]
    assert sorted(t.id for t in scripts) == sorted(node.name for node in load_graph(name))
    # What every step shares is said once, in the flow's plugin defaults.
    [defaults] = kestra.plugin_defaults
    assert defaults["type"] == k.SHELL_COMMANDS
    assert defaults["values"]["commands"] == ["python -m metaflow_kestra.task"]
    assert defaults["values"]["taskRunner"] == {"type": k.PROCESS_RUNNER}
    assert set(defaults["values"]["env"]) >= {"METAFLOW_KESTRA_DEPLOYMENT", "METAFLOW_KESTRA_EXECUTION_ID"}
    for task in scripts:
        assert task.commands is None and task.task_runner is None
        assert TaskSpec.from_json(task.env["METAFLOW_KESTRA_STEP"]).step == task.id
    text = yaml_out.dump(kestra.to_dict())
    assert yaml.safe_load(text)["id"] == kestra.id


def test_split_is_a_parallel_with_a_sequential_for_a_longer_branch():
    tasks = by_id(compiled("foreach_in_split_flow"))
    parallel = tasks["start-branches"]
    assert isinstance(parallel, k.ParallelTask)
    assert [type(t).__name__ for t in parallel.tasks] == ["SequentialTask", "ScriptTask"]


def test_foreach_iterates_the_reported_items_up_to_max_workers():
    foreach = by_id(compiled("foreach_flow", max_workers=3))["start-foreach"]
    assert foreach.values == "{{ outputs.start.vars.foreach_values | toJson }}"
    assert foreach.concurrency_limit == 3
    square = foreach.tasks[0]
    # base64: a script task's env is rendered twice, and base64 holds no Pebble syntax.
    assert square.env["METAFLOW_KESTRA_VALUE"] == "{{ taskrun.value | base64encode }}"
    assert square.env["METAFLOW_KESTRA_PARENTS"] == "{{ parents | toJson | base64encode }}"


def test_nested_foreach_reads_the_sibling_output_of_the_current_item():
    tasks = by_id(compiled("nested_foreach_flow"))
    inner = [t for t in tasks.values() if isinstance(t, k.ForEachTask)][1]
    assert inner.values.startswith("{{ currentEachOutput(outputs.")


def test_branch_with_a_foreach_inside_a_foreach_is_wrapped_in_a_single_item_foreach():
    # foreach -> split -> (foreach in one branch): the branch's ForEach must be a direct child.
    from metaflow_kestra.compiler import _Builder, _Place
    from metaflow_kestra.structure import ForEach, Sequence, Step

    from metaflow_kestra.decorators import FlowTriggers, StepSettings

    names = ("a", "b", "c")
    builder = _Builder(
        graph={n: type("N", (), {"doc": ""})() for n in names},
        specs={n: TaskSpec(n, 1) for n in names},
        settings={n: StepSettings() for n in names},
        deployment=Deployment(flow_name="F", flow_file="/f.py"),
        options=CompileOptions(), triggers=FlowTriggers(),
    )
    branch = Sequence((Step("a"), ForEach("a", Sequence((Step("b"),)), "c"), Step("c")))
    wrapped = builder.branch(branch, _Place(in_foreach=True, direct=True))
    assert isinstance(wrapped, k.ForEachTask) and wrapped.values == ["branch"]
    assert wrapped.tasks[1].values.startswith("{{ currentEachOutput(outputs.a)")
    plain = builder.branch(branch, _Place())
    assert isinstance(plain, k.SequentialTask)


def test_switch_cases_are_the_target_steps_and_a_skipping_case_logs():
    switch = by_id(compiled("switch_skip_flow"))["start-switch"]
    assert switch.value == "{{ outputs.start.vars.next_step }}"
    assert list(switch.cases) == ["after", "extra"]
    assert isinstance(switch.cases["after"][0], k.LogTask)


def test_recursive_step_is_one_task_that_loops():
    tasks = by_id(compiled("recursive_flow"))
    assert TaskSpec.from_json(tasks["loop"].env["METAFLOW_KESTRA_STEP"]).loop


def test_parameters_become_typed_inputs():
    [level] = compiled("switch_flow").inputs
    # required: Kestra rejects an input with a default that is not required (1.3's InputValidator).
    assert (level.id, level.type, level.required, level.defaults) == ("level", "STRING", True, "high")


@pytest.mark.parametrize("options,message", [
    (dict(flow_id="kill"), "reserved"),
    (dict(flow_id="no spaces"), "cannot be a Kestra flow id"),
    (dict(namespace="Bad NS"), "not a Kestra namespace"),
    (dict(max_workers=0), "at least 1"),
])
def test_bad_options_are_refused_with_the_flow_name(options, message):
    with pytest.raises(KestraError, match=message) as err:
        compiled("linear_flow", **options)
    assert "LinearFlow" in str(err.value)


def compiled_for_docker(name, **options):
    flow = load_flow(name)
    deployment = Deployment(flow_name=type(flow).__name__, flow_file="flow.py", datastore="s3",
                            datastore_root="s3://bucket/metaflow", parameters=parameter_kinds(flow))
    return compile_flow(flow, load_graph(name), deployment, CompileOptions(task_runner="docker", **options))


def test_docker_task_runner_sets_image_resources_and_keeps_env():
    kestra = compiled_for_docker("decorated_flow", image="ghcr.io/acme/flows:1", python="/opt/venv/bin/python")
    tasks = by_id(kestra)
    start = effective(kestra, tasks["start"])
    assert start["taskRunner"] == {"type": "io.kestra.plugin.scripts.runner.docker.Docker"}
    assert start["containerImage"] == "ghcr.io/acme/flows:1"
    assert start["commands"] == ["/opt/venv/bin/python -m metaflow_kestra.task"]
    configured = effective(kestra, tasks["configured"])
    assert configured["env"]["GREETING"].startswith("{% raw %}{% raw %}hello")


def test_docker_resources_come_from_resources_decorators():
    from metaflow_kestra.compiler import _Builder
    from metaflow_kestra.decorators import FlowTriggers, StepSettings

    builder = _Builder({}, {}, {}, Deployment(flow_name="F", flow_file="f.py", datastore="s3"),
                       CompileOptions(task_runner="docker", image="img:1"), FlowTriggers())
    runner = builder.runner("train", StepSettings(resources={"cpu": "2", "memory": "4096", "image": "gpu:2"}))
    assert runner == {"task_runner": {"type": "io.kestra.plugin.scripts.runner.docker.Docker",
                                      "cpu": {"cpus": 2.0}, "memory": {"memory": "4096MB"}},
                      "container_image": "gpu:2"}


def test_gpus_and_shared_memory_become_docker_device_requests_and_shm_size():
    from metaflow_kestra.compiler import _Builder
    from metaflow_kestra.decorators import FlowTriggers, step_settings
    from metaflow.decorators import extract_step_decorator_from_decospec

    class Node:
        name, decorators = "train", [extract_step_decorator_from_decospec("resources:gpu=2,shared_memory=512")[0]]

    builder = _Builder({}, {}, {}, Deployment(flow_name="F", flow_file="f.py", datastore="s3"),
                       CompileOptions(task_runner="docker", image="img:1"), FlowTriggers())
    runner = builder.runner("train", step_settings(Node, "F"))["task_runner"]
    assert runner["deviceRequests"] == [{"driver": "nvidia", "count": 2, "capabilities": [["gpu"]]}]
    assert runner["shmSize"] == "512MB"


def test_docker_needs_an_image_and_a_remote_datastore():
    with pytest.raises(KestraError, match="Flow LinearFlow, step start: the docker task runner needs an image"):
        compiled_for_docker("linear_flow")
    with pytest.raises(KestraError, match="cannot see this machine's local datastore"):
        flow = load_flow("linear_flow")
        compile_flow(flow, load_graph("linear_flow"), Deployment(flow_name="LinearFlow", flow_file="f.py"),
                     CompileOptions(task_runner="docker", image="x"))


@pytest.mark.parametrize("image", ["img:{{ secret('X') }}", "img{%- endraw %}", "registry/img:1 --rm", "",
                                   "img:1\n", "-v/:/host img"])
def test_a_container_image_that_is_no_image_reference_is_refused(image):
    """Kestra renders containerImage: a template in it would be evaluated (issue 26, finding 5)."""
    from metaflow_kestra.compiler import _Builder
    from metaflow_kestra.decorators import FlowTriggers, StepSettings

    builder = _Builder({}, {}, {}, Deployment(flow_name="F", flow_file="f.py", datastore="s3"),
                       CompileOptions(task_runner="docker", image="img:1"), FlowTriggers())
    if not image:
        assert builder.runner("train", StepSettings(resources={"image": image}))["container_image"] == "img:1"
        return
    with pytest.raises(KestraError, match=r"Flow F, step train: the container image .* is not an image reference"):
        builder.runner("train", StepSettings(resources={"image": image}))


@pytest.mark.parametrize("image", ["python:3.11", "ghcr.io/acme/flows:1", "localhost:5000/a/b_c.d-e:v1.2",
                                   "img@sha256:" + "a" * 64, "registry.example.com:443/team/img:1@sha256:" + "0" * 64])
def test_image_references_pass_unchanged(image):
    from metaflow_kestra.compiler import _Builder
    from metaflow_kestra.decorators import FlowTriggers, StepSettings

    builder = _Builder({}, {}, {}, Deployment(flow_name="F", flow_file="f.py", datastore="s3"),
                       CompileOptions(task_runner="docker", image=image), FlowTriggers())
    assert builder.runner("train", StepSettings())["container_image"] == image


def test_the_worker_python_reaches_the_command_as_written():
    """`commands` is rendered once: a template in --worker-python must stay text."""
    from tests.unit.test_pebble import evaluated_outside_raw_blocks

    python = "/opt/{{ x }}/bin/python"
    kestra = compiled("linear_flow", python=python)
    [command] = effective(kestra, by_id(kestra)["start"])["commands"]
    assert evaluated_outside_raw_blocks(command) is None
    assert "{{ x }}" in command


def test_inputs_reach_the_start_task_as_a_file_not_the_environment():
    """Linux caps one environment variable at 128 KiB; inputs can be larger."""
    start = by_id(compiled("params_flow"))["start"]
    assert start.input_files == {"metaflow-kestra-inputs.b64": "{{ inputs | toJson | base64encode }}"}
    assert "METAFLOW_KESTRA_INPUTS" not in start.env
    assert start.to_dict()["inputFiles"] == start.input_files


def test_docstrings_become_descriptions_without_the_source_indentation():
    kestra = compiled("killable_flow").to_dict()
    assert kestra["description"] == (
        "Its middle step writes its process id and waits, so a test can SIGKILL it mid-step.\n\n"
        "Once the test has written `killed` in the folder, the step finishes at once.")


def test_local_metadata_reaches_containers_through_a_mount_of_the_same_path():
    """A container writes the run's metadata where this machine's client reads it (and says so)."""
    flow = load_flow("linear_flow")
    deployment = Deployment(flow_name="LinearFlow", flow_file="flow.py", datastore="s3", metadata="local",
                            environment_variables={"METAFLOW_DATASTORE_SYSROOT_LOCAL": "/home/ann/flows"})
    kestra = compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions(task_runner="docker", image="i:1"))
    runner = effective(kestra, by_id(kestra)["start"])["taskRunner"]
    assert runner["volumes"] == ["/home/ann/flows/.metaflow:/home/ann/flows/.metaflow"]
    assert any("mounts /home/ann/flows/.metaflow" in note and "volume-enabled" in note for note in kestra.notes)
    service = compile_flow(flow, load_graph("linear_flow"), replace(deployment, metadata="service"),
                           CompileOptions(task_runner="docker", image="i:1"))
    assert "volumes" not in effective(service, by_id(service)["start"])["taskRunner"]
    process = compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions())
    assert effective(process, by_id(process)["start"]).get("taskRunner", {}).get("volumes") is None


@pytest.mark.parametrize("root", ["/home/{{ x }}/flows", "/tmp/a b", "relative/path", "/x:/etc"])
def test_a_metadata_folder_kestra_would_render_or_split_is_refused(root):
    flow = load_flow("linear_flow")
    deployment = Deployment(flow_name="LinearFlow", flow_file="flow.py", datastore="s3", metadata="local",
                            environment_variables={"METAFLOW_DATASTORE_SYSROOT_LOCAL": root})
    with pytest.raises(KestraError, match="Flow LinearFlow: the local metadata folder .* cannot be mounted"):
        compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions(task_runner="docker", image="i:1"))


def test_secrets_reach_every_task_from_kestra_secrets_never_as_values():
    flow = load_flow("linear_flow")
    deployment = Deployment(flow_name="LinearFlow", flow_file="flow.py", datastore="s3",
                            secret_environment=["AWS_SECRET_ACCESS_KEY"])
    kestra = compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions(task_runner="docker", image="i:1"))
    for task in ("start", "end"):
        env = effective(kestra, by_id(kestra)[task])["env"]
        assert env["METAFLOW_KESTRA_SECRET_AWS_SECRET_ACCESS_KEY"] == "{{ secret('AWS_SECRET_ACCESS_KEY') | base64encode }}"


def test_the_docker_network_reaches_the_runner_and_nothing_else_does():
    kestra = compiled_for_docker("linear_flow", image="i:1", docker_network="host")
    assert effective(kestra, by_id(kestra)["start"])["taskRunner"]["networkMode"] == "host"
    for bad in ("{{ x }}", "host --privileged", "a b", "-v"):
        with pytest.raises(KestraError, match="Flow LinearFlow: --docker-network .* is not a Docker network mode"):
            compiled_for_docker("linear_flow", image="i:1", docker_network=bad)


@pytest.mark.parametrize("url", ["http://127.0.0.1:18485", "http://localhost:9000/", "http://[::1]:9000",
                                 "https://127.10.0.1"])
def test_a_loopback_endpoint_that_a_container_cannot_reach_is_refused_without_the_host_network(url):
    """A new user's first container run (issue 29): a local S3 on 127.0.0.1 and no --docker-network host.
    Inside the container 127.0.0.1 is the container itself, and Metaflow retried the refused
    connections as transient, for an hour, with no word."""
    flow = load_flow("linear_flow")
    deployment = Deployment(flow_name="LinearFlow", flow_file="flow.py", datastore="s3",
                            environment_variables={"METAFLOW_S3_ENDPOINT_URL": url})
    with pytest.raises(KestraError, match=r"Flow LinearFlow: --task-runner docker: METAFLOW_S3_ENDPOINT_URL .* is "
                                          r"this machine's loopback.*--docker-network host"):
        compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions(task_runner="docker", image="i:1"))
    compile_flow(flow, load_graph("linear_flow"), deployment,
                 CompileOptions(task_runner="docker", image="i:1", docker_network="host"))
    compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions())  # the Process runner: on the worker


def test_an_endpoint_off_the_loopback_needs_no_host_network():
    flow = load_flow("linear_flow")
    deployment = Deployment(flow_name="LinearFlow", flow_file="flow.py", datastore="s3",
                            environment_variables={"METAFLOW_S3_ENDPOINT_URL": "https://s3.internal.example:9000",
                                                   "METAFLOW_SERVICE_URL": "http://10.0.0.5:8080"})
    compile_flow(flow, load_graph("linear_flow"), deployment, CompileOptions(task_runner="docker", image="i:1"))
