"""Customers and addresses made from an order, by a person (``services.fixes``) or by the site's
settings as its orders are validated (:func:`adopt_buyer`): a marketplace buyer is a consumer, not a
wholesale account set up beforehand (seed 004: the customer is matched by e-mail, else created; a
differing ship-to becomes a new address record).
"""

from __future__ import annotations

import re

import structlog
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from connectors.base import Address, PartnerOrder
from core.pgtext import pg_safe
from models import Customer, CustomerAddress, Mapping, Site
from services import masterdata
from services.masterdata import CustomerInfo, MasterData, address_key_string
from services.validation import customer_key, resolve_customer

log = structlog.get_logger()

ADDRESS_KEY_MAX_BYTES = 2000  # customer_address.address_key is in a unique btree index (≈2.7 KB per entry)
# Longest partner customer key kept as a mapping (services.holding.MAPPING_KEY_MAX says why).
MAPPING_KEY_MAX = 200


class AddressTooLong(ValueError):
    pass


def new_customer_code(session: Session, name: str) -> str:
    """A free customer code made of the name's first letters and a number (``JANE1``)."""
    base = re.sub(r"[^A-Z0-9]", "", name.upper())[:4] or "CUST"
    taken = set(session.scalars(select(Customer.code).where(Customer.code.like(f"{base}%"))))
    n = 1
    while f"{base}{n}" in taken:
        n += 1
    return f"{base}{n}"


def add_address(session: Session, customer_code: str, kind: str, addr: Address) -> str:
    """Add the address to the customer (nothing when it is on file already). Returns its key."""
    key = address_key_string(addr.key())
    if len(key.encode()) > ADDRESS_KEY_MAX_BYTES:
        raise AddressTooLong("the address is too long to store; correct it on the partner")
    session.execute(
        pg_insert(CustomerAddress)
        .values(
            customer_code=customer_code,
            kind=kind,
            name=addr.name,
            line1=addr.line1,
            line2=addr.line2,
            city=addr.city,
            state=addr.state,
            postal_code=addr.postal_code,
            country=addr.country,
            address_key=key,
        )
        .on_conflict_do_nothing()
    )
    return key


def adopt_buyer(
    session: Session, site: Site, create: bool, add_ship_to: bool, order: PartnerOrder, md: MasterData
) -> None:
    """Before an order is validated, by the site's settings: ``create`` an ERP customer for a buyer
    whose e-mail (or mapping) matches none, and ``add_ship_to`` a ship-to the customer does not have
    on file. What is made is written in the caller's transaction and added to ``md``, so the order
    and the rest of the batch see it. A held order (not paid, cancelled) makes nothing; an order
    without an e-mail makes no customer (the validator says so); a name that another worker took at
    the same moment leaves the order unmatched until the next run (nothing half-made stays)."""
    if order.hold_reason:
        return
    code, _how, _why = resolve_customer(order, md)
    if code is None:
        if not create:
            return
        code = _create(session, site, order, md)
        if code is None:
            return
    ship_to = _storable(order.ship_to)
    if add_ship_to and ship_to is not None and not ship_to.is_empty():
        key = address_key_string(ship_to.key())
        if key not in md.customer_addresses.get(code, set()) and len(key.encode()) <= ADDRESS_KEY_MAX_BYTES:
            savepoint = session.begin_nested()
            try:
                add_address(session, code, "shipping", ship_to)
                savepoint.commit()
            except DBAPIError:  # a value Postgres refuses: the order keeps its address_new warning
                savepoint.rollback()
                log.warning("ship_to_not_added", site=site.id, order=order.partner_order_id, exc_info=True)
                return
            md.customer_addresses.setdefault(code, set()).add(key)


def _storable(addr: Address | None) -> Address | None:
    """The address as Postgres text can hold it (a partner's payload may carry NUL characters)."""
    if addr is None:
        return None
    return Address(**{k: pg_safe(v) for k, v in vars(addr).items()})


def _create(session: Session, site: Site, order: PartnerOrder, md: MasterData) -> str | None:
    c = order.customer
    key = customer_key(order)
    if not c.email or not key or len(key) > MAPPING_KEY_MAX:
        return None
    key, email = pg_safe(key), pg_safe(c.email.strip())
    name = pg_safe((c.name or c.email).strip()[:200]) or email
    savepoint = session.begin_nested()
    try:
        code = new_customer_code(session, name)
        session.add(
            Customer(
                code=code,
                name=name,
                email=email,
                division_code=site.division_code,
                created_from=f"{site.name} order {order.partner_order_id} (buyer {key})",
            )
        )
        session.flush()
        addresses: set[str] = set()
        for kind, addr in (("billing", _storable(c.billing)), ("shipping", _storable(c.shipping or order.ship_to))):
            if addr and not addr.is_empty() and len(address_key_string(addr.key()).encode()) <= ADDRESS_KEY_MAX_BYTES:
                addresses.add(add_address(session, code, kind, addr))
        session.execute(
            pg_insert(Mapping).on_conflict_do_nothing(),
            [{"site_id": site.id, "kind": "customer", "partner_value": key, "erp_code": code, "how": "created"}],
        )
        savepoint.commit()
    except IntegrityError:  # the code was taken by another transaction meanwhile: the next run makes it
        savepoint.rollback()
        log.info("customer_create_raced", site=site.id, order=order.partner_order_id)
        return None
    except DBAPIError:  # a value Postgres refuses: the order stays customer_unknown for a person
        savepoint.rollback()
        log.warning("customer_not_created", site=site.id, order=order.partner_order_id, exc_info=True)
        return None
    md.customers[code] = CustomerInfo(code, name, email, None, None, None)
    md.customers_by_email[masterdata.norm(email)].add(code)
    md.customer_addresses.setdefault(code, set()).update(addresses)
    md.mappings["customer"][masterdata.norm(key)] = code
    log.info("customer_created_from_order", site=site.id, order=order.partner_order_id, customer=code)
    return code
