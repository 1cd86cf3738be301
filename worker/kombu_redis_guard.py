"""A guard in kombu's Redis transport so a Redis restart during a run does not kill the worker.

Why (Celery 5.7.0 / kombu 5.7.0, Redis broker, ``acks_late``): when the broker connection drops
while the worker holds an unacknowledged message (the running import) and its consumer is polling
(a free pool slot), ``celery/worker/consumer/consumer.py`` ``on_connection_error_after_connected``
calls ``connection.collect()`` — which detaches the transport (``transport.client = None``) — and
then ``connection.close()``. Closing the channel restores its unacked messages
(``kombu/transport/virtual/base.py`` ``Channel.close`` → ``QoS.restore_unacked_once`` →
``kombu/transport/redis.py`` ``QoS.restore_unacked`` → ``Channel.conn_or_acquire`` → ``pool`` →
``_get_pool`` → ``_connparams``), and ``_connparams`` reads ``self.connection.client.hostname`` on
``None``: an ``AttributeError``, which is not one of the transport's connection errors, so the
consumer logs "Unrecoverable error" and the worker's main process exits once the running task
ends — and nothing consumes afterwards (``tests/chaos/test_restarts.py``).

The guard makes ``_connparams`` raise ``redis.exceptions.ConnectionError`` when the channel's
connection or its client is gone. That is a recoverable error: the close's error is ignored, the
consumer reconnects when Redis is back, and the message stays in Redis's unacked index and is
delivered again after the visibility timeout (every task is idempotent; a second import of a site
skips on the site's advisory lock while the first runs). In every other case it calls kombu's own
``_connparams`` unchanged.

It applies only to kombu 5.x whose Redis ``Channel`` has ``_connparams`` (the code with the bug);
the worker logs once at start whether it is in effect.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import kombu
import redis.exceptions
import structlog
from celery import signals
from kombu.transport import redis as kombu_redis

log = structlog.get_logger()

_MARK = "_bobbin_detached_client_guard"
ConnParams = Callable[..., dict[str, Any]]

_state: dict[str, bool] = {"applied": False}


def _guarded(original: ConnParams) -> ConnParams:
    @functools.wraps(original)
    def _connparams(self: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        connection = getattr(self, "connection", None)
        if connection is None or getattr(connection, "client", None) is None:
            raise redis.exceptions.ConnectionError(
                "the broker connection is closed (its transport was detached from the client)"
            )
        return original(self, *args, **kwargs)

    setattr(_connparams, _MARK, True)
    return _connparams


def known_to_have_the_bug() -> bool:
    """kombu 5.x with the Redis ``Channel._connparams`` that reads ``connection.client`` unchecked."""
    return int(kombu.VERSION.major) == 5 and callable(getattr(kombu_redis.Channel, "_connparams", None))


def apply() -> bool:
    """Install the guard (once); whether it is in effect."""
    original = getattr(kombu_redis.Channel, "_connparams", None)
    if original is not None and getattr(original, _MARK, False):
        return True
    if original is None or not known_to_have_the_bug():
        return False
    setattr(kombu_redis.Channel, "_connparams", _guarded(original))  # noqa: B010 (a method replaced on purpose)
    _state["applied"] = True
    return True


@signals.celeryd_after_setup.connect
def _log_once(**_: Any) -> None:
    # After the worker set up logging: one line per worker start.
    if _state["applied"]:
        log.info(
            "kombu_redis_guard_applied",
            kombu=kombu.__version__,
            detail="a detached Redis channel raises ConnectionError (recoverable) instead of AttributeError",
        )
    else:
        log.warning(
            "kombu_redis_guard_not_applied",
            kombu=kombu.__version__,
            detail="kombu is not a version known to have the bug; check tests/chaos/test_restarts.py",
        )
