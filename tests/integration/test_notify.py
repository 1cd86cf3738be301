"""Error reports end to end: real Postgres (the ``session`` fixture), a real SMTP server (MailCatcher).

Given orders with open errors in the holding area, when a report is sent, then the mail that arrives
says what is wrong with each order and what to do, and the errors are marked so that the next report
only carries new ones.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.orm import Session
from structlog.testing import capture_logs

from core.mail import MailCatcher, MailError
from core.settings import Settings
from models.orders import ErrorReport, InboundOrder, OrderError, ReportedError
from models.runs import SyncRun
from models.sites import Site
from services.notify import digest_report, new_errors_report, send_error_report

CREDENTIALS = "gAAAAA-never-in-a-mail-7f3a9c"
RECIPIENTS = ["ops@brand.example", "it@brand.example"]


# --- given -----------------------------------------------------------------------------------------


@pytest.fixture()
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "caught", port=0) as c:
        yield c


def settings_for(tmp_path: Path, smtp_url: str = "") -> Settings:
    return Settings(
        BOBBIN_HOME=str(tmp_path / "home"),
        SMTP_URL=smtp_url,  # type: ignore[call-arg]
        MAIL_FROM="Bobbin <bobbin@brand.example>",
    )


@pytest.fixture()
def smtp_settings(tmp_path: Path, catcher: MailCatcher) -> Settings:
    return settings_for(tmp_path, catcher.url)


def add_site(session: Session, name: str = "harbor-bb", emails: list[str] | None = None) -> Site:
    site = Site(
        name=name,
        kind="brandboom",
        base_url="https://sandbox.example",
        credentials_encrypted=CREDENTIALS,
        notify_emails=RECIPIENTS if emails is None else emails,
    )
    session.add(site)
    session.flush()
    return site


def add_order(
    session: Session,
    site: Site,
    partner_id: str,
    *,
    state: str = "invalid",
    po: str | None = None,
    customer: str | None = None,
    errors: list[dict[str, Any]] = (),
) -> InboundOrder:  # type: ignore[assignment]
    order = InboundOrder(
        site_id=site.id,
        partner_order_id=partner_id,
        raw={"id": partner_id},
        raw_hash="0" * 64,
        state=state,
        po_number=po,
        customer_ref=customer,
        order_date=date(2026, 11, 20),
    )
    session.add(order)
    session.flush()
    for e in errors:
        add_error(session, order, **e)
    return order


def add_error(
    session: Session,
    order: InboundOrder,
    code: str,
    message: str,
    *,
    field: str | None = None,
    value: str | None = None,
    line_no: int | None = None,
    severity: str = "error",
    first_seen_at: datetime | None = None,
) -> OrderError:
    err = OrderError(
        order_id=order.id, code=code, message=message, field=field, value=value, line_no=line_no, severity=severity
    )
    if first_seen_at:
        err.first_seen_at = first_seen_at
    session.add(err)
    session.flush()
    return err


@pytest.fixture()
def world(session: Session) -> dict[str, Any]:
    """Three orders of "harbor-bb" with five open problems, and another site's order (never in its mail)."""
    site = add_site(session)
    o1 = add_order(
        session,
        site,
        "BB-1001",
        po="PO-778",
        customer="Harbor Boutique",
        errors=[
            dict(
                code="customer_unknown",
                field="customer",
                value="Harbor Boutique",
                message='Customer "Harbor Boutique" is not an ERP customer and is not mapped to one.',
                first_seen_at=datetime.now(UTC) - timedelta(days=3),
            ),
            dict(
                code="terms_unmapped",
                field="terms",
                value="Net 30",
                message='Payment method "Net 30" is not mapped to ERP terms.',
            ),
            dict(
                code="sku_unknown",
                field="item",
                value="<script>alert(1)</script>",
                line_no=2,
                message="Line 2: the item is not an ERP SKU.",
            ),
        ],
    )
    o2 = add_order(
        session,
        site,
        "BB-1002",
        po="PO-779",
        customer="Pier Supply",
        errors=[
            dict(
                code="quantity_invalid",
                field="quantity",
                value="-2",
                line_no=1,
                message="Line 1: quantity -2 is not a positive whole number.",
            ),
        ],
    )
    o3 = add_order(
        session,
        site,
        "BB-1003",
        state="valid",
        customer="Dock & Co",
        errors=[
            dict(
                code="address_new",
                field="shippingAddress",
                value="9 Dock Rd",
                severity="warning",
                message="Ship-to 9 Dock Rd is not on file for customer DOCK01.",
            ),
        ],
    )
    other = add_site(session, name="other-joor")
    add_order(session, other, "J-1", errors=[dict(code="terms_unmapped", message="Other site's problem.")])
    session.commit()
    return {"site": site, "orders": (o1, o2, o3)}


def received(directory: Path) -> list[EmailMessage]:
    out = []
    for path in sorted(directory.glob("*.eml")):
        msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def body(msg: EmailMessage, kind: str) -> str:
    part = msg.get_body((kind,))
    assert part is not None
    return str(part.get_content())


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


# --- when / then -----------------------------------------------------------------------------------


def test_new_errors_report_is_sent_grouped_by_order(
    session: Session, world: dict[str, Any], catcher: MailCatcher, smtp_settings: Settings
) -> None:
    site = world["site"]
    summary = send_error_report(session, site.id, settings=smtp_settings)

    assert summary["sent"] is True and summary["orders"] == 3 and summary["errors"] == 5
    assert summary["recipients"] == RECIPIENTS
    (msg,) = received(catcher.directory)
    assert msg["Subject"] == '[Bobbin] Brandboom "harbor-bb": 3 orders need attention (5 new problems)'
    assert msg["To"] == ", ".join(RECIPIENTS)
    assert msg["Message-ID"]
    assert msg.get_content_type() == "multipart/alternative"

    text = body(msg, "plain")
    o1, o2, o3 = world["orders"]
    for order, partner_id in ((o1, "BB-1001"), (o2, "BB-1002"), (o3, "BB-1003")):
        assert f"Order {order.id} - Brandboom order {partner_id}" in text
        assert f"bobbin orders show {order.id}" in text
    assert text.index("BB-1001") < text.index("Customer not in the ERP") < text.index("BB-1002")
    assert f"`bobbin orders resolve {o1.id} --customer CODE`" in text  # customer_unknown
    assert '`bobbin map terms harbor-bb "Net 30" TERMS_CODE`' in text  # terms_unmapped
    assert "`bobbin erp load styles FILE`" in text  # sku_unknown
    assert "Resolution: Correct the quantity on the partner" in text  # quantity_invalid
    assert "1. WARNING: Ship-to address is new for this customer" in text  # address_new
    assert "3. ERROR: Line 2 - Item not in the ERP" in text
    assert "bobbin orders list --view invalid" in text
    assert "Other site's problem" not in text

    html = body(msg, "html")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script" not in html
    raw = b"".join(p.read_bytes() for p in catcher.directory.glob("*.eml"))
    assert CREDENTIALS.encode() not in raw

    report = session.scalars(select(ErrorReport)).one()
    assert (report.kind, report.order_count, report.error_count, report.recipients) == ("errors", 3, 5, RECIPIENTS)
    assert count(session, ReportedError) == 5


def test_an_error_is_reported_once_then_only_new_ones(
    session: Session, world: dict[str, Any], catcher: MailCatcher, smtp_settings: Settings
) -> None:
    site = world["site"]
    send_error_report(session, site.id, settings=smtp_settings)

    assert send_error_report(session, site.id, settings=smtp_settings) == {"sent": False, "reason": "nothing new"}
    assert len(received(catcher.directory)) == 1

    _, o2, _ = world["orders"]
    add_error(
        session,
        o2,
        "price_invalid",
        "Line 3: price -5 is missing, negative or too large.",
        field="price",
        value="-5",
        line_no=3,
    )
    session.commit()
    summary = send_error_report(session, site.id, settings=smtp_settings)

    assert summary["sent"] is True and (summary["orders"], summary["errors"]) == (1, 1)
    latest = received(catcher.directory)[-1]
    assert latest["Subject"] == '[Bobbin] Brandboom "harbor-bb": 1 order needs attention (1 new problem)'
    text = body(latest, "plain")
    assert "BB-1002" in text and "Price missing or negative" in text
    assert "BB-1001" not in text and "Quantity is not a positive number" not in text
    assert count(session, ReportedError) == 6


def test_digest_lists_every_open_problem_but_not_resolved_or_settled(
    session: Session, world: dict[str, Any], catcher: MailCatcher, smtp_settings: Settings
) -> None:
    site = world["site"]
    o1, o2, _ = world["orders"]
    send_error_report(session, site.id, settings=smtp_settings)  # everything reported once
    session.execute(update(OrderError).where(OrderError.order_id == o2.id).values(resolved_at=func.now()))
    add_order(
        session,
        site,
        "BB-1004",
        state="imported",
        errors=[dict(code="address_new", severity="warning", message="Old imported order's warning.")],
    )
    add_error(
        session,
        o1,
        "ship_via_unmapped",
        'Shipping method "Pigeon" is not mapped.',
        field="shippingOption",
        value="Pigeon",
    )  # open, never reported
    session.add(
        SyncRun(
            task="import_orders", site_id=site.id, outcome="ok", counts={"downloaded": 4}, finished_at=datetime.now(UTC)
        )
    )
    session.commit()

    summary = send_error_report(session, site.id, kind="digest", settings=smtp_settings)

    assert summary["sent"] is True and (summary["orders"], summary["errors"]) == (2, 5)
    digest = received(catcher.directory)[-1]
    assert digest["Subject"] == (
        '[Bobbin] Brandboom "harbor-bb" daily digest: 2 orders still need attention (5 open problems)'
    )
    text = body(digest, "plain")
    assert "BB-1001" in text and "BB-1003" in text
    assert "BB-1002" not in text  # its only error was resolved
    assert "BB-1004" not in text  # imported: nothing left to do
    assert "Customer not in the ERP (customer_unknown) - 1 order" in text
    assert "Shipping method not mapped [new]" in text and "Customer not in the ERP [new]" not in text
    assert "Open for 3 days" in text
    assert "Last import: ok, finished" in text and "(downloaded 4)" in text
    assert session.scalars(select(ErrorReport.kind).order_by(ErrorReport.id)).all() == ["errors", "digest"]
    assert count(session, ReportedError) == 5  # a digest marks nothing


def test_smtp_down_raises_and_marks_nothing(
    session: Session, world: dict[str, Any], tmp_path: Path, catcher: MailCatcher, smtp_settings: Settings
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    down = settings_for(tmp_path, f"smtp://bob:pw-123456@127.0.0.1:{dead_port}")

    with pytest.raises(MailError) as err:
        send_error_report(session, world["site"].id, settings=down)

    assert "Cannot connect to the SMTP server" in str(err.value) and "pw-123456" not in str(err.value)
    assert count(session, ErrorReport) == 0 and count(session, ReportedError) == 0
    # The next run (server back) reports everything.
    assert send_error_report(session, world["site"].id, settings=smtp_settings)["errors"] == 5


def test_without_smtp_url_the_report_is_written_to_mail_dir(
    session: Session, world: dict[str, Any], tmp_path: Path
) -> None:
    local = settings_for(tmp_path)
    summary = send_error_report(session, world["site"].id, settings=local)

    assert summary["sent"] is True
    (msg,) = received(local.mail_dir)
    assert msg["Subject"].startswith('[Bobbin] Brandboom "harbor-bb": 3 orders')
    assert count(session, ReportedError) == 5


def test_site_without_recipients_warns_and_marks_nothing(
    session: Session, smtp_settings: Settings, catcher: MailCatcher
) -> None:
    site = add_site(session, name="quiet", emails=[])
    add_order(session, site, "Q-1", errors=[dict(code="terms_unmapped", message="x")])
    session.commit()

    with capture_logs() as logs:
        summary = send_error_report(session, site.id, settings=smtp_settings)

    assert summary == {"sent": False, "reason": "no recipients", "orders": 1, "errors": 1}
    assert any(e["log_level"] == "warning" and "no notify e-mail" in e["event"] for e in logs)
    assert count(session, ReportedError) == 0 and received(catcher.directory) == []


def test_a_concurrent_run_skips_instead_of_mailing_twice(
    session: Session, world: dict[str, Any], db: str, catcher: MailCatcher, smtp_settings: Settings
) -> None:
    from core.db import engine_for

    site_id = world["site"].id
    with Session(engine_for(db)) as other:
        other.execute(text("SELECT pg_advisory_xact_lock(hashtext('bobbin.notify.errors'), :s)"), {"s": site_id})
        summary = send_error_report(session, site_id, settings=smtp_settings)
        other.rollback()

    assert summary["sent"] is False and "being sent" in summary["reason"]
    assert received(catcher.directory) == []
    assert send_error_report(session, site_id, settings=smtp_settings)["sent"] is True


def test_reports_are_built_in_a_fixed_number_of_queries(session: Session, world: dict[str, Any], db: str) -> None:
    site = world["site"]
    for i in range(20):  # more orders must not mean more queries
        add_order(session, site, f"BULK-{i}", errors=[dict(code="sku_unknown", line_no=1, message="x")])
    session.commit()
    statements: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", seen)
    try:
        report = new_errors_report(session, site.id)
        assert report is not None and report.total_orders == 23
        # the site, the problems, the refused catalog items, dead writebacks, dead tasks, held
        # writebacks, the last run's drift
        assert len(statements) == 7
        statements.clear()
        assert digest_report(session, site.id) is not None
        assert len(statements) == 8  # ... and the last import run
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert all("credentials" not in s for s in statements)
