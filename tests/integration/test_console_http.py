"""The operator console's rules over plain HTTP (no browser): signing in and out, the rate limit,
CSRF on every form, roles, the dashboard and the work started from it, error pages.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
Celery queue is read from Redis, and one test lets a real worker run the import it queued. These
run with or without Chromium; tests/browser drives the same rules through a real browser.
Written given / when / then.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from tests.console_app import PASSWORD, Served, actions, add_user, hidden, queued, sign_in
from tests.integration.conftest import wait_until

pytestmark = pytest.mark.integration

IMPORT_TASK = "tasks.orders.import_orders"
PUSH_TASK = "tasks.inventory.push_inventory"


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def fresh(db: str, celery_app: Any) -> Any:
    """An empty database and an empty Redis (no session, no queued task, no failure counted)."""
    return celery_app


@pytest.fixture()
def demo_site(fresh: Any, sandbox: Any) -> int:
    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import Site

    load_demo(sandbox.url)
    with session_scope() as s:
        return int(s.scalar(select(Site.id).where(Site.name == DEMO_SITE)))


def login_form(web: Served, client: requests.Session) -> str:
    return hidden(client.get(f"{web.url}/login", timeout=10).text)


def try_login(web: Served, client: requests.Session, username: str, password: str) -> requests.Response:
    token = login_form(web, client)
    return client.post(
        f"{web.url}/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=30,
    )


# --- signing in -----------------------------------------------------------------------------------


def test_a_page_asks_for_sign_in_first_and_comes_back_after(web: Served, fresh: Any) -> None:
    # Given an operator account; when someone not signed in opens the dashboard
    add_user("olivia", "operator")
    client = requests.Session()
    answer = client.get(f"{web.url}/holding?view=invalid", allow_redirects=False, timeout=10)
    # then they are sent to the sign-in form, which remembers where they were going
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=%2Fholding%3Fview%3Dinvalid"
    form = client.get(web.url + answer.headers["location"], timeout=10)
    assert form.status_code == 200 and 'name="next" value="/holding?view=invalid"' in form.text
    # and signing in goes there
    signed = client.post(
        f"{web.url}/login",
        data={
            "username": "olivia",
            "password": PASSWORD,
            "csrf_token": hidden(form.text),
            "next": "/holding?view=invalid",
        },
        timeout=30,
    )
    assert signed.status_code == 200 and signed.url == f"{web.url}/holding?view=invalid"
    # and the sign-in is recorded with the account
    [login] = actions("login")
    assert login["actor"] == "olivia" and login["user_id"] is not None


def test_session_cookie_is_signed_httponly_samesite(web: Served, fresh: Any) -> None:
    add_user("olivia", "operator")
    client = requests.Session()
    answer = try_login(web, client, "olivia", PASSWORD)
    assert answer.status_code == 303
    cookie = answer.headers["set-cookie"]
    assert "bobbin_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http here; see the https test below
    # a tampered cookie is no session
    value = client.cookies["bobbin_session"]
    tampered = requests.get(
        f"{web.url}/", cookies={"bobbin_session": value[:-2] + "xx"}, allow_redirects=False, timeout=10
    )
    assert tampered.status_code == 303 and tampered.headers["location"] == "/login"


def test_cookie_is_secure_when_the_console_is_https(web: Served, fresh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import get_settings

    monkeypatch.setenv("CONSOLE_BASE_URL", "https://bobbin.brand.example")
    get_settings.cache_clear()
    try:
        answer = requests.get(f"{web.url}/login", timeout=10)
        assert "bobbin_login=" in answer.headers["set-cookie"] and "Secure" in answer.headers["set-cookie"]
    finally:
        monkeypatch.delenv("CONSOLE_BASE_URL")
        get_settings.cache_clear()


def test_wrong_password_is_refused_and_the_sixth_failure_is_rate_limited(web: Served, fresh: Any) -> None:
    # Given an account; when a wrong password is typed
    add_user("olivia", "operator")
    client = requests.Session()
    answer = try_login(web, client, "olivia", "not the password")
    # then the form comes back with the message and the name kept, and no session
    assert answer.status_code == 401
    assert "Wrong name or password." in answer.text and 'value="olivia"' in answer.text
    assert "bobbin_session" not in client.cookies
    # and an unknown name gets the very same answer
    unknown = try_login(web, client, "nobody", "not the password")
    assert unknown.status_code == 401 and "Wrong name or password." in unknown.text
    # when four more wrong passwords are tried (five failures in all)
    for _ in range(4):
        assert try_login(web, client, "olivia", "still wrong").status_code == 401
    # then the sixth try is refused even with the right password
    limited = try_login(web, client, "olivia", PASSWORD)
    assert limited.status_code == 429
    assert "Too many failed sign-ins" in limited.text and "Try again in 15 min" in limited.text
    assert "bobbin_session" not in client.cookies
    assert not actions("login")


def test_sign_in_form_without_its_token_is_refused(web: Served, fresh: Any) -> None:
    add_user("olivia", "operator")
    answer = requests.post(
        f"{web.url}/login", data={"username": "olivia", "password": PASSWORD}, allow_redirects=False, timeout=10
    )
    assert answer.status_code == 403 and "did not carry this session" in answer.text
    assert "bobbin_session" not in answer.cookies


def test_next_never_leaves_the_console(web: Served, fresh: Any) -> None:
    add_user("olivia", "operator")
    client = requests.Session()
    token = login_form(web, client)
    answer = client.post(
        f"{web.url}/login",
        data={"username": "olivia", "password": PASSWORD, "csrf_token": token, "next": "//evil.example/x"},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_logout_ends_the_session_on_the_server(web: Served, fresh: Any) -> None:
    # Given a signed-in operator, and a copy of their cookie
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    stolen = client.cookies["bobbin_session"]
    page = client.get(f"{web.url}/", timeout=10)
    # when they sign out
    out = client.post(f"{web.url}/logout", data={"csrf_token": hidden(page.text)}, timeout=10)
    # then they see the sign-in form saying so
    assert out.url == f"{web.url}/login?signed_out=1" and "You are signed out." in out.text
    # and the old cookie, replayed, opens nothing
    replay = requests.get(f"{web.url}/", cookies={"bobbin_session": stolen}, allow_redirects=False, timeout=10)
    assert replay.status_code == 303 and replay.headers["location"] == "/login"
    assert [a["action"] for a in actions()] == ["user_added", "login", "logout"]


def test_a_disabled_account_is_signed_out_at_its_next_request(web: Served, fresh: Any) -> None:
    from core.db import session_scope
    from services.users import disable_user

    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    with session_scope() as s:
        disable_user(s, "olivia", actor="test")
    answer = client.get(f"{web.url}/", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert try_login(web, requests.Session(), "olivia", PASSWORD).status_code == 401


# --- the dashboard and its work -----------------------------------------------------------------


def test_dashboard_shows_each_site_as_status_does(web: Served, demo_site: int) -> None:
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    page = client.get(f"{web.url}/", timeout=10)
    assert page.status_code == 200
    assert f'<h2 id="site-{demo_site}-name">brandboom-demo</h2>' in page.text
    assert "Brandboom" in page.text and "Last import" in page.text and "never" in page.text
    assert "Import now" in page.text and "Push inventory" in page.text
    # the navigation: what an operator may see (Sites is for admins)
    assert 'href="/holding"' in page.text and 'href="/sites"' not in page.text
    assert "Signed in as <strong>olivia</strong>" in page.text
    # the security headers of every page
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["cache-control"] == "no-store"


def test_operator_import_now_queues_the_task_and_records_who(web: Served, demo_site: int, fresh: Any) -> None:
    # Given a signed-in operator on the dashboard
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/", timeout=10).text)
    # when they press "Import now"
    answer = client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)
    # then the dashboard says it is queued, and who asked
    assert answer.url == f"{web.url}/"
    assert "An import of brandboom-demo is queued." in answer.text
    assert "asked by olivia" in answer.text and ">queued<" in answer.text
    assert f'hx-get="/sites/{demo_site}/work"' in answer.text  # polled while unfinished
    # and exactly that task is in the queue, with the site's id only
    [message] = queued(fresh.conf.broker_url)
    assert (message["task"], message["args"], message["kwargs"]) == (IMPORT_TASK, [demo_site], {})
    # and the request is recorded with the account and the task id
    [action] = actions("import")
    assert action["actor"] == "olivia" and action["site_id"] == demo_site
    assert action["detail"] == {"task": IMPORT_TASK, "task_id": message["id"]}
    # when it is pressed again while the first is still queued, nothing more is queued
    again = client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)
    assert "already queued" in again.text
    assert len(queued(fresh.conf.broker_url)) == 1
    # and "Push inventory" queues its own task
    client.post(f"{web.url}/sites/{demo_site}/push-inventory", data={"csrf_token": token}, timeout=10)
    assert sorted(m["task"] for m in queued(fresh.conf.broker_url)) == sorted([IMPORT_TASK, PUSH_TASK])


def test_a_request_the_broker_lost_shows_as_lost_and_may_be_asked_again(
    web: Served, demo_site: int, fresh: Any
) -> None:
    import redis

    # Given an operator who pressed "Import now", and no worker has taken it yet
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/", timeout=10).text)
    client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)
    assert len(queued(fresh.conf.broker_url)) == 1
    # when Redis comes back without its data: the queued task, its state and the session gone
    redis.Redis.from_url(fresh.conf.broker_url).flushdb()
    assert client.get(f"{web.url}/", allow_redirects=False, timeout=10).status_code == 303  # sign in again
    client = sign_in(web.url, "olivia")
    # then the dashboard says the request was lost, and does not wait for it
    page = client.get(f"{web.url}/", timeout=10).text
    assert ">lost<" in page and "the broker lost this request" in page
    assert f'hx-get="/sites/{demo_site}/work"' not in page
    # and pressing "Import now" again queues it again
    token = hidden(page)
    again = client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)
    assert "An import of brandboom-demo is queued." in again.text and ">queued<" in again.text
    assert [m["task"] for m in queued(fresh.conf.broker_url)] == [IMPORT_TASK]


def test_viewer_is_refused_import_now_and_nothing_is_queued(web: Served, demo_site: int, fresh: Any) -> None:
    add_user("victor", "viewer")
    client = sign_in(web.url, "victor")
    token = hidden(client.get(f"{web.url}/", timeout=10).text)
    answer = client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)
    assert answer.status_code == 403
    assert "Your role (viewer) cannot do this: it needs operator." in answer.text
    assert queued(fresh.conf.broker_url) == []
    assert actions("import") == []


def test_a_form_posted_without_its_token_is_refused(web: Served, demo_site: int, fresh: Any) -> None:
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    for data in ({}, {"csrf_token": "forged"}):
        answer = client.post(f"{web.url}/sites/{demo_site}/import", data=data, timeout=10)
        assert answer.status_code == 403 and "did not carry this session" in answer.text
    # a token of another session does not do either
    add_user("otto", "operator")
    other = hidden(sign_in(web.url, "otto").get(f"{web.url}/", timeout=10).text)
    assert client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": other}, timeout=10).status_code == 403
    assert queued(fresh.conf.broker_url) == []
    assert actions("import") == []


def test_import_now_runs_on_the_worker_and_the_page_follows_it(
    web: Served, demo_site: int, fresh: Any, start_worker: Any
) -> None:
    # Given a worker, and an operator who pressed "Import now"
    start_worker()
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/", timeout=10).text)
    client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)

    # when the page's status part is polled, it follows the run to its end
    def finished() -> str | None:
        part = client.get(f"{web.url}/sites/{demo_site}/work", headers={"HX-Request": "true"}, timeout=10).text
        return part if ">ok<" in part else None

    part = wait_until(finished, timeout=120, what="the import to finish")
    assert "fetched" in part and "imported" in part
    assert "hx-get" not in part  # polling stops once the work is done
    # and the dashboard now shows the import
    page = client.get(f"{web.url}/", timeout=10).text
    assert "Last import" in page and "fetched" in page
    # and the site's page (an admin's) says how it ended, then what it did ("ok: 25 fetched, …")
    add_user("ada", "admin")
    site = sign_in(web.url, "ada").get(f"{web.url}/sites/{demo_site}", timeout=10).text
    assert re.search(r"\bok: \d+ fetched, \d+ new, \d+ imported", site), site


def test_a_partner_error_during_import_now_shows_the_partners_message(
    web: Served, demo_site: int, fresh: Any, sandbox: Any, start_worker: Any
) -> None:
    # Given Brandboom refusing the site's credentials with its documented "Permission Denied"
    # envelope, a worker, and an operator who pressed "Import now"
    sandbox.inject_fault(auth=True, path="/orders")
    start_worker()
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    token = hidden(client.get(f"{web.url}/", timeout=10).text)
    client.post(f"{web.url}/sites/{demo_site}/import", data={"csrf_token": token}, timeout=10)

    # when the page's status part is polled until the run ends
    def finished() -> str | None:
        part = client.get(f"{web.url}/sites/{demo_site}/work", headers={"HX-Request": "true"}, timeout=10).text
        return part if "hx-get" not in part and "Import now" in part else None

    part = wait_until(finished, timeout=120, what="the import to end")
    # then it says the import failed, in the partner's words, and stops polling
    assert ">failed<" in part, part
    assert "Permission Denied" in part, part
    # and the dashboard's alarms say the last import failed, with the same words
    page = client.get(f"{web.url}/", timeout=10).text
    assert "Last import failed" in page and "Permission Denied" in page


# --- roles and pages ------------------------------------------------------------------------------


def test_sites_is_for_admins(web: Served, fresh: Any) -> None:
    add_user("olivia", "operator")
    add_user("ada", "admin")
    assert sign_in(web.url, "olivia").get(f"{web.url}/sites", timeout=10).status_code == 403
    admin = sign_in(web.url, "ada")
    page = admin.get(f"{web.url}/", timeout=10).text
    assert 'href="/sites"' in page
    assert admin.get(f"{web.url}/sites", timeout=10).status_code == 200


def test_unknown_page_is_a_404_page_and_no_traceback(web: Served, fresh: Any) -> None:
    add_user("olivia", "operator")
    client = sign_in(web.url, "olivia")
    answer = client.get(f"{web.url}/no/such/page", timeout=10)
    assert answer.status_code == 404 and "Page not found" in answer.text
    assert "Traceback" not in answer.text and "Signed in as" in answer.text
    assert client.get(f"{web.url}/sites/999999/work", timeout=10).status_code == 404
    # the event receiver's refusals stay plain for machines
    plain = requests.get(f"{web.url}/events/x", timeout=10)
    assert plain.status_code == 405 and plain.headers["content-type"].startswith("text/plain")


def test_static_files_and_vendored_htmx_are_served(web: Served) -> None:
    css = requests.get(f"{web.url}/static/console.css", timeout=10)
    js = requests.get(f"{web.url}/static/vendor/htmx/htmx.min.js", timeout=10)
    assert css.status_code == 200 and ".skip-link" in css.text
    assert js.status_code == 200 and "htmx" in js.text
