"""eBay's REST Sell APIs as the sandbox serves them: its own literal tables of what eBay documents.

The sandbox never imports the eBay connector (``connectors/ebay/``): a test double that shares the
client's tables cannot catch a mistake in them. These tables state shared/partners/README.md section
5.3 and eBay's developer documentation (developer.ebay.com/api-docs: the OAuth guide, Sell Inventory
API v1, Sell Fulfillment API v1) with the same markers as the other sandboxes: [DOC] documented (the
page is named), [INF] chosen here where the documentation is silent (the note says why). When the
client and the sandbox disagree, the documentation decides which side is wrong.
"""

from __future__ import annotations

from typing import Final

PARTNER: Final = "ebay"

# --- Hosts and paths [DOC] README 5.3; api-docs/sell/inventory, api-docs/sell/fulfillment ------
PRODUCTION_BASE_URL: Final = "https://api.ebay.com"
SANDBOX_BASE_URL: Final = "https://api.sandbox.ebay.com"  # eBay's own sandbox host, not this one
TOKEN_PATH: Final = "/identity/v1/oauth2/token"
INVENTORY_BASE: Final = "/sell/inventory/v1"
FULFILLMENT_BASE: Final = "/sell/fulfillment/v1"
# Relative to INVENTORY_BASE.
INVENTORY_ITEM: Final = "inventory_item/{sku}"  # PUT createOrReplaceInventoryItem, GET, DELETE
INVENTORY_ITEMS: Final = "inventory_item"  # GET getInventoryItems (limit, offset)
BULK_CREATE_OR_REPLACE_INVENTORY_ITEM: Final = "bulk_create_or_replace_inventory_item"
INVENTORY_ITEM_GROUP: Final = "inventory_item_group/{inventoryItemGroupKey}"  # PUT, GET, DELETE
OFFERS: Final = "offer"  # POST createOffer, GET getOffers?sku=
OFFER: Final = "offer/{offerId}"  # GET, PUT updateOffer, DELETE
OFFER_PUBLISH: Final = "offer/{offerId}/publish"  # POST publishOffer
OFFER_PUBLISH_BY_GROUP: Final = "offer/publish_by_inventory_item_group"  # POST
BULK_UPDATE_PRICE_QUANTITY: Final = "bulk_update_price_quantity"
# Relative to FULFILLMENT_BASE.
ORDERS: Final = "order"  # GET getOrders
ORDER: Final = "order/{orderId}"  # GET getOrder
SHIPPING_FULFILLMENTS: Final = "order/{orderId}/shipping_fulfillment"  # POST create, GET list
SHIPPING_FULFILLMENT: Final = "order/{orderId}/shipping_fulfillment/{fulfillmentId}"  # GET

# --- OAuth [DOC] api-docs/static/oauth-refresh-token-request.html, README 5.3 --------------------
HEADER_AUTHORIZATION: Final = "Authorization"
BASIC: Final = "Basic"  # Basic base64(client_id:client_secret) on the token request
BEARER: Final = "Bearer"  # Bearer <access token> on every API call
GRANT_TYPE: Final = "grant_type"
GRANT_REFRESH_TOKEN: Final = "refresh_token"
REFRESH_TOKEN: Final = "refresh_token"
SCOPE: Final = "scope"  # space-separated scope URLs
ACCESS_TOKEN: Final = "access_token"
EXPIRES_IN: Final = "expires_in"
TOKEN_TYPE: Final = "token_type"
USER_ACCESS_TOKEN: Final = "User Access Token"  # [DOC] the token_type of a refresh-token grant
ACCESS_TOKEN_SECONDS: Final = 7200  # [DOC] a user access token lives two hours
SCOPE_PREFIX: Final = "https://api.ebay.com/oauth/api_scope"
SCOPE_API: Final = SCOPE_PREFIX
SCOPE_INVENTORY: Final = SCOPE_PREFIX + "/sell.inventory"
SCOPE_INVENTORY_READONLY: Final = SCOPE_PREFIX + "/sell.inventory.readonly"
SCOPE_FULFILLMENT: Final = SCOPE_PREFIX + "/sell.fulfillment"
SCOPE_FULFILLMENT_READONLY: Final = SCOPE_PREFIX + "/sell.fulfillment.readonly"
# [INF] the scopes the seller granted with the refresh token (the consent flow is not emulated).
GRANTED_SCOPES: Final = (SCOPE_API, SCOPE_INVENTORY, SCOPE_FULFILLMENT)
# [DOC] the refresh grant may ask for the granted scopes or fewer; [INF] without `scope` it gets all
# of them. A scope that was not granted: invalid_scope.
# [DOC] RFC 6749 error bodies {"error", "error_description"}:
ERROR: Final = "error"
ERROR_DESCRIPTION: Final = "error_description"
INVALID_GRANT: Final = "invalid_grant"  # 400: a wrong, expired or revoked refresh token
INVALID_CLIENT: Final = "invalid_client"  # 401: wrong client credentials
INVALID_REQUEST: Final = "invalid_request"  # 400: a missing parameter [DOC RFC 6749]
UNSUPPORTED_GRANT_TYPE: Final = "unsupported_grant_type"  # 400
INVALID_SCOPE: Final = "invalid_scope"  # 400
INVALID_GRANT_DESCRIPTION: Final = "the provided authorization refresh token is invalid or was issued to another client"
INVALID_CLIENT_DESCRIPTION: Final = "client authentication failed"
INVALID_SCOPE_DESCRIPTION: Final = (
    "The requested scope is invalid, unknown, malformed, or exceeds the scope granted to the client"
)

# --- The error envelope [DOC] api-docs/static/handling-error-messages.html ----------------------
ERRORS: Final = "errors"
WARNINGS: Final = "warnings"
E_ERROR_ID: Final = "errorId"
E_DOMAIN: Final = "domain"
E_SUBDOMAIN: Final = "subdomain"
E_CATEGORY: Final = "category"
E_MESSAGE: Final = "message"
E_LONG_MESSAGE: Final = "longMessage"
E_PARAMETERS: Final = "parameters"
P_NAME: Final = "name"
P_VALUE: Final = "value"
CATEGORY_REQUEST: Final = "REQUEST"  # [DOC] the caller's request is wrong
CATEGORY_APPLICATION: Final = "APPLICATION"  # [DOC] eBay failed
CATEGORY_BUSINESS: Final = "BUSINESS"  # [DOC] a business rule refused it
DOMAIN_OAUTH: Final = "OAuth"  # [DOC] README 5.3
DOMAIN_ACCESS: Final = "ACCESS"
DOMAIN_INVENTORY: Final = "API_INVENTORY"
DOMAIN_FULFILLMENT: Final = "API_FULFILLMENT"
SUBDOMAIN_INVENTORY: Final = "Selling"  # [INF]
SUBDOMAIN_FULFILLMENT: Final = "Selling"  # [INF]

# Error ids. [DOC] 1001 (README 5.3); the others [INF]: plausible ids in eBay's numbering (the
# Inventory API's 25xxx, the Fulfillment API's 3xxxx), not checked against eBay's error tables.
INVALID_ACCESS_TOKEN: Final = 1001  # [DOC] 401, domain OAuth: missing, expired or unknown token
INVALID_ACCESS_TOKEN_MESSAGE: Final = "Invalid access token"
INVALID_ACCESS_TOKEN_LONG: Final = "Invalid access token. Check the value of the Authorization HTTP request header."
ACCESS_DENIED: Final = 1100  # [INF] 403: the token lacks the API's scope
ACCESS_DENIED_MESSAGE: Final = "Access denied"
TOO_MANY_REQUESTS: Final = 2001  # [INF] 429, domain ACCESS
TOO_MANY_REQUESTS_MESSAGE: Final = "Too many requests"
RESOURCE_NOT_FOUND: Final = 2002  # [INF] 404: a path the API does not have
INTERNAL_ERROR: Final = 25001  # [INF] Inventory API system error
USER_ERROR: Final = 25002  # [INF] a generic Inventory user error ("Offer entity already exists.")
INVALID_CATEGORY: Final = 25005  # [INF] publish: no or an unknown categoryId
INVALID_POLICY: Final = 25007  # [INF] publish: a listing policy missing
INVALID_PRICE: Final = 25020  # [INF] publish: price missing or <= 0
MISSING_LOCATION: Final = 25035  # [INF] publish: no merchantLocationKey
INVALID_ITEM: Final = 25016  # [INF] publish: the inventory item lacks what a listing needs
SKU_NOT_FOUND: Final = 25702  # [INF] 404 / per-item: no inventory item with this SKU
INVALID_VALUE: Final = 25709  # [INF] 400: a field or header that cannot be read or breaks a limit
RESOURCE_NOT_AVAILABLE: Final = 25710  # [INF] 404: a group key / item that does not exist
OFFER_NOT_AVAILABLE: Final = 25713  # [INF] 404: no such offer (also getOffers for a SKU without one)
INVALID_FILTER: Final = 30500  # [INF] getOrders: a filter that cannot be read
INVALID_LIMIT: Final = 30600  # [INF] getOrders: limit / offset out of range
INVALID_ORDER_ID: Final = 32100  # [INF] 404: no such order
INVALID_LINE_ITEM: Final = 32200  # [INF] 400: a shipping fulfilment line that is not the order's
ORDER_NOT_SHIPPABLE: Final = 32300  # [INF] 409: the order is cancelled or not paid
FULFILLMENT_NOT_FOUND: Final = 32400  # [INF] 404

# --- Rate limit [DOC] README 5.3: 429 when over a call limit ------------------------------------
# [INF] the sandbox counts every API call (the token endpoint too) in a sliding 60 s window when a
# limit is set; the 429 carries Retry-After (whole seconds) and the error envelope.
RATE_LIMIT_WINDOW_SECONDS: Final = 60.0

# --- Request headers [DOC] Inventory API method pages ------------------------------------------
HEADER_CONTENT_LANGUAGE: Final = "Content-Language"  # required on Inventory API writes (en-US ...)
HEADER_LOCATION: Final = "Location"  # createShippingFulfillment's answer
CONTENT_LANGUAGES: Final = ("en-US", "en-GB", "en-AU", "en-CA", "fr-FR", "de-DE", "it-IT", "es-ES", "fr-CA")
# [INF] the languages accepted here; the locale stored on an item is the header with "_" (en_US).


# --- Inventory item [DOC] api-docs/sell/inventory/types/slr:InventoryItem ----------------------
class ItemField:
    SKU: Final = "sku"
    LOCALE: Final = "locale"
    PRODUCT: Final = "product"
    CONDITION: Final = "condition"
    CONDITION_DESCRIPTION: Final = "conditionDescription"
    AVAILABILITY: Final = "availability"
    PACKAGE_WEIGHT_AND_SIZE: Final = "packageWeightAndSize"
    GROUP_IDS: Final = "groupIds"  # [DOC] read-only: the groups the item belongs to
    INVENTORY_ITEM_GROUP_KEYS: Final = "inventoryItemGroupKeys"


class ProductField:
    TITLE: Final = "title"
    DESCRIPTION: Final = "description"
    ASPECTS: Final = "aspects"  # {"Color": ["Olive"], "Size": ["M"]}
    IMAGE_URLS: Final = "imageUrls"
    BRAND: Final = "brand"
    MPN: Final = "mpn"
    UPC: Final = "upc"  # an array of strings
    EAN: Final = "ean"
    ISBN: Final = "isbn"
    EPID: Final = "epid"
    SUBTITLE: Final = "subtitle"


AVAILABILITY_SHIP_TO: Final = "shipToLocationAvailability"
QUANTITY: Final = "quantity"
SKU_MAX_CHARS: Final = 50  # [DOC]
TITLE_MAX_CHARS: Final = 80  # [DOC] product.title
DESCRIPTION_MAX_CHARS: Final = 500_000  # [DOC] product.description
MAX_IMAGES: Final = 24  # [DOC] product.imageUrls, at most 24 (seed 004's ERP allowed 12)
MIN_IMAGES_TO_PUBLISH: Final = 1  # [DOC] a listing needs at least one picture
# [DOC] slr:ConditionEnum (the ones an apparel seller uses, and the rest of the list).
CONDITIONS: Final = (
    "NEW",
    "LIKE_NEW",
    "NEW_OTHER",
    "NEW_WITH_DEFECTS",
    "CERTIFIED_REFURBISHED",
    "EXCELLENT_REFURBISHED",
    "VERY_GOOD_REFURBISHED",
    "GOOD_REFURBISHED",
    "SELLER_REFURBISHED",
    "USED_EXCELLENT",
    "USED_VERY_GOOD",
    "USED_GOOD",
    "USED_ACCEPTABLE",
    "FOR_PARTS_OR_NOT_WORKING",
    "PRE_OWNED_EXCELLENT",
    "PRE_OWNED_FAIR",
)
INVENTORY_ITEM_WRITE_STATUS: Final = 204  # [DOC] README 5.3: createOrReplaceInventoryItem -> 204

# --- Bulk calls [DOC] README 5.3 and each method's page: at most 25 a call ----------------------
REQUESTS: Final = "requests"
RESPONSES: Final = "responses"
STATUS_CODE: Final = "statusCode"
MAX_BULK: Final = 25
BULK_ALL_OK: Final = 200  # [DOC] every entry succeeded
BULK_MULTI_STATUS: Final = 207  # [DOC] some entries failed: look at each statusCode
# [DOC] the Inventory API's write methods: "Each listing can be revised up to 250 times in one
# calendar day. If this revision threshold is reached, the seller will be blocked from revising the
# item until the next calendar day." [INF] the sandbox counts the ship-to-home quantity updates of
# bulk_update_price_quantity per SKU and UTC day, and refuses that SKU (400, the id below) beyond it.
REVISIONS_PER_DAY: Final = 250
REVISION_LIMIT_REACHED: Final = 25019  # [INF] an id in the Inventory API's numbering, not checked


# --- Inventory item group [DOC] api-docs/sell/inventory/types/slr:InventoryItemGroup ------------
class GroupField:
    KEY: Final = "inventoryItemGroupKey"
    TITLE: Final = "title"
    DESCRIPTION: Final = "description"
    ASPECTS: Final = "aspects"
    IMAGE_URLS: Final = "imageUrls"
    VARIANT_SKUS: Final = "variantSKUs"
    VARIES_BY: Final = "variesBy"


VARIES_BY_SPECIFICATIONS: Final = "specifications"  # [{name, values[]}]
VARIES_BY_ASPECTS_IMAGE_VARIES_BY: Final = "aspectsImageVariesBy"
SPEC_NAME: Final = "name"
SPEC_VALUES: Final = "values"
MAX_VARIANTS: Final = 250  # [DOC] a multiple-variation listing has at most 250 variations
GROUP_KEY_MAX_CHARS: Final = 50  # [DOC]


# --- Offer [DOC] api-docs/sell/inventory/types/slr:EbayOfferDetailsWithKeys, slr:EbayOfferDetailsWithAll
class OfferField:
    OFFER_ID: Final = "offerId"
    SKU: Final = "sku"
    MARKETPLACE_ID: Final = "marketplaceId"
    FORMAT: Final = "format"
    AVAILABLE_QUANTITY: Final = "availableQuantity"
    CATEGORY_ID: Final = "categoryId"
    LISTING_DESCRIPTION: Final = "listingDescription"
    LISTING_DURATION: Final = "listingDuration"
    LISTING_POLICIES: Final = "listingPolicies"
    MERCHANT_LOCATION_KEY: Final = "merchantLocationKey"
    PRICING_SUMMARY: Final = "pricingSummary"
    QUANTITY_LIMIT_PER_BUYER: Final = "quantityLimitPerBuyer"
    STORE_CATEGORY_NAMES: Final = "storeCategoryNames"
    STATUS: Final = "status"  # read-only
    LISTING: Final = "listing"  # read-only: {listingId, listingStatus, soldQuantity}


PRICE: Final = "price"  # pricingSummary.price {value, currency}
AMOUNT_VALUE: Final = "value"  # [DOC] amounts are {"value": "94.00", "currency": "USD"}
AMOUNT_CURRENCY: Final = "currency"
FULFILLMENT_POLICY_ID: Final = "fulfillmentPolicyId"
PAYMENT_POLICY_ID: Final = "paymentPolicyId"
RETURN_POLICY_ID: Final = "returnPolicyId"
LISTING_POLICY_IDS: Final = (FULFILLMENT_POLICY_ID, PAYMENT_POLICY_ID, RETURN_POLICY_ID)  # [DOC] all three to publish
LISTING_ID: Final = "listingId"
LISTING_STATUS: Final = "listingStatus"
SOLD_QUANTITY: Final = "soldQuantity"
FORMAT_FIXED_PRICE: Final = "FIXED_PRICE"
FORMAT_AUCTION: Final = "AUCTION"
FORMATS: Final = (FORMAT_FIXED_PRICE, FORMAT_AUCTION)
DURATION_GTC: Final = "GTC"  # [DOC] fixed-price listings are Good 'Til Cancelled
MARKETPLACES: Final = ("EBAY_US", "EBAY_GB", "EBAY_DE", "EBAY_AU", "EBAY_CA", "EBAY_FR", "EBAY_IT", "EBAY_ES")
STATUS_UNPUBLISHED: Final = "UNPUBLISHED"  # [DOC] slr:OfferStatusEnum
STATUS_PUBLISHED: Final = "PUBLISHED"
LISTING_ACTIVE: Final = "ACTIVE"
CREATE_OFFER_STATUS: Final = 201  # [DOC] createOffer -> 201 {"offerId"}
UPDATE_OFFER_STATUS: Final = 204  # [INF] updateOffer answers no body
# getOffers [DOC] ?sku=&marketplace_id=&format=&limit=&offset= -> {href, limit, next, offers, prev, size, total}
Q_SKU: Final = "sku"
Q_MARKETPLACE_ID: Final = "marketplace_id"
Q_FORMAT: Final = "format"
OFFERS_KEY: Final = "offers"
GROUP_PUBLISH_KEY: Final = "inventoryItemGroupKey"  # publish_by_inventory_item_group body
GROUP_PUBLISH_MARKETPLACE: Final = "marketplaceId"
# [INF] publishing a published offer revises the same listing (same listingId): eBay's publish is
# also how a changed offer reaches the live listing.

# --- bulk_update_price_quantity [DOC] slr:BulkPriceQuantity / slr:PriceQuantityResponse ---------
PQ_SKU: Final = "sku"
PQ_SHIP_TO: Final = "shipToLocationAvailability"
PQ_OFFERS: Final = "offers"  # [{offerId, availableQuantity, price{value, currency}}]
PQ_OFFER_ID: Final = "offerId"
PQ_AVAILABLE_QUANTITY: Final = "availableQuantity"
PQ_PRICE: Final = "price"


# --- Orders [DOC] api-docs/sell/fulfillment/resources/order/methods/getOrders -------------------
Q_FILTER: Final = "filter"
Q_LIMIT: Final = "limit"
Q_OFFSET: Final = "offset"
Q_ORDER_IDS: Final = "orderIds"
Q_FIELD_GROUPS: Final = "fieldGroups"
FILTER_CREATIONDATE: Final = "creationdate"
FILTER_LASTMODIFIEDDATE: Final = "lastmodifieddate"
FILTER_ORDERFULFILLMENTSTATUS: Final = "orderfulfillmentstatus"
# [DOC] the only two fulfilment-status filters eBay accepts.
FULFILLMENT_FILTERS: Final = ("{NOT_STARTED|IN_PROGRESS}", "{FULFILLED|IN_PROGRESS}")
DEFAULT_LIMIT: Final = 50  # [DOC]
MAX_LIMIT: Final = 200  # [DOC]
MAX_ORDER_IDS: Final = 50  # [DOC] orderIds: at most 50; with orderIds the filter is ignored
DEFAULT_WINDOW_DAYS: Final = 90  # [DOC] with no filter: orders created in the last 90 days
# [INF] listing order: newest created first (creationDate, then orderId, descending). A new order
# lands at the front, so a client paging by offset meets the orders before it twice.
TIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.000Z"  # [DOC] 2015-08-04T19:09:02.768Z (milliseconds, UTC)


class PageField:
    """[DOC] slr:OrderSearchPagedCollection."""

    HREF: Final = "href"
    TOTAL: Final = "total"
    LIMIT: Final = "limit"
    OFFSET: Final = "offset"
    NEXT: Final = "next"  # [DOC] absent on the last page
    PREV: Final = "prev"  # [DOC] absent on the first page
    ORDERS: Final = "orders"
    WARNINGS: Final = "warnings"
    SIZE: Final = "size"  # [DOC] getOffers / getInventoryItems: the entries on this page


INVENTORY_ITEMS_KEY: Final = (
    "inventoryItems"  # [DOC] getInventoryItems {href, inventoryItems, limit, next, size, total}
)


class OrderField:
    """[DOC] sel:Order."""

    ORDER_ID: Final = "orderId"
    LEGACY_ORDER_ID: Final = "legacyOrderId"
    CREATION_DATE: Final = "creationDate"
    LAST_MODIFIED_DATE: Final = "lastModifiedDate"
    ORDER_FULFILLMENT_STATUS: Final = "orderFulfillmentStatus"
    ORDER_PAYMENT_STATUS: Final = "orderPaymentStatus"
    SELLER_ID: Final = "sellerId"
    BUYER: Final = "buyer"
    BUYER_CHECKOUT_NOTES: Final = "buyerCheckoutNotes"
    PRICING_SUMMARY: Final = "pricingSummary"
    CANCEL_STATUS: Final = "cancelStatus"
    PAYMENT_SUMMARY: Final = "paymentSummary"
    FULFILLMENT_START_INSTRUCTIONS: Final = "fulfillmentStartInstructions"
    FULFILLMENT_HREFS: Final = "fulfillmentHrefs"
    LINE_ITEMS: Final = "lineItems"
    SALES_RECORD_REFERENCE: Final = "salesRecordReference"
    TOTAL_FEE_BASIS_AMOUNT: Final = "totalFeeBasisAmount"
    TOTAL_MARKETPLACE_FEE: Final = "totalMarketplaceFee"


class BuyerField:
    USERNAME: Final = "username"
    TAX_ADDRESS: Final = "taxAddress"
    BUYER_REGISTRATION_ADDRESS: Final = "buyerRegistrationAddress"


class ContactField:
    """[DOC] sel:ExtendedContact: buyerRegistrationAddress and shippingStep.shipTo."""

    FULL_NAME: Final = "fullName"
    CONTACT_ADDRESS: Final = "contactAddress"
    PRIMARY_PHONE: Final = "primaryPhone"  # {"phoneNumber"}
    EMAIL: Final = "email"
    COMPANY_NAME: Final = "companyName"


class AddressField:
    """[DOC] sel:Address."""

    ADDRESS_LINE1: Final = "addressLine1"
    ADDRESS_LINE2: Final = "addressLine2"
    CITY: Final = "city"
    STATE_OR_PROVINCE: Final = "stateOrProvince"
    POSTAL_CODE: Final = "postalCode"
    COUNTRY_CODE: Final = "countryCode"


PHONE_NUMBER: Final = "phoneNumber"


class PricingField:
    """[DOC] sel:PricingSummary (amounts {value, currency})."""

    PRICE_SUBTOTAL: Final = "priceSubtotal"
    PRICE_DISCOUNT: Final = "priceDiscount"
    DELIVERY_COST: Final = "deliveryCost"
    DELIVERY_DISCOUNT: Final = "deliveryDiscount"
    TAX: Final = "tax"
    FEE: Final = "fee"
    ADJUSTMENT: Final = "adjustment"
    TOTAL: Final = "total"


class CancelField:
    CANCEL_STATE: Final = "cancelState"
    CANCEL_REQUESTS: Final = "cancelRequests"


class PaymentField:
    """[DOC] sel:PaymentSummary and sel:Payment."""

    TOTAL_DUE_SELLER: Final = "totalDueSeller"
    PAYMENTS: Final = "payments"
    REFUNDS: Final = "refunds"
    PAYMENT_METHOD: Final = "paymentMethod"
    PAYMENT_REFERENCE_ID: Final = "paymentReferenceId"
    PAYMENT_DATE: Final = "paymentDate"
    AMOUNT: Final = "amount"
    PAYMENT_STATUS: Final = "paymentStatus"  # [DOC] sel:PaymentStatusEnum: FAILED, PAID, PENDING


class RefundField:
    """[DOC] sel:OrderRefund, paymentSummary.refunds[]."""

    REFUND_ID: Final = "refundId"
    REFUND_DATE: Final = "refundDate"
    AMOUNT: Final = "amount"
    REFUND_STATUS: Final = "refundStatus"


REFUND_STATUS_REFUNDED: Final = "REFUNDED"
PROPERTY_BUYER_PROTECTION: Final = "buyerProtection"  # [DOC] lineItems[].properties


class InstructionField:
    """[DOC] sel:FulfillmentStartInstruction and sel:ShippingStep."""

    FULFILLMENT_INSTRUCTIONS_TYPE: Final = "fulfillmentInstructionsType"
    MIN_ESTIMATED_DELIVERY_DATE: Final = "minEstimatedDeliveryDate"
    MAX_ESTIMATED_DELIVERY_DATE: Final = "maxEstimatedDeliveryDate"
    EBAY_SUPPORTED_FULFILLMENT: Final = "ebaySupportedFulfillment"
    SHIPPING_STEP: Final = "shippingStep"
    SHIP_TO: Final = "shipTo"
    SHIPPING_CARRIER_CODE: Final = "shippingCarrierCode"
    SHIPPING_SERVICE_CODE: Final = "shippingServiceCode"


SHIP_TO_TYPE: Final = "SHIP_TO"


class LineItemField:
    """[DOC] sel:LineItem."""

    LINE_ITEM_ID: Final = "lineItemId"
    LEGACY_ITEM_ID: Final = "legacyItemId"
    LEGACY_VARIATION_ID: Final = "legacyVariationId"
    SKU: Final = "sku"
    TITLE: Final = "title"
    LINE_ITEM_COST: Final = "lineItemCost"  # unit price x quantity
    QUANTITY: Final = "quantity"
    SOLD_FORMAT: Final = "soldFormat"
    LISTING_MARKETPLACE_ID: Final = "listingMarketplaceId"
    PURCHASE_MARKETPLACE_ID: Final = "purchaseMarketplaceId"
    LINE_ITEM_FULFILLMENT_STATUS: Final = "lineItemFulfillmentStatus"
    TOTAL: Final = "total"
    DELIVERY_COST: Final = "deliveryCost"  # {shippingCost, handlingCost, importCharges, ...}
    DISCOUNTED_LINE_ITEM_COST: Final = "discountedLineItemCost"
    APPLIED_PROMOTIONS: Final = "appliedPromotions"
    TAXES: Final = "taxes"  # [{amount, taxType}]
    EBAY_COLLECT_AND_REMIT_TAXES: Final = "ebayCollectAndRemitTaxes"  # [{taxType, amount, collectionMethod}]
    PROPERTIES: Final = "properties"
    VARIATION_ASPECTS: Final = "variationAspects"  # [{name, value}]


SHIPPING_COST: Final = "shippingCost"
HANDLING_COST: Final = "handlingCost"
TAX_TYPE: Final = "taxType"
COLLECTION_METHOD: Final = "collectionMethod"
TAX_TYPE_STATE_SALES_TAX: Final = "STATE_SALES_TAX"  # [DOC] sel:TaxTypeEnum
COLLECTION_METHOD_NET: Final = "NET"  # [DOC] sel:CollectionMethodEnum

# Statuses [DOC] sel:OrderFulfillmentStatus, sel:OrderPaymentStatusEnum, sel:CancelStateEnum,
# sel:LineItemFulfillmentStatusEnum, sel:PaymentStatusEnum.
FULFILLMENT_NOT_STARTED: Final = "NOT_STARTED"
FULFILLMENT_IN_PROGRESS: Final = "IN_PROGRESS"
FULFILLMENT_FULFILLED: Final = "FULFILLED"
FULFILLMENT_STATUSES: Final = (FULFILLMENT_NOT_STARTED, FULFILLMENT_IN_PROGRESS, FULFILLMENT_FULFILLED)
PAYMENT_PAID: Final = "PAID"
PAYMENT_PENDING: Final = "PENDING"
PAYMENT_FAILED: Final = "FAILED"
PAYMENT_FULLY_REFUNDED: Final = "FULLY_REFUNDED"
PAYMENT_PARTIALLY_REFUNDED: Final = "PARTIALLY_REFUNDED"
PAYMENT_STATUSES: Final = (
    PAYMENT_PAID,
    PAYMENT_PENDING,
    PAYMENT_FAILED,
    PAYMENT_FULLY_REFUNDED,
    PAYMENT_PARTIALLY_REFUNDED,
)
# [DOC] getOrders leaves out purchases still awaiting up-front payment; [INF] that is an order whose
# orderPaymentStatus is PENDING, and getOrder by id still answers it.
UNLISTED_PAYMENT_STATUSES: Final = (PAYMENT_PENDING,)
# [DOC] sel:CancelStateEnum: CANCELED, IN_PROGRESS ("one or more cancellation requests have been
# made against the order"), NONE_REQUESTED.
CANCEL_NONE_REQUESTED: Final = "NONE_REQUESTED"
CANCEL_IN_PROGRESS: Final = "IN_PROGRESS"
CANCEL_CANCELED: Final = "CANCELED"
CANCEL_STATES: Final = (CANCEL_NONE_REQUESTED, CANCEL_IN_PROGRESS, CANCEL_CANCELED)
LINE_NOT_STARTED: Final = "NOT_STARTED"
LINE_IN_PROGRESS: Final = "IN_PROGRESS"
LINE_FULFILLED: Final = "FULFILLED"
PAYMENT_METHOD_EBAY: Final = "EBAY"  # [DOC] sel:PaymentMethodTypeEnum (managed payments)
SOLD_FORMAT_FIXED_PRICE: Final = "FIXED_PRICE"

# --- Shipping fulfillment [DOC] createShippingFulfillment, sel:ShippingFulfillment -----------------
SF_LINE_ITEMS: Final = "lineItems"  # [{lineItemId, quantity}]
SF_LINE_ITEM_ID: Final = "lineItemId"
SF_QUANTITY: Final = "quantity"
SF_SHIPPED_DATE: Final = "shippedDate"  # [DOC] default: now
SF_SHIPPING_CARRIER_CODE: Final = "shippingCarrierCode"
SF_TRACKING_NUMBER: Final = "trackingNumber"  # the request's name
SF_FULFILLMENT_ID: Final = "fulfillmentId"
SF_SHIPMENT_TRACKING_NUMBER: Final = "shipmentTrackingNumber"  # [DOC] the answer's name for it
SF_FULFILLMENTS: Final = "fulfillments"  # getShippingFulfillments {fulfillments, total, warnings}
SF_TOTAL: Final = "total"
CREATE_FULFILLMENT_STATUS: Final = 201  # [DOC] 201 Created with a Location header
# [DOC example] a fulfillmentId is the package's tracking number (9405509699937003457459); [INF]
# without a tracking number (or one already used on the order) the sandbox makes one up.

# --- Content-Language [DOC] the method pages name it required on these writes ----------------------
# (method, path template relative to INVENTORY_BASE). [INF] publish and bulk_update_price_quantity
# do not need it (their pages name only Content-Type).
NEEDS_CONTENT_LANGUAGE: Final = (
    ("PUT", INVENTORY_ITEM),
    ("POST", BULK_CREATE_OR_REPLACE_INVENTORY_ITEM),
    ("PUT", INVENTORY_ITEM_GROUP),
    ("POST", OFFERS),
    ("PUT", OFFER),
)
