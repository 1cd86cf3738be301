"""The catalogue of order problems: each code, what it means, and what a person does about it.

One place for the words people read: the validator writes ``message`` per occurrence, and the
CLI and the error e-mail take the title and the "Resolution:" hint from here.
"""

from __future__ import annotations

from dataclasses import dataclass


def load_command(kind: str) -> str:
    """How a person adds ERP codes of one kind (``terms``, ``ship-via``, ``reps``, ``divisions``,
    ``warehouses``, ``price-types``, ``customers``, ``styles``): the loader and its empty sheet.
    The loaders' row problems and the hints below say it in these words."""
    return f"`bobbin erp load {kind} FILE` (template: `bobbin erp template {kind}`)"


@dataclass(frozen=True)
class ProblemKind:
    code: str
    title: str
    resolution: str
    severity: str = "error"


CATALOGUE: dict[str, ProblemKind] = {
    k.code: k
    for k in (
        ProblemKind(
            "customer_unknown",
            "Customer not in the ERP",
            "Map the partner's customer to an ERP customer: `bobbin orders resolve ORDER --customer CODE`, "
            "or create it from the order: `bobbin orders resolve ORDER --create-customer`, "
            f"or load it from the ERP's export: {load_command('customers')}.",
        ),
        ProblemKind(
            "sales_rep_unknown",
            "Sales rep not in the ERP",
            f"Add the rep to the ERP with {load_command('reps')}, "
            'or map the partner\'s rep: `bobbin map sales-rep SITE "VALUE" REP_CODE`.',
        ),
        ProblemKind(
            "terms_unmapped",
            "Payment terms not mapped",
            'Map the payment method to ERP terms: `bobbin map terms SITE "VALUE" TERMS_CODE`. '
            f"Terms the ERP does not have yet are added with {load_command('terms')}.",
        ),
        ProblemKind(
            "ship_via_unmapped",
            "Shipping method not mapped",
            'Map the shipping method to an ERP ship-via: `bobbin map ship-via SITE "VALUE" SHIP_VIA_CODE`. '
            f"A ship-via the ERP does not have yet is added with {load_command('ship-via')}.",
        ),
        ProblemKind(
            "sku_unknown",
            "Item not in the ERP",
            f"Load the style / color / size into the ERP with {load_command('styles')}, "
            "or correct the line on the partner and export the order again.",
        ),
        ProblemKind(
            "warehouse_unmapped",
            "Warehouse not mapped",
            'Map the partner warehouse: `bobbin map warehouse SITE "VALUE" WAREHOUSE_CODE`. '
            f"A warehouse the ERP does not have yet is added with {load_command('warehouses')}.",
        ),
        ProblemKind(
            "quantity_invalid",
            "Quantity is not a positive number",
            "Correct the quantity on the partner and export the order again.",
        ),
        ProblemKind(
            "price_invalid", "Price missing or negative", "Correct the price on the partner and export the order again."
        ),
        ProblemKind(
            "dates_invalid",
            "Dates are missing, unreadable or out of order",
            "Correct the start-ship / cancel dates on the partner and export the order again.",
        ),
        ProblemKind(
            "duplicate_po",
            "Same customer PO as another order",
            "Check both orders. If this one is a true duplicate, reject it (`bobbin orders reject ORDER`); "
            "if not, import it anyway (`bobbin orders import ORDER --allow-duplicate`).",
        ),
        ProblemKind(
            "payload_invalid",
            "The partner sent an order Bobbin cannot read",
            "Open the order on the partner and check it; the raw payload is kept (`bobbin orders show ORDER --raw`).",
        ),
        ProblemKind(
            "price_type_missing",
            "No price type for the order's currency",
            "Add the currency's ERP price type to the site: "
            "`bobbin sites set SITE price_types=CURRENCY:PRICE_TYPE` (the order is checked again by itself). "
            f"A price type the ERP does not have yet is added with {load_command('price-types')}.",
        ),
        ProblemKind(
            "modified_after_export",
            "Changed on the partner after it was imported",
            "Bobbin never re-imports an imported order: compare it on the partner with the ERP order and "
            "edit the ERP order by hand.",
            severity="warning",
        ),
        ProblemKind(
            "contract_violation",
            "The partner answered for another order",
            "A write to the partner named this order and the partner answered about another one (kept with "
            "the request and the answer: `bobbin orders show ORDER`); nothing was counted as sent. Check the "
            "order on the partner, then send the change again: `bobbin orders mark STATUS ORDER`.",
            severity="error",
        ),
        ProblemKind(
            "address_new",
            "Ship-to address is new for this customer",
            "The order imports. If the address is right, add it to the customer: `bobbin customers add-address ORDER`.",
            severity="warning",
        ),
        ProblemKind(
            "partner_hold",
            "Held: not ready on the partner",
            "The partner's order is not paid, or was cancelled or refunded there, so it does not go to the "
            "ERP. Bobbin reads it again when it changes on the partner and imports it once it is paid; a "
            "cancelled one can be rejected: `bobbin orders reject ORDER`.",
        ),
        ProblemKind(
            "address_missing",
            "No ship-to address on the order",
            "The order imports without a ship-to (the partner sent none Bobbin can read). Add the ship-to "
            "on the ERP order by hand before it ships, and ask for it to be filled in on the partner.",
            severity="warning",
        ),
        ProblemKind(
            "exported_not_taken",
            "The partner keeps listing an imported order as waiting",
            "Bobbin imported the order and told the partner it was exported several times, but the partner "
            "still lists it as waiting to be exported; Bobbin has stopped telling it. Check the order on the "
            "partner (`bobbin orders show ORDER` has the ERP order and each send) and set its status there "
            "by hand. The ERP order is not changed and the order is never imported twice.",
            severity="warning",
        ),
    )
}


# Problems recorded by steps other than validation; validating an order again neither writes nor
# resolves them (a person does, by acting on them).
NOT_FROM_VALIDATION: tuple[str, ...] = ("modified_after_export", "contract_violation", "exported_not_taken")


def kind(code: str) -> ProblemKind:
    return CATALOGUE.get(code) or ProblemKind(
        code, code.replace("_", " ").capitalize(), "Look at the order with `bobbin orders show ORDER`."
    )
