"""How the local server's build is keyed and invoked (the build itself is exercised by tests/e2e)."""

from metaflow_kestra.local_server import build


def module(tmp_path):
    (tmp_path / "src" / "main" / "java").mkdir(parents=True)
    (tmp_path / "pom.xml").write_text("<project/>")
    (tmp_path / "src" / "main" / "java" / "A.java").write_text("class A {}")
    return tmp_path


def test_the_build_key_follows_sources_and_versions_but_not_build_output(tmp_path):
    sources = module(tmp_path)
    key = build.source_hash(sources, "1.3.31")
    assert key == build.source_hash(sources, "1.3.31")
    assert key != build.source_hash(sources, "2.0.0")
    (sources / "target").mkdir()
    (sources / "target" / "A.class").write_text("output")
    assert key == build.source_hash(sources, "1.3.31")
    (sources / "src" / "main" / "java" / "A.java").write_text("class A { int x; }")
    assert key != build.source_hash(sources, "1.3.31")


def test_argfile_arguments_survive_spaces_quotes_and_backslashes():
    assert build._quote('/a b/c"d\\e') == '"/a b/c\\"d\\\\e"'


def test_the_module_ships_beside_the_package():
    assert (build.server_sources() / "pom.xml").exists()


def test_only_the_most_recent_builds_are_kept(tmp_path):
    import os

    for age, name in enumerate(["newest", "newer", "older", "oldest"]):
        (tmp_path / name).mkdir()
        receipt = tmp_path / name / build.RECEIPT
        receipt.write_text("kestra 1.3.31\n")
        os.utime(str(receipt), (1000 - age, 1000 - age))
    (tmp_path / ".staging-x").mkdir()  # no receipt: another build in progress, left alone
    build._evict_old_builds(tmp_path, keep=3)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".staging-x", "newer", "newest", "older"]


def test_a_plain_http_repository_is_refused_before_any_download_unless_the_user_trusts_it(tmp_path, monkeypatch):
    """Issue 26, finding 8: any --maven-repository was accepted, plain http:// included."""
    import pytest

    from metaflow_kestra.errors import ServerError
    from metaflow_kestra.local_server.settings import ServerSettings

    def no_download(*args, **kwargs):
        raise AssertionError("nothing may be resolved from a refused repository")

    monkeypatch.setattr(build, "_resolve_classpath", no_download)
    for repository in ("http://mirror.example/maven2", "ftp://mirror.example/maven2"):
        settings = ServerSettings(home=tmp_path, maven_repository=repository)
        with pytest.raises(ServerError, match="https"):
            build.ensure_built(settings, java=None, log=lambda message: None)
    monkeypatch.setenv("METAFLOW_KESTRA_INSECURE_REPOSITORY", "1")
    trusted = ServerSettings.from_environment(home=tmp_path, maven_repository="http://mirror.example/maven2")
    assert trusted.checked_repository() == "http://mirror.example/maven2"
    for repository in ("https://repo.maven.apache.org/maven2", "file:///srv/maven2"):
        assert ServerSettings(maven_repository=repository).checked_repository() == repository


def test_maven_resolves_with_strict_checksums(tmp_path, monkeypatch):
    """Issue 26, finding 8: Kestra's JARs were resolved without -C, so a bad checksum only warned."""
    from metaflow_kestra.local_server.settings import ServerSettings

    seen = []

    class Done:
        returncode, stdout, stderr = 1, "", "stop here"

    monkeypatch.setattr(build, "_maven_executable", lambda settings, log: "mvn")
    monkeypatch.setattr(build, "_run", lambda command, environment, what: seen.append(command) or Done())
    stage = build.BuiltServer(tmp_path)

    class Java:
        home = "/java"

    import pytest

    from metaflow_kestra.errors import ServerError

    with pytest.raises(ServerError):
        build._resolve_classpath(ServerSettings(home=tmp_path), module(tmp_path / "m"), Java(), stage, lambda m: None)
    assert "-C" in seen[0]


def test_what_this_package_downloads_and_runs_itself_is_pinned():
    for artifact in (build.MAVEN_DISTRIBUTION, build.ECJ):
        assert artifact.sha512 and len(artifact.sha512) == 128, artifact
