"""The local server's configuration: loopback, our ports, the state directory's user, Process runner."""

import os
import stat

import yaml

from metaflow_kestra.local_server.kestra_config import (
    PROCESS_RUNNER,
    local_server_config,
    write_config,
)
from metaflow_kestra.local_server.settings import ServerSettings


def test_config_is_loopback_h2_local_storage_with_dev_user(tmp_path):
    settings = ServerSettings(home=tmp_path, port=18080, management_port=18081)
    path = write_config(settings, tmp_path / "application.yml", "Pw-0123456789")
    config = yaml.safe_load(path.read_text())
    assert config == local_server_config(settings, "Pw-0123456789")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600, "the config holds the password"
    assert config["micronaut"]["server"] == {"host": "127.0.0.1", "port": 18080,
                                             "max-request-size": 128 << 20}
    assert config["local-server"]["max-request-bytes"] == 128 << 20
    assert config["endpoints"]["all"]["port"] == 18081
    kestra = config["kestra"]
    assert config["local-server"]["password"] == kestra["server"]["basic-auth"]["password"] == "Pw-0123456789"
    assert kestra["repository"]["type"] == kestra["queue"]["type"] == "h2"
    assert kestra["storage"]["local"]["base-path"].startswith(str(settings.state_dir))
    assert "@" in kestra["server"]["basic-auth"]["username"]
    # Not `file:`: an interrupted worker thread would close the database (see kestra_config).
    assert config["datasources"]["h2"]["url"].startswith("jdbc:h2:async:" + str(settings.state_dir))
    runners = {d["values"]["taskRunner"]["type"] for d in kestra["plugins"]["defaults"]}
    assert runners == {PROCESS_RUNNER}
    assert kestra["anonymous-usage-report"]["enabled"] is False


def test_each_port_gets_its_own_state(tmp_path):
    a = ServerSettings(home=tmp_path, port=8080)
    b = ServerSettings(home=tmp_path, port=9090)
    assert a.state_dir != b.state_dir


def test_environment_then_options_override_defaults(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_VERSION", "2.0.0")
    monkeypatch.setenv("METAFLOW_KESTRA_HOME", str(tmp_path))
    settings = ServerSettings.from_environment(port=None)
    assert settings.kestra_version == "2.0.0" and settings.home == tmp_path
    assert ServerSettings.from_environment(kestra_version="1.3.30").kestra_version == "1.3.30"
