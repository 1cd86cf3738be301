"""The Loop Returns API contract, in one place, for the client and its mapper.

The client and the mapper import every path, parameter, header and field name from here. A
sandbox keeps its own copy of the document's tables and never imports this module, so a mistake
here fails the tests that talk to it.

Markers (keep documented names exactly as written; say where we chose):
- [DOC] written in Loop's public API documentation (shared/partners/README.md section 3 cites
  the pages; "mirror" is the OpenAPI mirror it names, api-evangelist/loop-returns).
- [INF] our choice where the documentation is silent; each is used behind one client method or
  one mapper function so the real shape can replace it in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Final

from connectors.drift import Expected, PayloadContract
from connectors.events import hmac_sha256, signature_matches

PARTNER: Final = "loop"

# --- Hosts and paths [DOC] 3.1 / 3.2 --------------------------------------------------------
PRODUCTION_BASE_URL: Final = "https://api.loopreturns.com/api/v1"
BASE_PATH: Final = "/api/v1"
# Relative to the base URL.
RETURN_LIST: Final = "warehouse/return/list"  # Detailed Returns List
RETURN_DETAILS: Final = "warehouse/return/details"  # Get Return Details
RETURN_PROCESS: Final = "warehouse/return/{return_id}/process"
RETURN_CLOSE: Final = "warehouse/return/{return_id}/close"
RETURN_CANCEL: Final = "warehouse/return/{return_id}/cancel"
RETURN_FLAG: Final = "warehouse/return/{return_id}/flag"
RETURN_NOTES: Final = "warehouse/return/{return_id}/notes"  # GET: the timeline notes
RETURN_NOTE: Final = "warehouse/return/{return_id}/note"  # POST: add one note

# The actions on one return, by the verb Bobbin names them with. [DOC] each answers 200 with
# "true" or an error body.
ACTION_PROCESS: Final = "process"
ACTION_CLOSE: Final = "close"
ACTION_CANCEL: Final = "cancel"
ACTION_FLAG: Final = "flag"
ACTION_PATHS: Final = {
    ACTION_PROCESS: RETURN_PROCESS,
    ACTION_CLOSE: RETURN_CLOSE,
    ACTION_CANCEL: RETURN_CANCEL,
    ACTION_FLAG: RETURN_FLAG,
}
# [DOC] process accepts an optional JSON body that becomes "Additional Details" on the Shopify
# orders it creates; the other actions take none.
ACTIONS_WITH_BODY: Final = frozenset({ACTION_PROCESS})

# --- Authentication [DOC] 3.1 ----------------------------------------------------------------
HEADER_AUTHORIZATION: Final = "X-Authorization"  # the API key itself, no scheme
SCOPE_RETURNS: Final = "Returns"  # the key's scope every call here needs; without it: 401
JSON_CONTENT_TYPE: Final = "application/json"  # [INF] Loop answers JSON; we send JSON
# Where a person makes or fixes a key. [DOC]
KEY_PLACE: Final = "Loop Admin → Returns Management → Tools & integrations → Developer Tools"

# --- Rate limit [DOC] 3.1 /reference/rate-limits ---------------------------------------------
RATE_LIMIT_REQUESTS: Final = 300  # per API key and window; over it: 429, "pause, then retry"
RATE_LIMIT_WINDOW_SECONDS: Final = 60.0  # a minute

# --- Error bodies [DOC] ----------------------------------------------------------------------
# 401 (mirror): {"error": {"code": "401", "http_code": "GEN-UNAUTHORIZED", "message": "Unauthorized."}};
# an older page: {"errors": "Unauthorized."}. Action refusals: {"errors": {"message", "code"}};
# [DOC mirror] some refusals carry only {"message": ...} or {"content": ...}.
ERROR: Final = "error"
ERRORS: Final = "errors"
ERROR_CODE: Final = "code"
ERROR_HTTP_CODE: Final = "http_code"
ERROR_MESSAGE: Final = "message"
ERROR_CONTENT: Final = "content"
HTTP_CODE_UNAUTHORIZED: Final = "GEN-UNAUTHORIZED"
# Action refusal codes [DOC].
UNPROCESSABLE_RETURN: Final = "UNPROCESSABLE_RETURN"
UNPROCESSABLE_FLAGGED_RETURN: Final = "UNPROCESSABLE_FLAGGED_RETURN"
# [DOC] an action's success answer is the JSON string "true"; [DOC mirror] a failure may be "false".
ANSWER_TRUE: Final = "true"
ANSWER_FALSE: Final = "false"

# --- Detailed Returns List [DOC] 3.2 ---------------------------------------------------------
P_FROM: Final = "from"
P_TO: Final = "to"
P_FILTER: Final = "filter"
P_STATE: Final = "state"  # comma-separated
P_PAGINATE: Final = "paginate"
P_PAGE_SIZE: Final = "pageSize"
P_CURSOR: Final = "cursor"  # [DOC] carried inside nextPageUrl; we never build it
PAGINATE_TRUE: Final = "true"
FILTER_CREATED_AT: Final = "created_at"
FILTER_UPDATED_AT: Final = "updated_at"
FILTERS: Final = (FILTER_CREATED_AT, FILTER_UPDATED_AT)
MAX_RANGE_DAYS: Final = 120  # [DOC] from..to spans at most 120 days
MAX_RANGE: Final = timedelta(days=MAX_RANGE_DAYS)
# [DOC] versions of the page disagree on pageSize's default and maximum (100/750, 150/500,
# 150/700): 500 is within every one of them.
MAX_PAGE_SIZE: Final = 500
# [INF] what Bobbin asks for: each page is committed before the next is read, so a page is what a
# crash can make us read twice; 250 returns (with their lines, some 0.5-1 MB of JSON) is 4 requests
# per 1,000 returns, a small share of the 300 a minute. Not Loop's default (which the document does
# not settle): the client always sends pageSize.
REQUESTED_PAGE_SIZE: Final = 250
R_RETURNS: Final = "returns"
R_NEXT_PAGE_URL: Final = "nextPageUrl"  # null on the last page
R_PREVIOUS_PAGE_URL: Final = "previousPageUrl"

STATE_OPEN: Final = "open"
STATE_CLOSED: Final = "closed"
STATE_CANCELLED: Final = "cancelled"
STATE_EXPIRED: Final = "expired"
STATE_REVIEW: Final = "review"  # "needs review"
STATES: Final = (STATE_OPEN, STATE_CLOSED, STATE_CANCELLED, STATE_EXPIRED, STATE_REVIEW)
# [DOC] without `state` Loop lists open, closed and expired: cancelled and review are left out.
DEFAULT_STATES: Final = (STATE_OPEN, STATE_CLOSED, STATE_EXPIRED)

OUTCOME_EXCHANGE: Final = "exchange"
OUTCOME_UPSELL: Final = "upsell"
OUTCOME_REFUND: Final = "refund"
OUTCOME_CREDIT: Final = "credit"
OUTCOME_EXCHANGE_REFUND: Final = "exchange+refund"
OUTCOME_EXCHANGE_CREDIT: Final = "exchange+credit"
OUTCOMES: Final = (
    OUTCOME_EXCHANGE,
    OUTCOME_UPSELL,
    OUTCOME_REFUND,
    OUTCOME_CREDIT,
    OUTCOME_EXCHANGE_REFUND,
    OUTCOME_EXCHANGE_CREDIT,
)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as UTC already."""
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def range_timestamp(moment: datetime) -> str:
    """``from`` / ``to`` as Loop's list takes them: [DOC mirror] the example
    ``2022-01-01T00:00:00.000Z`` (UTC, milliseconds, "Z"). A naive datetime is taken as UTC."""
    utc = as_utc(moment)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def windows(start: datetime, end: datetime, span: timedelta = MAX_RANGE) -> list[tuple[datetime, datetime]]:
    """``[start, end]`` cut into consecutive windows of at most ``span`` (Loop's 120 days), in
    order; each window starts where the one before ended. Empty when ``end`` is not after
    ``start``. [INF] Loop's bounds are inclusive, so a return stamped exactly on a boundary is
    listed twice: harmless, a return is staged by its id."""
    if span <= timedelta(0):
        raise ValueError("a window must span some time")
    start, end = as_utc(start), as_utc(end)
    out = []
    at = start
    while at < end:
        stop = min(at + span, end)
        out.append((at, stop))
        at = stop
    return out


# --- Get Return Details [DOC] 3.6 ------------------------------------------------------------
P_RETURN_ID: Final = "return_id"
P_ORDER_ID: Final = "order_id"  # the Shopify order id
P_ORDER_NAME: Final = "order_name"
P_CURRENCY_TYPE: Final = "currency_type"
CURRENCY_SHOP: Final = "shop"  # [DOC] the default
CURRENCY_PRESENTMENT: Final = "presentment"
CURRENCY_TYPES: Final = (CURRENCY_SHOP, CURRENCY_PRESENTMENT)


def return_id_text(value: object) -> str:
    """One return id as it goes into a path or a query: [DOC mirror] an integer, which the list
    writes as a string of digits. Anything else (a list, several ids, a blank, a bool) is a
    ValueError: each action targets exactly one return."""
    if isinstance(value, bool):
        raise ValueError(f"a Loop return id is a number, not {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"a Loop return id is not negative: {value}")
        return str(value)
    if isinstance(value, str):
        text = value.strip()
        if text and text.isascii() and text.isdigit():
            return text
    raise ValueError(f"a Loop return id is one number, not {value!r}")


# --- Notes [DOC] 3.2 / 3.6 ---------------------------------------------------------------------
NOTE_CONTENT: Final = "content"  # the POST body: {"content": "..."}
# [DOC] content ≤ 255 characters (the mirror's error text says "less than 255"; we follow 3.2).
NOTE_MAX_CHARS: Final = 255
# [INF] a longer note is cut, not refused: a note tells Loop's returns team what happened to a
# return, and its start says it; the mark shows it was cut.
NOTE_CUT_MARK: Final = "…"


def fit_note(content: str) -> str:
    """A note's text as sent: stripped, and cut to ``NOTE_MAX_CHARS`` (ending in the cut mark)
    when longer. A blank note is a ValueError ([DOC mirror] "Content is required")."""
    text = content.strip()
    if not text:
        raise ValueError("a Loop note needs some text")
    if len(text) <= NOTE_MAX_CHARS:
        return text
    return text[: NOTE_MAX_CHARS - len(NOTE_CUT_MARK)].rstrip() + NOTE_CUT_MARK


R_NOTES: Final = "notes"  # [DOC mirror] GET answers {"notes": [{id, content, created_at}]}


class NoteField:
    """[DOC mirror] a timeline note."""

    ID: Final = "id"
    CONTENT: Final = "content"
    CREATED_AT: Final = "created_at"


# --- Webhooks [DOC] 3.4 / 3.6 ----------------------------------------------------------------
HEADER_SIGNATURE: Final = "X-Loop-Signature"  # base64(HMAC-SHA256(raw body, webhook secret))
TOPIC_RETURN: Final = "return"
TRIGGER_RETURN_CREATED: Final = "return.created"
TRIGGER_RETURN_UPDATED: Final = "return.updated"
TRIGGER_RETURN_CLOSED: Final = "return.closed"
RETURN_TRIGGERS: Final = (TRIGGER_RETURN_CREATED, TRIGGER_RETURN_UPDATED, TRIGGER_RETURN_CLOSED)


def webhook_signature(secret: str, body: bytes) -> str:
    """[DOC] ``X-Loop-Signature``: base64 of the HMAC-SHA256 of the raw body under the secret."""
    return hmac_sha256(secret, body, encoding="base64")


def signature_valid(body: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` signs these exact bytes under ``secret`` (constant-time). Verify
    the bytes as received: [DOC] Loop signs its compact body with ``\\/`` and ``\\uXXXX``
    escapes, which a re-serialised body would not reproduce. A missing signature or an empty
    secret never matches."""
    if not secret:
        return False
    return signature_matches(webhook_signature(secret, body), signature)


def verify_webhook(body: bytes, headers: Mapping[str, str], secret: str) -> bool:
    """:func:`signature_valid` with the signature from the request's headers (names in any case)."""
    wanted = HEADER_SIGNATURE.lower()
    given = next((value for name, value in headers.items() if name.lower() == wanted), None)
    return signature_valid(body, given, secret)


# --- The return object [DOC] 3.3 (list, details, webhook) -------------------------------------
class ReturnField:
    """Keys of a return. Ids are strings in the list and integers in details; in the webhook
    ``id``, ``provider_order_id`` and ``order_number`` are strings and ``order_id``,
    ``provider_order_number``, ``provider_order_external_id`` integers [DOC]."""

    ID: Final = "id"
    STATE: Final = "state"
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"  # [DOC] absent from the webhook payload
    EDITED_AT: Final = "edited_at"
    TOTAL: Final = "total"
    OUTCOME: Final = "outcome"
    ORDER_ID: Final = "order_id"  # Loop's order id
    ORDER_NAME: Final = "order_name"  # e.g. "#7382018"
    PROVIDER_ORDER_ID: Final = "provider_order_id"  # Shopify's
    ORDER_NUMBER: Final = "order_number"
    PROVIDER_ORDER_NUMBER: Final = "provider_order_number"
    CUSTOMER: Final = "customer"  # the customer's e-mail
    ORIGIN_COUNTRY: Final = "origin_country"
    ORIGIN_COUNTRY_CODE: Final = "origin_country_code"
    MULTI_CURRENCY: Final = "multi_currency"
    CURRENCY: Final = "currency"
    RETURN_PRODUCT_TOTAL: Final = "return_product_total"
    RETURN_DISCOUNT_TOTAL: Final = "return_discount_total"
    RETURN_TAX_TOTAL: Final = "return_tax_total"
    RETURN_TOTAL: Final = "return_total"
    RETURN_CREDIT_TOTAL: Final = "return_credit_total"
    EXCHANGE_PRODUCT_TOTAL: Final = "exchange_product_total"
    EXCHANGE_DISCOUNT_TOTAL: Final = "exchange_discount_total"
    EXCHANGE_TAX_TOTAL: Final = "exchange_tax_total"
    EXCHANGE_TOTAL: Final = "exchange_total"
    EXCHANGE_CREDIT_TOTAL: Final = "exchange_credit_total"
    GIFT_CARD: Final = "gift_card"
    GIFT_CARD_ORDER_NAME: Final = "gift_card_order_name"
    GIFT_CARD_ORDER_ID: Final = "gift_card_order_id"
    HANDLING_FEE: Final = "handling_fee"
    REFUND: Final = "refund"
    UPSELL: Final = "upsell"
    REFUNDS: Final = "refunds"
    EXCHANGE_ORDER_NAME: Final = "exchange_order_name"
    EXCHANGE_ORDER_ID: Final = "exchange_order_id"  # details
    LABELS: Final = "labels"
    LINE_ITEMS: Final = "line_items"


class ListLabelField:
    """[DOC mirror] one label's facts that the list also carries flat on the return (the mirror's
    example return; section 3.3 lists them only inside ``labels[]``). Known keys for the drift
    count; nothing reads them."""

    CARRIER: Final = "carrier"
    TRACKING_NUMBER: Final = "tracking_number"
    LABEL_STATUS: Final = "label_status"
    LABEL_URL: Final = "label_url"
    DESTINATION_ID: Final = "destination_id"


class WebhookField:
    """[DOC] 3.4 keys only the return webhook carries, besides the return's own."""

    TOPIC: Final = "topic"
    TRIGGER: Final = "trigger"
    SHOP_ID: Final = "shop_id"
    PROVIDER_ORDER_EXTERNAL_ID: Final = "provider_order_external_id"
    PROVIDER_ORDER_SALES_CHANNEL: Final = "provider_order_sales_channel"
    CUSTOMER_DETAIL: Final = "customer_detail"
    ADDRESS: Final = "address"
    STATUS_PAGE_URL: Final = "status_page_url"
    IS_GIFT_RETURN: Final = "is_gift_return"


class CustomerDetailField:
    """[DOC] the webhook's ``customer_detail``."""

    EMAIL: Final = "email"
    FIRST_NAME: Final = "first_name"
    LAST_NAME: Final = "last_name"


class AddressField:
    """[DOC] the webhook's ``address``."""

    NAME: Final = "name"
    COMPANY: Final = "company"
    ADDRESS1: Final = "address1"
    ADDRESS2: Final = "address2"
    CITY: Final = "city"
    STATE: Final = "state"
    ZIP: Final = "zip"
    COUNTRY: Final = "country"
    COUNTRY_CODE: Final = "country_code"
    PHONE: Final = "phone"


class RefundField:
    """[DOC] ``refunds[]``."""

    GATEWAY: Final = "gateway"
    AMOUNT: Final = "amount"
    CURRENCY: Final = "currency"
    PROVIDER_REFUND_ID: Final = "provider_refund_id"


class LabelField:
    """[DOC] ``labels[]``."""

    STATUS: Final = "status"
    UPDATED_AT: Final = "updated_at"
    URL: Final = "url"
    RATE: Final = "rate"
    CARRIER: Final = "carrier"
    TRACKING_NUMBER: Final = "tracking_number"
    LINE_ITEMS: Final = "line_items"


class LineItemField:
    """[DOC] ``line_items[]``. No quantity is documented: [INF] each line item is one unit."""

    LINE_ITEM_ID: Final = "line_item_id"
    PROVIDER_LINE_ITEM_ID: Final = "provider_line_item_id"
    PRODUCT_ID: Final = "product_id"
    VARIANT_ID: Final = "variant_id"
    SKU: Final = "sku"
    TITLE: Final = "title"
    LINE_ITEM_TITLE: Final = "line_item_title"  # details spells the title so
    VARIANT_TITLE: Final = "variant_title"  # details
    PRICE: Final = "price"
    DISCOUNT: Final = "discount"
    TAX: Final = "tax"
    REFUND: Final = "refund"
    REFUND_ITEM: Final = "refund_item"
    REFUND_TAX: Final = "refund_tax"
    RETURNED_AT: Final = "returned_at"
    EXCHANGE_VARIANT: Final = "exchange_variant"
    RETURN_REASON: Final = "return_reason"
    PARENT_RETURN_REASON: Final = "parent_return_reason"
    RETURN_COMMENT: Final = "return_comment"
    BARCODE: Final = "barcode"
    OUTCOME: Final = "outcome"
    PROVIDER_RESTOCK_LOCATION_ID: Final = "provider_restock_location_id"


# The title of a line under either spelling: list / webhook ``title``, details ``line_item_title``.
LINE_TITLE_KEYS: Final = (LineItemField.TITLE, LineItemField.LINE_ITEM_TITLE)
# The customer's e-mail: ``customer`` (list, details) [DOC], else ``customer_detail.email`` (webhook) [DOC].
CUSTOMER_EMAIL_PLACES: Final = (
    (ReturnField.CUSTOMER,),
    (WebhookField.CUSTOMER_DETAIL, CustomerDetailField.EMAIL),
)

# Timestamps as each endpoint writes them [DOC] 3.6: details "2023-08-22 14:08:31" (no zone:
# [INF] UTC), the list "2023-08-22T14:08:31.000Z" (read with a fraction of any length), webhooks
# "2023-08-22T14:08:31Z".
DETAILS_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
WEBHOOK_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_FORMATS: Final = (DETAILS_TIME_FORMAT, "%Y-%m-%dT%H:%M:%S.%fZ", WEBHOOK_TIME_FORMAT)


def _fields(cls: type) -> frozenset[str]:
    return frozenset(v for k, v in vars(cls).items() if k.isupper())


# What a return payload should hold, for the drift count (connectors/drift.py): the facts the
# mapper reads (required: a return is unusable without it), and every key known per object.
_R, _W = ReturnField, WebhookField
PAYLOAD: Final = PayloadContract(
    partner="Loop",
    fields=(
        Expected("return id", (_R.ID,), required=True),
        Expected("state", (_R.STATE,), required=True),
        Expected("line items", (_R.LINE_ITEMS,), required=True),
        Expected("order name", (_R.ORDER_NAME,), effect="returns are no longer matched to their sales order"),
        Expected(
            "customer e-mail",
            tuple(".".join(place) for place in CUSTOMER_EMAIL_PLACES),
            effect="customers are no longer matched by e-mail",
        ),
        Expected("currency", (_R.CURRENCY,), effect="credits are recorded without a currency"),
        Expected("outcome", (_R.OUTCOME,), effect="refunds, credits and exchanges can no longer be told apart"),
        # The webhook carries no updated_at [DOC]: absent there for a good reason.
        Expected("updated at", (_R.UPDATED_AT,), watched=False),
    ),
    known={
        "": _fields(ReturnField) | _fields(ListLabelField) | _fields(WebhookField),
        _W.CUSTOMER_DETAIL: _fields(CustomerDetailField),
        _W.ADDRESS: _fields(AddressField),
        f"{_R.REFUNDS}[]": _fields(RefundField),
        f"{_R.LABELS}[]": _fields(LabelField),
        f"{_R.LINE_ITEMS}[]": _fields(LineItemField),
    },
)
