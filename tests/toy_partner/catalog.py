"""The toy partner's catalog and customer push: products (a style with its colours, SKUs and
prices, keyed by the partner's own id), images, linesheets and customers, over its server's HTTP
API (``server.py``). Customers go into a job the server settles later (asynchronous, like JOOR's
bulk connection), so ``send`` answers ``awaiting`` with the job as the ticket."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from connectors.catalog import CatalogCustomer, CatalogStyle, Image, ItemResult, Linesheet, PartnerProduct, Price

if TYPE_CHECKING:
    from tests.toy_partner import ToyClient, ToySettings


def _price(p: Price) -> dict[str, Any]:
    return {
        "type": p.price_type,
        "currency": p.currency,
        "wholesale": str(p.wholesale),
        "retail": None if p.retail is None else str(p.retail),
    }


def product_row(style: CatalogStyle) -> dict[str, Any]:
    return {
        "id": style.partner_id,
        "style": style.number,
        "name": style.description,
        "season": style.season,
        "category": style.category,
        "prices": [_price(p) for p in style.prices],
        "colors": [
            {
                "code": c.code,
                "name": c.name,
                "prices": [_price(p) for p in c.prices],
                "skus": [{"sku": k.sku, "size": k.size, "upc": k.upc} for k in c.skus],
            }
            for c in style.colors
        ],
    }


class ToyCatalog:
    def __init__(self, client: ToyClient, settings: ToySettings) -> None:
        self.client, self.settings = client, settings

    def existing(self) -> Iterable[PartnerProduct]:
        for p in self.client.call("GET", "/products")["products"]:
            yield PartnerProduct(p["id"], p.get("style"), tuple(p.get("upcs") or ()), p.get("name"))

    def check(self, style: CatalogStyle) -> list[str]:
        missing = [k.sku for c in style.colors for k in c.skus if not k.upc]
        if missing:
            return [
                f"Style {style.number}: SKU {', '.join(missing)} has no UPC, and Toy keys SKUs by UPC: add the UPC "
                "in the ERP and load the styles again."
            ]
        return []

    def send_styles(self, batch: Sequence[CatalogStyle], *, full: bool) -> list[ItemResult]:
        answer = self.client.call("POST", "/products", json={"products": [product_row(s) for s in batch]})
        return [
            ItemResult(r["style"], "rejected", r["error"])
            if r.get("error")
            else ItemResult(r["style"], "accepted", partner_id=r["id"])
            for r in answer["results"]
        ]

    def remove_styles(self, batch: Sequence[CatalogStyle]) -> list[ItemResult]:
        mode = self.settings.catalog_inactive
        ids = {s.partner_id: s.number for s in batch if s.partner_id}
        out = [ItemResult(s.number, "rejected", "no Toy product id is known for it") for s in batch if not s.partner_id]
        answer = self.client.call("POST", "/products/remove", json={"ids": list(ids), "mode": mode})
        for r in answer["results"]:
            number = ids[r["id"]]
            out.append(
                ItemResult(number, "rejected", r["error"]) if r.get("error") else ItemResult(number, "removed", mode)
            )
        return out

    def send_images(self, batch: Sequence[Image]) -> list[ItemResult]:
        rows = [
            {
                "key": i.key(),
                "product": i.style_partner_id,
                "color": i.color_code,
                "kind": i.kind,
                "position": i.position,
                "url": i.source if i.is_url else None,
                "sha256": i.checksum or None,
            }
            for i in batch
        ]
        answer = self.client.call("POST", "/images", json={"images": rows})
        return [
            ItemResult(r["key"], "rejected", r["error"]) if r.get("error") else ItemResult(r["key"], "accepted")
            for r in answer["results"]
        ]

    def send_linesheets(self, batch: Sequence[Linesheet]) -> list[ItemResult]:
        rows = [{"name": sheet.name, "season": sheet.season, "products": list(sheet.partner_ids)} for sheet in batch]
        answer = self.client.call("POST", "/linesheets", json={"linesheets": rows})
        return [
            ItemResult(r["name"], "rejected", r["error"]) if r.get("error") else ItemResult(r["name"], "accepted")
            for r in answer["results"]
        ]

    def close(self) -> None:
        self.client.close()


class ToyCustomers:
    def __init__(self, client: ToyClient, settings: ToySettings) -> None:
        self.client = client

    def send(self, batch: Sequence[CatalogCustomer]) -> list[ItemResult]:
        rows = [
            {
                "code": c.code,
                "name": c.name,
                "email": c.email,
                "addresses": [{"kind": a.kind, "city": a.city, "country": a.country} for a in c.addresses],
            }
            for c in batch
        ]
        job = self.client.call("POST", "/customers", json={"customers": rows})["job"]
        return [ItemResult(c.code, "awaiting", "matching to Toy's retailers", ticket=job) for c in batch]

    def poll(self, tickets: Sequence[str]) -> list[ItemResult]:
        jobs = self.client.call("GET", "/customers/jobs", params={"ids": ",".join(tickets)})["jobs"]
        out = []
        for job in jobs.values():
            if job["status"] != "done":
                continue
            for r in job["results"]:
                out.append(
                    ItemResult(r["code"], "rejected", r["error"])
                    if r.get("error")
                    else ItemResult(r["code"], "accepted", partner_id=r["id"])
                )
        return out

    def close(self) -> None:
        self.client.close()
