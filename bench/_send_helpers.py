"""Helpers for bench/send.py: an SMTP sink process and the floor client."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import smtplib
import socket
import time
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SINK = r"""
import logging, sys, threading, time
from aiosmtpd.controller import Controller
logging.getLogger("mail.log").setLevel(logging.WARNING)
count = 0
class Handler:
    async def handle_DATA(self, server, session, envelope):
        global count
        count += 1
        return "250 OK"
controller = Controller(Handler(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(count, flush=True)
"""


def floor(port: int, message: bytes, count: int) -> float:
    """Pre-rendered messages over one reused SMTP connection: messages per second."""
    connection = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for index in range(count):
        connection.sendmail("nieuws@mail.example.com", [f"floor{index}@example.org"], message)
    elapsed = time.perf_counter() - started
    connection.quit()
    return count / elapsed


def parallel_floor(port: int, message: bytes, count: int, clients: int) -> float:
    """``clients`` floor processes at once, one connection each: messages per second in all.

    The fair floor for N workers on a small machine: N senders and the sink then
    share the same cores as N workers and the sink do.
    """
    if clients == 1:
        return floor(port, message, count)
    context = multiprocessing.get_context("fork")
    with concurrent.futures.ProcessPoolExecutor(clients, mp_context=context) as pool:
        list(pool.map(abs, range(clients)))  # start the processes before the clock
        started = time.perf_counter()
        futures = [pool.submit(floor, port, message, count) for _ in range(clients)]
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return clients * count / elapsed


def _server(url: str):
    import psycopg

    return psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl(), autocommit=True)


def fresh_postgres(url: str) -> None:
    """(Re)create the benchmark's own PostgreSQL database: it must be one for the benchmark."""
    name = urlsplit(url).path.lstrip("/")
    with _server(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_postgres(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with _server(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
