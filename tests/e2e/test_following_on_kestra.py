"""Following a run and reading its files, as Kestra's UI and SDK do (issue 28, item 2).

Server-sent events for an execution and its logs, an execution's files (download and preview)
and 2.0's kill answer, each checked twice: by reading the raw answer as Kestra's web server
writes it (ExecutionController, LogController, ExecutionStreamingService; 1.3 and 2.0 read),
and through Kestra's own SDK, kestrapy, which must accept it.
"""

import json
import threading
import time

import pytest
import requests

pytestmark = [pytest.mark.e2e, pytest.mark.both_lines]  # scripts/test.sh: on Kestra 1.3 and 2.0
NAMESPACE = "metaflow.follow"
TEXT = "line 1\nline 2\nline 3"

CHATTY = """id: chatty
namespace: metaflow.follow
tasks:
  - id: talk
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - echo first-line
      - sleep 3
      - echo second-line
  - id: write
    type: io.kestra.plugin.core.storage.Write
    content: "line 1\\nline 2\\nline 3"
    extension: .txt
"""

SLEEPY = """id: sleepy
namespace: metaflow.follow
tasks:
  - id: nap
    type: io.kestra.plugin.scripts.shell.Commands
    taskRunner:
      type: io.kestra.plugin.core.runner.Process
    commands:
      - sleep 60
"""


@pytest.fixture(scope="module")
def api(kestra_server):
    session = requests.Session()
    session.auth = (kestra_server.username, kestra_server.password)
    base = kestra_server.url + "/api/v1/main/"

    def call(method, path, **kwargs):
        kwargs.setdefault("timeout", 60)
        return session.request(method, base + path, **kwargs)

    for source in (CHATTY, SLEEPY):
        assert call("POST", "flows", data=source, headers={"Content-Type": "application/x-yaml"}).status_code == 200
    yield call
    for flow in ("chatty", "sleepy"):
        call("DELETE", "flows/%s/%s" % (NAMESPACE, flow))


@pytest.fixture(scope="module")
def sdk(kestra_server):
    import kestrapy

    return kestrapy.KestraClient(host=kestra_server.url, username=kestra_server.username,
                                 password=kestra_server.password, timeout=60)


def events(response, seconds=120):
    """(id, data) of each server-sent event, as they arrive; ':' lines are comments (the server
    sends one every 15 s on a quiet stream, so a stream that never ends still fails here)."""
    deadline = time.time() + seconds
    event_id, data = None, []
    for line in response.iter_lines(decode_unicode=True):
        assert time.time() < deadline, "the stream went on past %d s" % seconds
        if line == "":
            if data:
                yield event_id, json.loads("\n".join(data))
            event_id, data = None, []
        elif line.startswith("id:"):
            event_id = line[3:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].lstrip())


def trigger(api, flow):
    return api("POST", "executions/%s/%s" % (NAMESPACE, flow)).json()["id"]


def ended(api, execution_id):
    deadline = time.time() + 120
    while True:
        execution = api("GET", "executions/" + execution_id).json()
        if execution["state"]["current"] in ("SUCCESS", "FAILED", "KILLED", "WARNING"):
            return execution
        assert time.time() < deadline, "the execution did not end"
        time.sleep(0.5)


def test_an_execution_is_followed_live_until_it_ends(api):
    execution_id = trigger(api, "chatty")
    with api("GET", "executions/%s/follow" % execution_id, stream=True,
             headers={"Accept": "text/event-stream"}) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        seen = list(events(response))   # the server closes the stream after `end`
    assert seen[0] == ("start", {"id": execution_id, "deleted": False})
    assert [event_id for event_id, _ in seen[1:-1]] == ["progress"] * (len(seen) - 2)
    assert any(data["state"]["current"] == "RUNNING" for _, data in seen[1:-1]), "no live state while it ran"
    last_id, last = seen[-1]
    assert last_id == "end" and last["id"] == execution_id and last["state"]["current"] == "SUCCESS"
    assert {run["taskId"]: run["state"]["current"] for run in last["taskRunList"]} == {"talk": "SUCCESS",
                                                                                       "write": "SUCCESS"}
    # One already ended: its end at once.
    with api("GET", "executions/%s/follow" % execution_id, stream=True) as again:
        assert [event_id for event_id, _ in events(again)] == ["start", "end"]


def test_an_unknown_execution_closes_its_stream_after_start(api):
    began = time.time()
    with api("GET", "executions/NoSuchExecution0000000/follow", stream=True) as response:
        assert response.status_code == 200
        assert [event_id for event_id, _ in events(response)] == ["start"]
    assert time.time() - began < 30


def test_logs_are_followed_from_the_first_line_and_stay_open(api):
    execution_id = trigger(api, "chatty")
    messages = []
    began = time.time()
    with api("GET", "logs/%s/follow" % execution_id, params={"minLevel": "INFO"}, stream=True,
             timeout=(10, 30)) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        stream = events(response)
        event_id, data = next(stream)
        assert event_id == "start" and "message" not in data
        for event_id, data in stream:
            assert event_id == "progress" and data["executionId"] == execution_id
            messages.append(data["message"])
            if "second-line" in data["message"]:
                break
    assert time.time() - began < 60
    assert messages.index("first-line") < messages.index("second-line")


def within(seconds, work):
    """work()'s answer, or a failure if it takes longer (a stream the SDK reads cannot be cut short:
    it is left to its daemon thread)."""
    answer = []
    reader = threading.Thread(target=lambda: answer.append(work()), daemon=True)
    reader.start()
    reader.join(seconds)
    assert answer, "still reading after %d s (or the reader failed: see the output above)" % seconds
    return answer[0]


def state_of(model):
    current = model.state.current
    return getattr(current, "value", current)


def test_kestras_sdk_follows_a_run_and_its_logs(api, sdk):
    execution_id = trigger(api, "chatty")
    followed = within(120, lambda: list(sdk.executions.follow_execution(execution_id, "main")))
    assert followed[0].id == execution_id and state_of(followed[-1]) == "SUCCESS"

    def until_second_line():
        for entry in sdk.logs.follow_logs_from_execution(execution_id, "main"):
            if entry.message == "second-line":
                return entry
    assert within(60, until_second_line).task_id == "talk"


def test_an_executions_files_download_and_preview_as_kestra_serves_them(api, sdk, kestra_client):
    execution = ended(api, trigger(api, "chatty"))
    write = next(run for run in execution["taskRunList"] if run["taskId"] == "write")
    uri = kestra_client.task_outputs(execution["id"], write)["uri"]
    assert uri.startswith("kestra:///metaflow/follow/chatty/executions/%s/" % execution["id"]) and uri.endswith(".txt")
    path = "executions/%s/file" % execution["id"]

    download = api("GET", path, params={"path": uri})
    assert (download.status_code, download.content) == (200, TEXT.encode())
    assert download.headers["Content-Type"] == "application/octet-stream"
    name = uri.rsplit("/", 1)[1]
    assert download.headers["Content-Disposition"] == "attachment; filename=\"%s\"; filename*=utf-8''%s" % (name, name)
    preview = api("GET", path + "/preview", params={"path": uri, "maxRows": 2})
    assert preview.json() == {"extension": "txt", "type": "TEXT", "content": "line 1\nline 2", "maxLine": 2,
                              "truncated": True}
    assert api("GET", path + "/preview", params={"path": uri}).json()["truncated"] is False

    # Kestra's own SDK reads both.
    assert sdk.executions.download_file_from_execution(execution["id"], uri, "main") == TEXT.encode()
    assert sdk.executions.preview_file_from_execution(execution["id"], uri, "main")["content"] == TEXT

    # Refusals, as Kestra's: another execution's file is redirected to it, anything else refused.
    other = "kestra:///metaflow/follow/chatty/executions/AnotherExecution/tasks/write/x.txt"
    moved = api("GET", path, params={"path": other}, allow_redirects=False)
    assert moved.status_code == 301
    assert moved.headers["Location"].startswith("/api/v1/main/executions/AnotherExecution/file?path=")
    for bad, status in [("kestra:///metaflow/other/flow/secret.txt", 422), ("file:///etc/passwd", 403),
                        ("kestra:///metaflow/follow/chatty/executions/%s/../../x" % execution["id"], 422),
                        (uri + ".missing", 404)]:
        refused = api("GET", path, params={"path": bad})
        assert refused.status_code == status, (bad, refused.status_code, refused.text)
    invalid = api("GET", path, params={"path": "kestra:///metaflow/other/flow/secret.txt"})
    assert invalid.json()["message"] == "Illegal argument: Invalid prefix path"
    assert api("GET", "executions/NoSuchExecution0000000/file", params={"path": uri}).status_code == 404


def test_kill_answers_as_each_line_does(api, sdk, kestra_client):
    execution_id = trigger(api, "sleepy")
    deadline = time.time() + 60
    while api("GET", "executions/" + execution_id).json()["state"]["current"] != "RUNNING":
        assert time.time() < deadline
        time.sleep(0.2)
    if kestra_client.kestra_major() < 2:
        # 1.x: 202 and no body; it has no actions/ path (kestrapy 2.0's kill is for 2.x servers).
        assert api("DELETE", "executions/%s/actions/kill" % execution_id).status_code == 404
        killed = api("DELETE", "executions/%s/kill" % execution_id)
        assert (killed.status_code, killed.content) == (202, b"")
    else:
        # 2.0: the kill is applied, then the execution is the answer, which Kestra's SDK reads.
        killed = sdk.executions.kill_execution(execution_id, "main")
        assert killed.id == execution_id and state_of(killed) in ("KILLING", "KILLED")
    assert ended(api, execution_id)["state"]["current"] == "KILLED"
