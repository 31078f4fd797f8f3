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
