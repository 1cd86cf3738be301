"""ERP master data and a site's mappings, loaded once per run into sets and dicts.

Validation of a whole run reads from one ``MasterData``: no query per order or per line
(SPEC performance rules). Lookups are case- and space-insensitive where people type values.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import (
    Customer,
    CustomerAddress,
    InboundOrder,
    Mapping,
    SalesOrder,
    SalesRep,
    ShipVia,
    Sku,
    Terms,
    Warehouse,
)


def norm(value: str | None) -> str:
    return " ".join((value or "").split()).lower()


@dataclass(frozen=True)
class CustomerInfo:
    code: str
    name: str
    email: str | None
    terms_code: str | None
    ship_via_code: str | None
    rep_code: str | None


@dataclass
class MasterData:
    customers: dict[str, CustomerInfo] = field(default_factory=dict)  # code -> info
    customer_addresses: dict[str, set[str]] = field(default_factory=dict)  # code -> address keys
    # For auto-mapping a partner customer: normalized e-mail -> codes; (name, postal code) -> codes.
    customers_by_email: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    customers_by_name_postal: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    reps: dict[str, str] = field(default_factory=dict)  # normalized code / name / email -> code
    terms: dict[str, str] = field(default_factory=dict)  # normalized code / description -> code
    ship_vias: dict[str, str] = field(default_factory=dict)
    warehouses: dict[str, str] = field(default_factory=dict)
    sku_by_id: dict[str, str] = field(default_factory=dict)  # normalized sku id -> sku id
    sku_by_upc: dict[str, str] = field(default_factory=dict)
    sku_by_variant: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (style, color, size)
    mappings: dict[str, dict[str, str]] = field(default_factory=lambda: defaultdict(dict))  # kind -> value -> code
    # (customer code, normalized PO) -> "who has it": inbound order ids and ERP order numbers.
    po_owners: dict[tuple[str, str], list[tuple[int | None, str]]] = field(default_factory=lambda: defaultdict(list))
    po_of: dict[int, tuple[str, str]] = field(default_factory=dict)  # inbound order id -> its PO key

    def lookup_customer(self, code: str | None) -> CustomerInfo | None:
        if not code:
            return None
        return self.customers.get(code) or self.customers.get(code.strip().upper())

    def mapped(self, kind: str, value: str | None) -> str | None:
        return self.mappings.get(kind, {}).get(norm(value)) if value else None


def norm_postal(value: str | None) -> str:
    """Postal codes compare without spaces or case, and ZIP+4 as its first five digits."""
    v = "".join((value or "").split()).upper()
    return v[:5] if len(v) == 10 and v[5] == "-" and v[:5].isdigit() else v


def address_key_string(key: tuple[str, ...]) -> str:
    return "|".join(key)


def load(session: Session, site_id: int) -> MasterData:
    md = MasterData()
    for c in session.execute(
        select(
            Customer.code, Customer.name, Customer.email, Customer.terms_code, Customer.ship_via_code, Customer.rep_code
        )
    ):
        md.customers[c.code] = CustomerInfo(*c)
        if c.email:
            md.customers_by_email[norm(c.email)].add(c.code)
    addresses: dict[str, set[str]] = defaultdict(set)
    for code, key, postal in session.execute(
        select(CustomerAddress.customer_code, CustomerAddress.address_key, CustomerAddress.postal_code)
    ):
        addresses[code].add(key)
        if postal and code in md.customers:
            md.customers_by_name_postal[(norm(md.customers[code].name), norm_postal(postal))].add(code)
    md.customer_addresses = dict(addresses)
    for code, name, email in session.execute(select(SalesRep.code, SalesRep.name, SalesRep.email)):
        for k in (code, name, email):
            if k:
                md.reps[norm(k)] = code
    for code, desc in session.execute(select(Terms.code, Terms.description)):
        md.terms[norm(desc)] = code
        md.terms[norm(code)] = code
    for code, desc in session.execute(select(ShipVia.code, ShipVia.description)):
        md.ship_vias[norm(desc)] = code
        md.ship_vias[norm(code)] = code
    for code, name in session.execute(select(Warehouse.code, Warehouse.name)):
        md.warehouses[norm(name)] = code
        md.warehouses[norm(code)] = code
    for sku, style, color, size, upc in session.execute(
        select(Sku.sku, Sku.style_number, Sku.color_code, Sku.size, Sku.upc)
    ):
        md.sku_by_id[norm(sku)] = sku
        md.sku_by_variant[(norm(style), norm(color), norm(size))] = sku
        if upc:
            md.sku_by_upc[upc.strip()] = sku
    for kind, value, code in session.execute(
        select(Mapping.kind, Mapping.partner_value, Mapping.erp_code).where(Mapping.site_id == site_id)
    ):
        md.mappings[kind][norm(value)] = code
    # Who already holds a (customer, PO): ERP-native sales orders, and inbound orders by id.
    for customer, po, number in session.execute(
        select(SalesOrder.customer_code, SalesOrder.po_number, SalesOrder.number).where(
            SalesOrder.po_number.is_not(None), SalesOrder.inbound_order_id.is_(None)
        )
    ):
        md.po_owners[(customer, norm(po))].append((None, f"ERP order {number}"))
    for oid, order_customer, order_po in session.execute(
        select(InboundOrder.id, InboundOrder.customer_code, InboundOrder.po_number)
        .where(
            InboundOrder.customer_code.is_not(None),
            InboundOrder.po_number.is_not(None),
            InboundOrder.state.in_(("valid", "imported", "invalid")),
        )
        .order_by(InboundOrder.id)
    ):
        # (both columns are nullable, but the query keeps only orders with both set)
        claim_po(md, cast(str, order_customer), cast(str, order_po), oid)
    return md


def claim_po(md: MasterData, customer_code: str, po: str, order_id: int) -> None:
    """Record that inbound order ``order_id`` holds this customer PO."""
    release_po(md, order_id)
    key = (customer_code, norm(po))
    md.po_owners[key].append((order_id, f"order {order_id}"))
    md.po_of[order_id] = key


def release_po(md: MasterData, order_id: int) -> None:
    """Forget the PO an order held (before it is validated again, perhaps for another customer)."""
    key = md.po_of.pop(order_id, None)
    if key is not None:
        md.po_owners[key] = [o for o in md.po_owners[key] if o[0] != order_id]
