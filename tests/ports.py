"""Ports for the servers the tests start on 127.0.0.1, without racing other processes for them.

A server that can bind port 0 and report the port it got should do that (the sandboxes, Flower):
nothing to race. These helpers are for the servers that cannot (the embedded Postgres and Redis
daemons take a port number): a port probed free may be taken by another process before the server
binds it, so the start is tried again on another port; and a restart that must come back on the
same port waits for the old server to let go of it, retrying the start (bounded) instead of
sleeping a fixed time.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")


def probe_free_port() -> int:
    """A port free at this moment (bound and closed): only a guess, see ``start_on_a_free_port``."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether a server could bind ``port`` now (with SO_REUSEADDR, as servers do, so connections
    of a stopped server left in TIME_WAIT do not count)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_on_a_free_port(start: Callable[[int], T], *, attempts: int = 5, what: str = "the server") -> T:
    """``start(port)`` on a probed free port; if it fails (another process took the port between the
    probe and the bind), again on another one. ``start`` must raise when its server did not get
    the port."""
    failures = []
    for _ in range(attempts):
        port = probe_free_port()
        try:
            return start(port)
        except Exception as exc:
            failures.append(f"port {port}: {type(exc).__name__}: {exc}")
    raise AssertionError(f"{what} did not start on any of {attempts} free ports:\n" + "\n".join(failures))


def start_on_port(start: Callable[[int], T], port: int, *, timeout: float = 60, what: str = "the server") -> T:
    """``start(port)`` on this very port (a restart), once the port is free; tried again until it
    binds or ``timeout`` seconds have passed."""
    deadline = time.monotonic() + timeout
    failure = "the port never became free"
    while True:
        if port_is_free(port):
            try:
                return start(port)
            except Exception as exc:
                failure = f"{type(exc).__name__}: {exc}"
        if time.monotonic() >= deadline:
            raise AssertionError(f"{what} did not start again on port {port} within {timeout:.0f} s ({failure})")
        time.sleep(0.1)


@contextlib.contextmanager
def refused_port() -> Iterator[int]:
    """A port where a connection is refused: bound for the block (so no other process can take
    it and answer) but not listening, which the kernel answers with a reset."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])
