"""A site's mappings from partner values to ERP codes: what there is, what orders wait for, and
adding or removing one. ``bobbin map`` and the console's Mappings page both work through here.

- ``list_mappings`` / ``mapping_counts``: the site's mappings (of some kinds), as people read them.
- ``blocked_values``: the partner values no mapping covers yet, read from the open problems of the
  held orders, each with the orders it blocks.
- ``code_choices`` / ``code_words``: the ERP codes a mapping of a kind may point at (a short list
  to pick from, or None when a person types the code), and the words beside a code.
- ``add_mapping``: map a value (``services.fixes.add_mapping``, which checks the site's held orders
  again at once and imports those that became valid) and say where the orders that waited for it
  stand now. ``remove_mapping``: take one away (the held orders are checked again; imported orders
  are not touched).

Bad input (an unknown kind, an empty value, a code the ERP does not have) raises ``FixError``
with a sentence a person can act on; nothing is written then.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.db import session_scope
from models import Customer, InboundOrder, Mapping, OrderError, Site, Style
from models.sites import MAPPING_KINDS
from services import fixes
from services import orders as queries
from services.fixes import FixError
from services.holding import OPEN_STATES

# mapping kind -> the problem code an unmapped value of that kind raises (services/validation.py)
BLOCKING_CODES = {
    "terms": "terms_unmapped",
    "ship_via": "ship_via_unmapped",
    "sales_rep": "sales_rep_unknown",
    "customer": "customer_unknown",
    "warehouse": "warehouse_unmapped",
}
CODE_KINDS = {code: kind for kind, code in BLOCKING_CODES.items()}  # problem code -> mapping kind
# The kinds whose ERP codes are a short table to pick from (services.orders.erp_codes); customers
# and styles are typed.
PICKED_KINDS = tuple(k for k in queries.ERP_CODE_KINDS if k in MAPPING_KINDS)
# Each mapping kind in words, in the order pages show them.
KIND_WORDS = {
    "terms": "terms",
    "ship_via": "ship-via",
    "sales_rep": "sales rep",
    "warehouse": "warehouse",
    "customer": "customer",
    "style": "style",
}
assert set(KIND_WORDS) == set(MAPPING_KINDS), "every mapping kind needs its words"
CHOICES_MAX = 200  # codes offered in one list to pick from; more are typed


class MappingRow(TypedDict):
    """One mapping as a list shows it (``bobbin map list --json`` prints these keys)."""

    kind: str
    partner_value: str
    erp_code: str
    how: str
    created_at: datetime


class Blocked(TypedDict):
    """A partner value no mapping covers, and the open orders it holds back (oldest first)."""

    kind: str
    partner_value: str | None
    orders: list[int]
    customer_name: str | None
    order_count: int


@dataclass(frozen=True)
class Added:
    """A mapping made, and what it did."""

    site_id: int
    site_name: str
    kind: str
    partner_value: str
    erp_code: str
    previous: str | None  # the ERP code the value was mapped to before, if it was
    revalidation: dict[str, Any]  # services.pipeline.revalidate_site's summary
    waiting: list[int]  # the orders that were waiting for this value
    outcomes: list[queries.OrderOutcome]  # where those orders stand now


def kind_of(text: str) -> str:
    """The mapping kind ``text`` names (``ship-via``, ``ship_via``, any case)."""
    kind = text.strip().lower().replace("-", "_")
    if kind not in MAPPING_KINDS:
        names = ", ".join(k.replace("_", "-") for k in MAPPING_KINDS)
        raise FixError(f"mapping kind must be one of {names}, not {text!r}")
    return kind


def check_value(partner_value: str) -> str:
    """The partner value as it is stored (trimmed); an empty one is refused."""
    value = partner_value.strip()
    if not value:
        raise FixError("the partner value is empty")
    return value


def norm(value: str | None) -> str:
    """A value as matching sees it: spaces collapsed, any case."""
    return " ".join((value or "").split()).lower()


# --- reading -------------------------------------------------------------------------------------


def _row(m: Mapping) -> MappingRow:
    return {
        "kind": m.kind,
        "partner_value": m.partner_value,
        "erp_code": m.erp_code,
        "how": m.how,
        "created_at": m.created_at,
    }


def list_mappings(
    session: Session, site_id: int, kinds: Collection[str] | None = None, *, limit: int | None = None
) -> list[MappingRow]:
    """The site's mappings (of ``kinds``, or all), by kind and partner value; at most ``limit``."""
    query = select(Mapping).where(Mapping.site_id == site_id).order_by(Mapping.kind, Mapping.partner_value)
    if kinds:
        query = query.where(Mapping.kind.in_(list(kinds)))
    if limit is not None:
        query = query.limit(limit)
    return [_row(m) for m in session.scalars(query)]


def mapping_counts(session: Session, site_id: int) -> dict[str, int]:
    """kind -> how many mappings the site has of it (kinds with none are left out)."""
    return {
        kind: int(n)
        for kind, n in session.execute(
            select(Mapping.kind, func.count()).where(Mapping.site_id == site_id).group_by(Mapping.kind)
        )
    }


def find_mapping(session: Session, site_id: int, kind: str, partner_value: str) -> MappingRow | None:
    """The site's mapping of this value (as stored: trimmed), or None."""
    found = session.scalar(
        select(Mapping).where(
            Mapping.site_id == site_id, Mapping.kind == kind, Mapping.partner_value == partner_value.strip()
        )
    )
    return None if found is None else _row(found)


def blocked_values(session: Session, site_id: int, kinds: Collection[str] | None = None) -> list[Blocked]:
    """Partner values no mapping covers, from open orders' problems, with the orders each blocks;
    the values blocking most orders first."""
    codes = [BLOCKING_CODES[k] for k in (kinds or BLOCKING_CODES) if k in BLOCKING_CODES]
    rows = session.execute(
        select(OrderError.code, OrderError.value, OrderError.order_id, InboundOrder.customer_ref)
        .join(InboundOrder, InboundOrder.id == OrderError.order_id)
        .where(
            InboundOrder.site_id == site_id,
            InboundOrder.state.in_(OPEN_STATES),
            OrderError.resolved_at.is_(None),
            OrderError.code.in_(codes),
        )
        .order_by(OrderError.order_id)
    )
    groups: dict[tuple[str, str], Blocked] = {}
    for code, value, order_id, customer_ref in rows:
        group = groups.setdefault(
            (code, norm(value)),
            {
                "kind": CODE_KINDS[code],
                "partner_value": value,
                "orders": [],
                "customer_name": customer_ref if code == "customer_unknown" else None,
                "order_count": 0,
            },
        )
        if order_id not in group["orders"]:
            group["orders"].append(order_id)
            group["order_count"] = len(group["orders"])
    return sorted(groups.values(), key=lambda g: (-g["order_count"], g["kind"], g["partner_value"] or ""))


def code_choices(session: Session, kind: str, up_to: int = CHOICES_MAX) -> list[tuple[str, str]] | None:
    """(code, words) of the ERP codes a mapping of ``kind`` may point at, to pick from; None when
    there are more than ``up_to``, or for a kind whose codes are typed (customers, styles)."""
    if kind not in PICKED_KINDS:
        return None
    codes = queries.erp_codes(session, kind)
    return None if len(codes) > up_to else codes


def code_words(session: Session, kind: str, codes: Collection[str]) -> dict[str, str]:
    """ERP code -> the words beside it (a description or a name), for the codes that exist."""
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    if kind in PICKED_KINDS:
        return {c: words for c, words in queries.erp_codes(session, kind) if c in wanted}
    if kind == "customer":
        query = select(Customer.code, Customer.name).where(Customer.code.in_(wanted))
    elif kind == "style":
        query = select(Style.number, Style.description).where(Style.number.in_(wanted))
    else:
        return {}
    return {c: words or "" for c, words in session.execute(query)}


# --- changing ------------------------------------------------------------------------------------


def _waiting(session: Session, site_id: int, kind: str, value: str) -> list[int]:
    return sorted(
        {
            oid
            for g in blocked_values(session, site_id, [kind])
            if norm(g["partner_value"]) == norm(value)
            for oid in g["orders"]
        }
    )


def add_mapping(site_id: int, kind: str, partner_value: str, erp_code: str, *, how: str = "manual") -> Added:
    """Map a partner value to an ERP code on one site (replacing an earlier mapping of it); the
    site's held orders are checked again at once and those that became valid imported."""
    kind = kind_of(kind)
    value = check_value(partner_value)
    code = erp_code.strip()
    with session_scope() as s:
        site = s.get(Site, site_id)
        if site is None:
            raise FixError(f"no site {site_id}")
        site_name = site.name
        if kind == "style" and s.scalar(select(Style.id).where(Style.number == code)) is None:
            raise FixError(f"{code!r} is not an ERP style number: give the style's number as the ERP has it")
        waiting = _waiting(s, site_id, kind, value)
        before = find_mapping(s, site_id, kind, value)
    result = fixes.add_mapping(site_id, kind, value, code, how=how)
    with session_scope() as s:
        outcomes = queries.order_outcomes(s, waiting) if waiting else []
    return Added(
        site_id=site_id,
        site_name=site_name,
        kind=kind,
        partner_value=value,
        erp_code=code,
        previous=before["erp_code"] if before else None,
        revalidation=result,
        waiting=waiting,
        outcomes=outcomes,
    )


def remove_mapping(site_id: int, kind: str, partner_value: str) -> MappingRow | None:
    """Remove the site's mapping of this value; the held orders are checked again (imported orders
    are not touched). Returns the mapping removed, or None when there was none."""
    kind = kind_of(kind)
    with session_scope() as s:
        found = find_mapping(s, site_id, kind, partner_value)
    if found is None or not fixes.remove_mapping(site_id, kind, partner_value):
        return None
    return found
