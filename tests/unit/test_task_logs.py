"""CapturedLogs: what a step prints reaches Kestra unchanged and Metaflow as structured log lines."""

import json
import subprocess
import sys

_SCRIPT = r"""
import json, subprocess, sys
from metaflow_kestra.task_logs import CapturedLogs

class Store:
    def save_logs(self, source, streams):
        saved = {name: open(str(path), "rb").read().decode() for name, path in streams.items()}
        with open(sys.argv[1], "w") as handle:
            json.dump({"source": source, "streams": saved}, handle)

logs = CapturedLogs()
with logs:
    print("from python")
    print("to stderr", file=sys.stderr)
    subprocess.call([sys.executable, "-c", "print('from a child')"])
    sys.stdout.write("no newline")
print("after the capture")
logs.save(Store())
logs.close()
"""


def run_script(tmp_path):
    saved = tmp_path / "saved.json"
    done = subprocess.run([sys.executable, "-c", _SCRIPT, str(saved)], capture_output=True, text=True,
                          check=True)
    return done, json.loads(saved.read_text())


def messages(text):
    from metaflow.mflog import mflog

    lines = [mflog.parse(line.encode()) for line in text.splitlines(keepends=True)]
    assert all(line is not None and line.logsource == b"task" for line in lines)
    return [line.msg.decode() for line in lines]


def test_the_streams_pass_through_unchanged_and_are_kept_as_mflog_lines(tmp_path):
    done, saved = run_script(tmp_path)
    assert done.stdout == "from python\nfrom a child\nno newlineafter the capture\n"
    assert done.stderr == "to stderr\n"
    assert saved["source"] == "task"
    assert messages(saved["streams"]["stdout"]) == ["from python", "from a child", "no newline"]
    assert messages(saved["streams"]["stderr"]) == ["to stderr"]


def test_a_store_that_fails_costs_a_warning_not_the_task(capsys):
    from metaflow_kestra.task_logs import CapturedLogs

    class Broken:
        def save_logs(self, source, streams):
            raise OSError("disk full")

    logs = CapturedLogs()
    with logs:
        pass
    logs.save(Broken())
    logs.close()
    assert "could not save the task's logs" in capsys.readouterr().err
