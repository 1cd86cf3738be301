"""The eBay REST Sell APIs contract, in one place, for the client and its mapper.

The client and the mapper import every path, parameter, header, field name, scope, limit, status
code and errorId from here. A sandbox keeps its own copy of the document's tables and never
imports this module, so a mistake here fails the tests that talk to it.

Markers (keep documented names exactly as written; say where we chose):
- [DOC] written in eBay's developer documentation (shared/partners/README.md section 5.3, and the
  pages named beside each group: developer.ebay.com/api-docs/...). "OAS" is eBay's own OpenAPI
  file for the API (developer.ebay.com/api-docs/master/sell/<api>/openapi/3/...).
- [INF] our choice, or recalled and not read again in a document; each is used behind one client
  method or one mapper function so the real shape can replace it in one place.
- [SEED] shared/seeds/004 (the brand's ERP and its eBay export).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from connectors.drift import Expected, PayloadContract

PARTNER: Final = "ebay"

# --- Hosts [DOC] static/oauth-refresh-token-request.html ------------------------------------
PRODUCTION_BASE_URL: Final = "https://api.ebay.com"
SANDBOX_BASE_URL: Final = "https://api.sandbox.ebay.com"

# --- OAuth: the refresh-token grant [DOC] static/oauth-refresh-token-request.html ----------
TOKEN_PATH: Final = "identity/v1/oauth2/token"  # POST, form-encoded
FORM_CONTENT_TYPE: Final = "application/x-www-form-urlencoded"
GRANT_TYPE: Final = "grant_type"
GRANT_REFRESH_TOKEN: Final = "refresh_token"
REFRESH_TOKEN: Final = "refresh_token"
SCOPE: Final = "scope"  # space-separated; a subset of the scopes the seller consented to
# The answer [DOC]: {access_token, expires_in (seconds, 7200), token_type ("User Access Token")}.
T_ACCESS_TOKEN: Final = "access_token"
T_EXPIRES_IN: Final = "expires_in"
T_TOKEN_TYPE: Final = "token_type"
ACCESS_TOKEN_SECONDS: Final = 7200  # [DOC] a User access token lives two hours
# [INF] a token is renewed this long before eBay says it expires: a request leaving with a token
# about to expire would fail on the way (clock skew, a slow retry) and cost a 401 and a refresh.
REFRESH_MARGIN_SECONDS: Final = 300.0
# [DOC] OAuth error answers (RFC 6749 section 5.2): {"error": ..., "error_description": ...}.
OAUTH_ERROR: Final = "error"
OAUTH_ERROR_DESCRIPTION: Final = "error_description"
INVALID_GRANT: Final = "invalid_grant"  # [DOC] refresh token revoked, expired or not this app's
INVALID_CLIENT: Final = "invalid_client"  # [DOC RFC 6749] client id / secret wrong
# Scopes [DOC] the Inventory and Fulfillment methods' "OAuth scope" sections.
SCOPE_INVENTORY: Final = "https://api.ebay.com/oauth/api_scope/sell.inventory"
SCOPE_FULFILLMENT: Final = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
DEFAULT_SCOPES: Final = (SCOPE_INVENTORY, SCOPE_FULFILLMENT)
# What a person does when the refresh token is refused [DOC KB 5220: user consent is needed at
# least once; only the seller can give it].
CONSENT_ADVICE: Final = (
    "the seller must grant Bobbin access to the eBay account again through eBay's consent page, and the "
    "new refresh token be saved in the site's credentials"
)

# --- Headers [DOC] static/rest-request-components.html, each write method's header table ----
HEADER_AUTHORIZATION: Final = "Authorization"
BEARER: Final = "Bearer"
HEADER_CONTENT_LANGUAGE: Final = "Content-Language"  # [DOC] required on Inventory writes
HEADER_LOCATION: Final = "Location"  # [DOC] createShippingFulfillment answers 201 with it
JSON_CONTENT_TYPE: Final = "application/json"
DEFAULT_CONTENT_LANGUAGE: Final = "en-US"
DEFAULT_MARKETPLACE: Final = "EBAY_US"  # [DOC] MarketplaceEnum

# --- The error envelope [DOC] static/handling-error-messages.html ---------------------------
ERRORS: Final = "errors"
WARNINGS: Final = "warnings"


class ErrorField:
    """[DOC] ErrorDetailV3: one entry of ``errors`` / ``warnings``."""

    ERROR_ID: Final = "errorId"
    DOMAIN: Final = "domain"
    SUBDOMAIN: Final = "subdomain"
    CATEGORY: Final = "category"
    MESSAGE: Final = "message"
    LONG_MESSAGE: Final = "longMessage"
    PARAMETERS: Final = "parameters"  # [{name, value}]
    PARAM_NAME: Final = "name"
    PARAM_VALUE: Final = "value"


# errorIds the client acts on.
ERROR_INVALID_TOKEN: Final = 1001  # [DOC] domain OAuth, HTTP 401: "Invalid access token"
# [INF recalled, Inventory API error table] createOffer for a SKU and marketplace that already has
# an offer: 25002 with the existing offer's id in ``parameters`` (name "offerId").
ERROR_OFFER_EXISTS: Final = 25002
PARAM_OFFER_ID: Final = "offerId"
# [INF recalled] getOffers answers 404 with 25713 ("This Offer is not available") when the SKU has none.
ERROR_OFFER_NOT_AVAILABLE: Final = 25713
# [INF recalled] 404 with 25702 ("SKU ... is not available in the system"): no inventory item.
ERROR_SKU_NOT_FOUND: Final = 25702

# --- Status codes [DOC] each method's "HTTP status codes" table ------------------------------
STATUS_OK: Final = 200
STATUS_CREATED: Final = 201  # createShippingFulfillment, createOffer (201 with offerId)
STATUS_NO_CONTENT: Final = 204  # createOrReplaceInventoryItem(Group), updateOffer
STATUS_MULTI: Final = 207  # [DOC] bulk calls when some requests failed and some did not
STATUS_NOT_FOUND: Final = 404
STATUS_UNAUTHORIZED: Final = 401

# --- Sell Inventory API [DOC] api-docs/sell/inventory/resources/... -------------------------
INVENTORY: Final = "sell/inventory/v1/"
INVENTORY_ITEM: Final = INVENTORY + "inventory_item/{sku}"  # PUT createOrReplaceInventoryItem
# GET getInventoryItems [DOC]: ?limit (1..200, default 25) &offset; answers {href, inventoryItems,
# limit, next, prev, size, total}. [DOC] the page says offset is a page number, not a record count,
# so the client follows ``next`` instead of computing offsets.
INVENTORY_ITEMS: Final = INVENTORY + "inventory_item"
INVENTORY_ITEMS_KEY: Final = "inventoryItems"
INVENTORY_ITEMS_MAX_LIMIT: Final = 200
BULK_INVENTORY_ITEM: Final = INVENTORY + "bulk_create_or_replace_inventory_item"  # POST
INVENTORY_ITEM_GROUP: Final = INVENTORY + "inventory_item_group/{inventoryItemGroupKey}"  # PUT
OFFERS: Final = INVENTORY + "offer"  # POST createOffer, GET getOffers
OFFER: Final = INVENTORY + "offer/{offerId}"  # PUT updateOffer
OFFER_PUBLISH: Final = INVENTORY + "offer/{offerId}/publish"  # POST publishOffer
PUBLISH_BY_GROUP: Final = INVENTORY + "offer/publish_by_inventory_item_group"  # POST
BULK_PRICE_QUANTITY: Final = INVENTORY + "bulk_update_price_quantity"  # POST

# Limits [DOC] the bulk methods' descriptions; bulk-updates.html: "Up to 25".
# bulkUpdatePriceQuantity: bulk-updates.html says "Up to 25 inventory item records (and the active
# offers associated with them) may be updated with one call", and its request type takes a list of
# SKUs; the method's own page now reads "Only one SKU (one product) can be updated per call" (25
# offers of it). [INF] Bobbin sends up to 25 SKUs, each with its own statusCode back; if eBay
# refuses more than one SKU a call, the inventory push's batch size (connectors/ebay/inventory.py)
# goes to 1 and nothing else changes.
BULK_LIMIT: Final = 25
# [DOC] product.imageUrls: "up to 24 images"; [SEED 004] the ERP kept 12 per eBay record, so a
# brand's item carries at most 12; the client refuses only what eBay would.
MAX_IMAGES: Final = 24
ERP_MAX_IMAGES: Final = 12
MAX_SKU_CHARS: Final = 50  # [DOC] sku "Max Length: 50"


class ItemField:
    """[DOC] InventoryItem (the fields Bobbin sends)."""

    AVAILABILITY: Final = "availability"
    SHIP_TO_LOCATION_AVAILABILITY: Final = "shipToLocationAvailability"
    QUANTITY: Final = "quantity"
    CONDITION: Final = "condition"
    PRODUCT: Final = "product"
    TITLE: Final = "title"
    DESCRIPTION: Final = "description"
    ASPECTS: Final = "aspects"
    IMAGE_URLS: Final = "imageUrls"
    SKU: Final = "sku"  # in bulk requests and answers
    LOCALE: Final = "locale"  # [DOC] bulk requests carry the locale per item


class GroupField:
    """[DOC] InventoryItemGroup."""

    VARIANT_SKUS: Final = "variantSKUs"
    VARIES_BY: Final = "variesBy"
    SPECIFICATIONS: Final = "specifications"
    NAME: Final = "name"
    VALUES: Final = "values"
    ASPECTS_IMAGE_VARIES_BY: Final = "aspectsImageVariesBy"
    TITLE: Final = "title"
    DESCRIPTION: Final = "description"
    IMAGE_URLS: Final = "imageUrls"


class OfferField:
    """[DOC] EbayOfferDetailsWithKeys / EbayOfferDetailsWithId / OfferResponse."""

    OFFER_ID: Final = "offerId"
    SKU: Final = "sku"
    MARKETPLACE_ID: Final = "marketplaceId"
    FORMAT: Final = "format"
    LISTING_DURATION: Final = "listingDuration"
    AVAILABLE_QUANTITY: Final = "availableQuantity"
    CATEGORY_ID: Final = "categoryId"
    LISTING_DESCRIPTION: Final = "listingDescription"
    PRICING_SUMMARY: Final = "pricingSummary"
    PRICE: Final = "price"
    LISTING_POLICIES: Final = "listingPolicies"
    FULFILLMENT_POLICY_ID: Final = "fulfillmentPolicyId"
    PAYMENT_POLICY_ID: Final = "paymentPolicyId"
    RETURN_POLICY_ID: Final = "returnPolicyId"
    MERCHANT_LOCATION_KEY: Final = "merchantLocationKey"
    STATUS: Final = "status"  # PUBLISHED | UNPUBLISHED
    LISTING: Final = "listing"  # {listingId, listingStatus} once published
    LISTING_ID: Final = "listingId"


FORMAT_FIXED_PRICE: Final = "FIXED_PRICE"
FORMAT_AUCTION: Final = "AUCTION"
DURATION_GTC: Final = "GTC"  # [DOC] the only duration a fixed-price listing takes
OFFER_PUBLISHED: Final = "PUBLISHED"
OFFER_UNPUBLISHED: Final = "UNPUBLISHED"

# getOffers [DOC] query: sku (one), marketplace_id, format, limit, offset; answer OfferResponse list.
P_SKU: Final = "sku"
P_MARKETPLACE_ID: Final = "marketplace_id"
R_OFFERS: Final = "offers"
# publishByInventoryItemGroup [DOC] PublishByInventoryItemGroupRequest.
PUBLISH_GROUP_KEY: Final = "inventoryItemGroupKey"
PUBLISH_MARKETPLACE_ID: Final = "marketplaceId"

# Bulk bodies and answers [DOC] BulkInventoryItem / BulkPriceQuantity and their responses.
REQUESTS: Final = "requests"
RESPONSES: Final = "responses"
R_STATUS_CODE: Final = "statusCode"
R_SKU: Final = "sku"
R_OFFER_ID: Final = "offerId"


class PriceQuantityField:
    """[DOC] PriceQuantity / OfferPriceQuantity."""

    SKU: Final = "sku"
    SHIP_TO_LOCATION_AVAILABILITY: Final = "shipToLocationAvailability"
    QUANTITY: Final = "quantity"
    OFFERS: Final = "offers"
    OFFER_ID: Final = "offerId"
    AVAILABLE_QUANTITY: Final = "availableQuantity"
    PRICE: Final = "price"


# --- Sell Fulfillment API [DOC] api-docs/sell/fulfillment/resources/order/... ---------------
FULFILLMENT: Final = "sell/fulfillment/v1/"
ORDERS: Final = FULFILLMENT + "order"  # GET getOrders
ORDER: Final = FULFILLMENT + "order/{orderId}"  # GET getOrder
SHIPPING_FULFILLMENTS: Final = FULFILLMENT + "order/{orderId}/shipping_fulfillment"  # POST create, GET list

# getOrders query [DOC].
P_FILTER: Final = "filter"
P_LIMIT: Final = "limit"
P_OFFSET: Final = "offset"
P_ORDER_IDS: Final = "orderIds"
P_FIELD_GROUPS: Final = "fieldGroups"
FIELD_GROUP_TAX_BREAKDOWN: Final = "TAX_BREAKDOWN"
FILTER_LAST_MODIFIED: Final = "lastmodifieddate"  # lastmodifieddate:[from..to] or [from..]
FILTER_CREATION_DATE: Final = "creationdate"
FILTER_FULFILLMENT_STATUS: Final = "orderfulfillmentstatus"  # orderfulfillmentstatus:{A|B}
MAX_LIMIT: Final = 200  # [DOC] limit: max 200, default 50
# [INF] what Bobbin asks for: a page is committed before the next is read; 100 orders with their
# lines is a few hundred KB of JSON.
REQUESTED_LIMIT: Final = 100
R_ORDERS: Final = "orders"
R_TOTAL: Final = "total"
R_NEXT: Final = "next"  # [DOC] the URI of the next page; absent on the last
R_LIMIT: Final = "limit"
R_OFFSET: Final = "offset"

# OrderFulfillmentStatus [DOC].
FULFILLMENT_NOT_STARTED: Final = "NOT_STARTED"
FULFILLMENT_IN_PROGRESS: Final = "IN_PROGRESS"
FULFILLMENT_FULFILLED: Final = "FULFILLED"
# OrderPaymentStatusEnum [DOC].
PAYMENT_PAID: Final = "PAID"
PAYMENT_PENDING: Final = "PENDING"
PAYMENT_FAILED: Final = "FAILED"
PAYMENT_FULLY_REFUNDED: Final = "FULLY_REFUNDED"
PAYMENT_PARTIALLY_REFUNDED: Final = "PARTIALLY_REFUNDED"
# CancelStateEnum [DOC].
CANCEL_NONE_REQUESTED: Final = "NONE_REQUESTED"
CANCEL_IN_PROGRESS: Final = "IN_PROGRESS"
CANCEL_CANCELED: Final = "CANCELED"


def timestamp(moment: datetime) -> str:
    """A filter / shippedDate timestamp as eBay writes them: [DOC] ``2015-08-04T19:09:02.768Z``
    (UTC, milliseconds, "Z"). A naive datetime is taken as UTC."""
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def modified_filter(start: datetime, end: datetime | None = None, fulfillment_statuses: tuple[str, ...] = ()) -> str:
    """[DOC] ``lastmodifieddate:[start..end]`` (``[start..]`` when open-ended), and
    ``orderfulfillmentstatus:{A|B}`` after a comma when statuses are given."""
    bound = f"{timestamp(start)}..{timestamp(end) if end is not None else ''}"
    text = f"{FILTER_LAST_MODIFIED}:[{bound}]"
    if fulfillment_statuses:
        text += f",{FILTER_FULFILLMENT_STATUS}:{{{'|'.join(fulfillment_statuses)}}}"
    return text


class OrderField:
    """[DOC] Order."""

    ORDER_ID: Final = "orderId"
    LEGACY_ORDER_ID: Final = "legacyOrderId"
    CREATION_DATE: Final = "creationDate"
    LAST_MODIFIED_DATE: Final = "lastModifiedDate"
    ORDER_FULFILLMENT_STATUS: Final = "orderFulfillmentStatus"
    ORDER_PAYMENT_STATUS: Final = "orderPaymentStatus"
    CANCEL_STATUS: Final = "cancelStatus"
    CANCEL_STATE: Final = "cancelState"
    BUYER: Final = "buyer"
    BUYER_CHECKOUT_NOTES: Final = "buyerCheckoutNotes"
    PRICING_SUMMARY: Final = "pricingSummary"
    PAYMENT_SUMMARY: Final = "paymentSummary"
    FULFILLMENT_START_INSTRUCTIONS: Final = "fulfillmentStartInstructions"
    LINE_ITEMS: Final = "lineItems"
    SALES_RECORD_REFERENCE: Final = "salesRecordReference"


class BuyerField:
    """[DOC] Buyer and its buyerRegistrationAddress (ExtendedContact)."""

    USERNAME: Final = "username"
    REGISTRATION_ADDRESS: Final = "buyerRegistrationAddress"


class ContactField:
    """[DOC] ExtendedContact: shipTo and buyerRegistrationAddress."""

    FULL_NAME: Final = "fullName"
    EMAIL: Final = "email"
    CONTACT_ADDRESS: Final = "contactAddress"
    PRIMARY_PHONE: Final = "primaryPhone"
    COMPANY_NAME: Final = "companyName"


class AddressField:
    """[DOC] Address."""

    LINE1: Final = "addressLine1"
    LINE2: Final = "addressLine2"
    CITY: Final = "city"
    STATE: Final = "stateOrProvince"
    POSTAL_CODE: Final = "postalCode"
    COUNTRY_CODE: Final = "countryCode"


class FulfillmentStartField:
    """[DOC] FulfillmentStartInstruction → shippingStep{shipTo, shippingServiceCode, shippingCarrierCode}."""

    SHIPPING_STEP: Final = "shippingStep"
    SHIP_TO: Final = "shipTo"
    SHIPPING_SERVICE_CODE: Final = "shippingServiceCode"


class PricingField:
    """[DOC] PricingSummary (order level). deliveryCost is before any delivery discount;
    deliveryDiscount is negative."""

    PRICE_SUBTOTAL: Final = "priceSubtotal"
    PRICE_DISCOUNT: Final = "priceDiscount"
    DELIVERY_COST: Final = "deliveryCost"
    DELIVERY_DISCOUNT: Final = "deliveryDiscount"
    TAX: Final = "tax"
    FEE: Final = "fee"
    ADJUSTMENT: Final = "adjustment"
    TOTAL: Final = "total"


class AmountField:
    """[DOC] Amount: value is a decimal in text."""

    VALUE: Final = "value"
    CURRENCY: Final = "currency"


class PaymentField:
    """[DOC] PaymentSummary{payments[Payment], refunds[OrderRefund], totalDueSeller}."""

    PAYMENTS: Final = "payments"
    REFUNDS: Final = "refunds"
    TOTAL_DUE_SELLER: Final = "totalDueSeller"
    AMOUNT: Final = "amount"
    PAYMENT_METHOD: Final = "paymentMethod"
    PAYMENT_STATUS: Final = "paymentStatus"
    REFUND_STATUS: Final = "refundStatus"


PAYMENT_STATUS_PAID: Final = "PAID"  # [DOC] PaymentStatusEnum
REFUND_STATUS_REFUNDED: Final = "REFUNDED"  # [DOC] RefundStatusEnum


class LineField:
    """[DOC] LineItem."""

    LINE_ITEM_ID: Final = "lineItemId"
    LEGACY_ITEM_ID: Final = "legacyItemId"
    SKU: Final = "sku"
    TITLE: Final = "title"
    QUANTITY: Final = "quantity"
    LINE_ITEM_COST: Final = "lineItemCost"  # [DOC] unit price × quantity, before discounts
    TOTAL: Final = "total"
    DELIVERY_COST: Final = "deliveryCost"
    TAXES: Final = "taxes"
    EBAY_COLLECT_AND_REMIT_TAXES: Final = "ebayCollectAndRemitTaxes"
    LINE_ITEM_FULFILLMENT_STATUS: Final = "lineItemFulfillmentStatus"
    TAX_AMOUNT: Final = "amount"  # in taxes[] and ebayCollectAndRemitTaxes[]


class DeliveryCostField:
    """[DOC] DeliveryCost (line level). shippingCost and handlingCost are what the buyer paid the
    seller to deliver; discountAmount is a shipping discount (a positive amount taken off);
    importCharges and shippingIntermediationFee go to eBay's international shipping provider,
    not to the seller, and are not freight on the seller's invoice."""

    SHIPPING_COST: Final = "shippingCost"
    HANDLING_COST: Final = "handlingCost"
    DISCOUNT_AMOUNT: Final = "discountAmount"
    IMPORT_CHARGES: Final = "importCharges"
    SHIPPING_INTERMEDIATION_FEE: Final = "shippingIntermediationFee"


# --- Shipping fulfillment [DOC] ShippingFulfillmentDetails / ShippingFulfillment -------------
class ShipmentField:
    LINE_ITEMS: Final = "lineItems"  # [{lineItemId, quantity}]
    LINE_ITEM_ID: Final = "lineItemId"
    QUANTITY: Final = "quantity"
    SHIPPED_DATE: Final = "shippedDate"
    SHIPPING_CARRIER_CODE: Final = "shippingCarrierCode"
    TRACKING_NUMBER: Final = "trackingNumber"  # in the request
    SHIPMENT_TRACKING_NUMBER: Final = "shipmentTrackingNumber"  # in the answer
    FULFILLMENT_ID: Final = "fulfillmentId"


R_FULFILLMENTS: Final = "fulfillments"  # [DOC] ShippingFulfillmentPagedCollection


# --- The order as the pipeline reads it ------------------------------------------------------
# Where each order fact sits (keys: connectors.base.ORDER_FIELDS), so error rows name eBay's field.
_SHIP_TO = f"{OrderField.FULFILLMENT_START_INSTRUCTIONS}[].{FulfillmentStartField.SHIPPING_STEP}.{FulfillmentStartField.SHIP_TO}"
ORDER_FIELDS: Final = {
    "customer": f"{OrderField.BUYER}.{BuyerField.REGISTRATION_ADDRESS}.{ContactField.EMAIL}",
    "rep": OrderField.BUYER,  # [INF] eBay orders have no sales rep: the customer's default
    "terms": f"{OrderField.PAYMENT_SUMMARY}.{PaymentField.PAYMENTS}[].{PaymentField.PAYMENT_METHOD}",
    "shipping": f"{FulfillmentStartField.SHIPPING_STEP}.{FulfillmentStartField.SHIPPING_SERVICE_CODE}",
    "warehouse": OrderField.FULFILLMENT_START_INSTRUCTIONS,
    "po": OrderField.SALES_RECORD_REFERENCE,
    # [INF] an eBay order has no start-ship or cancel date (the mapper reads neither); the nearest
    # fields are named so a date problem, should one arise, points somewhere real.
    "ship_date": OrderField.CREATION_DATE,
    "cancel_date": OrderField.CANCEL_STATUS,
    "ship_to": _SHIP_TO,
    "lines": OrderField.LINE_ITEMS,
    "item": f"{OrderField.LINE_ITEMS}.{LineField.SKU}",
    "quantity": f"{OrderField.LINE_ITEMS}.{LineField.QUANTITY}",
    "price": f"{OrderField.LINE_ITEMS}.{LineField.LINE_ITEM_COST}",
    "currency": f"{OrderField.PRICING_SUMMARY}.{PricingField.TOTAL}.{AmountField.CURRENCY}",
    "hold": f"{OrderField.ORDER_PAYMENT_STATUS} / {OrderField.CANCEL_STATUS}",  # why it is held
}

_F = OrderField
PAYLOAD: Final = PayloadContract(
    partner="eBay",
    fields=(
        Expected("order id", (_F.ORDER_ID, _F.LEGACY_ORDER_ID), required=True),
        Expected("lines", (_F.LINE_ITEMS,), required=True),
        Expected(
            "buyer e-mail",
            (f"{_F.BUYER}.{BuyerField.REGISTRATION_ADDRESS}.{ContactField.EMAIL}",),
            effect="buyers are no longer matched to customers by e-mail",
        ),
        Expected("payment status", (_F.ORDER_PAYMENT_STATUS,), effect="unpaid orders are no longer held"),
        Expected("pricing summary", (_F.PRICING_SUMMARY,), effect="the currency and totals are not read"),
        Expected(
            "ship-to",
            (_F.FULFILLMENT_START_INSTRUCTIONS,),
            effect="ship-to addresses are no longer read (address_missing)",
        ),
        Expected("sales record number", (_F.SALES_RECORD_REFERENCE,), watched=False),
    ),
    known={
        # [DOC] Order: the fields the mapper reads and the others eBay documents on an order.
        "": frozenset(
            [
                *(v for k, v in vars(OrderField).items() if k.isupper() and k != "CANCEL_STATE"),
                "sellerId",
                "fulfillmentHrefs",
                "totalFeeBasisAmount",
                "totalMarketplaceFee",
                "program",
                "ebayCollectAndRemitTax",
            ]
        ),
        f"{_F.LINE_ITEMS}[]": frozenset(
            [
                *(v for k, v in vars(LineField).items() if k.isupper() and k != "TAX_AMOUNT"),
                "appliedPromotions",
                "discountedLineItemCost",
                "itemLocation",
                "legacyVariationId",
                "lineItemFulfillmentInstructions",
                "listingMarketplaceId",
                "properties",
                "purchaseMarketplaceId",
                "refunds",
                "soldFormat",
                "variationAspects",
                "linkedOrderLineItems",
            ]
        ),
    },
)
