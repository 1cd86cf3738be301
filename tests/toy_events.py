"""A toy partner that pushes events (webhooks), for the receiver's tests.

It signs each request the way many partners do: ``X-Toy-Timestamp`` (Unix seconds) and
``X-Toy-Signature``, the hex HMAC-SHA256 of ``"<timestamp>." + body`` under the site's
``webhook_secret``; a signed time older than five minutes is refused. A body is a JSON object
with ``id`` and ``topic``. Tests add it with ``connectors.registry.registered(SPEC)``; a worker
process gets it from ``BOBBIN_PARTNERS="toyhooks=tests.toy_events"``.
"""

from __future__ import annotations

from collections.abc import Mapping

from connectors.events import (
    EventSource,
    InboundEvent,
    MalformedEvent,
    hmac_sha256,
    json_object,
    signature_matches,
    unix_time,
)
from connectors.registry import PartnerSpec
from connectors.settings import SiteSettings

KIND = "toyhooks"
SECRET_FIELD = "webhook_secret"
SIGNATURE_HEADER = "X-Toy-Signature"
TIMESTAMP_HEADER = "X-Toy-Timestamp"
REPLAY_SECONDS = 300
# The toy maps one topic to a Bobbin handler (which Bobbin does not have yet) and leaves the rest.
TOPICS = {"return.created": "returns.create"}


def sign(secret: str, body: bytes, timestamp: str) -> str:
    return hmac_sha256(secret, timestamp.encode() + b"." + body)


def verify(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    timestamp = headers.get(TIMESTAMP_HEADER.lower())
    if timestamp is None:
        return False
    return signature_matches(sign(secret, body, timestamp), headers.get(SIGNATURE_HEADER.lower()))


def timestamp(headers: Mapping[str, str]) -> float | None:
    return unix_time(headers.get(TIMESTAMP_HEADER.lower()))


def parse(body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    data = json_object(body)
    event_id, topic = data.get("id"), data.get("topic")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedEvent("the event has no `id`")
    if not isinstance(topic, str) or not topic:
        raise MalformedEvent("the event has no `topic`")
    return InboundEvent(event_id=event_id, topic=topic, payload=data)


SPEC = PartnerSpec(
    kind=KIND,
    label="Toy Hooks",
    settings=SiteSettings,
    credential_fields=(SECRET_FIELD,),
    client=lambda url, creds, settings: None,
    events=EventSource(
        secret_field=SECRET_FIELD,
        verify=verify,
        parse=parse,
        replay_seconds=REPLAY_SECONDS,
        timestamp=timestamp,
        topics=TOPICS,
    ),
    doc="a toy partner of the tests that pushes signed events",
)
