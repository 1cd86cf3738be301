"""JOOR v2 order payload → :class:`connectors.base.PartnerOrder`.

The mapper never raises, whatever it is given (SPEC: "a bad payload is an error row, never a
crash"). What it cannot read becomes a :class:`Problem` on the order and the field stays None;
the validator downstream decides what is fatal. It owns only *structural* codes, as the
Brandboom mapper does:

- ``payload_invalid``: the payload's shape is wrong (not an object, no order_id, order_items not
  a list, an item not an object, a text field holding a list, ...);
- ``dates_invalid``: a date that none of the accepted formats reads.

Quantities and prices that are not numbers become None with the received text kept in
``raw_quantity`` / ``raw_price``; ``quantity_invalid`` / ``price_invalid`` are the validator's.

JOOR's v2 order JSON is not public: the field names are Bobbin's [INF] decision (contract.py),
and a few cheap variants are read too (``items`` for ``order_items``, the v2 XML wrapper
``{"order_item": [...]}``, a v4-style ``shipping_method{code, name}`` object, ``size_name``,
``price_wholesale``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from connectors import payload as wire  # `payload` is the name of the order dict here
from connectors.base import Address, PartnerCustomer, PartnerOrder, PartnerOrderLine
from connectors.joor import contract as c

PAYLOAD_INVALID, DATES_INVALID = wire.PAYLOAD_INVALID, wire.DATES_INVALID
UNIDENTIFIED_PREFIX, MAX_ID_CHARS = wire.UNIDENTIFIED_PREFIX, wire.MAX_ID_CHARS
# YYYY-MM-DD, alone or starting an ISO timestamp (v2 ranges: YYYY-MM-DDThh:mm:ss.sTZD). ASCII
# digits only: \d would also take other scripts' digits.
ISO_DATE = re.compile(
    r"([0-9]{4}-[0-9]{2}-[0-9]{2})"
    r"(?:[T ][0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?(?:Z|[+-][0-9]{2}:?[0-9]{2})?)?"
)

F, AF, IF = c.OrderField, c.AddressField, c.ItemField

# Direct pairs, OCA-mapper style: PartnerOrder attribute ← the first of these keys that has text.
# Rep, payment, shipping and warehouse read the *code* first and the name second: JOOR's Order
# Settings carry both, the brand enters the codes as the ERP has them (seed 002: "configure this
# data based on how it appears in AIMS360"), so a code usually resolves with no mapping at all,
# and the name is what is left when the brand set no code.
ORDER_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("partner_status", (F.STATUS, F.ORDER_TYPE)),
    ("po_number", (F.PO_NUMBER,)),
    ("sales_rep", (F.SALES_REP_CODE, F.SALES_REP)),
    ("currency", (F.CURRENCY_CODE,)),
    ("price_tier", (F.PRICE_TYPE,)),
)
# (attribute, code key, name key): the name key may also hold a v4-style {id, code, name} object.
ORDER_CODED_FIELDS = (
    ("payment_method", F.PAYMENT_METHOD_CODE, F.PAYMENT_METHOD),
    ("shipping_method", F.SHIPPING_METHOD_CODE, F.SHIPPING_METHOD),
    ("warehouse", F.WAREHOUSE_CODE, F.WAREHOUSE_NAME),
)
ORDER_DATE_FIELDS = (
    ("order_date", F.DATE_CREATED),
    ("ship_date", F.START_SHIP_DATE),
    ("cancel_date", F.END_SHIP_DATE),
)
ADDRESS_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("name", (AF.NAME, AF.COMPANY)),
    ("line1", (AF.LINE_1,)),
    ("line2", (AF.LINE_2,)),
    ("city", (AF.CITY,)),
    ("state", (AF.STATE,)),
    ("postal_code", (AF.ZIP,)),
    ("country", (AF.COUNTRY,)),
)
# A style split by color on JOOR keeps its ERP style in style_number; style_identifier (and the
# color's name) are read only when the payload lacks the usual key.
ITEM_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("style_number", (IF.STYLE_NUMBER, IF.STYLE_IDENTIFIER)),
    ("color_code", (IF.COLOR_CODE, IF.COLOR_NAME)),
    ("size", (IF.SIZE, *c.ITEM_ALIASES[IF.SIZE])),
    ("upc", (IF.UPC,)),
)


def to_partner_order(raw: Any) -> PartnerOrder:
    """Map one JOOR order; any input yields a PartnerOrder (maybe with problems)."""
    reader = wire.Reader(_parse_date, "YYYY-MM-DD, an ISO timestamp, MM/DD/YYYY or MM-DD-YYYY")
    payload = reader.order(raw)
    fields: dict[str, Any] = {name: reader.first_text(payload, keys) for name, keys in ORDER_TEXT_FIELDS}
    fields.update(
        {name: _coded(reader, payload, code_key, name_key) for name, code_key, name_key in ORDER_CODED_FIELDS}
    )
    fields.update({name: reader.date(payload, key) for name, key in ORDER_DATE_FIELDS})
    customer = _customer(reader, payload)
    return PartnerOrder(
        partner_order_id=reader.order_id(raw, payload, c.ORDER_ID_KEYS),
        raw=payload if isinstance(raw, Mapping) else {"payload": raw},
        customer=customer,
        ship_to=customer.shipping,
        lines=_lines(reader, payload),
        problems=tuple(reader.problems),
        **fields,
    )


def _coded(reader: wire.Reader, payload: Mapping[Any, Any], code_key: str, name_key: str) -> str | None:
    """The code if the order has one, else the name (or a {code, name} object's code / name)."""
    code = reader.text(payload, code_key)
    if code is not None:
        return code
    value = payload.get(name_key)
    if isinstance(value, Mapping):
        return reader.first_text(value, (AF.CODE, AF.NAME), name_key)
    return reader.text(payload, name_key)


def _customer(reader: wire.Reader, payload: Mapping[Any, Any]) -> PartnerCustomer:
    """The retailer as the brand's connection on JOOR knows it.

    ``partner_id`` is the connection id (the retailer id when there is none): the connection is
    the brand's own record of the retailer, the one ``PUT connection/{id}/`` addresses when Bobbin
    stores the ERP customer code back on JOOR.
    """
    return PartnerCustomer(
        partner_id=reader.first_text(payload, (F.CONNECTION_ID, F.RETAILER_ID)),
        code=reader.text(payload, F.CUSTOMER_CODE),
        name=reader.text(payload, F.CUSTOMER_NAME),
        email=_email(reader, payload),
        billing=_address(reader, payload.get(F.BILLING_ADDRESS), F.BILLING_ADDRESS),
        shipping=_address(reader, payload.get(F.SHIPPING_ADDRESS), F.SHIPPING_ADDRESS),
    )


def _email(reader: wire.Reader, payload: Mapping[Any, Any]) -> str | None:
    """The retailer's e-mail from the first place of contract.CUSTOMER_EMAIL_PLACES that has one."""
    for *parents, key in c.CUSTOMER_EMAIL_PLACES:
        obj = wire.at(payload, parents)
        if isinstance(obj, Mapping):
            found = reader.text(obj, key, ".".join(parents) or None)
            if found is not None:
                return found
    return None


def _address(reader: wire.Reader, value: Any, where: str) -> Address | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reader.problem(PAYLOAD_INVALID, f"{where} is not an object but {wire.kind(value)}", field=where, value=value)
        return None
    return Address(**{name: reader.first_text(value, keys, where) for name, keys in ADDRESS_TEXT_FIELDS})


def _lines(reader: wire.Reader, payload: Mapping[Any, Any]) -> tuple[PartnerOrderLine, ...]:
    found = wire.line_objects(reader, c.order_items_of(payload), F.ORDER_ITEMS, "item")
    return tuple(_line(reader, item, line_no) for line_no, item in found)


def _line(reader: wire.Reader, item: Mapping[Any, Any], line_no: int) -> PartnerOrderLine:
    fields = {name: reader.first_text(item, keys, F.ORDER_ITEMS, line_no) for name, keys in ITEM_TEXT_FIELDS}
    quantity, raw_quantity = wire.number(_first(item, (IF.QUANTITY, *c.ITEM_ALIASES[IF.QUANTITY])))
    price, raw_price = wire.number(_first(item, (IF.PRICE, *c.ITEM_ALIASES[IF.PRICE])))
    shipped, raw_shipped = wire.number(item.get(IF.QUANTITY_SHIPPED))
    return PartnerOrderLine(
        line_no=line_no,
        quantity=quantity,
        price=price,
        raw_quantity=raw_quantity,
        raw_price=raw_price,
        shipped_quantity=shipped,
        raw_shipped_quantity=raw_shipped,
        **fields,
    )


def _first(obj: Mapping[Any, Any], keys: Sequence[str]) -> Any:
    """The value of the first key present (not null)."""
    return next((obj[key] for key in keys if obj.get(key) is not None), None)


def _parse_date(text: str) -> date | None:
    text = text.strip()
    iso = ISO_DATE.fullmatch(text)
    if iso is not None:
        try:
            return date.fromisoformat(iso.group(1))
        except ValueError:
            return None
    for fmt in c.DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None
