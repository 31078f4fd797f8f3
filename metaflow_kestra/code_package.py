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
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass

from .errors import KestraError
from .private_dirs import describe, is_private
from .safe_tar import extract_all, refusal

NAMESPACE_DIR = "metaflow-code"
CACHE_ENV = "METAFLOW_KESTRA_CODE_CACHE"
HOME_ENV = "METAFLOW_KESTRA_HOME"  # local_server.settings.ENV_HOME, without importing it on the worker
CACHE_LIMIT_ENV = "METAFLOW_KESTRA_CODE_CACHE_MB"
DEFAULT_CACHE_LIMIT_MB = 1024
USED_MARKER = ".metaflow-kestra-used"  # touched at each use: the eviction order


@dataclass(frozen=True)
class CodePackage:
    blob: bytes
    sha: str
    flow_file: str  # the flow file's path inside the package
    metadata: str = ""  # Metaflow's package metadata: how to unpack it and what to put on PYTHONPATH
    files_sha: str = ""  # files_digest(blob): what a cached copy is checked against on the worker

    @property
    def size(self):
        return len(self.blob)

    def namespace_path(self, flow_id):
        return "%s/%s/%s.tgz" % (NAMESPACE_DIR, flow_id, self.sha)


def start(flow, environment, echo, suffixes=None):
    """Metaflow's code package for `flow` (the flow file's directory, by Metaflow's rules), being
    made: Metaflow makes it in a thread of its own, so the caller may do other work meanwhile."""
    from metaflow.package import MetaflowPackage

    kwargs = {"suffixes": suffixes} if suffixes is not None else {}
    return MetaflowPackage(flow, environment, echo, **kwargs)


def build(flow, environment, echo, suffixes=None, started=None):
    """The CodePackage of `flow`: of the package `start` began (`started`), or of a new one."""
    import sys

    package = started or start(flow, environment, echo, suffixes)
    blob = bytes(package.blob)
    sha = hashlib.sha256(blob).hexdigest()
    return CodePackage(blob, sha, os.path.basename(sys.argv[0]), package.package_metadata,
                       cached_files_digest(blob, sha))


def cached_files_digest(blob, sha):
    """files_digest(blob), kept per package `sha` in this user's private cache: deploying an
    unchanged flow again then does not read its whole package back. A cache another user could
    write is not read (a wrong digest there would stop the flow's tasks)."""
    folder = os.path.join(cache_root(), "digests")
    path = os.path.join(folder, sha)
    private = is_private(os.path.dirname(folder)) and is_private(folder)
    if private:
        try:
            with open(path, encoding="ascii") as handle:
                known = handle.read()
            if re.fullmatch(r"[0-9a-f]{64}", known):
                return known
        except (OSError, ValueError):
            pass
    digest = files_digest(blob)
    if private:
        try:
            with tempfile.NamedTemporaryFile("w", dir=folder, delete=False, encoding="ascii") as handle:
                handle.write(digest)
            os.replace(handle.name, path)
        except OSError:
            pass  # a cache is a saving, never a failure
    return digest


def cache_root():
    """This user's package cache: METAFLOW_KESTRA_CODE_CACHE, else `code` in METAFLOW_KESTRA_HOME
    (the one home of all state and caches), else under ~/.cache, else in the user's runtime
    directory (XDG_RUNTIME_DIR), else in the temporary directory, named by uid."""
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return configured
    if os.environ.get(HOME_ENV):
        return os.path.join(os.path.expanduser(os.environ[HOME_ENV]), "code")
    home = os.path.expanduser("~")
    if home != "~" and os.path.isdir(home) and os.access(home, os.W_OK):
        return os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache"),
                            "metaflow-kestra", "code")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isabs(runtime) and is_private(runtime, create=False):
        return os.path.join(runtime, "metaflow-kestra-code")
    return os.path.join(tempfile.gettempdir(), "metaflow-kestra-code-%d" % os.getuid())


def private_directory(path):
    """Create `path` readable by this user only, or check that it is (private_dirs): another user
    could otherwise swap the code a task runs."""
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        os.makedirs(parent, mode=0o700, exist_ok=True)
    if not is_private(path):
        raise KestraError(
            "The code package cache %s is not private to this user: %s. Set %s to a directory only "
            "you can write, or fix it (chmod 700, owned by you, not a link)."
            % (path, describe(path), CACHE_ENV)
        )
    return path


def _cache_directory(root):
    """The cache to use. A default one in the shared temporary directory that another user
    planted would stop every task of ours: then this task unpacks in its own working directory,
    which Kestra removes after it, and says so."""
    import sys

    if root or os.environ.get(CACHE_ENV) or not cache_root().startswith(tempfile.gettempdir() + os.sep):
        return private_directory(root or cache_root())
    default = cache_root()
    if is_private(default):
        return default
    fallback = os.path.abspath(".metaflow-kestra-code")
    print("metaflow-kestra: the code package cache %s is not private to this user (%s), so this task "
          "unpacks its package in its working directory; set %s to a private directory."
          % (default, describe(default), CACHE_ENV), file=sys.stderr)
    return private_directory(fallback)


def unpack(archive, sha, root=None, files_sha=""):
    """The directory holding package `sha`, unpacked from `archive` on first use on this machine.

    A copy unpacked earlier is reused only when it holds exactly the package's files: every
    file's SHA-256 is checked against the manifest written when it was unpacked, and nothing
    else may be there (no planted `json.py`, no `__pycache__`). The manifest lives in this
    user's cache, so it counts only when its digest is `files_sha`, which the deployment pins
    (without one, from a deployment older than the pin, it is read again from the archive).
    The cache is then kept under its size limit by removing the packages used least recently.
    """
    root = _cache_directory(root)
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
        blob = handle.read()
    if hashlib.sha256(blob).hexdigest() != sha:
        raise KestraError("The code package %s does not match its checksum: redeploy the flow." % archive)
    pinned = files_sha or files_digest(blob)
    if os.path.isdir(target):
        changed = _difference(_manifest_path(root, sha), pinned, target)
        if changed:  # changed since it was unpacked: unpack again
            import sys

            print("metaflow-kestra: the cached copy of code package %s was changed (%s): unpacking it again."
                  % (sha[:12], changed), file=sys.stderr)
            _remove(root, target)
    if not os.path.isdir(target):
        _unpack_new(archive, sha, root, target, pinned)
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


def _unpack_new(archive, sha, root, target, files_sha):
    staging = tempfile.mkdtemp(prefix=".%s-" % sha[:12], dir=root)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            members = tar.getmembers()
            _check_members(members, archive)
            extract_all(tar, members, staging)
            manifest = _manifest_of(tar, members)
        if _digest(manifest) != files_sha:
            raise KestraError("The code package %s does not match the digest its deployment pins for its "
                              "files: redeploy the flow with `python flow.py kestra create`." % archive)
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


def files_digest(blob):
    """The SHA-256 of the manifest of the package `blob` (a .tgz): its files' SHA-256s, its
    directories and links. The deploy side pins it; the worker checks a cached copy with it.
    Read in one pass over the stream (reading members after listing them decompressed it anew)."""
    import io

    manifest = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r|gz") as tar:
        for member in tar:
            _check_members([member], "the code package")
            _add_to_manifest(manifest, member, tar)
    return _digest(manifest)


def _digest(manifest):
    return hashlib.sha256(json.dumps(manifest, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _manifest_of(tar, members):
    """{path: "sha256:<hex>" | "dir" | "link:<target>"} for the members (and their parent directories)."""
    manifest = {}
    for member in members:
        _add_to_manifest(manifest, member, tar)
    return manifest


def _add_to_manifest(manifest, member, tar):
    name = _clean(member.name)
    if not name:
        return
    parts = name.split("/")
    for depth in range(1, len(parts)):
        manifest["/".join(parts[:depth])] = "dir"
    if member.isdir():
        manifest[name] = "dir"
    elif member.issym():
        manifest[name] = "link:" + member.linkname
    else:
        manifest[name] = "sha256:" + hashlib.sha256(tar.extractfile(member).read()).hexdigest()


def _clean(name):
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def _check_members(members, archive):
    """Refuse what tarfile's data filter refuses, on every Python (safe_tar)."""
    for member in members:
        reason = refusal(member)
        if reason:
            raise KestraError("Unpacking %s refused: member %r: %s. A Metaflow code package never holds "
                              "that: redeploy the flow from its own directory." % (archive, member.name, reason))


def _manifest_path(root, sha):
    """The package's files with their SHA-256s, as its archive lists them."""
    return os.path.join(root, ".%s.manifest.json" % sha)


# What tasks may leave at the top of a copy: our own markers (USED_MARKER, package_metaflow's
# comparison). Their names start with a dot, so Python never imports them.
_OWN_MARKER_PREFIX = ".metaflow-kestra-"


def _difference(manifest_path, files_sha, target):
    """None when `target` holds exactly the manifest's files, directories and links (besides our
    markers), each file with its SHA-256, and the manifest is the one `files_sha` pins; else
    what differs first.

    Reads every file: for a package with Metaflow in it (about 500 files, 6 MB) some 10 ms.
    """
    try:
        with open(manifest_path) as handle:
            manifest = json.load(handle)
    except (OSError, ValueError):
        return "its manifest cannot be read"
    if not isinstance(manifest, dict) or _digest(manifest) != files_sha:
        return "its manifest is not the one the deployment pins"
    seen = 0
    pending = [""]
    while pending:
        directory = pending.pop()
        try:
            entries = list(os.scandir(os.path.join(target, directory) if directory else target))
        except OSError:
            return "%s cannot be listed" % (directory or "it")
        for entry in entries:
            name = directory + "/" + entry.name if directory else entry.name
            if not directory and entry.name.startswith(_OWN_MARKER_PREFIX) and entry.is_file(follow_symlinks=False):
                continue
            expected = manifest.get(name)
            if expected is None:
                return "%s is not in the package" % name
            seen += 1
            if entry.is_symlink():
                same = expected == "link:" + os.readlink(entry.path)
            elif entry.is_dir(follow_symlinks=False):
                same = expected == "dir"
                pending.append(name)
            elif entry.is_file(follow_symlinks=False):
                same = expected.startswith("sha256:") and expected[7:] == _file_sha256(entry.path)
            else:
                same = False
            if not same:
                return "%s differs" % name
    return None if seen == len(manifest) else "files of the package are missing"


def _file_sha256(path):
    try:
        with open(path, "rb") as handle:
            return hashlib.sha256(handle.read()).hexdigest()
    except OSError:
        return None


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
