"""The partner registry: what it lists without importing a partner's package agrees with the
package's SPEC; the ``bobbin`` command starts without importing any partner package; a capability
is opened on a client only when the partner offers it, and the client is closed when opening fails.

No servers: the clients here are never asked anything, and the subprocesses only import."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from connectors import registry
from connectors.registry import (
    PARTNERS,
    NotOffered,
    OrderPull,
    PartnerInfo,
    PartnerSpec,
    StatusWriteback,
    order_source,
    registered,
)
from connectors.settings import SiteSettings

ROOT = Path(__file__).resolve().parents[2]
# What a command must not import just to start: the partners' packages (HTTP client, models,
# mappers) and the ERP hand-off service.
HEAVY = ("connectors.brandboom", "connectors.joor", "connectors.loop", "services.erp_handoff")


def _fresh(script: str) -> dict[str, Any]:
    """Run ``script`` in a new interpreter (no partner added from outside); it prints one JSON value."""
    env = {k: v for k, v in os.environ.items() if k != registry.EXTRA_PARTNERS_ENV}
    env["COLUMNS"] = "400"  # help lines unwrapped
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# --- the plain data and the specs ---------------------------------------------------------------


@pytest.mark.parametrize("listed", PARTNERS, ids=lambda p: p.kind)
def test_each_listed_partner_agrees_with_its_packages_spec(listed: PartnerInfo) -> None:
    # Given a partner the registry lists as plain data, when its package is imported
    spec = importlib.import_module(listed.package).SPEC
    # then the package's SPEC says the same kind, label, doc and sandbox
    assert PartnerInfo.of(spec, listed.package) == listed
    assert registry.partner(listed.kind) is spec and registry.info(listed.kind) is listed


def test_a_listing_that_disagrees_with_the_spec_is_refused_when_the_package_loads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given an entry whose label is not the SPEC's
    listed = registry.info("joor")
    wrong = PartnerInfo("joor", listed.package, "Joor Inc.", doc=listed.doc, sandbox=listed.sandbox)
    monkeypatch.setattr(registry, "_LISTED", {**registry._LISTED, "joor": wrong})
    monkeypatch.setattr(registry, "_loaded", {})
    # when the spec is asked for, then the mismatch is named
    with pytest.raises(RuntimeError, match="PARTNERS says .*'Joor Inc.'.*make them agree"):
        registry.partner("joor")


def test_the_registry_answers_kinds_labels_and_sandboxes_without_importing_a_partner() -> None:
    seen = _fresh(
        "import json, sys\n"
        "from connectors import registry\n"
        "answers = {'kinds': registry.kinds(), 'labels': [registry.label(k) for k in registry.kinds()],\n"
        "           'sandboxes': [p.kind for p in registry.infos() if p.sandbox], 'old': registry.label('gone')}\n"
        f"answers['imported'] = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps(answers))\n"
    )
    assert seen == {
        "kinds": ["brandboom", "ebay", "joor", "loop"],
        "labels": ["Brandboom", "eBay", "JOOR", "Loop Returns"],
        "sandboxes": ["brandboom", "ebay", "joor", "loop"],
        "old": "gone",
        "imported": [],
    }


def test_the_bobbin_command_starts_without_importing_a_partner_package() -> None:
    # Given a fresh process, when it imports the command and prints the help of the commands whose
    # help names the partners (the top level, `sites add --kind`, `sandbox --partner`) and `status`
    seen = _fresh(
        "import json, sys\n"
        "from typer.testing import CliRunner\n"
        "import bobbin.cli.main as main\n"
        f"after_import = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "runner = CliRunner()\n"
        "helps = [runner.invoke(main.app, [*args, '--help']) for args in ([], ['sites', 'add'], ['sandbox'], ['status'])]\n"
        "assert all(h.exit_code == 0 for h in helps), [h.output for h in helps]\n"
        f"after_help = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(json.dumps({'after_import': after_import, 'after_help': after_help,\n"
        "                  'top': helps[0].output, 'sites_add': helps[1].output, 'sandbox': helps[2].output}))\n"
    )
    # then no partner package nor the ERP hand-off service was imported
    assert seen["after_import"] == [] and seen["after_help"] == []
    # and the help still names the partners, as their SPECs do
    assert "in step with Brandboom, eBay, JOOR and Loop Returns" in " ".join(seen["top"].split())
    flat = " ".join(seen["sites_add"].split())
    for listed in PARTNERS:
        assert listed.kind in seen["sandbox"]
        assert f"{listed.kind} ({listed.doc})" in flat


# --- opening a capability -----------------------------------------------------------------------


class Client:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def _spec(kind: str, clients: list[Client], orders: OrderPull | None = None) -> PartnerSpec:
    def make_client(base_url: str, credentials: Any, settings: Any) -> Client:
        clients.append(Client())
        return clients[-1]

    return PartnerSpec(
        kind=kind,
        label=kind.title(),
        settings=SiteSettings,
        credential_fields=("token",),
        client=make_client,
        orders=orders,
        writeback=StatusWriteback(open=lambda client, settings: client, statuses=()),
    )


def test_a_capability_is_opened_through_the_spec_and_a_failed_open_closes_the_client() -> None:
    clients: list[Client] = []

    def refuse(client: Any, settings: Any) -> Any:
        raise ValueError("the toy source refuses to open")

    pull = OrderPull(open=refuse, to_partner_order=dict, order_fields={}, payload=None, exported_when="imported")
    spec = _spec("unitpull", clients, orders=pull)
    assert spec.opener("writeback")("the client", None) == "the client"
    with pytest.raises(ValueError, match="refuses to open"):
        order_source(spec, "http://127.0.0.1:1", {"token": "t"}, {})
    assert len(clients) == 1 and clients[0].closed
    # events are not opened on a client: asking is a mistake, said so before any client is built
    with pytest.raises(ValueError, match="events capability is not opened on a client"):
        spec.opener("events")
    assert len(clients) == 1


def test_a_site_context_asks_the_spec_before_it_decrypts_or_builds_anything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from core import crypto
    from core.settings import get_settings
    from models import Site
    from services.context import SiteContext

    monkeypatch.setenv("BOBBIN_SECRET_KEYS", Fernet.generate_key().decode())
    monkeypatch.setenv("BOBBIN_HOME", str(tmp_path))
    get_settings.cache_clear()
    clients: list[Client] = []
    try:
        with registered(_spec("unitctx", clients)):
            # Given a site of a partner that takes writebacks and pulls no orders, with credentials
            # no key decrypts
            site = Site(kind="unitctx", name="u", base_url="http://127.0.0.1:1", settings={})
            site.credentials_encrypted = "not a token"
            ctx = SiteContext.of(site)
            # then asking for orders is NotOffered, and events a mistake, before the credentials are read
            with pytest.raises(NotOffered, match="Unitctx sites do not import orders in Bobbin"):
                ctx.open("orders")
            with pytest.raises(ValueError, match="not opened on a client"):
                ctx.open("events")
            with pytest.raises(crypto.CredentialsError):
                ctx.open("writeback")
            assert clients == []
            # and with credentials that decrypt, the writeback is opened on a client built from them
            site.credentials_encrypted = crypto.encrypt_json({"token": "s3cret-token"})
            assert ctx.open("writeback") is clients[0]
    finally:
        get_settings.cache_clear()


def test_decrypted_credentials_are_text_and_kept_out_of_the_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    from core import crypto
    from core.logging import redact
    from core.settings import get_settings

    monkeypatch.setenv("BOBBIN_SECRET_KEYS", Fernet.generate_key().decode())
    get_settings.cache_clear()
    try:
        token = crypto.encrypt_json({"api_token": "abc-123-secret", "port": 8443})
        assert crypto.decrypt_credentials(token) == {"api_token": "abc-123-secret", "port": "8443"}
        assert redact("the token abc-123-secret leaked") == "the token **** leaked"
    finally:
        get_settings.cache_clear()
