"""The local server's settings and configuration for Kestra 2 (issue 15): pure data, no engine."""

import pytest

from metaflow_kestra.errors import ServerError
from metaflow_kestra.local_server.java import required_java
from metaflow_kestra.local_server.kestra_config import local_server_config
from metaflow_kestra.local_server.settings import ServerSettings, kestra_major


def test_the_major_version_decides_the_line_and_bad_versions_are_refused_in_one_line():
    assert kestra_major("1.3.31") == 1 and kestra_major("2.0.0") == 2
    for bad in ("3.0.0", "latest", "", "0.24.1"):
        with pytest.raises(ServerError) as refused:
            kestra_major(bad)
        assert "--kestra-version" in str(refused.value)


def test_each_line_keeps_its_own_state_directory(tmp_path):
    one = ServerSettings(kestra_version="1.3.31", port=18000, home=tmp_path)
    two = ServerSettings(kestra_version="2.0.0", port=18000, home=tmp_path)
    assert one.state_dir.name == "server-18000"
    assert two.state_dir.name == "server-18000-k2"


def test_kestra_2_needs_java_25_and_1_x_java_21():
    assert required_java(1) == 21 and required_java(2) == 25


def test_the_kestra_2_config_wires_the_worker_to_its_controller_and_drops_what_2_0_does_not_read(tmp_path):
    config = local_server_config(ServerSettings(kestra_version="2.0.0", port=18000, controller_port=18005,
                                                home=tmp_path), "Pw-0123456789")
    kestra = config["kestra"]
    assert kestra["controller"] == {"port": 18005}
    assert kestra["worker"]["controllers"] == {
        "type": "STATIC", "static": {"endpoints": [{"host": "127.0.0.1", "port": 18005}]}}
    assert config["grpc"]["server"] == {"enabled": False, "health": {"enabled": False}}
    assert kestra["plugins"] == {"auto-install": {"enabled": False}, "configurations": [
        {"type": "io.kestra.plugin.scripts.runner.docker.Docker", "values": {"volume-enabled": True}}]}
    assert "flyway" not in config


def test_the_1_x_config_is_unchanged_by_the_2_0_wiring(tmp_path):
    config = local_server_config(ServerSettings(kestra_version="1.3.31", port=18000, home=tmp_path), "Pw-0123456789")
    assert "flyway" in config and "grpc" not in config
    assert "controller" not in config["kestra"] and "worker" not in config["kestra"]
    assert len(config["kestra"]["plugins"]["defaults"]) == 4
