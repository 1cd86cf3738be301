"""A Loop site as the returns service and the outbox use it: the returns poll, one return's
details, and the actions Bobbin sends about one return (``connectors.returns``).

Loop's client knows the API; this maps answers to :class:`~connectors.loop.mapper.LoopReturn`
and actions to calls, and reads a return back when the outbox is not sure an action arrived.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from connectors.errors import NotSupported, PartnerRejected
from connectors.loop import contract as c
from connectors.loop.client import LoopClient
from connectors.loop.mapper import LoopReturn, to_loop_return
from connectors.loop.settings import LoopSettings
from connectors.returns import FLAG, NOTES, PROCESS, ReturnsBatch


class LoopReturns:
    """One Loop site's returns: implements ``connectors.returns.ReturnsSource`` and ``ReturnWriter``."""

    def __init__(self, client: LoopClient, settings: LoopSettings | None = None) -> None:
        self.client = client
        self.settings = settings or LoopSettings()

    # --- ReturnsSource ----------------------------------------------------------------------------
    def iter_batches(self, since: datetime, until: datetime) -> Iterator[ReturnsBatch]:
        """Every return updated in ``[since, until]``, in every state (a cancelled or expired
        return voids its RMA, so Loop's default of open, closed and expired is not enough)."""
        for page in self.client.iter_return_pages(since, until, date_filter=c.FILTER_UPDATED_AT, states=c.STATES):
            returns = [to_loop_return(raw) for raw in page.returns]
            yield ReturnsBatch(list(returns), page.window_end if page.last_in_window else None)

    def details(self, return_id: str) -> LoopReturn:
        return to_loop_return(self.client.get_return(_loop_id(return_id)))

    # --- ReturnWriter -----------------------------------------------------------------------------
    def act_on_return(self, return_id: str, action: str, payload: Mapping[str, Any]) -> None:
        return_id = _loop_id(return_id)
        if action == PROCESS:
            self.client.process_return(return_id)
        elif action == FLAG:
            self.client.flag_return(return_id)
        elif action in NOTES:
            self.client.add_note(return_id, str(payload.get("content") or ""))
        else:
            raise NotSupported(f"Loop takes no {action!r} about a return", partner=c.PARTNER)

    def return_action_applied(self, return_id: str, action: str, payload: Mapping[str, Any]) -> bool:
        """Read the return (or its notes) back: processed is closed [DOC: process archives it],
        flagged is in review, a note is on the timeline with the same text."""
        return_id = _loop_id(return_id)
        if action in NOTES:
            wanted = c.fit_note(str(payload.get("content") or ""))
            return any(note.get(c.NoteField.CONTENT) == wanted for note in self.client.notes(return_id))
        state = self.details(return_id).state
        if action == PROCESS:
            return state == c.STATE_CLOSED
        if action == FLAG:
            return state == c.STATE_REVIEW
        raise NotSupported(f"Loop takes no {action!r} about a return", partner=c.PARTNER)

    # --- StatusWriter: a Loop site holds no orders ---------------------------------------------------
    def mark_order(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> None:
        raise NotSupported("Loop sites hold returns, not orders: no order status goes to Loop", partner=c.PARTNER)

    def set_customer_code(self, partner_customer_id: str, erp_code: str) -> None:
        raise NotSupported("Loop has no customer field for an ERP code", partner=c.PARTNER)

    def writeback_applied(self, partner_order_id: str, status: str, payload: Mapping[str, Any]) -> bool:
        raise NotSupported("Loop sites hold returns, not orders", partner=c.PARTNER)

    def close(self) -> None:
        self.client.close()


def _loop_id(return_id: str) -> str:
    """The id as Loop takes it; one that is not a Loop return id is refused here, as Loop would
    refuse it, so the outbox row about it ends with the reason instead of failing its flush."""
    try:
        return c.return_id_text(return_id)
    except ValueError as exc:
        raise PartnerRejected(f"{exc}: nothing is sent to Loop about it", partner=c.PARTNER) from None


def open_returns(client: LoopClient, settings: LoopSettings) -> LoopReturns:
    return LoopReturns(client, settings)
