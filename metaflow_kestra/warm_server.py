"""`python -m metaflow_kestra.warm_server FOLDER KEY`: the warm interpreter `warm_start` talks to.

It imports Metaflow and this package once, then forks per task:

    server (listens; stays single-threaded, so forking is safe)
      -> supervisor, one per task (reports the exit status; kills the task
         if the waiting `python -m metaflow_kestra.task` goes away)
           -> task (its own process group, the caller's descriptors,
              environment and working directory; runs `runtime.main`)

Only one server runs per key (a lock file), and it exits when idle.
"""

import atexit
import fcntl
import os
import select
import signal
import socket
import struct
import sys
import threading
import time
import traceback

from .warm_start import SERVER_ENV, idle_seconds, send

_MAX_REQUEST = 64 * 1024 * 1024


def main(argv):
    folder, key = argv
    lock = open(os.path.join(folder, key + ".lock"), "w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server for this key is starting or running
    _warm_up()
    if threading.active_count() > 1:
        return 0  # an import started a thread: forking would not be safe
    path = os.path.join(folder, key + ".sock")
    listener = _listen(path)
    ours = os.stat(path).st_ino
    try:
        _serve(listener, idle_seconds(os.environ))
    finally:
        _remove_if_ours(path, ours)
        # Idle for a while: the next task of this key starts cold and counts afresh. (Should a
        # second server start meanwhile, both serve until idle: duplicated, never wrong.)
        for leftover in (key + ".lock", key + ".seen"):
            try:
                os.unlink(os.path.join(folder, leftover))
            except OSError:
                pass
    return 0


def _warm_up():
    """What every task imports before its step's own code (not `metaflow.cli`: it builds its
    options from the flow that first imports it, so each task must import it afresh)."""
    import metaflow  # noqa: F401

    from . import runtime  # noqa: F401


def _listen(path):
    """Bind under a temporary name, then rename: a client never meets a half-ready server."""
    temporary = "%s.%d" % (path, os.getpid())
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    if os.path.lexists(temporary):
        os.unlink(temporary)
    listener.bind(temporary)
    listener.listen(64)
    os.rename(temporary, path)
    return listener


def _remove_if_ours(path, inode):
    """Unless a newer server has renamed its own socket over ours."""
    try:
        if os.stat(path).st_ino == inode:
            os.unlink(path)
    except OSError:
        pass


def _serve(listener, idle):
    supervisors = set()
    last_task = time.monotonic()
    while True:
        ready, _, _ = select.select([listener], [], [], 1.0)
        supervisors = {pid for pid in supervisors if not _reaped(pid)}
        if not ready:
            if not supervisors and time.monotonic() - last_task > idle:
                return
            continue
        connection, _ = listener.accept()
        last_task = time.monotonic()
        if not _same_user(connection):
            connection.close()
            continue
        pid = os.fork()
        if pid == 0:
            listener.close()
            os._exit(_supervise(connection))
        connection.close()
        supervisors.add(pid)


def _reaped(pid):
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return done == pid


def _same_user(connection):
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _, uid, _ = struct.unpack("3i", credentials)
    return uid == os.getuid()


def _supervise(connection):
    """Run one task in a child; tell the caller its pid, then its exit status."""
    try:
        request, descriptors = _receive(connection)
    except (OSError, ValueError):
        return 1
    wakeup_read, wakeup_write = os.pipe()
    os.set_blocking(wakeup_write, False)
    signal.set_wakeup_fd(wakeup_write)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    task = os.fork()
    if task == 0:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.setpgid(0, 0)
        os._exit(_run_task(request, descriptors, connection))
    os.setpgid(task, task)  # as the task does itself: whichever runs first, the caller can signal it
    for descriptor in descriptors:
        os.close(descriptor)
    try:
        send(connection, {"pid": task})
    except OSError:
        pass
    while True:
        done, status = os.waitpid(task, os.WNOHANG)
        if done == task:
            code = os.waitstatus_to_exitcode(status)
            try:
                send(connection, {"status": code if code >= 0 else 128 - code})
            except OSError:
                pass
            return 0
        ready, _, _ = select.select([connection, wakeup_read], [], [])
        if wakeup_read in ready:
            os.read(wakeup_read, 512)
        if connection in ready and not connection.recv(1, socket.MSG_PEEK):
            _kill_group(task)  # the waiting task command was killed: so is the task


def _kill_group(task):
    try:
        os.killpg(task, signal.SIGKILL)
    except OSError:
        pass


def _receive(connection):
    """The caller's request (length-prefixed JSON) and its stdin, stdout and stderr."""
    import json

    data, descriptors, _, _ = socket.recv_fds(connection, 1 << 16, 3)
    if len(descriptors) != 3 or len(data) < 4:
        for descriptor in descriptors:
            os.close(descriptor)
        raise ValueError("bad request")
    (size,) = struct.unpack("!I", data[:4])
    if size > _MAX_REQUEST:
        raise ValueError("request too large")
    body = data[4:]
    while len(body) < size:
        chunk = connection.recv(size - len(body))
        if not chunk:
            raise ValueError("short request")
        body += chunk
    return json.loads(body), descriptors


def _run_task(request, descriptors, connection):
    """In the task process: become the caller's process, then run what it would have run."""
    try:
        for target, descriptor in enumerate(descriptors):
            os.dup2(descriptor, target)
            os.close(descriptor)
        connection.close()
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ[SERVER_ENV] = str(os.getppid())  # tells the step (and whoever debugs it) it ran warm
        sys.path[0] = request["cwd"]
        sys.argv = [os.path.join(os.path.dirname(__file__), "task.py")]
        from .runtime import main as run

        code = run()
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: B036 - the task's own failure, reported as a cold start would
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - a closed stream cannot lose more
                pass
    return code if isinstance(code, int) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
