"""The worker's code package cache: private, checked before reuse, bounded."""

import hashlib
import io
import os
import tarfile
import time

import pytest

from metaflow_kestra import code_package
from metaflow_kestra.errors import KestraError


def archive(tmp_path, name, files):
    """A .tgz holding `files` ({path: bytes}); returns (path, sha)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for path, data in files.items():
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(data), 1_700_000_000
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return str(path), hashlib.sha256(buffer.getvalue()).hexdigest()


def test_the_cache_is_private_and_reused(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    root = tmp_path / "cache"
    first = code_package.unpack(path, sha, root=str(root))
    assert os.stat(root).st_mode & 0o777 == 0o700
    assert code_package.unpack(path, sha, root=str(root)) == first
    assert (tmp_path / "cache" / sha / "flow.py").read_text() == "print('a')\n"


def test_a_cache_others_can_write_is_refused(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"x"})
    root = tmp_path / "shared"
    root.mkdir(mode=0o777)
    os.chmod(root, 0o777)
    with pytest.raises(KestraError, match="not private"):
        code_package.unpack(path, sha, root=str(root))


def test_a_changed_copy_is_unpacked_again(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    target = code_package.unpack(path, sha, root=str(tmp_path / "cache"))
    with open(os.path.join(target, "flow.py"), "w") as handle:
        handle.write("print('tampered with')\n")
    assert code_package.unpack(path, sha, root=str(tmp_path / "cache")) == target
    assert open(os.path.join(target, "flow.py")).read() == "print('a')\n"


def test_the_least_recently_used_packages_go_first(tmp_path, monkeypatch):
    root = str(tmp_path / "cache")
    shas = []
    for name in ("old", "middle", "new"):
        path, sha = archive(tmp_path, name + ".tgz", {"blob": os.urandom(300 * 1024)})
        code_package.unpack(path, sha, root=root)
        shas.append(sha)
        time.sleep(0.05)
    os.utime(os.path.join(root, shas[0], code_package.USED_MARKER), None)  # "old" used again last
    code_package.evict(root, keep=shas[2], limit_mb=0.7)
    kept = [name for name in os.listdir(root) if not name.startswith(".")]
    assert sorted(kept) == sorted([shas[0], shas[2]])
    assert not os.path.exists(os.path.join(root, ".%s.manifest.json" % shas[1]))


def _unpack_and_read(args):
    path, sha, root = args
    target = code_package.unpack(path, sha, root=root)
    time.sleep(0.05)  # the step starts a moment later: the copy must still be whole
    return os.path.exists(os.path.join(target, "flow.py"))


def test_tasks_unpacking_one_package_at_once_all_find_it_whole(tmp_path):
    # Seen in CI with 20 executions started at once: a task read the manifest while another
    # rewrote it, took the copy for a changed one, and deleted it under the running steps.
    from concurrent.futures import ProcessPoolExecutor

    files = {"flow.py": b"print('a')\n"}
    files.update({"pkg/m%03d.py" % i: b"x = %d\n" % i * 50 for i in range(200)})  # a manifest worth racing on
    path, sha = archive(tmp_path, "a.tgz", files)
    with ProcessPoolExecutor(max_workers=8) as pool:
        for attempt in range(15):
            root = str(tmp_path / ("cache-%d" % attempt))
            assert all(pool.map(_unpack_and_read, [(path, sha, root)] * 16)), attempt
