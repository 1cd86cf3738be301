"""The inbound event receiver (webhooks): ``POST /events/{site}`` on the real ASGI app under uvicorn.

uvicorn serves ``web.app:create_app`` on a free loopback port in a background thread; requests go
over HTTP. The partner is a toy (``tests/toy_events.py``: HMAC-SHA256 hex of ``timestamp.body``,
five minutes' replay window) with a site of it in the real Postgres; what the receiver hands to
the worker is read from the real Redis queue, or processed by a real Celery worker. Written
given / when / then.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, text

from tests import toy_events as toy
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

SITE = "toy-hooks"
SECRET = "whsec-7f3a9c1e5b2d4f6a8c0e"
TASK = "tasks.events.process_event"


class Served:
    """uvicorn serving the app in a thread of this process (so a partner registered here is known)."""

    def __init__(self) -> None:
        import uvicorn

        from web.app import create_app

        config = uvicorn.Config(create_app(), host="127.0.0.1", port=0, log_config=None, lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

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


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def toy_partner() -> Iterator[Any]:
    from connectors.registry import registered

    with registered(toy.SPEC) as spec:
        yield spec


def _add_site(name: str, kind: str, credentials: dict[str, str]) -> int:
    from core.db import session_scope
    from services.sites import create_site

    with session_scope() as s:
        site = create_site(
            s,
            name=name,
            kind=kind,
            base_url="https://partner.example/api",
            credentials=credentials,
            division=None,
            notify_emails=["ops@brand.example"],
        )
        return site.id


@pytest.fixture()
def toy_site(db: str, toy_partner: Any) -> int:
    return _add_site(SITE, toy.KIND, {toy.SECRET_FIELD: SECRET})


@pytest.fixture()
def queue(celery_app: Any) -> Any:
    """The messages waiting in the Redis queues the worker consumes (emptied for each test)."""
    import redis

    from worker.routes import QUEUES

    client = redis.Redis.from_url(celery_app.conf.broker_url)

    def messages() -> list[dict[str, Any]]:
        out = []
        for raw in (raw for queue in QUEUES for raw in client.lrange(queue, 0, -1)):
            message = json.loads(raw)
            args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
            out.append({"task": message["headers"]["task"], "args": args, "kwargs": kwargs})
        return out

    return messages


def event(event_id: str = "evt_1001", topic: str = "return.created", **extra: Any) -> bytes:
    return json.dumps({"id": event_id, "topic": topic, "data": {"return_id": 77, "amount": "19.90"}, **extra}).encode()


def post(
    web: Served,
    body: bytes,
    *,
    site: str = SITE,
    secret: str = SECRET,
    signed_at: float | None = None,
    signature: str | None = None,
    headers: dict[str, str] | None = None,
) -> requests.Response:
    """POST as the toy partner would: timestamp + signature headers (override either, or drop them)."""
    ts = str(int(time.time() if signed_at is None else signed_at))
    sent = {
        "Content-Type": "application/json",
        toy.TIMESTAMP_HEADER: ts,
        toy.SIGNATURE_HEADER: toy.sign(secret, body, ts) if signature is None else signature,
    }
    sent.update(headers or {})
    sent = {k: v for k, v in sent.items() if v != ""}
    return requests.post(f"{web.url}/events/{site}", data=body, headers=sent, timeout=30)


def rows() -> list[dict[str, Any]]:
    from core.db import session_scope
    from models import InboundEvent

    with session_scope() as s:
        found = s.scalars(select(InboundEvent).order_by(InboundEvent.id)).all()
        return [
            {
                "id": r.id,
                "site_id": r.site_id,
                "event_id": r.event_id,
                "topic": r.topic,
                "state": r.state,
                "payload": r.payload,
                "body": bytes(r.body),
                "note": r.note,
                "processed_at": r.processed_at,
            }
            for r in found
        ]


# --- a good event ---------------------------------------------------------------------------------


def test_health(web: Served) -> None:
    answer = requests.get(f"{web.url}/healthz", timeout=10)
    assert answer.status_code == 200 and answer.json() == {"ok": True}


def test_good_event_is_stored_as_received_and_its_row_id_enqueued(web: Served, toy_site: int, queue: Any) -> None:
    # Given a toy site; when the partner pushes a signed event
    body = event()
    answer = post(web, body)

    # then it is told the event arrived, with the row's id
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"received": True, "id": answer.json()["id"]}
    # and one row holds the payload as parsed and the body byte for byte
    [row] = rows()
    assert row["id"] == answer.json()["id"]
    assert row["site_id"] == toy_site
    assert (row["event_id"], row["topic"], row["state"]) == ("evt_1001", "return.created", "received")
    assert row["payload"] == json.loads(body)
    assert row["body"] == body
    # and the task is queued with the row id only (no payload, no secret in the broker)
    assert queue() == [{"task": TASK, "args": [row["id"]], "kwargs": {}}]


def test_repeated_event_is_a_duplicate_stored_and_enqueued_once(web: Served, toy_site: int, queue: Any) -> None:
    # Given an event received once
    body = event("evt_2002")
    first = post(web, body)
    assert first.status_code == 200 and first.json()["received"] is True

    # When the partner sends it again (its retry; a second later, so signed anew)
    again = post(web, body, signed_at=time.time() + 1)

    # then it is told it is a duplicate, and there is still one row and one queued task
    assert again.status_code == 200, again.text
    assert again.json() == {"duplicate": True}
    assert [r["event_id"] for r in rows()] == ["evt_2002"]
    assert len(queue()) == 1


def test_same_event_id_on_another_site_is_another_event(web: Served, toy_site: int, queue: Any) -> None:
    # Given a second toy site with its own secret
    _add_site("toy-hooks-2", toy.KIND, {toy.SECRET_FIELD: "whsec-second-site-0000"})
    body = event("evt_3003")

    # When each site receives an event of the same id, each signed with its own secret
    assert post(web, body).status_code == 200
    other = post(web, body, site="toy-hooks-2", secret="whsec-second-site-0000")

    # then each is stored (the id is unique per site, not across sites)
    assert other.status_code == 200 and other.json()["received"] is True
    assert len(rows()) == 2 and len(queue()) == 2


def test_a_real_worker_processes_the_event_and_marks_it_ignored(
    web: Served, toy_site: int, start_worker: Any, worker_env: dict[str, str]
) -> None:
    # Given a worker process that knows the toy partner (BOBBIN_PARTNERS, see worker_env below)
    start_worker()

    # When the partner pushes an event whose topic Bobbin has no handler for yet
    answer = post(web, event("evt_4004"))
    assert answer.status_code == 200, answer.text

    # then the worker marks it ignored, saying why, and it stays stored
    row = wait_until(lambda: next((r for r in rows() if r["state"] != "received"), None), timeout=60, what="the worker")
    assert row["state"] == "ignored"
    assert row["note"] == "no Bobbin handler for topic 'return.created' yet"
    assert row["processed_at"] is not None


@pytest.fixture()
def worker_env(worker_env: dict[str, str]) -> dict[str, str]:
    return {**worker_env, "BOBBIN_PARTNERS": f"{toy.KIND}=tests.toy_events"}


def test_processing_is_idempotent_and_applies_a_handler_where_there_is_one(
    web: Served, toy_site: int, queue: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from models import InboundEvent
    from services import events

    # Given two stored events: one of a topic the toy maps to a handler, one of a topic it maps to none
    mapped = post(web, event("evt_5005", "return.created")).json()["id"]
    unmapped = post(web, event("evt_5006", "return.updated")).json()["id"]

    # When they are processed while Bobbin has no handler: both are ignored, saying why
    first = events.process_event(unmapped)
    assert first["state"] == "ignored" and first["changed"] is True
    assert first["note"] == "no Bobbin handler for topic 'return.updated' yet"
    # and processing again changes nothing (a redelivered task)
    again = events.process_event(unmapped)
    assert again == {**first, "changed": False}
    assert [r["processed_at"] for r in rows() if r["id"] == unmapped] != [None]

    # When Bobbin has the handler the toy maps "return.created" to, it applies the event
    seen: list[int] = []

    def create_return(session: Any, row: InboundEvent) -> str:
        seen.append(row.id)
        return f"return {row.payload['data']['return_id']} recorded"  # type: ignore[index]

    monkeypatch.setitem(events.HANDLERS, "returns.create", create_return)
    done = events.process_event(mapped)
    assert (done["state"], done["note"]) == ("processed", "return 77 recorded")
    assert events.process_event(mapped)["changed"] is False
    assert seen == [mapped]

    # And a handler that raises leaves the event failed with its error, to be run again
    failing = post(web, event("evt_5007", "return.created")).json()["id"]

    def broken(session: Any, row: InboundEvent) -> str:
        raise RuntimeError("ERP is read-only")

    monkeypatch.setitem(events.HANDLERS, "returns.create", broken)
    failed = events.process_event(failing)
    assert (failed["state"], failed["note"]) == ("failed", "returns.create: RuntimeError: ERP is read-only")
    monkeypatch.setitem(events.HANDLERS, "returns.create", create_return)
    assert events.process_event(failing)["state"] == "processed"

    # A row id that does not exist is answered, not raised
    assert events.process_event(999_999)["state"] is None


# --- refused: nothing stored ----------------------------------------------------------------------


def test_bad_signature_is_refused_and_nothing_stored(web: Served, toy_site: int, queue: Any) -> None:
    # When the body is signed with another secret, or changed after signing
    wrong_secret = post(web, event(), secret="whsec-not-the-sites-secret")
    body = event()
    ts = str(int(time.time()))
    tampered = post(
        web, body.replace(b"19.90", b"99.90"), signature=toy.sign(SECRET, body, ts), headers={toy.TIMESTAMP_HEADER: ts}
    )

    # then both are refused, and nothing is stored or queued
    for answer in (wrong_secret, tampered):
        assert answer.status_code == 401, answer.text
        assert answer.json() == {"error": "signature missing or does not match"}
    assert rows() == [] and queue() == []


def test_missing_signature_is_refused(web: Served, toy_site: int, queue: Any) -> None:
    no_signature = post(web, event(), headers={toy.SIGNATURE_HEADER: ""})
    no_timestamp = post(web, event(), headers={toy.TIMESTAMP_HEADER: ""})
    for answer in (no_signature, no_timestamp):
        assert answer.status_code == 401, answer.text
    assert rows() == [] and queue() == []


def test_old_or_future_signed_time_is_refused(web: Served, toy_site: int, queue: Any) -> None:
    # Given a correctly signed event whose signed time is past the replay window (a replay)
    old = post(web, event(), signed_at=time.time() - toy.REPLAY_SECONDS - 60)
    ahead = post(web, event(), signed_at=time.time() + toy.REPLAY_SECONDS + 60)

    # then it is refused as too old (or too far ahead), and nothing is stored
    assert old.status_code == 401 and "s old; events must be signed within 300 s" in old.json()["error"]
    assert ahead.status_code == 401 and "in the future" in ahead.json()["error"]
    assert rows() == [] and queue() == []
    # while one signed just now, inside the window, is taken
    assert post(web, event(), signed_at=time.time() - 30).status_code == 200


def test_unknown_site_is_404(web: Served, toy_site: int) -> None:
    answer = post(web, event(), site="no-such-site")
    assert answer.status_code == 404
    assert answer.json() == {"error": "no site named 'no-such-site'"}
    # a number is not taken as a site id, and the answer does not list the sites
    by_id = post(web, event(), site=str(toy_site))
    assert by_id.status_code == 404 and SITE not in by_id.text
    assert rows() == []


def test_site_whose_partner_takes_no_events_is_404(web: Served, db: str, toy_partner: Any) -> None:
    # Given a Brandboom site (Brandboom pushes no events)
    _add_site("bb-main", "brandboom", {"public_key": "PUBLICKEY0001", "secret_key": "SECRETKEY0001"})

    # When something posts an event to it, then it is told the site takes none
    answer = post(web, event(), site="bb-main")
    assert answer.status_code == 404
    error = answer.json()["error"]
    assert error.startswith("site 'bb-main' takes no events: Brandboom sites do not push events in Bobbin")
    assert rows() == []


def test_site_without_a_signing_secret_refuses_every_event(web: Served, toy_site: int) -> None:
    from core import crypto
    from core.db import session_scope
    from models import Site

    # Given a site whose credentials hold no webhook secret (nothing to check a signature against)
    with session_scope() as s:
        site = s.get(Site, toy_site)
        assert site is not None
        site.credentials_encrypted = crypto.encrypt_json({"api_key": "unrelated-0000"})

    # then a request is refused as unsigned, whatever it carries, and nothing is stored
    answer = post(web, event())
    assert answer.status_code == 401 and rows() == []


def test_site_whose_credentials_cannot_be_decrypted_is_503(web: Served, toy_site: int) -> None:
    from cryptography.fernet import Fernet

    from core.db import session_scope
    from models import Site

    # Given a site whose credentials were encrypted with a key Bobbin no longer has
    with session_scope() as s:
        site = s.get(Site, toy_site)
        assert site is not None
        site.credentials_encrypted = Fernet(Fernet.generate_key()).encrypt(b'{"webhook_secret": "x"}').decode()

    # then events cannot be checked: the partner is told to come back, and nothing is stored
    answer = post(web, event())
    assert answer.status_code == 503
    assert answer.json() == {"error": "this site's events cannot be checked now"}
    assert rows() == []


def test_body_over_the_limit_is_413(web: Served, toy_site: int) -> None:
    from web.events import MAX_BODY_BYTES

    body = event(padding="x" * MAX_BODY_BYTES)
    assert post(web, body).status_code == 413
    # and without a Content-Length (chunked), the stream is cut at the limit all the same
    chunked = requests.post(
        f"{web.url}/events/{SITE}", data=iter([body[i : i + 65536] for i in range(0, len(body), 65536)]), timeout=30
    )
    assert chunked.status_code == 413
    assert rows() == []


# --- malformed: kept for a person -----------------------------------------------------------------


def test_malformed_body_is_400_and_kept_once(web: Served, toy_site: int, queue: Any) -> None:
    # Given a signed body that is not JSON
    body = b'{"id": "evt_6006", "topic": "return.created", '

    # When the partner sends it, then it is told why it is refused
    answer = post(web, body)
    assert answer.status_code == 400
    assert answer.json()["error"].startswith("the body is not JSON")
    # and the raw bytes are kept for a person, under a stand-in id, and nothing is queued
    [row] = rows()
    assert row["state"] == "malformed"
    assert row["event_id"] == f"malformed-{hashlib.sha256(body).hexdigest()}"
    assert row["body"] == body and row["topic"] is None and row["note"] == answer.json()["error"]
    assert queue() == []
    # with no payload at all (SQL NULL, not JSON null)
    from core.db import session_scope

    with session_scope() as s:
        assert s.scalar(text("SELECT count(*) FROM inbound_event WHERE payload IS NULL")) == 1

    # When the same bad body comes again, then it is refused the same way and still kept once
    again = post(web, body, signed_at=time.time() + 1)
    assert again.status_code == 400 and again.json() == answer.json()
    assert len(rows()) == 1


def test_json_that_is_no_event_is_malformed(web: Served, toy_site: int, queue: Any) -> None:
    no_id = post(web, json.dumps({"topic": "return.created"}).encode())
    a_list = post(web, b"[1, 2, 3]")
    nul = post(web, json.dumps({"id": "evt_7007", "topic": "return.created", "note": "a\u0000b"}).encode())

    assert (no_id.status_code, no_id.json()) == (400, {"error": "the event has no `id`"})
    assert (a_list.status_code, a_list.json()) == (400, {"error": "the body is JSON but not an object (a list)"})
    # valid JSON that Postgres's JSONB cannot hold is kept raw too, not a 500
    assert nul.status_code == 400 and nul.json()["error"].startswith("the payload cannot be stored as JSON")
    assert [r["state"] for r in rows()] == ["malformed"] * 3
    assert queue() == []


# --- logs -----------------------------------------------------------------------------------------


@pytest.fixture()
def captured_logs() -> Iterator[io.StringIO]:
    """core.logging configured into a buffer, as JSON; the previous setup restored after."""
    import structlog

    from core.logging import configure

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure(level="DEBUG", fmt="json", stream=buffer)
    yield buffer
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


def test_each_outcome_is_logged_without_the_secret(
    web: Served, toy_site: int, queue: Any, captured_logs: io.StringIO
) -> None:
    post(web, event("evt_8008"))
    post(web, event("evt_8008"), signed_at=time.time() + 1)
    post(web, event("evt_8009"), secret="whsec-wrong-secret-000")
    post(web, b"not json")

    lines = [json.loads(line) for line in captured_logs.getvalue().splitlines() if line.startswith("{")]
    outcomes = [(line["event"], line.get("result")) for line in lines if line["event"].startswith("event_")]
    assert outcomes == [
        ("event_received", None),
        ("event_duplicate", None),
        ("event_refused", "unauthorized"),
        ("event_malformed", None),
    ]
    assert all(line["site"] == SITE for line in lines if line["event"].startswith("event_"))
    assert SECRET not in captured_logs.getvalue()


def test_inbound_event_rows_go_with_their_site(web: Served, toy_site: int, queue: Any) -> None:
    from core.db import session_scope
    from models import InboundEvent, Site

    post(web, event("evt_9009"))
    with session_scope() as s:
        s.delete(s.get(Site, toy_site))
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(InboundEvent)) == 0


# --- `bobbin web` ---------------------------------------------------------------------------------


def test_bobbin_web_serves_the_app(db: str, pg_url: str, redis_url: str, bobbin_home: Path) -> None:
    from core.embedded import free_port

    # Given `bobbin web` started as the compose service starts it (its own process, JSON logs)
    port = free_port()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "bobbin"), "web", "--port", str(port)],
        env=dict(os.environ, DATABASE_URL=pg_url, REDIS_URL=redis_url, LOG_FORMAT="json", LOG_LEVEL="INFO"),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def healthy() -> bool:
            assert proc.poll() is None, (proc.stdout.read() if proc.stdout else b"").decode()
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.ConnectionError:
                return False

        wait_until(healthy, timeout=60, what="bobbin web to answer /healthz")

        # When an event is posted to a site that does not exist, then it answers 404
        answer = requests.post(f"http://127.0.0.1:{port}/events/nowhere", data=b"{}", timeout=10)
        assert answer.status_code == 404 and answer.json() == {"error": "no site named 'nowhere'"}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        output = proc.communicate(timeout=30)[0].decode()
    # and the outcome is in its log, as JSON
    refused = [json.loads(line) for line in output.splitlines() if '"event_refused"' in line]
    assert refused and refused[0]["result"] == "not_found" and refused[0]["site"] == "nowhere", output
