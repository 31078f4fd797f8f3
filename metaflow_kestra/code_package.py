"""Ship code, not paths: the flow's code package, from deploy time to the Kestra task.

At `create`/`run`, Metaflow's own code package is built (the flow file, the
files beside it that Metaflow packages, Metaflow itself under `.mf_code/`)
and uploaded as a Kestra namespace file named by its SHA-256:
`metaflow-code/<flow id>/<sha>.tgz`. The flow's tasks list that one file
under `namespaceFiles`, so Kestra copies it into each task's working
directory; the runtime unpacks it once per worker (cached by sha) and runs
the flow from there. A redeploy with changed code uploads a new file and
pins the new sha in the new flow revision; executions already running keep
the revision, and so the code, they started with.
"""

import hashlib
import json
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass

from .errors import KestraError

NAMESPACE_DIR = "metaflow-code"
CACHE_ENV = "METAFLOW_KESTRA_CODE_CACHE"
CACHE_LIMIT_ENV = "METAFLOW_KESTRA_CODE_CACHE_MB"
DEFAULT_CACHE_LIMIT_MB = 1024
USED_MARKER = ".metaflow-kestra-used"  # touched at each use: the eviction order


@dataclass(frozen=True)
class CodePackage:
    blob: bytes
    sha: str
    flow_file: str  # the flow file's path inside the package
    metadata: str = ""  # Metaflow's package metadata: how to unpack it and what to put on PYTHONPATH

    @property
    def size(self):
        return len(self.blob)

    def namespace_path(self, flow_id):
        return "%s/%s/%s.tgz" % (NAMESPACE_DIR, flow_id, self.sha)


def build(flow, environment, echo, suffixes=None):
    """Metaflow's code package for `flow` (the flow file's directory, by Metaflow's rules)."""
    import sys

    from metaflow.package import MetaflowPackage

    kwargs = {"suffixes": suffixes} if suffixes is not None else {}
    package = MetaflowPackage(flow, environment, echo, **kwargs)
    blob = bytes(package.blob)
    return CodePackage(blob, hashlib.sha256(blob).hexdigest(), os.path.basename(sys.argv[0]),
                       package.package_metadata)


def cache_root():
    """This user's package cache: METAFLOW_KESTRA_CODE_CACHE, else under ~/.cache (the
    temporary directory, named by uid, when there is no home)."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return configured
    home = os.path.expanduser("~")
    if home != "~" and os.path.isdir(home) and os.access(home, os.W_OK):
        return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"),
                            "metaflow-kestra", "code")
    return os.path.join(tempfile.gettempdir(), "metaflow-kestra-code-%d" % os.getuid())


def private_directory(path):
    """Create `path` readable by this user only, or check that it is: another user could
    otherwise swap the code a task runs."""
    os.makedirs(path, mode=0o700, exist_ok=True)
    info = os.stat(path)
    if info.st_uid != os.getuid() or info.st_mode & 0o077:
        raise KestraError(
            "The code package cache %s is not private to this user (owner uid %d, mode %o): set %s to a "
            "directory only you can write, or fix its owner and mode (chmod 700)."
            % (path, info.st_uid, info.st_mode & 0o777, CACHE_ENV)
        )
    return path


def unpack(archive, sha, root=None):
    """The directory holding package `sha`, unpacked from `archive` on first use on this machine.

    A copy unpacked earlier is reused only once its files are checked against the
    manifest written when it was unpacked (names, sizes and times); the cache is then kept
    under its size limit by removing the packages used least recently.
    """
    root = private_directory(root or cache_root())
    target = os.path.join(root, sha)
    if not os.path.exists(archive):
        if os.path.isdir(target):
            raise KestraError("The code package %s is not in this task's working directory (%s), so the "
                              "cached copy cannot be checked: redeploy with `python flow.py kestra create`."
                              % (sha[:12], os.getcwd()))
        raise KestraError(
            "The code package %s is not in this task's working directory (%s). Kestra copies it from "
            "the namespace file %s: it was deleted, or the flow was deployed without it. Redeploy with "
            "`python flow.py kestra create`." % (sha[:12], os.getcwd(), archive)
        )
    with open(archive, "rb") as handle:
        if hashlib.sha256(handle.read()).hexdigest() != sha:
            raise KestraError("The code package %s does not match its checksum: redeploy the flow." % archive)
    if os.path.isdir(target) and not _matches(_manifest_path(root, sha), target):
        _remove(root, target)  # changed since it was unpacked: unpack again
    if not os.path.isdir(target):
        _unpack_new(archive, sha, root, target)
        evict(root, keep=sha)
    _touch(os.path.join(target, USED_MARKER))
    return target


def _remove(root, target):
    """Take a copy away in one step (a rename), then delete it: a concurrent unpack never mixes with it."""
    doomed = tempfile.mkdtemp(prefix=".removed-", dir=root)
    try:
        os.rename(target, os.path.join(doomed, "copy"))
    except OSError:
        pass  # another task removed it first
    shutil.rmtree(doomed, ignore_errors=True)


def _unpack_new(archive, sha, root, target):
    staging = tempfile.mkdtemp(prefix=".%s-" % sha[:12], dir=root)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(staging)
            manifest = {m.name: [m.size, int(m.mtime)] for m in tar.getmembers() if m.isfile()}
        # Replaced atomically, and before the copy appears: a task checking the copy at the same
        # time must never read a half-written manifest and take the copy for a changed one.
        written = os.path.join(staging, ".manifest.json")
        with open(written, "w") as handle:
            json.dump(manifest, handle)
        os.replace(written, _manifest_path(root, sha))
        try:
            os.rename(staging, target)  # atomic: concurrent tasks agree on one copy
        except OSError:
            if not os.path.isdir(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _manifest_path(root, sha):
    """The package's files with their sizes and times, as its archive lists them."""
    return os.path.join(root, ".%s.manifest.json" % sha)


def _matches(manifest_path, target):
    """Whether every file the manifest lists is in `target` with its size and modification time.

    Checked with stat calls only (a few ms), not by reading the archive again (tens of ms).
    """
    try:
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return False
    for name, (size, mtime) in manifest.items():
        try:
            info = os.stat(os.path.join(target, name))
        except OSError:
            return False
        if info.st_size != size or int(info.st_mtime) != mtime:
            return False
    return True


def evict(root, keep, limit_mb=None):
    """Remove the least recently used packages until the cache is under its limit (never `keep`)."""
    limit = (limit_mb if limit_mb is not None
             else float(os.environ.get(CACHE_LIMIT_ENV) or DEFAULT_CACHE_LIMIT_MB)) * 1024 * 1024
    packages = []
    for name in os.listdir(root):
        path = os.path.join(root, name)
        if name.startswith(".") or not os.path.isdir(path):
            continue
        packages.append((_last_used(path), _size(path), name, path))
    total = sum(size for _, size, _, _ in packages)
    for _, size, name, path in sorted(packages):
        if total <= limit:
            break
        if name != keep:
            shutil.rmtree(path, ignore_errors=True)
            try:
                os.unlink(_manifest_path(root, name))
            except OSError:
                pass
            total -= size


def _last_used(path):
    try:
        return os.stat(os.path.join(path, USED_MARKER)).st_mtime
    except OSError:
        return os.stat(path).st_mtime


def _size(path):
    return sum(os.path.getsize(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files)


def _touch(path):
    with open(path, "a"):
        pass
    os.utime(path, None)
