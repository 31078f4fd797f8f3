"""Which server and credentials a command uses: a local server on any port is found, with its own
credentials, whether named by its URL (with or without the API suffix) or the only one running
(issue 27, item 2: a server on 8380 was invisible, and given as a host it got a 401)."""

import pytest

from metaflow_kestra.connection import resolve_connection
from metaflow_kestra.errors import KestraError
from tests.unit.test_server_lifecycle import make_server


@pytest.fixture(autouse=True)
def clean_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("METAFLOW_KESTRA_HOME", str(tmp_path))
    for name in ("METAFLOW_KESTRA_HOST", "METAFLOW_KESTRA_USER", "METAFLOW_KESTRA_PASSWORD",
                 "METAFLOW_KESTRA_TOKEN", "METAFLOW_KESTRA_TENANT"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(**more):
        server = make_server(tmp_path, **more)
        state, _ = server.start()
        started.append(server)
        return state

    yield start
    for server in started:
        server.stop()


def test_the_only_local_server_running_is_found_on_any_port(servers):
    state = servers()
    connection = resolve_connection()
    assert connection.url == state.url and connection.auth == (state.username, state.password)


def test_a_host_naming_a_local_server_gets_its_credentials_with_or_without_the_api_suffix(servers):
    state = servers()
    for host in (state.url, state.url + "/", state.url + "/api/v1/main", state.url + "/api/v1/main/",
                 state.url.replace("127.0.0.1", "localhost")):
        connection = resolve_connection(host=host)
        assert connection.url == host.split("/api/")[0].rstrip("/"), host
        assert connection.auth == (state.username, state.password), host
        assert connection.tenant == "main"
    assert resolve_connection(host=state.url + "/api/v1/team-a").tenant == "team-a"
    assert resolve_connection(host=state.url + "/api/v1/team-a", tenant="other").tenant == "other"


def test_given_credentials_win_over_the_local_servers(servers):
    state = servers()
    connection = resolve_connection(host=state.url, username="u", password="p")
    assert connection.auth == ("u", "p")
    assert resolve_connection(host=state.url, token="t").auth is None


def test_a_server_of_a_kestra_2_line_is_found_too(servers):
    state = servers(kestra_version="2.0.0")
    assert resolve_connection().url == state.url


def test_two_local_servers_and_no_host_name_both_ports(servers):
    first, second = servers(), servers()
    with pytest.raises(KestraError) as refused:
        resolve_connection()
    for state in (first, second):
        assert str(state.url.rsplit(":", 1)[1]) in str(refused.value)
    assert "--kestra-host" in str(refused.value)


def test_a_remote_host_gets_no_local_credentials(servers):
    servers()
    connection = resolve_connection(host="https://kestra.example.com/api/v1/main")
    assert connection.url == "https://kestra.example.com" and connection.auth is None
