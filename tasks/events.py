"""Events partners pushed (webhooks): apply one stored event. The receiver (``web/``) enqueues it."""

from __future__ import annotations

from typing import Any

from services import events
from worker import app


@app.task(name="tasks.events.process_event")
def process_event(event_id: int) -> dict[str, Any]:
    """Apply the stored event ``inbound_event.id == event_id`` (Bobbin's row id, not the partner's
    event id) through its Bobbin handler; a second run changes nothing."""
    return events.process_event(int(event_id))
