"""``worker.kombu_redis_client``: a kombu Redis channel builds one client object, not one per command,
and builds a new one on a new pool. Real Redis (the session's)."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from kombu import Connection

pytestmark = pytest.mark.integration


def test_a_channel_keeps_one_client_and_messages_still_go_through(redis_url: str, monkeypatch: Any) -> None:
    from worker import kombu_redis_client  # imports the app: only once the fixture set the broker's URL

    assert kombu_redis_client.apply()
    built: list[Any] = []
    original = redis.Redis.__init__

    def counting(self: Any, *args: Any, **kwargs: Any) -> None:
        built.append(self)
        original(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counting)
    with Connection(redis_url) as conn:
        channel = conn.default_channel
        with channel.conn_or_acquire() as first, channel.conn_or_acquire() as second:
            assert first is second
        # 200 messages published and read back with acks: the same client throughout
        before = len(built)
        queue = conn.SimpleQueue("bobbin-test-client-reuse")
        for n in range(200):
            queue.put({"n": n})
        got = []
        for _ in range(200):
            message = queue.get(timeout=5)
            got.append(message.payload["n"])
            message.ack()
        assert got == list(range(200))
        assert len(built) - before <= 2  # the queue's own channel: at most one sync and one polling client
        # A channel whose pool is replaced (a reconnect) builds a client on the new pool
        with channel.conn_or_acquire() as kept:
            pass
        channel._pool = None
        with channel.conn_or_acquire() as fresh:
            assert fresh is not kept and fresh.connection_pool is channel.pool
        queue.clear()
        queue.close()
