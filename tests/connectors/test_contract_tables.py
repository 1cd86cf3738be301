"""The client's contract and the sandbox's own tables state the same API, name by name.

Each sandbox keeps its own literal copy of its partner's document (``sandbox/<partner>/api.py``)
and never imports the client's contract, so a mistake in either side fails the tests that talk
to the sandbox; this test names the difference. Names only one side has must be listed here with
why: CLIENT_ONLY (the client's mapper spellings and drift list are not part of what the partner
serves) and SANDBOX_ONLY (how the sandbox serves: its defaults, refusals and webhook delivery).
Where the two sides name one fact differently (eBay's tables were written apart, each in its own
words), SPELLED says how to read the contract's name from the sandbox's tables, and the values are
compared; a sandbox name read that way counts as compared.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import pytest

from connectors.brandboom import contract as brandboom_contract
from connectors.ebay import contract as ebay_contract
from connectors.joor import contract as joor_contract
from connectors.loop import contract as loop_contract
from sandbox.brandboom import api as brandboom_api
from sandbox.ebay import api as ebay_api
from sandbox.joor import api as joor_api
from sandbox.loop import api as loop_api

# What the client keeps for itself: how its mapper reads payloads (spellings, error fields, drift).
CLIENT_ONLY = {
    "brandboom": {"ORDER_FIELDS", "PAYLOAD", "SHIP_TO_PLACES", "BILL_TO_PLACES"},
    "joor": {"ORDER_FIELDS", "PAYLOAD", "ORDER_ID_KEYS", "CUSTOMER_EMAIL_PLACES", "order_id_of", "order_items_of"},
    "loop": {
        # the mapper's spellings and drift list: where it looks for a fact, and how it parses time
        # (any list fraction, "%f"; the sandbox writes ".000Z", its LIST_TIME_FORMAT)
        "PAYLOAD",
        "CUSTOMER_EMAIL_PLACES",
        "LINE_TITLE_KEYS",
        "TIMESTAMP_FORMATS",
        # [DOC mirror] flat label keys on a listed return, known to the drift count only: section
        # 3.3 lists them inside labels[] alone, and the sandbox does not serve them flat
        "ListLabelField",
        # answers the client tolerates and the sandbox never gives: [DOC mirror] {"content": ...}
        # refusals, "false", and GET notes wrapped as {"notes": [...]} (the sandbox answers a bare array)
        "ERROR_CONTENT",
        "ANSWER_FALSE",
        "R_NOTES",
        # the client's own choices and lookups, built from compared names: the verb -> path table,
        # which actions carry a body, the paging window and page size it asks for ([INF]; the
        # sandbox's default is SERVED_DEFAULT_PAGE_SIZE), its request Content-Type, cutting long
        # notes, where a person fixes a key
        "ACTION_PATHS",
        "ACTIONS_WITH_BODY",
        "MAX_RANGE",
        "REQUESTED_PAGE_SIZE",
        "JSON_CONTENT_TYPE",
        "NOTE_CUT_MARK",
        "KEY_PLACE",
        # helpers: writing from / to and ids, cutting windows and notes, checking a received
        # webhook; UTC is the datetime import
        "UTC",
        "as_utc",
        "range_timestamp",
        "windows",
        "return_id_text",
        "fit_note",
        "signature_valid",
        "verify_webhook",
    },
    "ebay": {
        # the mapper's and the sites' own: where it reads order facts, its drift list, what it tells
        # a person when the seller's grant is refused, the brand's 12 pictures ([SEED] 004)
        "ORDER_FIELDS",
        "PAYLOAD",
        "CONSENT_ADVICE",
        "ERP_MAX_IMAGES",
        # the client's choices: the scopes it asks for, how early it renews a token, the page it asks
        # for, its default marketplace and language, its request content types
        "DEFAULT_SCOPES",
        "REFRESH_MARGIN_SECONDS",
        "REQUESTED_LIMIT",
        "DEFAULT_MARKETPLACE",
        "DEFAULT_CONTENT_LANGUAGE",
        "FORM_CONTENT_TYPE",
        "JSON_CONTENT_TYPE",
        # HTTP's own codes the client tests answers against (the sandbox answers them by number)
        "STATUS_NOT_FOUND",
        "STATUS_UNAUTHORIZED",
        # [DOC] fieldGroups=TAX_BREAKDOWN: the sandbox's orders carry the tax breakdown unasked
        "FIELD_GROUP_TAX_BREAKDOWN",
        # [DOC] getInventoryItems' limit (1..200): the sandbox states the bound in server.py's
        # _list_items, not in its tables
        "INVENTORY_ITEMS_MAX_LIMIT",
        # [DOC] delivery-cost fields the client reads and the sandbox's orders never carry (no
        # shipping discounts, no international shipping)
        "DeliveryCostField.DISCOUNT_AMOUNT",
        "DeliveryCostField.IMPORT_CHARGES",
        "DeliveryCostField.SHIPPING_INTERMEDIATION_FEE",
        # helpers built from compared names (FILTER_LAST_MODIFIED, FILTER_FULFILLMENT_STATUS); the
        # sandbox's TIME_FORMAT writes what `timestamp` writes, with .000 milliseconds
        "UTC",
        "timestamp",
        "modified_filter",
    },
}
# What the sandbox keeps for itself: how it serves the API (its defaults when a request leaves a
# parameter out, its refusals, state machine and webhook delivery, the types it writes per endpoint).
SANDBOX_ONLY: dict[str, set[str]] = {
    "brandboom": set(),
    "joor": set(),
    "loop": {
        # defaults for what a request leaves out: the client always sends filter, from / to and
        # pageSize ([INF]; the client's page size is REQUESTED_PAGE_SIZE)
        "DEFAULT_FILTER",
        "DEFAULT_RANGE_HOURS",
        "SERVED_DEFAULT_PAGE_SIZE",
        # its answers: the 401 body (built from compared names), the [INF] refusal codes and 429
        # text, the action state machine; the client reads codes as data, whatever they are
        "UNAUTHORIZED_BODY",
        "INVALID_PARAMETER",
        "INVALID_DATE_RANGE",
        "RETURN_NOT_FOUND",
        "NOTES_NOT_FOUND",
        "NOT_FOUND",
        "TOO_MANY_REQUESTS_MESSAGE",
        "TRANSITIONS",
        "FLAGGED_REFUSAL",
        # the verbs it routes (the client's ACTION_PATHS; both are built from compared ACTION_* names)
        "ACTIONS",
        # how it writes a return: which keys are money, ids and timestamps, per endpoint, and the
        # list's time format; lists built from compared field classes
        "MONEY_FIELDS",
        "LINE_MONEY_FIELDS",
        "RETURN_ID_FIELDS",
        "LINE_ID_FIELDS",
        "REFUND_ID_FIELDS",
        "WEBHOOK_STRING_IDS",
        "WEBHOOK_INT_IDS",
        "WEBHOOK_ONLY_FIELDS",
        "CUSTOMER_DETAIL_FIELDS",
        "ADDRESS_FIELDS",
        "TIMESTAMP_FIELDS",
        "LINE_TIMESTAMP_FIELDS",
        "LABEL_TIMESTAMP_FIELDS",
        "LIST_TIME_FORMAT",
        # sending webhooks: the client only receives them
        "WEBHOOK_CONTENT_TYPE",
        "WEBHOOK_RETRIES",
        "WEBHOOK_ATTEMPTS",
        "MAX_RETRY_AFTER_SECONDS",
        "WEBHOOK_BACKOFF_BASE_SECONDS",
        "WEBHOOK_BACKOFF_CAP_SECONDS",
        "WEBHOOK_TIMEOUT_SECONDS",
    },
    "ebay": {
        # eBay's document beyond what the client sends or reads: the other scopes and the one the
        # sandbox grants, the token type, the error envelope's domains and categories, the limits and
        # enumerations it checks requests against, Basic auth on the token call, the phone field
        "SCOPE_PREFIX",
        "SCOPE_API",
        "SCOPE_INVENTORY_READONLY",
        "SCOPE_FULFILLMENT_READONLY",
        "GRANTED_SCOPES",
        "USER_ACCESS_TOKEN",
        "BASIC",
        "DOMAIN_OAUTH",
        "DOMAIN_ACCESS",
        "DOMAIN_INVENTORY",
        "DOMAIN_FULFILLMENT",
        "SUBDOMAIN_INVENTORY",
        "SUBDOMAIN_FULFILLMENT",
        "CATEGORY_REQUEST",
        "CATEGORY_APPLICATION",
        "CATEGORY_BUSINESS",
        "CONTENT_LANGUAGES",
        "NEEDS_CONTENT_LANGUAGE",
        "CONDITIONS",
        "FORMATS",
        "MARKETPLACES",
        "TITLE_MAX_CHARS",
        "DESCRIPTION_MAX_CHARS",
        "GROUP_KEY_MAX_CHARS",
        "MAX_VARIANTS",
        "MIN_IMAGES_TO_PUBLISH",
        "MAX_ORDER_IDS",
        "LISTING_POLICY_IDS",
        "FULFILLMENT_FILTERS",
        "FULFILLMENT_STATUSES",
        "PAYMENT_STATUSES",
        "CANCEL_STATES",
        "UNLISTED_PAYMENT_STATUSES",
        "PHONE_NUMBER",
        "Q_FORMAT",
        "SHIPPING_FULFILLMENT",
        "REVISIONS_PER_DAY",
        # its defaults for what a request leaves out
        "DEFAULT_LIMIT",
        "DEFAULT_WINDOW_DAYS",
        # how it writes what it serves: timestamps, listings, line states, taxes, the ship-to type,
        # the sold format, the buyer-protection property, answers without a body
        "TIME_FORMAT",
        "LISTING_ACTIVE",
        "LISTING_STATUS",
        "SOLD_QUANTITY",
        "LINE_NOT_STARTED",
        "LINE_IN_PROGRESS",
        "LINE_FULFILLED",
        "TAX_TYPE",
        "TAX_TYPE_STATE_SALES_TAX",
        "COLLECTION_METHOD",
        "COLLECTION_METHOD_NET",
        "SHIP_TO_TYPE",
        "SOLD_FORMAT_FIXED_PRICE",
        "PAYMENT_METHOD_EBAY",
        "PROPERTY_BUYER_PROTECTION",
        "UPDATE_OFFER_STATUS",
        "CREATE_FULFILLMENT_STATUS",
        "SF_TOTAL",
        # its refusals: the OAuth errors the client does not tell apart, the text of 401 / 429, and
        # the errorIds it answers with, all [INF] but 1001 (the client reads them as data and shows
        # them; the ones it acts on are compared in SPELLED, see EBAY_ERROR_IDS)
        "INVALID_REQUEST",
        "INVALID_SCOPE",
        "UNSUPPORTED_GRANT_TYPE",
        "INVALID_GRANT_DESCRIPTION",
        "INVALID_CLIENT_DESCRIPTION",
        "INVALID_SCOPE_DESCRIPTION",
        "INVALID_ACCESS_TOKEN_MESSAGE",
        "INVALID_ACCESS_TOKEN_LONG",
        "ACCESS_DENIED",
        "ACCESS_DENIED_MESSAGE",
        "TOO_MANY_REQUESTS",
        "TOO_MANY_REQUESTS_MESSAGE",
        "RESOURCE_NOT_FOUND",
        "RESOURCE_NOT_AVAILABLE",
        "INTERNAL_ERROR",
        "INVALID_CATEGORY",
        "INVALID_POLICY",
        "INVALID_PRICE",
        "MISSING_LOCATION",
        "INVALID_ITEM",
        "INVALID_VALUE",
        "INVALID_FILTER",
        "INVALID_LIMIT",
        "INVALID_ORDER_ID",
        "INVALID_LINE_ITEM",
        "ORDER_NOT_SHIPPABLE",
        "FULFILLMENT_NOT_FOUND",
        "REVISION_LIMIT_REACHED",
        # its rate limit window ([INF]; the client obeys Retry-After)
        "RATE_LIMIT_WINDOW_SECONDS",
    },
}
SAMPLES: dict[str, list[tuple[Any, ...]]] = {
    "signature": [("PUBKEY", "SECRET", 1700000000), ("a", "b", "0")],
    "authorization": [("token-123",), ("",)],
    "range_timestamp": [(datetime(2026, 11, 2, 9, 30, 1, 250000, tzinfo=UTC),), (datetime(2026, 1, 1),)],
    "request_credits": [("GET",), ("post",), ("PUT",), ("HEAD",)],
    "webhook_signature": [
        ("whsec-1", b'{"topic":"return","url":"https:\\/\\/x"}'),
        ("sécret", "é".encode()),
        ("", b""),
    ],
}


def _path(base: str, path: str) -> str:
    """A sandbox path (``/sell/inventory/v1`` + ``offer``) as the client writes it (``sell/inventory/v1/offer``)."""
    return f"{base.strip('/')}/{path}"


def _fields(cls: Any, *names: str) -> dict[str, Any]:
    return {name: getattr(cls, name) for name in names}


# The same fact named differently on the two sides: contract name -> how to read it from the
# sandbox's tables (the module, read through a recorder, so each name read counts as compared). A
# class is read as {field: value} for the client's fields: eBay's contract classes hold the fields
# the client sends or reads, gathered by the request they go in; the sandbox's follow eBay's type
# pages and hold more of each type (those extra fields are eBay's document, not the client's).
SPELLED: dict[str, dict[str, Callable[[Any], Any]]] = {
    "ebay": {
        # paths: the client's carry the API's base, the sandbox's are relative to it
        "TOKEN_PATH": lambda a: a.TOKEN_PATH.lstrip("/"),
        "INVENTORY": lambda a: _path(a.INVENTORY_BASE, ""),
        "FULFILLMENT": lambda a: _path(a.FULFILLMENT_BASE, ""),
        "INVENTORY_ITEM": lambda a: _path(a.INVENTORY_BASE, a.INVENTORY_ITEM),
        "INVENTORY_ITEMS": lambda a: _path(a.INVENTORY_BASE, a.INVENTORY_ITEMS),
        "BULK_INVENTORY_ITEM": lambda a: _path(a.INVENTORY_BASE, a.BULK_CREATE_OR_REPLACE_INVENTORY_ITEM),
        "INVENTORY_ITEM_GROUP": lambda a: _path(a.INVENTORY_BASE, a.INVENTORY_ITEM_GROUP),
        "OFFERS": lambda a: _path(a.INVENTORY_BASE, a.OFFERS),
        "OFFER": lambda a: _path(a.INVENTORY_BASE, a.OFFER),
        "OFFER_PUBLISH": lambda a: _path(a.INVENTORY_BASE, a.OFFER_PUBLISH),
        "PUBLISH_BY_GROUP": lambda a: _path(a.INVENTORY_BASE, a.OFFER_PUBLISH_BY_GROUP),
        "BULK_PRICE_QUANTITY": lambda a: _path(a.INVENTORY_BASE, a.BULK_UPDATE_PRICE_QUANTITY),
        "ORDERS": lambda a: _path(a.FULFILLMENT_BASE, a.ORDERS),
        "ORDER": lambda a: _path(a.FULFILLMENT_BASE, a.ORDER),
        "SHIPPING_FULFILLMENTS": lambda a: _path(a.FULFILLMENT_BASE, a.SHIPPING_FULFILLMENTS),
        # the token answer and OAuth's error body
        "T_ACCESS_TOKEN": lambda a: a.ACCESS_TOKEN,
        "T_EXPIRES_IN": lambda a: a.EXPIRES_IN,
        "T_TOKEN_TYPE": lambda a: a.TOKEN_TYPE,
        "OAUTH_ERROR": lambda a: a.ERROR,
        "OAUTH_ERROR_DESCRIPTION": lambda a: a.ERROR_DESCRIPTION,
        # the errorIds the client acts on ([INF] but 1001: see EBAY_ERROR_IDS) and the parameter it reads
        "ERROR_INVALID_TOKEN": lambda a: a.INVALID_ACCESS_TOKEN,
        "ERROR_OFFER_EXISTS": lambda a: a.USER_ERROR,
        "ERROR_OFFER_NOT_AVAILABLE": lambda a: a.OFFER_NOT_AVAILABLE,
        "ERROR_SKU_NOT_FOUND": lambda a: a.SKU_NOT_FOUND,
        "PARAM_OFFER_ID": lambda a: a.OfferField.OFFER_ID,
        "ErrorField": lambda a: {
            "ERROR_ID": a.E_ERROR_ID,
            "DOMAIN": a.E_DOMAIN,
            "SUBDOMAIN": a.E_SUBDOMAIN,
            "CATEGORY": a.E_CATEGORY,
            "MESSAGE": a.E_MESSAGE,
            "LONG_MESSAGE": a.E_LONG_MESSAGE,
            "PARAMETERS": a.E_PARAMETERS,
            "PARAM_NAME": a.P_NAME,
            "PARAM_VALUE": a.P_VALUE,
        },
        # status codes, by the answer that carries them
        "STATUS_OK": lambda a: a.BULK_ALL_OK,
        "STATUS_MULTI": lambda a: a.BULK_MULTI_STATUS,
        "STATUS_CREATED": lambda a: a.CREATE_OFFER_STATUS,
        "STATUS_NO_CONTENT": lambda a: a.INVENTORY_ITEM_WRITE_STATUS,
        # limits
        "BULK_LIMIT": lambda a: a.MAX_BULK,
        "MAX_SKU_CHARS": lambda a: a.SKU_MAX_CHARS,
        # query parameters and list answers
        "P_FILTER": lambda a: a.Q_FILTER,
        "P_LIMIT": lambda a: a.Q_LIMIT,
        "P_OFFSET": lambda a: a.Q_OFFSET,
        "P_ORDER_IDS": lambda a: a.Q_ORDER_IDS,
        "P_FIELD_GROUPS": lambda a: a.Q_FIELD_GROUPS,
        "P_SKU": lambda a: a.Q_SKU,
        "P_MARKETPLACE_ID": lambda a: a.Q_MARKETPLACE_ID,
        "FILTER_LAST_MODIFIED": lambda a: a.FILTER_LASTMODIFIEDDATE,
        "FILTER_CREATION_DATE": lambda a: a.FILTER_CREATIONDATE,
        "FILTER_FULFILLMENT_STATUS": lambda a: a.FILTER_ORDERFULFILLMENTSTATUS,
        "R_ORDERS": lambda a: a.PageField.ORDERS,
        "R_TOTAL": lambda a: a.PageField.TOTAL,
        "R_NEXT": lambda a: a.PageField.NEXT,
        "R_LIMIT": lambda a: a.PageField.LIMIT,
        "R_OFFSET": lambda a: a.PageField.OFFSET,
        "R_OFFERS": lambda a: a.OFFERS_KEY,
        "R_FULFILLMENTS": lambda a: a.SF_FULFILLMENTS,
        # bulk answers and publish requests
        "R_STATUS_CODE": lambda a: a.STATUS_CODE,
        "R_SKU": lambda a: a.PQ_SKU,
        "R_OFFER_ID": lambda a: a.PQ_OFFER_ID,
        "PUBLISH_GROUP_KEY": lambda a: a.GROUP_PUBLISH_KEY,
        "PUBLISH_MARKETPLACE_ID": lambda a: a.GROUP_PUBLISH_MARKETPLACE,
        "OFFER_PUBLISHED": lambda a: a.STATUS_PUBLISHED,
        "OFFER_UNPUBLISHED": lambda a: a.STATUS_UNPUBLISHED,
        # [DOC] sel:PaymentStatusEnum's PAID, which the sandbox writes from the order's PAID
        "PAYMENT_STATUS_PAID": lambda a: a.PAYMENT_PAID,
        # request and answer fields, by the client's grouping
        "ItemField": lambda a: {
            **_fields(a.ItemField, "SKU", "LOCALE", "PRODUCT", "CONDITION", "AVAILABILITY"),
            **_fields(a.ProductField, "TITLE", "DESCRIPTION", "ASPECTS", "IMAGE_URLS"),
            "SHIP_TO_LOCATION_AVAILABILITY": a.AVAILABILITY_SHIP_TO,
            "QUANTITY": a.QUANTITY,
        },
        "GroupField": lambda a: {
            **_fields(a.GroupField, "VARIANT_SKUS", "VARIES_BY", "TITLE", "DESCRIPTION", "IMAGE_URLS"),
            "SPECIFICATIONS": a.VARIES_BY_SPECIFICATIONS,
            "ASPECTS_IMAGE_VARIES_BY": a.VARIES_BY_ASPECTS_IMAGE_VARIES_BY,
            "NAME": a.SPEC_NAME,
            "VALUES": a.SPEC_VALUES,
        },
        "OfferField": lambda a: {
            **_fields(
                a.OfferField,
                "OFFER_ID",
                "SKU",
                "MARKETPLACE_ID",
                "FORMAT",
                "LISTING_DURATION",
                "AVAILABLE_QUANTITY",
                "CATEGORY_ID",
                "LISTING_DESCRIPTION",
                "PRICING_SUMMARY",
                "LISTING_POLICIES",
                "MERCHANT_LOCATION_KEY",
                "STATUS",
                "LISTING",
            ),
            "PRICE": a.PRICE,
            "FULFILLMENT_POLICY_ID": a.FULFILLMENT_POLICY_ID,
            "PAYMENT_POLICY_ID": a.PAYMENT_POLICY_ID,
            "RETURN_POLICY_ID": a.RETURN_POLICY_ID,
            "LISTING_ID": a.LISTING_ID,
        },
        "PriceQuantityField": lambda a: {
            "SKU": a.PQ_SKU,
            "SHIP_TO_LOCATION_AVAILABILITY": a.PQ_SHIP_TO,
            "QUANTITY": a.QUANTITY,
            "OFFERS": a.PQ_OFFERS,
            "OFFER_ID": a.PQ_OFFER_ID,
            "AVAILABLE_QUANTITY": a.PQ_AVAILABLE_QUANTITY,
            "PRICE": a.PQ_PRICE,
        },
        "OrderField": lambda a: {
            **_fields(
                a.OrderField,
                "ORDER_ID",
                "LEGACY_ORDER_ID",
                "CREATION_DATE",
                "LAST_MODIFIED_DATE",
                "ORDER_FULFILLMENT_STATUS",
                "ORDER_PAYMENT_STATUS",
                "CANCEL_STATUS",
                "BUYER",
                "BUYER_CHECKOUT_NOTES",
                "PRICING_SUMMARY",
                "PAYMENT_SUMMARY",
                "FULFILLMENT_START_INSTRUCTIONS",
                "LINE_ITEMS",
                "SALES_RECORD_REFERENCE",
            ),
            "CANCEL_STATE": a.CancelField.CANCEL_STATE,
        },
        "BuyerField": lambda a: {
            "USERNAME": a.BuyerField.USERNAME,
            "REGISTRATION_ADDRESS": a.BuyerField.BUYER_REGISTRATION_ADDRESS,
        },
        "AddressField": lambda a: {
            "LINE1": a.AddressField.ADDRESS_LINE1,
            "LINE2": a.AddressField.ADDRESS_LINE2,
            "CITY": a.AddressField.CITY,
            "STATE": a.AddressField.STATE_OR_PROVINCE,
            "POSTAL_CODE": a.AddressField.POSTAL_CODE,
            "COUNTRY_CODE": a.AddressField.COUNTRY_CODE,
        },
        "FulfillmentStartField": lambda a: _fields(
            a.InstructionField, "SHIPPING_STEP", "SHIP_TO", "SHIPPING_SERVICE_CODE"
        ),
        "AmountField": lambda a: {"VALUE": a.AMOUNT_VALUE, "CURRENCY": a.AMOUNT_CURRENCY},
        "PaymentField": lambda a: {
            **_fields(
                a.PaymentField, "PAYMENTS", "REFUNDS", "TOTAL_DUE_SELLER", "AMOUNT", "PAYMENT_METHOD", "PAYMENT_STATUS"
            ),
            "REFUND_STATUS": a.RefundField.REFUND_STATUS,
        },
        "LineField": lambda a: {
            **_fields(
                a.LineItemField,
                "LINE_ITEM_ID",
                "LEGACY_ITEM_ID",
                "SKU",
                "TITLE",
                "QUANTITY",
                "LINE_ITEM_COST",
                "TOTAL",
                "DELIVERY_COST",
                "TAXES",
                "EBAY_COLLECT_AND_REMIT_TAXES",
                "LINE_ITEM_FULFILLMENT_STATUS",
            ),
            "TAX_AMOUNT": a.PaymentField.AMOUNT,  # the sandbox writes taxes[].amount with it
        },
        "DeliveryCostField": lambda a: {"SHIPPING_COST": a.SHIPPING_COST, "HANDLING_COST": a.HANDLING_COST},
        "ShipmentField": lambda a: {
            "LINE_ITEMS": a.SF_LINE_ITEMS,
            "LINE_ITEM_ID": a.SF_LINE_ITEM_ID,
            "QUANTITY": a.SF_QUANTITY,
            "SHIPPED_DATE": a.SF_SHIPPED_DATE,
            "SHIPPING_CARRIER_CODE": a.SF_SHIPPING_CARRIER_CODE,
            "TRACKING_NUMBER": a.SF_TRACKING_NUMBER,
            "SHIPMENT_TRACKING_NUMBER": a.SF_SHIPMENT_TRACKING_NUMBER,
            "FULFILLMENT_ID": a.SF_FULFILLMENT_ID,
        },
    },
}


class _Recorder:
    """A sandbox tables module that notes each name read (a name read by SPELLED is compared)."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self.read: set[str] = set()

    def __getattr__(self, name: str) -> Any:
        self.read.add(name)
        return getattr(self._module, name)


def _public(module: ModuleType) -> dict[str, Any]:
    names = {}
    for name, value in vars(module).items():
        if (
            name.startswith("_")
            or inspect.ismodule(value)
            or getattr(value, "__module__", module.__name__) not in (module.__name__, "builtins", None)
            and not isinstance(value, (str, int, float, tuple, dict, frozenset))
        ):
            continue
        if name in ("annotations", "Final", "Any", "Mapping") or "mutmut" in name or name == "MutantDict":
            continue  # typing names; the helpers `make mutate` adds to a module it mutates
        names[name] = value
    return names


def _differences(partner: str, contract: ModuleType, api: ModuleType) -> list[str]:
    ours, theirs = _public(contract), _public(api)
    recorder = _Recorder(api)
    spelled = {name: how(recorder) for name, how in SPELLED.get(partner, {}).items()}
    unlisted = CLIENT_ONLY[partner] | SANDBOX_ONLY[partner]
    found = []
    for name in sorted(set(ours) | set(theirs) | set(spelled)):
        if name in unlisted:
            continue
        if name in spelled:
            if name not in ours:
                found.append(f"{name}: spelled for the sandbox, not in the client's contract")
                continue
            a, b = ours[name], spelled[name]
        elif name not in theirs:
            found.append(f"{name}: in the client's contract, not in the sandbox's tables")
            continue
        elif name not in ours:
            if name not in recorder.read:
                found.append(f"{name}: in the sandbox's tables, not in the client's contract")
            continue
        else:
            a, b = ours[name], theirs[name]
        if inspect.isclass(a):
            fields_a = {k: v for k, v in vars(a).items() if k.isupper()}
            fields_b = b if isinstance(b, dict) else {k: v for k, v in vars(b).items() if k.isupper()}
            for key in sorted(set(fields_a) | set(fields_b)):
                if f"{name}.{key}" in unlisted:
                    continue
                if fields_a.get(key) != fields_b.get(key):
                    found.append(f"{name}.{key}: contract {fields_a.get(key)!r} != sandbox {fields_b.get(key)!r}")
        elif inspect.isfunction(a):
            for args in SAMPLES.get(name, []):
                if a(*args) != b(*args):
                    found.append(f"{name}{args}: contract {a(*args)!r} != sandbox {b(*args)!r}")
            if name not in SAMPLES:
                found.append(f"{name}: a function with no samples to compare; add some to SAMPLES")
        elif a != b:
            found.append(f"{name}: contract {a!r} != sandbox {b!r}")
    return found


@pytest.mark.parametrize(
    ("partner", "contract", "api"),
    [
        ("brandboom", brandboom_contract, brandboom_api),
        ("joor", joor_contract, joor_api),
        ("loop", loop_contract, loop_api),
        ("ebay", ebay_contract, ebay_api),
    ],
)
def test_the_sandbox_and_the_client_state_the_same_api(partner: str, contract: ModuleType, api: ModuleType) -> None:
    differences = _differences(partner, contract, api)
    assert not differences, f"{partner}: the contract and the sandbox disagree:\n  " + "\n  ".join(differences)


def test_a_changed_header_or_status_is_named() -> None:
    # a contract whose signature header was renamed, and whose FAILED export state moved
    class Changed(ModuleType):
        pass

    changed = Changed("connectors.brandboom.contract")
    vars(changed).update({k: v for k, v in vars(brandboom_contract).items()})
    changed.HEADER_SIGNATURE = "X-Sig"  # type: ignore[attr-defined]
    assert "HEADER_SIGNATURE: contract 'X-Sig' != sandbox 'X-Auth-Signature'" in _differences(
        "brandboom", changed, brandboom_api
    )
    joor_changed = Changed("connectors.joor.contract")
    vars(joor_changed).update({k: v for k, v in vars(joor_contract).items()})
    joor_changed.EXPORT_NOT_EXPORTED = 4  # type: ignore[attr-defined]
    assert any(
        d.startswith("EXPORT_NOT_EXPORTED: contract 4 != sandbox 2")
        for d in _differences("joor", joor_changed, joor_api)
    )


# eBay's errorIds the client acts on: contract name -> (the sandbox's name, where each side says the
# id comes from). Two sides agreeing on an id neither read in eBay's error tables shows only that
# they agree, not that eBay sends it: each stays marked [INF] on both sides until someone reads it
# there, and a new errorId the client acts on is listed here with its source.
EBAY_ERROR_IDS = {
    "ERROR_INVALID_TOKEN": ("INVALID_ACCESS_TOKEN", "[DOC"),
    "ERROR_OFFER_EXISTS": ("USER_ERROR", "[INF"),
    "ERROR_OFFER_NOT_AVAILABLE": ("OFFER_NOT_AVAILABLE", "[INF"),
    "ERROR_SKU_NOT_FOUND": ("SKU_NOT_FOUND", "[INF"),
}


def _stated(module: ModuleType, name: str) -> str:
    """A name's definition line with the comment lines right above it: where its source is marked."""
    lines = inspect.getsource(module).splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith((f"{name}:", f"{name} =")))
    start = at
    while start > 0 and lines[start - 1].lstrip().startswith("#"):
        start -= 1
    return "\n".join(lines[start : at + 1])


def test_ebays_error_ids_say_which_are_documented_and_which_inferred() -> None:
    acted_on = {n for n, v in vars(ebay_contract).items() if n.startswith("ERROR_") and isinstance(v, int)}
    assert acted_on == set(EBAY_ERROR_IDS)
    for name, (theirs, source) in EBAY_ERROR_IDS.items():
        ours_said, theirs_said = _stated(ebay_contract, name), _stated(ebay_api, theirs)
        assert getattr(ebay_contract, name) == getattr(ebay_api, theirs), name
        assert source in ours_said and source in theirs_said, (name, ours_said, theirs_said)
        if source == "[INF":  # an inferred id is not called documented on its own line
            assert "[DOC" not in ours_said.splitlines()[-1] and "[DOC" not in theirs_said.splitlines()[-1], name


def test_the_sandboxes_never_import_the_clients() -> None:
    # a fresh interpreter that loads the sandboxes has loaded nothing of connectors/
    import subprocess
    import sys

    code = (
        "import sys, sandbox.brandboom.server, sandbox.joor.server, sandbox.loop.server, sandbox.ebay.server; "
        "print(sorted(m for m in sys.modules if m == 'connectors' or m.startswith('connectors.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stdout
