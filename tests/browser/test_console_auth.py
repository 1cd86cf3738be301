"""The operator console in a real browser (Playwright driving Chromium): signing in and out, the
rate limit, a viewer refused a change, a form without its CSRF token refused, the keyboard.

Each test opens a fresh browser context (no cookies) on the real app under uvicorn; accounts and
the demo site are in the test Postgres, queued tasks are read from the test Redis.
Written given / when / then.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.chromium import INSTALL_HINT, find_chromium, playwright_missing
from tests.console_app import PASSWORD, Served, actions, add_user, queued

if playwright_missing():
    pytest.skip(str(playwright_missing()), allow_module_level=True)
if find_chromium() is None:
    pytest.skip(INSTALL_HINT, allow_module_level=True)

from playwright.sync_api import expect  # only once Playwright is known to be there

pytestmark = pytest.mark.integration


def sign_in(page: Any, web: Served, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{web.url}/login")
    page.get_by_label("Name").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_operator_signs_in_and_sees_the_dashboard_with_the_demo_site(
    page: Any, web: Served, demo_site: int, fresh: Any
) -> None:
    # Given an operator; when they open the console
    add_user("olivia", "operator")
    page.goto(f"{web.url}/")
    # then they are asked to sign in first
    expect(page).to_have_url(f"{web.url}/login")
    expect(page.get_by_role("heading", name="Sign in to Bobbin")).to_be_visible()
    # when they sign in
    sign_in(page, web, "olivia")
    # then the dashboard shows the demo site, its views and the buttons an operator may press
    expect(page).to_have_url(f"{web.url}/")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    site = page.get_by_role("region", name="brandboom-demo")
    expect(site.get_by_role("heading", name="brandboom-demo")).to_be_visible()
    expect(site.get_by_text("Brandboom", exact=True)).to_be_visible()
    expect(site.get_by_role("table")).to_contain_text("Invalid")
    expect(site.get_by_role("button", name="Import now")).to_be_visible()
    expect(site.get_by_role("button", name="Push inventory")).to_be_visible()
    # and the navigation an operator has (Sites is for admins), and who is signed in
    nav = page.get_by_role("navigation", name="Main")
    expect(nav.get_by_role("link", name="Holding area")).to_be_visible()
    expect(nav.get_by_role("link", name="Sites")).to_have_count(0)
    expect(page.get_by_text("Signed in as olivia")).to_be_visible()
    # and no script or style was refused (htmx loads under the Content-Security-Policy)
    assert page.errors == []


def test_wrong_password_is_refused_and_the_sixth_failure_is_rate_limited(page: Any, web: Served, fresh: Any) -> None:
    # Given an account; when a wrong password is typed
    add_user("olivia", "operator")
    sign_in(page, web, "olivia", "not the password")
    # then the form says so, keeps the name, and nobody is signed in
    expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    expect(page.get_by_label("Name")).to_have_value("olivia")
    # when four more wrong passwords follow, and then the right one
    for _ in range(4):
        sign_in(page, web, "olivia", "still not it")
        expect(page.get_by_role("alert")).to_have_text("Wrong name or password.")
    sign_in(page, web, "olivia")
    # then the sixth try is refused for a while, right password or not
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    expect(page).to_have_url(f"{web.url}/login")
    assert actions("login") == []


def test_viewer_pressing_import_now_is_refused_and_nothing_is_queued(
    page: Any, web: Served, demo_site: int, fresh: Any
) -> None:
    # Given a signed-in viewer on the dashboard
    add_user("victor", "viewer")
    sign_in(page, web, "victor")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # when they press "Import now"
    with page.expect_response(re.compile(rf"/sites/{demo_site}/import$")) as answer:
        page.get_by_role("region", name="brandboom-demo").get_by_role("button", name="Import now").click()
    # then the 403 page says why
    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_text("Your role (viewer) cannot do this: it needs operator.")).to_be_visible()
    # and nothing was queued or recorded
    assert queued(fresh.conf.broker_url) == []
    assert actions("import") == []


def test_a_form_posted_without_its_csrf_token_is_refused(page: Any, web: Served, demo_site: int, fresh: Any) -> None:
    # Given a signed-in operator
    add_user("olivia", "operator")
    sign_in(page, web, "olivia")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # when the "Import now" form is sent without its hidden token (removed from the page)
    site = page.get_by_role("region", name="brandboom-demo")
    site.locator('form[action$="/import"] input[name="csrf_token"]').evaluate("input => input.remove()")
    with page.expect_response(re.compile(rf"/sites/{demo_site}/import$")) as answer:
        site.get_by_role("button", name="Import now").click()
    # then it is refused with the 403 page
    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    # and a post made with the session's cookie but no form token is refused as well
    direct = page.request.post(f"{web.url}/sites/{demo_site}/import", form={"csrf_token": ""})
    assert direct.status == 403
    # and nothing was queued or recorded
    assert queued(fresh.conf.broker_url) == []
    assert actions("import") == []


def test_operator_import_now_shows_queued_and_the_page_polls_it(
    page: Any, web: Served, demo_site: int, fresh: Any
) -> None:
    # Given a signed-in operator (no worker runs: the task stays queued)
    add_user("olivia", "operator")
    sign_in(page, web, "olivia")
    site = page.get_by_role("region", name="brandboom-demo")
    # when they press "Import now"
    site.get_by_role("button", name="Import now").click()
    # then the dashboard says it is queued, by whom
    expect(page.get_by_role("status")).to_have_text("An import of brandboom-demo is queued.")
    expect(site.locator(".work")).to_contain_text("Import now asked by olivia")
    expect(site.locator(".work .state")).to_have_text("queued")
    # and the page asks for the state again by itself (htmx), without a reload
    with page.expect_request(re.compile(rf"/sites/{demo_site}/work$"), timeout=10_000):
        pass
    assert [m["task"] for m in queued(fresh.conf.broker_url)] == ["tasks.orders.import_orders"]
    assert page.errors == []


def test_sign_out_ends_the_session(page: Any, web: Served, fresh: Any) -> None:
    # Given a signed-in operator
    add_user("olivia", "operator")
    sign_in(page, web, "olivia")
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    # when they sign out
    page.get_by_role("button", name="Sign out").click()
    # then they are told so, and the dashboard asks for signing in again
    expect(page.get_by_role("status")).to_have_text("You are signed out.")
    page.goto(f"{web.url}/")
    expect(page).to_have_url(f"{web.url}/login")
    assert [a["action"] for a in actions()][-2:] == ["login", "logout"]


def test_keyboard_reaches_the_sign_in_fields_in_order_and_enter_submits(page: Any, web: Served, fresh: Any) -> None:
    # Given the sign-in page just opened (nothing has the focus)
    add_user("olivia", "operator")
    page.goto(f"{web.url}/login")

    def focused() -> str:
        return str(
            page.evaluate(
                "(() => { const e = document.activeElement;"
                " return e.id || e.getAttribute('name') || e.className || e.textContent.trim(); })()"
            )
        )

    # when Tab is pressed from the top of the page, it goes: skip link, home link, name, password, button
    order = []
    for _ in range(5):
        page.keyboard.press("Tab")
        order.append(focused())
    assert order == ["skip-link", "brand", "username", "password", "Sign in"]
    # when the skip link is followed, the content has the focus, and Tab goes on to the name
    page.goto(f"{web.url}/login")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert focused() == "main"
    page.keyboard.press("Tab")
    assert focused() == "username"
    # when the name and password are typed, and Enter is pressed in the password field
    page.keyboard.type("olivia")
    page.keyboard.press("Tab")
    assert focused() == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    # then the form is sent and the dashboard opens
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
