"""Helper servers in tests fail in one line, in time, where moto's own start would block forever."""

import socket
import time

import pytest

from tests.helper_servers import free_port, start_with_deadline


def test_a_taken_port_fails_at_once_naming_the_helper():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        began = time.monotonic()
        with pytest.raises(pytest.fail.Exception, match="The S3 server .* port %d .* is taken" % port):
            start_with_deadline(lambda: time.sleep(60), port, "The S3 server (moto)")
        assert time.monotonic() - began < 1


def test_a_helper_that_never_answers_fails_at_its_deadline():
    with pytest.raises(pytest.fail.Exception, match="did not answer on 127.0.0.1:\\d+ within 1 s"):
        start_with_deadline(lambda: time.sleep(60), free_port(), "A stand-in", seconds=1)


def test_a_helper_that_raises_fails_with_its_error():
    def start():
        raise OSError("no such address")

    with pytest.raises(pytest.fail.Exception, match="A stand-in failed to start .*: no such address"):
        start_with_deadline(start, free_port(), "A stand-in")


def test_moto_on_a_taken_port_fails_instead_of_blocking():
    moto_server = pytest.importorskip("moto.server")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
        with pytest.raises(pytest.fail.Exception, match="is taken"):
            start_with_deadline(server.start, port, "The S3 server (moto)")
