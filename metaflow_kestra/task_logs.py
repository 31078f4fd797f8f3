"""A task's stdout and stderr, kept for Metaflow as well as passed on to Kestra.

Kestra keeps what a task prints in its own logs; Metaflow's client, CLI
(`python flow.py logs`) and UI read a task's logs from the datastore. Argo
wraps each step in Metaflow's `mflog.tee` and then runs `mflog.save_logs`;
here a step may run in this very process (a warm start) or in a child, so the
capture is done on the file descriptors: whatever this process and its
children write to fd 1 and fd 2 while the step runs goes through a pipe, on
to the original stream unchanged, and into a file of Metaflow's structured
log lines (`mflog.decorate`). The files are saved with the task datastore's
own `save_logs`, for the attempt that ran, whether the step succeeded or not.
"""

import os
import shutil
import sys
import tempfile
import threading

STREAMS = (("stdout", 1), ("stderr", 2))
# How long to wait for a stream's end once the step returned: a process the step left running
# may still hold the pipe, and must not hold up the task.
_DRAIN_SECONDS = 5.0


class CapturedLogs:
    """`with CapturedLogs() as logs:` captures fds 1 and 2; `logs.save(...)` stores them for Metaflow."""

    def __init__(self):
        self.directory = None
        self._pumps = []

    def __enter__(self):
        from metaflow.mflog import TASK_LOG_SOURCE

        self.directory = tempfile.mkdtemp(prefix="metaflow-kestra-logs-")  # private: mode 0700
        _flush_python_streams()
        for name, fd in STREAMS:
            self._pumps.append(_Pump(fd, os.path.join(self.directory, name), TASK_LOG_SOURCE))
        return self

    def __exit__(self, *exc_info):
        _flush_python_streams()
        for pump in self._pumps:
            pump.stop()
        return False

    def save(self, task_datastore):
        """Store the captured streams as the task source of the attempt `task_datastore` writes."""
        from metaflow.mflog import TASK_LOG_SOURCE
        from metaflow.util import Path

        try:
            task_datastore.save_logs(TASK_LOG_SOURCE, {pump.name: Path(pump.path) for pump in self._pumps})
        except Exception as error:  # noqa: BLE001 - as Argo's save_logs: a lost log never fails the task
            print("metaflow-kestra: warning: could not save the task's logs to Metaflow's datastore: %s"
                  % error, file=sys.stderr, flush=True)

    def close(self):
        if self.directory:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None


class _Pump:
    """Reads what is written to `fd` (now a pipe), passes it on and writes it as mflog lines."""

    def __init__(self, fd, path, source):
        from metaflow.mflog.mflog import decorate

        self.decorate = decorate
        self.fd, self.path, self.source = fd, path, source
        self.name = os.path.basename(path)
        self.original = os.dup(fd)
        read_end, write_end = os.pipe()
        os.dup2(write_end, fd)
        os.close(write_end)
        self.file = open(path, "wb")
        self.thread = threading.Thread(target=self._run, args=(read_end,), daemon=True)
        self.thread.start()

    def _run(self, read_end):
        pending, keeping = b"", True
        try:
            while True:
                chunk = os.read(read_end, 65536)
                if not chunk:
                    break
                _write_all(self.original, chunk)  # first: Kestra sees every byte, whatever happens next
                if keeping:
                    pending, keeping = self._keep(pending + chunk)
            if pending and keeping:
                self._keep(pending + b"\n")
        finally:
            os.close(read_end)

    def _keep(self, data):
        """Write `data`'s complete lines as mflog lines; return (the incomplete rest, still keeping)."""
        lines = data.split(b"\n")
        rest = lines.pop()
        try:
            for line in lines:
                self.file.write(self.decorate(self.source, line + b"\n"))
            self.file.flush()
        except OSError:  # a full disk loses Metaflow's copy of the logs, never the task
            return b"", False
        return rest, True

    def stop(self):
        """Point `fd` back at the original stream; wait (a little) for what is still in the pipe."""
        os.dup2(self.original, self.fd)  # closes the pipe's write end this process held
        self.thread.join(_DRAIN_SECONDS)
        if not self.thread.is_alive():
            self.file.close()
            os.close(self.original)


def _write_all(fd, data):
    while data:
        data = data[os.write(fd, data):]


def _flush_python_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 - a closed stream has nothing to flush
            pass
