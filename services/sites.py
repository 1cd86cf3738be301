"""Sites: one partner account each. Creating, listing, settings, and opening a connector.

Credentials are encrypted before they reach the database and decrypted only in ``open_source``,
right before a connector is built; they are registered with the log filter so that no log line
can carry them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.base import OrderSource
from connectors.registry import connector
from core import crypto
from core.logging import register_secret
from models import Division, Site, Warehouse


class SiteError(ValueError):
    """A site cannot be created or used as asked; the message says why in words."""


class SiteSettings(BaseModel):
    """Per-site settings (SPEC: order-import statuses, schedule, inventory push mode, ...)."""

    model_config = ConfigDict(extra="forbid")
    import_statuses: list[str] = Field(default_factory=lambda: ["export"])
    import_minutes: int | None = Field(
        None, ge=1, le=60, description="import interval; default IMPORT_INTERVAL_MINUTES"
    )
    default_warehouse: str | None = None
    inventory_mode: Literal["immediate", "future", "both"] = "immediate"
    split_by_color: bool = False
    price_types: dict[str, str] = Field(default_factory=dict, description="currency -> ERP price type")
    page_size: int = Field(
        100,
        ge=2,
        le=300,
        description="orders per partner page (one of each page overlaps the page before, connectors/paging.py)",
    )
    order_types: list[int] = Field(
        default_factory=lambda: [6], description="JOOR order types to import (6 approved, 7 shipped)"
    )
    quantity: Literal["ordered", "shipped"] = "ordered"
    credits: int = Field(
        300,
        ge=5,
        description="JOOR: API credits the account is granted per window (JOOR's "
        "default 300; some accounts are granted more)",
    )
    credit_window_seconds: int = Field(300, ge=1, description="JOOR: length of the credit window in seconds")
    # Inventory push (services/inventory.py); inventory_mode above picks the buckets.
    inventory_warehouses: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "inventory push: ERP warehouse code -> the partner's warehouse name ('' = its default); only these "
            "warehouses are pushed, several may add up into one; empty = every ERP warehouse into the default"
        ),
    )
    inventory_cap: int | None = Field(
        None, ge=0, description="inventory push: never send more than this per SKU, warehouse and bucket"
    )
    inventory_floor: int | None = Field(
        None, ge=1, description="inventory push: send 0 when fewer than this are available (the last units stay back)"
    )
    inventory_dec_pending: bool = Field(
        False, description="JOOR inventory push: dec_pending=1, JOOR subtracts its pending orders from what is sent"
    )
    inventory_push_minutes: int | None = Field(
        None,
        ge=5,
        le=1440,
        description=("push inventory (changed rows only) on a schedule every N minutes; unset = by hand only"),
    )
    brand_id: int | None = Field(None, description="Brandboom brandID sent with products/import (Account page)")
    showroom_id: int | None = Field(None, description="Brandboom showroomID sent with products/import")

    @field_validator("import_minutes")
    @classmethod
    def _divides_hour(cls, v: int | None) -> int | None:
        if v is not None and 60 % v:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60) so runs stay on the clock")
        return v


def parse_settings(raw: dict[str, Any] | None) -> SiteSettings:
    try:
        return SiteSettings.model_validate(raw or {})
    except ValidationError as exc:
        msgs = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise SiteError(f"bad site settings: {msgs}") from None


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
    connector(kind)
    if not base_url.startswith(("http://", "https://")):
        raise SiteError(f"base URL must start with http:// or https://, got {base_url!r}")
    if session.scalar(select(Site.id).where(Site.name == name)):
        raise SiteError(f"a site named {name!r} already exists")
    if division and not session.scalar(select(Division.id).where(Division.code == division)):
        raise SiteError(f"ERP division {division!r} does not exist")
    parsed = parse_settings(settings)
    if parsed.default_warehouse and not session.scalar(
        select(Warehouse.id).where(Warehouse.code == parsed.default_warehouse)
    ):
        raise SiteError(f"default warehouse {parsed.default_warehouse!r} is not an ERP warehouse")
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
    spec = connector(kind)
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


def site_settings(site: Site) -> SiteSettings:
    return parse_settings(site.settings)


def credentials(site: Site) -> dict[str, str]:
    creds = crypto.decrypt_json(site.credentials_encrypted)
    for value in creds.values():
        register_secret(str(value))
    return creds


def open_source(site: Site) -> OrderSource:
    spec = connector(site.kind)
    return spec.make_source(site.base_url, credentials(site), site_settings(site).model_dump())


def update_settings(session: Session, site: Site, values: dict[str, Any]) -> SiteSettings:
    """Change some settings of a site (maps such as ``price_types`` are merged key by key)."""
    current = dict(site.settings or {})
    for key, value in values.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            value = {**current[key], **value}
        current[key] = value
    parsed = parse_settings(current)
    if parsed.default_warehouse and not session.scalar(
        select(Warehouse.id).where(Warehouse.code == parsed.default_warehouse)
    ):
        raise SiteError(f"default warehouse {parsed.default_warehouse!r} is not an ERP warehouse")
    site.settings = parsed.model_dump(exclude_defaults=True)
    return parsed
