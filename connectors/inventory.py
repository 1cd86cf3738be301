"""Inventory push, as a partner offers it: the shapes ``services.inventory`` hands a partner's
pusher and gets back, and the capability a partner declares in its spec.

The service works out what each partner warehouse should show (ATS, buckets, the diff against
what the partner accepted) and never names a partner; the pusher turns changes into the
partner's rows and sends a batch of them (``connectors/<name>/inventory.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple, Protocol

IMMEDIATE, FUTURE = "immediate", "future"
DEFAULT_WAREHOUSE = ""  # the partner's default warehouse (JOOR's "Default"; Brandboom's only one)

# (ERP SKU id, partner warehouse name, WIP date or None for immediate stock)
Key = tuple[str, str, date | None]
# (partner warehouse, WIP date or None) -> {ERP SKU id: quantity}: the shape the push works in.
Buckets = dict[tuple[str, date | None], dict[str, int]]


class Change(NamedTuple):
    """One bucket to send: what the partner last accepted (None: never sent) and the quantity now.
    ``gone``: sent before, no longer in the ERP's picture — sent as 0, its state then deleted."""

    sku: str
    warehouse: str
    available_on: date | None
    previous: int | None
    quantity: int
    gone: bool = False

    @property
    def key(self) -> Key:
        return (self.sku, self.warehouse, self.available_on)

    @property
    def bucket(self) -> str:
        return IMMEDIATE if self.available_on is None else FUTURE


class SkuInfo(NamedTuple):
    """What else names an ERP SKU to a partner (read by the service, one query per push)."""

    upc: str | None
    style_number: str
    color_code: str
    size: str


@dataclass(frozen=True)
class Unit:
    """One row as the partner receives it, and what it settles once accepted: the quantity to
    record per key, or None to forget a gone bucket. ``payload`` is the row as JSON (what a
    rejected batch records); ``wire`` the object the client sends, when it is not the payload;
    a unit with no payload has nothing the partner could be told (a gone SKU the ERP no longer
    knows, so no UPC or style to name it; or, ``not_held``, a SKU the partner holds no record of
    and would refuse — eBay takes quantities only for its inventory items): its state is
    forgotten without sending."""

    payload: dict[str, Any] | None
    settles: tuple[tuple[Key, int | None], ...]
    wire: Any = None
    not_held: bool = False

    @property
    def keys(self) -> tuple[Key, ...]:
        return tuple(key for key, _ in self.settles)


class BatchAnswer(NamedTuple):
    accepted: list[int]  # positions in the batch the partner took
    not_found: list[int]  # positions it answered it does not know (their state is not written)
    # Positions it refused one by one, with its message (a partner answering per row, as eBay's
    # bulk calls do): each is recorded as a rejection of that row, its state is not written and it
    # is sent again next time; the rest of the batch goes on.
    rejected: Sequence[tuple[int, str]] = ()


class Pusher(Protocol):
    """A partner's side of one push (opened per push, closed after it)."""

    def units(self, changes: Sequence[Change], desired: Buckets, skus: Mapping[str, SkuInfo]) -> list[Unit]:
        """The partner's rows for these changes (``desired``: every bucket now, for partners whose
        row carries several; ``skus``: UPC, style, color and size of each changed SKU the ERP has)."""
        ...

    def send(self, batch: Sequence[Unit], *, full: bool) -> BatchAnswer:
        """Send one batch. Raises PartnerRejected (the batch is recorded and sent again next
        time), RetryableError (the partner is down now) or AuthError."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class InventoryPush:
    """A partner's inventory push capability: how it keeps stock, and how to open its pusher."""

    open: Callable[[Any, Any], Pusher]  # (the partner's client, the site's settings) -> Pusher
    batch_rows: int  # rows per call
    per_warehouse: bool = True  # False: one count per SKU, every warehouse in scope adds up into it
    one_future_bucket: bool = False  # True: one future count and date per SKU
    wip_dates_removable: bool = True  # False: a gone WIP date is listed for a person to remove
    names_skus: bool = True  # False: its rows carry the ERP SKU id alone (``units`` gets no SkuInfo)
