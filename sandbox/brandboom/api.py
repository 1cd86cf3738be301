"""The Brandboom API as the sandbox serves it: its own literal tables of what the document states.

The sandbox never imports the client's contract (``connectors/brandboom/contract.py``): a test
double that shares the client's tables cannot catch a mistake in them. These tables state
seed 001 (Brandboom API v2) with the same markers ([DOC] documented, [INF] chosen
where the document is silent, [CODE] seen in public code). They started as a literal copy of the
contract's tables as the two stood on 2026-12-02; from then on each side is corrected against the
document alone. ``tests/connectors/test_contract_tables.py`` compares them with the contract name
by name and fails on any difference, naming it; the document decides which side is wrong.
"""

from __future__ import annotations

import hashlib
from typing import Final

PARTNER: Final = "brandboom"

# --- Hosts and paths -------------------------------------------------------------------------
PRODUCTION_BASE_URL: Final = "https://manage.brandboom.com/api/v2"  # [DOC]
BASE_PATH: Final = "/api/v2"  # [DOC] .../api/v2/{model}/{method}/{id}?{name}={value}

# URL {model} segments [DOC]
ORDERS: Final = "orders"  # [DOC] "GET .../api/v2/orders -> search method of orders"
SHOWROOMS: Final = "showrooms"
PRODUCTS: Final = "products"
ORDERS_SEARCH: Final = "orders/search"  # [DOC] PHP example
ORDER: Final = "orders/{id}"  # [DOC] "POST .../orders/431 -> update method on Order 431"
SHOWROOMS_SEARCH: Final = "showrooms/search"  # [DOC]
SHOWROOM: Final = "showrooms/{id}"  # [DOC]
PRODUCTS_SEARCH: Final = "products/search"  # [DOC]
PRODUCT: Final = "products/{id}"  # [DOC]
PRODUCTS_IMPORT: Final = "products/import"  # [DOC]
# Customers: partners/README 2.4. [CODE] GET customers/search (a public script); [INF] create and
# update by the doc's REST table (PUT customers = create, POST customers/{id} = update).
CUSTOMERS: Final = "customers"
CUSTOMERS_SEARCH: Final = "customers/search"  # [CODE]
CUSTOMER: Final = "customers/{id}"  # [INF]

# URL {method} segments and the method named in the response envelope. [DOC] GET = search,
# PUT = create, POST on an id = update, DELETE = delete (the doc's prose swaps POST and PUT; its
# example table is what we follow, and the sandbox accepts both). "import" is the URL method.
METHOD_SEARCH: Final = "search"
METHOD_CREATE: Final = "create"
METHOD_UPDATE: Final = "update"
METHOD_DELETE: Final = "delete"
METHOD_IMPORT: Final = "import"

# --- Authentication [DOC] --------------------------------------------------------------------
HEADER_KEY: Final = "X-Auth-Key"
HEADER_TIMESTAMP: Final = "X-Auth-Timestamp"
HEADER_SIGNATURE: Final = "X-Auth-Signature"
# [DOC] "Alternatively, you can list them as query string parameters" without naming them; the
# doc calls them publicKey / timestamp / signature. [INF] the sandbox accepts those names and the
# header names as query parameters.
QUERY_AUTH_ALIASES: Final = {
    HEADER_KEY: ("publicKey", HEADER_KEY),
    HEADER_TIMESTAMP: ("timestamp", HEADER_TIMESTAMP),
    HEADER_SIGNATURE: ("signature", HEADER_SIGNATURE),
}


def signature(public_key: str, secret_key: str, timestamp: int | str) -> str:
    """[DOC] strtoupper(MD5("PUBLIC"+PublicKey+"SECRET"+SecretKey+"TIMESTAMP"+timestamp)).

    MD5 is Brandboom's choice, used here as a request signature, not for storing secrets.
    """
    text = f"PUBLIC{public_key}SECRET{secret_key}TIMESTAMP{timestamp}"
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest().upper()


# --- Response envelope [DOC] -----------------------------------------------------------------
ENV_METHOD: Final = "method"
ENV_STATUS: Final = "status"  # [DOC] "true" if succeeded, "false" or "error" if failed
ENV_VALUE: Final = "value"  # [DOC] the payload, or the error message
ENV_TYPE: Final = "type"
ENV_JSONP: Final = "jsonp"
STATUS_ERROR: Final = "error"
TYPE_JSON: Final = "json"
PERMISSION_DENIED: Final = "Permission Denied"  # [DOC] the documented error value

# --- Common parameters [DOC] -----------------------------------------------------------------
P_RESPONSE_TYPE: Final = "responseType"
P_NUM_RESULTS: Final = "numResults"
P_RESULT_OFFSET: Final = "resultOffset"

# Search results [DOC] products/search: "an object with a totolNumResults [sic] attribute, and
# array of Product objects". [INF] the array's key: "products" (as "showrooms" below), "orders".
R_TOTAL: Final = "totolNumResults"  # [DOC] spelled exactly as the doc spells it
R_PRODUCTS: Final = "products"  # [INF]
R_SHOWROOMS: Final = "showrooms"  # [DOC]
R_ORDERS: Final = "orders"  # [INF]
R_CUSTOMERS: Final = "customers"  # [INF] as the others

# --- Orders (the Order object is not public: all [INF], partners/README "Decisions") ---------
P_STATUS: Final = "status"  # [DOC] PHP example: status=export
ORDER_STATUS_EXPORT: Final = "export"  # [DOC] orders the seller marked "Export"
# [DOC] statuses seen in the SKU counters: processing, complete, export, exported, shipped,
# pending. [INF] the writeback call sets one of these (AIMS360 marks Shipped / Paid / Void).
ORDER_UPDATE_STATUSES: Final = ("exported", "shipped", "paid", "void")
# [DOC] PHP example sends numResults=0 for orders; [INF] it means "all".
ORDERS_ALL: Final = 0


class OrderField:
    """[INF] Order object keys, camelCase like the documented Product and SKU objects."""

    ID: Final = "id"
    PO_NUMBER: Final = "poNumber"
    STATUS: Final = "status"
    CUSTOMER: Final = "customer"
    REP: Final = "rep"
    TERMS: Final = "terms"  # [DOC] showroom "terms" lists the payment terms
    SHIPPING_OPTION: Final = "shippingOption"  # [DOC] showroom "shippingOptions"
    SHIP_DATE: Final = "shipDate"
    CANCEL_DATE: Final = "cancelDate"
    CURRENCY: Final = "currency"  # [DOC] as in ProductPrice
    PRICE_TIER_ID: Final = "priceTierID"  # [DOC] as in ProductPrice
    WAREHOUSE_ID: Final = "warehouseID"  # [DOC] as on the SKU object (-1 = none)
    DATE_CREATED: Final = "dateCreated"  # [DOC] as on Product / SKU
    ITEMS: Final = "items"


class CustomerField:
    """[INF] keys of an Order's ``customer`` object, and of the Customer object of the customers
    API (partners/README 2.4: its field names were not captured); ``code`` is the brand's (ERP)
    customer code."""

    ID: Final = "id"
    CODE: Final = "code"
    NAME: Final = "name"
    COMPANY_NAME: Final = "companyName"
    EMAIL: Final = "email"
    PHONE: Final = "phone"
    BILLING_ADDRESS: Final = "billingAddress"
    SHIPPING_ADDRESS: Final = "shippingAddress"
    BILLING: Final = "billing"  # [INF] the notes' wording ("billing and shipping addresses") as a key
    SHIPPING: Final = "shipping"  # [INF] likewise
    # The customers API: [INF] the addresses as one list whose entries carry the import
    # template's "Type" column [SEED 000]; dates as on Product / SKU [DOC].
    ADDRESSES: Final = "addresses"
    DATE_CREATED: Final = "dateCreated"
    DATE_MODIFIED: Final = "dateModified"


class AddressField:
    """[INF] keys of an address object."""

    TYPE: Final = "type"  # [SEED 000] the customer template's "Type": B billing, S shipping, blank both
    NAME: Final = "name"
    ADDRESS1: Final = "address1"
    ADDRESS2: Final = "address2"
    CITY: Final = "city"
    STATE: Final = "state"
    ZIP: Final = "zip"
    COUNTRY: Final = "country"


class ItemField:
    """[INF] keys of an Order item; the SKU keys follow the documented import row / SKU object."""

    STYLE_NUMBER: Final = "styleNumber"  # [DOC]
    OPTION_CODE: Final = "optionCode"  # [DOC] import row
    SIZE: Final = "size"  # [DOC]
    SKU_NUMBER: Final = "skuNumber"  # [DOC]
    UPC: Final = "UPC"  # [DOC]
    QUANTITY: Final = "quantity"
    PRICE: Final = "price"


# Dates as the doc writes them ("2014-03-26", "2015-03-02 12:47:04"); [INF] also US MM/DD/YYYY,
# the showroom dateFormat "MM/dd/yyyy" [DOC]. "0000-00-00" is MySQL's empty date [INF].
DATE_FORMATS: Final = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y")
EMPTY_DATES: Final = ("0000-00-00", "0000-00-00 00:00:00")
NO_WAREHOUSE: Final = "-1"  # [DOC] SKU "warehouseID": -1

# [SEED 000] the customer import template's "Type" column: "B" for billing, "S" for shipping,
# blank for both.
ADDRESS_TYPE_BILLING: Final = "B"
ADDRESS_TYPE_SHIPPING: Final = "S"
ADDRESS_TYPE_BOTH: Final = ""
ADDRESS_TYPES: Final = (ADDRESS_TYPE_BILLING, ADDRESS_TYPE_SHIPPING, ADDRESS_TYPE_BOTH)
P_DATE_MODIFIED: Final = "dateModified"  # [CODE] customers/search: those changed since ("2024-02-01")

# --- Showrooms [DOC] -------------------------------------------------------------------------
P_SHOWROOM_ID: Final = "showroomID"  # comma-separated list
SHOWROOM_PRICE_TIERS: Final = "priceTiers"  # [DOC] "price tier IDs used by showroom"

# --- Products [DOC] --------------------------------------------------------------------------
P_BRAND_ID: Final = "brandID"
P_PRICE_TIER_ID: Final = "priceTierID"
P_LANGUAGE: Final = "language"
P_PRODUCT_ID: Final = "productID"  # comma-separated
P_KEYWORDS: Final = "keywords"  # caret-separated
P_GROUP_NAME: Final = "groupName"
P_STYLE_NUMBERS: Final = "styleNumbers"  # caret-separated
P_TYPES: Final = "types"  # comma-separated
P_SEASONS: Final = "seasons"  # comma-separated
P_CATEGORIES: Final = "categories"  # comma-separated
P_SIZES: Final = "sizes"  # comma-separated
MAX_PRODUCTS_PER_PAGE: Final = 300  # [DOC] "maximum of 300 results per request"

PRODUCT_SEARCH_PARAMS: Final = frozenset(
    {
        P_BRAND_ID,
        P_SHOWROOM_ID,
        P_PRICE_TIER_ID,
        P_LANGUAGE,
        P_PRODUCT_ID,
        P_KEYWORDS,
        P_GROUP_NAME,
        P_STYLE_NUMBERS,
        P_TYPES,
        P_SEASONS,
        P_CATEGORIES,
        P_SIZES,
    }
)
# The separator of each list-valued products/search parameter. [DOC]
LIST_SEPARATORS: Final = {
    P_SHOWROOM_ID: ",",
    P_PRODUCT_ID: ",",
    P_KEYWORDS: "^",
    P_STYLE_NUMBERS: "^",
    P_TYPES: ",",
    P_SEASONS: ",",
    P_CATEGORIES: ",",
    P_SIZES: ",",
}

# Product / SKU object keys the sandbox and the inventory push rely on. [DOC]
PRODUCT_ID: Final = "id"
PRODUCT_BRAND_ID: Final = "brandID"
PRODUCT_STYLE_NUMBER: Final = "styleNumber"
PRODUCT_OPTIONS: Final = "options"
PRODUCT_SIZES: Final = "sizes"
PRODUCT_PRICE: Final = "price"
PRODUCT_SKUS: Final = "skus"
SKU_ID: Final = "id"
SKU_STYLE_NUMBER: Final = "styleNumber"
SKU_OPTION: Final = "option"  # the SKU object says "option"; the import row says "optionCode"
SKU_SIZE: Final = "size"
SKU_NUMBER: Final = "skuNumber"
SKU_UPC: Final = "UPC"
SKU_INVENTORY_COUNT: Final = "inventoryCount"  # null = unlimited, 0 = sold out
SKU_FUTURE_INVENTORY_COUNT: Final = "futureInventoryCount"
SKU_FUTURE_INVENTORY_DATE: Final = "futureInventoryDate"
SKU_DATE_INVENTORY_MODIFIED: Final = "dateInventoryModified"
SHOWROOM_ID: Final = "id"
SHOWROOM_BRAND_ID: Final = "brandID"
# More Product keys a catalog import writes or the sandbox serves. [DOC] the Product object.
PRODUCT_STATUS: Final = "status"  # 0: active, 1: suspended, 2: deleted
PRODUCT_ACTIVE: Final = 0
PRODUCT_SUSPENDED: Final = 1
PRODUCT_DELETED: Final = 2
PRODUCT_STATUSES: Final = (PRODUCT_ACTIVE, PRODUCT_SUSPENDED, PRODUCT_DELETED)
PRODUCT_REFERENCE_NAME: Final = "referenceName"  # product name
PRODUCT_CATEGORY: Final = "category"  # an array
PRODUCT_TYPES: Final = "types"  # an array
PRODUCT_MIN_QTY: Final = "minQTY"
PRODUCT_DESCRIPTION: Final = "description"  # the ProductDescription object
DESCRIPTION_NAME: Final = "name"
DESCRIPTION_TEXT: Final = "description"
DESCRIPTION_SEASON: Final = "season"  # an array
DESCRIPTION_OPTIONS: Final = "options"
DESCRIPTION_OPTIONS_TRANSLATION: Final = "optionsTranslation"  # option code -> option name
PRICE_TIER: Final = "priceTierID"  # the ProductPrice object's keys
PRICE_CURRENCY: Final = "currency"
PRICE_MSRP: Final = "MSRP"
PRICE_PRICE: Final = "price"
PRICE_DISCOUNT: Final = "discount"
PRICE_RANGE: Final = "priceRange"  # one or two elements: the min / max price across the SKUs
SKU_IS_DELETED: Final = "isDeleted"
SKU_IS_ACTIVE: Final = "isActive"

# --- products/import [DOC] -------------------------------------------------------------------
P_MODE: Final = "mode"
P_BYPASS_DIFF: Final = "bypassDiff"  # "true" forces processing of unchanged rows
P_DATA: Final = "data"  # inline array of row objects, or the multipart file field's name
IMPORT_MODES: Final = ("split", "combine", "inventory")
MODE_INVENTORY: Final = "inventory"
# Row keys: [DOC] styleNumber, optionCode (mandatory, or skuNumber); size, skuNumber as on the
# SKU; [INF] the inventory columns carry the SKU object's names.
ROW_STYLE_NUMBER: Final = "styleNumber"
ROW_OPTION_CODE: Final = "optionCode"
ROW_SIZE: Final = "size"
ROW_SKU_NUMBER: Final = "skuNumber"
INVENTORY_COLUMNS: Final = (SKU_INVENTORY_COUNT, SKU_FUTURE_INVENTORY_COUNT, SKU_FUTURE_INVENTORY_DATE)
CSV_CONTENT_TYPE: Final = "text/csv"  # [DOC] PHP example attaches type text/csv

# products/import in mode split or combine [DOC]: "the API will scan through every single
# column/attribute of each row/object and overwrite any of the current product information. If
# you do not wish to overwrite specific columns/attributes, simply don't include them". The
# document's row example is cut off after styleNumber and optionCode, so the other column names
# are [INF]: camelCase like those two, named after the Product / SKU object key they write.
# (Brandboom's help pages list the spreadsheet template's headers -- "Style ID", "Option Name",
# "Wholesale (USD)", "Retail (USD)" -- for imports through its web page.)
MODE_SPLIT: Final = "split"  # [DOC] one product per option
MODE_COMBINE: Final = "combine"  # [DOC] one product per style, its options together
ROW_UPC: Final = "UPC"  # [DOC] as on the SKU object
ROW_OPTION_NAME: Final = "optionName"  # [INF] the option code's name (description.optionsTranslation)
ROW_NAME: Final = "name"  # [INF] the product name (referenceName, description.name)
ROW_DESCRIPTION: Final = "description"  # [INF] description.description
ROW_SEASON: Final = "season"  # [INF] description.season
ROW_CATEGORY: Final = "category"  # [INF] Product category
ROW_TYPES: Final = "types"  # [INF] Product types
ROW_MIN_QTY: Final = "minQTY"  # [INF] Product minQTY
# [INF] A price per price tier: the tier's id in the column name (the doc's example row assumes "a
# price tier of the currency USD named WHL"; the tier's currency is the tier's own). The
# wholesale price, and the suggested retail price ("MSRP" in ProductPrice).
ROW_PRICE: Final = "price:{tier}"
ROW_MSRP: Final = "MSRP:{tier}"
ROW_LIST_SEPARATOR: Final = ","  # [INF] the array columns (category, types, season) as text
PRODUCT_COLUMNS: Final = (ROW_NAME, ROW_DESCRIPTION, ROW_SEASON, ROW_CATEGORY, ROW_TYPES, ROW_MIN_QTY)
# The import's answer. [INF] The document does not say what products/import answers: the
# sandbox answers counts, the rows it skipped as unchanged (no bypassDiff), the rows matching
# no SKU in mode inventory, each refused row with Brandboom's message, and the product each row
# landed on. Row numbers count the rows sent, from 0.
R_NUM_ROWS: Final = "numRows"
R_NUM_PROCESSED: Final = "numProcessed"
R_NUM_SKIPPED: Final = "numSkipped"
R_NUM_CREATED: Final = "numCreated"
R_NUM_UPDATED: Final = "numUpdated"
R_SKIPPED: Final = "skipped"
R_NOT_FOUND: Final = "notFound"
R_ERRORS: Final = "errors"
R_PRODUCT_IDS: Final = "productIDs"
ERROR_ROW: Final = "row"
ERROR_MESSAGE: Final = "message"
