"""The benchmark harness's arithmetic and tables, on made-up figures (no benchmark runs here)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.common import (
    Report,
    cost_ratio,
    markdown_table,
    meets,
    parse_target,
    percentile,
    sql_kind,
    text_table,
)

MACHINE = {
    "cpu": "Test CPU",
    "cores": 2,
    "ram_gib": 8.0,
    "os": "Linux 6",
    "python": "3.11.7",
    "postgres": "18.1",
    "embedded": True,
    "redis": "7.2",
    "celery": "5.4",
}


def test_ratio_is_the_cost_multiple_of_the_floor() -> None:
    # Given a time and its floor, when the ratio is taken, then it is value / floor
    assert cost_ratio(12.0, 4.0) == 3.0
    # And for a rate (higher is better) it is floor / value: still "how many times the floor it costs"
    assert cost_ratio(100.0, 20_000.0, higher_is_better=True) == 200.0
    assert cost_ratio(None, 4.0) is None and cost_ratio(4.0, None) is None
    assert math.isinf(cost_ratio(1.0, 0.0) or 0)


@pytest.mark.parametrize(
    ("target", "value", "ratio", "ok"),
    [
        ("ratio <= 3", 9.0, 3.0, True),
        ("ratio <= 3", 9.1, 3.03, False),
        ("ratio >= 20", 50.0, 25.0, True),
        ("value <= 60", 61.0, None, False),
        (None, 1.0, 1.0, None),
        ("ratio <= 3", 1.0, None, None),  # nothing to compare with: neither met nor missed
    ],
)
def test_targets(target: str | None, value: float, ratio: float | None, ok: bool | None) -> None:
    assert meets(target, value, ratio) is ok


def test_a_target_that_does_not_parse_is_refused() -> None:
    assert parse_target("value >= 20") == ("value", ">=", 20.0)
    with pytest.raises(ValueError):
        parse_target("speed <= 3")


def test_report_figure_table_and_json(tmp_path: Path) -> None:
    # Given a report with a fake figure against its floor, one with no floor, and one not available
    report = Report()
    report.machine = MACHINE
    fig = report.add(
        "1",
        "order import, fake",
        30.0,
        "s",
        floor_name="fetch + COPY",
        floor_value=5.0,
        target="ratio <= 3",
        note="made up",
    )
    report.add(
        "5",
        "no-op round trips",
        120.0,
        "/s",
        floor_name="Redis PING",
        floor_value=24_000.0,
        floor_unit="/s",
        higher_is_better=True,
    )
    report.unavailable("2", "inventory push", "not available yet")

    # Then the figure carries its ratio and verdict
    assert (fig.ratio, fig.ok, fig.floor_unit) == (6.0, False, "s")

    # And the markdown table has one row per figure, the verdict, and the machine line
    md = markdown_table(report.figures, report.machine)
    lines = md.splitlines()
    assert lines[0] == "| # | figure | value | floor | ratio | target | ok |"
    assert lines[2] == "| 1 | order import, fake | 30.0 s | fetch + COPY: 5.00 s | 6.00× | ratio <= 3 | **no** |"
    assert "| 5 | no-op round trips | 120.0 /s | Redis PING: 24,000 /s | 200.0× | — | — |" in lines
    assert "| 2 | inventory push | not available yet | — | — | — | — |" in lines
    assert lines[-1] == (
        "Machine: Test CPU, 2 cores, 8.0 GiB RAM, Linux 6, Python 3.11.7, "
        "PostgreSQL 18.1 (embedded), Redis 7.2, Celery 5.4"
    )
    assert "order import, fake" in text_table(report.figures)

    # And the JSON has every figure with the agreed keys
    data = json.loads(report.write(tmp_path / "latest.json").read_text())
    first = data["figures"][0]
    assert {"name", "value", "unit", "floor_name", "floor_value", "ratio", "target", "ok"} <= set(first)
    assert first["ratio"] == 6.0 and first["ok"] is False
    assert data["machine_line"].startswith("Test CPU")


def test_a_pipe_or_newline_in_a_note_does_not_break_the_markdown_row() -> None:
    report = Report()
    report.unavailable("1", "orders", "failed: a | b\nsecond line")
    row = markdown_table(report.figures, {}).splitlines()[2]
    assert row == "| 1 | orders | failed: a \\| b second line | — | — | — | — |"


def test_percentile_and_sql_kind() -> None:
    assert percentile([1, 2, 3, 4, 5], 50) == 3
    assert percentile(list(range(1, 101)), 95) == pytest.approx(95.05)
    assert sql_kind("INSERT INTO sales_order_line (a) VALUES (%(a)s)") == "INSERT sales_order_line"
    assert sql_kind("SELECT inbound_order.id \nFROM inbound_order WHERE") == "SELECT inbound_order"
    assert sql_kind("UPDATE outbox SET state=%(s)s") == "UPDATE outbox"
