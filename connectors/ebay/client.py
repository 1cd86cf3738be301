"""eBay Sell APIs client (Inventory and Fulfillment): CRUD verbs over HTTP, nothing about the ERP.

Like the other partner clients (an OCA backend adapter), this class knows eBay's URLs, its OAuth,
its answers and nothing else: building an inventory item from a style is the catalog service's
job, reading an order into Bobbin's shapes ``mapper.py``'s. Every name on the wire comes from
``contract.py``.

OAuth [DOC]: the seller grants Bobbin access once (eBay's consent page) and the site keeps the
refresh token that grant gave. The client trades it for a two-hour access token (the refresh-token
grant, HTTP Basic auth of the app's client id and secret), keeps the token until shortly before it
expires, and trades again. A call answered 401 (errorId 1001, the token expired or was revoked
early) gets a new token and is sent once more; a second 401 is an AuthError. A refresh token eBay
no longer honours (400 ``invalid_grant``: revoked by the seller, expired after some 18 months)
cannot be mended by retrying: it raises AuthError at once, saying the seller must grant access
again. The client id, secret, refresh token and every access token are registered as secrets.

Failures follow ``connectors.errors``: the HTTP layer (``connectors.http``) retries 5xx and 429;
this module puts eBay's own error envelope (errorId, message, longMessage, parameters) into the
message and says what a person should do. Writes carry ``Content-Language`` [DOC]. A write that is
not safe to repeat (createOffer, publishOffer, publishOfferByInventoryItemGroup,
createShippingFulfillment) is not sent again after a lost answer (``OutcomeUnknown``): the caller
reads eBay first (``get_offers``, ``shipping_fulfillments``). The create-or-replace PUTs and the
bulk calls that set absolute values are safe to repeat and are retried.

Each write names exactly one record (or, for the bulk calls, the SKUs listed) and its answer is
checked against that: an offer read for one SKU that comes back for another, a bulk answer about
a SKU not asked, an order read back under another id, a fulfilment created on another order —
each is a ``ContractViolation`` and nothing is taken as done.
"""

from __future__ import annotations

import json as jsonlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, unquote, urljoin, urlsplit

import requests
import structlog
from requests.auth import HTTPBasicAuth

from connectors.ebay import contract as c
from connectors.errors import AuthError, ContractViolation, PartnerError, PartnerRejected
from connectors.http import DEFAULT_POLICY, HttpPolicy, PartnerClient, json_body, send
from core.logging import register_secret

log = structlog.get_logger()

Json = dict[str, Any]
# How much of eBay's message goes into an exception's text (the whole answer stays on .value).
MESSAGE_EXCERPT_CHARS = 300
EF = c.ErrorField


@dataclass(frozen=True)
class EbayError:
    """One entry of eBay's ``errors`` (or ``warnings``) list [DOC ErrorDetailV3]."""

    error_id: int | None
    message: str | None = None
    long_message: str | None = None
    domain: str | None = None
    category: str | None = None
    parameters: tuple[tuple[str, str], ...] = ()

    def parameter(self, name: str) -> str | None:
        return next((value for key, value in self.parameters if key == name), None)

    def describe(self) -> str:
        parts = [f"errorId {self.error_id}" if self.error_id is not None else "error"]
        said = self.message or ""
        if self.long_message and self.long_message != self.message:
            said = f"{said} ({self.long_message})" if said else self.long_message
        if said:
            parts.append(said[:MESSAGE_EXCERPT_CHARS])
        text = ": ".join(parts)
        if self.parameters:
            text += " [" + ", ".join(f"{k}={v}" for k, v in self.parameters) + "]"
        return text


class EbayRejected(PartnerRejected):
    """eBay refused a request with its error envelope; ``errors`` are its entries."""

    def __init__(self, message: str, *, errors: Sequence[EbayError] = (), **kw: Any) -> None:
        super().__init__(message, **kw)
        self.errors = tuple(errors)

    @property
    def error_ids(self) -> tuple[int, ...]:
        return tuple(e.error_id for e in self.errors if e.error_id is not None)

    def parameter(self, name: str) -> str | None:
        """The first value of a named parameter in any error (e.g. the existing ``offerId``)."""
        return next((v for e in self.errors if (v := e.parameter(name)) is not None), None)


@dataclass(frozen=True)
class BulkResult:
    """One entry of a bulk call's ``responses`` [DOC]: the SKU (and offer) it is about, its own
    HTTP status, and its errors and warnings. ``ok`` when eBay applied it."""

    sku: str
    status_code: int | None
    offer_id: str | None = None
    errors: tuple[EbayError, ...] = ()
    warnings: tuple[EbayError, ...] = ()

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300 and not self.errors


@dataclass(frozen=True)
class OrdersPage:
    """One answer of getOrders: the orders as received (the mapper judges them), eBay's ``total``
    and the ``next`` URI (None on the last page)."""

    orders: list[Any]
    total: int | None
    offset: int
    limit: int
    next_url: str | None = None

    @property
    def last(self) -> bool:
        return self.next_url is None


@dataclass
class _Token:
    value: str | None = None
    usable_until: float = 0.0
    refreshes: int = field(default=0)


class EbayClient(PartnerClient):
    """One seller's eBay account. ``base_url`` is the API host, e.g. ``https://api.ebay.com``."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        client_secret: str,
        refresh_token: str,
        scopes: Sequence[str] = c.DEFAULT_SCOPES,
        content_language: str = c.DEFAULT_CONTENT_LANGUAGE,
        policy: HttpPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        session: requests.Session | None = None,
    ) -> None:
        missing = [
            name
            for name, value in (
                ("client_id", client_id),
                ("client_secret", client_secret),
                ("refresh_token", refresh_token),
            )
            if not value
        ]
        if missing:
            advice = c.CONSENT_ADVICE if missing == ["refresh_token"] else "enter the eBay app's keys on the site"
            raise AuthError(f"eBay site has no {', '.join(missing)}: {advice}", partner=c.PARTNER)
        super().__init__(base_url, policy, session, sleep)
        for secret in (client_id, client_secret, refresh_token):
            register_secret(secret)
        self._app_auth = HTTPBasicAuth(client_id, client_secret)
        self._refresh_token = refresh_token
        self.scopes = tuple(scopes)
        self.content_language = content_language
        self._clock = clock
        self._token = _Token()
        self._last_response: requests.Response | None = None

    # --- OAuth [DOC] ---------------------------------------------------------------------------
    @property
    def token_refreshes(self) -> int:
        """How many access tokens this client has minted (for tests and logs)."""
        return self._token.refreshes

    def access_token(self) -> str:
        """A token good for the next call: the one held, or a new one when it is about to expire."""
        if self._token.value is None or self._clock() >= self._token.usable_until:
            self._refresh()
        assert self._token.value is not None
        return self._token.value

    def _refresh(self) -> None:
        where = f"POST /{c.TOKEN_PATH}"
        form = {
            c.GRANT_TYPE: c.GRANT_REFRESH_TOKEN,
            c.REFRESH_TOKEN: self._refresh_token,
            c.SCOPE: " ".join(self.scopes),
        }
        self._token.value = None
        try:
            # Safe to repeat: a lost answer only leaves an unused token behind.
            response = send(
                self._session,
                "POST",
                self.base_url + c.TOKEN_PATH,
                policy=self.policy,
                sleep=self._sleep,
                idempotent=True,
                auth=self._app_auth,
                data=form,
                headers={"Content-Type": c.FORM_CONTENT_TYPE, "Accept": c.JSON_CONTENT_TYPE},
                hooks={"response": [self._keep]},
            )
        except (AuthError, PartnerRejected) as exc:
            raise self._grant_refused(exc, where) from None
        body = self._json(response, where)
        token = body.get(c.T_ACCESS_TOKEN) if isinstance(body, dict) else None
        seconds = body.get(c.T_EXPIRES_IN) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ContractViolation(
                f"eBay answered {where} without an {c.T_ACCESS_TOKEN}", request=where, answer=_excerpt(body)
            )
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
            seconds = c.ACCESS_TOKEN_SECONDS  # [INF] eBay's documented lifetime when the answer omits it
        register_secret(token)
        margin = min(c.REFRESH_MARGIN_SECONDS, float(seconds) / 2)
        self._token.value = token
        self._token.usable_until = self._clock() + float(seconds) - margin
        self._token.refreshes += 1
        log.info("ebay_token_refreshed", expires_in=seconds, refreshes=self._token.refreshes)

    def _grant_refused(self, exc: AuthError | PartnerRejected, where: str) -> PartnerError:
        body = self._last_json()
        error = body.get(c.OAUTH_ERROR) if isinstance(body, dict) else None
        description = body.get(c.OAUTH_ERROR_DESCRIPTION) if isinstance(body, dict) else None
        said = ": ".join(str(p) for p in (f"HTTP {exc.status}", error, description) if p)
        if error == c.INVALID_GRANT:
            return AuthError(
                f"eBay refused the site's refresh token ({said}): {c.CONSENT_ADVICE}",
                status=exc.status,
                value=_excerpt(body),
                partner=c.PARTNER,
            )
        if isinstance(exc, AuthError) or error == c.INVALID_CLIENT:
            return AuthError(
                f"eBay refused the app's keys ({said}): check the site's eBay client id and client secret",
                status=exc.status,
                value=_excerpt(body),
                partner=c.PARTNER,
            )
        return PartnerRejected(
            f"eBay refused {where} ({said})", status=exc.status, value=_excerpt(body), partner=c.PARTNER
        )

    # --- Inventory items and groups [DOC] ----------------------------------------------------
    def put_inventory_item(self, sku: str, item: Mapping[str, Any]) -> list[EbayError]:
        """createOrReplaceInventoryItem for one SKU; returns eBay's warnings (empty on 204)."""
        sku = _sku(sku)
        _check_images(item, f"inventory item {sku}")
        path = c.INVENTORY_ITEM.format(sku=quote(sku, safe=""))
        response = self._call("PUT", path, json=dict(item), write=True)
        return _warnings(self._maybe_json(response))

    def bulk_create_or_replace_inventory_items(self, items: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        """bulkCreateOrReplaceInventoryItem: at most 25 items (each with its ``sku``); one result
        per SKU. Safe to repeat (each item replaced as a whole)."""
        skus = _bulk_skus(items, "inventory item")
        for item, sku in zip(items, skus, strict=True):
            _check_images(item, f"inventory item {sku}")
        path = c.BULK_INVENTORY_ITEM
        response = self._call("POST", path, json={c.REQUESTS: [dict(i) for i in items]}, write=True, idempotent=True)
        return _bulk_results(self._json(response, f"POST /{path}"), skus, f"POST /{path}", offers=None)

    def put_inventory_item_group(self, key: str, group: Mapping[str, Any]) -> list[EbayError]:
        """createOrReplaceInventoryItemGroup: a style's colours and sizes as one group."""
        key = _key(key, "inventory item group key")
        _check_images(group, f"inventory item group {key}")
        path = c.INVENTORY_ITEM_GROUP.format(inventoryItemGroupKey=quote(key, safe=""))
        response = self._call("PUT", path, json=dict(group), write=True)
        return _warnings(self._maybe_json(response))

    # --- Offers [DOC] ------------------------------------------------------------------------
    def create_offer(self, offer: Mapping[str, Any]) -> str:
        """createOffer for the offer's ``sku``; returns the new offerId. Not repeated after a
        lost answer: read :meth:`get_offers` for the SKU first. eBay refuses a second offer for a
        SKU on the same marketplace (errorId 25002, the existing id in the error's parameters:
        :meth:`EbayRejected.parameter` ``("offerId")``)."""
        _sku(offer.get(c.OfferField.SKU))
        path = c.OFFERS
        response = self._call("POST", path, json=dict(offer), write=True, idempotent=False)
        return _answer_id(self._json(response, f"POST /{path}"), c.OfferField.OFFER_ID, f"POST /{path}")

    def update_offer(self, offer_id: str, offer: Mapping[str, Any]) -> list[EbayError]:
        """updateOffer: replaces the whole offer (published: the live listing changes too)."""
        oid = _key(offer_id, "offer id")
        path = c.OFFER.format(offerId=quote(oid, safe=""))
        response = self._call("PUT", path, json=dict(offer), write=True)
        return _warnings(self._maybe_json(response))

    def get_offers(self, sku: str, marketplace_id: str | None = None) -> list[Json]:
        """getOffers for one SKU: its offers (none: an empty list). Each must be for the SKU asked."""
        sku = _sku(sku)
        params = {c.P_SKU: sku}
        if marketplace_id:
            params[c.P_MARKETPLACE_ID] = marketplace_id
        where = f"GET /{c.OFFERS}"
        try:
            response = self._call("GET", c.OFFERS, params=params)
        except EbayRejected as exc:
            # [INF] eBay answers 404 errorId 25713 for a SKU that has no offer yet; a SKU with no
            # inventory item at all (25702) stays an error: the item is what is missing.
            if exc.status == c.STATUS_NOT_FOUND and c.ERROR_OFFER_NOT_AVAILABLE in exc.error_ids:
                return []
            raise
        body = self._json(response, where)
        offers = body.get(c.R_OFFERS, []) if isinstance(body, dict) else None
        if not isinstance(offers, list) or not all(isinstance(o, dict) for o in offers):
            raise ContractViolation(
                f"eBay answered {where} without an offers list", request=where, answer=_excerpt(body)
            )
        strangers = [o for o in offers if o.get(c.OfferField.SKU) != sku]
        if strangers:
            raise ContractViolation(
                f"eBay answered {where} for SKU {sku} with offers for another SKU "
                f"({', '.join(sorted({str(o.get(c.OfferField.SKU)) for o in strangers}))})",
                request=f"{where}?sku={sku}",
                answer=_excerpt(body),
                records=list(offers),
                partner=c.PARTNER,
            )
        return offers

    def publish_offer(self, offer_id: str) -> str:
        """publishOffer: the offer becomes a live listing; returns its listingId. Not repeated
        after a lost answer (read the offer's ``status`` / ``listing`` first)."""
        oid = _key(offer_id, "offer id")
        path = c.OFFER_PUBLISH.format(offerId=quote(oid, safe=""))
        response = self._call("POST", path, write=True, idempotent=False)
        return _answer_id(self._json(response, f"POST /{path}"), c.OfferField.LISTING_ID, f"POST /{path}")

    def publish_by_inventory_item_group(self, key: str, marketplace_id: str = c.DEFAULT_MARKETPLACE) -> str:
        """publishOfferByInventoryItemGroup: every unpublished offer of the group becomes one
        multiple-variation listing; returns its listingId."""
        key = _key(key, "inventory item group key")
        body = {c.PUBLISH_GROUP_KEY: key, c.PUBLISH_MARKETPLACE_ID: marketplace_id}
        path = c.PUBLISH_BY_GROUP
        response = self._call("POST", path, json=body, write=True, idempotent=False)
        return _answer_id(self._json(response, f"POST /{path}"), c.OfferField.LISTING_ID, f"POST /{path}")

    def bulk_update_price_quantity(self, updates: Sequence[Mapping[str, Any]]) -> list[BulkResult]:
        """bulkUpdatePriceQuantity: at most 25 SKUs, each with its ship-to-home quantity and/or
        its published offers' price and quantity; one result per SKU or offer. Safe to repeat
        (absolute values)."""
        skus = _bulk_skus(updates, "price/quantity update")
        offers: dict[str, set[str]] = {}
        for update, sku in zip(updates, skus, strict=True):
            listed = update.get(c.PriceQuantityField.OFFERS) or []
            offers[sku] = {str(o.get(c.PriceQuantityField.OFFER_ID)) for o in listed if isinstance(o, Mapping)}
        path = c.BULK_PRICE_QUANTITY
        response = self._call("POST", path, json={c.REQUESTS: [dict(u) for u in updates]}, write=True, idempotent=True)
        return _bulk_results(self._json(response, f"POST /{path}"), skus, f"POST /{path}", offers=offers)

    def inventory_skus(self) -> set[str]:
        """getInventoryItems, every page: the SKUs the seller holds as inventory items (only those
        take a quantity). 200 records a page [DOC max]; eBay's ``next`` URI is followed (its offset
        is documented as a page number, so none is computed here)."""
        path = c.INVENTORY_ITEMS
        where = f"GET /{path}"
        response = self._call("GET", path, params={c.P_LIMIT: str(c.INVENTORY_ITEMS_MAX_LIMIT)})
        skus: set[str] = set()
        seen: set[str] = set()
        while True:
            body = self._json(response, where)
            items = body.get(c.INVENTORY_ITEMS_KEY, []) if isinstance(body, dict) else None  # [INF] absent: none
            if not isinstance(items, list):
                raise ContractViolation(
                    f"eBay answered {where} without an {c.INVENTORY_ITEMS_KEY} list",
                    request=where,
                    answer=_excerpt(body),
                    partner=c.PARTNER,
                )
            skus.update(str(i[c.ItemField.SKU]) for i in items if isinstance(i, dict) and i.get(c.ItemField.SKU))
            next_url = _get(body, c.R_NEXT)
            if not items or not isinstance(next_url, str) or not next_url.strip():
                return skus
            url = self._same_origin(next_url.strip())
            if url in seen:
                raise ContractViolation(
                    f"eBay's {where} 'next' points at a page already read", request=url, partner=c.PARTNER
                )
            seen.add(url)
            response = self._call_url("GET", url)

    # --- Orders [DOC] ------------------------------------------------------------------------
    def orders_page(
        self,
        modified_from: datetime,
        modified_to: datetime | None = None,
        *,
        limit: int = c.REQUESTED_LIMIT,
        offset: int = 0,
        fulfillment_statuses: Sequence[str] = (),
    ) -> OrdersPage:
        """One page of getOrders over orders last modified in ``[modified_from, modified_to]``
        (open-ended when ``modified_to`` is None). eBay leaves out purchases still awaiting
        up-front payment [DOC]."""
        if not 1 <= limit <= c.MAX_LIMIT:
            raise ValueError(f"eBay's getOrders takes a limit of 1..{c.MAX_LIMIT}, not {limit}")
        if offset < 0:
            raise ValueError("an offset is not negative")
        params = {
            c.P_FILTER: c.modified_filter(modified_from, modified_to, tuple(fulfillment_statuses)),
            c.P_LIMIT: str(limit),
            c.P_OFFSET: str(offset),
        }
        response = self._call("GET", c.ORDERS, params=params)
        return _orders_page(self._json(response, f"GET /{c.ORDERS}"), offset, limit, f"GET /{c.ORDERS}")

    def iter_order_pages(
        self,
        modified_from: datetime,
        modified_to: datetime | None = None,
        *,
        limit: int = c.REQUESTED_LIMIT,
        fulfillment_statuses: Sequence[str] = (),
    ) -> Iterator[OrdersPage]:
        """Every page, following eBay's ``next`` URI until there is none. Offset paging over a
        changing list may skip or repeat an order modified meanwhile: the caller reads from its
        cursor minus a margin again next time (orders are staged by id)."""
        page = self.orders_page(
            modified_from, modified_to, limit=limit, offset=0, fulfillment_statuses=fulfillment_statuses
        )
        seen: set[str] = set()
        while True:
            yield page
            if page.next_url is None or not page.orders:
                return
            url = self._same_origin(page.next_url)
            if url in seen:
                raise ContractViolation(
                    "eBay's getOrders 'next' points at a page already read", request=url, partner=c.PARTNER
                )
            seen.add(url)
            response = self._call_url("GET", url)
            offset, limit_ = _query_int(url, c.P_OFFSET, page.offset + page.limit), _query_int(url, c.P_LIMIT, limit)
            page = _orders_page(self._json(response, f"GET /{c.ORDERS}"), offset, limit_, f"GET /{c.ORDERS}")

    def get_order(self, order_id: str) -> Json:
        """getOrder: one order, which must be the one asked."""
        oid = _key(order_id, "order id")
        path = c.ORDER.format(orderId=quote(oid, safe=""))
        body = self._json(self._call("GET", path), f"GET /{path}")
        if not isinstance(body, dict) or body.get(c.OrderField.ORDER_ID) != oid:
            raise ContractViolation(
                f"eBay answered GET /{path} with another order ({_excerpt(_get(body, c.OrderField.ORDER_ID))})",
                request=f"GET /{path}",
                answer=_excerpt(body),
                partner=c.PARTNER,
            )
        return body

    # --- Shipping fulfilments [DOC] ----------------------------------------------------------
    def create_shipping_fulfillment(
        self,
        order_id: str,
        line_items: Mapping[str, int],
        carrier: str,
        tracking_number: str,
        shipped_at: datetime,
    ) -> str:
        """createShippingFulfillment: one package of an order (``{lineItemId: quantity}``) with its
        carrier code and tracking number; returns the fulfillmentId eBay's Location names. Not
        repeated after a lost answer: read :meth:`shipping_fulfillments` first."""
        oid = _key(order_id, "order id")
        if not line_items:
            raise ValueError("a shipping fulfilment names at least one line item")
        for line_id, quantity in line_items.items():
            _key(line_id, "line item id")
            if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
                raise ValueError(f"line item {line_id}: the quantity shipped is a whole number above 0")
        S = c.ShipmentField
        body = {
            S.LINE_ITEMS: [{S.LINE_ITEM_ID: k, S.QUANTITY: q} for k, q in line_items.items()],
            S.SHIPPED_DATE: c.timestamp(shipped_at),
            S.SHIPPING_CARRIER_CODE: _key(carrier, "carrier code"),
            S.TRACKING_NUMBER: _key(tracking_number, "tracking number"),
        }
        path = c.SHIPPING_FULFILLMENTS.format(orderId=quote(oid, safe=""))
        where = f"POST /{path}"
        response = self._call("POST", path, json=body, write=True, idempotent=False)
        location = response.headers.get(c.HEADER_LOCATION)
        if location:
            prefix, _, fulfillment_id = urlsplit(location).path.rstrip("/").rpartition("/")
            if unquote(prefix).endswith("/" + c.SHIPPING_FULFILLMENTS.format(orderId=oid)) and fulfillment_id:
                return unquote(fulfillment_id)
            raise ContractViolation(
                f"eBay answered {where} with a Location for another order or no fulfilment: {location[:200]}",
                request=where,
                answer=location[:200],
                partner=c.PARTNER,
            )
        answer = self._maybe_json(response)  # [INF] an answer body with the id, when no Location
        return _answer_id(answer, S.FULFILLMENT_ID, where)

    def shipping_fulfillments(self, order_id: str) -> list[Json]:
        """getShippingFulfillments: the packages already recorded for one order."""
        oid = _key(order_id, "order id")
        path = c.SHIPPING_FULFILLMENTS.format(orderId=quote(oid, safe=""))
        body = self._json(self._call("GET", path), f"GET /{path}")
        found = body.get(c.R_FULFILLMENTS, []) if isinstance(body, dict) else None
        if not isinstance(found, list):
            raise ContractViolation(
                f"eBay answered GET /{path} without a fulfillments list", request=f"GET /{path}", answer=_excerpt(body)
            )
        return [f for f in found if isinstance(f, dict)]

    # --- transport ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self._call_url(method, self.base_url + path, **kwargs)

    def _call_url(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        write: bool = False,
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one call with a good token; on 401 get a new token and send it once more. eBay's
        refusals are reworded with its error envelope."""
        where = f"{method} {urlsplit(url).path}"
        for attempt in (1, 2):
            headers = {
                c.HEADER_AUTHORIZATION: f"{c.BEARER} {self.access_token()}",
                "Accept": c.JSON_CONTENT_TYPE,
            }
            if json is not None:
                headers["Content-Type"] = c.JSON_CONTENT_TYPE
            if write:
                headers[c.HEADER_CONTENT_LANGUAGE] = self.content_language
            kwargs: dict[str, Any] = {"headers": headers, "hooks": {"response": [self._keep]}}
            if params is not None:
                kwargs["params"] = dict(params)
            if json is not None:
                kwargs["json"] = json
            try:
                return send(
                    self._session,
                    method,
                    url,
                    policy=self.policy,
                    sleep=self._sleep,
                    idempotent=idempotent,
                    **kwargs,
                )
            except AuthError as exc:
                errors = _errors(self._last_json())
                if exc.status == c.STATUS_UNAUTHORIZED and attempt == 1:
                    # A 401 means eBay did not act on the call: safe to send again with a new token.
                    # Any 401, not only errorId 1001 (token expired): eBay acted on nothing either way.
                    log.info(
                        "ebay_token_refused",
                        request=where,
                        expired=any(e.error_id == c.ERROR_INVALID_TOKEN for e in errors),
                        error_ids=[e.error_id for e in errors],
                    )
                    self._token.value = None
                    continue
                said = "; ".join(e.describe() for e in errors) or f"HTTP {exc.status}"
                advice = (
                    "a fresh access token was refused too: check the site's eBay keys, or the seller must grant "
                    "Bobbin access again"
                    if exc.status == c.STATUS_UNAUTHORIZED
                    else f"the seller's grant lacks a scope this call needs ({', '.join(self.scopes)}): {c.CONSENT_ADVICE}"
                )
                raise AuthError(
                    f"eBay refused {where} ({said}): {advice}", status=exc.status, value=exc.value, partner=c.PARTNER
                ) from None
            except PartnerRejected as exc:
                errors = _errors(self._last_json())
                said = "; ".join(e.describe() for e in errors) or str(exc.value or "")[:MESSAGE_EXCERPT_CHARS]
                raise EbayRejected(
                    f"eBay rejected {where} (HTTP {exc.status}: {said})",
                    errors=errors,
                    status=exc.status,
                    value=exc.value,
                    partner=c.PARTNER,
                ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Response hook: the last answer, whose whole body explains a refusal."""
        self._last_response = response

    def _last_json(self) -> Any:
        response = self._last_response
        if response is None:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _json(self, response: requests.Response, where: str) -> Any:
        return json_body(response, f"eBay {where}", c.PARTNER)

    @staticmethod
    def _maybe_json(response: requests.Response) -> Any:
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return None

    def _same_origin(self, next_url: str) -> str:
        url = urljoin(self.base_url, next_url)
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise PartnerRejected(
                f"eBay's next page points at {theirs.scheme}://{theirs.hostname}, not at {ours.hostname}: "
                "not followed (the request would carry the seller's token there)",
                partner=c.PARTNER,
            )
        return url


# --- requests and answers --------------------------------------------------------------------
def _key(value: Any, what: str) -> str:
    """One id as it goes into a path or a body: non-blank text."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"an eBay {what} is text, not {value!r}")
    text = str(value).strip()
    if not text:
        raise ValueError(f"an eBay {what} is not blank")
    return text


def _sku(value: Any) -> str:
    sku = _key(value, "SKU")
    if len(sku) > c.MAX_SKU_CHARS:
        raise ValueError(f"an eBay SKU has at most {c.MAX_SKU_CHARS} characters: {sku[:60]!r}")
    return sku


def _check_images(record: Mapping[str, Any], what: str) -> None:
    """[DOC] at most 24 image URLs on an item or group (the brand's ERP keeps 12)."""
    product = record.get(c.ItemField.PRODUCT)
    holder = product if isinstance(product, Mapping) else record
    images = holder.get(c.ItemField.IMAGE_URLS) or []
    if isinstance(images, list) and len(images) > c.MAX_IMAGES:
        raise ValueError(f"{what} has {len(images)} images; eBay takes at most {c.MAX_IMAGES}")


def _bulk_skus(items: Sequence[Mapping[str, Any]], what: str) -> list[str]:
    if not items:
        raise ValueError(f"a bulk {what} call sends at least one")
    if len(items) > c.BULK_LIMIT:
        raise ValueError(f"eBay takes at most {c.BULK_LIMIT} per bulk call, not {len(items)}: send them in batches")
    skus = [_sku(item.get(c.ItemField.SKU)) for item in items]
    twice = sorted({s for s in skus if skus.count(s) > 1})
    if twice:
        raise ValueError(f"a bulk {what} call names each SKU once (twice: {', '.join(twice)})")
    return skus


def _errors(body: Any, key: str = c.ERRORS) -> tuple[EbayError, ...]:
    """eBay's ``errors`` (or ``warnings``) entries, read without failing on any shape."""
    entries = body.get(key) if isinstance(body, dict) else None
    if not isinstance(entries, list):
        return ()
    out = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        raw_id = entry.get(EF.ERROR_ID)
        error_id = raw_id if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
        if error_id is None and isinstance(raw_id, str) and raw_id.strip().isdigit():
            error_id = int(raw_id.strip())
        params = entry.get(EF.PARAMETERS)
        pairs = tuple(
            (str(p.get(EF.PARAM_NAME)), str(p.get(EF.PARAM_VALUE)))
            for p in (params if isinstance(params, list) else [])
            if isinstance(p, dict)
        )
        out.append(
            EbayError(
                error_id=error_id,
                message=_text(entry.get(EF.MESSAGE)),
                long_message=_text(entry.get(EF.LONG_MESSAGE)),
                domain=_text(entry.get(EF.DOMAIN)),
                category=_text(entry.get(EF.CATEGORY)),
                parameters=pairs,
            )
        )
    return tuple(out)


def _warnings(body: Any) -> list[EbayError]:
    return list(_errors(body, c.WARNINGS))


def _answer_id(body: Any, key: str, where: str) -> str:
    value = body.get(key) if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, (str, int)) or not str(value).strip():
        raise ContractViolation(
            f"eBay answered {where} without a {key}: cannot tell what was made; read it back in eBay",
            request=where,
            answer=_excerpt(body),
            partner=c.PARTNER,
        )
    return str(value).strip()


def _bulk_results(body: Any, skus: list[str], where: str, *, offers: dict[str, set[str]] | None) -> list[BulkResult]:
    """[DOC] ``{"responses": [{statusCode, sku, offerId?, errors?, warnings?}]}``: every SKU asked
    answered, no SKU (or offer) not asked."""
    responses = body.get(c.RESPONSES) if isinstance(body, dict) else None
    if not isinstance(responses, list) or not all(isinstance(r, dict) for r in responses):
        raise ContractViolation(f"eBay answered {where} without a responses list", request=where, answer=_excerpt(body))
    results = []
    for entry in responses:
        sku = entry.get(c.R_SKU)
        offer = entry.get(c.R_OFFER_ID)
        offer_id = None if offer is None else str(offer)
        stranger = sku not in skus or (
            offers is not None and offer_id is not None and offer_id not in offers.get(str(sku), set())
        )
        if stranger:
            raise ContractViolation(
                f"eBay answered {where} about SKU {sku!r}{f' offer {offer_id}' if offer_id else ''}, which was not asked",
                request=where,
                answer=_excerpt(body),
                partner=c.PARTNER,
            )
        status = entry.get(c.R_STATUS_CODE)
        results.append(
            BulkResult(
                sku=str(sku),
                status_code=status if isinstance(status, int) and not isinstance(status, bool) else None,
                offer_id=offer_id,
                errors=_errors(entry),
                warnings=_errors(entry, c.WARNINGS),
            )
        )
    unanswered = [s for s in skus if not any(r.sku == s for r in results)]
    if unanswered:
        raise ContractViolation(
            f"eBay answered {where} with nothing about {', '.join(unanswered)}: cannot tell whether they were done",
            request=where,
            answer=_excerpt(body),
            records=list(results),
            partner=c.PARTNER,
        )
    return results


def _orders_page(body: Any, offset: int, limit: int, where: str) -> OrdersPage:
    """[DOC] ``{total, limit, offset, next?, orders?}``; [INF] ``orders`` is left out when none."""
    if not isinstance(body, dict):
        raise ContractViolation(f"eBay answered {where} with {_excerpt(body)}", request=where, answer=_excerpt(body))
    orders = body.get(c.R_ORDERS, [])
    if not isinstance(orders, list):
        raise ContractViolation(f"eBay answered {where} without an orders list", request=where, answer=_excerpt(body))
    total = body.get(c.R_TOTAL)
    next_url = body.get(c.R_NEXT)
    if next_url is not None and not (isinstance(next_url, str)):
        raise ContractViolation(f"eBay answered {where} with a 'next' that is not a URI", request=where)
    return OrdersPage(
        orders=orders,
        total=total if isinstance(total, int) and not isinstance(total, bool) else None,
        offset=offset,
        limit=limit,
        next_url=(next_url or "").strip() or None,
    )


def _query_int(url: str, name: str, default: int) -> int:
    for part in urlsplit(url).query.split("&"):
        key, _, value = part.partition("=")
        if key == name and value.isdigit():
            return int(value)
    return default


def _get(body: Any, key: str) -> Any:
    return body.get(key) if isinstance(body, dict) else None


def _text(value: Any) -> str | None:
    return None if value is None else str(value).strip() or None


def _excerpt(value: Any) -> str:
    text = value if isinstance(value, str) else jsonlib.dumps(value, default=str)
    return text[:MESSAGE_EXCERPT_CHARS] + ("…" if len(text) > MESSAGE_EXCERPT_CHARS else "")
