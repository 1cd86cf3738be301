"""Brandboom API v2 client: CRUD verbs over HTTP, nothing about the ERP.

Like an OCA Connector backend adapter, this class only knows Brandboom's URLs, its signature and
its response envelope. Mapping payloads to Bobbin's shapes is ``mapper.py``'s job; deciding what
to import is the pipeline's. Every name on the wire comes from ``contract.py``.

Failures follow ``connectors.errors``: the HTTP layer (``connectors.http``) sorts transport and
HTTP status failures; this module adds Brandboom's own failure channel, the envelope
``{"status": "error", "value": "Permission Denied"}`` that arrives with HTTP 200.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import requests
import structlog
from requests.auth import AuthBase

from connectors.brandboom import contract as c
from connectors.errors import AuthError, NotSupported, PartnerRejected
from connectors.http import DEFAULT_POLICY, HttpPolicy, PartnerClient, body_excerpt, json_body, send
from connectors.paging import OffsetPager

log = structlog.get_logger()

# Orders a page: [DOC] numResults "The maximum and default are 300 results per request" (written
# for products/search; [INF] orders/search pages the same way). 300 orders of a few dozen lines is
# one page of ~1.5 MB and one holding-area commit. Until issue 15 this asked for 100: three times
# the requests, and three times each page's fixed costs in Bobbin (a staging commit, an import
# transaction, every statement's own cost) — the same 10,000 orders imported in 15–27 % less time
# at 300 (README, benchmark 1). A site can still ask for fewer (``page_size``).
DEFAULT_ORDER_PAGE = c.MAX_PRODUCTS_PER_PAGE
# Envelope error values that mean "your credentials", not "your request". [DOC] names only
# "Permission Denied"; the rest are guesses at wording a real server may use.
AUTH_MARKERS = ("permission denied", "signature", "unauthori", "forbidden", "credential", "auth key", "invalid key")
# How much of a partner message goes into an exception's text (the full value stays on .value).
MESSAGE_EXCERPT_CHARS = 200

Json = Any


class _BrandboomSignature(AuthBase):
    """Signs each request with a fresh timestamp (requests calls this on every attempt).

    Keeps the keys out of the client's attributes and out of any repr.
    """

    def __init__(self, public_key: str, secret_key: str, clock: Callable[[], float]) -> None:
        self._public_key = public_key
        self._secret_key = secret_key
        self._clock = clock

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        timestamp = str(int(self._clock()))
        request.headers[c.HEADER_KEY] = self._public_key
        request.headers[c.HEADER_TIMESTAMP] = timestamp
        request.headers[c.HEADER_SIGNATURE] = c.signature(self._public_key, self._secret_key, timestamp)
        return request

    def __repr__(self) -> str:
        return "<BrandboomSignature (keys hidden)>"


class BrandboomClient(PartnerClient):
    """One Brandboom account. ``base_url`` ends in ``/api/v2`` (trailing slash optional)."""

    def __init__(
        self,
        base_url: str,
        public_key: str,
        secret_key: str,
        *,
        policy: HttpPolicy = DEFAULT_POLICY,
        clock: Callable[[], float] = time.time,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, policy, session, sleep)
        self._auth = _BrandboomSignature(public_key, secret_key, clock)

    # --- orders ([INF] shape and paging, partners/README "Decisions for Bobbin") -------------
    def search_orders(
        self, status: str, num_results: int = DEFAULT_ORDER_PAGE, result_offset: int = 0
    ) -> list[dict[str, Any]]:
        """One page of orders in ``status``. Items are returned as received; the mapper judges them."""
        value = self._call(
            "GET",
            c.ORDERS_SEARCH,
            params={c.P_STATUS: status, c.P_NUM_RESULTS: num_results, c.P_RESULT_OFFSET: result_offset},
        )
        return _result_list(value, c.R_ORDERS, c.ORDERS_SEARCH)

    def order_pager(self, status: str = c.ORDER_STATUS_EXPORT, page_size: int = DEFAULT_ORDER_PAGE) -> OffsetPager:
        """Every order in ``status``, one page at a time (iterate the pager; its ``report`` says
        afterwards whether the list shifted under the read, see ``connectors.paging``)."""
        return OffsetPager(lambda offset, size: self.search_orders(status, size, offset), page_size)

    def iter_order_pages(
        self, status: str = c.ORDER_STATUS_EXPORT, page_size: int = DEFAULT_ORDER_PAGE
    ) -> Iterator[list[dict[str, Any]]]:
        """Every order in ``status``, one page at a time: :meth:`order_pager` without its report."""
        return iter(self.order_pager(status, page_size))

    def get_order(self, order_id: str | int) -> dict[str, Any]:
        """One order by id. [INF] orders/{id} answers like orders/search, filtered to that id."""
        path = c.ORDER.format(id=order_id)
        orders = _result_list(self._call("GET", path), c.R_ORDERS, c.ORDER)
        if not orders:
            raise PartnerRejected(f"Brandboom has no order {order_id}", partner=c.PARTNER)
        # The order whose id is the one asked for, wherever it is in the answer: a server that
        # answers with more than that order must not make another order's status count as this
        # one's. None of them being that order means Brandboom cannot tell us about it now.
        wanted = str(order_id)
        mine = [o for o in orders if isinstance(o, dict) and str(o.get(c.OrderField.ID)) == wanted]
        if not mine:
            got = [str(o.get(c.OrderField.ID)) if isinstance(o, dict) else repr(o) for o in orders]
            shown = ", ".join(got[:5]) + (f" and {len(got) - 5} more" if len(got) > 5 else "")
            raise NotSupported(
                f"Brandboom answered GET {path} with order(s) {shown}, not order {order_id}: cannot tell",
                partner=c.PARTNER,
            )
        if len(orders) > 1:
            log.warning("brandboom_read_back_extra_orders", order_id=wanted, answered=len(orders))
        return mine[0]

    def update_order_status(self, order_id: str | int, status: str) -> None:
        """[INF] POST orders/{id} with ``status``: the one place the writeback call is shaped.

        Not safe to repeat (no idempotency key): an answer lost after sending raises
        OutcomeUnknown instead of a blind retry, and :meth:`writeback_applied` tells whether it
        took effect."""
        if status not in c.ORDER_UPDATE_STATUSES:
            raise ValueError(f"status must be one of {c.ORDER_UPDATE_STATUSES}, not {status!r}")
        self._call("POST", c.ORDER.format(id=order_id), data={c.P_STATUS: status})

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        """Whether Brandboom already shows ``status`` on the order (what OrderSource.writeback_applied asks):
        the order read back with :meth:`get_order`, its ``status`` compared with the one
        :meth:`update_order_status` sets ([INF], the same guess at the Order object)."""
        if status not in c.ORDER_UPDATE_STATUSES:
            raise NotSupported(f"Brandboom keeps no {status!r} that Bobbin can read back", partner=c.PARTNER)
        return self.get_order(partner_order_id).get(c.OrderField.STATUS) == status

    # --- showrooms [DOC] ---------------------------------------------------------------------
    def search_showrooms(self, showroom_ids: Iterable[str | int] | None = None) -> list[dict[str, Any]]:
        params = {c.P_SHOWROOM_ID: _join(showroom_ids, ",")} if showroom_ids is not None else {}
        return _result_list(self._call("GET", c.SHOWROOMS_SEARCH, params=params), c.R_SHOWROOMS, c.SHOWROOMS_SEARCH)

    # --- products [DOC] ----------------------------------------------------------------------
    def search_products(
        self,
        num_results: int = c.MAX_PRODUCTS_PER_PAGE,
        result_offset: int = 0,
        **params: str | int | Sequence[str | int],
    ) -> list[dict[str, Any]]:
        """One page of products. ``params`` use the doc's names (``brandID=34``,
        ``styleNumbers=["MKG-231", "MKG233"]``); lists are joined with the doc's separator.
        ``num_results`` is capped at the documented 300.
        """
        unknown = set(params) - c.PRODUCT_SEARCH_PARAMS
        if unknown:
            raise ValueError(f"unknown products/search parameters: {sorted(unknown)}")
        query: dict[str, str | int] = {
            name: _join(value, c.LIST_SEPARATORS.get(name, ",")) for name, value in params.items()
        }
        query[c.P_NUM_RESULTS] = min(num_results, c.MAX_PRODUCTS_PER_PAGE)
        query[c.P_RESULT_OFFSET] = result_offset
        return _result_list(self._call("GET", c.PRODUCTS_SEARCH, params=query), c.R_PRODUCTS, c.PRODUCTS_SEARCH)

    def iter_products(
        self, page_size: int = c.MAX_PRODUCTS_PER_PAGE, **params: str | int | Sequence[str | int]
    ) -> Iterator[list[dict[str, Any]]]:
        """Every product matching ``params``, a page at a time (pages of at most 300)."""
        size = min(page_size, c.MAX_PRODUCTS_PER_PAGE)
        if size < 1:
            raise ValueError("page_size must be at least 1")
        yield from _offset_pages(
            lambda offset: self.search_products(num_results=size, result_offset=offset, **params), size
        )

    def import_products(
        self,
        mode: str,
        rows: Sequence[Mapping[str, Any]],
        *,
        brand_id: str | int | None = None,
        showroom_id: str | int | None = None,
        bypass_diff: bool = False,
    ) -> Json:
        """POST products/import with ``rows`` as a CSV attachment named ``data`` [DOC].

        Only the columns present in ``rows`` are sent, because Brandboom overwrites every column
        it receives [DOC]. Returns the envelope's value (the import summary).
        """
        if mode not in c.IMPORT_MODES:
            raise ValueError(f"mode must be one of {c.IMPORT_MODES}, not {mode!r}")
        form: dict[str, str] = {c.P_MODE: mode}
        if brand_id is not None:
            form[c.P_BRAND_ID] = str(brand_id)
        if showroom_id is not None:
            form[c.P_SHOWROOM_ID] = str(showroom_id)
        if bypass_diff:
            form[c.P_BYPASS_DIFF] = "true"
        files = {c.P_DATA: ("bobbin-import.csv", rows_to_csv(rows), c.CSV_CONTENT_TYPE)}
        # Safe to repeat after a lost answer: the rows carry absolute values, keyed by SKU.
        return self._call("POST", c.PRODUCTS_IMPORT, data=form, files=files, idempotent=True)

    def update_product(self, product_id: str | int, fields: Mapping[str, Any]) -> Json:
        """[INF] POST products/{id} with the Product keys to change (the doc's REST table: POST on an
        id = update); safe to repeat, the values are absolute. Returns the envelope's value."""
        return self._call("POST", c.PRODUCT.format(id=product_id), data=dict(fields), idempotent=True)

    def delete_product(self, product_id: str | int) -> Json:
        """DELETE products/{id} [DOC] (the REST table: DELETE = delete)."""
        return self._call("DELETE", c.PRODUCT.format(id=product_id))

    # --- customers (partners/README 2.4: search [CODE]; create / update [INF]) ----------------
    def search_customers(
        self, num_results: int = c.MAX_PRODUCTS_PER_PAGE, result_offset: int = 0, *, date_modified: str | None = None
    ) -> list[dict[str, Any]]:
        """One page of customers; [INF] numResults / resultOffset as products/search pages."""
        query: dict[str, str | int] = {
            c.P_NUM_RESULTS: min(num_results, c.MAX_PRODUCTS_PER_PAGE),
            c.P_RESULT_OFFSET: result_offset,
        }
        if date_modified:
            query[c.P_DATE_MODIFIED] = date_modified
        return _result_list(self._call("GET", c.CUSTOMERS_SEARCH, params=query), c.R_CUSTOMERS, c.CUSTOMERS_SEARCH)

    def iter_customers(self, page_size: int = c.MAX_PRODUCTS_PER_PAGE) -> Iterator[list[dict[str, Any]]]:
        """Every customer, a page at a time."""
        size = min(max(page_size, 1), c.MAX_PRODUCTS_PER_PAGE)
        yield from _offset_pages(lambda offset: self.search_customers(size, offset), size)

    def create_customer(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """[INF] PUT customers (the doc's REST table: PUT on the model = create), the Customer as a
        JSON body. Not safe to repeat: a lost answer raises OutcomeUnknown, and the caller finds
        the customer by its code before creating it again."""
        value = self._call("PUT", c.CUSTOMERS, json=dict(fields), idempotent=False)
        return _result_object(value, c.CUSTOMERS)

    def update_customer(self, customer_id: str | int, fields: Mapping[str, Any]) -> dict[str, Any]:
        """[INF] POST customers/{id} with the keys to change; safe to repeat (absolute values)."""
        path = c.CUSTOMER.format(id=customer_id)
        return _result_object(self._call("POST", path, json=dict(fields), idempotent=True), path)

    # --- transport ---------------------------------------------------------------------------
    def _call(self, method: str, path: str, **kwargs: Any) -> Json:
        """Send one signed request and return the envelope's ``value``."""
        response = send(
            self._session,
            method,
            self.base_url + path,
            policy=self.policy,
            sleep=self._sleep,
            auth=self._auth,
            **kwargs,
        )
        return unwrap_envelope(response, f"{method} {urlsplit(response.url).path}")


def unwrap_envelope(response: requests.Response, where: str) -> Json:
    """The ``value`` of a successful envelope; a Brandboom error envelope becomes an exception."""
    envelope = json_body(response, where, c.PARTNER)
    if not isinstance(envelope, dict) or c.ENV_STATUS not in envelope:
        raise PartnerRejected(
            f"{where} answered without a Brandboom envelope",
            status=response.status_code,
            value=body_excerpt(response),
            partner=c.PARTNER,
        )
    status = envelope[c.ENV_STATUS]
    value = envelope.get(c.ENV_VALUE)
    if status is True or (isinstance(status, str) and status.strip().lower() == "true"):
        return value
    text = value if isinstance(value, str) else repr(value)
    excerpt = text[:MESSAGE_EXCERPT_CHARS]
    # Only a message is read for credential words: a structured value (an import's refused rows)
    # is about the request, whatever a style number or name in it says.
    if isinstance(value, str) and any(marker in text.lower() for marker in AUTH_MARKERS):
        raise AuthError(
            f"Brandboom refused {where} ({excerpt}): check the site's credentials",
            status=response.status_code,
            value=value,
            partner=c.PARTNER,
        )
    raise PartnerRejected(
        f"Brandboom rejected {where}: {excerpt}", status=response.status_code, value=value, partner=c.PARTNER
    )


def rows_to_csv(rows: Sequence[Mapping[str, Any]]) -> bytes:
    """Rows as CSV with a header of every column used, in first-seen order; None is blank."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\r\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: "" if value is None else value for key, value in row.items()})
    return out.getvalue().encode("utf-8")


def _result_list(value: Json, key: str, where: str) -> list[dict[str, Any]]:
    """The array under ``key`` in a search result; anything else is a contract break."""
    items = value.get(key) if isinstance(value, dict) else None
    if not isinstance(items, list):
        raise PartnerRejected(f"Brandboom {where} returned no '{key}' list", value=value, partner=c.PARTNER)
    return items


def _result_object(value: Json, where: str) -> dict[str, Any]:
    """A created or updated object as answered; anything else is a contract break."""
    if not isinstance(value, dict):
        raise PartnerRejected(f"Brandboom {where} answered no object", value=value, partner=c.PARTNER)
    return value


def _offset_pages(fetch: Callable[[int], list[dict[str, Any]]], page_size: int) -> Iterator[list[dict[str, Any]]]:
    """numResults / resultOffset paging: the next page starts where this one ended; a short
    page is the last (no total needed, so it works the same for every search)."""
    offset = 0
    while True:
        page = fetch(offset)
        if page:
            yield page
        if len(page) < page_size:
            return
        offset += len(page)


def _join(values: Iterable[str | int] | str | int, separator: str) -> str:
    """A parameter value as sent: lists joined with the doc's separator, scalars as text."""
    if isinstance(values, (str, int)):
        return str(values)
    return separator.join(str(v) for v in values)
