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
import os
import shutil
import tarfile
import tempfile
from dataclasses import dataclass

from .errors import KestraError

NAMESPACE_DIR = "metaflow-code"
CACHE_ENV = "METAFLOW_KESTRA_CODE_CACHE"


@dataclass(frozen=True)
class CodePackage:
    blob: bytes
    sha: str
    flow_file: str  # the flow file's path inside the package

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
    return CodePackage(blob, hashlib.sha256(blob).hexdigest(), os.path.basename(sys.argv[0]))


def cache_root():
    return os.environ.get(CACHE_ENV) or os.path.join(tempfile.gettempdir(), "metaflow-kestra-code")


def unpack(archive, sha, root=None):
    """The directory holding package `sha`, unpacked from `archive` on first use on this machine."""
    root = root or cache_root()
    target = os.path.join(root, sha)
    if os.path.isdir(target):
        return target
    if not os.path.exists(archive):
        raise KestraError(
            "The code package %s is not in this task's working directory (%s). Kestra copies it from "
            "the namespace file %s: it was deleted, or the flow was deployed without it. Redeploy with "
            "`python flow.py kestra create`." % (sha[:12], os.getcwd(), archive)
        )
    with open(archive, "rb") as handle:
        if hashlib.sha256(handle.read()).hexdigest() != sha:
            raise KestraError("The code package %s does not match its checksum: redeploy the flow." % archive)
    os.makedirs(root, exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".%s-" % sha[:12], dir=root)
    try:
        with tarfile.open(archive, "r:gz") as tar:
            tar.extractall(staging, filter="data") if hasattr(tarfile, "data_filter") else tar.extractall(staging)
        try:
            os.rename(staging, target)  # atomic: concurrent tasks agree on one copy
        except OSError:
            if not os.path.isdir(target):
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
