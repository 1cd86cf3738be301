"""The Loop Returns API as the sandbox serves it: its own literal tables of what the document states.

The sandbox never imports the Loop client (``connectors/loop/``): a test double that shares the
client's tables cannot catch a mistake in them. These tables state shared/partners/README.md
section 3 (3.1-3.6) with the same markers: [DOC] documented, [INF] chosen here where the document
is silent (or disagrees with itself; the note says which way and why). When the client and the
sandbox disagree, the document decides which side is wrong.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Final

PARTNER: Final = "loop"

# --- Hosts and paths [DOC] 3.1 / 3.2 ----------------------------------------------------------
PRODUCTION_BASE_URL: Final = "https://api.loopreturns.com/api/v1"
BASE_PATH: Final = "/api/v1"
# Relative to the base URL.
RETURN_LIST: Final = "warehouse/return/list"  # the Detailed Returns List
RETURN_DETAILS: Final = "warehouse/return/details"  # Get Return Details
RETURN_PROCESS: Final = "warehouse/return/{return_id}/process"
RETURN_CLOSE: Final = "warehouse/return/{return_id}/close"
RETURN_CANCEL: Final = "warehouse/return/{return_id}/cancel"
RETURN_FLAG: Final = "warehouse/return/{return_id}/flag"
RETURN_NOTES: Final = "warehouse/return/{return_id}/notes"  # GET
RETURN_NOTE: Final = "warehouse/return/{return_id}/note"  # POST {content}
# [DOC] also exists (remove line items, order link / QR, ASN, grading, ...): not served by the
# sandbox (404), Bobbin's returns flow does not call them.
ACTION_PROCESS: Final = "process"
ACTION_CLOSE: Final = "close"
ACTION_CANCEL: Final = "cancel"
ACTION_FLAG: Final = "flag"
ACTIONS: Final = (ACTION_PROCESS, ACTION_CLOSE, ACTION_CANCEL, ACTION_FLAG)

# --- Authentication [DOC] 3.1 ---------------------------------------------------------------
HEADER_AUTHORIZATION: Final = "X-Authorization"  # the API key itself, no scheme
SCOPE_RETURNS: Final = "Returns"  # covers process, cancel, flag, close, notes, list, details

# --- Rate limit [DOC] 3.1: 300 requests per minute per API key, then 429 ---------------------
RATE_LIMIT_REQUESTS: Final = 300
RATE_LIMIT_WINDOW_SECONDS: Final = 60.0
# [INF] the window slides (the requests of the last 60 s count); only requests with an accepted key
# count (a 401 has no key to charge), a 429 itself is not counted. The 429 carries Retry-After
# (whole seconds until the oldest counted request leaves the window) and this body:
TOO_MANY_REQUESTS_MESSAGE: Final = "Too Many Attempts."  # [INF]

# --- Errors ----------------------------------------------------------------------------------
# [DOC] the action error body {"errors": {"message", "code"}}, answered with HTTP 200 by process.
ERRORS: Final = "errors"
ERROR_MESSAGE: Final = "message"
ERROR_CODE: Final = "code"
# [DOC] the OpenAPI mirror's 401 body {"error": {"code", "http_code", "message"}}; a key without the
# Returns scope gets it. [INF] a missing or unknown key gets the same answer (one 401 for every
# refused key).
ERROR: Final = "error"
ERROR_HTTP_CODE: Final = "http_code"
HTTP_CODE_UNAUTHORIZED: Final = "GEN-UNAUTHORIZED"
UNAUTHORIZED_BODY: Final = {
    ERROR: {ERROR_CODE: "401", ERROR_HTTP_CODE: HTTP_CODE_UNAUTHORIZED, ERROR_MESSAGE: "Unauthorized."}
}
UNPROCESSABLE_FLAGGED_RETURN: Final = "UNPROCESSABLE_FLAGGED_RETURN"  # [DOC]
UNPROCESSABLE_RETURN: Final = "UNPROCESSABLE_RETURN"  # [DOC]
# [INF] every other refusal the sandbox makes uses the same body shape, with these codes and the
# HTTP status beside each (the document names none of them).
INVALID_PARAMETER: Final = "INVALID_PARAMETER"  # 422: a query or body value that cannot be read
INVALID_DATE_RANGE: Final = "INVALID_DATE_RANGE"  # 422: to before from, or more than 120 days apart
RETURN_NOT_FOUND: Final = "RETURN_NOT_FOUND"  # 404
NOTES_NOT_FOUND: Final = "NOTES_NOT_FOUND"  # 422 [DOC] status, [INF] code
NOT_FOUND: Final = "NOT_FOUND"  # 404: a path the API does not have
# [DOC] process answers HTTP 200 with the JSON text "true" (a string) on success. [INF] close,
# cancel and flag answer the same, and refuse a transition the same way process does.
ANSWER_TRUE: Final = "true"

# --- GET warehouse/return/list [DOC] 3.2 ------------------------------------------------------
P_FROM: Final = "from"
P_TO: Final = "to"
P_FILTER: Final = "filter"
P_STATE: Final = "state"  # comma-separated
P_PAGINATE: Final = "paginate"
P_PAGE_SIZE: Final = "pageSize"
P_CURSOR: Final = "cursor"  # carried by nextPageUrl
PAGINATE_TRUE: Final = "true"  # [DOC] paginate=true; [INF] also read: 1, and false / 0 / absent (a bare array)
FILTER_CREATED_AT: Final = "created_at"
FILTER_UPDATED_AT: Final = "updated_at"
FILTERS: Final = (FILTER_CREATED_AT, FILTER_UPDATED_AT)
DEFAULT_FILTER: Final = FILTER_CREATED_AT  # [INF] the document names no default
MAX_RANGE_DAYS: Final = 120  # [DOC] from .. to at most 120 days apart
# [INF] a longer range is refused (422 INVALID_DATE_RANGE), never silently cut: a client that
# asked for more than it gets would believe it read everything.
DEFAULT_RANGE_HOURS: Final = 24  # [DOC] with neither from nor to: the last 24 hours
# [INF] only `from`: up to now; only `to`: the 24 hours before it.
# [DOC] the versions of the document disagree on pageSize (default / max 100/750, 150/500, 150/700);
# [INF] the sandbox takes the strictest maximum, and the default two versions agree on (served when
# a request names no pageSize). A larger pageSize is refused (422), so a client that asks for more
# than 500 is caught.
SERVED_DEFAULT_PAGE_SIZE: Final = 150
MAX_PAGE_SIZE: Final = 500
R_RETURNS: Final = "returns"  # [DOC] the paginated answer {"returns", "nextPageUrl", "previousPageUrl"}
R_NEXT_PAGE_URL: Final = "nextPageUrl"
R_PREVIOUS_PAGE_URL: Final = "previousPageUrl"  # [INF] always null: the sandbox pages forward only
# [INF] the listing is ordered by the filter's timestamp, then id, ascending; the cursor is opaque
# (the position after the last return served), so a return created or edited while a client pages
# lands after the cursor instead of shifting the pages.

# --- GET warehouse/return/details [DOC] 3.6 ---------------------------------------------------
P_RETURN_ID: Final = "return_id"
P_ORDER_ID: Final = "order_id"  # [DOC] the Shopify order id, i.e. the return's provider_order_id
P_ORDER_NAME: Final = "order_name"
P_CURRENCY_TYPE: Final = "currency_type"
CURRENCY_SHOP: Final = "shop"  # [DOC] the default
CURRENCY_PRESENTMENT: Final = "presentment"
CURRENCY_TYPES: Final = (CURRENCY_SHOP, CURRENCY_PRESENTMENT)  # [INF] one currency: the same answer
# [INF] several returns of one order: details answers the newest (highest id). Details answers the
# return object itself, not wrapped.

# --- Notes [DOC] 3.2 / 3.6 ---------------------------------------------------------------------
NOTE_CONTENT: Final = "content"
NOTE_MAX_CHARS: Final = 255  # [DOC] content <= 255; [INF] longer or empty: 422 INVALID_PARAMETER


class NoteField:
    """[INF] a note: {"id", "content", "created_at"}; GET notes answers a bare array, oldest first,
    and POST note answers the note made. A note lives on the return's timeline, not among its
    fields: it does not change updated_at and sends no webhook."""

    ID: Final = "id"
    CONTENT: Final = "content"
    CREATED_AT: Final = "created_at"


# --- Return states and outcomes [DOC] 3.3 ---------------------------------------------------------
STATE_OPEN: Final = "open"
STATE_CLOSED: Final = "closed"
STATE_CANCELLED: Final = "cancelled"
STATE_EXPIRED: Final = "expired"
STATE_REVIEW: Final = "review"  # [DOC] also shown as "needs review"; [INF] the API spells it review
STATES: Final = (STATE_OPEN, STATE_CLOSED, STATE_CANCELLED, STATE_EXPIRED, STATE_REVIEW)
DEFAULT_STATES: Final = (STATE_OPEN, STATE_CLOSED, STATE_EXPIRED)  # [DOC]
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

# Transitions the actions make: action -> {state before: state after}. [DOC] process archives the
# return and fulfils its outcomes, close closes it without fulfilling them, cancel cancels it (the
# items may be returned again), flag sets it aside for manual review; a flagged return cannot be
# processed (UNPROCESSABLE_FLAGGED_RETURN). [INF] the rest: a processed return is "closed"; close
# and cancel also take a flagged return; flagging a flagged return changes nothing and succeeds;
# any other state before (closed, cancelled, expired) is UNPROCESSABLE_RETURN.
TRANSITIONS: Final[dict[str, dict[str, str]]] = {
    ACTION_PROCESS: {STATE_OPEN: STATE_CLOSED},
    ACTION_CLOSE: {STATE_OPEN: STATE_CLOSED, STATE_REVIEW: STATE_CLOSED},
    ACTION_CANCEL: {STATE_OPEN: STATE_CANCELLED, STATE_REVIEW: STATE_CANCELLED},
    ACTION_FLAG: {STATE_OPEN: STATE_REVIEW, STATE_REVIEW: STATE_REVIEW},
}
# [DOC] UNPROCESSABLE_FLAGGED_RETURN is the answer to processing a return in review.
FLAGGED_REFUSAL: Final = {(ACTION_PROCESS, STATE_REVIEW)}


class ReturnField:
    """[DOC] 3.3 the return header, in the Detailed Returns List, Get Return Details and the
    return webhook."""

    ID: Final = "id"
    STATE: Final = "state"
    CREATED_AT: Final = "created_at"
    UPDATED_AT: Final = "updated_at"
    EDITED_AT: Final = "edited_at"
    TOTAL: Final = "total"
    OUTCOME: Final = "outcome"
    ORDER_ID: Final = "order_id"  # Loop's
    ORDER_NAME: Final = "order_name"  # e.g. "#7382018"
    PROVIDER_ORDER_ID: Final = "provider_order_id"  # Shopify's
    ORDER_NUMBER: Final = "order_number"
    PROVIDER_ORDER_NUMBER: Final = "provider_order_number"
    CUSTOMER: Final = "customer"  # the shopper's e-mail
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
    EXCHANGE_ORDER_ID: Final = "exchange_order_id"  # [DOC] in details; [INF] only there
    LABELS: Final = "labels"
    LINE_ITEMS: Final = "line_items"


class WebhookField:
    """[DOC] 3.4 what the return webhook adds to the return fields."""

    TOPIC: Final = "topic"
    TRIGGER: Final = "trigger"
    SHOP_ID: Final = "shop_id"
    PROVIDER_ORDER_EXTERNAL_ID: Final = "provider_order_external_id"
    PROVIDER_ORDER_SALES_CHANNEL: Final = "provider_order_sales_channel"
    CUSTOMER_DETAIL: Final = "customer_detail"  # {email, first_name, last_name}
    ADDRESS: Final = "address"  # {name, company, address1, address2, city, state, zip, country, country_code, phone}
    STATUS_PAGE_URL: Final = "status_page_url"
    IS_GIFT_RETURN: Final = "is_gift_return"


class CustomerDetailField:
    """[DOC] 3.4 the webhook's ``customer_detail``."""

    EMAIL: Final = "email"
    FIRST_NAME: Final = "first_name"
    LAST_NAME: Final = "last_name"


class AddressField:
    """[DOC] 3.4 the webhook's ``address``."""

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


# The keys served in ``customer_detail`` and ``address``, in the document's order.
CUSTOMER_DETAIL_FIELDS: Final = (
    CustomerDetailField.EMAIL,
    CustomerDetailField.FIRST_NAME,
    CustomerDetailField.LAST_NAME,
)
ADDRESS_FIELDS: Final = (
    AddressField.NAME,
    AddressField.COMPANY,
    AddressField.ADDRESS1,
    AddressField.ADDRESS2,
    AddressField.CITY,
    AddressField.STATE,
    AddressField.ZIP,
    AddressField.COUNTRY,
    AddressField.COUNTRY_CODE,
    AddressField.PHONE,
)
# [INF] the webhook-only fields are served in webhooks alone, not in the list or details.
WEBHOOK_ONLY_FIELDS: Final = (
    WebhookField.PROVIDER_ORDER_EXTERNAL_ID,
    WebhookField.PROVIDER_ORDER_SALES_CHANNEL,
    WebhookField.CUSTOMER_DETAIL,
    WebhookField.ADDRESS,
    WebhookField.STATUS_PAGE_URL,
    WebhookField.IS_GIFT_RETURN,
)


class LineItemField:
    """[DOC] 3.3 a line item. The list (and [INF] the webhook) names the product ``title``; details
    names ``line_item_title`` and ``variant_title`` instead."""

    LINE_ITEM_ID: Final = "line_item_id"
    PROVIDER_LINE_ITEM_ID: Final = "provider_line_item_id"
    PRODUCT_ID: Final = "product_id"
    VARIANT_ID: Final = "variant_id"
    SKU: Final = "sku"
    TITLE: Final = "title"
    LINE_ITEM_TITLE: Final = "line_item_title"
    VARIANT_TITLE: Final = "variant_title"
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


class RefundField:
    """[DOC] refunds[{gateway, amount, currency, provider_refund_id}]."""

    GATEWAY: Final = "gateway"
    AMOUNT: Final = "amount"
    CURRENCY: Final = "currency"
    PROVIDER_REFUND_ID: Final = "provider_refund_id"


class LabelField:
    """[DOC] labels[{status, updated_at, url, rate, carrier, tracking_number, line_items[]}]."""

    STATUS: Final = "status"
    UPDATED_AT: Final = "updated_at"
    URL: Final = "url"
    RATE: Final = "rate"
    CARRIER: Final = "carrier"
    TRACKING_NUMBER: Final = "tracking_number"
    LINE_ITEMS: Final = "line_items"


# Money values are strings with two decimals ("63.30"). [DOC]
MONEY_FIELDS: Final = (
    ReturnField.TOTAL,
    ReturnField.RETURN_PRODUCT_TOTAL,
    ReturnField.RETURN_DISCOUNT_TOTAL,
    ReturnField.RETURN_TAX_TOTAL,
    ReturnField.RETURN_TOTAL,
    ReturnField.RETURN_CREDIT_TOTAL,
    ReturnField.EXCHANGE_PRODUCT_TOTAL,
    ReturnField.EXCHANGE_DISCOUNT_TOTAL,
    ReturnField.EXCHANGE_TAX_TOTAL,
    ReturnField.EXCHANGE_TOTAL,
    ReturnField.EXCHANGE_CREDIT_TOTAL,
    ReturnField.GIFT_CARD,
    ReturnField.HANDLING_FEE,
    ReturnField.REFUND,
    ReturnField.UPSELL,
)
LINE_MONEY_FIELDS: Final = (
    LineItemField.PRICE,
    LineItemField.DISCOUNT,
    LineItemField.TAX,
    LineItemField.REFUND,
    LineItemField.REFUND_ITEM,
    LineItemField.REFUND_TAX,
)

# --- Ids and timestamps per endpoint [DOC] 3.3 / 3.6 --------------------------------------------
# [DOC] ids are integers in details and strings in the list. [INF] which keys are ids:
RETURN_ID_FIELDS: Final = (
    ReturnField.ID,
    ReturnField.ORDER_ID,
    ReturnField.PROVIDER_ORDER_ID,
    ReturnField.ORDER_NUMBER,
    ReturnField.PROVIDER_ORDER_NUMBER,
    ReturnField.GIFT_CARD_ORDER_ID,
    ReturnField.EXCHANGE_ORDER_ID,
)
LINE_ID_FIELDS: Final = (
    LineItemField.LINE_ITEM_ID,
    LineItemField.PROVIDER_LINE_ITEM_ID,
    LineItemField.PRODUCT_ID,
    LineItemField.VARIANT_ID,
    LineItemField.PROVIDER_RESTOCK_LOCATION_ID,
)
REFUND_ID_FIELDS: Final = (RefundField.PROVIDER_REFUND_ID,)
# [DOC example] the webhook mixes them: these are strings, these integers; [INF] every other id
# (line items, refunds, gift card and exchange orders) as in the list: a string.
WEBHOOK_STRING_IDS: Final = (ReturnField.ID, ReturnField.PROVIDER_ORDER_ID, ReturnField.ORDER_NUMBER)
WEBHOOK_INT_IDS: Final = (
    ReturnField.ORDER_ID,
    ReturnField.PROVIDER_ORDER_NUMBER,
    WebhookField.PROVIDER_ORDER_EXTERNAL_ID,
)
# [DOC] timestamps: details "2023-08-22 14:08:31", list "2023-08-22T14:08:31.000Z", webhooks
# "2023-08-22T14:08:31Z". [INF] all UTC, to the second.
DETAILS_TIME_FORMAT: Final = "%Y-%m-%d %H:%M:%S"
LIST_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.000Z"
WEBHOOK_TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%SZ"
TIMESTAMP_FIELDS: Final = (ReturnField.CREATED_AT, ReturnField.UPDATED_AT, ReturnField.EDITED_AT)
LINE_TIMESTAMP_FIELDS: Final = (LineItemField.RETURNED_AT,)
LABEL_TIMESTAMP_FIELDS: Final = (LabelField.UPDATED_AT,)

# --- Webhooks [DOC] 3.4 / 3.6 ------------------------------------------------------------------
TOPIC_RETURN: Final = "return"
TRIGGER_RETURN_CREATED: Final = "return.created"
TRIGGER_RETURN_UPDATED: Final = "return.updated"
TRIGGER_RETURN_CLOSED: Final = "return.closed"
RETURN_TRIGGERS: Final = (TRIGGER_RETURN_CREATED, TRIGGER_RETURN_UPDATED, TRIGGER_RETURN_CLOSED)
# [INF] return.closed when a change leaves the return closed (processed or closed), return.updated
# for every other change, return.created once.
HEADER_SIGNATURE: Final = "X-Loop-Signature"  # base64(HMAC-SHA256(raw body, webhook secret))


def webhook_signature(secret: str, body: bytes) -> str:
    """[DOC] ``X-Loop-Signature``: base64(HMAC-SHA256(raw body, webhook secret))."""
    return base64.b64encode(hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()).decode("ascii")


WEBHOOK_CONTENT_TYPE: Final = "application/json"
# [DOC] the body is sent compact, "/" escaped as "\/", non-ASCII as \uXXXX (PHP's json_encode).
# [DOC example] the return webhook carries no updated_at (3.6); 3.3 lists it among the shared
# fields, so the sandbox leaves it out unless told to send it (``webhook_updated_at``).
WEBHOOK_RETRIES: Final = 5  # [DOC] 5 retries, 6 attempts, on a non-2xx answer
WEBHOOK_ATTEMPTS: Final = WEBHOOK_RETRIES + 1
MAX_RETRY_AFTER_SECONDS: Final = 30 * 60  # [DOC] Retry-After honoured up to 30 minutes
# [INF] the backoff: base * 2**(retry - 1), capped, with full jitter (a uniform draw up to it); the
# document gives no figures. The sandbox's defaults; tests pass short ones.
WEBHOOK_BACKOFF_BASE_SECONDS: Final = 5.0
WEBHOOK_BACKOFF_CAP_SECONDS: Final = 300.0
WEBHOOK_TIMEOUT_SECONDS: Final = 10.0  # [INF] how long one attempt waits for the receiver
