"""Brandboom Order payload → :class:`connectors.base.PartnerOrder`.

The mapper never raises, whatever it is given (SPEC: "a bad payload is an error row, never a
crash"). What it cannot read becomes a :class:`Problem` on the order and the field stays None;
the validator downstream decides what is fatal. It owns only *structural* codes:

- ``payload_invalid``: the payload's shape is wrong (not an object, no id, items not a list, an
  item not an object, a text field holding a list, ...);
- ``dates_invalid``: a date that none of the accepted formats reads.

Quantities and prices that are not numbers become None with the received text kept in
``raw_quantity`` / ``raw_price``; ``quantity_invalid`` / ``price_invalid`` are the validator's.

The Order object is not public: its field names are Bobbin's [INF] decision (contract.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from connectors import payload as wire  # `payload` is the name of the order dict here
from connectors.base import Address, PartnerCustomer, PartnerOrder, PartnerOrderLine
from connectors.brandboom import contract as c

PAYLOAD_INVALID, DATES_INVALID = wire.PAYLOAD_INVALID, wire.DATES_INVALID
UNIDENTIFIED_PREFIX, MAX_ID_CHARS = wire.UNIDENTIFIED_PREFIX, wire.MAX_ID_CHARS

F, CF, AF, IF = c.OrderField, c.CustomerField, c.AddressField, c.ItemField

# Direct pairs, OCA-mapper style: PartnerOrder attribute ← Order key (all text).
ORDER_TEXT_FIELDS = (
    ("partner_status", F.STATUS),
    ("po_number", F.PO_NUMBER),
    ("sales_rep", F.REP),
    ("payment_method", F.TERMS),
    ("shipping_method", F.SHIPPING_OPTION),
    ("currency", F.CURRENCY),
    ("price_tier", F.PRICE_TIER_ID),
)
ORDER_DATE_FIELDS = (
    ("order_date", F.DATE_CREATED),
    ("ship_date", F.SHIP_DATE),
    ("cancel_date", F.CANCEL_DATE),
)
CUSTOMER_TEXT_FIELDS = (
    ("partner_id", CF.ID),
    ("code", CF.CODE),
    ("email", CF.EMAIL),
)
ADDRESS_TEXT_FIELDS = (
    ("name", AF.NAME),
    ("line1", AF.ADDRESS1),
    ("line2", AF.ADDRESS2),
    ("city", AF.CITY),
    ("state", AF.STATE),
    ("postal_code", AF.ZIP),
    ("country", AF.COUNTRY),
)
ITEM_TEXT_FIELDS = (
    ("style_number", IF.STYLE_NUMBER),
    ("color_code", IF.OPTION_CODE),
    ("size", IF.SIZE),
    ("sku_number", IF.SKU_NUMBER),
    ("upc", IF.UPC),
)


def to_partner_order(raw: Any) -> PartnerOrder:
    """Map one Brandboom Order object; any input yields a PartnerOrder (maybe with problems)."""
    reader = wire.Reader(_parse_date, "YYYY-MM-DD, YYYY-MM-DD HH:MM:SS or MM/DD/YYYY", c.EMPTY_DATES)
    payload = reader.order(raw)
    fields: dict[str, Any] = reader.texts(payload, ORDER_TEXT_FIELDS)
    fields.update({name: reader.date(payload, key) for name, key in ORDER_DATE_FIELDS})
    customer = _customer(reader, payload.get(F.CUSTOMER), payload)
    warehouse = reader.text(payload, F.WAREHOUSE_ID)
    return PartnerOrder(
        partner_order_id=reader.order_id(raw, payload, F.ID),
        raw=payload if isinstance(raw, Mapping) else {"payload": raw},
        customer=customer,
        ship_to=customer.shipping,
        warehouse=None if warehouse == c.NO_WAREHOUSE else warehouse,
        lines=_lines(reader, payload),
        problems=tuple(reader.problems),
        **fields,
    )


def _customer(reader: wire.Reader, value: Any, payload: Mapping[Any, Any]) -> PartnerCustomer:
    shipping = _placed_address(reader, payload, c.SHIP_TO_PLACES)
    billing = _placed_address(reader, payload, c.BILL_TO_PLACES)
    if value is None:
        return PartnerCustomer(shipping=shipping, billing=billing)
    if not isinstance(value, Mapping):
        reader.problem(
            PAYLOAD_INVALID, f"customer is not an object but {wire.kind(value)}", field=F.CUSTOMER, value=value
        )
        return PartnerCustomer()
    fields = reader.texts(value, CUSTOMER_TEXT_FIELDS, F.CUSTOMER)
    # [INF] "name" is the customer's (store's) name; "companyName" is accepted in its place.
    name = reader.text(value, CF.NAME, F.CUSTOMER) or reader.text(value, CF.COMPANY_NAME, F.CUSTOMER)
    return PartnerCustomer(
        name=name,
        shipping=shipping,
        billing=billing,
        **fields,
    )


def _placed_address(
    reader: wire.Reader, payload: Mapping[Any, Any], places: tuple[tuple[str, ...], ...]
) -> Address | None:
    """The address at the first of ``places`` (contract.SHIP_TO_PLACES / BILL_TO_PLACES) that holds one."""
    for place in places:
        found = wire.at(payload, place)
        if found is not None:
            return _address(reader, found, ".".join(place))
    return None


def _address(reader: wire.Reader, value: Any, where: str) -> Address | None:
    if value is None:
        return None
    if not isinstance(value, Mapping):
        reader.problem(PAYLOAD_INVALID, f"{where} is not an object but {wire.kind(value)}", field=where, value=value)
        return None
    return Address(**reader.texts(value, ADDRESS_TEXT_FIELDS, where))


def _lines(reader: wire.Reader, payload: Mapping[Any, Any]) -> tuple[PartnerOrderLine, ...]:
    found = wire.line_objects(reader, payload.get(F.ITEMS), F.ITEMS, "item")
    return tuple(_line(reader, item, line_no) for line_no, item in found)


def _line(reader: wire.Reader, item: Mapping[Any, Any], line_no: int) -> PartnerOrderLine:
    fields = reader.texts(item, ITEM_TEXT_FIELDS, F.ITEMS, line_no)
    quantity, raw_quantity = wire.number(item.get(IF.QUANTITY))
    price, raw_price = wire.number(item.get(IF.PRICE))
    return PartnerOrderLine(
        line_no=line_no,
        quantity=quantity,
        price=price,
        raw_quantity=raw_quantity,
        raw_price=raw_price,
        shipped_quantity=None,  # Brandboom orders carry no shipped units
        **fields,
    )


def _parse_date(text: str) -> date | None:
    return wire.parse_date(text, c.DATE_FORMATS)
