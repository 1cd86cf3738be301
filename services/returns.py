"""Loop returns into the holding table (``inbound_return``): held once per site and return, the
newest state of each return winning, whatever order the payloads arrive in (issue 16).

Loop's list and details carry the return's ``updated_at``; a webhook does not (partners README
§3.6). So the rule is simple and holds for both paths: a payload is staged only with its
``updated_at``, and replaces what is held only when it is newer. A webhook is not staged as it
came: the task that applies it reads the return's details from Loop first (its state now, with
its ``updated_at``) and stages that — a webhook delivered twice, late, or out of order (updated
before created) then stages the same current state, and the older one is refused as stale.
``stage_returns`` reports such a payload in ``needs_details`` instead of guessing.

Bobbin's own ``state`` of a return (its flow: RMA, receipt, credit) is not touched here: what a
changed Loop state means for an RMA is the flow's to decide.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.orm import Session

from models.orders import pack_payload
from services.holding import MAX_TOTAL, pg_safe, raw_hash, raw_json


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


@dataclass
class StagedReturns:
    seen: int = 0
    new_ids: list[int] = field(default_factory=list)  # held for the first time
    changed_ids: list[int] = field(default_factory=list)  # a newer state of a held return
    stale: int = 0  # as held already, or older than what is held: nothing written
    needs_details: list[str] = field(default_factory=list)  # Loop ids with no updated_at (a webhook's)


# One statement for many returns (arrays per column). A held return takes the payload only when it
# is newer (Loop's updated_at later than the held one's) and differs; ``first_seen_at`` stays.
STAGE_RETURNS = text(
    """INSERT INTO inbound_return AS r (site_id, state, loop_return_id, raw, raw_hash, loop_state, loop_outcome,
        loop_updated_at, order_name, customer_email, currency, total)
    SELECT :site_id, 'received', p.* FROM unnest(
        CAST(:loop_return_id AS text[]), CAST(:raw AS bytea[]), CAST(:raw_hash AS text[]),
        CAST(:loop_state AS text[]), CAST(:loop_outcome AS text[]), CAST(:loop_updated_at AS timestamptz[]),
        CAST(:order_name AS text[]), CAST(:customer_email AS text[]), CAST(:currency AS text[]),
        CAST(:total AS numeric[])
    ) AS p
    ON CONFLICT (site_id, loop_return_id) DO UPDATE SET
        raw = excluded.raw, raw_hash = excluded.raw_hash, loop_state = excluded.loop_state,
        loop_outcome = excluded.loop_outcome, loop_updated_at = excluded.loop_updated_at,
        order_name = excluded.order_name, customer_email = excluded.customer_email,
        currency = excluded.currency, total = excluded.total, last_seen_at = now()
    WHERE (r.loop_updated_at IS NULL OR excluded.loop_updated_at > r.loop_updated_at)
        AND r.raw_hash <> excluded.raw_hash
    RETURNING r.id, r.xmax = 0 AS inserted"""
)
COLUMNS = (
    "loop_return_id",
    "raw",
    "raw_hash",
    "loop_state",
    "loop_outcome",
    "loop_updated_at",
    "order_name",
    "customer_email",
    "currency",
    "total",
)


def stage_returns(session: Session, site_id: int, returns: Sequence[PartnerReturn]) -> StagedReturns:
    """Hold these returns (as the mapper read them) for ``site_id``, each once, the newest state
    winning. Caller commits. A return repeated in ``returns``: its newest payload counts."""
    result = StagedReturns(seen=len(returns))
    newest: dict[str, PartnerReturn] = {}
    for r in returns:
        if r.updated_at is None:
            result.needs_details.append(r.return_id)
            continue
        rid = pg_safe(r.return_id)
        held = newest.get(rid)
        if held is None or (held.updated_at is not None and r.updated_at > held.updated_at):
            newest[rid] = r
    result.stale += len(returns) - len(result.needs_details) - len(newest)
    if not newest:
        return result
    columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
    for rid, r in newest.items():
        encoded = raw_json(r.raw)
        values = (
            rid,
            pack_payload(encoded),
            raw_hash(r.raw, encoded),
            pg_safe(r.state),
            pg_safe(r.outcome),
            r.updated_at,
            pg_safe(r.order_name),
            pg_safe(r.customer_email),
            pg_safe(r.currency) if r.currency and len(r.currency) == 3 else None,
            r.total if r.total is not None and r.total.is_finite() and abs(r.total) <= MAX_TOTAL else None,
        )
        for name, value in zip(COLUMNS, values, strict=True):
            columns[name].append(value)
    written = session.execute(STAGE_RETURNS, {"site_id": site_id, **columns}).all()
    for row in written:
        (result.new_ids if row.inserted else result.changed_ids).append(row.id)
    result.stale += len(newest) - len(written)
    return result
