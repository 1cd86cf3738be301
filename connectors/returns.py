"""Returns, as a partner offers them (Loop Returns today): the shapes ``services.returns`` and
``services.rma`` work with, and the capability a partner declares in its spec
(``returns=ReturnsPull(...)``).

A returns partner is read two ways: a poll of its list by ``updated_at`` since a cursor
(:meth:`ReturnsSource.iter_batches`) and, when it pushes an event, the one return read again
(:meth:`ReturnsSource.details`) so what is held is the return's state now, with its ``updated_at``.
What Bobbin asks of the partner about one return (process it, flag it, add a note to its timeline)
are :data:`RETURN_ACTIONS`, sent through the outbox like an order's status writebacks, by the
partner's :class:`ReturnWriter` (its ``writeback`` capability's object).

Nothing here names a partner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, Final, Protocol, runtime_checkable

# What the outbox may send about one return (``outbox.status`` of a row naming a return).
PROCESS: Final = "process"  # the goods are back: the partner refunds / fulfils the exchange
FLAG: Final = "flag"  # the return cannot become an RMA: flag it for review on the partner
NOTE_PROBLEM: Final = "note_problem"  # a note saying why (payload: content)
NOTE_RMA: Final = "note_rma"  # a note with the RMA's number (payload: content)
NOTE_CREDIT: Final = "note_credit"  # a note with the credit memo's and AR debit's numbers (payload: content)
RETURN_ACTIONS: Final = (PROCESS, FLAG, NOTE_PROBLEM, NOTE_RMA, NOTE_CREDIT)
NOTES: Final = (NOTE_PROBLEM, NOTE_RMA, NOTE_CREDIT)

# The Bobbin handler (services.events.HANDLERS) a returns partner maps its return events' topics to:
# the return is read again from the partner, held, and moved along the flow.
APPLY_RETURN: Final = "returns.apply"


class ReturnLine(Protocol):
    """One returned line as the partner's mapper reads it."""

    @property
    def line_no(self) -> int: ...
    @property
    def line_item_id(self) -> str | None: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def price(self) -> Decimal | None: ...
    @property
    def refund(self) -> Decimal | None: ...
    @property
    def return_reason(self) -> str | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def restock_location_id(self) -> str | None: ...


class Refund(Protocol):
    @property
    def amount(self) -> Decimal | None: ...
    @property
    def raw_amount(self) -> str | None: ...


class PartnerReturn(Protocol):
    """A return as a returns partner's mapper reads it (``connectors.loop.mapper.LoopReturn``)."""

    @property
    def return_id(self) -> str: ...
    @property
    def raw(self) -> Mapping[str, Any]: ...
    @property
    def state(self) -> str | None: ...
    @property
    def outcome(self) -> str | None: ...
    @property
    def updated_at(self) -> datetime | None: ...
    @property
    def order_name(self) -> str | None: ...
    @property
    def customer_email(self) -> str | None: ...
    @property
    def currency(self) -> str | None: ...
    @property
    def total(self) -> Decimal | None: ...
    @property
    def exchange_total(self) -> Decimal | None: ...
    @property
    def exchange_credit_total(self) -> Decimal | None: ...
    @property
    def exchange_order_name(self) -> str | None: ...
    @property
    def gift_card_order_name(self) -> str | None: ...
    @property
    def refunds(self) -> tuple[Refund, ...]: ...
    @property
    def lines(self) -> tuple[ReturnLine, ...]: ...
    @property
    def problems(self) -> tuple[Any, ...]: ...  # connectors.base.Problem
    @property
    def identified(self) -> bool: ...


@dataclass(frozen=True)
class ReturnsBatch:
    """One page of the partner's list. ``through``: once this page and every one before it is
    held, the poll's cursor may move to this moment (None: not yet, more pages of the window follow)."""

    returns: list[PartnerReturn]
    through: datetime | None


class ReturnsSource(Protocol):
    def iter_batches(self, since: datetime, until: datetime) -> Iterator[ReturnsBatch]:
        """Every return whose ``updated_at`` falls in ``[since, until]``, a page at a time, oldest
        window first. The caller commits each page before it asks for the next."""
        ...

    def details(self, return_id: str) -> PartnerReturn:
        """One return as the partner holds it now (raises PartnerError)."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class ReturnWriter(Protocol):
    """What the outbox needs from a partner it sends return actions to."""

    def act_on_return(self, return_id: str, action: str, payload: Mapping[str, Any]) -> None:
        """Send one of :data:`RETURN_ACTIONS` for one return (a note's text in ``payload["content"]``).
        Raises PartnerError; a refusal in the partner's words."""
        ...

    def return_action_applied(self, return_id: str, action: str, payload: Mapping[str, Any]) -> bool:
        """Whether the partner already shows the action (processed, flagged, the note on its
        timeline): asked before an uncertain attempt is sent again."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class ReturnsPull:
    """Returns read from the partner: a poll by ``updated_at`` and one return's details."""

    open: Callable[[Any, Any], ReturnsSource]  # (client, settings) -> ReturnsSource
    to_partner_return: Callable[[Any], PartnerReturn]  # a stored raw payload, read again
