"""Downloads are verified against the published checksum and cached; failures name the URL."""

import hashlib
import http.server
import threading

import pytest

from metaflow_kestra.errors import DownloadError
from metaflow_kestra.local_server import maven

ARTIFACT = maven.Artifact("io.example", "thing", "1.2.3")
CONTENT = b"pretend this is a jar" * 1000


class Repository:
    """A loopback Maven repository: `files` maps paths to bytes; `requests` logs hits."""

    def __init__(self):
        self.files = {}
        self.requests = []
        repo = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                repo.requests.append(self.path)
                body = repo.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = "http://127.0.0.1:%d/maven2" % self.server.server_address[1]

    def publish(self, artifact, content, checksums=("sha256", "sha1"), lie=False):
        path = "/maven2/" + artifact.path
        self.files[path] = content
        for algorithm in checksums:
            digest = hashlib.new(algorithm, b"other" if lie else content).hexdigest()
            self.files["%s.%s" % (path, algorithm)] = digest.encode()


@pytest.fixture
def repository():
    repo = Repository()
    yield repo
    repo.server.shutdown()


def test_artifact_path_follows_maven_layout():
    assert ARTIFACT.path == "io/example/thing/1.2.3/thing-1.2.3.jar"
    exec_zip = maven.Artifact("io.kestra", "kestra", "1.3.34", "zip", "exec")
    assert exec_zip.path == "io/kestra/kestra/1.3.34/kestra-1.3.34-exec.zip"


def test_download_is_verified_then_cached_without_network(repository, tmp_path):
    repository.publish(ARTIFACT, CONTENT)
    first = maven.fetch(ARTIFACT, repository.url, tmp_path, log=lambda m: None)
    assert first.read_bytes() == CONTENT
    hits = len(repository.requests)
    second = maven.fetch(ARTIFACT, repository.url, tmp_path, log=lambda m: None)
    assert second == first
    assert len(repository.requests) == hits, "a cached artifact must not touch the network"


def test_sha1_is_used_when_no_sha256_is_published(repository, tmp_path):
    repository.publish(ARTIFACT, CONTENT, checksums=("sha1",))
    path = maven.fetch(ARTIFACT, repository.url, tmp_path, log=lambda m: None)
    assert path.read_bytes() == CONTENT
    assert path.with_name(path.name + ".verified").read_text().startswith("sha1 ")


def test_checksum_mismatch_discards_the_file(repository, tmp_path):
    repository.publish(ARTIFACT, CONTENT, lie=True)
    with pytest.raises(DownloadError, match="checksum mismatch") as caught:
        maven.fetch(ARTIFACT, repository.url, tmp_path, log=lambda m: None)
    assert ARTIFACT.path in caught.value.url
    assert not (tmp_path / ARTIFACT.path).exists()
    assert not list((tmp_path / ARTIFACT.path).parent.glob(".part-*"))


def test_missing_artifact_names_the_url_and_what_to_do(repository, tmp_path):
    with pytest.raises(DownloadError) as caught:
        maven.fetch(ARTIFACT, repository.url, tmp_path, log=lambda m: None)
    message = str(caught.value)
    assert repository.url + "/" + ARTIFACT.path in message
    assert "404" in message
    assert "METAFLOW_KESTRA_MAVEN_REPOSITORY" in message and "--kestra-jar" in message


def test_unreachable_repository_names_the_url(tmp_path):
    import socket

    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = "http://127.0.0.1:%d/maven2" % port
    with pytest.raises(DownloadError, match="network error") as caught:
        maven.fetch(ARTIFACT, url, tmp_path, log=lambda m: None)
    assert url in str(caught.value)


PINNED = maven.Artifact("io.example", "tool", "1.0", sha512=hashlib.sha512(CONTENT).hexdigest())


def test_a_pinned_artifact_is_refused_when_the_repository_serves_another_file(repository, tmp_path):
    """Issue 26, finding 8: the checksum came from the same repository as the file, so a
    repository (or a network in between) that served another file served its checksum too."""
    repository.publish(PINNED, b"a file of the attacker's", checksums=("sha512", "sha256", "sha1"))
    with pytest.raises(DownloadError, match="pinned in metaflow-kestra's source"):
        maven.fetch(PINNED, repository.url, tmp_path, log=lambda m: None)
    assert not (tmp_path / PINNED.path).exists()
    repository.publish(PINNED, CONTENT, checksums=())  # the pin needs no published checksum
    assert (maven.fetch(PINNED, repository.url, tmp_path, log=lambda m: None)).read_bytes() == CONTENT


def test_a_file_cached_before_its_pin_is_checked_against_it(repository, tmp_path):
    unpinned = maven.Artifact(PINNED.group, PINNED.name, PINNED.version)
    repository.publish(unpinned, b"cached earlier, changed since", checksums=("sha1",))
    maven.fetch(unpinned, repository.url, tmp_path, log=lambda m: None)
    repository.publish(PINNED, CONTENT, checksums=())
    assert maven.fetch(PINNED, repository.url, tmp_path, log=lambda m: None).read_bytes() == CONTENT
    assert (tmp_path / (PINNED.path + ".verified")).read_text().split() == ["sha512", PINNED.sha512]
    hits = len(repository.requests)
    maven.fetch(PINNED, repository.url, tmp_path, log=lambda m: None)
    assert len(repository.requests) == hits
