"""`metaflow-kestra image build`: the image Kestra's Docker task runner runs each step in.

What a step needs in its container: Python, Metaflow and this package at the versions of
the machine that deploys (the runtime and the flow's code package expect them), boto3 for
an S3 datastore, and the flow's own requirements if given. They go into a virtual
environment at /opt/metaflow-kestra, first on PATH, so the task command's `python` is
that environment's. The base is the user's image (`--base`), else a Debian one built here.

The install runs in a container of the base (`docker run`, then `docker commit`), so no
Dockerfile builder is needed. The image is labelled with a digest of its inputs; a build
whose inputs have not changed keeps the image it finds.
"""

import hashlib
import importlib.metadata
import json
import os
import secrets
import shlex
import shutil
import tempfile
import time

from . import debian_base, docker
from .docker import ContainerError

PREFIX = "/opt/metaflow-kestra"
INPUTS_LABEL = "io.metaflow-kestra.inputs"
VERSIONS_LABEL = "io.metaflow-kestra.versions"
RECIPE = 1  # raise when the recipe below changes what the image holds
# pip settings of this machine that the install inside the container uses too. They go in a file
# of the build's private folder, not on a command line (an index URL may hold a password), and
# not in the image's environment.
PIP_SETTINGS = ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_TRUSTED_HOST", "PIP_DEFAULT_TIMEOUT")
_PACKAGES = ("metaflow_kestra", "metaflow_extensions")
_IMAGE_PATH = "%s/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" % PREFIX


def source_tree():
    """This package's source checkout when it runs from one (an editable install), else None."""
    import metaflow_kestra

    root = os.path.dirname(os.path.dirname(os.path.abspath(metaflow_kestra.__file__)))
    pyproject = os.path.join(root, "pyproject.toml")
    try:
        with open(pyproject, encoding="utf-8") as handle:
            return root if 'name = "metaflow-kestra"' in handle.read() else None
    except OSError:
        return None


def host_versions():
    """{distribution: version} of what a step needs, as installed on this machine."""
    versions = {"metaflow": importlib.metadata.version("metaflow"),
                "metaflow-kestra": importlib.metadata.version("metaflow-kestra")}
    try:
        versions["boto3"] = importlib.metadata.version("boto3")
    except importlib.metadata.PackageNotFoundError:
        versions["boto3"] = None  # the latest: an S3 datastore needs it
    return versions


def code_digest():
    """A digest of this package's installed Python files: changes when the code in the image would."""
    import metaflow_kestra

    digest = hashlib.sha256()
    top = os.path.dirname(os.path.dirname(os.path.abspath(metaflow_kestra.__file__)))
    for package in _PACKAGES:
        for folder, dirs, files in os.walk(os.path.join(top, package)):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__" and not os.path.islink(os.path.join(folder, d)))
            for name in sorted(files):
                if name.endswith(".py"):
                    path = os.path.join(folder, name)
                    digest.update(os.path.relpath(path, top).encode() + b"\0")
                    with open(path, "rb") as handle:
                        digest.update(handle.read())
    return digest.hexdigest()


def inputs_digest(base_id, versions, code, requirements_text):
    digest = hashlib.sha256()
    payload = {"recipe": RECIPE, "base": base_id, "versions": versions, "code": code,
               "requirements": requirements_text or ""}
    digest.update(json.dumps(payload, sort_keys=True).encode())
    return digest.hexdigest()


def install_script(requirements):
    """The shell script run in the base image's container; every argument is quoted."""
    pip = [PREFIX + "/bin/pip", "install", "--no-cache-dir", "--disable-pip-version-check"] + requirements
    check = [PREFIX + "/bin/python", "-c", "import metaflow, metaflow_kestra.task"]
    return " && ".join([
        "set -e",
        ". /build/pip.env",
        "command -v python3 >/dev/null || { echo 'the base image has no python3' >&2; exit 3; }",
        " ".join(shlex.quote(part) for part in ["python3", "-m", "venv", PREFIX]),
        " ".join(shlex.quote(part) for part in pip),
        " ".join(shlex.quote(part) for part in check),
    ])


def build(tag, base=None, requirements_file=None, echo=print, mirror=None):
    """Build worker image `tag`; returns (tag, what it holds, whether it was built now)."""
    from ..compiler import is_image_reference

    if not is_image_reference(tag):
        raise ContainerError("--tag %r is not an image reference such as registry.example.com/team/flows:1." % tag)
    started = time.monotonic()
    docker.engine_version()
    base_ref = base or debian_base.ensure(echo, mirror=mirror)
    if docker.image_labels(base_ref) is None:
        echo("Pulling the base image %s..." % base_ref)
        docker.run(["pull", base_ref], "Pulling the base image %s" % base_ref)
    requirements_text = _read(requirements_file) if requirements_file else ""
    versions = host_versions()
    digest = inputs_digest(docker.image_id(base_ref), versions, code_digest(), requirements_text)
    existing = docker.image_labels(tag)
    if existing and existing.get(INPUTS_LABEL) == digest:
        return tag, existing.get(VERSIONS_LABEL, ""), False
    held = describe(versions)
    with tempfile.TemporaryDirectory(prefix="metaflow-kestra-image-") as context:
        install = [name + ("==" + version if version else "") for name, version in sorted(versions.items())
                   if name != "metaflow-kestra"]
        install.insert(0, _this_package(context, versions["metaflow-kestra"], echo))
        if requirements_text:
            with open(os.path.join(context, "requirements.txt"), "w", encoding="utf-8") as handle:
                handle.write(requirements_text)
            install += ["-r", "/build/requirements.txt"]
        _write_pip_settings(context)
        run_args = ["run", "--network", "host", "-v", "%s:/build:ro" % context]
        echo("Installing %s into %s on %s..." % (", ".join(_names(install)), PREFIX, base_ref))
        container = "metaflow-kestra-build-" + secrets.token_hex(6)
        try:
            # The base's entrypoint is set aside for the install and kept in the image.
            entrypoint = docker.image_config(base_ref, "Entrypoint")
            override = ["--entrypoint", "/bin/sh"] if entrypoint else []
            docker.run(run_args + ["--name", container] + override + [base_ref] + ([] if entrypoint else ["/bin/sh"])
                       + ["-c", install_script(install)], "Installing Metaflow into the image")
            keep_entrypoint = ["--change", "ENTRYPOINT " + json.dumps(entrypoint)] if entrypoint else []
            docker.run(["commit",
                        "--change", "ENV PATH=" + _IMAGE_PATH,
                        "--change", "ENV VIRTUAL_ENV=" + PREFIX,
                        "--change", 'CMD ["python"]',
                        "--change", "LABEL %s=%s" % (INPUTS_LABEL, digest),
                        "--change", "LABEL %s=%s" % (VERSIONS_LABEL, json.dumps(held)),
                        ] + keep_entrypoint + [container, tag], "Saving image %s" % tag)
        finally:
            docker.remove_container(container)
    echo("Built %s in %.0f s." % (tag, time.monotonic() - started))
    return tag, held, True


def _write_pip_settings(context):
    """/build/pip.env: this machine's pip settings for the install (and its CA bundle as /build/ca.crt)."""
    settings = {name: os.environ[name] for name in PIP_SETTINGS if os.environ.get(name)}
    ca_bundle = debian_base.host_ca_bundle()
    if ca_bundle:
        shutil.copyfile(ca_bundle, os.path.join(context, "ca.crt"))
        settings["PIP_CERT"] = "/build/ca.crt"
    path = os.path.join(context, "pip.env")
    with open(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
        handle.writelines("export %s=%s\n" % (name, shlex.quote(value)) for name, value in sorted(settings.items()))


def _this_package(context, version, echo):
    """What pip installs for this package: a wheel of the source checkout, else the release."""
    tree = source_tree()
    if not tree:
        return "metaflow-kestra==%s" % version
    import subprocess
    import sys

    echo("Building a wheel of metaflow-kestra from %s..." % tree)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", context, tree],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    wheels = [name for name in os.listdir(context) if name.endswith(".whl")]
    if done.returncode != 0 or len(wheels) != 1:
        raise ContainerError("Building a wheel of metaflow-kestra from %s failed: %s"
                             % (tree, docker.last_line(done.stdout)))
    return "/build/" + wheels[0]


def describe(versions):
    """What the image holds, for its label and the user: "boto3 1.44.18, metaflow 2.19.39, ..."."""
    return ", ".join("%s %s" % (name, version or "(latest)") for name, version in sorted(versions.items()))


def _names(install):
    return [os.path.basename(item).split("-py3")[0] if item.startswith("/build/") else item
            for item in install if item not in ("-r",)]


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as error:
        raise ContainerError("Cannot read the requirements file %s: %s." % (path, error.strerror))
