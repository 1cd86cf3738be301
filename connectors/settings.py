"""Per-site settings every partner shares. Each partner's package subclasses :class:`SiteSettings`
with what only it has (``connectors/<name>/settings.py``); the registry names that model, and a
site's settings are validated against it when the site is added or changed."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator


class SiteSettings(BaseModel):
    """What any site can set (SPEC: schedule, default warehouse, price types, inventory push)."""

    model_config = ConfigDict(extra="forbid")
    import_minutes: int | None = Field(
        None, ge=1, le=60, description="import interval; default IMPORT_INTERVAL_MINUTES"
    )
    default_warehouse: str | None = None
    price_types: dict[str, str] = Field(default_factory=dict, description="currency -> ERP price type")
    page_size: int = Field(
        100,
        ge=2,
        le=300,
        description="orders per partner page (one of each page overlaps the page before, connectors/paging.py)",
    )
    quantity: Literal["ordered", "shipped"] = Field(
        "ordered", description="the quantity imported: ordered, or shipped where the partner reports it"
    )
    # Customers met on orders (services/holding.py): consumers buying on a marketplace are not
    # wholesale accounts a person sets up first.
    create_customers: bool = Field(
        False,
        description=(
            "orders: make an ERP customer (with its addresses) for a buyer whose e-mail matches none; "
            "off = the order waits for a person to map or create the customer"
        ),
    )
    new_ship_to: Literal["warn", "add"] = Field(
        "warn",
        description=(
            "orders: a ship-to not on file for the customer: a warning on the order (warn), or added to the "
            "customer's addresses as it imports (add)"
        ),
    )
    # Inventory push (services/inventory.py); inventory_mode picks the buckets.
    inventory_mode: Literal["immediate", "future", "both"] = "immediate"
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
    inventory_push_minutes: int | None = Field(
        None,
        ge=5,
        le=1440,
        description="push inventory (changed rows only) on a schedule every N minutes; unset = by hand only",
    )
    # Catalog and customer push (services/catalog.py, services/customer_push.py).
    catalog_inactive: Literal["remove", "deactivate", "keep"] = Field(
        "keep",
        description=(
            "catalog push: what becomes of a style made inactive in the ERP once the partner holds it: removed, "
            "deactivated, or kept as it is; each removal is recorded"
        ),
    )
    catalog_push_minutes: int | None = Field(
        None,
        ge=15,
        le=10080,
        description="push the catalog (changed items only) on a schedule every N minutes; unset = by hand only",
    )
    customers_push_minutes: int | None = Field(
        None,
        ge=15,
        le=10080,
        description="push customers (changed ones only) on a schedule every N minutes; unset = by hand only",
    )
    # ERP hand-off (services/erp_handoff.py): each imported order is written once to a file the ERP imports.
    erp_drop_folder: str | None = Field(
        None,
        description=(
            "ERP hand-off: the folder the site's order files are written to (absolute, or relative to "
            "BOBBIN_HOME); unset = <BOBBIN_HOME>/erp/outbox/<site name>/"
        ),
    )
    erp_export_format: Literal["csv", "xlsx"] = Field(
        "csv", description="ERP hand-off: the order file's format, csv (UTF-8) or xlsx"
    )

    @field_validator("import_minutes")
    @classmethod
    def _divides_hour(cls, v: int | None) -> int | None:
        if v is not None and 60 % v:
            raise ValueError("must divide 60 (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30 or 60) so runs stay on the clock")
        return v


class SettingsError(ValueError):
    """Settings that do not validate; the message names each bad field in words, and ``problems``
    holds each field's own (field name -> what is wrong with it), for a form to show beside it."""

    def __init__(self, message: str, problems: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.problems: dict[str, str] = dict(problems or {})


def validate_settings(model: type[SiteSettings], raw: dict[str, Any] | None, label: str) -> SiteSettings:
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        msgs = []
        problems: dict[str, str] = {}
        for e in exc.errors():
            where = ".".join(map(str, e["loc"]))
            if e["type"] == "extra_forbidden":
                known = ", ".join(sorted(model.model_fields))
                said = f"not a setting of {label} sites (they have: {known})"
            else:
                said = e["msg"]
            msgs.append(f"{where}: {said}")
            field = str(e["loc"][0]) if e["loc"] else ""
            problems[field] = f"{problems[field]}; {said}" if field in problems else said
        raise SettingsError(f"bad site settings: {'; '.join(msgs)}", problems) from None
