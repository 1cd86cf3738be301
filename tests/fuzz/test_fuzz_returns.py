"""Fuzzing Loop returns: generated webhook bodies through the event receiver and its processing, and
generated return payloads through staging and the returns flow, on the real Postgres with the Loop
sandbox over HTTP.

Given the demo brand's ERP and its Loop site (``bobbin run``'s demo site, ``load_loop_demo``) on a
Loop sandbox holding a few returns, the payloads are Loop's own (a return webhook's body, a
return's details) mutated at random: keys dropped, extra keys, wrong types anywhere, 100k-character
strings, NUL and lone surrogates, emoji and right-to-left text, ids as strings, integers or
garbage, odd amounts (negative, fractional cents, 1e309, more than the ERP can hold), timestamps in
every shape, duplicate line items; and arbitrary JSON and bytes that are no JSON at all.

- **The receiver** (``services.events.receive``), each body signed correctly: it never raises; a
  malformed body is a 400 with a reason, kept raw (the bytes as received, no payload); a good one
  is stored once (sent again: a duplicate, still one row) with its payload as parsed. Processing a
  stored event (``process_event``, which reads the return's details from the sandbox) never raises
  and ends processed, failed (with a note saying why) or ignored; processing again changes nothing.
  The mapper (``to_loop_return``) and the flow's validation (``services.rma.validate``) read the
  same body without raising.
- **Staging and the flow** (``stage_returns`` then ``apply_returns``, in one transaction as the
  event handler runs them): nothing raises, and nothing is half-written: each new return ends with
  an RMA carrying exactly its lines (one per Loop line item, every SKU known to the ERP), or
  ``invalid`` with at least one open problem, or ``void``; never an RMA without lines, and never
  left ``received``. Applying again changes nothing.

Examples are few (``EXAMPLES``) and pages short: the file stays well under a minute on two cores.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import itertools
import json
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text, update

from bobbin.demo import build_world
from bobbin.demo_sites import LOOP_DEMO_SITE, load_loop_demo
from connectors.loop.mapper import LoopReturn, to_loop_return
from core.db import session_scope
from models import (
    ArAdjustment,
    CreditMemo,
    InboundEvent,
    InboundReturn,
    OutboxEntry,
    ReturnError,
    Rma,
    RmaLine,
    Site,
    Sku,
)
from sandbox.loop.demo import catalog_from_world, loop_api_key, loop_webhook_secret
from sandbox.loop.server import LoopSandbox
from services import events, writeback
from services import rma as flow
from services.returns import stage_returns
from services.sites import open_site
from tests.conftest import truncate_all

pytestmark = pytest.mark.integration

EXAMPLES = 75  # per test
PAGE_MIN, PAGE_MAX = 3, 10  # payloads per example
HUGE = 100_000  # characters of a huge string
SIGNATURE = "X-Loop-Signature"
TRIGGERS = ("return.created", "return.updated", "return.closed")
# How a failed event's note starts when Loop refused to give the return (an id it does not know):
# anything else failing (a Bobbin error) is a bug the fuzzing found.
PARTNER_REFUSALS = ("returns.apply: PartnerRejected: ", "returns.apply: ContractViolation: ")


# --- the world ------------------------------------------------------------------------------------


@dataclass(repr=False)
class Hub:
    loop: LoopSandbox
    site_id: int
    secret: str
    bases: list[dict[str, Any]]  # Loop's own payloads: webhook bodies and details
    known_ids: list[int]  # returns the sandbox holds
    skus: set[str]
    ids: Iterator[int] = field(default_factory=lambda: itertools.count(70_000_000))
    bodies: int = 0
    payloads: int = 0
    sent: int = 0  # outbox rows sent to Loop
    refused: int = 0  # outbox rows Loop refused (dead): returns it does not know
    outcomes: dict[str, int] = field(default_factory=dict)

    def __repr__(self) -> str:
        return f"Hub(site={self.site_id}, bodies={self.bodies}, payloads={self.payloads})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:  # how hypothesis prints a failing example
        printer.text(repr(self))

    def count(self, what: str) -> None:
        self.outcomes[what] = self.outcomes.get(what, 0) + 1


class Quiet:
    """Stands in for ``services.events.log``: a failed event's traceback rendered on the console
    for each of hundreds of unknown return ids would take most of the run."""

    def __getattr__(self, level: str) -> Any:
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self


@pytest.fixture(scope="module")
def hub(pg_url: str) -> Iterator[Hub]:
    """The demo ERP and its Loop site on a sandbox holding a return of each kind; the bases are the
    sandbox's webhook bodies of them (built, held, never sent) and their details."""
    truncate_all(pg_url)
    world = build_world()
    catalog = catalog_from_world(world)
    loop = LoopSandbox(api_key=loop_api_key(), rate_limit=1_000_000).start()
    saved, events.log = events.log, Quiet()
    try:
        loop.configure_webhooks("http://127.0.0.1:9/never-sent", loop_webhook_secret())
        loop.webhook_mode = "hold"
        made = [
            loop.create_return(lines=catalog[:2]),
            loop.create_return(lines=catalog[2:5], outcome="exchange+refund"),
            loop.create_return(lines=catalog[5:6], outcome="credit"),
            loop.create_return(lines=catalog[6:8], outcome="exchange"),
        ]
        loop.update_return(made[0]["id"], {"state": "closed"})  # closed without processing
        refunded = loop.create_return(lines=catalog[8:10], state="closed")  # processed: refunds paid
        loop.update_return(made[2]["id"], {"state": "cancelled"})
        made.append(refunded)
        bases = [json.loads(e.body) for e in loop.webhook_events()] + [loop.get_return(m["id"]) for m in made]
        load_loop_demo(loop.url)
        with session_scope() as s:
            site_id = int(s.scalar(select(Site.id).where(Site.name == LOOP_DEMO_SITE)))
            skus = set(s.scalars(select(Sku.sku)))
        yield Hub(loop, site_id, loop_webhook_secret(), bases, [m["id"] for m in made], skus)
    finally:
        events.log = saved
        loop.stop()


# --- values that break things ---------------------------------------------------------------------

ODD_TEXT = [
    "",
    " ",
    "\x00",
    "RMA\x00-1",
    "\ufeffBOM",
    "\u200b",
    "👗🧵✂️",
    "\u202eRTL override\u202c",
    "طلب إرجاع",
    "e\u0301\u0301\u0301",
    "\U0010fffd",
    "\uffff",
    "null",
    "NaN",
    "true",
    "'; DROP TABLE rma; --",
    "<script>alert(1)</script>",
    "%s%s%n",
    "Ünïcødé ✨",
    "ＡＢＣ１２３",
    "\ud800",  # a lone surrogate: no UTF-8 text can hold it
    "RMA-\udfff",
    "x" * 300,
    "exchange+refund+credit+upsell",  # an outcome longer than the ERP's column
    "Closed",
    "OPEN",
    "needs review",
]
ODD_NUMBERS: list[Any] = [
    0,
    -1,
    -0.0,
    0.005,
    1.5,
    48.005,
    1e309,
    -1e309,
    float("nan"),
    1e308,
    10**30,
    -(10**30),
    999_999_999_999.99,
    1_000_000_000_000,
    9_999_999_999.99,
    "1e309",
    "NaN",
    "Infinity",
    "-12.50",
    "12,50",
    "$48.00",
    "0x10",
    " 94.00 ",
    "1E+2",
    "9" * 400,
    "0." + "0" * 300 + "1",
    True,
    None,
    [],
    {},
    ["63.30"],
    {"amount": "63.30"},
]
ODD_DATES: list[Any] = [
    "2026-11-02 14:08:31",
    "2026-11-02T14:08:31.000Z",
    "2026-11-02T14:08:31Z",
    "2026-11-02",
    "2026-11-02T14:08:31+05:30",
    "0001-01-01T00:00:00+05:00",  # before year 1 once in UTC
    "9999-12-31T23:59:59-05:00",  # after year 9999 once in UTC
    "0001-01-01 00:00:00",
    "9999-12-31 23:59:59",
    "2026-02-30 10:00:00",
    "2026-13-01T00:00:00Z",
    "0000-00-00 00:00:00",
    "yesterday",
    "2026-11-02T14:08:31Z\x00",
    " 2026-11-02 14:08:31 ",
    "２０２６-１１-０２",
    1_700_000_000,
    1.7e9,
    -1,
    True,
    [],
    {"date": "2026-11-02"},
]


def _huge_texts() -> list[str]:
    rng = random.Random(16)
    return [
        "x" * HUGE,
        "".join(rng.choices("0123456789ABCDEF", k=HUGE)),
        "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(HUGE)),
        "👗" * (HUGE // 2) + "\u202e",
        " " * HUGE,
    ]


HUGE_TEXTS = _huge_texts()

ANY_CHAR = st.characters() | st.characters(categories=["Cs"])
JSON_LEAVES = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(ANY_CHAR, max_size=30)
)
JSON = st.recursive(
    JSON_LEAVES,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(ANY_CHAR, max_size=12), inner, max_size=4),
    max_leaves=15,
)
ODD_VALUE = (
    st.sampled_from(ODD_TEXT)
    | st.sampled_from(ODD_NUMBERS)
    | st.sampled_from(ODD_DATES)
    | st.text(ANY_CHAR, max_size=40)
    | JSON
)

# Where Loop's payloads keep what the flow reads (partners/README 3.3 / 3.4).
MONEY_KEYS = ("total", "refund", "return_total", "exchange_total", "exchange_credit_total", "gift_card")
LINE_MONEY_KEYS = ("price", "refund", "discount", "tax")
TIME_KEYS = ("created_at", "updated_at", "edited_at")
TEXT_KEYS = ("state", "outcome", "order_name", "customer", "currency", "exchange_order_name", "trigger", "topic")
LINE_TEXT_KEYS = ("sku", "line_item_id", "outcome", "return_reason", "title", "provider_restock_location_id")

OPS = (
    "drop",
    "set",
    "add",
    "nest",
    "huge",
    "id",
    "money",
    "line_money",
    "date",
    "text",
    "line_text",
    "line_id_twice",
    "sku_unknown",
    "lines_wrong",
    "refunds",
    "same_exchange",
)
Mutation = tuple[str, int, Any]
MUTATION = st.tuples(st.sampled_from(OPS), st.integers(0, 2**31), ODD_VALUE)
# (which base payload, what the id becomes, its mutations)
ID_KIND = st.sampled_from(("fresh_int", "fresh_text", "known", "known_text", "odd", "missing"))
SPEC = st.tuples(st.integers(0, 63), ID_KIND, st.lists(MUTATION, max_size=4))


# --- mutating a payload ---------------------------------------------------------------------------

Path = tuple[Any, ...]


def _paths(node: Any, path: Path = ()) -> Iterator[Path]:
    yield path
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, (*path, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, (*path, i))


def _get(root: Any, path: Path) -> Any:
    for step in path:
        root = root[step]
    return root


def _lines(payload: dict[str, Any]) -> list[dict[str, Any]]:
    items = payload.get("line_items")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def mutate(payload: dict[str, Any], op: str, seed: int, value: Any) -> None:
    """One mutation, chosen places drawn from ``seed``."""
    rng = random.Random(seed)
    lines = _lines(payload)
    line = rng.choice(lines) if lines else None
    if op in ("drop", "set", "nest", "huge", "add"):
        paths = [p for p in _paths(payload) if p]
        if not paths:
            return
        path = rng.choice(paths)
        parent = _get(payload, path[:-1])
        if op == "drop":
            del parent[path[-1]]
        elif op == "set":
            parent[path[-1]] = value
        elif op == "nest":
            parent[path[-1]] = rng.choice([[parent[path[-1]]], {"value": parent[path[-1]]}])
        elif op == "huge":
            parent[path[-1]] = HUGE_TEXTS[seed % len(HUGE_TEXTS)]
        else:
            target = parent if isinstance(parent, dict) else payload
            target[rng.choice(["extra", "new_field_loop_added", "\ud83d", "id ", ""])] = value
    elif op == "id":
        payload["id"] = value
    elif op == "money":
        payload[rng.choice(MONEY_KEYS)] = value if rng.random() < 0.7 else rng.choice(ODD_NUMBERS)
    elif op == "line_money" and line is not None:
        line[rng.choice(LINE_MONEY_KEYS)] = value if rng.random() < 0.5 else rng.choice(ODD_NUMBERS)
    elif op == "date":
        where = line if line is not None and rng.random() < 0.3 else payload
        where[rng.choice((*TIME_KEYS, "returned_at") if where is line else TIME_KEYS)] = rng.choice(ODD_DATES)
    elif op == "text":
        payload[rng.choice(TEXT_KEYS)] = value if rng.random() < 0.4 else rng.choice(ODD_TEXT)
    elif op == "line_text" and line is not None:
        line[rng.choice(LINE_TEXT_KEYS)] = value if rng.random() < 0.4 else rng.choice(ODD_TEXT)
    elif op == "line_id_twice" and len(lines) >= 2:
        lines[1]["line_item_id"] = lines[0].get("line_item_id")
    elif op == "line_id_twice" and line is not None:
        payload["line_items"] = [*payload["line_items"], copy.deepcopy(line)]  # the same line item twice
    elif op == "sku_unknown" and line is not None:
        line["sku"] = f"NOPE-{seed % 1000}"
    elif op == "lines_wrong":
        payload["line_items"] = rng.choice([[], None, {}, "line", [None, 3], value, [value]])
    elif op == "refunds":
        payload["refunds"] = rng.choice(
            [[{"gateway": "shopify_payments", "amount": value, "currency": "USD"}], value, [value], []]
        )
        if rng.random() < 0.5:
            payload["state"] = "closed"
    elif op == "same_exchange":
        payload["exchange_order_name"] = f"EXC-#{seed % 3}"  # names other returns of the run carry too
        payload["state"] = rng.choice(("open", "closed"))


def build(hub: Hub, spec: tuple[int, str, list[Mutation]]) -> dict[str, Any]:
    base, id_kind, mutations = spec
    payload = copy.deepcopy(hub.bases[base % len(hub.bases)])
    fresh = next(hub.ids)
    known = hub.known_ids[base % len(hub.known_ids)]
    payload["id"] = {
        "fresh_int": fresh,
        "fresh_text": str(fresh),
        "known": known,
        "known_text": f" {known} ",
        "odd": random.Random(base).choice(ODD_TEXT + ODD_NUMBERS),
    }.get(id_kind, payload["id"])
    if id_kind == "missing":
        del payload["id"]
    for op, seed, value in mutations:
        mutate(payload, op, seed, value)
    return payload


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def encode(payload: Any, rng: random.Random) -> bytes:
    """As Loop sends it (compact, ``/`` escaped, non-ASCII as \\uXXXX) or as another sender might."""
    compact = json.dumps(payload, separators=(",", ":"))
    return rng.choice([compact.replace("/", "\\/"), json.dumps(payload, ensure_ascii=False)]).encode(
        "utf-8", "surrogatepass"
    )


# --- the receiver and the event's processing -------------------------------------------------------


def event_rows(site_id: int, event_id: str) -> list[InboundEvent]:
    with session_scope() as s:
        rows = list(
            s.scalars(select(InboundEvent).where(InboundEvent.site_id == site_id, InboundEvent.event_id == event_id))
        )
        s.expunge_all()
        return rows


def _numbers_exact(value: Any) -> Any:
    """A JSON value with its numbers as Decimal: JSONB keeps a number's value, not whether it was
    written as an integer or a float (1e300 comes back as 1 and 300 zeros)."""
    if isinstance(value, dict):
        return {k: _numbers_exact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_numbers_exact(v) for v in value]
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    return value


def check_body(hub: Hub, body: bytes) -> None:
    """One signed body through the receiver twice, its event processed twice, its payload mapped and
    validated: never a crash, and each outcome as the receiver promises."""
    hub.bodies += 1
    headers = {SIGNATURE: sign(hub.secret, body), "Content-Type": "application/json"}
    first = events.receive(LOOP_DEMO_SITE, body, headers)
    assert first.result in ("received", "duplicate", "malformed"), first
    again = events.receive(LOOP_DEMO_SITE, body, headers)
    hub.count(first.result)
    if first.result == "duplicate":  # the same body came in an earlier example: still one row
        assert again == first and first.status == 200
        with session_scope() as s:
            same = select(func.count()).select_from(InboundEvent).where(InboundEvent.body == body)
            assert s.scalar(same) == 1
        return

    if first.result == "malformed":
        # a 400 with a reason, the bytes kept raw once, no payload; the same answer when sent again
        assert first.status == 400 and isinstance(first.body.get("error"), str) and first.body["error"].strip()
        assert (again.result, again.status, again.body, again.row_id) == ("malformed", 400, first.body, first.row_id)
        [row] = event_rows(hub.site_id, events.malformed_id(body))
        assert (row.id, row.state, row.payload, row.topic) == (first.row_id, "malformed", None, None)
        assert bytes(row.body) == body and row.note == first.body["error"]
        return

    # a good one: 200, stored once (sent again: a duplicate) with its payload as parsed
    assert first.status == 200 and first.row_id is not None and first.body == {"received": True, "id": first.row_id}
    assert (again.result, again.status, again.body) == ("duplicate", 200, {"duplicate": True})
    with session_scope() as s:
        stored = s.get(InboundEvent, first.row_id)
        assert stored is not None
        event_id, payload, raw, state = stored.event_id, stored.payload, bytes(stored.body), stored.state
    assert state == "received" and raw == body
    assert len(event_rows(hub.site_id, event_id)) == 1
    parsed = json.loads(body)
    assert _numbers_exact(payload) == _numbers_exact(parsed)
    assert event_id.endswith(hashlib.sha256(body).hexdigest()[:32])  # the same delivery again: the same id

    # processed: never raises; processed, ignored, or failed because Loop refused to give the return
    # (no such return: a 404), with a note saying so; a processed or ignored one is left as it is
    done = events.process_event(first.row_id)
    assert done["changed"] is True and done["state"] in ("processed", "failed", "ignored"), done
    hub.count(f"event {done['state']}")
    if done["state"] == "failed":
        assert str(done["note"]).startswith(PARTNER_REFUSALS), done
    else:
        assert done["state"] == "processed" or done["note"], done
        assert events.process_event(first.row_id) == {**done, "changed": False}

    # the mapper reads the body, and the flow's validation judges what it read, without raising
    mapped = to_loop_return(parsed)
    assert isinstance(mapped, LoopReturn)
    with session_scope() as s:
        found = flow.validate(s, open_site(s, hub.site_id), mapped)
        s.rollback()
    assert all(p["severity"] in ("error", "warning") for p in found.problems)
    if not mapped.lines:
        assert "no_lines" in {p["code"] for p in found.blocking}


# --- staging and the flow -----------------------------------------------------------------------------


def check_page(hub: Hub, payloads: list[dict[str, Any]], seed: int) -> None:
    """Stage a page of payloads and apply them in one transaction (as an event's handler does), then
    check each new return ended whole: an RMA with all its lines, problems, or void."""
    rng = random.Random(seed)
    mapped: list[LoopReturn] = []
    for payload in payloads:
        if "updated_at" not in payload or rng.random() < 0.8:  # a page of the list carries updated_at
            payload["updated_at"] = f"2026-11-{rng.randint(1, 28):02d} {rng.randint(0, 23):02d}:00:00"
        mapped.append(to_loop_return(payload))
    hub.payloads += len(mapped)

    with session_scope() as s:
        ctx = open_site(s, hub.site_id)
        staged = stage_returns(s, hub.site_id, mapped)
        applied = flow.apply_returns(s, ctx, staged.new_ids + staged.changed_ids)
    assert staged.seen == len(mapped)
    assert applied.seen == len(set(staged.new_ids + staged.changed_ids))

    with session_scope() as s:
        for held_id in staged.new_ids:
            check_return(s, hub, held_id)
        check_no_partial_rma(s)
        counts = _counts(s)

    # applying again changes nothing
    with session_scope() as s:
        flow.apply_returns(s, open_site(s, hub.site_id), staged.new_ids + staged.changed_ids)
    with session_scope() as s:
        assert _counts(s) == counts, "applying the same returns again changed something"

    # what the flow queued for Loop (notes, flags) goes out, or is refused by Loop (a return it does
    # not know), one row at a time: the flush itself never fails
    flushed = writeback.flush(site_id=hub.site_id)
    assert flushed.held_for_person == 0, flushed.errors
    with session_scope() as s:
        left = s.scalars(
            select(OutboxEntry.last_error).where(OutboxEntry.site_id == hub.site_id, OutboxEntry.state == "pending")
        ).all()
        assert not left, left[:3]
        hub.sent += flushed.sent
        hub.refused += flushed.dead
    with session_scope() as s:
        # Retire them, as a person would: a later example's payload with the same id starts afresh.
        s.execute(
            update(InboundReturn).where(InboundReturn.id.in_(staged.new_ids + staged.changed_ids)).values(state="void")
        )


def check_return(s: Any, hub: Hub, held_id: int) -> None:
    held = s.get(InboundReturn, held_id)
    assert held is not None
    r = to_loop_return(held.raw)
    rma = s.scalar(select(Rma).where(Rma.inbound_return_id == held.id))
    hub.count(f"held {held.state}")
    assert held.state != "received", f"return {held.id} ({held.loop_return_id!r:.60}) was left received"
    if rma is None:
        assert held.state in ("invalid", "void"), f"return {held.id} is {held.state} without an RMA"
        if held.state == "invalid":
            open_errors = s.scalar(
                select(func.count())
                .select_from(ReturnError)
                .where(
                    ReturnError.return_id == held.id,
                    ReturnError.resolved_at.is_(None),
                    ReturnError.severity == "error",
                )
            )
            assert open_errors, f"invalid return {held.id} has no open problem"
        return
    assert held.state in ("rma", "processed", "credited"), f"return {held.id} has an RMA but is {held.state}"
    lines = s.execute(
        select(RmaLine.line_no, RmaLine.sku).where(RmaLine.rma_id == rma.id).order_by(RmaLine.line_no)
    ).all()
    assert [tuple(x) for x in lines] == [(ln.line_no, ln.sku) for ln in r.lines], f"{rma.number}: not its lines"
    assert lines and all(sku in hub.skus for _, sku in lines)


def check_no_partial_rma(s: Any) -> None:
    """No RMA without lines, and no RMA of a return that is not at an RMA's step (or void)."""
    bad = s.execute(
        text("""
        SELECT r.id FROM rma r
        LEFT JOIN (SELECT rma_id, count(*) n FROM rma_line GROUP BY rma_id) l ON l.rma_id = r.id
        JOIN inbound_return ir ON ir.id = r.inbound_return_id
        WHERE l.n IS NULL OR ir.state IN ('received', 'invalid')""")
    ).all()
    assert bad == []


def _counts(s: Any) -> tuple[int, ...]:
    return tuple(
        int(s.scalar(select(func.count()).select_from(model)) or 0)
        for model in (Rma, RmaLine, ReturnError, CreditMemo, ArAdjustment, OutboxEntry)
    )


# --- the tests --------------------------------------------------------------------------------------

# No shrinking: each example costs database and HTTP work, and shrinking would take minutes; the
# assertion messages name the return and what is wrong with it instead.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
        HealthCheck.large_base_example,
    ],
)

TRIGGER = st.sampled_from(TRIGGERS) | st.sampled_from(["label.created", "", "  ", "x" * 300]) | ODD_VALUE
TOPIC = st.just("return") | st.sampled_from(["label", "", None]) | ODD_VALUE


@FUZZ
@given(
    specs=st.lists(st.tuples(SPEC, TRIGGER, TOPIC, st.integers(0, 2**31)), min_size=PAGE_MIN, max_size=PAGE_MAX),
    garbage=st.lists(JSON | st.binary(max_size=60), max_size=2),
)
def test_fuzzed_webhook_bodies_are_stored_once_or_kept_raw_never_a_crash(
    hub: Hub, specs: list[Any], garbage: list[Any]
) -> None:
    for spec, trigger, topic, seed in specs:
        payload = build(hub, spec)
        rng = random.Random(seed)
        if rng.random() < 0.7:
            payload["trigger"] = trigger if rng.random() < 0.5 else rng.choice(TRIGGERS)
        if rng.random() < 0.7:
            payload["topic"] = topic if rng.random() < 0.5 else "return"
        check_body(hub, encode(payload, rng))
    for thing in garbage:
        check_body(hub, thing if isinstance(thing, bytes) else encode(thing, random.Random(0)))


@FUZZ
@given(specs=st.lists(SPEC, min_size=PAGE_MIN, max_size=PAGE_MAX), seed=st.integers(0, 2**31))
def test_fuzzed_returns_end_as_a_whole_rma_or_with_problems(hub: Hub, specs: list[Any], seed: int) -> None:
    check_page(hub, [build(hub, spec) for spec in specs], seed)


def test_known_nasty_returns(hub: Hub) -> None:
    """Payloads that broke staging or the flow once, kept as plain examples."""
    base = hub.bases[-1]  # a processed return's details: refunds paid, closed

    def variant(**changes: Any) -> dict[str, Any]:
        payload = copy.deepcopy(base)
        payload.update({"id": next(hub.ids), **changes})
        return payload

    lines = _lines(base)
    check_page(
        hub,
        [
            variant(outcome="exchange+refund+credit+upsell", state="closed-and-archived-by-loop"),
            variant(line_items=[{**lines[0], "price": "1000000000000.00"}]),
            variant(refunds=[{"gateway": "shopify_payments", "amount": "99999999999999", "currency": "USD"}]),
            variant(line_items=[lines[0], {**lines[1], "line_item_id": lines[0]["line_item_id"]}]),
            variant(line_items=[{**lines[0], "line_item_id": HUGE_TEXTS[1]}]),
            variant(line_items=[{**lines[0], "outcome": "exchange+refund+credit+upsell"}]),
            variant(exchange_order_name="EXC-SHARED", exchange_total="10.00", state="open"),
            variant(exchange_order_name="EXC-SHARED", exchange_total="10.00", state="open"),
            variant(created_at="0001-01-01T00:00:00+05:00", updated_at="9999-12-31T23:59:59-05:00"),
            variant(order_name=HUGE_TEXTS[2], customer="a\x00b@example.com"),
        ],
        seed=3,
    )
    for payload in (variant(id="\x00"), variant(customer="\x00", line_items=[{**lines[0], "sku": "SKU\x00"}])):
        check_body(hub, encode(payload, random.Random(1)))


def test_count(hub: Hub) -> None:
    """Runs last in the module: says how much went through (shown with -s / -rP)."""
    print(
        f"fuzzed {hub.bodies} webhook bodies and {hub.payloads} return payloads: {dict(sorted(hub.outcomes.items()))}; "
        f"outbox: {hub.sent} sent to Loop, {hub.refused} refused by it (returns it does not know)"
    )
    assert hub.bodies >= EXAMPLES and hub.payloads >= EXAMPLES
