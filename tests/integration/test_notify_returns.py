"""A returns site's error e-mail end to end: the Loop sandbox over HTTP, real Postgres, a real SMTP
server (the ``smtp`` fixture).

Given Loop returns polled into Bobbin (one made into an RMA, one whose SKU the ERP does not know),
when the site's error report is sent, then the mail that arrives lists each return with its Loop
id, Shopify order and RMA, each problem with what to do and a link to the return's console page,
and speaks of no orders (a Loop site has none); each problem is reported once, and the daily digest
lists what is still open.
"""

from __future__ import annotations

from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bobbin.demo_sites import LOOP_DEMO_SITE
from core.db import session_scope
from core.settings import get_settings
from models import InboundReturn, ReturnError, Rma, Site
from models.orders import ErrorReport, ReportedError
from sandbox.loop.server import LoopSandbox
from services.notify import digest_report, new_errors_report, send_error_report
from services.returns import import_site_returns

pytestmark = pytest.mark.integration

UNKNOWN_SKU = "NOPE-404"


@pytest.fixture()
def polled(loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]) -> dict[str, Any]:
    """Two returns polled: ``good`` made into an RMA (its Shopify order is not in the ERP: a
    warning), ``bad`` invalid (its second line's SKU is not in the ERP: an error, and the warning)."""
    good = loop.create_return(lines=loop_catalog[:2])
    bad = loop.create_return(lines=[loop_catalog[2], {**loop_catalog[3], "sku": UNKNOWN_SKU}])
    summary = import_site_returns(loop_site)
    assert (summary["rmas_created"], summary["returns_invalid"]) == (1, 1)
    return {"site_id": loop_site, "good": held(good["id"]), "bad": held(bad["id"])}


def held(loop_id: int) -> dict[str, Any]:
    with session_scope() as s:
        r = s.scalars(select(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id))).one()
        rma = s.scalar(select(Rma.number).where(Rma.inbound_return_id == r.id))
        codes = s.scalars(
            select(ReturnError.code).where(ReturnError.return_id == r.id, ReturnError.resolved_at.is_(None))
        ).all()
        return {"id": r.id, "loop_id": str(loop_id), "order_name": r.order_name, "rma": rma, "codes": sorted(codes)}


def send(loop_site: int, kind: str = "errors") -> dict[str, Any]:
    with session_scope() as s:
        return send_error_report(s, loop_site, kind=kind)  # type: ignore[arg-type]


def part(msg: Message, content_type: str) -> str:
    found = next(p for p in msg.walk() if p.get_content_type() == content_type)
    payload = found.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode(found.get_content_charset() or "utf-8")


def keep(msg: Message, directory: Path) -> tuple[str, str]:
    """The mail's text and HTML, also written beside the test's files for a person to read."""
    text, html = part(msg, "text/plain"), part(msg, "text/html")
    (directory / "mail.txt").write_text(text, encoding="utf-8")
    (directory / "mail.html").write_text(html, encoding="utf-8")
    return text, html


def flat(text: str) -> str:
    """The text with its line breaks and runs of spaces as one space (wrapped prose reads whole)."""
    return " ".join(text.split())


def return_url(return_id: int) -> str:
    return f"{get_settings().console_url()}/returns/{return_id}"


# --- when / then -----------------------------------------------------------------------------------


def test_the_report_lists_each_return_with_its_problems_what_to_do_and_its_page(
    polled: dict[str, Any], smtp: Any, tmp_path: Path
) -> None:
    good, bad = polled["good"], polled["bad"]
    assert good["codes"] == ["order_unknown"] and bad["codes"] == ["order_unknown", "sku_unknown"]
    assert good["rma"] and bad["rma"] is None

    # When the site's error report is sent
    summary = send(polled["site_id"])

    # then one mail arrives, about returns
    assert summary["sent"] is True
    assert (summary["orders"], summary["errors"], summary["returns"], summary["return_problems"]) == (0, 0, 2, 3)
    [msg] = smtp.wait_for(1)
    assert msg["Subject"] == f'[Bobbin] Loop Returns "{LOOP_DEMO_SITE}": 2 returns need attention (3 new problems)'
    assert msg["To"] == "returns@harborandpine.example"
    text, html = keep(msg, tmp_path)

    # each return under its heading, with its Loop id, Shopify order, RMA and console page
    assert "Bobbin found 3 new problems in 2 returns" in text and "(1 error, 2 warnings)" in text
    for r in (good, bad):
        assert f"Return {r['id']} - Loop Returns id {r['loop_id']} - " in text
        assert f"Shopify order: {r['order_name']}" in text
        assert f"In the console: {return_url(r['id'])}" in text
        assert f"With the CLI:   bobbin returns show {r['id']}" in text
        assert f'href="{return_url(r["id"])}"' in html
    assert f"RMA: {good['rma']}" in text and "RMA: none yet" in text
    assert (
        f"Return {bad['id']} - Loop Returns id {bad['loop_id']} - invalid (a problem keeps it from becoming an RMA)"
        in text
    )

    # each problem with its message, as a sentence, and what to do
    assert "2. ERROR: Line 2 - Returned item not in the ERP" in text
    assert f'Field: sku   Value: "{UNKNOWN_SKU}"' in text
    assert f"Line 2: SKU {UNKNOWN_SKU} is not in the ERP; load it" in flat(text)
    assert "Resolution: Load the SKU into the ERP with `bobbin erp load styles FILE`" in flat(text)
    assert "1. WARNING: Original order not in the ERP" in text
    assert "Resolution: This does not stop the return: its RMA is made without the original order." in flat(text)
    assert f"{get_settings().console_url()}/returns?site={LOOP_DEMO_SITE}&state=invalid" in text
    assert f"bobbin returns list --state invalid --site {LOOP_DEMO_SITE}" in text

    # and nothing about orders the site does not have
    for order_words in (
        "bobbin orders",
        "Invalid orders",
        "/holding",
        "/orders/",
        "order needs",
        "orders need",
        "Order ",
    ):
        assert order_words not in text and order_words not in html

    # and every problem it carried is marked as reported, by that mail
    with session_scope() as s:
        report = s.scalars(select(ErrorReport)).one()
        assert (report.kind, report.order_count, report.error_count) == ("errors", 0, 3)
        marks = s.scalars(select(ReturnError.report_id).where(ReturnError.resolved_at.is_(None))).all()
        assert marks == [report.id] * 3
        assert s.scalar(select(func.count()).select_from(ReportedError)) == 0


def test_each_return_problem_is_reported_once(
    polled: dict[str, Any], loop: LoopSandbox, loop_catalog: list[dict[str, Any]], smtp: Any
) -> None:
    loop_site = polled["site_id"]
    send(loop_site)

    # When the report is sent again with nothing new, then no mail goes out
    assert send(loop_site) == {"sent": False, "reason": "nothing new"}
    with session_scope() as s:
        assert new_errors_report(s, loop_site) is None

    # When another bad return comes in, then the next mail carries it alone
    third = loop.create_return(lines=[{**loop_catalog[4], "sku": "GONE-1"}])
    assert import_site_returns(loop_site)["new_errors"] == 2
    summary = send(loop_site)
    assert (summary["returns"], summary["return_problems"]) == (1, 2)
    latest = smtp.wait_for(2)[-1]
    assert latest["Subject"] == f'[Bobbin] Loop Returns "{LOOP_DEMO_SITE}": 1 return needs attention (2 new problems)'
    text = part(latest, "text/plain")
    assert f"Loop Returns id {third['id']}" in text and "GONE-1" in text
    assert f"Loop Returns id {polled['bad']['loop_id']}" not in text and UNKNOWN_SKU not in text
    assert len(smtp.messages) == 2


def test_a_site_without_recipients_marks_nothing(polled: dict[str, Any], smtp: Any) -> None:
    with session_scope() as s:
        site = s.get_one(Site, polled["site_id"])
        site.notify_emails = []

    summary = send(polled["site_id"])

    assert summary == {
        "sent": False,
        "reason": "no recipients",
        "orders": 0,
        "errors": 0,
        "returns": 2,
        "return_problems": 3,
    }
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(ReturnError).where(ReturnError.report_id.is_not(None))) == 0
    assert smtp.messages == []


def test_the_digest_lists_open_return_problems_but_not_settled_ones(
    polled: dict[str, Any], loop: LoopSandbox, loop_catalog: list[dict[str, Any]], smtp: Any, tmp_path: Path
) -> None:
    loop_site, good, bad = polled["site_id"], polled["good"], polled["bad"]
    send(loop_site)  # everything reported once
    # Given a new invalid return never reported, and a return cancelled in Loop (void: nothing to do)
    fresh = loop.create_return(lines=[{**loop_catalog[5], "sku": "GONE-2"}])
    gone = loop.create_return(lines=[{**loop_catalog[6], "sku": "GONE-3"}])
    import_site_returns(loop_site)
    loop.update_return(gone["id"], {"state": "cancelled"})
    assert import_site_returns(loop_site)["voided"] == 1

    # When the digest is sent
    summary = send(loop_site, "digest")

    # then it lists the invalid returns' problems, new ones marked, and leaves out the warning of the
    # return that has its RMA and the void return
    assert summary["sent"] is True and summary["returns"] == 2
    digest = smtp.wait_for(2)[-1]
    assert digest["Subject"] == (
        f'[Bobbin] Loop Returns "{LOOP_DEMO_SITE}" daily digest: 2 returns still need attention (4 open problems)'
    )
    text, _ = keep(digest, tmp_path)
    assert f"Loop Returns id {bad['loop_id']}" in text and f"Loop Returns id {fresh['id']}" in text
    assert f"Loop Returns id {good['loop_id']}" not in text and f"Loop Returns id {gone['id']}" not in text
    assert "Open return problems by kind" in text
    assert "Returned item not in the ERP (sku_unknown) - 2 returns" in text
    assert "Returned item not in the ERP [new]" in text
    assert "Open for " in text and "Last returns import: ok, finished" in text
    for order_words in ("bobbin orders", "Invalid orders", "/holding", "/orders/", "Open problems by kind"):
        assert order_words not in text
    with session_scope() as s:
        # a digest marks nothing
        assert s.scalar(select(func.count()).select_from(ReturnError).where(ReturnError.report_id.is_(None))) == 4
        assert digest_report(s, loop_site) is not None
