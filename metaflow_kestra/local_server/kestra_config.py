"""The configuration of the local Kestra server, built as data.

Local mode: H2 database and local storage under the server's state
directory, API on loopback, one user with the state directory's random
password (credentials.py), and script tasks on
the Process task runner so that they run with the Python environment of the
user who started the server.

The same tree configures our server (written as JSON, with a `local-server`
section for what it adds: ports, user, version) and an official Kestra JAR
given with --kestra-jar (written as its application.yml).
"""

import json

import yaml

from .credentials import USERNAME, write_private
from .settings import LOOPBACK

# Script task types our flows use; each defaults to the Process runner (Kestra
# would otherwise pick Docker, which needs an engine).
PROCESS_RUNNER = "io.kestra.plugin.core.runner.Process"
DOCKER_RUNNER = "io.kestra.plugin.scripts.runner.docker.Docker"
SCRIPT_TASK_TYPES = (
    "io.kestra.plugin.scripts.python.Commands",
    "io.kestra.plugin.scripts.python.Script",
    "io.kestra.plugin.scripts.shell.Commands",
    "io.kestra.plugin.scripts.shell.Script",
)


def local_server_config(settings, password, ui_dir=None):
    """The configuration mapping for `settings` (see `settings.ServerSettings`) and the user's password."""
    state = settings.state_dir
    # LOCK_TIMEOUT: an execution of a 1,000-way foreach is one multi-megabyte row that the
    # executor rewrites under a row lock; with H2's default (10 s) a waiting queue poller gave
    # up, and Kestra takes a failed poll as fatal and shuts the whole engine down.
    # `async:`: H2's file system on AsynchronousFileChannel. With the default (FileChannel), a
    # thread interrupted while it writes closes the database file for everyone: the worker thread
    # of a task that an SLA (--workflow-timeout) or a kill interrupts then took the engine down.
    h2_url = "jdbc:h2:async:%s;DB_CLOSE_DELAY=-1;DB_CLOSE_ON_EXIT=FALSE;LOCK_TIMEOUT=300000" % (
        state / "data" / "database"
    )
    config = {
        "datasources": {
            "h2": {
                "url": h2_url,
                "username": "sa",
                "password": "",
                "driver-class-name": "org.h2.Driver",
            }
        },
        # Kestra's own application.yml sets these; the published engine modules ship none.
        "jooq": {"datasources": {"h2": {"sql-dialect": "H2"}}},
        "flyway": {
            "datasources": {
                "h2": {
                    "enabled": True,
                    "locations": ["classpath:migrations/h2"],
                    "ignore-migration-patterns": "*:missing,*:future",
                    "out-of-order": True,
                }
            }
        },
        "micronaut": {
            # max-request-size: read by an official Kestra JAR (ours reads local-server's).
            "server": {"host": LOOPBACK, "port": settings.port,
                       "max-request-size": settings.max_request_mb << 20},
        },
        "endpoints": {"all": {"port": settings.management_port}},
        "kestra": {
            "server-type": "STANDALONE",
            "url": settings.url + "/",
            "repository": {"type": "h2"},
            # Queue polling (Kestra's defaults: 25 ms, backing off to 500 ms when idle): every
            # task boundary crosses several queues. Measured with benchmarks/run.py, 10 ms /
            # 100 ms took a 10-step linear execution from 4.6 s to 4.2 s (median of 3).
            "jdbc": {"queues": {"min-poll-interval": "10ms", "max-poll-interval": "100ms"}},
            "queue": {"type": "h2"},
            "storage": {
                "type": "local",
                "local": {"base-path": str(state / "storage")},
            },
            "tasks": {"tmp-dir": {"path": str(state / "tmp")}},
            "server": {
                "basic-auth": {
                    "username": USERNAME,
                    "password": password,
                    # Kestra's docs: webhooks are called by other systems, without credentials.
                    "open-urls": ["/api/v1/main/executions/webhook/"],
                },
                "service": {"purge": {"initial-delay": "PT1H", "fixed-delay": "PT1H", "retention": "P30D"}},
                # A server that died (killed, machine lost) leaves its running task runs behind.
                # Kestra resubmits them once the dead worker has missed heartbeats for `timeout`
                # and then `termination-grace-period` has passed (defaults 45 s and 5 min): for
                # one local server, a run resumes about a minute after the server starts again.
                "termination-grace-period": "30s",
                "liveness": {"timeout": "20s"},
            },
            "plugins": {
                "defaults": [
                    {"type": task_type, "values": {"taskRunner": {"type": PROCESS_RUNNER}}}
                    for task_type in SCRIPT_TASK_TYPES
                ],
                # Local metadata reaches containers as a mount of the user's own folder
                # (compiler.local_metadata_mount); Kestra refuses volumes unless enabled.
                "configurations": [{"type": DOCKER_RUNNER, "values": {"volume-enabled": True}}],
            },
            # A local development server: no tutorial flows to load at start,
            # and no usage report sent anywhere.
            "tutorial-flows": {"enabled": False},
            "anonymous-usage-report": {"enabled": False},
        },
        "local-server": {
            "host": LOOPBACK,
            "port": settings.port,
            "management-port": settings.management_port,
            "username": USERNAME,
            "password": password,
            "max-request-bytes": settings.max_request_mb << 20,
            "worker-threads": settings.worker_threads,
            "kestra-version": settings.kestra_version,
        },
    }
    if ui_dir is not None:
        config["local-server"]["ui-dir"] = str(ui_dir)
    if settings.kestra_major >= 2:
        _for_kestra_2(config, settings)
    return config


def _for_kestra_2(config, settings):
    """What Kestra 2 reads differently (core, worker and worker-controller 2.0.0, read in their sources).

    - No Flyway: 2.0 migrates its database itself at context start.
    - No `kestra.plugins.defaults`: 2.0 has no plugin defaults. Our script task types
      default to the Process runner themselves; a flow's own `taskRunner` still wins.
    - The worker talks gRPC to the controller even in one JVM: a static endpoint on loopback.
    - Micronaut's own gRPC server (on the classpath, port 50051 by default) stays off.
    - No plugin auto-install: an unknown task type must fail with "Invalid type", not be downloaded.
    """
    del config["flyway"]
    kestra = config["kestra"]
    del kestra["plugins"]["defaults"]
    kestra["plugins"]["auto-install"] = {"enabled": False}
    kestra["controller"] = {"port": settings.controller_port}
    kestra["worker"] = {"controllers": {
        "type": "STATIC",
        "static": {"endpoints": [{"host": LOOPBACK, "port": settings.controller_port}]},
    }}
    config["grpc"] = {"server": {"enabled": False, "health": {"enabled": False}}}
    config["local-server"]["controller-port"] = settings.controller_port


def write_config(settings, path, password, ui_dir=None):
    """Write the configuration, readable by this user only (it holds the password): JSON for our
    server, YAML for an official JAR (by suffix)."""
    config = local_server_config(settings, password, ui_dir)
    if path.suffix == ".json":
        write_private(path, json.dumps(config, indent=2))
    else:
        write_private(path, yaml.safe_dump(config, sort_keys=False))
    return path
