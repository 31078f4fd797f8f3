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


# Issue 26, finding 11: the cache trusted sizes and times, so a task of the same user could change
# a cached package's files (keeping both) or add one, and the next task ran it.

def pinned_unpack(path, sha, root):
    """unpack as a task does: with the digest of the package's files the deployment pins."""
    with open(path, "rb") as handle:
        files_sha = code_package.files_digest(handle.read())
    return code_package.unpack(path, sha, root=root, files_sha=files_sha)


def test_a_copy_changed_with_its_size_and_time_kept_is_unpacked_again(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    target = pinned_unpack(path, sha, str(tmp_path / "cache"))
    flow = os.path.join(target, "flow.py")
    before = os.stat(flow)
    with open(flow, "w") as handle:
        handle.write("print('b')\n")  # same size
    os.utime(flow, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert pinned_unpack(path, sha, str(tmp_path / "cache")) == target
    assert open(flow).read() == "print('a')\n"


@pytest.mark.parametrize("planted", ["json.py", "pkg/extra.py", "__pycache__/flow.cpython-311.pyc", "newdir/x.py"])
def test_a_file_the_package_does_not_hold_is_not_kept(tmp_path, planted):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"import json\n", "pkg/m.py": b"x = 1\n"})
    target = pinned_unpack(path, sha, str(tmp_path / "cache"))
    os.makedirs(os.path.dirname(os.path.join(target, planted)), exist_ok=True)
    with open(os.path.join(target, planted), "w") as handle:
        handle.write("raise SystemExit('planted')\n")
    target = pinned_unpack(path, sha, str(tmp_path / "cache"))
    assert not os.path.exists(os.path.join(target, planted))
    assert open(os.path.join(target, "flow.py")).read() == "import json\n"


def test_a_file_replaced_by_a_link_is_unpacked_again(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    elsewhere = tmp_path / "evil.py"
    elsewhere.write_text("print('a')\n")
    target = pinned_unpack(path, sha, str(tmp_path / "cache"))
    os.unlink(os.path.join(target, "flow.py"))
    os.symlink(str(elsewhere), os.path.join(target, "flow.py"))
    target = pinned_unpack(path, sha, str(tmp_path / "cache"))
    assert not os.path.islink(os.path.join(target, "flow.py"))


def test_a_forged_manifest_does_not_pass(tmp_path):
    """The manifest sits in the same user's cache: it counts only when its digest is the one pinned."""
    import json

    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    root = str(tmp_path / "cache")
    target = pinned_unpack(path, sha, root)
    with open(os.path.join(target, "flow.py"), "w") as handle:
        handle.write("print('evil')\n")
    manifest_path = os.path.join(root, ".%s.manifest.json" % sha)
    manifest = json.load(open(manifest_path))
    manifest["flow.py"] = "sha256:" + hashlib.sha256(b"print('evil')\n").hexdigest()
    json.dump(manifest, open(manifest_path, "w"))
    assert open(os.path.join(pinned_unpack(path, sha, root), "flow.py")).read() == "print('a')\n"


def test_the_deploy_side_and_the_worker_agree_on_the_digest(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"a", "pkg/m.py": b"b", "pkg/sub/n.py": b"c"})
    with open(path, "rb") as handle:
        blob = handle.read()
    assert code_package.files_digest(blob) == code_package.files_digest(blob)
    other, _ = archive(tmp_path, "b.tgz", {"flow.py": b"a", "pkg/m.py": b"B", "pkg/sub/n.py": b"c"})
    assert code_package.files_digest(open(other, "rb").read()) != code_package.files_digest(blob)


def test_a_pin_that_does_not_match_the_package_is_refused(tmp_path):
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"a"})
    with pytest.raises(KestraError, match="does not match the digest its deployment pins"):
        code_package.unpack(path, sha, root=str(tmp_path / "cache"), files_sha="0" * 64)


# Issue 26, finding 12: Pythons without tarfile's data filter (3.9.0-3.9.16, 3.10.0-3.10.11,
# 3.11.0-3.11.3) honoured `../` names and links out of the target.

def hostile_archive(tmp_path, member):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("flow.py")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
        tar.addfile(member, io.BytesIO(b"y" * member.size) if member.isfile() else None)
    path = tmp_path / "hostile.tgz"
    path.write_bytes(buffer.getvalue())
    return str(path), hashlib.sha256(buffer.getvalue()).hexdigest()


ABSOLUTE = "/tmp/metaflow-kestra-test-absolute-member.py"


def _member(name, kind=tarfile.REGTYPE, linkname="", size=0, mode=0o644):
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mode = kind, linkname, size, mode
    return info


@pytest.mark.parametrize("with_data_filter", [True, False])
@pytest.mark.parametrize("member", [
    _member("../escaped.py", size=1),
    _member(ABSOLUTE, size=1),
    _member("pkg/../../escaped.py", size=1),
    _member("link", tarfile.SYMTYPE, "/etc/passwd"),
    _member("link", tarfile.SYMTYPE, "../../outside"),
    _member("hard", tarfile.LNKTYPE, "/etc/passwd"),
    _member("dev", tarfile.CHRTYPE),
    _member("fifo", tarfile.FIFOTYPE),
    _member("setuid.py", size=1, mode=0o4755),
], ids=lambda value: getattr(value, "name", str(value)))
def test_an_archive_with_a_member_outside_the_target_is_refused(tmp_path, monkeypatch, member, with_data_filter):
    if not with_data_filter:
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    if os.path.exists(ABSOLUTE):
        os.unlink(ABSOLUTE)  # left by a broken build
    path, sha = hostile_archive(tmp_path, member)
    with pytest.raises(KestraError, match="refused"):
        code_package.unpack(path, sha, root=str(tmp_path / "cache"))
    assert not (tmp_path / "escaped.py").exists() and not os.path.exists(ABSOLUTE)


# Issue 26, finding 3: the cache directory was checked with os.stat, which follows links.

def test_a_cache_that_is_a_link_is_refused(tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir(mode=0o700)
    link = tmp_path / "planted"
    link.symlink_to(mine)
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"x"})
    with pytest.raises(KestraError, match="is not private to this user: it is a link"):
        code_package.unpack(path, sha, root=str(link))
    assert os.listdir(mine) == []


def test_a_planted_default_cache_in_tmp_costs_a_cold_unpack_not_the_task(tmp_path, monkeypatch, capsys):
    import tempfile

    shared_tmp = tmp_path / "tmp"
    shared_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(shared_tmp))
    monkeypatch.setenv("HOME", str(tmp_path / "no-home"))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    monkeypatch.delenv(code_package.CACHE_ENV, raising=False)
    monkeypatch.delenv(code_package.HOME_ENV, raising=False)
    elsewhere = tmp_path / "attacker"
    elsewhere.mkdir(mode=0o700)
    (shared_tmp / ("metaflow-kestra-code-%d" % os.getuid())).symlink_to(elsewhere)
    workdir = tmp_path / "task"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"print('a')\n"})
    target = code_package.unpack(path, sha)
    assert target == str(workdir / ".metaflow-kestra-code" / sha)
    assert os.listdir(elsewhere) == []
    assert "is not private to this user (it is a link" in capsys.readouterr().err


def test_metaflow_kestra_home_holds_the_code_cache_too(tmp_path, monkeypatch):
    """Issue 27: the README calls METAFLOW_KESTRA_HOME the home of cache and state, and it did not move
    the code cache."""
    from metaflow_kestra.local_server.settings import ENV_HOME

    assert code_package.HOME_ENV == ENV_HOME
    monkeypatch.delenv(code_package.CACHE_ENV, raising=False)
    monkeypatch.setenv(ENV_HOME, str(tmp_path / "home"))
    assert code_package.cache_root() == str(tmp_path / "home" / "code")
    monkeypatch.setenv(code_package.CACHE_ENV, str(tmp_path / "own"))
    assert code_package.cache_root() == str(tmp_path / "own")


# Issue 30: deploying an unchanged flow again read its whole package back to digest its files.

def test_the_files_digest_of_a_package_is_computed_once_per_package(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_CODE_CACHE", str(tmp_path / "cache"))
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"a", "pkg/m.py": b"b"})
    other, other_sha = archive(tmp_path, "b.tgz", {"flow.py": b"B"})
    blob = open(path, "rb").read()
    first = code_package.cached_files_digest(blob, sha)
    assert first == code_package.files_digest(blob)
    monkeypatch.setattr(code_package.tarfile, "open", lambda *a, **k: pytest.fail("read the package again"))
    assert code_package.cached_files_digest(blob, sha) == first
    with pytest.raises(pytest.fail.Exception):
        code_package.cached_files_digest(open(other, "rb").read(), other_sha)


def test_a_digest_cache_others_can_write_is_not_read(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("METAFLOW_KESTRA_CODE_CACHE", str(cache))
    path, sha = archive(tmp_path, "a.tgz", {"flow.py": b"a"})
    blob = open(path, "rb").read()
    code_package.cached_files_digest(blob, sha)
    digests = cache / "digests"
    (digests / sha).write_text("0" * 64)
    os.chmod(digests, 0o777)
    assert code_package.cached_files_digest(blob, sha) == code_package.files_digest(blob)
