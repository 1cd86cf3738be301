"""The one place the rest of Bobbin learns about partners.

A partner is one package under ``connectors/`` that exports ``SPEC`` (a :class:`PartnerSpec`),
plus one line in :data:`PARTNERS`. The spec says what the partner is called, which settings and
credentials a site of it has, how to build its client, and which capabilities it offers — each
an object the services call:

==============  ==========================================  ===================================
capability      object                                      used by
==============  ==========================================  ===================================
``orders``      :class:`OrderPull` (opens an OrderSource)    ``services.pipeline`` (import)
``writeback``   :class:`StatusWriteback` (a StatusWriter)    ``services.writeback`` (the outbox)
``inventory``   ``connectors.inventory.InventoryPush``        ``services.inventory``
``catalog``     ``connectors.catalog.CatalogPush``            ``services.catalog``
``customers``   ``connectors.catalog.CustomerPush``           ``services.customer_push``
``returns``     ``connectors.returns.ReturnsPull``            ``services.returns`` (poll, details)
``events``      ``connectors.events.EventSource``             ``web.events`` (the webhook receiver)
==============  ==========================================  ===================================

A service asks :meth:`PartnerSpec.capability` and gets :class:`NotOffered` ("JOOR sites do not
push events") when the partner lacks it. Tests may add a partner with :func:`registered`.

What the ``bobbin`` command needs before any work (the kinds, how people call them, which have a
sandbox: its help and its choices) is plain data here, :data:`PARTNERS` (:func:`info`), so a
command does not import every partner's package, HTTP client and models to start; the package is
imported when its spec is asked for (:func:`partner`), and must agree with its entry.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, overload

from connectors.base import OrderSource, PartnerOrder, StatusWriter
from connectors.catalog import CatalogPush, CustomerPush
from connectors.drift import PayloadContract
from connectors.events import EventSource
from connectors.inventory import InventoryPush
from connectors.returns import ReturnsPull
from connectors.settings import SiteSettings


@dataclass(frozen=True)
class PartnerInfo:
    """A partner as known without importing its package; its SPEC says the same (:func:`partner`
    checks it when the package is loaded)."""

    kind: str  # the site kind (PartnerSpec.kind)
    package: str  # the module whose SPEC describes it ("" for a partner added with registered())
    label: str  # PartnerSpec.label
    doc: str = ""  # PartnerSpec.doc
    sandbox: str | None = None  # the module of its sandbox (PartnerSpec.sandbox.module); None: it has none

    @classmethod
    def of(cls, spec: PartnerSpec, package: str) -> PartnerInfo:
        return cls(spec.kind, package, spec.label, spec.doc, spec.sandbox.module if spec.sandbox else None)


# One entry per partner.
PARTNERS: tuple[PartnerInfo, ...] = (
    PartnerInfo(
        "brandboom",
        "connectors.brandboom",
        "Brandboom",
        doc="Brandboom API v2 (public and secret key from the Account page)",
        sandbox="sandbox.brandboom.demo",
    ),
    PartnerInfo(
        "joor",
        "connectors.joor",
        "JOOR",
        doc="JOOR API v2 (the API token from JOOR's integration manager)",
        sandbox="sandbox.joor.demo",
    ),
    PartnerInfo(
        "loop",
        "connectors.loop",
        "Loop Returns",
        doc="Loop Returns API v1 (an API key with the Returns scope, and the webhook secret)",
        sandbox="sandbox.loop.demo",
    ),
    PartnerInfo(
        "ebay",
        "connectors.ebay",
        "eBay",
        doc="eBay Sell APIs (the app's client id and secret, and the seller's refresh token)",
        sandbox="sandbox.ebay.demo",
    ),
)
_LISTED = {entry.kind: entry for entry in PARTNERS}

# More partners from outside this repository: BOBBIN_PARTNERS="kind=package,kind2=package2" (each
# package exports SPEC like the ones above; the test suite's toy partner is added to workers this way).
EXTRA_PARTNERS_ENV = "BOBBIN_PARTNERS"

T = TypeVar("T")


@dataclass(frozen=True)
class OrderPull:
    """Orders read from the partner on a schedule (pull)."""

    open: Callable[[Any, Any], OrderSource]  # (client, settings) -> OrderSource
    to_partner_order: Callable[[Mapping[str, Any]], PartnerOrder]  # a stored raw payload, read again
    order_fields: Mapping[str, str]  # connectors.base.ORDER_FIELDS -> the partner's field name
    payload: PayloadContract  # what an order payload should hold (the drift count)
    exported_when: Literal["imported", "staged"]  # when the partner is told "exported" (OrderSource)


@dataclass(frozen=True)
class StatusWriteback:
    """Status changes (and customer codes) written back to the partner through the outbox."""

    open: Callable[[Any, Any], StatusWriter]  # (client, settings) -> StatusWriter
    statuses: tuple[str, ...]  # which of connectors.base.WRITEBACK_STATUSES (+ CUSTOMER_CODE) it takes
    # settings -> (n, lane settings): how many writebacks of one site may be in flight at once, each
    # on a connection of its own, and the settings each connection's client is built with (a partner
    # whose rate limit is per account gives each a share of it). None: one at a time.
    lanes: Callable[[Any], tuple[int, Any]] | None = None


@dataclass(frozen=True)
class Sandbox:
    """The partner's local emulator (``sandbox/<package>``), which ``bobbin run`` starts."""

    module: str  # its module with serve_demo(host, port, faults, console): the sandbox with the demo brand
    api_path: str  # appended to http://host:port for a site's base URL
    port_setting: str  # the core.settings.Settings field with its default port


Capability = Literal["orders", "writeback", "inventory", "catalog", "customers", "returns", "events"]
CAPABILITIES: dict[Capability, str] = {
    "orders": "import orders",
    "writeback": "take status writebacks",
    "inventory": "take inventory pushes",
    "catalog": "take catalog pushes",
    "customers": "take customer pushes",
    "returns": "send returns",
    "events": "push events",
}
# The capabilities opened on the partner's client (``open(client, settings)``); events are not:
# the receiver verifies and parses a request with the site's secret alone.
Opened = Literal["orders", "writeback", "inventory", "catalog", "customers", "returns"]
OPENED: tuple[Opened, ...] = ("orders", "writeback", "inventory", "catalog", "customers", "returns")


class UnknownPartner(ValueError):
    pass


class NotOffered(ValueError):
    """The site's partner does not offer what was asked; the message says which partners do."""


@dataclass(frozen=True)
class PartnerSpec:
    kind: str  # the site kind stored on a site row
    label: str  # how people call the partner
    settings: type[SiteSettings]  # the site settings model (validated when a site is added or changed)
    credential_fields: tuple[str, ...]  # what `bobbin sites add` asks for (all secret)
    client: Callable[[str, Mapping[str, str], Any], Any]  # (base URL, credentials, settings) -> client
    orders: OrderPull | None = None
    writeback: StatusWriteback | None = None
    inventory: InventoryPush | None = None
    catalog: CatalogPush | None = None
    customers: CustomerPush | None = None
    returns: ReturnsPull | None = None
    events: EventSource | None = None
    sandbox: Sandbox | None = None
    doc: str = ""  # one line for `bobbin sites add --help`

    @overload
    def capability(self, name: Literal["orders"]) -> OrderPull: ...
    @overload
    def capability(self, name: Literal["writeback"]) -> StatusWriteback: ...
    @overload
    def capability(self, name: Literal["inventory"]) -> InventoryPush: ...
    @overload
    def capability(self, name: Literal["catalog"]) -> CatalogPush: ...
    @overload
    def capability(self, name: Literal["customers"]) -> CustomerPush: ...
    @overload
    def capability(self, name: Literal["returns"]) -> ReturnsPull: ...
    @overload
    def capability(self, name: Literal["events"]) -> EventSource: ...

    def capability(self, name: Capability) -> Any:
        found = getattr(self, name)
        if found is None:
            offering = [s.label for s in specs() if getattr(s, name) is not None]
            others = f"; {', '.join(offering)} sites do" if offering else "; no partner does yet"
            raise NotOffered(f"{self.label} sites do not {CAPABILITIES[name]} in Bobbin{others}")
        return found

    def offers(self, name: Capability) -> bool:
        return getattr(self, name) is not None

    def opener(self, name: Opened) -> Callable[[Any, Any], Any]:
        """How the capability is opened on the partner's client: ``(client, settings) -> object``.
        NotOffered when the partner lacks it; ValueError for a capability not opened on a client."""
        if name not in OPENED:
            raise ValueError(f"the {name} capability is not opened on a client; these are: {', '.join(OPENED)}")
        opener: Callable[[Any, Any], Any] = self.capability(name).open
        return opener


_loaded: dict[str, PartnerSpec] = {}
_extra: dict[str, PartnerSpec] = {}


def _modules() -> dict[str, str]:
    """kind -> package: :data:`PARTNERS`, then those named in ``BOBBIN_PARTNERS``."""
    extra = {}
    for item in filter(None, (p.strip() for p in os.environ.get(EXTRA_PARTNERS_ENV, "").split(","))):
        kind, _, module = item.partition("=")
        if not module:
            raise RuntimeError(f"{EXTRA_PARTNERS_ENV}: {item!r} is not kind=package")
        extra[kind.strip()] = module.strip()
    return {**{entry.kind: entry.package for entry in PARTNERS}, **extra}


def partner(kind: str) -> PartnerSpec:
    """The spec of a site kind (its package imported), or UnknownPartner naming the kinds there are."""
    if kind in _extra:
        return _extra[kind]
    modules = _modules()
    if kind not in modules:
        raise UnknownPartner(f"no partner kind {kind!r}; available: {', '.join(kinds())}")
    if kind not in _loaded:
        spec = importlib.import_module(modules[kind]).SPEC
        if not isinstance(spec, PartnerSpec) or spec.kind != kind:
            raise RuntimeError(f"{modules[kind]}.SPEC must be the PartnerSpec of kind {kind!r}")
        listed = _LISTED.get(kind)
        if listed is not None and listed.package == modules[kind] and PartnerInfo.of(spec, listed.package) != listed:
            raise RuntimeError(
                f"connectors.registry.PARTNERS says {listed}, but {listed.package}.SPEC says "
                f"{PartnerInfo.of(spec, listed.package)}: make them agree"
            )
        _loaded[kind] = spec
    return _loaded[kind]


def kinds() -> list[str]:
    return sorted({*_modules(), *_extra})


def specs() -> list[PartnerSpec]:
    """Every partner's spec: imports every partner's package (for what is named only, see :func:`infos`)."""
    return [partner(kind) for kind in kinds()]


def info(kind: str) -> PartnerInfo:
    """A partner's kind, label, doc and sandbox without importing its package when
    :data:`PARTNERS` lists it (one named in ``BOBBIN_PARTNERS`` is imported); UnknownPartner else."""
    modules = _modules()
    listed = _LISTED.get(kind)
    if kind not in _extra and listed is not None and modules.get(kind) == listed.package:
        return listed
    return PartnerInfo.of(partner(kind), "" if kind in _extra else modules[kind])


def infos() -> list[PartnerInfo]:
    """:func:`info` of every kind, in the order of :func:`kinds`."""
    return [info(kind) for kind in kinds()]


def label(kind: str) -> str:
    """The partner's name for people; the kind itself for a kind no package serves (old rows)."""
    try:
        return info(kind).label
    except UnknownPartner:
        return kind


def open_on(client: Any, opener: Callable[[Any, Any], Any], settings: SiteSettings) -> Any:
    """``opener(client, settings)`` (a :meth:`PartnerSpec.opener`): the object's ``close()``
    closes the client; when opening fails, the client is closed here."""
    try:
        return opener(client, settings)
    except BaseException:
        close = getattr(client, "close", None)
        if close:
            close()
        raise


def order_source(
    spec: PartnerSpec, base_url: str, credentials: Mapping[str, Any], settings: Mapping[str, Any] | None = None
) -> Any:
    """The order source of one site of the partner from plain values (settings as stored on a
    site, validated by the partner's model): for tools and tests that have no site row. Each
    partner package's ``make_source`` is this, typed with its own source class."""
    opener = spec.opener("orders")
    parsed = spec.settings.model_validate(dict(settings or {}))
    return open_on(spec.client(base_url, credentials, parsed), opener, parsed)


@contextmanager
def registered(spec: PartnerSpec) -> Iterator[PartnerSpec]:
    """Add a partner for the duration of a block (tests add toy partners this way)."""
    if spec.kind in _modules() or spec.kind in _extra:
        raise ValueError(f"partner kind {spec.kind!r} is already registered")
    _extra[spec.kind] = spec
    try:
        yield spec
    finally:
        _extra.pop(spec.kind, None)
