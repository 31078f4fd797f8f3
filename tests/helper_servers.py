"""Ports and start deadlines for the helper servers tests run on loopback (S3, a notification receiver).

A helper that cannot bind its port, or does not answer in time, fails the test in one line instead of
blocking the session (moto's `ThreadedMotoServer.start` waits forever when its port is taken).
"""

import socket
import threading
import time

import pytest

LOOPBACK = "127.0.0.1"
START_SECONDS = 30


def free_port():
    """A port nothing listens on now (the kernel's choice)."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def port_is_free(port):
    """Whether a server may bind `port` now (as servers do, with SO_REUSEADDR: the closed connections
    of the previous test's server do not hold it)."""
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((LOOPBACK, port))
        except OSError:
            return False
        return True


def answers(port):
    try:
        socket.create_connection((LOOPBACK, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def start_with_deadline(start, port, what, seconds=START_SECONDS):
    """Run `start()` (which serves on `port`) in a thread; fail unless the port answers within `seconds`."""
    if not port_is_free(port):
        pytest.fail("%s cannot start: port %d on %s is taken by another program." % (what, port, LOOPBACK))
    failure = []

    def run():
        try:
            start()
        except BaseException as err:  # reported below, in the test's own words
            failure.append(err)

    threading.Thread(target=run, daemon=True).start()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if failure:
            pytest.fail("%s failed to start on %s:%d: %s" % (what, LOOPBACK, port, failure[0]))
        if answers(port):
            return
        time.sleep(0.1)
    pytest.fail("%s did not answer on %s:%d within %d s." % (what, LOOPBACK, port, seconds))
