"""A toy partner that lives in the test suite alone: one package and a registration at test time,
no change anywhere else in Bobbin. It pulls orders, takes status writebacks and inventory pushes
(over real HTTP, ``server.py``), takes catalog and customer pushes (``catalog.py``), and declares
no events.

Its order format is its own: a flat JSON rendering of an order (see :func:`to_partner_order`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import requests
from pydantic import Field

from connectors.base import ORDER_FIELDS, Address, PartnerCustomer, PartnerOrder, PartnerOrderLine
from connectors.catalog import CatalogPush, CustomerPush
from connectors.drift import Expected, PayloadContract
from connectors.errors import AuthError, ContractViolation, NotSupported, PartnerRejected, RetryableError
from connectors.inventory import BatchAnswer, Buckets, Change, InventoryPush, SkuInfo, Unit
from connectors.paging import ReadReport
from connectors.registry import OrderPull, PartnerSpec, StatusWriteback
from connectors.settings import SiteSettings

KIND = "toy"


class ToySettings(SiteSettings):
    channel: str = Field("wholesale", description="the toy partner's order channel to read")


class ToyClient:
    def __init__(self, base_url: str, token: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-Toy-Token"] = token

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        answer = self.session.request(method, self.base_url + path, timeout=10, **kwargs)
        if answer.status_code == 401:
            raise AuthError("the toy partner refused the token", status=401, partner=KIND)
        if answer.status_code >= 500:
            raise RetryableError(f"toy partner: HTTP {answer.status_code}", status=answer.status_code, partner=KIND)
        if answer.status_code >= 400:
            raise PartnerRejected(f"toy partner: HTTP {answer.status_code}", status=answer.status_code, partner=KIND)
        return answer.json()

    def close(self) -> None:
        self.session.close()


def make_client(base_url: str, credentials: Mapping[str, Any], settings: Any = None) -> ToyClient:
    if not credentials.get("token"):
        raise AuthError("toy site has no token", partner=KIND)
    return ToyClient(base_url, str(credentials["token"]))


def _date(value: Any) -> date | None:
    return date.fromisoformat(value) if value else None


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


def _address(raw: Mapping[str, Any] | None) -> Address | None:
    return Address(**raw) if raw else None


def to_partner_order(raw: Mapping[str, Any]) -> PartnerOrder:
    customer = raw.get("customer") or {}
    return PartnerOrder(
        partner_order_id=str(raw["id"]),
        raw=raw,
        partner_status=raw.get("status"),
        po_number=raw.get("po"),
        customer=PartnerCustomer(
            partner_id=customer.get("id"),
            code=customer.get("code"),
            name=customer.get("name"),
            email=customer.get("email"),
            billing=_address(customer.get("billing")),
            shipping=_address(customer.get("shipping")),
        ),
        ship_to=_address(raw.get("ship_to")),
        sales_rep=raw.get("rep"),
        payment_method=raw.get("terms"),
        shipping_method=raw.get("ship_via"),
        warehouse=raw.get("warehouse"),
        ship_date=_date(raw.get("ship_date")),
        cancel_date=_date(raw.get("cancel_date")),
        currency=raw.get("currency"),
        lines=tuple(
            PartnerOrderLine(
                line_no=n,
                style_number=line.get("style"),
                color_code=line.get("color"),
                size=line.get("size"),
                sku_number=line.get("sku"),
                upc=line.get("upc"),
                quantity=_decimal(line.get("qty")),
                price=_decimal(line.get("price")),
                raw_quantity=str(line.get("qty")),
                raw_price=str(line.get("price")),
            )
            for n, line in enumerate(raw.get("lines") or [], start=1)
        ),
    )


class ToySource:
    """Orders with status "open" on the site's channel; marking sets the status (one order each)."""

    def __init__(self, client: ToyClient, settings: ToySettings) -> None:
        self.client, self.settings = client, settings
        self.read_report = ReadReport()

    def iter_order_pages(self) -> Iterator[list[PartnerOrder]]:
        offset, size = 0, self.settings.page_size
        while True:
            params = {"status": "open", "channel": self.settings.channel, "offset": offset, "limit": size}
            page = self.client.call("GET", "/orders", params=params)["orders"]
            self.read_report.pages += 1
            if page:
                yield [to_partner_order(o) for o in page]
            if len(page) < size:
                self.read_report.passes = 1
                return
            offset += size

    def iter_modified_pages(self) -> Iterator[list[PartnerOrder]]:
        return iter(())

    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        answer = self.client.call("POST", f"/orders/{partner_order_id}/status", json={"status": status})
        if str(answer.get("id")) != partner_order_id:  # a write targets one record; its answer is checked
            raise ContractViolation(
                f"marking {partner_order_id} answered for {answer.get('id')}",
                request=f"POST /orders/{partner_order_id}/status",
                answer=answer,
            )

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        raise NotSupported("the toy partner keeps no customer codes", partner=KIND)

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        return bool(self.client.call("GET", f"/orders/{partner_order_id}").get("status") == status)

    def close(self) -> None:
        self.client.close()


class ToyPusher:
    def __init__(self, client: ToyClient, settings: ToySettings) -> None:
        self.client = client

    def units(self, changes: Sequence[Change], desired: Buckets, skus: Mapping[str, SkuInfo]) -> list[Unit]:
        return [
            Unit(
                {
                    "sku": ch.sku,
                    "warehouse": ch.warehouse,
                    "date": ch.available_on.isoformat() if ch.available_on else None,
                    "qty": ch.quantity,
                },
                ((ch.key, None if ch.gone else ch.quantity),),
            )
            for ch in changes
        ]

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        unknown = set(self.client.call("POST", "/stock", json={"rows": [u.payload for u in batch]})["unknown"])
        return BatchAnswer([i for i in range(len(batch)) if i not in unknown], sorted(unknown))

    def close(self) -> None:
        self.client.close()


from tests.toy_partner.catalog import ToyCatalog, ToyCustomers  # noqa: E402  (they use ToyClient above)

SPEC = PartnerSpec(
    kind=KIND,
    label="Toy",
    settings=ToySettings,
    credential_fields=("token",),
    client=make_client,
    orders=OrderPull(
        open=ToySource,
        to_partner_order=to_partner_order,
        order_fields={key: key for key in ORDER_FIELDS},
        payload=PayloadContract(
            partner="Toy",
            fields=(Expected("order id", ("id",), required=True), Expected("lines", ("lines",), required=True)),
            known={
                "": frozenset(
                    {"id", "status", "channel", "po", "customer", "ship_to", "rep", "terms", "ship_via"}
                    | {"warehouse", "ship_date", "cancel_date", "currency", "lines"}
                ),
                "customer": frozenset({"id", "code", "name", "email", "billing", "shipping"}),
                "lines[]": frozenset({"style", "color", "size", "sku", "upc", "qty", "price"}),
            },
        ),
        exported_when="imported",
    ),
    writeback=StatusWriteback(open=ToySource, statuses=("exported", "shipped", "paid", "void")),
    inventory=InventoryPush(open=ToyPusher, batch_rows=25),
    catalog=CatalogPush(
        open=ToyCatalog, batch_styles=5, batch_images=5, images=True, linesheets=True, removal=("remove", "deactivate")
    ),
    customers=CustomerPush(open=ToyCustomers, batch=10, asynchronous=True),
)
