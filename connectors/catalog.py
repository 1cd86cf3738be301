"""Catalog and customer push, as a partner offers them: the shapes ``services.catalog`` (and
``services.customer_push``) hand a partner's pusher and get back, and the capabilities a partner
declares in its spec (``catalog=CatalogPush(...)``, ``customers=CustomerPush(...)``).

The services read the ERP's catalog into these plain objects, work out what changed since the
partner last accepted it (a content hash per site and item), send only that, in batches, and record
each item's outcome; they never name a partner. A pusher (``connectors/<name>/catalog.py``) turns
the objects into the partner's rows and calls, and answers per item.

Items and their keys (what the services record one row per):

- ``style``: key = style number. Everything of a style but its images: description, season,
  category, division, its colours with their SKUs, and its prices per price type (a colour's own
  prices where they differ from the style's). The pusher sends SKUs and prices with it.
- ``image``: key = :meth:`Image.key`. One image of a style or style-colour.
- ``linesheet``: key = linesheet name. The linesheet and the styles on it, in order.
- ``customer``: key = ERP customer code.

A removal (a style made inactive in the ERP, once accepted on the partner) is the ``style`` item
sent to :meth:`CatalogPusher.remove_styles`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Final, Literal, NamedTuple, Protocol

ItemKind = Literal["style", "image", "linesheet", "customer"]
ITEM_KINDS: tuple[ItemKind, ...] = ("style", "image", "linesheet", "customer")

# Final, so each is its Literal and fits ItemResult.outcome (Outcome) under mypy.
ACCEPTED: Final = "accepted"
REJECTED: Final = "rejected"
AWAITING: Final = "awaiting"
REMOVED: Final = "removed"
Outcome = Literal["accepted", "rejected", "awaiting", "removed"]


# --- What the ERP holds, as a push reads it -------------------------------------------------------


@dataclass(frozen=True)
class Price:
    """A price of a style (or of one of its colours) in one ERP price type."""

    price_type: str  # ERP price type code (price_type.code)
    currency: str  # ISO 4217, the price type's currency
    wholesale: Decimal
    retail: Decimal | None = None


@dataclass(frozen=True)
class CatalogSku:
    sku: str  # the ERP's SKU id
    size: str
    size_index: int  # the size's place in the size run (S=0, M=1 ...)
    upc: str | None


@dataclass(frozen=True)
class Image:
    """One image: a file under ``folder`` (``source`` relative to it) or a URL (``source``)."""

    style_number: str
    color_code: str | None  # None: a style-level image
    kind: Literal["style", "style_color", "swatch"]
    position: int  # display order, from 1
    source: str
    folder: str = ""  # absolute folder of a file; "" for a URL
    alt: str | None = None
    checksum: str = ""  # sha256 of the file's bytes (files), so a changed file is sent again
    style_partner_id: str | None = None  # the partner's id of the image's style, when it holds it

    @property
    def is_url(self) -> bool:
        return self.source.startswith(("http://", "https://"))

    @property
    def path(self) -> Path | None:
        return None if self.is_url else Path(self.folder) / self.source

    def key(self) -> str:
        return f"{self.style_number}/{self.color_code or ''}/{self.kind}/{self.position}"


@dataclass(frozen=True)
class CatalogColor:
    code: str
    name: str
    skus: tuple[CatalogSku, ...]
    prices: tuple[Price, ...]  # this colour's prices: its own where the ERP has them, else the style's
    own_prices: bool = False  # True when at least one price differs from the style's


@dataclass(frozen=True)
class CatalogStyle:
    number: str
    description: str
    season: str | None
    category: str | None
    division: str | None
    active: bool
    prices: tuple[Price, ...]  # the style's prices per price type
    colors: tuple[CatalogColor, ...]
    partner_id: str | None = None  # the partner's id for it, when known (accepted before, or matched)

    @property
    def split_by_color(self) -> bool:
        """Colours carry different prices (the seed's reason to split a style by colour)."""
        return any(c.own_prices for c in self.colors)

    @property
    def upcs(self) -> tuple[str, ...]:
        return tuple(s.upc for c in self.colors for s in c.skus if s.upc)


@dataclass(frozen=True)
class Linesheet:
    name: str
    season: str | None
    starts: date | None  # delivery window
    ends: date | None
    styles: tuple[str, ...]  # style numbers, in order
    partner_ids: tuple[str | None, ...] = ()  # the partner's id of each style, in the same order


@dataclass(frozen=True)
class CustomerAddress:
    kind: Literal["billing", "shipping"]
    name: str | None
    line1: str | None
    line2: str | None
    city: str | None
    state: str | None
    postal_code: str | None
    country: str | None


@dataclass(frozen=True)
class CatalogCustomer:
    code: str
    name: str
    email: str | None
    phone: str | None
    terms_code: str | None
    ship_via_code: str | None
    rep_code: str | None
    division_code: str | None
    addresses: tuple[CustomerAddress, ...] = ()


# --- What a partner answers ----------------------------------------------------------------------


class ItemResult(NamedTuple):
    """The partner's answer for one item of a batch, by its key.

    ``accepted``: the partner holds it as sent (``partner_id``: its id there, recorded);
    ``rejected``: refused, ``message`` in the partner's words (with what to do where known) — the
    item stays a problem row and is sent again on the next push; ``awaiting``: sent, the partner
    has not finished with it (an asynchronous job, or JOOR matching a new customer, 1-2 business
    days) — ``ticket`` is what :meth:`CustomerPusher.poll` is asked about; ``removed``: a removal
    the partner carried out."""

    key: str
    outcome: Outcome
    message: str | None = None
    partner_id: str | None = None
    ticket: str | None = None


class PartnerProduct(NamedTuple):
    """A product already on the partner (made there by hand, or by an earlier push), for matching
    to ERP styles before anything is created: by style number, else by a UPC."""

    partner_id: str
    style_number: str | None
    upcs: tuple[str, ...] = ()
    name: str | None = None


class CatalogPusher(Protocol):
    """A partner's side of one catalog push (opened per push, closed after it). Each ``send_*``
    gets at most the capability's batch size and answers every item by key (an item it does not
    answer is taken as not sent, and is sent again next time). Raises RetryableError (the partner
    is down now: what was answered before is kept), AuthError, or PartnerRejected for a refusal
    of the whole batch (each item recorded rejected with its message)."""

    def existing(self) -> Iterable[PartnerProduct]:
        """The partner's products, to match ERP styles that have no partner id yet."""
        ...

    def check(self, style: CatalogStyle) -> list[str]:
        """What this partner cannot take about a style, each a sentence naming the style and what
        to do (a SKU without a UPC where the partner keys by UPC, a price type it has no price
        for...); a style with problems is not sent and is recorded rejected with them."""
        ...

    def send_styles(self, batch: Sequence[CatalogStyle], *, full: bool) -> list[ItemResult]: ...

    def remove_styles(self, batch: Sequence[CatalogStyle]) -> list[ItemResult]:
        """Remove (or deactivate, as the site's settings say) styles inactive in the ERP."""
        ...

    def send_images(self, batch: Sequence[Image]) -> list[ItemResult]: ...

    def send_linesheets(self, batch: Sequence[Linesheet]) -> list[ItemResult]: ...

    def close(self) -> None: ...


class CustomerPusher(Protocol):
    """A partner's side of one customer push."""

    def send(self, batch: Sequence[CatalogCustomer]) -> list[ItemResult]: ...

    def poll(self, tickets: Sequence[str]) -> list[ItemResult]:
        """The items of unfinished tickets that are now settled (accepted, rejected, or still
        awaiting with a newer message); items not yet settled may be left out."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class CatalogPush:
    """A partner's catalog push capability: how to open its pusher, and what it takes."""

    open: Callable[[Any, Any], CatalogPusher]  # (the partner's client, the site's settings) -> pusher
    batch_styles: int  # styles per send_styles call
    batch_images: int = 1  # images per send_images call
    images: bool = True  # the partner takes images
    linesheets: bool = True  # the partner takes linesheets
    removal: tuple[str, ...] = ("deactivate",)  # what it can do with an inactive style: remove, deactivate
    notes: Mapping[str, str] = field(default_factory=dict)  # anything the README's partner table says


@dataclass(frozen=True)
class CustomerPush:
    """A partner's customer push capability."""

    open: Callable[[Any, Any], CustomerPusher]
    batch: int  # customers per send call
    asynchronous: bool = False  # True: answers are tickets to poll (awaiting until settled)
