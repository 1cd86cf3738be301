"""The chaos suite's figures, collected while it runs and printed at its end (RELIABILITY.md).

A plain module (not the conftest) so that the tests, ``invariants.check`` and the terminal
summary share one list whatever name pytest imports the conftest under.
"""

from __future__ import annotations

import statistics
from typing import Any

ROWS: list[dict[str, Any]] = []
RECOVERY: dict[str, list[float]] = {}
RETURN_ROWS: list[dict[str, Any]] = []  # the Loop returns cases (invariants.check_returns)

COLUMNS = (
    "scenario",
    "runs",
    "partner_orders",
    "imported",
    "orders_lost",
    "orders_duplicated",
    "changes_lost",
    "changes_duplicated",
    "half_written",
)


# A Loop returns case counts returns, RMAs, the actions Bobbin sends Loop about them (process, flag,
# notes) and the ERP's credit postings (credit memos and their AR debits).
RETURN_COLUMNS = (
    "scenario",
    "runs",
    "loop_returns",
    "rmas",
    "returns_lost",
    "rmas_duplicated",
    "actions_lost",
    "actions_duplicated",
    "credits_posted",
    "credits_lost",
    "credits_duplicated",
    "half_written",
)


def add(row: dict[str, Any]) -> None:
    ROWS.append(row)
    print(f"\nCHAOS-FIGURES {format_row(row)}")


def add_returns(row: dict[str, Any]) -> None:
    RETURN_ROWS.append(row)
    print(f"\nCHAOS-FIGURES-RETURNS {format_row(row, RETURN_COLUMNS)}")


def add_recovery(kind: str, seconds: float) -> None:
    RECOVERY.setdefault(kind, []).append(seconds)
    print(f"\nCHAOS-RECOVERY {kind}: {seconds:.2f} s")


def format_row(row: dict[str, Any], columns: tuple[str, ...] = COLUMNS) -> str:
    cells = [str(row.get(c, "")) for c in columns]
    note = f" ({row['note']})" if row.get("note") else ""
    return "| " + " | ".join(cells) + f" |{note}"


def recovery_lines() -> list[str]:
    lines = []
    for kind, values in RECOVERY.items():
        lines.append(
            f"{kind}: n={len(values)} min {min(values):.1f} s, median {statistics.median(values):.1f} s, "
            f"max {max(values):.1f} s"
        )
    return lines
