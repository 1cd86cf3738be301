"""Loop's return webhooks as the event receiver takes them (``connectors.events.EventSource``).

[DOC] partners/README 3.4 / 3.6: ``X-Loop-Signature`` is base64(HMAC-SHA256(raw body, secret));
the body carries ``topic`` ("return"), ``trigger`` (return.created, return.updated,
return.closed ...) and the return's fields, but no event id and no timestamp. So the stored event's
id is made from what the body carries: the return's id, the trigger and a digest of the body — the
same delivery sent again (Loop retries up to 5 times) is stored once; another change of the same
return is another event. Loop signs no time, so nothing bounds a replay here: the returns service
reads the return's details (with its ``updated_at``) before it changes anything, and a stale state
is never applied.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from connectors.events import EventSource, InboundEvent, MalformedEvent, json_object
from connectors.loop import contract as c
from connectors.returns import APPLY_RETURN

W = c.WebhookField


def parse(body: bytes, headers: Mapping[str, str]) -> InboundEvent:
    payload = json_object(body)
    topic, trigger = payload.get(W.TOPIC), payload.get(W.TRIGGER)
    if not isinstance(trigger, str) or not trigger.strip():
        raise MalformedEvent(f"the body has no '{W.TRIGGER}'")
    raw_id = payload.get(c.ReturnField.ID)
    try:
        return_id = "" if raw_id is None else c.return_id_text(raw_id)
    except ValueError as exc:
        raise MalformedEvent(f"the webhook's '{c.ReturnField.ID}' is not a return id: {exc}") from None
    if topic == c.TOPIC_RETURN and not return_id:
        raise MalformedEvent(f"the return webhook has no '{c.ReturnField.ID}'")
    digest = hashlib.sha256(body).hexdigest()[:32]
    return InboundEvent(f"{return_id or topic}:{trigger.strip()}:{digest}", trigger.strip(), payload)


EVENTS = EventSource(
    secret_field="webhook_secret",
    verify=c.verify_webhook,
    parse=parse,
    topics=dict.fromkeys(c.RETURN_TRIGGERS, APPLY_RETURN),
)
