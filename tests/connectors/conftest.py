"""Fixtures for client tests: a Brandboom sandbox on a free 127.0.0.1 port, and a client on it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from connectors.brandboom.client import BrandboomClient
from connectors.http import HttpPolicy
from sandbox.brandboom.server import BrandboomSandbox

PUBLIC_KEY = "5AEE3AF949C8383DD321D352433CDC0C"  # the doc's example keys
SECRET_KEY = "25320587CF6D4F206F68B517F0878408"
# Tiny waits and timeouts keep the retry tests fast; waits are recorded, not slept, anyway.
FAST_POLICY = HttpPolicy(connect_timeout=1.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.05)


@pytest.fixture
def brandboom_sandbox() -> Iterator[BrandboomSandbox]:
    sandbox = BrandboomSandbox(public_key=PUBLIC_KEY, secret_key=SECRET_KEY).start()
    yield sandbox
    sandbox.stop()


@pytest.fixture
def brandboom_keys() -> tuple[str, str]:
    """(public key, secret key) the sandbox accepts."""
    return PUBLIC_KEY, SECRET_KEY


@pytest.fixture
def sleeps() -> list[float]:
    """Backoff waits the client asked for; the client gets ``sleeps.append`` instead of sleep."""
    return []


ClientFactory = Callable[..., BrandboomClient]


@pytest.fixture
def make_brandboom_client(brandboom_sandbox: BrandboomSandbox, sleeps: list[float]) -> Iterator[ClientFactory]:
    """Build clients on the sandbox; keyword arguments override the right keys, url, clock..."""
    clients: list[BrandboomClient] = []

    def make(**overrides: Any) -> BrandboomClient:
        options: dict[str, Any] = {
            "base_url": brandboom_sandbox.url,
            "public_key": PUBLIC_KEY,
            "secret_key": SECRET_KEY,
            "policy": FAST_POLICY,
            "sleep": sleeps.append,
            **overrides,
        }
        client = BrandboomClient(
            options.pop("base_url"), options.pop("public_key"), options.pop("secret_key"), **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def brandboom_client(make_brandboom_client: ClientFactory) -> BrandboomClient:
    return make_brandboom_client()
