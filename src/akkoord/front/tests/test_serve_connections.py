"""Idle and slow clients cannot starve `akkoord serve` (real sockets, real server)."""

import socket
import time
from contextlib import ExitStack

import pytest

from akkoord.front.tests.served import Served, http

IDLE_CLIENTS = 110
DEADLINE = 60


@pytest.fixture
def served(tmp_path):
    # A short idle timeout so that the test of it ends soon; the limit is the default.
    server = Served(tmp_path, {"AKKOORD_WEB_CHANNEL_TIMEOUT": "3"})
    try:
        server.start()
        yield server
    finally:
        server.stop()


def _idle_connection(stack: ExitStack, port: int) -> socket.socket:
    sock = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
    return sock


def test_healthz_answers_while_110_idle_connections_are_open(served):
    with ExitStack() as stack:
        idle = [_idle_connection(stack, served.port) for _ in range(IDLE_CLIENTS)]
        # Waitress accepts in its loop: make sure every idle socket is accepted
        # (a request on the last one is answered) before asking /healthz.
        idle[-1].sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert idle[-1].recv(64).startswith(b"HTTP/1.1 200")
        status, body = http(served.base + "/healthz", timeout=DEADLINE / 4)
        assert status == 200
        assert '"database": "ok"' in body


def test_an_idle_connection_is_closed_after_the_channel_timeout(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=DEADLINE) as sock:
        started = time.monotonic()
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")  # a request that never ends
        assert sock.recv(1024) == b""  # the server closed it
        assert time.monotonic() - started < DEADLINE
