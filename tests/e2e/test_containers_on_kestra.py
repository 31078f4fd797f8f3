"""Steps in containers: Kestra's Docker task runner, with the image `metaflow-kestra image build` makes.

Each step runs in a fresh container of that image, built once per machine from Debian's packages
(no image is pulled), on the host's network (`--docker-network host`, so it reaches the S3
server on loopback), with the S3 datastore. The S3 credentials reach containers only as Kestra
secrets (`--secret`); the run's local metadata through the mount the compiler adds. Each run is
compared with a local run, artifact by artifact, as on the Process runner.
"""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import E2E_SECRET_VALUE, helper_ports, server_environment
from tests.e2e.conftest import kestra_workspace
from tests.e2e.test_flows_on_kestra import run_on_kestra
from tests.e2e.test_operations_on_kestra import kestra
from tests.flow_loading import flow_path
from tests.helper_servers import start_with_deadline
from tests.kestra_logs import log_text
from tests.shapes import SHAPES

moto_server = pytest.importorskip("moto.server", reason="moto[server] is in the dev extras")
pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0

IMAGE = "metaflow-kestra-tests/worker:current"  # rebuilt by `image build` only when its inputs change
# One flow of each construct (a chain, a split, a foreach, a switch, a loop, named ends with
# parameters holding Pebble syntax): the runner changes how a task starts, not the graph's shape,
# which tests/e2e/test_flows_on_kestra.py covers in full. Each task starts a container (about
# 5 s of CPU on this 2-core machine), so the costliest shapes run on the Process runner only.
CONTAINER_SHAPES = [shape for shape in SHAPES if shape[0] in (
    "linear_flow", "split_flow", "foreach_flow", "recursive_flow", "named_ends_switch_flow", "quickstart_flow")]


def docker(*args, check=True):
    return subprocess.run(["docker", *args], capture_output=True, text=True, check=check)


@pytest.fixture(scope="module")
def worker_image(tmp_path_factory):
    """The test image, made by the command a user runs (with --requirements: @kubernetes needs its package)."""
    if docker("version", "--format", "{{.Server.Version}}", check=False).returncode != 0:
        pytest.skip("no Docker engine answers (scripts/docker.sh starts one as root)")
    requirements = tmp_path_factory.mktemp("image") / "requirements.txt"
    from importlib.metadata import version

    requirements.write_text("kubernetes==%s\n" % version("kubernetes"))
    done = subprocess.run([sys.executable, "-m", "metaflow_kestra.cli", "image", "build", "--tag", IMAGE,
                           "--requirements", str(requirements)], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    assert IMAGE in done.stdout
    return IMAGE


@pytest.fixture(scope="module")
def s3_server():
    port = helper_ports().s3
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    start_with_deadline(server.start, port, "The S3 server (moto)")
    try:
        import boto3

        settings = server_environment()
        boto3.client("s3", endpoint_url=settings["METAFLOW_S3_ENDPOINT_URL"], region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key=settings["AWS_SECRET_ACCESS_KEY"]
                     ).create_bucket(Bucket="flows")
        yield settings
    finally:
        server.stop()


@pytest.fixture
def box(tmp_path, kestra_server, s3_server, worker_image):
    """A workspace whose `kestra` commands run each step in a container of the test image."""
    workspace = kestra_workspace(tmp_path, kestra_server)
    workspace.env.update({name: value for name, value in s3_server.items() if not name.startswith("SECRET_")})
    workspace.env.update({"METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DATASTORE_SYSROOT_S3": "s3://flows/metaflow"})
    return workspace


# A container that cannot reach S3 (no credentials, say) makes Metaflow retry for an hour: a
# broken run fails the test after --wait-timeout instead.
IN_CONTAINERS = ("--task-runner", "docker", "--image", IMAGE, "--docker-network", "host",
                 "--secret", "AWS_ACCESS_KEY_ID", "--secret", "AWS_SECRET_ACCESS_KEY", "--wait-timeout", "600")


@pytest.mark.parametrize("name,flow_name,params", CONTAINER_SHAPES, ids=lambda v: v if isinstance(v, str) else None)
def test_shape_in_containers_matches_a_local_run(box, name, flow_name, params):
    cli_params = [arg for key, value in params for arg in ("--%s" % key, value)]
    local = box.artifacts(flow_name, box.run_locally(name, *cli_params))
    _, run_id = run_on_kestra(box, name, *cli_params, *IN_CONTAINERS)
    on_kestra = box.artifacts(flow_name, run_id)
    assert on_kestra["successful"]
    assert on_kestra["steps"] == local["steps"]


def test_containers_get_their_limits_and_nothing_of_the_deploying_machine(box, kestra_client):
    """@resources and @kubernetes CPU and memory are the container's cgroup limits; the code package
    reaches the container as a Kestra namespace file, not as a path of this machine."""
    host_file = str(flow_path("container_flow"))
    done, run_id = run_on_kestra(box, "container_flow", "--host_file", host_file, *IN_CONTAINERS)
    steps = {step: dict(tasks[0]) for step, tasks in box.artifacts("ContainerFlow", run_id)["steps"].items()}
    assert (steps["start"]["cpus"], steps["start"]["memory_mb"]) == ("1.0", "1024")  # @resources(cpu=1, memory=1024)
    assert (steps["sized"]["cpus"], steps["sized"]["memory_mb"]) == ("2.0", "1536")  # @kubernetes(cpu=2, memory=1536)
    assert steps["start"]["sees_host_file"] == "False"
    assert not steps["start"]["flow_dir"].strip("'").startswith(str(flow_path("container_flow").parent))
    logs = log_text(kestra_client, run_id[len("kestra-"):], task_id="start", expecting="start sees 1.0 CPUs")
    assert "start sees 1.0 CPUs and 1024 MiB" in logs
    assert Path(host_file).is_file()  # here, where the flow was deployed from (a local `run` would launch
    # @kubernetes's step on Kubernetes, so none is compared)


def test_a_step_in_a_512_mb_container_runs_with_as_many_s3_workers_as_fit(box):
    """A new user's trial (issue 29): with Metaflow's 64 S3 workers, every step of 512 MB ended with
    the kernel's OOM kill in the runtime's first read of the run's state, in a 30-line traceback."""
    _, run_id = run_on_kestra(box, "small_memory_flow", *IN_CONTAINERS)
    run = box.artifacts("SmallMemoryFlow", run_id)
    assert run["successful"]
    assert dict(run["steps"]["start"][0])["s3_workers"] == repr("4")
    assert dict(run["steps"]["end"][0])["total"] == "3"


def test_decorators_in_containers(box, kestra_client, kestra_server):
    """@retry, @catch, @environment, @secrets (a Kestra secret) and @card, each step in a container."""
    from tests.e2e.test_decorators_on_kestra import stored_file

    _, run_id = run_on_kestra(box, "decorated_flow", *IN_CONTAINERS)
    run = box.artifacts("DecoratedFlow", run_id)
    assert run["successful"]
    start, configured = dict(run["steps"]["start"][0]), dict(run["steps"]["configured"][0])
    assert start["attempt"] == "1" and start["threshold"] == "7"
    assert configured["greeting"] == repr("hello {{ world }} {% raw %}")
    assert configured["token_length"] == str(len(E2E_SECRET_VALUE))
    assert "caught, not fatal" in dict(run["steps"]["end"][0])["problem_text"]
    execution = kestra_client.execution(run_id[len("kestra-"):])
    [cards] = [kestra_client.task_outputs(execution["id"], r)["outputFiles"]
               for r in execution["taskRunList"] if r["taskId"] == "configured"]
    assert list(cards) == ["metaflow-cards/configured-0-default.html"]
    assert "<html" in stored_file(kestra_server, next(iter(cards.values()))).lower()


def running_containers(execution_id):
    return docker("ps", "-q", "--filter", "label=kestra.io/execution-id=%s" % execution_id).stdout.split()


def wait_for_step_container(execution_id, step, seconds=180):
    """The running containers of the execution, once one of them runs `step` (earlier steps'
    containers come and go first)."""
    deadline = time.time() + seconds
    while True:
        containers = running_containers(execution_id)
        if containers:
            labels = docker("inspect", "--format", '{{index .Config.Labels "kestra.io/task-id"}}', *containers,
                            check=False).stdout
            if step in labels.split():
                return containers
        assert time.time() < deadline, "no container of step %s of execution %s started" % (step, execution_id)
        time.sleep(0.5)


def test_terminate_stops_the_container(box):
    run_id_file = box.root / "slow.run-id"
    kestra(box, "slow_flow", "run", "--run-id-file", str(run_id_file), "--seconds", "300", *IN_CONTAINERS)
    execution_id = run_id_file.read_text().strip()[len("kestra-"):]
    wait_for_step_container(execution_id, "wait")
    deadline = time.time() + 60
    kestra(box, "slow_flow", "terminate", "--run-id", "kestra-" + execution_id)
    while running_containers(execution_id):
        assert time.time() < deadline, "the container went on after terminate"
        time.sleep(0.5)
    assert "KILLED" in kestra(box, "slow_flow", "status", "--run-id", "kestra-" + execution_id).stdout


def test_a_killed_container_fails_the_step_and_kestra_restart_runs_it_again(box, kestra_client):
    """The container dies under the step (as when a machine runs out of memory): the run fails, and
    Kestra's Restart runs that step again in a new container and finishes the same Metaflow run."""
    run_id_file = box.root / "slow.run-id"
    kestra(box, "slow_flow", "run", "--run-id-file", str(run_id_file), "--seconds", "20", *IN_CONTAINERS)
    run_id = run_id_file.read_text().strip()
    execution_id = run_id[len("kestra-"):]
    containers = wait_for_step_container(execution_id, "wait")
    docker("kill", *containers)
    waited = kestra(box, "slow_flow", "wait", "--run-id", run_id, check=False)
    assert waited.returncode == 1 and "FAILED" in waited.stdout + waited.stderr
    restarted = kestra(box, "slow_flow", "restart", "--run-id", run_id, "--wait")
    assert "ended SUCCESS" in restarted.stderr
    run = box.artifacts("SlowFlow", run_id)
    assert run["successful"] and dict(run["steps"]["end"][0])["done"] == "True"
    attempts = [attempt["state"]["current"] for r in kestra_client.execution(execution_id)["taskRunList"]
                if r["taskId"] == "wait" for attempt in r.get("attempts", [])]
    assert attempts == ["FAILED", "SUCCESS"], attempts


def test_an_image_without_metaflow_fails_with_one_line_that_says_so(box):
    """Debian's python3 and nothing else: no `python`, no Metaflow, no metaflow-kestra."""
    bare = docker("images", "--format", "{{.Repository}}:{{.Tag}}", "metaflow-kestra-base").stdout.split()[0]
    options = [bare if option == IMAGE else option for option in IN_CONTAINERS]
    done, _ = run_on_kestra(box, "linear_flow", *options, check=False)
    assert done.returncode == 1
    [line] = [line for line in done.stderr.splitlines() if "has no" in line]
    assert "Flow LinearFlow, step start: the image %s has no `python`" % bare in line, done.stderr
    assert "metaflow-kestra image build" in line
