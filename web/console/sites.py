"""The sites (admins only): each partner account, its settings, pausing it, and its credentials.

- ``GET /sites``: every site — partner, active or paused, schedule, last import, its orders per
  state — with a link to each, and to add one.
- ``GET /sites/{name}``: one site: what ``bobbin sites show`` shows, its settings in a form (each
  field of its partner's settings model, ``connectors/<partner>/settings.py``), pause / resume, and
  its credentials as *set* / *not set* with when they were last replaced — never any part of them.
- ``POST /sites/{name}/settings``: the settings as typed (blank = the partner's default),
  validated by the partner's model: a refused value is told beside its field and nothing is saved
  (400); else they are saved and the site's held orders are checked again with them, as
  ``bobbin sites set`` does.
- ``POST /sites/{name}/pause`` and ``/resume``: as ``bobbin sites pause|resume``.
- ``POST /sites/{name}/credentials``: replace one or more credentials (write-only password fields;
  blank ones are kept). The value is encrypted at once and never drawn back into a page.
- ``GET /sites/new`` and ``POST /sites/new``: add a site (partner from the registry, name, URL,
  division, e-mails, credentials, settings), as ``bobbin sites add`` does.

Every change calls the same service as its ``bobbin sites`` command (``services.sites``), is
recorded with ``services.users.record_action`` (the names of what changed, never a secret), and
the next page says what it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import structlog
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from connectors.registry import UnknownPartner, label, partner, specs
from core import crypto
from core.db import session_scope
from services import orders as queries
from services import sites as service
from services import users
from services.sites import SettingsRefused, SiteError
from services.users import User
from web.console import changes, sessions
from web.console.auth import require, visitor
from web.console.render import error_page, plural, render

log = structlog.get_logger()

STATE_ORDER = ("downloaded", "valid", "invalid", "duplicate", "imported", "rejected")
NO_SITE = "There is no site {name}. The sites are listed on the Sites page."


def site_path(name: str) -> str:
    return f"/sites/{quote(name, safe='')}"


def _sentence(text: str) -> str:
    text = text.strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def _orders_words(orders: dict[str, int]) -> str:
    return ", ".join(f"{orders[s]} {s}" for s in STATE_ORDER if orders.get(s)) or "none yet"


# --- reading ------------------------------------------------------------------------------------------


def _list_data() -> list[dict[str, Any]]:
    with session_scope() as s:
        out = []
        for site in service.list_sites(s):
            record = service.site_record(s, site)
            counts = service.site_counts(s, site.id)
            record["label"] = label(site.kind)
            record["orders"] = counts["orders"]
            record["orders_words"] = _orders_words(counts["orders"])
            record["path"] = site_path(site.name)
            out.append(record)
        return out


def _site_data(
    name: str, *, texts: dict[str, str] | None = None, problems: dict[str, str] | None = None
) -> dict[str, Any] | None:
    """What the site's page shows; ``texts`` and ``problems``: a refused settings form, drawn
    again as it was typed with each field's problem beside it."""
    with session_scope() as s:
        try:
            site = service.get_site(s, name)
        except SiteError:
            return None
        record = service.site_record(s, site)
        record.update(service.site_counts(s, site.id))
        record["created_at"] = site.created_at
        record["orders_words"] = _orders_words(record["orders"])
        record["mappings_words"] = ", ".join(f"{n} {k}" for k, n in sorted(record["mappings"].items())) or "none"
        record["path"] = site_path(site.name)
        try:
            ctx = service.open_site(s, site.id)
        except SiteError as exc:  # a partner this installation no longer has, or stored settings it refuses
            return {
                "site": record,
                "label": label(site.kind),
                "broken": _sentence(str(exc)),
                "fields": [],
                "texts": {},
                "problems": {},
                "credentials": [],
                "credential_fields": (),
                "credentials_error": "",
            }
        fields = service.setting_fields(ctx.spec, ctx.settings)
        try:
            creds: list[service.CredentialState] = service.credential_status(s, site)
            creds_error = ""
        except crypto.CredentialsError as exc:
            creds, creds_error = [], _sentence(str(exc))
        return {
            "site": record,
            "label": ctx.label,
            "broken": "",
            "fields": fields,
            "texts": texts or {f.name: f.value for f in fields},
            "problems": problems or {},
            "credentials": creds,
            "credential_fields": ctx.spec.credential_fields,
            "credentials_error": creds_error,
        }


# --- changing -------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    """A change's sentence for the next page; ``problems``: settings refused field by field."""

    message: str
    kind: str = "info"
    problems: dict[str, str] = field(default_factory=dict)


def _record(user: User, action: str, site_id: int, summary: str, **detail: Any) -> None:
    with session_scope() as s:
        users.record_action(s, user, action, site_id=site_id, detail={"summary": summary, **detail})


def change_settings(user: User, name: str, texts: dict[str, str]) -> Outcome:
    """Save the settings as typed, record it, then check the held orders again (as ``bobbin sites
    set``); refused values come back field by field, with nothing saved."""
    from services.pipeline import revalidate_site

    with session_scope() as s:
        site = service.get_site(s, name)
        site_id, site_name = site.id, site.name
        before = queries.open_order_states(s, [site_id])
        try:
            changed = service.change_settings(s, site, texts)
        except SettingsRefused as exc:  # nothing was changed
            n = len(exc.problems)
            return Outcome(
                f"Nothing was saved: {plural(n, 'setting')} {'is' if n == 1 else 'are'} not right "
                f"({', '.join(exc.problems)}); see beside {'it' if n == 1 else 'each'}.",
                "error",
                exc.problems,
            )
        if not changed:
            return Outcome(f"Nothing changed: the settings of {site_name} are as they were.")
        summary = f"changed the settings of {site_name}: {', '.join(changed)}"
        users.record_action(s, user, "site_settings", site_id=site_id, detail={"summary": summary, "changed": changed})
    log.info("console_site_change", user=user.username, site=site_name, action="settings", fields=list(changed))
    result = revalidate_site(site_id)
    sentence, _ = changes.released(before)
    postponed = f" Checking the orders again was postponed: {result['skipped']}." if "skipped" in result else ""
    return Outcome(f"Saved {', '.join(changed)} of {site_name}. {sentence}{postponed}")


def set_active(user: User, name: str, active: bool) -> Outcome:
    with session_scope() as s:
        site = service.get_site(s, name)
        changed = service.set_active(s, site, active)
        site_name = site.name
        if not changed:
            return Outcome(f"Site {site_name} was already {'active' if active else 'paused'}.")
        action = "site_resumed" if active else "site_paused"
        summary = f"{'resumed' if active else 'paused'} site {site_name}"
        users.record_action(s, user, action, site_id=site.id, detail={"summary": summary})
    log.info("console_site_change", user=user.username, site=site_name, action=action)
    if active:
        return Outcome(f"Site {site_name} resumed: its orders are imported on schedule again.")
    return Outcome(f"Site {site_name} paused: no imports until it is resumed. Held orders stay as they are.")


def replace_credentials(user: User, name: str, values: dict[str, str]) -> Outcome:
    with session_scope() as s:
        site = service.get_site(s, name)
        replaced = service.replace_credentials(s, site, values)
        site_name = site.name
        summary = f"replaced the {', '.join(replaced)} of {site_name}"
        users.record_action(
            s, user, service.CREDENTIALS_REPLACED, site_id=site.id, detail={"summary": summary, "fields": replaced}
        )
    log.info("console_site_change", user=user.username, site=site_name, action="credentials", fields=replaced)
    return Outcome(
        f"Replaced the {', '.join(replaced)} of {site_name}: stored encrypted, and not shown again. "
        "The next import uses the new value."
    )


@dataclass
class NewSite:
    """A new site's form as typed (never its credentials)."""

    kind: str
    name: str = ""
    url: str = ""
    division: str = ""
    notify: str = ""
    texts: dict[str, str] = field(default_factory=dict)


def add_site(user: User, new: NewSite, creds: dict[str, str]) -> tuple[Outcome, str]:
    """Add the site (``services.sites.create_site``, as ``bobbin sites add``); the outcome and the
    new site's name ("" when refused)."""
    spec = partner(new.kind)
    emails = [e.strip() for e in new.notify.replace(";", ",").replace("\n", ",").split(",") if e.strip()]
    with session_scope() as s:
        try:
            parsed = service.settings_from_texts(s, spec, new.texts)
        except SettingsRefused as exc:
            return Outcome(
                "Nothing was added: some settings are not right; see beside each.", "error", exc.problems
            ), ""
        site = service.create_site(
            s,
            name=new.name.strip(),
            kind=new.kind,
            base_url=new.url.strip(),
            credentials={k: v.strip() for k, v in creds.items() if v.strip()},
            division=new.division.strip() or None,
            notify_emails=emails,
            settings=parsed.model_dump(exclude_defaults=True),
        )
        summary = f"added the {spec.label} site {site.name}"
        users.record_action(s, user, "site_added", site_id=site.id, detail={"summary": summary, "kind": new.kind})
        site_name = site.name
    log.info("console_site_change", user=user.username, site=site_name, action="added", kind=new.kind)
    return Outcome(
        f"Added the {spec.label} site {site_name}. Its orders are imported {service.schedule_text({}, True)} "
        "while the worker and beat run."
    ), site_name


def _guarded(call: Any, *args: Any) -> Any:
    """A change, with the refusals a person acts on (SiteError) told as the next page's message."""
    try:
        return call(*args)
    except SiteError as exc:
        return Outcome(_sentence(str(exc)), "error")


# --- pages ----------------------------------------------------------------------------------------------


@require("admin")
async def sites_page(request: Request) -> Response:
    sites = await run_in_threadpool(_list_data)
    return render(request, "sites.html", {"sites": sites, "title": "Sites"})


async def _draw_site(
    request: Request,
    name: str,
    *,
    texts: dict[str, str] | None = None,
    problems: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    data = await run_in_threadpool(lambda: _site_data(name, texts=texts, problems=problems))
    if data is None:
        return error_page(request, 404, "No such site", NO_SITE.format(name=name))
    return render(request, "site.html", {**data, "title": f"Site {data['site']['name']}"}, status_code=status_code)


@require("admin")
async def site_page(request: Request) -> Response:
    return await _draw_site(request, str(request.path_params["name"]))


def _texts(form: FormData, prefix: str = "setting.") -> dict[str, str]:
    return {k[len(prefix) :]: str(v) for k, v in form.multi_items() if k.startswith(prefix)}


def _site_exists(name: str) -> bool:
    with session_scope() as s:
        try:
            service.get_site(s, name)
        except SiteError:
            return False
        return True


@require("admin")
async def site_change(request: Request) -> Response:
    name = str(request.path_params["name"])
    action = str(request.path_params["action"])
    if action not in ("settings", "pause", "resume", "credentials"):
        return error_page(request, 404, "Not found", "There is no such change to make on a site.")
    if not await run_in_threadpool(_site_exists, name):
        return error_page(request, 404, "No such site", NO_SITE.format(name=name))
    form = await request.form()
    who = visitor(request)
    if action == "settings":
        texts = _texts(form)
        outcome = await run_in_threadpool(_guarded, change_settings, who.user, name, texts)
        if outcome.problems:  # drawn again as typed, each problem beside its field; nothing saved
            request.state.flash = (outcome.message, outcome.kind)
            return await _draw_site(request, name, texts=texts, problems=outcome.problems, status_code=400)
    elif action == "credentials":
        values = _texts(form, "credential.")
        outcome = await run_in_threadpool(_guarded, replace_credentials, who.user, name, values)
    else:
        outcome = await run_in_threadpool(_guarded, set_active, who.user, name, action == "resume")
    await run_in_threadpool(sessions.flash, who.session, outcome.message, outcome.kind)
    return RedirectResponse(site_path(name), status_code=303)


# --- a new site -----------------------------------------------------------------------------------------


def _new_data(new: NewSite | None, problems: dict[str, str]) -> dict[str, Any]:
    kinds = [(spec.kind, spec.label, spec.doc) for spec in specs()]
    data: dict[str, Any] = {"kinds": kinds, "new": new, "problems": problems, "title": "Add a site"}
    if new is None:
        return data
    spec = partner(new.kind)
    fields = service.setting_fields(spec)
    with session_scope() as s:
        data["divisions"] = service.divisions(s)
    data.update(
        label=spec.label,
        fields=fields,
        texts={f.name: new.texts.get(f.name, f.value) for f in fields},
        credential_fields=spec.credential_fields,
    )
    return data


def _known_kind(kind: str) -> str | None:
    try:
        return partner(kind).kind if kind else None
    except UnknownPartner:
        return None


@require("admin")
async def new_site_page(request: Request) -> Response:
    kind = _known_kind(str(request.query_params.get("kind") or ""))
    data = await run_in_threadpool(_new_data, NewSite(kind) if kind else None, {})
    return render(request, "site_new.html", data)


@require("admin")
async def new_site(request: Request) -> Response:
    form = await request.form()
    kind = _known_kind(str(form.get("kind") or ""))
    if kind is None:
        request.state.flash = ("Pick the partner of the new site first.", "error")
        return render(request, "site_new.html", await run_in_threadpool(_new_data, None, {}), status_code=400)
    new = NewSite(
        kind=kind,
        name=str(form.get("name") or ""),
        url=str(form.get("url") or ""),
        division=str(form.get("division") or ""),
        notify=str(form.get("notify") or ""),
        texts=_texts(form),
    )
    who = visitor(request)
    result = await run_in_threadpool(_guarded, add_site, who.user, new, _texts(form, "credential."))
    outcome, added = result if isinstance(result, tuple) else (result, "")
    if not added:  # drawn again as typed, except the credentials, which are never sent back
        again = " Type the credentials again: they are never sent back to the page."
        request.state.flash = (outcome.message + again, "error")
        data = await run_in_threadpool(_new_data, new, outcome.problems)
        return render(request, "site_new.html", data, status_code=400)
    await run_in_threadpool(sessions.flash, who.session, outcome.message, outcome.kind)
    return RedirectResponse(site_path(added), status_code=303)


routes: list[BaseRoute] = [
    Route("/sites", sites_page, methods=["GET"]),
    Route("/sites/new", new_site_page, methods=["GET"]),
    Route("/sites/new", new_site, methods=["POST"]),
    Route("/sites/{name}", site_page, methods=["GET"]),
    Route("/sites/{name}/{action}", site_change, methods=["POST"]),
]
