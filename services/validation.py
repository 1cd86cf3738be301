"""Order validation: every rule of SPEC's table, as pure functions over one ``MasterData``.

``validate(order, md, ...)`` returns every problem (one per rule broken, one per bad line) and the
ERP codes the order resolved to. It never raises on a malformed order: what the mapper could not
read arrives as ``order.problems`` and is passed through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from connectors.base import ORDER_FIELDS, PartnerOrder, PartnerOrderLine, Problem
from services.masterdata import MasterData, address_key_string, norm, norm_postal

# Bounds of what an ERP order line can hold (sales_order_line.quantity is an integer, price numeric(12,2));
# anything beyond is a typing error on the partner, not an order.
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("9999999999.99")
# The ERP keeps prices and totals in cents (numeric(12,2)): an order whose total it cannot hold
# could never be written, and a fraction of a cent would be rounded away line by line.
MAX_ORDER_TOTAL = Decimal("9999999999.99")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Resolved:
    """The ERP codes an order maps to (None where it does not)."""

    customer_code: str | None = None
    rep_code: str | None = None
    terms_code: str | None = None
    ship_via_code: str | None = None
    warehouse_code: str | None = None
    line_skus: dict[int, str] = field(default_factory=dict)  # line_no -> ERP sku
    customer_how: str | None = None  # "mapping", or how it was matched: "auto:code", "auto:email", "auto:name+postal"


@dataclass(frozen=True)
class Outcome:
    problems: list[Problem]
    resolved: Resolved

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def state(self) -> str:
        codes = {p.code for p in self.errors}
        if not codes:
            return "valid"
        return "duplicate" if codes == {"duplicate_po"} else "invalid"


@dataclass(frozen=True)
class CodedRule:
    """A partner value that must translate to an ERP code: a mapping first, then the ERP's own code
    or description; when the order leaves it out, the customer's default (or the site's warehouse)."""

    kind: str  # mapping kind, and MasterData.mapped() key
    order_attr: str  # PartnerOrder attribute holding the partner value
    lookup: str  # MasterData dict of ERP codes / descriptions
    code: str  # problem code when it does not translate
    field_key: str  # connectors.base.ORDER_FIELDS key
    label: str
    unknown: str  # what the message says about a value that does not translate
    customer_default: str | None = None
    required: bool = False  # a missing value with no default is a problem too


CODED_RULES = (
    CodedRule(
        "sales_rep",
        "sales_rep",
        "reps",
        "sales_rep_unknown",
        "rep",
        "Sales rep",
        "is not an ERP sales rep",
        customer_default="rep_code",
    ),
    CodedRule(
        "terms",
        "payment_method",
        "terms",
        "terms_unmapped",
        "terms",
        "Payment method",
        "is not mapped to ERP terms",
        customer_default="terms_code",
        required=True,
    ),
    CodedRule(
        "ship_via",
        "shipping_method",
        "ship_vias",
        "ship_via_unmapped",
        "shipping",
        "Shipping method",
        "is not mapped to an ERP ship-via",
        customer_default="ship_via_code",
        required=True,
    ),
    CodedRule(
        "warehouse",
        "warehouse",
        "warehouses",
        "warehouse_unmapped",
        "warehouse",
        "Partner warehouse",
        "is not mapped to an ERP warehouse",
    ),
)


def customer_key(order: PartnerOrder) -> str | None:
    """The partner-side identity of the customer, as a customer mapping stores it: the customer
    code the brand keeps on the partner if any (what people recognise), else the partner's id."""
    c = order.customer
    return c.code or c.partner_id or c.email or c.name


def resolve_customer(order: PartnerOrder, md: MasterData) -> tuple[str | None, str | None, str]:
    """(ERP code, how it was found, why not). A mapping a person made wins; then the ERP code the
    partner keeps; then a unique e-mail; then a unique name + postal code. A match that is not
    unique is never taken: the reason names the candidates so a person can choose."""
    mapped = md.mapped("customer", customer_key(order))
    if mapped:
        return mapped, "mapping", ""
    c = order.customer
    if c.code and (info := md.lookup_customer(c.code)):
        return info.code, "auto:code", ""
    if c.email:
        found = md.customers_by_email.get(norm(c.email), set())
        if len(found) == 1:
            return next(iter(found)), "auto:email", ""
        if found:
            return (
                None,
                None,
                f"matches {len(found)} ERP customers by e-mail ({', '.join(sorted(found))}); map it by hand",
            )
    postal = next((a.postal_code for a in (c.shipping, c.billing, order.ship_to) if a and a.postal_code), None)
    if c.name and postal:
        found = md.customers_by_name_postal.get((norm(c.name), norm_postal(postal)), set())
        if len(found) == 1:
            return next(iter(found)), "auto:name+postal", ""
        if found:
            return (
                None,
                None,
                (
                    f"matches {len(found)} ERP customers by name and postal code "
                    f"({', '.join(sorted(found))}); map it by hand"
                ),
            )
    if not c.email and not c.code:
        return None, None, "is not an ERP customer, is not mapped to one, and the order carries no e-mail to match"
    return None, None, "is not an ERP customer and is not mapped to one"


def describe_customer(order: PartnerOrder) -> str:
    c = order.customer
    parts = [
        f'"{c.name}"' if c.name else None,
        f"partner id {c.partner_id}" if c.partner_id else None,
        f"code {c.code}" if c.code else None,
    ]
    return " ".join(p for p in parts if p) or "(no customer on the order)"


def _resolve(md_lookup: dict[str, str], mapped: str | None, value: str | None) -> str | None:
    return mapped or (md_lookup.get(norm(value)) if value else None)


def validate(
    order: PartnerOrder,
    md: MasterData,
    *,
    order_id: int | None = None,
    default_warehouse: str | None = None,
    fields: Mapping[str, str] | None = None,
    price_types: Mapping[str, str] | None = None,
) -> Outcome:
    """Apply every rule. ``fields`` names where each fact sits in the partner's payload
    (connectors.base.ORDER_FIELDS keys), so error rows speak the partner's field names.
    ``price_types`` (currency -> ERP price type), when the site has any, must cover the order's currency."""
    f = {k: k for k in ORDER_FIELDS} | dict(fields or {})
    problems: list[Problem] = list(order.problems)
    if order.hold_reason:
        # Held by the partner (not paid, cancelled): the hold is the one thing to say; the other
        # rules run once the partner releases the order (no customer is made for it before).
        hold = Problem(
            "partner_hold",
            f"Held: {order.hold_reason}. Bobbin reads it again whenever it changes there.",
            field=f.get("hold", "status"),
            value=order.hold_reason,
        )
        return Outcome([*problems, hold], Resolved())

    customer_code, how, unmatched = resolve_customer(order, md)
    customer = md.lookup_customer(customer_code)
    key = customer_key(order)
    if customer is None:
        problems.append(
            Problem(
                "customer_unknown", f"Customer {describe_customer(order)} {unmatched}.", field=f["customer"], value=key
            )
        )

    codes: dict[str, str | None] = {}
    for rule in CODED_RULES:
        value = getattr(order, rule.order_attr)
        code = _resolve(getattr(md, rule.lookup), md.mapped(rule.kind, value), value)
        if code is None and not value:
            code = getattr(customer, rule.customer_default) if customer and rule.customer_default else None
            code = code or (default_warehouse if rule.kind == "warehouse" else None)
            if code is None and rule.required:
                problems.append(
                    Problem(
                        rule.code,
                        f"{rule.label} is missing and the customer has no default.",
                        field=f[rule.field_key],
                        value=None,
                    )
                )
        elif code is None:
            problems.append(
                Problem(rule.code, f'{rule.label} "{value}" {rule.unknown}.', field=f[rule.field_key], value=value)
            )
        codes[rule.kind] = code

    if price_types:
        currency = (order.currency or "").strip().upper()
        if currency not in {c.upper() for c in price_types}:
            shown = currency or "(none)"
            problems.append(
                Problem(
                    "price_type_missing",
                    f'Currency "{shown}" has no price type on this site.',
                    field=f["currency"],
                    value=order.currency,
                )
            )

    if order.ship_date and order.cancel_date and order.cancel_date < order.ship_date:
        problems.append(
            Problem(
                "dates_invalid",
                f"Cancel date {order.cancel_date} is before the start ship date {order.ship_date}.",
                field=f["cancel_date"],
                value=order.cancel_date.isoformat(),
            )
        )

    line_skus: dict[int, str] = {}
    for line in order.lines:
        problems.extend(_line_problems(line, f))
        sku = _line_sku(line, md)
        if sku is None:
            problems.append(
                Problem(
                    "sku_unknown",
                    f"Line {line.line_no}: {_describe_item(line)} is not an ERP SKU.",
                    field=f["lines"],
                    value=_item_value(line),
                    line_no=line.line_no,
                )
            )
        else:
            line_skus[line.line_no] = sku
    if not order.lines and not any(p.code == "payload_invalid" for p in problems):
        problems.append(Problem("payload_invalid", "The order has no lines.", field=f["lines"]))
    elif order.lines and not any(p.code in ("quantity_invalid", "price_invalid") for p in problems):
        total = sum(
            (ln.quantity * ln.price for ln in order.lines if ln.quantity is not None and ln.price is not None),
            Decimal("0"),
        )
        if total > MAX_ORDER_TOTAL:
            problems.append(
                Problem(
                    "price_invalid",
                    f"The order's total {total:,} is more than the ERP can hold ({MAX_ORDER_TOTAL:,}).",
                    field=f["price"],
                    value=str(total),
                )
            )

    # A marketplace sale's money (eBay): each must fit the ERP's money columns.
    for label, amount in (
        ("freight", order.freight),
        ("amount paid (the deposit)", order.deposit),
        ("marketplace-collected tax", order.marketplace_tax),
    ):
        if amount is not None and (not amount.is_finite() or abs(amount) > MAX_PRICE):
            problems.append(
                Problem(
                    "price_invalid",
                    f"The order's {label} {amount:,} is more than the ERP can hold ({MAX_PRICE:,}).",
                    field=f["price"],
                    value=str(amount)[:40],
                )
            )

    if customer and order.po_number:
        others = [
            label
            for oid, label in md.po_owners.get((customer.code, norm(order.po_number)), [])
            if oid is None or (order_id is not None and oid < order_id)
        ]
        if others:
            problems.append(
                Problem(
                    "duplicate_po",
                    f'Customer PO "{order.po_number}" of {customer.code} is already on {", ".join(others)}.',
                    field=f["po"],
                    value=order.po_number,
                )
            )

    if (
        customer
        and order.ship_to
        and not order.ship_to.is_empty()
        and address_key_string(order.ship_to.key()) not in md.customer_addresses.get(customer.code, set())
    ):
        a = order.ship_to
        shown = ", ".join(x for x in (a.line1, a.city, a.state, a.postal_code) if x)
        problems.append(
            Problem(
                "address_new",
                f"Ship-to {shown} is not on file for customer {customer.code}.",
                field=f["ship_to"],
                value=shown,
                severity="warning",
            )
        )

    if order.ship_to is None or order.ship_to.is_empty():
        # The mappers read every documented placement; none held an address. The order still
        # imports (a warning): its ERP order has no ship-to until a person adds one.
        problems.append(
            Problem(
                "address_missing",
                "The order carries no ship-to address Bobbin can read; its ERP order will have none.",
                field=f["ship_to"],
                value=None,
                severity="warning",
            )
        )

    resolved = Resolved(
        customer.code if customer else None,
        codes["sales_rep"],
        codes["terms"],
        codes["ship_via"],
        codes["warehouse"],
        line_skus,
        customer_how=how if customer else None,
    )
    return Outcome(problems, resolved)


def _describe_item(line: PartnerOrderLine) -> str:
    variant = " / ".join(v for v in (line.style_number, line.color_code, line.size) if v)
    if line.sku_number and variant:
        return f"{variant} (SKU {line.sku_number})"
    return variant or (f"SKU {line.sku_number}" if line.sku_number else f"UPC {line.upc}" if line.upc else "(no item)")


def _item_value(line: PartnerOrderLine) -> str:
    """The offending item as people write it: STYLE/COLOR/SIZE, else the SKU number or UPC."""
    if line.style_number or line.color_code or line.size:
        return "/".join(v or "?" for v in (line.style_number, line.color_code, line.size))
    return line.sku_number or line.upc or "(no item)"


def _line_sku(line: PartnerOrderLine, md: MasterData) -> str | None:
    if line.sku_number and (sku := md.sku_by_id.get(norm(line.sku_number))):
        return sku
    if line.upc and (sku := md.sku_by_upc.get(line.upc.strip())):
        return sku
    if line.style_number and line.color_code and line.size:
        return md.sku_by_variant.get((norm(line.style_number), norm(line.color_code), norm(line.size)))
    return None


def _line_problems(line: PartnerOrderLine, f: Mapping[str, str]) -> list[Problem]:
    out = []
    q = line.quantity
    if q is None or not q.is_finite() or q <= 0 or q != q.to_integral_value() or q > MAX_QUANTITY:
        shown = line.raw_quantity if line.raw_quantity is not None else (str(q) if q is not None else "(none)")
        out.append(
            Problem(
                "quantity_invalid",
                f"Line {line.line_no}: quantity {shown} is not a positive whole number (at most {MAX_QUANTITY:,}).",
                field=f["quantity"],
                value=shown,
                line_no=line.line_no,
            )
        )
    shown = line.raw_price if line.raw_price is not None else (str(line.price) if line.price is not None else "(none)")
    if line.price is None or not line.price.is_finite() or line.price < Decimal("0") or line.price > MAX_PRICE:
        out.append(
            Problem(
                "price_invalid",
                f"Line {line.line_no}: price {shown} is missing, negative or too large.",
                field=f["price"],
                value=shown,
                line_no=line.line_no,
            )
        )
    elif line.price != line.price.quantize(CENT):  # bounded above, so quantize cannot overflow
        out.append(
            Problem(
                "price_invalid",
                f"Line {line.line_no}: price {shown} has a fraction of a cent; the ERP keeps prices in cents.",
                field=f["price"],
                value=shown,
                line_no=line.line_no,
            )
        )
    return out
