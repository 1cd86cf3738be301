"""The guard in kombu's Redis transport (``worker/kombu_redis_guard.py``).

Given a Redis channel whose transport was detached from its client — as the worker's consumer does
(``connection.collect()``) before it closes the connection after losing the broker — when the channel
asks for its connection parameters (to restore its unacknowledged messages), then it raises
``redis.exceptions.ConnectionError``, one of the transport's recoverable connection errors, instead
of an ``AttributeError`` that ends the worker. With the client attached, kombu's own code answers.

No server is contacted: the channels are built without connecting. The ``redis_url`` fixture only
gives the ``worker`` app (imported inside the tests) the test broker's URL.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
import redis.exceptions
from kombu import Connection
from kombu.transport import redis as kombu_redis


def _channel_on(transport: object | None) -> kombu_redis.Channel:
    """A Redis channel on ``transport``, built without connecting (its __init__ would ping)."""
    channel = kombu_redis.Channel.__new__(kombu_redis.Channel)
    channel.connection = transport
    return channel


def test_the_worker_installs_the_guard_once(redis_url: str) -> None:
    from worker import kombu_redis_guard

    assert kombu_redis_guard.known_to_have_the_bug()
    installed = kombu_redis_guard.apply()
    guarded = kombu_redis.Channel._connparams
    assert installed and kombu_redis_guard.apply()
    assert kombu_redis.Channel._connparams is guarded  # applying again does not wrap twice
    assert getattr(guarded, kombu_redis_guard._MARK)
    assert not getattr(guarded.__wrapped__, kombu_redis_guard._MARK, False)


def test_a_channel_whose_transport_was_detached_raises_a_connection_error(redis_url: str) -> None:
    import worker  # noqa: F401  (installs the guard)

    connection = Connection(redis_url)
    transport = connection.transport
    connection.collect()  # what the consumer does after losing the broker: transport.client = None
    assert transport.client is None

    with pytest.raises(redis.exceptions.ConnectionError):
        _channel_on(transport)._connparams()
    with pytest.raises(redis.exceptions.ConnectionError):
        _channel_on(None)._connparams(asynchronous=True)
    # ... which the transport counts as a connection error (recoverable), not an unknown one
    assert issubclass(redis.exceptions.ConnectionError, Connection(redis_url).transport.connection_errors)


def test_a_channel_with_its_client_gets_kombus_parameters(redis_url: str) -> None:
    import worker  # noqa: F401  (installs the guard)

    connection = Connection(redis_url)
    params = _channel_on(connection.transport)._connparams()
    url = urlsplit(redis_url)
    assert (params["host"], params["port"]) == (url.hostname, url.port)
