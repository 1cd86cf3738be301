"""Loop return payload → :class:`LoopReturn`, the shape the returns service works with.

A return reaches Bobbin three ways, each shaped a little differently [DOC] (partners/README 3.3,
3.6): the Detailed Returns List (ids as strings, timestamps ``2023-08-22T14:08:31.000Z``), Get
Return Details (ids as integers, ``2023-08-22 14:08:31``, the line title as ``line_item_title``)
and the return webhook (``topic`` / ``trigger``, ``customer_detail{email}`` beside or instead of
``customer``, ids of both types, ``2023-08-22T14:08:31Z``, no ``updated_at``). One mapper reads
all three: ids become text, money strings become ``Decimal``, timestamps become aware UTC
datetimes, and keys Loop adds without notice are ignored [DOC].

The mapper never raises, whatever it is given (a bad payload is a problem row, never a crash).
What it cannot read becomes a :class:`connectors.base.Problem` and the field stays None; it owns
only structural codes, as the order mappers do: ``payload_invalid`` (wrong shape, wrong type, an
amount that is not a number) and ``dates_invalid`` (a timestamp none of the documented formats
reads). Whether a return can become an RMA (SKUs known, the refund matching the lines) is the
returns service's judgement, not this module's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connectors import payload as wire
from connectors.base import UNIDENTIFIED_PREFIX, Problem
from connectors.loop import contract as c

PAYLOAD_INVALID, DATES_INVALID = wire.PAYLOAD_INVALID, wire.DATES_INVALID
TIMESTAMP_FORMATS_TEXT = "YYYY-MM-DD hh:mm:ss, YYYY-MM-DDThh:mm:ss.sssZ or YYYY-MM-DDThh:mm:ssZ"
# [INF] Loop documents no quantity on a return line item: each line item is one unit returned.
UNITS_PER_LINE = 1

R, L, F, W = c.ReturnField, c.LineItemField, c.RefundField, c.WebhookField


@dataclass(frozen=True)
class LoopRefund:
    """One entry of ``refunds[]`` [DOC]: money Loop sent back to the shopper."""

    gateway: str | None
    amount: Decimal | None
    currency: str | None
    provider_refund_id: str | None
    raw_amount: str | None = None  # as received, for a problem message


@dataclass(frozen=True)
class LoopReturnLine:
    """One returned unit (a Loop line item). ``quantity`` is always 1 (UNITS_PER_LINE)."""

    line_no: int  # 1-based, in payload order
    line_item_id: str | None
    provider_line_item_id: str | None = None
    product_id: str | None = None
    variant_id: str | None = None
    sku: str | None = None
    barcode: str | None = None
    title: str | None = None
    variant_title: str | None = None
    quantity: int = UNITS_PER_LINE
    price: Decimal | None = None
    discount: Decimal | None = None
    tax: Decimal | None = None
    refund: Decimal | None = None
    return_reason: str | None = None
    parent_return_reason: str | None = None
    return_comment: str | None = None
    outcome: str | None = None
    restock_location_id: str | None = None  # provider_restock_location_id (Shopify's location)
    returned_at: datetime | None = None


@dataclass(frozen=True)
class LoopReturn:
    """One Loop return, normalised. ``raw`` is the payload exactly as received."""

    return_id: str  # Loop's id as text, or a stable stand-in (see ``identified``)
    raw: Mapping[str, Any]
    state: str | None = None
    outcome: str | None = None
    order_id: str | None = None  # Loop's order id
    order_name: str | None = None  # the Shopify order name, e.g. "#7382018"
    provider_order_id: str | None = None  # Shopify's order id
    order_number: str | None = None
    customer_email: str | None = None
    currency: str | None = None
    total: Decimal | None = None
    return_product_total: Decimal | None = None
    return_discount_total: Decimal | None = None
    return_tax_total: Decimal | None = None
    return_total: Decimal | None = None
    return_credit_total: Decimal | None = None
    exchange_total: Decimal | None = None
    exchange_credit_total: Decimal | None = None
    handling_fee: Decimal | None = None
    refund: Decimal | None = None  # the return's refund amount
    gift_card: Decimal | None = None
    refunds: tuple[LoopRefund, ...] = ()
    exchange_order_name: str | None = None
    gift_card_order_name: str | None = None  # set once processing made the gift card (store credit)
    exchange_order_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None  # None from a webhook: Loop sends none there [DOC]
    trigger: str | None = None  # the webhook's trigger (return.created ...), None from the API
    lines: tuple[LoopReturnLine, ...] = ()
    problems: tuple[Problem, ...] = ()

    @property
    def identified(self) -> bool:
        """Whether ``return_id`` is Loop's own (not a stand-in for a payload that carried none)."""
        return not self.return_id.startswith(UNIDENTIFIED_PREFIX)


# Direct pairs, OCA-mapper style: attribute ← the first of these keys holding text.
RETURN_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("state", (R.STATE,)),
    ("outcome", (R.OUTCOME,)),
    ("order_id", (R.ORDER_ID,)),
    ("order_name", (R.ORDER_NAME,)),
    ("provider_order_id", (R.PROVIDER_ORDER_ID,)),
    ("order_number", (R.ORDER_NUMBER,)),
    ("currency", (R.CURRENCY,)),
    ("exchange_order_name", (R.EXCHANGE_ORDER_NAME,)),
    ("gift_card_order_name", (R.GIFT_CARD_ORDER_NAME,)),
    ("exchange_order_id", (R.EXCHANGE_ORDER_ID,)),
)
RETURN_MONEY_FIELDS: tuple[tuple[str, str], ...] = (
    ("total", R.TOTAL),
    ("return_product_total", R.RETURN_PRODUCT_TOTAL),
    ("return_discount_total", R.RETURN_DISCOUNT_TOTAL),
    ("return_tax_total", R.RETURN_TAX_TOTAL),
    ("return_total", R.RETURN_TOTAL),
    ("return_credit_total", R.RETURN_CREDIT_TOTAL),
    ("exchange_total", R.EXCHANGE_TOTAL),
    ("exchange_credit_total", R.EXCHANGE_CREDIT_TOTAL),
    ("handling_fee", R.HANDLING_FEE),
    ("refund", R.REFUND),
    ("gift_card", R.GIFT_CARD),
)
RETURN_TIME_FIELDS: tuple[tuple[str, str], ...] = (("created_at", R.CREATED_AT), ("updated_at", R.UPDATED_AT))
LINE_TEXT_FIELDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("line_item_id", (L.LINE_ITEM_ID,)),
    ("provider_line_item_id", (L.PROVIDER_LINE_ITEM_ID,)),
    ("product_id", (L.PRODUCT_ID,)),
    ("variant_id", (L.VARIANT_ID,)),
    ("sku", (L.SKU,)),
    ("barcode", (L.BARCODE,)),
    ("title", c.LINE_TITLE_KEYS),
    ("variant_title", (L.VARIANT_TITLE,)),
    ("return_reason", (L.RETURN_REASON,)),
    ("parent_return_reason", (L.PARENT_RETURN_REASON,)),
    ("return_comment", (L.RETURN_COMMENT,)),
    ("outcome", (L.OUTCOME,)),
    ("restock_location_id", (L.PROVIDER_RESTOCK_LOCATION_ID,)),
)
LINE_MONEY_FIELDS: tuple[tuple[str, str], ...] = (
    ("price", L.PRICE),
    ("discount", L.DISCOUNT),
    ("tax", L.TAX),
    ("refund", L.REFUND),
)


def to_loop_return(raw: Any) -> LoopReturn:
    """Map one Loop return (list, details or webhook shape); any input yields a LoopReturn,
    maybe with problems."""
    reader = wire.Reader(_no_date, TIMESTAMP_FORMATS_TEXT)
    if isinstance(raw, Mapping):
        payload: Mapping[Any, Any] = raw
    else:
        reader.problem(PAYLOAD_INVALID, f"return is not an object but {wire.kind(raw)}", value=raw)
        payload = {}
    fields: dict[str, Any] = {name: reader.first_text(payload, keys) for name, keys in RETURN_TEXT_FIELDS}
    fields.update({name: money(reader, payload, key) for name, key in RETURN_MONEY_FIELDS})
    fields.update({name: timestamp(reader, payload, key) for name, key in RETURN_TIME_FIELDS})
    if payload.get(W.TOPIC) is not None:
        fields["trigger"] = reader.text(payload, W.TRIGGER)
    for name in ("state", "outcome"):
        if fields[name] is not None:
            fields[name] = fields[name].lower()  # [INF] Loop writes them in lower case; read any case
    return LoopReturn(
        return_id=_return_id(reader, raw, payload),
        raw=payload if isinstance(raw, Mapping) else {"payload": raw},
        customer_email=_email(reader, payload),
        refunds=_refunds(reader, payload),
        lines=_lines(reader, payload),
        problems=tuple(reader.problems),
        **fields,
    )


def money(reader: wire.Reader, obj: Mapping[Any, Any], key: str, line_no: int | None = None) -> Decimal | None:
    """An amount: [DOC] Loop writes money as strings ("63.30"); a JSON number is read too. Absent
    or blank → None; anything that is not a finite number → None and a problem naming the field."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    amount, received = wire.number(value)
    if amount is None:
        where = f"{c.ReturnField.LINE_ITEMS}.{key}" if line_no is not None else key
        reader.problem(
            PAYLOAD_INVALID,
            f"{where} is not an amount: {received}",
            field=where,
            value=received if received is not None else value,
            line_no=line_no,
        )
    return amount


def parse_timestamp(text: str) -> datetime | None:
    """A timestamp in one of Loop's documented formats (contract.TIMESTAMP_FORMATS), as an aware
    UTC datetime; [INF] any other ISO 8601 text with an offset is read too. None when unreadable."""
    text = text.strip()
    for fmt in c.TIMESTAMP_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=UTC)
        except ValueError:
            continue
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        parsed = datetime.fromisoformat(iso)
        # An offset can carry a moment of year 1 or 9999 outside what a datetime holds in UTC.
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def timestamp(reader: wire.Reader, obj: Mapping[Any, Any], key: str, line_no: int | None = None) -> datetime | None:
    """A timestamp field; absent or blank → None; unreadable → None and a ``dates_invalid`` problem."""
    value = obj.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    parsed = parse_timestamp(value) if isinstance(value, str) else None
    if parsed is None:
        where = f"{c.ReturnField.LINE_ITEMS}.{key}" if line_no is not None else key
        reader.problem(
            DATES_INVALID,
            f"{where} is not a timestamp (expected {TIMESTAMP_FORMATS_TEXT})",
            field=where,
            value=value,
            line_no=line_no,
        )
    return parsed


def _return_id(reader: wire.Reader, raw: Any, payload: Mapping[Any, Any]) -> str:
    """Loop's id as text (an integer in details, a string of digits in the list), or a stable
    stand-in so the same broken payload always lands on the same row. An id that is not one number
    (``contract.return_id_text``) is no id Loop could be asked about: a problem, and the stand-in,
    so nothing is ever sent to Loop for it."""
    found = reader.text(payload, R.ID)
    if found is not None and len(found) <= wire.MAX_ID_CHARS:
        try:
            return c.return_id_text(found)
        except ValueError:
            reader.problem(PAYLOAD_INVALID, f"{R.ID} is not a Loop return id (a number)", field=R.ID, value=found)
    elif found is None:
        if isinstance(raw, Mapping):
            reader.problem(PAYLOAD_INVALID, f"return has no {R.ID}", field=R.ID)
    else:
        reader.problem(
            PAYLOAD_INVALID, f"{R.ID} is longer than {wire.MAX_ID_CHARS} characters", field=R.ID, value=found
        )
    # A stable name for the payload, not a security measure: SHA-1 is fine.
    digest = hashlib.sha1(wire.canonical_json(raw).encode("utf-8", "surrogatepass"), usedforsecurity=False)
    return UNIDENTIFIED_PREFIX + digest.hexdigest()[:16]


def _email(reader: wire.Reader, payload: Mapping[Any, Any]) -> str | None:
    """The customer's e-mail from the first of contract.CUSTOMER_EMAIL_PLACES holding one."""
    for *parents, key in c.CUSTOMER_EMAIL_PLACES:
        obj = wire.at(payload, parents) if parents else payload
        if not isinstance(obj, Mapping):
            if obj is not None:
                where = ".".join(parents)
                reader.problem(
                    PAYLOAD_INVALID, f"{where} is not an object but {wire.kind(obj)}", field=where, value=obj
                )
            continue
        value = obj.get(key)
        if isinstance(value, Mapping) and not parents:
            # [INF] a customer object instead of the documented e-mail string: read its email.
            found = reader.text(value, c.CustomerDetailField.EMAIL, key)
        else:
            found = reader.text(obj, key, ".".join(parents) or None)
        if found is not None:
            return found
    return None


def _objects(
    reader: wire.Reader, payload: Mapping[Any, Any], key: str, what: str
) -> list[tuple[int, Mapping[Any, Any]]]:
    """(1-based position, element) of each object in the list under ``key``; a missing list is
    empty here (the caller says whether that is a problem), a wrong one a problem."""
    items = payload.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        reader.problem(PAYLOAD_INVALID, f"{key} is not a list but {wire.kind(items)}", field=key, value=items)
        return []
    found = []
    for position, item in enumerate(items, start=1):
        if isinstance(item, Mapping):
            found.append((position, item))
        else:
            reader.problem(
                PAYLOAD_INVALID,
                f"{what} {position} is not an object but {wire.kind(item)}",
                field=key,
                value=item,
                line_no=position if key == R.LINE_ITEMS else None,
            )
    return found


def _refunds(reader: wire.Reader, payload: Mapping[Any, Any]) -> tuple[LoopRefund, ...]:
    refunds = []
    for _, item in _objects(reader, payload, R.REFUNDS, "refund"):
        amount, received = wire.number(item.get(F.AMOUNT))
        if amount is None and received is not None:
            where = f"{R.REFUNDS}.{F.AMOUNT}"
            reader.problem(PAYLOAD_INVALID, f"{where} is not an amount: {received}", field=where, value=received)
        refunds.append(
            LoopRefund(
                gateway=reader.text(item, F.GATEWAY, R.REFUNDS),
                amount=amount,
                currency=reader.text(item, F.CURRENCY, R.REFUNDS),
                provider_refund_id=reader.text(item, F.PROVIDER_REFUND_ID, R.REFUNDS),
                raw_amount=received,
            )
        )
    return tuple(refunds)


def _lines(reader: wire.Reader, payload: Mapping[Any, Any]) -> tuple[LoopReturnLine, ...]:
    if payload and payload.get(R.LINE_ITEMS) is None:
        reader.problem(PAYLOAD_INVALID, f"return has no {R.LINE_ITEMS}", field=R.LINE_ITEMS)
        return ()
    return tuple(_line(reader, item, line_no) for line_no, item in _objects(reader, payload, R.LINE_ITEMS, "line item"))


def _line(reader: wire.Reader, item: Mapping[Any, Any], line_no: int) -> LoopReturnLine:
    fields: dict[str, Any] = {
        name: reader.first_text(item, keys, R.LINE_ITEMS, line_no) for name, keys in LINE_TEXT_FIELDS
    }
    fields.update({name: money(reader, item, key, line_no) for name, key in LINE_MONEY_FIELDS})
    if fields["outcome"] is not None:
        fields["outcome"] = fields["outcome"].lower()
    return LoopReturnLine(
        line_no=line_no, returned_at=timestamp(reader, item, L.RETURNED_AT, line_no), quantity=UNITS_PER_LINE, **fields
    )


def _no_date(text: str) -> date | None:
    """The Reader's date hook: Loop sends timestamps, read by :func:`timestamp` instead."""
    parsed = parse_timestamp(text)
    return parsed.date() if parsed is not None else None
