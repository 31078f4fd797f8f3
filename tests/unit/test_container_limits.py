"""A task in a container with a memory limit starts no more of Metaflow's S3 worker processes than
fit in it (issue 29, a new user's trial: `@resources(memory=512)` ended every step with the
kernel's OOM kill, about 19 s3op workers of 60 MB each, in the runtime's own first read)."""

from metaflow_kestra import container_limits


def test_the_workers_follow_the_memory_limit():
    mib = 2 ** 20
    assert [container_limits.s3_workers_for(m * mib) for m in (256, 512, 1024, 4096, 8192, 65536)] == \
        [2, 4, 8, 32, 64, 64]


def test_a_worker_count_the_user_set_stays_and_no_limit_changes_nothing():
    environ = {"METAFLOW_S3_WORKER_COUNT": "16"}
    container_limits.limit_s3_workers(environ, memory_limit=512 * 2 ** 20)
    assert environ == {"METAFLOW_S3_WORKER_COUNT": "16"}
    environ = {}
    container_limits.limit_s3_workers(environ, memory_limit=None)
    assert environ == {}
    container_limits.limit_s3_workers(environ, memory_limit=512 * 2 ** 20)
    assert environ == {"METAFLOW_S3_WORKER_COUNT": "4"}


def test_the_limit_is_read_from_either_cgroup_version(tmp_path):
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "memory.max").write_text("536870912\n")
    assert container_limits.cgroup_memory_limit(str(v2)) == 536870912
    (v2 / "memory.max").write_text("max\n")
    assert container_limits.cgroup_memory_limit(str(v2)) is None
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    (v1 / "memory" / "memory.limit_in_bytes").write_text("1073741824\n")
    assert container_limits.cgroup_memory_limit(str(v1)) == 1073741824
    (v1 / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")  # v1's "no limit"
    assert container_limits.cgroup_memory_limit(str(v1)) is None
    assert container_limits.cgroup_memory_limit(str(tmp_path / "none")) is None
