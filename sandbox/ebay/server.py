"""An eBay REST Sell API emulator, written from eBay's documentation (shared/partners/README.md 5.3).

Paths, parameters, headers, field names, error bodies and limits come from the sandbox's own tables
(``sandbox/ebay/api.py``), never from the eBay connector. Where the documentation is silent the
choice is marked [INF] there or here.

It behaves as the documentation describes:
- ``POST /identity/v1/oauth2/token`` (Basic client_id:client_secret, form grant_type=refresh_token,
  refresh_token, scope) answers ``{access_token, expires_in, token_type: "User Access Token"}``; a
  wrong or revoked refresh token is 400 ``invalid_grant``, wrong client credentials 401
  ``invalid_client``. Tokens expire after ``access_token_seconds`` by ``clock``;
- every ``/sell/...`` call carries ``Authorization: Bearer <token>``; a missing, unknown or expired
  token is 401 with errorId 1001 in eBay's envelope ``{"errors": [{errorId, domain, category,
  message, longMessage, parameters: [{name, value}]}]}``; a token without the API's scope is 403;
- Inventory API: inventory items (``Content-Language`` on writes, at most 24 images, a title of at
  most 80 characters, a known condition), bulk create (at most 25, a statusCode per item),
  inventory item groups, offers, publish (refused without a category, a price above 0, the three
  listing policies, a location; publishing again revises the same listing), publish by group, and
  bulk price / quantity updates (at most 25; an item's quantity revised at most ``revisions_per_day``
  times a day, then refused for that SKU);
- Fulfillment API: getOrders with ``filter=creationdate:[..]|lastmodifieddate:[..]|
  orderfulfillmentstatus:{..}``, ``limit`` (<= 200) / ``offset`` paging with href / next / prev,
  or ``orderIds``; getOrder; shipping fulfilments (201 with a Location header).

``/_sandbox/...`` is not eBay's: unauthenticated control endpoints to read orders, inventory,
offers, publishes, fulfilments and calls, create orders, revoke the refresh token, queue faults
(docs/faults.md) and reset. An injected ``auth`` fault answers eBay's 401 (errorId 1001); listing
faults disturb getOrders (see :meth:`EbaySandbox._disturb_listing`). ``rate_limit`` requests per
minute, when set, are answered and the rest get 429.
"""

from __future__ import annotations

import base64
import binascii
import copy
import hashlib
import hmac
import itertools
import math
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import unquote, urlencode

import structlog

from sandbox.common import ControlHandlers, Fault, FaultQueue, PartnerSandbox, Request, Response
from sandbox.ebay import api as c

log = structlog.get_logger()

Obj = dict[str, Any]
OF, IF, PF, GF = c.OrderField, c.ItemField, c.ProductField, c.GroupField
XF, LF, CF, AF = c.OfferField, c.LineItemField, c.ContactField, c.AddressField
CENTS = Decimal("0.01")
ONE_SECOND = timedelta(seconds=1)
AUTO = "<auto>"  # create_order(email=AUTO): an address made from the buyer's username

DEFAULT_SELLER_ID = "harborandpine"  # [INF] the demo brand's eBay user id
DEFAULT_CURRENCY = "USD"
DEFAULT_MARKETPLACE = "EBAY_US"
DEFAULT_SHIPPING = Decimal("8.95")  # [INF] the demo seller's flat shipping per order
DEFAULT_TAX_RATE = Decimal("0.08")  # [INF] the sales tax on the demo buyers' orders
FIRST_LISTING_ID = 110_553_000_001  # [INF] eBay item ids are 12-digit numbers
FIRST_OFFER_ID = 5_000_000_001  # [INF]
FIRST_LINE_ITEM_ID = 10_060_000_000_001  # [INF] line item ids are 14-digit numbers
FIRST_SALES_RECORD = 1001
OFFERS_DEFAULT_LIMIT = 100  # [INF] getOffers' page when none is asked for
# The line an order made without lines carries (the demo catalog's style: 5-character SKUs).
DEFAULT_LINES: tuple[Obj, ...] = (
    {"sku": "109IX", "title": "Dune Fisherman Sweater - Olive / XS", "price": "94.00", "quantity": 1},
)


class EbayError(Exception):
    """A request eBay refuses: answered with ``{"errors": [...]}`` and ``status``."""

    def __init__(self, status: int, *errors: Obj) -> None:
        super().__init__(errors[0][c.E_MESSAGE] if errors else str(status))
        self.status, self.errors = status, list(errors)


def error(
    error_id: int,
    message: str,
    *,
    domain: str = c.DOMAIN_INVENTORY,
    category: str = c.CATEGORY_REQUEST,
    long_message: str | None = None,
    parameters: Mapping[str, Any] | None = None,
) -> Obj:
    """One entry of eBay's ``errors`` array ([DOC] ErrorDetailV3)."""
    entry: Obj = {
        c.E_ERROR_ID: error_id,
        c.E_DOMAIN: domain,
        c.E_CATEGORY: category,
        c.E_MESSAGE: message,
        c.E_LONG_MESSAGE: long_message or message,
    }
    if domain in (c.DOMAIN_INVENTORY, c.DOMAIN_FULFILLMENT):
        entry[c.E_SUBDOMAIN] = c.SUBDOMAIN_INVENTORY
    if parameters:
        entry[c.E_PARAMETERS] = [{c.P_NAME: k, c.P_VALUE: str(v)} for k, v in parameters.items()]
    return entry


def _invalid(field: str, message: str | None = None, *, domain: str = c.DOMAIN_INVENTORY) -> Obj:
    return error(
        c.INVALID_VALUE,
        message or f"Invalid value for {field}.",
        domain=domain,
        parameters={"fieldName": field},
    )


# --- the sandbox ---------------------------------------------------------------------------------
class EbaySandbox(PartnerSandbox):
    """The emulator: one eBay seller in memory behind a lock, served on ``host:port`` (0 = a free port).

    ``client_id`` / ``client_secret`` are the application's keys and ``refresh_token`` the seller's
    grant (its scopes: :data:`sandbox.ebay.api.GRANTED_SCOPES`). ``clock`` (Unix seconds) drives
    token expiry, timestamps and the rate window, so a test can move time instead of waiting.
    ``seed``: ``{"orders": [...], "inventory_items": [...], "offers": [...]}`` (see
    ``sandbox/ebay/demo.py``); none: an empty seller. ``rate_limit``: requests per minute, then 429.
    """

    api_base_path = ""  # the API paths sit at the root: http://127.0.0.1:PORT/sell/inventory/v1/...

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        seed: Mapping[str, Any] | None = None,
        clock: Callable[[], float] = time.time,
        access_token_seconds: int = c.ACCESS_TOKEN_SECONDS,
        rate_limit: int | None = None,
    ) -> None:
        self.client_id, self._client_secret = client_id, client_secret
        self._refresh_token = self._seed_refresh_token = refresh_token
        self.access_token_seconds = access_token_seconds
        self.rate_limit = rate_limit
        # [DOC] revisions of one listing a day (api.REVISIONS_PER_DAY); a test may lower it.
        self.revisions_per_day = c.REVISIONS_PER_DAY
        self.rate_window = c.RATE_LIMIT_WINDOW_SECONDS
        self._clock = clock
        self._lock = threading.RLock()
        self._seed: Obj = copy.deepcopy(dict(seed or {}))
        self.faults = FaultQueue(auth_response=lambda request: _unauthorized(), is_listing=_is_order_listing)
        self._hits: deque[float] = deque()
        self._load()
        self._serve_on(host, port)

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``: eBay's paths (``/identity/...``, ``/sell/...``) sit under it."""
        return self._server.base_url

    def start(self) -> EbaySandbox:
        super().start()
        return self

    def reset(self) -> None:
        """Back to the seed: tokens, the refresh token's revocation, inventory, offers, listings,
        orders, fulfilments, recorded calls, the rate window and faults."""
        self.faults.clear()
        self._load()

    # --- tokens (Python side) ---------------------------------------------------------------------
    def revoke_refresh_token(self) -> None:
        """The seller revokes the grant: the refresh token gets ``invalid_grant`` from now on, and
        [INF] the access tokens issued from it stop working too."""
        with self._lock:
            self._refresh_revoked = True
            self._tokens.clear()

    def grant_refresh_token(self, refresh_token: str) -> None:
        """The seller consents again: a new refresh token replaces the old one."""
        with self._lock:
            self._refresh_token, self._refresh_revoked = refresh_token, False

    def expire_access_tokens(self) -> None:
        """Every access token issued so far expires now (as if two hours had passed)."""
        with self._lock:
            self._tokens.clear()

    def access_tokens(self) -> list[Obj]:
        """The tokens issued and still known: ``{expires_at, scopes}`` (not the token text)."""
        with self._lock:
            return [{"expires_at": t["expires_at"], "scopes": sorted(t["scopes"])} for t in self._tokens.values()]

    # --- the seller's data (Python side of /_sandbox/) -------------------------------------------------
    def inventory_items(self) -> list[Obj]:
        with self._lock:
            return [self._item_view(item) for _, item in sorted(self._items.items())]

    def inventory_item_groups(self) -> list[Obj]:
        with self._lock:
            return [copy.deepcopy(g) for _, g in sorted(self._groups.items())]

    def offers(self) -> list[Obj]:
        with self._lock:
            return [copy.deepcopy(o) for o in self._offers.values()]

    def publishes(self) -> list[Obj]:
        """Every successful publish, oldest first: ``{offerIds, skus, listingId, marketplaceId,
        inventoryItemGroupKey, revised, at}`` (``revised``: the listing already existed)."""
        with self._lock:
            return copy.deepcopy(self._publishes)

    def listings(self) -> list[Obj]:
        """The live listings: ``{listingId, offerIds, inventoryItemGroupKey}``."""
        with self._lock:
            return copy.deepcopy(list(self._listings.values()))

    def price_quantity_updates(self) -> list[Obj]:
        """Every entry of every bulk_update_price_quantity call, with its statusCode."""
        with self._lock:
            return copy.deepcopy(self._price_quantity)

    def orders(self) -> list[Obj]:
        """Every order as stored, newest created first (the getOrder shape)."""
        with self._lock:
            return [copy.deepcopy(o) for o in self._sorted_orders()]

    def get_order(self, order_id: str) -> Obj:
        with self._lock:
            return copy.deepcopy(self._find_order(order_id))

    def fulfillments(self) -> list[Obj]:
        """Every shipping fulfilment made through the API, oldest first, with its ``orderId``."""
        with self._lock:
            return copy.deepcopy(self._fulfillment_log)

    def calls(self) -> list[Obj]:
        """Every API request answered past the rate limit: ``{method, path, query}``."""
        with self._lock:
            return copy.deepcopy(self._calls)

    def create_order(
        self,
        lines: Sequence[Mapping[str, Any]] | None = None,
        *,
        payment_status: str = c.PAYMENT_PAID,
        fulfillment_status: str = c.FULFILLMENT_NOT_STARTED,
        cancel_state: str | None = None,
        cancelled: bool = False,
        email: str | None = AUTO,
        username: str | None = None,
        full_name: str | None = None,
        created_at: datetime | None = None,
        modified_at: datetime | None = None,
        **options: Any,
    ) -> Obj:
        """A buyer checks out: an order of ``lines`` (``{sku, title, price, quantity}``) created now
        (or at ``created_at``), in the payment and fulfilment state given. ``cancelled``: the
        order was cancelled (cancelState CANCELED, [INF] payment FULLY_REFUNDED unless given).
        ``email`` None: the buyer's registration address carries no e-mail. ``options`` go to
        :func:`build_order` (shipping, handling, tax_rate, ebay_collects_tax, delivery_discount,
        address, phone, currency, order_id). Answers the order as stored."""
        with self._lock:
            now = self._now()
            if cancelled:
                cancel_state = cancel_state or c.CANCEL_CANCELED
                if payment_status == c.PAYMENT_PAID:
                    payment_status = c.PAYMENT_FULLY_REFUNDED
            number = self._next_sales_record
            self._next_sales_record += 1
            order_id = str(options.pop("order_id", None) or _order_id(number))
            if order_id in self._orders:
                raise ValueError(f"order {order_id} exists")
            made = build_order(
                order_id,
                lines=lines or DEFAULT_LINES,
                created_at=created_at or now,
                modified_at=modified_at,
                payment_status=payment_status,
                fulfillment_status=fulfillment_status,
                cancel_state=cancel_state or c.CANCEL_NONE_REQUESTED,
                username=username or f"buyer_{number}",
                full_name=full_name or "Sam Buyer",
                email=email,
                sales_record=number,
                first_line_item_id=self._next_line_item_id,
                **options,
            )
            self._next_line_item_id += len(made[OF.LINE_ITEMS])
            self._store_order(made)
            return copy.deepcopy(made)

    def update_order(self, order_id: str, changes: Mapping[str, Any]) -> Obj:
        """Change an order as eBay would (a cancellation, a refund, a buyer's edit): ``changes``
        set over it, lastModifiedDate moved on."""
        with self._lock:
            found = self._find_order(order_id)
            found.update({k: copy.deepcopy(v) for k, v in changes.items() if k != OF.ORDER_ID})
            self._touch(found)
            return copy.deepcopy(found)

    def inject_fault(self, status: int | None = None, *, count: int | None = None, **more: Any) -> Fault:
        """Make the next ``count`` API requests misbehave; ``more`` takes the other
        :class:`~sandbox.common.Fault` fields (``path``, ``retry_after``, ``rate``, ``nth``, ...)."""
        return self.faults.inject(Fault(status=status, count=count, **more))

    # --- HTTP: the API (control endpoints and faults: sandbox.common.PartnerSandbox) ---------------
    def _not_found(self, request: Request) -> Response:
        return _error_response(404, error(c.RESOURCE_NOT_FOUND, "Resource not found", domain=c.DOMAIN_ACCESS))

    def _answer(self, request: Request, listing_fault: Fault | None) -> Response:
        with self._lock:
            retry_after = self._charge()
            if retry_after is not None:
                return _error_response(
                    429,
                    error(
                        c.TOO_MANY_REQUESTS,
                        c.TOO_MANY_REQUESTS_MESSAGE,
                        domain=c.DOMAIN_ACCESS,
                        long_message="The request limit has been reached for the resource.",
                    ),
                    headers={"Retry-After": str(retry_after)},
                )
            self._calls.append({"method": request.method, "path": request.path, "query": dict(request.query)})
            try:
                if request.path.rstrip("/") == c.TOKEN_PATH:
                    return self._token(request)
                for base, read_scopes, write_scope, route in (
                    (
                        c.INVENTORY_BASE,
                        (c.SCOPE_INVENTORY, c.SCOPE_INVENTORY_READONLY),
                        c.SCOPE_INVENTORY,
                        self._inventory,
                    ),
                    (
                        c.FULFILLMENT_BASE,
                        (c.SCOPE_FULFILLMENT, c.SCOPE_FULFILLMENT_READONLY),
                        c.SCOPE_FULFILLMENT,
                        self._fulfillment,
                    ),
                ):
                    if request.path.startswith(base + "/"):
                        self._authorize(request, read_scopes if request.method == "GET" else (write_scope,))
                        segments = [unquote(s) for s in request.path[len(base) :].split("/") if s]
                        return route(request, segments, listing_fault)
                return self._not_found(request)
            except EbayError as exc:
                return _error_response(exc.status, *exc.errors)

    def _charge(self) -> int | None:
        """[INF] a sliding window of ``rate_window`` seconds; when full, the seconds to wait."""
        if self.rate_limit is None:
            return None
        now = self._clock()
        while self._hits and self._hits[0] <= now - self.rate_window:
            self._hits.popleft()
        if len(self._hits) >= self.rate_limit:
            return max(1, math.ceil(self._hits[0] + self.rate_window - now))
        self._hits.append(now)
        return None

    # --- OAuth [DOC] ----------------------------------------------------------------------------------
    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return _oauth_error(405, c.INVALID_REQUEST, "the token endpoint takes POST")
        if not self._client_ok(str(request.headers.get(c.HEADER_AUTHORIZATION) or "")):
            return _oauth_error(401, c.INVALID_CLIENT, c.INVALID_CLIENT_DESCRIPTION)
        form = request.form
        grant = form.get(c.GRANT_TYPE)
        if not grant:
            return _oauth_error(400, c.INVALID_REQUEST, f"request is missing a required parameter: {c.GRANT_TYPE}")
        if grant != c.GRANT_REFRESH_TOKEN:
            return _oauth_error(400, c.UNSUPPORTED_GRANT_TYPE, "grant type in request is not supported by the server")
        given = form.get(c.REFRESH_TOKEN) or ""
        if not given:
            return _oauth_error(400, c.INVALID_REQUEST, f"request is missing a required parameter: {c.REFRESH_TOKEN}")
        if self._refresh_revoked or not hmac.compare_digest(given.encode(), self._refresh_token.encode()):
            return _oauth_error(400, c.INVALID_GRANT, c.INVALID_GRANT_DESCRIPTION)
        asked = [s for s in (form.get(c.SCOPE) or "").split() if s]
        if any(s not in c.GRANTED_SCOPES for s in asked):
            return _oauth_error(400, c.INVALID_SCOPE, c.INVALID_SCOPE_DESCRIPTION)
        token = "v^1.1#i^1#sbx^" + secrets.token_urlsafe(32)
        self._tokens[token] = {
            "expires_at": self._clock() + self.access_token_seconds,
            "scopes": frozenset(asked or c.GRANTED_SCOPES),
        }
        return Response.json(
            {c.ACCESS_TOKEN: token, c.EXPIRES_IN: self.access_token_seconds, c.TOKEN_TYPE: c.USER_ACCESS_TOKEN}
        )

    def _client_ok(self, header: str) -> bool:
        scheme, _, encoded = header.strip().partition(" ")
        if scheme != c.BASIC or not encoded:
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        client_id, _, secret = decoded.partition(":")
        return hmac.compare_digest(client_id.encode(), self.client_id.encode()) and hmac.compare_digest(
            secret.encode(), self._client_secret.encode()
        )

    def _authorize(self, request: Request, scopes: Sequence[str]) -> None:
        """[DOC] Bearer <user access token>: missing, unknown or expired -> 401 errorId 1001; [INF]
        a token without any of the API's scopes -> 403 errorId 1100."""
        scheme, _, token = str(request.headers.get(c.HEADER_AUTHORIZATION) or "").strip().partition(" ")
        found = self._tokens.get(token.strip()) if scheme == c.BEARER else None
        if found is None or self._clock() >= found["expires_at"]:
            raise EbayError(401, _token_error())
        if not set(scopes) & found["scopes"]:
            raise EbayError(
                403,
                error(
                    c.ACCESS_DENIED,
                    c.ACCESS_DENIED_MESSAGE,
                    domain=c.DOMAIN_ACCESS,
                    long_message="Insufficient permissions to fulfill the request.",
                ),
            )

    # --- Inventory API [DOC] ----------------------------------------------------------------------------
    def _inventory(self, request: Request, seg: list[str], listing_fault: Fault | None) -> Response:
        method = request.method
        if len(seg) == 2 and seg[0] == "inventory_item":
            if method == "PUT":
                self._need_language(request)
                self._put_item(seg[1], _body(request), _locale(request))
                return Response(status=c.INVENTORY_ITEM_WRITE_STATUS)
            if method == "GET":
                return Response.json(self._item_view(self._find_item(seg[1])))
            if method == "DELETE":
                self._delete_item(seg[1])
                return Response(status=204)
        if seg == ["inventory_item"] and method == "GET":
            return self._list_items(request)
        if seg == [c.BULK_CREATE_OR_REPLACE_INVENTORY_ITEM] and method == "POST":
            self._need_language(request)
            return self._bulk_items(request)
        if len(seg) == 2 and seg[0] == "inventory_item_group":
            if method == "PUT":
                self._need_language(request)
                self._put_group(seg[1], _body(request))
                return Response(status=c.INVENTORY_ITEM_WRITE_STATUS)
            if method == "GET":
                return Response.json(copy.deepcopy(self._find_group(seg[1])))
            if method == "DELETE":
                self._find_group(seg[1])
                del self._groups[seg[1]]
                return Response(status=204)
        if seg == [c.OFFERS]:
            if method == "POST":
                self._need_language(request)
                offer_id = self._create_offer(_body(request))
                return Response.json({XF.OFFER_ID: offer_id}, c.CREATE_OFFER_STATUS)
            if method == "GET":
                return self._get_offers(request)
        if seg == c.OFFER_PUBLISH_BY_GROUP.split("/") and method == "POST":
            return Response.json({c.LISTING_ID: self._publish_group(_body(request))})
        if len(seg) == 2 and seg[0] == c.OFFERS:
            if method == "GET":
                return Response.json(copy.deepcopy(self._find_offer(seg[1])))
            if method == "PUT":
                self._need_language(request)
                self._update_offer(seg[1], _body(request))
                return Response(status=c.UPDATE_OFFER_STATUS)
            if method == "DELETE":
                self._delete_offer(seg[1])
                return Response(status=204)
        if len(seg) == 3 and seg[0] == c.OFFERS and seg[2] == "publish" and method == "POST":
            return Response.json({c.LISTING_ID: self._publish_offer(seg[1])})
        if seg == [c.BULK_UPDATE_PRICE_QUANTITY] and method == "POST":
            return self._bulk_price_quantity(request)
        return self._not_found(request)

    def _need_language(self, request: Request) -> None:
        given = str(request.headers.get(c.HEADER_CONTENT_LANGUAGE) or "").strip()
        if given not in c.CONTENT_LANGUAGES:
            raise EbayError(
                400,
                _invalid(
                    "header Content-Language",
                    f"Invalid value for header Content-Language. Accepted values: {', '.join(c.CONTENT_LANGUAGES)}.",
                ),
            )

    # inventory items
    def _put_item(self, sku: str, body: Obj, locale: str) -> None:
        problems = _item_problems(sku, body)
        if problems:
            raise EbayError(400, *problems)
        self._items[sku] = _stored_item(sku, body, locale)

    def _find_item(self, sku: str) -> Obj:
        found = self._items.get(sku)
        if found is None:
            raise EbayError(
                404, error(c.SKU_NOT_FOUND, f"SKU {sku} is not available in the system", parameters={"sku": sku})
            )
        return found

    def _delete_item(self, sku: str) -> None:
        self._find_item(sku)
        del self._items[sku]
        for offer_id in [o[XF.OFFER_ID] for o in self._offers.values() if o[XF.SKU] == sku]:
            self._delete_offer(offer_id)  # [DOC] deleting an item deletes its offers (and ends listings)

    def _item_view(self, item: Obj) -> Obj:
        shown = copy.deepcopy(item)
        groups = sorted(k for k, g in self._groups.items() if item[IF.SKU] in g.get(GF.VARIANT_SKUS, []))
        if groups:
            shown[IF.GROUP_IDS] = groups
            shown[IF.INVENTORY_ITEM_GROUP_KEYS] = groups
        return shown

    def _list_items(self, request: Request) -> Response:
        limit = _int_query(request.query, "limit", 25, 1, 200, c.DOMAIN_INVENTORY)
        offset = _int_query(request.query, c.Q_OFFSET, 0, 0, None, c.DOMAIN_INVENTORY)
        items = [self._item_view(i) for _, i in sorted(self._items.items())]
        page: Obj = {
            c.PageField.HREF: _self_url(request),
            c.INVENTORY_ITEMS_KEY: items[offset : offset + limit],
            c.PageField.LIMIT: limit,
            c.PageField.SIZE: len(items[offset : offset + limit]),
            c.PageField.TOTAL: len(items),
        }
        if offset + limit < len(items):
            page[c.PageField.NEXT] = _self_url(request, {c.Q_OFFSET: str(offset + limit)})
        return Response.json(page)

    def _bulk_items(self, request: Request) -> Response:
        entries = _bulk_requests(_body(request))
        responses = []
        for entry in entries:
            sku = str(entry.get(IF.SKU) or "") if isinstance(entry, dict) else ""
            locale = str(entry.get(IF.LOCALE) or _locale(request)) if isinstance(entry, dict) else _locale(request)
            problems = _item_problems(sku, entry) if isinstance(entry, dict) else [_invalid(c.REQUESTS)]
            answer: Obj = {IF.SKU: sku, IF.LOCALE: locale}
            if problems:
                answer.update({c.STATUS_CODE: 400, c.ERRORS: problems})
            else:
                self._items[sku] = _stored_item(sku, {k: v for k, v in entry.items() if k != IF.LOCALE}, locale)
                answer[c.STATUS_CODE] = 200
            responses.append(answer)
        return _bulk_answer(responses)

    # groups
    def _put_group(self, key: str, body: Obj) -> None:
        problems = []
        if not key or len(key) > c.GROUP_KEY_MAX_CHARS:
            problems.append(_invalid(GF.KEY))
        variants = body.get(GF.VARIANT_SKUS)
        if not isinstance(variants, list) or not variants or not all(isinstance(s, str) and s for s in variants):
            problems.append(_invalid(GF.VARIANT_SKUS, "variantSKUs must list at least one SKU."))
        elif len(variants) > c.MAX_VARIANTS:
            problems.append(_invalid(GF.VARIANT_SKUS, f"An inventory item group has at most {c.MAX_VARIANTS} SKUs."))
        varies = body.get(GF.VARIES_BY)
        specs = varies.get(c.VARIES_BY_SPECIFICATIONS) if isinstance(varies, dict) else None
        if not isinstance(specs, list) or not specs or not all(_is_spec(s) for s in specs):
            problems.append(_invalid(f"{GF.VARIES_BY}.{c.VARIES_BY_SPECIFICATIONS}"))
        title = body.get(GF.TITLE)
        if title is not None and (not isinstance(title, str) or len(title) > c.TITLE_MAX_CHARS):
            problems.append(_invalid(GF.TITLE, f"The title may have at most {c.TITLE_MAX_CHARS} characters."))
        problems += _image_problems(body.get(GF.IMAGE_URLS), GF.IMAGE_URLS)
        if problems:
            raise EbayError(400, *problems)
        stored = copy.deepcopy(body)
        stored[GF.KEY] = key
        self._groups[key] = stored

    def _find_group(self, key: str) -> Obj:
        found = self._groups.get(key)
        if found is None:
            raise EbayError(
                404,
                error(
                    c.RESOURCE_NOT_AVAILABLE,
                    "We didn't find the entity you are requesting.",
                    parameters={GF.KEY: key},
                ),
            )
        return found

    # offers
    def _create_offer(self, body: Obj) -> str:
        sku = str(body.get(XF.SKU) or "")
        problems = _offer_problems(body)
        if sku and sku not in self._items:
            problems.append(
                error(c.SKU_NOT_FOUND, f"SKU {sku} is not available in the system", parameters={"sku": sku})
            )
        if problems:
            raise EbayError(400, *problems)
        for offer in self._offers.values():
            same = (offer[XF.SKU], offer[XF.MARKETPLACE_ID], offer[XF.FORMAT])
            if same == (sku, body[XF.MARKETPLACE_ID], body[XF.FORMAT]):
                raise EbayError(
                    400,
                    error(c.USER_ERROR, "Offer entity already exists.", parameters={XF.OFFER_ID: offer[XF.OFFER_ID]}),
                )
        offer_id = str(next(self._offer_ids))
        stored = copy.deepcopy(body)
        stored.update({XF.OFFER_ID: offer_id, XF.STATUS: c.STATUS_UNPUBLISHED})
        self._offers[offer_id] = stored
        return offer_id

    def _get_offers(self, request: Request) -> Response:
        query = request.query
        sku = query.get(c.Q_SKU)
        if not sku:
            raise EbayError(400, _invalid(c.Q_SKU, "The sku query parameter is required."))
        limit = _int_query(query, c.Q_LIMIT, OFFERS_DEFAULT_LIMIT, 1, 200, c.DOMAIN_INVENTORY)
        offset = _int_query(query, c.Q_OFFSET, 0, 0, None, c.DOMAIN_INVENTORY)
        found = [
            o
            for o in self._offers.values()
            if o[XF.SKU] == sku
            and query.get(c.Q_MARKETPLACE_ID, o[XF.MARKETPLACE_ID]) == o[XF.MARKETPLACE_ID]
            and query.get(c.Q_FORMAT, o[XF.FORMAT]) == o[XF.FORMAT]
        ]
        if sku not in self._items:
            raise EbayError(
                404, error(c.SKU_NOT_FOUND, f"SKU {sku} is not available in the system", parameters={"sku": sku})
            )
        if not found:
            raise EbayError(404, error(c.OFFER_NOT_AVAILABLE, "This Offer is not available."))
        page = found[offset : offset + limit]
        answer: Obj = {
            c.PageField.HREF: _self_url(request),
            c.PageField.LIMIT: limit,
            c.PageField.SIZE: len(page),
            c.PageField.TOTAL: len(found),
            c.OFFERS_KEY: copy.deepcopy(page),
        }
        if offset + limit < len(found):
            answer[c.PageField.NEXT] = _self_url(request, {c.Q_OFFSET: str(offset + limit)})
        return Response.json(answer)

    def _find_offer(self, offer_id: str) -> Obj:
        found = self._offers.get(offer_id)
        if found is None:
            raise EbayError(
                404, error(c.OFFER_NOT_AVAILABLE, "This Offer is not available.", parameters={XF.OFFER_ID: offer_id})
            )
        return found

    def _update_offer(self, offer_id: str, body: Obj) -> None:
        """[DOC] updateOffer replaces the offer; [INF] sku, marketplaceId and format cannot change
        (absent: kept). A published offer's live listing takes the change at once [DOC]."""
        found = self._find_offer(offer_id)
        merged = dict(body)
        for key in (XF.SKU, XF.MARKETPLACE_ID, XF.FORMAT):
            merged.setdefault(key, found[key])
            if merged[key] != found[key]:
                raise EbayError(400, _invalid(key, f"{key} of an offer cannot be changed."))
        problems = _offer_problems(merged)
        if problems:
            raise EbayError(400, *problems)
        kept: Obj = {k: found[k] for k in (XF.OFFER_ID, XF.STATUS, XF.LISTING) if k in found}
        self._offers[offer_id] = {**copy.deepcopy(merged), **kept}

    def _delete_offer(self, offer_id: str) -> None:
        found = self._find_offer(offer_id)
        del self._offers[offer_id]
        listing = found.get(XF.LISTING) or {}
        entry = self._listings.get(str(listing.get(c.LISTING_ID)))
        if entry is not None:
            entry["offerIds"] = [o for o in entry["offerIds"] if o != offer_id]
            if not entry["offerIds"]:
                del self._listings[entry[c.LISTING_ID]]

    def _publish_offer(self, offer_id: str) -> str:
        offer = self._find_offer(offer_id)
        problems = self._publish_problems(offer)
        member_of = [k for k, g in self._groups.items() if offer[XF.SKU] in g.get(GF.VARIANT_SKUS, [])]
        if member_of:
            problems.append(
                error(
                    c.USER_ERROR,
                    "The SKU belongs to an inventory item group: publish it with publishOfferByInventoryItemGroup.",
                    category=c.CATEGORY_BUSINESS,
                    parameters={GF.KEY: member_of[0]},
                )
            )
        if problems:
            raise EbayError(400, *problems)
        existing = (offer.get(XF.LISTING) or {}).get(c.LISTING_ID)
        listing_id = str(existing or next(self._listing_ids))
        self._go_live([offer], listing_id, group_key=None)
        return listing_id

    def _publish_group(self, body: Obj) -> str:
        key = str(body.get(c.GROUP_PUBLISH_KEY) or "")
        marketplace = str(body.get(c.GROUP_PUBLISH_MARKETPLACE) or "")
        if marketplace not in c.MARKETPLACES:
            raise EbayError(400, _invalid(c.GROUP_PUBLISH_MARKETPLACE))
        group = self._find_group(key)
        offers = [
            o
            for o in self._offers.values()
            if o[XF.SKU] in group[GF.VARIANT_SKUS]
            and o[XF.MARKETPLACE_ID] == marketplace
            and o[XF.FORMAT] == c.FORMAT_FIXED_PRICE
        ]
        problems: list[Obj] = []
        if not offers:
            problems.append(
                error(
                    c.USER_ERROR,
                    "No offer exists for the SKUs of this inventory item group on this marketplace.",
                    parameters={GF.KEY: key},
                )
            )
        if not group.get(GF.TITLE):
            problems.append(_invalid(GF.TITLE, "The inventory item group needs a title to be published."))
        for offer in offers:
            problems += self._publish_problems(offer, in_group=True)
        if problems:
            raise EbayError(400, *problems)
        existing = next((o.get(XF.LISTING, {}).get(c.LISTING_ID) for o in offers if o.get(XF.LISTING)), None)
        listing_id = str(existing or next(self._listing_ids))
        self._go_live(offers, listing_id, group_key=key)
        return listing_id

    def _publish_problems(self, offer: Obj, *, in_group: bool = False) -> list[Obj]:
        """[DOC] what a live listing needs: a category, a price, the three listing policies, a
        location, and an inventory item with a title, a condition and a picture."""
        where = {XF.OFFER_ID: offer[XF.OFFER_ID]}
        problems = []
        if not str(offer.get(XF.CATEGORY_ID) or "").strip():
            problems.append(
                error(
                    c.INVALID_CATEGORY,
                    "The categoryId is missing or invalid.",
                    parameters={**where, "field": "categoryId"},
                )
            )
        price = _amount(((offer.get(XF.PRICING_SUMMARY) or {}).get(c.PRICE) or {}).get(c.AMOUNT_VALUE))
        if price is None or price <= 0:
            problems.append(
                error(
                    c.INVALID_PRICE,
                    "The price of the offer is missing or not above zero.",
                    parameters={**where, "field": "pricingSummary.price"},
                )
            )
        policies = offer.get(XF.LISTING_POLICIES) or {}
        for policy in c.LISTING_POLICY_IDS:
            if not str(policies.get(policy) or "").strip():
                problems.append(
                    error(
                        c.INVALID_POLICY,
                        f"A valid {policy} is required to publish the offer.",
                        category=c.CATEGORY_BUSINESS,
                        parameters={**where, "field": f"listingPolicies.{policy}"},
                    )
                )
        if not str(offer.get(XF.MERCHANT_LOCATION_KEY) or "").strip():
            problems.append(
                error(
                    c.MISSING_LOCATION,
                    "The merchantLocationKey is required to publish the offer.",
                    parameters={**where, "field": "merchantLocationKey"},
                )
            )
        item = self._items.get(offer[XF.SKU])
        product = (item or {}).get(IF.PRODUCT) or {}
        needs = []
        if item is None:
            needs.append(IF.SKU)
        else:
            if not product.get(PF.TITLE):
                needs.append("product.title")
            if not item.get(IF.CONDITION):
                needs.append("condition")
            if len(product.get(PF.IMAGE_URLS) or []) < c.MIN_IMAGES_TO_PUBLISH and not in_group:
                needs.append("product.imageUrls")
        for field in needs:
            problems.append(
                error(
                    c.INVALID_ITEM,
                    f"The inventory item lacks {field}, which a listing needs.",
                    parameters={"sku": offer[XF.SKU], "field": field},
                )
            )
        return problems

    def _go_live(self, offers: Sequence[Obj], listing_id: str, *, group_key: str | None) -> None:
        revised = listing_id in self._listings
        for offer in offers:
            offer[XF.STATUS] = c.STATUS_PUBLISHED
            sold = (offer.get(XF.LISTING) or {}).get(c.SOLD_QUANTITY, 0)
            offer[XF.LISTING] = {c.LISTING_ID: listing_id, c.LISTING_STATUS: c.LISTING_ACTIVE, c.SOLD_QUANTITY: sold}
        self._listings[listing_id] = {
            c.LISTING_ID: listing_id,
            "offerIds": [o[XF.OFFER_ID] for o in offers],
            GF.KEY: group_key,
        }
        self._publishes.append(
            {
                "offerIds": [o[XF.OFFER_ID] for o in offers],
                "skus": [o[XF.SKU] for o in offers],
                c.LISTING_ID: listing_id,
                XF.MARKETPLACE_ID: offers[0][XF.MARKETPLACE_ID],
                GF.KEY: group_key,
                "revised": revised,
                "at": _stamp(self._now()),
            }
        )

    def _bulk_price_quantity(self, request: Request) -> Response:
        entries = _bulk_requests(_body(request))
        responses: list[Obj] = []
        for entry in entries:
            if not isinstance(entry, dict):
                responses.append({c.STATUS_CODE: 400, c.ERRORS: [_invalid(c.REQUESTS)]})
                continue
            sku = str(entry.get(c.PQ_SKU) or "")
            ship_to = entry.get(c.PQ_SHIP_TO)
            offers = entry.get(c.PQ_OFFERS) or []
            if ship_to is not None:
                responses.append(self._set_ship_to(sku, ship_to))
            for given in offers if isinstance(offers, list) else [None]:
                responses.append(self._set_offer_price_quantity(sku, given))
            if ship_to is None and not offers:
                responses.append({c.PQ_SKU: sku, c.STATUS_CODE: 400, c.ERRORS: [_invalid(c.PQ_OFFERS)]})
        self._price_quantity.extend(copy.deepcopy(responses))
        return _bulk_answer(responses)

    def _set_ship_to(self, sku: str, ship_to: Any) -> Obj:
        answer: Obj = {c.PQ_SKU: sku}
        quantity = ship_to.get(c.QUANTITY) if isinstance(ship_to, dict) else None
        if sku not in self._items:
            problem = error(c.SKU_NOT_FOUND, f"SKU {sku} is not available in the system", parameters={"sku": sku})
            return {**answer, c.STATUS_CODE: 404, c.ERRORS: [problem]}
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            return {**answer, c.STATUS_CODE: 400, c.ERRORS: [_invalid(f"{c.PQ_SHIP_TO}.{c.QUANTITY}")]}
        day = (sku, self._now().date().isoformat())
        if self._revisions.get(day, 0) >= self.revisions_per_day:
            problem = error(
                c.REVISION_LIMIT_REACHED,
                "The listing has reached its revision limit for today.",
                category=c.CATEGORY_BUSINESS,
                long_message=(
                    f"Each listing can be revised up to {self.revisions_per_day} times in one calendar day; "
                    f"SKU {sku} can be revised again tomorrow."
                ),
                parameters={"sku": sku},
            )
            return {**answer, c.STATUS_CODE: 400, c.ERRORS: [problem]}
        self._revisions[day] = self._revisions.get(day, 0) + 1
        self._items[sku][IF.AVAILABILITY] = {c.AVAILABILITY_SHIP_TO: {c.QUANTITY: quantity}}
        return {**answer, c.STATUS_CODE: 200}

    def _set_offer_price_quantity(self, sku: str, given: Any) -> Obj:
        offer_id = str(given.get(c.PQ_OFFER_ID) or "") if isinstance(given, dict) else ""
        answer: Obj = {c.PQ_OFFER_ID: offer_id, c.PQ_SKU: sku}
        offer = self._offers.get(offer_id)
        if offer is None or not isinstance(given, dict) or (sku and offer[XF.SKU] != sku):
            problem = error(c.OFFER_NOT_AVAILABLE, "This Offer is not available.", parameters={XF.OFFER_ID: offer_id})
            return {**answer, c.STATUS_CODE: 404, c.ERRORS: [problem]}
        answer[c.PQ_SKU] = offer[XF.SKU]
        problems = []
        quantity = given.get(c.PQ_AVAILABLE_QUANTITY)
        if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0):
            problems.append(_invalid(c.PQ_AVAILABLE_QUANTITY))
        price = given.get(c.PQ_PRICE)
        value = _amount(price.get(c.AMOUNT_VALUE)) if isinstance(price, dict) else None
        if price is not None and (value is None or value <= 0):
            problems.append(error(c.INVALID_PRICE, "The price must be above zero.", parameters={XF.OFFER_ID: offer_id}))
        if problems:
            return {**answer, c.STATUS_CODE: 400, c.ERRORS: problems}
        if quantity is not None:
            offer[XF.AVAILABLE_QUANTITY] = quantity
        if price is not None:
            offer.setdefault(XF.PRICING_SUMMARY, {})[c.PRICE] = copy.deepcopy(price)
        return {**answer, c.STATUS_CODE: 200}

    # --- Fulfillment API [DOC] ----------------------------------------------------------------------------
    def _fulfillment(self, request: Request, seg: list[str], listing_fault: Fault | None) -> Response:
        method = request.method
        if seg == [c.ORDERS] and method == "GET":
            return self._get_orders(request, listing_fault)
        if len(seg) == 2 and seg[0] == c.ORDERS and method == "GET":
            return Response.json(copy.deepcopy(self._find_order(seg[1])))
        if len(seg) == 3 and seg[0] == c.ORDERS and seg[2] == "shipping_fulfillment":
            if method == "POST":
                return self._create_fulfillment(request, seg[1])
            if method == "GET":
                self._find_order(seg[1])
                listed = copy.deepcopy(self._fulfillments.get(seg[1], []))
                return Response.json({c.SF_FULFILLMENTS: listed, c.SF_TOTAL: len(listed)})
        if len(seg) == 4 and seg[0] == c.ORDERS and seg[2] == "shipping_fulfillment" and method == "GET":
            self._find_order(seg[1])
            for made in self._fulfillments.get(seg[1], []):
                if made[c.SF_FULFILLMENT_ID] == seg[3]:
                    return Response.json(copy.deepcopy(made))
            raise EbayError(
                404,
                error(
                    c.FULFILLMENT_NOT_FOUND,
                    "The fulfillment was not found.",
                    domain=c.DOMAIN_FULFILLMENT,
                    parameters={c.SF_FULFILLMENT_ID: seg[3]},
                ),
            )
        return self._not_found(request)

    def _get_orders(self, request: Request, listing_fault: Fault | None) -> Response:
        query = request.query
        limit = _int_query(query, c.Q_LIMIT, c.DEFAULT_LIMIT, 1, c.MAX_LIMIT, c.DOMAIN_FULFILLMENT)
        offset = _int_query(query, c.Q_OFFSET, 0, 0, None, c.DOMAIN_FULFILLMENT)
        ids = [s.strip() for s in (query.get(c.Q_ORDER_IDS) or "").split(",") if s.strip()]
        if len(ids) > c.MAX_ORDER_IDS:
            raise EbayError(
                400, _invalid(c.Q_ORDER_IDS, f"At most {c.MAX_ORDER_IDS} orderIds.", domain=c.DOMAIN_FULFILLMENT)
            )
        match = _order_filter(query.get(c.Q_FILTER), self._now()) if not ids else None

        def listed() -> list[Obj]:
            orders = [o for o in self._sorted_orders() if o[OF.ORDER_PAYMENT_STATUS] not in c.UNLISTED_PAYMENT_STATUSES]
            if ids:
                return [o for o in orders if o[OF.ORDER_ID] in ids]
            return [o for o in orders if match is None or match(o)]

        if listing_fault is not None:
            self._disturb_listing(listing_fault, listed(), offset)
        matching = listed()
        page_orders = matching[offset : offset + limit]
        page: Obj = {
            c.PageField.HREF: _self_url(request),
            c.PageField.TOTAL: len(matching),
            c.PageField.LIMIT: limit,
            c.PageField.OFFSET: offset,
        }
        if offset > 0:
            page[c.PageField.PREV] = _self_url(request, {c.Q_OFFSET: str(max(0, offset - limit))})
        if offset + limit < len(matching):
            page[c.PageField.NEXT] = _self_url(request, {c.Q_OFFSET: str(offset + limit)})
        page[c.PageField.ORDERS] = [copy.deepcopy(o) for o in page_orders]
        return Response.json(page)

    def _disturb_listing(self, fault: Fault, listed: list[Obj], offset: int) -> None:
        """A listing fault (sandbox.common.Fault), just before a page is served. The listing is newest
        created first, so: ``repeat=n``: n buyers check out now, their orders land at the front and
        every later page starts n earlier (the client meets n orders twice). ``skip=n``: the first n
        orders already served are shipped elsewhere (Seller Hub): FULFILLED, lastModifiedDate now;
        they leave a ``{NOT_STARTED|IN_PROGRESS}`` listing (or a closed lastmodifieddate window), so
        later pages start n later and n orders are jumped over this pass. ``add=n``: n orders whose
        checkout completed late (created before every listed order, modified now) land at the end."""
        template = listed[0] if listed else None
        lines = [_line_row(line) for line in template[OF.LINE_ITEMS]] if template else None
        for _ in range(fault.repeat):
            self.create_order(lines)
        for found in listed[: min(fault.skip, offset)]:
            found[OF.ORDER_FULFILLMENT_STATUS] = c.FULFILLMENT_FULFILLED
            for line in found[OF.LINE_ITEMS]:
                line[LF.LINE_ITEM_FULFILLMENT_STATUS] = c.LINE_FULFILLED
            self._touch(found)
        if fault.add:
            oldest = min((_parse_stamp(o[OF.CREATION_DATE]) for o in listed), default=self._now())
            for n in range(fault.add):
                made = self.create_order(lines, created_at=oldest - ONE_SECOND * (n + 1))
                self._touch(self._orders[made[OF.ORDER_ID]])

    def _create_fulfillment(self, request: Request, order_id: str) -> Response:
        order = self._find_order(order_id)
        body = _body(request, domain=c.DOMAIN_FULFILLMENT)
        if order[OF.CANCEL_STATUS].get(c.CancelField.CANCEL_STATE) == c.CANCEL_CANCELED or order[
            OF.ORDER_PAYMENT_STATUS
        ] not in (c.PAYMENT_PAID, c.PAYMENT_PARTIALLY_REFUNDED):
            raise EbayError(
                400,
                error(
                    c.ORDER_NOT_SHIPPABLE,
                    "The order is cancelled or not paid and cannot be shipped.",
                    domain=c.DOMAIN_FULFILLMENT,
                    category=c.CATEGORY_BUSINESS,
                    parameters={OF.ORDER_ID: order_id},
                ),
            )
        given = body.get(c.SF_LINE_ITEMS)
        if not isinstance(given, list) or not given:
            raise EbayError(400, _invalid(c.SF_LINE_ITEMS, domain=c.DOMAIN_FULFILLMENT))
        lines = {line[LF.LINE_ITEM_ID]: line for line in order[OF.LINE_ITEMS]}
        shipped = self._shipped.setdefault(order_id, {})
        wanted: dict[str, int] = {}
        for entry in given:
            line_id = str(entry.get(c.SF_LINE_ITEM_ID) or "") if isinstance(entry, dict) else ""
            line = lines.get(line_id)
            if line is None:
                raise EbayError(400, _line_error(line_id, "The lineItemId is not one of the order's line items."))
            left = line[LF.QUANTITY] - shipped.get(line_id, 0) - wanted.get(line_id, 0)
            quantity = entry.get(c.SF_QUANTITY, left)
            if not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity <= left:
                raise EbayError(400, _line_error(line_id, f"The quantity must be between 1 and {left} for this line."))
            wanted[line_id] = wanted.get(line_id, 0) + quantity
        shipped_date = body.get(c.SF_SHIPPED_DATE)
        if shipped_date is not None:
            try:
                shipped_at = _parse_time(str(shipped_date))
            except ValueError:
                raise EbayError(400, _invalid(c.SF_SHIPPED_DATE, domain=c.DOMAIN_FULFILLMENT)) from None
        else:
            shipped_at = self._now()
        tracking = str(body.get(c.SF_TRACKING_NUMBER) or "")
        used = {f[c.SF_FULFILLMENT_ID] for f in self._fulfillments.get(order_id, [])}
        fulfillment_id = tracking if tracking and tracking not in used else f"{next(self._fulfillment_ids):022d}"
        made: Obj = {
            c.SF_FULFILLMENT_ID: fulfillment_id,
            c.SF_LINE_ITEMS: [{c.SF_LINE_ITEM_ID: k, c.SF_QUANTITY: v} for k, v in wanted.items()],
            c.SF_SHIPPED_DATE: _stamp(shipped_at),
        }
        if body.get(c.SF_SHIPPING_CARRIER_CODE):
            made[c.SF_SHIPPING_CARRIER_CODE] = str(body[c.SF_SHIPPING_CARRIER_CODE])
        if tracking:
            made[c.SF_SHIPMENT_TRACKING_NUMBER] = tracking
        self._fulfillments.setdefault(order_id, []).append(made)
        self._fulfillment_log.append({OF.ORDER_ID: order_id, **copy.deepcopy(made)})
        for line_id, quantity in wanted.items():
            shipped[line_id] = shipped.get(line_id, 0) + quantity
        for line in order[OF.LINE_ITEMS]:
            done = shipped.get(line[LF.LINE_ITEM_ID], 0)
            line[LF.LINE_ITEM_FULFILLMENT_STATUS] = (
                c.LINE_FULFILLED if done >= line[LF.QUANTITY] else c.LINE_IN_PROGRESS if done else c.LINE_NOT_STARTED
            )
        statuses = {line[LF.LINE_ITEM_FULFILLMENT_STATUS] for line in order[OF.LINE_ITEMS]}
        order[OF.ORDER_FULFILLMENT_STATUS] = (
            c.FULFILLMENT_FULFILLED if statuses == {c.LINE_FULFILLED} else c.FULFILLMENT_IN_PROGRESS
        )
        location = f"{_host_url(request)}{c.FULFILLMENT_BASE}/" + c.SHIPPING_FULFILLMENT.format(
            orderId=order_id, fulfillmentId=fulfillment_id
        )
        order.setdefault(OF.FULFILLMENT_HREFS, []).append(location)
        self._touch(order)
        # [INF] the body is an empty object: eBay documents only the Location header.
        return Response.json({}, c.CREATE_FULFILLMENT_STATUS, headers={c.HEADER_LOCATION: location})

    # --- the order store ---------------------------------------------------------------------------------
    def _find_order(self, order_id: str) -> Obj:
        found = self._orders.get(str(order_id))
        if found is None:
            raise EbayError(
                404,
                error(
                    c.INVALID_ORDER_ID,
                    f"Invalid order ID: {order_id}",
                    domain=c.DOMAIN_FULFILLMENT,
                    parameters={OF.ORDER_ID: order_id},
                ),
            )
        return found

    def _sorted_orders(self) -> list[Obj]:
        return sorted(self._orders.values(), key=lambda o: (o[OF.CREATION_DATE], o[OF.ORDER_ID]), reverse=True)

    def _store_order(self, order: Obj) -> None:
        for key in (OF.CREATION_DATE, OF.LAST_MODIFIED_DATE):
            order[key] = _stamp(_parse_stamp(order[key]))
        self._orders[order[OF.ORDER_ID]] = order
        self._shipped[order[OF.ORDER_ID]] = {
            line[LF.LINE_ITEM_ID]: line[LF.QUANTITY]
            for line in order[OF.LINE_ITEMS]
            if line.get(LF.LINE_ITEM_FULFILLMENT_STATUS) == c.LINE_FULFILLED
        }

    def _touch(self, order: Obj) -> None:
        """[INF] every change moves lastModifiedDate on, to now and at least a second past the last."""
        last = _parse_stamp(order[OF.LAST_MODIFIED_DATE])
        order[OF.LAST_MODIFIED_DATE] = _stamp(max(self._now(), last + ONE_SECOND))

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self._clock(), UTC).replace(microsecond=0)

    # --- /_sandbox/ (beside health, faults and reset) ---------------------------------------------------
    def health(self, request: Request) -> Obj:
        return {
            "ok": True,
            "orders": len(self._orders),
            "inventory_items": len(self._items),
            "offers": len(self._offers),
            "listings": len(self._listings),
        }

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        body = request.json if isinstance(request.json, dict) else {}
        handlers: ControlHandlers = {
            ("GET", "orders"): self.orders,
            ("POST", "orders"): lambda: self.create_order(
                body.get("lines"),
                **{k: v for k, v in body.items() if k in _CONTROL_ORDER_KEYS},
            ),
            ("GET", "inventory_items"): self.inventory_items,
            ("GET", "inventory_item_groups"): self.inventory_item_groups,
            ("GET", "offers"): self.offers,
            ("GET", "publishes"): self.publishes,
            ("GET", "listings"): self.listings,
            ("GET", "fulfillments"): self.fulfillments,
            ("GET", "calls"): self.calls,
            ("POST", "revoke"): self._control_revoke,
            ("POST", "expire_tokens"): self._control_expire,
        }
        rest = action.removeprefix("orders/")
        if rest != action and rest:
            handlers[("GET", action)] = lambda: self.get_order(rest)
            handlers[("POST", action)] = lambda: self.update_order(rest, body)
        return handlers

    def _control_revoke(self) -> Obj:
        self.revoke_refresh_token()
        return {"revoked": True}

    def _control_expire(self) -> Obj:
        self.expire_access_tokens()
        return {"expired": True}

    def _control(self, request: Request) -> Response:
        try:
            return super()._control(request)
        except EbayError as exc:
            return Response.json({"error": str(exc)}, exc.status)

    def _load(self) -> None:
        with self._lock:
            seed = self._seed
            self._refresh_token, self._refresh_revoked = self._seed_refresh_token, False
            self._tokens: dict[str, Obj] = {}
            self._items: dict[str, Obj] = {}
            for item in copy.deepcopy(list(seed.get("inventory_items", []))):
                self._items[str(item[IF.SKU])] = item
            self._groups: dict[str, Obj] = {}
            for group in copy.deepcopy(list(seed.get("inventory_item_groups", []))):
                self._groups[str(group[GF.KEY])] = group
            self._offers: dict[str, Obj] = {}
            for offer in copy.deepcopy(list(seed.get("offers", []))):
                self._offers[str(offer[XF.OFFER_ID])] = offer
            self._offer_ids = itertools.count(
                max([int(k) for k in self._offers if k.isdigit()], default=FIRST_OFFER_ID - 1) + 1
            )
            self._listing_ids = itertools.count(FIRST_LISTING_ID)
            self._listings: dict[str, Obj] = {}
            self._publishes: list[Obj] = []
            self._price_quantity: list[Obj] = []
            self._revisions: dict[tuple[str, str], int] = {}  # (sku, UTC day) -> quantity updates
            self._orders: dict[str, Obj] = {}
            self._shipped: dict[str, dict[str, int]] = {}
            for order in copy.deepcopy(list(seed.get("orders", []))):
                self._store_order(order)
            self._next_sales_record = 1 + max(
                [int(o.get(OF.SALES_RECORD_REFERENCE) or 0) for o in self._orders.values()],
                default=FIRST_SALES_RECORD - 1,
            )
            self._next_line_item_id = 1 + max(
                [int(line[LF.LINE_ITEM_ID]) for o in self._orders.values() for line in o[OF.LINE_ITEMS]],
                default=FIRST_LINE_ITEM_ID - 1,
            )
            self._fulfillments: dict[str, list[Obj]] = {}
            self._fulfillment_log: list[Obj] = []
            self._fulfillment_ids = itertools.count(1)
            self._calls: list[Obj] = []
            self._hits.clear()


_CONTROL_ORDER_KEYS = (
    "payment_status",
    "fulfillment_status",
    "cancel_state",
    "cancelled",
    "email",
    "username",
    "full_name",
    "shipping",
    "handling",
    "ebay_collects_tax",
    "order_id",
)


def serve(
    host: str = "127.0.0.1",
    port: int = 8804,
    *,
    client_id: str,
    client_secret: str,
    refresh_token: str,
    seed: Mapping[str, Any] | None = None,
) -> None:
    """Run a sandbox in the foreground until interrupted (``python -m sandbox.ebay``)."""
    sandbox = EbaySandbox(
        host, port, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token, seed=seed
    )
    log.info("sandbox_listening", partner=c.PARTNER, url=sandbox.url)
    try:
        sandbox.serve_forever()
    except KeyboardInterrupt:
        log.info("sandbox_stopped", partner=c.PARTNER)


# --- building orders ---------------------------------------------------------------------------------
def build_order(
    order_id: str,
    *,
    lines: Sequence[Mapping[str, Any]],
    created_at: datetime,
    modified_at: datetime | None = None,
    payment_status: str = c.PAYMENT_PAID,
    fulfillment_status: str = c.FULFILLMENT_NOT_STARTED,
    cancel_state: str = c.CANCEL_NONE_REQUESTED,
    username: str = "buyer_1001",
    full_name: str = "Sam Buyer",
    email: str | None = AUTO,
    phone: str = "2075550134",
    address: Mapping[str, str] | None = None,
    sales_record: int = FIRST_SALES_RECORD,
    first_line_item_id: int = FIRST_LINE_ITEM_ID,
    shipping: Decimal | str = DEFAULT_SHIPPING,
    handling: Decimal | str = Decimal("0.00"),
    delivery_discount: Decimal | str | None = None,
    tax_rate: Decimal | str = DEFAULT_TAX_RATE,
    ebay_collects_tax: bool = True,
    currency: str = DEFAULT_CURRENCY,
    seller_id: str = DEFAULT_SELLER_ID,
) -> Obj:
    """An order as getOrder answers it, with amounts that add up.

    ``lines``: ``{sku, title, price, quantity?, variation?}`` (price per unit). The first line
    carries the order's ``shipping`` and ``handling`` ([INF] eBay splits them per line; one line is
    enough for the sums). Tax is ``tax_rate`` of each line's cost and delivery. [INF] when eBay
    collects and remits it (the US marketplace-facilitator rule), the tax sits on each line in
    ``ebayCollectAndRemitTaxes`` and in its ``total``, and neither ``pricingSummary.tax`` nor
    ``pricingSummary.total`` nor ``totalDueSeller`` includes it; otherwise it is the seller's, in
    ``taxes`` and in every total. ``email`` None: no e-mail on the buyer's registration address.
    """
    for value, allowed, name in (
        (payment_status, c.PAYMENT_STATUSES, "payment_status"),
        (fulfillment_status, c.FULFILLMENT_STATUSES, "fulfillment_status"),
        (cancel_state, c.CANCEL_STATES, "cancel_state"),
    ):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
    if not lines:
        raise ValueError("an order needs at least one line")
    rate = Decimal(str(tax_rate))
    created = _stamp(created_at)

    def money(value: Decimal) -> Obj:
        return {c.AMOUNT_VALUE: str(_money(value)), c.AMOUNT_CURRENCY: currency}

    items: list[Obj] = []
    sums = {k: Decimal(0) for k in ("cost", "delivery", "tax")}
    line_states = _line_states(fulfillment_status, len(lines))
    for n, row in enumerate(lines):
        quantity = int(row.get("quantity") or 1)
        cost = _money(Decimal(str(row["price"])) * quantity)
        ship = _money(Decimal(str(shipping))) if n == 0 else Decimal("0.00")
        handle = _money(Decimal(str(handling))) if n == 0 else Decimal("0.00")
        tax = _money((cost + ship + handle) * rate)
        line: Obj = {
            LF.LINE_ITEM_ID: str(first_line_item_id + n),
            LF.LEGACY_ITEM_ID: str(FIRST_LISTING_ID + _small_hash(str(row["sku"])) % 1_000_000),
            LF.SKU: str(row["sku"]),
            LF.TITLE: str(row["title"]),
            LF.LINE_ITEM_COST: money(cost),
            LF.QUANTITY: quantity,
            LF.SOLD_FORMAT: c.SOLD_FORMAT_FIXED_PRICE,
            LF.LISTING_MARKETPLACE_ID: DEFAULT_MARKETPLACE,
            LF.PURCHASE_MARKETPLACE_ID: DEFAULT_MARKETPLACE,
            LF.LINE_ITEM_FULFILLMENT_STATUS: line_states[n],
            LF.TOTAL: money(cost + ship + handle + tax),
            LF.DELIVERY_COST: {c.SHIPPING_COST: money(ship), c.HANDLING_COST: money(handle)},
            LF.APPLIED_PROMOTIONS: [],
            LF.TAXES: []
            if ebay_collects_tax
            else [{c.PaymentField.AMOUNT: money(tax), c.TAX_TYPE: c.TAX_TYPE_STATE_SALES_TAX}],
            LF.PROPERTIES: {c.PROPERTY_BUYER_PROTECTION: True},
        }
        if ebay_collects_tax:
            line[LF.EBAY_COLLECT_AND_REMIT_TAXES] = [
                {
                    c.TAX_TYPE: c.TAX_TYPE_STATE_SALES_TAX,
                    c.PaymentField.AMOUNT: money(tax),
                    c.COLLECTION_METHOD: c.COLLECTION_METHOD_NET,
                }
            ]
        if row.get("variation"):
            line[LF.VARIATION_ASPECTS] = [{"name": k, "value": v} for k, v in dict(row["variation"]).items()]
            line[LF.LEGACY_VARIATION_ID] = str(_small_hash(str(row["sku"])) % 10**12)
        items.append(line)
        sums["cost"] += cost
        sums["delivery"] += ship + handle
        sums["tax"] += tax
    discount = _money(Decimal(str(delivery_discount))) if delivery_discount is not None else None
    seller_tax = Decimal("0.00") if ebay_collects_tax else sums["tax"]
    total = sums["cost"] + sums["delivery"] - (discount or 0) + seller_tax
    pricing: Obj = {
        c.PricingField.PRICE_SUBTOTAL: money(sums["cost"]),
        c.PricingField.DELIVERY_COST: money(sums["delivery"]),
        c.PricingField.TAX: money(seller_tax),
        c.PricingField.TOTAL: money(total),
    }
    if discount is not None:
        pricing[c.PricingField.DELIVERY_DISCOUNT] = money(discount)
    contact_address = {
        AF.ADDRESS_LINE1: "41 Wharf Road",
        AF.CITY: "Portland",
        AF.STATE_OR_PROVINCE: "ME",
        AF.POSTAL_CODE: "04101",
        AF.COUNTRY_CODE: "US",
        **dict(address or {}),
    }
    registration: Obj = {
        CF.FULL_NAME: full_name,
        CF.CONTACT_ADDRESS: copy.deepcopy(contact_address),
        CF.PRIMARY_PHONE: {c.PHONE_NUMBER: phone},
    }
    if email == AUTO:
        email = f"{username.replace('_', '.')}@example.com"
    if email:
        registration[CF.EMAIL] = email
    # [INF] the payment's own status: a refunded order's payment was PAID.
    paid = payment_status not in (c.PAYMENT_PENDING, c.PAYMENT_FAILED)
    payment: Obj = {
        c.PaymentField.PAYMENT_METHOD: c.PAYMENT_METHOD_EBAY,
        c.PaymentField.PAYMENT_REFERENCE_ID: f"{_small_hash(order_id):010d}PAY",
        c.PaymentField.AMOUNT: money(total + (sums["tax"] if ebay_collects_tax else 0)),
        c.PaymentField.PAYMENT_STATUS: c.PAYMENT_PAID if paid else payment_status,
    }
    if paid:
        payment[c.PaymentField.PAYMENT_DATE] = created
    refunds = []
    if payment_status == c.PAYMENT_FULLY_REFUNDED:
        refunds.append(
            {
                c.RefundField.REFUND_ID: f"R{_small_hash(order_id):09d}",
                c.RefundField.REFUND_DATE: _stamp(modified_at or created_at),
                c.RefundField.AMOUNT: money(total),
                c.RefundField.REFUND_STATUS: c.REFUND_STATUS_REFUNDED,
            }
        )
    return {
        OF.ORDER_ID: order_id,
        OF.LEGACY_ORDER_ID: f"{items[0][LF.LEGACY_ITEM_ID]}-{first_line_item_id}",
        OF.CREATION_DATE: created,
        OF.LAST_MODIFIED_DATE: _stamp(modified_at or created_at),
        OF.ORDER_FULFILLMENT_STATUS: fulfillment_status,
        OF.ORDER_PAYMENT_STATUS: payment_status,
        OF.SELLER_ID: seller_id,
        OF.BUYER: {
            c.BuyerField.USERNAME: username,
            c.BuyerField.TAX_ADDRESS: {
                AF.STATE_OR_PROVINCE: contact_address[AF.STATE_OR_PROVINCE],
                AF.POSTAL_CODE: contact_address[AF.POSTAL_CODE],
                AF.COUNTRY_CODE: contact_address[AF.COUNTRY_CODE],
            },
            c.BuyerField.BUYER_REGISTRATION_ADDRESS: registration,
        },
        OF.PRICING_SUMMARY: pricing,
        OF.CANCEL_STATUS: {c.CancelField.CANCEL_STATE: cancel_state, c.CancelField.CANCEL_REQUESTS: []},
        OF.PAYMENT_SUMMARY: {
            c.PaymentField.TOTAL_DUE_SELLER: money(total),
            c.PaymentField.PAYMENTS: [payment],
            c.PaymentField.REFUNDS: refunds,
        },
        OF.FULFILLMENT_START_INSTRUCTIONS: [
            {
                c.InstructionField.FULFILLMENT_INSTRUCTIONS_TYPE: c.SHIP_TO_TYPE,
                c.InstructionField.MIN_ESTIMATED_DELIVERY_DATE: _stamp(created_at + timedelta(days=3)),
                c.InstructionField.MAX_ESTIMATED_DELIVERY_DATE: _stamp(created_at + timedelta(days=7)),
                c.InstructionField.EBAY_SUPPORTED_FULFILLMENT: False,
                c.InstructionField.SHIPPING_STEP: {
                    c.InstructionField.SHIP_TO: {
                        CF.FULL_NAME: full_name,
                        CF.CONTACT_ADDRESS: copy.deepcopy(contact_address),
                        CF.PRIMARY_PHONE: {c.PHONE_NUMBER: phone},
                        # [INF] the ship-to e-mail is eBay's relay address, not the buyer's own
                        CF.EMAIL: f"{_small_hash(username):08x}@members.ebay.com",
                    },
                    c.InstructionField.SHIPPING_CARRIER_CODE: "USPS",
                    c.InstructionField.SHIPPING_SERVICE_CODE: "USPSPriority",
                },
            }
        ],
        OF.FULFILLMENT_HREFS: [],
        OF.LINE_ITEMS: items,
        OF.SALES_RECORD_REFERENCE: str(sales_record),
        OF.TOTAL_FEE_BASIS_AMOUNT: money(total),
        OF.TOTAL_MARKETPLACE_FEE: money(total * Decimal("0.13")),
    }


def _line_states(fulfillment_status: str, count: int) -> list[str]:
    """[INF] FULFILLED: every line shipped; IN_PROGRESS: the first of several lines shipped (one
    line: being packed); NOT_STARTED: none."""
    if fulfillment_status == c.FULFILLMENT_FULFILLED:
        return [c.LINE_FULFILLED] * count
    if fulfillment_status == c.FULFILLMENT_IN_PROGRESS:
        if count == 1:
            return [c.LINE_IN_PROGRESS]
        return [c.LINE_FULFILLED] + [c.LINE_NOT_STARTED] * (count - 1)
    return [c.LINE_NOT_STARTED] * count


def _line_row(line: Mapping[str, Any]) -> Obj:
    """The catalog row a stored line was built from (to make another order like it)."""
    quantity = int(line[LF.QUANTITY])
    unit = Decimal(line[LF.LINE_ITEM_COST][c.AMOUNT_VALUE]) / quantity
    return {"sku": line[LF.SKU], "title": line[LF.TITLE], "price": str(_money(unit)), "quantity": quantity}


def _order_id(number: int) -> str:
    """[DOC] eBay order ids look like 12-34567-89012."""
    digits = f"{(number * 7919) % 10**12:012d}"
    return f"{digits[:2]}-{digits[2:7]}-{digits[7:]}"


# --- request reading ------------------------------------------------------------------------------
def _body(request: Request, *, domain: str = c.DOMAIN_INVENTORY) -> Obj:
    if not isinstance(request.json, dict):
        raise EbayError(400, _invalid("request body", "The request body is not a JSON object.", domain=domain))
    return dict(request.json)


def _locale(request: Request) -> str:
    return str(request.headers.get(c.HEADER_CONTENT_LANGUAGE) or "en-US").replace("-", "_")


def _int_query(query: Mapping[str, str], name: str, default: int, low: int, high: int | None, domain: str) -> int:
    text = query.get(name)
    if text in (None, ""):
        return default
    try:
        value = int(str(text))
    except ValueError:
        value = low - 1
    if value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
        error_id = c.INVALID_LIMIT if domain == c.DOMAIN_FULFILLMENT else c.INVALID_VALUE
        raise EbayError(
            400,
            error(error_id, f"The {name} must be an integer {bounds}.", domain=domain, parameters={name: text}),
        )
    return value


def _order_filter(text: str | None, now: datetime) -> Callable[[Obj], bool] | None:
    """[DOC] ``filter`` criteria, comma-separated: ``creationdate:[FROM..TO]``,
    ``lastmodifieddate:[FROM..TO]`` (TO may be left out: up to now), and
    ``orderfulfillmentstatus:{NOT_STARTED|IN_PROGRESS}`` or ``{FULFILLED|IN_PROGRESS}``. No filter:
    the orders created in the last 90 days. [INF] several criteria all apply."""
    if not text:
        low = _stamp(now - timedelta(days=c.DEFAULT_WINDOW_DAYS))
        return lambda o: bool(o[OF.CREATION_DATE] >= low)
    tests: list[Callable[[Obj], bool]] = []
    for criterion in _split_filter(text):
        name, sep, value = criterion.partition(":")
        name = name.strip().lower()
        value = value.strip()
        if sep and name in (c.FILTER_CREATIONDATE, c.FILTER_LASTMODIFIEDDATE):
            tests.append(
                _date_test(OF.CREATION_DATE if name == c.FILTER_CREATIONDATE else OF.LAST_MODIFIED_DATE, value)
            )
        elif sep and name == c.FILTER_ORDERFULFILLMENTSTATUS:
            if value not in c.FULFILLMENT_FILTERS:
                raise EbayError(400, _filter_error(criterion))
            tests.append(_status_test(frozenset(value.strip("{}").split("|"))))
        else:
            raise EbayError(400, _filter_error(criterion))
    return lambda o: all(test(o) for test in tests)


def _status_test(wanted: frozenset[str]) -> Callable[[Obj], bool]:
    return lambda o: o[OF.ORDER_FULFILLMENT_STATUS] in wanted


def _split_filter(text: str) -> list[str]:
    """Criteria split at the commas outside [..] and {..}."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def _date_test(key: str, value: str) -> Callable[[Obj], bool]:
    if not (value.startswith("[") and value.endswith("]") and ".." in value):
        raise EbayError(400, _filter_error(value))
    start_text, _, end_text = value[1:-1].partition("..")
    try:
        low = _stamp(_parse_time(start_text))
        high = _stamp(_parse_time(end_text)) if end_text.strip() else None
    except ValueError:
        raise EbayError(400, _filter_error(value)) from None
    return lambda o: bool(low <= o[key] and (high is None or o[key] <= high))


def _filter_error(criterion: str) -> Obj:
    return error(
        c.INVALID_FILTER,
        "Invalid filter value.",
        domain=c.DOMAIN_FULFILLMENT,
        long_message=f"The filter criterion {criterion!r} cannot be read.",
        parameters={"filter": criterion},
    )


def _bulk_requests(body: Obj) -> list[Any]:
    entries = body.get(c.REQUESTS)
    if not isinstance(entries, list) or not entries:
        raise EbayError(400, _invalid(c.REQUESTS, "The requests array is missing or empty."))
    if len(entries) > c.MAX_BULK:
        raise EbayError(
            400, _invalid(c.REQUESTS, f"A bulk call takes at most {c.MAX_BULK} requests, not {len(entries)}.")
        )
    return entries


def _bulk_answer(responses: list[Obj]) -> Response:
    ok = all(r[c.STATUS_CODE] == 200 for r in responses)
    return Response.json({c.RESPONSES: responses}, c.BULK_ALL_OK if ok else c.BULK_MULTI_STATUS)


# --- validation -------------------------------------------------------------------------------------
def _item_problems(sku: str, body: Mapping[str, Any]) -> list[Obj]:
    """[DOC] the limits of an inventory item: SKU <= 50, title <= 80, description <= 500,000,
    at most 24 images, a known condition, a whole quantity >= 0. [INF] https image URLs."""
    problems = []
    if not sku or len(sku) > c.SKU_MAX_CHARS:
        problems.append(_invalid(IF.SKU, f"The SKU must have 1 to {c.SKU_MAX_CHARS} characters."))
    product = body.get(IF.PRODUCT)
    if product is not None and not isinstance(product, dict):
        problems.append(_invalid(IF.PRODUCT))
        product = None
    product = product or {}
    title = product.get(PF.TITLE)
    if title is not None and (not isinstance(title, str) or len(title) > c.TITLE_MAX_CHARS):
        problems.append(_invalid("product.title", f"The title may have at most {c.TITLE_MAX_CHARS} characters."))
    description = product.get(PF.DESCRIPTION)
    if description is not None and (not isinstance(description, str) or len(description) > c.DESCRIPTION_MAX_CHARS):
        problems.append(_invalid("product.description"))
    problems += _image_problems(product.get(PF.IMAGE_URLS), "product.imageUrls")
    aspects = product.get(PF.ASPECTS)
    if aspects is not None and not (
        isinstance(aspects, dict)
        and all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in aspects.values())
    ):
        problems.append(_invalid("product.aspects", "Aspects map a name to a list of values."))
    condition = body.get(IF.CONDITION)
    if condition is not None and condition not in c.CONDITIONS:
        problems.append(_invalid(IF.CONDITION))
    availability = body.get(IF.AVAILABILITY)
    if availability is not None:
        ship_to = availability.get(c.AVAILABILITY_SHIP_TO) if isinstance(availability, dict) else None
        quantity = ship_to.get(c.QUANTITY) if isinstance(ship_to, dict) else None
        if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
            problems.append(_invalid("availability.shipToLocationAvailability.quantity"))
    return problems


def _image_problems(urls: Any, field: str) -> list[Obj]:
    if urls is None:
        return []
    if not isinstance(urls, list) or not all(isinstance(u, str) and u.startswith("https://") for u in urls):
        return [_invalid(field, "Image URLs must be a list of https URLs.")]
    if len(urls) > c.MAX_IMAGES:
        return [_invalid(field, f"At most {c.MAX_IMAGES} images, not {len(urls)}.")]
    return []


def _is_spec(spec: Any) -> bool:
    return (
        isinstance(spec, dict)
        and isinstance(spec.get(c.SPEC_NAME), str)
        and isinstance(spec.get(c.SPEC_VALUES), list)
        and bool(spec[c.SPEC_VALUES])
    )


def _offer_problems(body: Mapping[str, Any]) -> list[Obj]:
    """[DOC] createOffer needs sku, marketplaceId and format; [INF] the rest is checked at publish,
    except values that cannot be read."""
    problems = []
    if not str(body.get(XF.SKU) or ""):
        problems.append(_invalid(XF.SKU, "The sku is required."))
    if body.get(XF.MARKETPLACE_ID) not in c.MARKETPLACES:
        problems.append(_invalid(XF.MARKETPLACE_ID))
    if body.get(XF.FORMAT) not in c.FORMATS:
        problems.append(_invalid(XF.FORMAT))
    quantity = body.get(XF.AVAILABLE_QUANTITY)
    if quantity is not None and (not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0):
        problems.append(_invalid(XF.AVAILABLE_QUANTITY))
    pricing = body.get(XF.PRICING_SUMMARY)
    if pricing is not None:
        price = pricing.get(c.PRICE) if isinstance(pricing, dict) else None
        if price is not None and (not isinstance(price, dict) or _amount(price.get(c.AMOUNT_VALUE)) is None):
            problems.append(_invalid("pricingSummary.price"))
    return problems


# --- helpers ---------------------------------------------------------------------------------------
def _token_error() -> Obj:
    return error(
        c.INVALID_ACCESS_TOKEN,
        c.INVALID_ACCESS_TOKEN_MESSAGE,
        domain=c.DOMAIN_OAUTH,
        long_message=c.INVALID_ACCESS_TOKEN_LONG,
    )


def _unauthorized() -> Response:
    return _error_response(401, _token_error())


def _error_response(status: int, *errors: Obj, headers: Mapping[str, str] | None = None) -> Response:
    return Response.json({c.ERRORS: list(errors)}, status, headers=headers)


def _oauth_error(status: int, code: str, description: str) -> Response:
    return Response.json({c.ERROR: code, c.ERROR_DESCRIPTION: description}, status)


def _line_error(line_id: str, message: str) -> Obj:
    return error(c.INVALID_LINE_ITEM, message, domain=c.DOMAIN_FULFILLMENT, parameters={c.SF_LINE_ITEM_ID: line_id})


def _is_order_listing(request: Request) -> bool:
    """A page of getOrders: the requests a listing fault disturbs."""
    return request.method == "GET" and request.path.rstrip("/") == f"{c.FULFILLMENT_BASE}/{c.ORDERS}"


def _host_url(request: Request) -> str:
    return f"http://{request.headers.get('Host') or '127.0.0.1'}"


def _self_url(request: Request, changes: Mapping[str, str] | None = None) -> str:
    """[DOC] href / next / prev: the full URL of the call, with ``changes`` to its query."""
    query = dict(request.query)
    query.update(changes or {})
    text = urlencode(query, safe=":[].,{}|")
    return f"{_host_url(request)}{request.path}" + (f"?{text}" if text else "")


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime(c.TIME_FORMAT)


def _parse_stamp(text: Any) -> datetime:
    return _parse_time(str(text or ""))


def _parse_time(text: str) -> datetime:
    """[DOC] ISO 8601 UTC with milliseconds (2015-08-04T19:09:02.768Z); [INF] also without them,
    or with an offset. To the second."""
    value = text.strip()
    if not value:
        raise ValueError("empty timestamp")
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0)


def _amount(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None and str(value).strip() else None
    except InvalidOperation:
        return None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(CENTS, rounding=ROUND_HALF_UP)


def _small_hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big") % 1_000_000_000


def _stored_item(sku: str, body: Mapping[str, Any], locale: str) -> Obj:
    stored = {
        k: copy.deepcopy(v) for k, v in body.items() if k not in (IF.SKU, IF.GROUP_IDS, IF.INVENTORY_ITEM_GROUP_KEYS)
    }
    return {IF.SKU: sku, IF.LOCALE: locale, **stored}
