"""What operations staff do to an order that did not import, and the re-validation it triggers.

Every fix is one transaction followed by re-validation of the orders it could concern; those
that became valid are imported right away (SPEC: "When master data or a mapping changes, the
orders it could fix are validated again automatically").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from connectors.base import Address
from core.db import session_scope
from models import (
    Customer,
    InboundOrder,
    Mapping,
    OrderError,
    SalesRep,
    ShipVia,
    Site,
    Terms,
    Warehouse,
)
from models.sites import MAPPING_KINDS
from services import buyers, masterdata
from services.context import SiteContext
from services.holding import MAPPING_KEY_MAX, check_order, partner_order
from services.outbox import queue_customer_code
from services.pipeline import revalidate_open_orders, revalidate_site
from services.validation import customer_key


class FixError(ValueError):
    """The fix cannot be made as asked; the message says why."""


_TARGETS: dict[str, Any] = {
    "customer": Customer,
    "terms": Terms,
    "ship_via": ShipVia,
    "sales_rep": SalesRep,
    "warehouse": Warehouse,
}


def add_mapping(site_id: int, kind: str, partner_value: str, erp_code: str, *, how: str = "manual") -> dict[str, Any]:
    """Map a partner value to an ERP code for one site (replacing an earlier mapping), then re-validate."""
    if kind not in MAPPING_KINDS:
        raise FixError(f"mapping kind must be one of {', '.join(MAPPING_KINDS)}")
    with session_scope() as s:
        model = _TARGETS.get(kind)
        if model is not None and not s.scalar(select(model.id).where(model.code == erp_code)):
            raise FixError(f"{erp_code!r} is not an ERP {kind.replace('_', ' ')} code")
        upsert_mapping(s, site_id, kind, partner_value, erp_code, how)
    return revalidate_site(site_id)


def upsert_mapping(session: Session, site_id: int, kind: str, partner_value: str, erp_code: str, how: str) -> None:
    if len(partner_value.strip()) > MAPPING_KEY_MAX:
        raise FixError(
            f"a partner value longer than {MAPPING_KEY_MAX} characters cannot be mapped; correct it on the partner"
        )
    stmt = pg_insert(Mapping).values(
        site_id=site_id, kind=kind, partner_value=partner_value.strip(), erp_code=erp_code, how=how
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[Mapping.site_id, Mapping.kind, Mapping.partner_value],
            set_={"erp_code": erp_code, "how": how},
        )
    )


def remove_mapping(site_id: int, kind: str, partner_value: str) -> bool:
    with session_scope() as s:
        row = s.scalar(
            select(Mapping).where(
                Mapping.site_id == site_id, Mapping.kind == kind, Mapping.partner_value == partner_value.strip()
            )
        )
        if row is None:
            return False
        s.delete(row)
    revalidate_site(site_id)
    return True


def _context(session: Session, order: InboundOrder) -> SiteContext:
    site = session.get(Site, order.site_id)
    assert site is not None
    return SiteContext.of(site)


def _order(session: Session, order_id: int) -> InboundOrder:
    order = session.get(InboundOrder, order_id)
    if order is None:
        raise FixError(f"no order {order_id}")
    return order


def resolve_customer(order_id: int, customer_code: str) -> dict[str, Any]:
    """Map the order's partner customer to an existing ERP customer (all its orders benefit)."""
    with session_scope() as s:
        order = _order(s, order_id)
        if order.state == "imported":
            raise FixError(f"order {order_id} is already imported")
        if not s.scalar(select(Customer.id).where(Customer.code == customer_code)):
            raise FixError(f"{customer_code!r} is not an ERP customer code")
        ctx = _context(s, order)
        site = ctx.site
        key = customer_key(partner_order(order, ctx))
        if not key:
            raise FixError(f"order {order_id} names no customer to map")
        upsert_mapping(s, site.id, "customer", key, customer_code, "manual")
        site_id = site.id
    return revalidate_site(site_id)


def create_customer_from_order(order_id: int, code: str | None = None) -> tuple[str, dict[str, Any]]:
    """Create the ERP customer from the order's customer block, map it, re-validate. Returns the code."""
    with session_scope() as s:
        order = _order(s, order_id)
        ctx = _context(s, order)
        site = ctx.site
        partner, outcome = check_order(order, ctx, masterdata.load(s, site.id))
        c = partner.customer
        key = customer_key(partner)
        if not key or not (c.name or c.email):
            raise FixError(f"order {order_id} has no customer name or e-mail to create a customer from")
        code = (code or buyers.new_customer_code(s, c.name or c.email or "CUST")).upper()
        if s.scalar(select(Customer.id).where(Customer.code == code)):
            raise FixError(f"customer {code} already exists; map to it with --customer {code}")
        r = outcome.resolved
        s.add(
            Customer(
                code=code,
                name=c.name or c.email or code,
                email=c.email,
                division_code=site.division_code,
                terms_code=r.terms_code,
                ship_via_code=r.ship_via_code,
                rep_code=r.rep_code,
                created_from=f"order {order_id} ({site.name} {order.partner_order_id})",
            )
        )
        s.flush()
        for kind, addr in (("billing", c.billing), ("shipping", c.shipping or partner.ship_to)):
            if addr and not addr.is_empty():
                add_address(s, code, kind, addr)
        upsert_mapping(s, site.id, "customer", key, code, "created")
        if c.partner_id:  # the partner's customer carries the new code, where it can
            queue_customer_code(s, ctx, order_id, c.partner_id, code)
        site_id = site.id
    return code, revalidate_site(site_id)


def add_address(session: Session, customer_code: str, kind: str, addr: Address) -> None:
    try:
        buyers.add_address(session, customer_code, kind, addr)
    except buyers.AddressTooLong as exc:
        raise FixError(str(exc)) from exc


def add_ship_to_address(order_id: int) -> tuple[str, dict[str, Any]]:
    """A person decided the order's new ship-to is right: add it to the ERP customer, check again."""
    with session_scope() as s:
        order = _order(s, order_id)
        ctx = _context(s, order)
        site = ctx.site
        partner, outcome = check_order(order, ctx, masterdata.load(s, site.id))
        code = outcome.resolved.customer_code
        if code is None:
            raise FixError(f"order {order_id} has no ERP customer yet; resolve the customer first")
        if partner.ship_to is None or partner.ship_to.is_empty():
            raise FixError(f"order {order_id} has no ship-to address")
        add_address(s, code, "shipping", partner.ship_to)
        site_id = site.id
    result = revalidate_site(site_id, [order_id]) if order.state != "imported" else {}
    if order.state == "imported":  # the warning was on an imported order: it is settled now
        with session_scope() as s:
            s.execute(
                update(OrderError)
                .where(
                    OrderError.order_id == order_id, OrderError.code == "address_new", OrderError.resolved_at.is_(None)
                )
                .values(resolved_at=func.now())
            )
    return code, result


def reject(order_id: int, reason: str | None = None) -> None:
    with session_scope() as s:
        order = _order(s, order_id)
        if order.state == "imported":
            raise FixError(f"order {order_id} is imported; mark it void instead")
        order.state = "rejected"


def import_by_hand(
    order_ids: list[int] | None = None, *, site_id: int | None = None, allow_duplicate: bool = False
) -> dict[str, Any]:
    """`orders import ID…` / `--all-valid`: validate again, then import what is valid."""
    with session_scope() as s:
        if order_ids:
            rows = s.execute(select(InboundOrder.id, InboundOrder.site_id).where(InboundOrder.id.in_(order_ids))).all()
            missing = set(order_ids) - {r.id for r in rows}
            if missing:
                raise FixError(f"no order {', '.join(map(str, sorted(missing)))}")
            grouped: dict[int, list[int]] = {}
            for r in rows:
                grouped.setdefault(r.site_id, []).append(r.id)
            by_site: dict[int, list[int] | None] = dict(grouped)
        else:
            q = select(InboundOrder.site_id).where(InboundOrder.state == "valid").distinct()
            if site_id is not None:
                q = q.where(InboundOrder.site_id == site_id)
            by_site = dict.fromkeys(s.scalars(q))
    totals: dict[str, Any] = {"imported": 0, "validated": 0}
    for sid, ids in by_site.items():
        result = revalidate_site(sid, ids, allow_duplicate=allow_duplicate)
        totals["imported"] += result.get("imported", 0)
        totals["validated"] += result.get("validated", 0)
    return totals


def after_master_data_change() -> dict[int, dict[str, Any]]:
    """Called after `erp load …`: every open order is validated again (SKUs or customers may exist now)."""
    return revalidate_open_orders()
