"""Steps in containers beside the Process runner and a local run: what a container per task costs.

    python benchmarks/containers.py [--repeat 3] [--repeat-large 1] [--kestra-version V] [--only NAME ...]

Starts its own local Kestra (port 18490, with the S3 credentials as Kestra secrets), an S3 server
(moto) on loopback and the worker image (`metaflow-kestra image build`), then runs the 10-step
chain and the 100-way foreach with the S3 datastore three ways: `python flow.py run`, `kestra run
--wait` on the Process runner, and `kestra run --wait --task-runner docker` (each step in a fresh
container, on the host's network). The three alternate, in a rotating order, and every Kestra run's
artifacts are compared with the local run's. Prints a table with ratios, stores the figures as a
`containers` result in benchmarks/results/, and renders docs/benchmarks.md.
"""

import argparse
import base64
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import flows  # noqa: E402
from benchmarks import results as stored  # noqa: E402
from benchmarks.correctness import difference, run_artifacts  # noqa: E402
from benchmarks.figures import median, spread, walls  # noqa: E402
from benchmarks.systems import _last_line, _timed  # noqa: E402

PORT = 18490
IMAGE = "metaflow-kestra-bench/worker:current"
S3_KEY = "bench-secret-key"
LOCAL, PROCESS, DOCKER = "local `run`", "Process runner", "Docker runner"
SYSTEMS = (LOCAL, PROCESS, DOCKER)
# (name, flow, Metaflow tasks, large): a large workload runs --repeat-large times, as in benchmarks/run.py.
WORKLOADS = [("linear 10 steps", flows.linear_flow(10), 10, False),
             ("foreach 100", flows.foreach_flow(100), 103, True)]


def s3_settings(port):
    return {"METAFLOW_S3_ENDPOINT_URL": "http://127.0.0.1:%d" % port, "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": S3_KEY, "AWS_DEFAULT_REGION": "us-east-1",
            "METAFLOW_DEFAULT_DATASTORE": "s3", "METAFLOW_DATASTORE_SYSROOT_S3": "s3://bench/metaflow"}


def start_s3():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # not a line per S3 request

    from tests.helper_servers import free_port, start_with_deadline

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    start_with_deadline(server.start, port, "The S3 server (moto)")
    import boto3

    boto3.client("s3", endpoint_url="http://127.0.0.1:%d" % port, region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key=S3_KEY).create_bucket(Bucket="bench")
    return server, port


def start_kestra(kestra_version, settings):
    """Our local server, with the worker's S3 settings (for the Process runner) and the same
    credentials as Kestra secrets (for containers, which do not see the worker's environment)."""
    from metaflow_kestra.local_server.server import LocalServer
    from metaflow_kestra.local_server.settings import ServerSettings

    os.environ.update(settings)
    os.environ["SECRET_AWS_ACCESS_KEY_ID"] = base64.b64encode(b"bench").decode()
    os.environ["SECRET_AWS_SECRET_ACCESS_KEY"] = base64.b64encode(S3_KEY.encode()).decode()
    server = LocalServer(ServerSettings.from_environment(port=PORT, management_port=PORT + 1,
                                                         kestra_version=kestra_version))
    state, reused = server.start()
    if reused:
        raise SystemExit("A server already runs on port %d (with other settings, perhaps): stop it first "
                         "(`metaflow-kestra server stop --port %d`)." % (PORT, PORT))
    return server, state


def build_image():
    from metaflow_kestra.containers import worker_image

    print("  building the worker image %s ..." % IMAGE, file=sys.stderr, flush=True)
    worker_image.build(IMAGE, echo=lambda message: print("    " + message, file=sys.stderr, flush=True))


def run_one(system, bench, flow_name, path):
    """{wall, run_id, error}: one run of the flow at `path` by `system`."""
    run_id_file = bench.root / ("%s.%s.run-id" % (path.stem, SYSTEMS.index(system)))
    run_id_file.unlink(missing_ok=True)
    if system == LOCAL:
        command = [sys.executable, path, "run", "--run-id-file", run_id_file]
    else:
        command = [sys.executable, path, "kestra", "--kestra-namespace", "metaflow.bench.containers", "run", "--wait",
                   "--run-id-file", run_id_file, "--wait-timeout", 7200]
        if system == DOCKER:
            command += ["--task-runner", "docker", "--image", IMAGE, "--docker-network", "host",
                        "--secret", "AWS_ACCESS_KEY_ID", "--secret", "AWS_SECRET_ACCESS_KEY"]
    wall, done = _timed(command, bench.env, bench.root)
    run_id = run_id_file.read_text().strip() if run_id_file.exists() else None
    return {"wall": round(wall, 3), "run_id": run_id, "error": _last_line(done) if done.returncode else None}


def measure(bench, name, source, tasks, repeat):
    flow_name, path = flows.write(bench.root, source)
    workload = {"name": name, "tasks": tasks, "systems": {system: {"runs": []} for system in SYSTEMS}}
    reference = None
    for attempt in range(repeat):
        order = SYSTEMS[attempt % 3:] + SYSTEMS[:attempt % 3]
        for system in order:
            run = run_one(system, bench, flow_name, path)
            if not run["error"]:
                artifacts = run_artifacts(bench, flow_name, run["run_id"], path)
                if system == LOCAL and reference is None:
                    reference = artifacts
                why = difference(reference, artifacts) if reference is not None else "no local run yet"
                run["correct"] = None if reference is None else why is None
                run["why_not"] = why
            else:
                run["correct"] = False
            workload["systems"][system]["runs"].append(run)
            print("  %-16s %-15s %7.2f s  %s" % (name, system, run["wall"], run["error"] or "ok"),
                  file=sys.stderr, flush=True)
    return workload


def table(workloads):
    lines = ["| workload | tasks | %s | Docker / Process (wall) | Docker / local (wall) | Docker - Process per task (s) |"
             % " | ".join("%s wall (s)" % system for system in SYSTEMS), "|---|---|---|---|---|---|---|---|"]
    for workload in workloads:
        medians = {system: median(walls(workload["systems"][system])) for system in SYSTEMS}
        docker, process, local = medians[DOCKER], medians[PROCESS], medians[LOCAL]
        lines.append("| %s | %d | %s | %s | %s | %s |" % (  # the three systems' walls are one joined field
            workload["name"], workload["tasks"],
            " | ".join(spread(walls(workload["systems"][system])) for system in SYSTEMS),
            "%.2f" % (docker / process) if docker and process else "-",
            "%.2f" % (docker / local) if docker and local else "-",
            "%.2f" % ((docker - process) / workload["tasks"]) if docker and process else "-"))
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each small workload (min/median/max)")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs of each large workload")
    parser.add_argument("--kestra-version", default=None)
    parser.add_argument("--only", nargs="*", default=None, help="workloads whose name contains one of these")
    parser.add_argument("--results", default=str(stored.RESULTS))
    args = parser.parse_args()
    from benchmarks.server import workspace

    result = stored.new_result("containers", "benchmarks/containers.py", sys.argv[1:])
    s3, s3_port = start_s3()
    settings = s3_settings(s3_port)
    server, state = start_kestra(args.kestra_version, settings)
    try:
        build_image()
        from metaflow_kestra.client import KestraClient
        from metaflow_kestra.connection import Connection

        client = KestraClient(Connection(state.url, state.username, state.password), timeout=120)
        record = {"kestra_version": state.kestra_version, "line": stored.line(state.kestra_version),
                  "image": IMAGE, "workloads": []}
        result["servers"].append(record)
        with tempfile.TemporaryDirectory(prefix="bench-containers-") as tmp:
            bench = workspace(tmp, client)
            bench.env.update(settings)
            warm, path = flows.write(bench.root, flows.linear_flow(3))
            for system in (PROCESS, DOCKER):  # untimed: a JVM just started, a page cache still cold
                run_one(system, bench, warm, path)
            for name, source, tasks, large in WORKLOADS:
                if args.only and not any(part in name for part in args.only):
                    continue
                repeat = args.repeat_large if large else args.repeat
                record["workloads"].append(measure(bench, name, source, tasks, repeat))
                stored.write(result, args.results)
        result["finished"] = stored.utc_now()
        print("wrote %s" % stored.write(result, args.results), file=sys.stderr)
        print(table(record["workloads"]))
    finally:
        server.stop()
        s3.stop()
    from benchmarks.render import render

    print("rendered %s" % render(args.results), file=sys.stderr)


if __name__ == "__main__":
    main()
