"""Which Metaflow a task's step runs: the one in its code package, as on Argo.

Metaflow's code package carries Metaflow itself and the Metaflow extensions
(`metaflow_extensions`: company plugins, custom decorators) of the machine that
deployed the flow. Argo starts each step with the package's content first on
`PYTHONPATH` (`MetaflowPackage.get_post_extract_env_vars`), so the worker's
own Metaflow matters only for bootstrapping. Here too: a step runs in a child
process with that environment, unless the package's Metaflow and extensions
are the very files this interpreter imported, in which case running the step
in this process (a warm start) is the same thing, only faster. The comparison
reads the files once per package and worker, and is remembered beside the
unpacked package.

A deployment made with `--worker-metaflow` runs every step with the worker's
Metaflow instead (the package then only supplies the flow's own files).
"""

import filecmp
import hashlib
import json
import os
import sys

# What a package without recorded metadata is (Metaflow assumes the same in get_package_commands).
DEFAULT_PACKAGE_METADATA = json.dumps({"version": 0, "archive_format": "tgz", "mfcontent_version": 1})
_COMPARED = ("metaflow", "metaflow_extensions")
_SAME_MARKER = ".metaflow-kestra-same-as-%s"


def step_environment(package_dir, package_metadata, environ):
    """The variables a step process needs to run the package's Metaflow (PYTHONPATH first)."""
    from metaflow.package import MetaflowPackage

    env = {}
    for name, value in MetaflowPackage.get_post_extract_env_vars(
            package_metadata or DEFAULT_PACKAGE_METADATA, dest_dir=package_dir).items():
        if name.endswith(":"):  # Metaflow's mark for "replace" rather than "prepend"
            env[name[:-1]] = value
        else:
            existing = environ.get(name)
            env[name] = "%s:%s" % (value, existing) if existing else value
    return env


def content_roots(package_dir, package_metadata):
    """The directories the package puts on PYTHONPATH."""
    env = step_environment(package_dir, package_metadata, {})
    return [path for path in env.get("PYTHONPATH", "").split(":") if path]


def same_as_running(package_dir, package_metadata):
    """Whether the package's Metaflow and extensions are the files this interpreter imported."""
    marker = os.path.join(package_dir, _SAME_MARKER % _running_key())
    try:
        with open(marker) as handle:
            return handle.read().strip() == "same"
    except OSError:
        pass
    same = all(_root_matches(root, root == os.path.abspath(package_dir))
               for root in content_roots(package_dir, package_metadata))
    try:
        with open(marker, "w") as handle:
            handle.write("same" if same else "different")
    except OSError:
        pass  # a read-only cache compares again next time
    return same


def _running_key():
    """What identifies the Metaflow this interpreter imported: locations and change times."""
    import metaflow

    facts = [sys.executable]
    for path in _running_locations("metaflow") + _running_locations("metaflow_extensions"):
        try:
            facts.append([path, os.stat(path).st_mtime_ns])
        except OSError:
            facts.append([path, None])
    facts.append(getattr(metaflow, "__version__", ""))
    return hashlib.sha256(json.dumps(facts).encode()).hexdigest()[:16]


def _running_locations(package):
    """The directories package `package` was imported from (several for a namespace package)."""
    module = sys.modules.get(package)
    if module is None:
        try:
            module = __import__(package)
        except ImportError:
            return []
    return [os.path.abspath(path) for path in getattr(module, "__path__", [])]


def _root_matches(root, shares_flow_files):
    """Every package file under `root` is the same as the running one.

    A root holding only Metaflow's content must hold nothing else (another packaged module
    could shadow the worker's); the package's own directory also holds the flow's files.
    """
    try:
        names = os.listdir(root)
    except OSError:
        return False
    for name in names:
        if name in _COMPARED:
            if not _tree_matches(os.path.join(root, name), _running_locations(name)):
                return False
            if name == "metaflow_extensions" and not _same_extensions(os.path.join(root, name)):
                return False
        elif not shares_flow_files and not name.startswith("."):
            return False
    return True


def _same_extensions(packaged):
    """The package holds exactly the extensions this interpreter can load (no more, no fewer)."""
    def names(directories):
        return {name for directory in directories if os.path.isdir(directory)
                for name in os.listdir(directory)
                if os.path.isdir(os.path.join(directory, name)) and not name.startswith((".", "__"))}

    return names([packaged]) == names(_running_locations("metaflow_extensions"))


def _tree_matches(packaged, running_roots):
    if not running_roots:
        return False
    for directory, _, files in os.walk(packaged):
        relative = os.path.relpath(directory, packaged)
        for name in files:
            mine = os.path.join(directory, name)
            if name.endswith(".pyc") or (relative == "." and name == "__init__.py" and _only_comments(mine)):
                continue  # Metaflow packages a namespace package with a placeholder __init__.py
            if not any(_same_file(mine, os.path.normpath(os.path.join(root, relative, name)))
                       for root in running_roots):
                return False
    return True


def _only_comments(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        return all(not line.strip() or line.lstrip().startswith("#") for line in handle)


def _same_file(a, b):
    try:
        return filecmp.cmp(a, b, shallow=False)
    except OSError:
        return False
