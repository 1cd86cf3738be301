"""The toy partner's server: a few JSON endpoints over real HTTP on 127.0.0.1, holding orders,
their statuses and the stock it was sent. Its API (the whole contract of this partner):

- ``GET  /orders?status=open&channel=C&offset=N&limit=M`` -> ``{"orders": [...]}`` (X-Toy-Token)
- ``GET  /orders/{id}`` -> the order
- ``POST /orders/{id}/status`` ``{"status": S}`` -> ``{"id": id, "status": S}``
- ``POST /stock`` ``{"rows": [{"sku", "warehouse", "date", "qty"}]}`` -> ``{"unknown": [positions]}``
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

            def do_GET(self) -> None:
                if not self._authorized():
                    return
                url = urlsplit(self.path)
                if url.path == "/orders":
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
                path = urlsplit(self.path).path
                if path.startswith("/orders/") and path.endswith("/status"):
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

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
