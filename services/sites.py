"""Sites: one partner account each. Creating, listing, settings, and opening a connector.

Credentials are encrypted before they reach the database and decrypted only in ``SiteContext.client``,
right before a connector is built; they are registered with the log filter so that no log line
can carry them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.registry import PartnerSpec, UnknownPartner, partner
from connectors.settings import SiteSettings
from core import crypto
from core.logging import register_secret
from models import Division, Site, Warehouse
from services.context import SiteContext, SiteError, parse_settings

__all__ = ["SiteContext", "SiteError", "SiteSettings", "create_site", "get_site", "open_site", "update_settings"]


def site_settings(site: Site) -> SiteSettings:
    """The site's settings, parsed by its partner's model."""
    return SiteContext.of(site).settings


def _partner(kind: str) -> PartnerSpec:
    try:
        return partner(kind)
    except UnknownPartner as exc:
        raise SiteError(str(exc)) from None


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
    creds = crypto.decrypt_json(site.credentials_encrypted)
    for value in creds.values():
        register_secret(str(value))
    return creds


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
