"""Secrets: encrypted at rest, rotated, shown masked, never a task argument, never in a log line or
an e-mail; Flower behind a login by default; the sandboxes refuse a credential that is nearly right
(same length, one character off) and the Brandboom sandbox refuses stale timestamps.

Against the real Postgres (and, for the logs and mail, the Brandboom and JOOR sandboxes over HTTP
and a real SMTP server). Written given / when / then.
"""

from __future__ import annotations

import base64
import inspect
import io
import json
import logging
import os
import re
import runpy
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from cryptography.fernet import Fernet
from sqlalchemy import select, text
from typer.testing import CliRunner

from connectors.errors import AuthError
from tests.integration.conftest import ROOT, Inbox, wait_until

pytestmark = pytest.mark.integration

SITE = "bb-secure"
PUBLIC_KEY = "7C1D2E3F4A5B6C7D8E9F0A1B2C3D4E5F"
SECRET_KEY = "9F8E7D6C5B4A39281706F5E4D3C2B1A0"
# Parameter names that would put a secret into a task message (and so into Flower and the broker).
SECRET_PARAM = re.compile(r"secret|credential|token|password|passwd|api_?key|private|signature|auth|^key$|_key$", re.I)


@pytest.fixture()
def keys(monkeypatch: pytest.MonkeyPatch, bobbin_home: Path) -> Iterator[Any]:
    """Set BOBBIN_SECRET_KEYS for the rest of the test (settings re-read); restored afterwards."""
    from core.settings import get_settings

    def use(*fernet_keys: str) -> None:
        monkeypatch.setenv("BOBBIN_SECRET_KEYS", ",".join(fernet_keys))
        get_settings.cache_clear()

    yield use
    monkeypatch.undo()
    get_settings.cache_clear()


def add_site(name: str = SITE) -> int:
    from bobbin import demo
    from core.db import session_scope
    from services.sites import create_site

    with session_scope() as s:
        demo.load_erp(s, demo.build_world())
        site = create_site(
            s,
            name=name,
            kind="brandboom",
            base_url="http://127.0.0.1:9/api/v2",
            credentials={"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY},
            division="WHSL",
            notify_emails=["ops@harborandpine.example"],
        )
        return site.id


def stored_token(site_id: int) -> str:
    from core.db import session_scope

    with session_scope() as s:
        return str(s.scalar(text("SELECT credentials_encrypted FROM site WHERE id = :id"), {"id": site_id}))


# --- (a) credentials at rest ----------------------------------------------------------------------


def test_credentials_are_encrypted_at_rest_and_survive_a_key_rotation(db: str, keys: Any) -> None:
    from bobbin.cli.main import app
    from core import crypto
    from core.db import session_scope
    from models import Site
    from services.sites import credentials

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    site_id = add_site()

    # then the row holds a Fernet token, not the keys (nor their base64)
    token = stored_token(site_id)
    for plain in (PUBLIC_KEY, SECRET_KEY):
        assert plain not in token
        assert base64.b64encode(plain.encode()).decode()[:16] not in token
    assert token.startswith("gAAAAA")  # Fernet's version byte, base64
    assert crypto.decrypt_json(token) == {"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}

    # when a new key is put first (`bobbin keys new`), the old one kept after it, and `bobbin keys rotate` runs
    keys(new, old)
    result = CliRunner().invoke(app, ["keys", "rotate", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"rotated": [SITE], "failed": []}

    # then, with the old key dropped, the credentials still decrypt; with the old key alone they do not
    keys(new)
    assert stored_token(site_id) != token
    with session_scope() as s:
        assert credentials(s.get(Site, site_id)) == {"public_key": PUBLIC_KEY, "secret_key": SECRET_KEY}
    keys(old)
    with pytest.raises(crypto.CredentialsError):
        crypto.decrypt_json(stored_token(site_id))


def test_rotate_with_two_keys_reencrypts_under_the_first(keys: Any, bobbin_home: Path) -> None:
    from core import crypto
    from core.settings import get_settings

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    keys(old)
    token = crypto.encrypt_json({"api_token": "t0ken-value"})
    keys(new, old)
    rotated = crypto.rotate(token, get_settings())
    assert Fernet(new.encode()).decrypt(rotated.encode())  # readable by the new key alone
    keys(new)
    assert crypto.decrypt_json(rotated) == {"api_token": "t0ken-value"}


# --- (b) the CLI shows credentials masked ---------------------------------------------------------


def test_sites_show_masks_the_credentials(db: str, keys: Any) -> None:
    from bobbin.cli.main import app

    keys(Fernet.generate_key().decode())
    add_site()
    runner = CliRunner()

    shown = runner.invoke(app, ["sites", "show", SITE], env={"COLUMNS": "200"})
    as_json = runner.invoke(app, ["sites", "show", SITE, "--json"])
    listed = runner.invoke(app, ["sites", "list", "--json"])

    assert shown.exit_code == as_json.exit_code == listed.exit_code == 0, shown.output + as_json.output
    for result in (shown, as_json, listed):
        assert PUBLIC_KEY not in result.output and SECRET_KEY not in result.output
    creds = json.loads(as_json.stdout)["credentials"]
    assert creds == {"public_key": "****" + PUBLIC_KEY[-4:], "secret_key": "****" + SECRET_KEY[-4:]}
    assert "****" + SECRET_KEY[-4:] in shown.output


# --- (c) no task takes a secret -------------------------------------------------------------------


def test_no_task_signature_takes_a_secret(redis_url: str) -> None:
    from worker import app

    app.loader.import_default_modules()  # the task modules a worker imports (conf.imports)
    ours = {name: task for name, task in app.tasks.items() if not name.startswith("celery.")}
    assert {
        "tasks.orders.import_orders",
        "tasks.status.mark_orders",
        "tasks.notify.send_error_report",
        "tasks.inventory.push_inventory",
    } <= set(ours)
    for name, task in ours.items():
        params = [p for p in inspect.signature(task.run).parameters.values() if p.name != "self"]
        assert not [p.name for p in params if SECRET_PARAM.search(p.name)], f"{name} takes a secret"
        assert not [p for p in params if p.kind in (p.VAR_KEYWORD, p.VAR_POSITIONAL)], (
            f"{name} takes *args / **kwargs, which could carry anything"
        )


# --- (d) Flower: a login by default ---------------------------------------------------------------


def _flowerconfig(monkeypatch: pytest.MonkeyPatch, home: Path, **env: str) -> dict[str, Any]:
    from core.settings import get_settings

    monkeypatch.setenv("BOBBIN_HOME", str(home))
    for name in ("FLOWER_USER", "FLOWER_PASSWORD", "BOBBIN_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        return runpy.run_path(str(ROOT / "flowerconfig.py"))
    finally:
        get_settings.cache_clear()


def test_flower_config_has_basic_auth_on_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from core.settings import SettingsError

    conf = _flowerconfig(monkeypatch, tmp_path)
    (login,) = conf["basic_auth"]
    user, password = login.split(":", 1)
    assert user == "admin" and len(password) >= 12
    stored = tmp_path / "flower.password"
    assert stored.read_text().strip() == password and stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert _flowerconfig(monkeypatch, tmp_path)["basic_auth"] == [login]  # generated once, then kept

    assert _flowerconfig(monkeypatch, tmp_path, FLOWER_USER="ops", FLOWER_PASSWORD="s3cret-pass")["basic_auth"] == [
        "ops:s3cret-pass"
    ]
    with pytest.raises(SettingsError, match="FLOWER_PASSWORD"):
        _flowerconfig(
            monkeypatch,
            tmp_path,
            BOBBIN_ENV="production",
            DATABASE_URL="postgresql://x@h/db",
            REDIS_URL="redis://h:6379/0",
            BOBBIN_SECRET_KEYS=Fernet.generate_key().decode(),
        )


def test_flower_started_as_bobbin_starts_it_asks_for_the_login(redis_url: str, tmp_path: Path) -> None:
    """Given Flower started the way `bobbin run` starts it (from the repository root, so it reads
    flowerconfig.py), when a request comes without a login, then it is refused; with it, let in."""
    env = dict(os.environ, BOBBIN_HOME=str(tmp_path), REDIS_URL=redis_url, FLOWER_PASSWORD="flower-test-pw")
    env.pop("FLOWER_USER", None)
    log_path = tmp_path / "flower.log"
    log = log_path.open("wb")
    # Port 0: Flower binds a free port itself and says which one ("Visit me at ..."), so no other
    # process can take it between a probe and the bind
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "worker", "flower", "--port=0", "--address=127.0.0.1"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:

        def bound_port() -> int | None:
            assert proc.poll() is None, log_path.read_text()[-2000:]
            found = re.search(r"Visit me at https?://127\.0\.0\.1:(\d+)", log_path.read_text(errors="replace"))
            return int(found[1]) if found else None

        # (the timeouts only catch a Flower that never comes up: starting is slow on a loaded machine)
        port = wait_until(bound_port, timeout=120, what="Flower to say which port it listens on")

        def status() -> int | None:  # (a 401 Response is falsy: wait for its status code instead)
            assert proc.poll() is None, log_path.read_text()[-2000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/", timeout=10).status_code
            except requests.ConnectionError:
                return None

        assert wait_until(status, timeout=120, what="Flower to answer") == 401
        assert requests.get(f"http://127.0.0.1:{port}/", auth=("admin", "wrong"), timeout=30).status_code == 401
        assert (
            requests.get(f"http://127.0.0.1:{port}/", auth=("admin", "flower-test-pw"), timeout=30).status_code == 200
        )
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --- (e) the sandboxes' credential checks --------------------------------------------------------


def _one_off(value: str, at: int) -> str:
    """``value`` with the character at ``at`` changed: as long as the right one, nearly right."""
    at %= len(value)
    return value[:at] + ("0" if value[at] != "0" else "1") + value[at + 1 :]


def test_sandboxes_refuse_a_credential_one_character_off(sandbox: Any, joor_sandbox: Any) -> None:
    """Given the Brandboom and JOOR sandboxes with the demo credentials, when a request carries a
    key, signature or token of the right length that differs from the right one in its first or
    last character, then it is refused exactly as a wrong credential is (a check that compared only
    lengths, or stopped early, would let one of them in); the right one is let in. (How long the
    comparison takes is not measured: on a shared machine that would only measure the machine.)"""
    from connectors.brandboom import contract as bb
    from connectors.joor import contract as jc
    from sandbox.keys import DEMO_JOOR_TOKEN, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    def brandboom(public_key: str = DEMO_PUBLIC_KEY, signature: Callable[[str], str] | None = None) -> Any:
        stamp = str(int(time.time()))
        sign = signature or (lambda ts: bb.signature(DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, ts))
        headers = {bb.HEADER_KEY: public_key, bb.HEADER_TIMESTAMP: stamp, bb.HEADER_SIGNATURE: sign(stamp)}
        return requests.get(
            f"{sandbox.url}/{bb.ORDERS_SEARCH}", params={"numResults": 1}, headers=headers, timeout=30
        ).json()

    def joor(token: str) -> requests.Response:
        return requests.get(
            f"{joor_sandbox.url}/{jc.ORDERS}", headers={jc.HEADER_AUTHORIZATION: jc.authorization(token)}, timeout=30
        )

    # the right credentials are let in (so a refusal below is the near miss's doing)
    assert brandboom()["status"] is True
    assert joor(DEMO_JOOR_TOKEN).status_code == 200

    for at in (0, -1):
        # Brandboom: the public key one character off (signed with it), or the signature one off
        wrong_key = _one_off(DEMO_PUBLIC_KEY, at)
        answer = brandboom(
            public_key=wrong_key, signature=lambda ts, key=wrong_key: bb.signature(key, DEMO_SECRET_KEY, ts)
        )
        assert (answer["status"], answer["value"]) == ("error", bb.PERMISSION_DENIED), (at, answer)
        answer = brandboom(signature=lambda ts, at=at: _one_off(bb.signature(DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, ts), at))
        assert (answer["status"], answer["value"]) == ("error", bb.PERMISSION_DENIED), (at, answer)
        # JOOR: the token one character off
        refused = joor(_one_off(DEMO_JOOR_TOKEN, at))
        assert refused.status_code == 401 and refused.json()["response"]["comment"] == "Invalid token.", (
            at,
            refused.text,
        )


def test_sandbox_refuses_stale_and_future_timestamps(sandbox: Any) -> None:
    """(Also in tests/connectors/test_brandboom_sandbox.py; here with the keys the demo site uses.)"""
    from connectors.brandboom import contract as c
    from sandbox.keys import DEMO_PUBLIC_KEY, DEMO_SECRET_KEY

    def call(ts: int) -> dict[str, Any]:
        stamp = str(ts)
        headers = {
            c.HEADER_KEY: DEMO_PUBLIC_KEY,
            c.HEADER_TIMESTAMP: stamp,
            c.HEADER_SIGNATURE: c.signature(DEMO_PUBLIC_KEY, DEMO_SECRET_KEY, stamp),
        }
        return dict(
            requests.get(
                f"{sandbox.url}/{c.ORDERS_SEARCH}", params={"numResults": 1}, headers=headers, timeout=10
            ).json()
        )

    now = int(time.time())
    assert call(now)["status"] != "error"
    skew = sandbox.max_clock_skew
    for stamp in (now - skew - 5, now + skew + 5):
        answer = call(stamp)
        assert answer["status"] == "error" and answer["value"] == c.PERMISSION_DENIED


# --- (f) no secret in the logs or the error e-mail ------------------------------------------------


@pytest.fixture()
def captured_logs() -> Iterator[io.StringIO]:
    """core.logging configured into a buffer, at DEBUG, as JSON; the previous setup restored after."""
    import structlog

    from core.logging import configure

    saved = structlog.get_config()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    buffer = io.StringIO()
    configure(level="DEBUG", fmt="json", stream=buffer)
    yield buffer
    structlog.configure(**saved)
    root.handlers[:], root.level = handlers, level


@pytest.fixture()
def joor_sandbox(bobbin_home: Path) -> Iterator[Any]:
    from bobbin.demo import build_world
    from bobbin.demo_joor import joor_seed
    from sandbox.joor.server import JoorSandbox
    from sandbox.keys import DEMO_JOOR_TOKEN

    sb = JoorSandbox(port=0, token=DEMO_JOOR_TOKEN, seed=joor_seed(build_world())).start()
    yield sb
    sb.stop()


def test_no_secret_in_the_logs_or_the_error_mail(
    db: str, sandbox: Any, joor_sandbox: Any, smtp: Inbox, captured_logs: io.StringIO
) -> None:
    """Given the demo Brandboom and JOOR sites on their sandboxes, which answer 429 and 503 first (so
    the clients log retries) and then refuse one request's signature, when both sites import (the
    demo orders include broken ones) and the error e-mails go out, then neither the sandbox keys,
    the JOOR token (nor its base64 header form) nor the Fernet key is in any log line or message."""
    from bobbin.demo_sites import load_demo, load_joor_demo
    from core.db import session_scope
    from core.settings import get_settings
    from models import Site
    from sandbox.keys import DEMO_JOOR_TOKEN, DEMO_PUBLIC_KEY, DEMO_SECRET_KEY
    from services import notify
    from services.pipeline import import_site_orders

    load_demo(sandbox.url)
    load_joor_demo(joor_sandbox.url)
    with session_scope() as s:
        sites = dict(s.execute(select(Site.kind, Site.id)).all())
    secrets = {
        "Brandboom public key": DEMO_PUBLIC_KEY,
        "Brandboom secret key": DEMO_SECRET_KEY,
        "JOOR token": DEMO_JOOR_TOKEN,
        "JOOR header": base64.b64encode(DEMO_JOOR_TOKEN.encode()).decode(),
        **{f"Fernet key {i}": k for i, k in enumerate(get_settings().fernet_keys())},
    }

    # when: retried faults, then a clean import of each site
    for sb in (sandbox, joor_sandbox):
        sb.inject_fault(429, retry_after=0, count=2)
        sb.inject_fault(503, count=1)
    brandboom = import_site_orders(sites["brandboom"])
    joor = import_site_orders(sites["joor"])
    # and a run whose signature the partner refuses (an auth failure is logged with its reason):
    # it fails with the error that tells a person what to do
    sandbox.inject_fault(auth=True, count=1)
    with pytest.raises(AuthError, match=r"Brandboom refused .*\(Permission Denied\): check the site's credentials"):
        import_site_orders(sites["brandboom"])
    with session_scope() as s:
        sent = [notify.send_error_report(s, site_id) for site_id in sites.values()]
    # and code that logs a credential by mistake, through structlog and through the standard library
    import structlog

    structlog.get_logger("careless").warning(
        f"signing with {DEMO_SECRET_KEY}",
        note=DEMO_PUBLIC_KEY,
        extra={"token": DEMO_JOOR_TOKEN, "list": [DEMO_JOOR_TOKEN]},
    )
    logging.getLogger("careless.stdlib").error("retrying with token %s", DEMO_JOOR_TOKEN)

    # then
    assert brandboom["fetched"] > 0 and joor["fetched"] > 0 and all(r["sent"] for r in sent), (brandboom, joor, sent)
    logs = captured_logs.getvalue()
    assert logs.count('"partner_retry"') >= 4, "the retries were not logged (is the capture working?)"
    assert '"run_failed"' in logs and logs.count("careless") == 2 and "signing with ****" in logs
    mails = [m.as_string() for m in smtp.wait_for(2)]
    for where, text_ in [("logs", logs), *((f"mail {i}", m) for i, m in enumerate(mails))]:
        leaked = [name for name, value in secrets.items() if value in text_]
        assert not leaked, f"{', '.join(leaked)} in the {where}"
