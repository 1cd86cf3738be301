"""Events a partner pushes to Bobbin (webhooks), as a partner offers them: what the receiver needs
to check a request and name the event, and the capability a partner declares in its spec.

The receiver (``web/``) verifies the signature over the raw body, parses out the event's id and
topic, stores the payload as received (once per site and event id) and hands the event's row id
to a task. Nothing here knows any partner's header or field names.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class InboundEvent:
    """One event as the partner sent it: its own id (the dedupe key), its topic, the parsed body."""

    event_id: str
    topic: str
    payload: Mapping[str, Any]


class MalformedEvent(ValueError):
    """The body is not an event this partner sends (not JSON, no id, no topic); says what is wrong."""


@dataclass(frozen=True)
class EventSource:
    """A partner's webhook capability.

    ``secret_field``: the site credential holding the signing secret. ``verify(body, headers,
    secret)``: whether the request is signed with it (headers' names are lower case). ``parse(body,
    headers)``: the event, or MalformedEvent. ``replay_seconds``: how old a signed timestamp may
    be, where the partner signs one (0: the partner signs none; the event id dedupes).
    ``timestamp(headers)``: the time the partner signed, in Unix seconds, or None when the request
    carries none; only asked when ``replay_seconds`` is set, and only worth it when ``verify``
    covers the timestamp too (else anyone could change it). ``topics``: the partner's topic ->
    the Bobbin handler that applies it (``services.events.HANDLERS``); a topic not named here is
    stored and marked ``ignored``."""

    secret_field: str
    verify: Callable[[bytes, Mapping[str, str], str], bool]
    parse: Callable[[bytes, Mapping[str, str]], InboundEvent]
    replay_seconds: int = 0
    timestamp: Callable[[Mapping[str, str]], float | None] | None = None
    topics: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.replay_seconds and self.timestamp is None:
            raise ValueError("an EventSource with replay_seconds needs timestamp(headers) to read the signed time")


def hmac_sha256(secret: str, body: bytes, *, encoding: str = "hex") -> str:
    """HMAC-SHA256 of the raw body under ``secret``, as hex or base64 (partners use both)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def signature_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of two signatures (a missing one never matches)."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode(), given.strip().encode())


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object, or MalformedEvent saying why not (for a partner's ``parse``)."""
    try:
        value = json.loads(body)
    except UnicodeDecodeError:
        raise MalformedEvent("the body is not UTF-8 text") from None
    except ValueError as exc:
        raise MalformedEvent(f"the body is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise MalformedEvent(f"the body is JSON but not an object (a {type(value).__name__})")
    return value


def unix_time(value: str | None) -> float | None:
    """A header's Unix time in seconds (as partners send it: digits, maybe a fraction), or None."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) else None
