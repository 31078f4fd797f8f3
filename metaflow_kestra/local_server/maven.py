"""Download artifacts from a Maven repository, verified and cached.

A file is kept only after its checksum matches: for what this package runs
itself (Maven's distribution, ECJ), the SHA-512 pinned in its source, so a
repository (or anyone between it and us) cannot hand over another file; else
the one the repository publishes beside it (`.sha256`, else `.sha1`), which
catches corruption only. A cached file is always a verified one and a second
`start` never downloads again.
"""

import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import DownloadError

CHECKSUM_ALGORITHMS = ("sha256", "sha1")
CHUNK = 1 << 20
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class Artifact:
    group: str
    name: str
    version: str
    extension: str = "jar"
    classifier: str = None
    sha512: str = None  # pinned: the only file accepted

    @property
    def coordinates(self):
        return "%s:%s:%s" % (self.group, self.name, self.version)

    @property
    def file_name(self):
        suffix = "-%s" % self.classifier if self.classifier else ""
        return "%s-%s%s.%s" % (self.name, self.version, suffix, self.extension)

    @property
    def path(self):
        """The artifact's path inside any Maven repository layout."""
        return "/".join(
            self.group.split(".") + [self.name, self.version, self.file_name]
        )


def fetch(artifact, repository, cache_dir, log=None):
    """Return the local path of `artifact`, downloading and verifying it if needed."""
    log = log or _stderr
    target = Path(cache_dir) / artifact.path
    if is_cached(target, artifact.sha512):
        return target
    url = "%s/%s" % (repository.rstrip("/"), artifact.path)
    if artifact.sha512:
        algorithm, expected = "sha512", artifact.sha512
    else:
        algorithm, expected = _published_checksum(url)
    log("Downloading %s from %s" % (artifact.coordinates, url))
    target.parent.mkdir(parents=True, exist_ok=True)
    _download_verified(url, target, algorithm, expected)
    _receipt(target).write_text("%s %s\n" % (algorithm, expected))
    return target


def is_cached(target, sha512=None):
    """A file is in the cache once its verified checksum was recorded beside it.

    Files are renamed into place only after verification, so the receipt is
    proof enough and a warm start needs no network. For a pinned artifact the
    receipt must name the pin; a file cached before the pin is hashed once.
    """
    if not (target.exists() and _receipt(target).exists()):
        return False
    if sha512 is None or _receipt(target).read_text().split() == ["sha512", sha512]:
        return True
    if _file_digest(target, "sha512") != sha512:
        return False
    _receipt(target).write_text("sha512 %s\n" % sha512)
    return True


def _file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _receipt(target):
    return target.with_name(target.name + ".verified")


def _published_checksum(url):
    """The first checksum the repository publishes for `url`, as (algorithm, hex)."""
    failures = []
    for algorithm in CHECKSUM_ALGORITHMS:
        checksum_url = "%s.%s" % (url, algorithm)
        try:
            text = _read_small(checksum_url)
        except DownloadError as err:
            failures.append(err)
            continue
        # Some repositories write "<hex>  <file name>"; the hex comes first.
        value = text.strip().split()[0].lower() if text.strip() else ""
        if value:
            return algorithm, value
    reasons = [failure.reason for failure in failures]
    if reasons and all("404" in reason for reason in reasons):
        # Maven repositories publish checksums for every file: no checksum
        # means no artifact, and an unverifiable file is never used anyway.
        raise DownloadError(url, "HTTP 404 Not Found", hint=_hint_for("404"))
    raise DownloadError(
        url,
        "its checksum could not be read (%s)" % "; ".join(dict.fromkeys(reasons)),
        hint=_hint_for(""),
    )


def _hint_for(reason):
    if "404" in reason:
        return (
            "The artifact is not in that repository: check the version, point "
            "METAFLOW_KESTRA_MAVEN_REPOSITORY at a mirror that has it, or give a "
            "Kestra JAR you already have with --kestra-jar / METAFLOW_KESTRA_JAR"
        )
    return "Check your network access to the repository, or use a mirror with METAFLOW_KESTRA_MAVEN_REPOSITORY"


def _read_small(url):
    return next(_stream(url, 4096), b"").decode("ascii", "replace")


def _stream(url, chunk_size=CHUNK):
    """The bytes at `url`, chunk by chunk; a failure to fetch is a DownloadError naming it.

    Only the network calls are guarded: an error while the caller writes a
    chunk is not mistaken for a network error.
    """
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            for chunk in iter(lambda: response.read(chunk_size), b""):
                yield chunk
    except urllib.error.HTTPError as err:
        raise DownloadError(
            url, "HTTP %d %s" % (err.code, err.reason), hint=_hint_for(str(err.code))
        )
    except (urllib.error.URLError, OSError) as err:
        raise DownloadError(url, _network_reason(err), hint=_hint_for(""))


def _download_verified(url, target, algorithm, expected):
    digest = hashlib.new(algorithm)
    fd, tmp_name = tempfile.mkstemp(dir=str(target.parent), prefix=".part-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in _stream(url):
                digest.update(chunk)
                out.write(chunk)
        actual = digest.hexdigest()
        if actual != expected:
            pinned = " (pinned in metaflow-kestra's source)" if algorithm == "sha512" else ""
            raise DownloadError(
                url,
                "%s checksum mismatch (expected %s%s, got %s); the file was discarded"
                % (algorithm, expected, pinned, actual),
            )
        os.replace(tmp_name, target)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)


def _network_reason(err):
    reason = getattr(err, "reason", None) or err
    return "network error (%s)" % reason


def _stderr(message):
    print(message, file=sys.stderr, flush=True)
