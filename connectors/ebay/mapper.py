"""eBay Fulfillment API Order → :class:`connectors.base.PartnerOrder` (and :class:`EbayOrderExtras`).

The mapper never raises, whatever it is given (SPEC: "a bad payload is an error row, never a
crash"). What it cannot read becomes a :class:`Problem` and the field stays None; the validator
downstream decides what is fatal. It owns only the structural codes (``payload_invalid``,
``dates_invalid``).

Seed 004 (the brand's old eBay import) is the model: the customer is matched by e-mail, the
shipping, insurance and handling amounts are combined into ONE freight amount on the order, and a
deposit is recorded for what the buyer paid. The REST order has no insurance field [DOC]; freight
is each line's ``deliveryCost.shippingCost + handlingCost`` less its shipping ``discountAmount``
(import charges and the shipping intermediation fee go to eBay's international shipping
provider, not to the seller). Tax eBay collects and remits itself is kept apart: it is not the
seller's to invoice.

:func:`order_extras` reads the amounts and states (:class:`EbayOrderExtras`); the order carries
its freight, deposit, eBay-collected tax and hold reason from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from connectors import payload as wire
from connectors.base import Address, PartnerCustomer, PartnerOrder, PartnerOrderLine, Problem
from connectors.ebay import contract as c

PAYLOAD_INVALID, DATES_INVALID = wire.PAYLOAD_INVALID, wire.DATES_INVALID
F, B, CF, AF, LF, DF, PF, PayF = (
    c.OrderField,
    c.BuyerField,
    c.ContactField,
    c.AddressField,
    c.LineField,
    c.DeliveryCostField,
    c.PricingField,
    c.PaymentField,
)
# A unit price is line cost ÷ quantity: kept to 4 places when it does not divide evenly.
UNIT_PRICE_PLACES = Decimal("0.0001")
SHIP_TO_PATH = (c.FulfillmentStartField.SHIPPING_STEP, c.FulfillmentStartField.SHIP_TO)


@dataclass(frozen=True)
class EbayOrderExtras:
    """What an eBay order says that ``PartnerOrder`` has no field for (amounts in ``currency``).

    - ``freight``: shipping + handling − shipping discounts, all lines, and eBay's other buyer-paid
      charges (``pricingSummary.fee``), ONE amount (seed 004);
    - ``buyer_paid``: what the buyer paid (payments marked PAID); ``refunded``: refunds made;
      ``deposit``: what of it the ERP records as the order's deposit;
    - ``ebay_collected_tax``: tax eBay collected and remits itself (not on the seller's invoice);
      ``seller_tax``: the order's ``pricingSummary.tax``;
    - ``total``: ``pricingSummary.total``;
    - the three states, and ``hold_reason`` when the order must wait for a person.
    """

    order_id: str
    payment_status: str | None = None
    fulfillment_status: str | None = None
    cancel_state: str | None = None
    currency: str | None = None
    freight: Decimal | None = None
    buyer_paid: Decimal | None = None
    refunded: Decimal | None = None
    ebay_collected_tax: Decimal | None = None
    seller_tax: Decimal | None = None
    total: Decimal | None = None
    problems: tuple[Problem, ...] = ()

    @property
    def deposit(self) -> Decimal | None:
        """The deposit to record against the ERP invoice (seed 004): what the buyer paid, less the
        tax eBay collected and remits itself (not on the seller's invoice) and refunds already
        made. [INF] a payment's amount includes the tax eBay collects, as the buyer paid it."""
        if self.buyer_paid is None:
            return None
        return self.buyer_paid - (self.ebay_collected_tax or Decimal(0)) - (self.refunded or Decimal(0))

    @property
    def hold_reason(self) -> str | None:
        """Why the order should not go to the ERP yet (None when nothing stops it)."""
        if self.cancel_state == c.CANCEL_CANCELED:
            return "the order was cancelled on eBay"
        if self.cancel_state == c.CANCEL_IN_PROGRESS:
            return "a cancellation is in progress on eBay"
        if self.payment_status == c.PAYMENT_FULLY_REFUNDED:
            return "the order was fully refunded on eBay"
        if self.payment_status != c.PAYMENT_PAID and self.payment_status != c.PAYMENT_PARTIALLY_REFUNDED:
            return f"the order is not paid on eBay (payment status {self.payment_status or 'unknown'})"
        return None


def parse_timestamp(value: str) -> date | None:
    """[DOC] ``2015-08-04T19:09:02.768Z`` (ISO 8601, UTC); a plain date is taken too."""
    text = value.strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00")).date()
    except ValueError:
        return None


def _reader() -> wire.Reader:
    return wire.Reader(parse_timestamp, "an ISO 8601 timestamp such as 2015-08-04T19:09:02.768Z")


def to_partner_order(raw: Any) -> PartnerOrder:
    """Map one Fulfillment API Order; any input yields a PartnerOrder (maybe with problems)."""
    reader = _reader()
    order = reader.order(raw)
    order_id = reader.order_id(raw, order, (F.ORDER_ID, F.LEGACY_ORDER_ID))
    extras = order_extras(raw)
    ship_to_contact = _mapping(reader, wire.at(_first_instruction(reader, order), SHIP_TO_PATH), "shipTo")
    buyer = _mapping(reader, order.get(F.BUYER), F.BUYER)
    registration = _mapping(reader, buyer.get(B.REGISTRATION_ADDRESS), f"{F.BUYER}.{B.REGISTRATION_ADDRESS}")
    # Customer match by e-mail (seed 004): the buyer's registered e-mail only. [DOC] the ship-to's
    # e-mail is eBay's masked relay address (…@members.ebay.com), which no ERP customer holds.
    email = reader.text(registration, CF.EMAIL, f"{F.BUYER}.{B.REGISTRATION_ADDRESS}")
    ship_to = _address(reader, ship_to_contact, "shipTo")
    customer = PartnerCustomer(
        partner_id=reader.text(buyer, B.USERNAME, F.BUYER),
        name=reader.text(registration, CF.FULL_NAME, f"{F.BUYER}.{B.REGISTRATION_ADDRESS}")
        or (ship_to.name if ship_to else None),
        email=email,
        billing=_address(reader, registration, f"{F.BUYER}.{B.REGISTRATION_ADDRESS}") if registration else None,
        shipping=ship_to,
    )
    instruction = _first_instruction(reader, order)
    step = _mapping(reader, instruction.get(c.FulfillmentStartField.SHIPPING_STEP), "shippingStep")
    payments = _list(reader, _mapping(reader, order.get(F.PAYMENT_SUMMARY), F.PAYMENT_SUMMARY).get(PayF.PAYMENTS), "")
    first_payment = next((p for p in payments if isinstance(p, Mapping)), {})
    total = _mapping(reader, _mapping(reader, order.get(F.PRICING_SUMMARY), "").get(PF.TOTAL), "")
    return PartnerOrder(
        partner_order_id=order_id,
        raw=order if isinstance(raw, Mapping) else {"payload": raw},
        partner_status=reader.text(order, F.ORDER_FULFILLMENT_STATUS),
        po_number=reader.text(order, F.SALES_RECORD_REFERENCE),
        customer=customer,
        ship_to=ship_to,
        payment_method=reader.text(first_payment, PayF.PAYMENT_METHOD, PayF.PAYMENTS),
        shipping_method=reader.text(step, c.FulfillmentStartField.SHIPPING_SERVICE_CODE, "shippingStep"),
        order_date=reader.date(order, F.CREATION_DATE),
        currency=reader.text(total, c.AmountField.CURRENCY, f"{F.PRICING_SUMMARY}.{PF.TOTAL}"),
        lines=_lines(reader, order),
        problems=tuple(reader.problems) + tuple(p for p in extras.problems if p not in reader.problems),
        freight=extras.freight,
        deposit=extras.deposit,
        marketplace_tax=extras.ebay_collected_tax,
        hold_reason=extras.hold_reason,
    )


def order_extras(raw: Any) -> EbayOrderExtras:
    """The amounts and states of one eBay order that ``PartnerOrder`` has no field for. Never
    raises; what it cannot read is a problem on the result and the amount stays None."""
    reader = _reader()
    order = reader.order(raw)
    order_id = reader.order_id(raw, order, (F.ORDER_ID, F.LEGACY_ORDER_ID))
    money = _Money(reader)
    pricing = _mapping(reader, order.get(F.PRICING_SUMMARY), F.PRICING_SUMMARY)
    cancel = _mapping(reader, order.get(F.CANCEL_STATUS), F.CANCEL_STATUS)
    summary = _mapping(reader, order.get(F.PAYMENT_SUMMARY), F.PAYMENT_SUMMARY)
    total = money.amount(pricing.get(PF.TOTAL), f"{F.PRICING_SUMMARY}.{PF.TOTAL}")
    seller_tax = money.amount(pricing.get(PF.TAX), f"{F.PRICING_SUMMARY}.{PF.TAX}")

    freight_parts: list[Decimal] = []
    collected: list[Decimal] = []
    items = order.get(F.LINE_ITEMS)
    for line_no, item in enumerate(items if isinstance(items, list) else [], start=1):
        if not isinstance(item, Mapping):
            continue  # to_partner_order reports it
        where = f"{F.LINE_ITEMS}[{line_no}]"
        delivery = _mapping(reader, item.get(LF.DELIVERY_COST), f"{where}.{LF.DELIVERY_COST}", line_no)
        for key, sign in ((DF.SHIPPING_COST, 1), (DF.HANDLING_COST, 1), (DF.DISCOUNT_AMOUNT, -1)):
            found = money.amount(delivery.get(key), f"{where}.{LF.DELIVERY_COST}.{key}", line_no)
            if found is not None:
                freight_parts.append(sign * abs(found) if key == DF.DISCOUNT_AMOUNT else found)
        for n, tax in enumerate(_list(reader, item.get(LF.EBAY_COLLECT_AND_REMIT_TAXES), where, line_no), start=1):
            if isinstance(tax, Mapping):
                found = money.amount(tax.get(LF.TAX_AMOUNT), f"{where}.{LF.EBAY_COLLECT_AND_REMIT_TAXES}[{n}]", line_no)
                if found is not None:
                    collected.append(found)
    if not isinstance(items, list) or not freight_parts:
        # No line carried its delivery cost: the order's own, less its (negative) delivery discount.
        for key in (PF.DELIVERY_COST, PF.DELIVERY_DISCOUNT):
            found = money.amount(pricing.get(key), f"{F.PRICING_SUMMARY}.{key}")
            if found is not None:
                freight_parts.append(-abs(found) if key == PF.DELIVERY_DISCOUNT else found)

    # eBay's other buyer-paid charges go with it: [DOC] pricingSummary.fee, "special fees applied to
    # the order, such as a tire recycling fee or an electronic waste fee" (the seller collects them).
    fee = money.amount(pricing.get(PF.FEE), f"{F.PRICING_SUMMARY}.{PF.FEE}")
    if fee:
        freight_parts.append(fee)

    paid = _summed(money, summary.get(PayF.PAYMENTS), PayF.PAYMENTS, PayF.PAYMENT_STATUS, c.PAYMENT_STATUS_PAID)
    refunded = _summed(money, summary.get(PayF.REFUNDS), PayF.REFUNDS, PayF.REFUND_STATUS, c.REFUND_STATUS_REFUNDED)
    return EbayOrderExtras(
        order_id=order_id,
        payment_status=reader.text(order, F.ORDER_PAYMENT_STATUS),
        fulfillment_status=reader.text(order, F.ORDER_FULFILLMENT_STATUS),
        cancel_state=reader.text(cancel, F.CANCEL_STATE, F.CANCEL_STATUS),
        currency=money.currency,
        freight=sum(freight_parts, Decimal(0)) if freight_parts else None,
        buyer_paid=paid,
        refunded=refunded,
        ebay_collected_tax=sum(collected, Decimal(0)) if collected else None,
        seller_tax=seller_tax,
        total=total,
        problems=tuple(reader.problems),
    )


class _Money:
    """Reads eBay Amounts ({value, currency}) and notices when an order mixes currencies."""

    def __init__(self, reader: wire.Reader) -> None:
        self.reader = reader
        self.currency: str | None = None
        self._mixed = False

    def amount(self, value: Any, where: str, line_no: int | None = None) -> Decimal | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.reader.problem(
                PAYLOAD_INVALID,
                f"{where} is not an amount but {wire.kind(value)}",
                field=where,
                value=value,
                line_no=line_no,
            )
            return None
        number, raw = wire.number(value.get(c.AmountField.VALUE))
        if number is None:
            if raw is not None or value.get(c.AmountField.VALUE) is not None:
                self.reader.problem(
                    PAYLOAD_INVALID, f"{where}.value is not a number", field=where, value=raw, line_no=line_no
                )
            return None
        currency = self.reader.text(value, c.AmountField.CURRENCY, where, line_no)
        if currency is not None:
            if self.currency is None:
                self.currency = currency
            elif currency != self.currency and not self._mixed:
                self._mixed = True
                self.reader.problem(
                    PAYLOAD_INVALID,
                    f"{where} is in {currency}, the order's other amounts in {self.currency}",
                    field=where,
                    value=currency,
                    line_no=line_no,
                )
        return number


def _summed(money: _Money, entries: Any, where: str, status_key: str, counted: str) -> Decimal | None:
    """The sum of ``amount`` over entries whose status is ``counted`` (None when there are none)."""
    if entries is None:
        return None
    if not isinstance(entries, list):
        money.reader.problem(
            PAYLOAD_INVALID, f"{where} is not a list but {wire.kind(entries)}", field=where, value=entries
        )
        return None
    found: list[Decimal] = []
    for n, entry in enumerate(entries, start=1):
        if not isinstance(entry, Mapping) or entry.get(status_key) != counted:
            continue
        amount = money.amount(entry.get(PayF.AMOUNT), f"{where}[{n}].{PayF.AMOUNT}")
        if amount is not None:
            found.append(amount)
    return sum(found, Decimal(0)) if found else None


def _mapping(reader: wire.Reader, value: Any, where: str, line_no: int | None = None) -> Mapping[Any, Any]:
    """An object, or {} (a problem when something else was there and ``where`` names it)."""
    if isinstance(value, Mapping):
        return value
    if value is not None and where:
        reader.problem(
            PAYLOAD_INVALID,
            f"{where} is not an object but {wire.kind(value)}",
            field=where,
            value=value,
            line_no=line_no,
        )
    return {}


def _list(reader: wire.Reader, value: Any, where: str, line_no: int | None = None) -> list[Any]:
    if isinstance(value, list):
        return value
    if value is not None and where:
        reader.problem(
            PAYLOAD_INVALID, f"{where} is not a list but {wire.kind(value)}", field=where, value=value, line_no=line_no
        )
    return []


def _first_instruction(reader: wire.Reader, order: Mapping[Any, Any]) -> Mapping[Any, Any]:
    """[DOC] fulfillmentStartInstructions: one per order today (a list for what may come)."""
    value = order.get(F.FULFILLMENT_START_INSTRUCTIONS)
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, Mapping)), {})
    return {}


def _address(reader: wire.Reader, contact: Mapping[Any, Any], where: str) -> Address | None:
    if not contact:
        return None
    place = _mapping(reader, contact.get(CF.CONTACT_ADDRESS), f"{where}.{CF.CONTACT_ADDRESS}")
    at = f"{where}.{CF.CONTACT_ADDRESS}"
    return Address(
        name=reader.text(contact, CF.FULL_NAME, where),
        line1=reader.text(place, AF.LINE1, at),
        line2=reader.text(place, AF.LINE2, at),
        city=reader.text(place, AF.CITY, at),
        state=reader.text(place, AF.STATE, at),
        postal_code=reader.text(place, AF.POSTAL_CODE, at),
        country=reader.text(place, AF.COUNTRY_CODE, at),
    )


def _lines(reader: wire.Reader, order: Mapping[Any, Any]) -> tuple[PartnerOrderLine, ...]:
    found = wire.line_objects(reader, order.get(F.LINE_ITEMS), F.LINE_ITEMS, "line item")
    return tuple(_line(reader, item, line_no) for line_no, item in found)


def _line(reader: wire.Reader, item: Mapping[Any, Any], line_no: int) -> PartnerOrderLine:
    """One line by SKU (the seller's SKU is the ERP's), its quantity and its unit price:
    [DOC] ``lineItemCost`` is the unit price times the quantity, before discounts."""
    quantity, raw_quantity = wire.number(item.get(LF.QUANTITY))
    cost = item.get(LF.LINE_ITEM_COST)
    if cost is not None and not isinstance(cost, Mapping):
        reader.problem(
            PAYLOAD_INVALID,
            f"{LF.LINE_ITEM_COST} is not an amount but {wire.kind(cost)}",
            field=LF.LINE_ITEM_COST,
            value=cost,
            line_no=line_no,
        )
        cost = None
    line_cost, raw_cost = wire.number(cost.get(c.AmountField.VALUE)) if isinstance(cost, Mapping) else (None, None)
    price = _unit_price(line_cost, quantity)
    return PartnerOrderLine(
        line_no=line_no,
        sku_number=reader.text(item, LF.SKU, F.LINE_ITEMS, line_no),
        quantity=quantity,
        price=price,
        raw_quantity=raw_quantity,
        raw_price=raw_cost,
    )


def _unit_price(line_cost: Decimal | None, quantity: Decimal | None) -> Decimal | None:
    if line_cost is None or quantity is None or quantity <= 0:
        return None
    try:
        unit = line_cost / quantity
        exact = unit.quantize(Decimal("0.01"))
        if exact == unit:
            return exact
        kept = unit.quantize(UNIT_PRICE_PLACES, rounding=ROUND_HALF_UP)
        # A price too small for four places (but not zero) stays as it is: rounded to 0 it would
        # pass as a whole cent and be imported at 0.00; as it is, the validator refuses its fraction.
        return kept if kept or not unit else unit
    except ArithmeticError:  # beyond Decimal's precision: the validator sees no price
        return None
