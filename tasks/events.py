"""Events partners pushed (webhooks): apply one stored event. The receiver (``web/``) enqueues it."""

from __future__ import annotations

from typing import Any

from services import events
from worker import app


@app.task(name="tasks.events.process_event")
def process_event(event_id: int) -> dict[str, Any]:
    """Apply the stored event ``inbound_event.id == event_id`` (Bobbin's row id, not the partner's
    event id) through its Bobbin handler; a second run changes nothing."""
    done = events.process_event(int(event_id))
    if done.get("changed") and done.get("state") == "processed" and done.get("site_id"):
        # What applying it queued for the partner (a note, a flag) goes out now.
        app.send_task("tasks.status.flush_outbox", kwargs={"site_id": int(done["site_id"])})
    return done
