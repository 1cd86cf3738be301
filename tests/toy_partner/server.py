"""The toy partner's server: a few JSON endpoints over real HTTP on 127.0.0.1, holding orders,
their statuses and the stock it was sent. Its API (the whole contract of this partner):

- ``GET  /orders?status=open&channel=C&offset=N&limit=M`` -> ``{"orders": [...]}`` (X-Toy-Token)
- ``GET  /orders/{id}`` -> the order
- ``POST /orders/{id}/status`` ``{"status": S}`` -> ``{"id": id, "status": S}``
- ``POST /stock`` ``{"rows": [{"sku", "warehouse", "date", "qty"}]}`` -> ``{"unknown": [positions]}``
- ``GET  /products`` -> ``{"products": [{"id", "style", "name", "upcs", "active"}]}``
- ``POST /products`` ``{"products": [{"id" (null: create), "style", "name", "prices", "colors"}]}`` ->
  ``{"results": [{"style", "id"} | {"style", "error"}]}``; refused: no name, no SKU, a wholesale
  price not above 0, an id it does not have
- ``POST /products/remove`` ``{"ids": [...], "mode": "remove" | "deactivate"}`` -> ``{"results": [{"id"} | {"id", "error"}]}``
- ``POST /images`` ``{"images": [{"key", "product", ...}]}`` -> ``{"results": [{"key"} | {"key", "error"}]}``
- ``POST /linesheets`` ``{"linesheets": [{"name", "products"}]}`` -> ``{"results": [{"name"} | {"name", "error"}]}``
- ``POST /customers`` ``{"customers": [...]}`` -> ``{"job": id}``: settled later (``settle_jobs``),
  a customer without an e-mail refused
- ``GET  /customers/jobs?ids=J1,J2`` -> ``{"jobs": {id: {"status": "pending" | "done", "results": [...]}}}``

``faults`` holds (method path, HTTP status) pairs: the next request to that path is answered with
that status instead (a partner down for now), once per pair.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

TOKEN = "toy-token"


class ToyServer:
    def __init__(self, known_skus: set[str]) -> None:
        self.orders: dict[str, dict[str, Any]] = {}
        self.marks: list[tuple[str, str]] = []  # (order id, status) as received
        self.stock: dict[tuple[str, str, str | None], int] = {}
        self.reads: list[dict[str, list[str]]] = []  # query parameters of each order list read
        self.known_skus = known_skus
        self.products: dict[str, dict[str, Any]] = {}  # partner id -> product
        self.product_calls: list[list[str]] = []  # the style numbers of each POST /products, in order
        self.removals: list[tuple[str, str]] = []  # (product id, mode)
        self.images: dict[str, dict[str, Any]] = {}
        self.linesheets: dict[str, dict[str, Any]] = {}
        self.customers: dict[str, dict[str, Any]] = {}  # code -> customer, once a job settled it
        self.jobs: dict[str, dict[str, Any]] = {}
        self.faults: list[tuple[str, int]] = []
        self.calls: list[str] = []  # "METHOD path" of every request
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _authorized(self) -> bool:
                if self.headers.get("X-Toy-Token") != TOKEN:
                    self._answer(401, {"error": "bad token"})
                    return False
                return True

            def _faulted(self, method: str) -> bool:
                where = f"{method} {urlsplit(self.path).path}"
                server.calls.append(where)
                for fault in server.faults:
                    if fault[0] == where:
                        server.faults.remove(fault)
                        self._answer(fault[1], {"error": "down for now"})
                        return True
                return False

            def do_GET(self) -> None:
                if not self._authorized() or self._faulted("GET"):
                    return
                url = urlsplit(self.path)
                if url.path == "/products":
                    self._answer(200, {"products": [server.listed(p) for p in server.products.values()]})
                elif url.path == "/customers/jobs":
                    ids = parse_qs(url.query).get("ids", [""])[0].split(",")
                    self._answer(200, {"jobs": {i: server.jobs[i] for i in ids if i in server.jobs}})
                elif url.path == "/orders":
                    query = parse_qs(url.query)
                    server.reads.append(query)
                    offset, limit = int(query["offset"][0]), int(query["limit"][0])
                    listed = [o for o in server.orders.values() if o["status"] == query["status"][0]]
                    self._answer(200, {"orders": listed[offset : offset + limit]})
                elif url.path.startswith("/orders/") and url.path.removeprefix("/orders/") in server.orders:
                    self._answer(200, server.orders[url.path.removeprefix("/orders/")])
                else:
                    self._answer(404, {"error": "not found"})

            def do_POST(self) -> None:
                if not self._authorized():
                    return
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self._faulted("POST"):
                    return
                path = urlsplit(self.path).path
                catalog = {
                    "/products": server.take_products,
                    "/products/remove": server.remove_products,
                    "/images": server.take_images,
                    "/linesheets": server.take_linesheets,
                    "/customers": server.take_customers,
                }
                if path in catalog:
                    self._answer(200, catalog[path](body))
                elif path.startswith("/orders/") and path.endswith("/status"):
                    order_id = path.split("/")[2]
                    if order_id not in server.orders:
                        self._answer(404, {"error": "no such order"})
                        return
                    server.orders[order_id]["status"] = body["status"]
                    server.marks.append((order_id, body["status"]))
                    self._answer(200, {"id": order_id, "status": body["status"]})
                elif path == "/stock":
                    unknown = []
                    for i, row in enumerate(body["rows"]):
                        if row["sku"] not in server.known_skus:
                            unknown.append(i)
                            continue
                        server.stock[(row["sku"], row["warehouse"], row["date"])] = row["qty"]
                    self._answer(200, {"unknown": unknown})
                else:
                    self._answer(404, {"error": "not found"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    # --- the catalog side ------------------------------------------------------------------------

    @staticmethod
    def listed(product: dict[str, Any]) -> dict[str, Any]:
        upcs = [k["upc"] for c in product.get("colors", []) for k in c.get("skus", []) if k.get("upc")]
        return {
            "id": product["id"],
            "style": product.get("style"),
            "name": product.get("name"),
            "upcs": upcs,
            "active": product.get("active", True),
        }

    def add_product(self, style: str | None, name: str, upcs: list[str] = []) -> str:  # noqa: B006
        """A product made on the partner by hand (no push): for matching tests."""
        pid = f"P{len(self.products) + 1:04d}"
        skus = [{"sku": None, "size": None, "upc": u} for u in upcs]
        self.products[pid] = {"id": pid, "style": style, "name": name, "colors": [{"code": "", "skus": skus}]}
        return pid

    def take_products(self, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        self.product_calls.append([p["style"] for p in body["products"]])
        for p in body["products"]:
            error = None
            if not (p.get("name") or "").strip():
                error = "name is required"
            elif not any(c.get("skus") for c in p.get("colors", [])):
                error = "a product needs at least one SKU"
            elif any(float(pr["wholesale"]) <= 0 for c in p["colors"] for pr in c["prices"]) or any(
                float(pr["wholesale"]) <= 0 for pr in p["prices"]
            ):
                error = "wholesale price must be greater than 0"
            elif p.get("id") and p["id"] not in self.products:
                error = f"no product {p['id']}"
            if error:
                results.append({"style": p["style"], "error": error})
                continue
            pid = p.get("id") or f"P{len(self.products) + 1:04d}"
            self.products[pid] = {**p, "id": pid, "active": True}
            results.append({"style": p["style"], "id": pid})
        return {"results": results}

    def remove_products(self, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for pid in body["ids"]:
            if pid not in self.products:
                results.append({"id": pid, "error": f"no product {pid}"})
                continue
            self.removals.append((pid, body["mode"]))
            if body["mode"] == "remove":
                del self.products[pid]
            else:
                self.products[pid]["active"] = False
            results.append({"id": pid})
        return {"results": results}

    def take_images(self, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for image in body["images"]:
            if image.get("product") not in self.products:
                results.append({"key": image["key"], "error": f"no product {image.get('product')}"})
                continue
            self.images[image["key"]] = image
            results.append({"key": image["key"]})
        return {"results": results}

    def take_linesheets(self, body: dict[str, Any]) -> dict[str, Any]:
        results = []
        for sheet in body["linesheets"]:
            unknown = [p for p in sheet["products"] if p not in self.products]
            if unknown:
                results.append({"name": sheet["name"], "error": f"no product {', '.join(unknown)}"})
                continue
            self.linesheets[sheet["name"]] = sheet
            results.append({"name": sheet["name"]})
        return {"results": results}

    def take_customers(self, body: dict[str, Any]) -> dict[str, Any]:
        job = f"J{len(self.jobs) + 1}"
        self.jobs[job] = {"status": "pending", "customers": body["customers"], "results": []}
        return {"job": job}

    def settle_jobs(self) -> None:
        """The partner finishes its customer jobs: each customer with an e-mail is taken."""
        for job in self.jobs.values():
            if job["status"] == "done":
                continue
            for c in job["customers"]:
                if not c.get("email"):
                    job["results"].append({"code": c["code"], "error": "email is required"})
                    continue
                self.customers[c["code"]] = c
                job["results"].append({"code": c["code"], "id": f"C-{c['code']}"})
            job["status"] = "done"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
