"""What the console's tests share: the real ASGI app under uvicorn, accounts, a signed-in client,
and the Celery queue as the broker holds it.

The app runs in a thread of the test process on a free loopback port, against the test Postgres
and Redis (the ``pg_url`` / ``redis_url`` fixtures), exactly as ``bobbin web`` serves it.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from typing import Any

import requests

PASSWORD = "correct horse battery"  # every test account's password


class Served:
    """uvicorn serving ``web.app:create_app()`` in a thread of this process."""

    def __init__(self) -> None:
        import uvicorn

        from web.app import create_app

        config = uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_config=None, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn-console", daemon=True)
        self.url = ""

    def start(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert self.thread.is_alive(), "uvicorn stopped while starting"
            assert time.monotonic() < deadline, "uvicorn did not start within 20 s"
            time.sleep(0.02)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)


def add_user(username: str, role: str, password: str = PASSWORD) -> int:
    from core.db import session_scope
    from services.users import add_user as add

    with session_scope() as s:
        return add(s, username, password, role, actor="test").id


def hidden(html: str, name: str = "csrf_token") -> str:
    """The value of the first hidden input ``name`` in a page."""
    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} field in the page"
    return m.group(1)


def sign_in(url: str, username: str, password: str = PASSWORD) -> requests.Session:
    """A requests session signed in to the console (its cookies carry the session)."""
    client = requests.Session()
    form = client.get(f"{url}/login", timeout=10)
    answer = client.post(
        f"{url}/login",
        data={"username": username, "password": password, "csrf_token": hidden(form.text), "next": "/"},
        timeout=30,
    )
    assert answer.status_code == 200 and answer.url == f"{url}/", (answer.status_code, answer.text[:500])
    return client


def queued(broker_url: str) -> list[dict[str, Any]]:
    """The task messages waiting in the broker, every queue (worker/routes.py)."""
    import redis

    from worker.routes import QUEUES

    client = redis.Redis.from_url(broker_url)
    out = []
    for raw in (raw for queue in QUEUES for raw in client.lrange(queue, 0, -1)):
        message = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
        out.append({"task": message["headers"]["task"], "args": args, "kwargs": kwargs, "id": message["headers"]["id"]})
    return out


def actions(action: str | None = None) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from core.db import session_scope
    from models import ConsoleAction

    with session_scope() as s:
        query = select(ConsoleAction).order_by(ConsoleAction.id)
        if action:
            query = query.where(ConsoleAction.action == action)
        return [
            {
                "action": a.action,
                "user_id": a.user_id,
                "actor": a.actor,
                "site_id": a.site_id,
                "order_id": a.order_id,
                "detail": a.detail,
            }
            for a in s.scalars(query)
        ]
