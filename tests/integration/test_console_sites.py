"""The console's Sites pages over plain HTTP (no browser): only admins see them; a site's settings
saved through its partner's model (a bad value refused beside its field, nothing saved);
credentials replaced write-only (stored encrypted, never drawn into a page nor a log line); pause
and resume; a site added. Every change recorded with who made it.

The real app runs under uvicorn (tests/console_app.py) against the test Postgres and Redis; the
demo's Brandboom site is loaded as ``bobbin demo`` loads it. What a page shows is checked against
the database. Written given / when / then.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from sqlalchemy import select

from tests.console_app import Served, actions, add_user, hidden, sign_in

pytestmark = pytest.mark.integration

SITE = "brandboom-demo"
URL = "http://127.0.0.1:9/api/v2"  # no partner is asked anything here
NEW_SECRET = "bb-secret-NEW-7f3a9c2e81d4"


@pytest.fixture(scope="module")
def web(pg_url: str, redis_url: str) -> Iterator[Served]:
    served = Served().start()
    yield served
    served.stop()


@pytest.fixture()
def demo_site(db: str, celery_app: Any) -> int:
    """An empty database and Redis, with the demo's Brandboom site and its ERP data."""
    from bobbin.demo_sites import DEMO_SITE, load_demo
    from core.db import session_scope
    from models import Site

    load_demo(URL)
    with session_scope() as s:
        site_id = s.scalar(select(Site.id).where(Site.name == DEMO_SITE))
    assert site_id is not None
    return site_id


@pytest.fixture()
def admin(web: Served, demo_site: int) -> requests.Session:
    add_user("ada", "admin")
    return sign_in(web.url, "ada")


# --- reading pages --------------------------------------------------------------------------------


def site_row(site_id: int) -> Any:
    from core.db import session_scope
    from models import Site

    with session_scope() as s:
        site = s.get(Site, site_id)
        assert site is not None
        s.expunge(site)
        return site


def stored_credentials(site_id: int) -> dict[str, str]:
    from services.sites import credentials

    return credentials(site_row(site_id))


def settings_form(page: str) -> dict[str, str]:
    """The settings form's fields as the page draws them (text inputs and selected options)."""
    m = re.search(r'<form method="post" action="[^"]*/settings"[^>]*>(.*?)</form>', page, re.S)
    assert m, "no settings form in the page"
    form = m.group(1)
    out = {"csrf_token": hidden(form)}
    for name, value in re.findall(r'<input type="text" id="[^"]+" name="(setting\.[^"]+)" value="([^"]*)"', form):
        out[name] = html.unescape(value)
    for name, body in re.findall(r'<select id="[^"]+" name="(setting\.[^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', body) or re.search(r'<option value="([^"]*)"', body)
        assert chosen
        out[name] = html.unescape(chosen.group(1))
    return out


def flash_of(page: str) -> str:
    m = re.search(r'<p class="flash flash-(\w+)" role="status">(.*?)</p>', page, re.S)
    assert m, "the page shows no message"
    return html.unescape(m.group(2))


def problem_of(page: str, name: str) -> str:
    m = re.search(rf'<p id="setting-{name}-problem" class="setting-problem">(.*?)</p>', page, re.S)
    assert m, f"no problem shown beside {name}"
    return html.unescape(m.group(1))


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


# --- who may see them -------------------------------------------------------------------------------


def test_viewer_and_operator_are_refused_the_sites_pages_and_changes(web: Served, demo_site: int) -> None:
    # Given a viewer and an operator
    add_user("victor", "viewer")
    add_user("olivia", "operator")
    before = site_row(demo_site)
    for name in ("victor", "olivia"):
        client = sign_in(web.url, name)
        # when they open the sites, a site, or the form to add one, then each is refused (403)
        for path in ("/sites", f"/sites/{SITE}", "/sites/new"):
            page = client.get(f"{web.url}{path}", timeout=30)
            assert page.status_code == 403, (name, path)
            assert "it needs admin" in page.text
        # and the navigation has no Sites item for them
        assert 'href="/sites"' not in client.get(f"{web.url}/", timeout=30).text
        # when they post a change with their own valid CSRF token, then it is refused too
        token = hidden(client.get(f"{web.url}/", timeout=30).text)
        posts = {
            f"/sites/{SITE}/pause": {},
            f"/sites/{SITE}/settings": {"setting.page_size": "50"},
            f"/sites/{SITE}/credentials": {"credential.secret_key": NEW_SECRET},
            "/sites/new": {"kind": "brandboom", "name": "shop", "url": URL},
        }
        for path, data in posts.items():
            answer = client.post(f"{web.url}{path}", data={"csrf_token": token, **data}, timeout=30)
            assert answer.status_code == 403, (name, path)
            assert NEW_SECRET not in answer.text
    # and nothing changed, nothing was recorded
    after = site_row(demo_site)
    assert (after.active, after.settings, after.credentials_encrypted) == (
        before.active,
        before.settings,
        before.credentials_encrypted,
    )
    assert [a for a in actions() if a["action"].startswith("site_")] == []


def test_admin_sees_the_demo_site_listed_and_in_full(web: Served, admin: requests.Session) -> None:
    from sandbox.keys import sandbox_keys

    # Given an admin; the navigation shows Sites
    assert '<a href="/sites">Sites</a>' in admin.get(f"{web.url}/", timeout=30).text
    # when they open the sites
    listing = admin.get(f"{web.url}/sites", timeout=30)
    # then the demo site is a row: partner label, active, schedule, last import (never), a link
    assert listing.status_code == 200
    row = listing.text.split(f'<a href="/sites/{SITE}">{SITE}</a>', 1)[1].split("</tr>", 1)[0]
    assert "Brandboom" in row and "active" in row and "every 15 min" in row and "never" in row
    # when they open the site
    page = admin.get(f"{web.url}/sites/{SITE}", timeout=30)
    assert page.status_code == 200
    # then each field of Brandboom's settings model is a labelled control with its value
    from connectors.brandboom.settings import BrandboomSettings

    form = settings_form(page.text)
    assert set(form) - {"csrf_token"} == {f"setting.{name}" for name in BrandboomSettings.model_fields}
    for name in BrandboomSettings.model_fields:
        assert f'<label for="setting-{name}">' in page.text
    assert form["setting.import_statuses"] == "export" and form["setting.page_size"] == "300"
    assert form["setting.default_warehouse"] and form["setting.inventory_mode"] == "immediate"
    # and the credentials are named, said to be set, and never shown, not even in part
    text = text_of(page.text)
    assert "public_key set" in text and "secret_key set" in text
    for secret in sandbox_keys():
        assert secret not in page.text and secret[-4:] not in text
    assert 'type="password" id="credential-secret_key" name="credential.secret_key"' in page.text
    # and an unknown site is the 404 page
    missing = admin.get(f"{web.url}/sites/nope", timeout=30)
    assert missing.status_code == 404 and "There is no site nope" in missing.text


# --- settings ---------------------------------------------------------------------------------------


def test_a_setting_is_saved_through_the_partners_model_and_recorded(
    web: Served, admin: requests.Session, demo_site: int
) -> None:
    # Given the site's page; when the admin changes Brandboom's import statuses and the page size
    form = settings_form(admin.get(f"{web.url}/sites/{SITE}", timeout=30).text)
    form.update({"setting.import_statuses": "export, processing", "setting.page_size": "50"})
    answer = admin.post(f"{web.url}/sites/{SITE}/settings", data=form, timeout=60)
    # then the site's page says so
    assert answer.status_code == 200 and answer.url == f"{web.url}/sites/{SITE}"
    assert flash_of(answer.text).startswith(f"Saved page_size, import_statuses of {SITE}.")
    # and the database holds them as the model wants them (a list, a number), the rest as it was
    site = site_row(demo_site)
    assert site.settings["import_statuses"] == ["export", "processing"] and site.settings["page_size"] == 50
    again = settings_form(answer.text)
    assert again["setting.import_statuses"] == "export,processing" and again["setting.page_size"] == "50"
    # and the change is recorded with who made it and what changed
    [done] = actions("site_settings")
    assert done["actor"] == "ada" and done["site_id"] == demo_site
    assert done["detail"]["changed"] == {"page_size": "50", "import_statuses": "export,processing"}
    # when the page size is blanked, then it is back to the partner's default
    again["setting.page_size"] = ""
    admin.post(f"{web.url}/sites/{SITE}/settings", data=again, timeout=60)
    assert "page_size" not in site_row(demo_site).settings


def test_a_bad_setting_is_refused_beside_its_field_and_nothing_is_saved(
    web: Served, admin: requests.Session, demo_site: int
) -> None:
    before = site_row(demo_site).settings
    # Given the site's page; when the admin types a page size over the limit, an import interval
    # that does not divide the hour, and a good change beside them
    form = settings_form(admin.get(f"{web.url}/sites/{SITE}", timeout=30).text)
    form.update(
        {"setting.page_size": "1000", "setting.import_minutes": "7", "setting.import_statuses": "export,processing"}
    )
    answer = admin.post(f"{web.url}/sites/{SITE}/settings", data=form, timeout=60)
    # then the form comes back (400) with a sentence beside each bad field
    assert answer.status_code == 400
    assert problem_of(answer.text, "page_size") == "Input should be less than or equal to 300."
    assert problem_of(answer.text, "import_minutes").startswith("Must divide 60 (1, 2, 3")
    assert 'aria-describedby="setting-page_size-hint setting-page_size-problem" aria-invalid="true"' in answer.text
    assert "Nothing was saved: 2 settings are not right" in flash_of(answer.text)
    # with what was typed kept
    kept = settings_form(answer.text)
    assert kept["setting.page_size"] == "1000" and kept["setting.import_statuses"] == "export,processing"
    # and nothing saved, nothing recorded
    assert site_row(demo_site).settings == before
    assert actions("site_settings") == []


# --- credentials ------------------------------------------------------------------------------------


def test_a_credential_is_replaced_encrypted_and_never_shown(
    web: Served, admin: requests.Session, demo_site: int, capfd: pytest.CaptureFixture[str]
) -> None:
    from sandbox.keys import sandbox_keys

    public, old_secret = sandbox_keys()
    page = admin.get(f"{web.url}/sites/{SITE}", timeout=30)
    token = hidden(page.text)
    # When the admin replaces the secret key (the public key left blank)
    answer = admin.post(
        f"{web.url}/sites/{SITE}/credentials",
        data={"csrf_token": token, "credential.secret_key": NEW_SECRET, "credential.public_key": ""},
        timeout=30,
    )
    # then the page says so, showing neither the new secret nor the old one, nor any part of them
    assert answer.status_code == 200 and answer.url == f"{web.url}/sites/{SITE}"
    assert flash_of(answer.text).startswith(f"Replaced the secret_key of {SITE}")
    for secret in (NEW_SECRET, old_secret, public):
        assert secret not in answer.text and secret[-6:] not in answer.text
    # and says when it changed and who changed it
    assert re.search(r"secret_key set ?, changed \d{4}-\d\d-\d\d \d\d:\d\d \S+ by ada", text_of(answer.text))
    assert "public_key set (as the site was added)" in text_of(answer.text)
    # and the database holds it encrypted: it decrypts to the new secret, the public key kept
    encrypted = site_row(demo_site).credentials_encrypted
    assert NEW_SECRET not in encrypted
    assert stored_credentials(demo_site) == {"public_key": public, "secret_key": NEW_SECRET}
    # and the change is recorded by name only
    [done] = actions("site_credentials_replaced")
    assert done["actor"] == "ada" and done["site_id"] == demo_site and done["detail"]["fields"] == ["secret_key"]
    assert NEW_SECRET not in json.dumps(actions())
    # when nothing is typed, then nothing is replaced, and the page says why
    empty = admin.post(
        f"{web.url}/sites/{SITE}/credentials",
        data={"csrf_token": token, "credential.secret_key": "  "},
        timeout=30,
    )
    assert flash_of(empty.text) == "Nothing was replaced: type the new value of the credential first."
    assert stored_credentials(demo_site)["secret_key"] == NEW_SECRET
    # and no log line of the app carried the secret
    out, err = capfd.readouterr()
    assert "console_site_change" in out + err  # the app's log lines are here
    assert NEW_SECRET not in out and NEW_SECRET not in err


# --- pause / resume ---------------------------------------------------------------------------------


def test_pause_and_resume_flip_the_site_and_are_recorded(web: Served, admin: requests.Session, demo_site: int) -> None:
    token = hidden(admin.get(f"{web.url}/sites/{SITE}", timeout=30).text)
    # When the admin pauses the site
    paused = admin.post(f"{web.url}/sites/{SITE}/pause", data={"csrf_token": token}, timeout=30)
    # then it is paused, the page offers to resume it, and the list says paused
    assert site_row(demo_site).active is False
    assert flash_of(paused.text).startswith(f"Site {SITE} paused")
    assert f'action="/sites/{SITE}/resume"' in paused.text
    assert "paused" in admin.get(f"{web.url}/sites", timeout=30).text.split(f">{SITE}</a>", 1)[1].split("</tr>")[0]
    # when they pause it again, then nothing changes and nothing more is recorded
    again = admin.post(f"{web.url}/sites/{SITE}/pause", data={"csrf_token": token}, timeout=30)
    assert flash_of(again.text) == f"Site {SITE} was already paused."
    # when they resume it, then it is active again
    resumed = admin.post(f"{web.url}/sites/{SITE}/resume", data={"csrf_token": token}, timeout=30)
    assert site_row(demo_site).active is True
    assert flash_of(resumed.text).startswith(f"Site {SITE} resumed")
    # and each change is recorded with who made it
    done = [(a["action"], a["actor"], a["site_id"]) for a in actions() if a["action"].startswith("site_")]
    assert done == [("site_paused", "ada", demo_site), ("site_resumed", "ada", demo_site)]


# --- a new site -------------------------------------------------------------------------------------


def test_a_site_is_added_from_the_console(web: Served, admin: requests.Session) -> None:
    from core.db import session_scope
    from models import Site

    # Given the form for a Brandboom site
    chooser = admin.get(f"{web.url}/sites/new", timeout=30)
    assert '<option value="brandboom">' in chooser.text
    form = admin.get(f"{web.url}/sites/new", params={"kind": "brandboom"}, timeout=30)
    assert 'name="credential.public_key"' in form.text and 'name="setting.import_statuses"' in form.text
    data = {
        "csrf_token": hidden(form.text),
        "kind": "brandboom",
        "name": "shop",
        "url": "http://127.0.0.1:9/api/v2",
        "notify": "a@x.com, b@y.com",
        "credential.public_key": "pk-shop-0123456789",
        "credential.secret_key": NEW_SECRET,
        "setting.page_size": "abc",
    }
    # when a setting is wrong, then nothing is added; the form keeps what was typed but the secrets
    refused = admin.post(f"{web.url}/sites/new", data=data, timeout=30)
    assert refused.status_code == 400
    assert (
        problem_of(refused.text, "page_size")
        == "Input should be a valid integer, unable to parse string as an integer."
    )
    assert 'name="name" value="shop"' in refused.text
    assert NEW_SECRET not in refused.text and "pk-shop-0123456789" not in refused.text
    # when the name is taken, then the sentence says so
    taken = admin.post(f"{web.url}/sites/new", data={**data, "name": SITE, "setting.page_size": "50"}, timeout=30)
    assert taken.status_code == 400 and f"A site named '{SITE}' already exists" in flash_of(taken.text)
    # when it is right, then the site is added and its page shown
    added = admin.post(f"{web.url}/sites/new", data={**data, "setting.page_size": "50"}, timeout=30)
    assert added.url == f"{web.url}/sites/shop" and flash_of(added.text).startswith("Added the Brandboom site shop.")
    assert NEW_SECRET not in added.text
    with session_scope() as s:
        site = s.scalar(select(Site).where(Site.name == "shop"))
        assert site is not None and site.kind == "brandboom" and site.notify_emails == ["a@x.com", "b@y.com"]
        assert site.settings == {"page_size": 50} and NEW_SECRET not in site.credentials_encrypted
        site_id = site.id
    assert stored_credentials(site_id) == {"public_key": "pk-shop-0123456789", "secret_key": NEW_SECRET}
    [done] = actions("site_added")
    assert done["actor"] == "ada" and done["site_id"] == site_id and NEW_SECRET not in json.dumps(done)
