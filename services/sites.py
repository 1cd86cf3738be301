"""Sites: one partner account each. Creating, listing, settings, and opening a connector.

Credentials are encrypted before they reach the database and decrypted only in ``SiteContext.client``,
right before a connector is built; they are registered with the log filter so that no log line
can carry them. A person sees them masked (``bobbin sites show``) or only as set / not set (the
console), and replaces them write-only (``replace_credentials``).

What ``bobbin sites`` and the console's Sites page both show and change is here: the site's
record (``site_record``, ``site_counts``, ``last_import``, ``schedule_text``), settings typed as
text (``parse_setting_values``, ``setting_text``, ``setting_fields``, ``settings_from_texts``,
``change_settings``), pausing (``set_active``) and credentials (``credential_status``,
``replace_credentials``).
"""

from __future__ import annotations

import json
import types
import typing
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connectors.registry import PartnerSpec, UnknownPartner, partner
from connectors.settings import SettingsError, SiteSettings, validate_settings
from core import crypto
from core.logging import register_secret
from models import ConsoleAction, Division, InboundOrder, Mapping, Site, SyncRun, Warehouse
from services.context import SiteContext, SiteError, parse_settings
from services.runs import is_import

__all__ = [
    "SettingsRefused",
    "SiteContext",
    "SiteError",
    "SiteSettings",
    "change_settings",
    "create_site",
    "get_site",
    "open_site",
    "parse_setting_values",
    "replace_credentials",
    "set_active",
    "site_record",
    "update_settings",
]

CREDENTIALS_REPLACED = "site_credentials_replaced"  # console_action.action when credentials are replaced


class SettingsRefused(SiteError):
    """Settings typed in a form that cannot be saved: ``problems`` says, field by field, why."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems.items()))
        self.problems = problems


def site_settings(site: Site) -> SiteSettings:
    """The site's settings, parsed by its partner's model."""
    return SiteContext.of(site).settings


def _partner(kind: str) -> PartnerSpec:
    try:
        return partner(kind)
    except UnknownPartner as exc:
        raise SiteError(str(exc)) from None


def check_site_name(name: str) -> None:
    """A site's name is how people and addresses name it: ``bobbin … SITE`` takes a name or an id,
    and ``SITE:PARTNER_ORDER_ID`` names an order, so a name of digits only (read as an id) or with a
    colon could not be told apart."""
    if not name or name != name.strip():
        raise SiteError(f"a site name must not be empty or start or end with a space, got {name!r}")
    if name.isdigit():
        raise SiteError(f"a site name must not be digits only ({name!r} would read as a site id): add a word")
    if ":" in name:
        raise SiteError(f"a site name must not contain ':' ({name!r}): SITE:ORDER names an order")


def check_new_site(
    session: Session,
    *,
    name: str,
    kind: str,
    base_url: str,
    division: str | None,
    notify_emails: list[str],
    settings: dict[str, Any] | None = None,
) -> SiteSettings:
    """Everything about a new site but its credentials, checked before anyone is asked for secrets."""
    spec = _partner(kind)
    check_site_name(name)
    if not base_url.startswith(("http://", "https://")):
        raise SiteError(f"base URL must start with http:// or https://, got {base_url!r}")
    if session.scalar(select(Site.id).where(Site.name == name)):
        raise SiteError(f"a site named {name!r} already exists")
    if division and not session.scalar(select(Division.id).where(Division.code == division)):
        raise SiteError(f"ERP division {division!r} does not exist")
    parsed = parse_settings(spec, settings)
    _check_warehouse(session, parsed)
    for email in notify_emails:
        if "@" not in email:
            raise SiteError(f"{email!r} is not an e-mail address")
    return parsed


def create_site(
    session: Session,
    *,
    name: str,
    kind: str,
    base_url: str,
    credentials: dict[str, str],
    division: str | None,
    notify_emails: list[str],
    settings: dict[str, Any] | None = None,
) -> Site:
    parsed = check_new_site(
        session,
        name=name,
        kind=kind,
        base_url=base_url,
        division=division,
        notify_emails=notify_emails,
        settings=settings,
    )
    spec = _partner(kind)
    missing = [f for f in spec.credential_fields if not credentials.get(f)]
    if missing:
        raise SiteError(f"{spec.label} needs credentials: {', '.join(missing)}")
    site = Site(
        name=name,
        kind=kind,
        base_url=base_url.rstrip("/"),
        division_code=division,
        credentials_encrypted=crypto.encrypt_json(credentials),
        notify_emails=notify_emails,
        settings=parsed.model_dump(exclude_defaults=True),
        active=True,
    )
    session.add(site)
    session.flush()
    return site


def get_site(session: Session, ref: int | str) -> Site:
    """A site by id or name, or SiteError naming the sites there are."""
    site = None
    if isinstance(ref, int) or str(ref).isdigit():
        site = session.get(Site, int(ref))
    if site is None:
        site = session.scalar(select(Site).where(Site.name == str(ref)))
    if site is None:
        names = session.scalars(select(Site.name).order_by(Site.id)).all()
        raise SiteError(f"no site {ref!r}; sites: {', '.join(names) or 'none yet (bobbin sites add)'}")
    return site


def open_site(session: Session, ref: int | str) -> SiteContext:
    """A site by id or name with its parsed settings and partner spec (SiteError when there is none)."""
    site = get_site(session, ref)
    try:
        return SiteContext.of(site)
    except UnknownPartner as exc:
        raise SiteError(f"site {site.name}: {exc}") from None


def credentials(site: Site) -> dict[str, str]:
    """The site's credentials, decrypted (each value kept out of the logs)."""
    return crypto.decrypt_credentials(site.credentials_encrypted)


def update_settings(session: Session, site: Site, values: dict[str, Any]) -> SiteSettings:
    """Change some settings of a site (maps such as ``price_types`` are merged key by key)."""
    current = dict(site.settings or {})
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            value = {**current[key], **value}
        current[key] = value
    parsed = parse_settings(_partner(site.kind), current)
    _check_warehouse(session, parsed)
    site.settings = parsed.model_dump(exclude_defaults=True)
    return parsed


def _check_warehouse(session: Session, parsed: SiteSettings) -> None:
    if parsed.default_warehouse and not session.scalar(
        select(Warehouse.id).where(Warehouse.code == parsed.default_warehouse)
    ):
        raise SiteError(f"default warehouse {parsed.default_warehouse!r} is not an ERP warehouse")


# --- settings typed as text (the CLI's KEY=VALUE, the console's form) -------------------------------


def _unwrap(annotation: Any) -> Any:
    """``X`` of ``X | None``; the annotation itself otherwise."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def _is_text(annotation: Any) -> bool:
    """A field that takes text as typed (a string, or one of some strings)."""
    inner = _unwrap(annotation)
    if inner is str:
        return True
    return typing.get_origin(inner) is typing.Literal and all(isinstance(a, str) for a in typing.get_args(inner))


def parse_setting_values(raw: dict[str, str], spec: PartnerSpec) -> dict[str, Any]:
    """Setting values typed as text, as the partner's settings model wants them: lists
    comma-separated (``import_statuses=export,processing``), maps as ``USD:WHL,EUR:WHLE``, text
    fields as typed, else JSON when it parses (``inventory_dec_pending=true``, ``page_size=50``),
    else text. A key that is not a setting is a SiteError naming the settings there are."""
    fields = spec.settings.model_fields
    out: dict[str, Any] = {}
    for key, text in raw.items():
        field = fields.get(key)
        if field is None:
            raise SiteError(f"{key!r} is not a setting of {spec.label} sites; their settings: {', '.join(fields)}")
        origin = typing.get_origin(field.annotation)
        if text.lstrip().startswith(("[", "{")):
            try:
                out[key] = json.loads(text)
                continue
            except ValueError:
                pass
        if origin is list:
            out[key] = [v.strip() for v in text.split(",") if v.strip()]
        elif origin is dict:
            pairs = [p.partition(":") for p in text.split(",") if p.strip()]
            out[key] = {k.strip(): v.strip() for k, _sep, v in pairs}
        elif text.strip().lower() in ("true", "false", "yes", "no", "on", "off"):
            out[key] = text.strip().lower() in ("true", "yes", "on")
        elif text.strip() == "":
            out[key] = None
        elif _is_text(field.annotation):
            out[key] = text.strip()
        else:
            try:
                out[key] = json.loads(text)
            except ValueError:
                out[key] = text
    return out


def setting_text(value: Any) -> str:
    """A setting's value as text, in the form ``parse_setting_values`` reads back."""
    if value is None:
        return ""
    if isinstance(value, list):
        return ",".join(map(str, value))
    if isinstance(value, dict):
        return ",".join(f"{k}:{v}" for k, v in value.items())
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class SettingField:
    """One field of a partner's settings model, as a form shows it."""

    name: str
    label: str  # "Import statuses"
    description: str  # the model's words for it ("" when it has none)
    kind: str  # text | number | list | map | choice | yes-no
    choices: tuple[str, ...]  # for choice and yes-no
    default: str  # the default as text ("" = unset)
    value: str  # the current value as text
    is_set: bool  # the site sets it (else it has the default)


def _field_kind(annotation: Any) -> tuple[str, tuple[str, ...]]:
    inner = _unwrap(annotation)
    origin = typing.get_origin(inner)
    if origin is list:
        return "list", ()
    if origin is dict:
        return "map", ()
    if origin is typing.Literal:
        return "choice", tuple(str(a) for a in typing.get_args(inner))
    if inner is bool:
        return "yes-no", ("true", "false")
    if inner in (int, float):
        return "number", ()
    return "text", ()


_ACRONYMS = {"erp": "ERP", "id": "ID", "url": "URL", "po": "PO", "sku": "SKU", "api": "API"}


def _label(name: str) -> str:
    """A field's name as people read it: ``erp_drop_folder`` -> "ERP drop folder"."""
    words = [_ACRONYMS.get(w, w) for w in name.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def setting_fields(spec: PartnerSpec, current: SiteSettings | None = None) -> list[SettingField]:
    """Each setting of the partner's model, in the model's order, with its value on a site
    (``current``) or, for a new site, its default."""
    defaults = spec.settings()
    stored = current.model_dump(exclude_defaults=True) if current is not None else {}
    out = []
    for name, info in spec.settings.model_fields.items():
        kind, choices = _field_kind(info.annotation)
        out.append(
            SettingField(
                name=name,
                label=_label(name),
                description=info.description or "",
                kind=kind,
                choices=choices,
                default=setting_text(getattr(defaults, name)),
                value=setting_text(getattr(current if current is not None else defaults, name)),
                is_set=name in stored,
            )
        )
    return out


def _sentence(text: str) -> str:
    text = text.removeprefix("Value error, ").strip()
    if not text:
        return text
    return text[0].upper() + text[1:] + ("" if text.endswith((".", "?", "!")) else ".")


def settings_from_texts(
    session: Session, spec: PartnerSpec, texts: dict[str, str], current: dict[str, Any] | None = None
) -> SiteSettings:
    """Settings typed in a form, over ``current`` (a site's stored settings): each field's text
    (blank = the partner's default; a field not given keeps its value), validated by the
    partner's settings model. SettingsRefused says field by field what is wrong; nothing is kept."""
    raw = dict(current or {})
    problems: dict[str, str] = {}
    for name in spec.settings.model_fields:
        if name not in texts:
            continue
        text = texts[name].strip()
        if not text:
            raw.pop(name, None)
            continue
        try:
            raw[name] = parse_setting_values({name: text}, spec)[name]
        except SiteError as exc:
            problems[name] = _sentence(str(exc))
    try:
        parsed = validate_settings(spec.settings, raw, spec.label)
    except SettingsError as exc:
        for name, why in exc.problems.items():
            problems.setdefault(name, _sentence(why))
        raise SettingsRefused(problems) from None
    if problems:
        raise SettingsRefused(problems)
    try:
        _check_warehouse(session, parsed)
    except SiteError as exc:
        raise SettingsRefused({"default_warehouse": _sentence(str(exc))}) from None
    return parsed


def change_settings(session: Session, site: Site, texts: dict[str, str]) -> dict[str, str]:
    """Set a site's settings from a form's texts (``settings_from_texts``): the fields whose value
    changed, each with its new value as text. Nothing is saved when a field is refused."""
    spec = _partner(site.kind)
    before = parse_settings(spec, site.settings)
    after = settings_from_texts(session, spec, texts, site.settings)
    changed = {
        name: setting_text(getattr(after, name))
        for name in spec.settings.model_fields
        if getattr(after, name) != getattr(before, name)
    }
    if changed:
        site.settings = after.model_dump(exclude_defaults=True)
    return changed


# --- what people see of a site ------------------------------------------------------------------------


def schedule_text(site_settings: dict[str, Any], active: bool) -> str:
    from core.settings import get_settings

    if not active:
        return "paused"
    minutes = (site_settings or {}).get("import_minutes") or get_settings().import_interval_minutes
    return f"every {minutes} min"


def last_import(session: Session, site_id: int) -> dict[str, Any] | None:
    """The site's newest import run, whatever its outcome (None when it never ran)."""
    run = session.scalars(
        select(SyncRun)
        .where(SyncRun.site_id == site_id, is_import(SyncRun.task))
        .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    return {
        "run_id": run.id,
        "outcome": run.outcome,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "counts": run.counts or {},
        "error": run.error,
    }


def site_counts(session: Session, site_id: int) -> dict[str, dict[str, int]]:
    """The site's orders per state and mappings per kind."""
    return {
        "orders": dict(
            session.execute(
                select(InboundOrder.state, func.count())
                .where(InboundOrder.site_id == site_id)
                .group_by(InboundOrder.state)
            ).all()
        ),
        "mappings": dict(
            session.execute(
                select(Mapping.kind, func.count()).where(Mapping.site_id == site_id).group_by(Mapping.kind)
            ).all()
        ),
    }


def _decrypt(site: Site) -> dict[str, str]:
    return credentials(site)


def site_record(
    session: Session, site: Site, *, credentials: dict[str, str] | None = None, detail: bool = False
) -> dict[str, Any]:
    """The site as ``bobbin sites`` shows it (and its ``--json`` prints it); credentials only masked."""
    record: dict[str, Any] = {
        "id": site.id,
        "name": site.name,
        "kind": site.kind,
        "url": site.base_url,
        "division": site.division_code,
        "active": site.active,
        "notify": list(site.notify_emails or []),
        "schedule": schedule_text(site.settings, site.active),
        "last_import": last_import(session, site.id),
    }
    if detail or credentials is not None:
        if credentials is None:
            try:
                credentials = _decrypt(site)
                record["credentials"] = {k: crypto.mask(str(v)) for k, v in credentials.items()}
            except crypto.CredentialsError as exc:
                record["credentials"] = {"error": str(exc)}
        else:
            record["credentials"] = {k: crypto.mask(v) for k, v in credentials.items()}
        record["settings"] = site_settings(site).model_dump()
    if detail:
        record["created_at"] = site.created_at
        record.update(site_counts(session, site.id))
    return record


def list_sites(session: Session) -> list[Site]:
    return list(session.scalars(select(Site).order_by(Site.id)))


def divisions(session: Session) -> list[tuple[str, str]]:
    """(code, name) of the ERP's divisions, a new site's choice."""
    return [(c, n) for c, n in session.execute(select(Division.code, Division.name).order_by(Division.code))]


# --- pausing ----------------------------------------------------------------------------------------


def set_active(session: Session, site: Site, active: bool) -> bool:
    """Resume (``active``) or pause the site's imports; whether that changed anything."""
    changed = site.active != active
    site.active = active
    return changed


# --- credentials: write-only ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialState:
    """What a person may know of one credential: whether it is set, and when it was last replaced."""

    name: str
    is_set: bool
    changed_at: datetime | None  # the last replacement (None: as the site was added)
    changed_by: str | None


def credentials_changed(session: Session, site_id: int) -> dict[str, tuple[datetime, str]]:
    """credential field -> (when, who) of its last replacement."""
    out: dict[str, tuple[datetime, str]] = {}
    for row in session.scalars(
        select(ConsoleAction)
        .where(ConsoleAction.site_id == site_id, ConsoleAction.action == CREDENTIALS_REPLACED)
        .order_by(ConsoleAction.at.desc(), ConsoleAction.id.desc())
    ):
        for name in row.detail.get("fields", []):
            out.setdefault(str(name), (row.at, row.actor))
    return out


def credential_status(session: Session, site: Site) -> list[CredentialState]:
    """Each credential of the site's partner: set or not, and when it was last replaced — never
    any part of its value. CredentialsError when the stored ones cannot be decrypted."""
    stored = credentials(site)
    changed = credentials_changed(session, site.id)
    return [
        CredentialState(
            name=name,
            is_set=bool(str(stored.get(name) or "").strip()),
            changed_at=changed[name][0] if name in changed else None,
            changed_by=changed[name][1] if name in changed else None,
        )
        for name in _partner(site.kind).credential_fields
    ]


def replace_credentials(session: Session, site: Site, values: dict[str, str]) -> list[str]:
    """Replace some credentials of a site (blank ones are left as they are); the names of those
    replaced. The values are encrypted at once and never returned."""
    spec = _partner(site.kind)
    unknown = sorted(set(values) - set(spec.credential_fields))
    if unknown:
        raise SiteError(f"{spec.label} credentials are {', '.join(spec.credential_fields)}; not {', '.join(unknown)}")
    given = {name: value.strip() for name, value in values.items() if value.strip()}
    if not given:
        raise SiteError("Nothing was replaced: type the new value of the credential first.")
    for value in given.values():
        register_secret(value)
    try:
        current = credentials(site)
    except crypto.CredentialsError:
        missing = [f for f in spec.credential_fields if f not in given]
        if missing:
            raise SiteError(
                "The stored credentials cannot be decrypted with BOBBIN_SECRET_KEYS, so none can be kept: "
                f"type every one of them ({', '.join(spec.credential_fields)}) to replace them all."
            ) from None
        current = {}
    site.credentials_encrypted = crypto.encrypt_json({**current, **given})
    return [f for f in spec.credential_fields if f in given]
