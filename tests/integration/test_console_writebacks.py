"""The console's Writebacks page over plain HTTP (no browser), and ``bobbin writebacks list|retry``.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
demo's Brandboom site reads and writes the Brandboom sandbox over HTTP. Each test imports the
demo's orders and sends their "exported" (as the import's own flush does); then a status change is
made to fail for real — the sandbox's fault injection answers the POST with errors until the tries
run out, refuses it, or cuts its answer short — and the page, its retry and the sandbox's own
record of what it received are checked. Written given / when / then.
"""

from __future__ import annotations

import html
import json
import logging
import os
import random
import re
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from connectors.http import DEFAULT_POLICY
from tests.console_app import Served, actions, add_user, hidden, sign_in

pytestmark = pytest.mark.integration

SITE = "brandboom-demo"
HTTP_ATTEMPTS = DEFAULT_POLICY.max_attempts  # one failed writeback try = the HTTP layer's whole retry budget


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def fast_http_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The HTTP layer's real retry loop, with a backoff of at most 20 ms instead of seconds."""
    import connectors.http as http

    real = http.backoff_wait
    tiny = http.HttpPolicy(backoff_base=0.005, backoff_cap=0.02)
    monkeypatch.setattr(http, "backoff_wait", lambda policy, attempt, rand=random.random: real(tiny, attempt, rand))


@pytest.fixture()
def max_attempts() -> Iterator[int]:
    """WRITEBACK_MAX_ATTEMPTS=2 for this test (the setting is read at each failure)."""
    from core.settings import get_settings

    old = os.environ.get("WRITEBACK_MAX_ATTEMPTS")
    os.environ["WRITEBACK_MAX_ATTEMPTS"] = "2"
    get_settings.cache_clear()
    yield 2
    if old is None:
        os.environ.pop("WRITEBACK_MAX_ATTEMPTS", None)
    else:
        os.environ["WRITEBACK_MAX_ATTEMPTS"] = old
    get_settings.cache_clear()


@pytest.fixture()
def imported(db: str, sandbox: Any, fast_http_retries: None) -> list[tuple[int, str]]:
    """The demo site on the sandbox, imported, its "exported" sent: (order id, partner order id) of
    each imported order."""
    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import InboundOrder, Site
    from services import writeback
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    with session_scope() as s:
        site_id = int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))
    assert import_site_orders(site_id)["imported"] >= 4
    writeback.flush()
    with session_scope() as s:
        orders = [
            (oid, pid)
            for oid, pid in s.execute(
                select(InboundOrder.id, InboundOrder.partner_order_id)
                .where(InboundOrder.site_id == site_id, InboundOrder.state == "imported")
                .order_by(InboundOrder.id)
            )
        ]
    assert len([c for c in sandbox.status_changes() if c["status"] == "exported"]) == len(orders)
    return orders


# --- helpers ---------------------------------------------------------------------------------------


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def flash_of(page: str) -> tuple[str, str]:
    m = re.search(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', page, re.S)
    assert m, "the page shows no message"
    return m.group(1), html.unescape(m.group(2))


def rows_of(page: str) -> dict[int, str]:
    """writeback id -> the text of its row, for the rows a Writebacks page lists."""
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0] if "<tbody>" in page else ""
    return {int(i): text_of(row) for i, row in re.findall(r'<tr id="writeback-(\d+)">(.*?)</tr>', body, re.S)}


def form_fields(page: str, action: str) -> dict[str, str]:
    m = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', page, re.S)
    assert m, f"no form for {action} in the page"
    return {
        name: html.unescape(value)
        for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', m.group(1))
    }


def outbox(order_id: int, status: str) -> Any:
    from core.db import session_scope
    from models import OutboxEntry

    with session_scope() as s:
        return s.scalars(
            select(OutboxEntry).where(OutboxEntry.inbound_order_id == order_id, OutboxEntry.status == status)
        ).one()


def make_due(outbox_id: int) -> None:
    """Time passes: the row's backoff is over."""
    from core.db import session_scope
    from models import OutboxEntry

    with session_scope() as s:
        s.execute(update(OutboxEntry).where(OutboxEntry.id == outbox_id).values(next_attempt_at=func.now()))


def received(sandbox: Any, partner_order_id: str, status: str) -> int:
    """How many times the sandbox accepted ``status`` for the order (its own record)."""
    return sum(1 for c in sandbox.status_changes() if c["order_id"] == partner_order_id and c["status"] == status)


def refused_dead(sandbox: Any, order_id: int, partner_order_id: str, status: str = "shipped") -> int:
    """A ``status`` writeback the sandbox refused (HTTP 400): dead after one try. Its outbox id."""
    from core.db import session_scope
    from services import writeback

    with session_scope() as s:
        assert writeback.mark(s, [order_id], status).queued == [order_id]
    sandbox.inject_fault(status=400, count=1, path=f"/orders/{partner_order_id}")
    row = outbox(order_id, status)
    writeback.flush(outbox_ids=[row.id])
    row = outbox(order_id, status)
    assert (row.state, row.attempts) == ("dead", 1), (row.state, row.attempts)
    return int(row.id)


def retry_post(client: requests.Session, url: str, **data: Any) -> requests.Response:
    page = client.get(f"{url}/writebacks", params={"site": SITE, "state": "dead"}, timeout=30)
    return client.post(
        f"{url}/writebacks/retry",
        data={"csrf_token": hidden(page.text), "back": f"/writebacks?site={SITE}", **data},
        timeout=60,
    )


# --- the page and its retry --------------------------------------------------------------------------


def test_a_writeback_that_gave_up_is_listed_and_sent_again_once(
    web: Served, imported: list[tuple[int, str]], sandbox: Any, max_attempts: int
) -> None:
    from core.db import session_scope
    from services import writeback
    from services.orders import order_history

    add_user("olivia", "operator")
    add_user("victor", "viewer")
    operator, viewer = sign_in(web.url, "olivia"), sign_in(web.url, "victor")
    order_id, pid = imported[0]
    # Given Brandboom answering 500 to every POST of the order, for every try the outbox may make
    sandbox.inject_fault(status=500, count=HTTP_ATTEMPTS * max_attempts, path=f"/orders/{pid}")
    # when the operator marks it shipped from its page, then the send fails and waits for its next try
    page = operator.get(f"{web.url}/orders/{order_id}", timeout=30).text
    marked = operator.post(
        f"{web.url}/orders/{order_id}/mark",
        data={**form_fields(page, f"/orders/{order_id}/mark"), "status": "shipped"},
        timeout=60,
    )
    assert f"{order_id} retrying (" in flash_of(marked.text)[1] and "HTTP 500" in flash_of(marked.text)[1]
    row_id = int(outbox(order_id, "shipped").id)
    # and the pending tab lists it with its try, the next one and the partner's message
    pending = viewer.get(f"{web.url}/writebacks", params={"site": SITE, "state": "pending"}, timeout=30)
    assert pending.status_code == 200
    shown = rows_of(pending.text)[row_id]
    assert f"{SITE}:{pid}" in shown and "shipped" in shown and "HTTP 500" in shown
    # when its next try is due and the scheduled flush fails too, it gives up (WRITEBACK_MAX_ATTEMPTS=2)
    make_due(row_id)
    writeback.flush()
    assert (outbox(order_id, "shipped").state, outbox(order_id, "shipped").attempts) == ("dead", 2)

    # Then the viewer sees it on the dead tab: the order linked, the change, 2 tries, Brandboom's message
    dead = viewer.get(f"{web.url}/writebacks", params={"site": SITE, "state": "dead"}, timeout=30)
    assert dead.status_code == 200
    assert list(rows_of(dead.text)) == [row_id]
    shown = rows_of(dead.text)[row_id]
    assert f'<a href="/orders/{order_id}">{SITE}:{pid}</a>' in dead.text
    assert re.search(rf"{row_id} {SITE}:{pid} #{order_id} shipped 2 ", shown), shown
    assert "HTTP 500" in shown
    assert "Dead (1)" in text_of(dead.text) and "Showing 1–1 of 1 writeback" in dead.text
    # but no button to send it again, and a retry posted anyway is refused, changing nothing
    assert "Send again" not in dead.text and 'name="writeback"' not in dead.text
    refused = viewer.post(
        f"{web.url}/writebacks/retry", data={"csrf_token": hidden(dead.text), "retry": str(row_id)}, timeout=30
    )
    assert refused.status_code == 403 and "it needs operator" in refused.text
    assert outbox(order_id, "shipped").state == "dead" and actions("retry_writeback") == []
    # and the dashboard's alarm links to the dead writebacks of the site
    board = viewer.get(f"{web.url}/", timeout=30).text
    assert f'href="/writebacks?site={SITE}&amp;state=dead"' in board

    # When Brandboom is healthy again and the operator sends it again from the page
    sandbox.faults.clear()
    assert received(sandbox, pid, "shipped") == 0
    page = operator.get(f"{web.url}/writebacks", params={"site": SITE, "state": "dead"}, timeout=30)
    assert f'<button type="submit" name="retry" value="{row_id}">Send again' in page.text
    answer = operator.post(
        f"{web.url}/writebacks/retry",
        data={**form_fields(page.text, "/writebacks/retry"), "retry": str(row_id)},
        timeout=60,
    )

    # Then the page says it was sent, Brandboom received it exactly once, and the row is sent
    assert answer.status_code == 200 and answer.url == f"{web.url}/writebacks?site={SITE}"
    assert flash_of(answer.text) == ("info", f'Sent 1 writeback again: {row_id} ("shipped" of {SITE}:{pid}) sent.')
    assert received(sandbox, pid, "shipped") == 1
    row = outbox(order_id, "shipped")
    assert (row.state, row.attempts, row.last_error) == ("sent", 1, None)
    assert rows_of(answer.text) == {} and "No dead writebacks on brandboom-demo." in answer.text
    sent = viewer.get(f"{web.url}/writebacks", params={"site": SITE, "state": "sent"}, timeout=30)
    assert row_id in rows_of(sent.text)
    # recorded with who asked, and shown in the order's history
    [action] = actions("retry_writeback")
    assert (action["actor"], action["order_id"], action["detail"]["outbox_id"]) == ("olivia", order_id, row_id)
    assert "HTTP 500" in action["detail"]["last_error"]
    with session_scope() as s:
        history = [(e["who"], e["what"]) for e in order_history(s, order_id)]
    assert ("olivia", 'sent "shipped" again (it had given up after 2 tries)') in history, history

    # When it is sent again once more (a second click, an old page): refused, nothing sent
    again = retry_post(operator, web.url, retry=str(row_id))
    kind, message = flash_of(again.text)
    assert kind == "error"
    assert message.startswith(f'Not sent again: Writeback {row_id} ("shipped" of order {order_id}, {SITE}:{pid})')
    assert "was sent already" in message and "nothing to send again" in message
    assert received(sandbox, pid, "shipped") == 1 and len(actions("retry_writeback")) == 1


def test_a_writeback_that_is_not_dead_is_not_sent_again(
    web: Served, imported: list[tuple[int, str]], sandbox: Any
) -> None:
    from core.db import session_scope
    from services import writeback

    add_user("olivia", "operator")
    operator = sign_in(web.url, "olivia")
    (order_id, pid), (other_id, other_pid) = imported[0], imported[1]
    # Given a "paid" writeback waiting for its first try (queued, not flushed)
    with session_scope() as s:
        writeback.mark(s, [order_id], "paid")
    waiting = int(outbox(order_id, "paid").id)
    # and a "shipped" one whose answer was cut short: Brandboom may have it, nobody knows
    with session_scope() as s:
        writeback.mark(s, [other_id], "shipped")
    uncertain = int(outbox(other_id, "shipped").id)
    sandbox.faults.inject(f"truncate:method=POST,path=/orders/{other_pid}@1st")
    writeback.flush(outbox_ids=[uncertain])
    assert outbox(other_id, "shipped").sending_since is not None

    # When the uncertain tab is opened, then it says what is not known
    page = operator.get(f"{web.url}/writebacks", params={"state": "uncertain"}, timeout=30)
    assert list(rows_of(page.text)) == [uncertain]
    assert "outcome of try 1 is not known" in rows_of(page.text)[uncertain]
    assert "Send again" not in page.text  # only dead rows are sent again
    # when an operator posts a retry of each anyway (an old page, a crafted form)
    answer = retry_post(operator, web.url, writeback=[str(waiting), str(uncertain), "999999"])

    # Then each is refused with the reason, and nothing was sent or changed
    kind, message = flash_of(answer.text)
    assert kind == "error" and message.startswith("Not sent again: ")
    assert f'Writeback {waiting} ("paid" of order {order_id}, {SITE}:{pid}) is not dead: it is pending' in message
    assert f"Writeback {uncertain} (" in message and "the outcome of try 1 is not known" in message
    assert "There is no writeback 999999." in message
    assert received(sandbox, pid, "paid") == 0
    assert (outbox(order_id, "paid").state, outbox(order_id, "paid").attempts) == ("pending", 0)
    assert outbox(other_id, "shipped").attempts == 1 and actions("retry_writeback") == []
    # and nothing at all selected is said too
    empty = retry_post(operator, web.url)
    assert flash_of(empty.text)[0] == "error" and "Select the writebacks to send again" in flash_of(empty.text)[1]


def test_two_operators_sending_the_same_dead_writeback_at_once_send_it_once(
    web: Served, imported: list[tuple[int, str]], sandbox: Any
) -> None:
    add_user("olivia", "operator")
    add_user("oscar", "operator")
    order_id, pid = imported[0]
    # Given a "shipped" writeback Brandboom refused, and Brandboom then answering a little slowly
    row_id = refused_dead(sandbox, order_id, pid)
    sandbox.inject_fault(delay=0.3, count=100, path=f"/orders/{pid}")
    clients = [sign_in(web.url, "olivia"), sign_in(web.url, "oscar")]
    pages = [c.get(f"{web.url}/writebacks", params={"state": "dead"}, timeout=30).text for c in clients]

    # When both press "Send again" on it at the same moment
    barrier = threading.Barrier(2)
    answers: list[requests.Response] = []

    def press(client: requests.Session, page: str) -> None:
        barrier.wait(10)
        answers.append(
            client.post(
                f"{web.url}/writebacks/retry",
                data={**form_fields(page, "/writebacks/retry"), "retry": str(row_id)},
                timeout=60,
            )
        )

    threads = [threading.Thread(target=press, args=pair) for pair in zip(clients, pages, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    sandbox.faults.clear()

    # Then Brandboom received it once: one of them sent it, the other was told it is not dead any more
    assert received(sandbox, pid, "shipped") == 1
    messages = sorted(flash_of(a.text) for a in answers)
    assert len(messages) == 2
    assert [m for m in messages if m[0] == "info"] == [
        ("info", f'Sent 1 writeback again: {row_id} ("shipped" of {SITE}:{pid}) sent.')
    ]
    [(_, refusal)] = [m for m in messages if m[0] == "error"]
    assert refusal.startswith(f"Not sent again: Writeback {row_id} "), refusal
    assert outbox(order_id, "shipped").state == "sent" and len(actions("retry_writeback")) == 1


def test_a_selection_of_dead_writebacks_is_sent_again(
    web: Served, imported: list[tuple[int, str]], sandbox: Any
) -> None:
    add_user("olivia", "operator")
    operator = sign_in(web.url, "olivia")
    (a, a_pid), (b, b_pid), (c, c_pid) = imported[:3]
    # Given three refused writebacks, one of which Brandboom still refuses
    dead = [refused_dead(sandbox, oid, pid, "void") for oid, pid in ((a, a_pid), (b, b_pid), (c, c_pid))]
    sandbox.inject_fault(status=400, count=1, path=f"/orders/{c_pid}")
    page = operator.get(f"{web.url}/writebacks", params={"site": SITE}, timeout=30)
    assert sorted(rows_of(page.text)) == sorted(dead) and "Dead (3)" in text_of(page.text)
    # when all three are ticked and sent again
    answer = operator.post(
        f"{web.url}/writebacks/retry",
        data={**form_fields(page.text, "/writebacks/retry"), "writeback": [str(i) for i in dead]},
        timeout=60,
    )
    # then two are sent, the third gave up again with Brandboom's message, each said
    kind, message = flash_of(answer.text)
    assert kind == "error" and message.startswith("Sent 3 writebacks again: ")
    assert f'{dead[0]} ("void" of {SITE}:{a_pid}) sent' in message
    assert f'{dead[1]} ("void" of {SITE}:{b_pid}) sent' in message
    assert f'{dead[2]} ("void" of {SITE}:{c_pid}) gave up again (' in message
    assert [received(sandbox, pid, "void") for pid in (a_pid, b_pid, c_pid)] == [1, 1, 0]
    assert list(rows_of(answer.text)) == [dead[2]]
    assert [x["order_id"] for x in actions("retry_writeback")] == [a, b, c]


def test_a_dead_writeback_whose_answer_was_lost_is_read_back_not_sent_twice(
    web: Served, imported: list[tuple[int, str]], sandbox: Any
) -> None:
    from core.settings import get_settings

    add_user("olivia", "operator")
    operator = sign_in(web.url, "olivia")
    order_id, pid = imported[0]
    # Given WRITEBACK_MAX_ATTEMPTS=1 and a "shipped" whose answer Brandboom cut short after applying it:
    # it gave up with its outcome unknown
    from core.db import session_scope
    from services import writeback

    os.environ["WRITEBACK_MAX_ATTEMPTS"] = "1"
    get_settings.cache_clear()
    try:
        with session_scope() as s:
            writeback.mark(s, [order_id], "shipped")
        sandbox.faults.inject(f"truncate:method=POST,path=/orders/{pid}@1st")
        writeback.flush(outbox_ids=[outbox(order_id, "shipped").id])
    finally:
        os.environ.pop("WRITEBACK_MAX_ATTEMPTS", None)
        get_settings.cache_clear()
    row = outbox(order_id, "shipped")
    assert (row.state, row.sending_since is not None) == ("dead", True)
    assert received(sandbox, pid, "shipped") == 1
    # when the operator sends it again
    answer = retry_post(operator, web.url, retry=str(row.id))
    # then Brandboom is asked first, has it, and it is not sent a second time
    assert flash_of(answer.text) == (
        "info",
        f'Sent 1 writeback again: {row.id} ("shipped" of {SITE}:{pid}) sent ({writeback.ALREADY_APPLIED}).',
    )
    assert received(sandbox, pid, "shipped") == 1
    assert outbox(order_id, "shipped").state == "sent"


def test_a_bad_address_is_said_in_one_line(web: Served, imported: list[tuple[int, str]]) -> None:
    add_user("victor", "viewer")
    viewer = sign_in(web.url, "victor")
    for params, words in (
        ({"state": "lost"}, "There is no writeback state 'lost': use pending, uncertain, held, dead, sent."),
        ({"site": "nowhere"}, "No site 'nowhere'; sites: brandboom-demo."),
        ({"page": "x"}, "Page 'x' is not a page number."),
    ):
        page = viewer.get(f"{web.url}/writebacks", params=params, timeout=30)
        assert page.status_code == 400 and words in text_of(page.text), (params, text_of(page.text)[:600])
        assert "Traceback" not in page.text


# --- the command line ------------------------------------------------------------------------------------


class _CurrentStderr:
    """sys.stderr as it is at write time (CliRunner swaps it per command)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()

    def isatty(self) -> bool:
        return False


@pytest.fixture()
def cli_logging() -> Iterator[None]:
    """Logs as `bobbin` (main()) sets them up: warnings only, on stderr, so stdout stays clean JSON."""
    import structlog

    from core.logging import configure

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    configure(level="WARNING", fmt="console", stream=_CurrentStderr())
    structlog.configure(cache_logger_on_first_use=False)
    yield
    structlog.reset_defaults()
    structlog.configure(**saved)
    root.handlers[:] = handlers
    root.setLevel(level)


def test_cli_lists_dead_writebacks_and_sends_one_again(
    imported: list[tuple[int, str]], sandbox: Any, cli_logging: None
) -> None:
    from bobbin.cli.main import app

    def bobbin(*args: str) -> Any:
        return CliRunner().invoke(app, list(args), env={"COLUMNS": "200"})

    order_id, pid = imported[0]
    row_id = refused_dead(sandbox, order_id, pid)
    # When the dead writebacks are listed, then the row is there with Brandboom's refusal
    listed = bobbin("writebacks", "list", SITE, "--state", "dead", "--json")
    assert listed.exit_code == 0, listed.output
    data = json.loads(listed.stdout)
    assert data["counts"]["dead"] == 1 and data["total"] == 1
    [w] = data["writebacks"]
    assert (w["id"], w["order"], w["status"], w["attempts"]) == (row_id, f"{SITE}:{pid}", "shipped", 1)
    assert "400" in w["last_error"]
    table = bobbin("writebacks", "list")
    assert table.exit_code == 0 and f"{SITE}:{pid}" in table.stdout and "bobbin writebacks retry ID" in table.stdout
    # when it is sent again, then Brandboom gets it once and the command says so
    sent = bobbin("writebacks", "retry", str(row_id))
    assert sent.exit_code == 0, sent.output
    assert "sent" in sent.stdout and received(sandbox, pid, "shipped") == 1
    [action] = actions("retry_writeback")
    assert action["actor"].startswith("cli") and action["order_id"] == order_id and action["user_id"] is None
    # when it is sent again a second time, then it is refused in one line, exit 1, nothing sent
    again = bobbin("writebacks", "retry", str(row_id), "--json")
    assert again.exit_code == 1
    assert "was sent already" in json.loads(again.stdout)["refused"][str(row_id)]
    assert received(sandbox, pid, "shipped") == 1
    # and an unknown state or site is a usage error or one line
    assert bobbin("writebacks", "list", "--state", "lost").exit_code == 2
    nowhere = bobbin("writebacks", "list", "nowhere")
    assert nowhere.exit_code == 1 and "no site 'nowhere'" in nowhere.output
