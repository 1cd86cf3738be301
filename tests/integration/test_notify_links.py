"""The e-mails lead to the console: real Postgres, a real SMTP server (MailCatcher), and the real app
under uvicorn (tests/console_app.py).

Given orders with open problems, when the error report (or the digest, or a silence alarm) is sent,
then the mail that arrives links each order to its console page, each problem to the page where it
is fixed, and the holding area's views and the dashboard beside the CLI commands — under
``CONSOLE_BASE_URL``, or the local address of ``bobbin web`` when it is unset — and a link taken
from the mail opens that page for a person signed in.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import update
from sqlalchemy.orm import Session

from core.mail import MailCatcher
from core.settings import Settings
from models.sites import Site
from services.notify import send_error_report
from services.reconcile import reconcile
from tests.console_app import Served, add_user, sign_in
from tests.integration.test_notify import add_order, add_site, received
from tests.integration.test_notify import body as _body

pytestmark = pytest.mark.integration

BASE = "https://bobbin.example.com"
TRICKY = 'Tom & Jerry\'s "East" <1>'  # a site name that must be escaped in HTML and encoded in a URL
TRICKY_QUERY = "site=Tom+%26+Jerry%27s+%22East%22+%3C1%3E"


class _Anchors(HTMLParser):
    """The links of an HTML part: (address as a browser reads it, the words clicked on)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self._href: str | None = None
        self._words: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._href, self._words = dict(attrs).get("href") or "", []

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            self._words.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._href is not None:
            self.links.append((self._href, " ".join("".join(self._words).split())))
            self._href = None


def anchors(html: str) -> dict[str, str]:
    """Each link's words -> its address (unescaped, as a mail client follows it)."""
    parser = _Anchors()
    parser.feed(html)
    return {words: href for href, words in parser.links}


def body(msg: Any, kind: str) -> str:
    """A part's text with the mail's CRLF line ends read back as newlines."""
    return _body(msg, kind).replace("\r\n", "\n")


def settings(tmp_path: Path, smtp_url: str, base: str = BASE, web_port: int = 8800) -> Settings:
    return Settings(
        BOBBIN_HOME=tmp_path / "home",
        SMTP_URL=smtp_url,
        MAIL_FROM="Bobbin <bobbin@brand.example>",
        CONSOLE_BASE_URL=base,
        WEB_PORT=web_port,
    )


@pytest.fixture()
def catcher(tmp_path: Path) -> Iterator[MailCatcher]:
    with MailCatcher(tmp_path / "caught", port=0) as c:
        yield c


@pytest.fixture()
def held(session: Session) -> dict[str, Any]:
    """A site whose name needs escaping, with an invalid order (unknown customer, unmapped terms) and
    a duplicate."""
    site = add_site(session, name=TRICKY)
    invalid = add_order(
        session,
        site,
        "BB-2001",
        po="PO-900",
        customer="Harbor Boutique",
        errors=[
            dict(
                code="customer_unknown",
                field="customer",
                value="Harbor Boutique",
                message='Customer "Harbor Boutique" is not an ERP customer and is not mapped to one.',
            ),
            dict(code="terms_unmapped", field="terms", value="Net 30", message='"Net 30" is not mapped.'),
        ],
    )
    duplicate = add_order(
        session,
        site,
        "BB-2002",
        state="duplicate",
        po="PO-900",
        errors=[dict(code="duplicate_po", field="po", value="PO-900", message="Same PO as order BB-2001.")],
    )
    session.commit()
    return {"site": site, "invalid": invalid, "duplicate": duplicate}


def test_the_report_links_each_order_problem_and_view_under_console_base_url(
    session: Session, held: dict[str, Any], catcher: MailCatcher, tmp_path: Path
) -> None:
    site, order, dup = held["site"], held["invalid"], held["duplicate"]
    assert send_error_report(session, site.id, settings=settings(tmp_path, catcher.url))["sent"] is True

    (msg,) = received(catcher.directory)
    text, html = body(msg, "plain"), body(msg, "html")
    order_url = f"{BASE}/orders/{order.id}"

    # The plain text: each order's page beside its command, each fix where it is made, the views.
    block = text[text.index(f"Order {order.id} - ") :]
    assert f"  In the console: {order_url}\n  With the CLI:   bobbin orders show {order.id}\n" in block
    fixes = re.findall(r"^ {5}(\w[\w ]+ in the console): (\S+)$", text, re.M)
    labels = [label for label, _ in fixes]
    urls = [re.sub(r"#problem-\d+$", "#problem-N", url) for _, url in fixes]
    assert labels == ["Fix it in the console", "Map it in the console", "Fix it in the console"]
    assert urls == [
        f"{order_url}#problem-N",  # customer_unknown: picked or created on the order's page
        f"{BASE}/mappings?{TRICKY_QUERY}",  # terms_unmapped: the site's mappings
        f"{BASE}/orders/{dup.id}#problem-N",  # duplicate_po: imported anyway or rejected on its page
    ]
    further = text[text.index("To look further") :]
    assert f"{BASE}/holding?{TRICKY_QUERY}&view=invalid\n" in further
    assert "bobbin orders list --view invalid --site 'Tom & Jerry'\"'\"'s \"East\" <1>'" in further
    assert f"{BASE}/holding?{TRICKY_QUERY}&view=duplicated\n" in further
    assert f"{BASE}/holding?{TRICKY_QUERY}&view=invalid&code=customer_unknown\n" in further
    assert f"{BASE}/holding?{TRICKY_QUERY}&view=duplicated&code=duplicate_po\n" in further
    assert f"{BASE}/#site-{site.id}\n    bobbin status" in further

    # The HTML: the same addresses, escaped once (a browser reads back exactly the URL).
    links = anchors(html)
    assert links[f"Order {order.id}"] == order_url
    assert links[f"Open order {order.id} in the console"] == order_url
    assert links["Map it in the console"] == f"{BASE}/mappings?{TRICKY_QUERY}"
    assert links["Invalid orders"] == f"{BASE}/holding?{TRICKY_QUERY}&view=invalid"
    assert links["Duplicated orders"] == f"{BASE}/holding?{TRICKY_QUERY}&view=duplicated"
    assert links['Orders with "Customer not in the ERP"'] == (
        f"{BASE}/holding?{TRICKY_QUERY}&view=invalid&code=customer_unknown"
    )
    assert links[f"{TRICKY} on the dashboard"] == f"{BASE}/#site-{site.id}"
    assert f'href="{BASE}/holding?{TRICKY_QUERY}&amp;view=invalid"' in html
    assert all(not re.search(r"&(?!amp;|#)", href) for href in re.findall(r'href="([^"]*)"', html))
    assert "Tom &amp; Jerry&#39;s &#34;East&#34; &lt;1&gt; on the dashboard" in html
    assert TRICKY not in html  # never unescaped
    assert f"bobbin orders show {order.id}</code>" in html


def test_without_console_base_url_links_use_the_local_address_of_bobbin_web(
    session: Session, held: dict[str, Any], catcher: MailCatcher, tmp_path: Path
) -> None:
    site, order = held["site"], held["invalid"]

    send_error_report(session, site.id, kind="digest", settings=settings(tmp_path, catcher.url, base="", web_port=8899))

    (msg,) = received(catcher.directory)
    local = f"http://127.0.0.1:8899/orders/{order.id}"
    assert f"  In the console: {local}\n" in body(msg, "plain")
    assert anchors(body(msg, "html"))[f"Order {order.id}"] == local
    assert "bobbin.example.com" not in body(msg, "plain") + body(msg, "html")


def test_dead_writebacks_in_the_report_link_to_the_writebacks_and_the_dashboard(
    session: Session, held: dict[str, Any], catcher: MailCatcher, tmp_path: Path
) -> None:
    from models import OutboxEntry

    site, order = held["site"], held["invalid"]
    session.add(
        OutboxEntry(site_id=site.id, inbound_order_id=order.id, status="shipped", state="dead", last_error="refused")
    )
    session.commit()

    send_error_report(session, site.id, settings=settings(tmp_path, catcher.url))

    (msg,) = received(catcher.directory)
    text = body(msg, "plain")
    assert "GAVE UP: 1 status change" in text
    assert f"  Status changes that gave up: {BASE}/writebacks?{TRICKY_QUERY}&state=dead\n" in text
    assert f"  The site on the console's dashboard: {BASE}/#site-{site.id}\n" in text
    links = anchors(body(msg, "html"))
    assert links["status changes that gave up"] == f"{BASE}/writebacks?{TRICKY_QUERY}&state=dead"
    assert links[f"See {TRICKY} on the console\u2019s dashboard"] == f"{BASE}/#site-{site.id}"


def test_the_silence_alarm_links_to_the_dashboard(
    session: Session, catcher: MailCatcher, tmp_path: Path, db: str
) -> None:
    site = add_site(session, name="harbor-bb")
    session.execute(update(Site).where(Site.id == site.id).values(created_at=datetime.now(UTC) - timedelta(hours=3)))
    session.commit()

    result = reconcile(settings=settings(tmp_path, catcher.url))

    assert result["alarms_mailed"] == [site.id]
    (msg,) = received(catcher.directory)
    assert "ALARM" in msg["Subject"]
    text = str(msg.get_content()).replace("\r\n", "\n")
    assert f"The site on the console's dashboard:\n  {BASE}/#site-{site.id}\n" in text
    assert text.index(f"{BASE}/#site-") < text.index("  bobbin status")


# --- a link from the mail opens its page --------------------------------------------------------------


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


def test_links_from_the_mail_open_their_pages(
    web: Served, session: Session, held: dict[str, Any], catcher: MailCatcher, tmp_path: Path
) -> None:
    site, order, dup = held["site"], held["invalid"], held["duplicate"]
    send_error_report(session, site.id, settings=settings(tmp_path, catcher.url, base=web.url))
    (msg,) = received(catcher.directory)
    links = anchors(body(msg, "html"))
    add_user("olga", "operator")
    client: requests.Session = sign_in(web.url, "olga")

    page = client.get(links[f"Order {order.id}"], timeout=30)

    assert page.status_code == 200 and page.url == f"{web.url}/orders/{order.id}"
    assert f"<h1>Order {order.id} " in page.text and "BB-2001" in page.text
    assert "Customer not in the ERP" in page.text
    fix = re.search(
        rf"Fix it in the console: ({re.escape(web.url)}/orders/{order.id}#problem-(\d+))", body(msg, "plain")
    )
    assert fix is not None and f'id="problem-{fix.group(2)}"' in page.text  # the fix's anchor is on the page

    invalid = client.get(links["Invalid orders"], timeout=30)
    assert invalid.status_code == 200
    listed = re.findall(r'<a href="/orders/(\d+)">', invalid.text)
    assert listed == [str(order.id)]  # the site's invalid view, found by its escaped name
    duplicates = client.get(links['Orders with "Same customer PO as another order"'], timeout=30)
    assert re.findall(r'<a href="/orders/(\d+)">', duplicates.text) == [str(dup.id)]

    dashboard = client.get(links[f"{TRICKY} on the dashboard"], timeout=30)
    assert dashboard.status_code == 200 and f'id="site-{site.id}"' in dashboard.text
