"""What every partner sandbox shares: a threaded HTTP server, request parsing, fault injection.

A sandbox is an *app* — any object with ``handle(request) -> Response`` — served by
:class:`SandboxServer` on 127.0.0.1. Apps see a parsed :class:`Request` (query, form, JSON or
multipart body) and return a :class:`Response`; they never touch sockets. That keeps the
partner-specific emulators (Brandboom, JOOR, Loop) to their documented behaviour.

:class:`FaultQueue` lets tests, chaos runs and ``bobbin sandbox --fault`` make requests fail the
way real partners do — a 5xx, a 429 with Retry-After, a hang past the client's timeout, a dropped
connection, a body that is not JSON, a body cut short, a listing that repeats or skips orders while
orders arrive, a wrong-signature rejection — at a rate (20 % of requests, seeded) or by script (the
3rd request). :meth:`Fault.parse` reads the spec syntax documented in docs/faults.md.
Standard library only, so a sandbox starts anywhere the project's venv does.
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Protocol
from urllib.parse import parse_qsl, urlsplit

import structlog

log = structlog.get_logger()

# Idle keep-alive connections are closed after this long, so handler threads do not pile up.
IDLE_CONNECTION_TIMEOUT = 30.0
# How often a background server checks for stop(); short so test teardown is quick.
SHUTDOWN_POLL_SECONDS = 0.05


@dataclass(frozen=True)
class Upload:
    """One multipart file part."""

    filename: str | None
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]  # last value wins for repeated names
    headers: Message
    body: bytes = b""
    form: Mapping[str, str] = field(default_factory=dict)
    files: Mapping[str, Upload] = field(default_factory=dict)
    json: Any = None

    def params(self) -> dict[str, Any]:
        """Query, form and JSON-object body merged (body wins): partners accept either."""
        merged: dict[str, Any] = dict(self.query)
        merged.update(self.form)
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged


@dataclass(frozen=True)
class Response:
    status: int = 200
    body: bytes = b""
    content_type: str = "application/json"
    headers: Mapping[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    truncate: bool = False  # announce the whole body, send half of it, close the connection

    @classmethod
    def json(cls, payload: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
        return cls(status=status, body=json.dumps(payload, default=str).encode("utf-8"), headers=dict(headers or {}))


class App(Protocol):
    def handle(self, request: Request) -> Response: ...


# --- faults ------------------------------------------------------------------------------------

# Kinds a fault spec may name, besides a 3-digit HTTP status (see Fault.parse and docs/faults.md).
HANG_SECONDS = 35.0  # "hang" default: past the partner clients' 30 s read timeout
SLOW_SECONDS = 2.0  # "slow" default: a late but real answer
RETRY_AFTER_SECONDS = 1.0  # "429" default Retry-After
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)?$")
_SPEC_KEYS = {
    "retry_after": float,
    "seconds": float,
    "delay": float,
    "n": int,
    "path": str,
    "method": str,
    "count": int,
    "seed": int,
    "status": int,
}


class FaultSpecError(ValueError):
    """A fault spec that cannot be read; the message says what was expected."""


@dataclass
class Fault:
    """One misbehaviour waiting for requests that match ``path`` (a substring) and ``method``.

    *What* happens — ``delay`` is slept first; then the first that applies of:

    - ``drop``: close the connection without answering (``delay`` + ``drop`` is a hang);
    - ``malformed``: an HTML page instead of JSON (HTTP ``status`` or 200);
    - ``auth``: the partner's own wrong-signature / bad-credentials answer (each sandbox says how);
    - ``status``: that HTTP status (``retry_after`` adds a Retry-After header);
    - otherwise the real answer, computed after the delay — cut short when ``truncate`` (headers
      announce the whole body, half of it is sent, the connection closes: the partner *did* the
      work and the client never learns it), and with the listing disturbed by ``repeat`` /
      ``skip`` / ``add`` on an order-listing request (the sandbox applies them, see below).

    ``repeat=n``: n new orders land at the front of the listing just before the page is served,
    as in a newest-first listing: this page and the later ones start n orders earlier, so the
    client meets n orders twice (and the new ones only on its next pass). ``skip=n``: the first n
    orders of the listing (already served) move to its end, as in a listing sorted by last change
    when they are edited: this page and the later ones start n later, so n orders the client has
    not met are jumped over this pass (they come with the next). ``add=n``: n new orders at the end.

    *When* — ``count`` matching requests get it (None: no limit). A plain fault (no ``rate``, no
    ``nth``) takes the next matching requests, first injected first, as before. ``rate`` (0..1]:
    each matching request gets it with that probability (a seeded RNG). ``nth``: the nth matching
    request counted from injection gets it (or the first after it that another fault did not take).
    """

    status: int | None = None
    retry_after: float | None = None
    delay: float = 0.0
    malformed: bool = False
    drop: bool = False
    path: str | None = None
    count: int | None = None  # None: 1 for a plain or nth fault, unlimited for a rate fault
    truncate: bool = False
    auth: bool = False
    repeat: int = 0
    skip: int = 0
    add: int = 0
    rate: float | None = None
    nth: int | None = None
    method: str | None = None
    seed: int | None = None
    # Bookkeeping: matching requests seen (for nth) and the rate's RNG.
    _seen: int = field(default=0, init=False, repr=False, compare=False)
    _rng: random.Random | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.count is None and self.rate is None:
            self.count = 1
        problems = []
        if self.status is not None and not 100 <= int(self.status) <= 599:
            problems.append(f"status {self.status} is not an HTTP status")
        if self.rate is not None and not 0 < float(self.rate) <= 1:
            problems.append(f"rate {self.rate} must be in (0, 1]")
        if self.nth is not None and int(self.nth) < 1:
            problems.append(f"nth {self.nth} must be 1 or more")
        if self.count is not None and int(self.count) < 1:
            problems.append(f"count {self.count} must be 1 or more")
        if min(self.repeat, self.skip, self.add) < 0 or self.delay < 0:
            problems.append("repeat, skip, add and delay cannot be negative")
        if problems:
            raise FaultSpecError("; ".join(problems))
        if self.method:
            self.method = self.method.upper()

    @classmethod
    def from_json(cls, spec: Mapping[str, Any] | str) -> Fault:
        """A fault from a JSON object of the fields above, or from a spec string (:meth:`parse`)."""
        if isinstance(spec, str):
            return cls.parse(spec)
        known = {f.name for f in fields(cls) if f.init}
        unknown = set(spec) - known
        if unknown:
            raise ValueError(f"unknown fault keys: {sorted(unknown)}")
        return cls(**spec)

    @classmethod
    def parse(cls, text: str) -> Fault:
        """``KIND[:key=value,...][@WHEN]`` — e.g. ``500@20%``, ``429:retry_after=2@3rd``,
        ``hang:seconds=5,path=orders/search@2nd``, ``repeat:n=3@2nd``, ``truncate:method=POST@10%``.

        KIND: an HTTP status (``500``, ``502``, ``503``, ``429`` …), ``hang``, ``slow``, ``drop``,
        ``malformed``, ``truncate``, ``auth``, ``repeat``, ``skip``, ``add``, ``pass``. WHEN:
        ``N%`` (a rate), ``Nth`` / ``N`` (the Nth matching request), ``xN`` (the next N),
        ``always``, ``next`` (the default: the next matching request). docs/faults.md has the table.
        """
        raw = text.strip()
        head, _, when = raw.partition("@")
        kind, _, opts = head.partition(":")
        kind = kind.strip().lower()
        options: dict[str, Any] = {}
        for item in filter(None, (o.strip() for o in opts.split(","))):
            key, sep, value = item.partition("=")
            key = key.strip().lower().replace("-", "_")
            if not sep or key not in _SPEC_KEYS:
                raise FaultSpecError(
                    f"fault {raw!r}: option {item!r} is not one of {', '.join(k + '=…' for k in _SPEC_KEYS)}"
                )
            try:
                options[key] = _SPEC_KEYS[key](value.strip())
            except ValueError:
                raise FaultSpecError(f"fault {raw!r}: {key}={value!r} is not a {_SPEC_KEYS[key].__name__}") from None
        args: dict[str, Any] = {k: options.pop(k) for k in ("path", "method", "count", "seed") if k in options}
        seconds = options.pop("seconds", options.pop("delay", None))
        n = options.pop("n", 1)
        if kind.isdigit() and len(kind) == 3:
            args["status"] = int(kind)
            if kind == "429":
                args["retry_after"] = options.pop("retry_after", RETRY_AFTER_SECONDS)
        elif kind == "hang":
            args.update(drop=True, delay=HANG_SECONDS if seconds is None else seconds)
        elif kind in ("slow", "delay"):
            args["delay"] = SLOW_SECONDS if seconds is None else seconds
        elif kind in ("drop", "malformed", "truncate", "auth"):
            args[kind] = True
            if kind == "malformed" and "status" in options:
                args["status"] = options.pop("status")
        elif kind in ("repeat", "skip", "add"):
            args[kind] = n
        elif kind != "pass":
            raise FaultSpecError(
                f"fault {raw!r}: unknown kind {kind!r}; expected an HTTP status (500, 429 …), "
                "hang, slow, drop, malformed, truncate, auth, repeat, skip, add or pass"
            )
        if seconds is not None and kind not in ("hang", "slow", "delay"):
            args["delay"] = seconds  # any fault may also be slow
        if options:
            raise FaultSpecError(f"fault {raw!r}: {', '.join(sorted(options))} does not apply to {kind}")
        args.update(_when(raw, when.strip().lower()))
        return cls(**args)

    @property
    def armed(self) -> bool:
        """A rate or nth fault watches every matching request; a plain one takes the next ones."""
        return self.rate is not None or self.nth is not None

    @property
    def listing(self) -> bool:
        """Only an order-listing request can repeat, skip or add orders."""
        return bool(self.repeat or self.skip or self.add)

    @property
    def kind(self) -> str:
        """A short name for counting what was played."""
        if self.drop:
            return "hang" if self.delay else "drop"
        if self.malformed:
            return "malformed"
        if self.auth:
            return "auth"
        if self.status is not None:
            return str(self.status)
        if self.truncate:
            return "truncate"
        if self.listing:
            return "repeat" if self.repeat else "skip" if self.skip else "add"
        return "slow" if self.delay else "pass"

    def matches(self, path: str, method: str | None = None, listing: bool | None = None) -> bool:
        if self.path is not None and self.path not in path:
            return False
        if self.method is not None and method is not None and self.method != method.upper():
            return False
        return not (self.listing and listing is False)

    def response(self) -> Response | None:
        """The answer that replaces the real one, or None to answer normally (after the delay).
        An ``auth`` fault is answered by :meth:`FaultQueue.serve`, which knows the partner's words."""
        if self.drop:
            return Response(drop=True)
        if self.malformed:
            return Response(
                status=self.status or 200, body=b"<html><body>Service hiccup</body></html>", content_type="text/html"
            )
        if self.status is None:
            return None
        headers = {} if self.retry_after is None else {"Retry-After": _seconds(self.retry_after)}
        return Response(
            status=self.status,
            body=f"injected fault: HTTP {self.status}".encode(),
            content_type="text/plain",
            headers=headers,
        )

    def describe(self) -> dict[str, Any]:
        data = {f.name: getattr(self, f.name) for f in fields(self) if f.init}
        defaults = {f.name: f.default for f in fields(self) if f.init}
        return {"kind": self.kind, **{k: v for k, v in data.items() if v != defaults[k]}}


def _when(raw: str, when: str) -> dict[str, Any]:
    if when in ("", "next"):
        return {}
    if when == "always":
        return {"rate": 1.0}
    if when.endswith("%"):
        try:
            return {"rate": float(when[:-1]) / 100}
        except ValueError:
            pass
    if when.startswith("x") and when[1:].isdigit():
        return {"count": int(when[1:])}
    ordinal = _ORDINAL.match(when)
    if ordinal:
        return {"nth": int(ordinal.group(1))}
    raise FaultSpecError(
        f"fault {raw!r}: when {when!r} is not N% (a rate), Nth (the Nth request), xN (the next N), always or next"
    )


def parse_faults(specs: Any) -> list[Fault]:
    """Faults from a spec string, a JSON object, or a list of either (the POST body of
    ``/_sandbox/faults`` and the ``--fault`` options)."""
    items = specs if isinstance(specs, list) else [specs]
    if not items or not all(isinstance(item, (str, dict)) for item in items):
        raise ValueError("expected a fault spec string, a JSON object, or an array of them")
    return [Fault.from_json(item) for item in items]


class FaultQueue:
    """Faults waiting for upcoming requests, thread-safe; what was played is counted.

    ``auth_response(request)`` is the partner's own wrong-signature answer; ``is_listing(request)``
    says whether a request reads a page of orders (only those can repeat / skip / add). Rate
    faults draw from their own RNG seeded with the fault's ``seed``, else ``seed`` and the order of
    injection, so a run is repeatable for the same sequence of requests.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        auth_response: Callable[[Request], Response] | None = None,
        is_listing: Callable[[Request], bool] | None = None,
    ) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()
        self.seed = seed
        self._injected = 0
        self._auth_response = auth_response
        self._is_listing = is_listing
        self.played: Counter[str] = Counter()
        self.requests = 0  # requests served through serve(), faulty or not
        self.in_flight = 0  # requests being answered right now (a fault's delay included)
        self.peak_in_flight = 0  # the most answered at once since the queue was made

    def inject(self, fault: Fault | str | Mapping[str, Any]) -> Fault:
        if not isinstance(fault, Fault):
            fault = Fault.from_json(fault)
        with self._lock:
            self._injected += 1
            fault._rng = random.Random(fault.seed if fault.seed is not None else f"{self.seed}:{self._injected}")
            self._faults.append(fault)
        return fault

    def inject_specs(self, specs: Any) -> int:
        faults = parse_faults(specs)
        for fault in faults:
            self.inject(fault)
        return len(faults)

    def take(self, path: str, method: str | None = None, listing: bool | None = None) -> Fault | None:
        """The fault for this request, consuming one of its uses: the first armed (rate / nth)
        fault that fires, else the first plain fault that matches."""
        with self._lock:
            chosen = None
            for fault in self._faults:
                if not fault.armed or not fault.matches(path, method, listing):
                    continue
                fault._seen += 1
                hit = fault.rate is None or (fault._rng or random).random() < fault.rate
                if hit and (fault.nth is None or fault._seen >= fault.nth) and chosen is None:
                    chosen = fault
            if chosen is None:
                chosen = next((f for f in self._faults if not f.armed and f.matches(path, method, listing)), None)
            if chosen is not None and chosen.count is not None:
                chosen.count -= 1
                if chosen.count <= 0:
                    self._faults.remove(chosen)
            return chosen

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [f.describe() for f in self._faults]

    def stats(self) -> dict[str, int]:
        """How many requests each kind of fault was played on since the queue was made."""
        with self._lock:
            return dict(self.played)

    def apply(self, path: str) -> Response | None:
        """Take and play the next fault for ``path``: sleep its delay, return its answer."""
        fault = self.take(path)
        if fault is None:
            return None
        self._count(fault, path)
        if fault.delay:
            time.sleep(fault.delay)
        return fault.response()

    def serve(self, request: Request, answer: Callable[[Fault | None], Response]) -> Response:
        """Answer ``request`` through the faults: ``answer(page_fault)`` computes the real answer
        (a listing fault is passed to it, for the sandbox to disturb its listing)."""
        with self._lock:
            self.requests += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            return self._serve(request, answer)
        finally:
            with self._lock:
                self.in_flight -= 1

    def _serve(self, request: Request, answer: Callable[[Fault | None], Response]) -> Response:
        listing = bool(self._is_listing(request)) if self._is_listing else None
        fault = self.take(request.path, request.method, listing)
        if fault is None:
            return answer(None)
        self._count(fault, request.path)
        if fault.delay:
            time.sleep(fault.delay)
        if fault.auth and not (fault.drop or fault.malformed):
            if self._auth_response is not None:
                return self._auth_response(request)
            return Response(status=401, body=b"injected fault: wrong signature", content_type="text/plain")
        replaced = fault.response()
        if replaced is not None:
            return replaced
        real = answer(fault if fault.listing and listing else None)
        return replace(real, truncate=True) if fault.truncate else real

    def _count(self, fault: Fault, path: str) -> None:
        with self._lock:
            self.played[fault.kind] += 1
        log.info("sandbox_fault", kind=fault.kind, path=path)


class SandboxServer:
    """Serves one app on ``host:port`` (port 0 = a free one), in a thread or the foreground."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"app": app})
        self._server = _Server((host, port), handler)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="sandbox",
            kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
            daemon=True,
        )
        self._thread.start()

    def serve_forever(self) -> None:
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


CONTROL_PREFIX = "/_sandbox/"

ControlHandlers = dict[tuple[str, str], Callable[[], Any]]


class PartnerSandbox:
    """What every partner sandbox shares: its server's lifecycle, the HTTP entry point (control
    endpoints under ``/_sandbox/``, the partner's API under ``api_base_path`` behind the fault
    queue) and the control endpoints every sandbox has (health, faults, reset).

    A partner's sandbox sets ``api_base_path``, builds ``self.faults`` and calls ``_serve_on``
    at the end of its ``__init__``, and answers with ``_answer`` (the API), ``_not_found``
    (a path outside the API, in the partner's error shape), ``health`` and ``reset``; it adds
    its own control endpoints in ``_control_handlers``.
    """

    api_base_path: ClassVar[str]
    faults: FaultQueue
    _server: SandboxServer

    def _serve_on(self, host: str, port: int) -> None:
        self._server = SandboxServer(self, host, port)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url})"

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The API base, as a site's base URL."""
        return self._server.base_url + self.api_base_path

    @property
    def control_url(self) -> str:
        return self._server.base_url + CONTROL_PREFIX.rstrip("/")

    def start(self) -> Any:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    # --- what a partner's sandbox answers ---------------------------------------------------------
    def _answer(self, request: Request, listing_fault: Fault | None) -> Response:
        raise NotImplementedError

    def _not_found(self, request: Request) -> Response:
        raise NotImplementedError

    def health(self, request: Request) -> dict[str, Any]:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError

    def _control_handlers(self, request: Request, action: str) -> ControlHandlers:
        return {}

    # --- HTTP entry point --------------------------------------------------------------------
    def handle(self, request: Request) -> Response:
        if request.path.startswith(CONTROL_PREFIX):
            return self._control(request)
        if not request.path.startswith(self.api_base_path + "/"):
            return self._not_found(request)
        return self.faults.serve(request, lambda listing_fault: self._answer(request, listing_fault))

    # --- /_sandbox/ ----------------------------------------------------------------------------
    def _control(self, request: Request) -> Response:
        action = "/".join(part for part in request.path[len(CONTROL_PREFIX) :].split("/") if part)
        handlers: ControlHandlers = {
            ("GET", "health"): lambda: self.health(request),
            ("GET", "faults"): lambda: {"pending": self.faults.pending(), "played": self.faults.stats()},
            ("POST", "faults"): lambda: {"queued": self.queue_faults(request.json)},
            ("POST", "reset"): self._control_reset,
            **self._control_handlers(request, action),
        }
        handler = handlers.get((request.method, action))
        if handler is None:
            return Response.json({"error": f"no control endpoint {request.method} {action}"}, 404)
        try:
            return Response.json(handler())
        except KeyError as exc:
            return Response.json({"error": str(exc.args[0])}, 404)
        except (TypeError, ValueError) as exc:
            return Response.json({"error": str(exc)}, 400)

    def _control_reset(self) -> dict[str, Any]:
        self.reset()
        return {"ok": True}

    def queue_faults(self, spec: Any) -> int:
        """Queue faults given as spec strings ("500@20%"), JSON objects or Fault objects."""
        faults = parse_faults(spec)
        for fault in faults:
            self.faults.inject(fault)
        return len(faults)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up (its timeout, a test) is routine, not a traceback on stderr.

        Errors inside an app never get here: the handler turns them into a 500.
        """
        log.debug("sandbox_connection_error", error=type(sys.exc_info()[1]).__name__)


class _Handler(BaseHTTPRequestHandler):
    """Parses the request, asks the app, writes the answer. HTTP/1.1 so clients can pool."""

    app: App
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT
    # Headers and body leave in one write: split small writes on a keep-alive connection meet
    # Nagle + delayed ACK and cost ~40 ms a request.
    wbufsize = -1

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    def _dispatch(self) -> None:
        try:
            response = self.app.handle(self._parse())
        except Exception:  # the sandbox must answer, not die: a 500 is what a partner would do
            log.exception("sandbox_error", method=self.command, path=urlsplit(self.path).path)
            response = Response(status=500, body=b"sandbox error", content_type="text/plain")
        self._write(response)

    def _parse(self) -> Request:
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        content_type = self.headers.get_content_type()
        form: dict[str, str] = {}
        files: dict[str, Upload] = {}
        payload: Any = None
        if content_type == "application/json" and body:
            payload = _loads(body)
        elif content_type == "application/x-www-form-urlencoded":
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        elif content_type == "multipart/form-data":
            form, files = _parse_multipart(self.headers.get("Content-Type", ""), body)
        return Request(
            method=self.command,
            path=url.path,
            query=dict(parse_qsl(url.query, keep_blank_values=True)),
            headers=self.headers,
            body=body,
            form=form,
            files=files,
            json=payload,
        )

    def _write(self, response: Response) -> None:
        if response.drop:
            self.close_connection = True
            return
        body = response.body
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(max(len(body), 1) if response.truncate else len(body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if response.truncate:  # the client reads a body that stops short, then the connection closes
            body = body[: len(body) // 2]
            self.close_connection = True
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Method and path only: query strings may carry signatures and keys."""
        log.debug("sandbox_request", method=self.command, path=urlsplit(self.path).path)


def _parse_multipart(content_type: str, body: bytes) -> tuple[dict[str, str], dict[str, Upload]]:
    """Form fields and file parts of a multipart/form-data body (the stdlib email parser)."""
    message = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
    form: dict[str, str] = {}
    files: dict[str, Upload] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        filename = part.get_filename()
        if filename is None:
            form[name] = content.decode(part.get_content_charset() or "utf-8", "replace")
        else:
            files[name] = Upload(filename, part.get_content_type(), content)
    return form, files


def _loads(body: bytes) -> Any:
    try:
        return json.loads(body)
    except ValueError:
        return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def renamed(order: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """An order as a partner that spells some top-level keys differently would serve it
    (``renames``: our key -> theirs); the drift alarm and the tolerant readers are tested with it."""
    return {renames.get(key, key): value for key, value in order.items()}
