"""connectors.http against a real local HTTP server that answers from a script."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests
from requests.adapters import HTTPAdapter
from structlog.testing import capture_logs

from connectors.errors import AuthError, OutcomeUnknown, PartnerRejected, RateLimited, RetryableError
from connectors.http import (
    Action,
    HttpPolicy,
    backoff_wait,
    build_session,
    classify_status,
    parse_retry_after,
    patient,
    send,
)
from sandbox.common import Request, Response, SandboxServer
from tests.ports import refused_port

# Timeouts sized for a loaded machine: a local server that is meant to answer does so well within
# them. A test that needs a timeout to fire makes the server hang (HANG) far longer than that.
POLICY = HttpPolicy(connect_timeout=5.0, read_timeout=2.0, max_attempts=3, backoff_base=0.01, backoff_cap=0.05)
SECRET = "S3CR3T-SIGNATURE"
HANG = "hang"
HANG_LIMIT = 60.0  # a hanging handler lets go at the latest after this long, or when the test ends


class ScriptedApp:
    """Plays queued answers in order (HANG = answer nothing until the test ends, so the client's
    read timeout fires whatever the machine's load), then 200s."""

    def __init__(self) -> None:
        self.script: list[Response | str] = []
        self.requests: list[Request] = []
        self.url = ""
        self.released = threading.Event()

    def handle(self, request: Request) -> Response:
        self.requests.append(request)
        step = self.script.pop(0) if self.script else Response.json({"ok": True})
        if step == HANG:
            self.released.wait(HANG_LIMIT)
            return Response.json({"ok": True})
        assert isinstance(step, Response)
        return step


@pytest.fixture
def app() -> Iterator[ScriptedApp]:
    scripted = ScriptedApp()
    server = SandboxServer(scripted)
    server.start()
    scripted.url = server.base_url + "/api/thing"
    yield scripted
    scripted.released.set()  # hanging handlers answer (to a client long gone) and end
    server.stop()


@pytest.fixture
def session() -> Iterator[requests.Session]:
    with build_session(POLICY) as s:
        yield s


def status(code: int, **headers: str) -> Response:
    return Response(status=code, body=f"status {code}".encode(), content_type="text/plain", headers=headers)


@pytest.mark.parametrize(
    ("code", "action"),
    [
        (200, Action.OK),
        (204, Action.OK),
        (400, Action.REJECT),
        (404, Action.REJECT),
        (422, Action.REJECT),
        (401, Action.AUTH),
        (403, Action.AUTH),
        (429, Action.RATE_LIMITED),
        (500, Action.RETRY),
        (502, Action.RETRY),
        (503, Action.RETRY),
        (504, Action.RETRY),
    ],
)
def test_status_table(code: int, action: Action) -> None:
    assert classify_status(code) is action


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    policy = HttpPolicy(backoff_base=0.5, backoff_cap=3.0)
    assert [backoff_wait(policy, n, rand=lambda: 1.0) for n in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff_wait(policy, 4, rand=lambda: 0.0) == 0.0
    assert 0.0 <= backoff_wait(policy, 3) <= 2.0


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    in_ten = format_datetime(now + timedelta(seconds=10), usegmt=True)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(in_ten, now=now.timestamp) == pytest.approx(10.0)
    assert parse_retry_after(format_datetime(now - timedelta(hours=1), usegmt=True), now=now.timestamp) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def test_session_is_pooled_without_urllib3_retries() -> None:
    adapter = build_session(HttpPolicy(pool_size=7)).get_adapter("https://example.com/")
    assert isinstance(adapter, HTTPAdapter)
    assert adapter.max_retries.total == 0
    assert adapter._pool_maxsize == 7


def test_5xx_is_retried_then_succeeds(app: ScriptedApp, session: requests.Session) -> None:
    app.script = [status(500), status(503)]
    waits: list[float] = []
    with capture_logs() as logs:
        response = send(session, "GET", app.url, policy=POLICY, sleep=waits.append)
    assert response.status_code == 200
    assert len(app.requests) == 3 and len(waits) == 2
    retries = [e for e in logs if e["event"] == "partner_retry"]
    assert [(e["attempt"], e["status"], e["log_level"]) for e in retries] == [(1, 500, "warning"), (2, 503, "warning")]
    assert all(0 <= e["wait"] <= POLICY.backoff_cap for e in retries)


def test_429_waits_as_retry_after_says_capped(app: ScriptedApp, session: requests.Session) -> None:
    # a policy that sleeps through any rate limit (longest_sleep: no limit)
    policy = HttpPolicy(max_attempts=3, backoff_cap=5.0, longest_sleep=math.inf)
    app.script = [status(429, **{"Retry-After": "2"}), status(429, **{"Retry-After": "600"})]
    waits: list[float] = []
    assert send(session, "GET", app.url, policy=policy, sleep=waits.append).status_code == 200
    assert waits == [2.0, 5.0]


def test_a_429_asking_for_a_long_wait_raises_rate_limited_at_once(app: ScriptedApp, session: requests.Session) -> None:
    # given the default rule: a rate limit's wait is slept through up to 5 s
    policy = HttpPolicy(max_attempts=5)
    app.script = [status(429, **{"Retry-After": "3"}), status(429, **{"Retry-After": "240"})]
    waits: list[float] = []
    # when the partner asks for 3 s, then 240 s
    with pytest.raises(RateLimited) as caught:
        send(session, "POST", app.url, policy=policy, sleep=waits.append)
    # then the 3 s were slept, and the 240 s came back to the caller as the wait (a retryable error)
    assert waits == [3.0] and len(app.requests) == 2
    assert caught.value.retry_after == 240.0 and caught.value.status == 429 and caught.value.retryable
    assert isinstance(caught.value, RetryableError)
    assert "240 s" in str(caught.value)


def test_inside_patient_every_rate_limit_is_slept_through(app: ScriptedApp, session: requests.Session) -> None:
    app.script = [status(429, **{"Retry-After": "240"})]
    waits: list[float] = []
    with patient():
        assert send(session, "GET", app.url, policy=HttpPolicy(max_attempts=3), sleep=waits.append).status_code == 200
    assert waits == [30.0]  # the default policy's backoff cap
    app.script = [status(429, **{"Retry-After": "240"})]
    with pytest.raises(RateLimited):  # patience ends with the block
        send(session, "GET", app.url, policy=HttpPolicy(max_attempts=3), sleep=waits.append)


@pytest.mark.parametrize("code", [400, 404, 409, 422])
def test_other_4xx_is_rejected_at_once(app: ScriptedApp, session: requests.Session, code: int) -> None:
    app.script = [status(code)]
    waits: list[float] = []
    with pytest.raises(PartnerRejected) as caught:
        send(session, "POST", app.url, policy=POLICY, sleep=waits.append)
    assert caught.value.status == code and caught.value.value == f"status {code}"
    assert len(app.requests) == 1 and waits == []


@pytest.mark.parametrize("code", [401, 403])
def test_401_403_ask_to_check_credentials(app: ScriptedApp, session: requests.Session, code: int) -> None:
    app.script = [status(code)]
    with pytest.raises(AuthError, match="check the site's credentials"):
        send(session, "GET", app.url, policy=POLICY, sleep=lambda s: None)
    assert len(app.requests) == 1


def test_exhausted_retries_say_what_failed_without_secrets(app: ScriptedApp, session: requests.Session) -> None:
    app.script = [status(502)] * 5
    with capture_logs() as logs, pytest.raises(RetryableError) as caught:
        send(
            session,
            "GET",
            app.url,
            policy=POLICY,
            sleep=lambda s: None,
            params={"signature": SECRET},
            headers={"X-Auth-Signature": SECRET},
        )
    message = str(caught.value)
    assert message == "GET /api/thing failed after 3 attempts (last: HTTP 502)"
    assert caught.value.status == 502
    assert SECRET not in message and SECRET not in repr(logs)
    assert app.requests[0].query["signature"] == SECRET  # it was sent, just never echoed


def test_connection_refused_is_retried_then_retryable() -> None:
    waits: list[float] = []
    with (
        refused_port() as port,
        pytest.raises(RetryableError, match=r"failed after 3 attempts \(last: ConnectionError\)") as caught,
    ):
        send(build_session(POLICY), "GET", f"http://127.0.0.1:{port}/x?key={SECRET}", policy=POLICY, sleep=waits.append)
    assert len(waits) == 2 and SECRET not in str(caught.value)


def test_read_timeout_is_retried(app: ScriptedApp, session: requests.Session) -> None:
    app.script = [HANG]  # no answer: the read timeout fires, and the second attempt is answered
    waits: list[float] = []
    assert send(session, "GET", app.url, policy=POLICY, sleep=waits.append).status_code == 200
    assert len(waits) == 1


# --- writes that are not safe to repeat ------------------------------------------------------


def _cut_short() -> Response:
    """The whole answer announced, half of it sent, the connection closed."""
    return Response(body=b'{"ok": true, "padding": "' + b"x" * 200 + b'"}', truncate=True)


@pytest.mark.parametrize("lost", ["late", "cut short", "dropped"])
def test_a_post_whose_answer_is_lost_is_not_repeated(app: ScriptedApp, session: requests.Session, lost: str) -> None:
    # The server got the POST (and may have done it); its answer is late (past the read timeout),
    # cut short, or never comes
    app.script = [HANG if lost == "late" else _cut_short() if lost == "cut short" else Response(drop=True)]
    waits: list[float] = []
    with capture_logs() as logs, pytest.raises(OutcomeUnknown, match="may have applied it") as caught:
        send(session, "POST", app.url, policy=POLICY, sleep=waits.append, data={"status": "exported"})
    assert len(app.requests) == 1 and waits == []
    assert caught.value.retryable  # a kind of RetryableError: retry later, after asking the partner
    assert [e["event"] for e in logs if e["event"].startswith("partner_")] == ["partner_answer_lost"]


def test_a_post_that_never_reached_the_server_is_retried() -> None:
    waits: list[float] = []
    with (
        refused_port() as port,
        pytest.raises(RetryableError, match=r"failed after 3 attempts \(last: ConnectionError\)") as caught,
    ):
        send(build_session(POLICY), "POST", f"http://127.0.0.1:{port}/x", policy=POLICY, sleep=waits.append)
    assert not isinstance(caught.value, OutcomeUnknown) and len(waits) == 2


def test_a_post_answered_5xx_or_429_is_retried(app: ScriptedApp, session: requests.Session) -> None:
    app.script = [status(503), status(429, **{"Retry-After": "0"})]
    waits: list[float] = []
    assert send(session, "POST", app.url, policy=POLICY, sleep=waits.append).status_code == 200
    assert len(app.requests) == 3 and len(waits) == 2


def test_idempotent_overrides_the_method(app: ScriptedApp, session: requests.Session) -> None:
    # A read that marks what it returns (JOOR sync=1) is a write: not repeated after a lost answer
    app.script = [HANG]
    with pytest.raises(OutcomeUnknown):
        send(session, "GET", app.url, policy=POLICY, sleep=lambda s: None, idempotent=False)
    # An import of absolute counts is safe to repeat, though it is a POST
    app.script = [_cut_short()]
    assert send(session, "POST", app.url, policy=POLICY, sleep=lambda s: None, idempotent=True).status_code == 200
    assert len(app.requests) == 3
