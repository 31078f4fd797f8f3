"""What a task's memory limit (a container's cgroup) asks of Metaflow before it is imported.

Metaflow's S3 client starts up to METAFLOW_S3_WORKER_COUNT (64) worker processes per transfer,
each a Python with boto3 of about 60 MB. In a container of 512 MB (`@resources(memory=512)`) the
task's first read of the run's state started about 19 of them and the kernel killed the step.
So a task under a memory limit gets one worker per 128 MiB of it (2 to 64), unless the variable
is set already. Imported before Metaflow: standard library only.
"""

import os

S3_WORKERS_ENV = "METAFLOW_S3_WORKER_COUNT"
MEMORY_PER_S3_WORKER = 128 * 2 ** 20
MAX_S3_WORKERS = 64  # Metaflow's default
NO_LIMIT = 2 ** 60  # cgroup v1 writes its "no limit" as a number near 2**63


def s3_workers_for(memory_limit):
    return max(2, min(MAX_S3_WORKERS, memory_limit // MEMORY_PER_S3_WORKER))


def limit_s3_workers(environ, memory_limit=None):
    """Set METAFLOW_S3_WORKER_COUNT in `environ` for a task under `memory_limit` bytes (None: none)."""
    if S3_WORKERS_ENV in environ or not memory_limit:
        return
    environ[S3_WORKERS_ENV] = str(s3_workers_for(memory_limit))


def cgroup_memory_limit(root="/sys/fs/cgroup"):
    """This process's memory limit in bytes (cgroup v2, then v1), or None when there is none."""
    for path in (os.path.join(root, "memory.max"), os.path.join(root, "memory", "memory.limit_in_bytes")):
        try:
            with open(path) as handle:
                value = handle.read().strip()
        except OSError:
            continue
        if value.isdigit() and int(value) < NO_LIMIT:
            return int(value)
        return None
    return None
