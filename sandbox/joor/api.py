"""The JOOR API as the sandbox serves it: its own literal tables of what the document states.

The sandbox never imports the client's contract (``connectors/joor/contract.py``): a test
double that shares the client's tables cannot catch a mistake in them. These tables state
shared/partners/README.md section 1 (JOOR v2 and v4) with the same markers ([DOC] documented, [INF] chosen
where the document is silent, [CODE] seen in public code). They started as a literal copy of the
contract's tables as the two stood on 2026-12-02; from then on each side is corrected against the
document alone. ``tests/connectors/test_contract_tables.py`` compares them with the contract name
by name and fails on any difference, naming it; the document decides which side is wrong.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Final

PARTNER: Final = "joor"

# --- Hosts and paths -------------------------------------------------------------------------
PRODUCTION_BASE_URL: Final = "https://api.jooraccess.com/v2"  # [DOC]
SANDBOX_BASE_URL: Final = "https://apisandbox.jooraccess.com/v2"  # [DOC] sample cURLs
BASE_PATH: Final = "/v2"  # [DOC] both bases end in /v2
# Relative to the base URL. [CODE] GET .../v2/order/?sync=0&count=100&start=0&order_type=6;
# the doc excerpt never shows the literal URI, hence one constant to change.
ORDERS: Final = "order/"
# [CODE] public code reads one order at GET /v2/order/{order_id}; with sync=1 that marks exactly that
# order exported (the list read's order_id filter is seen only in public code, never documented,
# and a server that ignores it marks whatever it returns). [INF] it answers like the list.
ORDER: Final = "order/{order_id}"
CONNECTION: Final = "connection/{connection_id}/"  # [DOC] /connection-get
CONNECTION_BY_CUSTOMER_CODE: Final = "connection/customer_code/{customer_code}/"  # [DOC]
BULK_INVENTORY: Final = "bulk-inventory"  # [DOC] POST or PUT, no trailing slash in the doc

# --- Authentication [DOC] --------------------------------------------------------------------
HEADER_AUTHORIZATION: Final = "Authorization"
AUTH_SCHEME: Final = "OAuth2"  # [DOC] "OAuth2 [Base64 encoded token]"
JSON_CONTENT_TYPE: Final = "application/json"  # [DOC] v2 takes XML or JSON; we speak JSON


def authorization(api_token: str) -> str:
    """[DOC] the v2 header value; [CODE] clients build it as "OAuth2 " + base64(token)."""
    encoded = base64.b64encode(api_token.encode("utf-8")).decode("ascii")
    return f"{AUTH_SCHEME} {encoded}"


# --- Rate limits [DOC] /docs/rate-limits -----------------------------------------------------
WINDOW_SECONDS: Final = 300.0  # a fixed window per account, starting at its first request
CREDITS_PER_WINDOW: Final = 300
GET_CREDITS: Final = 1
WRITE_CREDITS: Final = 5  # POST, PUT, DELETE
HEADER_THROTTLING_ACCOUNT: Final = "X-Throttling-Account-Id"  # [DOC]; other header names [GAP]


def request_credits(method: str) -> int:
    """What one request costs: GET 1, any write 5. [INF] HEAD/OPTIONS priced as reads."""
    return GET_CREDITS if method.upper() in ("GET", "HEAD", "OPTIONS") else WRITE_CREDITS


# --- Response envelope [DOC] connection-get: response{code, comment, log_id} ------------------
R_RESPONSE: Final = "response"
R_CODE: Final = "code"
R_COMMENT: Final = "comment"
R_LOG_ID: Final = "log_id"
R_START_FROM: Final = "start_from"  # [DOC] in connections.response
R_NEXT_START: Final = "next_start"  # [DOC] "the response carries the total and the next start"
R_COUNT: Final = "count"  # [DOC] in connections.response
R_TOTAL: Final = "total"  # [DOC] named by the get-orders page; [INF] its key

# Lists come wrapped as v2 converts its XML: [DOC] connections.connection[] and
# inventory_items.inventory_item[]; [INF] orders follow: {"orders": {"response": {...}, "order": [...]}}
# with start_from / next_start / count / total inside "response", as connections carry them.
R_ORDERS: Final = "orders"
R_ORDER: Final = "order"
R_CONNECTIONS: Final = "connections"
R_CONNECTION: Final = "connection"

# --- GET order/ parameters [DOC] /get-orders -------------------------------------------------
P_ORDER_TYPE: Final = "order_type"
P_EXPORT_STATUS: Final = "export_status"
P_SYNC: Final = "sync"  # 1 (default) marks the returned orders exported; 0 only reads
P_CHECK: Final = "check"  # 0-3; default 1 when sync=1, 0 when sync=0
P_DATE_START: Final = "date_start"  # modified-date range, UTC; one requires the other
P_DATE_END: Final = "date_end"
P_CUSTOMER_CODE: Final = "customer_code"  # <= 50
P_CUSTOMER_GROUP_NAME: Final = "customer_group_name"  # <= 150
P_START_FROM: Final = "start_from"
P_COUNT: Final = "count"
P_ORDER_ID: Final = "order_id"  # [CODE] sync=1&count=1&order_id=<id> marks one order exported
DEFAULT_COUNT: Final = 50  # [DOC] default page size
CHECK_VALUES: Final = (0, 1, 2, 3)

# order_type codes [DOC] -> the order statuses each selects. [INF] the status words: v4's
# (NOTES, PENDING, APPROVED, CANCELLED, IN_PROGRESS) plus SHIPPED, which v2 filters on (7) but
# v4 cannot set.
ORDER_TYPE_NOTES: Final = 1
ORDER_TYPE_APPROVED_AND_SHIPPED: Final = 2  # JOOR's default
ORDER_TYPE_PENDING: Final = 3
ORDER_TYPE_ALL_BUT_CANCELLED: Final = 4
ORDER_TYPE_CANCELLED: Final = 5
ORDER_TYPE_APPROVED: Final = 6
ORDER_TYPE_SHIPPED: Final = 7
ORDER_TYPE_ALL: Final = 8
STATUS_IN_PROGRESS: Final = "IN_PROGRESS"
STATUS_NOTES: Final = "NOTES"
STATUS_PENDING: Final = "PENDING"
STATUS_APPROVED: Final = "APPROVED"
STATUS_SHIPPED: Final = "SHIPPED"
STATUS_CANCELLED: Final = "CANCELLED"
ORDER_STATUSES: Final = (
    STATUS_IN_PROGRESS,
    STATUS_NOTES,
    STATUS_PENDING,
    STATUS_APPROVED,
    STATUS_SHIPPED,
    STATUS_CANCELLED,
)
ORDER_TYPES: Final[dict[int, frozenset[str]]] = {
    ORDER_TYPE_NOTES: frozenset({STATUS_NOTES}),
    ORDER_TYPE_APPROVED_AND_SHIPPED: frozenset({STATUS_APPROVED, STATUS_SHIPPED}),
    ORDER_TYPE_PENDING: frozenset({STATUS_PENDING}),
    ORDER_TYPE_ALL_BUT_CANCELLED: frozenset(ORDER_STATUSES) - {STATUS_CANCELLED},
    ORDER_TYPE_CANCELLED: frozenset({STATUS_CANCELLED}),
    ORDER_TYPE_APPROVED: frozenset({STATUS_APPROVED}),
    ORDER_TYPE_SHIPPED: frozenset({STATUS_SHIPPED}),
    ORDER_TYPE_ALL: frozenset(ORDER_STATUSES),
}

# export_status codes [DOC] -> the order export states each selects. [INF] the state words, and
# that 3 ("already exported") and 4 ("modified since last export") are disjoint, as 5 = 2+4 and
# 7 = 6+4 suggest.
EXPORT_ALL: Final = 1
EXPORT_NOT_EXPORTED: Final = 2  # not attempted, or failed
EXPORT_EXPORTED: Final = 3
EXPORT_MODIFIED: Final = 4
EXPORT_NOT_EXPORTED_OR_MODIFIED: Final = 5
EXPORT_NOT_ATTEMPTED: Final = 6  # failed excluded
EXPORT_NOT_ATTEMPTED_OR_MODIFIED: Final = 7
STATE_NOT_EXPORTED: Final = "NOT_EXPORTED"
STATE_FAILED: Final = "FAILED"
STATE_EXPORTED: Final = "EXPORTED"
STATE_MODIFIED: Final = "MODIFIED"
EXPORT_STATUSES: Final[dict[int, frozenset[str]]] = {
    EXPORT_ALL: frozenset({STATE_NOT_EXPORTED, STATE_FAILED, STATE_EXPORTED, STATE_MODIFIED}),
    EXPORT_NOT_EXPORTED: frozenset({STATE_NOT_EXPORTED, STATE_FAILED}),
    EXPORT_EXPORTED: frozenset({STATE_EXPORTED}),
    EXPORT_MODIFIED: frozenset({STATE_MODIFIED}),
    EXPORT_NOT_EXPORTED_OR_MODIFIED: frozenset({STATE_NOT_EXPORTED, STATE_FAILED, STATE_MODIFIED}),
    EXPORT_NOT_ATTEMPTED: frozenset({STATE_NOT_EXPORTED}),
    EXPORT_NOT_ATTEMPTED_OR_MODIFIED: frozenset({STATE_NOT_EXPORTED, STATE_MODIFIED}),
}
DEFAULT_EXPORT_STATUS: Final = {0: EXPORT_ALL, 1: EXPORT_NOT_EXPORTED}  # [DOC] by sync value


def range_timestamp(moment: datetime) -> str:
    """[DOC] date_start / date_end as "YYYY-MM-DDThh:mm:ss.sTZD" in UTC; we send milliseconds
    and "Z". A naive datetime is taken as UTC already."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


class OrderField:
    """[INF] keys of a v2 order. Names from the v2 internal-field list [DOC] where it has them
    (customer_code, payment_method_code, shipping_method_code, warehouse_name / warehouse_code,
    sales_representative / sales_representative_code) and from the v4 orders table [DOC]
    (status, export_status, date_created, date_modified, shipping_address, billing_address)."""

    ORDER_ID: Final = "order_id"  # [INF] v2 (public code filters orders by order_id)
    ID: Final = "id"  # [DOC] v4 orders table: "id", the name v2 probably shares
    PO_NUMBER: Final = "po_number"
    ORDER_TYPE: Final = "order_type"
    STATUS: Final = "status"
    EXPORT_STATUS: Final = "export_status"
    EXPORTED_ON: Final = "exported_on"  # [DOC] v4
    DATE_CREATED: Final = "date_created"
    DATE_MODIFIED: Final = "date_modified"
    START_SHIP_DATE: Final = "start_ship_date"
    END_SHIP_DATE: Final = "end_ship_date"  # the cancel date
    CURRENCY_CODE: Final = "currency_code"
    PRICE_TYPE: Final = "price_type"  # the price label, e.g. "US Dollars" [SEED]
    CUSTOMER_CODE: Final = "customer_code"  # the brand's (ERP) code kept on the connection
    CUSTOMER_NAME: Final = "customer_name"
    CUSTOMER_EMAIL: Final = "customer_email"
    RETAILER_ID: Final = "retailer_id"  # [DOC] v4 orders; JOOR's id of the retailer
    CONNECTION_ID: Final = "connection_id"  # the brand's connection to that retailer
    SALES_REP: Final = "sales_representative"
    SALES_REP_CODE: Final = "sales_representative_code"
    PAYMENT_METHOD: Final = "payment_method"
    PAYMENT_METHOD_CODE: Final = "payment_method_code"
    SHIPPING_METHOD: Final = "shipping_method"
    SHIPPING_METHOD_CODE: Final = "shipping_method_code"
    WAREHOUSE_NAME: Final = "warehouse_name"
    WAREHOUSE_CODE: Final = "warehouse_code"
    BILLING_ADDRESS: Final = "billing_address"
    SHIPPING_ADDRESS: Final = "shipping_address"
    ORDER_ITEMS: Final = "order_items"


# [INF] other spellings of a few order keys the mapper also reads, because the real payload may use
# them: "items" / "line_items" for the lines, and the v2 XML-to-JSON wrapper {"order_item": [...]}.
ITEMS_ALIASES: Final = ("items", "line_items")
ITEM_WRAPPER: Final = "order_item"


class AddressField:
    """[DOC] v4 shipping_address / billing_address keys."""

    CODE: Final = "code"
    NAME: Final = "name"
    COMPANY: Final = "company"
    LINE_1: Final = "line_1"
    LINE_2: Final = "line_2"
    CITY: Final = "city"
    STATE: Final = "state"
    ZIP: Final = "zip"
    COUNTRY: Final = "country"
    PHONE: Final = "phone"
    EMAIL: Final = "email"
    ID: Final = "id"
    FAX: Final = "fax"


class ItemField:
    """Order line keys: [DOC] the style and inventory APIs' names; [INF] that lines use them."""

    STYLE_NUMBER: Final = "style_number"
    STYLE_IDENTIFIER: Final = "style_identifier"  # style, or style+color when split by color
    COLOR_CODE: Final = "color_code"
    COLOR_NAME: Final = "color_name"
    SIZE: Final = "size"
    UPC: Final = "upc"
    QUANTITY: Final = "quantity"
    QUANTITY_SHIPPED: Final = "quantity_shipped"  # [INF]
    PRICE: Final = "price"  # wholesale, per unit


# [INF] other spellings of line keys the mapper accepts: (our key, alternatives in order).
ITEM_ALIASES: Final = {
    ItemField.SIZE: ("size_name",),  # [DOC] styles: sizes[{size_name}]
    ItemField.QUANTITY: ("qty", "units"),
    ItemField.PRICE: ("price_wholesale", "wholesale_price"),  # [DOC] styles / v4 line items
}

# Dates the mapper reads. [DOC] v4 dates are YYYY-MM-DD, v2 range timestamps
# YYYY-MM-DDThh:mm:ss.sTZD; [DOC] inventory also takes MM-DD-YYYY; [INF] US MM/DD/YYYY.
DATE_FORMATS: Final = ("%m/%d/%Y", "%m-%d-%Y")


# --- Connections (customers) [DOC] /connection-get, /bulk-connection-postput -----------------
class ConnectionField:
    CONNECTION_ID: Final = "connection_id"  # [INF] the key of the id in a connection
    RETAILER_ID: Final = "retailer_id"  # [INF]
    CUSTOMER_CODE: Final = "customer_code"  # [DOC] <= 50
    CUSTOMER_NAME: Final = "customer_name"  # [DOC] bulk-connection, required, <= 100
    CUSTOMER_CONTACT_EMAIL: Final = "customer_contact_email"  # [DOC]
    SALES_REP_CODE: Final = "sales_rep_code"  # [DOC]


# --- Bulk inventory [DOC] /style-inventory-bulk-request --------------------------------------
P_OVERWRITE: Final = "overwrite"  # 1 replaces the whole account's inventory
P_DEC_PENDING: Final = "dec_pending"  # 1 subtracts JOOR's pending quantities from what is sent
INVENTORY_ITEMS: Final = "inventory_items"
INVENTORY_ITEM: Final = "inventory_item"


class InventoryField:
    """[DOC] inventory_item keys (the doc also lists style_identifer [sic], style_id,
    style_color_id, size_code and made_to_order, which Bobbin does not send)."""

    WAREHOUSE: Final = "warehouse"  # the warehouse *name*; omitted -> JOOR's Default
    INVENTORY_DATE: Final = "inventory_date"  # future / WIP date; omitted = immediate
    STYLE_NUMBER: Final = "style_number"
    COLOR_CODE: Final = "color_code"
    SIZE: Final = "size"
    UPC: Final = "upc"  # the recommended key
    INVENTORY: Final = "inventory"  # int, required


INVENTORY_DATE_FORMATS: Final = ("%Y-%m-%d", "%m-%d-%Y")  # [DOC]
DEFAULT_WAREHOUSE: Final = "Default"  # [DOC] where items without a warehouse go
R_SKU_COUNT: Final = "sku_count"  # [DOC] bulk-inventory response
R_INVENTORY_LOG: Final = "inventory_log"  # [DOC] [{sku, inventory_log_id, status}]
LOG_SKU: Final = "sku"
LOG_ID: Final = "inventory_log_id"
LOG_STATUS: Final = "status"
LOG_PASS: Final = "pass"
LOG_FAIL: Final = "fail"


# --- Catalog: the v4 products, SKUs and prices [DOC] -----------------------------------------
# Sources (api-docs.jooraccess.com): /v2.0/reference/create-products, /update-products,
# /create-skus, /update-skus, /create-prices; /docs/how-to-create-catalog-data,
# /how-to-create-update-sku-data, /how-to-create-update-price-data; /docs/definitions-and-conventions.
# Every v4 URI is https://api.jooraccess.com/v4/<path>?account=[account_id] (sandbox host
# apisandbox.jooraccess.com/v4): the same host as v2, its /v2 replaced by /v4. Writes are POST
# with a JSON array body; answers are the v4 envelope {"data": [...], "errors": [...]}.
V4_BASE_PATH: Final = "/v4"
PRODUCTS: Final = "products"  # [DOC] "GET /products" is named by the update page; [INF] its paging
PRODUCTS_BULK_CREATE: Final = "products/bulk_create"
PRODUCTS_BULK_UPDATE: Final = "products/bulk_update"
SKUS: Final = "skus"  # [DOC] GET /v4/skus?product_ids=3295521&account=...; without product_ids: all SKUs
SKUS_BULK_CREATE: Final = "skus/bulk_create"
SKUS_BULK_UPDATE: Final = "skus/bulk_update"
PRICES_BULK_CREATE: Final = "prices/bulk_create"
PRICES_BULK_UPDATE: Final = "prices/bulk_update"  # [DOC] "UPDATE /prices" by price id; [INF] path as its siblings
PRICE_TYPES: Final = "price_types"  # [DOC] "retrieve from JOOR all available price types"; [INF] the path
P_ACCOUNT: Final = "account"  # [DOC] the JOOR account id on every v4 call
P_PRODUCT_IDS: Final = "product_ids"  # [DOC] comma-separated
P_LIMIT: Final = "limit"  # [INF] v4 list paging: limit + offset, a short page is the last
P_OFFSET: Final = "offset"  # [INF]
V4_PAGE_LIMIT: Final = 100  # [INF]
V4_DATA: Final = "data"
V4_ERRORS: Final = "errors"  # [DOC] [{"status", "message", "details"}]
V4_STATUS: Final = "status"
V4_MESSAGE: Final = "message"
V4_DETAILS: Final = "details"
V4_INDEX: Final = "index"  # [INF] details.index: the failed item's place in the request array
# [DOC] the SKU trait ids: "Insert id U0tVVHJhaXQ6U3R5bGVDb2xvcg== for trait type Color" (and Size).
TRAIT_COLOR: Final = "U0tVVHJhaXQ6U3R5bGVDb2xvcg=="
TRAIT_SIZE: Final = "U0tVVHJhaXQ6U2l6ZQ=="
# [DOC] a trait value's status: ACTIVE (the default) or INACTIVE ("no longer shoppable for that
# product ... removed from all orders").
TRAIT_ACTIVE: Final = "ACTIVE"
TRAIT_INACTIVE: Final = "INACTIVE"
IDENTIFIER_UPC: Final = "upc"  # [DOC] identifiers[{"type": "upc", "value": "03338300740"}]


class ProductField:
    """[DOC] product keys (create: name required; update: id required, no external_id)."""

    ID: Final = "id"
    NAME: Final = "name"
    EXTERNAL_ID: Final = "external_id"  # "your system id for the product"
    PRODUCT_IDENTIFIER: Final = "product_identifier"  # "your system identifier for the product"
    DESCRIPTION: Final = "description"
    ORDER_MINIMUM: Final = "order_minimum"
    CATEGORY_IDS: Final = "category_ids"
    PRODUCT_TRAIT_VALUES: Final = "product_trait_values"
    TAGS: Final = "tags"


class SkuField:
    """[DOC] SKU keys (create: product_id required; update: id required). [INF] ``prices``: the
    SKU's prices as a GET /skus answer carries them (the sample answer is cut off after traits)."""

    ID: Final = "id"
    PRODUCT_ID: Final = "product_id"
    EXTERNAL_ID: Final = "external_id"
    SKU_IDENTIFIER: Final = "sku_identifier"
    TRAIT_VALUES: Final = "trait_values"
    IDENTIFIERS: Final = "identifiers"
    PRICES: Final = "prices"


class TraitValueField:
    """[DOC] trait_values[] keys; an answer names the trait as ``trait{id, name}``."""

    TRAIT_ID: Final = "trait_id"
    TRAIT: Final = "trait"
    VALUE: Final = "value"  # case sensitive: "Small" and "small" are two sizes [DOC]
    EXTERNAL_ID: Final = "external_id"
    ORDER_MINIMUM: Final = "order_minimum"
    STATUS: Final = "status"


class IdentifierField:
    TYPE: Final = "type"
    VALUE: Final = "value"


class PriceField:
    """[DOC] create: sku_id, price_type_id, wholesale_value (required), retail_value; the answer
    carries id and price_type{...}. Values are strings ("100.00")."""

    ID: Final = "id"
    SKU_ID: Final = "sku_id"
    PRICE_TYPE_ID: Final = "price_type_id"
    PRICE_TYPE: Final = "price_type"
    WHOLESALE_VALUE: Final = "wholesale_value"
    RETAIL_VALUE: Final = "retail_value"


class PriceTypeField:
    """[DOC] price_type{id, name, currency_code, retail_currency_code} (create-prices answer);
    [INF] GET price types answers the same objects. The currency + label pair is unique [DOC]."""

    ID: Final = "id"
    NAME: Final = "name"
    CURRENCY_CODE: Final = "currency_code"
    RETAIL_CURRENCY_CODE: Final = "retail_currency_code"


# --- Styles (v2): one style, the list, deliveries (linesheets) [DOC] /create-styles, /get-style,
# /delete-styles. A v2 style and a v4 product are one thing on JOOR [INF]: the product's
# product_identifier is the style's style_identifier ("a client designated ID or key used to
# identify a particular style": the style number, or style number + colour to split by colour).
STYLES: Final = "style"  # GET ?count=&start_from= lists styles
STYLE_BY_NUMBER: Final = "style-number/{style_number}/{style_identifier}"  # GET, PUT, DELETE
STYLE_NUMBER_MAX: Final = 45  # [DOC] style_number <= 45
STYLE_IDENTIFIER_MAX: Final = 100  # [DOC]
STYLE_NAME_MAX: Final = 100  # [DOC]
R_STYLES: Final = "styles"  # [DOC] styles.style
R_STYLE: Final = "style"
R_STYLES_DELETED: Final = "styles_deleted"  # [DOC] the DELETE answer
P_DELIVERY_OVERWRITE: Final = "delivery_overwrite"
# [DOC] "A style's linesheets can be managed via the API in four ways": 1 overwrite all (JOOR's
# default), 2 overwrite API-created linesheets only (hand-made ones keep the style), 3 add only,
# 4 remove the style from the listed linesheets.
DELIVERY_OVERWRITE_ALL: Final = 1
DELIVERY_OVERWRITE_API: Final = 2
DELIVERY_ADD: Final = 3
DELIVERY_REMOVE: Final = 4
DELIVERY_OVERWRITE_MODES: Final = (1, 2, 3, 4)


class StyleField:
    STYLE_NAME: Final = "style_name"  # [DOC]
    STYLE_NUMBER: Final = "style_number"  # [DOC]
    STYLE_IDENTIFIER: Final = "style_identifier"  # [DOC]
    STYLE_DESCRIPTION: Final = "style_description"  # [DOC]
    DELIVERY_OVERWRITE: Final = "delivery_overwrite"  # [DOC]
    DELIVERIES: Final = "deliveries"  # [DOC] "the deliveries section of the call"
    DELIVERY: Final = "delivery"  # [INF] deliveries.delivery[], as v2 wraps its lists


class DeliveryField:
    """[INF] one delivery (a linesheet) of a style; the doc excerpt does not show its keys."""

    NAME: Final = "delivery_name"
    SEASON: Final = "season"
    START_SHIP: Final = "start_ship_date"
    COMPLETE_SHIP: Final = "complete_ship_date"


# --- Images [DOC] /v2.0/reference/image-post, /introduction-2, /image-delete -----------------
STYLE_IMAGE: Final = "style-number/{style_number}/{style_identifier}/image/"
P_FILENAME: Final = "filename"  # required, <= 69 characters
P_DISPLAY_ORDER: Final = "display_order"  # required
P_REPLACE_EXISTING: Final = "replace_existing"
P_COLOR_CODE: Final = "color_code"  # required with swatch
P_URL: Final = "url"  # a public URL instead of the raw body
P_SWATCH: Final = "swatch"
IMAGE_FILENAME_MAX: Final = 69
IMAGE_MAX_BYTES: Final = 4 * 1024 * 1024  # "a maximum individual file size of 4MB" ([INF] MB = MiB)
IMAGE_JPEG: Final = "image/jpeg"  # "JPEG or PNG (.jpeg/.jpg/.png)"
IMAGE_PNG: Final = "image/png"
IMAGE_EXTENSIONS: Final = {".jpg": IMAGE_JPEG, ".jpeg": IMAGE_JPEG, ".png": IMAGE_PNG}
# [INF] the JSON answer of an upload, shaped like the documented delete answer
# {"style_image_deleted": {"response": ...}, "image_deleted": {style_number, style_identifier, upload_id}}.
R_IMAGE_UPLOAD: Final = "style_image_upload"
R_IMAGE_UPLOADED: Final = "image_uploaded"
R_UPLOAD_ID: Final = "upload_id"
R_FILENAME: Final = "filename"


# --- Customers: bulk connections [DOC] /bulk-connection-postput, /bulk-connection-job-get -----
BULK_CONNECTION: Final = "bulk-connection"  # POST (or PUT) starts a background job
BULK_CONNECTION_JOB: Final = "bulk-connection/{job_id}"  # GET: the job's status
R_BULK_CONNECTIONS: Final = "bulk_connections"  # the request's root node, and the answers'
R_BULK_CONNECTIONS_JOBS: Final = "bulk_connections_jobs"
CUSTOMER_NAME_MAX: Final = 100  # [DOC] customer_name, required
CUSTOMER_CODE_MAX: Final = 50  # [DOC]
JOB_QUEUED: Final = "queued"
JOB_STARTED: Final = "started"
JOB_FINISHED: Final = "finished"


class JobField:
    """[DOC] a bulk connections job; [INF] ``connection_errors[{customer_code, comment}]``: the
    records a finished job refused (the documented fields only count records)."""

    JOB_ID: Final = "bulk_connections_job_id"
    STATUS: Final = "status"
    CREATED: Final = "created"
    MODIFIED: Final = "modified"
    RECORD_COUNT: Final = "connection_record_count"
    RECORD_PROGRESS: Final = "connection_record_progress"
    ERRORS: Final = "connection_errors"


class ConnectionAddressField:
    """A connection's addresses: [DOC] billing.billing_addresses.billing_address[] with
    billing_address_id and billing_code; [INF] shipping the same, and the other keys, each
    prefixed with the address kind ("billing_city", "shipping_zip")."""

    BILLING: Final = "billing"
    BILLING_ADDRESSES: Final = "billing_addresses"
    BILLING_ADDRESS: Final = "billing_address"
    SHIPPING: Final = "shipping"
    SHIPPING_ADDRESSES: Final = "shipping_addresses"
    SHIPPING_ADDRESS: Final = "shipping_address"
    CODE: Final = "code"
    NAME: Final = "name"
    ADDRESS_1: Final = "address_1"
    ADDRESS_2: Final = "address_2"
    CITY: Final = "city"
    STATE: Final = "state"
    ZIP: Final = "zip"
    COUNTRY: Final = "country"
