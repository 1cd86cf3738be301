"""`bobbin returns` (list, show, receive, confirm, import) and `bobbin erp load receipts` against
the real Postgres, with the Loop sandbox over HTTP (issue 16).

Each test makes its returns in an empty sandbox shop, polls them into RMAs the way the worker
does (``import_site_returns``), then runs commands through typer's CliRunner. The output is read
as a person reads it (and as JSON as a script reads it), and the rows one command wrote are
counted; a refused command is shown to write nothing.
"""

from __future__ import annotations

import base64
import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bobbin.demo_sites import LOOP_DEMO_SITE
from core.db import session_scope
from models import (
    ArAdjustment,
    ConsoleAction,
    CreditMemo,
    InboundReturn,
    Inventory,
    OutboxEntry,
    Rma,
    RmaLine,
    RmaReceipt,
)
from sandbox.loop.server import LoopSandbox
from services import writeback
from services.returns import import_site_returns
from tests.integration.test_cli import bobbin, cli_logging, no_traceback  # noqa: F401  (the CLI's logging, autouse)

pytestmark = pytest.mark.integration


@pytest.fixture()
def no_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A broker (Redis) nothing listens on: the CLI cannot ask the worker for anything."""
    from core.settings import get_settings

    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:9/0")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


# --- helpers ----------------------------------------------------------------------------------------


def held(s: Session, loop_id: int) -> InboundReturn:
    return s.scalars(select(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id))).one()


def rma_of(s: Session, loop_id: int) -> Rma:
    return s.scalars(select(Rma).join(InboundReturn).where(InboundReturn.loop_return_id == str(loop_id))).one()


def on_hand(sku: str, warehouse: str) -> int:
    with session_scope() as s:
        return int(
            s.scalar(select(Inventory.on_hand).where(Inventory.sku == sku, Inventory.warehouse_code == warehouse)) or 0
        )


def count(model: Any, *where: Any) -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def process_requests() -> int:
    return count(OutboxEntry, OutboxEntry.status == "process")


def made_rma(loop: LoopSandbox, loop_site: int, lines: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    """A return made in Loop and polled into an RMA (its note to Loop sent): {loop_id, id, rma, warehouse}."""
    made = loop.create_return(lines=lines, **kw)
    import_site_returns(loop_site)
    writeback.flush(site_id=loop_site)
    with session_scope() as s:
        rma = rma_of(s, made["id"])
        return {"loop_id": made["id"], "id": held(s, made["id"]).id, "rma": rma.number, "warehouse": rma.warehouse_code}


def one_line(text: str) -> str:
    """The output with its line breaks (a console's wrapping) taken out."""
    return " ".join(text.split())


def write_csv(
    path: Path, rows: list[list[Any]], header: tuple[str, ...] = ("RMA", "Line", "Quantity", "Reference")
) -> Path:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# --- list, show ---------------------------------------------------------------------------------------


def test_returns_are_listed_by_state_and_one_reads_in_full(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]
) -> None:
    # Given a return made into an RMA and one naming a SKU the ERP does not know
    good = made_rma(loop, loop_site, loop_catalog[:2])
    bad = loop.create_return(lines=[loop_catalog[2], {**loop_catalog[3], "sku": "NOPE-404"}])
    import_site_returns(loop_site)
    with session_scope() as s:
        bad_id = held(s, bad["id"]).id

    # When a person lists the returns
    listed = bobbin("returns", "list")

    # then both are there with their state, RMA and problems, and the count of each state
    assert listed.exit_code == 0, listed.output
    assert "1 invalid" in listed.stdout and "1 rma" in listed.stdout and "0 credited" in listed.stdout
    rows = {line.split()[0]: line for line in listed.stdout.splitlines() if line.strip()[:1].isdigit()}
    assert good["rma"] in rows[str(good["id"])] and "rma" in rows[str(good["id"])]
    assert "invalid" in rows[str(bad_id)] and "sku_unknown" in rows[str(bad_id)]
    assert LOOP_DEMO_SITE in rows[str(good["id"])] and str(good["loop_id"]) in rows[str(good["id"])]

    # When listed by state, as JSON, then only that state's return is there
    only = json.loads(bobbin("returns", "list", "--state", "invalid", "--site", LOOP_DEMO_SITE, "--json").stdout)
    assert [r["id"] for r in only["returns"]] == [bad_id]
    assert (only["total"], only["counts"]["invalid"], only["counts"]["rma"]) == (1, 1, 1)
    assert "sku_unknown" in only["returns"][0]["open_problems"]

    # When a state is mistyped, then the states are listed and nothing is looked up
    typo = bobbin("returns", "list", "--state", "credit")
    assert typo.exit_code == 2
    words = one_line(typo.output)
    assert "'credit' is not a return state" in words
    assert "received, invalid, rma, received_goods, processed, credited or void" in words
    unknown_site = bobbin("returns", "list", "--site", "nowhere")
    assert unknown_site.exit_code == 1 and "no site 'nowhere'" in unknown_site.stderr
    no_traceback(unknown_site)

    # When the good one is shown by its RMA, then its header, lines and what went to Loop are there
    shown = bobbin("returns", "show", good["rma"])
    assert shown.exit_code == 0, shown.output
    text = shown.stdout
    assert f"Return {good['id']}" in text and f"{LOOP_DEMO_SITE} #{good['loop_id']}" in text
    assert "RMA made; waiting for the goods" in text and "RMA lines" in text
    line_rows = [
        ln.split()
        for ln in text.splitlines()
        if ln.split()[:2] in (["1", loop_catalog[0]["sku"]], ["2", loop_catalog[1]["sku"]])
    ]
    assert [r[2:5] for r in line_rows] == [["1", "0", "1"], ["1", "0", "1"]]  # qty, received, outstanding
    assert "note_rma" in text and "Sent to Loop" in text
    assert f"bobbin returns receive {good['id']}" in text

    # and SITE:LOOP_ID and the id read the same return, as JSON
    by_loop = json.loads(bobbin("returns", "show", f"{LOOP_DEMO_SITE}:{good['loop_id']}", "--json").stdout)
    by_id = json.loads(bobbin("returns", "show", str(good["id"]), "--json").stdout)
    assert by_loop == by_id and by_id["rma"]["number"] == good["rma"]
    assert [(ln["line_no"], ln["outstanding"]) for ln in by_id["lines"]] == [(1, 1), (2, 1)]

    # When the invalid one is shown, then its problem says what to do, and it has no RMA
    bad_shown = bobbin("returns", "show", str(bad_id))
    assert "sku_unknown" in bad_shown.stdout and "NOPE-404" in bad_shown.stdout and "none yet" in bad_shown.stdout

    # When a return that is not there is asked for, then one line says so
    for ref, said in (("999", "no return 999"), ("RMA0000999", "no RMA RMA0000999"), ("x", "names no return")):
        missing = bobbin("returns", "show", ref)
        assert missing.exit_code == 1 and said in missing.stderr, missing.output
        no_traceback(missing)


# --- receive ------------------------------------------------------------------------------------------


def test_receiving_by_line_then_the_rest_restocks_and_asks_loop_to_process(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], no_broker: None
) -> None:
    # Given an RMA of two lines, one unit each
    r = made_rma(loop, loop_site, loop_catalog[:2])
    sku1, sku2 = loop_catalog[0]["sku"], loop_catalog[1]["sku"]
    before = {sku1: on_hand(sku1, r["warehouse"]), sku2: on_hand(sku2, r["warehouse"])}

    # When line 1 is received with a reference
    part = bobbin("returns", "receive", r["rma"], "--line", "1=1", "--reference", "dock 3")

    # then it is restocked and recorded, and Loop is not asked to process yet
    assert part.exit_code == 0, part.output
    words = one_line(part.stdout)
    assert f"Received 1 unit on {r['rma']} (return {r['id']}, {LOOP_DEMO_SITE}), restocked" in words
    assert f"restocked in warehouse {r['warehouse']}" in words
    assert "1 unit still expected; Loop is asked to process the return once every line is received." in words
    assert on_hand(sku1, r["warehouse"]) == before[sku1] + 1 and on_hand(sku2, r["warehouse"]) == before[sku2]
    with session_scope() as s:
        [receipt] = s.scalars(select(RmaReceipt)).all()
        assert (receipt.quantity, receipt.source, receipt.reference) == (1, "cli", "dock 3")
        [action] = s.scalars(select(ConsoleAction).where(ConsoleAction.action == "receive_return")).all()
        assert action.actor.startswith("cli") and action.site_id == loop_site
        assert action.detail["rma"] == r["rma"] and action.detail["received"] == [
            {"line_no": 1, "sku": sku1, "quantity": 1}
        ]
    assert process_requests() == 0

    # When what cannot be received is asked for, then one line says why and nothing is written
    refused = {
        ("--line", "9=1"): f"{r['rma']} has no line 9 (its lines: 1, 2)",
        ("--line", "1=1"): f"{r['rma']} line 1: 1 received, but only 0 of it is still expected",
        ("--line", "2=0"): "receive at least 1 unit, not 0",
        ("--line", "2=x"): "--line '2=x' is not LINE=UNITS",
        ("--line", "2"): "--line '2' is not LINE=UNITS",
        ("--line", "2=1", "--line", "2=1"): "line 2 is given twice",
    }
    for args, said in refused.items():
        bad = bobbin("returns", "receive", r["rma"], *args)
        assert bad.exit_code == 1, (args, bad.output)
        assert said in one_line(bad.stderr), (args, bad.stderr)
        assert bad.stderr.strip().startswith("Error:") and len(bad.stderr.strip().splitlines()) <= 2
        no_traceback(bad)
    missing = bobbin("returns", "receive", "12345")
    assert missing.exit_code == 1 and "no return 12345" in missing.stderr
    assert count(RmaReceipt) == 1 and count(ConsoleAction, ConsoleAction.action == "receive_return") == 1
    assert on_hand(sku2, r["warehouse"]) == before[sku2]

    # When the rest is received (no --line: every outstanding unit), by SITE:LOOP_ID, with no broker to reach
    rest = bobbin("returns", "receive", f"{LOOP_DEMO_SITE}:{r['loop_id']}")

    # then line 2 is received and restocked, Loop is asked to process it once, and the person is
    # told the outbox flush will send it
    assert rest.exit_code == 0, rest.output
    words = one_line(rest.stdout)
    assert f"Received 1 unit on {r['rma']}" in words
    assert "Every line is received: Loop is asked to process the return" in words
    assert "queued, and the outbox flush will send it" in one_line(rest.stderr)
    no_traceback(rest)
    assert on_hand(sku2, r["warehouse"]) == before[sku2] + 1
    with session_scope() as s:
        assert held(s, r["loop_id"]).state == "received_goods" and rma_of(s, r["loop_id"]).status == "received"
        refs = s.scalars(select(RmaReceipt.reference).order_by(RmaReceipt.id)).all()
        assert refs[0] == "dock 3" and refs[1].startswith("cli")  # who received it, by default
    assert process_requests() == 1

    # and the outbox's flush sends it: Loop processes the return
    assert writeback.flush(site_id=loop_site).sent == 1
    assert [(a["return_id"], a["action"]) for a in loop.actions()] == [(r["loop_id"], "process")]

    # When it is received once more, then nothing is left to receive and nothing is written
    again = bobbin("returns", "receive", str(r["id"]))
    assert again.exit_code == 1 and "every line is received already" in again.stderr
    assert count(RmaReceipt) == 2 and process_requests() == 1


def test_a_complete_receipt_asks_the_worker_to_flush_the_outbox(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], celery_app: Any
) -> None:
    import redis

    from worker.routes import WRITEBACKS

    # Given an RMA, and a broker (no worker runs: the message waits in its queue)
    r = made_rma(loop, loop_site, [loop_catalog[0]])

    # When every unit is received, as JSON
    done = json.loads(bobbin("returns", "receive", r["rma"], "--json").stdout)

    # then the flush of the site's outbox was sent to the writebacks queue, for this site
    assert (done["complete"], done["process_queued"], done["flush"]["sent"]) == (True, True, True)
    assert done["received"] == [{"line_no": 1, "sku": loop_catalog[0]["sku"], "quantity": 1}]
    client = redis.Redis.from_url(celery_app.conf.broker_url)
    [message] = [json.loads(m) for m in client.lrange(WRITEBACKS, 0, -1)]
    assert message["headers"]["task"] == "tasks.status.flush_outbox"
    assert message["headers"]["id"] == done["flush"]["task_id"]
    args, kwargs, _ = json.loads(base64.b64decode(message["body"]))
    assert (args, kwargs) == ([], {"site_id": loop_site})
    client.delete(WRITEBACKS)


def test_a_void_rma_receives_nothing(loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]]) -> None:
    # Given an RMA whose return Loop cancelled
    r = made_rma(loop, loop_site, [loop_catalog[0]])
    loop.update_return(r["loop_id"], {"state": "cancelled"})
    import_site_returns(loop_site)

    # When its goods are received, then it is refused in one line and nothing is written
    void = bobbin("returns", "receive", r["rma"])
    assert void.exit_code == 1
    assert f"{r['rma']} is void (the return was cancelled, closed or expired in Loop)" in one_line(void.stderr)
    assert count(RmaReceipt) == 0 and count(ConsoleAction) == 0

    # and a return with no RMA says so, with its state
    bad = loop.create_return(lines=[{**loop_catalog[1], "sku": "NOPE-1"}])
    import_site_returns(loop_site)
    with session_scope() as s:
        bad_id = held(s, bad["id"]).id
    none = bobbin("returns", "receive", str(bad_id))
    assert none.exit_code == 1
    assert f"return {bad_id} has no RMA yet: it is invalid" in one_line(none.stderr)


# --- confirm ------------------------------------------------------------------------------------------


def test_a_credit_memo_that_waits_is_confirmed_and_posted_with_its_ar_debit(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], no_broker: None
) -> None:
    # Given a return received and processed, but Loop refunded more than its lines add up to
    r = made_rma(loop, loop_site, [loop_catalog[0]])
    assert bobbin("returns", "receive", r["rma"]).exit_code == 0
    writeback.flush(site_id=loop_site)
    refunds = loop.get_return(r["loop_id"])["refunds"]
    loop.update_return(r["loop_id"], {"refunds": [{**refunds[0], "amount": "999.99"}]})
    import_site_returns(loop_site)

    # When a person looks at it, then the memo waits and the command that posts it is named
    shown = bobbin("returns", "show", str(r["id"]))
    words = one_line(shown.stdout)
    assert "pending confirmation" in words and "refund_mismatch" in words
    assert f"bobbin returns confirm {r['id']}" in words
    assert count(ArAdjustment) == 0

    # When it is confirmed
    confirmed = bobbin("returns", "confirm", r["rma"])

    # then the memo is posted for what Loop refunded, with its AR debit, and the return is credited
    assert confirmed.exit_code == 0, confirmed.output
    with session_scope() as s:
        memo = s.scalars(select(CreditMemo)).one()
        debit = s.scalars(select(ArAdjustment)).one()
        assert (memo.status, memo.amount) == ("posted", Decimal("999.99")) and memo.confirmed_by.startswith("cli")
        assert (debit.amount, debit.credit_memo_id, debit.customer_code) == (Decimal("999.99"), memo.id, "SHOPIFY")
        assert held(s, r["loop_id"]).state == "credited"
        [action] = s.scalars(select(ConsoleAction).where(ConsoleAction.action == "confirm_credit")).all()
        assert action.detail["credit_memo"] == memo.number and action.detail["ar_adjustment_id"] == debit.id
        memo_number = memo.number
    words = one_line(confirmed.stdout)
    assert f"Posted credit memo {memo_number} for 999.99 USD" in words
    assert f"AR debit {debit.id} of 999.99 posted on customer SHOPIFY" in words
    assert "The return is credited." in words
    assert "queued, and the outbox flush will send it" in one_line(confirmed.stderr)

    # and the show says so: the memo posted, the debit, the problem resolved
    after = json.loads(bobbin("returns", "show", str(r["id"]), "--json").stdout)
    assert after["credit_memo"]["status"] == "posted" and after["credit_memo"]["confirmed_by"].startswith("cli")
    assert [(a["amount"], a["offsets"]) for a in after["ar_adjustments"]] == [("999.99", "credit memo")]
    assert [p["resolved_at"] is not None for p in after["problems"] if p["code"] == "refund_mismatch"] == [True]

    # When it is confirmed again, or a return with no memo is, then one line says why and nothing is posted
    twice = bobbin("returns", "confirm", str(r["id"]))
    assert twice.exit_code == 1 and f"{memo_number} is posted already; nothing was posted" in twice.stderr
    other = made_rma(loop, loop_site, [loop_catalog[1]])
    early = bobbin("returns", "confirm", str(other["id"]))
    assert early.exit_code == 1 and "has no credit memo waiting (Loop has not refunded it yet)" in one_line(
        early.stderr
    )
    assert count(CreditMemo) == 1 and count(ArAdjustment) == 1
    assert count(ConsoleAction, ConsoleAction.action == "confirm_credit") == 1


# --- erp load receipts --------------------------------------------------------------------------------


def test_a_receipts_file_with_a_bad_row_loads_nothing_and_names_every_problem(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], tmp_path: Path
) -> None:
    # Given two RMAs (of one and two lines) and one made void
    one = made_rma(loop, loop_site, [loop_catalog[0]])
    two = made_rma(loop, loop_site, loop_catalog[1:3])
    gone = made_rma(loop, loop_site, [loop_catalog[3]])
    loop.update_return(gone["loop_id"], {"state": "cancelled"})
    import_site_returns(loop_site)
    stock = {row["sku"]: on_hand(row["sku"], one["warehouse"]) for row in loop_catalog[:4]}

    # When a file with good rows and every kind of bad row is loaded
    path = write_csv(
        tmp_path / "receipts-bad.csv",
        [
            [one["rma"], 1, 1, ""],  # row 2: good
            ["RMA0009999", 1, 1, ""],  # row 3: no such RMA
            [two["rma"], 7, 1, ""],  # row 4: no such line
            [two["rma"], 1, 1, ""],  # rows 5 and 6: two units of a line of one
            [two["rma"].lower(), "1", "1", ""],
            [two["rma"], 2, "two", ""],  # row 7: not a number
            [gone["rma"], 1, 1, ""],  # row 8: void
            ["", 1, 1, ""],  # row 9: no RMA
            ["12", 1, 1, ""],  # row 10: not an RMA number
            [two["rma"], "1.5", 0, ""],  # row 11: neither a line nor a quantity
        ],
    )
    loaded = bobbin("erp", "load", "receipts", str(path))

    # then nothing is written, and each problem is reported by its row
    assert loaded.exit_code == 1, loaded.output
    no_traceback(loaded)
    assert count(RmaReceipt) == 0 and process_requests() == 0
    assert {row["sku"]: on_hand(row["sku"], one["warehouse"]) for row in loop_catalog[:4]} == stock
    assert "nothing was received from receipts-bad.csv: a receipts file loads whole or not at all" in one_line(
        loaded.stderr
    )
    assert "9 rows have problems" in loaded.stdout
    report = json.loads(bobbin("erp", "load", "receipts", str(path), "--json").stdout)
    problems = {(p["row"], p["column"]): p["message"] for p in report["problems"]}
    assert sorted({p["row"] for p in report["problems"]}) == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    assert "unknown RMA RMA0009999" in problems[(3, "RMA")]
    assert f"{two['rma']} has no line 7 (its lines: 1, 2)" in problems[(4, "Line")]
    over = (
        f"{two['rma']} line 1 (SKU {loop_catalog[1]['sku']}): 2 units received in this file (2 rows of it), but only 1"
    )
    assert over in problems[(5, "Quantity")] and over in problems[(6, "Quantity")]
    assert problems[(7, "Quantity")] == 'the quantity received "two" is not a whole number.'
    assert f"{gone['rma']} is void" in problems[(8, "RMA")]
    assert problems[(9, "RMA")] == "the RMA number is empty."
    assert '"12" is not an RMA number' in problems[(10, "RMA")]
    assert problems[(11, "Line")] == 'the line number "1.5" is not a whole number.'
    assert problems[(11, "Quantity")] == "the quantity received is 0: write a whole number of at least 1."
    assert (report["rows_read"], report["rows_loaded"], report["receipts"]) == (10, 0, [])
    for row in (3, 4, 5, 8):  # the table a person reads has the row numbers and the words
        assert any(line.split()[:1] == [str(row)] for line in loaded.stdout.splitlines())
    assert "unknown RMA RMA0009999" in one_line(loaded.stdout)
    assert count(RmaReceipt) == 0


def test_a_good_receipts_file_receives_each_row_and_asks_loop_to_process_complete_rmas(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], tmp_path: Path, no_broker: None
) -> None:
    from openpyxl import Workbook

    # Given an RMA of one line and one of two lines (each one unit)
    one = made_rma(loop, loop_site, [loop_catalog[0]])
    two = made_rma(loop, loop_site, loop_catalog[1:3])
    stock = {row["sku"]: on_hand(row["sku"], one["warehouse"]) for row in loop_catalog[:3]}

    # When the ERP's receipts workbook receives the first RMA in full and one line of the second
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["RMA Number", "Line No", "Qty Received", "Reference", "Clerk"])
    ws.append([one["rma"], 1, 1, "slip 77", "ann"])
    ws.append([two["rma"], 2, 1, None, "ann"])
    path = tmp_path / "receipts-0612.xlsx"
    wb.save(path)
    loaded = bobbin("erp", "load", "receipts", str(path))

    # then each row is a receipt from the ERP file, restocked; the complete RMA asks Loop to process it
    assert loaded.exit_code == 0, loaded.output
    words = one_line(loaded.stdout)
    assert "Received 2 units on 2 RMAs from receipts-0612.xlsx (2 receipts)" in words
    assert "Columns not used: Clerk" in words
    rows = {line.split()[0]: line for line in loaded.stdout.splitlines() if line.strip().startswith("RMA0")}
    assert "in full" in rows[one["rma"]] and "asked to process it" in rows[one["rma"]]
    assert "in part" in rows[two["rma"]] and "asked once every line is in" in rows[two["rma"]]
    assert "queued, and the outbox flush will send them" in one_line(loaded.stderr)
    with session_scope() as s:
        receipts = s.execute(
            select(Rma.number, RmaLine.line_no, RmaReceipt.quantity, RmaReceipt.source, RmaReceipt.reference)
            .join(RmaLine, RmaLine.id == RmaReceipt.rma_line_id)
            .join(Rma, Rma.id == RmaLine.rma_id)
            .order_by(RmaReceipt.id)
        ).all()
        assert [tuple(r) for r in receipts] == [
            (one["rma"], 1, 1, "erp_file", "slip 77"),
            (two["rma"], 2, 1, "erp_file", "receipts-0612.xlsx"),
        ]
        assert held(s, one["loop_id"]).state == "received_goods" and held(s, two["loop_id"]).state == "rma"
    assert on_hand(loop_catalog[0]["sku"], one["warehouse"]) == stock[loop_catalog[0]["sku"]] + 1
    assert on_hand(loop_catalog[1]["sku"], one["warehouse"]) == stock[loop_catalog[1]["sku"]]
    assert on_hand(loop_catalog[2]["sku"], one["warehouse"]) == stock[loop_catalog[2]["sku"]] + 1
    assert process_requests() == 1
    assert writeback.flush(site_id=loop_site).sent == 1
    assert [(a["return_id"], a["action"]) for a in loop.actions()] == [(one["loop_id"], "process")]

    # When the same workbook is loaded again, then every row is refused as received already: nothing is written
    again = bobbin("erp", "load", "receipts", str(path), "--json")
    assert again.exit_code == 1
    report = json.loads(again.stdout)
    assert [p["row"] for p in report["problems"]] == [2, 3]
    assert "all 1 units are received already; was this file loaded before?" in report["problems"][0]["message"]
    assert count(RmaReceipt) == 2

    # When the rest comes in a CSV, then the second RMA is complete too
    rest = write_csv(tmp_path / "receipts-0613.csv", [[two["rma"], 1, 1, ""]])
    done = json.loads(bobbin("erp", "load", "receipts", str(rest), "--json").stdout)
    assert [(o["rma"], o["complete"], o["process_queued"]) for o in done["rmas"]] == [(two["rma"], True, True)]
    assert done["flush"][LOOP_DEMO_SITE]["sent"] is False
    assert process_requests() == 2


def test_the_receipts_template_is_the_columns_the_loader_reads(db: str, tmp_path: Path) -> None:
    written = bobbin("erp", "template", "receipts", "-o", str(tmp_path / "r.csv"))
    assert written.exit_code == 0, written.output
    assert (tmp_path / "r.csv").read_text().strip() == "RMA,Line,Quantity,Reference"
    missing = write_csv(tmp_path / "no-qty.csv", [["RMA0000001", 1]], header=("RMA", "Line"))
    refused = bobbin("erp", "load", "receipts", str(missing))
    assert refused.exit_code == 1 and 'has no "quantity" column' in refused.stderr
    no_traceback(refused)


# --- import -------------------------------------------------------------------------------------------


def test_a_sites_returns_are_imported_now_here_when_no_worker_runs(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], no_broker: None
) -> None:
    # Given two returns in Loop, one naming a SKU the ERP does not know
    loop.create_return(lines=[loop_catalog[0]])
    loop.create_return(lines=[{**loop_catalog[1], "sku": "NOPE-2"}])

    # When the site's returns are imported by name, with no worker running
    done = bobbin("returns", "import", LOOP_DEMO_SITE)

    # then it runs here: one RMA, one invalid, and what that queued for Loop is sent
    assert done.exit_code == 0, done.output
    assert "No worker is running: importing in this process." in done.stderr
    words = one_line(done.stdout)
    assert f"Imported {LOOP_DEMO_SITE}'s returns here" in words and "1 new RMA" in words
    assert "What needs a person: bobbin returns list --site loop-demo --state invalid" in words
    assert count(Rma) == 1
    assert [a["action"] for a in loop.actions()] == ["flag"]

    # When imported again as JSON, then nothing new is made
    again = json.loads(bobbin("returns", "import", LOOP_DEMO_SITE, "--here", "--json").stdout)
    assert (again["where"], again["new"], again["rmas_created"]) == ("here", 0, 0)


def test_returns_import_goes_through_a_running_worker(
    loop_site: int, loop: LoopSandbox, loop_catalog: list[dict[str, Any]], start_worker: Any
) -> None:
    # Given a return in Loop and a worker running
    loop.create_return(lines=loop_catalog[:2])
    start_worker()

    # When the site's returns are imported by name
    done = json.loads(bobbin("returns", "import", str(loop_site), "--json").stdout)

    # then the worker ran the task and its summary is printed
    assert done["where"] == "worker" and done["task_id"]
    assert (done["site"], done["fetched"], done["rmas_created"]) == (LOOP_DEMO_SITE, 1, 1)
    assert count(Rma) == 1


def test_a_site_that_sends_no_returns_is_refused(loop_site: int) -> None:
    from models import Division
    from services.sites import create_site

    with session_scope() as s:
        division = s.scalars(select(Division.code).order_by(Division.code)).first()
        create_site(
            s,
            name="bb",
            kind="brandboom",
            base_url="http://127.0.0.1:9/api/v2",
            credentials={
                "public_key": "5A1B2C3D4E5F60718293A4B5C6D7E8F9",
                "secret_key": "F0E1D2C3B4A5968778695A4B3C2D1E0F",
            },
            division=division,
            notify_emails=["ops@example.com"],
        )
    refused = bobbin("returns", "import", "bb")
    assert refused.exit_code == 1 and "do not" in refused.stderr and "Loop" in refused.stderr
    no_traceback(refused)
