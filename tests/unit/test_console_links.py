"""The console's addresses in e-mails: the base URL setting and the paths (``services.links``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from services import links


def settings(home: Path, **env: object) -> Settings:
    return Settings(BOBBIN_HOME=home, **env)  # type: ignore[arg-type]


def test_console_url_is_the_setting_else_the_request_else_the_local_address(tmp_path: Path) -> None:
    local = settings(tmp_path, CONSOLE_BASE_URL="", WEB_PORT=8123)
    assert local.console_url() == "http://127.0.0.1:8123"
    assert local.console_url("https://proxy.example/") == "https://proxy.example"
    given = settings(tmp_path, CONSOLE_BASE_URL="https://bobbin.example.com/", WEB_PORT=8123)
    assert given.console_url() == "https://bobbin.example.com"
    assert given.console_url("http://127.0.0.1:8123/") == "https://bobbin.example.com"


def test_paths_and_their_values_are_encoded() -> None:
    c = links.Console("https://b.example")
    assert c.dashboard() == "https://b.example/" and c.dashboard(3) == "https://b.example/#site-3"
    assert c.order(12) == "https://b.example/orders/12"
    assert c.order(12, problem_id=5) == "https://b.example/orders/12#problem-5"
    assert c.order("my site:A/1#2") == "https://b.example/orders/my%20site:A%2F1%232"
    assert (
        c.holding("a&b", "invalid", "sku_unknown")
        == "https://b.example/holding?site=a%26b&view=invalid&code=sku_unknown"
    )
    assert c.holding("s") == "https://b.example/holding?site=s"  # "all" is the page's default
    assert c.mappings("s t") == "https://b.example/mappings?site=s+t"
    assert c.writebacks("s", "dead") == "https://b.example/writebacks?site=s&state=dead"


@pytest.mark.parametrize(
    ("code", "label", "url"),
    [
        ("terms_unmapped", "Map it in the console", "https://b.example/mappings?site=s"),
        ("sales_rep_unknown", "Map it in the console", "https://b.example/mappings?site=s"),
        ("customer_unknown", "Fix it in the console", "https://b.example/orders/9#problem-4"),
        ("duplicate_po", "Fix it in the console", "https://b.example/orders/9#problem-4"),
        ("sku_unknown", "Open it in the console", "https://b.example/orders/9#problem-4"),
    ],
)
def test_each_problem_links_to_where_it_is_fixed(code: str, label: str, url: str) -> None:
    assert links.Console("https://b.example").fix(code, site="s", order_id=9, problem_id=4) == links.Link(label, url)


def test_the_view_is_the_one_of_the_orders_common_state() -> None:
    assert links.view_for(["invalid"]) == "invalid"
    assert links.view_for(["duplicate", "duplicate"]) == "duplicated"
    assert links.view_for(["invalid", "valid"]) == "all"
    assert links.view_for([]) == "all"
