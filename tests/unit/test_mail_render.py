"""Rendering an error report, and the mail transport: .eml files, a real SMTP server, failures.

No database: reports are built by hand. SMTP goes through real aiosmtpd servers on 127.0.0.1.
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
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from core.mail import MailCatcher, MailError, send_message
from core.settings import Settings
from services import problems
from services.notify import (
    CodeCount,
    Report,
    ReportOrder,
    ReportProblem,
    RunOutcome,
    SiteRef,
    fill_in,
    render,
    subject_for,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
SITE = SiteRef(id=7, name="harbor-bb", kind="brandboom", notify_emails=("ops@brand.example", "it@brand.example"))


def settings(home: Path, smtp_url: str = "") -> Settings:
    return Settings(
        BOBBIN_HOME=str(home),
        SMTP_URL=smtp_url,  # type: ignore[call-arg]
        MAIL_FROM="Bobbin Reports <bobbin@brand.example>",
    )


def problem(
    error_id: int,
    code: str,
    *,
    order_id: int,
    value: str | None = None,
    field: str | None = None,
    line_no: int | None = None,
    message: str = "Something is off.",
    new: bool = True,
    age: timedelta = timedelta(hours=1),
) -> ReportProblem:
    k = problems.kind(code)
    return ReportProblem(
        error_id=error_id,
        line_no=line_no,
        code=code,
        severity=k.severity,
        field=field,
        value=value,
        message=message,
        title=k.title,
        resolution=fill_in(k.resolution, order_id=order_id, site_name=SITE.name, value=value),
        first_seen_at=NOW - age,
        new=new,
    )


def sample_report(kind: str = "errors") -> Report:
    o1 = ReportOrder(
        order_id=12,
        partner_order_id="BB-1001",
        po_number="PO-778",
        customer_ref="Harbor Boutique",
        customer_code=None,
        state="invalid",
        order_date=date(2026, 11, 20),
        problems=(
            problem(
                1,
                "customer_unknown",
                order_id=12,
                field="customer",
                value="Harbor Boutique",
                message='Customer "Harbor Boutique" is not an ERP customer.',
                age=timedelta(days=3),
            ),
            problem(
                2,
                "terms_unmapped",
                order_id=12,
                field="terms",
                value="Net 30",
                message='Payment method "Net 30" is not mapped to ERP terms.',
                new=False,
            ),
            problem(
                3,
                "sku_unknown",
                order_id=12,
                field="item",
                line_no=2,
                value="<script>alert(1)</script>",
                message="Line 2: the item is not an ERP SKU.",
            ),
        ),
    )
    o2 = ReportOrder(
        order_id=14,
        partner_order_id="BB-1003",
        po_number=None,
        customer_ref="Pier Supply",
        customer_code="PIER01",
        state="valid",
        order_date=None,
        problems=(
            problem(
                4,
                "address_new",
                order_id=14,
                field="shippingAddress",
                value="9 Dock Rd",
                message="Ship-to 9 Dock Rd is not on file for customer PIER01.",
            ),
        ),
    )
    by_code = (
        CodeCount("customer_unknown", "Customer not in the ERP", "error", 1, 1),
        CodeCount("sku_unknown", "Item not in the ERP", "error", 1, 1),
        CodeCount("terms_unmapped", "Payment terms not mapped", "error", 1, 1),
        CodeCount("address_new", "Ship-to address is new for this customer", "warning", 1, 1),
    )
    last = (
        RunOutcome(
            "failed", NOW - timedelta(hours=2), NOW - timedelta(hours=2), {"downloaded": 4}, "Brandboom answered 503"
        )
        if kind == "digest"
        else None
    )
    return Report(
        kind=kind,
        site=SITE,
        generated_at=NOW,
        orders=(o1, o2),
        total_orders=2,  # type: ignore[arg-type]
        total_problems=4,
        total_errors=3,
        by_code=by_code,
        last_import=last,
    )


def parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert text is not None and html is not None
    return text.get_content(), html.get_content()


# --- rendering -------------------------------------------------------------------------------------


def test_render_builds_a_multipart_alternative_mail_with_headers(tmp_path: Path) -> None:
    msg = render(sample_report(), settings=settings(tmp_path))

    assert msg["Subject"] == '[Bobbin] Brandboom "harbor-bb": 2 orders need attention (4 new problems)'
    assert msg["From"] == "Bobbin Reports <bobbin@brand.example>"
    assert msg["To"] == "ops@brand.example, it@brand.example"
    assert msg["Message-ID"].endswith("@brand.example>")
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]


def test_text_part_reads_as_a_report_per_order(tmp_path: Path) -> None:
    text, _ = parts(render(sample_report(), settings=settings(tmp_path)))

    assert "Bobbin found 4 new problems in 2 orders" in text
    assert "(3 errors, 1 warning)" in text
    assert "Order 12 - Brandboom order BB-1001 - invalid" in text
    assert "PO: PO-778" in text and "Customer: Harbor Boutique (ERP: -)" in text
    assert "Order 14 - Brandboom order BB-1003 - valid" in text
    assert "3. ERROR: Line 2 - Item not in the ERP" in text
    assert "1. WARNING: Ship-to address is new for this customer" in text
    # The catalogue's hint with this order, site and value filled in, and never broken across lines.
    assert "`bobbin orders resolve 12 --customer CODE`" in text
    assert '`bobbin map terms harbor-bb "Net 30" TERMS_CODE`' in text
    assert "Resolution: The order imports." in text
    assert 'Value: "<script>alert(1)</script>"' in text  # plain text: shown as is
    assert text.rstrip().splitlines()[-1].startswith("Sent by Bobbin on 2026-11-23 15:00 UTC")
    tail = text[text.index("To look further") :]
    assert "bobbin orders list --view invalid --site harbor-bb" in tail
    assert "bobbin orders show 12" in text and "bobbin orders show 14" in text
    # Commands and addresses are never broken; the prose is wrapped for a plain mail client.
    assert max(len(line) for line in text.splitlines() if "`" not in line and "://" not in line) <= 80


def test_html_part_escapes_values_and_marks_warnings_apart(tmp_path: Path) -> None:
    _, html = parts(render(sample_report(), settings=settings(tmp_path)))

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script" not in html
    assert "<link" not in html and "src=" not in html  # no external assets
    assert html.count(">ERROR</span>") == 3 and html.count(">WARNING</span>") == 1
    assert "border-left:4px solid #b54708" in html  # the warning row's amber edge
    assert "<code" in html and "bobbin orders resolve 12 --create-customer</code>" in html
    assert "bobbin orders list --view invalid" in html


def test_digest_shows_counts_by_kind_age_and_last_import(tmp_path: Path) -> None:
    report = sample_report("digest")
    msg = render(report, settings=settings(tmp_path))
    text, html = parts(msg)

    assert msg["Subject"] == (
        '[Bobbin] Brandboom "harbor-bb" daily digest: 2 orders still need attention (4 open problems)'
    )
    assert "Open problems by kind" in text
    assert "Customer not in the ERP (customer_unknown) - 1 order" in text
    assert "Ship-to address is new for this customer (address_new, warning)" in text
    assert "Open for 3 days" in text
    assert "Last import: failed, finished 2026-11-23 13:00 UTC (downloaded 4)." in text
    assert "Error: Brandboom answered 503" in text
    assert "Payment terms not mapped" in text and "Payment terms not mapped [new]" not in text
    assert "Customer not in the ERP [new]" in text
    assert "open for <strong" in html and ">NEW</span>" in html


def test_subject_is_singular_for_one_order_and_one_problem() -> None:
    one = sample_report()
    one = Report(
        kind="errors",
        site=SITE,
        generated_at=NOW,
        orders=one.orders[1:],
        total_orders=1,
        total_problems=1,
        total_errors=0,
        by_code=(),
    )
    assert subject_for(one) == '[Bobbin] Brandboom "harbor-bb": 1 order needs attention (1 new problem)'


def test_omitted_orders_are_announced(tmp_path: Path) -> None:
    r = sample_report()
    r = Report(
        kind="errors",
        site=SITE,
        generated_at=NOW,
        orders=r.orders,
        total_orders=5,
        total_problems=9,
        total_errors=8,
        by_code=(),
    )
    text, html = parts(render(r, settings=settings(tmp_path)))
    assert "... and 3 more orders with new problems" in text
    assert "3 more orders" in html


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Net 30", '`bobbin map terms harbor-bb "Net 30" TERMS_CODE`'),
        ('30 "days"', "`bobbin map terms harbor-bb '30 \"days\"' TERMS_CODE`"),
        ("$(rm -rf /)", "`bobbin map terms harbor-bb '$(rm -rf /)' TERMS_CODE`"),
    ],
)
def test_fill_in_quotes_values_for_the_shell(value: str, expected: str) -> None:
    hint = problems.kind("terms_unmapped").resolution
    assert expected in fill_in(hint, order_id=1, site_name="harbor-bb", value=value)


def test_fill_in_leaves_prose_alone() -> None:
    hint = problems.kind("duplicate_po").resolution
    out = fill_in(hint, order_id=31, site_name="s", value="PO-1")
    assert "`bobbin orders reject 31`" in out and "`bobbin orders import 31 --allow-duplicate`" in out
    assert out.startswith("Check both orders. If this one")


# --- transport -------------------------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def read_eml(path: Path) -> EmailMessage:
    msg = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    assert isinstance(msg, EmailMessage)
    return msg


def test_without_smtp_url_the_message_is_written_to_mail_dir(tmp_path: Path) -> None:
    s = settings(tmp_path)
    send_message(render(sample_report(), settings=s), s)

    files = list((tmp_path / "mail").iterdir())
    assert len(files) == 1 and files[0].suffix == ".eml"  # no temp file left behind
    assert read_eml(files[0])["Subject"].startswith("[Bobbin] Brandboom")


def test_mail_catcher_writes_what_it_receives(tmp_path: Path) -> None:
    with MailCatcher(tmp_path / "caught", port=0) as catcher:
        assert catcher.port > 0
        s = settings(tmp_path, catcher.url)
        send_message(render(sample_report(), settings=s), s)
    (eml,) = (tmp_path / "caught").glob("*.eml")
    msg = read_eml(eml)
    assert msg["X-Bobbin-Envelope-To"] == "ops@brand.example, it@brand.example"
    assert "BB-1001" in parts(msg)[0]


def test_closed_port_raises_mail_error_without_the_password(tmp_path: Path) -> None:
    s = settings(tmp_path, f"smtp://bob:Sup3r%2Fsecret@127.0.0.1:{closed_port()}")
    with pytest.raises(MailError) as err:
        send_message(render(sample_report(), settings=s), s)
    assert "Cannot connect to the SMTP server 127.0.0.1" in str(err.value)
    assert "Sup3r" not in str(err.value)


class _Collect:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope.original_content)
        return "250 OK"


@pytest.fixture()
def auth_server() -> Iterator[tuple[int, _Collect]]:
    """An SMTP server that wants a login: user "bob", password "p@ss/word" (percent-encoded in URLs)."""

    def check(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> AuthResult:
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b"bob", b"p@ss/word")
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535

    handler = _Collect()
    port = closed_port()
    ctl = Controller(handler, hostname="127.0.0.1", port=port, authenticator=check, auth_require_tls=False)
    ctl.start()
    yield port, handler
    ctl.stop()


def test_credentials_in_the_url_are_percent_decoded(tmp_path: Path, auth_server: tuple[int, _Collect]) -> None:
    port, handler = auth_server
    s = settings(tmp_path, f"smtp://bob:p%40ss%2Fword@127.0.0.1:{port}")
    send_message(render(sample_report(), settings=s), s)
    assert len(handler.messages) == 1


def test_refused_login_says_so_without_the_password(tmp_path: Path, auth_server: tuple[int, _Collect]) -> None:
    port, handler = auth_server
    s = settings(tmp_path, f"smtp://bob:wrong-horse-battery@127.0.0.1:{port}")
    with pytest.raises(MailError) as err:
        send_message(render(sample_report(), settings=s), s)
    assert "refused the login for user 'bob'" in str(err.value)
    assert "wrong-horse" not in str(err.value) and handler.messages == []


def test_login_on_a_server_without_auth_asks_for_tls(tmp_path: Path) -> None:
    with MailCatcher(tmp_path / "caught") as catcher:
        s = settings(tmp_path, f"smtp://bob:hunter2hunter2@127.0.0.1:{catcher.port}")
        with pytest.raises(MailError) as err:
            send_message(render(sample_report(), settings=s), s)
    assert "smtp+starttls://" in str(err.value) and "hunter2" not in str(err.value)
