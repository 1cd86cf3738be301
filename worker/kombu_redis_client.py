"""One Redis client object per kombu channel, instead of one per command.

Why (kombu 5.7.0, Redis broker): the transport's ``Channel.conn_or_acquire`` builds a new
``redis.Redis`` through ``Channel._create_client`` for every command it sends outside its polling
connection — each task published, each task event (three per task on the worker: received,
started, succeeded; one more from the sender), each ack and each unacked-index write. Building one
costs about 0.1 ms of CPU (redis-py fills its table of response callbacks, some 170 entries), which
measured as a quarter of the worker main process's CPU per no-op task (README "Task overhead").

A ``redis.Redis`` made on a connection pool holds no connection of its own: it takes one from the
pool for each command and gives it back. So the client built for a channel is kept and handed out
again while the channel's pool is the same object; when the channel replaces its pool (a reconnect
after the broker went away) the next call builds a new client on the new pool, through kombu's
own ``_create_client`` — which is also where ``worker.kombu_redis_guard`` turns a detached
channel into a recoverable connection error, unchanged. The asynchronous client (the channel's
polling connection) is kombu's own, untouched.

It applies only to kombu 5.x whose Redis ``Channel`` has ``_create_client``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import kombu
from kombu.transport import redis as kombu_redis

_MARK = "_bobbin_reuses_client"
_KEPT = "_bobbin_client"

CreateClient = Callable[..., Any]


def _reusing(original: CreateClient) -> CreateClient:
    @functools.wraps(original)
    def _create_client(self: Any, asynchronous: bool = False) -> Any:
        if asynchronous:
            return original(self, asynchronous=True)
        pool = self.pool  # kombu's property: builds the pool (or raises) exactly as before
        client = self.__dict__.get(_KEPT)
        if client is None or client.connection_pool is not pool:
            client = original(self)
            self.__dict__[_KEPT] = client
        return client

    setattr(_create_client, _MARK, True)
    return _create_client


def apply() -> bool:
    """Install the reuse (once); whether it is in effect."""
    original = getattr(kombu_redis.Channel, "_create_client", None)
    if original is None or int(kombu.VERSION.major) != 5:
        return False
    if not getattr(original, _MARK, False):
        setattr(kombu_redis.Channel, "_create_client", _reusing(original))  # noqa: B010 (a method replaced on purpose)
    return True
