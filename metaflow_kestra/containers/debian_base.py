"""A base image with Python 3, built from Debian's packages when no registry serves one.

`debootstrap` installs a minimal Debian with python3 and its venv module into a private
folder, the host's CA bundle goes in (so pip inside trusts what the host trusts), and
`docker import` makes an image of it. The image is tagged by a digest of those inputs,
so a second build finds it and takes no time.
"""

import hashlib
import os
import re
import shutil
import subprocess
import tempfile

from . import docker
from .docker import ContainerError

SUITE = "bookworm"
PACKAGES = ("python3", "python3-venv", "python3-pip", "ca-certificates")
DEFAULT_MIRROR = "http://deb.debian.org/debian"
REPOSITORY = "metaflow-kestra-base"
RECIPE = 1  # raise when the recipe below changes what the image holds
_APT_SOURCES = ("/etc/apt/sources.list.d/debian.sources", "/etc/apt/sources.list")
_CA_BUNDLE_ENV = ("PIP_CERT", "REQUESTS_CA_BUNDLE", "SSL_CERT_FILE")
_DEFAULT_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def host_ca_bundle(environ=os.environ):
    """The CA bundle this machine's pip trusts, if there is one."""
    for name in _CA_BUNDLE_ENV:
        if environ.get(name) and os.path.isfile(environ[name]):
            return environ[name]
    return _DEFAULT_CA_BUNDLE if os.path.isfile(_DEFAULT_CA_BUNDLE) else None


def apt_mirror(paths=_APT_SOURCES):
    """The Debian mirror this machine's apt uses (deb822 or one-line format), else Debian's own."""
    for path in paths:
        try:
            with open(path, encoding="utf-8") as handle:
                text = handle.read()
        except OSError:
            continue
        match = (re.search(r"^URIs:\s*(\S+/debian)/?\s*$", text, re.MULTILINE)
                 or re.search(r"^deb\s+(?:\[[^\]]*\]\s+)?(\S+/debian)/?\s+\S+", text, re.MULTILINE))
        if match:
            return match.group(1)
    return DEFAULT_MIRROR


def base_tag(mirror, ca_bundle):
    digest = hashlib.sha256()
    for part in (str(RECIPE), SUITE, " ".join(PACKAGES), mirror):
        digest.update(part.encode() + b"\0")
    if ca_bundle:
        with open(ca_bundle, "rb") as handle:
            digest.update(handle.read())
    return "%s:%s-%s" % (REPOSITORY, SUITE, digest.hexdigest()[:12])


def ensure(echo, mirror=None, ca_bundle=None):
    """The tag of the Debian base image, built now unless this engine already has it."""
    mirror = mirror or apt_mirror()
    ca_bundle = ca_bundle if ca_bundle is not None else host_ca_bundle()
    tag = base_tag(mirror, ca_bundle)
    if docker.image_labels(tag) is not None:
        return tag
    debootstrap = shutil.which("debootstrap") or shutil.which("debootstrap", path="/usr/sbin:/sbin")
    if not debootstrap or os.geteuid() != 0:
        raise ContainerError(
            "Building the Debian base image needs debootstrap, run as root (apt-get install debootstrap). "
            "Or pass --base IMAGE: an image with Python 3 and its venv module, such as python:3.11-slim.")
    echo("Building the base image %s from Debian %s packages (%s; once, about a minute)..." % (tag, SUITE, mirror))
    rootfs = tempfile.mkdtemp(prefix="metaflow-kestra-rootfs-")  # 0700: nobody else reads or plants in it
    try:
        _debootstrap(debootstrap, rootfs, mirror)
        if ca_bundle:
            shutil.copyfile(ca_bundle, os.path.join(rootfs, "etc/ssl/certs/ca-certificates.crt"))
        for folder in ("var/cache/apt/archives", "var/lib/apt/lists"):
            _empty(os.path.join(rootfs, folder))
        _import(rootfs, tag)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)
    return tag


def _debootstrap(debootstrap, rootfs, mirror):
    command = [debootstrap, "--variant=minbase", "--include=" + ",".join(PACKAGES), SUITE, rootfs, mirror]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise ContainerError("debootstrap of Debian %s from %s failed: %s" % (SUITE, mirror, docker.last_line(done.stdout)))


def _empty(folder):
    for entry in os.listdir(folder) if os.path.isdir(folder) else ():
        path = os.path.join(folder, entry)
        if os.path.isfile(path) and not os.path.islink(path):
            os.unlink(path)


def _import(rootfs, tag):
    """`tar -C rootfs -c . | docker import - tag`, with the environment a Debian image has."""
    tar = subprocess.Popen(["tar", "--numeric-owner", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    try:
        docker.run(["import", "--change", "ENV LANG=C.UTF-8",
                    "--change", "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "-", tag], "Importing the base image %s" % tag, input_stream=tar.stdout)
    finally:
        tar.stdout.close()
        if tar.wait() != 0:
            raise ContainerError("Packing the base image's files (tar of %s) failed." % rootfs)
